import Foundation
import Testing
@testable import LinkTrack

// MARK: - Shared helpers (also used by PutTrackingOptionsTests and the Tracking tests)

/// A deterministic secret of `count` bytes.
func cfgSecret(_ seed: UInt8, count: Int = 32) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: Int(seed) &* 31 &+ $0 &* 7) }
}

/// The base64 text of ``cfgSecret(_:count:)``.
func cfgSecretBase64(_ seed: UInt8, count: Int = 32) -> String {
    Base64Text.encode(cfgSecret(seed, count: count))
}

/// A signing key entry with an inline secret.
func cfgKeyEntry(_ keyId: String = "k2026", seed: UInt8 = 1) -> String {
    "{ \"KeyId\": \(JSONValue.quoted(keyId)), \"Secret\": \(JSONValue.quoted(cfgSecretBase64(seed))) }"
}

/// The sample configuration from issue 2.
let cfgSampleJSON = """
{
  "ConfigurationSets": [
    { "ConfigurationSetName": "marketing",
      "TrackingOptions": { "CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE" },
      "EventDestinations": [ { "Name": "tracking", "Enabled": true, "MatchingEventTypes": ["OPEN", "CLICK"] } ] }
  ],
  "DefaultConfigurationSet": "marketing",
  "SigningKeys": [ \(cfgKeyEntry()) ]
}
"""

/// A configuration document with the given configuration sets and signing key entries.
func cfgDocument(sets: [String], keys: [String] = [cfgKeyEntry()], extra: String = "") -> String {
    "{ \"ConfigurationSets\": [\(sets.joined(separator: ", "))], \"SigningKeys\": [\(keys.joined(separator: ", "))]\(extra) }"
}

/// A configuration set whose members are given as JSON text after the name.
func cfgSet(_ name: String = "marketing", _ members: String = "") -> String {
    "{ \"ConfigurationSetName\": \(JSONValue.quoted(name))\(members.isEmpty ? "" : ", " + members) }"
}

/// Parses a configuration; environment and files come only from the given closures.
func cfgParse(
    _ json: String,
    environment: (String) -> String? = { _ in nil },
    readFile: (String) throws -> [UInt8] = { path in throw IOError(operation: "open", path: path, errorNumber: 2) }
) throws(ConfigurationError) -> Configuration {
    try Configuration(json: Array(json.utf8), environment: environment, readFile: readFile)
}

/// One row of an error table: the document, the exception expected and the words its message must hold.
struct CfgErrorCase: Sendable, CustomTestStringConvertible {
    var name: String
    var json: String
    var kind: ConfigurationError.Kind = .badRequest
    /// Texts the message must contain: the field and the value at fault.
    var mentions: [String]
    var testDescription: String { name }
}

// MARK: - Parsing

@Suite("Configuration: parsing")
struct ConfigurationParsingTests {
    @Test func sampleConfigurationFromTheIssueParses() throws {
        let configuration = try cfgParse(cfgSampleJSON)
        var expected = ConfigurationSet(name: "marketing", customRedirectDomain: "links.example.com", httpsPolicy: .require,
                                        tracksOpens: true, tracksClicks: true)
        expected.eventDestinations = [EventDestination(name: "tracking", enabled: true, matchingEventTypes: ["OPEN", "CLICK"])]
        #expect(configuration.configurationSets == [expected])
        #expect(configuration.defaultConfigurationSet == "marketing")
        #expect(configuration.signingKeys.map(\.keyId) == ["k2026"])
        #expect(configuration.signingKeys.first?.secret == cfgSecret(1))
        #expect(try configuration.configurationSet(named: "marketing").tracksAnything)
    }

    @Test func emptyDocumentIsAnEmptyConfiguration() throws {
        let configuration = try cfgParse("{}")
        #expect(configuration.configurationSets.isEmpty)
        #expect(configuration.defaultConfigurationSet == nil)
        #expect(configuration.signingKeys.isEmpty)
    }

    struct PolicyCase: Sendable, CustomTestStringConvertible {
        var name: String
        var trackingOptions: String?
        var expected: HttpsPolicy
        var testDescription: String { name }
    }

    static let policyCases: [PolicyCase] = [
        PolicyCase(name: "HttpsPolicy absent means OPTIONAL",
                   trackingOptions: "{ \"CustomRedirectDomain\": \"links.example.com\" }", expected: .optional),
        PolicyCase(name: "TrackingOptions absent means OPTIONAL", trackingOptions: nil, expected: .optional),
        PolicyCase(name: "TrackingOptions empty means OPTIONAL", trackingOptions: "{}", expected: .optional),
        PolicyCase(name: "REQUIRE", trackingOptions: "{ \"HttpsPolicy\": \"REQUIRE\" }", expected: .require),
        PolicyCase(name: "REQUIRE_OPEN_ONLY", trackingOptions: "{ \"HttpsPolicy\": \"REQUIRE_OPEN_ONLY\" }",
                   expected: .requireOpenOnly),
        PolicyCase(name: "OPTIONAL written out", trackingOptions: "{ \"HttpsPolicy\": \"OPTIONAL\" }", expected: .optional),
    ]

