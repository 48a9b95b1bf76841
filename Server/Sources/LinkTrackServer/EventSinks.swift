import LinkTrack
import LinkTrackServerCore
import Logging
import ServiceLifecycle
import Synchronization

/// Owns one ``EventWriter`` per distinct ``LinkTrackDestination``, made when a configuration first
/// names it (at start or at a reload), and runs them. Shut down after the listeners, so every writer
/// flushes what the last requests handed it.
public final class EventSinks: Service, Sendable {
    public struct Options: Sendable {
        public var dataDirectory: String
        public var acknowledgementTimeout: Duration = .milliseconds(100)
        public var queueLimit: Int = 100_000
        public var sqliteSynchronous: String = "NORMAL"
        public init(dataDirectory: String) { self.dataDirectory = dataDirectory }
    }

    let options: Options
    let metrics: ServerMetrics
    let logger: Logger
    private let writers = Mutex<[LinkTrackDestination: EventWriter]>([:])
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
            let made = EventWriter(sink: makeSink(destination), metrics: metrics, logger: logger,
                                   acknowledgementTimeout: options.acknowledgementTimeout,
                                   queueLimit: options.queueLimit)
            w[destination] = made
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
        case .postgreSQL, .webhook:
            return UnsupportedSink(destination: destination)
        }
    }

    public static func sqlitePath(dataDirectory: String) -> String {
        dataDirectory.hasSuffix("/") ? dataDirectory + "events.sqlite" : dataDirectory + "/events.sqlite"
    }

    /// Every writer, for `/ready` and SIGHUP.
    public var allWriters: [EventWriter] { writers.withLock { Array($0.values) } }

    /// Hands `event` to each sink's writer and waits for all of their acknowledgements.
    public func record(_ event: TrackingEvent, in sinks: [LinkTrackDestination]) async -> [WriteAcknowledgement] {
        if sinks.count == 1 { return [await writer(for: sinks[0]).submit(event)] }
        return await withTaskGroup(of: WriteAcknowledgement.self) { group in
            for sink in sinks {
                let writer = self.writer(for: sink)
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

/// A destination type this build does not write yet: every write fails, so events wait in the
/// writer's queue (and `/ready` says why) instead of vanishing.
struct UnsupportedSink: EventSink {
    let destination: LinkTrackDestination
    var name: String { destination.typeName.lowercased() }
    func open() async throws { throw SinkError(sink: name, reason: "the \(destination.typeName) sink is not supported by this build") }
    func write(_ events: [TrackingEvent]) async throws { try await open() }
    func reopen() async {}
    func close() async {}
}
