/// What a tracking URL written into a `text/plain` part must be so that mail clients' linkifiers
/// take it whole (issue 21, item 4): linkifiers drop trailing punctuation and closing brackets and
/// stop at quotes and angle brackets.
package enum TextLinkSafety {
    /// `destination` with every raw `(` `)` `[` `]` `{` `}` `<` `>` `"` `'` and `` ` `` after the
    /// authority percent-encoded (`%28`, upper-case hex, RFC 3986 §2.1); the scheme and authority
    /// stay as written, so an IPv6 host keeps its brackets. Percent-encoding these sub-delimiters
    /// and unsafe bytes names the same resource for the servers links point at in practice; the
    /// rule trades that small risk for a link the recipient's client reads whole.
    package static func escapingDelimiters(_ destination: [UInt8]) -> [UInt8] {
        var start = 0
        if let colon = LinkURL.schemeEnd(of: destination) {
            start = LinkURL.authorityRange(of: destination, schemeEnd: colon)?.upperBound ?? colon + 1
        }
        guard destination[start...].contains(where: isDelimiter) else { return destination }
        var out = Array(destination[..<start])
        out.reserveCapacity(destination.count + 8)
        for b in destination[start...] {
            if isDelimiter(b) {
                out += [UInt8(ascii: "%"), hexDigit(b >> 4), hexDigit(b & 0x0F)]
            } else {
                out.append(b)
            }
        }
        return out
    }

    static func isDelimiter(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"),
             UInt8(ascii: "}"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "'"),
             UInt8(ascii: "`"):
            return true
        default:
            return false
        }
    }

    static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "A") + v - 10 }

    /// Whether `url` ends in an ASCII letter, a digit or a percent-escape (`%` and two hex digits):
    /// the endings no linkifier cuts off. An escape ends in a hex digit, so this is whether the last
    /// byte is an ASCII letter or digit.
    package static func endsInLetterDigitOrPercentEscape(_ url: some BidirectionalCollection<UInt8>) -> Bool {
        url.last?.isASCIIAlphanumeric ?? false
    }
}
