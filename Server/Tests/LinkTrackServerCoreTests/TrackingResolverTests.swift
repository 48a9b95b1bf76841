import LinkTrack
import Testing
@testable import LinkTrackServerCore

struct TrackingResolverTests {
    static let destination = "https://example.org/a?x=1&y=2;z=3#frag"

    func clickURL(set: String = "marketing", domain: String = "links.example.com", keys: [String] = ["k1"],
                  destination: String = destination, index: Int = 4, messageId: String = "m1@example.com") throws -> String {
        let token = ClickToken(destination: destination, messageId: messageId, configurationSet: set, linkIndex: index,
                               linkTags: [Tag(name: "button", value: "buy")], messageTags: [Tag(name: "campaign", value: "dec")])
        return try #require(try Fixture.signer(keys).clickURL(token, scheme: .https, domain: domain))
    }

    func openURL(set: String = "marketing", domain: String = "links.example.com") throws -> String {
        try Fixture.signer(["k1"]).openURL(OpenToken(messageId: "m1@example.com", configurationSet: set), scheme: .https, domain: domain)
    }

    func request(_ url: String, host: String? = "links.example.com", head: Bool = false, get: Bool = true,
                 userAgent: String? = "Mozilla/5.0 (X11; Linux) Firefox/120", peer: String = "203.0.113.5",
                 now: Int64 = 1_780_000_000_000) -> TrackingRequest {
        TrackingRequest(isHead: head, isGetOrHead: head || get, host: host, target: Fixture.target(url),
                        peer: IPAddress(peer), userAgent: userAgent, nowMilliseconds: now)
    }

    func resolver(keys: [String] = ["k1"], extra: String = "") throws -> TrackingResolver {
        TrackingResolver(configuration: try Fixture.configuration(keys: keys, extra: extra), bursts: ClickBurstDetector())
    }

    @Test func clickRedirectsToTheExactDestinationAndRecords() throws {
        let outcome = try resolver().resolve(request(try clickURL()))
        guard case .redirect(let location, let event?, let sinks) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(location == Self.destination)
        #expect(sinks == [.sqlite])
        #expect(event.kind == .click)
        #expect(event.configurationSet == "marketing")
        #expect(event.messageId == "m1@example.com")
        #expect(event.linkIndex == 4)
        #expect(event.link == Self.destination)
        #expect(event.linkTags == [Tag(name: "button", value: "buy")])
        #expect(event.messageTags == [Tag(name: "campaign", value: "dec")])
        #expect(event.ipAddress == "203.0.113.5")
        #expect(event.timestampMilliseconds == 1_780_000_000_000)
        #expect(event.machineReasons.isEmpty)
    }

