import Testing
@testable import LinkTrack

/// `putConfigurationSetTrackingOptions(json:...)` changes only the set's `TrackingOptions` member:
/// the result is the document the API call gives, and every byte outside the member is the file's
/// own (issue 16, item 2).
@Suite("Configuration: put keeps the file as written outside TrackingOptions")
struct PutSpliceTests {
    static let key = "{ \"KeyId\": \"k1\", \"Secret\": \"\(cfgSecretBase64(1))\" }"

    struct FileRow: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var set: String
        var testDescription: String { name }
    }

    static let files: [FileRow] = [
        FileRow(name: "hand-written, arrays on one line", text: """
            {
              "ConfigurationSets": [
                { "ConfigurationSetName": "marketing",
                  "TrackingOptions": { "CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE" },
                  "EventDestinations": [ { "Name": "tracking", "Enabled": true, "MatchingEventTypes": ["OPEN", "CLICK"] } ] },
                { "ConfigurationSetName": "receipts" }
              ],
              "DefaultConfigurationSet": "marketing",
              "SigningKeys": [ \(key) ]
            }

            """, set: "marketing"),
        FileRow(name: "set without TrackingOptions, on one line", text: """
            {"ConfigurationSets":[{"ConfigurationSetName":"marketing"},{"ConfigurationSetName":"receipts","EventDestinations":[]}],"SigningKeys":[\(key)]}
            """, set: "receipts"),
        FileRow(name: "serialised, multi-line TrackingOptions", text: """
            {
              "ConfigurationSets": [
                {
                  "ConfigurationSetName": "marketing",
                  "TrackingOptions": {
                    "CustomRedirectDomain": "links.example.com",
                    "HttpsPolicy": "REQUIRE"
                  },
                  "EventDestinations": [
                    {
                      "Name": "tracking",
                      "Enabled": true,
                      "MatchingEventTypes": [
                        "OPEN",
                        "CLICK"
                      ]
                    }
                  ]
                }
              ],
              "SigningKeys": [ \(key) ]
            }

            """, set: "marketing"),
        FileRow(name: "multi-line set without TrackingOptions, tabs", text: "{\n\t\"ConfigurationSets\": [\n\t\t{\n\t\t\t\"ConfigurationSetName\": \"marketing\",\n\t\t\t\"Tags\": []\n\t\t}\n\t],\n\t\"SigningKeys\": [ \(key) ]\n}\n",
                set: "marketing"),
        FileRow(name: "CRLF line endings", text: "{\r\n  \"ConfigurationSets\": [\r\n    {\r\n      \"ConfigurationSetName\": \"marketing\",\r\n      \"TrackingOptions\": {\r\n        \"HttpsPolicy\": \"OPTIONAL\"\r\n      }\r\n    }\r\n  ],\r\n  \"SigningKeys\": [ \(key) ]\r\n}\r\n",
                set: "marketing"),
        FileRow(name: "empty TrackingOptions last, odd spacing", text: """
            { "SigningKeys" : [ \(key) ] ,"ConfigurationSets":[ {"Tags":[ {"Key":"a","Value":"b"} ],  "ConfigurationSetName" :"m-1" , "TrackingOptions" : {} } ] }
            """, set: "m-1"),
    ]

    static let requests: [(domain: String?, policy: String?)] = [
        ("click.example.org", nil), (nil, "REQUIRE"), ("click.example.org", "REQUIRE_OPEN_ONLY"), (nil, nil),
    ]

    @Test(arguments: files, requests.indices)
    func onlyTheMemberChanges(_ row: FileRow, _ request: Int) throws {
        let (domain, policy) = Self.requests[request]
        let before = Array(row.text.utf8)
        let after = try Configuration.putConfigurationSetTrackingOptions(
            json: before, configurationSetName: row.set, customRedirectDomain: domain, httpsPolicy: policy)
        // The same document as the API call on the parsed file.
        let expected = try Configuration.putConfigurationSetTrackingOptions(
            document: JSONValue.parse(before), configurationSetName: row.set, customRedirectDomain: domain, httpsPolicy: policy)
        #expect(try JSONValue.parse(after) == expected)
        // Byte for byte outside the member: what stands before the old value (or the insertion point)
        // and after it is the file's own.
        let (value, location) = try JSONValue.parseWithLocations(before)
        guard case .array(let sets)? = value["ConfigurationSets"],
              let index = sets.firstIndex(where: { $0["ConfigurationSetName"] == .string(row.set) }) else {
            Issue.record("no set \(row.set)")
            return
        }
        let set = try #require(location["ConfigurationSets"]?.items[index])
        let changed = set["TrackingOptions"]?.documentRange
            ?? set["ConfigurationSetName"].map { $0.documentRange.upperBound..<$0.documentRange.upperBound }
        let range = try #require(changed)
        #expect(Array(after.prefix(range.lowerBound)) == Array(before[..<range.lowerBound]))
        #expect(Array(after.suffix(before.count - range.upperBound)) == Array(before[range.upperBound...]))
        #expect(after.count >= before.count - range.count)
    }

    @Test func theNewValueFollowsTheOldLayout() throws {
        let oneLine = try Configuration.putConfigurationSetTrackingOptions(
            json: Array(Self.files[0].text.utf8), configurationSetName: "marketing",
            customRedirectDomain: "click.example.org", httpsPolicy: "REQUIRE")
        #expect(String(decoding: oneLine, as: UTF8.self).contains(
            "\n      \"TrackingOptions\": { \"CustomRedirectDomain\": \"click.example.org\", \"HttpsPolicy\": \"REQUIRE\" },\n"))
        let serialised = try Configuration.putConfigurationSetTrackingOptions(
            json: Array(Self.files[2].text.utf8), configurationSetName: "marketing",
            customRedirectDomain: nil, httpsPolicy: "REQUIRE")
        #expect(String(decoding: serialised, as: UTF8.self).contains(
            "      \"TrackingOptions\": {\n        \"HttpsPolicy\": \"REQUIRE\"\n      },\n"))
        let inserted = try Configuration.putConfigurationSetTrackingOptions(
            json: Array(Self.files[3].text.utf8), configurationSetName: "marketing",
            customRedirectDomain: "c.example.org", httpsPolicy: nil)
        #expect(String(decoding: inserted, as: UTF8.self).contains(
            "\t\t\t\"ConfigurationSetName\": \"marketing\",\n\t\t\t\"TrackingOptions\": {\n\t\t\t\t\"CustomRedirectDomain\": \"c.example.org\"\n\t\t\t},\n\t\t\t\"Tags\": []\n"))
        let crlf = try Configuration.putConfigurationSetTrackingOptions(
            json: Array(Self.files[4].text.utf8), configurationSetName: "marketing",
            customRedirectDomain: "c.example.org", httpsPolicy: nil)
        #expect(String(decoding: crlf, as: UTF8.self).contains(
            "\"TrackingOptions\": {\r\n        \"CustomRedirectDomain\": \"c.example.org\"\r\n      }\r\n"))
    }

    /// Errors are the document-level call's, and the file's bytes are not produced.
    @Test func errorsAreTheAPIsErrors() {
        let text = Array(Self.files[0].text.utf8)
        #expect(throws: ConfigurationError.notFound(configurationSet: "nope")) {
            try Configuration.putConfigurationSetTrackingOptions(json: text, configurationSetName: "nope",
                                                                 customRedirectDomain: "x.example.com", httpsPolicy: nil)
        }
        #expect(throws: ConfigurationError.self) {
            try Configuration.putConfigurationSetTrackingOptions(json: Array("{ [".utf8), configurationSetName: "m",
                                                                 customRedirectDomain: nil, httpsPolicy: nil)
        }
    }

    /// Locations: each value's range holds exactly its text, and keys' ranges their quoted keys.
    @Test func locationsPointAtTheValues() throws {
        let text = Array(#" { "a" : [1, "x\"y", {"b":null}], "c":true } "#.utf8)
        let (value, location) = try JSONValue.parseWithLocations(text)
        #expect(try JSONValue.parse(text) == value)
        func slice(_ r: Range<Int>) -> String { String(decoding: text[r], as: UTF8.self) }
        #expect(slice(location.documentRange) == #"{ "a" : [1, "x\"y", {"b":null}], "c":true }"#)
        #expect(location.members.map(\.key) == ["a", "c"])
        #expect(slice(location.members[0].keyDocumentRange) == #""a""#)
        #expect(slice(try #require(location["a"]).documentRange) == #"[1, "x\"y", {"b":null}]"#)
        #expect(try #require(location["a"]).items.map { slice($0.documentRange) } == ["1", #""x\"y""#, #"{"b":null}"#])
        #expect(slice(try #require(location["a"]?.items[2]["b"]).documentRange) == "null")
        #expect(slice(try #require(location["c"]).documentRange) == "true")
    }
}
