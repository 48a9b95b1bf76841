import Testing
@testable import LinkTrack

/// ``TextRewriter``: which URLs of a decoded text body become tracking URLs, and that nothing else
/// changes (issue 21, item 4).
@Suite("Rewrite: TextRewriter") struct TextRewriterTests {
    typealias F = FilterFixture

    static func context(trackUnsubscribe: Bool = false, excluded: [String] = [], listUnsubscribe: String? = nil,
                        firstLinkIndex: Int = 0) -> TrackingContext {
        let options = try! LinkTrackOptions(trackUnsubscribeLinks: trackUnsubscribe, excludedDomains: excluded,
                                            trackLinksIn: .htmlAndText)
        let set = ConfigurationSet(uncheckedName: "marketing", customRedirectDomain: F.domain, httpsPolicy: .optional,
                                   linkTrackOptions: options)
        var context = TrackingContext(configurationSet: set, messageId: "text@example.com")
        context.firstLinkIndex = firstLinkIndex
        context.listUnsubscribe = listUnsubscribe.map { ListUnsubscribe(headerValue: Array($0.utf8)) }
        return context
    }

    static func rewrite(_ body: String, _ options: TextRewriter.Options = TextRewriter.Options(),
                        context: TrackingContext = context()) -> (output: String, report: TextRewriteReport) {
        let bytes = Array(body.utf8)
        let result = TextRewriter(signer: F.signer, limits: Limits()).rewrite(bytes, options: options, context: context)
        return (Splicer.apply(result.edits, to: bytes).text, result.report)
    }

    /// Every tracked URL verifies and decodes to the URL it replaced, with its index.
    static func checkTracked(_ report: TextRewriteReport) throws {
        for link in report.links where link.isTracked {
            let token = try F.signer.decode(try #require(link.trackingURL))
            guard case .click(let click) = token else { Issue.record("not a click token"); return }
            #expect(click.destination == link.url)
            #expect(click.linkIndex == link.linkIndex)
            #expect(TextLinkSafety.endsInLetterDigitOrPercentEscape(link.trackingURLBytes!))
            #expect(!link.trackingURLBytes!.contains(where: TextLinkSafety.isDelimiter))
        }
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var body: String
        /// The body with each tracked URL written as `{n}` (its link index).
        var expected: String
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "trailing period stays outside", body: "See https://x.example/a.\n", expected: "See {0}.\n"),
        Row(name: "trailing comma and question mark", body: "Go to https://x.example/a?, or not\n", expected: "Go to {0}?, or not\n"),
        Row(name: "balanced parenthesis kept inside", body: "(see https://x.example/a_(b))\n", expected: "(see {0})\n"),
        Row(name: "angle brackets stay", body: "Visit <https://x.example/path.>\n", expected: "Visit <{0}>\n"),
        Row(name: "quoted reply line left alone", body: "> https://x.example/q\nhttps://x.example/r\n",
            expected: "> https://x.example/q\n{0}\n"),
        Row(name: "already tracked", body: "https://\(F.domain)/c/1.t1.x?m=1\n", expected: "https://\(F.domain)/c/1.t1.x?m=1\n"),
        Row(name: "excluded domain", body: "https://partner.example/x and https://x.example/y\n",
            expected: "https://partner.example/x and {0}\n"),
        Row(name: "unsubscribe URL", body: "Unsubscribe: https://x.example/unsub?u=1\nShop: https://x.example/shop/\n",
            expected: "Unsubscribe: https://x.example/unsub?u=1\nShop: {0}\n"),
        Row(name: "two links count up", body: "a http://x.example/1 b https://x.example/2\r\n", expected: "a {0} b {1}\r\n"),
        Row(name: "no links", body: "Nothing here: mailto:a@example.com\n", expected: "Nothing here: mailto:a@example.com\n"),
    ]

