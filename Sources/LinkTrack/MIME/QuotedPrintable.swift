/// Quoted-printable content transfer encoding (RFC 2045 §6.7), with a splice operation that
/// re-encodes only the logical lines an edit touches and copies every other byte through.
///
/// Coordinates: `rawOffset` is an offset into the encoded (transfer) bytes, `decodedOffset` an
/// offset into the result of ``decode(_:)``.
///
/// Deliberate tolerance when decoding (RFC 2045 §6.7 asks decoders to be robust; Go's
/// `mime/quotedprintable` reader makes the same choices for the stray `=`, lowercase hex and
/// padding):
/// - An `=` not followed by two hex digits nor by (optional whitespace and) a line break is kept
///   as a literal `=`, and the bytes after it are decoded normally (RFC 2045 §6.7 note (2) suggests
///   exactly this).
/// - Hex digits are accepted in either case (`=3d` and `=3D`), although rule #1 requires uppercase.
/// - An `=` followed only by spaces or tabs up to the end of the data is a soft line break: some
///   encoders end a body without a final line break that way.
/// - A bare LF is a line break like CRLF (mail stored with Unix line endings); a bare CR is a
///   literal byte.
/// - Spaces and tabs before a line break, or at the very end of the data, are transport padding
///   and are dropped (rule #3). Whitespace before the `=` of a soft line break is *kept*: that is
///   how an encoder protects trailing whitespace, and it is not at the end of the encoded line.
/// - Bytes that rule #2 forbids literally (controls, 8-bit bytes) are passed through as they are.
enum QuotedPrintable {
    /// The line ending that ends a logical line.
    enum LineEnding: UInt8, Sendable, Equatable {
        /// The last logical line of data that does not end with a line break.
        case none
        case lf
        case crlf

        var bytes: [UInt8] {
            switch self {
            case .none: []
            case .lf: [MIMEBytes.lf]
            case .crlf: [MIMEBytes.cr, MIMEBytes.lf]
            }
        }
    }

    /// A run of physical lines joined by soft line breaks, up to and including its hard line break.
    ///
    /// Every raw byte belongs to exactly one logical line; the lines' `rawRange`s tile the raw body
    /// and their `decodedRange`s tile the decoded body, both in order. The hard line break is part
    /// of both ranges. Only the last line can have an empty `decodedRange` (for example raw `"  "`
    /// or `"=\r\n"` at the end).
    struct LogicalLine: Sendable, Equatable {
        /// The line's bytes in the raw (encoded) body, including its hard line break.
        var rawRange: Range<Int>
        /// The line's bytes in the decoded body, including its hard line break.
        var decodedRange: Range<Int>
        /// The hard line break that ends the line; `.none` only for a last line without one.
        var lineEnding: LineEnding
        /// The ending of the line's first soft line break, `.none` if it has none.
        var softLineEnding: LineEnding
    }

    // MARK: Decoding

    /// Decodes a quoted-printable body tolerantly (see the type's documentation for the list of
    /// tolerated deviations from RFC 2045 §6.7).
    /// - Parameter raw: the encoded body.
    /// - Returns: the decoded bytes; hard line breaks are kept as they are in `raw`.
    static func decode(_ raw: [UInt8]) -> [UInt8] {
        decode(raw, recordingLines: false).decoded
    }

    /// Decodes like ``decode(_:)`` and, in the same pass, records the logical lines.
    /// - Parameter raw: the encoded body.
    /// - Returns: the decoded bytes, and the logical lines in order (none for an empty body).
    static func decodeWithLineMap(_ raw: [UInt8]) -> (decoded: [UInt8], lines: [LogicalLine]) {
        decode(raw, recordingLines: true)
    }

    private static func decode(
        _ raw: [UInt8], recordingLines: Bool
    ) -> (decoded: [UInt8], lines: [LogicalLine]) {
        var lines: [LogicalLine] = []
        // Decoding never grows the data, so the output is written straight into a buffer of the
        // raw size: no per-byte capacity checks.
        let decoded = [UInt8](unsafeUninitializedCapacity: raw.count) { output, initializedCount in
            raw.withUnsafeBufferPointer { input in
                initializedCount = decodeLines(input, into: output, lines: &lines, recordingLines: recordingLines)
            }
        }
        return (decoded, lines)
    }

