import Foundation
import Testing
@testable import LinkTrack

/// `Configuration.putConfigurationSetTrackingOptions`: SES v2's PUT applied to a configuration document.
@Suite("Configuration: PutConfigurationSetTrackingOptions")
struct ConfigurationPutTrackingOptionsTests {
    /// A document with members in an unusual order, extra SES members and two sets, as an operator might write it.
    static let document = """
    {
      "SigningKeys": [ \(cfgKeyEntry("k2026", seed: 1)) ],
      "ConfigurationSets": [
        {
          "Tags": [{ "Key": "team", "Value": "growth" }],
          "ConfigurationSetName": "marketing",
          "TrackingOptions": { "HttpsPolicy": "REQUIRE", "CustomRedirectDomain": "links.example.com" },
          "EventDestinations": [{ "Name": "t", "Enabled": true, "MatchingEventTypes": ["OPEN", "CLICK"] }],
          "DeliveryOptions": { "TlsPolicy": "OPTIONAL", "MaxDeliverySeconds": 300 }
        },
        {
          "ConfigurationSetName": "receipts",
          "SendingOptions": { "SendingEnabled": true }
        }
      ],
      "DefaultConfigurationSet": "receipts"
    }
    """

    static func parsed() throws -> JSONValue { try JSONValue.parse(Array(document.utf8)) }

    static func put(_ name: String, domain: String?, policy: String?) throws(ConfigurationError) -> JSONValue {
        let original = try! parsed()
        return try Configuration.putConfigurationSetTrackingOptions(
            document: original, configurationSetName: name, customRedirectDomain: domain, httpsPolicy: policy,
            environment: { _ in nil }, readFile: { path in throw IOError(operation: "open", path: path, errorNumber: 2) })
    }

    /// The original document's serialization with one TrackingOptions value replaced by `replacement`.
    static func expectedSerialization(replacing old: String, with replacement: String) throws -> String {
        let before = try parsed().serialized()
        #expect(before.contains(old))
        return before.replacingOccurrences(of: old, with: replacement)
    }

