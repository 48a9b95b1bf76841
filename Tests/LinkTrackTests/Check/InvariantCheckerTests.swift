import Testing
@testable import LinkTrack
@testable import LinkTrackTooling

@Suite struct InvariantCheckerTests {
    typealias F = FilterFixture

    static let input = F.lines([
        "From: a@example.com", "Message-ID: <ic@example.com>", "X-SES-MESSAGE-TAGS: campaign=x",
        "Content-Type: multipart/mixed; boundary=b", "",
        "--b", "Content-Type: text/html", "",
        "<html><body><p>Hello</p><a href=\"https://shop.example.com/a?x=1&amp;y=2\">a</a>",
        "<a ses:no-track href=\"http://shop.example.com/keep\">k</a> <a href=\"mailto:x@example.com\">m</a></body></html>",
        "--b", "Content-Type: application/pdf", "Content-Transfer-Encoding: base64", "", "JVBERi0xLjQK",
        "--b--",
    ], ending: "\r\n")

    static var checker: InvariantChecker { try! InvariantChecker(configuration: F.configuration) }

    static func filtered() throws -> [UInt8] { try F.run(input).output }

    @Test func aCorrectOutputPasses() throws {
        #expect(Self.checker.check(input: Self.input, output: try Self.filtered()) == [])
    }

    /// A message whose lines all end in LF must keep them so: a CRLF anywhere in its output (a
    /// re-encoded base64 line, as `Corpus/enc-base64-single-line-lf` once had) is reported; the
    /// filter's own output of the LF message passes, and so does a CRLF message's.
    @Test func aCRInTheOutputOfAnLFMessageIsReported() throws {
        let lfInput = Array(String(decoding: Self.input, as: UTF8.self).replacingOccurrences("\r\n", with: "\n").utf8)
        let lfOutput = try F.run(lfInput).output
        #expect(!lfOutput.contains(0x0D))
        #expect(Self.checker.check(input: lfInput, output: lfOutput) == [])
        // One line of the output ends in CRLF: the rest of the message is as the filter wrote it.
        let firstLF = lfOutput.firstIndex(of: 0x0A)!
        var mixed = lfOutput
        mixed.insert(0x0D, at: firstLF)
        let problems = Self.checker.check(input: lfInput, output: mixed)
        #expect(problems.contains { $0.contains("a CR appeared at output offset \(firstLF)") }, "\(problems)")
    }

    @Test func anUnchangedMessageIsNotACorrectTrackedOutput() {
        // The pixel and the tracked link are missing, and the SES header is still there.
        #expect(!Self.checker.check(input: Self.input, output: Self.input).isEmpty)
    }

    /// Each row corrupts the correct output in one way; the checker must notice.
    static var mutations: [(String, @Sendable ([UInt8]) -> [UInt8])] { [
        ("a byte of text outside any href", { replacing($0, "<p>Hello</p>", "<p>Hellp</p>") }),
        ("a header field", { replacing($0, "From: a@example.com", "From: b@example.com") }),
        ("the attachment", { replacing($0, "JVBERi0xLjQK", "JVBERi0xLjUK") }),
        ("a boundary line", { replacing($0, "--b--", "--c--") }),
        ("the pixel removed", { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            guard let start = text.range(of: "<img src="), let end = text[start.lowerBound...].firstIndex(of: ">") else { return bytes }
            return Array((String(text[..<start.lowerBound]) + String(text[text.index(after: end)...])).utf8)
        }),
        ("a second pixel", { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            guard let start = text.range(of: "<img src="), let end = text[start.lowerBound...].firstIndex(of: ">") else { return bytes }
            let pixel = String(text[start.lowerBound...end])
            return Array(text.replacingOccurrences("<p>Hello</p>", with: "<p>Hello</p>" + pixel).utf8)
        }),
        ("a tracking URL for another destination", { bytes in
            let other = F.click("https://evil.example.net/", index: 0, messageId: "ic@example.com", messageTags: [Tag(name: "campaign", value: "x")])
            return replacingTrackingURL(bytes, index: 0, with: other)
        }),
        ("a tracking URL with a forged signature", { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            guard let r = text.range(of: "/c/1.t1.") else { return bytes }
            var chars = Array(text)
            let at = text.distance(from: text.startIndex, to: r.upperBound)
            chars[at] = chars[at] == "A" ? "B" : "A"
            return Array(String(chars).utf8)
        }),
        ("the http scheme under REQUIRE", { bytes in
            replacing(bytes, "href=\"https://links.example.com/", "href=\"http://links.example.com/")
        }),
        ("a new line over 998 octets", { bytes in replacing(bytes, "<p>Hello</p>", "<p>" + String(repeating: "x", count: 1200) + "</p>") }),
        ("the no-track link tracked after all", { bytes in
            let tracked = F.click("http://shop.example.com/keep", index: 1, messageId: "ic@example.com", messageTags: [Tag(name: "campaign", value: "x")])
            return replacing(bytes, "href=\"http://shop.example.com/keep\"", "href=\"\(tracked)\"")
        }),
    ] }

