import Foundation
@testable import LinkTrackServer
import Logging
import Synchronization
import Testing

/// Collects what a `StreamLogHandler` writes, to compare the two handlers' lines.
final class CollectingStream: TextOutputStream, @unchecked Sendable {
    private let text = Mutex("")
    func write(_ string: String) { text.withLock { $0 += string } }
    var collected: String { text.withLock { $0 } }
}

struct ServerLogHandlerTests {
    struct Failure: Error, CustomStringConvertible { var description: String { "the disk is full" } }

    /// Reads everything written to `body`'s descriptor.
    func captured(_ body: (Int32) -> Void) throws -> String {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        body(fds[1])
        close(fds[1])
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n <= 0 { break }
            out += buffer[..<n]
        }
        close(fds[0])
        return String(decoding: out, as: UTF8.self)
    }

    /// A line without its timestamp (the two handlers may write theirs in different seconds).
    func dropTimestamp(_ line: Substring) -> Substring { line[(line.firstIndex(of: " ") ?? line.startIndex)...] }

    @Test func writesTheLinesOfStreamLogHandler() throws {
        let stream = CollectingStream()
        var reference = Logger(label: "linktrack-server") { StreamLogHandler(label: $0, stream: stream, metadataProvider: nil) }
        let text = try captured { fd in
            var logger = Logger(label: "linktrack-server") { ServerLogHandler(label: $0, descriptor: fd, metadataProvider: nil) }
            func both(_ body: (inout Logger) -> Void) {
                body(&logger)
                body(&reference)
            }
            both { $0.info("linktrack-server listening public=127.0.0.1:8080 admin=127.0.0.1:8081") }
            both { $0[metadataKey: "hb.request.id"] = "4a1f"; $0[metadataKey: "a"] = "first" }
            both { $0.warning("sink write failed", metadata: ["sink": "sqlite", "queued": "3"]) }
            both { $0.error("cannot spool", error: Failure(), metadata: ["a": "replaced"]) }
            both { $0.debug("not at this level") }
        }
        #expect(text.hasSuffix("\n") && stream.collected.hasSuffix("\n"))
        let ours = text.split(separator: "\n")
        let theirs = stream.collected.split(separator: "\n")
        try #require(ours.count == 3 && theirs.count == 3, "\(text)")
        #expect(ours.map(dropTimestamp) == theirs.map(dropTimestamp))
        #expect(ours[0].hasSuffix(" info linktrack-server: [LinkTrackServerTests] linktrack-server listening public=127.0.0.1:8080 admin=127.0.0.1:8081"))
        #expect(ours[1].contains("warning linktrack-server: a=first hb.request.id=4a1f queued=3 sink=sqlite [LinkTrackServerTests] sink write failed"))
        #expect(ours[2].contains("error.message=the disk is full"))
        #expect(String(ours[0]).range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} "#, options: String.CompareOptions.regularExpression) != nil)
    }

    @Test func settingMetadataFormatsNothing() {
        // What the handler keeps when Hummingbird sets a request's id: the value itself, unformatted.
        final class Counting: CustomStringConvertible, Sendable {
            let calls = Mutex(0)
            var description: String { calls.withLock { $0 += 1 }; return "id" }
        }
        let id = Counting()
        var handler = ServerLogHandler(label: "t", descriptor: -1, metadataProvider: nil)
        handler[metadataKey: "hb.request.id"] = .stringConvertible(id)
        handler.metadata["other"] = "x"
        #expect(id.calls.withLock { $0 } == 0)
        #expect(ServerLogHandler.format(handler.metadata) == "hb.request.id=id other=x")
        #expect(id.calls.withLock { $0 } == 1)
    }
}
