#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a charset means for byte-level HTML rewriting: can `<`, `"`, `'`, `=` and ASCII letters be
/// found by looking at single bytes below 0x80?
enum CharsetFamily: Sendable, Equatable {
    /// UTF-8, and US-ASCII, which is validated as UTF-8.
    case utf8
    /// A charset in which every byte below 0x80 is always that ASCII character (ISO-8859-*,
    /// windows-125x, KOI8, Shift_JIS, EUC-*, GBK, GB18030, Big5, TIS-620, …). Unknown labels are
    /// put here too: nearly every charset in mail use is ASCII-compatible, and the known
    /// exceptions are listed under ``unsupported(reason:)``.
    case asciiCompatible
    /// A charset whose multibyte sequences contain bytes such as `<`, `"` or `=` (UTF-16/32,
    /// UCS-2/4, ISO-2022-*, HZ, UTF-7, EBCDIC): rewriting it bytewise could corrupt text.
    case unsupported(reason: String)

    /// Classifies a charset label (RFC 2046 §4.1.2 `charset` parameter, or an HTML `<meta>` label).
    ///
    /// The label is compared case-insensitively (RFC 2046 §4.1.2), after trimming whitespace and
    /// quotes.
    /// - Parameter label: the label, or `nil` when none was declared.
    /// - Returns: `.asciiCompatible` for `nil`, an empty label or an unknown one.
    static func classify(label: String?) -> CharsetFamily {
        guard let label else { return .asciiCompatible }
        let name = normalizedLabel(label)
        if name.isEmpty { return .asciiCompatible }
        if utf8Labels.contains(name) { return .utf8 }
        for (prefix, why) in unsupportedPrefixes where name.hasPrefix(prefix) {
            return .unsupported(reason: "\(name) \(why)")
        }
        if let reason = unsupportedLabels[name] { return .unsupported(reason: reason) }
        if isEBCDIC(name) {
            return .unsupported(reason: "\(name) is EBCDIC: its letters and '<' are not ASCII bytes")
        }
        return .asciiCompatible
    }

    /// Sniffs a family from the bytes themselves.
    ///
    /// Recognised: a UTF-8 byte order mark (→ `.utf8`); UTF-16, UTF-32 and UTF-7 byte order
    /// marks, UTF-16 without one when the data starts with `<` and a NUL, and ISO-2022 escape
    /// sequences (ESC `$` or ESC `(`, RFC 1468 §2) anywhere in the data (→ `.unsupported`).
    /// - Parameter bytes: the decoded body, or its start.
    /// - Returns: `nil` when nothing was recognised.
    static func sniff(_ bytes: [UInt8]) -> CharsetFamily? {
        // Safe: the pointer is used only during the call.
        bytes.withUnsafeBufferPointer { sniff($0) }
    }

    /// ``sniff(_:)`` of bytes in place.
    static func sniff(_ input: UnsafeBufferPointer<UInt8>) -> CharsetFamily? {
        let count = input.count
        func starts(_ prefix: [UInt8]) -> Bool {
            guard count >= prefix.count else { return false }
            for index in prefix.indices where input[index] != prefix[index] { return false }
            return true
        }
        if starts([0x00, 0x00, 0xFE, 0xFF]) || starts([0xFF, 0xFE, 0x00, 0x00]) {
            return .unsupported(reason: "the data starts with a UTF-32 byte order mark")
        }
        if starts([0xEF, 0xBB, 0xBF]) { return .utf8 }
        if starts([0xFE, 0xFF]) || starts([0xFF, 0xFE]) {
            return .unsupported(reason: "the data starts with a UTF-16 byte order mark")
        }
        if starts([0x2B, 0x2F, 0x76]), count > 3, [0x38, 0x39, 0x2B, 0x2F].contains(input[3]) {
            return .unsupported(reason: "the data starts with a UTF-7 byte order mark")
        }
        if starts([0x3C, 0x00]) || starts([0x00, 0x3C]) {
            return .unsupported(reason: "the data looks like UTF-16 without a byte order mark")
        }
        // memchr finds ESC at memory speed; HTML rarely holds one.
        guard let base = input.baseAddress else { return nil }
        var index = 0
        // Safe: `memchr` reads `count - index - 1` bytes from `base + index`, within the buffer, and a hit
        // lies within them, so `index + 1 < count`.
        while index + 1 < count, let hit = memchr(base + index, 0x1B, count - index - 1) {
            index = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if input[index + 1] == UInt8(ascii: "$") || input[index + 1] == UInt8(ascii: "(") {
                return .unsupported(reason: "the data contains an ISO-2022 escape sequence at offset \(index)")
            }
            index += 1
        }
        return nil
    }

