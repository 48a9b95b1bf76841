/// Reads the markup inside Outlook conditional comments (`<!--[if mso]> markup <![endif]-->`),
/// which libxml2 reports only as comment text, though it holds real links (`<v:roundrect href=...>`
/// buttons).
///
/// The markup is read as an HTML fragment with the tag rules of ``TagRescanner`` (libxml2's
/// `htmlParseStartTag`): nested comments, `<!...>`, `<?...>` and end tags are skipped, and the
/// content of `<script>` and `<style>` is text. An unterminated construct ends the scan, as it would
/// swallow the rest of the fragment. It does not run a second libxml2 parser over each comment:
/// that finds the same tags, and on a newsletter with 2,000 such comments costs more than a
/// quarter of the whole rewrite.
///
/// `<!--[if !mso]><!-- -->...<!--<![endif]-->` needs none of this: its content is ordinary markup.
enum ConditionalCommentScanner {
    /// Whether a comment's text, as libxml2 reports it (NUL-terminated), starts with `[if` and a
    /// blank (after blanks), as a conditional comment does: the cheap test that spares every other
    /// comment the work of locating it.
    static func startsConditionalComment(_ value: UnsafePointer<UInt8>) -> Bool {
        var i = 0
        while TagRescanner.isBlank(value[i]) { i += 1 }
        // Safe: each test stops at the terminating NUL (which is no blank, `[`, `i` or `f`), so no
        // read goes past it.
        return value[i] == UInt8(ascii: "[") && value[i + 1] | 0x20 == UInt8(ascii: "i")
            && value[i + 2] | 0x20 == UInt8(ascii: "f") && TagRescanner.isBlank(value[i + 3])
    }

    /// For a comment whose content (between `<!--` and `-->`) is `[if ...]> markup <![endif]` at
    /// `content`, the range of `markup`; nil for any other comment.
    static func markup(_ bytes: UnsafeBufferPointer<UInt8>, content range: Range<Int>) -> Range<Int>? {
        var i = range.lowerBound
        while i < range.upperBound, TagRescanner.isBlank(bytes[i]) { i += 1 }
        guard range.upperBound - i >= 4, bytes[i] == UInt8(ascii: "["),
              bytes[i + 1].asciiLowercased == UInt8(ascii: "i"), bytes[i + 2].asciiLowercased == UInt8(ascii: "f"),
              TagRescanner.isBlank(bytes[i + 3]) else { return nil }
        // The condition ends at the first "]>".
        var start: Int?
        var j = i + 4
        while j + 1 < range.upperBound {
            if bytes[j] == UInt8(ascii: "]"), bytes[j + 1] == UInt8(ascii: ">") { start = j + 2; break }
            j += 1
        }
        guard let start else { return nil }
        // The markup ends at the last "<![endif]".
        let endif = endifMarker.utf8Start
        let endifCount = endifMarker.utf8CodeUnitCount
        var k = range.upperBound - endifCount
        while k >= start {
            guard bytes[k] == UInt8(ascii: "<") else { k -= 1; continue }
            var match = true
            // Safe: `endif` is the static string's own storage, read below its length.
            for m in 0..<endifCount where bytes[k + m].asciiLowercased != endif[m] { match = false; break }
            if match { return start..<k }
            k -= 1
        }
        return nil
    }

    static let endifMarker: StaticString = "<![endif]"

