/// What an href's value (after character-reference decoding and trimming) points at.
enum LinkDestination: Equatable {
    /// An absolute http or https URL with a host; `isASCII` when it has no byte >= 0x80.
    case web(scheme: HttpsPolicy.Scheme, isASCII: Bool)
    /// An absolute http or https URL on the redirect domain (a tracking link or the open pixel).
    case redirectDomain(scheme: HttpsPolicy.Scheme)
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

    /// Byte `b` is 1 when ``isForbidden(_:)``, 2 when it is >= 0x80, 0 otherwise: a static string,
    /// constant memory with no reference count for threads to share (checked against
    /// ``isForbidden(_:)`` in the tests).
    static let byteClasses: StaticString = "\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{1}\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{1}\u{0}\u{1}\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{1}\u{1}\u{1}\u{0}\u{1}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}"

    /// The first byte of `url` that ``isForbidden(_:)``, and whether `url` has a byte >= 0x80
    /// (before that forbidden byte), in one pass by table.
    static func scanBytes(_ url: UnsafeBufferPointer<UInt8>) -> (forbidden: UInt8?, isASCII: Bool) {
        // Safe: a static string's bytes are constant memory; it has 256 of them (checked in the tests), one
        // per byte value.
        let table = byteClasses.utf8Start
        guard let base = url.baseAddress else { return (nil, true) }
        let count = url.count
        var classes: UInt8 = 0
        var i = 0
        // Eight bytes at a time while none of them is forbidden (almost every URL): their classes
        // are OR-ed and tested once. A block with a forbidden byte is read again below, byte by
        // byte, so that only the bytes before that one count.
        // Safe: each block reads i..<i + 8 <= count, and the loop below i..<count.
        while i &+ 8 <= count {
            let block = table[Int(base[i])] | table[Int(base[i &+ 1])] | table[Int(base[i &+ 2])]
                | table[Int(base[i &+ 3])] | table[Int(base[i &+ 4])] | table[Int(base[i &+ 5])]
                | table[Int(base[i &+ 6])] | table[Int(base[i &+ 7])]
            guard block & 1 == 0 else { break }
            classes |= block
            i &+= 8
        }
        while i < count {
            let b = base[i]
            let c = table[Int(b)]
            if c == 1 { return (b, classes == 0) }
            classes |= c
            i &+= 1
        }
        return (nil, classes == 0)
    }

    /// Classifies a decoded, trimmed href value.
    /// - Parameter redirectDomain: the lowercased redirect domain: an http(s) URL on that host is
    ///   ``redirectDomain`` rather than ``web(scheme:)``.
    static func classify(_ url: [UInt8], redirectDomain: [UInt8]) -> LinkDestination {
        // Safe: the pointer is used only during the call.
        url.withUnsafeBufferPointer { classify($0, redirectDomain: redirectDomain) }
    }

    static func classify(_ url: UnsafeBufferPointer<UInt8>, redirectDomain: [UInt8]) -> LinkDestination {
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
        let webScheme: HttpsPolicy.Scheme
        if equalsLowercased(url, 0..<i, Self.http) {
            webScheme = .http
        } else if equalsLowercased(url, 0..<i, Self.https) {
            webScheme = .https
        } else {
            return .otherScheme(String(decoding: url[0..<i].map(\.asciiLowercased), as: UTF8.self))
        }
        guard url.count >= i + 3, url[i + 1] == UInt8(ascii: "/"), url[i + 2] == UInt8(ascii: "/") else {
            return .invalid("no '//' after the scheme")
        }
        let (forbidden, isASCII) = scanBytes(url)
        if let bad = forbidden {
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
        if equalsLowercased(url, hostStart..<hostEnd, redirectDomain) { return .redirectDomain(scheme: webScheme) }
        return .web(scheme: webScheme, isASCII: isASCII)
    }

    // Static strings, not arrays: constant memory, with no reference count for threads to share.
    static let http: StaticString = "http"
    static let https: StaticString = "https"

    /// Whether `url[range]`, lowercased, is `text` (which is lowercase).
    static func equalsLowercased(_ url: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ expected: [UInt8]) -> Bool {
        // Safe: the pointer is used only during the call.
        expected.withUnsafeBufferPointer { equalsLowercased(url, range, $0) }
    }

    static func equalsLowercased(_ url: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ expected: StaticString) -> Bool {
        // Safe: a static string's bytes are constant memory, `utf8CodeUnitCount` of them.
        equalsLowercased(url, range, UnsafeBufferPointer(start: expected.utf8Start, count: expected.utf8CodeUnitCount))
    }

    static func equalsLowercased(_ url: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
                                 _ expected: UnsafeBufferPointer<UInt8>) -> Bool {
        guard expected.count == range.count else { return false }
        var k = range.lowerBound
        for b in expected {
            guard url[k].asciiLowercased == b else { return false }
            k += 1
        }
        return true
    }

    static func printable(_ b: UInt8) -> String {
        b >= 0x21 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "0x" + String(b, radix: 16, uppercase: true)
    }
}
