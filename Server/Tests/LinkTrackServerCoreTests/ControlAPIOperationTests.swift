#if canImport(Glibc)
import Glibc
#endif
import LinkTrack
@testable import LinkTrackServerCore
import Testing

@Suite("Control API: configuration sets")
struct ControlAPIConfigurationSetTests {
    @Test func createThenGetReturnsSESShape() async throws {
        let h = try ControlAPIHarness()
        let created = await h.send("POST", "/v2/email/configuration-sets", """
            {"ConfigurationSetName": "news", "TrackingOptions": {"CustomRedirectDomain": "t.example.org", "HttpsPolicy": "REQUIRE_OPEN_ONLY"}, \
            "Tags": [{"Key": "team", "Value": "growth"}], "SendingOptions": {"SendingEnabled": true}, \
            "DeliveryOptions": {"TlsPolicy": "REQUIRE"}}
            """)
        expectOK(created)
        #expect(created.bodyText == "{}")
        #expect(created.header("x-amzn-RequestId")?.count == 36)
        #expect(h.changeCount == 1)

        let got = await h.send("GET", "/v2/email/configuration-sets/news")
        expectOK(got)
        #expect(got.bodyText == #"{"ConfigurationSetName":"news","TrackingOptions":{"CustomRedirectDomain":"t.example.org","HttpsPolicy":"REQUIRE_OPEN_ONLY"},"Tags":[{"Key":"team","Value":"growth"}],"SendingOptions":{"SendingEnabled":true},"DeliveryOptions":{"TlsPolicy":"REQUIRE"}}"#)

        // The file holds the new set after the old one, and the library reads it.
        let configuration = try Configuration(json: Array(h.fileText.utf8))
        #expect(configuration.configurationSets.map(\.name) == ["marketing", "news"])
        #expect(configuration.configurationSets[1].customRedirectDomain == "t.example.org")
        #expect(configuration.configurationSets[1].httpsPolicy == .requireOpenOnly)
        // Other top-level keys keep their order.
        #expect(h.document.objectMembers.map(\.key) == ["ConfigurationSets", "SigningKeys", "AccessKeys", "ControlAPIThrottle"])
    }

