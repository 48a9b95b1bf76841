#if canImport(Glibc)
import Glibc
#endif
import LinkTrack
import LinkTrackServerCore
import Logging
import ServiceLifecycle
import Synchronization

/// Owns one ``EventWriter`` per distinct ``LinkTrackDestination``, made when a configuration first
/// names it (at start or at a reload), and runs them. Shut down after the listeners, so every writer
/// flushes what the last requests handed it.
///
/// Destinations that name the same remote store (the same PostgreSQL user, host, port and
/// database, or the same webhook URL) share one writer and one spool, whatever their password
/// source: the first one named sets it. The PostgreSQL sinks' clients and the webhook sinks' HTTP
/// clients are owned by their sinks and closed by their writers after the final flush, so they
/// stop after the listeners and before the process exits (this service is the first of the
/// group, the last to stop).
public final class EventSinks: Service, Sendable {
    public struct Options: Sendable {
        public var dataDirectory: String
        public var acknowledgementTimeout: Duration = .milliseconds(100)
        public var queueLimit: Int = 100_000
        public var sqliteSynchronous: String = "NORMAL"
        /// The cap of each sink's disk spool (`--spool-limit-bytes`).
        public var spoolLimitBytes: Int64 = 1 << 30
        public init(dataDirectory: String) { self.dataDirectory = dataDirectory }
    }

    let options: Options
    let metrics: ServerMetrics
    let logger: Logger
    private let writers = Mutex<[LinkTrackDestination: EventWriter]>([:])
    /// Writers of remote stores by store identity (see ``spoolIdentity(_:)``).
    private let stores = Mutex<[String: EventWriter]>([:])
    private let started: AsyncStream<EventWriter>
    private let starter: AsyncStream<EventWriter>.Continuation

    public init(options: Options, metrics: ServerMetrics, logger: Logger) {
        self.options = options
        self.metrics = metrics
        self.logger = logger
        (started, starter) = AsyncStream.makeStream(of: EventWriter.self)
    }

    /// The writer of `destination`, made (and started) if this is its first use.
    public func writer(for destination: LinkTrackDestination) -> EventWriter {
        let (writer, isNew) = writers.withLock { w -> (EventWriter, Bool) in
            if let existing = w[destination] { return (existing, false) }
            let identity = Self.spoolIdentity(destination)
            if let identity, let shared = stores.withLock({ $0[identity] }) {
                w[destination] = shared
                return (shared, false)
            }
            let made = EventWriter(sink: makeSink(destination), metrics: metrics, logger: logger,
                                   acknowledgementTimeout: options.acknowledgementTimeout,
                                   queueLimit: options.queueLimit,
                                   maximumBatch: Self.maximumBatch(destination),
                                   spool: makeSpool(destination),
                                   maximumConcurrentWrites: Self.concurrentWrites(destination))
            w[destination] = made
            if let identity { stores.withLock { $0[identity] = made } }
            return (made, true)
        }
        if isNew { starter.yield(writer) }
        return writer
    }

    /// Makes writers for every sink a configuration names, so `/ready` reports them from the start.
    public func prepare(for configuration: ServerConfiguration) {
        for destination in configuration.allSinks { _ = writer(for: destination) }
    }

    func makeSink(_ destination: LinkTrackDestination) -> any EventSink {
        switch destination {
        case .sqlite:
            return SQLiteEventSink(path: Self.sqlitePath(dataDirectory: options.dataDirectory),
                                   synchronous: options.sqliteSynchronous, logger: logger)
        case .jsonLines(let path):
            return JSONLinesEventSink(path: path)
        case .postgreSQL(let connectionString, let passwordFile, let passwordEnvironmentVariable):
            let settings: PostgreSQLConnectionSettings
            do {
                settings = try PostgreSQLConnectionSettings(connectionString: connectionString)
            } catch {
                return BrokenSink(name: "postgresql", reason: "\(error)")
            }
            let metrics = self.metrics
            let logger = self.logger
            let name = "postgresql:" + settings.displayName
            return PostgreSQLEventSink(
                settings: settings, passwordFile: passwordFile, passwordEnvironmentVariable: passwordEnvironmentVariable,
                logger: logger,
                onRejected: { event, reason in
                    metrics.eventLost(sink: name)
                    logger.error("event lost: PostgreSQL refuses its data", metadata: [
                        "sink": .string(name), "error": .string(reason), "eventId": .string(event.eventId),
                        "event": .string(event.sesJSON)])
                })
        case .webhook(let url, let secretFile):
            return WebhookEventSink(url: url, secretFile: secretFile, logger: logger)
        }
    }

    /// What identifies a remote store, for its spool's key: never a password.
    static func spoolIdentity(_ destination: LinkTrackDestination) -> String? {
        switch destination {
        case .sqlite, .jsonLines:
            return nil
        case .postgreSQL(let connectionString, _, _):
            guard let settings = try? PostgreSQLConnectionSettings(connectionString: connectionString) else { return nil }
            return "postgresql:" + settings.displayName
        case .webhook(let url, _):
            return "webhook:" + url
        }
    }

