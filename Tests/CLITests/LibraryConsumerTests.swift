import Foundation
import LinkTrack
import Testing
import TestSupport

/// The library as a program that depends on it sees it: only its public API (this file imports
/// `LinkTrack` without `@testable`, and this target declares no fixture initialisers of its own).
/// Issue 16, items 9 and 10.
@Suite("Library: configurations built in code are validated like files")
struct LibraryConfigurationTests {
    static let secret = Base64Text.encode((0..<32).map { UInt8($0 &* 7 &+ 3) })

    /// The error a configuration file with this one set gets.
    static func fileError(name: String, domain: String?) -> ConfigurationError? {
        let options = domain.map { ", \"TrackingOptions\": { \"CustomRedirectDomain\": \(JSONValue.quoted($0)) }" } ?? ""
        let text = "{ \"ConfigurationSets\": [ { \"ConfigurationSetName\": \(JSONValue.quoted(name))\(options) } ] }"
        do {
            _ = try Configuration(json: Array(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    static let invalidSets: [(name: String, domain: String?)] = [
        ("marketing", "https://links.example.com/"),
        ("marketing", "links.example.com/"),
        ("marketing", "links.example.com:8443"),
        ("marketing", ""),
        ("marketing", "links..example.com"),
        ("marketing", "-links.example.com"),
        ("marketing", "bücher.example"),
        ("marketing", "links example.com"),
        ("", "links.example.com"),
        ("mark.eting", "links.example.com"),
        (String(repeating: "m", count: 65), nil),
    ]

    /// Each value a file refuses is refused in code with the same exception and message.
    @Test(arguments: invalidSets.indices)
    func invalidSetIsRefusedWithTheFilesMessage(_ index: Int) throws {
        let (name, domain) = Self.invalidSets[index]
        let expected = try #require(Self.fileError(name: name, domain: domain), "the file path accepts \(name) \(domain ?? "nil")")
        #expect(throws: expected) { try ConfigurationSet(name: name, customRedirectDomain: domain) }
        #expect(throws: expected) {
            try ConfigurationSet(name: name, customRedirectDomain: domain, eventDestinations: [])
        }
    }

    @Test func theIssuesExampleNoLongerGivesHTTPSHTTPSLinks() {
        #expect(throws: ConfigurationError.badRequest(
            "Invalid CustomRedirectDomain value \"https://links.example.com/\": it contains a scheme; give the host name only.")) {
            try ConfigurationSet(name: "marketing", customRedirectDomain: "https://links.example.com/", httpsPolicy: .require)
        }
    }

    @Test func validSetsAreBuilt() throws {
        let set = try ConfigurationSet(name: "marketing", customRedirectDomain: "links.example.com", httpsPolicy: .require)
        #expect(set.name == "marketing" && set.customRedirectDomain == "links.example.com" && set.httpsPolicy == .require)
        #expect(set.tracksOpens && set.tracksClicks && set.tracksAnything)
        let plain = try ConfigurationSet(name: "receipts", customRedirectDomain: nil)
        #expect(!plain.tracksAnything)
    }

    /// Opens and clicks follow the enabled event destinations, as in a file; an unknown event type
    /// or a malformed sink is refused with the file's message.
    @Test func eventDestinationsDecideWhatIsTracked() throws {
        let clicks = try ConfigurationSet(name: "clicks", customRedirectDomain: "links.example.com", eventDestinations: [
            EventDestination(name: "c", enabled: true, matchingEventTypes: ["CLICK"]),
            EventDestination(name: "o", enabled: false, matchingEventTypes: ["OPEN"]),
        ])
        #expect(clicks.tracksClicks && !clicks.tracksOpens)
        let file = try Configuration(json: Array("""
            { "ConfigurationSets": [ { "ConfigurationSetName": "clicks",
                "TrackingOptions": { "CustomRedirectDomain": "links.example.com" },
                "EventDestinations": [ { "Name": "c", "Enabled": true, "MatchingEventTypes": ["CLICK"] },
                                       { "Name": "o", "Enabled": false, "MatchingEventTypes": ["OPEN"] } ] } ] }
            """.utf8))
        #expect(try file.configurationSet(named: "clicks") == clicks)
        #expect(throws: ConfigurationError.badRequest("Invalid MatchingEventTypes value \"OPENS\" in EventDestinations[0].")) {
            try ConfigurationSet(name: "x", customRedirectDomain: nil, eventDestinations: [
                EventDestination(name: "d", enabled: true, matchingEventTypes: ["OPENS"]),
            ])
        }
        #expect(throws: ConfigurationError.badRequest(
            "Invalid EventDestinations[0].LinkTrackDestination.Url value \"ftp://x\": expected an http or https URL.")) {
            try ConfigurationSet(name: "x", customRedirectDomain: nil, eventDestinations: [
                EventDestination(name: "d", enabled: true, matchingEventTypes: ["CLICK"],
                                 linkTrackDestination: .webhook(url: "ftp://x", secretFile: "/etc/s")),
            ])
        }
    }

    /// An unknown default set fails when the configuration is made, as a file's does, not when the
    /// first message arrives; so do a repeated set name and a repeated key id.
    @Test func configurationChecksItsParts() throws {
        let key = try SigningKey(keyId: "k2026", base64Secret: Self.secret)
        let marketing = try ConfigurationSet(name: "marketing", customRedirectDomain: "links.example.com")
        #expect(throws: ConfigurationError.notFound(configurationSet: "marketting")) {
            try Configuration(configurationSets: [marketing], defaultConfigurationSet: "marketting", signingKeys: [key])
        }
        #expect(throws: ConfigurationError.badRequest("ConfigurationSets[1]: the name \"marketing\" is used twice.")) {
            try Configuration(configurationSets: [marketing, marketing], signingKeys: [key])
        }
        #expect(throws: ConfigurationError.badRequest("SigningKeys[1]: the KeyId \"k2026\" is used twice.")) {
            try Configuration(configurationSets: [marketing], signingKeys: [key, key])
        }
        let configuration = try Configuration(configurationSets: [marketing], defaultConfigurationSet: "marketing",
                                              signingKeys: [key])
        #expect(configuration.defaultConfigurationSet == "marketing")
        #expect(try configuration.configurationSet(named: "marketing") == marketing)
    }

    /// `SigningKey(keyId:base64Secret:)` takes the `Secret` that `linktrack keygen` prints, and a
    /// link signed with it decodes with the same entry in a configuration file.
    @Test func signingKeyFromKeygenOutput() throws {
        let printed = try LinkTrackCLI.run(["keygen", "--key-id", "k2027"])
        #expect(printed.status == 0)
        let entry = try JSONValue.parse(Array(printed.stdoutText.utf8))
        guard case .string(let secretText)? = entry["Secret"] else {
            Issue.record("keygen printed \(printed.stdoutText)")
            return
        }
        let key = try SigningKey(keyId: "k2027", base64Secret: secretText)
        #expect(key.secret.count == 32)
        #expect(try SigningKey(keyId: "k2027", base64Secret: " \(secretText)\n") == key, "blanks around the text are ignored")

        let set = try ConfigurationSet(name: "marketing", customRedirectDomain: "links.example.com")
        let configuration = try Configuration(configurationSets: [set], defaultConfigurationSet: "marketing", signingKeys: [key])
        let signer = try LinkSigner(keys: configuration.signingKeys)
        let url = try #require(signer.clickURL(ConfigCLI.click, scheme: .https, domain: "links.example.com"))
        let file = try ConfigCLI.configFile("{ \"SigningKeys\": [ \(printed.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ] }")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let decoded = try LinkTrackCLI.run(["decode", "--config", file.path, url])
        #expect(decoded.status == 0, "\(decoded.stdoutText)")
        #expect(decoded.stdoutText == TrackingToken.click(ConfigCLI.click).jsonLine + "\n")

        #expect(throws: ConfigurationError.badRequest("SigningKey (KeyId k2027): the secret is not valid base64.")) {
            try SigningKey(keyId: "k2027", base64Secret: "not base64!")
        }
        #expect(throws: ConfigurationError.badRequest("SigningKey (KeyId k2027): the secret is not valid base64.")) {
            try SigningKey(keyId: "k2027", base64Secret: "")
        }
        #expect(throws: ConfigurationError.badRequest(
            "SigningKeys: the secret of key k2027 is 3 bytes long; at least 32 bytes are required.")) {
            try SigningKey(keyId: "k2027", base64Secret: "YWJj")
        }
        #expect(throws: ConfigurationError.self) { try SigningKey(keyId: "bad.id", base64Secret: secretText) }
    }
}

