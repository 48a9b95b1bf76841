import Testing
@testable import LinkTrack

/// The conditional-comment scanner on its own: which comments are conditional, where their markup
/// is, and which tags of it are handed over.
@Suite("HTML: the conditional-comment scanner")
struct ConditionalCommentScannerTests {
    struct StartRow: Sendable, CustomTestStringConvertible {
        var name: String
        /// A comment's text as libxml2 reports it (between `<!--` and `-->`).
        var value: String
        var expected: Bool
        var testDescription: String { name }
    }

    static let startRows: [StartRow] = [
        StartRow(name: "ifMso", value: "[if mso]><a href=x><![endif]", expected: true),
        StartRow(name: "uppercaseIf", value: "[IF mso]>", expected: true),
        StartRow(name: "blanksBefore", value: " \t\r\n[if gte mso 9]>", expected: true),
        StartRow(name: "tabAfterIf", value: "[if\tmso]>", expected: true),
        StartRow(name: "endsAfterIf", value: "[if", expected: false),
        StartRow(name: "noBlankAfterIf", value: "[ifmso]>", expected: false),
        StartRow(name: "endif", value: "<![endif]", expected: false),
        StartRow(name: "textFirst", value: "x[if mso]>", expected: false),
        StartRow(name: "empty", value: "", expected: false),
    ]

    @Test(arguments: startRows)
    func recognisesTheStart(_ row: StartRow) {
        let value = Array(row.value.utf8) + [0]
        #expect(value.withUnsafeBufferPointer { ConditionalCommentScanner.startsConditionalComment($0.baseAddress!) } == row.expected)
    }

    struct MarkupRow: Sendable, CustomTestStringConvertible {
        var name: String
        /// A comment's content (between `<!--` and `-->`).
        var content: String
        /// The markup found, or nil.
        var expected: String?
        var testDescription: String { name }
    }

    static let markupRows: [MarkupRow] = [
        MarkupRow(name: "ifMso", content: "[if mso]><a href=x>y</a><![endif]", expected: "<a href=x>y</a>"),
        MarkupRow(name: "uppercase", content: "[IF MSO]><b><![ENDIF]", expected: "<b>"),
        MarkupRow(name: "blanksBefore", content: "\n [if mso]>x<![endif]", expected: "x"),
        MarkupRow(name: "conditionEndsAtFirstBracketGreaterThan", content: "[if (mso)]>]>x<![endif]", expected: "]>x"),
        MarkupRow(name: "lastEndifIsTaken", content: "[if mso]>a<![endif]b<![endif]", expected: "a<![endif]b"),
        MarkupRow(name: "textAfterEndif", content: "[if mso]>a<![endif] ", expected: "a"),
        MarkupRow(name: "emptyMarkup", content: "[if mso]><![endif]", expected: ""),
        MarkupRow(name: "noEndif", content: "[if !mso]><!-- ", expected: nil),
        MarkupRow(name: "noConditionEnd", content: "[if mso <![endif]", expected: nil),
        MarkupRow(name: "notConditional", content: " a comment ", expected: nil),
        MarkupRow(name: "tooShort", content: "[if", expected: nil),
    ]

    @Test(arguments: markupRows)
    func findsTheMarkup(_ row: MarkupRow) {
        // The content stands inside a document, as it does in a real one.
        let bytes = Array("<!--\(row.content)-->".utf8)
        let markup = bytes.withUnsafeBufferPointer {
            ConditionalCommentScanner.markup($0, content: 4..<(bytes.count - 3))
        }
        #expect(markup.map { String(decoding: bytes[$0], as: UTF8.self) } == row.expected)
    }

