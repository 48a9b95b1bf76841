import Foundation
import LinkTrack
import LinkTrackServer
import LinkTrackServerCore
import Logging
import Prometheus
import ServiceLifecycle
import SQLiteNIO
import Synchronization
import Testing

/// A sink that fails or stalls on demand: failure injection for the writer's logic. The real sinks
/// are tested against real files and a real SQLite database below.
final class ControlledSink: EventSink {
    struct State {
        var written: [TrackingEvent] = []
        var batches: [Int] = []
        var failing = false
        var delay: Duration = .zero
        /// While set, a write that starts does not finish (a sink that has stopped answering).
        var holding = false
        /// Writes begun, finished or not.
        var writesStarted = 0
    }
    let state = Mutex(State())
    var name: String { "controlled" }
    func open() async throws {}
    func write(_ events: [TrackingEvent]) async throws {
        let (failing, delay) = state.withLock { s in
            s.writesStarted += 1
            return (s.failing, s.delay)
        }
        if delay > .zero { try? await Task.sleep(for: delay) }
        while state.withLock({ $0.holding }) { try? await Task.sleep(for: .milliseconds(10)) }
        if failing { throw SinkError(sink: name, reason: "injected failure") }
        state.withLock {
            $0.written += events
            $0.batches.append(events.count)
        }
    }
    func reopen() async {}
    func close() async {}
}

/// A ``ControlledSink`` that also takes events inline (``InlineEventSink``), and counts which way
/// each event came.
final class ControlledInlineSink: InlineEventSink {
    struct State {
        var inline: [String] = []
        var batched: [String] = []
        var inlineFailing = false
        /// While set, an inline write blocks its thread until cleared (another request meanwhile
        /// finds the writer busy).
        var inlineHolding = false
        var inlineStarted = 0
    }
    let state = Mutex(State())
    var name: String { "controlled-inline" }
    func open() async throws {}
    func write(_ events: [TrackingEvent]) async throws {
        state.withLock { $0.batched += events.map(\.eventId) }
    }
    func writeNow(_ event: TrackingEvent) throws {
        let failing = state.withLock { s -> Bool in
            s.inlineStarted += 1
            return s.inlineFailing
        }
        while state.withLock({ $0.inlineHolding }) { usleep(1_000) }
        if failing { throw SinkError(sink: name, reason: "injected inline failure") }
        state.withLock { $0.inline.append(event.eventId) }
    }
    func reopen() async {}
    func close() async {}
}

func makeEvent(_ i: Int, set: String = "marketing") -> TrackingEvent {
    TrackingEvent(eventId: "e\(i)", kind: .click, timestampMilliseconds: 1_000 + Int64(i), configurationSet: set,
                  messageId: "m\(i % 7)", messageTags: [], ipAddress: "127.0.0.1", userAgent: "ua",
                  link: "https://example.org/\(i)", linkIndex: i % 5)
}

/// Runs `service` in a ServiceGroup, calls `body`, then shuts the group down gracefully.
func withRunning<S: Service>(_ service: S, _ body: () async throws -> Void) async throws {
    let group = ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "test")))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            try await body()
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

struct EventWriterTests {
    let registry = PrometheusCollectorRegistry()
    var metrics: ServerMetrics { ServerMetrics(factory: PrometheusMetricsFactory(registry: registry)) }

    @Test func concurrentEventsShareBatchesAndAreAllWritten() async throws {
        let sink = ControlledSink()
        sink.state.withLock { $0.delay = .milliseconds(5) }
        let writer = EventWriter(sink: sink, metrics: metrics, logger: Logger(label: "t"), acknowledgementTimeout: .seconds(10))
        try await withRunning(writer) {
            let acks = await withTaskGroup(of: WriteAcknowledgement.self) { group in
                for i in 0..<500 { group.addTask { await writer.submit(makeEvent(i)) } }
                return await group.reduce(into: [WriteAcknowledgement]()) { $0.append($1) }
            }
            #expect(acks.allSatisfy { $0 == .written })
        }
        let state = sink.state.withLock { $0 }
        #expect(Set(state.written.map(\.eventId)).count == 500)
        #expect(state.written.count == 500)
        // Group commit: far fewer batches than events.
        #expect(state.batches.count < 250, "\(state.batches.count) batches")
    }

    @Test func aSlowSinkDefersTheAnswerButKeepsTheEvent() async throws {
        let sink = ControlledSink()
        sink.state.withLock { $0.delay = .milliseconds(1_500) }
        let writer = EventWriter(sink: sink, metrics: metrics, logger: Logger(label: "t"), acknowledgementTimeout: .milliseconds(50))
        try await withRunning(writer) {
            let ack = await writer.submit(makeEvent(1))
            #expect(ack == .deferred)
            // The answer came before the sink finished its write (no clock is read here: the
            // sink's state says it).
            #expect(sink.state.withLock { $0.written.isEmpty })
        }
        // Shutdown flushed it.
        #expect(sink.state.withLock { $0.written.map(\.eventId) } == ["e1"])
        #expect(registry.emitToString().contains("linktrack_events_deferred_total{sink=\"controlled\"} 1"))
    }

