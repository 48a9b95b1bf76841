#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The two clocks the control API reads, injectable for tests.
public struct ControlAPIClock: Sendable {
    /// Wall-clock seconds since the Unix epoch: the SigV4 skew window.
    public var epochSeconds: @Sendable () -> Double
    /// Seconds on a monotonic clock: the throttle's token buckets.
    public var monotonicSeconds: @Sendable () -> Double

    public init(epochSeconds: @escaping @Sendable () -> Double, monotonicSeconds: @escaping @Sendable () -> Double) {
        self.epochSeconds = epochSeconds
        self.monotonicSeconds = monotonicSeconds
    }

    /// `CLOCK_REALTIME` and `CLOCK_MONOTONIC`.
    public static let system = ControlAPIClock(
        epochSeconds: { read(CLOCK_REALTIME) },
        monotonicSeconds: { read(CLOCK_MONOTONIC) })

    private static func read(_ clock: clockid_t) -> Double {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// One token bucket per access key: a key may send `burst` requests at once, then
/// `requestsPerSecond` on average. A bucket starts full.
public struct TokenBuckets: Sendable {
    struct Bucket: Sendable {
        var tokens: Double
        var updated: Double
    }

    private var buckets: [String: Bucket] = [:]

    public init() {}

    /// Takes one token from `key`'s bucket as of `now` (monotonic seconds).
    /// - Returns: whether there was a token, that is whether the request may be served.
    public mutating func take(key: String, now: Double, requestsPerSecond: Double, burst: Double) -> Bool {
        var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
        let elapsed = max(0, now - bucket.updated)
        bucket.tokens = min(burst, bucket.tokens + elapsed * requestsPerSecond)
        bucket.updated = now
        let allowed = bucket.tokens >= 1
        if allowed { bucket.tokens -= 1 }
        buckets[key] = bucket
        return allowed
    }

    /// Forgets the buckets of keys no longer configured.
    public mutating func keep(only keys: some Sequence<String>) {
        let kept = Set(keys)
        buckets = buckets.filter { kept.contains($0.key) }
    }
}
