import Testing
@testable import LinkTrack
@testable import LinkTrackTooling

/// The link rules beyond SES (issue 21) in the filter, and the invariant checker that knows them:
/// each rule keeps its links untracked when on, the output is tracked as before when off, and the
/// checker rejects the output of a filter that ignored the rule.
@Suite struct LinkRulesFilterTests {
    typealias F = FilterFixture

    static func configuration(_ options: LinkTrackOptions) throws -> Configuration {
        let key = try SigningKey(keyId: "t1", secret: F.secret)
        var set = ConfigurationSet(name: "marketing", customRedirectDomain: F.domain, httpsPolicy: .require)
        set.linkTrackOptions = options
        return Configuration(configurationSets: [set], defaultConfigurationSet: "marketing", signingKeys: [key])
    }

    static func message(_ fields: [String], _ anchors: [String]) -> [UInt8] {
        F.lines(["From: a@example.com", "Message-ID: <rules@example.com>"] + fields
                + ["Content-Type: text/html", "", "<html><body>"] + anchors + ["</body></html>"], ending: "\r\n")
    }

    /// The untracked reasons of the message's links, in order (nil: tracked).
    static func reasons(_ report: FilterReport) -> [UntrackedReason?] {
        report.parts.flatMap { $0.html?.links ?? [] }.map(\.untrackedReason)
    }

    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var options: LinkTrackOptions
        var fields: [String] = []
        var anchors: [String]
        var reasons: [UntrackedReason?]
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "List-Unsubscribe URLs, folded and entity-encoded in the href", options: LinkTrackOptions(), fields: [
            "List-Unsubscribe: <mailto:u@example.com>,", " <https://example.com/u?a=1&b=2>",
        ], anchors: [
            "<a href=\"https://example.com/u?a=1&amp;b=2\">u</a>", "<a href=\"https://example.com/u?a=1\">not it</a>",
        ], reasons: [.unsubscribeLink, nil]),
        Row(name: "TrackUnsubscribeLinks tracks them", options: try! LinkTrackOptions(trackUnsubscribeLinks: true),
            fields: ["List-Unsubscribe: <https://example.com/u>"],
            anchors: ["<a href=\"https://example.com/u\">u</a>"], reasons: [nil]),
        Row(name: "excluded domains: exact host and wildcard subdomains", options: try! LinkTrackOptions(excludedDomains: ["partner.example", ".bank.example"]),
            anchors: [
                "<a href=\"https://PARTNER.example/x\">p</a>", "<a href=\"https://w.partner.example/x\">pw</a>",
                "<a href=\"https://bank.example/\">apex</a>", "<a href=\"https://a.b.bank.example/\">deep</a>",
            ], reasons: [.excludedDomain, nil, nil, .excludedDomain]),
        Row(name: "other services' opt-outs, honoured", options: try! LinkTrackOptions(honorOtherOptOutAttributes: true),
            anchors: [
                "<a clicktracking=OFF href=\"https://example.com/1\">1</a>", "<a data-pm-no-track href=\"https://example.com/2\">2</a>",
                "<a href=\"https://example.com/3\" clicktracking=on>3</a>",
                "<a data-msys-clicktrack=\" &#48; \" href=\"https://example.com/4\">4</a>",
            ], reasons: [.otherOptOut(service: "SendGrid"), .otherOptOut(service: "Postmark"), nil, .otherOptOut(service: "SparkPost")]),
        Row(name: "other services' opt-outs, off by default", options: LinkTrackOptions(),
            anchors: ["<a clicktracking=off href=\"https://example.com/1\">1</a>"], reasons: [nil]),
    ]

    @Test(arguments: rows)
    func rules(_ row: Row) throws {
        let configuration = try Self.configuration(row.options)
        let input = Self.message(row.fields, row.anchors)
        let (output, report) = try MessageFilter(configuration: configuration).filter(input)
        #expect(Self.reasons(report) == row.reasons)
        #expect(try InvariantChecker(configuration: configuration).check(input: input, output: output) == [])
    }

    /// What a filter that ignored the rules writes (every link tracked, the attributes kept), read
    /// by a checker that knows them.
    @Test(arguments: [
        (try! LinkTrackOptions(excludedDomains: ["partner.example"]), [String](), "<a href=\"https://partner.example/x\">p</a>", "excluded domain"),
        (LinkTrackOptions(), ["List-Unsubscribe: <https://example.com/u>"], "<a href=\"https://example.com/u\">u</a>", "List-Unsubscribe"),
    ])
    func theCheckerRejectsATrackedLinkTheRulesKeepUntracked(_ options: LinkTrackOptions, _ fields: [String], _ anchor: String,
                                                            _ problem: String) throws {
        let input = Self.message(fields, [anchor])
        var ignoring = options
        ignoring.trackUnsubscribeLinks = true
        ignoring.excludedDomains = ExcludedDomains()
        let (output, _) = try MessageFilter(configuration: try Self.configuration(ignoring)).filter(input)
        let problems = try InvariantChecker(configuration: try Self.configuration(options)).check(input: input, output: output)
        #expect(problems.contains { $0.contains(problem) }, "\(problems)")
    }

    @Test func theCheckerRejectsATrackedLinkWithAnHonouredOptOutRemoved() throws {
        let input = Self.message([], ["<a data-pm-no-track href=\"https://example.com/x\">x</a>"])
        // The attribute removed by hand and the link tracked: what a filter that removed without obeying would write.
        let stripped = Self.message([], ["<a href=\"https://example.com/x\">x</a>"])
        let (tracked, _) = try MessageFilter(configuration: try Self.configuration(LinkTrackOptions())).filter(stripped)
        let problems = try InvariantChecker(configuration: try Self.configuration(LinkTrackOptions(honorOtherOptOutAttributes: true)))
            .check(input: input, output: tracked)
        #expect(problems.contains { $0.contains("opt-out") }, "\(problems)")
    }
}
