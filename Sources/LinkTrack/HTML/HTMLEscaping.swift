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
    /// click URLs with ``ClickURLEscaper``; the tests hold that to this.)
    static func urlAttributeValue(_ url: [UInt8], addQuotes: Bool) -> [UInt8] {
        let quote = UInt8(ascii: "\"")
        var out: [UInt8] = addQuotes ? [quote] : []
        appendAttributeValue(url, to: &out)
        if addQuotes { out.append(quote) }
        return out
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
