import Foundation
import Testing
import TestSupport
@testable import LinkTrack

/// Fixtures for running the built `linktrack` binary on configuration files.
enum ConfigCLI {
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("linktrack-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func secret(_ seed: UInt8) -> [UInt8] { (0..<32).map { UInt8(truncatingIfNeeded: Int(seed) &* 13 &+ $0) } }

    static func keyEntry(_ id: String, seed: UInt8) -> String {
        "{ \"KeyId\": \"\(id)\", \"Secret\": \"\(Base64Text.encode(secret(seed)))\" }"
    }

    static let configText = """
    {
      "ConfigurationSets": [
        { "ConfigurationSetName": "marketing",
          "TrackingOptions": { "CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE" },
          "EventDestinations": [ { "Name": "tracking", "Enabled": true, "MatchingEventTypes": ["OPEN", "CLICK"] } ] },
        { "ConfigurationSetName": "receipts" }
      ],
      "DefaultConfigurationSet": "marketing",
      "SigningKeys": [ \(keyEntry("k2027", seed: 2)), \(keyEntry("k2026", seed: 1)) ]
    }

    """

    /// A configuration file in a fresh directory.
    static func configFile(_ text: String = configText, permissions: Int = 0o640) throws -> URL {
        let url = try temporaryDirectory().appendingPathComponent("config.json")
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: url.path)
        return url
    }

