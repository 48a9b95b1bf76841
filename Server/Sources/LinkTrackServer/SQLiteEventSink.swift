import LinkTrack
import LinkTrackServerCore
import Logging
import SQLiteNIO
import Synchronization

/// The embedded default store: `events.sqlite` in the data directory, in WAL mode, one table
/// `events` indexed by message id, by time and by set and event type. Each batch is one multi-row
/// `INSERT OR IGNORE` (one statement, one implicit transaction, one WAL commit); the event id is the
/// primary key, so a batch written twice is stored once.
///
/// Checkpoints (copying the WAL back into the database file) run off the commit path: a second
/// connection of the sink's own runs a `PASSIVE` checkpoint every ``checkpointInterval``, which
/// never blocks the writer; the writer's own automatic checkpoint is raised to
/// ``safetyCheckpointPages`` (about 40 MB of WAL), so it runs only if that checkpointer falls far
/// behind or is not running. (With SQLite's default of 1,000 pages, the commit that crossed the limit
/// ran the checkpoint itself, and every request in its batch waited for it.) The interval is short
/// so that each checkpoint is small: a checkpoint copies what the WAL gained since the last one and
/// syncs the database file, and commits made meanwhile are slowed by it, so a larger one stalls
/// more requests for longer (at 8,000 clicks/s, a p99 of 16 to 23 ms with 250 ms, 7.6 to 11.4 ms
/// in three of four runs with 60 ms; Benchmarks/README.md). With nothing new in the WAL a
/// checkpoint copies and syncs nothing.
///
/// `synchronous` is `NORMAL` by default: a commit is in the WAL file before the write returns, so
/// it survives the process being killed; `FULL` also survives power loss, at the cost of an fsync
/// per batch (`--sqlite-synchronous full`).
public final class SQLiteEventSink: EventSink {
    public let path: String
    public let synchronous: String
    private let connection = Mutex<SQLiteConnection?>(nil)
    private let checkpointer = Mutex<Task<Void, Never>?>(nil)
    let logger: Logger
    /// How often the checkpointer runs.
    public static let checkpointInterval: Duration = .milliseconds(50)
    /// The writer's own automatic checkpoint, in WAL pages: the safety net behind the checkpointer.
    public static let safetyCheckpointPages = 10_000

    public init(path: String, synchronous: String = "NORMAL", logger: Logger) {
        self.path = path
        self.synchronous = synchronous
        self.logger = logger
    }

    public var name: String { "sqlite" }