    /// Remote stores (PostgreSQL, webhooks) get a disk spool, `spool/<key>.log` in the data
    /// directory; local files (SQLite, JSON Lines) keep events in memory while they fail.
    func makeSpool(_ destination: LinkTrackDestination) -> EventSpool? {
        guard let identity = Self.spoolIdentity(destination) else { return nil }
        let directory = Self.spoolDirectory(dataDirectory: options.dataDirectory)
        return EventSpool(directory: directory, key: EventSpool.key(for: identity),
                          sinkDescription: identity.hasPrefix("webhook:") ? "webhook:" + WebhookEventSink.redacted(String(identity.dropFirst(8))) : identity,
                          limitBytes: options.spoolLimitBytes)
    }

    /// Events per write: a webhook POST carries at most 500 (about 300 KiB), the others 5,000.
    static func maximumBatch(_ destination: LinkTrackDestination) -> Int {
        if case .webhook = destination { return 500 }
        return 5_000
    }

    /// PostgreSQL takes four batches at once (the sink's pool has four connections; the database
    /// commits them together); the others one at a time (in order).
    static func concurrentWrites(_ destination: LinkTrackDestination) -> Int {
        if case .postgreSQL = destination { return 4 }
        return 1
    }

    public static func spoolDirectory(dataDirectory: String) -> String {
        dataDirectory.hasSuffix("/") ? dataDirectory + "spool" : dataDirectory + "/spool"
    }

    public static func sqlitePath(dataDirectory: String) -> String {
        dataDirectory.hasSuffix("/") ? dataDirectory + "events.sqlite" : dataDirectory + "/events.sqlite"
    }

    /// Every writer, for `/ready` and SIGHUP.
    public var allWriters: [EventWriter] {
        writers.withLock { w in
            var seen = Set<ObjectIdentifier>()
            return w.values.filter { seen.insert(ObjectIdentifier($0)).inserted }
        }
    }

    /// Hands `event` to each sink's writer and waits for all of their acknowledgements.
    public func record(_ event: TrackingEvent, in sinks: [LinkTrackDestination]) async -> [WriteAcknowledgement] {
        if sinks.count == 1 { return [await writer(for: sinks[0]).submit(event)] }
        var seen = Set<ObjectIdentifier>()
        let distinct = sinks.map { writer(for: $0) }.filter { seen.insert(ObjectIdentifier($0)).inserted }
        return await withTaskGroup(of: WriteAcknowledgement.self) { group in
            for writer in distinct {
                group.addTask { await writer.submit(event) }
            }
            var acks: [WriteAcknowledgement] = []
            for await ack in group { acks.append(ack) }
            return acks
        }
    }

    public func reopenFiles() async {
        for writer in allWriters { await writer.reopen() }
    }

    public func run() async {
        warnAboutOrphanedSpools()
        await withDiscardingTaskGroup { group in
            await withGracefulShutdownHandler {
                for await writer in started {
                    group.addTask { await writer.run() }
                }
            } onGracefulShutdown: {
                self.starter.finish()
            }
        }
    }
}

extension EventSinks {
    /// Logs every spool in the data directory that holds events for a store no configured
    /// destination names any more (its store was changed or removed): they stay on disk until a
    /// destination names that store again.
    func warnAboutOrphanedSpools() {
        let directory = Self.spoolDirectory(dataDirectory: options.dataDirectory)
        let known = Set(allWriters.compactMap { $0.spool?.key })
        guard let dir = opendir(directory) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            guard name.hasSuffix(".log") else { continue }
            let key = String(name.dropLast(4))
            guard !known.contains(key) else { continue }
            var st = stat()
            guard stat(directory + "/" + name, &st) == 0, st.st_size > EventSpool.headerSize else { continue }
            let description = (try? FileIO.readAll(path: directory + "/" + key + ".sink"))
                .map { String(decoding: $0, as: UTF8.self).trimmingTrailingNewlines } ?? "unknown"
            logger.warning("a spool holds events for a store no destination names now; they stay until it is configured again", metadata: [
                "spool": .string(directory + "/" + name), "store": .string(description), "bytes": .stringConvertible(st.st_size)])
        }
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = Substring(self)
        while s.last == "\n" || s.last == "\r" { s = s.dropLast() }
        return String(s)
    }
}

/// A destination whose settings cannot work (a connection string that does not parse): every
/// write fails, so events wait in the writer's queue (and `/ready` says why) instead of vanishing.
struct BrokenSink: EventSink {
    let name: String
    let reason: String
    func open() async throws { throw SinkError(sink: name, reason: reason) }
    func write(_ events: [TrackingEvent]) async throws { try await open() }
    func reopen() async {}
    func close() async {}
}
