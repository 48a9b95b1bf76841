import Testing
@testable import LinkTrack
@testable import LinkTrackTooling

/// What an HTML part may cost, whatever its content (issue 16, item 16): a limit on links, a scan
/// that hands tags over in bounded batches, a report that stays small whatever the number of parts,
/// and per-part state that is not kept past the part.
@Suite struct PartLimitsTests {
    typealias F = FilterFixture
    typealias H = HTMLRewriterFixture

    static func rewriter(maximumLinks: Int) -> HTMLRewriter {
        var rewriter = H.rewriter
        rewriter.limits.maximumLinksPerHTMLPart = maximumLinks
        return rewriter
    }

    static func anchors(_ n: Int, from first: Int = 0) -> String {
        (first..<(first + n)).map { "<a href=\"https://example.com/\($0)\">\($0)</a>" }.joined()
    }

    @Test func defaultLimitsAreDocumentedValues() {
        #expect(Limits().maximumLinksPerHTMLPart == 20_000)
        #expect(Limits().maximumAttributesPerTag == 256)
        #expect(Limits().maximumReportEntries == 1_000)
    }

    /// Up to the limit every link is tracked; one more leaves the part untouched.
    @Test(arguments: [
        // (what, links within the limit of 10 in the document, untouched)
        ("ten links", "<body>" + anchors(10) + "</body>", false),
        ("eleven links", "<body>" + anchors(11) + "</body>", true),
        ("links that are not tracked count too", "<body>" + anchors(5) + String(repeating: "<a href=\"#x\">x</a>", count: 6) + "</body>", true),
        ("placeholders count", "<body>" + anchors(5) + String(repeating: "{{ses:openTracker}}", count: 5) + "</body>", false),
        ("placeholders over the limit alone", "<body>" + String(repeating: "{{ses:openTracker}}", count: 11) + "</body>", true),
        ("placeholders and links over the limit", "<body>" + anchors(6) + String(repeating: "{{ses:openTracker}}", count: 5) + "</body>", true),
        ("ses: attributes count", "<body>" + anchors(8) + "<a ses:no-track ses:tags=\"a:b\" href=\"https://example.com/n\">n</a></body>", true),
        ("images do not count", "<body>" + anchors(10) + String(repeating: "<img src=\"https://example.com/i.png\">", count: 50) + "</body>", false),
    ] as [(String, String, Bool)])
    func theLinkLimit(_ what: String, _ html: String, _ untouched: Bool) {
        let input = Array(html.utf8)
        let result = Self.rewriter(maximumLinks: 10).rewrite(input, charset: "utf-8", context: H.context())
        #expect((result.report.untouchedReason != nil) == untouched, "\(what): \(result.report.untouchedReason.map(\.description) ?? "tracked")")
        if untouched {
            #expect(result.output == input)
            #expect(result.edits.isEmpty)
            #expect(["tooManyLinks", "tooManyPlaceholders"].contains(caseName(result.report.untouchedReason as Any)))
        }
    }

    /// The scan stops at the first link over the limit: no report or edit is made for the rest of a
    /// document of a million links.
    @Test func theScanStopsAtTheFirstLinkOverTheLimit() throws {
        let html = Array(("<body>" + String(repeating: "<a href=\"https://example.com/\">x</a>", count: 30_000) + "</body>").utf8)
        var visited = 0
        let scan = try HTMLScanner.scan(html, vocabulary: HTMLRewriter.scannerVocabulary) { _ in
            visited += 1
            return visited <= 100
        }
        #expect(scan.stopped)
        #expect(visited == 101)
    }

    /// The scanner hands tags over in batches as the parse goes: what it holds for later stays
    /// bounded (it held every tag of the document until the parse ended).
    @Test func theScannerHoldsAtMostOneBatch() throws {
        let tags = 3 * HTMLScanner.pendingBatchSize + 17
        let html = Array(("<body>" + String(repeating: "<img src=\"https://example.com/i.png\"><title>t</title>", count: tags) + "</body>").utf8)
        var visited = 0
        let scan = try HTMLScanner.scan(html, vocabulary: HTMLRewriter.scannerVocabulary) { _ in
            visited += 1
            return true
        }
        #expect(visited == tags)
        #expect(scan.largestPendingBatch <= HTMLScanner.pendingBatchSize)
        #expect(scan.largestPendingBatch > 0)
    }

