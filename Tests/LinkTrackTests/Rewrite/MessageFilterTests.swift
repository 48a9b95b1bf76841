import Testing
import TestSupport
@testable import LinkTrack

@Suite struct MessageFilterTests {
    typealias F = FilterFixture

    // MARK: - Single part, both line endings

    @Test(arguments: ["\r\n", "\n"])
    func singlePartHTMLIsRewrittenWithItsLineEndings(_ eol: String) throws {
        let input = F.lines([
            "From: a@example.com", "To: b@example.org", "Subject: hi", "Message-ID: <m1@example.com>",
            "MIME-Version: 1.0", "Content-Type: text/html; charset=utf-8", "",
            "<html><body><a href=\"https://shop.example.com/x?a=1&amp;b=2\">x</a>", "</body></html>",
        ], ending: eol)
        let (output, report) = try F.run(input)
        let expected = F.lines([
            "From: a@example.com", "To: b@example.org", "Subject: hi", "Message-ID: <m1@example.com>",
            "MIME-Version: 1.0", "Content-Type: text/html; charset=utf-8", "",
            "<html><body><a href=\"\(F.click("https://shop.example.com/x?a=1&b=2", index: 0, messageId: "m1@example.com"))\">x</a>",
            "\(F.pixel(messageId: "m1@example.com"))</body></html>",
        ], ending: eol)
        #expect(output.text == expected.text)
        #expect(report.changed)
        #expect(report.configurationSet == "marketing")
    }

    @Test func mixedLineEndingsAreKeptPerLine() throws {
        let input = Array(("From: a@example.com\r\nMessage-ID: <m2@example.com>\nContent-Type: text/html\r\n\r\n"
            + "<p>one</p>\n<p><a href=\"http://example.com/\">x</a></p>\r\n<p>end</p>\n").utf8)
        let (output, _) = try F.run(input)
        let expected = "From: a@example.com\r\nMessage-ID: <m2@example.com>\nContent-Type: text/html\r\n\r\n"
            + "<p>one</p>\n<p><a href=\"\(F.click("http://example.com/", index: 0, messageId: "m2@example.com"))\">x</a></p>\r\n<p>end</p>"
            + F.pixel(messageId: "m2@example.com") + "\n"
        #expect(output.text == expected)
    }

    // MARK: - Structure

    static let nested = [
        "From: a@example.com", "Message-ID: <n1@example.com>", "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"outer\"", "",
        "This is the preamble.", "--outer",
        "Content-Type: multipart/related; boundary=rel", "",
        "--rel", "Content-Type: multipart/alternative; boundary=\"alt\"", "",
        "--alt", "Content-Type: text/plain", "", "Visit https://shop.example.com/plain", "",
        "--alt", "Content-Type: text/html; charset=us-ascii", "",
        "<body><a href=\"https://shop.example.com/html\">go</a></body>",
        "--alt--", "--rel", "Content-Type: image/png", "Content-Transfer-Encoding: base64", "", "iVBORw0KGgo=",
        "--rel--", "",
        "--outer", "Content-Type: text/html; name=\"report.html\"", "Content-Disposition: attachment; filename=\"report.html\"", "",
        "<a href=\"https://attachment.example.com/\">not me</a>",
        "--outer", "Content-Type: message/rfc822", "",
        "Subject: forwarded", "Content-Type: text/html", "", "<a href=\"https://forwarded.example.com/\">not me</a>",
        "--outer", "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=sig", "",
        "--sig", "Content-Type: text/html", "", "<a href=\"https://signed.example.com/\">not me</a>",
        "--sig", "Content-Type: application/pkcs7-signature", "", "AAAA", "--sig--",
        "--outer", "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=enc", "",
        "--enc", "Content-Type: text/html", "", "<a href=\"https://encrypted.example.com/\">not me</a>", "--enc--",
        "--outer--", "This is the epilogue.",
    ]

