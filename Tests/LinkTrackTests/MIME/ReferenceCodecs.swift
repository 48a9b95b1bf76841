@testable import LinkTrack

// The straightforward codecs LinkTrack shipped before the fast paths (commit 6202298), kept
// verbatim apart from their names: the reference the fast implementations are compared with,
// byte for byte, in CodecEquivalenceTests.

enum ReferenceQuotedPrintable {
    typealias LineEnding = QuotedPrintable.LineEnding
    typealias LogicalLine = QuotedPrintable.LogicalLine

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
    /// can never see a lone "."; RFC 2049 §3 (8)), the `F` of a physical line starting with
    /// `From ` (so mbox "From "-quoting cannot alter the body; RFC 2049 §3 (8)) and a `-` at the
    /// start of a physical line (so no line can read as a multipart delimiter; issue 16, item 13).
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
    /// in transport: a leading "." (SMTP), the "F" of "From " (mbox), or a leading "-" (which could
    /// start a multipart delimiter line).
    @inline(__always)
    private static func startsPhysicalLineUnsafely(_ content: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        let byte = content[index]
        if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") { return true }
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
            // Behaviour change after the fuzz finding `Fuzz/repro/mime-qp-final-soft-break-kept.eml`
            // (kept in the reference so the comparison stays meaningful): a body ending with a soft
            // break keeps it.
            var finalSoftBreak: Range<Int>?
            if lastLine == lines.count - 1, content.last != MIMEBytes.lf {
                let range = lines[lastLine].rawRange
                var i = range.upperBound
                if i > range.lowerBound, raw[i - 1] == MIMEBytes.lf {
                    i -= 1
                    if i > range.lowerBound, raw[i - 1] == MIMEBytes.cr { i -= 1 }
                }
                while i > range.lowerBound, raw[i - 1] == MIMEBytes.space || raw[i - 1] == MIMEBytes.tab { i -= 1 }
                if i > range.lowerBound, raw[i - 1] == MIMEBytes.equals { finalSoftBreak = (i - 1)..<range.upperBound }
            }
            encode(content, into: &output,
                   defaultLineEnding: defaultLineEnding(lines: lines, last: lastLine),
                   maxLineLength: finalSoftBreak == nil ? 76 : 75)
            if let finalSoftBreak { output.append(contentsOf: raw[finalSoftBreak]) }
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

enum ReferenceBase64 {
    /// Decodes a MIME base64 body.
    ///
    /// RFC 2045 §6.8 tells decoders to ignore characters outside the alphabet; this decoder is
    /// stricter, because a body we cannot read exactly is one we must pass through untouched:
    /// - spaces, tabs, CR and LF are skipped anywhere;
    /// - any other byte outside the alphabet is ``Base64Error/invalidCharacter(offset:byte:)``;
    /// - `=` is only accepted as the final padding (`xx==` or `xxx=`), followed by nothing but
    ///   whitespace, else ``Base64Error/misplacedPadding(offset:)``;
    /// - tolerance: a final group of 2 or 3 characters *without* padding is accepted (some
    ///   encoders omit it, and the bits are unambiguous); a final group of 1 character, or
    ///   partial padding such as `xx=`, is ``Base64Error/truncated(length:)``;
    /// - tolerance: non-zero unused bits in the last character are ignored (so such a body does
    ///   not re-encode byte-identically; compare if that matters).
    ///
    /// The layout records the length and ending of the first line that holds data (blank lines
    /// before it are ignored). A body of a single line gets `lineLength` 76 when the line fits in
    /// 76 characters, so that re-encoding longer data wraps as RFC 2045 §6.8 requires while the
    /// same data still re-encodes to the same single line; a longer single line keeps its own
    /// length up to ``maximumSingleLineLength`` (the longest multiple of 4 within SMTP's 998
    /// octets), and a line longer than that gets 76.
    /// - Parameter raw: the encoded body.
    /// - Returns: the decoded bytes and the observed layout.
    /// - Throws: ``Base64Error`` on the first byte that breaks the rules above.
    static func decode(_ raw: [UInt8]) throws(Base64Error) -> (bytes: [UInt8], layout: Base64Layout) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count / 4 * 3 + 3)
        let result: Result<Base64Layout, Base64Error> = raw.withUnsafeBufferPointer { input in
            decodeTable.withUnsafeBufferPointer { decodeTable in
                let count = input.count
                var quantum: UInt32 = 0
                var quantumCount = 0     // data characters in the current group
                var characterCount = 0   // alphabet and padding characters so far
                var paddingCount = 0
                var firstPaddingOffset = -1
                // Layout: the first line holding data.
                var firstLineLength = -1
                var currentLineLength = 0
                var firstLineEnding: [UInt8]? = nil
                var sawSecondDataLine = false
                var lastSignificantIsLineFeed = false

                for rawOffset in 0..<count {
                    let byte = input[rawOffset]
                    let value = decodeTable[Int(byte)]
                    if value < 64 {
                        if paddingCount > 0 { return .failure(.misplacedPadding(offset: firstPaddingOffset)) }
                        quantum = quantum << 6 | UInt32(value)
                        quantumCount += 1
                        characterCount += 1
                        if quantumCount == 4 {
                            bytes.append(UInt8(truncatingIfNeeded: quantum >> 16))
                            bytes.append(UInt8(truncatingIfNeeded: quantum >> 8))
                            bytes.append(UInt8(truncatingIfNeeded: quantum))
                            quantum = 0
                            quantumCount = 0
                        }
                        if firstLineLength >= 0 { sawSecondDataLine = true }
                        currentLineLength += 1
                        lastSignificantIsLineFeed = false
                        continue
                    }
                    switch value {
                    case paddingValue:
                        if paddingCount == 0 {
                            // Padding may only complete a group holding 2 or 3 data characters.
                            guard quantumCount >= 2 else { return .failure(.misplacedPadding(offset: rawOffset)) }
                            firstPaddingOffset = rawOffset
                        } else if quantumCount + paddingCount >= 4 {
                            return .failure(.misplacedPadding(offset: rawOffset))
                        }
                        paddingCount += 1
                        characterCount += 1
                        if firstLineLength >= 0 { sawSecondDataLine = true }
                        currentLineLength += 1
                        lastSignificantIsLineFeed = false
                    case whitespaceValue:
                        if byte == MIMEBytes.lf {
                            if firstLineLength < 0, currentLineLength > 0 {
                                firstLineLength = currentLineLength
                                let hasCR = rawOffset > 0 && input[rawOffset - 1] == MIMEBytes.cr
                                firstLineEnding = hasCR ? [MIMEBytes.cr, MIMEBytes.lf] : [MIMEBytes.lf]
                            }
                            currentLineLength = 0
                            lastSignificantIsLineFeed = true
                        } else if byte == MIMEBytes.cr {
                            // Part of the line ending; a bare CR is skipped like other whitespace.
                        } else {
                            lastSignificantIsLineFeed = false
                        }
                    default:
                        return .failure(.invalidCharacter(offset: rawOffset, byte: byte))
                    }
                }
                if quantumCount == 1 || (paddingCount > 0 && quantumCount + paddingCount != 4) {
                    return .failure(.truncated(length: characterCount))
                }
                if quantumCount == 3 {
                    bytes.append(UInt8(truncatingIfNeeded: quantum >> 10))
                    bytes.append(UInt8(truncatingIfNeeded: quantum >> 2))
                } else if quantumCount == 2 {
                    bytes.append(UInt8(truncatingIfNeeded: quantum >> 4))
                }
                let lineLength: Int
                if sawSecondDataLine {
                    lineLength = firstLineLength > Base64.maximumSingleLineLength ? 76 : firstLineLength
                } else {
                    let singleLength = firstLineLength >= 0 ? firstLineLength : currentLineLength
                    // A single line keeps its own length (so the same data re-encodes to the same
                // line, and longer data wraps at it) up to 996 characters; a longer line, already
                // past SMTP's 998-octet limit, is not a layout to keep: 76 (fuzz finding
                // `Fuzz/repro/mime-base64-single-line-grows-past-998.eml`).
                lineLength = singleLength <= 76 || singleLength > Base64.maximumSingleLineLength ? 76 : singleLength
                }
                return .success(Base64Layout(
                    lineLength: lineLength,
                    lineEnding: firstLineEnding ?? [MIMEBytes.cr, MIMEBytes.lf],
                    endsWithLineEnding: lastSignificantIsLineFeed))
            }
        }
        switch result {
        case let .success(layout): return (bytes, layout)
        case let .failure(error): throw error
        }
    }

