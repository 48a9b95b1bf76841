/// A message's `List-Unsubscribe` URLs (RFC 2369 §3.2) and whether it offers one-click
/// unsubscription (RFC 8058), for the rule that leaves unsubscribe links untracked (issue 21, item 1):
/// a link whose destination is one of these URLs is not wrapped, so that an ad blocker that blocks
/// the tracking domain cannot break the opt-out, and an opt-out is not counted as engagement.
package struct ListUnsubscribe: Sendable, Equatable {
    /// The URLs between the angle brackets, in header order, whitespace inside them removed.
    package var urls: [[UInt8]]
    /// Whether `List-Unsubscribe-Post: List-Unsubscribe=One-Click` was given (RFC 8058 §3.1).
    package var isOneClick: Bool
    /// ``urls`` in ``LinkURL/comparisonKey(_:)`` form.
    let keys: Set<[UInt8]>

    /// Reads the two header fields.
    /// - Parameters:
    ///   - headerValue: the unfolded value of `List-Unsubscribe` (after the colon), raw bytes; an
    ///     unfolded CRLF left in it is read as whitespace. Nil when the message has none.
    ///   - postHeaderValue: the unfolded value of `List-Unsubscribe-Post`, or nil.
    package init(headerValue: [UInt8]?, postHeaderValue: [UInt8]? = nil) {
        urls = headerValue.map(Self.parseURLs) ?? []
        keys = Set(urls.map(LinkURL.comparisonKey))
        isOneClick = !urls.isEmpty && postHeaderValue.map(Self.isOneClickValue) == true
    }

    /// Whether a link to `destination` is one of the header's URLs.
    ///
    /// - Parameter destination: the link's destination with HTML character references already
    ///   decoded by the caller (`&amp;` in an href is `&` here, as it is in the header). It is
    ///   compared in ``LinkURL/comparisonKey(_:)`` form: whitespace trimmed, scheme and host in
    ///   any case, the rest byte for byte.
    package func matches(destination: some Collection<UInt8>) -> Bool {
        !keys.isEmpty && keys.contains(LinkURL.comparisonKey(destination))
    }

    /// The URLs of a `List-Unsubscribe` value: `<URL>` entries separated by commas, with comments
    /// and whitespace around them.
    ///
    /// RFC 2369 §2's rules for readers: a value not starting (after whitespace and comments) with
    /// `<` is ignored; what follows an entry is ignored unless a comma comes first. Whitespace
    /// inside the brackets is not part of the URL (a long URL may be folded there). An unclosed
    /// `<` ends the list. Duplicates are kept.
    static func parseURLs(_ value: [UInt8]) -> [[UInt8]] {
        var urls: [[UInt8]] = []
        var i = 0
        while true {
            i = skipCommentsAndWhitespace(value, from: i)
            guard i < value.count, value[i] == UInt8(ascii: "<") else { break }
            guard let close = value[(i + 1)...].firstIndex(of: UInt8(ascii: ">")) else { break }
            let url = value[(i + 1)..<close].filter { !$0.isASCIIWhitespace }
            if !url.isEmpty { urls.append(url) }
            i = skipCommentsAndWhitespace(value, from: close + 1)
            guard i < value.count, value[i] == UInt8(ascii: ",") else { break }
            i += 1
        }
        return urls
    }

    /// The index after any whitespace and RFC 5322 comments (`(...)`, nested, with `\` quoting).
    static func skipCommentsAndWhitespace(_ value: [UInt8], from start: Int) -> Int {
        var i = start
        var depth = 0
        while i < value.count {
            let b = value[i]
            if depth > 0 {
                if b == UInt8(ascii: "\\") { i += 2; continue }
                if b == UInt8(ascii: "(") { depth += 1 } else if b == UInt8(ascii: ")") { depth -= 1 }
            } else if b == UInt8(ascii: "(") {
                depth = 1
            } else if !b.isASCIIWhitespace {
                break
            }
            i += 1
        }
        return min(i, value.count)
    }

    /// Whether a `List-Unsubscribe-Post` value is the one key/value pair RFC 8058 §3.1 defines,
    /// `List-Unsubscribe=One-Click`, surrounding whitespace allowed, ASCII case ignored.
    static func isOneClickValue(_ value: [UInt8]) -> Bool {
        value.trimmingASCIIWhitespace().map(\.asciiLowercased).elementsEqual("list-unsubscribe=one-click".utf8)
    }
}
