/// Maps an offset in the parser's text (the UTF-8 of the document read as ISO-8859-1, see
/// ``Latin1Reading``) back to the document's own byte offset: each byte >= 0x80 is two bytes of
/// the parser's text, every other byte one.
///
/// It walks on from the last offset it mapped, so a run of increasing offsets (the order in which
/// the parser reports them) costs one pass over the document in all.
///
/// - Warning: `bytes` must stay valid while the map is used.
struct Latin1OffsetMap {
    /// The document.
    let bytes: UnsafeBufferPointer<UInt8>
    /// A parser offset and the document offset it corresponds to: where the next walk starts.
    private(set) var cursor: (parser: Int, document: Int) = (0, 0)

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The document offset of the parser offset `target`; the cursor is left there. A target
    /// past the end maps to the document's end.
    mutating func documentOffset(parserOffset target: Int) -> Int {
        // Locals, so that the walk runs in registers.
        var parserOffset = cursor.parser
        var documentOffset = cursor.document
        defer { cursor = (parserOffset, documentOffset) }
        guard let start = bytes.baseAddress else { return 0 }
        let end = bytes.count
        // Whole blocks of bytes while the target lies at or past a block's end: each byte >= 0x80
        // counts twice. A block is measured before it is taken, so the bytes left for the loops
        // below are fewer than a block's parser bytes.
        let raw = UnsafeRawPointer(start)
        let top: UInt64 = 0x8080_8080_8080_8080
        // Thirty-two bytes at a time: the top bits of four words, each moved to the bottom of its
        // byte, add up without carries (at most 4 per byte), and one multiplication sums the bytes
        // into the top byte (no popcount instruction needed).
        while parserOffset &+ 32 <= target, documentOffset &+ 32 <= end {
            // First a run of ASCII (most of a document), 64 bytes at a time: the two offsets move
            // together, so the run may go as far as the target's distance, and no count is taken.
            let asciiLimit = min(end, documentOffset &+ (target &- parserOffset))
            let runStart = documentOffset
            while documentOffset &+ 64 <= asciiLimit {
                // Safe: the words read are documentOffset..<documentOffset + 64, within `end`.
                var any = raw.loadUnaligned(fromByteOffset: documentOffset, as: UInt64.self)
                for k in 1..<8 { any |= raw.loadUnaligned(fromByteOffset: documentOffset &+ 8 &* k, as: UInt64.self) }
                guard any & top == 0 else { break }
                documentOffset &+= 64
            }
            parserOffset &+= documentOffset &- runStart
            guard parserOffset &+ 32 <= target, documentOffset &+ 32 <= end else { break }
            // Safe: the words read are documentOffset..<documentOffset + 32, checked against `end`.
            let a = raw.loadUnaligned(fromByteOffset: documentOffset, as: UInt64.self)
            let b = raw.loadUnaligned(fromByteOffset: documentOffset + 8, as: UInt64.self)
            let c = raw.loadUnaligned(fromByteOffset: documentOffset + 16, as: UInt64.self)
            let d = raw.loadUnaligned(fromByteOffset: documentOffset + 24, as: UInt64.self)
            // An all-ASCII block (most of a document) is 32 parser bytes: no count to take.
            var step = 32
            if (a | b | c | d) & top != 0 {
                let high = (a & top) >> 7 &+ (b & top) >> 7 &+ (c & top) >> 7 &+ (d & top) >> 7
                step &+= Int((high &* 0x0101_0101_0101_0101) >> 56)
                guard parserOffset &+ step <= target else { break }
            }
            parserOffset &+= step
            documentOffset &+= 32
        }
        while parserOffset + 8 <= target, documentOffset + 8 <= end {
            // Safe: the word read is documentOffset..<documentOffset + 8, checked against `end`.
            let word = raw.loadUnaligned(fromByteOffset: documentOffset, as: UInt64.self)
            let step = 8 + Int((((word & top) >> 7) &* 0x0101_0101_0101_0101) >> 56)
            guard parserOffset + step <= target else { break }
            parserOffset += step
            documentOffset += 8
        }
        // Safe: both loops read only at 0 <= documentOffset < end.
        while parserOffset < target, documentOffset < end {
            parserOffset += start[documentOffset] >= 0x80 ? 2 : 1
            documentOffset += 1
        }
        while parserOffset > target, documentOffset > 0 {
            documentOffset -= 1
            parserOffset -= start[documentOffset] >= 0x80 ? 2 : 1
        }
        return documentOffset
    }
}