    @Test(arguments: policyCases)
    func httpsPolicy(_ row: PolicyCase) throws {
        let members = row.trackingOptions.map { "\"TrackingOptions\": \($0)" } ?? ""
        let configuration = try cfgParse(cfgDocument(sets: [cfgSet("marketing", members)]))
        #expect(configuration.configurationSets.first?.httpsPolicy == row.expected)
    }

    @Test func setWithoutCustomRedirectDomainTracksNothing() throws {
        let configuration = try cfgParse(cfgDocument(sets: [
            cfgSet("plain"),
            cfgSet("policy-only", "\"TrackingOptions\": { \"HttpsPolicy\": \"REQUIRE\" }"),
        ]))
        for set in configuration.configurationSets {
            #expect(set.customRedirectDomain == nil)
            #expect(set.tracksOpens && set.tracksClicks)   // no EventDestinations
            #expect(!set.tracksAnything)
        }
    }

    @Test func pastedGetConfigurationSetOutputIsAccepted() throws {
        // The other members `aws sesv2 get-configuration-set` returns are accepted and ignored.
        let set = cfgSet("marketing", """
            "TrackingOptions": { "CustomRedirectDomain": "links.example.com" },
            "DeliveryOptions": { "TlsPolicy": "REQUIRE" },
            "ReputationOptions": { "ReputationMetricsEnabled": true },
            "SendingOptions": { "SendingEnabled": true },
            "SuppressionOptions": {}, "Tags": [], "VdmOptions": {}, "ArchivingOptions": {},
            "ConfigurationSetArn": "arn:aws:ses:eu-west-1:123456789012:configuration-set/marketing",
            "EventDestinations": [ { "Name": "fh", "Enabled": true, "MatchingEventTypes": ["CLICK"],
                                     "KinesisFirehoseDestination": { "DeliveryStreamArn": "x", "IamRoleArn": "y" } } ]
            """)
        let configuration = try cfgParse(cfgDocument(sets: [set]))
        var expected = ConfigurationSet(name: "marketing", customRedirectDomain: "links.example.com", httpsPolicy: .optional,
                                        tracksOpens: false, tracksClicks: true)
        expected.eventDestinations = [EventDestination(name: "fh", enabled: true, matchingEventTypes: ["CLICK"])]
        #expect(configuration.configurationSets == [expected])
    }

    @Test func defaultConfigurationSetNullMeansNone() throws {
        let configuration = try cfgParse(cfgDocument(sets: [cfgSet()], extra: ", \"DefaultConfigurationSet\": null"))
        #expect(configuration.defaultConfigurationSet == nil)
    }

    @Test func configurationSetNamedUnknownIsNotFound() throws {
        let configuration = try cfgParse(cfgSampleJSON)
        let error = #expect(throws: ConfigurationError.self) { try configuration.configurationSet(named: "nope") }
        #expect(error == .notFound(configurationSet: "nope"))
        #expect(error?.description == "NotFoundException: Configuration set nope does not exist.")
    }

    @Test func exceptionNames() {
        #expect(ConfigurationError.badRequest("x").exceptionName == "BadRequestException")
        #expect(ConfigurationError.badRequest("x").description == "BadRequestException: x")
        #expect(ConfigurationError.notFound(configurationSet: "a").exceptionName == "NotFoundException")
    }
}

// MARK: - Event destinations

