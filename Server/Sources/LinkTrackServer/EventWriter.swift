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

    /// Whether a batch being written directly to the sink has also been put in the spool.
    enum InflightSpool {
        case none
        case appending
        case appended(Range<Int64>, generation: UInt64)
    }

    /// A batch being written directly to the sink (up to `maximumConcurrentWrites` at once).
    struct Inflight {
        var batch: [Pending]
        var spool = InflightSpool.none
        /// How the write ended while the spooler was appending the batch's copy (the entry stays
        /// until the spooler is done with it).
        var succeeded: Bool?
        /// Its events are only in memory: not spooled, not (yet) in the sink.
        var inMemory: Bool {
            if case .appended = spool { return false }
            return succeeded != true
        }
    }

    struct State {
        /// Events only in memory (in neither the sink nor the spool), in order.
        var queue: [Pending] = []
        var head = 0
        /// The batches being written directly to the sink, by number (in the order taken).
        var inflight: [Int: Inflight] = [:]
        var nextBatch = 0
        /// Direct writes running.
        var writesRunning = 0
        var sinkOpen = false
        var failures = 0
        /// No new write before this (backoff after a failure).
        var retryAt: ContinuousClock.Instant?
        /// Records of direct batches that the sink took after they were spooled: the write loop
        /// confirms them (only a range at the head of the spool moves it).
        var confirmAfterAppend: [(range: Range<Int64>, generation: UInt64, events: Int)] = []
        /// Bumped at every change the write loop may act on (see ``takeWakes()``).
        var version = 0
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
        /// A request is writing its own event (``InlineEventSink``); others queue meanwhile.
        var inlineBusy = false
        var healthy = true
        var lastError: String?
        var memoryCount: Int { queue.count - head }
        /// Events held in memory only.
        var count: Int {
            memoryCount + spoolerHolds + inflight.values.reduce(0) { $0 + ($1.inMemory ? $1.batch.count : 0) }
        }

        mutating func takeWakes() -> [CheckedContinuation<Void, Never>] {
            version &+= 1
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
    /// The sink, if a request may write its event itself when the writer is idle.
    let inlineSink: (any InlineEventSink)?
    /// The disk spool, for sinks that can be down for a while (PostgreSQL, webhooks); nil for local files.
    public let spool: EventSpool?
    public let acknowledgementTimeout: Duration
    public let queueLimit: Int
    public let maximumBatch: Int
    public let shutdownFlushLimit: Duration
    /// Direct writes in flight at once: 1 keeps the sink's calls one at a time (SQLite, JSON Lines,
    /// webhooks: in order); PostgreSQL takes several (one per pooled connection), so that a batch's
    /// round trip and commit overlap the next one's.
    public let maximumConcurrentWrites: Int
    /// Events per spool append, at most.
    let spoolChunk = 10_000
    /// The spool's own I/O thread (appends with their fsync, replay reads, confirmations): never
    /// queued behind other work on NIO's shared pool (SQLite's), and never in its way.
    let spoolIO: NIOThreadPool?
    let metrics: ServerMetrics
    let logger: Logger
    private let state = Mutex(State())

    public init(sink: any EventSink, metrics: ServerMetrics, logger: Logger,
                acknowledgementTimeout: Duration = .milliseconds(100), queueLimit: Int = 100_000,
                maximumBatch: Int = 5_000, shutdownFlushLimit: Duration = .seconds(10), spool: EventSpool? = nil,
                maximumConcurrentWrites: Int = 1) {
        self.sink = sink
        // Not with a spool: there the writer decides between the sink and the spool.
        self.inlineSink = spool == nil ? sink as? any InlineEventSink : nil
        self.metrics = metrics
        self.logger = logger
        self.acknowledgementTimeout = acknowledgementTimeout
        self.queueLimit = queueLimit
        self.maximumBatch = maximumBatch
        self.shutdownFlushLimit = shutdownFlushLimit
        self.spool = spool
        self.spoolIO = spool == nil ? nil : NIOThreadPool(numberOfThreads: 1)
        self.maximumConcurrentWrites = max(1, maximumConcurrentWrites)
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
        if let inlineSink, writeInline(event, to: inlineSink) { return .written }
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

    /// Writes `event` on the caller's task when the writer is idle (the sink open and healthy,
    /// nothing queued, no backoff, not stopping, no other inline write): the fast path of a local
    /// file sink. Returns false, having written nothing or a line the writer will write again, when
    /// the event must go through the writer.
    func writeInline(_ event: TrackingEvent, to sink: any InlineEventSink) -> Bool {
        let mayWrite = state.withLock { s -> Bool in
            guard s.sinkOpen, s.healthy, s.failures == 0, !s.inlineBusy, !s.stopping, !s.stopped,
                  s.memoryCount == 0, s.writesRunning == 0 else { return false }
            s.inlineBusy = true
            return true
        }
        guard mayWrite else { return false }
        let started = ContinuousClock.now
        var written = true
        do {
            try sink.writeNow(event)
        } catch {
            written = false   // the writer takes it, and meets (and reports) the failure itself
        }
        let duration = ContinuousClock.now - started
        let wakes = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.inlineBusy = false
            return s.memoryCount > 0 ? s.takeWakes() : []
        }
        for w in wakes { w.resume() }
        if written { metrics.sinkWrite(sink: self.sink.name, duration: duration, event: event) }
        return written
    }

    /// Runs `body` on the spool's I/O thread.
    func onSpoolThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        guard let spoolIO else { throw SpoolError.io("use a spool (none configured)", EINVAL) }
        return try await spoolIO.runIfActive(body)
    }

    public func run() async {
        spoolIO?.start()
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
        // A request that began an inline write before the stop finishes it before the file closes
        // (a write(2) on a local file: microseconds).
        while state.withLock({ $0.inlineBusy }) { try? await Task.sleep(for: .milliseconds(1)) }
        await sink.close()
        if let spool { try? await onSpoolThread { spool.close() } }
        try? await spoolIO?.shutdownGracefully()
    }

    func openSpool(_ spool: EventSpool) async {
        do {
            let recovery = try await onSpoolThread { try spool.open() }
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
        /// The first events are copies of batches in flight to the sink: their numbers and sizes, in order.
        var batches: [(id: Int, count: Int)]
        var inflightCount: Int { batches.reduce(0) { $0 + $1.count } }
    }

    /// While spooling, appends whatever is in memory to the spool (group commit) and acknowledges it.
    func spoolLoop(_ spool: EventSpool) async {
        var failures = 0
        while let work = await nextSpoolWork() {
            let events = work.pending.map(\.event)
            do {
                let appended = try await onSpoolThread { try spool.append(events) }
                failures = 0
                let (resumed, wakes) = state.withLock { s -> ([CheckedContinuation<WriteAcknowledgement, Never>], [CheckedContinuation<Void, Never>]) in
                    s.spoolerBusy = false
                    s.spoolerHolds = 0
                    s.spoolFailure = nil
                    var offset = 0
                    for (id, n) in work.batches {
                        let lower = offset == 0 ? appended.range.lowerBound : appended.ends[offset - 1]
                        let range = lower..<appended.ends[offset + n - 1]
                        offset += n
                        guard var entry = s.inflight[id] else { continue }
                        switch entry.succeeded {
                        case true?:
                            s.confirmAfterAppend.append((range, appended.generation, n))
                            s.inflight[id] = nil
                        case false?:
                            s.inflight[id] = nil   // its events are in the spool now
                        case nil:
                            entry.spool = .appended(range, generation: appended.generation)
                            s.inflight[id] = entry
                        }
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
                    var offset = 0
                    for (id, n) in work.batches {
                        let part = work.pending[offset..<(offset + n)]
                        offset += n
                        guard var entry = s.inflight[id] else { continue }
                        switch entry.succeeded {
                        case true?: s.inflight[id] = nil            // in the sink
                        case false?: back += part; s.inflight[id] = nil
                        case nil:
                            entry.spool = .none                     // the write loop handles its outcome
                            s.inflight[id] = entry
                        }
                    }
                    back += work.pending[offset...]
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
                var batches: [(id: Int, count: Int)] = []
                for id in s.inflight.keys.sorted() {
                    guard var entry = s.inflight[id], case .none = entry.spool, entry.succeeded == nil else { continue }
                    pending += entry.batch
                    batches.append((id, entry.batch.count))
                    entry.spool = .appending
                    s.inflight[id] = entry
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
                return SpoolWork(pending: pending, batches: batches)
            }
            if let work { return work }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { s -> Bool in
                        if Task.isCancelled { return true }
                        if s.spooling && !s.spoolerBusy && (s.memoryCount > 0 || s.inflight.values.contains {
                            if case .none = $0.spool { return $0.succeeded == nil }
                            return false
                        }) {
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
        case open
        case direct(Int, [Pending])
        case replay
        case pause(Duration)
        case finished
    }

    /// Chooses what to do next, and does it: opens the sink, starts direct writes (up to
    /// `maximumConcurrentWrites` at once, each in a child task that records its own outcome),
    /// replays the spool (alone), or stops.
    func writeLoop() async {
        var stopDeadline: ContinuousClock.Instant?
        // The spool first (a spool left by a previous run is replayed), while the expiry and the
        // spooler already run: requests are answered within their bound meanwhile.
        if let spool { await openSpool(spool) }
        // Open the sink before the first event needs it (the first request would otherwise wait for
        // it within its acknowledgement bound: SQLite creates the file, WAL and schema; PostgreSQL
        // connects and migrates); a failure here is retried by the first write. A local sink that
        // cannot be opened shows in /ready from the start.
        do {
            try await sink.open()
            state.withLock { $0.sinkOpen = true }
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
        await withDiscardingTaskGroup { group in
            loop: while true {
                if let spool {
                    let confirms = state.withLock { s -> [(range: Range<Int64>, generation: UInt64, events: Int)] in
                        let c = s.confirmAfterAppend
                        s.confirmAfterAppend = []
                        return c
                    }
                    if !confirms.isEmpty {
                        for c in confirms.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
                            try? await onSpoolThread {
                                try spool.confirm(c.range, generation: c.generation, events: c.events)
                            }
                        }
                        metrics.spoolBytes(sink: sink.name, bytes: spool.status.pendingBytes)
                    }
                }
                switch await nextStep(&stopDeadline) {
                case .finished:
                    break loop
                case .pause(let duration):
                    try? await Task.sleep(for: duration)
                case .open:
                    do {
                        try await sink.open()
                        state.withLock { $0.sinkOpen = true }
                    } catch {
                        failed(error)
                    }
                case .replay:
                    guard let spool else { continue }
                    do {
                        try await replayOnce(spool)
                    } catch let error as SpoolError {
                        await spoolReadFailed(spool, error)
                    } catch {
                        failed(error)
                    }
                case .direct(let id, let batch):
                    group.addTask { await self.writeDirectly(id, batch) }
                }
            }
        }
        state.withLock { $0.stopped = true }
    }

    /// One direct write; records its outcome (acknowledgements, the spool's copy, a failure).
    func writeDirectly(_ id: Int, _ batch: [Pending]) async {
        do {
            let started = ContinuousClock.now
            try await sink.write(batch.map(\.event))
            metrics.sinkWrite(sink: sink.name, duration: ContinuousClock.now - started, events: batch)
            let (resumed, wakes) = state.withLock { s -> ([CheckedContinuation<WriteAcknowledgement, Never>], [CheckedContinuation<Void, Never>]) in
                var out: [CheckedContinuation<WriteAcknowledgement, Never>] = []
                for p in batch { if let id = p.waiter, let c = s.waiters.removeValue(forKey: id) { out.append(c) } }
                if var entry = s.inflight[id] {
                    switch entry.spool {
                    case .none:
                        s.inflight[id] = nil
                    case .appending:
                        entry.succeeded = true
                        s.inflight[id] = entry
                    case .appended(let range, let generation):
                        s.confirmAfterAppend.append((range, generation, batch.count))
                        s.inflight[id] = nil
                    }
                }
                s.writesRunning -= 1
                s.failures = 0
                if !s.healthy { s.healthy = true; s.lastError = nil }
                return (out, s.takeWakes())
            }
            for c in resumed { c.resume(returning: .written) }
            for w in wakes { w.resume() }
            metrics.queueDepth(sink: sink.name, depth: queueDepth)
        } catch {
            state.withLock { s in
                if var entry = s.inflight[id] {
                    switch entry.spool {
                    case .none:
                        s.requeue(batch)
                        s.inflight[id] = nil
                    case .appending:
                        entry.succeeded = false
                        s.inflight[id] = entry
                    case .appended:
                        s.inflight[id] = nil
                    }
                }
                s.writesRunning -= 1
            }
            failed(error)
        }
    }

    /// A failed open, write or replay: the sink is opened again before the next attempt, after a
    /// backoff; with a spool, what is in memory goes to the spool meanwhile.
    func failed(_ error: any Error) {
        let wakes = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.sinkOpen = false
            s.failures += 1
            s.retryAt = ContinuousClock.now + jittered(s.failures, cap: .seconds(2))
            if spool != nil { s.spooling = true }
            return s.takeWakes()
        }
        for w in wakes { w.resume() }
        writeFailed(error, spooled: spool != nil)
    }

    /// Feeds the oldest spooled events to the sink and confirms them.
    func replayOnce(_ spool: EventSpool) async throws {
        // While new events go directly to the sink, replay in smaller pieces, so that they do not
        // wait long behind it.
        let batchSize = state.withLock { $0.spooling } ? maximumBatch : min(maximumBatch, 500)
        let read = try await onSpoolThread { try spool.read(maximumEvents: batchSize) }
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
        try await onSpoolThread {
            try spool.confirm(read.range, generation: read.generation, events: count)
        }
        metrics.eventsReplayed(sink: sink.name, count: read.events.count)
        metrics.spoolBytes(sink: sink.name, bytes: spool.status.pendingBytes)
        let recovered = state.withLock { s -> Bool in
            let was = s.healthy
            s.healthy = true
            s.lastError = nil
            s.failures = 0
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
        let lost = (try? await onSpoolThread { try spool.discardUnconfirmed() }) ?? 0
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
            let spoolStatus = spool?.status
            let pendingBytes = spoolStatus?.pendingBytes ?? 0
            let pendingEvents = spoolStatus?.pendingEvents ?? 0
            let now = ContinuousClock.now
            let stoppingNow = state.withLock { $0.stopping }
            if stoppingNow, stopDeadline == nil { stopDeadline = now + shutdownFlushLimit }
            let pastDeadline = stopDeadline.map { now >= $0 } ?? false
            let hasSpool = spool != nil
            let limit = maximumConcurrentWrites
            let (step, lost, wakes, seen) = state.withLock { s -> (Step?, [Pending], [CheckedContinuation<Void, Never>], Int) in
                let idle = s.writesRunning == 0
                if s.stopping {
                    // Never wait for a dead sink at shutdown when a spool can keep the events.
                    if hasSpool && (!s.healthy || pastDeadline) {
                        var wakes: [CheckedContinuation<Void, Never>] = []
                        if !s.spooling {
                            s.spooling = true
                            wakes = s.takeWakes()
                        }
                        if s.count == 0 && !s.spoolerBusy && s.inflight.isEmpty && idle { return (.finished, [], wakes, s.version) }
                        if pastDeadline && s.spoolFailure != nil && !s.spoolerBusy && idle {
                            let rest = Array(s.queue[s.head...])
                            s.head = s.queue.count
                            s.stopped = true
                            return (.finished, rest, wakes, s.version)
                        }
                        return (.pause(.milliseconds(10)), [], wakes, s.version)
                    }
                    if !hasSpool && pastDeadline && !s.healthy && idle {
                        let rest = Array(s.queue[s.head...])
                        s.head = s.queue.count
                        s.stopped = true
                        return (.finished, rest, [], s.version)
                    }
                }
                if !s.confirmAfterAppend.isEmpty { return (.pause(.zero), [], [], s.version) }
                if let retryAt = s.retryAt, now < retryAt, idle {
                    return (.pause(min(retryAt - now, .milliseconds(50))), [], [], s.version)
                }
                if s.spooling && !s.spoolerBusy && idle && s.inflight.isEmpty && !s.stopping
                    && (pendingBytes == 0 || (s.healthy && pendingEvents <= maximumBatch)) {
                    // The spool is drained, or the sink takes writes again and what is left of the spool
                    // is one replay: new events go directly to the sink again (under a steady load the
                    // spool would otherwise never quite empty, and every event would take the detour).
                    s.spooling = false
                    s.version &+= 1
                }
                if pendingBytes > 0 {
                    guard idle else { return (nil, [], [], s.version) }
                    return (s.sinkOpen ? .replay : .open, [], [], s.version)
                }
                if !s.spooling && s.memoryCount > 0 && s.writesRunning < limit && (s.retryAt.map { now >= $0 } ?? true) {
                    guard s.sinkOpen else { return (idle ? .open : nil, [], [], s.version) }
                    let end = min(s.queue.count, s.head + maximumBatch)
                    let batch = Array(s.queue[s.head..<end])
                    s.head = end
                    s.compactQueue()
                    let id = s.nextBatch
                    s.nextBatch += 1
                    s.inflight[id] = Inflight(batch: batch)
                    s.writesRunning += 1
                    return (.direct(id, batch), [], [], s.version)
                }
                if s.stopping && s.count == 0 && !s.spoolerBusy && idle && s.inflight.isEmpty { return (.finished, [], [], s.version) }
                // While stopping, look again every 10 ms (the flush deadline passes without any event).
                if s.stopping { return (.pause(.milliseconds(10)), [], [], s.version) }
                return (nil, [], [], s.version)
            }
            for w in wakes { w.resume() }
            if !lost.isEmpty { loseAtShutdown(lost) }
            if let step { return step }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { s -> Bool in
                        if s.stopping || s.version != seen { return true }
                        s.wake = c
                        return false
                    }
                    if resumeNow { c.resume() }
                }
            } onCancel: {
                // (Also when the task was cancelled before the wait began: the body then sees `stopping`.)
                let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
                    s.stopping = true
                    s.version &+= 1
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
