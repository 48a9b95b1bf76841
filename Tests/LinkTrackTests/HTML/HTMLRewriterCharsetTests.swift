import Testing
@testable import LinkTrack

/// Byte-exact rewriting in ASCII-compatible charsets, and untouched documents in the others.
@Suite("HTMLRewriter charsets")
struct HTMLRewriterCharsetTests {
    typealias F = HTMLRewriterFixture

    static func b(_ text: String) -> [UInt8] { Array(text.utf8) }

    // Shift_JIS: こんにちは, and 表 (0x95 0x5C) / ソ (0x83 0x5C), whose second byte is '\'.
    static let konnichiwa: [UInt8] = [0x82, 0xB1, 0x82, 0xF1, 0x82, 0xC9, 0x82, 0xBF, 0x82, 0xCD]
    static let hyou: [UInt8] = [0x95, 0x5C]
    static let so: [UInt8] = [0x83, 0x5C]

    @Test("Shift_JIS: Japanese text and links, with a 0x5C second byte next to an href")
    func shiftJIS() {
        let input = Self.b("<html><head><meta charset=\"Shift_JIS\"><title>") + Self.konnichiwa
            + Self.b("</title></head><body><p>") + Self.konnichiwa + Self.b("</p><a title=\"") + Self.hyou
            + Self.b("\" href=\"https://example.com/jp?q=1&amp;r=2\">") + Self.hyou + Self.b("</a>") + Self.so
            + Self.b("<a href='https://example.com/b'>") + Self.so + Self.b("</a>") + Self.hyou + Self.b("</body></html>")
        let expected = Self.b("<html><head><meta charset=\"Shift_JIS\"><title>") + Self.konnichiwa
            + Self.b("</title></head><body><p>") + Self.konnichiwa + Self.b("</p><a title=\"") + Self.hyou
            + Self.b("\" href=\"") + F.href("https://example.com/jp?q=1&r=2", index: 0, scheme: .https) + Self.b("\">")
            + Self.hyou + Self.b("</a>") + Self.so
            + Self.b("<a href='") + F.href("https://example.com/b", index: 1, scheme: .https) + Self.b("'>")
            + Self.so + Self.b("</a>") + Self.hyou + F.pixel() + Self.b("</body></html>")
        let result = F.rewrite(input, charset: "Shift_JIS")
        #expect(HTMLBytes(result.output) == HTMLBytes(expected))
        #expect(result.report.trackedLinkCount == 2)
        #expect(result.report.untouchedReason == nil)
        #expect(htmlUndoMismatch(input: input, output: result.output, edits: result.edits) == nil)
    }

    @Test("windows-1252: undefined bytes 0x81 and 0x8D and curly quotes around links")
    func windows1252() {
        let input = Self.b("<body>") + [0x93] + Self.b("Quote") + [0x94, 0x81] + Self.b("<p>") + [0x8D]
            + Self.b("</p><a href=\"https://example.com/w\">") + [0x8D, 0x93] + Self.b("x") + [0x94, 0x81]
            + Self.b("</a>") + [0x81, 0x8D] + Self.b("<a href=https://example.com/w2>y</a>") + [0x93]
            + Self.b("</body>") + [0x94]
        let expected = Self.b("<body>") + [0x93] + Self.b("Quote") + [0x94, 0x81] + Self.b("<p>") + [0x8D]
            + Self.b("</p><a href=\"") + F.href("https://example.com/w", index: 0, scheme: .https) + Self.b("\">")
            + [0x8D, 0x93] + Self.b("x") + [0x94, 0x81]
            + Self.b("</a>") + [0x81, 0x8D] + Self.b("<a href=\"") + F.href("https://example.com/w2", index: 1, scheme: .https)
            + Self.b("\">y</a>") + [0x93] + F.pixel() + Self.b("</body>") + [0x94]
        let result = F.rewrite(input, charset: "windows-1252")
        #expect(HTMLBytes(result.output) == HTMLBytes(expected))
        #expect(result.report.trackedLinkCount == 2)
        #expect(htmlUndoMismatch(input: input, output: result.output, edits: result.edits) == nil)
    }

    @Test("ISO-8859-1: accented text, encoded and raw non-ASCII links")
    func latin1() {
        let cafe = Self.b("Caf") + [0xE9]
        let input = Self.b("<body><p>") + cafe + Self.b("</p><a href=\"https://example.com/caf%C3%A9\">") + cafe
            + Self.b("</a><a href=\"https://example.com/caf") + [0xE9] + Self.b("\">") + cafe + Self.b("</a></body>")
        let expected = Self.b("<body><p>") + cafe + Self.b("</p><a href=\"")
            + F.href("https://example.com/caf%C3%A9", index: 0, scheme: .https) + Self.b("\">") + cafe
            + Self.b("</a><a href=\"https://example.com/caf") + [0xE9] + Self.b("\">") + cafe + Self.b("</a>")
            + F.pixel() + Self.b("</body>")
        let result = F.rewrite(input, charset: "ISO-8859-1")
        #expect(HTMLBytes(result.output) == HTMLBytes(expected))
        #expect(result.report.links.map(\.untrackedReason) == [nil, .nonASCII(charset: "ISO-8859-1")])
    }

