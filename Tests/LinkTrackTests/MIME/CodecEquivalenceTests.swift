import Testing
import TestSupport
@testable import LinkTrack

/// The fast codecs against the straightforward ones they replaced (ReferenceCodecs.swift), byte
/// for byte, on inputs built to hit every branch: soft breaks, `=XX` in both cases, stray `=`,
/// padding, bare CR, LF and CRLF, lines around the 76-character limit and 998-octet lines.
@Suite struct CodecEquivalenceTests {
    static let crlf: [UInt8] = [0x0D, 0x0A]
    static let lf: [UInt8] = [0x0A]

    // MARK: Quoted-printable decoding

    static let rawPieces: [[UInt8]] = [
        "\r\n", "\n", "\r", " ", "\t", "  \t ", "=\r\n", "=\n", "= \r\n", "=\t\n", "= ", "=  ", "=", "=\r",
        "=3D", "=3d", "=20", "=09", "=20 ", "=C3=A9", "=c3=a9", "=Z", "=4", "=4\r\n", "=g0", "a", "abc",
        "<a href=3D\"https://x.test/p?q=3D1\">", ".", "From ", "x  =\r\n", " \r\n", "\t\n",
    ].map { Array(mime: $0) } + [[0x00], [0x7F], [0x80], [0xFF], [0x3D, 0x0D, 0x0D, 0x0A]]

    static func randomRaw(_ generator: inout SeededGenerator, pieces: Int) -> [UInt8] {
        var raw: [UInt8] = []
        for _ in 0..<pieces {
            switch Int.random(in: 0..<20, using: &generator) {
            case 0: raw += [UInt8](repeating: UInt8(ascii: "y"), count: Int.random(in: 70...1000, using: &generator))
            case 1: raw.append(UInt8.random(in: 0...255, using: &generator))
            default: raw += rawPieces.randomElement(using: &generator)!
            }
        }
        return raw
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func decodeMatchesReference(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        // Buffers reused from input to input, as a filter's kept buffers are (PartBufferPool).
        var reusedDecoded: [UInt8] = []
        var reusedMap = QuotedPrintable.LineMap()
        for _ in 0..<300 {
            let raw = Self.randomRaw(&generator, pieces: Int.random(in: 0...40, using: &generator))
            #expect(QuotedPrintable.decode(raw) == ReferenceQuotedPrintable.decode(raw), "\(mimeDebug(raw))")
            let fast = QuotedPrintable.decodeWithLineMap(raw)
            let reference = ReferenceQuotedPrintable.decodeWithLineMap(raw)
            #expect(fast.decoded == reference.decoded, "\(mimeDebug(raw))")
            #expect(fast.map.lines.map(\.withoutSoftBreaks) == reference.lines, "\(mimeDebug(raw))")
            QuotedPrintable.decodeWithLineMap(raw[...], into: &reusedDecoded, map: &reusedMap)
            #expect(reusedDecoded == fast.decoded && reusedMap == fast.map, "\(mimeDebug(raw))")
        }
    }

    @Test func decodeTrailingWhitespaceCornerCases() {
        let cases = [
            "a \t=\r\n  \r\n", "a  =\r\n", "a=20  \r\n", "a =20\r\n", "a \r \r\n", "a= \r\nb ", "a=  ", "a=\t",
            "  ", " \n \r\n\t", "=20", "= =20 \r\n", "a=\r\n ", "a \r", "a \r\r\n", "x=4 \n", "=\r\n\t=\n \n",
        ]
        for text in cases {
            let raw = Array(mime: text)
            #expect(QuotedPrintable.decodeWithLineMap(raw).decoded == ReferenceQuotedPrintable.decode(raw), "\(mimeDebug(raw))")
            #expect(QuotedPrintable.decodeWithLineMap(raw).map.lines.map(\.withoutSoftBreaks)
                    == ReferenceQuotedPrintable.decodeWithLineMap(raw).lines)
        }
    }

