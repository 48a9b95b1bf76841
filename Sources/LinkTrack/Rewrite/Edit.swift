/// One change to a byte buffer: replace `range` (in the coordinates of the buffer being edited)
/// with `replacement`. An empty range is an insertion; an empty replacement is a deletion.
public struct Edit: Sendable, Hashable {
    /// The replaced bytes, as offsets into the buffer the edit applies to.
    public var range: Range<Int>
    /// The bytes written in place of `range`.
    public var replacement: [UInt8]

    public init(range: Range<Int>, replacement: [UInt8]) {
        self.range = range
        self.replacement = replacement
    }

    /// An insertion of `bytes` before the byte at `offset`.
    public static func insert(_ bytes: [UInt8], at offset: Int) -> Edit {
        Edit(range: offset..<offset, replacement: bytes)
    }
}

/// Edits kept sorted by position and non-overlapping, ready for ``Splicer``.
///
/// Two insertions at the same offset are kept in the order they were added. An edit that would
/// overlap one already in the list is refused (``add(_:)`` returns `false`), so a conflict can
/// never corrupt the output: the first claim on a byte range wins.
///
/// Adding costs O(log n) to find the place, plus moving the edits after it: nothing for an edit at
/// the end (edits mostly arrive in document order), all of them for one in the middle. Many edits
/// for places all over the list (the removed `{{ses:openTracker}}` placeholders of a document,
/// added after its links) go in with ``add(contentsOf:)``, one merge in linear time (issue 16,
/// item 15: 880,000 placeholders between links took 8½ minutes when each was inserted on its own).
public struct EditList: Sendable, Hashable {
    public private(set) var edits: [Edit] = []
    /// How many edits were moved to make room for the ones added in the middle (for tests that
    /// check the work done without timing it). Not part of the list's value.
    internal private(set) var movedEdits = 0

    public init() {}

    public init(_ edits: [Edit]) {
        for edit in edits { add(edit) }
    }

    public var isEmpty: Bool { edits.isEmpty }
    public var count: Int { edits.count }

    public static func == (lhs: EditList, rhs: EditList) -> Bool { lhs.edits == rhs.edits }
    public func hash(into hasher: inout Hasher) { hasher.combine(edits) }

    /// Whether `edit` goes before `existing` among edits kept in order: by start; at one offset an
    /// insertion comes before a replacement, and among equals the earlier-added edit (`existing`)
    /// comes first.
    @inline(__always)
    static func goesBefore(_ edit: Edit, _ existing: Edit) -> Bool {
        if existing.range.lowerBound != edit.range.lowerBound {
            return edit.range.lowerBound < existing.range.lowerBound
        }
        return edit.range.isEmpty && !existing.range.isEmpty
    }

    /// The index at which `edit` belongs, and whether it overlaps a neighbour there.
    private func place(of edit: Edit) -> (index: Int, overlaps: Bool) {
        var index = edits.count
        // Edits usually arrive in document order: the end is tried first.
        if let last = edits.last, Self.goesBefore(edit, last) {
            // The first edit that `edit` goes before (the list is ordered, so a binary search).
            var low = 0
            var high = edits.count - 1
            while low < high {
                let middle = (low + high) / 2
                if Self.goesBefore(edit, edits[middle]) { high = middle } else { low = middle + 1 }
            }
            index = low
        }
        let overlaps = (index > 0 && edits[index - 1].range.upperBound > edit.range.lowerBound)
            || (index < edits.count && edit.range.upperBound > edits[index].range.lowerBound)
        return (index, overlaps)
    }

    /// Whether ``add(_:)`` would take `edit`: it overlaps no edit in the list.
    public func canAdd(_ edit: Edit) -> Bool {
        !place(of: edit).overlaps
    }

    /// Adds `edit` unless it overlaps an edit already in the list.
    /// - Returns: whether the edit was added.
    @discardableResult
    public mutating func add(_ edit: Edit) -> Bool {
        let (index, overlaps) = place(of: edit)
        if overlaps { return false }
        // In document order the edit goes at the end: appending skips `insert`'s general path.
        if index == edits.count {
            edits.append(edit)
        } else {
            movedEdits += edits.count - index
            edits.insert(edit, at: index)
        }
        return true
    }

    /// Adds `newEdits` as ``add(_:)`` would one after the other (each refused when it overlaps an
    /// edit already in the list), in time linear in both lists when `newEdits` is sorted and
    /// non-overlapping (a merge); otherwise one at a time.
    /// - Returns: how many were added.
    @discardableResult
    public mutating func add(contentsOf newEdits: [Edit]) -> Int {
        guard !newEdits.isEmpty else { return 0 }
        // The merge below is the same as adding one by one only when the new edits cannot refuse
        // one another: in order, none overlapping the next.
        var sortedAndDisjoint = true
        for k in 1..<newEdits.count where newEdits[k - 1].range.upperBound > newEdits[k].range.lowerBound
            || Self.goesBefore(newEdits[k], newEdits[k - 1]) {
            sortedAndDisjoint = false
            break
        }
        guard sortedAndDisjoint else {
            var added = 0
            for edit in newEdits where add(edit) { added += 1 }
            return added
        }
        if let last = edits.last, let first = newEdits.first, !Self.goesBefore(first, last),
           last.range.upperBound <= first.range.lowerBound {
            edits.append(contentsOf: newEdits)
            return newEdits.count
        }
        var merged: [Edit] = []
        merged.reserveCapacity(edits.count + newEdits.count)
        var added = 0
        var i = 0
        for edit in newEdits {
            // The existing edits that come before this one (the existing edit wins ties).
            while i < edits.count, !Self.goesBefore(edit, edits[i]) {
                merged.append(edits[i])
                i += 1
            }
            // Refused when it overlaps the existing edit before it or after it; a new edit kept
            // before it cannot overlap it (the new edits are disjoint).
            let before = i > 0 ? edits[i - 1].range.upperBound > edit.range.lowerBound : false
            let after = i < edits.count ? edit.range.upperBound > edits[i].range.lowerBound : false
            if before || after { continue }
            merged.append(edit)
            added += 1
        }
        merged.append(contentsOf: edits[i...])
        edits = merged
        return added
    }
}

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
        // the buffer, or a `Result` of the error type per edit, cost more than the copying.
        let capacity = max(1, bufferSize)
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
        let result = original.withUnsafeBufferPointer { pointer in
            Result { () throws(E) in try apply(edits, to: pointer, bufferSize: bufferSize, write: write) }
        }
        try result.get()
    }
}