    @Test(arguments: [
        ("links.example.com", "links.example.com"),
        ("Links.Example.COM", "links.example.com"),
        ("links.example.com:8080", "links.example.com"),
        ("links.example.com.", "links.example.com"),
        ("LINKS.example.com.:443", "links.example.com"),
        ("[::1]:8080", "[::1]"),
        ("[2001:DB8::1]", "[2001:db8::1]"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("", ""),
    ])
    func normalizedHosts(_ row: (String, String)) {
        #expect(ServerConfiguration.normalizedHost(row.0) == row.1)
    }

    @Test func hostIsCaseInsensitiveAndPortIsStripped() throws {
        let r = try resolver()
        for host in ["LINKS.example.COM", "links.example.com:8080", "links.example.com."] {
            guard case .redirect = r.resolve(request(try clickURL(), host: host)) else {
                Issue.record("host \(host) refused")
                continue
            }
        }
    }

    @Test func wrongHostUnknownHostAndNoHostAre404() throws {
        let r = try resolver()
        #expect(r.resolve(request(try clickURL(), host: "evil.example.com")) == .notFound(.unknownHost))
        #expect(r.resolve(request(try clickURL(), host: nil)) == .notFound(.unknownHost))
        // A token of the set "lines" (t.example.net) presented on links.example.com.
        #expect(r.resolve(request(try clickURL(set: "lines", domain: "t.example.net"))) == .notFound(.wrongHost))
        // Another set sharing the domain is served on it.
        guard case .redirect = r.resolve(request(try clickURL(set: "shared"))) else {
            Issue.record("shared set refused")
            return
        }
        // A set that does not exist (signed with our key all the same).
        #expect(r.resolve(request(try clickURL(set: "gone"))) == .notFound(.wrongHost))
    }

    @Test func everySingleByteChangeIsRefused() throws {
        let r = try resolver()
        let url = try clickURL()
        let target = Array(Fixture.target(url).utf8)
        var refused = 0
        for i in 3..<target.count {   // after "/c/"
            for replacement in [UInt8(ascii: "A"), UInt8(ascii: "0"), UInt8(ascii: "%")] where target[i] != replacement {
                var changed = target
                changed[i] = replacement
                let outcome = r.resolve(TrackingRequest(isHead: false, host: "links.example.com",
                                                        target: String(decoding: changed, as: UTF8.self),
                                                        peer: nil, userAgent: "x", nowMilliseconds: 0))
                if case .redirect = outcome { Issue.record("accepted a change at \(i)") } else { refused += 1 }
            }
        }
        #expect(refused > 3 * 100)
    }

    @Test func badTokensAreNeverRedirects() throws {
        let r = try resolver()
        #expect(r.resolve(request("https://links.example.com/c/garbage?u=https://evil.example")) == .notFound(.malformed))
        #expect(r.resolve(request("https://links.example.com/elsewhere")) == .notFound(.malformed))
        #expect(r.resolve(request(try clickURL(keys: ["kX"]))) == .notFound(.unknownKey))
        let tampered = try clickURL().replacingOccurrences(of: "example.org/a", with: "evil.example/a")
        #expect(r.resolve(request(tampered)) == .notFound(.badSignature))
        // An open token on the click path, and a click token on the open path.
        let open = try openURL()
        #expect(r.resolve(request(open.replacingOccurrences(of: "/o/", with: "/c/"))) == .notFound(.badSignature))
        #expect(r.resolve(request(try clickURL().replacingOccurrences(of: "/c/", with: "/o/"))) == .pixelRefused(.badSignature))
    }

    @Test func rotationVerifiesWithEveryKey() throws {
        let r = try resolver(keys: ["k2", "k1"])
        guard case .redirect = r.resolve(request(try clickURL(keys: ["k1"]))) else {
            Issue.record("old key refused")
            return
        }
        #expect(try resolver(keys: ["k2"]).resolve(request(try clickURL(keys: ["k1"]))) == .notFound(.unknownKey))
    }

    @Test func headAndOtherMethods() throws {
        let r = try resolver()
        #expect(r.resolve(request(try clickURL(), head: true)) == .redirect(location: Self.destination, event: nil, sinks: []))
        #expect(r.resolve(request(try openURL(), head: true)) == .pixel(event: nil, sinks: []))
        #expect(r.resolve(request(try clickURL(), get: false)) == .methodNotAllowed)
    }

    @Test func opensAndRefusedOpens() throws {
        let r = try resolver()
        guard case .pixel(let event?, let sinks) = r.resolve(request(try openURL())) else {
            Issue.record("no open event")
            return
        }
        #expect(event.kind == .open && event.link == nil && event.linkIndex == nil)
        #expect(sinks == [.sqlite])
        #expect(r.resolve(request(try openURL() + "x")) == .pixelRefused(.badSignature))
        #expect(r.resolve(request(try openURL(), host: "nope.example")) == .pixelRefused(.unknownHost))
    }

    @Test func destinationsDecideTheSinks() throws {
        let r = try resolver()
        let lines = try clickURL(set: "lines", domain: "t.example.net")
        guard case .redirect(_, _?, let sinks) = r.resolve(request(lines, host: "t.example.net")) else {
            Issue.record("lines refused")
            return
        }
        #expect(sinks == [.jsonLines(path: "events/x.jsonl"), .sqlite])
        // Opens of "lines": only the SQLite destination (the JSON Lines one for opens is disabled).
        let open = try openURL(set: "lines", domain: "t.example.net")
        guard case .pixel(_?, let openSinks) = r.resolve(request(open, host: "t.example.net")) else {
            Issue.record("lines open refused")
            return
        }
        #expect(openSinks == [.sqlite])
        // A set whose destinations are all disabled still redirects, and records nothing.
        let quiet = try clickURL(set: "quiet", domain: "quiet.example.org")
        #expect(r.resolve(request(quiet, host: "quiet.example.org")) == .redirect(location: Self.destination, event: nil, sinks: []))
        #expect(r.configuration.allSinks == [.sqlite, .jsonLines(path: "events/x.jsonl")])
    }

    @Test func forwardedForIsBelievedOnlyFromTrustedProxies() throws {
        let r = try resolver(extra: ", \"TrustedProxies\": [\"127.0.0.2\"]")
        var req = request(try clickURL(), peer: "127.0.0.2")
        req.forwardedFor = ["198.51.100.7"]
        guard case .redirect(_, let event?, _) = r.resolve(req) else { Issue.record("refused"); return }
        #expect(event.ipAddress == "198.51.100.7")
        var direct = request(try clickURL(), peer: "127.0.0.1")
        direct.forwardedFor = ["198.51.100.7"]
        guard case .redirect(_, let event2?, _) = r.resolve(direct) else { Issue.record("refused"); return }
        #expect(event2.ipAddress == "127.0.0.1")
        #expect(throws: ConfigurationError.self) { try Fixture.configuration(extra: ", \"TrustedProxies\": [\"10.0.0.0/99\"]") }
    }

    @Test func unsafeDestinationsAreNotSent() throws {
        #expect(TrackingResolver.isSafeLocation("https://example.org/ä?q=1"))
        #expect(!TrackingResolver.isSafeLocation("https://example.org/a\r\nSet-Cookie: x"))
        #expect(!TrackingResolver.isSafeLocation("https://example.org/a b"))
        #expect(!TrackingResolver.isSafeLocation(""))
        // Every byte below 0x21 and DEL is refused, wherever it stands; every other byte is allowed.
        for byte in UInt8(0)...UInt8(0x7F) {
            let location = "https://example.org/" + String(decoding: [byte], as: UTF8.self) + "x"
            #expect(TrackingResolver.isSafeLocation(location) == (byte > 0x20 && byte != 0x7F), "byte \(byte)")
        }
        #expect(!TrackingResolver.isSafeLocation("\u{7F}https://example.org/"))
        #expect(!TrackingResolver.isSafeLocation("https://example.org/\t"))
    }
}
