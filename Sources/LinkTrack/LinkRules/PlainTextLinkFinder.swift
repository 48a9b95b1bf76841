/// Finds the bare `http://` and `https://` URLs of a decoded `text/plain` body, with the boundaries
/// a careful reader draws (issue 21, item 4), for plain-text link tracking.
///
/// The body is the part's decoded bytes: for quoted-printable the soft line breaks (`=` CRLF) are
/// already gone, so a URL wrapped by one is whole here, and every range is in the decoded body's
/// coordinates (`decodedOffset`s). For base64 likewise.
///
/// Boundaries:
/// - A URL starts at `http://` or `https://` (any case) not preceded by a letter, digit, `+`, `-`
///   or `.`, and needs a host character after the `//`.
/// - It runs to whitespace, a control byte, `<`, `>` or `"` (bytes RFC 3986 never allows raw and
///   linkifiers stop at), then loses, repeatedly, a trailing `.` `,` `;` `:` `!` `?` `'` and a
///   trailing `)` `]` `}` that has no partner opened inside the URL: `(see https://x.example/a_(b))`
///   keeps `a_(b)` and leaves the last `)` outside.
/// - `<https://…>` (and RFC 3986 Appendix C's `<URL:https://…>`) runs to the `>`, trailing
///   punctuation included; a line break inside the brackets, with the blanks around it, is not part
///   of the URL (a long URL wrapped by hand). Blanks inside one line, a blank line, a second `<` or
///   no `>` within 4,096 bytes make it an ordinary unbracketed URL.
/// - `format=flowed` (RFC 3676): a line ending in a space is joined to the next line of the same
///   quote depth; with `DelSp=yes` the space goes (§4.2) and a URL runs on across the break; with
///   `DelSp=no` the space is content, so the URL ends before it, as flowed-aware clients show it.
///   Quote marks and a stuffed space (§4.4) are not text. The signature separator `-- ` is not flowed.
/// - With ``Options/skipsQuotedLines``, a line starting with `>` (a quoted reply) holds no link, and
///   no bracketed or flowed URL runs into one.
/// - Non-ASCII bytes are URL bytes (an IRI's path); ``Link/isASCII`` tells such links apart.
package enum PlainTextLinkFinder {
    package struct Options: Sendable, Equatable {
        /// The body's line format: `Content-Type: text/plain; format=flowed; delsp=yes` is
        /// `.flowed(deleteSpace: true)`.
        package var format: LineFormat
        /// Whether lines starting with `>` are left alone.
        package var skipsQuotedLines: Bool

        package init(format: LineFormat = .fixed, skipsQuotedLines: Bool = false) {
            self.format = format
            self.skipsQuotedLines = skipsQuotedLines
        }
    }

    package enum LineFormat: Sendable, Equatable {
        case fixed
        case flowed(deleteSpace: Bool)
    }

    /// One URL found in the body.
    package struct Link: Sendable, Equatable {
        /// The URL's bytes in the decoded body, in order: one range, or several when the URL is
        /// wrapped (a flowed soft break, a line break inside angle brackets). Brackets are outside.
        package var decodedRanges: [Range<Int>]
        /// The URL: the bytes of ``decodedRanges`` joined.
        package var url: [UInt8]
        /// Whether it was written `<https://…>`.
        package var isAngleBracketed: Bool

        /// From the first URL byte to the last, in the decoded body.
        package var decodedRange: Range<Int> { decodedRanges[0].lowerBound..<decodedRanges[decodedRanges.count - 1].upperBound }
        package var isASCII: Bool { !url.contains { $0 >= 0x80 } }
    }

    /// The longest angle-bracketed URL read before giving up on its `>`.
    static let maximumBracketedLength = 4096

    /// The URLs of `body`, in order.
    package static func links(in body: [UInt8], options: Options = Options()) -> [Link] {
        guard body.containsBytes("://".utf8) else { return [] }
        let text = LogicalText(body: body, options: options)
        return scan(text)
    }

    /// The body as a reader sees it: flowed lines joined, quote marks and stuffing gone, each byte
    /// with its decoded offset; a line break is `\n` at ``newline``, a skipped quoted line `\n` at
    /// ``barrier``.
    struct LogicalText {
        static let newline = -1
        static let barrier = -2
        var bytes: [UInt8] = []
        var origins: [Int] = []

        init(body: [UInt8], options: Options) {
            bytes.reserveCapacity(body.count)
            origins.reserveCapacity(body.count)
            var lines: [Range<Int>] = []
            var start = 0
            while start < body.count {
                var end = start
                while end < body.count, body[end] != 0x0A { end += 1 }
                let contentEnd = end > start && end < body.count && body[end - 1] == 0x0D ? end - 1 : end
                lines.append(start..<contentEnd)
                start = end + 1
            }
            func quoteDepth(_ line: Range<Int>) -> Int {
                var i = line.lowerBound
                while i < line.upperBound, body[i] == UInt8(ascii: ">") { i += 1 }
                return i - line.lowerBound
            }
            for (k, line) in lines.enumerated() {
                let depth = quoteDepth(line)
                if options.skipsQuotedLines && depth > 0 {
                    append(0x0A, origin: Self.barrier)
                    continue
                }
                guard case .flowed(let deleteSpace) = options.format else {
                    for i in line { append(body[i], origin: i) }
                    append(0x0A, origin: Self.newline)
                    continue
                }
                var contentStart = line.lowerBound + depth
                if contentStart < line.upperBound, body[contentStart] == 0x20 { contentStart += 1 }
                let content = contentStart..<line.upperBound
                let isSignature = body[content].elementsEqual("-- ".utf8)
                let soft = !content.isEmpty && body[content.upperBound - 1] == 0x20 && !isSignature
                    && k + 1 < lines.count && quoteDepth(lines[k + 1]) == depth
                let end = soft && deleteSpace ? content.upperBound - 1 : content.upperBound
                for i in contentStart..<end { append(body[i], origin: i) }
                if !soft { append(0x0A, origin: Self.newline) }
            }
        }

        mutating func append(_ b: UInt8, origin: Int) {
            bytes.append(b)
            origins.append(origin)
        }
    }

    static func isSchemeByte(_ b: UInt8) -> Bool {
        b.isASCIIAlphanumeric || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
    }

    /// Whether `b` can be inside an unbracketed URL.
    static func isURLByte(_ b: UInt8) -> Bool {
        b > 0x20 && b != 0x7F && b != UInt8(ascii: "<") && b != UInt8(ascii: ">") && b != UInt8(ascii: "\"")
    }

    static func scan(_ text: LogicalText) -> [Link] {
        let t = text.bytes
        var links: [Link] = []
        var i = 0
        while i + 7 <= t.count {
            guard t[i] | 0x20 == UInt8(ascii: "h"), let afterScheme = schemeEnd(t, at: i) else { i += 1; continue }
            if i > 0, isSchemeByte(t[i - 1]) { i = afterScheme; continue }
            let bracketed = (i > 0 && t[i - 1] == UInt8(ascii: "<"))
                || (i >= 5 && t[(i - 5)..<i].map(\.asciiLowercased).elementsEqual("<url:".utf8))
            if bracketed, let close = bracketEnd(text, urlStart: i) {
                let positions = (i..<close).filter { !t[$0].isASCIIWhitespace }
                links.append(link(text, positions: positions, bracketed: true))
                i = close + 1
                continue
            }
            var end = afterScheme
            while end < t.count, isURLByte(t[end]) { end += 1 }
            end = trimmedEnd(t, start: i, end: end)
            guard end > afterScheme, isHostStart(t[afterScheme]) else { i = afterScheme; continue }
            links.append(link(text, positions: Array(i..<end), bracketed: false))
            i = end
        }
        return links
    }

    /// The index after `http://` or `https://` (any case) at `i`, or nil.
    static func schemeEnd(_ t: [UInt8], at i: Int) -> Int? {
        func lower(_ k: Int) -> UInt8 { t[k].asciiLowercased }
        guard i + 7 <= t.count, lower(i + 1) == UInt8(ascii: "t"), lower(i + 2) == UInt8(ascii: "t"),
              lower(i + 3) == UInt8(ascii: "p") else { return nil }
        var k = i + 4
        if lower(k) == UInt8(ascii: "s") { k += 1 }
        guard k + 3 <= t.count, t[k] == UInt8(ascii: ":"), t[k + 1] == UInt8(ascii: "/"), t[k + 2] == UInt8(ascii: "/") else {
            return nil
        }
        return k + 3
    }

    static func isHostStart(_ b: UInt8) -> Bool {
        b.isASCIIAlphanumeric || b >= 0x80 || b == UInt8(ascii: "[")
    }

    /// `end` without trailing punctuation and unpartnered closing brackets.
    static func trimmedEnd(_ t: [UInt8], start: Int, end: Int) -> Int {
        var end = end
        while end > start {
            let b = t[end - 1]
            switch b {
            case UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "!"),
                 UInt8(ascii: "?"), UInt8(ascii: "'"):
                end -= 1
                continue
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                let open: UInt8 = b == UInt8(ascii: ")") ? UInt8(ascii: "(") : (b == UInt8(ascii: "]") ? UInt8(ascii: "[") : UInt8(ascii: "{"))
                var opens = 0
                var closes = 0
                for k in start..<end {
                    if t[k] == open { opens += 1 } else if t[k] == b { closes += 1 }
                }
                if closes > opens { end -= 1; continue }
            default:
                break
            }
            break
        }
        return end
    }

    /// The index of the `>` closing a bracketed URL that starts at `urlStart`, or nil when it is
    /// not one (see the type's documentation).
    static func bracketEnd(_ text: LogicalText, urlStart: Int) -> Int? {
        let t = text.bytes
        var j = urlStart
        var blankRunHasNewline = false
        var inBlankRun = false
        var newlinesInRow = 0
        while j < t.count, j - urlStart <= maximumBracketedLength {
            let b = t[j]
            if b == UInt8(ascii: ">") { return inBlankRun && !blankRunHasNewline ? nil : j }
            if b == UInt8(ascii: "<") || text.origins[j] == LogicalText.barrier { return nil }
            if b.isASCIIWhitespace {
                if !inBlankRun { inBlankRun = true; blankRunHasNewline = false }
                if b == 0x0A {
                    blankRunHasNewline = true
                    newlinesInRow += 1
                    if newlinesInRow >= 2 { return nil }
                }
            } else {
                // Blanks within one line are not a wrapped URL.
                if inBlankRun && !blankRunHasNewline { return nil }
                inBlankRun = false
                newlinesInRow = 0
            }
            j += 1
        }
        return nil
    }

    /// A link from the logical text's `positions` (all real bytes).
    static func link(_ text: LogicalText, positions: [Int], bracketed: Bool) -> Link {
        var ranges: [Range<Int>] = []
        var url: [UInt8] = []
        url.reserveCapacity(positions.count)
        for p in positions {
            let origin = text.origins[p]
            guard origin >= 0 else { continue }
            url.append(text.bytes[p])
            if let last = ranges.last, last.upperBound == origin {
                ranges[ranges.count - 1] = last.lowerBound..<(origin + 1)
            } else {
                ranges.append(origin..<(origin + 1))
            }
        }
        return Link(decodedRanges: ranges, url: url, isAngleBracketed: bracketed)
    }
}
