/// The open-tracking pixel.
enum PixelTag {
    /// A 1x1 image with an empty `alt`, hidden by inline style, whose `src` is the open URL.
    static func markup(url: String) -> [UInt8] {
        Array("<img src=\"\(HTMLEscaping.attributeValue(url))\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none;width:1px;height:1px;border:0;\">".utf8)
    }

    /// The placeholder SES replaces with the pixel.
    static let placeholder: [UInt8] = Array("{{ses:openTracker}}".utf8)
}

enum HTMLEscaping {
    /// Escapes `&` and both quote characters for an attribute value (tracking URLs hold no `<`).
    static func attributeValue(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count + 16)
        for c in value.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
