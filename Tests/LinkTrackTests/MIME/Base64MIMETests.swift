import Testing
import TestSupport
@testable import LinkTrack

@Suite struct Base64MIMETests {
    static let crlf: [UInt8] = [0x0D, 0x0A]
    static let lf: [UInt8] = [0x0A]

    static let layouts: [Base64Layout] = [
        Base64Layout(lineLength: 76, lineEnding: crlf, endsWithLineEnding: true),
        Base64Layout(lineLength: 76, lineEnding: crlf, endsWithLineEnding: false),
        Base64Layout(lineLength: 76, lineEnding: lf, endsWithLineEnding: true),
        Base64Layout(lineLength: 76, lineEnding: lf, endsWithLineEnding: false),
        Base64Layout(lineLength: 72, lineEnding: crlf, endsWithLineEnding: true),
        Base64Layout(lineLength: 72, lineEnding: lf, endsWithLineEnding: false),
        Base64Layout(lineLength: 64, lineEnding: crlf, endsWithLineEnding: true),
    ]

    @Test(arguments: layouts, [1, 2, 3, 54, 56, 57, 58, 171, 1000])
    func canonicalBodiesRoundTripByteIdentically(layout: Base64Layout, size: Int) throws {
        var generator = SeededGenerator(seed: UInt64(size))
        let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let raw = Base64.encode(bytes, layout: layout)
        let decoded = try Base64.decode(raw)
        #expect(decoded.bytes == bytes)
        #expect(Base64.encode(decoded.bytes, layout: decoded.layout) == raw)
        // A body without any line break cannot tell its line ending: CRLF is assumed.
        #expect(decoded.layout.lineEnding == (raw.contains(0x0A) ? layout.lineEnding : Self.crlf))
        #expect(decoded.layout.endsWithLineEnding == layout.endsWithLineEnding)
        let lines = mimePhysicalLines(raw)
        if lines.count > 1 {
            #expect(decoded.layout == layout)
            #expect(lines.dropLast().allSatisfy { $0.count == layout.lineLength })
        }
    }

    struct Vector: Sendable, CustomTestStringConvertible {
        var encoded: String
        var decoded: String
        var testDescription: String { "\"\(encoded)\"" }
    }

    /// RFC 4648 §10 test vectors, plus the tolerated forms.
    static let vectors: [Vector] = [
        Vector(encoded: "", decoded: ""),
        Vector(encoded: "Zg==", decoded: "f"),
        Vector(encoded: "Zm8=", decoded: "fo"),
        Vector(encoded: "Zm9v", decoded: "foo"),
        Vector(encoded: "Zm9vYg==", decoded: "foob"),
        Vector(encoded: "Zm9vYmE=", decoded: "fooba"),
        Vector(encoded: "Zm9vYmFy", decoded: "foobar"),
        Vector(encoded: "Zg", decoded: "f"),                      // missing padding tolerated
        Vector(encoded: "Zm8", decoded: "fo"),                    // missing padding tolerated
        Vector(encoded: "Zm9v\r\nYmFy\r\n", decoded: "foobar"),
        Vector(encoded: " Zm 9v\tYm\nFy ", decoded: "foobar"),    // whitespace anywhere
        Vector(encoded: "Zg=\r\n=\r\n", decoded: "f"),            // padding split by a line break
        Vector(encoded: "Zg==  \r\n\r\n", decoded: "f"),          // whitespace after padding
        Vector(encoded: "\r\n", decoded: ""),
    ]

