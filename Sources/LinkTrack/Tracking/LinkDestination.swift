/// What an href's value (after character-reference decoding and trimming) points at.
enum LinkDestination: Equatable {
    /// An absolute http or https URL with a host.
    case web(scheme: HttpsPolicy.Scheme, host: String)
    /// Any other scheme (`mailto`, `tel`, `javascript`, ...), lowercased.
    case otherScheme(String)
    /// `#fragment`.
    case fragment
    /// A relative reference, or a scheme-relative `//host/path`.
    case relative
    /// An http(s) URL that is not usable as written.
    case invalid(String)

    /// Bytes RFC 3986 never allows unencoded in a URI; such links (often template placeholders like
    /// `{{url}}` or `*|UNSUB|*`) stay untracked, as SES leaves them.
    static func isForbidden(_ b: UInt8) -> Bool {
        switch b {
        case 0x00...0x20, 0x7F, UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "<"), UInt8(ascii: ">"),
             UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "^"), UInt8(ascii: "`"), UInt8(ascii: "|"):
            return true
        default:
            return false
        }
    }

    /// Classifies a decoded, trimmed href value.
    static func classify(_ url: [UInt8]) -> LinkDestination {
        guard let first = url.first else { return .relative }
        if first == UInt8(ascii: "#") { return .fragment }
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"  (RFC 3986 §3.1)
        var i = 0
        if (first | 0x20) >= 0x61 && (first | 0x20) <= 0x7A {
            i = 1
            while i < url.count, url[i].isASCIIAlphanumeric || url[i] == UInt8(ascii: "+")
                    || url[i] == UInt8(ascii: "-") || url[i] == UInt8(ascii: ".") { i += 1 }
        }
        guard i > 0, i < url.count, url[i] == UInt8(ascii: ":") else { return .relative }
        let scheme = String(decoding: url[0..<i].map(\.asciiLowercased), as: UTF8.self)
        let webScheme: HttpsPolicy.Scheme
        switch scheme {
        case "http": webScheme = .http
        case "https": webScheme = .https
        default: return .otherScheme(scheme)
        }
        guard url.count >= i + 3, url[i + 1] == UInt8(ascii: "/"), url[i + 2] == UInt8(ascii: "/") else {
            return .invalid("no '//' after the scheme")
        }
        if let bad = url.first(where: isForbidden) {
            return .invalid(bad == 0x20 ? "an unencoded space" : "the character \(printable(bad)), which RFC 3986 forbids")
        }
        let authorityStart = i + 3
        var authorityEnd = authorityStart
        while authorityEnd < url.count, url[authorityEnd] != UInt8(ascii: "/"), url[authorityEnd] != UInt8(ascii: "?"),
              url[authorityEnd] != UInt8(ascii: "#") { authorityEnd += 1 }
        var hostStart = authorityStart
        if let at = url[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) { hostStart = at + 1 }
        var hostEnd = authorityEnd
        if hostStart < authorityEnd, url[hostStart] == UInt8(ascii: "[") {
            guard let close = url[hostStart..<authorityEnd].firstIndex(of: UInt8(ascii: "]")) else {
                return .invalid("an unclosed IPv6 address")
            }
            hostEnd = close + 1
        } else if let colon = url[hostStart..<authorityEnd].firstIndex(of: UInt8(ascii: ":")) {
            hostEnd = colon
        }
        guard hostEnd > hostStart else { return .invalid("no host") }
        let host = String(decoding: url[hostStart..<hostEnd].map(\.asciiLowercased), as: UTF8.self)
        return .web(scheme: webScheme, host: host)
    }

    static func printable(_ b: UInt8) -> String {
        b >= 0x21 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "0x" + String(b, radix: 16, uppercase: true)
    }
}