    /// The decoding loop: writes into `output` (at least `input.count` bytes) and returns the
    /// decoded length.
    ///
    /// Every write is in bounds: each step consumes at least as many raw bytes as it writes
    /// (`=XX` 3 for 1, CRLF 2 for 2, other bytes 1 for 1, soft breaks and padding 0), so the
    /// decoded count never exceeds the raw offset.
    private static func decodeLines(
        _ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>,
        lines: inout [LogicalLine], recordingLines: Bool
    ) -> Int {
        let count = input.count
        var decodedCount = 0
        var lineRawStart = 0
        var lineDecodedStart = 0
        var softLineEnding = LineEnding.none
        // The decoded offset where the current run of literal spaces and tabs began, or -1.
        // Only literal whitespace is padding: `=20` ends the run.
        var paddingStart = -1
        var rawOffset = 0

        while rawOffset < count {
            let byte = input[rawOffset]
            switch byte {
            case MIMEBytes.lf, MIMEBytes.cr:
                let ending: LineEnding
                if byte == MIMEBytes.lf {
                    ending = .lf
                } else if rawOffset + 1 < count, input[rawOffset + 1] == MIMEBytes.lf {
                    ending = .crlf
                } else {
                    // A bare CR is data, not a line break.
                    output[decodedCount] = byte
                    decodedCount += 1
                    paddingStart = -1
                    rawOffset += 1
                    continue
                }
                if paddingStart >= 0 {
                    decodedCount = paddingStart
                    paddingStart = -1
                }
                if ending == .crlf {
                    output[decodedCount] = MIMEBytes.cr
                    decodedCount += 1
                    rawOffset += 1
                }
                output[decodedCount] = MIMEBytes.lf
                decodedCount += 1
                rawOffset += 1
                if recordingLines {
                    lines.append(LogicalLine(
                        rawRange: lineRawStart..<rawOffset, decodedRange: lineDecodedStart..<decodedCount,
                        lineEnding: ending, softLineEnding: softLineEnding))
                    lineRawStart = rawOffset
                    lineDecodedStart = decodedCount
                    softLineEnding = .none
                }
            case MIMEBytes.equals:
                paddingStart = -1
                if rawOffset + 2 < count,
                   let high = hexValue(input[rawOffset + 1]),
                   let low = hexValue(input[rawOffset + 2]) {
                    output[decodedCount] = high << 4 | low
                    decodedCount += 1
                    rawOffset += 3
                    continue
                }
                var next = rawOffset + 1
                while next < count, input[next] == MIMEBytes.space || input[next] == MIMEBytes.tab { next += 1 }
                if next == count {
                    // Tolerance: "=" (and padding) at the very end is a soft line break.
                    rawOffset = count
                } else if input[next] == MIMEBytes.lf {
                    if softLineEnding == .none { softLineEnding = .lf }
                    rawOffset = next + 1
                } else if input[next] == MIMEBytes.cr, next + 1 < count, input[next + 1] == MIMEBytes.lf {
                    if softLineEnding == .none { softLineEnding = .crlf }
                    rawOffset = next + 2
                } else {
                    // Tolerance (RFC 2045 §6.7 note (2)): keep a stray "=" literally.
                    output[decodedCount] = MIMEBytes.equals
                    decodedCount += 1
                    rawOffset += 1
                }
            case MIMEBytes.space, MIMEBytes.tab:
                if paddingStart < 0 { paddingStart = decodedCount }
                output[decodedCount] = byte
                decodedCount += 1
                rawOffset += 1
            default:
                paddingStart = -1
                output[decodedCount] = byte
                decodedCount += 1
                rawOffset += 1
            }
        }
        if paddingStart >= 0 { decodedCount = paddingStart }
        if recordingLines, lineRawStart < count {
            lines.append(LogicalLine(
                rawRange: lineRawStart..<count, decodedRange: lineDecodedStart..<decodedCount,
                lineEnding: .none, softLineEnding: softLineEnding))
        }
        return decodedCount
    }

