// Splice/ is the bottom of the library's dependency graph: edits, the list that keeps them in
// order, and the splicer that writes them out. The MIME codecs and the rewriters build on it;
// nothing in this folder uses anything outside it but the standard library.

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