    @Test("raw non-ASCII in an href of a non-UTF-8 document: untracked with the reason",
          arguments: ["Shift_JIS", "windows-1252", "EUC-JP", "GB18030", "Big5", "KOI8-R"])
    func nonASCIIHref(charset: String) {
        let input = Self.b("<body><a href=\"https://example.com/") + Self.hyou + Self.b("\">x</a></body>")
        let result = F.rewrite(input, charset: charset)
        #expect(HTMLBytes(result.output) == HTMLBytes(Self.b("<body><a href=\"https://example.com/") + Self.hyou
            + Self.b("\">x</a>") + F.pixel() + Self.b("</body>")))
        #expect(result.report.links.map(\.untrackedReason) == [.nonASCII(charset: charset)])
    }

    @Test("UTF-8 with an IRI: the destination keeps its characters")
    func utf8IRI() throws {
        let iri = "https://例え.jp/パス?q=値&x=ü"
        let input = Self.b("<body><p>Grüße 👋</p><a href=\"https://例え.jp/パス?q=値&amp;x=ü\">リンク</a></body>")
        let expected = Self.b("<body><p>Grüße 👋</p><a href=\"") + F.href(iri, index: 0, scheme: .https)
            + Self.b("\">リンク</a>") + F.pixel() + Self.b("</body>")
        let result = F.rewrite(input, charset: "UTF-8")
        #expect(HTMLBytes(result.output) == HTMLBytes(expected))
        let url = try #require(result.report.links.first?.trackingURL)
        guard case .click(let token) = try F.signer.decode(url) else { Issue.record("not a click"); return }
        #expect(token.destination == iri)
        // The tracking URL itself is ASCII.
        #expect(url.utf8.allSatisfy { $0 < 0x80 })
    }

    @Test("UTF-8 with invalid bytes in an href: untracked, document otherwise rewritten")
    func utf8InvalidHref() {
        let input = Self.b("<body><a href=\"https://example.com/") + [0xFF] + Self.b("\">x</a></body>")
        let result = F.rewrite(input, charset: "utf-8")
        #expect(HTMLBytes(result.output) == HTMLBytes(Self.b("<body><a href=\"https://example.com/") + [0xFF]
            + Self.b("\">x</a>") + F.pixel() + Self.b("</body>")))
        #expect(result.report.links.first?.untrackedReason == .invalidURL("not valid UTF-8"))
    }

    static let sample = "<html><body><p>日本</p><a href=\"https://example.com/\">x</a></body></html>"

    static func utf16(_ text: String, bigEndian: Bool, bom: Bool) -> [UInt8] {
        var out: [UInt8] = bom ? (bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE]) : []
        for unit in text.utf16 {
            let hi = UInt8(unit >> 8), lo = UInt8(unit & 0xFF)
            out += bigEndian ? [hi, lo] : [lo, hi]
        }
        return out
    }

    struct UntouchedCase: Sendable, CustomTestStringConvertible {
        var name: String
        var input: [UInt8]
        var charset: String?
        var testDescription: String { name }
    }

    static let iso2022jp: [UInt8] = Self.b("<html><body><p>") + [0x1B, 0x24, 0x42]
        + Self.b("$3$s$K$A$O") + [0x1B, 0x28, 0x42] + Self.b("</p><a href=\"https://example.com/\">x</a></body></html>")

    static let untouchedCases: [UntouchedCase] = [
        UntouchedCase(name: "UTF-16LE with BOM, labelled utf-16", input: utf16(sample, bigEndian: false, bom: true), charset: "utf-16"),
        UntouchedCase(name: "UTF-16LE with BOM, no label", input: utf16(sample, bigEndian: false, bom: true), charset: nil),
        UntouchedCase(name: "UTF-16LE without BOM, labelled UTF-16LE", input: utf16(sample, bigEndian: false, bom: false), charset: "UTF-16LE"),
        UntouchedCase(name: "UTF-16LE without BOM, no label", input: utf16(sample, bigEndian: false, bom: false), charset: nil),
        UntouchedCase(name: "UTF-16BE with BOM, labelled utf-16", input: utf16(sample, bigEndian: true, bom: true), charset: "utf-16"),
        UntouchedCase(name: "UTF-16BE with BOM, no label", input: utf16(sample, bigEndian: true, bom: true), charset: nil),
        UntouchedCase(name: "UTF-16BE without BOM, labelled UTF-16BE", input: utf16(sample, bigEndian: true, bom: false), charset: "UTF-16BE"),
        UntouchedCase(name: "UTF-16BE without BOM, no label", input: utf16(sample, bigEndian: true, bom: false), charset: nil),
        UntouchedCase(name: "UTF-16LE with BOM, mislabelled utf-8", input: utf16(sample, bigEndian: false, bom: true), charset: "utf-8"),
        UntouchedCase(name: "UTF-16BE with BOM, mislabelled windows-1252", input: utf16(sample, bigEndian: true, bom: true), charset: "windows-1252"),
        UntouchedCase(name: "ISO-2022-JP, labelled", input: iso2022jp, charset: "ISO-2022-JP"),
        UntouchedCase(name: "ISO-2022-JP, no label", input: iso2022jp, charset: nil),
        UntouchedCase(name: "ISO-2022-JP, mislabelled us-ascii", input: iso2022jp, charset: "us-ascii"),
    ]

    @Test("UTF-16 and ISO-2022-JP are returned untouched with the reason", arguments: untouchedCases)
    func untouched(_ row: UntouchedCase) {
        let result = F.rewrite(row.input, charset: row.charset)
        #expect(HTMLBytes(result.output) == HTMLBytes(row.input))
        #expect(result.edits.isEmpty)
        #expect(result.report.links.isEmpty)
        #expect(result.report.untouchedReason != nil)
    }

    @Test("a UTF-8 byte order mark is kept and the document rewritten")
    func utf8BOM() {
        let input: [UInt8] = [0xEF, 0xBB, 0xBF] + Self.b("<a href=\"https://example.com/\">x</a>")
        let result = F.rewrite(input, charset: nil)
        #expect(HTMLBytes(result.output) == HTMLBytes([0xEF, 0xBB, 0xBF] + Self.b("<a href=\"")
            + F.href("https://example.com/", index: 0, scheme: .https) + Self.b("\">x</a>") + F.pixel()))
    }
}
