/// A parsed Content-Type field value (RFC 2045 §5.1, RFC 2231 parameters).
package struct ContentType: Sendable, Equatable {
    /// The media type, lowercased. The RFC 2045 §5.2 default (`text/plain`) for an absent or
    /// unparseable field is the caller's decision.
    package var type: String
    /// The subtype, lowercased.
    package var subtype: String
    /// Parameters by lowercased name; values unquoted and RFC 2231-decoded.
    var parameters: [String: String]

    package init(type: String, subtype: String, parameters: [String: String] = [:]) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    /// Parses a Content-Type value such as `text/html; charset="utf-8"`.
    ///
    /// Tolerant, as real mail requires (see ``MIMEParameterParser`` for the parameter rules):
    /// comments and whitespace anywhere between tokens, `type / subtype` with spaces, a missing
    /// `;` before a parameter.
    /// - Parameter value: the unfolded field value.
    /// - Returns: `nil` when there is no `type/subtype` with both parts non-empty.
    package init?(parsing value: String) {
        var parser = MIMEParameterParser(value)
        guard let type = parser.readToken(), !type.isEmpty else { return nil }
        parser.skipCommentsAndWhitespace()
        guard parser.consume(UInt8(ascii: "/")) else { return nil }
        parser.skipCommentsAndWhitespace()
        guard let subtype = parser.readToken(), !subtype.isEmpty else { return nil }
        self.type = type.lowercased()
        self.subtype = subtype.lowercased()
        self.parameters = parser.readParameters()
    }

    /// The value of parameter `name` (case-insensitive).
    func parameter(_ name: String) -> String? {
        parameters[name.lowercased()]
    }

    /// The multipart boundary (RFC 2046 §5.1.1), exactly as given; `nil` when absent or empty.
    package var boundary: String? {
        guard let boundary = parameter("boundary"), !boundary.isEmpty else { return nil }
        return boundary
    }

    /// The charset label, lowercased and trimmed; `nil` when absent or empty.
    package var charset: String? {
        guard let label = parameter("charset") else { return nil }
        let trimmed = MIMEBytes.trimmingWhitespace(label).lowercased()
        return trimmed.isEmpty ? nil : trimmed
    }

    package var isMultipart: Bool { type == "multipart" }
}

/// How an entity's `Content-Type` fields read together (issue 16, item 12).
///
/// Python's `email` (`Message.get`), MimeKit (`MimeParser.GetContentType`) and mime4j
/// (`DefaultBodyDescriptorBuilder`, which keeps the first field) all take the first field; an
/// unparseable first field makes the entity `text/plain` (RFC 2045 §5.2) for Python and mime4j.
/// That reading is unambiguous when every later field either names the same media type (type and
/// subtype, the same boundary where both give one, the same charset where both give one) or names
/// none at all (`Content-Type: charset=utf-8`). A later field that names another media type is a
/// conflict: readers that take the last field see another entity, so the entity is not changed.
enum ContentTypeReading: Equatable {
    /// The entity's type: the first field's, with the charset of the first field that gives one.
    case type(ContentType)
    /// Two fields name different media types; the values, for the warning.
    case conflict([String])

    /// Reads `values`, the unfolded `Content-Type` values in order; `fallback` when there is none
    /// or the first does not parse.
    init(values: [String], fallback: ContentType) {
        guard let firstValue = values.first, var first = ContentType(parsing: firstValue) else {
            self = .type(fallback)
            return
        }
        for value in values.dropFirst() {
            guard let other = ContentType(parsing: value) else { continue }
            let sameType = other.type == first.type && other.subtype == first.subtype
            let sameBoundary = first.boundary == nil || other.boundary == nil || first.boundary == other.boundary
            let sameCharset = first.charset == nil || other.charset == nil || first.charset == other.charset
            guard sameType, sameBoundary, sameCharset else {
                self = .conflict(values)
                return
            }
            if first.charset == nil, let charset = other.charset { first.parameters["charset"] = charset }
        }
        self = .type(first)
    }
}

