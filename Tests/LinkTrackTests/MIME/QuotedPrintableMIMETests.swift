import Testing
import TestSupport
@testable import LinkTrack

@Suite struct QuotedPrintableMIMETests {
    // MARK: Decoding

    struct DecodeQuirk: Sendable, CustomTestStringConvertible {
        var name: String
        var raw: [UInt8]
        var decoded: [UInt8]
        var testDescription: String { name }

        init(_ name: String, _ raw: String, _ decoded: String) {
            self.name = name
            self.raw = Array(mime: raw)
            self.decoded = Array(mime: decoded)
        }

        init(_ name: String, bytes raw: [UInt8], _ decoded: [UInt8]) {
            self.name = name
            self.raw = raw
            self.decoded = decoded
        }
    }

    static let decodeQuirks: [DecodeQuirk] = [
        DecodeQuirk("emptyInput", "", ""),
        DecodeQuirk("plainTextPassesThrough", "hello, world", "hello, world"),
        DecodeQuirk("uppercaseHex", "a=3Db", "a=b"),
        DecodeQuirk("lowercaseHexTolerated", "a=3db=c3=a9", "a=b\u{E9}"),
        DecodeQuirk("softBreakCRLF", "ab=\r\ncd", "abcd"),
        DecodeQuirk("softBreakLF", "ab=\ncd", "abcd"),
        DecodeQuirk("softBreakWithPaddingAfterEquals", "ab= \t \r\ncd", "abcd"),
        DecodeQuirk("hardBreakCRLFKept", "a\r\nb\r\n", "a\r\nb\r\n"),
        DecodeQuirk("hardBreakLFKept", "a\nb\n", "a\nb\n"),
        DecodeQuirk("mixedHardBreaksKept", "a\r\nb\nc", "a\r\nb\nc"),
        DecodeQuirk("bareCRIsLiteral", "a\rb", "a\rb"),
        DecodeQuirk("paddingBeforeCRLFDropped", "a \t \r\nb", "a\r\nb"),
        DecodeQuirk("paddingBeforeLFDropped", "a\t\nb", "a\nb"),
        DecodeQuirk("paddingAtEndOfDataDropped", "a  ", "a"),
        DecodeQuirk("whitespaceBeforeSoftBreakKept", "a  =\r\nb", "a  b"),
        DecodeQuirk("encodedSpaceAtLineEndKept", "a=20\r\n", "a \r\n"),
        DecodeQuirk("literalSpaceBeforeEncodedSpaceKept", "a =20\r\n", "a  \r\n"),
        DecodeQuirk("paddingAfterEncodedSpaceDropped", "a=20  \r\n", "a \r\n"),
        DecodeQuirk("strayEqualsKept", "a=zz", "a=zz"),
        DecodeQuirk("equalsWithOneHexDigitKept", "a=4", "a=4"),
        DecodeQuirk("equalsWithOneHexDigitBeforeBreakKept", "a=4\r\nb", "a=4\r\nb"),
        DecodeQuirk("equalsThenSpaceThenTextKept", "a= b", "a= b"),
        DecodeQuirk("equalsAtEndOfDataIsSoftBreak", "abc=", "abc"),
        DecodeQuirk("equalsAndPaddingAtEndOfDataIsSoftBreak", "abc=  ", "abc"),
        DecodeQuirk("equalsThenBareCRKept", "a=\rb", "a=\rb"),
        DecodeQuirk("softBreaksJoinHexDigitsLiterally", "=\r\n3D", "3D"),
        DecodeQuirk("consecutiveSoftBreaks", "a=\r\n=\r\nb", "ab"),
        DecodeQuirk("paddingBeforeBareCRKept", "a \rb", "a \rb"),
        DecodeQuirk("hrefWithEncodedEquals", "<a href=3D\"https://x.test/?a=3D1\">", "<a href=\"https://x.test/?a=1\">"),
        DecodeQuirk("eightBitBytesPassThrough", bytes: [0x61, 0xE9, 0xFF, 0x00], [0x61, 0xE9, 0xFF, 0x00]),
    ]