    /// Lowercased, without surrounding whitespace and quotes.
    static func normalizedLabel(_ label: String) -> String {
        var name = Substring(label)
        let strip: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\"" || $0 == "'" }
        while let first = name.first, strip(first) { name = name.dropFirst() }
        while let last = name.last, strip(last) { name = name.dropLast() }
        return name.lowercased()
    }

    private static let utf8Labels: Set<String> = [
        "utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8",
        "us-ascii", "ascii", "us", "ansi_x3.4-1968", "ansi_x3.4-1986", "iso-ir-6", "iso_646.irv:1991",
        "iso646-us", "iso_646.irv", "ibm367", "cp367", "csascii", "646", "us_ascii",
    ]

    private static let unsupportedPrefixes: [(prefix: String, why: String)] = [
        ("utf-16", "is not ASCII-compatible: its code units contain '<' and '\"' bytes"),
        ("utf16", "is not ASCII-compatible: its code units contain '<' and '\"' bytes"),
        ("utf-32", "is not ASCII-compatible: its code units contain '<' and '\"' bytes"),
        ("utf32", "is not ASCII-compatible: its code units contain '<' and '\"' bytes"),
        ("ucs-2", "is not ASCII-compatible: its code units contain '<' and '\"' bytes"),
        ("ucs2", "is not ASCII-compatible: its code units contain '<' and '\"' bytes"),
        ("ucs-4", "is not ASCII-compatible: its code units contain '<' and '\"' bytes"),
        ("iso-10646-ucs", "is not ASCII-compatible: its code units contain '<' and '\"' bytes"),
        ("iso-2022", "is not ASCII-compatible: its shifted runs contain '<', '\"' and '=' bytes"),
        ("csiso2022", "is not ASCII-compatible: its shifted runs contain '<', '\"' and '=' bytes"),
        ("utf-7", "is not ASCII-compatible: its base64 runs hide characters"),
        ("utf7", "is not ASCII-compatible: its base64 runs hide characters"),
        ("x-ebcdic", "is EBCDIC: its letters and '<' are not ASCII bytes"),
        ("ebcdic", "is EBCDIC: its letters and '<' are not ASCII bytes"),
    ]

    private static let unsupportedLabels: [String: String] = [
        "unicode": "unicode (UTF-16) is not ASCII-compatible: its code units contain '<' and '\"' bytes",
        "csunicode": "csunicode (UCS-2) is not ASCII-compatible: its code units contain '<' and '\"' bytes",
        "unicodefffe": "unicodefffe (UTF-16BE) is not ASCII-compatible: its code units contain '<' and '\"' bytes",
        "unicodefeff": "unicodefeff (UTF-16LE) is not ASCII-compatible: its code units contain '<' and '\"' bytes",
        "iso-10646": "iso-10646 (UCS) is not ASCII-compatible: its code units contain '<' and '\"' bytes",
        "hz-gb-2312": "hz-gb-2312 is not ASCII-compatible: its ~{ runs contain '<', '\"' and '=' bytes",
        "hz": "hz is not ASCII-compatible: its ~{ runs contain '<', '\"' and '=' bytes",
        "unicode-1-1-utf-7": "unicode-1-1-utf-7 is not ASCII-compatible: its base64 runs hide characters",
        "csunicode11utf7": "csunicode11utf7 is not ASCII-compatible: its base64 runs hide characters",
        "x-imap4-modified-utf7": "x-imap4-modified-utf7 is not ASCII-compatible: its base64 runs hide characters",
        "scsu": "scsu is not ASCII-compatible: its compressed runs contain any byte",
        "bocu-1": "bocu-1 is not ASCII-compatible: its compressed runs contain any byte",
        "replacement": "replacement is the WHATWG label for unsafe encodings",
        "utf-ebcdic": "utf-ebcdic is EBCDIC: its letters and '<' are not ASCII bytes",
    ]

    /// IBM EBCDIC code page numbers (as in `ibm037`, `cp500`, `ibm-1047`, `ibm01140`).
    private static let ebcdicCodePages: Set<Int> = [
        37, 273, 277, 278, 280, 284, 285, 290, 297, 420, 423, 424, 500, 870, 871, 875, 880, 905, 918,
        1025, 1026, 1047, 1140, 1141, 1142, 1143, 1144, 1145, 1146, 1147, 1148, 1149,
    ]

    private static func isEBCDIC(_ name: String) -> Bool {
        for prefix in ["csibm", "ibm-", "ibm", "cp-", "cp"] where name.hasPrefix(prefix) {
            let digits = name.dropFirst(prefix.count)
            guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy(\.isASCII), let number = Int(digits) else {
                return false
            }
            return ebcdicCodePages.contains(number)
        }
        return false
    }
}

