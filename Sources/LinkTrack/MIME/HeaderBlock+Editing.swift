/// Adding and changing fields in a header block without disturbing the rest of its bytes.
extension HeaderBlock {
    /// Where a field is added to a header block: at its end, or before its first line that cannot
    /// belong to a header block (issue 16, item 12), so that every reader takes the added field for
    /// a header field (Python's email reads the body from that line on).
    package static func insertionOffset(in block: [UInt8], isTop: Bool) -> Int {
        HeaderBlock.firstMalformedLine(in: block, isTop: isTop) ?? block.count
    }

    /// The bytes that add the field `text` at ``insertionOffset(in:isTop:)``: with the line ending
    /// of the field before it, and after a line ending when that field has none (a block that ends
    /// without one).
    package static func fieldToAdd(_ text: String, to block: [UInt8], fields: [HeaderField], isTop: Bool) -> [UInt8] {
        let offset = insertionOffset(in: block, isTop: isTop)
        let before = fields.last { $0.range.upperBound <= offset }
        var added: [UInt8] = []
        if let before, before.lineEnding.isEmpty { added.append(contentsOf: dominantLineEnding(block)) }
        added.append(contentsOf: Array(text.utf8))
        added.append(contentsOf: before?.lineEnding.isEmpty == false ? before!.lineEnding : dominantLineEnding(block))
        return added
    }

    package static func dominantLineEnding(_ block: [UInt8]) -> [UInt8] {
        if let lf = block.firstIndex(of: 0x0A), lf > 0, block[lf - 1] == 0x0D { return [0x0D, 0x0A] }
        if block.contains(0x0A) { return [0x0A] }
        return [0x0D, 0x0A]
    }
}
