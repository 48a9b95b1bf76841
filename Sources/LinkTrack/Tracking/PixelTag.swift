#if canImport(Glibc)
import Glibc
#endif

/// The open-tracking pixel.
enum PixelTag {
    /// A 1x1 image with an empty `alt`, hidden by inline style, whose `src` is the open URL.
    static func markup(url: String) -> [UInt8] {
        markup(url: Array(url.utf8))
    }

    static func markup(url: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(url.count + 100)
        out.append(contentsOf: "<img src=\"".utf8)
        HTMLEscaping.appendAttributeValue(url, to: &out)
        out.append(contentsOf: "\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none;width:1px;height:1px;border:0;\">".utf8)
        return out
    }

    /// The placeholder SES replaces with the pixel.
    static let placeholderText: StaticString = "{{ses:openTracker}}"
    static let placeholder: [UInt8] = Array("{{ses:openTracker}}".utf8)
}

enum HTMLEscaping {
    /// Appends `value` escaped for a quoted attribute value: `&`, `"` and `'` become references.
    static func appendAttributeValue(_ value: [UInt8], to out: inout [UInt8]) {
        out.reserveCapacity(out.count + value.count + 32)
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

    /// A URL from ``LinkSigner`` escaped for an attribute value, in quotes when `addQuotes`.
    ///
    /// Its only byte to escape is the `&` between query fields (percent-encoding leaves no quote and
    /// no other `&`): memchr finds those few, and the result is built at its exact size. Any other
    /// value still comes out right, through ``appendAttributeValue(_:to:)``.
    static func urlAttributeValue(_ url: [UInt8], addQuotes: Bool) -> [UInt8] {
        var scratch: [UInt8] = []
        return urlAttributeValue(url, addQuotes: addQuotes, scratch: &scratch)
    }

    /// ``urlAttributeValue(_:addQuotes:)`` written first into `scratch`, whose storage a caller that
    /// escapes many URLs keeps from one to the next; the result is then copied out at its exact
    /// size. (Building the result in place, through `Array(unsafeUninitializedCapacity:)`, looked
    /// up the array's type metadata in the runtime on every call: more work than the escaping.)
    static func urlAttributeValue(_ url: [UInt8], addQuotes: Bool, scratch: inout [UInt8]) -> [UInt8] {
        url.withUnsafeBufferPointer { urlAttributeValue($0, addQuotes: addQuotes, scratch: &scratch) }
    }

    /// ``urlAttributeValue(_:addQuotes:scratch:)`` of bytes held elsewhere (the rewriter's URL buffer).
    static func urlAttributeValue(_ bytes: UnsafeBufferPointer<UInt8>, addQuotes: Bool, scratch: inout [UInt8]) -> [UInt8] {
        let quote = UInt8(ascii: "\"")
        guard let base = bytes.baseAddress,
              memchr(base, Int32(quote), bytes.count) == nil,
              memchr(base, Int32(UInt8(ascii: "'")), bytes.count) == nil else {
            var out: [UInt8] = addQuotes ? [quote] : []
            appendAttributeValue(Array(bytes), to: &out)
            if addQuotes { out.append(quote) }
            return out
        }
        let amp = Int32(UInt8(ascii: "&"))
        var ampersands = 0
        var i = 0
        while i < bytes.count, let hit = memchr(base + i, amp, bytes.count - i) {
            ampersands += 1
            i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) + 1
        }
        let size = bytes.count + ampersands * 4 + (addQuotes ? 2 : 0)  // `&` becomes `&amp;`
        if scratch.count < size { scratch = [UInt8](repeating: 0, count: max(size, 2 * scratch.count)) }
        return scratch.withUnsafeMutableBufferPointer { out -> [UInt8] in
            // Safe: `size` bytes are written, as counted above, and `out` holds at least that many.
            // Eight bytes at a time while they hold no `&`, one by one otherwise: the pieces
            // between `&`s are too short for memmove calls to pay off.
            let target = UnsafeMutableRawPointer(out.baseAddress!)
            let source = UnsafeRawPointer(base)
            let entity: StaticString = "&amp;"
            var o = 0
            if addQuotes { out[o] = quote; o += 1 }
            var i = 0
            while i < bytes.count {
                if i + 8 <= bytes.count {
                    let word = source.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    let x = word ^ 0x2626_2626_2626_2626
                    if (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080 == 0 {
                        target.storeBytes(of: word, toByteOffset: o, as: UInt64.self)
                        i += 8
                        o += 8
                        continue
                    }
                }
                let stop = min(i + 8, bytes.count)
                while i < stop {
                    let b = bytes[i]
                    i += 1
                    if b == UInt8(ascii: "&") {
                        for k in 0..<entity.utf8CodeUnitCount { out[o] = entity.utf8Start[k]; o += 1 }
                    } else {
                        out[o] = b
                        o += 1
                    }
                }
            }
            if addQuotes { out[o] = quote; o += 1 }
            return Array(UnsafeBufferPointer(rebasing: out[0..<o]))
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
