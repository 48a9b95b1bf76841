import Testing
@testable import LinkTrack

/// The tag re-scanner on its own: libxml2's reading of a start tag, one row per quirk of
/// `htmlParseStartTag` that the rewriter relies on.
@Suite("HTML: the tag re-scanner")
struct TagRescannerTests {
    /// A vocabulary of a bare name and of a name with a required value, as senders' opt-outs are.
    static let vocabulary = ScannerVocabulary(
        attributes: [.init(name: "x-no-track"), .init(name: "clicktracking", requiredValue: "off")],
        textPlaceholder: [])

    /// The tag as the re-scan read it: its name, then each attribute as `name`, `=` and the quote
    /// and value when it has one, `!` for a duplicate, and `#href`, `#src` or `#<index>` for its
    /// kind; nil when no tag was read.
    static func render(_ html: String, from start: Int = 0, limit: Int? = nil) -> String? {
        let bytes = Array(html.utf8)
        return bytes.withUnsafeBufferPointer { buffer -> String? in
            var rescanner = TagRescanner(bytes: buffer, vocabulary: vocabulary)
            guard let tag = rescanner.rescan(from: start, limit: limit) else { return nil }
            func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
            var parts = [text(tag.nameRange)]
            for attribute in rescanner.attributes {
                var part = text(attribute.nameRange)
                if let value = attribute.valueRange {
                    part += "=" + (attribute.quote.map { String(UnicodeScalar($0)) } ?? "") + text(value)
                }
                if attribute.isDuplicate { part += "!" }
                switch attribute.kind {
                case .href: part += "#href"
                case .src: part += "#src"
                case .listed(let index): part += "#\(index)"
                case .other: break
                }
                parts.append(part)
            }
            parts.append("end=\(tag.tagEnd)")
            return parts.joined(separator: " ")
        }
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var html: String
        var expected: String?
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "doubleQuoted", html: "<a href=\"x\">", expected: "a href=\"x#href end=11"),
        Row(name: "singleQuoted", html: "<a href='x'>", expected: "a href='x#href end=11"),
        Row(name: "unquotedEndsAtGreaterThan", html: "<a href=x>", expected: "a href=x#href end=9"),
        Row(name: "unquotedEndsAtBlank", html: "<a href=x title=y>", expected: "a href=x#href title=y end=17"),
        Row(name: "uppercaseNames", html: "<A HREF=x SRC=y>", expected: "A HREF=x#href SRC=y#src end=15"),
        Row(name: "blanksAroundEquals", html: "<a href = \"x\">", expected: "a href=\"x#href end=13"),
        Row(name: "attributesSplitAcrossLines", html: "<a\nhref\r\n=\n'x'>", expected: "a href='x#href end=14"),
        Row(name: "valuelessAttribute", html: "<a download href=x>", expected: "a download href=x#href end=18"),
        Row(name: "duplicateHrefFirstWins", html: "<a href=x HREF=y>", expected: "a href=x#href HREF=y!#href end=16"),
        Row(name: "greaterThanInQuotedValue", html: "<a title=\"a>b\" href=x>", expected: "a title=\"a>b href=x#href end=21"),
        Row(name: "tagInQuotedValue", html: "<a title=\"<a href=evil>\" href=x>",
            expected: "a title=\"<a href=evil> href=x#href end=31"),
        Row(name: "unterminatedQuoteSwallowsTheRest", html: "<a href=\"x>", expected: nil),
        Row(name: "noGreaterThan", html: "<a href=x", expected: nil),
        Row(name: "bogusAttributeDropped", html: "<a \"x\" href=y>", expected: "a href=y#href end=13"),
        Row(name: "bogusAttributeEndsAtSlashGreaterThan", html: "<a \"x\"/>", expected: "a end=6"),
        Row(name: "slashGreaterThanEndsTheTag", html: "<img src=\"x\"/>", expected: "img src=\"x#src end=12"),
        Row(name: "unquotedValueTakesTheSlash", html: "<img src=x/>", expected: "img src=x/#src end=11"),
        Row(name: "nameRunTogetherWithQuote", html: "<a\"x\" href=y>", expected: "a href=y#href end=12"),
        Row(name: "hyphenAndColonInNames", html: "<v:roundrect data-x=1>", expected: "v:roundrect data-x=1 end=21"),
        Row(name: "noNameNoTag", html: "<1a>", expected: nil),
        Row(name: "nameCutAt100Characters", html: "<a " + String(repeating: "b", count: 101) + ">",
            expected: "a " + String(repeating: "b", count: 100) + " b end=104"),
        Row(name: "listedBareName", html: "<a X-NO-TRACK href=x>", expected: "a X-NO-TRACK#0 href=x#href end=20"),
        Row(name: "listedBareNameWithAValue", html: "<a x-no-track=\"\">", expected: "a x-no-track=\"#0 end=16"),
        Row(name: "listedDuplicate", html: "<a x-no-track x-no-track>", expected: "a x-no-track#0 x-no-track!#0 end=24"),
        Row(name: "requiredValueMatches", html: "<a clicktracking=off>", expected: "a clicktracking=off#1 end=20"),
        Row(name: "requiredValueIgnoresCase", html: "<a ClickTracking=\"OFF\">", expected: "a ClickTracking=\"OFF#1 end=22"),
        Row(name: "requiredValueAfterReferences", html: "<a clicktracking=\"&#111;ff\">",
            expected: "a clicktracking=\"&#111;ff#1 end=27"),
        Row(name: "requiredValueDiffers", html: "<a clicktracking=on>", expected: "a clicktracking=on end=19"),
        Row(name: "requiredValueMissing", html: "<a clicktracking>", expected: "a clicktracking end=16"),
        Row(name: "requiredValueIsNotAPrefix", html: "<a clicktracking=offx>", expected: "a clicktracking=offx end=21"),
        Row(name: "sameLengthOtherName", html: "<a x-no-trace>", expected: "a x-no-trace end=13"),
    ]

    @Test(arguments: rows)
    func rescans(_ row: Row) {
        #expect(Self.render(row.html) == row.expected)
    }

    /// A limit before the tag's `>` (a conditional comment's markup ends there) leaves no tag.
    @Test func aTagMustEndWithinTheLimit() {
        #expect(Self.render("<a href=x>", limit: 9) == nil)
        #expect(Self.render("<a href=x>", limit: 10) == "a href=x#href end=9")
        #expect(Self.render("xx<a href=x>", from: 2) == "a href=x#href end=11")
    }

    /// The whitespace that goes with an attribute when it is removed: the blanks before its name,
    /// never the element's name, even after a valueless attribute.
    @Test func leadingWhitespaceIsTheBlanksBeforeTheName() {
        let bytes = Array("<a \n x-no-track  href=y>".utf8)
        bytes.withUnsafeBufferPointer { buffer in
            var rescanner = TagRescanner(bytes: buffer, vocabulary: Self.vocabulary)
            let tag = rescanner.rescan(from: 0)
            #expect(tag?.listedAttributes.map(\.leadingWhitespaceStart) == [2])
            #expect(tag?.href?.leadingWhitespaceStart == 15)
            #expect(tag?.attribute(.listed(0))?.nameRange == 5..<15)
            #expect(tag?.attribute(.listed(1)) == nil)
        }
    }

    struct LocateRow: Sendable, CustomTestStringConvertible {
        var name: String
        var html: String
        /// libxml2's names for the tag: the element's, then its attributes', lowercased.
        var names: [String]
        var expectedStart: Int?
        var testDescription: String { name }
    }

    static let locateRows: [LocateRow] = [
        LocateRow(name: "plain", html: "<p>x</p><a href=x>", names: ["a", "href"], expectedStart: 8),
        LocateRow(name: "lessThanInAValue", html: "<a title=\"<a href=evil>\" href=x>", names: ["a", "title", "href"],
                  expectedStart: 0),
        LocateRow(name: "duplicateLeftOutOfTheNames", html: "<a href=x href=y>", names: ["a", "href"], expectedStart: 0),
        LocateRow(name: "namesDiffer", html: "<a href=x>", names: ["a", "src"], expectedStart: nil),
        LocateRow(name: "elementDiffers", html: "<b href=x>", names: ["a", "href"], expectedStart: nil),
        LocateRow(name: "elementNameIsAPrefix", html: "<abbr href=x>", names: ["a", "href"], expectedStart: nil),
        LocateRow(name: "uppercaseInTheDocument", html: "<A HREF=x>", names: ["a", "href"], expectedStart: 0),
    ]

    /// Finding a tag libxml2 reported by its `>` and its names.
    @Test(arguments: locateRows)
    func locates(_ row: LocateRow) {
        let bytes = Array(row.html.utf8)
        var names: [UInt8] = []
        for name in row.names { names += Array(name.utf8) + [0] }
        let tag = bytes.withUnsafeBufferPointer { buffer -> ScannedTag? in
            var rescanner = TagRescanner(bytes: buffer, vocabulary: Self.vocabulary)
            return rescanner.locate(closeOffset: bytes.count - 1, names: names, at: 0..<names.count)
        }
        #expect(tag?.tagStart == row.expectedStart)
    }
}