@Suite("Configuration: EventDestinations")
struct ConfigurationEventDestinationTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        /// The `EventDestinations` member's value, or nil for none.
        var destinations: String?
        var opens: Bool
        var clicks: Bool
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "absent tracks both", destinations: nil, opens: true, clicks: true),
        Row(name: "empty list tracks nothing", destinations: "[]", opens: false, clicks: false),
        Row(name: "enabled OPEN only", destinations: #"[{"Name":"a","Enabled":true,"MatchingEventTypes":["OPEN"]}]"#,
            opens: true, clicks: false),
        Row(name: "enabled CLICK only", destinations: #"[{"Name":"a","Enabled":true,"MatchingEventTypes":["CLICK"]}]"#,
            opens: false, clicks: true),
        Row(name: "enabled OPEN and CLICK",
            destinations: #"[{"Name":"a","Enabled":true,"MatchingEventTypes":["CLICK","OPEN","SEND"]}]"#,
            opens: true, clicks: true),
        Row(name: "disabled destination tracks nothing",
            destinations: #"[{"Name":"a","Enabled":false,"MatchingEventTypes":["OPEN","CLICK"]}]"#,
            opens: false, clicks: false),
        Row(name: "Enabled absent counts as disabled",
            destinations: #"[{"Name":"a","MatchingEventTypes":["OPEN","CLICK"]}]"#, opens: false, clicks: false),
        Row(name: "enabled with other event types only",
            destinations: #"[{"Name":"a","Enabled":true,"MatchingEventTypes":["SEND","BOUNCE","DELIVERY"]}]"#,
            opens: false, clicks: false),
        Row(name: "enabled without MatchingEventTypes", destinations: #"[{"Name":"a","Enabled":true}]"#,
            opens: false, clicks: false),
        Row(name: "enabled OPEN plus disabled CLICK",
            destinations: #"[{"Name":"a","Enabled":true,"MatchingEventTypes":["OPEN"]},{"Name":"b","Enabled":false,"MatchingEventTypes":["CLICK"]}]"#,
            opens: true, clicks: false),
        Row(name: "two enabled destinations combine",
            destinations: #"[{"Name":"a","Enabled":true,"MatchingEventTypes":["OPEN"]},{"Name":"b","Enabled":true,"MatchingEventTypes":["CLICK"]}]"#,
            opens: true, clicks: true),
    ]

    @Test(arguments: rows)
    func eventDestinations(_ row: Row) throws {
        var members = "\"TrackingOptions\": { \"CustomRedirectDomain\": \"links.example.com\" }"
        if let destinations = row.destinations { members += ", \"EventDestinations\": \(destinations)" }
        let set = try cfgParse(cfgDocument(sets: [cfgSet("marketing", members)])).configurationSets[0]
        #expect(set.tracksOpens == row.opens)
        #expect(set.tracksClicks == row.clicks)
        #expect(set.tracksAnything == (row.opens || row.clicks))
    }
}

// MARK: - CustomRedirectDomain

@Suite("Configuration: CustomRedirectDomain")
struct ConfigurationRedirectDomainTests {
    static let label63 = String(repeating: "a", count: 63)
    /// 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 octets.
    static let name253 = [label63, label63, label63, String(repeating: "b", count: 61)].joined(separator: ".")
    static let name254 = [label63, label63, label63, String(repeating: "b", count: 62)].joined(separator: ".")

    struct Bad: Sendable, CustomTestStringConvertible {
        var name: String
        var domain: String
        /// A word of the reason.
        var reason: String
        var testDescription: String { name }
    }

    static let bad: [Bad] = [
        Bad(name: "empty", domain: "", reason: "empty"),
        Bad(name: "empty label a..b", domain: "a..b", reason: "empty label"),
        Bad(name: "leading dot", domain: ".example.com", reason: "empty label"),
        Bad(name: "trailing dot", domain: "links.example.com.", reason: "empty label"),
        Bad(name: "label of 64 octets", domain: String(repeating: "a", count: 64) + ".example.com", reason: "63"),
        Bad(name: "254-octet name", domain: name254, reason: "253"),
        Bad(name: "scheme https://x.com", domain: "https://x.com", reason: "scheme"),
        Bad(name: "path x.com/path", domain: "x.com/path", reason: "path"),
        Bad(name: "port x.com:8080", domain: "x.com:8080", reason: "port"),
        Bad(name: "space", domain: "links example.com", reason: "space"),
        Bad(name: "tab", domain: "links\texample.com", reason: "space"),
        Bad(name: "non-ASCII bücher.example", domain: "bücher.example", reason: "non-ASCII"),
        Bad(name: "leading hyphen label", domain: "-links.example.com", reason: "'-'"),
        Bad(name: "trailing hyphen label", domain: "links-.example.com", reason: "'-'"),
        Bad(name: "underscore", domain: "my_links.example.com", reason: "letters, digits"),
        Bad(name: "userinfo x@y.com", domain: "x@y.com", reason: "letters, digits"),
        Bad(name: "query x.com?a", domain: "x.com?a", reason: "letters, digits"),
    ]

    @Test(arguments: bad)
    func malformedDomainIsBadRequest(_ row: Bad) throws {
        let direct = #expect(throws: ConfigurationError.self) { try Configuration.validateRedirectDomain(row.domain) }
        let json = cfgDocument(sets: [cfgSet("marketing", "\"TrackingOptions\": { \"CustomRedirectDomain\": \(JSONValue.quoted(row.domain)) }")])
        let parsed = #expect(throws: ConfigurationError.self) { try cfgParse(json) }
        for error in [direct, parsed] {
            #expect(error?.kind == .badRequest)
            #expect(error?.exceptionName == "BadRequestException")
            #expect(error?.message.contains("CustomRedirectDomain") == true)
            #expect(error?.message.contains(JSONValue.quoted(row.domain)) == true, "the message names the value")
            #expect(error?.message.contains(row.reason) == true, "\(error?.message ?? "")")
        }
    }