    @Test(arguments: decodeQuirks)
    func decodeQuirk(_ quirk: DecodeQuirk) {
        #expect(mimeDebug(QuotedPrintable.decode(quirk.raw)) == mimeDebug(quirk.decoded))
        #expect(QuotedPrintable.decodeWithLineMap(quirk.raw).decoded == quirk.decoded)
    }

    @Test(arguments: decodeQuirks)
    func lineMapTilesBothBuffers(_ quirk: DecodeQuirk) {
        let (decoded, map) = QuotedPrintable.decodeWithLineMap(quirk.raw)
        var rawCursor = 0
        var decodedCursor = 0
        var softBreakCursor = 0
        for line in map.lines {
            #expect(line.rawRange.lowerBound == rawCursor)
            #expect(line.decodedRange.lowerBound == decodedCursor)
            #expect(QuotedPrintable.decode(Array(quirk.raw[line.rawRange])) == Array(decoded[line.decodedRange]))
            // The line's soft breaks lie inside it, in order, and each one ends a prefix of the
            // body that decodes to exactly the bytes before its decoded offset.
            #expect(line.softBreaks.lowerBound == softBreakCursor)
            for softBreak in map.softBreaks[line.softBreaks] {
                #expect(line.rawRange.contains(softBreak.rawEnd - 1))
                #expect(line.decodedRange.lowerBound <= softBreak.decodedOffset && softBreak.decodedOffset <= line.decodedRange.upperBound)
                #expect(QuotedPrintable.decode(Array(quirk.raw[..<softBreak.rawEnd])) == Array(decoded[..<softBreak.decodedOffset]))
            }
            softBreakCursor = line.softBreaks.upperBound
            rawCursor = line.rawRange.upperBound
            decodedCursor = line.decodedRange.upperBound
        }
        #expect(softBreakCursor == map.softBreaks.count)
        #expect(rawCursor == quirk.raw.count)
        #expect(decodedCursor == decoded.count)
    }

    // MARK: Encoding

    struct EncodeCase: Sendable, CustomTestStringConvertible {
        var name: String
        var decoded: String
        var encoded: String
        var testDescription: String { name }
    }

    static let encodeCases: [EncodeCase] = [
        EncodeCase(name: "plain", decoded: "hello\r\n", encoded: "hello\r\n"),
        EncodeCase(name: "equalsSign", decoded: "a=b", encoded: "a=3Db"),
        EncodeCase(name: "trailingSpaceBeforeCRLF", decoded: "a \r\nb", encoded: "a=20\r\nb"),
        EncodeCase(name: "trailingTabAtEnd", decoded: "a\t", encoded: "a=09"),
        EncodeCase(name: "innerSpacesKept", decoded: "a  b", encoded: "a  b"),
        EncodeCase(name: "bareCR", decoded: "a\rb", encoded: "a=0Db"),
        EncodeCase(name: "LFKept", decoded: "a\nb\n", encoded: "a\nb\n"),
        EncodeCase(name: "dotAtLineStart", decoded: ".\r\n", encoded: "=2E\r\n"),
        EncodeCase(name: "fromAtLineStart", decoded: "From me\n", encoded: "=46rom me\n"),
        EncodeCase(name: "fromNotAtLineStart", decoded: "x From me\n", encoded: "x From me\n"),
        EncodeCase(name: "utf8", decoded: "é", encoded: "=C3=A9"),
        // Issue 16, item 13: no physical line may start like a multipart delimiter ("--boundary").
        EncodeCase(name: "dashAtLineStart", decoded: "--b1\r\n", encoded: "=2D-b1\r\n"),
        EncodeCase(name: "loneDashAtLineStart", decoded: "a\n-\n", encoded: "a\n=2D\n"),
        EncodeCase(name: "dashesNotAtLineStart", decoded: "a--b1\n", encoded: "a--b1\n"),
        EncodeCase(name: "dashAfterSoftBreak", decoded: String(repeating: "a", count: 75) + "--b1\n",
                   encoded: String(repeating: "a", count: 75) + "=\n=2D-b1\n"),
        EncodeCase(name: "dashEndingAPhysicalLine", decoded: String(repeating: "a", count: 74) + "--b1\n",
                   encoded: String(repeating: "a", count: 74) + "-=\n=2Db1\n"),
        EncodeCase(name: "emptyLines", decoded: "\r\n\r\n", encoded: "\r\n\r\n"),
    ]