    static let marketingOptions = """
    "TrackingOptions": {
            "HttpsPolicy": "REQUIRE",
            "CustomRedirectDomain": "links.example.com"
          }
    """

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var domain: String?
        var policy: String?
        /// The serialized TrackingOptions member expected afterwards.
        var expected: String
        var domainAfter: String?
        var policyAfter: HttpsPolicy
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "both fields replace both, in the request's order", domain: "click.example.org", policy: "OPTIONAL",
            expected: """
            "TrackingOptions": {
                    "CustomRedirectDomain": "click.example.org",
                    "HttpsPolicy": "OPTIONAL"
                  }
            """, domainAfter: "click.example.org", policyAfter: .optional),
        Row(name: "omitted HttpsPolicy is removed (PUT), meaning OPTIONAL", domain: "links.example.com", policy: nil,
            expected: """
            "TrackingOptions": {
                    "CustomRedirectDomain": "links.example.com"
                  }
            """, domainAfter: "links.example.com", policyAfter: .optional),
        Row(name: "omitted CustomRedirectDomain is removed (PUT): the set tracks nothing", domain: nil, policy: "REQUIRE_OPEN_ONLY",
            expected: """
            "TrackingOptions": {
                    "HttpsPolicy": "REQUIRE_OPEN_ONLY"
                  }
            """, domainAfter: nil, policyAfter: .requireOpenOnly),
        Row(name: "nothing given empties TrackingOptions", domain: nil, policy: nil,
            expected: "\"TrackingOptions\": {}", domainAfter: nil, policyAfter: .optional),
    ]

    @Test(arguments: rows)
    func putReplacesTrackingOptionsExactlyAndKeepsTheRest(_ row: Row) throws {
        let updated = try Self.put("marketing", domain: row.domain, policy: row.policy)
        // Byte for byte: only the TrackingOptions member differs from the original's serialization.
        #expect(updated.serialized() == (try Self.expectedSerialization(replacing: Self.marketingOptions, with: row.expected)))
        let set = try Configuration(document: updated, environment: { _ in nil }).configurationSet(named: "marketing")
        #expect(set.customRedirectDomain == row.domainAfter)
        #expect(set.httpsPolicy == row.policyAfter)
        #expect(set.tracksOpens && set.tracksClicks)
    }

    @Test func putInsertsTrackingOptionsAfterTheNameWhenAbsent() throws {
        let updated = try Self.put("receipts", domain: "r.example.com", policy: "REQUIRE")
        let old = """
        "ConfigurationSetName": "receipts",
        """
        let new = """
        "ConfigurationSetName": "receipts",
              "TrackingOptions": {
                "CustomRedirectDomain": "r.example.com",
                "HttpsPolicy": "REQUIRE"
              },
        """
        #expect(updated.serialized() == (try Self.expectedSerialization(replacing: old, with: new)))
        let set = try Configuration(document: updated, environment: { _ in nil }).configurationSet(named: "receipts")
        #expect(set == ConfigurationSet(name: "receipts", customRedirectDomain: "r.example.com", httpsPolicy: .require))
    }

    @Test func putWithTheSameOptionsChangesNothing() throws {
        let updated = try Self.put("marketing", domain: "links.example.com", policy: "REQUIRE")
        // Same values but in the request's order (PUT writes what it is given).
        let reordered = """
        "TrackingOptions": {
                "CustomRedirectDomain": "links.example.com",
                "HttpsPolicy": "REQUIRE"
              }
        """
        #expect(updated.serialized() == (try Self.expectedSerialization(replacing: Self.marketingOptions, with: reordered)))
        #expect(try Configuration(document: updated, environment: { _ in nil })
                == Configuration(document: Self.parsed(), environment: { _ in nil }))
    }

    struct ErrorRow: Sendable, CustomTestStringConvertible {
        var name: String
        var set: String
        var domain: String?
        var policy: String?
        var kind: ConfigurationError.Kind
        var mentions: [String]
        var testDescription: String { name }
    }

    static let errorRows: [ErrorRow] = [
        ErrorRow(name: "unknown set is NotFound", set: "nope", domain: "x.example.com", policy: nil,
                 kind: .notFound, mentions: ["Configuration set nope does not exist."]),
        ErrorRow(name: "unknown set with nothing given is NotFound", set: "nope", domain: nil, policy: nil,
                 kind: .notFound, mentions: ["Configuration set nope does not exist."]),
        ErrorRow(name: "set names are case-sensitive", set: "Marketing", domain: nil, policy: nil,
                 kind: .notFound, mentions: ["Configuration set Marketing does not exist."]),
        ErrorRow(name: "bad domain with a scheme", set: "marketing", domain: "https://x.com", policy: "REQUIRE",
                 kind: .badRequest, mentions: ["CustomRedirectDomain", "\"https://x.com\""]),
        ErrorRow(name: "bad domain with an empty label", set: "marketing", domain: "a..b", policy: nil,
                 kind: .badRequest, mentions: ["CustomRedirectDomain", "\"a..b\""]),
        ErrorRow(name: "bad domain on an unknown set is BadRequest first", set: "nope", domain: "x.com:80", policy: nil,
                 kind: .badRequest, mentions: ["CustomRedirectDomain", "\"x.com:80\""]),
        ErrorRow(name: "bad policy lower case", set: "marketing", domain: "links.example.com", policy: "require",
                 kind: .badRequest, mentions: ["HttpsPolicy", "\"require\""]),
        ErrorRow(name: "bad policy empty", set: "marketing", domain: nil, policy: "",
                 kind: .badRequest, mentions: ["HttpsPolicy", "\"\""]),
    ]

    @Test(arguments: errorRows)
    func putErrorsLeaveTheDocumentUnchanged(_ row: ErrorRow) throws {
        let original = try Self.parsed()
        var document = original
        let error = #expect(throws: ConfigurationError.self) {
            document = try Configuration.putConfigurationSetTrackingOptions(
                document: document, configurationSetName: row.set, customRedirectDomain: row.domain,
                httpsPolicy: row.policy, environment: { _ in nil })
        }
        #expect(error?.kind == row.kind)
        for word in row.mentions {
            #expect(error?.message.contains(word) == true, "\(error?.message ?? "") should mention \(word)")
        }
        #expect(document == original)
        #expect(document.serialized() == original.serialized())
    }

    @Test func putOnAnInvalidDocumentIsBadRequest() throws {
        let invalid = try JSONValue.parse(Array(cfgDocument(sets: [cfgSet("marketing", "\"Bogus\": 1")]).utf8))
        let error = #expect(throws: ConfigurationError.self) {
            try Configuration.putConfigurationSetTrackingOptions(
                document: invalid, configurationSetName: "marketing", customRedirectDomain: "x.example.com",
                httpsPolicy: nil, environment: { _ in nil })
        }
        #expect(error?.kind == .badRequest)
        #expect(error?.message.contains("\"Bogus\"") == true)
    }

    @Test func serializationRoundTripsMemberOrder() throws {
        let document = try Self.parsed()
        let again = try JSONValue.parse(Array(document.serialized().utf8))
        #expect(again == document)
        guard case .object(let members) = document else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["SigningKeys", "ConfigurationSets", "DefaultConfigurationSet"])
    }
}
