import Testing
@testable import LinkTrack
@testable import LinkTrackTooling

/// Issue 16, item 13: a rewritten HTML part must never gain a physical line that starts with `--`
/// and an enclosing multipart's boundary. Such a line ends the part early for every reader, and the
/// part's tail turns into a part without headers, while the filter exits 0.
///
/// The sweeps put boundary text at every alignment of the re-encoding paths (a touched
/// quoted-printable line, whose soft breaks fall every 75 columns; a 7bit, 8bit, binary or
/// unlabelled line pushed past 998 octets, which re-encodes the whole part) and read each output
/// back with the project's own MIME parser (``MIMEEntity``) and ``InvariantChecker``: the multipart
/// structure and the part headers are unchanged, and the HTML part decodes to the expected rewrite.
@Suite struct BoundaryForgingTests {
    typealias F = FilterFixture

    static let messageId = "bf@example.com"

    struct Boundaries: Sendable, CustomTestStringConvertible {
        /// The multipart/alternative holding the HTML part.
        var inner: String
        /// The multipart/mixed around it.
        var outer: String
        var testDescription: String { "\(inner.prefix(12))/\(outer.prefix(12))" }

        /// The boundary texts swept through the HTML: delimiters and close delimiters of both.
        var forgeries: [String] { ["--\(inner)", "--\(inner)--", "--\(outer)", "--\(outer)--"] }
        var all: [String] { [inner, outer] }
    }

    static let boundarySets = [
        Boundaries(inner: "b1", outer: "o2"),
        Boundaries(inner: "Alternative_0123456789.abcdefghij", outer: "Mixed-Boundary_0123456789_KLMNOPQRSTUV"),
    ]

    enum Path: String, Sendable, CaseIterable, CustomTestStringConvertible {
        /// A quoted-printable line with a link: the whole logical line is re-encoded.
        case quotedPrintableTouchedLine
        /// The same, but the touched physical line ends with a soft break, which the re-encoded run
        /// keeps (encoded in 75 columns).
        case quotedPrintableTouchedLineBeforeSoftBreak
        /// A 7bit line that the tracked link makes longer than 998 octets: the whole part is
        /// re-encoded. (8bit and binary parts take the same path; the rewrite rows below cover
        /// them, and a full sweep of each would only double the run time.)
        case sevenBitLinePushedPast998
        /// The same without a Content-Transfer-Encoding field, which the re-encoding adds.
        case unlabelledLinePushedPast998

        var testDescription: String { rawValue }

        var transferEncoding: String? {
            switch self {
            case .quotedPrintableTouchedLine, .quotedPrintableTouchedLineBeforeSoftBreak: "quoted-printable"
            case .sevenBitLinePushedPast998: "7bit"
            case .unlabelledLinePushedPast998: nil
            }
        }

        var isQuotedPrintable: Bool { transferEncoding == "quoted-printable" }

        /// Offsets of the boundary text swept: 80, more than the 75 columns between soft breaks,
        /// so the boundary text starts at every column of a physical line once.
        var offsets: Range<Int> { 0..<80 }
    }

    static let link = "<a href=\"https://example.com/x\">x</a>"

    // MARK: - Sweeps

    @Test(arguments: Path.allCases, boundarySets)
    func boundaryTextAtEveryAlignmentKeepsTheStructure(_ path: Path, _ boundaries: Boundaries) throws {
        var failures: [String] = []
        var runs = 0
        let filter = F.filter()
        for eol in ["\r\n", "\n"] {
            for forged in boundaries.forgeries {
                for k in path.offsets {
                    let (input, expected) = Self.sweepCase(path: path, boundaries: boundaries, forged: forged, offset: k, eol: eol)
                    runs += 1
                    let output = try filter.filter(input).output
                    let problems = Self.problems(input: input, output: output, expectedHTML: expected, boundaries: boundaries)
                    if !problems.isEmpty {
                        failures.append("\(eol == "\n" ? "LF" : "CRLF") \(forged) at \(k): \(problems.joined(separator: "; "))")
                    }
                }
            }
        }
        #expect(runs > 0)
        #expect(failures.isEmpty, "\(failures.count) of \(runs) outputs are wrong; first: \(failures.prefix(4).joined(separator: " | "))")
    }