    @Test(arguments: ["\r\n", "\n"])
    func nestedStructureRewritesOnlyRenderableHTML(_ eol: String) throws {
        let (output, report) = try F.run(F.lines(Self.nested, ending: eol))
        var expectedLines = Self.nested
        let i = expectedLines.firstIndex(of: "<body><a href=\"https://shop.example.com/html\">go</a></body>")!
        expectedLines[i] = "<body><a href=\"\(F.click("https://shop.example.com/html", index: 0, messageId: "n1@example.com"))\">go</a>"
            + F.pixel(messageId: "n1@example.com") + "</body>"
        #expect(output.text == F.lines(expectedLines, ending: eol).text)
        let actions = Dictionary(report.parts.map { ($0.path, $0.action) }, uniquingKeysWith: { a, _ in a })
        #expect(actions["1.1.2"] == .rewritten)
        #expect(actions["2"] == .passedThrough(.attachment))
        #expect(actions["3"] == .passedThrough(.notHTML))
        #expect({ if case .passedThrough(.mustNotChange) = actions["4"] { true } else { false } }())
        #expect({ if case .passedThrough(.mustNotChange) = actions["5"] { true } else { false } }())
    }

    @Test func missingFinalBoundaryStillTracksAndKeepsEveryByte() throws {
        let input = F.lines([
            "Message-ID: <mf@example.com>", "Content-Type: multipart/alternative; boundary=b", "",
            "--b", "Content-Type: text/html", "", "<a href=\"https://example.com/a\">a</a>",
            "--bX not a boundary", "<a href=\"https://example.com/b\">b</a>",
        ], ending: "\r\n")
        let (output, report) = try F.run(input)
        let expected = F.lines([
            "Message-ID: <mf@example.com>", "Content-Type: multipart/alternative; boundary=b", "",
            "--b", "Content-Type: text/html", "", "<a href=\"\(F.click("https://example.com/a", index: 0, messageId: "mf@example.com"))\">a</a>",
            "--bX not a boundary", "<a href=\"\(F.click("https://example.com/b", index: 1, messageId: "mf@example.com"))\">b</a>\(F.pixel(messageId: "mf@example.com"))",
        ], ending: "\r\n")
        #expect(output.text == expected.text)
        #expect(report.warnings.contains { caseName($0) == "unclosedMultiparts" })
    }

    @Test func badBase64PartPassesUntouchedAndTheRestIsTracked() throws {
        let lines = [
            "Message-ID: <bb@example.com>", "Content-Type: multipart/mixed; boundary=b", "",
            "--b", "Content-Type: text/html", "Content-Transfer-Encoding: base64", "", "PGEgaHJlZj0i*!!bad", "",
            "--b", "Content-Type: text/html", "", "<a href=\"https://example.com/ok\">ok</a>", "--b--",
        ]
        let (output, report) = try F.run(F.lines(lines, ending: "\r\n"))
        var expected = lines
        expected[12] = "<a href=\"\(F.click("https://example.com/ok", index: 0, messageId: "bb@example.com"))\">ok</a>\(F.pixel(messageId: "bb@example.com"))"
        #expect(output.text == F.lines(expected, ending: "\r\n").text)
        #expect(report.warnings.contains { caseName($0.partWarning() as Any) == "undecodableBase64" })
    }

    @Test func nestingBeyondTheLimitPassesThrough() throws {
        var options = FilterOptions()
        options.limits.maximumNestingDepth = 2
        var lines = ["Message-ID: <deep@example.com>", "Content-Type: multipart/mixed; boundary=b0", ""]
        for level in 1...3 { lines += ["--b\(level - 1)", "Content-Type: multipart/mixed; boundary=b\(level)", ""] }
        lines += ["--b3", "Content-Type: text/html", "", "<a href=\"https://example.com/\">deep</a>", "--b3--"]
        for level in (0...2).reversed() { lines.append("--b\(level)--") }
        let input = F.lines(lines, ending: "\n")
        let (output, report) = try F.run(input, options)
        #expect(output == input)
        #expect(report.warnings.contains { caseName($0.partWarning() as Any) == "nestingTooDeep" })
    }

