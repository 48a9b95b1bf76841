/// One header field as written in a header block (RFC 5322 §2.2), folding and all.
///
/// `range` is in the coordinates of the block passed to ``HeaderBlock/parse(_:)``.
package struct HeaderField: Sendable, Equatable {
    /// The bytes before the first colon, as written (may include whitespace before the colon).
    /// Empty for a line that has no colon or that continues nothing (see ``HeaderBlock``).
    var rawName: [UInt8]
    /// The whole field: its first line, its continuation lines and its final line ending.
    package var range: Range<Int>
    /// The bytes after the colon up to the end of the field, folding included, final line ending
    /// excluded. For a field without a name: the whole field without its final line ending.
    var rawValue: [UInt8]
    /// The field's own final line ending: CRLF, LF, or empty at the end of the block.
    var lineEnding: [UInt8]

    /// Whether the field's name, trimmed of spaces and tabs, equals `lowercaseName` ignoring
    /// ASCII case (RFC 5322 §1.2.2: field names are case-insensitive).
    /// - Parameter lowercaseName: the name to compare with, in lowercase MIMEBytes.
    package func name(is lowercaseName: String) -> Bool {
        var lower = 0
        var upper = rawName.count
        while lower < upper, MIMEBytes.isWhitespace(rawName[lower]) { lower += 1 }
        while upper > lower, MIMEBytes.isWhitespace(rawName[upper - 1]) { upper -= 1 }
        var index = lower
        for expected in lowercaseName.utf8 {
            guard index < upper, MIMEBytes.lowercased(rawName[index]) == expected else { return false }
            index += 1
        }
        return index == upper
    }

    /// The field name trimmed of whitespace, for diagnostics.
    var name: String {
        MIMEBytes.text(MIMEBytes.trimmingWhitespace(rawName))
    }

    /// The value unfolded and trimmed, as text.
    ///
    /// Unfolding (RFC 5322 §2.2.3) removes each CRLF or LF that is immediately followed by a
    /// space or tab, keeping the whitespace; then leading and trailing whitespace is trimmed.
    /// Bytes are decoded as UTF-8 (RFC 6532) when they are valid UTF-8, else as ISO-8859-1, so
    /// no byte is ever lost to a replacement character.
    package var unfoldedValue: String {
        var unfolded: [UInt8] = []
        unfolded.reserveCapacity(rawValue.count)
        var index = 0
        let count = rawValue.count
        while index < count {
            let byte = rawValue[index]
            if byte == MIMEBytes.cr, index + 2 < count, rawValue[index + 1] == MIMEBytes.lf,
               isFoldingWhitespace(rawValue[index + 2]) {
                index += 2
                continue
            }
            if byte == MIMEBytes.lf, index + 1 < count, isFoldingWhitespace(rawValue[index + 1]) {
                index += 1
                continue
            }
            unfolded.append(byte)
            index += 1
        }
        return MIMEBytes.text(MIMEBytes.trimmingWhitespace(unfolded))
    }

    /// WSP (RFC 5234 appendix B.1): the only bytes that make a line a continuation.
    private func isFoldingWhitespace(_ byte: UInt8) -> Bool {
        byte == MIMEBytes.space || byte == MIMEBytes.tab
    }
}

