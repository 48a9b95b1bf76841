/// Edits kept sorted by position and non-overlapping, ready for ``Splicer``.
///
/// Two insertions at the same offset are kept in the order they were added. An edit that would
/// overlap one already in the list is refused (``add(_:)`` returns `false`), so a conflict can
/// never corrupt the output: the first claim on a byte range wins.
///
/// Adding costs O(log n) to find the place, plus moving the edits after it: nothing for an edit at
/// the end (edits mostly arrive in document order), all of them for one in the middle. Many edits
/// for places all over the list (the removed `{{ses:openTracker}}` placeholders of a document,
/// added after its links) go in with ``add(contentsOf:)``, one merge in linear time, where adding
/// each on its own would move the edits after it, quadratic in a document's edits (issue 16,
/// item 15).
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
