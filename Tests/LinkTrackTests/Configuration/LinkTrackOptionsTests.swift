import Testing
@testable import LinkTrack

/// `LinkTrackOptions` in a configuration set: defaults, parsing, validation messages, and the put.
@Suite("Configuration: LinkTrackOptions")
struct LinkTrackOptionsTests {
    static func document(_ options: String?) -> String {
        let member = options.map { ", \"LinkTrackOptions\": \($0)" } ?? ""
        return """
        { "ConfigurationSets": [ { "ConfigurationSetName": "marketing",
            "TrackingOptions": { "CustomRedirectDomain": "links.example.com" }\(member) } ],
          "SigningKeys": [ \(cfgKeyEntry()) ] }
        """
    }

    static func options(_ json: String?) throws(ConfigurationError) -> LinkTrackOptions {
        try Configuration(json: Array(document(json).utf8), environment: { _ in nil })
            .configurationSet(named: "marketing").linkTrackOptions
    }

    struct ValidRow: Sendable, CustomTestStringConvertible {
        var name: String
        var json: String?
        var trackUnsubscribeLinks = false
        var excludedDomains: [String] = []
        var honorOtherOptOutAttributes = false
        var trackLinksIn = TrackLinksIn.html
        var testDescription: String { name }
    }

    static let validRows: [ValidRow] = [
        ValidRow(name: "absent: the defaults", json: nil),
        ValidRow(name: "empty object: the defaults", json: "{}"),
        ValidRow(name: "every field", json: #"{"TrackUnsubscribeLinks": true, "ExcludedDomains": ["partner.example", "*.bank.example"], "HonorOtherOptOutAttributes": true, "TrackLinksIn": "HTML_AND_TEXT"}"#,
                 trackUnsubscribeLinks: true, excludedDomains: ["partner.example", "*.bank.example"], honorOtherOptOutAttributes: true,
                 trackLinksIn: .htmlAndText),
        ValidRow(name: "the documented defaults written out", json: #"{"TrackUnsubscribeLinks": false, "ExcludedDomains": [], "HonorOtherOptOutAttributes": false, "TrackLinksIn": "HTML"}"#),
        ValidRow(name: "TEXT only", json: #"{"TrackLinksIn": "TEXT"}"#, trackLinksIn: .text),
        ValidRow(name: "IDN domains in both forms and a leading-dot wildcard", json: #"{"ExcludedDomains": ["bücher.example", "xn--bcher-kva.example", ".bank.example"]}"#,
                 excludedDomains: ["bücher.example", "xn--bcher-kva.example", ".bank.example"]),
    ]

    @Test(arguments: validRows)
    func parses(_ row: ValidRow) throws {
        let options = try Self.options(row.json)
        #expect(options.trackUnsubscribeLinks == row.trackUnsubscribeLinks)
        #expect(options.excludedDomains.entries == row.excludedDomains)
        #expect(options.honorOtherOptOutAttributes == row.honorOtherOptOutAttributes)
        #expect(options.trackLinksIn == row.trackLinksIn)
        #expect(options.isDefault == (row.json == nil || row.name.contains("defaults")))
    }

    struct InvalidRow: Sendable, CustomTestStringConvertible {
        var name: String
        var json: String
        var message: String
        var testDescription: String { name }
    }

    static let field = "ConfigurationSets[0].LinkTrackOptions"

    static let invalidRows: [InvalidRow] = [
        InvalidRow(name: "unknown member", json: #"{"TrackOpens": false}"#, message: "Unknown key \"TrackOpens\" in \(field)."),
        InvalidRow(name: "repeated member", json: #"{"TrackLinksIn": "HTML", "TrackLinksIn": "TEXT"}"#, message: "Duplicate key \"TrackLinksIn\" in \(field)."),
        InvalidRow(name: "not an object", json: #"true"#, message: "Invalid type for \(field): expected object, found boolean true."),
        InvalidRow(name: "boolean as a string", json: #"{"TrackUnsubscribeLinks": "false"}"#,
                   message: "Invalid type for \(field).TrackUnsubscribeLinks: expected boolean, found string \"false\"."),
        InvalidRow(name: "HonorOtherOptOutAttributes as a number", json: #"{"HonorOtherOptOutAttributes": 1}"#,
                   message: "Invalid type for \(field).HonorOtherOptOutAttributes: expected boolean, found number 1."),
        InvalidRow(name: "ExcludedDomains as a string", json: #"{"ExcludedDomains": "partner.example"}"#,
                   message: "Invalid type for \(field).ExcludedDomains: expected array, found string \"partner.example\"."),
        InvalidRow(name: "ExcludedDomains with a number", json: #"{"ExcludedDomains": [1]}"#,
                   message: "Invalid type for \(field).ExcludedDomains: expected array of strings, found number 1."),
        InvalidRow(name: "excluded domain with a scheme", json: #"{"ExcludedDomains": ["https://partner.example"]}"#,
                   message: "Invalid ExcludedDomains value \"https://partner.example\": it contains a scheme; give the host name only."),
        InvalidRow(name: "excluded domain with a star inside", json: #"{"ExcludedDomains": ["bank*.example"]}"#,
                   message: "Invalid ExcludedDomains value \"bank*.example\": '*' is allowed only as the whole first label ('*.example.com')."),
        InvalidRow(name: "TrackLinksIn in lower case", json: #"{"TrackLinksIn": "html"}"#,
                   message: "Invalid TrackLinksIn value \"html\": expected one of HTML, HTML_AND_TEXT, TEXT."),
        InvalidRow(name: "TrackLinksIn as Postmark spells it", json: #"{"TrackLinksIn": "HtmlAndText"}"#,
                   message: "Invalid TrackLinksIn value \"HtmlAndText\": expected one of HTML, HTML_AND_TEXT, TEXT."),
        InvalidRow(name: "TrackLinksIn not a string", json: #"{"TrackLinksIn": null}"#,
                   message: "Invalid type for \(field).TrackLinksIn: expected string, found null null."),
    ]

    @Test(arguments: invalidRows)
    func refuses(_ row: InvalidRow) {
        #expect(throws: ConfigurationError.badRequest(row.message)) { try Self.options(row.json) }
    }

    @Test func builtInCodeIsCheckedAsAFileIs() throws {
        let options = try LinkTrackOptions(excludedDomains: ["partner.example"], trackLinksIn: .text)
        #expect(options.excludedDomains.matches(host: Array("PARTNER.example".utf8)))
        #expect(throws: ConfigurationError.badRequest("Invalid ExcludedDomains value \"a b\": it contains a space.")) {
            try LinkTrackOptions(excludedDomains: ["a b"])
        }
    }

    // MARK: - put

    struct PutRow: Sendable, CustomTestStringConvertible {
        var name: String
        var before: String
        var fields: [(key: String, value: JSONValue)]
        var after: String
        var testDescription: String { name }
    }

    static let key = "{ \"KeyId\": \"k1\", \"Secret\": \"\(cfgSecretBase64(1))\" }"

    static let putRows: [PutRow] = [
        PutRow(name: "one-line set: inserted after TrackingOptions", before: """
            { "ConfigurationSets": [ { "ConfigurationSetName": "m", "TrackingOptions": { "CustomRedirectDomain": "l.example" }, "Tags": [] } ], "SigningKeys": [ \(key) ] }
            """, fields: [("TrackLinksIn", .string("TEXT"))], after: """
            { "ConfigurationSets": [ { "ConfigurationSetName": "m", "TrackingOptions": { "CustomRedirectDomain": "l.example" }, "LinkTrackOptions": { "TrackLinksIn": "TEXT" }, "Tags": [] } ], "SigningKeys": [ \(key) ] }
            """),
        PutRow(name: "no TrackingOptions: inserted after the name", before: """
            {"ConfigurationSets":[{"ConfigurationSetName":"m","Tags":[]}],"SigningKeys":[\(key)]}
            """, fields: [("TrackUnsubscribeLinks", .bool(true))], after: """
            {"ConfigurationSets":[{"ConfigurationSetName":"m", "LinkTrackOptions": { "TrackUnsubscribeLinks": true },"Tags":[]}],"SigningKeys":[\(key)]}
            """),
        PutRow(name: "multi-line member replaced whole (PUT): omitted fields removed", before: """
            {
              "ConfigurationSets": [
                {
                  "ConfigurationSetName": "m",
                  "LinkTrackOptions": {
                    "TrackUnsubscribeLinks": true,
                    "TrackLinksIn": "TEXT"
                  }
                }
              ],
              "SigningKeys": [ \(key) ]
            }
            """, fields: [("ExcludedDomains", .array([.string("partner.example"), .string("*.bank.example")])),
                          ("HonorOtherOptOutAttributes", .bool(false))], after: """
            {
              "ConfigurationSets": [
                {
                  "ConfigurationSetName": "m",
                  "LinkTrackOptions": {
                    "ExcludedDomains": ["partner.example", "*.bank.example"],
                    "HonorOtherOptOutAttributes": false
                  }
                }
              ],
              "SigningKeys": [ \(key) ]
            }
            """),
        PutRow(name: "multi-line set, TrackingOptions on one line: new member on its own line, on one line", before: """
            {
              "ConfigurationSets": [
                {
                  "ConfigurationSetName": "m",
                  "TrackingOptions": { "CustomRedirectDomain": "l.example" }
                }
              ],
              "SigningKeys": [ \(key) ]
            }
            """, fields: [("TrackLinksIn", .string("HTML_AND_TEXT"))], after: """
            {
              "ConfigurationSets": [
                {
                  "ConfigurationSetName": "m",
                  "TrackingOptions": { "CustomRedirectDomain": "l.example" },
                  "LinkTrackOptions": { "TrackLinksIn": "HTML_AND_TEXT" }
                }
              ],
              "SigningKeys": [ \(key) ]
            }
            """),
        PutRow(name: "multi-line set, TrackingOptions over lines: new member over lines", before: """
            {
              "ConfigurationSets": [
                {
                  "ConfigurationSetName": "m",
                  "TrackingOptions": {
                    "CustomRedirectDomain": "l.example"
                  }
                }
              ],
              "SigningKeys": [ \(key) ]
            }
            """, fields: [("TrackLinksIn", .string("HTML_AND_TEXT")), ("TrackUnsubscribeLinks", .bool(true))], after: """
            {
              "ConfigurationSets": [
                {
                  "ConfigurationSetName": "m",
                  "TrackingOptions": {
                    "CustomRedirectDomain": "l.example"
                  },
                  "LinkTrackOptions": {
                    "TrackLinksIn": "HTML_AND_TEXT",
                    "TrackUnsubscribeLinks": true
                  }
                }
              ],
              "SigningKeys": [ \(key) ]
            }
            """),
        PutRow(name: "no fields: an empty object, every default", before: """
            { "ConfigurationSets": [ { "ConfigurationSetName": "m", "LinkTrackOptions": { "TrackLinksIn": "TEXT" } } ], "SigningKeys": [ \(key) ] }
            """, fields: [], after: """
            { "ConfigurationSets": [ { "ConfigurationSetName": "m", "LinkTrackOptions": {} } ], "SigningKeys": [ \(key) ] }
            """),
    ]

    @Test(arguments: putRows)
    func puts(_ row: PutRow) throws {
        let written = try Configuration.putConfigurationSetLinkTrackOptions(
            json: Array(row.before.utf8), configurationSetName: "m", fields: row.fields)
        #expect(String(decoding: written, as: UTF8.self) == row.after)
        // The splice gives the document the document-level call gives.
        let document = try Configuration.putConfigurationSetLinkTrackOptions(
            document: JSONValue.parse(Array(row.before.utf8)), configurationSetName: "m", fields: row.fields)
        #expect(try JSONValue.parse(written) == document)
    }

    struct PutErrorRow: Sendable, CustomTestStringConvertible {
        var name: String
        var set: String
        var fields: [(key: String, value: JSONValue)]
        var error: ConfigurationError
        var testDescription: String { name }
    }

    static let putErrorRows: [PutErrorRow] = [
        PutErrorRow(name: "unknown set", set: "nope", fields: [], error: .notFound(configurationSet: "nope")),
        PutErrorRow(name: "invalid domain", set: "m", fields: [("ExcludedDomains", .array([.string("a/b")]))],
                    error: .badRequest("Invalid ExcludedDomains value \"a/b\": it contains a path; give the host name only.")),
        PutErrorRow(name: "invalid TrackLinksIn", set: "m", fields: [("TrackLinksIn", .string("ALL"))],
                    error: .badRequest("Invalid TrackLinksIn value \"ALL\": expected one of HTML, HTML_AND_TEXT, TEXT.")),
    ]

    @Test(arguments: putErrorRows)
    func putRefuses(_ row: PutErrorRow) {
        let before = """
            { "ConfigurationSets": [ { "ConfigurationSetName": "m" } ], "SigningKeys": [ \(Self.key) ] }
            """
        #expect(throws: row.error) {
            try Configuration.putConfigurationSetLinkTrackOptions(json: Array(before.utf8), configurationSetName: row.set, fields: row.fields)
        }
    }
}