    static let good: [String] = [
        "links.example.com", "a", "x-y.example", "123.example", "xn--bcher-kva.example", "LINKS.Example.COM",
        label63 + ".example.com", name253,
    ]

    @Test(arguments: good)
    func wellFormedDomainIsAccepted(_ domain: String) throws {
        try Configuration.validateRedirectDomain(domain)
        let json = cfgDocument(sets: [cfgSet("marketing", "\"TrackingOptions\": { \"CustomRedirectDomain\": \(JSONValue.quoted(domain)) }")])
        #expect(try cfgParse(json).configurationSets[0].customRedirectDomain == domain)
    }

    @Test func boundaryLengthsAreWhatTheRowsClaim() {
        #expect(Self.name253.utf8.count == 253)
        #expect(Self.name254.utf8.count == 254)
    }
}

// MARK: - Validation errors

@Suite("Configuration: validation errors")
struct ConfigurationValidationTests {
    static func options(_ body: String) -> String {
        cfgDocument(sets: [cfgSet("marketing", "\"TrackingOptions\": \(body)")])
    }
    static func destinations(_ body: String) -> String {
        cfgDocument(sets: [cfgSet("marketing", "\"EventDestinations\": \(body)")])
    }

    static let policyRows: [CfgErrorCase] = ["require", "REQUIRED", "", "OPTIONAL ", "NONE"].map { value in
        CfgErrorCase(name: "unknown HttpsPolicy \(JSONValue.quoted(value))",
                     json: options("{ \"HttpsPolicy\": \(JSONValue.quoted(value)) }"),
                     mentions: ["HttpsPolicy", JSONValue.quoted(value)])
    }

    static let unknownKeyRows: [CfgErrorCase] = [
        CfgErrorCase(name: "unknown key at top level", json: cfgDocument(sets: [], extra: ", \"Bogus\": 1"),
                     mentions: ["\"Bogus\"", "configuration"]),
        CfgErrorCase(name: "misspelt ConfigurationSet at top level",
                     json: "{ \"ConfigurationSet\": [] }", mentions: ["\"ConfigurationSet\"", "configuration"]),
        CfgErrorCase(name: "unknown key in a configuration set",
                     json: cfgDocument(sets: [cfgSet("marketing", "\"Bogus\": true")]),
                     mentions: ["\"Bogus\"", "ConfigurationSets[0]"]),
        CfgErrorCase(name: "unknown key in the second configuration set",
                     json: cfgDocument(sets: [cfgSet("a"), cfgSet("b", "\"Name\": \"b\"")]),
                     mentions: ["\"Name\"", "ConfigurationSets[1]"]),
        CfgErrorCase(name: "misspelt CustomRedirectDomian in TrackingOptions",
                     json: options("{ \"CustomRedirectDomian\": \"links.example.com\" }"),
                     mentions: ["\"CustomRedirectDomian\"", "ConfigurationSets[0].TrackingOptions"]),
        CfgErrorCase(name: "unknown key in an event destination",
                     json: destinations("[{ \"Name\": \"a\", \"Enabled\": true, \"Bogus\": 1 }]"),
                     mentions: ["\"Bogus\"", "ConfigurationSets[0].EventDestinations[0]"]),
        CfgErrorCase(name: "unknown key in a signing key",
                     json: cfgDocument(sets: [], keys: ["{ \"KeyId\": \"k\", \"Secret\": \"\(cfgSecretBase64(1))\", \"Bogus\": 1 }"]),
                     mentions: ["\"Bogus\"", "SigningKeys[0]"]),
        CfgErrorCase(name: "duplicate key in a configuration set",
                     json: cfgDocument(sets: [cfgSet("marketing", "\"ConfigurationSetName\": \"other\"")]),
                     mentions: ["Duplicate", "\"ConfigurationSetName\"", "ConfigurationSets[0]"]),
        CfgErrorCase(name: "duplicate key at top level",
                     json: "{ \"ConfigurationSets\": [], \"ConfigurationSets\": [] }",
                     mentions: ["Duplicate", "\"ConfigurationSets\""]),
        CfgErrorCase(name: "unknown MatchingEventTypes value",
                     json: destinations("[{ \"Name\": \"a\", \"Enabled\": true, \"MatchingEventTypes\": [\"OPENS\"] }]"),
                     mentions: ["MatchingEventTypes", "\"OPENS\"", "ConfigurationSets[0].EventDestinations[0]"]),
    ]