    @Test(arguments: rows)
    func boundaries(_ row: Row) throws {
        let options = TextRewriter.Options(finder: PlainTextLinkFinder.Options(skipsQuotedLines: true))
        let (output, report) = Self.rewrite(row.body, options,
                                            context: Self.context(excluded: ["partner.example"], listUnsubscribe: "<https://x.example/unsub?u=1>"))
        try Self.checkTracked(report)
        var expected = row.expected
        for link in report.links where link.isTracked {
            expected = expected.replacingOccurrences(of: "{\(link.linkIndex!)}", with: link.trackingURL!)
        }
        #expect(output == expected)
    }

    @Test func unsubscribeURLTrackedWhenTheSetSaysSo() throws {
        let (_, report) = Self.rewrite("https://x.example/unsub\n",
                                       context: Self.context(trackUnsubscribe: true, listUnsubscribe: "<https://x.example/unsub>"))
        #expect(report.trackedLinkCount == 1)
    }

    @Test func reasonsAreTyped() {
        let (_, report) = Self.rewrite("https://partner.example/x https://\(F.domain)/c/x https://x.example/unsub\n",
                                       context: Self.context(excluded: ["partner.example"], listUnsubscribe: "<https://x.example/unsub>"))
        #expect(report.links.map(\.untrackedReason) == [.excludedDomain, .alreadyTracked, .unsubscribeLink])
    }

    @Test func trailingSlashIsPercentEscapedInTheTrackingURL() throws {
        let (_, report) = Self.rewrite("https://x.example/\n")
        let link = try #require(report.links.first)
        #expect(link.trackingURL?.hasSuffix("%2F") == true)
        try Self.checkTracked(report)
    }

    @Test func indexesStartAtTheContextsFirstLinkIndex() throws {
        let (_, report) = Self.rewrite("https://x.example/a https://x.example/b\n", context: Self.context(firstLinkIndex: 5))
        #expect(report.links.map(\.linkIndex) == [5, 6])
        try Self.checkTracked(report)
    }

    @Test func lineLimitLeavesTheURLUntracked() throws {
        var options = TextRewriter.Options()
        options.maximumLineLength = 998
        let padding = String(repeating: "w", count: 900)
        let body = "\(padding) https://x.example/a\nshort https://x.example/b\n"
        let (output, report) = Self.rewrite(body, options)
        #expect(report.links.map(\.untrackedReason) == [.lineTooLong(limit: 998), nil])
        #expect(report.links[1].linkIndex == 0)
        #expect(output.hasPrefix("\(padding) https://x.example/a\n"))
        // Without a limit (quoted-printable or base64: the encoder wraps lines) it is tracked.
        #expect(Self.rewrite(body).report.trackedLinkCount == 2)
    }

    @Test func twoLinksOnOneLineShareItsLimit() {
        var options = TextRewriter.Options()
        let first = Self.rewrite("https://x.example/a\n").report.links[0].trackingURLBytes!.count
        // Room for exactly one tracking URL.
        options.maximumLineLength = first + 1 + 19 + 5
        let (_, report) = Self.rewrite("https://x.example/a https://x.example/b\n", options)
        #expect(report.links.map(\.isTracked) == [true, false])
    }

    @Test func flowedURLIsReplacedWhole() throws {
        let options = TextRewriter.Options(finder: PlainTextLinkFinder.Options(format: .flowed(deleteSpace: true)))
        let body = "Read https://x.example/long/ \r\npath/here today\r\n"
        let (output, report) = Self.rewrite(body, options)
        let link = try #require(report.links.first)
        #expect(link.url == "https://x.example/long/path/here")
        #expect(output == "Read \(link.trackingURL!) today\r\n")
        try Self.checkTracked(report)
    }

    @Test func unsupportedCharsetLeavesTheBodyUntouched() {
        var options = TextRewriter.Options()
        options.charset = "utf-16"
        #expect(Self.rewrite("https://x.example/\n", options).report.untouchedReason != nil)
    }
}
