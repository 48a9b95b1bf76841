import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import LinkTrack

@Suite struct MessageFilterLibraryTests {
    typealias F = FilterFixture

    static let message = F.lines(MessageFilterTests.nested, ending: "\r\n")

    /// A stream of chunks, as a sender reading from a socket would have.
    struct Chunks: AsyncSequence {
        typealias Element = [UInt8]
        let bytes: [UInt8]
        let size: Int
        struct AsyncIterator: AsyncIteratorProtocol {
            let bytes: [UInt8]
            let size: Int
            var offset = 0
            mutating func next() async -> [UInt8]? {
                guard offset < bytes.count else { return nil }
                defer { offset += size }
                return Array(bytes[offset..<Swift.min(offset + size, bytes.count)])
            }
        }
        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(bytes: bytes, size: size) }
    }

    final class Collector: @unchecked Sendable {
        var bytes: [UInt8] = []
        var writes = 0
    }

    @Test func asyncSequenceAPIGivesTheSameBytesAsTheWholeMessageAPI() async throws {
        let filter = F.filter()
        let whole = try filter.filter(Self.message).output
        let collector = Collector()
        let report = try await filter.filter(Chunks(bytes: Self.message, size: 37)) { chunk in
            collector.bytes += chunk
            collector.writes += 1
        }
        #expect(collector.bytes == whole)
        #expect(collector.writes > 1, "output should stream out in several writes")
        #expect(report.changed)
    }

    @Test func fileDescriptorAPIStreamsThroughPipes() throws {
        let filter = F.filter()
        let whole = try filter.filter(Self.message).output
        var inPipe: [Int32] = [0, 0]
        var outPipe: [Int32] = [0, 0]
        #expect(pipe(&inPipe) == 0 && pipe(&outPipe) == 0)
        try FileIO.write(fileDescriptor: inPipe[1], Self.message)
        close(inPipe[1])
        _ = try filter.filter(from: inPipe[0], to: outPipe[1], chunkSize: 100)
        close(outPipe[1])
        let output = try FileIO.readAll(fileDescriptor: outPipe[0])
        close(inPipe[0]); close(outPipe[0])
        #expect(output == whole)
    }

    @Test func oneFilterServesManyTasksAtOnce() async throws {
        let filter = F.filter()
        let inputs = (0..<16).map { n in
            Array(String(decoding: Self.message, as: UTF8.self).replacingOccurrences("<n1@example.com>", with: "<n\(n)@example.com>").utf8)
        }
        let expected = try inputs.map { try filter.filter($0).output }
        let outputs = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for (n, input) in inputs.enumerated() {
                group.addTask { (n, try filter.filter(input).output) }
            }
            var results = [[UInt8]](repeating: [], count: inputs.count)
            for try await (n, output) in group { results[n] = output }
            return results
        }
        #expect(outputs == expected)
        #expect(Set(outputs).count == inputs.count, "each message has its own message id in its tokens")
    }
}
