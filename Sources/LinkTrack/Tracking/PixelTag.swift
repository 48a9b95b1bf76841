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
    static let placeholder: [UInt8] = Array("{{ses:openTracker}}".utf8)
}

enum HTMLEscaping {
    /// Appends `value` escaped for a quoted attribute value: `&`, `"` and `'` become references.
    static func appendAttributeValue(_ value: [UInt8], to out: inout [UInt8]) {
        out.reserveCapacity(out.count + value.count + 32)
        value.withUnsafeBufferPointer { bytes in
            var runStart = 0
            for i in 0..<bytes.count {
                let b = bytes[i]
                // `"` (0x22), `&` (0x26) and `'` (0x27): one compare rules out nearly every byte.
                guard b &- 0x22 <= 5, b == UInt8(ascii: "&") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") else { continue }
                if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
                switch b {
                case UInt8(ascii: "&"): out.append(contentsOf: ampersand)
                case UInt8(ascii: "\""): out.append(contentsOf: quotation)
                default: out.append(contentsOf: apostrophe)
                }
                runStart = i + 1
            }
            if runStart < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count])) }
        }
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