    struct HrefRow: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var expected: Bool
        var testDescription: String { name }
    }

    static let hrefRows: [HrefRow] = [
        HrefRow(name: "lowercase", text: "<a href=x>", expected: true),
        HrefRow(name: "mixedCase", text: "<A HrEf=x>", expected: true),
        HrefRow(name: "acrossAWordBoundary", text: "1234567href", expected: true),
        HrefRow(name: "atTheEnd", text: "12345678901234href", expected: true),
        HrefRow(name: "cutShort", text: "12345678901234hre", expected: false),
        HrefRow(name: "manyHs", text: "hhhhhhhhhhhhhhhhhref", expected: true),
        HrefRow(name: "none", text: "<table><tr><td>", expected: false),
        HrefRow(name: "empty", text: "", expected: false),
    ]

    @Test(arguments: hrefRows)
    func findsHref(_ row: HrefRow) {
        let bytes = Array(row.text.utf8)
        #expect(bytes.withUnsafeBufferPointer { ConditionalCommentScanner.containsHref($0, 0..<bytes.count) } == row.expected)
        // Only within the range: the last byte left out.
        if row.expected, row.text.hasSuffix("href") {
            #expect(!bytes.withUnsafeBufferPointer { ConditionalCommentScanner.containsHref($0, 0..<(bytes.count - 1)) })
        }
    }

    struct ScanRow: Sendable, CustomTestStringConvertible {
        var name: String
        var markup: String
        /// The `href` values handed over, in order.
        var expected: [String]
        var testDescription: String { name }
    }

    static let scanRows: [ScanRow] = [
        ScanRow(name: "bulletproofButton", markup: "<v:roundrect href=\"https://a.example/\" arcsize=\"10%\"><w:anchorlock/></v:roundrect>",
                expected: ["https://a.example/"]),
        ScanRow(name: "severalLinks", markup: "<a href=1>x</a> <area href='2'> <p>", expected: ["1", "2"]),
        ScanRow(name: "tagWithoutHrefSkipped", markup: "<img src=x><a name=y><a href=z>", expected: ["z"]),
        ScanRow(name: "nestedCommentSkipped", markup: "<!-- <a href=a> --><a href=b>", expected: ["b"]),
        ScanRow(name: "commentEndNeedsTwoDashes", markup: "<!-- <a href=a> -><a href=b> --><a href=c>", expected: ["c"]),
        ScanRow(name: "unterminatedCommentEndsTheScan", markup: "<a href=a><!-- <a href=b>", expected: ["a"]),
        ScanRow(name: "declarationSkipped", markup: "<!DOCTYPE x><a href=a>", expected: ["a"]),
        ScanRow(name: "processingInstructionSkipped", markup: "<?x?><a href=a>", expected: ["a"]),
        ScanRow(name: "processingInstructionEndsAtFirstGreaterThan", markup: "<?x <a href=a>?><a href=b>", expected: ["b"]),
        ScanRow(name: "endTagSkipped", markup: "</a href=x><a href=y>", expected: ["y"]),
        ScanRow(name: "scriptIsText", markup: "<script><a href=a></script><a href=b>", expected: ["b"]),
        ScanRow(name: "styleIsTextAnyCase", markup: "<STYLE><a href=a></Style ><a href=b>", expected: ["b"]),
        ScanRow(name: "unterminatedScriptEndsTheScan", markup: "<script><a href=a>", expected: []),
        ScanRow(name: "unterminatedQuoteEndsTheScan", markup: "<a href=a><a title=\"x><a href=b>", expected: ["a"]),
        ScanRow(name: "lessThanNotATag", markup: "1 < 2 <3 <a href=a>", expected: ["a"]),
        ScanRow(name: "lessThanAtTheEnd", markup: "<a href=a><", expected: ["a"]),
    ]

    /// The hrefs handed over for `markup`, and whether the scan ran to its end.
    static func scan(_ markup: String, stopAfter limit: Int = .max) -> (hrefs: [String], finished: Bool) {
        let bytes = Array(markup.utf8)
        var hrefs: [String] = []
        let finished = bytes.withUnsafeBufferPointer { buffer -> Bool in
            var rescanner = TagRescanner(bytes: buffer, vocabulary: ScannerVocabulary())
            return ConditionalCommentScanner.scanMarkup(0..<bytes.count, with: &rescanner) { tag in
                #expect(tag.context == .conditionalComment)
                hrefs.append(tag.href?.valueRange.map { String(decoding: bytes[$0], as: UTF8.self) } ?? "?")
                return hrefs.count < limit
            }
        }
        return (hrefs, finished)
    }

    @Test(arguments: scanRows)
    func handsOverTheTagsWithAnHref(_ row: ScanRow) {
        let (hrefs, finished) = Self.scan(row.markup)
        #expect(hrefs == row.expected)
        #expect(finished)
    }

    /// `visit` returning false ends the scan, and the caller learns it.
    @Test func theScanStopsWhenAsked() {
        let (hrefs, finished) = Self.scan("<a href=1><a href=2><a href=3>", stopAfter: 2)
        #expect(hrefs == ["1", "2"])
        #expect(!finished)
    }
}
