import Synchronization

/// The rules that flag an open or click as a machine's. Flagged events are recorded like any other,
/// with `linkTrack.machine` true and the reasons; nothing is dropped. The rules, in order:
///
/// Opens:
/// - ``MachineReason/appleMailPrivacyProtection``: the client address is in 17.0.0.0/8 (Apple's
///   network, from which Mail Privacy Protection fetches) or the user agent is exactly `Mozilla/5.0`
///   (the bare agent MPP's fetcher sends; no browser sends it bare).
/// - ``MachineReason/googleImageProxy``: the user agent contains `GoogleImageProxy`.
/// - ``MachineReason/yahooImageProxy``: the user agent contains `YahooMailProxy`.
///
/// Clicks:
/// - ``MachineReason/missingUserAgent``: no `User-Agent` header, or an empty one.
/// - ``MachineReason/linkScanner``: the user agent contains (case-insensitively) one of
///   ``scannerAgentWords``: crawlers, security gateways that follow links before the reader does,
///   and HTTP libraries no reader clicks with.
/// - ``MachineReason/clickBurst``: with this click, ``burstLinks`` or more distinct links of the same
///   message were clicked within ``burstWindow`` (by anyone). The click that completes the burst and
///   those after it are flagged; the earlier ones were already recorded as they looked then.
public struct MachineRules: Sendable {
    public static let appleNetwork = IPAddressRange("17.0.0.0/8")!
    public static let scannerAgentWords: [String] = [
        "bot", "spider", "crawl", "scanner", "slurp", "preview", "python-requests", "python-urllib", "curl/",
        "wget", "go-http-client", "java/", "okhttp", "libwww", "httpclient", "headlesschrome", "phantomjs",
        "barracuda", "mimecast", "proofpoint", "safelinks", "symantec", "trendmicro", "fortiguard",
        "sophos", "zscaler", "paloalto", "checkpoint", "cisco",
    ]
    /// ``scannerAgentWords`` as bytes: the rule is a byte search over the ASCII-lowercased user
    /// agent (the words are ASCII), no Unicode or Foundation string search.
    static let scannerAgentWordBytes: [[UInt8]] = scannerAgentWords.map { Array($0.utf8) }
    /// The words by their first byte: one pass over the agent tries, at each position, only the
    /// words that start with the byte found there.
    static let scannerWordsByFirstByte: [[[UInt8]]] = {
        var table = [[[UInt8]]](repeating: [], count: 256)
        for word in scannerAgentWordBytes { table[Int(word[0])].append(word) }
        return table
    }()

    /// Whether the ASCII-lowercased `agent` contains one of ``scannerAgentWords``.
    static func containsScannerWord(_ agent: UnsafeBufferPointer<UInt8>) -> Bool {
        let table = scannerWordsByFirstByte
        for i in 0..<agent.count {
            let candidates = table[Int(lowercased(agent[i]))]
            if candidates.isEmpty { continue }
            for word in candidates where agent.count - i >= word.count {
                var j = 1
                while j < word.count && lowercased(agent[i + j]) == word[j] { j += 1 }
                if j == word.count { return true }
            }
        }
        return false
    }

    @inline(__always) static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }

    /// Distinct links of one message within ``burstWindow`` that make a burst.
    public static let burstLinks = 3
    /// The burst window: 2 seconds.
    public static let burstWindowMilliseconds: Int64 = 2_000

    public init() {}

    /// The reasons an open looks automated; empty for a reader's.
    public func openReasons(ipAddress: IPAddress?, userAgent: String?) -> [MachineReason] {
        var reasons: [MachineReason] = []
        if userAgent == "Mozilla/5.0" || ipAddress.map({ Self.appleNetwork.contains($0) }) == true {
            reasons.append(.appleMailPrivacyProtection)
        }
        if let userAgent {
            let bytes = Array(userAgent.utf8)
            if Self.contains(bytes, Array("GoogleImageProxy".utf8)) { reasons.append(.googleImageProxy) }
            if Self.contains(bytes, Array("YahooMailProxy".utf8)) { reasons.append(.yahooImageProxy) }
        }
        return reasons
    }

    /// The reasons a click looks automated, apart from the burst rule (see ``ClickBurstDetector``).
    public func clickReasons(userAgent: String?) -> [MachineReason] {
        guard var userAgent, !userAgent.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { return [.missingUserAgent] }
        return userAgent.withUTF8(Self.containsScannerWord) ? [.linkScanner] : []
    }
}

/// Remembers, per message, which links were clicked in the last ``MachineRules/burstWindowMilliseconds``,
/// to apply the burst rule. Bounded: at most `capacity` messages are remembered (the oldest are
/// forgotten first), so a flood of distinct message ids costs bounded memory.
public final class ClickBurstDetector: Sendable {
    struct Entry {
        /// The message's most recently clicked distinct links, each with the time of its latest
        /// click: at most ``MachineRules/burstLinks`` of them, which is all the rule needs (there
        /// are that many distinct links clicked in the window exactly when the most recent that
        /// many all were).
        var links: [(linkIndex: Int, at: Int64)]
        var lastSeen: Int64
    }
    struct State {
        var entries: [String: Entry] = [:]
        var order: [(String, Int64)] = []
        var orderStart = 0
    }
    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int = 100_000) { self.capacity = capacity }

    /// Records a click and says whether it completes (or extends) a burst.
    public func record(messageId: String, linkIndex: Int, atMilliseconds now: Int64) -> Bool {
        state.withLock { s in
            let windowStart = now - MachineRules.burstWindowMilliseconds
            // In place (no copy of the entry's clicks): the entry is mutated inside the dictionary.
            let distinct = Self.update(&s.entries[messageId, default: Entry(links: [], lastSeen: now)],
                                       linkIndex: linkIndex, now: now, windowStart: windowStart,
                                       countingUpTo: MachineRules.burstLinks)
            s.order.append((messageId, now))
            // Forget messages not seen within the window, and the oldest beyond capacity.
            while s.orderStart < s.order.count {
                let (id, at) = s.order[s.orderStart]
                let stale = at < windowStart || s.entries.count > capacity
                guard stale else { break }
                if let e = s.entries[id], e.lastSeen == at { s.entries[id] = nil }
                s.orderStart += 1
            }
            if s.orderStart > 4096, s.orderStart * 2 > s.order.count {
                s.order.removeFirst(s.orderStart)
                s.orderStart = 0
            }
            return distinct >= MachineRules.burstLinks
        }
    }

    /// Adds a click to `entry` and returns how many distinct links of the message were clicked in
    /// the window, counted up to `limit` (the caller compares the count with
    /// ``MachineRules/burstLinks`` only). The entry keeps the `limit` most recently clicked distinct
    /// links with their latest clicks: a new link replaces the one clicked longest ago. Constant
    /// work per click, however many clicks the message gets.
    static func update(_ entry: inout Entry, linkIndex: Int, now: Int64, windowStart: Int64, countingUpTo limit: Int) -> Int {
        entry.lastSeen = now
        if let i = entry.links.firstIndex(where: { $0.linkIndex == linkIndex }) {
            entry.links[i].at = max(entry.links[i].at, now)
        } else if entry.links.count < limit {
            if entry.links.isEmpty { entry.links.reserveCapacity(limit) }
            entry.links.append((linkIndex, now))
        } else if limit > 0 {
            var oldest = 0
            for i in entry.links.indices where entry.links[i].at < entry.links[oldest].at { oldest = i }
            entry.links[oldest] = (linkIndex, now)
        }
        var distinct = 0
        for link in entry.links where link.at >= windowStart { distinct += 1 }
        return distinct
    }
}
