import CoreMetrics
import LinkTrack
import LinkTrackServerCore
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// What a request learns about its event.
public enum WriteAcknowledgement: Sendable, Equatable {
    /// The event reached the sink's write path (committed, or written to the file).
    case written
    /// The sink did not take it in time (down, failing or slow); it is in the writer's disk spool
    /// (synced) and will be replayed to the sink.
    case spooled
    /// The sink did not take it within the bound (and it is not in a spool); it waits in the
    /// writer's memory and is retried.
    case deferred
    /// The writer's queue was full (or the writer has stopped): the event is lost, counted and logged.
    case dropped
}

/// The one writer of one sink. Requests hand it events and await an acknowledgement; it writes
/// everything that has arrived since its last write as one batch (group commit: concurrent requests
/// share one SQLite commit, one `write(2)`, one PostgreSQL round trip or one webhook POST).
///
/// The guarantee without a spool (SQLite, JSON Lines): a request is acknowledged
/// ``WriteAcknowledgement/written`` only after its event is in the sink. If the sink cannot take
/// the event within `acknowledgementTimeout` (or fails), the request is answered all the same (a
/// reader always reaches the destination) and the event stays in a bounded in-memory queue
/// (`queueLimit` events), retried with backoff until the sink takes it.
///
/// With a spool (PostgreSQL, webhooks): when a write fails, or an event has waited half of
/// `acknowledgementTimeout`, the writer switches to spooling: the events in memory (the batch in
/// flight included) and every new one go to the ``EventSpool`` (one `fdatasync` per group) and
/// are acknowledged ``WriteAcknowledgement/spooled``; the sink is then fed from the spool, in
/// order, retried with exponential backoff and jitter, and the records are confirmed (dropped) as
/// the sink takes them. Once the spool is empty the writer writes directly again. A spool left
/// by a previous run is replayed on start. A batch the sink took late may also be in the spool and
/// reach the sink twice: stores de-duplicate by event id. Events the spool cannot take (at its
/// cap, or the disk fails) stay in memory as without a spool.
///
/// Events that find the memory queue full, or are still in memory when shutdown gives up on a dead
/// sink after `shutdownFlushLimit` (and no spool takes them), are lost: counted in
/// `linktrack_events_lost_total` and logged with the event.
public final class EventWriter: Service, Sendable {
    struct Pending {
        var event: TrackingEvent
        var waiter: Int?
    }

    /// Whether the batch being written directly to the sink has also been put in the spool.
    enum InflightSpool {
        case none
        case appending
        case appended(Range<Int64>, generation: UInt64)
    }

    struct State {
        /// Events only in memory (in neither the sink nor the spool), in order.
        var queue: [Pending] = []
        var head = 0
        /// The batch being written directly to the sink.
        var inflight: [Pending] = []
        var inflightSpool = InflightSpool.none
        /// How the direct write ended while the spooler was appending its copy.
        var inflightSucceeded: Bool?
        /// Records of a direct batch that the sink took after they were spooled: the write loop
        /// confirms them (they are at the head of the spool).
        var confirmAfterAppend: (range: Range<Int64>, generation: UInt64, events: Int)?
        /// New events go to the spool, and the sink is fed from the spool.
        var spooling = false
        /// Events the spooler is appending (in memory until synced).
        var spoolerHolds = 0
        var spoolerBusy = false
        var spoolFailure: String?
        var waiters: [Int: CheckedContinuation<WriteAcknowledgement, Never>] = [:]
        var deadlines: [(id: Int, at: ContinuousClock.Instant)] = []
        var deadlineHead = 0
        /// The oldest deadline whose waiter may still wait (for the spooling trigger).
        var oldestHead = 0
        var nextWaiter = 0
        var wake: CheckedContinuation<Void, Never>?
        var spoolWake: CheckedContinuation<Void, Never>?
        var stopping = false
        var stopped = false
        var healthy = true
        var lastError: String?
        var memoryCount: Int { queue.count - head }
        var inflightInMemory: Bool {
            if case .appended = inflightSpool { return false }
            return true
        }
        /// Events held in memory only.
        var count: Int { memoryCount + spoolerHolds + (inflightInMemory ? inflight.count : 0) }

        mutating func takeWakes() -> [CheckedContinuation<Void, Never>] {
            var out: [CheckedContinuation<Void, Never>] = []
            if let w = wake { out.append(w); wake = nil }
            if let w = spoolWake { out.append(w); spoolWake = nil }
            return out
        }