    /// Encodes `bytes` as base64 (RFC 2045 §6.8, with padding) in the given layout.
    /// - Parameters:
    ///   - bytes: the data to encode.
    ///   - layout: lines of `layout.lineLength` characters, rounded down to a multiple of 4 (at
    ///     least 4); `Int.max` or a value ≤ 0 gives a single line. Each line but the last is
    ///     followed by `layout.lineEnding`, the last one only if `layout.endsWithLineEnding`.
    /// - Returns: the encoded body; empty for empty `bytes`.
    static func encode(_ bytes: [UInt8], layout: Base64Layout) -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        let characterCount = (bytes.count + 2) / 3 * 4
        let lineLength = layout.lineLength <= 0 || layout.lineLength == Int.max
            ? Int.max : max(4, layout.lineLength / 4 * 4)
        let lineCount = lineLength == Int.max ? 1 : (characterCount + lineLength - 1) / lineLength
        var encoded: [UInt8] = []
        encoded.reserveCapacity(characterCount + lineCount * layout.lineEnding.count)
        bytes.withUnsafeBufferPointer { input in
            alphabet.withUnsafeBufferPointer { table in
                var column = 0
                var index = 0
                let count = input.count
                while index < count {
                    if column == lineLength {
                        encoded.append(contentsOf: layout.lineEnding)
                        column = 0
                    }
                    let remaining = count - index
                    let byte0 = UInt32(input[index])
                    let byte1 = remaining > 1 ? UInt32(input[index + 1]) : 0
                    let byte2 = remaining > 2 ? UInt32(input[index + 2]) : 0
                    let group = byte0 << 16 | byte1 << 8 | byte2
                    encoded.append(table[Int(group >> 18 & 0x3F)])
                    encoded.append(table[Int(group >> 12 & 0x3F)])
                    encoded.append(remaining > 1 ? table[Int(group >> 6 & 0x3F)] : MIMEBytes.equals)
                    encoded.append(remaining > 2 ? table[Int(group & 0x3F)] : MIMEBytes.equals)
                    column += 4
                    index += 3
                }
            }
        }
        if layout.endsWithLineEnding { encoded.append(contentsOf: layout.lineEnding) }
        return encoded
    }

    private static let alphabet: [UInt8] =
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let paddingValue: UInt8 = 64
    private static let whitespaceValue: UInt8 = 65
    private static let invalidValue: UInt8 = 0xFF

    /// Alphabet values 0–63, ``paddingValue``, ``whitespaceValue`` or ``invalidValue`` per byte.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: invalidValue, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        table[Int(MIMEBytes.equals)] = paddingValue
        for byte in [MIMEBytes.space, MIMEBytes.tab, MIMEBytes.cr, MIMEBytes.lf] { table[Int(byte)] = whitespaceValue }
        return table
    }()
}

extension QuotedPrintable.LogicalLine {
    /// The line as the reference decoder records it (it keeps no soft breaks).
    var withoutSoftBreaks: QuotedPrintable.LogicalLine {
        var line = self
        line.softBreaks = 0..<0
        return line
    }
}
