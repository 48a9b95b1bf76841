import Foundation
import LinkTrack
import Testing
@testable import LinkTrackServerCore

struct TrackingEventTests {
    func parse(_ json: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func clickHasSESShape() throws {
        let event = TrackingEvent(eventId: "e-1", kind: .click, timestampMilliseconds: 1_764_749_702_123,
                                  configurationSet: "marketing", messageId: "m\"1@x",
                                  messageTags: [Tag(name: "campaign", value: "dec"), Tag(name: "campaign", value: "b2"), Tag(name: "team", value: "x")],
                                  ipAddress: "203.0.113.5", userAgent: "Mozilla/5.0 (X11)", link: "https://example.org/ä?a=1&b=2",
                                  linkIndex: 3, linkTags: [Tag(name: "button", value: "buy")], machineReasons: [.linkScanner])
        let json = try parse(event.sesJSON)
        #expect(json["eventType"] as? String == "Click")
        let mail = try #require(json["mail"] as? [String: Any])
        #expect(mail["messageId"] as? String == "m\"1@x")
        let tags = try #require(mail["tags"] as? [String: [String]])
        #expect(tags == ["ses:configuration-set": ["marketing"], "campaign": ["dec", "b2"], "team": ["x"]])
        #expect(mail["source"] == nil && mail["destination"] == nil && mail["timestamp"] == nil && mail["sendingAccountId"] == nil)
        let click = try #require(json["click"] as? [String: Any])
        #expect(click["timestamp"] as? String == "2025-12-03T08:15:02.123Z")
        #expect(click["ipAddress"] as? String == "203.0.113.5")
        #expect(click["userAgent"] as? String == "Mozilla/5.0 (X11)")
        #expect(click["link"] as? String == "https://example.org/ä?a=1&b=2")
        #expect(click["linkTags"] as? [String: [String]] == ["button": ["buy"]])
        #expect(json["open"] == nil)
        let ours = try #require(json["linkTrack"] as? [String: Any])
        #expect(ours["eventId"] as? String == "e-1")
        #expect(ours["linkIndex"] as? Int == 3)
        #expect(ours["machine"] as? Bool == true)
        #expect(ours["machineReasons"] as? [String] == ["link-scanner"])
        #expect(Set(json.keys) == ["eventType", "mail", "click", "linkTrack"])
        #expect(!event.sesJSON.contains("\n"))
    }

    @Test func openHasSESShape() throws {
        let event = TrackingEvent(kind: .open, timestampMilliseconds: 0, configurationSet: "s", messageId: "m",
                                  messageTags: [], ipAddress: "::1", userAgent: nil)
        let json = try parse(event.sesJSON)
        #expect(json["eventType"] as? String == "Open")
        let open = try #require(json["open"] as? [String: Any])
        #expect(Set(open.keys) == ["timestamp", "ipAddress", "userAgent"])
        #expect(open["timestamp"] as? String == "1970-01-01T00:00:00.000Z")
        let ours = try #require(json["linkTrack"] as? [String: Any])
        #expect(ours["linkIndex"] == nil)
        #expect(ours["machine"] as? Bool == false)
        #expect(UUID(uuidString: event.eventId) != nil)
        #expect(event.eventId != TrackingEvent(kind: .open, timestampMilliseconds: 0, configurationSet: "s", messageId: "m",
                                               messageTags: [], ipAddress: "", userAgent: nil).eventId)
    }

    @Test func timestampsRoundTrip() {
        for ms: Int64 in [0, 1, 999, 951_782_400_000 /* 2000-02-29 */, 1_764_749_702_123, 4_102_444_799_999, -1] {
            let text = TrackingEvent.iso8601(milliseconds: ms)
            #expect(TrackingEvent.parseISO8601(text) == ms, "\(ms) → \(text)")
        }
        #expect(TrackingEvent.iso8601(milliseconds: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(TrackingEvent.parseISO8601("2026-12-01") == 1_796_083_200_000)
        #expect(TrackingEvent.parseISO8601("2026-12-01T08:00:00Z") == 1_796_112_000_000)
        #expect(TrackingEvent.parseISO8601("2026-12-01T09:00:00+01:00") == 1_796_112_000_000)
        #expect(TrackingEvent.parseISO8601("yesterday") == nil)
    }

    @Test func storedEventReadsBackTheJSON() throws {
        let event = TrackingEvent(eventId: "e-9", kind: .click, timestampMilliseconds: 1_764_749_702_123, configurationSet: "m",
                                  messageId: "id", messageTags: [], ipAddress: "1.2.3.4", userAgent: nil,
                                  link: "https://x.example/", linkIndex: 7, machineReasons: [.missingUserAgent])
        let stored = try #require(StoredEvent(sesJSON: try JSONValue.parse(Array(event.sesJSON.utf8))))
        #expect(stored == StoredEvent(event))
        #expect(StoredEvent(sesJSON: try JSONValue.parse(Array("{\"eventType\": \"Bounce\"}".utf8))) == nil)
    }
}

