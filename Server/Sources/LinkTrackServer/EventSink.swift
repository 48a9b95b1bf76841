import LinkTrack
import LinkTrackServerCore

/// Where a writer puts its batches. One ``EventWriter`` owns each sink: nothing else calls it.
public protocol EventSink: Sendable {
    /// A short name for logs and the `sink` metric label (`sqlite`, `jsonlines:/var/log/e.jsonl`).
    var name: String { get }
    /// Opens the store (creates the file, schema and indexes). Called again after a failure.
    func open() async throws
    /// Writes a batch durably as far as the sink goes (an SQLite commit, one `write(2)`), or throws
    /// having written none of it (SQLite) or possibly part of it (a short write is retried whole, and
    /// readers de-duplicate by event id).
    func write(_ events: [TrackingEvent]) async throws
    /// Reopens files (log rotation on SIGHUP); a no-op for databases.
    func reopen() async
    /// Closes the store.
    func close() async
}

/// A sink whose write of one event is one short system call on a local file (JSON Lines): a
/// request whose writer is idle writes its own event at once, on its own task, instead of handing
/// it to the writer task and waiting to be resumed (two task switches saved per event). Writes that
/// meet a busy writer, a queue or a failure go through the writer as before (and are batched
/// there: group commit under concurrency).
public protocol InlineEventSink: EventSink {
    /// Writes one event now, synchronously, as durably as ``EventSink/write(_:)`` would; throws
    /// having written none of it, or possibly part of a line (readers skip a torn line, and the
    /// writer writes the event again).
    func writeNow(_ event: TrackingEvent) throws
}

/// A sink failure, typed for logs.
public struct SinkError: Error, CustomStringConvertible, Sendable {
    public var sink: String
    public var reason: String
    public var description: String { "\(sink): \(reason)" }
    public init(sink: String, reason: String) {
        self.sink = sink
        self.reason = reason
    }
}