/// The HTML `<meta>` charset declaration of a document.
package enum MetaCharset {
    /// Finds the charset an HTML document declares in a `<meta>` element.
    ///
    /// Follows the WHATWG HTML "prescan a byte stream to determine its encoding" algorithm
    /// (§13.2.3.2) over the first 1024 bytes: comments and other tags are skipped,
    /// `<meta charset=…>` and `<meta http-equiv="content-type" content="…charset=…">` are
    /// recognised, duplicate attributes ignored. As the algorithm requires, a declared `utf-16`
    /// variant is reported as `utf-8` (the declaration could not have been read as ASCII
    /// otherwise), and `x-user-defined` as `windows-1252`.
    /// - Parameter bytes: the decoded HTML, or its start.
    /// - Returns: the label, trimmed and lowercased; `nil` when none is declared in the first
    ///   1024 bytes.
    static func prescan(_ bytes: [UInt8]) -> String? {
        // Safe: the pointer is used only during the call.
        bytes.withUnsafeBufferPointer { prescan($0) }
    }

    /// ``prescan(_:)`` of bytes held elsewhere.
    package static func prescan(_ buffer: UnsafeBufferPointer<UInt8>) -> String? {
        // Safe: a prefix of `buffer`, used only while this call runs.
        var scanner = PrescanScanner(input: UnsafeBufferPointer(rebasing: buffer.prefix(1024)))
        return scanner.run()
    }
}

/// The WHATWG prescan state machine over a byte buffer.
private struct PrescanScanner {
    let input: UnsafeBufferPointer<UInt8>
    var position = 0

    init(input: UnsafeBufferPointer<UInt8>) {
        self.input = input
    }

    private var count: Int { input.count }

    private func matches(_ ascii: String, at offset: Int, caseInsensitive: Bool = true) -> Bool {
        var index = offset
        for expected in ascii.utf8 {
            guard index < count else { return false }
            let byte = caseInsensitive ? MIMEBytes.lowercased(input[index]) : input[index]
            guard byte == expected else { return false }
            index += 1
        }
        return true
    }

    private static func isSpaceOrSlash(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x09, 0x0A, 0x0C, 0x0D, 0x20, 0x2F: true
        default: false
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x09, 0x0A, 0x0C, 0x0D, 0x20: true
        default: false
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
    }

    mutating func run() -> String? {
        while position < count {
            if matches("<!--", at: position) {
                // Ends at the first "-->"; its dashes may be those of "<!--".
                var index = position + 2
                while index + 2 < count, !matches("-->", at: index) { index += 1 }
                guard index + 2 < count else { return nil }
                position = index + 3
            } else if matches("<meta", at: position), position + 5 < count, Self.isSpaceOrSlash(input[position + 5]) {
                position += 6
                if let label = readMeta() { return label }
            } else if input[position] == UInt8(ascii: "<"), position + 1 < count,
                      Self.isLetter(input[position + 1])
                        || (input[position + 1] == UInt8(ascii: "/") && position + 2 < count
                            && Self.isLetter(input[position + 2])) {
                while position < count, !Self.isSpace(input[position]), input[position] != UInt8(ascii: ">") {
                    position += 1
                }
                while readAttribute() != nil {}
                position += 1
            } else if input[position] == UInt8(ascii: "<"), position + 1 < count,
                      [UInt8(ascii: "!"), UInt8(ascii: "/"), UInt8(ascii: "?")].contains(input[position + 1]) {
                while position < count, input[position] != UInt8(ascii: ">") { position += 1 }
                position += 1
            } else {
                position += 1
            }
        }
        return nil
    }