struct MachineRulesTests {
    let rules = MachineRules()

    @Test(arguments: [
        ("Mozilla/5.0", "203.0.113.1", [MachineReason.appleMailPrivacyProtection]),
        ("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15", "17.58.101.7", [.appleMailPrivacyProtection]),
        ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "66.249.1.1", [.googleImageProxy]),
        ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", "98.1.1.1", [.yahooImageProxy]),
        ("Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", "203.0.113.1", []),
    ])
    func opens(_ row: (String, String, [MachineReason])) {
        #expect(rules.openReasons(ipAddress: IPAddress(row.1), userAgent: row.0) == row.2, "\(row.0)")
    }

    @Test(arguments: [
        (nil as String?, [MachineReason.missingUserAgent]), ("", [.missingUserAgent]), ("  ", [.missingUserAgent]),
        ("python-requests/2.31", [.linkScanner]), ("curl/8.1", [.linkScanner]), ("Googlebot/2.1", [.linkScanner]),
        ("Mozilla/5.0 (compatible; Barracuda Sentinel)", [.linkScanner]), ("Go-http-client/1.1", [.linkScanner]),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537.36", []),
    ])
    func clicks(_ row: (String?, [MachineReason])) {
        #expect(rules.clickReasons(userAgent: row.0) == row.1, "\(String(describing: row.0))")
    }

    @Test func burstOfDistinctLinksWithinTwoSeconds() {
        let d = ClickBurstDetector()
        #expect(!d.record(messageId: "m", linkIndex: 0, atMilliseconds: 10_000))
        #expect(!d.record(messageId: "m", linkIndex: 0, atMilliseconds: 10_100))   // same link again
        #expect(!d.record(messageId: "m", linkIndex: 1, atMilliseconds: 10_200))
        #expect(d.record(messageId: "m", linkIndex: 2, atMilliseconds: 10_300))     // third distinct link
        #expect(d.record(messageId: "m", linkIndex: 3, atMilliseconds: 10_400))
        // Other messages are independent, and clicks spread over time are a reader's.
        #expect(!d.record(messageId: "n", linkIndex: 9, atMilliseconds: 10_400))
        #expect(!d.record(messageId: "p", linkIndex: 0, atMilliseconds: 20_000))
        #expect(!d.record(messageId: "p", linkIndex: 1, atMilliseconds: 21_500))
        #expect(!d.record(messageId: "p", linkIndex: 2, atMilliseconds: 23_600))
    }

    @Test func burstCountsDistinctLinksAmongManyRepeatedClicks() {
        let d = ClickBurstDetector()
        // Sixty clicks that alternate between two links are no burst; a third link makes one.
        for i in 0..<60 { #expect(!d.record(messageId: "m", linkIndex: i % 2, atMilliseconds: 5_000 + Int64(i))) }
        #expect(d.record(messageId: "m", linkIndex: 7, atMilliseconds: 5_100))
        // The count stops at the rule's threshold, which is all the caller compares.
        var entry = ClickBurstDetector.Entry(links: [], lastSeen: 0)
        var counts: [Int] = []
        for link in [4, 4, 5, 6, 7, 8] {
            counts.append(ClickBurstDetector.update(&entry, linkIndex: link, now: 9_000, windowStart: 7_000, countingUpTo: 3))
        }
        #expect(counts == [1, 1, 2, 3, 3, 3])
    }

    @Test func burstAgreesWithCountingEveryClickInTheWindow() {
        // Against the rule read literally: every click of the message kept, the distinct links among
        // those within the window counted. Deterministic pseudo-random clicks on three messages, with
        // pauses longer and shorter than the window and runs of one link longer than any cap.
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: UInt64) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % n)
        }
        let d = ClickBurstDetector()
        var clicks: [String: [(link: Int, at: Int64)]] = [:]
        var now: Int64 = 50_000
        for step in 0..<5_000 {
            now += Int64([0, 10, 300, 900, 2_500][next(5)])
            let message = ["a", "b", "c"][next(3)]
            let link = step % 500 < 100 ? 0 : next(6)   // long runs of one link now and then
            clicks[message, default: []].append((link, now))
            let inWindow = Set(clicks[message]!.filter { $0.at >= now - MachineRules.burstWindowMilliseconds }.map(\.link))
            #expect(d.record(messageId: message, linkIndex: link, atMilliseconds: now) == (inWindow.count >= MachineRules.burstLinks),
                    "step \(step)")
        }
    }

    @Test func burstMemoryIsBounded() {
        let d = ClickBurstDetector(capacity: 100)
        for i in 0..<10_000 { _ = d.record(messageId: "m\(i)", linkIndex: 0, atMilliseconds: 1_000) }
        // Still correct for a new message after the flood.
        #expect(!d.record(messageId: "x", linkIndex: 0, atMilliseconds: 1_001))
        #expect(!d.record(messageId: "x", linkIndex: 1, atMilliseconds: 1_002))
        #expect(d.record(messageId: "x", linkIndex: 2, atMilliseconds: 1_003))
    }
}