    @Test(arguments: vectors)
    func decodesVector(_ vector: Vector) throws {
        #expect(try Base64.decode(Array(mime: vector.encoded)).bytes == Array(mime: vector.decoded))
    }

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        var name: String
        var raw: String
        var error: Base64Error
        var testDescription: String { name }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(name: "invalidCharacter", raw: "Zm9v!", error: .invalidCharacter(offset: 4, byte: 0x21)),
        ErrorCase(name: "base64urlAlphabet", raw: "Zm9v-_", error: .invalidCharacter(offset: 4, byte: 0x2D)),
        ErrorCase(name: "paddingInTheMiddle", raw: "Zg==Zm9v", error: .misplacedPadding(offset: 2)),
        ErrorCase(name: "paddingAfterOneCharacter", raw: "Z===", error: .misplacedPadding(offset: 1)),
        ErrorCase(name: "paddingAlone", raw: "=", error: .misplacedPadding(offset: 0)),
        ErrorCase(name: "paddingAfterFullGroup", raw: "Zm9v=", error: .misplacedPadding(offset: 4)),
        ErrorCase(name: "tooMuchPadding", raw: "Zg===", error: .misplacedPadding(offset: 4)),
        ErrorCase(name: "singleTrailingCharacter", raw: "Zm9vY", error: .truncated(length: 5)),
        ErrorCase(name: "partialPadding", raw: "Zg=", error: .truncated(length: 3)),
        ErrorCase(name: "formFeedIsNotWhitespace", raw: "Zm9v\u{0C}", error: .invalidCharacter(offset: 4, byte: 0x0C)),
    ]

    @Test(arguments: errorCases)
    func rejects(_ row: ErrorCase) {
        #expect(throws: row.error) { try Base64.decode(Array(mime: row.raw)) }
    }

    @Test func emptyBody() throws {
        let decoded = try Base64.decode([])
        #expect(decoded.bytes.isEmpty)
        #expect(decoded.layout.lineEnding == Self.crlf)
        #expect(decoded.layout.endsWithLineEnding == false)
        #expect(Base64.encode([], layout: .mimeDefault).isEmpty)
    }

    @Test func singleShortLineWrapsAt76WhenReencodedLonger() throws {
        let decoded = try Base64.decode(Array(mime: "Zm9vYmFy\n"))
        #expect(decoded.layout == Base64Layout(lineLength: 76, lineEnding: Self.lf, endsWithLineEnding: true))
        #expect(Base64.encode(decoded.bytes, layout: decoded.layout) == Array(mime: "Zm9vYmFy\n"))
    }

    /// A body without a line break has no line ending of its own: the caller's (the message's)
    /// is used, so that a re-encoded single line wraps with LF inside an LF message
    /// (`Corpus/enc-base64-single-line-lf`); without one, CRLF; a line ending the body has wins.
    @Test func bodyWithoutLineBreakTakesTheFallbackLineEnding() throws {
        let oneLine = Base64.encode([UInt8](repeating: 5, count: 900), layout: Base64Layout(
            lineLength: .max, lineEnding: [], endsWithLineEnding: false))
        var bytes: [UInt8] = []
        let withLF = try Base64.decode(oneLine[...], into: &bytes, fallbackLineEnding: Self.lf)
        #expect(withLF.lineEnding == Self.lf)
        let wrapped = Base64.encode(bytes, layout: withLF)
        #expect(mimePhysicalLines(wrapped).count > 1 && !wrapped.contains(MIMEBytes.cr))
        #expect(try Base64.decode(oneLine[...], into: &bytes).lineEnding == Self.crlf)
        let twoLines = Base64.encode([UInt8](repeating: 5, count: 900), layout: .mimeDefault)
        #expect(try Base64.decode(twoLines[...], into: &bytes, fallbackLineEnding: Self.lf).lineEnding == Self.crlf)
    }

    @Test func singleOverlongLineStaysSingle() throws {
        let raw = Base64.encode([UInt8](repeating: 7, count: 300), layout: Base64Layout(
            lineLength: .max, lineEnding: Self.crlf, endsWithLineEnding: true))
        #expect(mimePhysicalLines(raw).count == 1)
        let decoded = try Base64.decode(raw)
        #expect(decoded.layout.lineLength == 400)
        #expect(Base64.encode(decoded.bytes, layout: decoded.layout) == raw)
        // Longer data wraps at the line's own length.
        let longer = Base64.encode(decoded.bytes + [UInt8](repeating: 9, count: 300), layout: decoded.layout)
        #expect(mimePhysicalLines(longer).map(\.count) == [400, 400])
    }

    /// Fuzz finding `Fuzz/repro/mime-base64-single-line-grows-past-998.eml`:
    /// a single line of 857 characters was kept as "one line",
    /// and the rewritten part came out as one line of 1,132 octets, over SMTP's 998.
    @Test func reencodedSingleLineNeverPassesTheSMTPLimit() throws {
        for length in [996, 1000, 1400] {
            let raw = Base64.encode([UInt8](repeating: 7, count: length / 4 * 3), layout: Base64Layout(
                lineLength: .max, lineEnding: Self.crlf, endsWithLineEnding: true))
            let decoded = try Base64.decode(raw)
            let grown = Base64.encode(decoded.bytes + [UInt8](repeating: 1, count: 400), layout: decoded.layout)
            #expect(mimePhysicalLines(grown).allSatisfy { $0.count <= 998 }, "single line of \(length)")
            #expect(decoded.layout.lineLength == (length <= 996 ? length : 76))
        }
    }

    /// Fuzz finding `Fuzz/repro/mime-base64-first-line-past-998.eml`: a body of
    /// several lines whose first line had 1,236 characters kept that length as its layout, and
    /// the rewritten part came out in lines of 1,236 octets. Over 996 characters the layout is 76;
    /// up to it, the first line's own length.
    @Test(arguments: [996, 1000, 1236])
    func reencodedLinesNeverPassTheSMTPLimit(firstLineLength: Int) throws {
        let first = Base64.encode([UInt8](repeating: 7, count: firstLineLength / 4 * 3), layout: Base64Layout(
            lineLength: .max, lineEnding: Self.crlf, endsWithLineEnding: true))
        let raw = first + Array(mime: "Zm9vYmFy\r\n")
        let decoded = try Base64.decode(raw)
        #expect(decoded.layout.lineLength == (firstLineLength <= 996 ? firstLineLength : 76))
        let grown = Base64.encode(decoded.bytes + [UInt8](repeating: 1, count: 900), layout: decoded.layout)
        #expect(mimePhysicalLines(grown).allSatisfy { $0.count <= 998 })
    }

    @Test func oddLineLengthIsRoundedDownToAMultipleOf4() {
        let layout = Base64Layout(lineLength: 75, lineEnding: Self.lf, endsWithLineEnding: false)
        let raw = Base64.encode([UInt8](repeating: 1, count: 120), layout: layout)
        // 120 bytes are 160 characters.
        #expect(mimePhysicalLines(raw).map(\.count) == [72, 72, 16])
    }

    @Test func leadingBlankLinesDoNotSetTheLineLength() throws {
        let raw = Array(mime: "\r\nZm9vYmFy\r\nZm9v\r\n")
        let decoded = try Base64.decode(raw)
        #expect(decoded.bytes == Array(mime: "foobarfoo"))
        #expect(decoded.layout == Base64Layout(lineLength: 8, lineEnding: Self.crlf, endsWithLineEnding: true))
    }
}