        mutating func compactQueue() {
            if head > 4096, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
        }

        /// Puts `events` back in front of the memory queue, in order.
        mutating func requeue(_ events: [Pending]) {
            guard !events.isEmpty else { return }
            queue = events + queue[head...]
            head = 0
        }
    }

    public let sink: any EventSink
    /// The disk spool, for sinks that can be down for a while (PostgreSQL, webhooks); nil for local files.
    public let spool: EventSpool?
    public let acknowledgementTimeout: Duration
    public let queueLimit: Int
    public let maximumBatch: Int
    public let shutdownFlushLimit: Duration
    /// Events per spool append, at most.
    let spoolChunk = 10_000
    let metrics: ServerMetrics
    let logger: Logger
    private let state = Mutex(State())

    public init(sink: any EventSink, metrics: ServerMetrics, logger: Logger,
                acknowledgementTimeout: Duration = .milliseconds(100), queueLimit: Int = 100_000,
                maximumBatch: Int = 5_000, shutdownFlushLimit: Duration = .seconds(10), spool: EventSpool? = nil) {
        self.sink = sink
        self.metrics = metrics
        self.logger = logger
        self.acknowledgementTimeout = acknowledgementTimeout
        self.queueLimit = queueLimit
        self.maximumBatch = maximumBatch
        self.shutdownFlushLimit = shutdownFlushLimit
        self.spool = spool
    }

    /// Whether the last write succeeded (or none failed yet): `/ready`.
    public var isHealthy: Bool { state.withLock { $0.healthy } }
    /// The last write error, for `/ready`.
    public var lastError: String? { state.withLock { $0.lastError } }
    /// Events waiting in memory to be written (not counting the spool).
    public var queueDepth: Int { state.withLock { $0.count } }
    /// The spool's pending bytes and events, if this writer has a spool.
    public var spoolStatus: EventSpool.Status? { spool?.status }
    /// What `/ready` adds after `queued=N`: the spool's size and state, or nothing without a spool.
    public var spoolSummary: String {
        guard let spool else { return "" }
        let status = spool.status
        let (spooling, failure) = state.withLock { ($0.spooling, $0.spoolFailure) }
        var text = " spool_bytes=\(status.pendingBytes) spool_events=\(status.pendingEvents)"
        if spooling { text += " spooling" }
        if let failure { text += " spool_error: \(failure)" }
        return text
    }