@Suite("Library: the README's example, the produced URLs and their verification")
struct LibraryTrackingTests {
    static let configuration: Configuration = {
        do {
            let key = try SigningKey(keyId: "k2026", base64Secret: LibraryConfigurationTests.secret)
            let set = try ConfigurationSet(name: "marketing", customRedirectDomain: "links.example.com", httpsPolicy: .require)
            return try Configuration(configurationSets: [set], defaultConfigurationSet: "marketing", signingKeys: [key])
        } catch {
            fatalError("\(error)")
        }
    }()

    static let message = Array("""
        From: news@example.com\r
        Message-ID: <m1@example.com>\r
        Content-Type: multipart/alternative; boundary="b"\r
        \r
        --b\r
        Content-Type: text/plain\r
        \r
        https://example.com/plain\r
        --b\r
        Content-Type: text/html\r
        \r
        <html><body><a href="https://shop.example.com/a?x=1&amp;y=2">A</a> <a href="mailto:x@example.com">m</a>\r
        <a href="http://shop.example.com/b">B</a></body></html>\r
        --b--\r

        """.utf8)

    /// The report gives the tracking URLs it wrote, in link order, and each verifies with
    /// `LinkSigner.decode` to its original destination.
    @Test func reportListsTheTrackingURLsAndEachVerifies() throws {
        let filter = try MessageFilter(configuration: Self.configuration)
        let (output, report) = try filter.filter(Self.message)
        #expect(report.trackingURLs.count == 2)
        let text = String(decoding: output, as: UTF8.self)
        let signer = try LinkSigner(keys: Self.configuration.signingKeys)
        for (index, (url, destination)) in zip(report.trackingURLs, ["https://shop.example.com/a?x=1&y=2", "http://shop.example.com/b"]).enumerated() {
            #expect(url.hasPrefix("https://links.example.com/c/1.k2026."))
            // Written HTML-escaped into the document.
            #expect(text.contains(url.replacingOccurrences(of: "&", with: "&amp;")))
            guard case .click(let token) = try signer.decode(url) else {
                Issue.record("\(url) is not a click URL")
                continue
            }
            #expect(token.destination == destination)
            #expect(token.linkIndex == index)
            #expect(token.messageId == "m1@example.com")
            #expect(token.configurationSet == "marketing")
        }
        let part = try #require(report.parts.first { $0.html != nil }?.html)
        #expect(part.trackingURLs == report.trackingURLs)
        #expect(part.trackingURLs == part.links.compactMap(\.trackingURL))
    }

    /// The bare-HTML path of the README's Library section.
    @Test func htmlRewriterReportListsTheTrackingURLs() throws {
        let rewriter = try HTMLRewriter(configuration: Self.configuration)
        let set = try Self.configuration.configurationSet(named: "marketing")
        let result = rewriter.rewrite(Array("<a href=\"https://example.com/x\">x</a>".utf8), charset: "utf-8",
                                      context: TrackingContext(configurationSet: set, messageId: "<id@example.com>"))
        #expect(result.report.trackingURLs.count == 1)
        let url = try #require(result.report.trackingURLs.first)
        #expect(try LinkSigner(keys: Self.configuration.signingKeys).decode(url)
                == .click(ClickToken(destination: "https://example.com/x", messageId: "id@example.com",
                                     configurationSet: "marketing", linkIndex: 0)))
    }
}