    @Test func createWithoutTrackingOptions() async throws {
        let h = try ControlAPIHarness()
        expectOK(await h.send("POST", "/v2/email/configuration-sets", #"{"ConfigurationSetName": "plain"}"#))
        let got = await h.send("GET", "/v2/email/configuration-sets/plain")
        #expect(got.bodyText == #"{"ConfigurationSetName":"plain"}"#)
    }

    @Test func duplicateCreateIsAlreadyExists() async throws {
        let h = try ControlAPIHarness()
        let before = h.fileText
        expectError(await h.send("POST", "/v2/email/configuration-sets", #"{"ConfigurationSetName": "marketing"}"#),
                    400, "AlreadyExistsException", "Configuration set marketing already exists.")
        #expect(h.fileText == before)
        #expect(h.changeCount == 0)
    }

    @Test(arguments: [
        (#"{"ConfigurationSetName": "bad name"}"#, #"Invalid ConfigurationSetName value "bad name": use 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'."#),
        (#"{"ConfigurationSetName": "x", "TrackingOptions": {"CustomRedirectDomain": "https://t.example.org"}}"#,
         #"Invalid CustomRedirectDomain value "https://t.example.org": it contains a scheme; give the host name only."#),
        (#"{"ConfigurationSetName": "x", "TrackingOptions": {"CustomRedirectDomain": "t.example.org", "HttpsPolicy": "BOGUS"}}"#,
         #"Invalid HttpsPolicy value "BOGUS": expected one of REQUIRE, REQUIRE_OPEN_ONLY, OPTIONAL."#),
        (#"{"ConfigurationSetName": "x", "Bogus": 1}"#, #"Unknown key "Bogus" in the CreateConfigurationSet request."#),
        (#"{"TrackingOptions": {}}"#, "ConfigurationSetName is required."),
        (#"{"ConfigurationSetName": 7}"#, "Invalid type for ConfigurationSetName: expected string, found number."),
        ("[1]", "The CreateConfigurationSet request body must be a JSON object."),
    ])
    func createValidation(_ body: String, _ message: String) async throws {
        let h = try ControlAPIHarness()
        let before = h.fileText
        expectError(await h.send("POST", "/v2/email/configuration-sets", body), 400, "BadRequestException", message)
        #expect(h.fileText == before)
    }

    @Test func getUnknownIsNotFound() async throws {
        let h = try ControlAPIHarness()
        expectError(await h.send("GET", "/v2/email/configuration-sets/nope"), 404, "NotFoundException",
                    "Configuration set nope does not exist.")
    }

    @Test func listPagesWithStableTokens() async throws {
        let h = try ControlAPIHarness()
        for name in ["delta", "alpha", "echo", "charlie", "bravo"] {
            expectOK(await h.send("POST", "/v2/email/configuration-sets", #"{"ConfigurationSetName": "\#(name)"}"#))
        }
        let all = await h.send("GET", "/v2/email/configuration-sets")
        expectOK(all)
        #expect(names(all.json["ConfigurationSets"]) == ["alpha", "bravo", "charlie", "delta", "echo", "marketing"])
        #expect(all.json["NextToken"] == nil)

        var collected: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let target = "/v2/email/configuration-sets?PageSize=2" + (token.map { "&NextToken=\($0)" } ?? "")
            let page = await h.send("GET", target)
            expectOK(page)
            collected += names(page.json["ConfigurationSets"])
            if case .string(let t)? = page.json["NextToken"] { token = t } else { token = nil }
            pages += 1
        } while token != nil && pages < 10
        #expect(collected == ["alpha", "bravo", "charlie", "delta", "echo", "marketing"])
        #expect(pages == 3)

        // Same request, same token; the token still works after the set it names is deleted.
        let first = await h.send("GET", "/v2/email/configuration-sets?PageSize=2")
        let again = await h.send("GET", "/v2/email/configuration-sets?PageSize=2")
        #expect(first.json["NextToken"] != nil)
        #expect(first.bodyText == again.bodyText)
        guard case .string(let t)? = first.json["NextToken"] else { return }
        #expect(ControlAPIJSON.fromBase64URL(t) == "bravo")
        expectOK(await h.send("DELETE", "/v2/email/configuration-sets/bravo"))
        let next = await h.send("GET", "/v2/email/configuration-sets?PageSize=2&NextToken=\(t)")
        #expect(names(next.json["ConfigurationSets"]) == ["charlie", "delta"])
    }

    @Test(arguments: ["PageSize=0", "PageSize=abc", "PageSize=1001", "NextToken=%25%25", "NextToken=A"])
    func listRefusesBadParameters(_ query: String) async throws {
        let h = try ControlAPIHarness()
        expectError(await h.send("GET", "/v2/email/configuration-sets?\(query)"), 400, "BadRequestException")
    }

    @Test func deleteRemovesOnlyThatSet() async throws {
        let h = try ControlAPIHarness()
        expectOK(await h.send("POST", "/v2/email/configuration-sets", #"{"ConfigurationSetName": "gone"}"#))
        let deleted = await h.send("DELETE", "/v2/email/configuration-sets/gone")
        expectOK(deleted)
        #expect(deleted.bodyText == "{}")
        expectError(await h.send("GET", "/v2/email/configuration-sets/gone"), 404, "NotFoundException")
        expectError(await h.send("DELETE", "/v2/email/configuration-sets/gone"), 404, "NotFoundException",
                    "Configuration set gone does not exist.")
        #expect(try Configuration(json: Array(h.fileText.utf8)).configurationSets.map(\.name) == ["marketing"])
    }

    @Test func deletingTheDefaultSetIsRefused() async throws {
        let h = try ControlAPIHarness(configuration: ControlAPIHarness.baseConfiguration.replacing(
            "\"SigningKeys\"", with: "\"DefaultConfigurationSet\": \"marketing\", \"SigningKeys\""))
        let before = h.fileText
        expectError(await h.send("DELETE", "/v2/email/configuration-sets/marketing"), 400, "BadRequestException")
        #expect(h.fileText == before)
    }

    @Test func limitOnConfigurationSets() async throws {
        var limits = ControlAPILimits()
        limits.maximumConfigurationSets = 2
        let h = try ControlAPIHarness(limits: limits)
        expectOK(await h.send("POST", "/v2/email/configuration-sets", #"{"ConfigurationSetName": "second"}"#))
        expectError(await h.send("POST", "/v2/email/configuration-sets", #"{"ConfigurationSetName": "third"}"#),
                    400, "LimitExceededException", "You have reached the maximum number of configuration sets (2).")
    }
}

@Suite("Control API: PutConfigurationSetTrackingOptions")
struct ControlAPITrackingOptionsTests {
    @Test func replacesExactlyWhatIsSent() async throws {
        let h = try ControlAPIHarness()
        expectOK(await h.send("PUT", "/v2/email/configuration-sets/marketing/tracking-options",
                              #"{"CustomRedirectDomain": "click.example.net", "HttpsPolicy": "OPTIONAL"}"#))
        var set = try Configuration(json: Array(h.fileText.utf8)).configurationSet(named: "marketing")
        #expect(set.customRedirectDomain == "click.example.net")
        #expect(set.httpsPolicy == .optional)

        // An omitted field is removed (PUT semantics), as the CLI command does.
        expectOK(await h.send("PUT", "/v2/email/configuration-sets/marketing/tracking-options", #"{"CustomRedirectDomain": "c2.example.net"}"#))
        let got = await h.send("GET", "/v2/email/configuration-sets/marketing")
        #expect(got.bodyText == #"{"ConfigurationSetName":"marketing","TrackingOptions":{"CustomRedirectDomain":"c2.example.net"}}"#)
        set = try Configuration(json: Array(h.fileText.utf8)).configurationSet(named: "marketing")
        #expect(set.httpsPolicy == .optional)
        #expect(h.changeCount == 2)
    }

    @Test func sameOptionsWriteNothing() async throws {
        let h = try ControlAPIHarness()
        expectOK(await h.send("PUT", "/v2/email/configuration-sets/marketing/tracking-options",
                              #"{"CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE"}"#))
        #expect(h.changeCount == 0)
    }

    @Test func unknownSetIsNotFound() async throws {
        let h = try ControlAPIHarness()
        expectError(await h.send("PUT", "/v2/email/configuration-sets/nope/tracking-options", #"{"CustomRedirectDomain": "c.example.net"}"#),
                    404, "NotFoundException", "Configuration set nope does not exist.")
    }

    /// botocore encodes a path parameter once: `x/y` arrives as `x%2Fy`, one segment.
    @Test func encodedSlashIsOneSegment() async throws {
        let h = try ControlAPIHarness()
        expectError(await h.send("PUT", "/v2/email/configuration-sets/x%2Fy/tracking-options", "{}"),
                    404, "NotFoundException", "Configuration set x/y does not exist.")
        expectError(await h.send("PUT", "/v2/email/configuration-sets/x/y/tracking-options", "{}"),
                    404, "UnknownOperationException")
    }

    @Test(arguments: [
        (#"{"CustomRedirectDomain": "c.example.net", "HttpsPolicy": "BOGUS"}"#,
         #"Invalid HttpsPolicy value "BOGUS": expected one of REQUIRE, REQUIRE_OPEN_ONLY, OPTIONAL."#),
        (#"{"CustomRedirectDomain": "bad domain.example"}"#, #"Invalid CustomRedirectDomain value "bad domain.example": it contains a space."#),
        (#"{"CustomRedirectDomain": "c.example.net:8080"}"#, #"Invalid CustomRedirectDomain value "c.example.net:8080": it contains a port; give the host name only."#),
        (#"{"CustomRedirectDomain": 5}"#, "Invalid type for CustomRedirectDomain: expected string, found number."),
        ("{not json", nil),
    ])
    func badOptionsAreBadRequest(_ body: String, _ message: String?) async throws {
        let h = try ControlAPIHarness()
        let before = h.fileText
        expectError(await h.send("PUT", "/v2/email/configuration-sets/marketing/tracking-options", body), 400, "BadRequestException", message)
        #expect(h.fileText == before)
        #expect(h.changeCount == 0)
    }
}

@Suite("Control API: event destinations")
struct ControlAPIEventDestinationTests {
    let base = "/v2/email/configuration-sets/marketing/event-destinations"

    @Test func createGetUpdateDelete() async throws {
        let h = try ControlAPIHarness()
        expectOK(await h.send("POST", base, #"{"EventDestinationName": "tracking", "EventDestination": {"Enabled": true, "MatchingEventTypes": ["OPEN", "CLICK"]}}"#))
        var set = try Configuration(json: Array(h.fileText.utf8)).configurationSet(named: "marketing")
        #expect(set.tracksOpens && set.tracksClicks)

        let got = await h.send("GET", base)
        expectOK(got)
        #expect(got.bodyText == #"{"EventDestinations":[{"Name":"tracking","Enabled":true,"MatchingEventTypes":["OPEN","CLICK"]}]}"#)

        // Clicks only.
        expectOK(await h.send("PUT", base + "/tracking", #"{"EventDestination": {"Enabled": true, "MatchingEventTypes": ["CLICK"]}}"#))
        set = try Configuration(json: Array(h.fileText.utf8)).configurationSet(named: "marketing")
        #expect(!set.tracksOpens && set.tracksClicks)

        expectOK(await h.send("DELETE", base + "/tracking"))
        let empty = await h.send("GET", base)
        #expect(empty.bodyText == #"{"EventDestinations":[]}"#)
        set = try Configuration(json: Array(h.fileText.utf8)).configurationSet(named: "marketing")
        #expect(!set.tracksOpens && !set.tracksClicks)
        // EventDestinations sits after TrackingOptions.
        guard case .array(let sets)? = h.document["ConfigurationSets"] else { Issue.record("no sets"); return }
        #expect(sets[0].objectMembers.map(\.key) == ["ConfigurationSetName", "TrackingOptions", "EventDestinations"])
    }

    @Test func setWithoutDestinationsListsNone() async throws {
        let h = try ControlAPIHarness()
        #expect(await h.send("GET", base).bodyText == #"{"EventDestinations":[]}"#)
    }

    @Test func updateKeepsTheLinkTrackDestination() async throws {
        let h = try ControlAPIHarness(configuration: ControlAPIHarness.baseConfiguration.replacing(
            #""HttpsPolicy": "REQUIRE"}}"#,
            with: #""HttpsPolicy": "REQUIRE"}, "EventDestinations": [{"Name": "lines", "Enabled": true, "MatchingEventTypes": ["CLICK"], "LinkTrackDestination": {"Type": "JSONLines", "Path": "/var/log/clicks.jsonl"}}]}"#))
        expectOK(await h.send("PUT", base + "/lines", #"{"EventDestination": {"Enabled": false, "MatchingEventTypes": ["CLICK", "OPEN"]}}"#))
        let set = try Configuration(json: Array(h.fileText.utf8)).configurationSet(named: "marketing")
        #expect(set.eventDestinations == [EventDestination(name: "lines", enabled: false, matchingEventTypes: ["CLICK", "OPEN"],
                                                           linkTrackDestination: .jsonLines(path: "/var/log/clicks.jsonl"))])
    }

    @Test func errors() async throws {
        let h = try ControlAPIHarness()
        let create = #"{"EventDestinationName": "d", "EventDestination": {"Enabled": true, "MatchingEventTypes": ["OPEN"]}}"#
        expectOK(await h.send("POST", base, create))
        expectError(await h.send("POST", base, create), 400, "AlreadyExistsException",
                    "Event destination d already exists in configuration set marketing.")
        expectError(await h.send("POST", "/v2/email/configuration-sets/nope/event-destinations", create), 404, "NotFoundException",
                    "Configuration set nope does not exist.")
        expectError(await h.send("GET", "/v2/email/configuration-sets/nope/event-destinations"), 404, "NotFoundException")
        expectError(await h.send("PUT", base + "/other", #"{"EventDestination": {"MatchingEventTypes": ["OPEN"]}}"#), 404, "NotFoundException",
                    "Event destination other does not exist in configuration set marketing.")
        expectError(await h.send("DELETE", base + "/other"), 404, "NotFoundException")
        expectError(await h.send("POST", base, #"{"EventDestinationName": "e", "EventDestination": {"Enabled": true, "MatchingEventTypes": ["OPENED"]}}"#),
                    400, "BadRequestException", #"Invalid MatchingEventTypes value "OPENED" in ConfigurationSets[0].EventDestinations[1]."#)
        expectError(await h.send("POST", base, #"{"EventDestinationName": "bad name", "EventDestination": {"MatchingEventTypes": ["OPEN"]}}"#),
                    400, "BadRequestException")
        expectError(await h.send("POST", base, #"{"EventDestinationName": "e", "EventDestination": {"Enabled": true}}"#),
                    400, "BadRequestException", "EventDestination.MatchingEventTypes is required.")
        expectError(await h.send("POST", base, #"{"EventDestinationName": "e", "EventDestination": {"Name": "x", "MatchingEventTypes": []}}"#),
                    400, "BadRequestException", #"Unknown key "Name" in EventDestination."#)
        expectError(await h.send("POST", base, #"{"EventDestinationName": "e"}"#), 400, "BadRequestException", "EventDestination is required.")
        #expect(h.changeCount == 1)
    }

    @Test func limitOnDestinations() async throws {
        var limits = ControlAPILimits()
        limits.maximumEventDestinations = 2
        let h = try ControlAPIHarness(limits: limits)
        for name in ["a", "b"] {
            expectOK(await h.send("POST", base, #"{"EventDestinationName": "\#(name)", "EventDestination": {"MatchingEventTypes": ["OPEN"]}}"#))
        }
        expectError(await h.send("POST", base, #"{"EventDestinationName": "c", "EventDestination": {"MatchingEventTypes": ["OPEN"]}}"#),
                    400, "LimitExceededException")
    }
}

@Suite("Control API: routing")
struct ControlAPIRoutingTests {
    @Test(arguments: [
        ("GET", "/v2/email/configuration-sets", ControlAPIRoute.listConfigurationSets),
        ("POST", "/v2/email/configuration-sets", .createConfigurationSet),
        ("GET", "/v2/email/configuration-sets/a-b_c", .getConfigurationSet(name: "a-b_c")),
        ("DELETE", "/v2/email/configuration-sets/x%2Fy", .deleteConfigurationSet(name: "x/y")),
        ("PUT", "/v2/email/configuration-sets/s/tracking-options", .putConfigurationSetTrackingOptions(name: "s")),
        ("POST", "/v2/email/configuration-sets/s/event-destinations", .createEventDestination(set: "s")),
        ("GET", "/v2/email/configuration-sets/s/event-destinations", .getEventDestinations(set: "s")),
        ("PUT", "/v2/email/configuration-sets/s/event-destinations/d%20e", .updateEventDestination(set: "s", destination: "d e")),
        ("DELETE", "/v2/email/configuration-sets/s/event-destinations/d", .deleteEventDestination(set: "s", destination: "d")),
    ])
    func routes(_ method: String, _ path: String, _ route: ControlAPIRoute) throws {
        #expect(try ControlAPIRoute(method: method, rawPath: path) == route)
    }

    @Test(arguments: [
        ("PUT", "/v2/email/configuration-sets"),
        ("GET", "/v2/email/configuration-sets/"),
        ("GET", "/v2/email/identities"),
        ("PATCH", "/v2/email/configuration-sets/s"),
        ("GET", "/v2/email/configuration-sets/s/tracking-options"),
        ("POST", "/v2/email/configuration-sets/s/event-destinations/d"),
        ("GET", "/health"),
    ])
    func unknownOperations(_ method: String, _ path: String) async throws {
        let h = try ControlAPIHarness()
        expectError(await h.send(method, path, method == "GET" ? nil : "{}"), 404, "UnknownOperationException")
    }

    @Test func badPercentEncodingIsBadRequest() async throws {
        let h = try ControlAPIHarness()
        expectError(await h.send("GET", "/v2/email/configuration-sets/a%zz"), 400, "BadRequestException")
        expectError(await h.send("GET", "/v2/email/configuration-sets/%FF"), 400, "BadRequestException")
    }

    @Test func pagingTokensRoundTrip() {
        for text in ["a", "ab", "abc", "abcd", "marketing-2026_x", String(repeating: "z", count: 64)] {
            let token = ControlAPIJSON.base64URL(text)
            #expect(!token.contains("=") && !token.contains("+") && !token.contains("/"))
            #expect(ControlAPIJSON.fromBase64URL(token) == text)
        }
        #expect(ControlAPIJSON.base64URL("marketing") == "bWFya2V0aW5n")
        #expect(ControlAPIJSON.fromBase64URL("bWFya2V0aW5n") == "marketing")
        #expect(ControlAPIJSON.fromBase64URL("b") == nil)
        #expect(ControlAPIJSON.fromBase64URL("bW=") == nil)
    }
}
