import Testing
import TestSupport
@testable import LinkTrack

/// Properties over generated documents: the edits explain the output exactly, the output is
/// idempotent, and every tracking URL decodes to its link.
@Suite("HTMLRewriter properties")
struct HTMLRewriterPropertyTests {
    typealias F = HTMLRewriterFixture

    static func b(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The fragments documents are built from: markup, attributes in every quoting, entities,
    /// comments, conditional comments, raw-text elements, bytes >= 0x80 and NUL.
    static let alphabet: [[UInt8]] = [
        b("<a href=\"https://example.com/p?a=1&amp;b=2\">"), b("<a href='http://example.com/q'>"),
        b("<a href=https://example.com/u>"), b("<A HREF=\"HTTPS://Example.com/X\">"), b("</a>"), b("</A>"),
        b("<area href=\"https://example.com/area\">"), b("<a href=\"mailto:x@example.com\">"), b("<a href=\"#top\">"),
        b("<a href=\"{{url}}\">"), b("<a href=\"https://example.com/t\" ses:tags=\"k:v;k2:v2\">"),
        b("<a ses:tags=\"bad tags\" href=\"https://example.com/bt\">"),
        b("<a title=\"<a href=evil>\" href=\"https://example.com/e\">"),
        b("<a href=\"https://example.com/d1\" href=\"https://example.com/d2\">"), b("<a href=\"https://example.com/x\" <b>"),
        b("<a\n href=\n\"https://example.com/nl\"\r\n>"), b("<a href=\" https://example.com/ws \">"),
        b("<a href=\"https://example.com/?r=1&region=2&#38;z&#x26;\">"), b("<a href=\"https://example.com/a b\">"),
        b("<a href=\"https://track.example.com/c/x\">"), b("<a href=\"https://example.com/") + [0xE9] + b("\">"),
        b("<a href=\"https://example.com/") + [0x00] + b("\">"), b("<a href=\"\">"), b("<a href>"),
        b("&amp;"), b("&#38;"), b("&region=1"), b("&"), b("&lt;"),
        b("<!-- c <a href=\"https://example.com/c\"> -->"), b("<!--"), b("-->"), b("<!---->"),
        b("<!--[if mso]><v:roundrect href=\"https://example.com/v\" arcsize=\"10%\"><center>x</center></v:roundrect><![endif]-->"),
        b("<!--[if !mso]><!-- -->"), b("<!--<![endif]-->"), b("<!DOCTYPE html>"), b("<html>"), b("</html>"),
        b("<head>"), b("</head>"), b("<body>"), b("</body>"), b("<BODY>"), b("</BODY >"),
        b("<title>"), b("</title>"), b("<script>"), b("</script>"), b("<style>"), b("</style>"),
        b("<textarea>"), b("</textarea>"), b("<xmp>"), b("</xmp>"), b("<p>"), b("</p>"), b("<br/>"), b("<table><tr><td>"),
        b("<img src=\"https://example.com/i.png\">"), b("<div class=a>"), b("</div>"), b("<meta charset=\"utf-8\">"),
        b("hello "), b("world"), b(" "), b("\n"), b("\r\n"), b("\t"),
        [0x81], [0x8D], [0x93, 0x94], [0xE9], [0x82, 0xA0], [0x95, 0x5C], [0xFF], [0x00],
        b("<"), b(">"), b("\""), b("'"), b("="), b("/"), b("</"), b("<a"), b(" href="),
    ]

    /// Rare fragments: `ses:no-track` (a second pass tracks its link, by design) and the placeholder.
    static let rare: [[UInt8]] = [
        b("<a ses:no-track href=\"https://example.com/n\">"), b("{{ses:openTracker}}"),
    ]

    static let charsets: [String?] = ["utf-8", "windows-1252", "Shift_JIS", nil]

    static func document(_ random: inout SeededGenerator, rare useRare: Bool) -> [UInt8] {
        var out: [UInt8] = []
        let count = Int.random(in: 0...40, using: &random)
        for _ in 0..<count {
            if useRare, Int.random(in: 0..<30, using: &random) == 0 {
                out += rare.randomElement(using: &random)!
            } else {
                out += alphabet.randomElement(using: &random)!
            }
        }
        return out
    }

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard haystack.count >= n.count else { return false }
        for i in 0...(haystack.count - n.count) where haystack[i..<(i + n.count)].elementsEqual(n) { return true }
        return false
    }

