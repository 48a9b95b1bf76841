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