    static let wrongTypeRows: [CfgErrorCase] = [
        CfgErrorCase(name: "top level is an array", json: "[]", mentions: ["configuration", "object", "array"]),
        CfgErrorCase(name: "ConfigurationSets is an object", json: "{ \"ConfigurationSets\": {} }",
                     mentions: ["ConfigurationSets", "array", "{}"]),
        CfgErrorCase(name: "configuration set is a string", json: "{ \"ConfigurationSets\": [\"marketing\"] }",
                     mentions: ["ConfigurationSets[0]", "object", "\"marketing\""]),
        CfgErrorCase(name: "ConfigurationSetName is a number", json: "{ \"ConfigurationSets\": [{ \"ConfigurationSetName\": 42 }] }",
                     mentions: ["ConfigurationSets[0].ConfigurationSetName", "string", "42"]),
        CfgErrorCase(name: "TrackingOptions is a string", json: options("\"links.example.com\""),
                     mentions: ["ConfigurationSets[0].TrackingOptions", "object", "\"links.example.com\""]),
        CfgErrorCase(name: "CustomRedirectDomain is a number", json: options("{ \"CustomRedirectDomain\": 1234 }"),
                     mentions: ["ConfigurationSets[0].TrackingOptions.CustomRedirectDomain", "string", "1234"]),
        CfgErrorCase(name: "HttpsPolicy is a boolean", json: options("{ \"HttpsPolicy\": true }"),
                     mentions: ["ConfigurationSets[0].TrackingOptions.HttpsPolicy", "string", "true"]),
        CfgErrorCase(name: "HttpsPolicy is null", json: options("{ \"HttpsPolicy\": null }"),
                     mentions: ["ConfigurationSets[0].TrackingOptions.HttpsPolicy", "string", "null"]),
        CfgErrorCase(name: "EventDestinations is an object", json: destinations("{ \"Name\": \"a\" }"),
                     mentions: ["ConfigurationSets[0].EventDestinations", "array", "\"Name\""]),
        CfgErrorCase(name: "event destination is a string", json: destinations("[\"OPEN\"]"),
                     mentions: ["ConfigurationSets[0].EventDestinations[0]", "object", "\"OPEN\""]),
        CfgErrorCase(name: "event destination Name is a number", json: destinations("[{ \"Name\": 7 }]"),
                     mentions: ["ConfigurationSets[0].EventDestinations[0].Name", "string", "7"]),
        CfgErrorCase(name: "Enabled is a string", json: destinations("[{ \"Name\": \"a\", \"Enabled\": \"yes\" }]"),
                     mentions: ["ConfigurationSets[0].EventDestinations[0].Enabled", "boolean", "\"yes\""]),
        CfgErrorCase(name: "MatchingEventTypes is a string",
                     json: destinations("[{ \"Name\": \"a\", \"Enabled\": true, \"MatchingEventTypes\": \"OPEN\" }]"),
                     mentions: ["ConfigurationSets[0].EventDestinations[0].MatchingEventTypes", "array", "\"OPEN\""]),
        CfgErrorCase(name: "MatchingEventTypes entry is a number",
                     json: destinations("[{ \"Name\": \"a\", \"Enabled\": true, \"MatchingEventTypes\": [5] }]"),
                     mentions: ["ConfigurationSets[0].EventDestinations[0].MatchingEventTypes", "string", "5"]),
        CfgErrorCase(name: "DefaultConfigurationSet is a number",
                     json: cfgDocument(sets: [cfgSet()], extra: ", \"DefaultConfigurationSet\": 3"),
                     mentions: ["DefaultConfigurationSet", "string", "3"]),
        CfgErrorCase(name: "SigningKeys is an object (not shown: it may hold a secret)",
                     json: "{ \"SigningKeys\": { \"KeyId\": \"k\" } }",
                     mentions: ["SigningKeys", "array", "object"]),
        CfgErrorCase(name: "signing key is a string (the value, maybe a secret, is not shown)",
                     json: "{ \"SigningKeys\": [\"\(cfgSecretBase64(1))\"] }",
                     mentions: ["SigningKeys[0]", "object", "string"]),
        CfgErrorCase(name: "KeyId is a number", json: cfgDocument(sets: [], keys: ["{ \"KeyId\": 2026, \"Secret\": \"\(cfgSecretBase64(1))\" }"]),
                     mentions: ["SigningKeys[0].KeyId", "string", "2026"]),
        CfgErrorCase(name: "Secret is an array", json: cfgDocument(sets: [], keys: ["{ \"KeyId\": \"k\", \"Secret\": [1, 2] }"]),
                     mentions: ["SigningKeys[0].Secret", "string", "array"]),
        CfgErrorCase(name: "SecretFile is a number", json: cfgDocument(sets: [], keys: ["{ \"KeyId\": \"k\", \"SecretFile\": 1 }"]),
                     mentions: ["SigningKeys[0].SecretFile", "string", "1"]),
        CfgErrorCase(name: "SecretEnvironmentVariable is a boolean",
                     json: cfgDocument(sets: [], keys: ["{ \"KeyId\": \"k\", \"SecretEnvironmentVariable\": false }"]),
                     mentions: ["SigningKeys[0].SecretEnvironmentVariable", "string", "false"]),
    ]

