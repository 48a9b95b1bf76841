import LinkTrack
import LinkTrackServerCore
import Logging
import ServiceLifecycle
import Synchronization

/// What a request learns about its event.
public enum WriteAcknowledgement: Sendable, Equatable {
    /// The event reached the sink's write path (committed, or written to the file).
    case written
    /// The sink did not take it within the bound; it waits in the writer's memory and is retried.
    case deferred
    /// The writer's queue was full (or the writer has stopped): the event is lost, counted and logged.
    case dropped
}

/// The one writer of one sink. Requests hand it events and await an acknowledgement; it writes
/// everything that has arrived since its last write as one batch (group commit: concurrent requests
/// share one SQLite commit or one `write(2)`).
///
/// The guarantee: a request is acknowledged ``WriteAcknowledgement/written`` only after its event is
/// in the sink. If the sink cannot take the event within `acknowledgementTimeout` (or fails), the
/// request is answered all the same (a reader always reaches the destination) and the event stays in
/// a bounded in-memory queue (`queueLimit` events), retried with backoff until the sink takes it.
/// Events that find the queue full, or are still queued when shutdown gives up on a dead sink after
/// `shutdownFlushLimit`, are lost: counted in `linktrack_events_lost_total` and logged.
public final class EventWriter: Service, Sendable {
    struct Pending {
        var event: TrackingEvent
        var waiter: Int?
    }
    struct State {
        var queue: [Pending] = []
        var head = 0
        var waiters: [Int: CheckedContinuation<WriteAcknowledgement, Never>] = [:]
        var deadlines: [(id: Int, at: ContinuousClock.Instant)] = []
        var deadlineHead = 0
        var nextWaiter = 0
        var wake: CheckedContinuation<Void, Never>?
        var stopping = false
        var stopped = false
        var healthy = true
        var lastError: String?
        var count: Int { queue.count - head }
    }

    public let sink: any EventSink
    public let acknowledgementTimeout: Duration
    public let queueLimit: Int
    public let maximumBatch: Int
    public let shutdownFlushLimit: Duration
    let metrics: ServerMetrics
    let logger: Logger
    private let state = Mutex(State())

    public init(sink: any EventSink, metrics: ServerMetrics, logger: Logger,
                acknowledgementTimeout: Duration = .milliseconds(100), queueLimit: Int = 100_000,
                maximumBatch: Int = 5_000, shutdownFlushLimit: Duration = .seconds(10)) {
        self.sink = sink
        self.metrics = metrics
        self.logger = logger
        self.acknowledgementTimeout = acknowledgementTimeout
        self.queueLimit = queueLimit
        self.maximumBatch = maximumBatch
        self.shutdownFlushLimit = shutdownFlushLimit
    }

    /// Whether the last write succeeded (or none failed yet): `/ready`.
    public var isHealthy: Bool { state.withLock { $0.healthy } }
    /// The last write error, for `/ready`.
    public var lastError: String? { state.withLock { $0.lastError } }
    /// Events waiting to be written.
    public var queueDepth: Int { state.withLock { $0.count } }

    /// Hands over an event and waits until it is written, or for at most `acknowledgementTimeout`.
    public func submit(_ event: TrackingEvent) async -> WriteAcknowledgement {
        let deadline = ContinuousClock.now + acknowledgementTimeout
        let result: WriteAcknowledgement = await withCheckedContinuation { continuation in
            let (accepted, wake) = state.withLock { s -> (Bool, CheckedContinuation<Void, Never>?) in
                guard !s.stopped, s.count < queueLimit else { return (false, nil) }
                let id = s.nextWaiter
                s.nextWaiter += 1
                s.queue.append(Pending(event: event, waiter: id))
                s.waiters[id] = continuation
                s.deadlines.append((id, deadline))
                let wake = s.wake
                s.wake = nil
                return (true, wake)
            }
            if accepted {
                wake?.resume()
            } else {
                continuation.resume(returning: .dropped)
            }
        }
        switch result {
        case .dropped:
            metrics.eventLost(sink: sink.name)
            logger.error("event lost: the writer's queue is full or stopped", metadata: [
                "sink": .string(sink.name), "eventId": .string(event.eventId), "event": .string(event.sesJSON)])
        case .deferred:
            metrics.eventDeferred(sink: sink.name)
        case .written:
            break
        }
        return result
    }