    @Test func everyByteAtEveryOffsetOfAWord() {
        // The word-at-a-time loops flag bytes with borrows; put each byte value, alone and next
        // to its neighbours, at every offset of an 8-byte word and after it.
        for byte in 0...255 {
            for offset in 0..<17 {
                for pair: [UInt8] in [[UInt8(byte)], [UInt8(byte), UInt8(byte ^ 1)], [0x00, UInt8(byte)], [UInt8(byte), 0x20]] {
                    let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: offset) + pair
                        + [UInt8](repeating: UInt8(ascii: "b"), count: 20) + pair
                    #expect(QuotedPrintable.decode(bytes) == ReferenceQuotedPrintable.decode(bytes), "\(mimeDebug(bytes))")
                    #expect(QuotedPrintable.encode(bytes, defaultLineEnding: Self.crlf)
                        == ReferenceQuotedPrintable.encode(bytes, defaultLineEnding: Self.crlf), "\(mimeDebug(bytes))")
                }
            }
        }
    }

    // MARK: Quoted-printable encoding

    static let decodedPieces: [[UInt8]] = [
        "\r\n", "\n", "\r", " ", "\t", "=", ".", "..", "From ", "From", "Fro", "From\t", "a", "abc", "é",
        "<a href=\"https://x.test/\">", " \r\n", "\t\n", ". \r\n",
    ].map { Array(mime: $0) } + [[0x00], [0x7F], [0x80], [0xFF]]

    static func randomDecoded(_ generator: inout SeededGenerator, pieces: Int) -> [UInt8] {
        var decoded: [UInt8] = []
        for _ in 0..<pieces {
            switch Int.random(in: 0..<16, using: &generator) {
            case 0:
                // A run that puts the next piece somewhere around the 76-column limit.
                decoded += [UInt8](repeating: UInt8(ascii: "x"), count: Int.random(in: 60...80, using: &generator))
            case 1: decoded += [UInt8](repeating: UInt8(ascii: "y"), count: Int.random(in: 990...1010, using: &generator))
            case 2: decoded.append(UInt8.random(in: 0...255, using: &generator))
            default: decoded += decodedPieces.randomElement(using: &generator)!
            }
        }
        return decoded
    }

    static let defaultEndings: [[UInt8]] = [crlf, lf, [], Array(mime: "<soft>\r\n")]

    @Test(arguments: [UInt64(21), 22, 23, 24, 25, 26, 27, 28])
    func encodeMatchesReference(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<200 {
            let decoded = Self.randomDecoded(&generator, pieces: Int.random(in: 0...30, using: &generator))
            let ending = Self.defaultEndings.randomElement(using: &generator)!
            let maxLength = [76, 76, 76, 1, 4, 5, 6, 10, 77, 998].randomElement(using: &generator)!
            let reference = ReferenceQuotedPrintable.encode(decoded, defaultLineEnding: ending, maxLineLength: maxLength)
            let fast = QuotedPrintable.encode(decoded, defaultLineEnding: ending, maxLineLength: maxLength)
            #expect(fast == reference, "max \(maxLength) \(mimeDebug(decoded))")
            #expect(fast.count <= QuotedPrintable.encodedCountBound(decoded.count, defaultLineEnding: ending, maxLength: max(maxLength, 4)))
            // The appending variant, after existing bytes and from a non-array collection.
            var appended = Array(mime: "prefix")
            QuotedPrintable.encode(decoded[...], into: &appended, defaultLineEnding: ending, maxLineLength: maxLength)
            #expect(appended == Array(mime: "prefix") + reference)
            var fromRange: [UInt8] = []
            QuotedPrintable.encode(ArraySliceBox(decoded), into: &fromRange, defaultLineEnding: ending, maxLineLength: maxLength)
            #expect(fromRange == reference)
        }
    }

    @Test(arguments: [UInt8(ascii: "x"), 0x3D, 0x20, 0x09, 0x2E, 0xC3])
    func encodeEveryLengthAroundTheLimit(filler: UInt8) {
        // Lines of every length around 76 characters, ending in each kind of byte, so that the
        // "rest fits" decision and the soft breaks are tried at every column.
        for length in 0...160 {
            for last: [UInt8] in [[], [0x20], [0x09], [0x3D], [0x2E], Array(mime: "From x")] {
                for ending: [UInt8] in [[], Self.crlf, Self.lf] {
                    let decoded = [UInt8](repeating: filler, count: length) + last + ending
                    for maxLength in [76, 75, 4] {
                        #expect(QuotedPrintable.encode(decoded, defaultLineEnding: Self.crlf, maxLineLength: maxLength)
                            == ReferenceQuotedPrintable.encode(decoded, defaultLineEnding: Self.crlf, maxLineLength: maxLength),
                            "filler \(filler) length \(length) max \(maxLength) \(mimeDebug(last + ending))")
                    }
                }
            }
        }
    }

    @Test func encodePhysicalLineStartEscapesAfterSoftBreaks() {
        // "." and "From " landing exactly where a soft break starts a new physical line.
        for offset in 70...80 {
            for tail in [".", "From me", "From", ". ", "=.", " From x"] {
                let decoded = Array(mime: String(repeating: "a", count: offset) + tail + "\r\n")
                #expect(QuotedPrintable.encode(decoded, defaultLineEnding: Self.crlf)
                    == ReferenceQuotedPrintable.encode(decoded, defaultLineEnding: Self.crlf), "\(offset) \(tail)")
            }
        }
    }

    // MARK: Quoted-printable splicing

    /// The splice decodes to the edited bytes, gives the same bytes however the body is handed
    /// over (an array, a slice at a non-zero index, with or without the caller's line map), and
    /// changes no more than the previous splice, which re-encoded whole logical lines: it keeps at
    /// least as long a prefix and suffix of the raw body (it re-encodes physical lines).
    @Test(arguments: [UInt64(41), 42, 43, 44, 45, 46])
    func spliceDecodesToTheEditsAndStaysLocal(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<150 {
            let raw = Self.randomRaw(&generator, pieces: Int.random(in: 0...40, using: &generator))
            let decoded = QuotedPrintable.decode(raw)
            var edits = EditList()
            var lower = 0
            for _ in 0..<Int.random(in: 0...6, using: &generator) {
                lower = Int.random(in: lower...decoded.count, using: &generator)
                let upper = Int.random(in: lower...min(decoded.count, lower + 90), using: &generator)
                edits.add(Edit(range: lower..<upper,
                               replacement: Self.randomDecoded(&generator, pieces: Int.random(in: 0...5, using: &generator))))
                lower = upper
            }
            let spliced = QuotedPrintable.splice(raw: raw, edits: edits)
            #expect(QuotedPrintable.decode(spliced) == Splicer.apply(edits, to: decoded), "\(mimeDebug(raw))")
            let (mapped, map) = QuotedPrintable.decodeWithLineMap(raw)
            #expect(QuotedPrintable.splice(raw: raw[...], decoded: mapped, map: map, edits: edits) == spliced)
            // The filter's path: a slice of a longer body (inside a message, its last line break
            // left out), not copied.
            let head = Array("Header: x\r\n\r\n".utf8)
            let body = head + raw + Array("\r\n".utf8)
            let slice = body[head.count..<(head.count + raw.count)]
            let (sliceDecoded, sliceMap) = QuotedPrintable.decodeWithLineMap(slice)
            #expect(sliceDecoded == mapped && sliceMap == map)
            #expect(QuotedPrintable.splice(raw: slice, decoded: sliceDecoded, map: sliceMap, edits: edits) == spliced)
            var appended = Array("prefix".utf8)
            QuotedPrintable.splice(raw: slice, decoded: sliceDecoded, map: sliceMap, edits: edits, into: &appended)
            #expect(appended == Array("prefix".utf8) + spliced)
            // The raw bytes before the physical line holding the first edit come through, and
            // those after the physical line holding the last one when that line ends with a soft
            // break (at a hard break an edit may have deleted it, which joins the next line).
            guard let firstEdit = edits.edits.first, let lastEdit = edits.edits.last, !map.lines.isEmpty else { continue }
            let first = Self.physicalLine(containing: firstEdit.range.lowerBound, in: map)
            #expect(spliced.starts(with: raw[..<first.raw.lowerBound]), "\(mimeDebug(raw))")
            let lastOffset = lastEdit.range.isEmpty ? lastEdit.range.lowerBound : lastEdit.range.upperBound - 1
            let last = Self.physicalLine(containing: lastOffset, in: map)
            if last.endsWithSoftBreak {
                #expect(spliced.reversed().starts(with: raw[last.raw.upperBound...].reversed()), "\(mimeDebug(raw))")
            }
        }
    }

    /// The raw range of the physical line holding `decodedOffset`, worked out from the map: the
    /// logical line that holds it, then the soft breaks of that line at or before it.
    static func physicalLine(containing decodedOffset: Int, in map: QuotedPrintable.LineMap)
        -> (raw: Range<Int>, endsWithSoftBreak: Bool) {
        let line = map.lines.first { $0.decodedRange.upperBound > decodedOffset } ?? map.lines.last!
        let breaks = map.softBreaks[line.softBreaks]
        let before = breaks.filter { $0.decodedOffset <= decodedOffset }
        let after = breaks.first { $0.decodedOffset > decodedOffset }
        return ((before.last?.rawEnd ?? line.rawRange.lowerBound)..<(after?.rawEnd ?? line.rawRange.upperBound), after != nil)
    }

    static func commonPrefix<A: Collection, B: Collection>(_ a: A, _ b: B) -> Int where A.Element == UInt8, B.Element == UInt8 {
        zip(a, b).prefix { $0 == $1 }.count
    }

    /// A link in the middle of a long paragraph changes the physical lines it stands on: the
    /// paragraph's other physical lines come through byte for byte.
    @Test(arguments: ["\r\n", "\n"])
    func editInALongParagraphReencodesOnlyItsPhysicalLines(_ ending: String) throws {
        let paragraph = (0..<30).map { "word\($0) caf\u{E9} " }.joined() + "<a href=\"https://example.com/page\">x</a>"
            + (0..<30).map { " more\($0)" }.joined()
        let decoded = Array((paragraph + ending + "next line" + ending).utf8)
        let raw = QuotedPrintable.encode(decoded, defaultLineEnding: Array(ending.utf8))
        let physical = raw.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        #expect(physical.count > 8)
        let url = Array("https://example.com/page".utf8)
        let start = try #require(decoded.indices.first { decoded[$0...].starts(with: url) })
        let edits = EditList([Edit(range: start..<(start + url.count),
                                   replacement: Array("https://links.example.com/c/1.k.0123456789abcdef?m=a&u=https%3A%2F%2Fexample.com%2Fpage".utf8))])
        let spliced = QuotedPrintable.splice(raw: raw, edits: edits)
        #expect(QuotedPrintable.decode(spliced) == Splicer.apply(edits, to: decoded))
        let after = spliced.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        // Count the physical lines kept at the start and at the end.
        let keptStart = zip(physical, after).prefix { Array($0) == Array($1) }.count
        let keptEnd = zip(physical.reversed(), after.reversed()).prefix { Array($0) == Array($1) }.count
        #expect(physical.count - keptStart - keptEnd <= 3, "\(keptStart) + \(keptEnd) of \(physical.count) physical lines kept")
        for line in after { #expect(line.count <= 76 + (ending == "\r\n" ? 1 : 0)) }
    }

    // MARK: Base64

    static let layouts: [Base64Layout] = [
        .mimeDefault,
        Base64Layout(lineLength: 76, lineEnding: lf, endsWithLineEnding: false),
        Base64Layout(lineLength: 72, lineEnding: crlf, endsWithLineEnding: false),
        Base64Layout(lineLength: 4, lineEnding: lf, endsWithLineEnding: true),
        Base64Layout(lineLength: 7, lineEnding: crlf, endsWithLineEnding: true),
        Base64Layout(lineLength: 0, lineEnding: crlf, endsWithLineEnding: true),
        Base64Layout(lineLength: -3, lineEnding: [], endsWithLineEnding: false),
        Base64Layout(lineLength: Int.max, lineEnding: [], endsWithLineEnding: false),
        Base64Layout(lineLength: 64, lineEnding: Array(mime: "\r\r\n"), endsWithLineEnding: true),
    ]

    /// Encoding the original bytes and the edits piece by piece gives the encoding of the edited
    /// bytes, appended after whatever the output already holds: groups that straddle an edit, edits
    /// at the start and the end, deletions, insertions, empty results and every layout.
    @Test(arguments: [UInt64(71), 72, 73])
    func base64SplicedEncodeMatchesEncodingTheEditedBytes(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<300 {
            let size = Int.random(in: 0...300, using: &generator)
            let original = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var edits = EditList()
            var lower = 0
            for _ in 0..<Int.random(in: 0...8, using: &generator) {
                lower = Int.random(in: lower...size, using: &generator)
                let upper = Int.random(in: lower...min(size, lower + 40), using: &generator)
                let replacement = (0..<Int.random(in: 0...50, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                edits.add(Edit(range: lower..<upper, replacement: replacement))
                lower = upper
            }
            let layout = Self.layouts.randomElement(using: &generator)!
            let prefix = Array("head\r\n".utf8)
            var output = prefix
            Base64.encode(original, edits: edits, layout: layout, into: &output)
            let expected = prefix + Base64.encode(Splicer.apply(edits, to: original), layout: layout)
            #expect(output == expected, "\(size) bytes, \(edits.count) edits, \(layout)")
        }
    }

    @Test(arguments: [UInt64(61), 62, 63, 64])
    func base64EncodeMatchesReference(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for size in Array(0...80) + [1000, 4095, 4096, 4097] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for layout in Self.layouts {
                #expect(Base64.encode(bytes, layout: layout) == ReferenceBase64.encode(bytes, layout: layout), "\(size) \(layout)")
            }
        }
    }

    static let base64Pieces: [[UInt8]] = [
        "QUJD", "QUI=", "QQ==", "QUJ", "QU", "Q", "=", "==", "\r\n", "\n", "\r", " ", "\t", "+/+/", "-_", "*",
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0",
    ].map { Array(mime: $0) } + [[0x00], [0x80], [0xFF]]

    @Test(arguments: [UInt64(81), 82, 83, 84, 85, 86])
    func base64DecodeMatchesReference(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        var reused: [UInt8] = []
        for _ in 0..<400 {
            var raw: [UInt8] = []
            if Bool.random(using: &generator) {
                // A conventional body, then perhaps some damage.
                let bytes = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                raw = ReferenceBase64.encode(bytes, layout: Self.layouts.randomElement(using: &generator)!)
                for _ in 0..<Int.random(in: 0...2, using: &generator) where !raw.isEmpty {
                    let at = Int.random(in: 0..<raw.count, using: &generator)
                    raw.insert(contentsOf: Self.base64Pieces.randomElement(using: &generator)!, at: at)
                }
            } else {
                for _ in 0..<Int.random(in: 0...30, using: &generator) {
                    raw += Self.base64Pieces.randomElement(using: &generator)!
                }
            }
            let fast = Result { () throws(Base64Error) in try Base64.decode(raw) }
            let reference = Result { () throws(Base64Error) in try ReferenceBase64.decode(raw) }
            // Into a buffer reused from the earlier inputs (as a filter's kept buffers are): the
            // same bytes, layout and error, whatever it held before.
            let intoReused = Result { () throws(Base64Error) in try Base64.decode(raw[...], into: &reused) }
            switch (fast, intoReused) {
            case let (.success(fast), .success(layout)):
                #expect(reused == fast.bytes && layout == fast.layout, "\(mimeDebug(raw))")
            case let (.failure(fast), .failure(error)):
                #expect(fast == error, "\(mimeDebug(raw))")
            default:
                Issue.record("decode \(fast) decode(into:) \(intoReused) for \(mimeDebug(raw))")
            }
            switch (fast, reference) {
            case let (.success(fast), .success(reference)):
                #expect(fast.bytes == reference.bytes, "\(mimeDebug(raw))")
                #expect(fast.layout == reference.layout, "\(mimeDebug(raw))")
            case let (.failure(fast), .failure(reference)):
                #expect(fast == reference, "\(mimeDebug(raw))")
            default:
                Issue.record("fast \(fast) reference \(reference) for \(mimeDebug(raw))")
            }
        }
    }

    /// Bodies from ``Base64/pairDecodeThreshold`` on go through the pair table, eight characters at
    /// a time: the same bytes, layout and error as the reference for large bodies in every layout,
    /// with damage (whitespace, padding, bytes outside the alphabet, a lone character) anywhere,
    /// including across an 8-character step, and around the threshold itself.
    @Test(arguments: [UInt64(91), 92, 93, 94])
    func base64LargeBodiesMatchReference(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let threshold = Base64.pairDecodeThreshold
        for round in 0..<24 {
            // The first four: one line of 16,376 to 16,388 characters, two below the threshold and
            // two at or above it; then longer bodies in any layout.
            let size = round < 4
                ? threshold / 4 * 3 - 6 + round * 3
                : Int.random(in: threshold...(threshold * 3), using: &generator)
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let layout = round < 4
                ? Base64Layout(lineLength: Int.max, lineEnding: [], endsWithLineEnding: false)
                : Self.layouts.randomElement(using: &generator)!
            var raw = ReferenceBase64.encode(bytes, layout: layout)
            if round < 4 { #expect((raw.count >= threshold) == (round >= 2), "\(raw.count) characters") }
            for _ in 0..<Int.random(in: 0...3, using: &generator) where round >= 4 {
                let at = Int.random(in: 0..<raw.count, using: &generator)
                raw.insert(contentsOf: Self.base64Pieces.randomElement(using: &generator)!, at: at)
            }
            let fast = Result { () throws(Base64Error) in try Base64.decode(raw) }
            let reference = Result { () throws(Base64Error) in try ReferenceBase64.decode(raw) }
            switch (fast, reference) {
            case let (.success(fast), .success(reference)):
                // Compared apart, so that a failure names the first differing offset, not two
                // arrays of tens of thousands of bytes.
                let differsAt = zip(fast.bytes, reference.bytes).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                #expect(differsAt == nil && fast.bytes.count == reference.bytes.count,
                        "\(raw.count) bytes: decoded \(fast.bytes.count) against \(reference.bytes.count), first difference at \(String(describing: differsAt))")
                #expect(fast.layout == reference.layout, "\(raw.count) bytes")
            case let (.failure(fast), .failure(reference)):
                #expect(fast == reference, "\(raw.count) bytes")
            default:
                Issue.record("fast \(fast) reference \(reference) for \(raw.count) bytes")
            }
        }
    }
}

/// A random-access collection without contiguous storage, for the encoder's copying path.
private struct ArraySliceBox: RandomAccessCollection {
    var base: [UInt8]
    init(_ base: [UInt8]) { self.base = base }
    var startIndex: Int { 0 }
    var endIndex: Int { base.count }
    subscript(position: Int) -> UInt8 { base[position] }
}