    static func inode(_ url: URL) throws -> UInt64 {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return (attributes[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
    }

    static let signer = try! LinkSigner(keys: [try! SigningKey(keyId: "k2026", secret: secret(1))])
    static let click = ClickToken(destination: "https://shop.example.com/a?b=1&c=\"d\"#e", messageId: "id-1@example.com",
                                  configurationSet: "marketing", linkIndex: 2,
                                  linkTags: [LinkTrack.Tag(name: "campaign", value: "spring")], messageTags: [LinkTrack.Tag(name: "tenant", value: "acme")])
    static let open = OpenToken(messageId: "id-1@example.com", configurationSet: "marketing")
    static var clickURL: String { signer.clickURL(click, scheme: .https, domain: "links.example.com")! }
    static var openURL: String { signer.openURL(open, scheme: .http, domain: "links.example.com") }
}

@Suite("ConfigCLI: keygen")
struct ConfigCLIKeygenTests {
    static func parse(_ line: String) throws -> (id: String, secret: [UInt8]) {
        let value = try JSONValue.parse(Array(line.utf8))
        guard case .object(let members) = value, members.map(\.key) == ["KeyId", "Secret"],
              case .string(let id)? = value["KeyId"], case .string(let secret)? = value["Secret"],
              let data = Data(base64Encoded: secret) else {
            Issue.record("unexpected keygen output \(line)")
            return ("", [])
        }
        return (id, Array(data))
    }

    @Test func keygenPrintsAFreshKeyEntry() throws {
        let first = try LinkTrackCLI.run(["keygen"])
        let second = try LinkTrackCLI.run(["keygen"])
        #expect(first.status == 0 && second.status == 0)
        #expect(first.stderr.isEmpty)
        #expect(first.stdoutText.hasSuffix("}\n") && first.stdoutText.filter { $0 == "\n" }.count == 1)
        let a = try Self.parse(first.stdoutText)
        let b = try Self.parse(second.stdoutText)
        #expect(a.secret.count == 32)
        #expect(b.secret.count == 32)
        #expect(a.secret != b.secret, "random secrets")
        #expect(a.id.hasPrefix("k") && a.id.count > 1)
        #expect(a.id.utf8.allSatisfy { $0.isASCIIAlphanumeric })
    }

    @Test func keygenKeyIdOption() throws {
        let result = try LinkTrackCLI.run(["keygen", "--key-id", "spring_2026-a"])
        #expect(result.status == 0)
        #expect(try Self.parse(result.stdoutText).id == "spring_2026-a")
        let bad = try LinkTrackCLI.run(["keygen", "--key-id", "bad.id"])
        #expect(bad.status != 0)
        #expect(bad.stdoutText.isEmpty)
        #expect(bad.stderr.contains("KeyId") && bad.stderr.contains("\"bad.id\""))
    }

    @Test func keygenOutputPastedIntoAConfigurationWorks() throws {
        let entry = try LinkTrackCLI.run(["keygen"]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let text = """
        { "ConfigurationSets": [ { "ConfigurationSetName": "marketing",
            "TrackingOptions": { "CustomRedirectDomain": "links.example.com" } } ],
          "SigningKeys": [ \(entry) ] }
        """
        let config = try ConfigCLI.configFile(text)
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let configuration = try Configuration(json: Array(text.utf8), environment: { _ in nil })
        let signer = try LinkSigner(keys: configuration.signingKeys)
        let url = try #require(signer.clickURL(ConfigCLI.click, scheme: .https, domain: "links.example.com"))
        let decoded = try LinkTrackCLI.run(["decode", "--config", config.path, url])
        #expect(decoded.status == 0, "\(decoded.stderr)")
        #expect(decoded.stdoutText == TrackingToken.click(ConfigCLI.click).jsonLine + "\n")
    }
}

@Suite("ConfigCLI: decode")
struct ConfigCLIDecodeTests {
    static var expected: String {
        TrackingToken.click(ConfigCLI.click).jsonLine + "\n" + TrackingToken.open(ConfigCLI.open).jsonLine + "\n"
    }

    @Test func decodeURLsGivenAsArguments() throws {
        let config = try ConfigCLI.configFile()
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let result = try LinkTrackCLI.run(["decode", "--config", config.path, ConfigCLI.clickURL, ConfigCLI.openURL])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText == Self.expected)
        #expect(result.stdoutText.hasPrefix(##"{"kind":"click","url":"https://shop.example.com/a?b=1&c=\"d\"#e","messageId":"id-1@example.com","configurationSet":"marketing","linkIndex":2,"tags":{"campaign":"spring"},"messageTags":{"tenant":"acme"}}"##))
        #expect(result.stderr.isEmpty)
    }

    @Test func decodeURLsFromStandardInput() throws {
        let config = try ConfigCLI.configFile()
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let input = "\(ConfigCLI.clickURL)\r\n\n   \(ConfigCLI.openURL)  \n"
        let result = try LinkTrackCLI.run(["decode", "--config", config.path], stdin: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText == Self.expected)
    }

    @Test func tamperedURLPrintsAnErrorLineAndFails() throws {
        let config = try ConfigCLI.configFile()
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let tampered = ConfigCLI.clickURL.replacingOccurrences(of: "&i=2", with: "&i=3")
        #expect(tampered != ConfigCLI.clickURL)
        for stdinMode in [false, true] {
            let urls = [ConfigCLI.clickURL, tampered, ConfigCLI.openURL]
            let result = stdinMode
                ? try LinkTrackCLI.run(["decode", "--config", config.path], stdin: urls.joined(separator: "\n") + "\n")
                : try LinkTrackCLI.run(["decode", "--config", config.path] + urls)
            #expect(result.status != 0)
            let lines = result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 4 && lines[3].isEmpty)
            #expect(lines.first.map(String.init) == TrackingToken.click(ConfigCLI.click).jsonLine)
            #expect(lines.count > 1 && lines[1].hasPrefix(#"{"error":""#) && lines[1].hasSuffix("\"}"))
            #expect(lines.count > 1 && lines[1].contains("signature"))
            #expect(lines.count > 2 && String(lines[2]) == TrackingToken.open(ConfigCLI.open).jsonLine)
        }
    }

    @Test func unknownKeyAndGarbageAreErrors() throws {
        let config = try ConfigCLI.configFile()
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let stranger = try LinkSigner(keys: [try SigningKey(keyId: "gone", secret: ConfigCLI.secret(9))])
        let url = stranger.openURL(ConfigCLI.open, scheme: .https, domain: "links.example.com")
        let result = try LinkTrackCLI.run(["decode", "--config", config.path, url, "not a url"])
        #expect(result.status != 0)
        let lines = result.stdoutText.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix(#"{"error":"#) == true && lines.first?.contains("gone") == true)
        #expect(lines.last?.hasPrefix(#"{"error":"#) == true)
    }

    @Test func configurationWithoutKeysIsAConfigurationError() throws {
        let config = try ConfigCLI.configFile("{ \"ConfigurationSets\": [] }")
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let result = try LinkTrackCLI.run(["decode", "--config", config.path, ConfigCLI.clickURL])
        #expect(result.status == 78)
        #expect(result.stdoutText.isEmpty)
        #expect(result.stderr.contains("SigningKeys"))
    }
}

@Suite("ConfigCLI: put-configuration-set-tracking-options")
struct ConfigCLIPutTests {
    static func put(_ config: URL, _ arguments: [String]) throws -> LinkTrackCLI.Result {
        try LinkTrackCLI.run(["put-configuration-set-tracking-options", "--config", config.path] + arguments)
    }

    static func siblings(_ config: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: config.deletingLastPathComponent().path).sorted()
    }

    @Test func putUpdatesTheFileAtomically() throws {
        let config = try ConfigCLI.configFile(permissions: 0o600)
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let inodeBefore = try ConfigCLI.inode(config)
        let result = try Self.put(config, ["--configuration-set-name", "marketing",
                                           "--custom-redirect-domain", "click.example.org"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText.isEmpty && result.stderr.isEmpty)

        let expected = try Configuration.putConfigurationSetTrackingOptions(
            document: JSONValue.parse(Array(ConfigCLI.configText.utf8)), configurationSetName: "marketing",
            customRedirectDomain: "click.example.org", httpsPolicy: nil, environment: { _ in nil })
        let written = try String(contentsOf: config, encoding: .utf8)
        #expect(try JSONValue.parse(Array(written.utf8)) == expected)
        // Only the TrackingOptions value changed: the rest is byte for byte as written.
        let old = #"{ "CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE" }"#
        #expect(written == ConfigCLI.configText.replacingOccurrences(of: old, with: #"{ "CustomRedirectDomain": "click.example.org" }"#))
        let set = try Configuration(json: Array(written.utf8), environment: { _ in nil }).configurationSet(named: "marketing")
        #expect(set.customRedirectDomain == "click.example.org")
        #expect(set.httpsPolicy == .optional, "the omitted HttpsPolicy was removed")
        #expect(!written.contains("HttpsPolicy"))
        #expect(written.contains("\"EventDestinations\""), "the rest is kept")

        // Written to a temporary file and renamed over the original: a new inode, no leftovers, same mode.
        #expect(try ConfigCLI.inode(config) != inodeBefore)
        #expect(try Self.siblings(config) == ["config.json"])
        let mode = try FileManager.default.attributesOfItem(atPath: config.path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
    }

    @Test func putInsertsOptionsIntoASetWithout() throws {
        let config = try ConfigCLI.configFile()
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let result = try Self.put(config, ["--configuration-set-name", "receipts",
                                           "--custom-redirect-domain", "r.example.com", "--https-policy", "REQUIRE_OPEN_ONLY"])
        #expect(result.status == 0, "\(result.stderr)")
        let configuration = try Configuration(json: Array(try Data(contentsOf: config)), environment: { _ in nil })
        #expect(try configuration.configurationSet(named: "receipts")
                == ConfigurationSet(name: "receipts", customRedirectDomain: "r.example.com", httpsPolicy: .requireOpenOnly))
        #expect(try configuration.configurationSet(named: "marketing").httpsPolicy == .require)
        #expect(configuration.signingKeys.map(\.keyId) == ["k2027", "k2026"])
    }

    struct ErrorRow: Sendable, CustomTestStringConvertible {
        var name: String
        var arguments: [String]
        /// The whole of stderr, or its start when `exact` is false.
        var stderr: String
        var exact: Bool
        var mentions: [String] = []
        var testDescription: String { name }
    }

    static let errorRows: [ErrorRow] = [
        ErrorRow(name: "unknown set", arguments: ["--configuration-set-name", "nope", "--custom-redirect-domain", "x.example.com"],
                 stderr: "NotFoundException: Configuration set nope does not exist.\n", exact: true),
        ErrorRow(name: "domain with a scheme",
                 arguments: ["--configuration-set-name", "marketing", "--custom-redirect-domain", "https://x.com"],
                 stderr: "BadRequestException: ", exact: false, mentions: ["CustomRedirectDomain", "\"https://x.com\""]),
        ErrorRow(name: "domain with a port",
                 arguments: ["--configuration-set-name", "marketing", "--custom-redirect-domain", "x.com:8080"],
                 stderr: "BadRequestException: ", exact: false, mentions: ["CustomRedirectDomain", "\"x.com:8080\""]),
        ErrorRow(name: "non-ASCII domain",
                 arguments: ["--configuration-set-name", "marketing", "--custom-redirect-domain", "bücher.example"],
                 stderr: "BadRequestException: ", exact: false, mentions: ["CustomRedirectDomain", "\"bücher.example\""]),
        ErrorRow(name: "unknown policy",
                 arguments: ["--configuration-set-name", "marketing", "--https-policy", "ALWAYS"],
                 stderr: "BadRequestException: ", exact: false, mentions: ["HttpsPolicy", "\"ALWAYS\""]),
    ]

    @Test(arguments: errorRows)
    func putErrorLeavesTheFileByteIdentical(_ row: ErrorRow) throws {
        let config = try ConfigCLI.configFile()
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let before = try Data(contentsOf: config)
        let inodeBefore = try ConfigCLI.inode(config)
        let result = try Self.put(config, row.arguments)
        #expect(result.status != 0)
        #expect(result.stdoutText.isEmpty)
        if row.exact {
            #expect(result.stderr == row.stderr)
        } else {
            #expect(result.stderr.hasPrefix(row.stderr), "\(result.stderr)")
            #expect(result.stderr.hasSuffix("\n") && result.stderr.filter { $0 == "\n" }.count == 1)
        }
        for word in row.mentions {
            #expect(result.stderr.contains(word), "\(result.stderr) should mention \(word)")
        }
        #expect(try Data(contentsOf: config) == before)
        #expect(try ConfigCLI.inode(config) == inodeBefore)
        #expect(try Self.siblings(config) == ["config.json"], "no temporary file left behind")
    }

    @Test func putOnAnInvalidFileIsBadRequestAndLeavesItAlone() throws {
        for text in ["{ \"ConfigurationSets\": [ ", "{ \"ConfigurationSets\": [], \"Bogus\": 1 }"] {
            let config = try ConfigCLI.configFile(text)
            defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
            let result = try Self.put(config, ["--configuration-set-name", "marketing", "--custom-redirect-domain", "x.example.com"])
            #expect(result.status != 0)
            #expect(result.stderr.hasPrefix("BadRequestException: "), "\(result.stderr)")
            #expect(try String(contentsOf: config, encoding: .utf8) == text)
        }
    }
}