    /// The message for one alignment, and the HTML its part must decode to after filtering.
    ///
    /// The boundary text ends its logical line, where a soft break just before it would make a
    /// real delimiter line; the link on the same line makes the line one that is re-encoded.
    static func sweepCase(path: Path, boundaries: Boundaries, forged: String, offset k: Int, eol: String)
        -> (input: [UInt8], expectedHTML: [UInt8]) {
        let head = "<html><body><p>\(link) "
        let fillerCount = path.isQuotedPrintable ? k : 998 - head.utf8.count - path.offsets.count - forged.utf8.count + k
        let firstLine = head + String(repeating: "a", count: fillerCount) + forged
        let decodedLines = [firstLine, "</p></body></html>"]
        let rawBody: String
        switch path {
        case .quotedPrintableTouchedLine:
            rawBody = decodedLines.map(Self.quotedPrintableWithoutSoftBreaks).joined(separator: eol)
        case .quotedPrintableTouchedLineBeforeSoftBreak:
            // One logical line: the touched physical line ends with a soft break.
            rawBody = decodedLines.map(Self.quotedPrintableWithoutSoftBreaks).joined(separator: "=" + eol)
        default:
            rawBody = decodedLines.joined(separator: eol)
        }
        let input = message(htmlBody: rawBody, transferEncoding: path.transferEncoding, boundaries: boundaries, eol: eol)
        let decoded = path == .quotedPrintableTouchedLineBeforeSoftBreak ? decodedLines.joined() : decodedLines.joined(separator: eol)
        return (input, expectedRewrite(of: decoded))
    }

    // MARK: - Lines the rewrite itself makes

    /// A row whose rewrite (a removed placeholder or `ses:` attribute) leaves boundary text alone on
    /// its line, in a part that is not otherwise re-encoded. `{{PIXEL}}` and `{{CLICK}}` in the
    /// expected lines stand for the open pixel and the tracked link.
    struct RewriteRow: Sendable, CustomTestStringConvertible {
        var name: String
        var html: [String]
        var expected: [String]
        var linkTags: [LinkTrack.Tag] = []
        var testDescription: String { name }
    }

    static let rewriteRows: [RewriteRow] = [
        RewriteRow(name: "placeholder removed before the inner boundary",
                   html: ["<html><body><p>{{ses:openTracker}}</p>", "{{ses:openTracker}}--b1", "\(link)</body></html>"],
                   expected: ["<html><body><p>{{PIXEL}}</p>", "--b1", "<a href=\"{{CLICK}}\">x</a></body></html>"]),
        RewriteRow(name: "placeholder removed before the inner close delimiter",
                   html: ["<html><body><p>{{ses:openTracker}}</p>", "{{ses:openTracker}}--b1--", "\(link)</body></html>"],
                   expected: ["<html><body><p>{{PIXEL}}</p>", "--b1--", "<a href=\"{{CLICK}}\">x</a></body></html>"]),
        RewriteRow(name: "placeholder removed before the outer boundary",
                   html: ["<html><body><p>{{ses:openTracker}}</p>", "{{ses:openTracker}}--o2", "\(link)</body></html>"],
                   expected: ["<html><body><p>{{PIXEL}}</p>", "--o2", "<a href=\"{{CLICK}}\">x</a></body></html>"]),
        RewriteRow(name: "placeholder removed after the boundary",
                   html: ["<html><body><p>{{ses:openTracker}}</p>", "--b1{{ses:openTracker}}", "\(link)</body></html>"],
                   expected: ["<html><body><p>{{PIXEL}}</p>", "--b1", "<a href=\"{{CLICK}}\">x</a></body></html>"]),
        RewriteRow(name: "placeholder removed after the boundary and a blank",
                   html: ["<html><body><p>{{ses:openTracker}}</p>", "--b1 {{ses:openTracker}}", "\(link)</body></html>"],
                   expected: ["<html><body><p>{{PIXEL}}</p>", "--b1 ", "<a href=\"{{CLICK}}\">x</a></body></html>"]),
        RewriteRow(name: "only a placeholder removed (no link)",
                   html: ["<html><body><p>{{ses:openTracker}}</p>", "{{ses:openTracker}}--b1", "</body></html>"],
                   expected: ["<html><body><p>{{PIXEL}}</p>", "--b1", "</body></html>"]),
        RewriteRow(name: "ses:tags removed after the boundary inside a tag",
                   html: ["<html><body><a", "--b1 ses:tags=\"k:v\"", "href=\"https://example.com/x\">x</a></body></html>"],
                   expected: ["<html><body><a", "--b1", "href=\"{{CLICK}}\">x</a>{{PIXEL}}</body></html>"],
                   linkTags: [LinkTrack.Tag(name: "k", value: "v")]),
    ]