    /// Reads a `<meta>` element's attributes; returns its charset when it declares a usable one.
    private mutating func readMeta() -> String? {
        var seen: [[UInt8]] = []
        var gotPragma = false
        var needPragma: Bool? = nil
        var charset: [UInt8]? = nil
        while let (name, value) = readAttribute() {
            if seen.contains(name) { continue }
            seen.append(name)
            switch name {
            case Array("http-equiv".utf8):
                if value == Array("content-type".utf8) { gotPragma = true }
            case Array("content".utf8):
                if charset == nil, let extracted = Self.extractCharset(value) {
                    charset = extracted
                    needPragma = true
                }
            case Array("charset".utf8):
                charset = value
                needPragma = false
            default:
                break
            }
        }
        guard let needPragma, let charset else { return nil }
        if needPragma, !gotPragma { return nil }
        var label = MIMEBytes.text(charset)
        label = FixedLabel.normalize(label)
        return label.isEmpty ? nil : label
    }

    private enum FixedLabel {
        static func normalize(_ label: String) -> String {
            let name = CharsetFamily.normalizedLabel(label)
            if ["utf-16", "utf-16le", "utf-16be", "unicodefffe", "unicodefeff", "unicode", "csunicode",
                "iso-10646-ucs-2", "ucs-2"].contains(name) {
                return "utf-8"
            }
            if name == "x-user-defined" { return "windows-1252" }
            return name
        }
    }

    /// "Get an attribute" from the prescan algorithm: names and values are ASCII-lowercased.
    private mutating func readAttribute() -> (name: [UInt8], value: [UInt8])? {
        while position < count, Self.isSpaceOrSlash(input[position]) { position += 1 }
        guard position < count, input[position] != UInt8(ascii: ">") else { return nil }
        var name: [UInt8] = []
        var value: [UInt8] = []
        // Name.
        while true {
            guard position < count else { return nil }
            let byte = input[position]
            if byte == MIMEBytes.equals, !name.isEmpty {
                position += 1
                break
            }
            if Self.isSpace(byte) {
                while position < count, Self.isSpace(input[position]) { position += 1 }
                guard position < count else { return nil }
                guard input[position] == MIMEBytes.equals else { return (name, []) }
                position += 1
                break
            }
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">") { return (name, []) }
            name.append(MIMEBytes.lowercased(byte))
            position += 1
        }
        // Value.
        while position < count, Self.isSpace(input[position]) { position += 1 }
        guard position < count else { return nil }
        let first = input[position]
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            position += 1
            while true {
                guard position < count else { return nil }
                let byte = input[position]
                position += 1
                if byte == first { return (name, value) }
                value.append(MIMEBytes.lowercased(byte))
            }
        }
        if first == UInt8(ascii: ">") { return (name, []) }
        while true {
            guard position < count else { return nil }
            let byte = input[position]
            if Self.isSpace(byte) || byte == UInt8(ascii: ">") { return (name, value) }
            value.append(MIMEBytes.lowercased(byte))
            position += 1
        }
    }

    /// "Extracting a character encoding from a meta element" (WHATWG HTML §2.5.x) on a
    /// lowercased `content` value.
    private static func extractCharset(_ content: [UInt8]) -> [UInt8]? {
        let keyword = Array("charset".utf8)
        var position = 0
        let count = content.count
        while true {
            // Find "charset".
            var found = -1
            var index = position
            while index + keyword.count <= count {
                if Array(content[index..<(index + keyword.count)]) == keyword {
                    found = index
                    break
                }
                index += 1
            }
            guard found >= 0 else { return nil }
            position = found + keyword.count
            while position < count, isSpace(content[position]) { position += 1 }
            guard position < count, content[position] == MIMEBytes.equals else { continue }
            position += 1
            while position < count, isSpace(content[position]) { position += 1 }
            guard position < count else { return nil }
            let first = content[position]
            if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
                guard let close = content[(position + 1)...].firstIndex(of: first) else { return nil }
                return Array(content[(position + 1)..<close])
            }
            var end = position
            while end < count, !isSpace(content[end]), content[end] != UInt8(ascii: ";") { end += 1 }
            return Array(content[position..<end])
        }
    }
}
