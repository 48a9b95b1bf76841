import CoreMetrics
import LinkTrackServerCore
import Synchronization

/// The server's metrics, through one `MetricsFactory` (Prometheus in the executable, a fresh
/// registry per test). Names (Prometheus form):
/// - `linktrack_requests_total{kind, configuration_set, outcome}`: `kind` click|open|other,
///   `outcome` redirect|pixel|refused|not_found|method_not_allowed;
/// - `linktrack_bad_tokens_total{kind, reason}` (reasons: ``BadTokenReason``);
/// - `linktrack_events_total{kind, configuration_set, sink}`: events written;
/// - `linktrack_events_deferred_total{sink}`: answered before the sink took the event;
/// - `linktrack_events_lost_total{sink}`;
/// - `linktrack_sink_write_seconds{sink}` (histogram), `linktrack_sink_failures_total{sink}`;
/// - `linktrack_event_queue_depth{sink}`;
/// - `linktrack_configuration_reloads_total{result}`.
///
/// Set names in labels come from the configuration only (a request cannot create a series).
public final class ServerMetrics: Sendable {
    let factory: any MetricsFactory
    private let counters = Mutex<[String: Counter]>([:])
    private let gauges = Mutex<[String: Gauge]>([:])
    private let timers = Mutex<[String: Timer]>([:])
    /// `linktrack_requests_total` by its labels: looked up per request, so keyed by the labels
    /// themselves rather than by a string built for each lookup.
    private let requestCounters = Mutex<[RequestKey: Counter]>([:])
    private let eventCounters = Mutex<[EventKey: Counter]>([:])

    struct RequestKey: Hashable {
        var kind: String
        var set: String
        var outcome: String
    }

    public init(factory: any MetricsFactory) { self.factory = factory }

    func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return counters.withLock { c in
            if let existing = c[key] { return existing }
            let made = Counter(label: label, dimensions: dimensions, factory: factory)
            c[key] = made
            return made
        }
    }

    public func request(kind: String, set: String, outcome: String) {
        let key = RequestKey(kind: kind, set: set, outcome: outcome)
        let counter = requestCounters.withLock { c in
            if let existing = c[key] { return existing }
            let made = self.counter("linktrack_requests_total", [("kind", kind), ("configuration_set", set), ("outcome", outcome)])
            c[key] = made
            return made
        }
        counter.increment()
    }

    public func badToken(kind: String, reason: BadTokenReason) {
        counter("linktrack_bad_tokens_total", [("kind", kind), ("reason", reason.rawValue)]).increment()
    }

    public func eventLost(sink: String) {
        counter("linktrack_events_lost_total", [("sink", sink)]).increment()
    }

    public func eventDeferred(sink: String) {
        counter("linktrack_events_deferred_total", [("sink", sink)]).increment()
    }

    public func sinkFailure(sink: String) {
        counter("linktrack_sink_failures_total", [("sink", sink)]).increment()
    }

    func sinkWrite(sink: String, duration: Duration, events: [EventWriter.Pending]) {
        sinkTimer(sink).recordNanoseconds(Self.nanoseconds(duration))
        var byKey: [EventKey: Int] = [:]
        for p in events {
            byKey[EventKey(kind: p.event.kind, set: p.event.configurationSet, sink: sink), default: 0] += 1
        }
        for (key, n) in byKey { eventCounter(key).increment(by: n) }
    }

    /// One event written by a request itself (``InlineEventSink``).
    func sinkWrite(sink: String, duration: Duration, event: TrackingEvent) {
        sinkTimer(sink).recordNanoseconds(Self.nanoseconds(duration))
        eventCounter(EventKey(kind: event.kind, set: event.configurationSet, sink: sink)).increment()
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    func sinkTimer(_ sink: String) -> Timer {
        timers.withLock { t in
            if let existing = t[sink] { return existing }
            let made = Timer(label: "linktrack_sink_write_seconds", dimensions: [("sink", sink)], factory: factory)
            t[sink] = made
            return made
        }
    }

    struct EventKey: Hashable {
        var kind: EventKind
        var set: String
        var sink: String
    }

    func eventCounter(_ key: EventKey) -> Counter {
        eventCounters.withLock { c in
            if let existing = c[key] { return existing }
            let made = counter("linktrack_events_total", [("kind", key.kind.rawValue.lowercased()),
                                                          ("configuration_set", key.set), ("sink", key.sink)])
            c[key] = made
            return made
        }
    }

    public func queueDepth(sink: String, depth: Int) {
        let gauge = gauges.withLock { g in
            if let existing = g[sink] { return existing }
            let made = Gauge(label: "linktrack_event_queue_depth", dimensions: [("sink", sink)], factory: factory)
            g[sink] = made
            return made
        }
        gauge.record(depth)
    }

    public func reload(succeeded: Bool) {
        counter("linktrack_configuration_reloads_total", [("result", succeeded ? "success" : "failure")]).increment()
    }
}