    // MARK: Encoding

    /// Encodes `decoded` as quoted-printable (RFC 2045 §6.7).
    ///
    /// Every LF in `decoded`, with the CR just before it if there is one, is a hard line break and
    /// is written as it is, so CRLF and LF lines both survive a round trip. Encoded as `=XX`: `=`,
    /// bytes below 0x20 other than TAB (including a CR not followed by LF), bytes from 0x7F on, a
    /// space or tab that ends a line, a `.` at the start of a physical line (so SMTP dot-stuffing
    /// can never see a lone "."; RFC 2049 §3 (8)) and the `F` of a physical line starting with
    /// `From ` (so mbox "From "-quoting cannot alter the body; RFC 2049 §3 (8)).
    /// - Parameters:
    ///   - decoded: the bytes to encode.
    ///   - defaultLineEnding: the soft line break ending for the last line when it has no line
    ///     break of its own; other lines' soft breaks use that line's own hard line break.
    ///   - maxLineLength: the longest physical line, excluding its line ending (RFC 2045: 76).
    ///     Values below 4 are raised to 4, the least that fits `=XX` and a soft break.
    /// - Returns: the encoded bytes. An `=XX` is never split across a soft line break.
    static func encode(_ decoded: [UInt8], defaultLineEnding: [UInt8], maxLineLength: Int = 76) -> [UInt8] {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(decoded.count + decoded.count / 8 + 16)
        encode(decoded, into: &encoded, defaultLineEnding: defaultLineEnding, maxLineLength: maxLineLength)
        return encoded
    }

    /// Appends the encoding of `decoded` to `encoded`; see ``encode(_:defaultLineEnding:maxLineLength:)``.
    static func encode<C: RandomAccessCollection>(
        _ decoded: C, into encoded: inout [UInt8], defaultLineEnding: [UInt8], maxLineLength: Int = 76
    ) where C.Element == UInt8, C.Index == Int {
        let maxLength = max(maxLineLength, 4)
        let done: Void? = decoded.withContiguousStorageIfAvailable { input in
            encodeLines(input, into: &encoded, defaultLineEnding: defaultLineEnding, maxLength: maxLength)
        }
        if done == nil {
            Array(decoded).withUnsafeBufferPointer { input in
                encodeLines(input, into: &encoded, defaultLineEnding: defaultLineEnding, maxLength: maxLength)
            }
        }
    }

    private static func encodeLines(
        _ input: UnsafeBufferPointer<UInt8>, into encoded: inout [UInt8],
        defaultLineEnding: [UInt8], maxLength: Int
    ) {
        var lineStart = 0
        let count = input.count
        while lineStart < count {
            // Find the hard line break: LF, with the CR before it when there is one.
            var lineFeed = lineStart
            while lineFeed < count, input[lineFeed] != MIMEBytes.lf { lineFeed += 1 }
            var contentEnd = lineFeed
            let ending: LineEnding
            if lineFeed == count {
                ending = .none
            } else if lineFeed > lineStart, input[lineFeed - 1] == MIMEBytes.cr {
                ending = .crlf
                contentEnd -= 1
            } else {
                ending = .lf
            }
            encodeLine(
                UnsafeBufferPointer(rebasing: input[lineStart..<contentEnd]), into: &encoded,
                softLineEnding: ending == .none ? defaultLineEnding : ending.bytes, maxLength: maxLength)
            switch ending {
            case .none: break
            case .lf: encoded.append(MIMEBytes.lf)
            case .crlf: encoded.append(MIMEBytes.cr); encoded.append(MIMEBytes.lf)
            }
            lineStart = lineFeed + 1
        }
    }