/// A parsed Content-Disposition field value (RFC 2183).
package struct ContentDisposition: Sendable, Equatable {
    /// The disposition type, lowercased: `inline`, `attachment`, …
    package var disposition: String
    /// Parameters by lowercased name; values unquoted and RFC 2231-decoded.
    var parameters: [String: String]

    init(disposition: String, parameters: [String: String] = [:]) {
        self.disposition = disposition
        self.parameters = parameters
    }

    /// Parses a Content-Disposition value such as `attachment; filename="a.pdf"`.
    /// - Returns: `nil` when there is no disposition type.
    package init?(parsing value: String) {
        var parser = MIMEParameterParser(value)
        guard let disposition = parser.readToken(), !disposition.isEmpty else { return nil }
        self.disposition = disposition.lowercased()
        self.parameters = parser.readParameters()
    }
}

/// A Content-Transfer-Encoding (RFC 2045 §6.1).
package enum ContentTransferEncoding: Sendable, Equatable {
    case sevenBit, eightBit, binary, quotedPrintable, base64
    /// Any other value, lowercased and trimmed. Callers treat it as an identity encoding.
    case other(String)

    /// Reads a Content-Transfer-Encoding field value.
    ///
    /// Case-insensitive (RFC 2045 §6.1) after trimming whitespace. Tolerance: anything from a
    /// `;` or a `(` comment on is dropped (`base64; charset=x`, `7bit (plain)`). An absent or
    /// empty value is `7bit`, the RFC 2045 §6.1 default; misspellings such as `7-bit` or `8bits`
    /// are ``other(_:)``.
    /// - Parameter headerValue: the unfolded field value, or `nil` when the field is absent.
    package init(headerValue: String?) {
        guard let headerValue else { self = .sevenBit; return }
        var value = Substring(headerValue)
        if let cut = value.firstIndex(where: { $0 == ";" || $0 == "(" }) { value = value[..<cut] }
        let name = MIMEBytes.trimmingWhitespace(value).lowercased()
        switch name {
        case "", "7bit": self = .sevenBit
        case "8bit": self = .eightBit
        case "binary": self = .binary
        case "quoted-printable": self = .quotedPrintable
        case "base64": self = .base64
        default: self = .other(name)
        }
    }

    /// The encoding's name as RFC 2045 §6.1 writes it (lowercase), for messages.
    var name: String {
        switch self {
        case .sevenBit: "7bit"
        case .eightBit: "8bit"
        case .binary: "binary"
        case .quotedPrintable: "quoted-printable"
        case .base64: "base64"
        case .other(let name): name
        }
    }
}

/// Reads the tokens and parameter list of a MIME structured field (RFC 2045 §5.1, RFC 2231).
///
/// Tolerance, each seen in real mail:
/// - whitespace (including CR and LF) and comments `(…)` (nested, with `\` escapes; RFC 5322
///   §3.2.2) are skipped between tokens;
/// - empty parameters and extra `;`s are skipped; a parameter may follow without a `;`;
/// - a parameter without `=` is ignored, up to the next `;`;
/// - a quoted string with `\` escapes (RFC 5322 §3.2.4); a missing closing quote runs to the end;
/// - an unquoted value may contain any byte but `;`, including `=`, `/`, `?` and raw UTF-8
///   (`boundary=----=_Part_1`, RFC 6532). When text other than a comment follows it before the
///   next `;` (`name=my file.pdf`), the value is everything up to that `;`, trimmed: missing
///   quotes;
/// - the first occurrence of a parameter wins; an RFC 2231 extended value (`name*=`,
///   `name*0=`, …) wins over a plain one of the same name;
/// - RFC 2231 continuations are joined in section order, stopping at the first missing section;
///   `charset'language'%XX` values are percent-decoded (an invalid `%` escape is kept literally)
///   and decoded as UTF-8, or ISO-8859-1 when the charset says so or the bytes are not UTF-8.
struct MIMEParameterParser {
    private let bytes: [UInt8]
    private var index = 0