    @Test(arguments: 0..<11)
    func everyCorruptionIsFound(_ index: Int) throws {
        let (name, mutate) = Self.mutations[index]
        let good = try Self.filtered()
        let bad = mutate(good)
        #expect(bad != good, "the mutation \(name) did not apply")
        #expect(!Self.checker.check(input: Self.input, output: bad).isEmpty, "not detected: \(name)")
    }

    static func replacing(_ bytes: [UInt8], _ target: String, _ replacement: String) -> [UInt8] {
        Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(target, with: replacement).utf8)
    }

    static func replacingTrackingURL(_ bytes: [UInt8], index: Int, with url: String) -> [UInt8] {
        let text = String(decoding: bytes, as: UTF8.self)
        var ranges: [Range<String.Index>] = []
        var rest = text.startIndex
        while let r = text[rest...].range(of: "href=\"https://links.example.com/c/") {
            let valueStart = text.index(r.lowerBound, offsetBy: 6)
            let valueEnd = text[valueStart...].firstIndex(of: "\"")!
            ranges.append(valueStart..<valueEnd)
            rest = valueEnd
        }
        guard index < ranges.count else { return bytes }
        var out = text
        out.replaceSubrange(ranges[index], with: url)
        return Array(out.utf8)
    }
}

/// Checker false positives found by FuzzHTMLRewriter, one row per finding: the rewriter's output must
/// look as the row says, and the checker must accept it.
struct CheckerFalsePositiveRow: Sendable, CustomTestStringConvertible {
    var name: String
    var html: [String]
    /// A substring the output must hold, or (with `absent`) must not hold.
    var expected: [String]
    var absent: [String] = []
    var testDescription: String { name }
}

@Suite struct InvariantCheckerFalsePositiveTests {
    typealias F = FilterFixture

