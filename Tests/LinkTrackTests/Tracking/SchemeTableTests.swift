import Testing
@testable import LinkTrack

/// Issue 2's scheme rules as a full table.
@Suite("Tracking: scheme table")
struct TrackingSchemeTableTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var policy: HttpsPolicy
        var original: HttpsPolicy.Scheme
        var click: HttpsPolicy.Scheme
        var testDescription: String { "\(policy.rawValue): \(original.rawValue) link → \(click.rawValue) click URL" }
    }

    /// Every HttpsPolicy × original scheme.
    static let clickRows: [Row] = [
        Row(policy: .optional, original: .http, click: .http),
        Row(policy: .optional, original: .https, click: .https),
        Row(policy: .require, original: .http, click: .https),
        Row(policy: .require, original: .https, click: .https),
        Row(policy: .requireOpenOnly, original: .http, click: .http),
        Row(policy: .requireOpenOnly, original: .https, click: .https),
    ]

    static let openRows: [(HttpsPolicy, HttpsPolicy.Scheme)] = [
        (.optional, .http),
        (.require, .https),
        (.requireOpenOnly, .https),
    ]

    @Test func tableCoversEveryPolicyAndScheme() {
        let covered = Set(Self.clickRows.map { "\($0.policy.rawValue) \($0.original.rawValue)" })
        #expect(covered.count == HttpsPolicy.allCases.count * 2)
        #expect(Set(Self.openRows.map(\.0.rawValue)) == Set(HttpsPolicy.allCases.map(\.rawValue)))
    }

    @Test(arguments: clickRows)
    func clickScheme(_ row: Row) {
        #expect(row.policy.clickScheme(original: row.original) == row.click)
    }

    @Test(arguments: openRows)
    func openScheme(_ policy: HttpsPolicy, _ expected: HttpsPolicy.Scheme) {
        #expect(policy.openScheme == expected)
    }

    static let signer = try! LinkSigner(keys: [try! SigningKey(keyId: "k1", secret: cfgSecret(1))])

    @Test(arguments: clickRows)
    func clickURLStartsWithTheTableScheme(_ row: Row) throws {
        let destination = "\(row.original.rawValue)://shop.example.com/sale?id=1"
        let token = ClickToken(destination: destination, messageId: "m@example.com", configurationSet: "marketing", linkIndex: 0)
        let url = try #require(Self.signer.clickURL(token, scheme: row.policy.clickScheme(original: row.original),
                                                    domain: "links.example.com"))
        #expect(url.hasPrefix("\(row.click.rawValue)://links.example.com/c/"))
        #expect(try Self.signer.decode(url) == .click(token), "the destination keeps its own scheme")
    }

    @Test(arguments: openRows)
    func openURLStartsWithTheTableScheme(_ policy: HttpsPolicy, _ expected: HttpsPolicy.Scheme) throws {
        let token = OpenToken(messageId: "m@example.com", configurationSet: "marketing")
        let url = Self.signer.openURL(token, scheme: policy.openScheme, domain: "links.example.com")
        #expect(url.hasPrefix("\(expected.rawValue)://links.example.com/o/"))
        #expect(try Self.signer.decode(url) == .open(token))
    }

    /// From a parsed configuration to the URL, as the rewriter does it.
    @Test(arguments: HttpsPolicy.allCases)
    func configuredPolicyDrivesTheSchemes(_ policy: HttpsPolicy) throws {
        let json = cfgDocument(sets: [cfgSet("marketing",
            "\"TrackingOptions\": { \"CustomRedirectDomain\": \"links.example.com\", \"HttpsPolicy\": \"\(policy.rawValue)\" }")])
        let configuration = try cfgParse(json)
        let set = try configuration.configurationSet(named: "marketing")
        let signer = try LinkSigner(keys: configuration.signingKeys)
        let domain = try #require(set.customRedirectDomain)
        let open = signer.openURL(OpenToken(messageId: "m", configurationSet: set.name), scheme: set.httpsPolicy.openScheme, domain: domain)
        #expect(open.hasPrefix(policy == .optional ? "http://" : "https://"))
        let httpLink = try #require(signer.clickURL(
            ClickToken(destination: "http://a.example/", messageId: "m", configurationSet: set.name, linkIndex: 0),
            scheme: set.httpsPolicy.clickScheme(original: .http), domain: domain))
        #expect(httpLink.hasPrefix(policy == .require ? "https://" : "http://"))
        let httpsLink = try #require(signer.clickURL(
            ClickToken(destination: "https://a.example/", messageId: "m", configurationSet: set.name, linkIndex: 1),
            scheme: set.httpsPolicy.clickScheme(original: .https), domain: domain))
        #expect(httpsLink.hasPrefix("https://"))
    }
}
