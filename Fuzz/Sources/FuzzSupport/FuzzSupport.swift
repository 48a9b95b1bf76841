import LinkTrack
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What both fuzz targets share: one configuration, built once, and the way a violation is reported.
public enum Fuzz {
    /// The configuration sets of `Corpus/config.json` (so the seeds' `X-SES-CONFIGURATION-SET`
    /// headers keep their meaning): one per HttpsPolicy, clicks only, opens only, and no domain,
    /// with a 32-byte key of its own.
    public static let configurationJSON = """
        {
          "ConfigurationSets": [
            {"ConfigurationSetName": "marketing",
             "TrackingOptions": {"CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE"}},
            {"ConfigurationSetName": "optional",
             "TrackingOptions": {"CustomRedirectDomain": "track.example.net", "HttpsPolicy": "OPTIONAL"}},
            {"ConfigurationSetName": "openonly",
             "TrackingOptions": {"CustomRedirectDomain": "t.example.org", "HttpsPolicy": "REQUIRE_OPEN_ONLY"}},
            {"ConfigurationSetName": "clicks-only",
             "TrackingOptions": {"CustomRedirectDomain": "links.example.com"},
             "EventDestinations": [{"Name": "c", "Enabled": true, "MatchingEventTypes": ["CLICK"]}]},
            {"ConfigurationSetName": "opens-only",
             "TrackingOptions": {"CustomRedirectDomain": "links.example.com"},
             "EventDestinations": [{"Name": "o", "Enabled": true, "MatchingEventTypes": ["OPEN"]}]},
            {"ConfigurationSetName": "no-domain"}
          ],
          "DefaultConfigurationSet": "marketing",
          "SigningKeys": [{"KeyId": "fuzz1", "Secret": "bGlua3RyYWNrLWZ1enota2V5LTAxMjM0NTY3ODlhYmM="}]
        }
        """

    public static let configuration: Configuration = {
        do {
            return try Configuration(json: Array(configurationJSON.utf8), environment: { _ in nil }, readFile: { _ in [] })
        } catch {
            fail("the fuzz configuration is invalid: \(error)")
        }
    }()

    /// FNV-1a of the input: picks the configuration set, the options and the chunk split points, so
    /// that each input always takes the same path (libFuzzer needs deterministic targets).
    public static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// `FUZZ_ONLY`: when set, only a violation whose report contains this text aborts; any other one
    /// is ignored. For `run.sh --minimize`, so that shrinking keeps the violation it started from
    /// instead of drifting to another one.
    static let only: String? = getenv("FUZZ_ONLY").map { String(cString: $0) }

    /// Reports a violation on stderr and aborts, so that libFuzzer saves the input as a crash
    /// (unless `FUZZ_ONLY` filters it out: then it returns, and the target goes on).
    public static func violation(_ message: String, details: [String] = []) {
        var text = "==LinkTrack fuzz violation== \(message)\n"
        for line in details { text += "  - \(line)\n" }
        if let only, !only.isEmpty, !text.contains(only) { return }
        write(text)
        abort()
    }

    /// Reports a failure that leaves nothing to fuzz (a bad configuration) and aborts.
    public static func fail(_ message: String) -> Never {
        write("==LinkTrack fuzz setup failed== \(message)\n")
        abort()
    }

    static func write(_ text: String) {
        // write(2) rather than stderr, which Swift 6 cannot name (shared mutable state).
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes = bytes.dropFirst(n)
        }
    }
}
