import Testing
import TestSupport
@testable import LinkTrack

/// The byte-level helpers on the rewriter's hot path, against straightforward references.
@Suite("HTML: attribute escaping and character references")
struct EscapingAndReferenceTests {
    /// One byte at a time: what ``HTMLEscaping/appendAttributeValue(_:to:)`` must equal.
    static func referenceEscape(_ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for b in value {
            switch b {
            case UInt8(ascii: "&"): out += Array("&amp;".utf8)
            case UInt8(ascii: "\""): out += Array("&quot;".utf8)
            case UInt8(ascii: "'"): out += Array("&#39;".utf8)
            default: out.append(b)
            }
        }
        return out
    }

    /// Every length up to 40 and every position of each special byte, so that the eight-byte fast
    /// path is crossed at each alignment; plus seeded random mixes.
    /// What an existing open pixel's `src` looks like, read in place: the redirect domain (any
    /// case, blanks around the value), then a path that starts with `/o/`.
    @Test(arguments: [
        ("https://links.example.com/o/abc", true),
        ("  http://LINKS.example.COM/o/1.k.abc\n", true),
        ("https://links.example.com/o/", true),
        ("https://links.example.com/o", false),
        ("https://links.example.com/c/abc", false),
        ("https://links.example.com/open/abc", false),
        ("https://other.example.com/o/abc", false),
        ("https://links.example.com.evil.test/o/abc", false),
        ("//links.example.com/o/abc", false),
        ("", false),
    ])
    func openPixelSourceIsRecognised(_ row: (src: String, expected: Bool)) {
        let domain = Array("links.example.com".utf8)
        #expect(HTMLRewriter.isOpenPixel(Array(row.src.utf8), domain: domain) == row.expected, "\(row.src)")
    }

    /// The scanner's byte classes are libxml2's tag rules: blanks (`IS_BLANK_CH`), the first byte
    /// of a name and the bytes of a name (`htmlParseHTMLName`).
    @Test func tagByteClassesFollowLibxml2sRules() {
        #expect(TagRescanner.byteClasses.utf8CodeUnitCount == 256)
        for value in 0...255 {
            let b = UInt8(value)
            let letter = (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
            #expect(TagRescanner.isBlank(b) == [0x20, 0x09, 0x0A, 0x0D].contains(b), "byte \(b)")
            #expect(TagRescanner.isNameStart(b) == (letter || "_:.".utf8.contains(b)), "byte \(b)")
            #expect(TagRescanner.isNameCharacter(b) == (letter || (0x30...0x39).contains(b) || ":-_.".utf8.contains(b)), "byte \(b)")
        }
    }

    @Test func escapingMatchesTheByteByByteReference() {
        let specials: [UInt8] = [UInt8(ascii: "&"), UInt8(ascii: "\""), UInt8(ascii: "'")]
        // Bytes next to the specials, to catch a sloppy word test: 0x21, 0x23-0x25, 0x28, 0xA6.
        let neighbours: [UInt8] = [0x21, 0x23, 0x24, 0x25, 0x28, 0xA6, 0x66, 0x00]
        for length in 0...40 {
            for position in 0..<max(length, 1) {
                for special in specials {
                    var value = (0..<length).map { neighbours[$0 % neighbours.count] }
                    if length > 0 { value[position] = special }
                    var out: [UInt8] = Array("x=".utf8)
                    HTMLEscaping.appendAttributeValue(value, to: &out)
                    #expect(out == Array("x=".utf8) + Self.referenceEscape(value), "length \(length), position \(position)")
                    #expect(HTMLEscaping.urlAttributeValue(value, addQuotes: false) == Self.referenceEscape(value),
                            "URL path, length \(length), position \(position)")
                    #expect(HTMLEscaping.urlAttributeValue(value, addQuotes: true)
                            == [UInt8(ascii: "\"")] + Self.referenceEscape(value) + [UInt8(ascii: "\"")])
                }
            }
        }
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            let value = (0..<Int(generator.next() % 300)).map { _ -> UInt8 in
                let r = generator.next()
                return r % 5 == 0 ? specials[Int(r / 5 % 3)] : UInt8(truncatingIfNeeded: r >> 8)
            }
            var out: [UInt8] = []
            HTMLEscaping.appendAttributeValue(value, to: &out)
            #expect(out == Self.referenceEscape(value))
            // The URL escaping: without quotes (as click URLs are) and as generated.
            let noQuotes = value.filter { $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'") }
            #expect(HTMLEscaping.urlAttributeValue(noQuotes, addQuotes: false) == Self.referenceEscape(noQuotes))
            #expect(HTMLEscaping.urlAttributeValue(noQuotes, addQuotes: true)
                    == [UInt8(ascii: "\"")] + Self.referenceEscape(noQuotes) + [UInt8(ascii: "\"")])
            #expect(HTMLEscaping.urlAttributeValue(value, addQuotes: false) == Self.referenceEscape(value))
            // The report reads the URL back from what was written.
            #expect(HTMLEscaping.unescapeAttributeValue(Self.referenceEscape(value)) == value)
        }
    }

    /// HTML5's attribute-value rules, one row per rule (see ``CharacterReference``).
    @Test(arguments: [
        ("https://a.example/?x=1&amp;y=2", "https://a.example/?x=1&y=2"),
        ("&AMP;&LT;&GT;&QUOT;", "&<>\""),
        ("&lt;&gt;&quot;&apos;", "<>\"'"),
        ("end&amp", "end&"),
        ("&ampx", "&ampx"),
        ("?a=1&amp=2", "?a=1&amp=2"),
        ("x&region=1", "x&region=1"),
        ("&apos", "&apos"),
        ("&COPY;&copy;&copy &REG;", "©©© ®"),
        ("caf&eacute;", "café"),
        ("&#38;&#x26;&#X26", "&&&"),
        ("&#0;&#x110000;&#xD800;", "\u{FFFD}\u{FFFD}\u{FFFD}"),
        ("&#128;", "€"),
        ("&&amp;&", "&&&"),
        ("&", "&"),
        ("&;", "&;"),
        ("&unknownname;", "&unknownname;"),
        ("no references at all", "no references at all"),
    ])
    func referenceDecoding(raw: String, decoded: String) {
        let bytes = Array(raw.utf8)
        #expect(CharacterReference.decodeAttributeValue(bytes[...]) == Array(decoded.utf8))
        // The same from a slice that does not start at index 0.
        let padded = Array("..".utf8) + bytes
        #expect(CharacterReference.decodeAttributeValue(padded[2...]) == Array(decoded.utf8))
    }

    /// ``HTMLEscaping/appendAttributeValue(_:to:)`` (eight bytes at a time, runs copied whole)
    /// equals a byte-at-a-time escaping, for bytes to escape at every alignment, appended after
    /// bytes already in the buffer.
    @Test func attributeValueEqualsTheBytewiseEscaping() {
        var generator = SeededGenerator(seed: 0xE5CA9E)
        let alphabet = Array("ab/=?.-_%&\"'".utf8)
        for _ in 0..<3_000 {
            let count = Int.random(in: 0...40, using: &generator)
            let url = (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
            let before = Array("x=".utf8.prefix(Int.random(in: 0...2, using: &generator)))
            let expected = before + Self.referenceEscape(url)
            var written = before
            HTMLEscaping.appendAttributeValue(url, to: &written)
            #expect(written == expected, "\(String(decoding: url, as: UTF8.self))")
        }
    }
}