    public func run() async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.expireLoop() }
                // Open the sink now, not on the first event: the first request would otherwise wait for
                // the open (SQLite: the file, WAL, the schema) within its acknowledgement bound, and
                // `/ready` would say ok for a sink that cannot be opened.
                let opened = await self.openAtStart()
                await self.writeLoop(opened: opened)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            let wake = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.stopping = true
                let w = s.wake
                s.wake = nil
                return w
            }
            wake?.resume()
        }
        await sink.close()
    }

    /// Answers waiters whose bound has passed with `.deferred`, every 10 ms.
    func expireLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
            let now = ContinuousClock.now
            let expired = state.withLock { s -> [CheckedContinuation<WriteAcknowledgement, Never>] in
                var out: [CheckedContinuation<WriteAcknowledgement, Never>] = []
                while s.deadlineHead < s.deadlines.count, s.deadlines[s.deadlineHead].at <= now {
                    if let c = s.waiters.removeValue(forKey: s.deadlines[s.deadlineHead].id) { out.append(c) }
                    s.deadlineHead += 1
                }
                if s.deadlineHead > 1024, s.deadlineHead * 2 > s.deadlines.count {
                    s.deadlines.removeFirst(s.deadlineHead)
                    s.deadlineHead = 0
                }
                return out
            }
            for c in expired { c.resume(returning: .deferred) }
        }
    }

    /// Opens the sink; on failure marks the writer unhealthy (the write loop retries with the first batch).
    func openAtStart() async -> Bool {
        do {
            try await sink.open()
            return true
        } catch {
            state.withLock { s in
                s.healthy = false
                s.lastError = "\(error)"
            }
            metrics.sinkFailure(sink: sink.name)
            logger.error("sink cannot be opened; events will be kept in memory and retried",
                         metadata: ["sink": .string(sink.name), "error": .string("\(error)")])
            return false
        }
    }

    func writeLoop(opened initiallyOpened: Bool = false) async {
        var opened = initiallyOpened
        var backoff = Duration.milliseconds(50)
        var stopDeadline: ContinuousClock.Instant?
        while true {
            // Wait for work, or for shutdown.
            let (batch, stopping) = await nextBatch()
            if batch.isEmpty && stopping { break }
            if batch.isEmpty { continue }
            if stopping, stopDeadline == nil { stopDeadline = .now + shutdownFlushLimit }
            do {
                if !opened {
                    try await sink.open()
                    opened = true
                }
                let started = ContinuousClock.now
                try await sink.write(batch.map(\.event))
                metrics.sinkWrite(sink: sink.name, duration: ContinuousClock.now - started, events: batch)
                let resumed = state.withLock { s -> [CheckedContinuation<WriteAcknowledgement, Never>] in
                    var out: [CheckedContinuation<WriteAcknowledgement, Never>] = []
                    for p in batch { if let id = p.waiter, let c = s.waiters.removeValue(forKey: id) { out.append(c) } }
                    s.head += batch.count
                    if s.head > 4096, s.head * 2 > s.queue.count {
                        s.queue.removeFirst(s.head)
                        s.head = 0
                    }
                    if !s.healthy { s.healthy = true; s.lastError = nil }
                    return out
                }
                for c in resumed { c.resume(returning: .written) }
                metrics.queueDepth(sink: sink.name, depth: queueDepth)
                backoff = .milliseconds(50)
            } catch {
                opened = false
                let wasHealthy = state.withLock { s -> Bool in
                    let was = s.healthy
                    s.healthy = false
                    s.lastError = "\(error)"
                    return was
                }
                metrics.sinkFailure(sink: sink.name)
                metrics.queueDepth(sink: sink.name, depth: queueDepth)
                if wasHealthy {
                    logger.error("sink write failed; events are kept in memory and retried",
                                 metadata: ["sink": .string(sink.name), "error": .string("\(error)"), "queued": .stringConvertible(queueDepth)])
                }
                if let stopDeadline, ContinuousClock.now >= stopDeadline {
                    let lost = state.withLock { s -> [Pending] in
                        let rest = Array(s.queue[s.head...])
                        s.head = s.queue.count
                        s.stopped = true
                        return rest
                    }
                    for p in lost {
                        metrics.eventLost(sink: sink.name)
                        logger.error("event lost at shutdown: the sink is unavailable", metadata: [
                            "sink": .string(sink.name), "eventId": .string(p.event.eventId), "event": .string(p.event.sesJSON)])
                    }
                    let waiting = state.withLock { s in
                        let w = Array(s.waiters.values)
                        s.waiters = [:]
                        return w
                    }
                    for c in waiting { c.resume(returning: .dropped) }
                    break
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(2))
            }
        }
        state.withLock { $0.stopped = true }
    }

    /// The events not yet written (up to `maximumBatch`), waiting for some if there are none.
    func nextBatch() async -> ([Pending], Bool) {
        while true {
            let ready = state.withLock { s -> ([Pending], Bool)? in
                if s.count > 0 {
                    let end = min(s.queue.count, s.head + maximumBatch)
                    return (Array(s.queue[s.head..<end]), s.stopping)
                }
                return s.stopping ? ([], true) : nil
            }
            if let ready { return ready }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { s -> Bool in
                        if s.count > 0 || s.stopping { return true }
                        s.wake = c
                        return false
                    }
                    if resumeNow { c.resume() }
                }
            } onCancel: {
                let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
                    s.stopping = true
                    let w = s.wake
                    s.wake = nil
                    return w
                }
                wake?.resume()
            }
        }
    }

    /// Reopens the sink's files (SIGHUP).
    public func reopen() async { await sink.reopen() }
}