    /// Checks every property for one document; returns the failures.
    static func check(_ input: [UInt8], charset: String?, policy: HttpsPolicy) -> [String] {
        var failures: [String] = []
        let context = F.context(policy: policy)
        let result = F.rewrite(input, charset: charset, context: context)
        // (1) Outside the edited ranges the output is the input, and undoing the edits gives it back.
        if let mismatch = htmlUndoMismatch(input: input, output: result.output, edits: result.edits) {
            failures.append("undo: \(mismatch)")
        }
        // (2) The output is exactly the spliced edits.
        if result.output != Splicer.apply(result.edits, to: input) { failures.append("output != Splicer.apply") }
        // The same bytes outside an array (a mapped file, for the CLI) give the same edits and
        // report, with or without the per-link reports.
        for reportingLinks in [true, false] {
            let pointerResult = input.withUnsafeBufferPointer {
                F.rewriter.rewrite(contentsOf: $0, charset: charset, context: context, reportingLinks: reportingLinks)
            }
            var expected = result.report
            if !reportingLinks { expected.links = [] }
            if pointerResult.edits != result.edits { failures.append("rewrite(contentsOf:) edits differ (reportingLinks \(reportingLinks))") }
            if pointerResult.report != expected { failures.append("rewrite(contentsOf:) report differs (reportingLinks \(reportingLinks))") }
            if !pointerResult.output.isEmpty { failures.append("rewrite(contentsOf:) built an output") }
        }
        // Every edit is one of the allowed kinds.
        let pixel = F.pixel(scheme: policy.openScheme)
        for edit in result.edits.edits {
            let original = Array(input[edit.range])
            if edit.range.isEmpty {
                if edit.replacement != pixel { failures.append("insertion at \(edit.range) is not the pixel") }
            } else if edit.replacement.isEmpty {
                let text = String(decoding: original, as: UTF8.self).lowercased()
                    .trimmingCharacters(in: " \t\r\n")
                if !(text.hasPrefix("ses:") || original == PixelTag.placeholder) {
                    failures.append("deletion of \(htmlDebug(original)) is neither an ses: attribute nor the placeholder")
                }
            } else if original == PixelTag.placeholder {
                if edit.replacement != pixel { failures.append("placeholder replaced by something else") }
            } else {
                let replacement = String(decoding: edit.replacement, as: UTF8.self)
                if !(replacement.hasPrefix("http") || replacement.hasPrefix("\"http")) {
                    failures.append("replacement \(replacement) of \(htmlDebug(original)) is not a tracking URL")
                }
            }
        }
        // (4) Every tracked link's URL decodes to its destination, in document order from 0.
        var nextIndex = 0
        for link in result.report.links {
            guard let url = link.trackingURL else { continue }
            if link.linkIndex != nextIndex { failures.append("link index \(String(describing: link.linkIndex)), expected \(nextIndex)") }
            nextIndex += 1
            do {
                guard case .click(let token) = try F.signer.decode(url) else {
                    failures.append("not a click URL: \(url)")
                    continue
                }
                if token.destination != link.destination { failures.append("token destination \(token.destination) != \(link.destination)") }
                if token.linkIndex != link.linkIndex { failures.append("token index differs") }
                if token.messageId != F.messageId || token.configurationSet != F.setName || token.messageTags != F.messageTags {
                    failures.append("token message fields differ")
                }
            } catch {
                failures.append("tracking URL does not decode: \(error)")
            }
            let escaped = Array(HTMLEscaping.attributeValue(url).utf8)
            let written = result.edits.edits.contains { edit in
                edit.range.lowerBound == link.documentOffset
                    && (edit.replacement == escaped || edit.replacement == [0x22] + escaped + [0x22])
            }
            if !written { failures.append("the tracking URL of \(link.destination) is not written at its href") }
        }
        // (3) Rewriting the output again changes nothing. Not checked with ses:no-track (SES removes
        // it, so a second pass tracks the link) nor with a placeholder, which is replaced wherever it
        // stands, even inside a script or an attribute, where the pixel is not markup.
        // Nor when the pixel went before an unclosed script, style, title, textarea or xmp: libxml2 closes
        // those at tags where a browser reads on as text, and an element inserted before one changes where
        // (see the report of issue 3's tests).
        var beforeRawText = false
        if case .inserted(.beforeUnterminatedConstruct, let offset) = result.report.pixel {
            let rest = input[offset...].prefix(10).map(\.asciiLowercased)
            beforeRawText = ["<script", "<style", "<title", "<textarea", "<xmp"].contains { rest.starts(with: Array($0.utf8)) }
        }
        if !contains(input.map(\.asciiLowercased), "ses:no-track"), !contains(input, "{{ses:openTracker}}"), !beforeRawText {
            let again = F.rewrite(result.output, charset: charset, context: context)
            if again.output != result.output {
                failures.append("second pass changed the output:\n  first:  \(htmlDebug(result.output))\n  second: \(htmlDebug(again.output))")
            }
        }
        return failures
    }

    @Test("generated documents: undo, splice, idempotence and decodable links", arguments: [UInt64(1), 2, 3, 4])
    func generated(seed: UInt64) {
        var random = SeededGenerator(seed: seed &* 0x5DEE_CE66D)
        var reported = 0
        var tracked = 0
        for n in 0..<200 {
            let input = Self.document(&random, rare: true)
            let charset = Self.charsets.randomElement(using: &random)!
            let policy = HttpsPolicy.allCases.randomElement(using: &random)!
            let failures = Self.check(input, charset: charset, policy: policy)
            tracked += F.rewrite(input, charset: charset, context: F.context(policy: policy)).report.trackedLinkCount
            if !failures.isEmpty, reported < 5 {
                reported += 1
                let message = "seed \(seed) document \(n) (charset \(charset ?? "nil"), \(policy)): \(htmlDebug(input))\n"
                    + failures.joined(separator: "\n")
                Issue.record(Comment(rawValue: message))
            }
        }
        // The generator does reach the interesting paths.
        #expect(tracked > 100)
    }

    @Test("exhaustive pairs of fragments")
    func pairs() {
        var failed = 0
        let all = Self.alphabet + Self.rare
        for first in all {
            for second in all {
                let input = first + Self.b("<a href=\"https://example.com/z\">z</a>") + second
                let failures = Self.check(input, charset: "utf-8", policy: .optional)
                if !failures.isEmpty, failed < 5 {
                    failed += 1
                    Issue.record(Comment(rawValue: "\(htmlDebug(input)):\n" + failures.joined(separator: "\n")))
                }
            }
        }
    }

    @Test("with nothing to do, the output is the input")
    func noEdits() {
        var random = SeededGenerator(seed: 99)
        for _ in 0..<100 {
            let input = Self.document(&random, rare: false)
            let result = F.rewrite(input, context: F.context(opens: false, clicks: false))
            #expect(result.output == input && result.edits.isEmpty)
        }
    }
}
