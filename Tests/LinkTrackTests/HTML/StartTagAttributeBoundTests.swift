import Testing
import TestSupport
@testable import LinkTrack
@testable import LinkTrackTooling

/// ``StartTagAttributeBound`` never counts fewer attributes than libxml2 reads on a tag, and the
/// rewriter leaves a document with a tag over ``Limits/maximumAttributesPerTag`` untouched before
/// libxml2 parses it (issue 16, item 15).
@Suite struct StartTagAttributeBoundTests {
    static func offset(_ html: String, limit: Int) -> Int? {
        Array(html.utf8).withUnsafeBufferPointer { StartTagAttributeBound.firstOffsetOverLimit($0, limit: limit) }
    }

    static func names(_ n: Int, prefix: String = "a") -> [String] { (0..<n).map { "\(prefix)\($0)" } }

    /// One row: a document whose largest tag, as libxml2 reads it, has `attributes` attributes.
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var html: String
        var attributes: Int
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "valueless attributes", html: "<p " + names(10).joined(separator: " ") + ">x</p>", attributes: 10),
        Row(name: "quoted values with no blank between attributes",
            html: "<p " + names(10).map { "\($0)=\"v\"" }.joined() + ">", attributes: 10),
        Row(name: "single quotes, unquoted values, blanks around =",
            html: "<td " + names(5).map { "\($0) = 'x y'" }.joined(separator: "\n") + " " + names(5, prefix: "b").map { "\($0)=u" }.joined(separator: "\t") + ">",
            attributes: 10),
        Row(name: "a quoted value holding > and < does not end the tag",
            html: "<a title=\"<b> x > y\" " + names(9).joined(separator: " ") + ">", attributes: 10),
        Row(name: "bogus attributes are not counted",
            html: "<a \"x\" 1y -z " + names(4).joined(separator: " ") + ">", attributes: 4),
        Row(name: "a name over 100 characters is cut, the rest is another attribute",
            html: "<a " + String(repeating: "n", count: 100) + String(repeating: "m", count: 100) + "o>", attributes: 3),
        Row(name: "an element name over 100 characters: the rest is an attribute",
            html: "<" + String(repeating: "e", count: 150) + " x>", attributes: 2),
        Row(name: "ends at />", html: "<br a b/>" + "c d e", attributes: 2),
    ]

    @Test(arguments: rows)
    func theBoundIsExactOnPlainTags(_ row: Row) {
        #expect(LibXML2Baseline.largestAttributeCount(Array(row.html.utf8)) == row.attributes, "libxml2's count")
        #expect(Self.offset(row.html, limit: row.attributes) == nil)
        #expect(Self.offset(row.html, limit: row.attributes - 1) != nil)
    }

    /// A reading that starts inside a comment and whose quote swallows real markup (a `"` in the
    /// comment) must not hide the real tag that follows: every `<` is read as a tag start.
    @Test func aQuoteInACommentDoesNotHideATag() {
        let html = "<!-- <a title=\" --><p " + Self.names(300).joined(separator: " ") + " z=\"\">x</p>"
        #expect(LibXML2Baseline.largestAttributeCount(Array(html.utf8)) == 301)
        #expect(Self.offset(html, limit: 301) == nil)
        #expect(Self.offset(html, limit: 300) != nil)
    }

    /// Random documents over a small alphabet of tag syntax: the bound is never below libxml2's
    /// largest tag.
    @Test(arguments: 0..<1000)
    func theBoundIsNeverBelowLibXML2(_ seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed))
        let pieces = ["<", "<a", "<p", ">", "/>", "/", " ", "\n", "\"", "'", "=", "x", "y1", "z-", "_q", ":v", ".w",
                      "<!--", "-->", "<script>", "</script>", "&amp;", "\u{0C}", "é", "\0", "9", String(repeating: "k", count: 99)]
        var html = ""
        for _ in 0..<Int.random(in: 1...120, using: &generator) { html += pieces.randomElement(using: &generator)! }
        let largest = LibXML2Baseline.largestAttributeCount(Array(html.utf8))
        guard largest > 0 else { return }
        #expect(Self.offset(html, limit: largest - 1) != nil, "libxml2 reads \(largest) attributes: \(html.debugDescription)")
    }

    /// Every reading side by side at every byte, with no skipping: what the fast pass must equal.
    static func reference(_ bytes: [UInt8], limit: Int) -> Int? {
        typealias B = StartTagAttributeBound
        var counts = [Int](repeating: -1, count: B.stateCount)
        var run = 0
        for i in bytes.indices {
            let byte = bytes[i]
            let isNameByte = TagRescanner.isNameCharacter(byte)
            let cut = isNameByte && run > 0 && run % B.nameCut == 0
            let closesTag = byte == UInt8(ascii: ">") || (byte == UInt8(ascii: "/") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: ">"))
            var next = [Int](repeating: -1, count: B.stateCount)
            for k in 0..<B.stateCount where counts[k] >= 0 {
                let (state, starts) = B.next(B.State(rawValue: UInt8(k))!, byte, closesTag: closesTag, cut: cut)
                guard let state else { continue }
                let total = counts[k] + (starts ? 1 : 0)
                if total > limit { return i }
                next[Int(state.rawValue)] = max(next[Int(state.rawValue)], total)
            }
            if byte == UInt8(ascii: "<"), i + 1 < bytes.count, TagRescanner.isNameStart(bytes[i + 1]) {
                next[0] = max(next[0], 0)
            }
            counts = next
            run = isNameByte ? run + 1 : 0
        }
        return nil
    }

    /// The pass, with its skipping and its switch between one reading and several, finds what
    /// reading every byte finds.
    @Test(arguments: 0..<500)
    func theFastPassEqualsTheReference(_ seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed) &+ 7_000)
        let pieces = ["<", "<a", "<p ", ">", "/>", "/", " ", "\n", "\"", "'", "=", "x", "y1", "z-", "_q", ":v", ".w", "<!--",
                      "-->", "&amp;", "\u{0C}", "é", "\0", "9", " a b c", "=\"<a x y\" ", String(repeating: "k", count: 99)]
        var html = ""
        for _ in 0..<Int.random(in: 1...200, using: &generator) { html += pieces.randomElement(using: &generator)! }
        let bytes = Array(html.utf8)
        for limit in [0, 1, 2, 3, 5, 8] {
            let fast = bytes.withUnsafeBufferPointer { StartTagAttributeBound.firstOffsetOverLimit($0, limit: limit) }
            #expect(fast == Self.reference(bytes, limit: limit), "limit \(limit): \(html.debugDescription)")
        }
    }

    /// Real mail is far below the default: every corpus document and the benchmark newsletter's kind.
    @Test func theCorpusStaysBelowTheLimit() throws {
        let cases = try CorpusCase.discover(in: PackageRoot.corpus)
        #expect(cases.count > 100)
        var largest = 0
        for c in cases {
            let bytes = try FileIO.readAll(path: c.inputPath)
            largest = max(largest, LibXML2Baseline.largestAttributeCount(bytes))
            #expect(bytes.withUnsafeBufferPointer {
                StartTagAttributeBound.firstOffsetOverLimit($0, limit: Limits().maximumAttributesPerTag)
            } == nil, "\(c.name)")
        }
        #expect(largest < 20)
    }

    @Test func aTagOverTheLimitLeavesThePartUntouched() throws {
        var limits = Limits()
        limits.maximumAttributesPerTag = 16
        var rewriter = HTMLRewriterFixture.rewriter
        rewriter.limits = limits
        let within = Array(("<body><a href=\"https://example.com/\" " + Self.names(15).joined(separator: " ") + ">x</a></body>").utf8)
        let over = Array(("<body><a href=\"https://example.com/\" " + Self.names(16).joined(separator: " ") + ">x</a></body>").utf8)
        let tracked = rewriter.rewrite(within, charset: "utf-8", context: HTMLRewriterFixture.context())
        #expect(tracked.report.untouchedReason == nil)
        #expect(tracked.report.trackedLinkCount == 1)
        let untouched = rewriter.rewrite(over, charset: "utf-8", context: HTMLRewriterFixture.context())
        #expect(untouched.output == over)
        #expect(untouched.edits.isEmpty)
        #expect(caseName(untouched.report.untouchedReason!) == "tooManyAttributes")
        if case .tooManyAttributes(let limit, _) = untouched.report.untouchedReason { #expect(limit == 16) }
    }

    /// Through the filter: the part passes through untouched with a note, and the rest of the message
    /// is still tracked.
    @Test func theFilterPassesSuchAPartThroughWithANote() throws {
        let tag = "<p " + Self.names(300).joined(separator: " ") + ">"
        let input = FilterFixture.lines([
            "From: a@example.com", "Message-ID: <attrs@example.com>", "Content-Type: multipart/mixed; boundary=b", "",
            "--b", "Content-Type: text/html", "", "<html><body>" + tag + "<a href=\"https://shop.example.com/1\">1</a></body></html>",
            "--b", "Content-Type: text/html", "", "<html><body><a href=\"https://shop.example.com/2\">2</a></body></html>",
            "--b--",
        ], ending: "\r\n")
        let (output, report) = try FilterFixture.run(input)
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.contains("<a href=\"https://shop.example.com/1\">1</a>"))
        #expect(!text.contains("<a href=\"https://shop.example.com/2\">"))
        #expect(report.notes.contains { $0.partNote("1").map { if case .documentUntouched(.tooManyAttributes(256, _)) = $0 { true } else { false } } == true }, "\(report.notes)")
        #expect(try InvariantChecker(configuration: FilterFixture.configuration).check(input: input, output: output) == [])
    }
}
