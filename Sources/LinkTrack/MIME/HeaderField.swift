/// One header field as written in a header block (RFC 5322 §2.2), folding and all.
///
/// `range` is in the coordinates of the block passed to ``HeaderBlock/parse(_:)``.
struct HeaderField: Sendable, Equatable {
    /// The bytes before the first colon, as written (may include whitespace before the colon).
    /// Empty for a line that has no colon or that continues nothing (see ``HeaderBlock``).
    var rawName: [UInt8]
    /// The whole field: its first line, its continuation lines and its final line ending.
    var range: Range<Int>
    /// The bytes after the colon up to the end of the field, folding included, final line ending
    /// excluded. For a field without a name: the whole field without its final line ending.
    var rawValue: [UInt8]
    /// The field's own final line ending: CRLF, LF, or empty at the end of the block.
    var lineEnding: [UInt8]

    /// Whether the field's name, trimmed of spaces and tabs, equals `lowercaseName` ignoring
    /// ASCII case (RFC 5322 §1.2.2: field names are case-insensitive).
    /// - Parameter lowercaseName: the name to compare with, in lowercase ASCII.
    func name(is lowercaseName: String) -> Bool {
        var lower = 0
        var upper = rawName.count
        while lower < upper, isWhitespace(rawName[lower]) { lower += 1 }
        while upper > lower, isWhitespace(rawName[upper - 1]) { upper -= 1 }
        var index = lower
        for expected in lowercaseName.utf8 {
            guard index < upper, asciiLowercased(rawName[index]) == expected else { return false }
            index += 1
        }
        return index == upper
    }

    /// The field name trimmed of whitespace, for diagnostics.
    var name: String {
        headerString(rawName.trimmingWhitespace())
    }

    /// The value unfolded and trimmed, as text.
    ///
    /// Unfolding (RFC 5322 §2.2.3) removes each CRLF or LF that is immediately followed by a
    /// space or tab, keeping the whitespace; then leading and trailing whitespace is trimmed.
    /// Bytes are decoded as UTF-8 (RFC 6532) when they are valid UTF-8, else as ISO-8859-1, so
    /// no byte is ever lost to a replacement character.
    var unfoldedValue: String {
        var unfolded: [UInt8] = []
        unfolded.reserveCapacity(rawValue.count)
        var index = 0
        let count = rawValue.count
        while index < count {
            let byte = rawValue[index]
            if byte == ASCII.cr, index + 2 < count, rawValue[index + 1] == ASCII.lf,
               isWhitespace(rawValue[index + 2]) {
                index += 2
                continue
            }
            if byte == ASCII.lf, index + 1 < count, isWhitespace(rawValue[index + 1]) {
                index += 1
                continue
            }
            unfolded.append(byte)
            index += 1
        }
        return headerString(unfolded.trimmingWhitespace())
    }
}

/// Splits a raw header block into fields.
enum HeaderBlock {
    /// Splits a raw header block into fields (RFC 5322 §2.2, §3.2.2 folding).
    ///
    /// A line starting with a space or tab continues the field before it. Tolerance: a line
    /// without a colon, or a continuation line with no field before it, is kept as a field with
    /// an empty ``HeaderField/rawName`` (never dropped), and its own continuation lines join it.
    /// Lines end at LF, with or without CR before it; a bare CR is an ordinary byte.
    ///
    /// Concatenating `block[field.range]` over the fields, in order, gives back `block` exactly.
    /// - Parameter block: the header block, up to but excluding the empty line that ends it.
    /// - Returns: the fields in order; none for an empty block.
    static func parse(_ block: [UInt8]) -> [HeaderField] {
        var fields: [HeaderField] = []
        block.withUnsafeBufferPointer { input in
            let count = input.count
            var fieldStart = -1
            var colonOffset = -1
            var lineStart = 0

            func finishField(end: Int) {
                guard fieldStart >= 0 else { return }
                var valueEnd = end
                var ending: [UInt8] = []
                if valueEnd > fieldStart, input[valueEnd - 1] == ASCII.lf {
                    valueEnd -= 1
                    if valueEnd > fieldStart, input[valueEnd - 1] == ASCII.cr {
                        valueEnd -= 1
                        ending = [ASCII.cr, ASCII.lf]
                    } else {
                        ending = [ASCII.lf]
                    }
                }
                let name = colonOffset >= 0 ? Array(input[fieldStart..<colonOffset]) : []
                let valueStart = colonOffset >= 0 ? colonOffset + 1 : fieldStart
                fields.append(HeaderField(
                    rawName: name,
                    range: fieldStart..<end,
                    rawValue: Array(input[valueStart..<valueEnd]),
                    lineEnding: ending))
            }

            while lineStart < count {
                var lineEnd = lineStart
                while lineEnd < count, input[lineEnd] != ASCII.lf { lineEnd += 1 }
                if lineEnd < count { lineEnd += 1 }
                let first = input[lineStart]
                let isContinuation = (first == ASCII.space || first == ASCII.tab) && fieldStart >= 0
                if !isContinuation {
                    finishField(end: lineStart)
                    fieldStart = lineStart
                    colonOffset = -1
                    // A field that starts with whitespace (a continuation of nothing) has no name.
                    if first != ASCII.space, first != ASCII.tab {
                        var index = lineStart
                        while index < lineEnd, input[index] != ASCII.colon, input[index] != ASCII.lf { index += 1 }
                        if index < lineEnd, input[index] == ASCII.colon { colonOffset = index }
                    }
                }
                lineStart = lineEnd
            }
            finishField(end: count)
        }
        return fields
    }
}

@inline(__always)
private func isWhitespace(_ byte: UInt8) -> Bool {
    byte == ASCII.space || byte == ASCII.tab || byte == ASCII.cr || byte == ASCII.lf
}

@inline(__always)
func asciiLowercased(_ byte: UInt8) -> UInt8 {
    byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
}

extension Array where Element == UInt8 {
    /// The bytes without leading and trailing spaces, tabs, CRs and LFs.
    func trimmingWhitespace() -> ArraySlice<UInt8> {
        var lower = startIndex
        var upper = endIndex
        while lower < upper, isWhitespace(self[lower]) { lower += 1 }
        while upper > lower, isWhitespace(self[upper - 1]) { upper -= 1 }
        return self[lower..<upper]
    }
}

/// Header bytes as text: UTF-8 when valid (RFC 6532), else ISO-8859-1, which maps every byte.
func headerString<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    if let text = String(validating: bytes, as: UTF8.self) { return text }
    var scalars = String.UnicodeScalarView()
    for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
    return String(scalars)
}
