import Testing
@testable import LinkTrack

/// Issue 16, item 17: loading is linear in the number of configuration sets (each duplicate-name
/// check searched every set before it: 10,000 sets took 0.39 s per message, 40,000 sets 3.5 s).
/// Timing is not asserted; a quadratic load of this size takes over a minute in a debug build.
@Suite struct ConfigurationScaleTests {
    static let count = 40_000

    /// A configuration with `count` sets named `set00000`, `set00001`, ..., then `extra` entries.
    static func json(count: Int, extra: [String] = [], defaultSet: String) -> [UInt8] {
        var text = "{\"ConfigurationSets\": ["
        text.reserveCapacity(count * 110)
        for index in 0..<count {
            if index > 0 { text += "," }
            text += "{\"ConfigurationSetName\": \"\(name(index))\", \"TrackingOptions\": {\"CustomRedirectDomain\": \"links\(index % 7).example.com\"}}"
        }
        for entry in extra { text += "," + entry }
        text += "], \"DefaultConfigurationSet\": \"\(defaultSet)\","
        text += " \"SigningKeys\": [{\"KeyId\": \"k1\", \"Secret\": \"bWVzc2FnZS1maWx0ZXItdGVzdC1rZXktMDAwMDAwMDE=\"}]}"
        return Array(text.utf8)
    }

    static func name(_ index: Int) -> String {
        let digits = String(index)
        return "set" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    @Test func fortyThousandSetsLoadAndTheLastIsFound() throws {
        let last = Self.name(Self.count - 1)
        let configuration = try Configuration(json: Self.json(count: Self.count, defaultSet: last))
        #expect(configuration.configurationSets.count == Self.count)
        #expect(configuration.defaultConfigurationSet == last)
        let set = try configuration.configurationSet(named: last)
        #expect(set.customRedirectDomain == "links\((Self.count - 1) % 7).example.com")
        #expect(throws: ConfigurationError.notFound(configurationSet: "set40000")) {
            try configuration.configurationSet(named: "set40000")
        }

        // A message naming the last set is tracked with it.
        let filter = try MessageFilter(configuration: configuration)
        let message = Array(("X-SES-CONFIGURATION-SET: \(last)\r\nMessage-ID: <scale@example.com>\r\nContent-Type: text/html\r\n\r\n"
            + "<a href=\"https://example.com/\">x</a>\r\n").utf8)
        let (output, report) = try filter.filter(message)
        #expect(report.configurationSet == last)
        #expect(String(decoding: output, as: UTF8.self).utf8.containsBytes("https://links\((Self.count - 1) % 7).example.com/c/".utf8))
    }

    @Test func aDuplicateNameAfterFortyThousandSetsIsStillRejected() {
        let duplicate = "{\"ConfigurationSetName\": \"\(Self.name(17))\"}"
        #expect(throws: ConfigurationError.badRequest("ConfigurationSets[\(Self.count)]: the name \"\(Self.name(17))\" is used twice.")) {
            try Configuration(json: Self.json(count: Self.count, extra: [duplicate], defaultSet: Self.name(0)))
        }
    }

    @Test func anUnknownDefaultSetAmongFortyThousandIsNotFound() {
        #expect(throws: ConfigurationError.notFound(configurationSet: "set40000")) {
            try Configuration(json: Self.json(count: Self.count, defaultSet: "set40000"))
        }
    }
}