    static let setRows: [CfgErrorCase] = [
        CfgErrorCase(name: "not JSON", json: "{ \"ConfigurationSets\": [ }", mentions: ["not valid JSON", "byte"]),
        CfgErrorCase(name: "trailing garbage", json: "{} x", mentions: ["not valid JSON"]),
        CfgErrorCase(name: "missing ConfigurationSetName",
                     json: "{ \"ConfigurationSets\": [{ \"TrackingOptions\": {} }] }",
                     mentions: ["ConfigurationSets[0]", "ConfigurationSetName", "required"]),
        CfgErrorCase(name: "invalid ConfigurationSetName", json: cfgDocument(sets: [cfgSet("my set")]),
                     mentions: ["ConfigurationSetName", "\"my set\""]),
        CfgErrorCase(name: "ConfigurationSetName of 65 characters",
                     json: cfgDocument(sets: [cfgSet(String(repeating: "s", count: 65))]),
                     mentions: ["ConfigurationSetName", JSONValue.quoted(String(repeating: "s", count: 65))]),
        CfgErrorCase(name: "duplicate set names", json: cfgDocument(sets: [cfgSet("a"), cfgSet("b"), cfgSet("a")]),
                     mentions: ["ConfigurationSets[2]", "\"a\"", "twice"]),
        CfgErrorCase(name: "DefaultConfigurationSet naming a missing set",
                     json: cfgDocument(sets: [cfgSet("marketing")], extra: ", \"DefaultConfigurationSet\": \"X\""),
                     kind: .notFound, mentions: ["Configuration set X does not exist."]),
    ]

    static let rows = policyRows + unknownKeyRows + wrongTypeRows + setRows

    @Test(arguments: rows)
    func invalidConfigurationIsRejected(_ row: CfgErrorCase) throws {
        let error = #expect(throws: ConfigurationError.self) { try cfgParse(row.json) }
        #expect(error?.kind == row.kind)
        for word in row.mentions {
            #expect(error?.message.contains(word) == true, "\(error?.message ?? "") should mention \(word)")
        }
    }

    @Test func missingDefaultSetMessageIsExact() throws {
        let json = cfgDocument(sets: [cfgSet("marketing")], extra: ", \"DefaultConfigurationSet\": \"X\"")
        let error = #expect(throws: ConfigurationError.self) { try cfgParse(json) }
        #expect(error?.kind == .notFound)
        #expect(error?.exceptionName == "NotFoundException")
        #expect(error?.message == "Configuration set X does not exist.")
    }
}

// MARK: - Signing keys

@Suite("Configuration: SigningKeys")
struct ConfigurationSigningKeyTests {
    static func keys(_ entries: String...) -> String { cfgDocument(sets: [], keys: entries) }

    @Test func inlineSecret() throws {
        let configuration = try cfgParse(Self.keys(cfgKeyEntry("new", seed: 2), cfgKeyEntry("old", seed: 3)))
        #expect(configuration.signingKeys.map(\.keyId) == ["new", "old"], "order kept: the first one signs")
        #expect(configuration.signingKeys.map(\.secret) == [cfgSecret(2), cfgSecret(3)])
    }

    @Test func secretFileThroughTheReadFileClosure() throws {
        var requested: [String] = []
        let configuration = try cfgParse(
            Self.keys("{ \"KeyId\": \"k\", \"SecretFile\": \"/etc/linktrack/k.key\" }"),
            readFile: { path in
                requested.append(path)
                return Array(("  " + cfgSecretBase64(4) + "\n").utf8)   // surrounding whitespace is trimmed
            })
        #expect(requested == ["/etc/linktrack/k.key"])
        #expect(configuration.signingKeys.first?.secret == cfgSecret(4))
    }

    @Test func secretFileOnDisk() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("linktrack-cfg-\(UUID().uuidString).key")
        try Data((cfgSecretBase64(5) + "\n").utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let json = Self.keys("{ \"KeyId\": \"k\", \"SecretFile\": \(JSONValue.quoted(url.path)) }")
        let configuration = try Configuration(json: Array(json.utf8), environment: { _ in nil })
        #expect(configuration.signingKeys.first?.secret == cfgSecret(5))
    }

