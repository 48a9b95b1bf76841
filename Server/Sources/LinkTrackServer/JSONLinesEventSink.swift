#if canImport(Glibc)
import Glibc
#endif
import LinkTrack
import LinkTrackServerCore
import Synchronization

/// `{"Type": "JSONLines", "Path": FILE}`: one SES-shaped event per line, appended with one
/// `write(2)` per batch on a file opened with `O_APPEND`, so lines from one batch are never
/// interleaved with another writer's. Reopened on SIGHUP (rotate the file, then send SIGHUP).
public final class JSONLinesEventSink: InlineEventSink {
    public let path: String
    private let descriptor = Mutex<Int32>(-1)

    public init(path: String) { self.path = path }

    public var name: String { "jsonlines:\(path)" }

    public func open() async throws {
        try descriptor.withLock { fd in
            if fd >= 0 { return }
            fd = try Self.openFile(path)
        }
    }

    static func openFile(_ path: String) throws -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw SinkError(sink: "jsonlines:\(path)", reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        return fd
    }

    public func write(_ events: [TrackingEvent]) async throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(events.count * 512)
        for event in events {
            event.appendSESJSON(to: &bytes)
            bytes.append(0x0A)
        }
        try writeAll(bytes)
    }

    public func writeNow(_ event: TrackingEvent) throws {
        var bytes: [UInt8] = []
        event.appendSESJSON(to: &bytes)
        bytes.append(0x0A)
        try writeAll(bytes)
    }

    /// One `write(2)` (more only after a short write), under the descriptor's lock.
    func writeAll(_ bytes: [UInt8]) throws {
        try descriptor.withLock { fd in
            if fd < 0 { fd = try Self.openFile(path) }
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
                if n < 0 {
                    if errno == EINTR { continue }
                    let reason = String(cString: strerror(errno))
                    Glibc.close(fd)
                    fd = -1
                    throw SinkError(sink: name, reason: "write failed: \(reason)")
                }
                offset += n
            }
        }
    }

    public func reopen() async {
        descriptor.withLock { fd in
            if fd >= 0 { Glibc.close(fd) }
            fd = (try? Self.openFile(path)) ?? -1
        }
    }

    public func close() async {
        descriptor.withLock { fd in
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
        }
    }
}
