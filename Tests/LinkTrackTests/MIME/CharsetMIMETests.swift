import Testing
@testable import LinkTrack

@Suite struct CharsetMIMETests {
    static let utf8Labels = ["utf-8", "UTF-8", " utf8 ", "\"utf-8\"", "us-ascii", "US-ASCII", "ascii", "ANSI_X3.4-1968", "cp367"]
    static let asciiCompatibleLabels = [
        "iso-8859-1", "ISO-8859-15", "windows-1252", "cp1251", "latin1", "koi8-r", "KOI8-U", "shift_jis", "sjis",
        "x-sjis", "windows-31j", "cp932", "euc-jp", "euc-kr", "gb2312", "gbk", "gb18030", "big5", "big5-hkscs",
        "tis-620", "cp437", "cp850", "x-unknown-charset", "",
    ]
    static let unsupportedLabels = [
        "utf-16", "UTF-16LE", "utf-16be", "utf-32", "UTF-32LE", "ucs-2", "iso-10646-ucs-2", "unicode",
        "iso-2022-jp", "ISO-2022-KR", "iso-2022-cn", "csISO2022JP", "hz-gb-2312", "utf-7", "ibm037", "cp500",
        "IBM1047", "ibm01140", "x-ebcdic-international",
    ]

    @Test(arguments: utf8Labels)
    func classifiesUTF8(_ label: String) {
        #expect(CharsetFamily.classify(label: label) == .utf8)
    }

    @Test(arguments: asciiCompatibleLabels)
    func classifiesASCIICompatible(_ label: String) {
        #expect(CharsetFamily.classify(label: label) == .asciiCompatible)
    }

    @Test(arguments: unsupportedLabels)
    func classifiesUnsupported(_ label: String) {
        guard case let .unsupported(reason) = CharsetFamily.classify(label: label) else {
            Issue.record("\(label) should be unsupported")
            return
        }
        #expect(reason.contains(label.lowercased()))
    }

    @Test func nilLabelIsASCIICompatible() {
        #expect(CharsetFamily.classify(label: nil) == .asciiCompatible)
    }