    /// Hands over an event and waits until it is written (or spooled), or for at most `acknowledgementTimeout`.
    public func submit(_ event: TrackingEvent) async -> WriteAcknowledgement {
        let deadline = ContinuousClock.now + acknowledgementTimeout
        let result: WriteAcknowledgement = await withCheckedContinuation { continuation in
            let (accepted, wakes) = state.withLock { s -> (Bool, [CheckedContinuation<Void, Never>]) in
                guard !s.stopped, s.count < queueLimit else { return (false, []) }
                let id = s.nextWaiter
                s.nextWaiter += 1
                s.queue.append(Pending(event: event, waiter: id))
                s.waiters[id] = continuation
                s.deadlines.append((id, deadline))
                return (true, s.takeWakes())
            }
            if accepted {
                for w in wakes { w.resume() }
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
        case .written, .spooled:
            break
        }
        return result
    }

    public func run() async {
        if let spool { await openSpool(spool) }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.expireLoop() }
                if let spool = self.spool { group.addTask { await self.spoolLoop(spool) } }
                await self.writeLoop()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            let wakes = self.state.withLock { s -> [CheckedContinuation<Void, Never>] in
                s.stopping = true
                return s.takeWakes()
            }
            for w in wakes { w.resume() }
        }
        await sink.close()
        if let spool { try? await NIOThreadPool.singleton.runIfActive { spool.close() } }
    }

    func openSpool(_ spool: EventSpool) async {
        do {
            let recovery = try await NIOThreadPool.singleton.runIfActive { try spool.open() }
            if recovery.discardedBytes > 0 {
                logger.warning("the spool ended in a torn or corrupt record; cut off (never acknowledged)", metadata: [
                    "sink": .string(sink.name), "spool": .string(spool.logPath), "bytes": .stringConvertible(recovery.discardedBytes)])
            }
            if recovery.pendingEvents > 0 {
                logger.notice("replaying spooled events", metadata: [
                    "sink": .string(sink.name), "spool": .string(spool.logPath),
                    "events": .stringConvertible(recovery.pendingEvents), "bytes": .stringConvertible(recovery.pendingBytes)])
            }
        } catch {
            state.withLock { $0.spoolFailure = "\(error)" }
            logger.error("cannot open the spool; events wait in memory while the sink is down", metadata: [
                "sink": .string(sink.name), "spool": .string(spool.logPath), "error": .string("\(error)")])
        }
        metrics.spoolBytes(sink: sink.name, bytes: spool.status.pendingBytes)
    }

    /// Answers waiters whose bound has passed with `.deferred`, every 10 ms; with a spool, switches
    /// to spooling when an event has waited half the bound.
    func expireLoop() async {
        let margin = acknowledgementTimeout / 2
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
            let now = ContinuousClock.now
            let (expired, wake) = state.withLock { s -> ([CheckedContinuation<WriteAcknowledgement, Never>], CheckedContinuation<Void, Never>?) in
                var out: [CheckedContinuation<WriteAcknowledgement, Never>] = []
                while s.deadlineHead < s.deadlines.count, s.deadlines[s.deadlineHead].at <= now {
                    if let c = s.waiters.removeValue(forKey: s.deadlines[s.deadlineHead].id) { out.append(c) }
                    s.deadlineHead += 1
                }
                var wake: CheckedContinuation<Void, Never>?
                if spool != nil, !s.spooling {
                    s.oldestHead = max(s.oldestHead, s.deadlineHead)
                    while s.oldestHead < s.deadlines.count, s.waiters[s.deadlines[s.oldestHead].id] == nil { s.oldestHead += 1 }
                    if s.oldestHead < s.deadlines.count, s.deadlines[s.oldestHead].at <= now + margin {
                        s.spooling = true
                        wake = s.spoolWake
                        s.spoolWake = nil
                    }
                }
                if s.deadlineHead > 1024, s.deadlineHead * 2 > s.deadlines.count {
                    s.deadlines.removeFirst(s.deadlineHead)
                    s.oldestHead = max(0, s.oldestHead - s.deadlineHead)
                    s.deadlineHead = 0
                }
                return (out, wake)
            }
            for c in expired { c.resume(returning: .deferred) }
            wake?.resume()
        }
    }

    // MARK: - The spooler

    struct SpoolWork {
        var pending: [Pending]
        /// The first `inflightCount` events are a copy of the batch in flight to the sink.
        var inflightCount: Int
    }

    /// While spooling, appends whatever is in memory to the spool (group commit) and acknowledges it.
    func spoolLoop(_ spool: EventSpool) async {
        var failures = 0
        while let work = await nextSpoolWork() {
            let events = work.pending.map(\.event)
            do {
                let appended = try await NIOThreadPool.singleton.runIfActive { try spool.append(events) }
                failures = 0
                let (resumed, wakes) = state.withLock { s -> ([CheckedContinuation<WriteAcknowledgement, Never>], [CheckedContinuation<Void, Never>]) in
                    s.spoolerBusy = false
                    s.spoolerHolds = 0
                    s.spoolFailure = nil
                    if work.inflightCount > 0 {
                        let range = appended.range.lowerBound..<appended.ends[work.inflightCount - 1]
                        switch s.inflightSucceeded {
                        case true?:
                            s.confirmAfterAppend = (range, appended.generation, work.inflightCount)
                            s.inflightSpool = .none
                        case false?:
                            s.inflightSpool = .none
                        case nil:
                            s.inflightSpool = .appended(range, generation: appended.generation)
                        }
                        s.inflightSucceeded = nil
                    }
                    var out: [CheckedContinuation<WriteAcknowledgement, Never>] = []
                    for p in work.pending { if let id = p.waiter, let c = s.waiters.removeValue(forKey: id) { out.append(c) } }
                    return (out, s.takeWakes())
                }
                metrics.eventsSpooled(sink: sink.name, count: events.count)
                metrics.spoolBytes(sink: sink.name, bytes: spool.status.pendingBytes)
                for c in resumed { c.resume(returning: .spooled) }
                for w in wakes { w.resume() }
            } catch {
                let first = failures == 0
                failures += 1
                let wakes = state.withLock { s -> [CheckedContinuation<Void, Never>] in
                    s.spoolerBusy = false
                    s.spoolerHolds = 0
                    s.spoolFailure = "\(error)"
                    var back: [Pending] = []
                    if work.inflightCount > 0 {
                        if s.inflightSucceeded == false { back += work.pending[0..<work.inflightCount] }
                        s.inflightSucceeded = nil
                        s.inflightSpool = .none
                    }
                    back += work.pending[work.inflightCount...]
                    s.requeue(back)
                    return s.takeWakes()
                }
                for w in wakes { w.resume() }
                if first {
                    logger.error("cannot spool events; they wait in memory (bounded by --event-queue-limit)", metadata: [
                        "sink": .string(sink.name), "spool": .string(spool.logPath), "error": .string("\(error)"),
                        "queued": .stringConvertible(queueDepth)])
                }
                try? await Task.sleep(for: jittered(failures, cap: .seconds(1)))
            }
        }
    }

    /// The next group to spool, waiting for one; nil when cancelled.
    func nextSpoolWork() async -> SpoolWork? {
        while !Task.isCancelled {
            let work = state.withLock { s -> SpoolWork? in
                guard s.spooling, !s.spoolerBusy else { return nil }
                var pending: [Pending] = []
                var inflightCount = 0
                if !s.inflight.isEmpty, case .none = s.inflightSpool {
                    pending = s.inflight
                    inflightCount = s.inflight.count
                    s.inflightSpool = .appending
                    s.inflightSucceeded = nil
                }
                let take = min(s.memoryCount, spoolChunk)
                if take > 0 {
                    pending += s.queue[s.head..<(s.head + take)]
                    s.head += take
                    s.compactQueue()
                }
                guard !pending.isEmpty else { return nil }
                s.spoolerBusy = true
                s.spoolerHolds = take
                return SpoolWork(pending: pending, inflightCount: inflightCount)
            }
            if let work { return work }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { s -> Bool in
                        if s.spooling && !s.spoolerBusy && (s.memoryCount > 0 || (!s.inflight.isEmpty && { if case .none = s.inflightSpool { return true }; return false }())) {
                            return true
                        }
                        s.spoolWake = c
                        return false
                    }
                    if resumeNow { c.resume() }
                }
            } onCancel: {
                let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
                    let w = s.spoolWake
                    s.spoolWake = nil
                    return w
                }
                wake?.resume()
            }
        }
        return nil
    }

    // MARK: - The write loop

    enum Step {
        case direct([Pending])
        case replay
        case pause
        case finished
    }

    func writeLoop() async {
        var opened = false
        var failures = 0
        var stopDeadline: ContinuousClock.Instant?
        // Open every sink before the first event needs it (the first request would otherwise wait for
        // it within its acknowledgement bound: SQLite creates the file, WAL and schema; PostgreSQL
        // connects and migrates); a failure here is retried by the first write. A local sink that
        // cannot be opened shows in /ready from the start.
        do {
            try await sink.open()
            opened = true
        } catch let error where error is CancellationError || Task.isCancelled {
            // Stopping before the start completed (a listener could not bind, say).
        } catch {
            if spool != nil {
                logger.warning("sink not available at start; events will be spooled until it is",
                               metadata: ["sink": .string(sink.name), "error": .string("\(error)")])
            } else {
                state.withLock { s in
                    s.healthy = false
                    s.lastError = "\(error)"
                }
                metrics.sinkFailure(sink: sink.name)
                logger.error("sink cannot be opened; events will be kept in memory and retried",
                             metadata: ["sink": .string(sink.name), "error": .string("\(error)")])
            }
        }
        loop: while true {
            if let spool, let confirm = state.withLock({ s -> (range: Range<Int64>, generation: UInt64, events: Int)? in
                let c = s.confirmAfterAppend
                s.confirmAfterAppend = nil
                return c
            }) {
                try? await NIOThreadPool.singleton.runIfActive {
                    try spool.confirm(confirm.range, generation: confirm.generation, events: confirm.events)
                }
                metrics.spoolBytes(sink: sink.name, bytes: spool.status.pendingBytes)
            }
            switch await nextStep(&stopDeadline) {
            case .finished:
                break loop
            case .pause:
                try? await Task.sleep(for: .milliseconds(10))
            case .replay:
                guard let spool else { continue }
                do {
                    try await replayOnce(spool, opened: &opened)
                    failures = 0
                } catch let error as SpoolError {
                    await spoolReadFailed(spool, error)
                } catch {
                    opened = false
                    failures += 1
                    writeFailed(error, spooled: true)
                    try? await Task.sleep(for: jittered(failures, cap: .seconds(2)))
                }
            case .direct(let batch):
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
                        s.inflight = []
                        switch s.inflightSpool {
                        case .none: break
                        case .appending: s.inflightSucceeded = true
                        case .appended(let range, let generation):
                            s.confirmAfterAppend = (range, generation, batch.count)
                            s.inflightSpool = .none
                        }
                        if !s.healthy { s.healthy = true; s.lastError = nil }
                        return out
                    }
                    for c in resumed { c.resume(returning: .written) }
                    metrics.queueDepth(sink: sink.name, depth: queueDepth)
                    failures = 0
                } catch {
                    opened = false
                    failures += 1
                    let wakes = state.withLock { s -> [CheckedContinuation<Void, Never>] in
                        s.inflight = []
                        switch s.inflightSpool {
                        case .none: s.requeue(batch)
                        case .appending: s.inflightSucceeded = false
                        case .appended: s.inflightSpool = .none
                        }
                        if spool != nil { s.spooling = true }
                        return s.takeWakes()
                    }
                    for w in wakes { w.resume() }
                    writeFailed(error, spooled: spool != nil)
                    try? await Task.sleep(for: jittered(failures, cap: .seconds(2)))
                }
            }
        }
        state.withLock { $0.stopped = true }
    }

    /// Feeds the oldest spooled events to the sink and confirms them.
    func replayOnce(_ spool: EventSpool, opened: inout Bool) async throws {
        if !opened {
            try await sink.open()
            opened = true
        }
        let batchSize = maximumBatch
        let read = try await NIOThreadPool.singleton.runIfActive { try spool.read(maximumEvents: batchSize) }
        for record in read.undecodable {
            metrics.eventLost(sink: sink.name)
            logger.error("event lost: a spool record does not decode", metadata: [
                "sink": .string(sink.name), "record": .string(record)])
        }
        if !read.events.isEmpty {
            let started = ContinuousClock.now
            try await sink.write(read.events)
            metrics.sinkWrite(sink: sink.name, duration: ContinuousClock.now - started,
                              events: read.events.map { Pending(event: $0, waiter: nil) })
        }
        let count = read.events.count + read.undecodable.count
        try await NIOThreadPool.singleton.runIfActive {
            try spool.confirm(read.range, generation: read.generation, events: count)
        }
        metrics.eventsReplayed(sink: sink.name, count: read.events.count)
        metrics.spoolBytes(sink: sink.name, bytes: spool.status.pendingBytes)
        let recovered = state.withLock { s -> Bool in
            let was = s.healthy
            s.healthy = true
            s.lastError = nil
            return !was
        }
        if recovered {
            logger.notice("sink is back; replaying the spool", metadata: [
                "sink": .string(sink.name), "spool_bytes": .stringConvertible(spool.status.pendingBytes)])
        }
    }

    /// A spool record where replay resumes is corrupt: what follows cannot be read back.
    func spoolReadFailed(_ spool: EventSpool, _ error: SpoolError) async {
        guard case .corrupt = error else {
            logger.error("cannot read the spool", metadata: ["sink": .string(sink.name), "error": .string("\(error)")])
            try? await Task.sleep(for: .seconds(1))
            return
        }
        let lost = (try? await NIOThreadPool.singleton.runIfActive { try spool.discardUnconfirmed() }) ?? 0
        for _ in 0..<lost { metrics.eventLost(sink: sink.name) }
        logger.critical("events lost: the spool is corrupt where replay resumes; its unreplayed records were discarded", metadata: [
            "sink": .string(sink.name), "spool": .string(spool.logPath), "error": .string("\(error)"),
            "events": .stringConvertible(lost)])
        metrics.spoolBytes(sink: sink.name, bytes: spool.status.pendingBytes)
    }

    func writeFailed(_ error: any Error, spooled: Bool) {
        let wasHealthy = state.withLock { s -> Bool in
            let was = s.healthy
            s.healthy = false
            s.lastError = "\(error)"
            return was
        }
        metrics.sinkFailure(sink: sink.name)
        metrics.queueDepth(sink: sink.name, depth: queueDepth)
        if wasHealthy {
            logger.error(spooled ? "sink write failed; events go to the disk spool and are replayed"
                                 : "sink write failed; events are kept in memory and retried",
                         metadata: ["sink": .string(sink.name), "error": .string("\(error)"), "queued": .stringConvertible(queueDepth)])
        }
    }

    /// Chooses the write loop's next step, waiting while there is nothing to do.
    func nextStep(_ stopDeadline: inout ContinuousClock.Instant?) async -> Step {
        while true {
            let pendingBytes = spool?.status.pendingBytes ?? 0
            let now = ContinuousClock.now
            let stoppingNow = state.withLock { $0.stopping }
            if stoppingNow, stopDeadline == nil { stopDeadline = now + shutdownFlushLimit }
            let pastDeadline = stopDeadline.map { now >= $0 } ?? false
            let hasSpool = spool != nil
            let (step, lost, wakes) = state.withLock { s -> (Step?, [Pending], [CheckedContinuation<Void, Never>]) in
                if s.stopping {
                    // Never wait for a dead sink at shutdown when a spool can keep the events.
                    if hasSpool && (!s.healthy || pastDeadline) {
                        var wakes: [CheckedContinuation<Void, Never>] = []
                        if !s.spooling {
                            s.spooling = true
                            wakes = s.takeWakes()
                        }
                        if s.count == 0 && !s.spoolerBusy && s.inflight.isEmpty { return (.finished, [], wakes) }
                        if pastDeadline && s.spoolFailure != nil && !s.spoolerBusy {
                            let rest = Array(s.queue[s.head...])
                            s.head = s.queue.count
                            s.stopped = true
                            return (.finished, rest, wakes)
                        }
                        return (.pause, [], wakes)
                    }
                    if !hasSpool && pastDeadline && !s.healthy {
                        let rest = Array(s.queue[s.head...])
                        s.head = s.queue.count
                        s.stopped = true
                        return (.finished, rest, [])
                    }
                }
                if pendingBytes > 0 { return (.replay, [], []) }
                if s.spooling && !s.spoolerBusy && s.confirmAfterAppend == nil {
                    // The spool is drained: write directly again.
                    s.spooling = false
                }
                if !s.spooling && s.memoryCount > 0 {
                    let end = min(s.queue.count, s.head + maximumBatch)
                    let batch = Array(s.queue[s.head..<end])
                    s.head = end
                    s.compactQueue()
                    s.inflight = batch
                    s.inflightSpool = .none
                    s.inflightSucceeded = nil
                    return (.direct(batch), [], [])
                }
                if s.stopping && s.count == 0 && !s.spoolerBusy && s.confirmAfterAppend == nil { return (.finished, [], []) }
                if s.confirmAfterAppend != nil { return (.pause, [], []) }
                return (nil, [], [])
            }
            for w in wakes { w.resume() }
            if !lost.isEmpty { loseAtShutdown(lost) }
            if let step { return step }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { s -> Bool in
                        if s.stopping || (!s.spooling && s.memoryCount > 0) || (s.spooling && !s.spoolerBusy) { return true }
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

    func loseAtShutdown(_ lost: [Pending]) {
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
    }

    /// Exponential backoff with jitter: 50 ms doubling per failure up to `cap`, then a random
    /// point in the upper half (so that several servers do not retry a recovering store in step).
    func jittered(_ failures: Int, cap: Duration) -> Duration {
        let exponent = min(max(failures - 1, 0), 16)
        let base = min(Duration.milliseconds(50) * (1 << exponent), cap)
        let half = base / 2
        let nanos = half.components.seconds * 1_000_000_000 + half.components.attoseconds / 1_000_000_000
        return half + .nanoseconds(Int64.random(in: 0...max(nanos, 0)))
    }

    /// Reopens the sink's files (SIGHUP).
    public func reopen() async { await sink.reopen() }
}

extension ServerMetrics {
    /// `linktrack_spool_bytes{sink}`: bytes in the spool not yet replayed.
    func spoolBytes(sink: String, bytes: Int64) {
        Gauge(label: "linktrack_spool_bytes", dimensions: [("sink", sink)], factory: factory).record(bytes)
    }

    /// `linktrack_events_spooled_total{sink}`.
    func eventsSpooled(sink: String, count: Int) {
        counter("linktrack_events_spooled_total", [("sink", sink)]).increment(by: count)
    }

    /// `linktrack_events_replayed_total{sink}`.
    func eventsReplayed(sink: String, count: Int) {
        guard count > 0 else { return }
        counter("linktrack_events_replayed_total", [("sink", sink)]).increment(by: count)
    }
}