    init(_ value: String) {
        bytes = Array(value.utf8)
    }

    private var atEnd: Bool { index >= bytes.count }

    mutating func consume(_ byte: UInt8) -> Bool {
        guard !atEnd, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    mutating func skipCommentsAndWhitespace() {
        while !atEnd {
            let byte = bytes[index]
            if byte == MIMEBytes.space || byte == MIMEBytes.tab || byte == MIMEBytes.cr || byte == MIMEBytes.lf {
                index += 1
            } else if byte == UInt8(ascii: "(") {
                skipComment()
            } else {
                return
            }
        }
    }

    private mutating func skipComment() {
        var depth = 0
        while !atEnd {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\\"): if !atEnd { index += 1 }
            case UInt8(ascii: "("): depth += 1
            case UInt8(ascii: ")"):
                depth -= 1
                if depth == 0 { return }
            default: break
            }
        }
    }

    /// Reads an RFC 2045 token, after skipping whitespace and comments. Tolerance: only
    /// whitespace, `;`, `/`, `=`, `(` and `"` end it, so stray specials stay in the token.
    mutating func readToken() -> String? {
        skipCommentsAndWhitespace()
        let start = index
        while !atEnd, !Self.endsToken(bytes[index]) { index += 1 }
        return index > start ? MIMEBytes.text(bytes[start..<index]) : nil
    }

    private static func endsToken(_ byte: UInt8) -> Bool {
        switch byte {
        case MIMEBytes.space, MIMEBytes.tab, MIMEBytes.cr, MIMEBytes.lf, UInt8(ascii: ";"), UInt8(ascii: "/"),
             MIMEBytes.equals, UInt8(ascii: "("), UInt8(ascii: "\""):
            true
        default:
            false
        }
    }

    /// An RFC 2231 section of a parameter value.
    private struct Section {
        var value: [UInt8]
        var isExtended: Bool
    }