    struct SniffRow: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var expected: String?  // "utf8", "unsupported" or nil
        var testDescription: String { name }
    }

    static let sniffRows: [SniffRow] = [
        SniffRow(name: "utf8BOM", bytes: [0xEF, 0xBB, 0xBF, 0x3C], expected: "utf8"),
        SniffRow(name: "utf16BEBOM", bytes: [0xFE, 0xFF, 0x00, 0x3C], expected: "unsupported"),
        SniffRow(name: "utf16LEBOM", bytes: [0xFF, 0xFE, 0x3C, 0x00], expected: "unsupported"),
        SniffRow(name: "utf32LEBOM", bytes: [0xFF, 0xFE, 0x00, 0x00], expected: "unsupported"),
        SniffRow(name: "utf32BEBOM", bytes: [0x00, 0x00, 0xFE, 0xFF], expected: "unsupported"),
        SniffRow(name: "utf7BOM", bytes: Array(mime: "+/v8-<html>"), expected: "unsupported"),
        SniffRow(name: "utf16WithoutBOM", bytes: [0x3C, 0x00, 0x68, 0x00], expected: "unsupported"),
        SniffRow(name: "iso2022JPEscape", bytes: Array(mime: "<p>") + [0x1B, 0x24, 0x42, 0x30, 0x21, 0x1B, 0x28, 0x42], expected: "unsupported"),
        SniffRow(name: "iso2022KRDesignator", bytes: [0x1B, 0x24, 0x29, 0x43] + Array(mime: "<p>"), expected: "unsupported"),
        SniffRow(name: "ansiColourEscapeIsFine", bytes: [0x1B, 0x5B, 0x33, 0x31, 0x6D], expected: nil),
        SniffRow(name: "plainHTML", bytes: Array(mime: "<html><body>hi</body></html>"), expected: nil),
        SniffRow(name: "latin1", bytes: [0x63, 0x61, 0x66, 0xE9], expected: nil),
        SniffRow(name: "empty", bytes: [], expected: nil),
        SniffRow(name: "escAtEnd", bytes: [0x61, 0x1B], expected: nil),
    ]

    @Test(arguments: sniffRows)
    func sniffs(_ row: SniffRow) {
        switch CharsetFamily.sniff(row.bytes) {
        case nil: #expect(row.expected == nil)
        case .utf8?: #expect(row.expected == "utf8")
        case .unsupported?: #expect(row.expected == "unsupported")
        case .asciiCompatible?: Issue.record("sniff never answers asciiCompatible")
        }
    }

    struct PrescanRow: Sendable, CustomTestStringConvertible {
        var name: String
        var html: String
        var expected: String?
        var testDescription: String { name }
    }

    static let prescanRows: [PrescanRow] = [
        PrescanRow(name: "metaCharset", html: "<html><head><meta charset=\"utf-8\">", expected: "utf-8"),
        PrescanRow(name: "uppercaseUnquoted", html: "<META CHARSET=ISO-8859-1>", expected: "iso-8859-1"),
        PrescanRow(name: "singleQuotes", html: "<meta charset='koi8-r'>", expected: "koi8-r"),
        PrescanRow(name: "spacesAroundEquals", html: "<meta charset = \" gb2312 \" >", expected: "gb2312"),
        PrescanRow(name: "slashAfterMeta", html: "<meta/charset=euc-jp>", expected: "euc-jp"),
        PrescanRow(name: "httpEquiv", html: "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\">",
                   expected: "windows-1252"),
        PrescanRow(name: "contentBeforeHttpEquiv", html: "<meta content=\"text/html; charset='shift_jis'\" http-equiv=content-type>",
                   expected: "shift_jis"),
        PrescanRow(name: "contentWithoutHttpEquivIgnored", html: "<meta content=\"text/html; charset=big5\"><p>", expected: nil),
        PrescanRow(name: "contentCharsetWithSpaces", html: "<meta http-equiv=content-type content=\"text/html;charset = utf-8 ;x\">",
                   expected: "utf-8"),
        PrescanRow(name: "commentSkipped", html: "<!-- <meta charset=\"koi8-r\"> --><meta charset=\"utf-8\">", expected: "utf-8"),
        PrescanRow(name: "shortestComment", html: "<!--><meta charset=big5>", expected: "big5"),
        PrescanRow(name: "unterminatedComment", html: "<!-- <meta charset=big5>", expected: nil),
        PrescanRow(name: "metaInsideAttributeValueSkipped", html: "<p title=\"<meta charset=x>\"><meta charset=y>", expected: "y"),
        PrescanRow(name: "metadataIsNotMeta", html: "<metadata charset=x>", expected: nil),
        PrescanRow(name: "duplicateAttributeFirstWins", html: "<meta charset=a charset=b>", expected: "a"),
        PrescanRow(name: "utf16DeclaredMeansUTF8", html: "<meta charset=utf-16le>", expected: "utf-8"),
        PrescanRow(name: "xUserDefinedMeansWindows1252", html: "<meta charset=x-user-defined>", expected: "windows-1252"),
        PrescanRow(name: "emptyCharsetIgnored", html: "<meta charset=\"\"><meta charset=utf-8>", expected: "utf-8"),
        PrescanRow(name: "processingInstructionSkipped", html: "<?xml version=\"1.0\"?><meta charset=utf-8>", expected: "utf-8"),
        PrescanRow(name: "doctypeSkipped", html: "<!DOCTYPE html><meta charset=utf-8>", expected: "utf-8"),
        PrescanRow(name: "endTagSkipped", html: "</p charset=x><meta charset=utf-8>", expected: "utf-8"),
        PrescanRow(name: "noMeta", html: "<html><body>hello</body></html>", expected: nil),
        PrescanRow(name: "metaAfter1024Bytes", html: String(repeating: " ", count: 1024) + "<meta charset=utf-8>", expected: nil),
        PrescanRow(name: "metaJustInside1024Bytes",
                   html: String(repeating: " ", count: 1024 - "<meta charset=utf-8>".utf8.count) + "<meta charset=utf-8>",
                   expected: "utf-8"),
    ]

    @Test(arguments: prescanRows)
    func prescans(_ row: PrescanRow) {
        #expect(MetaCharset.prescan(Array(mime: row.html)) == row.expected)
    }
}
