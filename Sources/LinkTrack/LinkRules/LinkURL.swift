/// The pieces of a link destination that the link rules compare, read with the syntax
/// `LinkDestination.classify` reads (RFC 3986 §3): the scheme up to the first `:`, the authority
/// after `//` up to `/`, `?` or `#`, the host after the last `@` and before a port's `:` (or
/// inside `[...]`).
enum LinkURL {
    /// The host of an absolute `http`/`https` URL (scheme in any case), or nil for anything else.
    /// - Parameter url: a decoded, trimmed destination.
    static func hostRange(of url: [UInt8]) -> Range<Int>? {
        guard let colon = schemeEnd(of: url) else { return nil }
        let scheme = url[..<colon].map(\.asciiLowercased)
        guard scheme.elementsEqual("http".utf8) || scheme.elementsEqual("https".utf8) else { return nil }
        guard let authority = authorityRange(of: url, schemeEnd: colon) else { return nil }
        var start = authority.lowerBound
        if let at = url[authority].lastIndex(of: UInt8(ascii: "@")) { start = at + 1 }
        var end = authority.upperBound
        if start < end, url[start] == UInt8(ascii: "[") {
            guard let close = url[start..<end].firstIndex(of: UInt8(ascii: "]")) else { return nil }
            end = close + 1
        } else if let portColon = url[start..<end].firstIndex(of: UInt8(ascii: ":")) {
            end = portColon
        }
        return end > start ? start..<end : nil
    }

    /// The index of the `:` ending the scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`), or nil.
    static func schemeEnd(of url: [UInt8]) -> Int? {
        guard let first = url.first, (0x61...0x7A).contains(first | 0x20) else { return nil }
        var i = 1
        while i < url.count, url[i].isASCIIAlphanumeric || url[i] == UInt8(ascii: "+")
                || url[i] == UInt8(ascii: "-") || url[i] == UInt8(ascii: ".") { i += 1 }
        return i < url.count && url[i] == UInt8(ascii: ":") ? i : nil
    }

    /// The authority after `scheme://`, or nil when `//` does not follow the scheme.
    static func authorityRange(of url: [UInt8], schemeEnd colon: Int) -> Range<Int>? {
        guard url.count >= colon + 3, url[colon + 1] == UInt8(ascii: "/"), url[colon + 2] == UInt8(ascii: "/") else {
            return nil
        }
        var end = colon + 3
        while end < url.count, url[end] != UInt8(ascii: "/"), url[end] != UInt8(ascii: "?"),
              url[end] != UInt8(ascii: "#") { end += 1 }
        return (colon + 3)..<end
    }

    /// The form in which two destinations are the same link: ASCII whitespace trimmed (as the
    /// rewriter trims an href), the scheme and the authority's host ASCII-lowercased (the two
    /// parts the tracker itself reads case-insensitively; RFC 3986 §6.2.2.1); every other byte as
    /// written, so `%2f` and `%2F`, a default port or a trailing `/` still make different links.
    static func comparisonKey(_ url: some Collection<UInt8>) -> [UInt8] {
        var key = Array(url.trimmingASCIIWhitespace())
        guard let colon = schemeEnd(of: key) else { return key }
        for i in 0..<colon { key[i] = key[i].asciiLowercased }
        if let authority = authorityRange(of: key, schemeEnd: colon) {
            let hostStart = key[authority].lastIndex(of: UInt8(ascii: "@")).map { $0 + 1 } ?? authority.lowerBound
            for i in hostStart..<authority.upperBound { key[i] = key[i].asciiLowercased }
        }
        return key
    }
}