struct EventReportTests {
    func event(_ id: String, _ kind: EventKind, set: String = "a", message: String, link: Int? = nil,
               at: Int64 = 1_000, machine: Bool = false) -> StoredEvent {
        StoredEvent(eventId: id, kind: kind, configurationSet: set, messageId: message, linkIndex: link,
                    link: link.map { "https://x.example/\($0)" }, timestampMilliseconds: at, isMachine: machine)
    }

    @Test func countsUniquesTopLinksAndDuplicates() {
        var b = EventReportBuilder()
        for e in [
            event("1", .open, message: "m1"), event("2", .open, message: "m1"), event("3", .open, message: "m2", machine: true),
            event("4", .click, message: "m1", link: 0), event("5", .click, message: "m1", link: 0),
            event("6", .click, message: "m2", link: 0), event("7", .click, message: "m2", link: 1, machine: true),
            event("7", .click, message: "m2", link: 1, machine: true),   // the same event from a second store
            event("8", .click, set: "b", message: "m3", link: 5),
        ] { b.add(e) }
        let reports = b.reports(including: ["a", "b", "c"])
        #expect(reports.map(\.configurationSetName) == ["a", "b", "c"])
        let a = reports[0]
        #expect(a.opens == 3 && a.uniqueOpens == 2 && a.machineOpens == 1)
        #expect(a.clicks == 4 && a.uniqueClicks == 3 && a.machineClicks == 1)
        #expect(a.topLinks.map(\.link) == ["https://x.example/0", "https://x.example/1"])
        #expect(a.topLinks.map(\.clicks) == [3, 1])
        #expect(reports[2] == SetReport(configurationSetName: "c"))
        let json = EventReportBuilder.json(reports)
        #expect(json.contains("{\"ConfigurationSetName\": \"a\", \"Opens\": 3, \"UniqueOpens\": 2, \"Clicks\": 4, \"UniqueClicks\": 3, \"MachineOpens\": 1, \"MachineClicks\": 1, \"TopLinks\": [{\"Link\": \"https://x.example/0\", \"Clicks\": 3}, {\"Link\": \"https://x.example/1\", \"Clicks\": 1}]}"))
        #expect(EventReportBuilder.text(reports).contains("  unique clicks    3\n"))
    }

    @Test func sinceAndSetFilter() {
        var b = EventReportBuilder(since: 2_000, configurationSet: "a")
        b.add(event("1", .open, message: "m1", at: 1_999))
        b.add(event("2", .open, message: "m1", at: 2_000))
        b.add(event("3", .open, set: "b", message: "m1", at: 3_000))
        let reports = b.reports(including: ["a", "b"])
        #expect(reports.count == 1)
        #expect(reports[0].opens == 1)
    }
}

struct JSONBytesTests {
    /// Every string field is escaped as JSON requires: a parser gives back exactly the value.
    @Test func escapingRoundTrips() throws {
        let awkward = "q\"b\\s/\n\r\t\u{0}\u{1F}\u{7F}é😀</script>"
        let event = TrackingEvent(eventId: awkward, kind: .click, timestampMilliseconds: 5, configurationSet: "s",
                                  messageId: awkward, messageTags: [Tag(name: awkward, value: awkward)], ipAddress: "::1",
                                  userAgent: awkward, link: awkward, linkIndex: 0, linkTags: [Tag(name: "k", value: awkward)])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(event.sesJSON.utf8)) as? [String: Any])
        let click = try #require(parsed["click"] as? [String: Any])
        #expect(click["userAgent"] as? String == awkward)
        #expect(click["link"] as? String == awkward)
        #expect((click["linkTags"] as? [String: [String]])?["k"] == [awkward])
        #expect((parsed["mail"] as? [String: Any])?["messageId"] as? String == awkward)
        #expect(((parsed["mail"] as? [String: Any])?["tags"] as? [String: [String]])?[awkward] == [awkward])
        #expect((parsed["linkTrack"] as? [String: Any])?["eventId"] as? String == awkward)
        #expect(!event.sesJSON.utf8.contains(0x0A))
    }

    @Test func byteSearchMatchesStringSearch() {
        for (haystack, needle) in [("abc", "bc"), ("abc", "abcd"), ("aab", "ab"), ("", "a"), ("xcurl/7", "curl/"), ("cur", "curl/")] {
            #expect(MachineRules.contains(Array(haystack.utf8), Array(needle.utf8)) == haystack.contains(needle), "\(haystack) \(needle)")
        }
    }
}