/// Splits a raw header block into fields.
package enum HeaderBlock {
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
    package static func parse(_ block: [UInt8]) -> [HeaderField] {
        var fields: [HeaderField] = []
        // Safe: `input` is used only inside the closure, and every index is checked against `count` before it
        // is read.
        block.withUnsafeBufferPointer { input in
            let count = input.count
            var fieldStart = -1
            var colonOffset = -1
            var lineStart = 0

            func finishField(end: Int) {
                guard fieldStart >= 0 else { return }
                var valueEnd = end
                var ending: [UInt8] = []
                if valueEnd > fieldStart, input[valueEnd - 1] == MIMEBytes.lf {
                    valueEnd -= 1
                    if valueEnd > fieldStart, input[valueEnd - 1] == MIMEBytes.cr {
                        valueEnd -= 1
                        ending = [MIMEBytes.cr, MIMEBytes.lf]
                    } else {
                        ending = [MIMEBytes.lf]
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
                while lineEnd < count, input[lineEnd] != MIMEBytes.lf { lineEnd += 1 }
                if lineEnd < count { lineEnd += 1 }
                let first = input[lineStart]
                let isContinuation = (first == MIMEBytes.space || first == MIMEBytes.tab) && fieldStart >= 0
                if !isContinuation {
                    finishField(end: lineStart)
                    fieldStart = lineStart
                    colonOffset = -1
                    // A field that starts with whitespace (a continuation of nothing) has no name.
                    if first != MIMEBytes.space, first != MIMEBytes.tab {
                        var index = lineStart
                        while index < lineEnd, input[index] != MIMEBytes.colon, input[index] != MIMEBytes.lf { index += 1 }
                        if index < lineEnd, input[index] == MIMEBytes.colon { colonOffset = index }
                    }
                }
                lineStart = lineEnd
            }
            finishField(end: count)
        }
        return fields
    }
}

extension HeaderBlock {
    /// Whether `line` begins a header field as RFC 5322 §2.2 writes one: a field name of printable
    /// US-ASCII other than `:` (`ftext`, 33-57 and 59-126), then `:`; blanks between the name and
    /// the colon are accepted (the obsolete syntax of §4.5.4, which readers take).
    static func isFieldLine<C: Collection>(_ line: C) -> Bool where C.Element == UInt8 {
        var sawName = false
        var sawBlankAfterName = false
        for byte in line {
            if byte == MIMEBytes.colon { return sawName }
            if byte == MIMEBytes.space || byte == MIMEBytes.tab {
                guard sawName else { return false }
                sawBlankAfterName = true
            } else if byte >= 33 && byte <= 126 {
                guard !sawBlankAfterName else { return false }
                sawName = true
            } else {
                return false
            }
        }
        return false
    }

    /// Whether `line` can belong to a header block: a field line (``isFieldLine(_:)``) or a folded
    /// continuation, which starts with a space or tab (RFC 5322 §2.2.3). Any other line cannot be
    /// part of the header section; RFC 5322 §2.1 separates the body with an empty line, and
    /// readers that find such a line without one take it as the start of the body (Python's
    /// `email` feedparser, mime4j with `setMalformedHeaderStartsBody`; issue 16, item 12).
    static func canBelongToHeader<C: Collection>(_ line: C) -> Bool where C.Element == UInt8 {
        guard let first = line.first else { return true }
        return first == MIMEBytes.space || first == MIMEBytes.tab || isFieldLine(line)
    }

    /// The offset of the first line of `block` that cannot belong to a header block
    /// (``canBelongToHeader(_:)``), or nil. At the top of a message, a first line `From ` (an mbox
    /// envelope line, which readers skip) does not count.
    static func firstMalformedLine(in block: [UInt8], isTop: Bool) -> Int? {
        var lineStart = 0
        while lineStart < block.count {
            var lineEnd = lineStart
            while lineEnd < block.count, block[lineEnd] != MIMEBytes.lf { lineEnd += 1 }
            let line = block[lineStart..<lineEnd]
            let isEnvelope = isTop && lineStart == 0 && line.starts(with: "From ".utf8)
            if !isEnvelope, !canBelongToHeader(line) { return lineStart }
            lineStart = lineEnd + 1
        }
        return nil
    }

    /// Whether `line` starts HTML markup (after spaces and tabs): `<` and a letter (a tag) or `!`
    /// (`<!DOCTYPE`, a comment). What makes a body that follows a header block without an empty
    /// line clearly HTML.
    static func startsHTMLMarkup<C: Collection>(_ line: C) -> Bool where C.Element == UInt8 {
        var iterator = line.makeIterator()
        var byte = iterator.next()
        while byte == MIMEBytes.space || byte == MIMEBytes.tab { byte = iterator.next() }
        guard byte == UInt8(ascii: "<"), let next = iterator.next() else { return false }
        return (next | 0x20) >= UInt8(ascii: "a") && (next | 0x20) <= UInt8(ascii: "z") || next == UInt8(ascii: "!")
    }
}

extension MIMEBytes {
    /// Whether `byte` is a space, tab, CR or LF.
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab || byte == cr || byte == lf
    }

    /// `byte` with ASCII uppercase letters lowercased.
    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// `bytes` without leading and trailing spaces, tabs, CRs and LFs.
    static func trimmingWhitespace(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        var lower = bytes.startIndex
        var upper = bytes.endIndex
        while lower < upper, isWhitespace(bytes[lower]) { lower += 1 }
        while upper > lower, isWhitespace(bytes[upper - 1]) { upper -= 1 }
        return bytes[lower..<upper]
    }

    /// `text` without leading and trailing spaces, tabs, CRs and LFs.
    static func trimmingWhitespace<S: StringProtocol>(_ text: S) -> String {
        let utf8 = Array(text.utf8)
        return String(decoding: trimmingWhitespace(utf8), as: UTF8.self)
    }

    /// Header bytes as text: UTF-8 when valid (RFC 6532), else ISO-8859-1, which maps every
    /// byte, so no byte is lost to a replacement character.
    static func text<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
        return String(scalars)
    }
}