    @Test func htmlPartOverTheSizeLimitPassesUntouchedAndTheRestIsTracked() throws {
        var options = FilterOptions()
        options.limits.maximumHTMLPartSize = 200
        let big = "<p>" + String(repeating: "x", count: 300) + "</p><a href=\"https://example.com/big\">big</a>"
        let lines = ["Message-ID: <lim@example.com>", "Content-Type: multipart/mixed; boundary=b", "",
                     "--b", "Content-Type: text/html", "", big,
                     "--b", "Content-Type: text/html", "", "<a href=\"https://example.com/small\">s</a>", "--b--"]
        let (output, report) = try F.run(F.lines(lines, ending: "\n"), options)
        var expected = lines
        expected[10] = "<a href=\"\(F.click("https://example.com/small", index: 0, messageId: "lim@example.com"))\">s</a>\(F.pixel(messageId: "lim@example.com"))"
        #expect(output.text == F.lines(expected, ending: "\n").text)
        #expect(report.warnings.contains { caseName($0.partWarning() as Any) == "htmlPartTooLarge" })
    }

    @Test func headerBlockOverTheSizeLimitPassesTheMessageUntouched() throws {
        var options = FilterOptions()
        options.limits.maximumHeaderBlockSize = 100
        let lines = ["Message-ID: <h@example.com>", "X-Long: " + String(repeating: "y", count: 200),
                     "Content-Type: text/html", "", "<a href=\"https://example.com/\">x</a>"]
        let input = F.lines(lines, ending: "\r\n")
        let (output, report) = try F.run(input, options)
        #expect(output == input)
        #expect(report.warnings.contains { caseName($0) == "headerBlockTooLarge" || caseName($0.partWarning() as Any) == "headerBlockTooLarge" })
    }

    @Test func defaultLimitsAreDocumentedValues() {
        let limits = Limits()
        #expect(limits.maximumNestingDepth == 32)
        #expect(limits.maximumHeaderBlockSize == 1 << 20)
        #expect(limits.maximumHTMLPartSize == 32 << 20)
    }

    // MARK: - Transfer encodings

    @Test(arguments: [(76, "\r\n"), (72, "\r\n"), (76, "\n"), (72, "\n")])
    func base64KeepsLineLengthAndEnding(_ length: Int, _ eol: String) throws {
        let html = Array(("<html><body>" + String(repeating: "<p>Filler text for several lines of base64.</p>", count: 6)
            + "<a href=\"https://example.com/b64\">x</a></body></html>").utf8)
        let layout = Base64Layout(lineLength: length, lineEnding: Array(eol.utf8), endsWithLineEnding: false)
        let body = Base64.encode(html, layout: layout).text
        let head = ["Message-ID: <b64@example.com>", "Content-Type: text/html", "Content-Transfer-Encoding: base64", ""]
        let (output, _) = try F.run(Array((head.map { $0 + eol }.joined() + body + eol).utf8))
        let expectedHTML = Array(String(decoding: html, as: UTF8.self)
            .replacingOccurrences("https://example.com/b64", with: F.click("https://example.com/b64", index: 0, messageId: "b64@example.com"))
            .replacingOccurrences("</body>", with: F.pixel(messageId: "b64@example.com") + "</body>").utf8)
        let expected = head.map { $0 + eol }.joined() + Base64.encode(expectedHTML, layout: layout).text + eol
        #expect(output.text == expected)
    }