    /// Encodes one hard line's content (without its line break), inserting soft line breaks.
    private static func encodeLine(
        _ content: UnsafeBufferPointer<UInt8>, into encoded: inout [UInt8],
        softLineEnding: [UInt8], maxLength: Int
    ) {
        let count = content.count
        guard count > 0 else { return }
        // Encoded length of the content, ignoring the start-of-physical-line escapes, which are
        // accounted for when a physical line starts.
        var remaining = 0
        for index in 0..<count {
            remaining += needsEscape(content[index], isLast: index == count - 1) ? 3 : 1
        }
        var column = 0
        for index in 0..<count {
            let byte = content[index]
            let isLast = index == count - 1
            var escape = needsEscape(byte, isLast: isLast)
            let plainLength = escape ? 3 : 1
            if column == 0, !escape, startsPhysicalLineUnsafely(content, at: index) { escape = true }
            let length = escape ? 3 : 1
            // The rest of the line fits without another soft break when everything left fits.
            let restFits = column + remaining + (length - plainLength) <= maxLength
            if !restFits, column + length > maxLength - 1 {
                encoded.append(MIMEBytes.equals)
                encoded.append(contentsOf: softLineEnding)
                column = 0
                // The new physical line may start with a byte that must now be escaped.
                if !escape, startsPhysicalLineUnsafely(content, at: index) { escape = true }
            }
            if escape {
                encoded.append(MIMEBytes.equals)
                encoded.append(hexDigit(byte >> 4))
                encoded.append(hexDigit(byte & 0x0F))
                column += 3
            } else {
                encoded.append(byte)
                column += 1
            }
            remaining -= plainLength
        }
    }

    /// Whether `byte` must be written as `=XX` wherever it is (RFC 2045 §6.7 rules #1–#3).
    @inline(__always)
    private static func needsEscape(_ byte: UInt8, isLast: Bool) -> Bool {
        switch byte {
        case MIMEBytes.equals: true
        case MIMEBytes.space, MIMEBytes.tab: isLast
        case 0x21...0x7E: false
        default: true
        }
    }

    /// Whether writing `content[index]` literally at the start of a physical line could be altered
    /// in transport: a leading "." (SMTP) or the "F" of "From " (mbox).
    @inline(__always)
    private static func startsPhysicalLineUnsafely(_ content: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        let byte = content[index]
        if byte == UInt8(ascii: ".") { return true }
        guard byte == UInt8(ascii: "F"), index + 4 < content.count else { return false }
        return content[index + 1] == UInt8(ascii: "r") && content[index + 2] == UInt8(ascii: "o")
            && content[index + 3] == UInt8(ascii: "m") && content[index + 4] == MIMEBytes.space
    }