    /// Whether `range` holds `href` in any case: most conditional comments hold table scaffolding,
    /// and only markup that can hold an `href` is worth reading.
    static func containsHref(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        var i = range.lowerBound
        while i + 4 <= range.upperBound {
            // Skip eight bytes at once when none of them is `h` or `H` (only 0x48 and 0x68 give
            // 0x68 when OR-ed with 0x20); otherwise try each of those eight positions.
            if i + 8 <= range.upperBound {
                // Safe: the word read is i..<i + 8, within `range`, which lies within `bytes`.
                let x = (raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) | 0x2020_2020_2020_2020)
                    ^ 0x6868_6868_6868_6868
                if (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                    continue
                }
            }
            let stop = min(i + 8, range.upperBound - 3)
            while i < stop {
                if bytes[i] | 0x20 == UInt8(ascii: "h"), bytes[i + 1] | 0x20 == UInt8(ascii: "r"),
                   bytes[i + 2] | 0x20 == UInt8(ascii: "e"), bytes[i + 3] | 0x20 == UInt8(ascii: "f") { return true }
                i += 1
            }
        }
        return false
    }

    /// Hands each tag with an `href` in `markup` (from ``markup(_:content:)``) to `visit`, in
    /// document order, with the context ``TagContext/conditionalComment``.
    /// - Returns: false when `visit` asked to stop.
    static func scanMarkup(_ markup: Range<Int>, with rescanner: inout TagRescanner,
                           visit: (ScannedTag) -> Bool) -> Bool {
        let bytes = rescanner.bytes
        let limit = markup.upperBound
        var i = markup.lowerBound
        // One tag that each tag is read into (see ``TagRescanner/rescan(from:limit:into:)``).
        var tag = ScannedTag.empty
        while let lt = bytes.index(of: UInt8(ascii: "<"), from: i, limit: limit) {
            i = lt
            guard i + 1 < limit else { return true }
            let next = bytes[i + 1]
            if next == UInt8(ascii: "!"), i + 3 < limit, bytes[i + 2] == UInt8(ascii: "-"), bytes[i + 3] == UInt8(ascii: "-") {
                guard let close = commentEnd(bytes, from: i + 4, limit: limit) else { return true }
                i = close
            } else if next == UInt8(ascii: "!") || next == UInt8(ascii: "?") || next == UInt8(ascii: "/") {
                guard let close = bytes.index(of: UInt8(ascii: ">"), from: i + 2, limit: limit) else { return true }
                i = close + 1
            } else if TagRescanner.isASCIILetter(next) {
                guard rescanner.rescan(from: i, limit: limit, into: &tag) else { return true }
                i = tag.tagEnd + 1
                if let name = textElementName(bytes, tag.nameRange) {
                    // Text up to the matching end tag.
                    guard let close = endTag(bytes, name, from: i, limit: limit) else { return true }
                    i = close
                    continue
                }
                guard tag.attribute(.href) != nil else { continue }
                tag.context = .conditionalComment
                if !visit(tag) { return false }
            } else {
                i += 1
            }
        }
        return true
    }

    /// The index just after the `-->` that ends a comment whose content starts at `start`.
    static func commentEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int) -> Int? {
        var i = start
        while let gt = bytes.index(of: UInt8(ascii: ">"), from: i, limit: limit) {
            if gt - 2 >= start, bytes[gt - 1] == UInt8(ascii: "-"), bytes[gt - 2] == UInt8(ascii: "-") { return gt + 1 }
            i = gt + 1
        }
        return nil
    }

    /// `script` or `style` when `range` names one (their content is text).
    static func textElementName(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> StaticString? {
        func named(_ name: StaticString) -> Bool {
            guard name.utf8CodeUnitCount == range.count else { return false }
            // Safe: `name` is read below its length, which equals `range.count`.
            for k in 0..<range.count where bytes[range.lowerBound + k].asciiLowercased != name.utf8Start[k] { return false }
            return true
        }
        if named(script) { return script }
        if named(style) { return style }
        return nil
    }

    // Static strings, not arrays: constant memory, with no reference count for threads to share.
    static let script: StaticString = "script"
    static let style: StaticString = "style"

    /// The index just after the `>` of the first `</name` ... `>` at or after `start`.
    static func endTag(_ bytes: UnsafeBufferPointer<UInt8>, _ staticName: StaticString, from start: Int, limit: Int) -> Int? {
        let name = staticName.utf8Start
        let count = staticName.utf8CodeUnitCount
        var i = start
        while let lt = bytes.index(of: UInt8(ascii: "<"), from: i, limit: limit) {
            i = lt + 1
            guard lt + 2 + count <= limit, bytes[lt + 1] == UInt8(ascii: "/") else { continue }
            var same = true
            // Safe: `name` is read below its length, and lt + 2 + count <= limit.
            for k in 0..<count where bytes[lt + 2 + k].asciiLowercased != name[k] { same = false; break }
            guard same else { continue }
            guard let gt = bytes.index(of: UInt8(ascii: ">"), from: lt + 2 + count, limit: limit) else { return nil }
            return gt + 1
        }
        return nil
    }
}