    @Test(arguments: rewriteRows, ["7bit", "8bit", "binary", "none"])
    func rewriteNeverLeavesBoundaryTextAloneOnALine(_ row: RewriteRow, _ transferEncoding: String) throws {
        let boundaries = Self.boundarySets[0]
        for eol in ["\r\n", "\n"] {
            let input = Self.message(htmlBody: row.html.joined(separator: eol),
                                     transferEncoding: transferEncoding == "none" ? nil : transferEncoding,
                                     boundaries: boundaries, eol: eol)
            let expected = row.expected.joined(separator: eol)
                .replacingOccurrences("{{PIXEL}}", with: F.pixel(messageId: Self.messageId))
                .replacingOccurrences("{{CLICK}}", with: Self.click(linkTags: row.linkTags))
            let (output, report) = try F.run(input)
            let problems = Self.problems(input: input, output: output, expectedHTML: Array(expected.utf8), boundaries: boundaries)
            #expect(problems.isEmpty, "\(eol == "\n" ? "LF" : "CRLF"): \(problems)")
            #expect(report.notes.contains { $0.partNote() == .reencodedForDelimiterLikeLine }, "\(report.notes)")
        }
    }

    // MARK: - The checker

    /// What the encoder wrote before the fix (a literal "-" after the soft break) is a changed
    /// multipart structure for ``InvariantChecker``, for the MIME parser and for this suite.
    @Test(arguments: ["\r\n", "\n"])
    func checkerSeesADelimiterForgedBySoftBreak(_ eol: String) throws {
        let boundaries = Self.boundarySets[0]
        // An alignment where the soft break falls just before the boundary text.
        let forged = try #require((Path.quotedPrintableTouchedLine.offsets).lazy.compactMap { k -> ([UInt8], [UInt8], [UInt8])? in
            let (input, expected) = Self.sweepCase(path: .quotedPrintableTouchedLine, boundaries: boundaries,
                                                   forged: "--b1", offset: k, eol: eol)
            let output = try? F.run(input).output
            guard let output, output.text.contains("=" + eol + "=2D-b1" + eol) else { return nil }
            return (input, output, expected)
        }.first)
        let (input, output, expected) = forged
        #expect(Self.problems(input: input, output: output, expectedHTML: expected, boundaries: boundaries).isEmpty)
        let unescaped = Array(output.text.replacingOccurrences("=" + eol + "=2D-b1" + eol, with: "=" + eol + "--b1" + eol).utf8)
        #expect(Self.checker.check(input: input, output: unescaped).contains("part 1: the multipart structure changed"))
        #expect(!Self.problems(input: input, output: unescaped, expectedHTML: expected, boundaries: boundaries).isEmpty)
    }

    // MARK: - Building and checking

    /// A multipart/mixed holding a multipart/alternative (plain and HTML) and a plain part.
    static func message(htmlBody: String, transferEncoding: String?, boundaries b: Boundaries, eol: String) -> [UInt8] {
        var lines = [
            "From: a@example.com", "Message-ID: <\(messageId)>", "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"\(b.outer)\"", "",
            "--\(b.outer)", "Content-Type: multipart/alternative; boundary=\"\(b.inner)\"", "",
            "--\(b.inner)", "Content-Type: text/plain", "", "plain text",
            "--\(b.inner)", "Content-Type: text/html; charset=utf-8",
        ]
        if let transferEncoding { lines.append("Content-Transfer-Encoding: \(transferEncoding)") }
        lines += ["", htmlBody, "--\(b.inner)--", "--\(b.outer)", "Content-Type: text/plain", "", "after", "--\(b.outer)--"]
        return F.lines(lines, ending: eol)
    }

    /// `line` in quoted-printable without soft breaks (the input may have long lines): `=` escaped,
    /// and a leading `-` too, so that the input itself never holds boundary text at a line start.
    static func quotedPrintableWithoutSoftBreaks(_ line: String) -> String {
        var out = ""
        for (index, character) in line.enumerated() {
            if character == "=" { out += "=3D" } else if index == 0, character == "-" { out += "=2D" } else { out.append(character) }
        }
        return out
    }

    static let trackedLink = click()
    static let pixel = F.pixel(messageId: messageId)
    static let checker = try! InvariantChecker(configuration: F.configuration)

    static func click(linkTags: [LinkTrack.Tag] = []) -> String {
        let token = ClickToken(destination: "https://example.com/x", messageId: messageId, configurationSet: "marketing",
                               linkIndex: 0, linkTags: linkTags)
        return HTMLEscaping.attributeValue(F.signer.clickURL(token, scheme: .https, domain: F.domain)!)
    }

    /// The decoded HTML after filtering: the link tracked, the pixel before `</body>`.
    static func expectedRewrite(of html: String) -> [UInt8] {
        Array(html.replacingOccurrences("href=\"https://example.com/x\"", with: "href=\"\(trackedLink)\"")
            .replacingOccurrences("</body>", with: pixel + "</body>").utf8)
    }

    /// What is wrong with `output` as the filtered `input`, read with the project's own MIME parser.
    static func problems(input: [UInt8], output: [UInt8], expectedHTML: [UInt8], boundaries: Boundaries) -> [String] {
        var problems: [String] = []
        let before = entities(MIMEEntity.parse(input[...], maximumDepth: 40), path: "message")
        let after = entities(MIMEEntity.parse(output[...], maximumDepth: 40), path: "message")
        guard before.map(\.path) == after.map(\.path),
              zip(before, after).allSatisfy({ $0.entity.multipart?.children.count == $1.entity.multipart?.children.count }) else {
            return ["the parts are \(after.map(\.path)), not \(before.map(\.path))"]
        }
        var htmlParts = 0
        for ((path, a), (_, b)) in zip(before, after) {
            let isHTML = a.contentType.type == "text" && a.contentType.subtype == "html"
            if !isHTML {
                if !a.header.elementsEqual(b.header) { problems.append("part \(path): the header block changed") }
                if a.multipart == nil, !a.body.elementsEqual(b.body) { problems.append("part \(path): the body changed") }
                continue
            }
            htmlParts += 1
            // Only Content-Transfer-Encoding may change (to quoted-printable), or be added.
            func others(_ e: MIMEEntity) -> [ArraySlice<UInt8>] {
                e.fields.filter { !$0.name(is: "content-transfer-encoding") }.map { Array(e.header)[$0.range] }
            }
            if others(a) != others(b) { problems.append("part \(path): a header field other than Content-Transfer-Encoding changed") }
            let encodings = b.fields.filter { $0.name(is: "content-transfer-encoding") }.map { $0.unfoldedValue.lowercased() }
            if encodings.count != 1 { problems.append("part \(path): \(encodings.count) Content-Transfer-Encoding fields") }
            if let decoded = InvariantChecker.decode(b, isTop: false), decoded != expectedHTML {
                problems.append("part \(path): decodes to \(mimeDebug(decoded).prefix(400)), not \(mimeDebug(expectedHTML).prefix(400))")
            }
            // Stronger than the parsers' rule: no line of the body even starts like a delimiter.
            for line in mimePhysicalLines(b.body) {
                if let boundary = boundaries.all.first(where: { line.starts(with: Array("--\($0)".utf8)) }) {
                    problems.append("part \(path): a body line starts with --\(boundary): \(mimeDebug(line).prefix(100))")
                }
            }
        }
        if htmlParts != 1 { problems.append("\(htmlParts) HTML parts") }
        problems += checker.check(input: input, output: output).map { "checker: \($0)" }
        return problems
    }

    /// Every entity of the tree, depth first, with its path.
    static func entities(_ entity: MIMEEntity, path: String) -> [(path: String, entity: MIMEEntity)] {
        var result = [(path, entity)]
        for (index, child) in (entity.multipart?.children ?? []).enumerated() {
            result += entities(child, path: path == "message" ? "\(index + 1)" : "\(path).\(index + 1)")
        }
        return result
    }
}

