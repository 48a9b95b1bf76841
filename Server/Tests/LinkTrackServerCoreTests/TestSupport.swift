import LinkTrack
@testable import LinkTrackServerCore

enum Fixture {
    static func secret(_ seed: UInt8) -> String {
        Base64Text.encode((0..<32).map { UInt8(truncatingIfNeeded: Int(seed) &* 31 &+ $0 &* 7) })
    }

    /// Sets: marketing (links.example.com, both kinds to SQLite), lines (t.example.net, clicks to JSON
    /// Lines only), quiet (quiet.example.org, no destination enabled), shared (links.example.com too).
    static func json(keys: [String] = ["k1"], extra: String = "") -> String {
        """
        {"ConfigurationSets": [
          {"ConfigurationSetName": "marketing", "TrackingOptions": {"CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE"}},
          {"ConfigurationSetName": "lines", "TrackingOptions": {"CustomRedirectDomain": "t.example.net"},
           "EventDestinations": [{"Name": "j", "Enabled": true, "MatchingEventTypes": ["CLICK"], "LinkTrackDestination": {"Type": "JSONLines", "Path": "events/x.jsonl"}},
                                 {"Name": "s", "Enabled": true, "MatchingEventTypes": ["CLICK", "OPEN"]},
                                 {"Name": "off", "Enabled": false, "MatchingEventTypes": ["OPEN"], "LinkTrackDestination": {"Type": "JSONLines", "Path": "events/off.jsonl"}}]},
          {"ConfigurationSetName": "quiet", "TrackingOptions": {"CustomRedirectDomain": "quiet.example.org"},
           "EventDestinations": [{"Name": "d", "Enabled": false, "MatchingEventTypes": ["CLICK", "OPEN"]}]},
          {"ConfigurationSetName": "shared", "TrackingOptions": {"CustomRedirectDomain": "Links.Example.com"}}
        ],
        "SigningKeys": [\(keys.enumerated().map { "{\"KeyId\": \"\($0.element)\", \"Secret\": \"\(secret(seed(of: $0.element)))\"}" }.joined(separator: ","))]\(extra)}
        """
    }

    /// Each key id has its own secret, wherever it stands in the list.
    static func seed(of keyId: String) -> UInt8 { keyId.utf8.reduce(0, &+) }

    static func configuration(keys: [String] = ["k1"], extra: String = "") throws -> ServerConfiguration {
        try ServerConfiguration(json: Array(json(keys: keys, extra: extra).utf8))
    }

    /// The signer of a configuration with these keys (the first signs).
    static func signer(_ keyIds: [String]) throws -> LinkSigner {
        try configuration(keys: keyIds).signer!
    }

    /// The request target (path and query) of a URL.
    static func target(_ url: String) -> String {
        let afterScheme = url.range(of: "://")!.upperBound
        return String(url[url[afterScheme...].firstIndex(of: "/")!...])
    }
}