    /// The report lists the first parts, notes and warnings and counts the rest (200,000 small parts
    /// held 357 MB in reports).
    @Test func theReportListsAtMostItsLimitAndCountsTheRest() throws {
        var options = FilterOptions()
        options.limits.maximumReportEntries = 50
        var parts: [String] = []
        for k in 0..<120 {
            // Every other part is empty of links but has an unterminated ses:tags: a warning each.
            parts += ["--b", "Content-Type: text/html", "", "<a href=\"https://shop.example.com/\(k)\" ses:tags=\"k:v\"x>\(k)</a>"]
        }
        let input = F.lines(["From: a@example.com", "Message-ID: <many@example.com>", "Content-Type: multipart/mixed; boundary=b", ""]
                            + parts + ["--b--"], ending: "\n")
        let (output, report) = try F.run(input, options)
        #expect(report.parts.count == 50)
        #expect(report.unlistedParts == 121 - 50)  // the multipart and its 120 parts
        #expect(report.warnings.count == 50)
        #expect(report.unlistedWarnings == 120 - 50)
        #expect(output.text.components(separatedBy: "https://links.example.com/c/").count - 1 == 120)
        #expect(try InvariantChecker(configuration: F.configuration).check(input: input, output: output) == [])
    }

    /// Link reports are listed for at most ``Limits/maximumLinksPerHTMLPart`` links per message; a part
    /// past that is listed without them, with their number.
    @Test func theReportListsAtMostTheLinkLimitOfLinks() throws {
        var options = FilterOptions()
        options.limits.maximumLinksPerHTMLPart = 30
        var parts: [String] = []
        for k in 0..<3 { parts += ["--b", "Content-Type: text/html", "", "<body>" + Self.anchors(12, from: 100 * k) + "</body>"] }
        let input = F.lines(["Message-ID: <links@example.com>", "Content-Type: multipart/mixed; boundary=b", ""] + parts + ["--b--"],
                            ending: "\r\n")
        let (_, report) = try F.run(input, options)
        let html = report.parts.filter { $0.html != nil }
        #expect(html.map { $0.html!.links.count } == [12, 12, 0])
        #expect(html.map(\.unlistedLinks) == [0, 0, 12])
        #expect(html.allSatisfy { $0.action == .rewritten })
    }

    /// A part's report holds copies of its hrefs, not the decoded document: the buffers a part is
    /// decoded into are not kept alive by the report past the part (they went with every part before).
    @Test(arguments: ["quoted-printable", "base64", "8bit"])
    func aPartReportDoesNotHoldTheDocument(_ encoding: String) throws {
        let message = MessageFilterLibraryTests.message(links: 3, encoding: encoding, id: "copies")
        let (_, report) = try F.run(message)
        let links = try #require(report.parts.first?.html?.links)
        #expect(links.count == 3)
        for link in links {
            // A slice of the document would start at the value's offset in it.
            #expect(link.originalBytes.startIndex == 0)
            #expect(link.original.hasPrefix("https://shop.example/item/"))
        }
    }

    /// Through the filter, a part over the link limit passes untouched with a note; the other parts
    /// are tracked.
    @Test func aPartOverTheLinkLimitPassesThroughWithANote() throws {
        var options = FilterOptions()
        options.limits.maximumLinksPerHTMLPart = 5
        let input = F.lines([
            "Message-ID: <over@example.com>", "Content-Type: multipart/alternative; boundary=b", "",
            "--b", "Content-Type: text/html", "", "<body>" + Self.anchors(6) + "</body>",
            "--b", "Content-Type: text/html", "", "<body>" + Self.anchors(5) + "</body>",
            "--b--",
        ], ending: "\r\n")
        let (output, report) = try F.run(input, options)
        #expect(output.text.contains("<body>" + Self.anchors(6) + "</body>"))
        #expect(!output.text.contains("<body>" + Self.anchors(5) + "</body>"))
        #expect(report.notes.contains { [.documentUntouched(.tooManyLinks(limit: 5)), .documentUntouched(.tooManyPlaceholders(limit: 5))].contains($0.partNote("1")) })
        #expect(try InvariantChecker(configuration: F.configuration, options: options).check(input: input, output: output) == [])
    }
}
