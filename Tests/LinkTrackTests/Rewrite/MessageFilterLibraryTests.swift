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

    // MARK: Buffers kept between messages (PartBufferPool)

    /// A one-part message whose HTML has `links` links, in `encoding`.
    static func message(links: Int, encoding: String, id: String) -> [UInt8] {
        var html = "<html><body>"
        for n in 0..<links { html += "<p>Item \(n) caf\u{E9}: <a href=\"https://shop.example/item/\(n)?ref=mail\">see it</a></p>\n" }
        html += "</body></html>\n"
        let body: [UInt8]
        switch encoding {
        case "quoted-printable": body = QuotedPrintable.encode(Array(html.utf8), defaultLineEnding: [0x0D, 0x0A])
        case "base64": body = ReferenceBase64.encode(Array(html.utf8), layout: Base64Layout(lineLength: 76, lineEnding: [0x0D, 0x0A], endsWithLineEnding: true))
        default: body = Array(html.utf8)
        }
        let head = "Message-ID: <\(id)@example.com>\r\nContent-Type: text/html; charset=utf-8\r\n"
            + "Content-Transfer-Encoding: \(encoding)\r\n\r\n"
        return Array(head.utf8) + body
    }

    @Test func buffersKeptFromOneMessageDoNotLeakIntoTheNext() throws {
        // Large then small, every encoding after every other: what a kept buffer held before must
        // never show in a later output.
        var messages: [[UInt8]] = []
        for (n, encoding) in ["quoted-printable", "base64", "8bit"].enumerated() {
            messages.append(Self.message(links: 400, encoding: encoding, id: "big\(n)"))
            messages.append(Self.message(links: 3, encoding: encoding, id: "small\(n)"))
        }
        let shared = F.filter()
        for message in messages + messages.reversed() + messages {
            let fresh = try F.filter().filter(message)
            let reused = try shared.filter(message)
            #expect(fresh.report.changed)
            #expect(reused.output == fresh.output)
            #expect(reused.report == fresh.report)
        }
        #expect(shared.partBuffers.keptCount == 1, "one caller at a time needs one set of buffers")
        let kept = shared.partBuffers.take()
        #expect(kept.decoded.capacity >= 400 * 80, "the largest part's storage is kept for reuse, not given back")
    }

    @Test func buffersOverTheRetentionCapAreReleased() throws {
        // A decoded part over the cap needs more links than the default limit allows.
        var options = FilterOptions()
        options.limits.maximumLinksPerHTMLPart = 100_000
        let filter = F.filter(options)
        let small = Self.message(links: 50, encoding: "quoted-printable", id: "s")
        _ = try filter.filter(small)
        #expect(filter.partBuffers.keptCount == 1)
        let links = PartBufferPool.maximumRetainedBytes / 60
        // Quoted-printable: a 7bit, 8bit or binary part is rewritten in place, with no buffers.
        let large = Self.message(links: links, encoding: "quoted-printable", id: "l")
        #expect(large.count > PartBufferPool.maximumRetainedBytes)
        let result = try filter.filter(large)
        #expect(result.report.changed)
        #expect(filter.partBuffers.keptCount == 0, "a set over the cap is released after its part")
        _ = try filter.filter(small)
        #expect(filter.partBuffers.keptCount == 1)
    }

    @Test func thePoolKeepsAtMostItsLimit() {
        let pool = PartBufferPool()
        var taken = (0..<(PartBufferPool.maximumKept + 3)).map { _ in pool.take() }
        for index in taken.indices { taken[index].decoded = [UInt8](repeating: 1, count: 100) }
        for buffers in taken { pool.give(buffers) }
        #expect(pool.keptCount == PartBufferPool.maximumKept)
        #expect(pool.take().decoded.count == 100, "a kept set comes back as it was given")
    }
}