    @Test(arguments: encodeCases)
    func encodeCase(_ row: EncodeCase) {
        let encoded = QuotedPrintable.encode(Array(mime: row.decoded), defaultLineEnding: [0x0D, 0x0A])
        #expect(mimeDebug(encoded) == mimeDebug(Array(mime: row.encoded)))
    }

    @Test(arguments: [[UInt8](mime: "\r\n"), [UInt8](mime: "\n")])
    func longLineWrapsAt76WithoutSplittingEscapes(_ ending: [UInt8]) {
        // 200 bytes where every third is "=", so an escape straddles every possible column.
        var decoded: [UInt8] = []
        for index in 0..<200 { decoded.append(index % 3 == 2 ? 0x3D : 0x61) }
        decoded += ending
        let encoded = QuotedPrintable.encode(decoded, defaultLineEnding: [0x0D, 0x0A])
        let lines = mimePhysicalLines(encoded)
        #expect(lines.count > 2)
        for line in lines {
            #expect(line.count <= 76)
            // A soft break never leaves a partial "=X" before it.
            if line.last == 0x3D {
                let body = line.dropLast()
                if let equals = body.lastIndex(of: 0x3D) { #expect(body.count - equals == 3) }
            }
        }
        // Soft breaks use the line's own ending.
        #expect(encoded.count(where: { $0 == 0x0D }) == (ending.count == 2 ? lines.count : 0))
        #expect(QuotedPrintable.decode(encoded) == decoded)
    }

    @Test func finalLineWithoutEndingUsesDefaultLineEnding() {
        let decoded = [UInt8](repeating: 0x61, count: 100)
        #expect(QuotedPrintable.encode(decoded, defaultLineEnding: [0x0A]).contains(0x0D) == false)
        let crlf = QuotedPrintable.encode(decoded, defaultLineEnding: [0x0D, 0x0A])
        #expect(crlf.contains(0x0D))
        #expect(QuotedPrintable.decode(crlf) == decoded)
    }

    @Test func lineOfExactly76FitsWithoutSoftBreak() {
        let decoded = [UInt8](repeating: 0x61, count: 76) + [0x0D, 0x0A]
        #expect(QuotedPrintable.encode(decoded, defaultLineEnding: [0x0D, 0x0A]) == decoded)
        let longer = [UInt8](repeating: 0x61, count: 77) + [0x0D, 0x0A]
        let encoded = QuotedPrintable.encode(longer, defaultLineEnding: [0x0D, 0x0A])
        #expect(mimePhysicalLines(encoded).map(\.count) == [76, 2])
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func randomRoundTrips(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let alphabet: [[UInt8]] = [
            [0x0D], [0x0A], [0x0D, 0x0A], [0x20], [0x09], [0x3D], [0x2E], Array(mime: "From "), Array(mime: "--b1"),
            [0x00], [0x7F], [0x80], [0xFF], Array(mime: "a"), Array(mime: "href=\"https://x.test/\""),
        ]
        for _ in 0..<100 {
            var decoded: [UInt8] = []
            let pieces = Int.random(in: 0...120, using: &generator)
            for _ in 0..<pieces {
                if Bool.random(using: &generator) {
                    decoded.append(UInt8.random(in: 0...255, using: &generator))
                } else {
                    decoded += alphabet.randomElement(using: &generator)!
                }
            }
            let ending: [UInt8] = Bool.random(using: &generator) ? [0x0D, 0x0A] : [0x0A]
            let maxLength = [76, 76, 10, 4].randomElement(using: &generator)!
            let encoded = QuotedPrintable.encode(decoded, defaultLineEnding: ending, maxLineLength: maxLength)
            #expect(QuotedPrintable.decode(encoded) == decoded, "\(mimeDebug(decoded))")
            for line in mimePhysicalLines(encoded) {
                #expect(line.count <= maxLength)
                #expect(line.first != UInt8(ascii: "-"), "\(mimeDebug(decoded))")
            }
            for byte in encoded {
                #expect(byte == 0x0D || byte == 0x0A || byte == 0x09 || (0x20...0x7E).contains(byte))
            }
        }
    }

    // MARK: Splicing

    static let endings: [[UInt8]] = [Array(mime: "\r\n"), Array(mime: "\n")]

    /// An oddly encoded body: lowercase escapes, padding, an overlong line, a soft break inside
    /// an href value, soft breaks with padding.
    static func oddBody(_ ending: String) -> [UInt8] {
        let overlong = String(repeating: "x", count: 90)
        return Array(mime: [
            "<p style=3d\"color:red\">caf=c3=a9   ",
            overlong,
            "<a href=3D\"https://example.com/a/very/long/path/that/needs/a/soft/break/=",
            "somewhere/in/the/middle\">link</a>",
            "trailing padding \t ",
            "soft with padding=  ",
            "end",
            "",
        ].joined(separator: ending))
    }

    /// The decoder's digit table gives ``QuotedPrintable/hexValue(_:)`` for every byte, and a value
    /// with a high nibble (so that `(high | low) & 0xF0` rejects it) for every other byte.
    @Test func hexDigitTableMatchesHexValue() {
        #expect(QuotedPrintable.hexDigitValues.utf8CodeUnitCount == 256)
        for value in 0...255 {
            let entry = QuotedPrintable.hexDigitValues.utf8Start[value]
            if let digit = QuotedPrintable.hexValue(UInt8(value)) {
                #expect(entry == digit, "byte \(value)")
            } else {
                #expect(entry & 0xF0 != 0, "byte \(value)")
            }
        }
    }

    @Test(arguments: endings)
    func spliceWithoutEditsReturnsRawExactly(_ ending: [UInt8]) {
        let raw = Self.oddBody(String(decoding: ending, as: UTF8.self))
        #expect(QuotedPrintable.splice(raw: raw, edits: EditList()) == raw)
    }

    @Test(arguments: endings)
    func spliceReplacesHrefSpanningSoftBreak(_ ending: [UInt8]) throws {
        let endingText = String(decoding: ending, as: UTF8.self)
        let raw = Self.oddBody(endingText)
        let (decoded, map) = QuotedPrintable.decodeWithLineMap(raw)
        let lines = map.lines
        let url = Array(mime: "https://example.com/a/very/long/path/that/needs/a/soft/break/somewhere/in/the/middle")
        let start = try #require(firstIndex(of: url, in: decoded))
        let replacement = Array(mime: "https://track.test/c/" + String(repeating: "Ab0_-", count: 40) + "?u=1&v=2")
        let edits = EditList([Edit(range: start..<(start + url.count), replacement: replacement)])

        let spliced = QuotedPrintable.splice(raw: raw, edits: edits)
        #expect(QuotedPrintable.decode(spliced) == Splicer.apply(edits, to: decoded))

        // The href's logical line is the third; everything else is byte-identical.
        let touched = lines[2]
        #expect(touched.decodedRange.contains(start))
        let prefix = raw[..<touched.rawRange.lowerBound]
        let suffix = raw[touched.rawRange.upperBound...]
        #expect(spliced.starts(with: prefix))
        #expect(spliced.reversed().starts(with: suffix.reversed()))
        let region = spliced[prefix.count..<(spliced.count - suffix.count)]
        for line in mimePhysicalLines(region) { #expect(line.count <= 76) }
        // Same line ending style in the re-encoded region.
        #expect(region.contains(0x0D) == (ending.count == 2))
        #expect(region.last == 0x0A)
    }

    @Test(arguments: endings)
    func insertionAtLineBoundaryTouchesTheLineThatStartsThere(_ ending: [UInt8]) {
        let endingText = String(decoding: ending, as: UTF8.self)
        let raw = Array(mime: "first line=3d" + endingText + "second  " + endingText + "third=20" + endingText)
        let (decoded, map) = QuotedPrintable.decodeWithLineMap(raw)
        let lines = map.lines
        #expect(lines.count == 3)
        let boundary = lines[1].decodedRange.lowerBound
        let edits = EditList([.insert(Array(mime: "<img src=\"x\">"), at: boundary)])
        let spliced = QuotedPrintable.splice(raw: raw, edits: edits)
        #expect(QuotedPrintable.decode(spliced) == Splicer.apply(edits, to: decoded))
        #expect(spliced.starts(with: raw[lines[0].rawRange]))
        #expect(spliced.reversed().starts(with: raw[lines[2].rawRange].reversed()))
        let middle = spliced[lines[0].rawRange.count..<(spliced.count - lines[2].rawRange.count)]
        #expect(mimeDebug(Array(middle)) == mimeDebug(Array(mime: "<img src=3D\"x\">second" + endingText)))
    }

    @Test(arguments: endings)
    func insertionAtEndOfDataTouchesTheLastLine(_ ending: [UInt8]) {
        let endingText = String(decoding: ending, as: UTF8.self)
        let raw = Array(mime: "keep=3d" + endingText + "last")
        let (decoded, map) = QuotedPrintable.decodeWithLineMap(raw)
        let lines = map.lines
        let edits = EditList([.insert(Array(mime: "</body>"), at: decoded.count)])
        let spliced = QuotedPrintable.splice(raw: raw, edits: edits)
        #expect(QuotedPrintable.decode(spliced) == Splicer.apply(edits, to: decoded))
        #expect(spliced.starts(with: raw[lines[0].rawRange]))
        #expect(Array(spliced[lines[0].rawRange.count...]) == Array(mime: "last</body>"))
    }

    /// Fuzz finding: a body whose last line ends with a soft line break and then the data ends
    /// ("...=" CRLF, no hard break) came back with a hard break after an insertion at its end, adding
    /// a CRLF to the decoded HTML. The soft break must stay soft.
    @Test(arguments: endings)
    func insertionAtEndKeepsAFinalSoftBreakSoft(_ ending: [UInt8]) {
        let endingText = String(decoding: ending, as: UTF8.self)
        let raw = Array(mime: "keep" + endingText + "last=" + endingText)
        let (decoded, map) = QuotedPrintable.decodeWithLineMap(raw)
        let lines = map.lines
        #expect(decoded == Array(mime: "keep" + endingText + "last"))
        let edits = EditList([.insert(Array(mime: "<img src=\"x\">"), at: decoded.count)])
        let spliced = QuotedPrintable.splice(raw: raw, edits: edits)
        #expect(QuotedPrintable.decode(spliced) == Splicer.apply(edits, to: decoded))
        #expect(spliced.starts(with: raw[lines[0].rawRange]))
        // "last=" and its soft break come through; the insertion is a physical line of its own
        // that ends with the body's final soft break again.
        #expect(mimeDebug(Array(spliced[lines[0].rawRange.count...]))
                == mimeDebug(Array(mime: "last=" + endingText + "<img src=3D\"x\">=" + endingText)))
    }

    @Test(arguments: endings)
    func deletingAHardBreakReencodesTheNextLineToo(_ ending: [UInt8]) {
        let endingText = String(decoding: ending, as: UTF8.self)
        let raw = Array(mime: "one" + endingText + "two=3d" + endingText + "three" + endingText)
        let (decoded, map) = QuotedPrintable.decodeWithLineMap(raw)
        let lines = map.lines
        let breakStart = lines[0].decodedRange.upperBound - ending.count
        let edits = EditList([Edit(range: breakStart..<lines[0].decodedRange.upperBound, replacement: [])])
        let spliced = QuotedPrintable.splice(raw: raw, edits: edits)
        #expect(QuotedPrintable.decode(spliced) == Splicer.apply(edits, to: decoded))
        #expect(mimeDebug(spliced) == mimeDebug(Array(mime: "onetwo=3D" + endingText + "three" + endingText)))
    }

    @Test func spliceIntoEmptyBodyEncodes() {
        let edits = EditList([.insert(Array(mime: "a=b"), at: 0)])
        #expect(QuotedPrintable.splice(raw: [], edits: edits) == Array(mime: "a=3Db"))
    }

    @Test func insertionIntoTrailingPaddingOnlyLine() {
        // The last logical line decodes to nothing; an insertion at the end goes there.
        let raw = Array(mime: "abc\r\n   ")
        let (decoded, map) = QuotedPrintable.decodeWithLineMap(raw)
        let lines = map.lines
        #expect(lines.count == 2)
        #expect(lines[1].decodedRange.isEmpty)
        let edits = EditList([.insert(Array(mime: "x "), at: decoded.count)])
        let spliced = QuotedPrintable.splice(raw: raw, edits: edits)
        #expect(QuotedPrintable.decode(spliced) == Array(mime: "abc\r\nx "))
        #expect(spliced == Array(mime: "abc\r\nx=20"))
    }

    @Test(arguments: [UInt64(11), 12, 13, 14, 15])
    func randomSplicesDecodeToTheEditedBytes(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let rawPieces: [String] = [
            "\r\n", "\n", "\r", " ", "\t", "=\r\n", "=\n", "= \r\n", "=3D", "=3d", "=20", "=C3=A9",
            "=", "=Z", "abc", "<a href=3D\"https://x.test/p?q=3D1\">", ".", "From ",
            String(repeating: "y", count: 80),
        ]
        for _ in 0..<100 {
            var raw: [UInt8] = []
            for _ in 0..<Int.random(in: 0...60, using: &generator) {
                raw += Array(mime: rawPieces.randomElement(using: &generator)!)
            }
            let (decoded, map) = QuotedPrintable.decodeWithLineMap(raw)
        let lines = map.lines
            var edits = EditList()
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                let lower = Int.random(in: 0...decoded.count, using: &generator)
                let upper = Int.random(in: lower...min(decoded.count, lower + 12), using: &generator)
                var replacement: [UInt8] = []
                for _ in 0..<Int.random(in: 0...90, using: &generator) {
                    replacement += Array(mime: rawPieces.randomElement(using: &generator)!)
                        .prefix(Int.random(in: 1...3, using: &generator))
                }
                edits.add(Edit(range: lower..<upper, replacement: replacement))
            }
            let spliced = QuotedPrintable.splice(raw: raw, edits: edits)
            let expected = Splicer.apply(edits, to: decoded)
            #expect(QuotedPrintable.decode(spliced) == expected, "raw \(mimeDebug(raw)) edits \(edits.edits)")

            // Lines before the first touched line and after the last are byte-identical.
            guard let first = edits.edits.first, let last = edits.edits.last, !lines.isEmpty else { continue }
            let firstLine = lines.firstIndex { $0.decodedRange.upperBound > first.range.lowerBound } ?? lines.count - 1
            let lastOffset = last.range.isEmpty ? last.range.lowerBound : last.range.upperBound - 1
            let lastLine = lines.firstIndex { $0.decodedRange.upperBound > lastOffset } ?? lines.count - 1
            #expect(spliced.starts(with: raw[..<lines[firstLine].rawRange.lowerBound]))
            // Unless the last edit deletes the line's hard break, which joins the next line.
            if lines[lastLine].lineEnding != .none, last.range.upperBound < lines[lastLine].decodedRange.upperBound {
                let suffix = raw[lines[lastLine].rawRange.upperBound...]
                #expect(spliced.reversed().starts(with: suffix.reversed()))
            }
        }
    }

    private func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