    static let rows: [CheckerFalsePositiveRow] = [
        // `Fuzz/repro/html-ses-tags-value-with-form-feed.html`:
        // libxml2's blanks are space, tab, LF and CR; a form feed does not end an
        // unquoted value, so the whole `ses:tags` value goes with the attribute.
        CheckerFalsePositiveRow(
            name: "ses:tags value holding a form feed is removed whole",
            html: ["<html><body><a ses:tags=a\u{0C}b href=\"https://shop.example.com/x\">x</a></body></html>"],
            expected: [], absent: ["ses:tags", "\u{0C}b"]),
        // `Fuzz/repro/html-placeholder-inside-ses-tags-value.html` and kin:
        // a placeholder is removed inside an attribute value whose text
        // reads like a ses: attribute; that text is not a removed attribute.
        CheckerFalsePositiveRow(
            name: "placeholder inside a value that reads like a ses: attribute",
            html: ["<html><body><p>{{ses:openTracker}}</p><a href=\"a ses:tags='{{ses:openTracker}}x'\">r</a>",
                   "<a href=\"https://shop.example.com/y\">y</a></body></html>"],
            expected: ["<a href=\"a ses:tags='x'\">"]),
        // `Fuzz/repro/html-ses-no-track-then-longer-name.html`:
        // `ses:no-track9` after a removed `ses:no-track` is another attribute.
        CheckerFalsePositiveRow(
            name: "removed ses:no-track followed by ses:no-track9",
            html: ["<html><body><a ses:no-track=\"x\" ses:no-track9 href=\"https://shop.example.com/z\">z</a></body></html>"],
            expected: ["<a ses:no-track9 href=\"https://shop.example.com/z\">"]),
        // `Fuzz/repro/html-ses-tags-text-before-pixel.html`:
        // text " ses:tags" right before the pixel, which goes ahead of an
        // unterminated tag; the text stays, and the pixel is the only change.
        // `Fuzz/repro/html-existing-pixel-mixed-case-scheme.html`:
        // the rewriter finds an existing pixel whatever the case of the scheme, the
        // host, the tag and attribute names, and the quotes; so must the checker.
        CheckerFalsePositiveRow(
            name: "existing pixel written httPs://",
            html: ["<img src=\"httPs://links.example.com/o/x\"1/><a href=\"https://shop.example.com/s\">s</a>"],
            expected: ["<img src=\"httPs://links.example.com/o/x\"1/><a href=\"https://links.example.com/c/"],
            absent: ["<img src=\"https://links.example.com/o/"]),
        CheckerFalsePositiveRow(
            name: "existing pixel in upper case, single-quoted, after another attribute",
            html: ["<BODY><IMG ALT=\"a>b\" SRC='HTTPS://LINKS.example.com/o/x'><a href=\"https://shop.example.com/s\">s</a></BODY>"],
            expected: ["<a href=\"https://links.example.com/c/"], absent: ["<img src="]),
        // `Fuzz/repro/html-pixel-src-on-img-name-run-together.html`:
        // `<img[i` is no image for a browser, so the rewriter adds a pixel, and the
        // checker must see exactly one.
        CheckerFalsePositiveRow(
            name: "pixel URL on an <img whose name runs into other bytes",
            html: ["C=<img[i src=\"https://links.example.com/o/x\"><a href=\"https://n\">"],
            expected: ["<img[i src=\"https://links.example.com/o/x\">", "<img src=\"https://links.example.com/o/1."]),
        // Issue 16, item 21: a duplicate ses:tags run together with text keeps its twin in place.
        CheckerFalsePositiveRow(
            name: "duplicate ses:tags, one run together with text: both stay",
            html: ["<html><body><a ses:tags=\"k:v\" href=\"https://shop.example.com/t\" ses:tags=\"a:b\"x>t</a></body></html>"],
            expected: ["<a ses:tags=\"k:v\" href=\"https://links.example.com/c/", "ses:tags=\"a:b\"x>t</a>"]),
        // `Fuzz/repro/mime-placeholder-inside-tracking-prefix.eml`:
        // a placeholder removed from the middle of text that then reads like a
        // tracking URL after a quote; it is the input's own text, not a rewritten href.
        CheckerFalsePositiveRow(
            name: "placeholder inside text that reads like a tracking URL once removed",
            html: ["<!DOCTYPE\u{0}\"http://l{{ses:openTracker}}inks.example.com/c/"],
            expected: ["\"http://links.example.com/c/"], absent: ["{{ses:openTracker}}"]),
        CheckerFalsePositiveRow(
            name: "text ' ses:tags' just before the pixel",
            html: [" ses:tags<e"],
            expected: [" ses:tags<img src="]),
    ]

    @Test(arguments: rows)
    func checkerAcceptsTheRewrite(_ row: CheckerFalsePositiveRow) throws {
        let input = F.lines(["From: a@example.com", "Message-ID: <fp@example.com>", "Content-Type: text/html", ""]
                            + row.html, ending: "\r\n")
        let output = try F.run(input).output
        let text = String(decoding: output, as: UTF8.self)
        for piece in row.expected { #expect(text.contains(piece), "\(text)") }
        for piece in row.absent { #expect(!text.contains(piece), "\(text)") }
        let checker = try InvariantChecker(configuration: F.configuration)
        #expect(checker.check(input: input, output: output) == [])
    }
}