    @Test(arguments: ["\r\n", "\n"])
    func quotedPrintableSoftBreakInsideHrefReencodesOnlyThatLine(_ eol: String) throws {
        let body = [
            "<p>Untouched line with =3D sign and caf=C3=A9.</p>",
            "<p><a href=3D\"https://www.example.com/acc=", "ount?ref=3Demail&amp;x=3D1\">Account</a></p>",
            "<p>Another untouched line   </p>",
            "</body>",
        ]
        let head = ["Message-ID: <qp@example.com>", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", ""]
        let (output, _) = try F.run(F.lines(head + body, ending: eol))
        let text = output.text
        // Untouched logical lines are byte-identical.
        #expect(text.contains(body[0] + eol))
        #expect(text.contains(body[3] + eol))
        // The rewritten line decodes to the tracked anchor, in lines of at most 76 characters.
        let bodyStart = text.range(of: eol + eol)!.upperBound
        let encodedBody = Array(text[bodyStart...].utf8)
        let decoded = QuotedPrintable.decode(encodedBody).text
        let link = F.click("https://www.example.com/account?ref=email&x=1", index: 0, messageId: "qp@example.com")
        #expect(decoded.contains("<p><a href=\"\(link)\">Account</a></p>"))
        for line in text[bodyStart...].split(separator: eol == "\r\n" ? "\r\n" : "\n", omittingEmptySubsequences: false) {
            #expect(line.utf8.count <= 76)
        }
        if eol == "\n" { #expect(!text.contains("\r")) }
    }

    @Test func eightBitLineOver998IsReencodedAsQuotedPrintable() throws {
        let filler = String(repeating: "a", count: 960)
        let body = ["<p>\(filler) <a href=\"https://example.com/long\">x</a></p>", "<p>short</p>"]
        let head = ["Message-ID: <l@example.com>", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: 8bit", ""]
        let (output, report) = try F.run(F.lines(head + body, ending: "\r\n"))
        let text = output.text
        #expect(text.hasPrefix("Message-ID: <l@example.com>\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"))
        let bodyStart = text.range(of: "\r\n\r\n")!.upperBound
        for line in text[bodyStart...].split(separator: "\r\n") { #expect(line.utf8.count <= 76) }
        let decoded = QuotedPrintable.decode(Array(text[bodyStart...].utf8)).text
        #expect(decoded.contains(F.click("https://example.com/long", index: 0, messageId: "l@example.com")))
        #expect(report.notes.contains { $0.partNote() == .reencodedForLongLine })
    }

    @Test func lineAlreadyOver998StaysWhenTheRewriteDoesNotTouchIt() throws {
        let long = "<p>" + String(repeating: "b", count: 1200) + "</p>"
        let lines = ["Message-ID: <k@example.com>", "Content-Type: text/html", "", long, "<a href=\"https://example.com/\">x</a>"]
        let (output, _) = try F.run(F.lines(lines, ending: "\n"))
        let expected = ["Message-ID: <k@example.com>", "Content-Type: text/html", "", long,
                        "<a href=\"\(F.click("https://example.com/", index: 0, messageId: "k@example.com"))\">x</a>\(F.pixel(messageId: "k@example.com"))"]
        #expect(output.text == F.lines(expected, ending: "\n").text)
    }

    // MARK: - Per-message rules

    @Test func sesHeadersAreRemovedAndTagsGoIntoTokens() throws {
        let input = F.lines([
            "X-SES-CONFIGURATION-SET: optional", "Message-ID: <t@example.com>",
            "X-SES-MESSAGE-TAGS: campaign=spring, cohort=b", " ", "Content-Type: text/html", "",
            "<a href=\"http://example.com/\">x</a>",
        ], ending: "\r\n")
        let tags = [Tag(name: "campaign", value: "spring"), Tag(name: "cohort", value: "b")]
        let (output, report) = try F.run(input)
        let expected = F.lines([
            "Message-ID: <t@example.com>", "Content-Type: text/html", "",
            "<a href=\"\(F.click("http://example.com/", index: 0, messageId: "t@example.com", set: "optional", scheme: .http, domain: "track.example.net", messageTags: tags))\">x</a>"
                + F.pixel(messageId: "t@example.com", set: "optional", scheme: .http, domain: "track.example.net", messageTags: tags),
        ], ending: "\r\n")
        #expect(output.text == expected.text)
        #expect(report.configurationSet == "optional")
    }

    @Test func unknownConfigurationSetIsRejectedOrPassed() throws {
        let input = F.lines(["X-SES-CONFIGURATION-SET: nope", "Content-Type: text/html", "", "<a href=\"https://e.com/\">x</a>"], ending: "\r\n")
        #expect(throws: FilterError(kind: .unknownConfigurationSet, message: "NotFoundException: Configuration set nope does not exist.")) {
            try F.run(input)
        }
        let (output, report) = try F.run(input, FilterOptions(unknownConfigurationSet: .pass))
        #expect(output == input)
        #expect(!report.changed)
    }

    @Test func noApplicableSetOrNoDomainPassesUnchanged() throws {
        let input = F.lines(["Message-ID: <x@e.com>", "Content-Type: text/html", "", "<a href=\"https://e.com/\">x</a>"], ending: "\n")
        let (output, report) = try F.run(input, FilterOptions(configurationSetName: "nodomain"))
        #expect(output == input)
        #expect(report.notes.contains { caseName($0) == "noRedirectDomain" })
    }

    @Test func dkimSignedMessagePassesUnlessRewriteSignedIsGiven() throws {
        let lines = [
            "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s1;", "\th=from:to:subject:x-ses-message-tags; bh=AAAA; b=BBBB",
            "X-SES-CONFIGURATION-SET: marketing", "X-SES-MESSAGE-TAGS: campaign=spring",
            "Message-ID: <d@example.com>", "Content-Type: text/html", "", "<a href=\"https://e.com/\">x</a>",
        ]
        let (output, report) = try F.run(F.lines(lines, ending: "\r\n"))
        var expected = lines
        expected.remove(at: 2)  // x-ses-configuration-set is not covered by h=, so it goes
        #expect(output.text == F.lines(expected, ending: "\r\n").text)
        #expect(report.warnings.contains(.dkimSigned))

        let (rewritten, _) = try F.run(F.lines(lines, ending: "\r\n"), FilterOptions(rewriteSigned: true))
        let tags = [Tag(name: "campaign", value: "spring")]
        let expectedRewritten = F.lines([
            lines[0], lines[1], "Message-ID: <d@example.com>", "Content-Type: text/html", "",
            "<a href=\"\(F.click("https://e.com/", index: 0, messageId: "d@example.com", messageTags: tags))\">x</a>\(F.pixel(messageId: "d@example.com", messageTags: tags))",
        ], ending: "\r\n")
        #expect(rewritten.text == expectedRewritten.text)
    }

    @Test func missingMessageIdIsGeneratedDeterministically() throws {
        let input = F.lines(["From: a@example.com", "Subject: no id", "Content-Type: text/html", "", "<a href=\"https://e.com/\">x</a>"], ending: "\r\n")
        let (first, report) = try F.run(input)
        let (second, _) = try F.run(input)
        #expect(first == second)
        let id = try #require(report.messageId)
        #expect(id.hasPrefix("lt.") && id.hasSuffix("@links.example.com"))
        #expect(first.text.hasPrefix("From: a@example.com\r\nSubject: no id\r\nContent-Type: text/html\r\nMessage-ID: <\(id)>\r\n\r\n"))
    }

    // MARK: - Streaming

    /// Chunk sizes 1, 2, 16, 1024, whole, and a seeded random size give the same bytes.
    @Test(arguments: [1, 2, 16, 1024, Int.max, -1])
    func chunkSizesDoNotChangeTheOutput(_ size: Int) throws {
        let input = F.lines(Self.nested, ending: "\r\n")
        let whole = try F.run(input).output
        var options = FilterOptions()
        options.limits.maximumLineChunk = 64  // also exercise long lines arriving in pieces
        var session = F.filter(options).makeSession()
        var generator = SeededGenerator(seed: 42)
        var output: [UInt8] = []
        var start = 0
        while start < input.count {
            let n = size == -1 ? Int.random(in: 1...97, using: &generator) : min(size, input.count - start)
            let end = min(start + n, input.count)
            try session.consume(input[start..<end])
            output += session.takeOutput()
            start = end
        }
        try session.finish()
        output += session.takeOutput()
        #expect(output.text == whole.text)
    }
}


extension String {
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