    /// The uppercase hex digit for `nibble` (RFC 2045 §6.7 rule #1 requires uppercase).
    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "A") &+ (nibble &- 10)
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte &- UInt8(ascii: "A") &+ 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
        default: nil
        }
    }

    // MARK: Splicing

    /// Applies edits made to the decoded body to the raw body, re-encoding only what they touch.
    ///
    /// The result decodes to `Splicer.apply(edits, to: decode(raw))`. Every logical line (see
    /// ``LogicalLine``) that no edit touches is copied byte for byte from `raw`, odd encodings and
    /// all. The touched lines are re-encoded together with ``encode(_:defaultLineEnding:maxLineLength:)``
    /// (physical lines of at most 76 characters); their hard line breaks come from the edited
    /// decoded bytes, so they keep the original CRLF or LF, and their soft breaks use the same
    /// ending as the hard break of their line.
    ///
    /// Which lines an edit touches, in decoded offsets:
    /// - a replacement or deletion of `lower..<upper` touches every line its bytes overlap;
    /// - an insertion at `offset` touches the line that *contains* `offset`, that is the line that
    ///   starts at `offset` when `offset` is a line boundary. An insertion at the very end of the
    ///   decoded body touches the last line.
    ///
    /// One more line is re-encoded when the edited bytes of a touched run no longer end with a
    /// line break (an edit deleted it): decoding stops being line-local otherwise, so the next
    /// line joins the run.
    /// - Parameters:
    ///   - raw: the encoded body.
    ///   - edits: edits in the coordinates of `decode(raw)`.
    /// - Returns: the encoded body with the edits applied; `raw` itself when there are no edits.
    static func splice(raw: [UInt8], edits: EditList) -> [UInt8] {
        if edits.isEmpty { return raw }
        let (decoded, lines) = decodeWithLineMap(raw)
        guard !lines.isEmpty else {
            return encode(Splicer.apply(edits, to: decoded), defaultLineEnding: [MIMEBytes.cr, MIMEBytes.lf])
        }
        let allEdits = edits.edits
        var growth = 0
        for edit in allEdits { growth += edit.replacement.count - edit.range.count }
        var output: [UInt8] = []
        output.reserveCapacity(raw.count + max(growth + growth / 8, 0) + 16)
        var content: [UInt8] = []

        // The index of the line containing `decodedOffset`, searching forward from `from`; the
        // last line for the end of the body.
        func lineIndex(containing decodedOffset: Int, from: Int) -> Int {
            var index = from
            while index < lines.count - 1, lines[index].decodedRange.upperBound <= decodedOffset { index += 1 }
            return index
        }
        func lastLineIndex(of edit: Edit, first: Int) -> Int {
            edit.range.isEmpty ? first : lineIndex(containing: edit.range.upperBound - 1, from: first)
        }

        var rawCursor = 0
        var editIndex = 0
        var searchFrom = 0
        while editIndex < allEdits.count {
            let firstLine = lineIndex(containing: allEdits[editIndex].range.lowerBound, from: searchFrom)
            var lastLine = lastLineIndex(of: allEdits[editIndex], first: firstLine)
            let groupEditStart = editIndex
            editIndex += 1
            var probe = firstLine
            while true {
                // Take in every further edit that touches the run.
                while editIndex < allEdits.count {
                    let first = lineIndex(containing: allEdits[editIndex].range.lowerBound, from: probe)
                    guard first <= lastLine else { break }
                    probe = first
                    lastLine = max(lastLine, lastLineIndex(of: allEdits[editIndex], first: first))
                    editIndex += 1
                }
                // Build the run's edited decoded bytes.
                let decodedLower = lines[firstLine].decodedRange.lowerBound
                let decodedUpper = lines[lastLine].decodedRange.upperBound
                content.removeAll(keepingCapacity: true)
                var cursor = decodedLower
                for edit in allEdits[groupEditStart..<editIndex] {
                    content.append(contentsOf: decoded[cursor..<edit.range.lowerBound])
                    content.append(contentsOf: edit.replacement)
                    cursor = edit.range.upperBound
                }
                content.append(contentsOf: decoded[cursor..<decodedUpper])
                if content.last == MIMEBytes.lf || lastLine == lines.count - 1 { break }
                lastLine += 1
            }
            output.append(contentsOf: raw[rawCursor..<lines[firstLine].rawRange.lowerBound])
            encode(content, into: &output,
                   defaultLineEnding: defaultLineEnding(lines: lines, last: lastLine))
            rawCursor = lines[lastLine].rawRange.upperBound
            searchFrom = lastLine
        }
        output.append(contentsOf: raw[rawCursor...])
        return output
    }

    /// The soft line break ending for a re-encoded run whose edited bytes may end without a hard
    /// line break: the original line's own ending, else its soft break's, else the line before's,
    /// else CRLF (RFC 2045 §6.7 canonical form).
    private static func defaultLineEnding(lines: [LogicalLine], last: Int) -> [UInt8] {
        let line = lines[last]
        if line.lineEnding != .none { return line.lineEnding.bytes }
        if line.softLineEnding != .none { return line.softLineEnding.bytes }
        if last > 0 { return lines[last - 1].lineEnding.bytes }
        return [MIMEBytes.cr, MIMEBytes.lf]
    }
}

/// ASCII byte values used by the MIME parsers.
enum MIMEBytes {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let equals: UInt8 = 0x3D
    static let colon: UInt8 = 0x3A
}
