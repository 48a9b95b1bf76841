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
        counter("linktrack_requests_total", [("kind", kind), ("configuration_set", set), ("outcome", outcome)]).increment()
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
        let timer = timers.withLock { t in
            if let existing = t[sink] { return existing }
            let made = Timer(label: "linktrack_sink_write_seconds", dimensions: [("sink", sink)], factory: factory)
            t[sink] = made
            return made
        }
        timer.recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        var byKey: [String: (EventKind, String, Int)] = [:]
        for p in events {
            let key = p.event.kind.rawValue + "|" + p.event.configurationSet
            byKey[key, default: (p.event.kind, p.event.configurationSet, 0)].2 += 1
        }
        for (_, (kind, set, n)) in byKey {
            counter("linktrack_events_total", [("kind", kind.rawValue.lowercased()), ("configuration_set", set), ("sink", sink)])
                .increment(by: n)
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