    @Test func aFailingSinkIsRetriedUntilItRecovers() async throws {
        let sink = ControlledSink()
        sink.state.withLock { $0.failing = true }
        let writer = EventWriter(sink: sink, metrics: metrics, logger: Logger(label: "t"), acknowledgementTimeout: .milliseconds(20))
        try await withRunning(writer) {
            for i in 0..<10 { #expect(await writer.submit(makeEvent(i)) == .deferred) }
            #expect(!writer.isHealthy)
            #expect(writer.queueDepth == 10)
            sink.state.withLock { $0.failing = false }
            let deadline = ContinuousClock.now + .seconds(10)
            while writer.queueDepth > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(writer.isHealthy)
        }
        #expect(sink.state.withLock { $0.written.map(\.eventId) } == (0..<10).map { "e\($0)" })
        #expect(registry.emitToString().contains("linktrack_sink_failures_total{sink=\"controlled\"}"))
    }

    /// Waits (without a clock bound in the assertion) until `condition` holds, for at most 10 s.
    func eventually(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    }

    @Test func anIdleWriterLetsTheRequestWriteItsOwnEvent() async throws {
        let sink = ControlledInlineSink()
        let writer = EventWriter(sink: sink, metrics: metrics, logger: Logger(label: "t"), acknowledgementTimeout: .seconds(10))
        try await withRunning(writer) {
            // The writer opens the sink first; until then events go through it.
            try await eventually { writer.isHealthy && writer.queueDepth == 0 }
            _ = await writer.submit(makeEvent(0))
            for i in 1...20 { #expect(await writer.submit(makeEvent(i)) == .written) }
        }
        let state = sink.state.withLock { $0 }
        // One by one, each found the writer idle: all but (at most) the first were written inline.
        #expect(Set(state.inline + state.batched) == Set((0...20).map { "e\($0)" }))
        #expect(state.inline.count + state.batched.count == 21)
        #expect(state.inline.count >= 20, "inline \(state.inline.count), batched \(state.batched.count)")
        #expect(registry.emitToString().contains("linktrack_events_total{kind=\"click\",configuration_set=\"marketing\",sink=\"controlled-inline\"} 21"))
    }

    @Test func aBusyInlineWriteSendsOthersThroughTheWriterInOneBatch() async throws {
        let sink = ControlledInlineSink()
        let writer = EventWriter(sink: sink, metrics: metrics, logger: Logger(label: "t"), acknowledgementTimeout: .seconds(10))
        try await withRunning(writer) {
            try await eventually { writer.isHealthy && writer.queueDepth == 0 }
            _ = await writer.submit(makeEvent(0))
            sink.state.withLock { $0.inlineHolding = true }
            // The first request holds the inline write (on a thread of its own, as a blocked
            // write(2) would); the others find it busy and queue for the writer.
            let first = Task.detached { await writer.submit(makeEvent(1)) }
            try await eventually { sink.state.withLock { $0.inlineStarted } == 2 }
            let others = await withTaskGroup(of: WriteAcknowledgement.self) { group in
                for i in 2..<50 { group.addTask { await writer.submit(makeEvent(i)) } }
                return await group.reduce(into: [WriteAcknowledgement]()) { $0.append($1) }
            }
            #expect(others.allSatisfy { $0 == .written })
            sink.state.withLock { $0.inlineHolding = false }
            #expect(await first.value == .written)
        }
        let state = sink.state.withLock { $0 }
        #expect(Set(state.batched).isSuperset(of: (2..<50).map { "e\($0)" }))
        #expect(state.inline.contains("e1"))
        #expect(state.inline.count + state.batched.count == 50)
    }

    @Test func aFailedInlineWriteGoesThroughTheWriter() async throws {
        let sink = ControlledInlineSink()
        let writer = EventWriter(sink: sink, metrics: metrics, logger: Logger(label: "t"), acknowledgementTimeout: .seconds(10))
        try await withRunning(writer) {
            try await eventually { writer.isHealthy && writer.queueDepth == 0 }
            sink.state.withLock { $0.inlineFailing = true }
            #expect(await writer.submit(makeEvent(7)) == .written)
        }
        let state = sink.state.withLock { $0 }
        #expect(state.inline.isEmpty)
        #expect(state.batched == ["e7"])
    }

    @Test func aFullQueueDropsAndCountsTheLoss() async throws {
        let sink = ControlledSink()
        sink.state.withLock { $0.failing = true }
        let writer = EventWriter(sink: sink, metrics: metrics, logger: Logger(label: "t"),
                                 acknowledgementTimeout: .milliseconds(10), queueLimit: 3, shutdownFlushLimit: .milliseconds(200))
        try await withRunning(writer) {
            for i in 0..<3 { #expect(await writer.submit(makeEvent(i)) == .deferred) }
            #expect(await writer.submit(makeEvent(3)) == .dropped)
        }
        // The sink never came back: shutdown gave up after its flush limit and counted the rest as lost.
        let text = registry.emitToString()
        #expect(text.contains("linktrack_events_lost_total{sink=\"controlled\"} 4"), "\(text)")
        #expect(sink.state.withLock { $0.written.isEmpty })
    }
}

struct SinkTests {
    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "linktrack-sink-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func sqliteStoresEachEventOnceAndReadsThemBack() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/events.sqlite"
        let sink = SQLiteEventSink(path: path, logger: Logger(label: "t"))
        try await sink.open()
        let events = (0..<2_500).map { makeEvent($0) }
        try await sink.write(events)
        try await sink.write(Array(events[0..<10]))   // a replayed batch
        await sink.close()
        let stored = try await SQLiteEventSink.readAll(path: path, since: nil, logger: Logger(label: "t"))
        #expect(stored.count == 2_500)
        #expect(stored.map(\.eventId) == events.map(\.eventId))
        #expect(stored[3] == StoredEvent(events[3]))
        let later = try await SQLiteEventSink.readAll(path: path, since: 1_000 + 2_000, logger: Logger(label: "t"))
        #expect(later.count == 500)
        // WAL mode is on.
        #expect(FileManager.default.fileExists(atPath: path + "-wal") || FileManager.default.fileExists(atPath: path))
    }

    @Test func sqliteIndexesByMessageIdAndTimeAndKeepsOperatorsOwnIndexes() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/events.sqlite"
        // A store as an earlier version left it (without the message-id index, which that version
        // dropped), with an operator's own index beside ours.
        let old = try await SQLiteConnection.open(storage: .file(path: path), logger: Logger(label: "t"))
        for statement in SQLiteEventSink.schema where !statement.contains("events_message_id") {
            _ = try await old.query(statement, [])
        }
        _ = try await old.query("CREATE INDEX operator_own ON events(message_id, link_index)", [])
        try await old.close()

        let sink = SQLiteEventSink(path: path, logger: Logger(label: "t"))
        try await sink.open()
        await sink.close()
        let check = try await SQLiteConnection.open(storage: .file(path: path), logger: Logger(label: "t"))
        let names = Set(try await check.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'", [])
            .compactMap { $0.column("name")?.string })
        // SQLite's planner picks an index for each lookup the store is indexed for.
        func plan(_ query: String) async throws -> String {
            try await check.query("EXPLAIN QUERY PLAN " + query, [])
                .compactMap { $0.column("detail")?.string }.joined(separator: "; ")
        }
        let byMessage = try await plan("SELECT event_json FROM events WHERE message_id = 'a@example.com'")
        let byTime = try await plan("SELECT event_json FROM events WHERE timestamp_ms >= 1000")
        try await check.close()
        #expect(names.isSuperset(of: ["events_message_id", "events_time", "events_set_type", "operator_own"]))
        #expect(byMessage.contains("USING INDEX events_message_id") || byMessage.contains("USING INDEX operator_own"), "\(byMessage)")
        #expect(byTime.contains("USING INDEX events_time"), "\(byTime)")
    }

    @Test func sqliteCheckpointsInTheBackgroundWhileOpen() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/events.sqlite"
        let sink = SQLiteEventSink(path: path, logger: Logger(label: "t"))
        try await sink.open()
        func size(_ file: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.intValue ?? 0
        }
        let initial = size(path)
        for start in stride(from: 0, to: 2_000, by: 100) {
            try await sink.write((start..<(start + 100)).map { makeEvent($0) })
        }
        // Far below the writer's own automatic checkpoint (10,000 pages): the rows reach the
        // database file only through the checkpointer's connection, while the sink stays open.
        #expect(size(path + "-wal") > 0)
        let deadline = ContinuousClock.now + .seconds(10)
        while size(path) < initial + 500_000 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(size(path) >= initial + 500_000, "database file \(size(path)) bytes, WAL \(size(path + "-wal"))")
        await sink.close()
        let stored = try await SQLiteEventSink.readAll(path: path, since: nil, logger: Logger(label: "t"))
        #expect(stored.count == 2_000)
    }

    @Test func jsonLinesAppendsOneLinePerEventAndReopens() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/events.jsonl"
        let sink = JSONLinesEventSink(path: path)
        try await sink.open()
        try await sink.write([makeEvent(1), makeEvent(2)])
        // Rotation: move the file away, reopen, write again.
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        await sink.reopen()
        try await sink.write([makeEvent(3)])
        await sink.close()
        let rotated = try JSONLinesReader.read(path: path + ".1")
        let current = try JSONLinesReader.read(path: path)
        #expect(rotated.map(\.eventId) == ["e1", "e2"])
        #expect(current.map(\.eventId) == ["e3"])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == makeEvent(3).sesJSON + "\n")
    }

    @Test func jsonLinesFailureIsTyped() async throws {
        let sink = JSONLinesEventSink(path: "/nonexistent-dir/x/events.jsonl")
        await #expect(throws: SinkError.self) { try await sink.open() }
    }
}
