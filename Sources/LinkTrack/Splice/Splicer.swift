/// Writes original bytes, replacement, original bytes: the only way edited output is produced.
public enum Splicer {
    /// Applies `edits` to `original`.
    /// - Parameters:
    ///   - original: the buffer the edits' ranges refer to.
    ///   - edits: sorted, non-overlapping edits whose ranges lie within `original`.
    /// - Returns: the spliced bytes; `original` itself when there are no edits.
    public static func apply<C: RandomAccessCollection>(_ edits: EditList, to original: C) -> [UInt8]
    where C.Element == UInt8, C.Index == Int {
        var output: [UInt8] = []
        var growth = 0
        for edit in edits.edits { growth += edit.replacement.count - edit.range.count }
        output.reserveCapacity(original.count + max(growth, 0))
        var cursor = original.startIndex
        for edit in edits.edits {
            let lower = original.startIndex + edit.range.lowerBound
            let upper = original.startIndex + edit.range.upperBound
            precondition(lower >= cursor && upper <= original.endIndex, "edit outside buffer or out of order")
            output.append(contentsOf: original[cursor..<lower])
            output.append(contentsOf: edit.replacement)
            cursor = upper
        }
        output.append(contentsOf: original[cursor..<original.endIndex])
        return output
    }

    /// Applies `edits` to `original` without holding the result whole: hands it to `write` in
    /// order, in pieces. Short runs are gathered in a buffer of `bufferSize` bytes; a run of
    /// original bytes at least that long goes to `write` in place, uncopied.
    ///
    /// The concatenated pieces equal ``apply(_:to:)``'s result. `linktrack filter --input html`
    /// writes a rewritten document (a mapped file) this way, which spares it a second
    /// document-sized buffer. A piece is valid only during its `write`.
    public static func apply<E: Error>(_ edits: EditList, to original: UnsafeBufferPointer<UInt8>, bufferSize: Int = 65536,
                                       write: (UnsafeBufferPointer<UInt8>) throws(E) -> Void) throws(E) {
        // One loop, no nested functions and no closure per edit: this runs once per link of a
        // document, and in its unspecialized form (callers in other modules) a closure capturing
        // the buffer, or a `Result` of the error type per edit, costs more than the copying.
        let capacity = max(1, bufferSize)
        // Safe: the buffer is freed by the `defer` below and never escapes: each `write` sees it only during
        // its call, as documented. `used <= capacity` holds throughout: a gap or a piece of a replacement is
        // copied in only when it fits.
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var used = 0
        var cursor = 0
        let list = edits.edits
        var index = 0
        while true {
            let gapEnd = index < list.count ? list[index].range.lowerBound : original.count
            precondition(gapEnd >= cursor && (index == list.count || list[index].range.upperBound <= original.count),
                         "edit outside buffer or out of order")
            // Original bytes: gathered when they fit; a run at least a buffer long goes out in place.
            // Safe: `cursor <= gapEnd <= original.count` (the precondition above).
            let gap = UnsafeBufferPointer(rebasing: original[cursor..<gapEnd])
            if used + gap.count > capacity {
                if used > 0 { try write(UnsafeBufferPointer(start: buffer, count: used)); used = 0 }
            }
            if gap.count >= capacity {
                try write(gap)
            } else if let base = gap.baseAddress, gap.count > 0 {
                (buffer + used).update(from: base, count: gap.count)
                used += gap.count
            }
            guard index < list.count else { break }
            // The replacement: gathered, a buffer at a time when it is longer than one.
            let replacement = list[index].replacement
            var taken = 0
            while taken < replacement.count {
                if used == capacity { try write(UnsafeBufferPointer(start: buffer, count: used)); used = 0 }
                let n = min(capacity - used, replacement.count - taken)
                // Safe: `taken < replacement.count`, so the array is not empty, and `n` bytes from `taken`
                // lie within it; `used + n <= capacity`.
                replacement.withUnsafeBufferPointer { (buffer + used).update(from: $0.baseAddress! + taken, count: n) }
                used += n
                taken += n
            }
            cursor = list[index].range.upperBound
            index += 1
        }
        if used > 0 { try write(UnsafeBufferPointer(start: buffer, count: used)) }
    }

    /// ``apply(_:to:bufferSize:write:)`` of a document held in an array.
    public static func apply<E: Error>(_ edits: EditList, to original: [UInt8], bufferSize: Int = 65536,
                                       write: (UnsafeBufferPointer<UInt8>) throws(E) -> Void) throws(E) {
        // Safe: the pointer is used only during the call.
        let result = original.withUnsafeBufferPointer { pointer in
            Result { () throws(E) in try apply(edits, to: pointer, bufferSize: bufferSize, write: write) }
        }
        try result.get()
    }
}