    /// Reads `;`-separated parameters to the end of the value.
    /// - Returns: the parameters by lowercased name.
    mutating func readParameters() -> [String: String] {
        var plain: [String: String] = [:]
        var sectioned: [String: [Int: Section]] = [:]
        var sectionedOrder: [String] = []
        while true {
            skipCommentsAndWhitespace()
            while consume(UInt8(ascii: ";")) { skipCommentsAndWhitespace() }
            if atEnd { break }
            let nameStart = index
            while !atEnd, !Self.endsToken(bytes[index]) { index += 1 }
            let rawName = Array(bytes[nameStart..<index]).map(MIMEBytes.lowercased)
            skipCommentsAndWhitespace()
            guard !rawName.isEmpty, consume(MIMEBytes.equals) else {
                skipToSemicolon()
                continue
            }
            let value = readValue()
            // RFC 2231 §3, §4: name*, name*N, name*N*.
            if let star = rawName.firstIndex(of: UInt8(ascii: "*")) {
                let baseName = MIMEBytes.text(rawName[..<star])
                let suffix = rawName[(star + 1)...]
                var section: Int? = nil
                var isExtended = false
                if suffix.isEmpty {
                    section = 0
                    isExtended = true
                } else {
                    var digits = suffix[...]
                    if digits.last == UInt8(ascii: "*") {
                        isExtended = true
                        digits = digits.dropLast()
                    }
                    if !digits.isEmpty, digits.count <= 4,
                       digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                        section = Int(MIMEBytes.text(digits))
                    }
                }
                if let section, !baseName.isEmpty {
                    if sectioned[baseName] == nil { sectionedOrder.append(baseName) }
                    if sectioned[baseName, default: [:]][section] == nil {
                        sectioned[baseName, default: [:]][section] = Section(value: value, isExtended: isExtended)
                    }
                    continue
                }
            }
            let name = MIMEBytes.text(rawName)
            if plain[name] == nil { plain[name] = MIMEBytes.text(value) }
        }
        for name in sectionedOrder {
            guard let sections = sectioned[name], let joined = Self.join(sections) else { continue }
            plain[name] = joined
        }
        return plain
    }

    private mutating func skipToSemicolon() {
        while !atEnd, bytes[index] != UInt8(ascii: ";") {
            if bytes[index] == UInt8(ascii: "\"") {
                _ = readQuotedString()
            } else {
                index += 1
            }
        }
    }

    /// Reads a parameter value after its `=`.
    private mutating func readValue() -> [UInt8] {
        skipCommentsAndWhitespace()
        if !atEnd, bytes[index] == UInt8(ascii: "\"") {
            let value = readQuotedString()
            skipToSemicolon()
            return value
        }
        let start = index
        while !atEnd, !Self.endsUnquotedValue(bytes[index]) { index += 1 }
        let tokenEnd = index
        skipCommentsAndWhitespace()
        if atEnd || bytes[index] == UInt8(ascii: ";") {
            return Array(bytes[start..<tokenEnd])
        }
        // Missing quotes: the value runs to the next ";".
        while !atEnd, bytes[index] != UInt8(ascii: ";") { index += 1 }
        var end = index
        while end > start, [MIMEBytes.space, MIMEBytes.tab, MIMEBytes.cr, MIMEBytes.lf].contains(bytes[end - 1]) { end -= 1 }
        return Array(bytes[start..<end])
    }

    private static func endsUnquotedValue(_ byte: UInt8) -> Bool {
        switch byte {
        case MIMEBytes.space, MIMEBytes.tab, MIMEBytes.cr, MIMEBytes.lf, UInt8(ascii: ";"), UInt8(ascii: "("): true
        default: false
        }
    }

    /// Reads a quoted string starting at its opening quote; returns its unescaped content.
    private mutating func readQuotedString() -> [UInt8] {
        index += 1
        var value: [UInt8] = []
        while !atEnd {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\"") { return value }
            if byte == UInt8(ascii: "\\"), !atEnd {
                value.append(bytes[index])
                index += 1
            } else {
                value.append(byte)
            }
        }
        return value
    }

    /// Joins RFC 2231 sections 0, 1, … and decodes extended ones.
    private static func join(_ sections: [Int: Section]) -> String? {
        guard sections[0] != nil else { return nil }
        var decoded: [UInt8] = []
        var charset = ""
        var number = 0
        while let section = sections[number] {
            var value = section.value[...]
            if section.isExtended {
                if number == 0 {
                    // RFC 2231 §4: charset'language'value; both may be empty.
                    if let quote = value.firstIndex(of: UInt8(ascii: "'")),
                       let second = value[(quote + 1)...].firstIndex(of: UInt8(ascii: "'")) {
                        charset = MIMEBytes.text(value[..<quote]).lowercased()
                        value = value[(second + 1)...]
                    }
                }
                percentDecode(value, into: &decoded)
            } else {
                decoded.append(contentsOf: value)
            }
            number += 1
        }
        let latin1 = ["iso-8859-1", "latin1", "iso_8859-1", "l1", "us-ascii"]
        if latin1.contains(charset) {
            var scalars = String.UnicodeScalarView()
            for byte in decoded { scalars.append(Unicode.Scalar(byte)) }
            return String(scalars)
        }
        return MIMEBytes.text(decoded)
    }

    private static func percentDecode(_ value: ArraySlice<UInt8>, into decoded: inout [UInt8]) {
        var index = value.startIndex
        while index < value.endIndex {
            let byte = value[index]
            if byte == UInt8(ascii: "%"), index + 2 < value.endIndex,
               let high = QuotedPrintable.hexValue(value[index + 1]),
               let low = QuotedPrintable.hexValue(value[index + 2]) {
                decoded.append(high << 4 | low)
                index += 3
            } else {
                decoded.append(byte)
                index += 1
            }
        }
    }
}
