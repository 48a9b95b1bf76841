@testable import LinkTrack
@testable import LinkTrackTooling
import Testing
import TestSupport

@Suite struct Latin1ReadingTests {
    /// The reference: each byte is the code point of the same value, in UTF-8.
    static func reference(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for byte in bytes { out.append(contentsOf: Array(String(Character(Unicode.Scalar(byte))).utf8)) }
        return out
    }

    /// Conversion in pieces of any capacity gives the reference UTF-8, never splits a character
    /// and never writes past the capacity; every piece makes progress while input remains.
    @Test(arguments: [2, 3, 9, 16, 17, 4000, 1 << 16])
    func convertsInPiecesOfAnyCapacity(capacity: Int) {
        var generator = SeededGenerator(seed: UInt64(capacity))
        for round in 0..<30 {
            // Mostly ASCII with some high bytes, or all bytes alike.
            let count = Int.random(in: 0...5000, using: &generator)
            let input: [UInt8] = (0..<count).map { _ in
                round % 3 == 0 ? UInt8.random(in: 0...255, using: &generator)
                    : (Int.random(in: 0..<20, using: &generator) == 0 ? UInt8.random(in: 0x80...0xFF, using: &generator)
                        : UInt8.random(in: 0x20...0x7E, using: &generator))
            }
            var output: [UInt8] = []
            var offset = 0
            var piece = [UInt8](repeating: 0xAA, count: capacity + 8)
            while offset < input.count {
                let (consumed, written) = input.withUnsafeBufferPointer { source in
                    piece.withUnsafeMutableBufferPointer { target in
                        Latin1Reading.convert(UnsafeBufferPointer(rebasing: source[offset...]), into: target.baseAddress!,
                                              capacity: capacity)
                    }
                }
                #expect(consumed > 0 && written <= capacity)
                #expect(piece[capacity...].allSatisfy { $0 == 0xAA }, "wrote past the capacity")
                // A piece ends on a character boundary: it decodes on its own.
                #expect(Self.reference(Array(input[offset..<offset + consumed])) == Array(piece[..<written]))
                output.append(contentsOf: piece[..<written])
                offset += consumed
                if consumed == 0 { break }
            }
            #expect(output == Self.reference(input))
        }
    }

    /// libxml2 reading through the reader parses as it does with its own ISO-8859-1 handler: the
    /// same number of start tags, on documents long enough for the parser to shrink its buffer
    /// many times (which a static buffer read without a handler gets wrong in libxml2 2.9.14).
    @Test func theBaselineReadsTheSameThroughEitherPath() {
        var generator = SeededGenerator(seed: 7)
        let pieces = ["<p>", "</p>", "caf\u{E9} ", "<a href=\"https://example.com/x\">x</a>", "<!-- c -->", " text ",
                      "<td>\u{20AC}</td>", "<br>", "<img src=x>", "\r\n"]
        for size in [10, 3000, 200_000] {
            var document = Array("<html><body>".utf8)
            var starts = 2
            while document.count < size {
                let piece = pieces[Int.random(in: 0..<pieces.count, using: &generator)]
                document += Array(piece.utf8)
                if piece.hasPrefix("<") && !piece.hasPrefix("</") && !piece.hasPrefix("<!") { starts += 1 }
            }
            document += Array("</body></html>".utf8)
            let handler = LibXML2Baseline.parse(document, reading: .libxml2Handler)
            let reader = LibXML2Baseline.parse(document, reading: .rewriterReader)
            #expect(handler == reader)
            #expect(reader == starts, "size \(size)")
        }
    }
}
