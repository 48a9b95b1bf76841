/// Escaping for HTML attribute values: the inverse of ``CharacterReference``'s reading, on the HTML
/// side of the rewriter, so that the tracking code writes plain URL bytes and knows no HTML.
enum HTMLEscaping {
    /// Appends `value` escaped for a quoted attribute value: `&`, `"` and `'` become references.
    static func appendAttributeValue(_ value: [UInt8], to out: inout [UInt8]) {
        out.reserveCapacity(out.count + value.count + 32)
        // Safe: the 8-byte loads happen only where `i + 8 <= bytes.count`, and the slices lie within `bytes`;
        // the pointer is used only inside the closure.
        value.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return }
            var runStart = 0
            var i = 0
            while i < bytes.count {
                // Eight bytes at a time when none of them needs escaping (most of a URL);
                // otherwise those eight (or the last few) one by one.
                let stop: Int
                if i + 8 <= bytes.count {
                    if !needsEscaping(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) {
                        i += 8
                        continue
                    }
                    stop = i + 8
                } else {
                    stop = bytes.count
                }
                while i < stop {
                    let b = bytes[i]
                    i += 1
                    guard b == UInt8(ascii: "&") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") else { continue }
                    if runStart < i - 1 { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<(i - 1)])) }
                    switch b {
                    case UInt8(ascii: "&"): out.append(contentsOf: ampersand)
                    case UInt8(ascii: "\""): out.append(contentsOf: quotation)
                    default: out.append(contentsOf: apostrophe)
                    }
                    runStart = i
                }
            }
            if runStart < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count])) }
        }
    }

    /// A URL escaped for an attribute value, in quotes when `addQuotes`. (The rewriter escapes its
    /// click URLs with ``attributeValue(_:plainFrom:addQuotes:)``; the tests hold that to this.)
    static func urlAttributeValue(_ url: [UInt8], addQuotes: Bool) -> [UInt8] {
        let quote = UInt8(ascii: "\"")
        var out: [UInt8] = addQuotes ? [quote] : []
        appendAttributeValue(url, to: &out)
        if addQuotes { out.append(quote) }
        return out
    }

    /// `url` escaped for an attribute value, in quotes when `addQuotes`, as one new array: what
    /// ``urlAttributeValue(_:addQuotes:)`` gives, for a URL whose tail is known to need no escaping.
    ///
    /// The bytes before `plainFrom` are escaped (`&`, `"` and `'` become references); those from
    /// `plainFrom` on are copied without being searched. The rewriter passes a click URL as
    /// ``MessageSigner`` wrote it into the rewrite's reused buffer, with `plainFrom` at its
    /// percent-encoded destination (``MessageSigner/Layout/destinationStart``), the bulk of the URL
    /// and free of those three bytes by construction (``PercentEncoding``). So a link costs one
    /// allocation, the replacement itself, which an ``Edit`` must own anyway: the escapes before
    /// `plainFrom` are counted first (a short run: head, MAC, message id, set, index and tags), the
    /// array is made at its exact size and written once.
    /// - Parameters:
    ///   - url: the URL's bytes.
    ///   - plainFrom: where the bytes start that hold no `&`, `"` or `'` (checked in debug builds).
    ///   - addQuotes: whether to put the value in double quotes (for an unquoted attribute).
    /// - Returns: the attribute value's bytes.
    static func attributeValue(_ url: UnsafeBufferPointer<UInt8>, plainFrom: Int, addQuotes: Bool) -> [UInt8] {
        precondition(plainFrom >= 0 && plainFrom <= url.count)
        assert(!url[plainFrom...].contains { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") },
               "a byte that needs escaping after plainFrom")
        // The prefix holds a few bytes to escape (the query's `&`s) among about a hundred: they are
        // found a word at a time, and the runs between them copied whole.
        guard let base = url.baseAddress else { return addQuotes ? [UInt8(ascii: "\""), UInt8(ascii: "\"")] : [] }
        /// The offset of the first byte to escape at or after `start` and before `plainFrom`, else `plainFrom`.
        func nextEscape(_ start: Int) -> Int {
            var i = start
            while i < plainFrom {
                if i + 8 <= plainFrom {
                    // Safe: the 8 bytes from `i` lie within `url` (i + 8 <= plainFrom <= url.count).
                    let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                    if needsEscaping(word) {
                        for k in i..<(i + 8) where reference(for: url[k]) != nil { return k }
                    }
                    i += 8
                } else {
                    if reference(for: url[i]) != nil { return i }
                    i += 1
                }
            }
            return plainFrom
        }
        var extra = 0
        var e = nextEscape(0)
        while e < plainFrom {
            extra += reference(for: url[e])!.utf8CodeUnitCount - 1
            e = nextEscape(e + 1)
        }
        let total = url.count + extra + (addQuotes ? 2 : 0)
        // Safe: every write below is within `out`: the bytes written are exactly the `total` counted
        // above (each escaped byte as its reference, the runs between them and the tail as they
        // are, the quotes), and `initialized` is set to how many were written.
        return [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
            let destination = out.baseAddress!
            var n = 0
            if addQuotes { destination[n] = UInt8(ascii: "\""); n += 1 }
            var position = 0
            while position < url.count {
                let escape = nextEscape(position)
                // The run before the next byte to escape (or, past `plainFrom`, the rest).
                let runEnd = escape < plainFrom ? escape : url.count
                (destination + n).initialize(from: base + position, count: runEnd - position)
                n += runEnd - position
                position = runEnd
                if escape < plainFrom {
                    // Safe: a static string's bytes are constant memory, `utf8CodeUnitCount` of them.
                    let reference = reference(for: url[escape])!
                    (destination + n).initialize(from: reference.utf8Start, count: reference.utf8CodeUnitCount)
                    n += reference.utf8CodeUnitCount
                    position = escape + 1
                }
            }
            if addQuotes { destination[n] = UInt8(ascii: "\""); n += 1 }
            initialized = n
        }
    }

    /// The character reference written for `b` in an attribute value, or nil when `b` stays as it
    /// is. Static strings, not arrays: constant memory, with no reference count to touch per byte.
    @inline(__always)
    static func reference(for b: UInt8) -> StaticString? {
        switch b {
        case UInt8(ascii: "&"): return "&amp;"
        case UInt8(ascii: "\""): return "&quot;"
        case UInt8(ascii: "'"): return "&#39;"
        default: return nil
        }
    }

    /// Whether one of the eight bytes is `&`, `"` or `'` (the classic "has a zero byte" test on the
    /// word XOR each character; it may report a false positive only next to a real match, which the
    /// byte loop then handles exactly).
    @inline(__always)
    static func needsEscaping(_ word: UInt64) -> Bool {
        func hasZeroByte(_ x: UInt64) -> Bool {
            (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080 != 0
        }
        return hasZeroByte(word ^ 0x2626_2626_2626_2626) || hasZeroByte(word ^ 0x2222_2222_2222_2222)
            || hasZeroByte(word ^ 0x2727_2727_2727_2727)
    }

    /// The inverse of ``appendAttributeValue(_:to:)``: `&amp;`, `&quot;` and `&#39;` back to bytes.
    static func unescapeAttributeValue(_ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(value.count)
        var i = 0
        while i < value.count {
            if value[i] == UInt8(ascii: "&") {
                let rest = value[i...]
                if rest.starts(with: ampersand) { out.append(UInt8(ascii: "&")); i += ampersand.count; continue }
                if rest.starts(with: quotation) { out.append(UInt8(ascii: "\"")); i += quotation.count; continue }
                if rest.starts(with: apostrophe) { out.append(UInt8(ascii: "'")); i += apostrophe.count; continue }
            }
            out.append(value[i])
            i += 1
        }
        return out
    }

    static let ampersand = Array("&amp;".utf8)
    static let quotation = Array("&quot;".utf8)
    static let apostrophe = Array("&#39;".utf8)

    /// Escapes `&` and both quote characters for an attribute value (tracking URLs hold no `<`).
    static func attributeValue(_ value: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count + 16)
        appendAttributeValue(Array(value.utf8), to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