    public static let schema = [
        """
        CREATE TABLE IF NOT EXISTS events (
            event_id TEXT PRIMARY KEY,
            event_type TEXT NOT NULL,
            configuration_set TEXT NOT NULL,
            message_id TEXT NOT NULL,
            link_index INTEGER,
            link TEXT,
            timestamp_ms INTEGER NOT NULL,
            ip_address TEXT NOT NULL,
            user_agent TEXT,
            machine INTEGER NOT NULL,
            machine_reasons TEXT NOT NULL,
            event_json TEXT NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS events_message_id ON events(message_id)",
        "CREATE INDEX IF NOT EXISTS events_time ON events(timestamp_ms)",
        "CREATE INDEX IF NOT EXISTS events_set_type ON events(configuration_set, event_type)",
    ]

    static let columnCount = 12

    public func open() async throws {
        if connection.withLock({ $0 }) != nil { return }
        let conn = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            _ = try await conn.query("PRAGMA journal_mode=WAL", [])
            _ = try await conn.query("PRAGMA synchronous=\(synchronous)", [])
            _ = try await conn.query("PRAGMA busy_timeout=5000", [])
            _ = try await conn.query("PRAGMA wal_autocheckpoint=\(Self.safetyCheckpointPages)", [])
            for statement in Self.schema { _ = try await conn.query(statement, []) }
        } catch {
            await Self.close(conn)
            throw error
        }
        let previous = connection.withLock { c -> SQLiteConnection? in
            let old = c
            c = conn
            return old
        }
        if let previous { try? await previous.close() }
        startCheckpointer()
    }

    /// Starts the checkpointer (once): a connection of its own that runs `PRAGMA
    /// wal_checkpoint(PASSIVE)` every ``checkpointInterval`` until ``close()``. A failure is logged
    /// once and retried at the next interval; the writer's safety checkpoint covers the meantime.
    func startCheckpointer() {
        checkpointer.withLock { task in
            guard task == nil else { return }
            task = Task { [path, logger] in
                var conn: SQLiteConnection?
                var reported = false
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.checkpointInterval)
                    if Task.isCancelled { break }
                    do {
                        if conn == nil {
                            let opened = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
                            conn = opened
                            _ = try await opened.query("PRAGMA busy_timeout=1000", [])
                        }
                        _ = try await conn?.query("PRAGMA wal_checkpoint(PASSIVE)", [])
                        reported = false
                    } catch {
                        if !reported {
                            logger.warning("SQLite checkpoint failed; retrying", metadata: [
                                "path": .string(path), "error": .string("\(error)")])
                            reported = true
                        }
                        if let c = conn { await Self.close(c) }
                        conn = nil
                    }
                }
                if let conn { await Self.close(conn) }
            }
        }
    }

    public func write(_ events: [TrackingEvent]) async throws {
        guard let conn = connection.withLock({ $0 }) else {
            throw SinkError(sink: name, reason: "not open")
        }
        // At most 2,000 rows per statement (24,000 binds; the vendored SQLite allows 250,000).
        var start = 0
        while start < events.count {
            let end = min(events.count, start + 2_000)
            let slice = events[start..<end]
            let row = "(" + Array(repeating: "?", count: Self.columnCount).joined(separator: ",") + ")"
            let sql = "INSERT OR IGNORE INTO events (event_id, event_type, configuration_set, message_id, link_index, link, timestamp_ms, ip_address, user_agent, machine, machine_reasons, event_json) VALUES "
                + Array(repeating: row, count: slice.count).joined(separator: ",")
            var binds: [SQLiteData] = []
            binds.reserveCapacity(slice.count * Self.columnCount)
            for e in slice {
                binds.append(.text(e.eventId))
                binds.append(.text(e.kind.rawValue))
                binds.append(.text(e.configurationSet))
                binds.append(.text(e.messageId))
                binds.append(e.linkIndex.map { .integer(SQLiteInt64($0)) } ?? .null)
                binds.append(e.link.map { .text($0) } ?? .null)
                binds.append(.integer(SQLiteInt64(e.timestampMilliseconds)))
                binds.append(.text(e.ipAddress))
                binds.append(e.userAgent.map { .text($0) } ?? .null)
                binds.append(.integer(e.isMachine ? 1 : 0))
                binds.append(.text(e.machineReasons.map(\.rawValue).joined(separator: ",")))
                binds.append(.text(e.sesJSON))
            }
            do {
                _ = try await conn.query(sql, binds)
            } catch {
                // Reopen on the next attempt: the file may have been removed or the disk may be full.
                connection.withLock { if $0 === conn { $0 = nil } }
                await Self.close(conn)
                throw SinkError(sink: name, reason: "\(error)")
            }
            start = end
        }
    }

    public func reopen() async {}

    public func close() async {
        if let task = checkpointer.withLock({ t -> Task<Void, Never>? in defer { t = nil }; return t }) {
            task.cancel()
            await task.value
        }
        let conn = connection.withLock { c -> SQLiteConnection? in
            let old = c
            c = nil
            return old
        }
        if let conn { await Self.close(conn) }
    }

    /// Closes `conn` even from a cancelled task (a service group cancels its services when one fails to
    /// start, a port in use say): the async `close()` skips its work when the task is cancelled, which
    /// leaves the handle open and trips SQLiteNIO's "not closed before deinitializing" assertion. The
    /// future-based `close()` always runs.
    static func close(_ conn: SQLiteConnection) async {
        try? await conn.close().get()
    }

    /// Reads every event (for `report`), in time order.
    public static func readAll(path: String, since: Int64?, logger: Logger) async throws -> [StoredEvent] {
        let conn = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        defer { Task { try? await conn.close() } }
        let rows = try await conn.query(
            "SELECT event_id, event_type, configuration_set, message_id, link_index, link, timestamp_ms, machine FROM events WHERE timestamp_ms >= ? ORDER BY timestamp_ms",
            [.integer(SQLiteInt64(since ?? Int64.min))])
        return rows.compactMap { row in
            guard let id = row.column("event_id")?.string,
                  let kind = row.column("event_type")?.string.flatMap(EventKind.init(rawValue:)),
                  let set = row.column("configuration_set")?.string,
                  let message = row.column("message_id")?.string,
                  let time = row.column("timestamp_ms")?.integer else { return nil }
            return StoredEvent(eventId: id, kind: kind, configurationSet: set, messageId: message,
                               linkIndex: row.column("link_index")?.integer.map { Int($0) },
                               link: row.column("link")?.string, timestampMilliseconds: Int64(time),
                               isMachine: row.column("machine")?.integer == 1)
        }
    }
}