    @Test func missingSecretFileOnDiskIsBadRequest() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("linktrack-cfg-missing-\(UUID().uuidString)").path
        let json = Self.keys("{ \"KeyId\": \"k\", \"SecretFile\": \(JSONValue.quoted(path)) }")
        let error = #expect(throws: ConfigurationError.self) {
            try Configuration(json: Array(json.utf8), environment: { _ in nil })
        }
        #expect(error?.kind == .badRequest)
        #expect(error?.message.contains("SecretFile") == true)
        #expect(error?.message.contains(JSONValue.quoted(path)) == true)
    }

    @Test func secretEnvironmentVariableThroughTheClosure() throws {
        let configuration = try cfgParse(
            Self.keys("{ \"KeyId\": \"k\", \"SecretEnvironmentVariable\": \"LINKTRACK_KEY\" }"),
            environment: { $0 == "LINKTRACK_KEY" ? cfgSecretBase64(6) : nil })
        #expect(configuration.signingKeys.first?.secret == cfgSecret(6))
    }

    struct SecretCase: Sendable, CustomTestStringConvertible {
        var name: String
        var entry: String
        var environment: [String: String] = [:]
        var files: [String: String] = [:]
        var mentions: [String]
        var testDescription: String { name }
    }

    static let secretCases: [SecretCase] = [
        SecretCase(name: "no secret source", entry: "{ \"KeyId\": \"k\" }",
                   mentions: ["SigningKeys[0]", "KeyId k", "exactly one"]),
        SecretCase(name: "Secret and SecretFile",
                   entry: "{ \"KeyId\": \"k\", \"Secret\": \"\(cfgSecretBase64(1))\", \"SecretFile\": \"/f\" }",
                   files: ["/f": cfgSecretBase64(1)], mentions: ["SigningKeys[0]", "exactly one"]),
        SecretCase(name: "Secret and SecretEnvironmentVariable",
                   entry: "{ \"KeyId\": \"k\", \"Secret\": \"\(cfgSecretBase64(1))\", \"SecretEnvironmentVariable\": \"V\" }",
                   environment: ["V": cfgSecretBase64(1)], mentions: ["SigningKeys[0]", "exactly one"]),
        SecretCase(name: "SecretFile and SecretEnvironmentVariable",
                   entry: "{ \"KeyId\": \"k\", \"SecretFile\": \"/f\", \"SecretEnvironmentVariable\": \"V\" }",
                   environment: ["V": cfgSecretBase64(1)], files: ["/f": cfgSecretBase64(1)],
                   mentions: ["SigningKeys[0]", "exactly one"]),
        SecretCase(name: "all three sources",
                   entry: "{ \"KeyId\": \"k\", \"Secret\": \"\(cfgSecretBase64(1))\", \"SecretFile\": \"/f\", \"SecretEnvironmentVariable\": \"V\" }",
                   environment: ["V": cfgSecretBase64(1)], files: ["/f": cfgSecretBase64(1)],
                   mentions: ["SigningKeys[0]", "exactly one"]),
        SecretCase(name: "environment variable not set",
                   entry: "{ \"KeyId\": \"k\", \"SecretEnvironmentVariable\": \"LINKTRACK_UNSET\" }",
                   mentions: ["SecretEnvironmentVariable", "LINKTRACK_UNSET", "not set"]),
        SecretCase(name: "environment variable empty",
                   entry: "{ \"KeyId\": \"k\", \"SecretEnvironmentVariable\": \"V\" }", environment: ["V": ""],
                   mentions: ["SecretEnvironmentVariable", "V"]),
        SecretCase(name: "SecretFile unreadable", entry: "{ \"KeyId\": \"k\", \"SecretFile\": \"/no/such/file\" }",
                   mentions: ["SecretFile", "\"/no/such/file\""]),
        SecretCase(name: "short inline key of 31 bytes",
                   entry: "{ \"KeyId\": \"k\", \"Secret\": \"\(cfgSecretBase64(1, count: 31))\" }",
                   mentions: ["SigningKeys", "key k", "31 bytes", "32"]),
        SecretCase(name: "short key of 16 bytes from a file",
                   entry: "{ \"KeyId\": \"k\", \"SecretFile\": \"/f\" }", files: ["/f": cfgSecretBase64(1, count: 16)],
                   mentions: ["key k", "16 bytes"]),
        SecretCase(name: "short key of 8 bytes from the environment",
                   entry: "{ \"KeyId\": \"k\", \"SecretEnvironmentVariable\": \"V\" }", environment: ["V": cfgSecretBase64(1, count: 8)],
                   mentions: ["key k", "8 bytes"]),
        SecretCase(name: "bad base64 character", entry: "{ \"KeyId\": \"k\", \"Secret\": \"not base64!\" }",
                   mentions: ["SigningKeys[0]", "KeyId k", "base64"]),
        SecretCase(name: "bad base64 padding in the middle",
                   entry: "{ \"KeyId\": \"k\", \"Secret\": \"AAAA=AAA\(cfgSecretBase64(1))\" }",
                   mentions: ["SigningKeys[0]", "base64"]),
        SecretCase(name: "empty Secret", entry: "{ \"KeyId\": \"k\", \"Secret\": \"\" }", mentions: ["SigningKeys[0]", "base64"]),
        SecretCase(name: "base64url alphabet is not base64", entry: "{ \"KeyId\": \"k\", \"Secret\": \"\(cfgSecretBase64(1).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_"))-_\" }",
                   mentions: ["SigningKeys[0]", "base64"]),
        SecretCase(name: "missing KeyId", entry: "{ \"Secret\": \"\(cfgSecretBase64(1))\" }",
                   mentions: ["SigningKeys[0]", "KeyId", "required"]),
        SecretCase(name: "KeyId with a space", entry: "{ \"KeyId\": \"my key\", \"Secret\": \"\(cfgSecretBase64(1))\" }",
                   mentions: ["KeyId", "\"my key\""]),
        SecretCase(name: "KeyId with a dot (the token's separator)", entry: "{ \"KeyId\": \"k.1\", \"Secret\": \"\(cfgSecretBase64(1))\" }",
                   mentions: ["KeyId", "\"k.1\""]),
        SecretCase(name: "empty KeyId", entry: "{ \"KeyId\": \"\", \"Secret\": \"\(cfgSecretBase64(1))\" }",
                   mentions: ["KeyId", "\"\""]),
        SecretCase(name: "KeyId of 33 characters",
                   entry: "{ \"KeyId\": \"\(String(repeating: "k", count: 33))\", \"Secret\": \"\(cfgSecretBase64(1))\" }",
                   mentions: ["KeyId", String(repeating: "k", count: 33)]),
        SecretCase(name: "non-ASCII KeyId", entry: "{ \"KeyId\": \"schlüssel\", \"Secret\": \"\(cfgSecretBase64(1))\" }",
                   mentions: ["KeyId", "\"schlüssel\""]),
    ]

    @Test(arguments: secretCases)
    func invalidSigningKeyIsBadRequest(_ row: SecretCase) throws {
        let error = #expect(throws: ConfigurationError.self) {
            try cfgParse(Self.keys(row.entry), environment: { row.environment[$0] }, readFile: { path in
                guard let text = row.files[path] else { throw IOError(operation: "open", path: path, errorNumber: 2) }
                return Array(text.utf8)
            })
        }
        #expect(error?.kind == .badRequest)
        for word in row.mentions {
            #expect(error?.message.contains(word) == true, "\(error?.message ?? "") should mention \(word)")
        }
    }

    @Test func keyOfExactly32BytesIsAccepted() throws {
        #expect(try cfgParse(Self.keys(cfgKeyEntry("k", seed: 9))).signingKeys.first?.secret.count == 32)
        let longer = "{ \"KeyId\": \"k\", \"Secret\": \"\(cfgSecretBase64(9, count: 64))\" }"
        #expect(try cfgParse(Self.keys(longer)).signingKeys.first?.secret == cfgSecret(9, count: 64))
        #expect(throws: ConfigurationError.self) { try SigningKey(keyId: "k", secret: cfgSecret(9, count: 31)) }
    }

    @Test func duplicateKeyIdIsBadRequest() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try cfgParse(Self.keys(cfgKeyEntry("k", seed: 1), cfgKeyEntry("k", seed: 2)))
        }
        #expect(error?.kind == .badRequest)
        #expect(error?.message.contains("SigningKeys[1]") == true)
        #expect(error?.message.contains("\"k\"") == true)
    }

    @Test func keyIdOf32CharactersIsAccepted() throws {
        let id = String(repeating: "a", count: 30) + "_-"
        #expect(try cfgParse(Self.keys(cfgKeyEntry(id))).signingKeys.first?.keyId == id)
    }
}

@Suite("Configuration: error messages")
struct ConfigurationErrorMessageTests {
    @Test func wrongTypeUnderSigningKeysDoesNotEchoASecret() throws {
        let secret = cfgSecretBase64(1)
        for json in ["{ \"SigningKeys\": [\"\(secret)\"] }", "{ \"SigningKeys\": \"\(secret)\" }",
                     "{ \"SigningKeys\": [{ \"KeyId\": \"k\", \"Secret\": [\"\(secret)\"] }] }"] {
            let error = #expect(throws: ConfigurationError.self) { try cfgParse(json) }
            #expect(error?.kind == .badRequest)
            #expect(error?.message.contains(String(secret.prefix(8))) == false, "\(error?.message ?? "")")
        }
    }

    @Test func longWrongTypeValueIsCut() throws {
        let long = String(repeating: "x", count: 200)
        let error = #expect(throws: ConfigurationError.self) {
            try cfgParse("{ \"ConfigurationSets\": [{ \"ConfigurationSetName\": [\"\(long)\"] }] }")
        }
        #expect(error?.message.contains("[\"xxxxxxxx") == true)
        #expect((error?.message.count ?? 1000) < 150)
    }
}
