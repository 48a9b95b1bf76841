/// How a base64 body was laid out in lines, so that it can be re-encoded the same way.
///
/// `encode(decode(raw).bytes, layout: decode(raw).layout) == raw` holds for every body written by
/// a conventional encoder: equal-length lines (the last one shorter) of a multiple of 4
/// characters, one line ending style, canonical padding bits.
package struct Base64Layout: Sendable, Equatable {
    /// Characters per line, excluding the line ending: the length of the first line. `Int.max`
    /// (or 0) means a single line of any length.
    var lineLength: Int
    /// The first line's ending, CRLF or LF; when the body has no line break, CRLF, or the
    /// message's line ending when the caller gives it (``Base64/decode(_:into:fallbackLineEnding:)``).
    var lineEnding: [UInt8]
    /// Whether the last line is followed by a line ending.
    var endsWithLineEnding: Bool

    /// 76-character lines ending in CRLF, the RFC 2045 §6.8 maximum and the common default.
    static let mimeDefault = Base64Layout(lineLength: 76, lineEnding: [MIMEBytes.cr, MIMEBytes.lf], endsWithLineEnding: true)
}

/// Why a base64 body could not be decoded. Offsets are raw offsets into the encoded body.
package enum Base64Error: Error, Equatable {
    /// A byte that is neither in the base64 alphabet, nor `=`, nor whitespace.
    case invalidCharacter(offset: Int, byte: UInt8)
    /// An `=` that is not part of the final padding, or data after the padding.
    case misplacedPadding(offset: Int)
    /// The body ends in a 4-character group with only one data character, or with
    /// incomplete padding; `length` counts the alphabet and padding characters.
    case truncated(length: Int)
}

extension Base64Error: CustomStringConvertible {
    package var description: String {
        switch self {
        case let .invalidCharacter(offset, byte):
            "base64: invalid byte 0x\(String(byte, radix: 16, uppercase: true)) at offset \(offset)"
        case let .misplacedPadding(offset):
            "base64: padding '=' at offset \(offset) is not at the end of the data"
        case let .truncated(length):
            "base64: data ends mid-group after \(length) characters"
        }
    }
}

/// Base64 content transfer encoding (RFC 2045 §6.8), with the line layout kept for re-encoding.
package enum Base64 {
    /// The longest single base64 line kept as a layout: the largest multiple of 4 within SMTP's
    /// 998-octet line limit (RFC 5321 §4.5.3.1.6).
    static let maximumSingleLineLength = 996

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
    /// octets), and a line longer than that gets 76; so does a body of several lines whose first
    /// line is longer than that.
    /// - Parameter raw: the encoded body.
    /// - Returns: the decoded bytes and the observed layout.
    /// - Throws: ``Base64Error`` on the first byte that breaks the rules above.
    package static func decode(_ raw: [UInt8]) throws(Base64Error) -> (bytes: [UInt8], layout: Base64Layout) {
        try decode(raw[...])
    }

    /// ``decode(_:)`` of a slice (a part's body within the message, not copied out of it); offsets
    /// in errors count from the slice's first byte.
    static func decode(_ raw: ArraySlice<UInt8>) throws(Base64Error) -> (bytes: [UInt8], layout: Base64Layout) {
        var bytes: [UInt8] = []
        let layout = try decode(raw, into: &bytes)
        return (bytes, layout)
    }

    /// ``decode(_:)`` of a slice into a buffer that may be reused from an earlier part: its storage
    /// is written over when it is large enough and not shared.
    /// - Parameter fallbackLineEnding: the layout's line ending when the body has no line break
    ///   (the message's, so that a re-encoded single line is wrapped with the message's own line
    ///   endings); nil gives CRLF, as ``decode(_:)`` does.
    static func decode(_ raw: ArraySlice<UInt8>, into bytes: inout [UInt8],
                       fallbackLineEnding: [UInt8]? = nil) throws(Base64Error) -> Base64Layout {
        var result: Result<Base64Layout, Base64Error> = .failure(.truncated(length: 0))
        // Written straight into a buffer of the largest possible size, 3 bytes per 4 characters
        // plus 2 for a last group without padding: no per-byte capacity checks.
        bytes.resize(forWriting: raw.count / 4 * 3 + 3)
        // Safe: the decoder writes at most `raw.count / 4 * 3 + 2` bytes (see ``Decoder/decode(_:table:)``)
        // into `output`, sized above; both pointers are used only inside the closures.
        let count = bytes.withUnsafeMutableBufferPointer { output in
            raw.withUnsafeBufferPointer { input in
                var decoder = Decoder(output: output)
                decoder.fallbackLineEnding = fallbackLineEnding
                // The pair table (128 KB to fill, once per process) is built and used only for
                // larger bodies: a small message decoded by a forked filter never pays for it.
                decoder.pairs = raw.count >= pairDecodeThreshold ? decodePairTable : nil
                result = decoder.decode(input, table: UnsafeBufferPointer(start: decodeTable, count: 256))
                return decoder.outputCount
            }
        }
        bytes.removeLast(bytes.count - count)
        return try result.get()
    }

    /// The state of one ``decode(_:)``.
    private struct Decoder {
        let output: UnsafeMutableBufferPointer<UInt8>
        /// ``Base64/decodePairTable``, for bodies of at least ``Base64/pairDecodeThreshold`` bytes.
        var pairs: UnsafePointer<UInt16>? = nil
        /// The layout's line ending when the body has no line break; nil for CRLF.
        var fallbackLineEnding: [UInt8]? = nil
        var outputCount = 0
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

        init(output: UnsafeMutableBufferPointer<UInt8>) {
            self.output = output
        }

        /// Decodes `input`, writing the bytes to `output` (at least `input.count / 4 * 3 + 3`
        /// bytes: each 4 data characters write 3 bytes, a last group of 2 or 3 writes 1 or 2).
        ///
        /// Four characters at a time while they are a whole group of alphabet characters (the
        /// bulk of every line; eight at a time through ``pairs`` when it is set), else one
        /// character at a time with all the rules of ``decode(_:)``.
        mutating func decode(_ input: UnsafeBufferPointer<UInt8>, table: UnsafeBufferPointer<UInt8>) -> Result<Base64Layout, Base64Error> {
            let count = input.count
            var rawOffset = 0
            while rawOffset < count {
                if quantumCount == 0, paddingCount == 0 {
                    rawOffset = decodeGroups(input, from: rawOffset, table: table)
                    guard rawOffset < count else { break }
                }
                if let error = step(input, at: rawOffset, table: table) { return .failure(error) }
                rawOffset += 1
            }
            return finish()
        }

        /// Decodes the groups of four alphabet characters from `rawOffset` on, up to the first
        /// group that holds anything else (or is incomplete), with the same effect as calling
        /// ``step(_:at:table:)`` for each character; returns the offset after them.
        ///
        /// The loop keeps its counters in locals and uses wrapping arithmetic: offsets stay below
        /// `input.count`, and `written` below `output.count` (3 bytes per 4 characters).
        /// - Precondition: at a group boundary (`quantumCount == 0`) before any padding.
        mutating func decodeGroups(_ input: UnsafeBufferPointer<UInt8>, from rawOffset: Int, table: UnsafeBufferPointer<UInt8>) -> Int {
            let lastGroupStart = input.count &- 4
            var offset = rawOffset
            var written = outputCount
            // Eight characters at a time through the pair table: one load, four lookups and one
            // 8-byte store (six bytes used) per two groups, while they are all alphabet characters.
            // Safe: `offset + 8 <= input.count` bounds the load; the store's 8 bytes fit because
            // `output` holds `input.count / 4 * 3 + 3` bytes and at most `offset / 4 * 3` are
            // written before it (`written + 8 <= (offset + 8) / 4 * 3 + 2 < output.count`).
            if let pairs, let inputBase = input.baseAddress, let outputBase = output.baseAddress {
                while offset &+ 8 <= input.count {
                    let word = UnsafeRawPointer(inputBase + offset).loadUnaligned(as: UInt64.self).littleEndian
                    let a = pairs[Int(truncatingIfNeeded: word & 0xFFFF)]
                    let b = pairs[Int(truncatingIfNeeded: word >> 16 & 0xFFFF)]
                    let c = pairs[Int(truncatingIfNeeded: word >> 32 & 0xFFFF)]
                    let d = pairs[Int(truncatingIfNeeded: word >> 48)]
                    // Valid pairs are 12-bit values; a pair holding any other byte is 0xFFFF.
                    guard (a | b | c | d) < 0x1000 else { break }
                    let bits = UInt64(a) << 36 | UInt64(b) << 24 | UInt64(c) << 12 | UInt64(d)
                    // The 48 bits, first byte first, in the low six bytes of memory.
                    UnsafeMutableRawPointer(outputBase + written).storeBytes(of: (bits << 16).bigEndian, as: UInt64.self)
                    written &+= 6
                    offset &+= 8
                }
            }
            while offset <= lastGroupStart {
                let a = table[Int(input[offset])]
                let b = table[Int(input[offset &+ 1])]
                let c = table[Int(input[offset &+ 2])]
                let d = table[Int(input[offset &+ 3])]
                // Alphabet values are 0–63; padding, whitespace and invalid bytes have bit 6 or 7.
                guard (a | b | c | d) < 64 else { break }
                let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                output[written] = UInt8(truncatingIfNeeded: group >> 16)
                output[written &+ 1] = UInt8(truncatingIfNeeded: group >> 8)
                output[written &+ 2] = UInt8(truncatingIfNeeded: group)
                written &+= 3
                offset &+= 4
            }
            guard offset > rawOffset else { return offset }
            outputCount = written
            characterCount += offset - rawOffset
            currentLineLength += offset - rawOffset
            if firstLineLength >= 0 { sawSecondDataLine = true }
            lastSignificantIsLineFeed = false
            return offset
        }

        /// Takes in the one character at `rawOffset`; returns the error it causes, if any.
        mutating func step(_ input: UnsafeBufferPointer<UInt8>, at rawOffset: Int, table: UnsafeBufferPointer<UInt8>) -> Base64Error? {
            let byte = input[rawOffset]
            let value = table[Int(byte)]
            if value < 64 {
                if paddingCount > 0 { return .misplacedPadding(offset: firstPaddingOffset) }
                quantum = quantum << 6 | UInt32(value)
                quantumCount += 1
                characterCount += 1
                if quantumCount == 4 {
                    output[outputCount] = UInt8(truncatingIfNeeded: quantum >> 16)
                    output[outputCount + 1] = UInt8(truncatingIfNeeded: quantum >> 8)
                    output[outputCount + 2] = UInt8(truncatingIfNeeded: quantum)
                    outputCount += 3
                    quantum = 0
                    quantumCount = 0
                }
                if firstLineLength >= 0 { sawSecondDataLine = true }
                currentLineLength += 1
                lastSignificantIsLineFeed = false
                return nil
            }
            switch value {
            case paddingValue:
                if paddingCount == 0 {
                    // Padding may only complete a group holding 2 or 3 data characters.
                    guard quantumCount >= 2 else { return .misplacedPadding(offset: rawOffset) }
                    firstPaddingOffset = rawOffset
                } else if quantumCount + paddingCount >= 4 {
                    return .misplacedPadding(offset: rawOffset)
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
                return .invalidCharacter(offset: rawOffset, byte: byte)
            }
            return nil
        }

        /// Ends the data: the last group's bytes and the layout.
        mutating func finish() -> Result<Base64Layout, Base64Error> {
            if quantumCount == 1 || (paddingCount > 0 && quantumCount + paddingCount != 4) {
                return .failure(.truncated(length: characterCount))
            }
            if quantumCount == 3 {
                output[outputCount] = UInt8(truncatingIfNeeded: quantum >> 10)
                output[outputCount + 1] = UInt8(truncatingIfNeeded: quantum >> 2)
                outputCount += 2
            } else if quantumCount == 2 {
                output[outputCount] = UInt8(truncatingIfNeeded: quantum >> 4)
                outputCount += 1
            }
            let lineLength: Int
            if sawSecondDataLine {
                // Lines already past SMTP's limit are no layout to keep either: 76
                // (Fuzz/repro/mime-base64-first-line-past-998.eml).
                lineLength = firstLineLength > Base64.maximumSingleLineLength ? 76 : firstLineLength
            } else {
                let singleLength = firstLineLength >= 0 ? firstLineLength : currentLineLength
                // A single line keeps its own length (so the same data re-encodes to the same
                // line, and longer data wraps at it) up to 996 characters; a longer line, already
                // past SMTP's 998-octet limit, is not a layout to keep: 76
                // (Fuzz/repro/mime-base64-single-line-grows-past-998.eml).
                lineLength = singleLength <= 76 || singleLength > Base64.maximumSingleLineLength ? 76 : singleLength
            }
            return .success(Base64Layout(
                lineLength: lineLength,
                lineEnding: firstLineEnding ?? fallbackLineEnding ?? [MIMEBytes.cr, MIMEBytes.lf],
                endsWithLineEnding: lastSignificantIsLineFeed))
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
        // Exactly the characters, a line ending after every line but the last, and the final one.
        let encodedCount = characterCount + (lineCount - 1 + (layout.endsWithLineEnding ? 1 : 0)) * layout.lineEnding.count
        // Safe: `encode` writes exactly `encodedCount` bytes (the count above) and says how many;
        // `input` is valid for the closure.
        return [UInt8](unsafeUninitializedCapacity: encodedCount) { output, initializedCount in
            initializedCount = bytes.withUnsafeBufferPointer { input in
                encode(input, into: output, groupsPerLine: lineLength / 4, lineEnding: layout.lineEnding,
                       endsWithLineEnding: layout.endsWithLineEnding)
            }
        }
    }

    /// Appends to `output` the encoding of `original` with `edits` applied, exactly what
    /// `encode(Splicer.apply(edits, to: original), layout:)` gives, without building the edited
    /// bytes or the encoded body apart: the groups are read across the pieces (original bytes,
    /// replacements) and written straight into `output`.
    static func encode(_ original: [UInt8], edits: EditList, layout: Base64Layout, into output: inout [UInt8]) {
        var count = original.count
        for edit in edits.edits { count += edit.replacement.count - edit.range.count }
        guard count > 0 else { return }
        let characterCount = (count + 2) / 3 * 4
        let lineLength = layout.lineLength <= 0 || layout.lineLength == Int.max
            ? Int.max : max(4, layout.lineLength / 4 * 4)
        let lineCount = lineLength == Int.max ? 1 : (characterCount + lineLength - 1) / lineLength
        let encodedCount = characterCount + (lineCount - 1 + (layout.endsWithLineEnding ? 1 : 0)) * layout.lineEnding.count
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: encodedCount))
        var written = 0
        // Safe: the writer stays within `target`, sized above for every character and line ending
        // (its writes are checked against `target.count`); both pointers are valid for the closure.
        output.withUnsafeMutableBufferPointer { whole in
            let target = UnsafeMutableBufferPointer(rebasing: whole[start..<(start + encodedCount)])
            original.withUnsafeBufferPointer { original in
                var writer = SplicedEncoder(output: target, groupsPerLine: lineLength / 4, lineEnding: layout.lineEnding)
                var cursor = 0
                for edit in edits.edits {
                    writer.feed(UnsafeBufferPointer(rebasing: original[cursor..<edit.range.lowerBound]))
                    // Safe: the replacement's pointer is used only inside this call.
                    edit.replacement.withUnsafeBufferPointer { writer.feed($0) }
                    cursor = edit.range.upperBound
                }
                writer.feed(UnsafeBufferPointer(rebasing: original[cursor...]))
                writer.finish(endsWithLineEnding: layout.endsWithLineEnding)
                written = writer.written
            }
        }
        precondition(written == encodedCount, "base64: the spliced encoding is \(written) bytes, not \(encodedCount)")
    }

    /// The state of ``encode(_:edits:layout:into:)``: the 0 to 2 bytes carried from one piece to
    /// the next, the groups written and where the output stands.
    private struct SplicedEncoder {
        let output: UnsafeMutableBufferPointer<UInt8>
        /// ``Base64/pairTable``, read once: each read of the static checks that it is initialized
        /// (a `swift_once` call), which per group or per line costs more than the lookup.
        let pairs = Base64.pairTable
        let groupsPerLine: Int
        let lineEnding: [UInt8]
        var written = 0
        var groups = 0
        var carry: (UInt8, UInt8) = (0, 0)
        var carryCount = 0

        init(output: UnsafeMutableBufferPointer<UInt8>, groupsPerLine: Int, lineEnding: [UInt8]) {
            self.output = output
            self.groupsPerLine = groupsPerLine
            self.lineEnding = lineEnding
        }

        /// A line ending before a group that starts a line other than the first.
        mutating func lineBreakIfDue() {
            guard groups > 0, groups % groupsPerLine == 0 else { return }
            for byte in lineEnding {
                output[written] = byte
                written += 1
            }
        }

        mutating func feed(_ piece: UnsafeBufferPointer<UInt8>) {
            var index = 0
            // Complete the group carried over from the last piece.
            while carryCount > 0, index < piece.count {
                if carryCount == 1 {
                    carry.1 = piece[index]
                    carryCount = 2
                    index += 1
                } else {
                    let bits = UInt32(carry.0) << 16 | UInt32(carry.1) << 8 | UInt32(piece[index])
                    index += 1
                    carryCount = 0
                    lineBreakIfDue()
                    precondition(written + 4 <= output.count)
                    let characters = UInt32(pairs[Int(bits >> 12)]) | UInt32(pairs[Int(bits & 0xFFF)]) << 16
                    // Safe: the 4 bytes lie within `output` (the precondition above).
                    UnsafeMutableRawPointer(output.baseAddress! + written).storeBytes(of: characters.littleEndian, as: UInt32.self)
                    written += 4
                    groups += 1
                }
            }
            // Whole groups, a line (or what is left of it) at a time.
            while piece.count - index >= 3 {
                lineBreakIfDue()
                let inLine = groupsPerLine - groups % groupsPerLine
                let run = min(inLine, (piece.count - index) / 3)
                encodeGroups(piece, from: index, count: run, into: output, at: written, pairs: pairs)
                index += 3 * run
                written += 4 * run
                groups += run
            }
            // Keep the rest for the next piece.
            while index < piece.count {
                if carryCount == 0 { carry.0 = piece[index] } else { carry.1 = piece[index] }
                carryCount += 1
                index += 1
            }
        }

        /// The last group, padded, and the final line ending when the layout has one.
        mutating func finish(endsWithLineEnding: Bool) {
            if carryCount > 0 {
                lineBreakIfDue()
                writePaddedGroup(carry.0, carryCount > 1 ? carry.1 : nil, into: output, at: written)
                written += 4
            }
            if endsWithLineEnding {
                for byte in lineEnding {
                    output[written] = byte
                    written += 1
                }
            }
        }
    }

    /// The encoding loop: writes the lines into `output`, sized by ``encode(_:layout:)``, and
    /// returns the encoded length. Whole lines of full 3-byte groups go through a loop without
    /// checks; only the last group can be partial and padded.
    private static func encode(
        _ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>, groupsPerLine: Int,
        lineEnding: [UInt8], endsWithLineEnding: Bool
    ) -> Int {
        let fullGroups = input.count / 3
        // Read once (see ``SplicedEncoder/pairs``).
        let pairs = pairTable
        var written = 0
        var index = 0
        var group = 0
        func appendLineEnding() {
            for byte in lineEnding {
                output[written] = byte
                written += 1
            }
        }
        while group < fullGroups {
            if group > 0 { appendLineEnding() }
            let lineGroups = min(groupsPerLine, fullGroups - group)
            encodeGroups(input, from: index, count: lineGroups, into: output, at: written, pairs: pairs)
            index += 3 * lineGroups
            written += 4 * lineGroups
            group += lineGroups
        }
        let remaining = input.count - index
        if remaining > 0 {
            // A full line was written last if the groups so far fill lines exactly.
            if group > 0, group % groupsPerLine == 0 { appendLineEnding() }
            writePaddedGroup(input[index], remaining > 1 ? input[index + 1] : nil, into: output, at: written)
            written += 4
        }
        if endsWithLineEnding { appendLineEnding() }
        return written
    }

    /// The last group of one or two bytes, with its `=` padding, at `output[written..<written + 4]`.
    private static func writePaddedGroup(
        _ byte0: UInt8, _ byte1: UInt8?, into output: UnsafeMutableBufferPointer<UInt8>, at written: Int
    ) {
        let bits = UInt32(byte0) << 16 | UInt32(byte1 ?? 0) << 8
        output[written] = alphabet[Int(bits >> 18 & 0x3F)]
        output[written + 1] = alphabet[Int(bits >> 12 & 0x3F)]
        output[written + 2] = byte1 != nil ? alphabet[Int(bits >> 6 & 0x3F)] : MIMEBytes.equals
        output[written + 3] = MIMEBytes.equals
    }

    /// Encodes `count` full 3-byte groups from `input[index...]` into `output[written...]`.
    ///
    /// Two `pairs` (``pairTable``) lookups per group and wrapping arithmetic; two groups per 8-byte
    /// load and store while eight input bytes remain, then one 4-byte store per group: the caller
    /// sized `output` for every group, and the offsets stay below the buffers' counts.
    @inline(__always)
    private static func encodeGroups(
        _ input: UnsafeBufferPointer<UInt8>, from index: Int, count: Int,
        into output: UnsafeMutableBufferPointer<UInt8>, at written: Int, pairs: UnsafePointer<UInt16>
    ) {
        precondition(index + 3 * count <= input.count && written + 4 * count <= output.count)
        // Safe: the precondition above keeps every read within `input` and every store within `output`.
        guard count > 0, let inputBase = input.baseAddress, let outputBase = output.baseAddress else { return }
        var index = index
        var written = written
        var remaining = count
        // Two groups at a time while eight input bytes can be read at once (six are used): one
        // load, four lookups and one 8-byte store per six bytes.
        // Safe: `index + 8 <= input.count` bounds the load; the two groups' 8 characters lie within
        // `output` (the precondition above, `remaining >= 2`).
        while remaining >= 2, index &+ 8 <= input.count {
            let word = UInt64(bigEndian: UnsafeRawPointer(inputBase + index).loadUnaligned(as: UInt64.self))
            let first = UInt32(truncatingIfNeeded: word >> 40)
            let second = UInt32(truncatingIfNeeded: word >> 16) & 0xFF_FFFF
            let characters = UInt64(pairs[Int(first >> 12)]) | UInt64(pairs[Int(first & 0xFFF)]) << 16
                | UInt64(pairs[Int(second >> 12)]) << 32 | UInt64(pairs[Int(second & 0xFFF)]) << 48
            UnsafeMutableRawPointer(outputBase + written).storeBytes(of: characters.littleEndian, as: UInt64.self)
            index &+= 6
            written &+= 8
            remaining &-= 2
        }
        for _ in 0..<remaining {
            let bits = UInt32(input[index]) << 16 | UInt32(input[index &+ 1]) << 8 | UInt32(input[index &+ 2])
            // The 4 characters in memory order, first character in the lowest byte.
            let characters = UInt32(pairs[Int(bits >> 12)]) | UInt32(pairs[Int(bits & 0xFFF)]) << 16
            // Safe: the groups' bytes lie within `input` and `output` (the precondition above), and
            // the pair table has an entry for every 12-bit value.
            UnsafeMutableRawPointer(outputBase + written).storeBytes(of: characters.littleEndian, as: UInt32.self)
            index &+= 3
            written &+= 4
        }
    }

    private static let alphabetText: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    /// The alphabet's 64 characters, read through a plain pointer (``pairTable`` says why).
    private static var alphabet: UnsafePointer<UInt8> {
        // Safe: a static string's bytes are constant memory for the life of the process.
        alphabetText.utf8Start
    }

    // Safe: written once, by the initializer of the static, before any reader can see it; never
    // written again or freed, so sharing it between threads is sound.
    /// The two characters for each 12-bit value: the first (`value >> 6`) in the low byte, the
    /// second (`value & 63`) in the high byte. 8 KB, so that a group takes two lookups, not four.
    ///
    /// Memory set once and never freed, read through a plain pointer: the encoders take it without
    /// a `withUnsafeBufferPointer` closure, and no thread retains or releases an array per call.
    nonisolated(unsafe) private static let pairTable: UnsafePointer<UInt16> = {
        let table = UnsafeMutablePointer<UInt16>.allocate(capacity: 4096)
        for value in 0..<4096 {
            table[value] = UInt16(alphabet[value >> 6]) | UInt16(alphabet[value & 0x3F]) << 8
        }
        return UnsafePointer(table)
    }()

    /// Bodies from this size on are decoded through ``decodePairTable``.
    static let pairDecodeThreshold = 16_384

    // Safe: as ``pairTable``: written once by the static's initializer, never written again or freed.
    /// The 12 bits of every pair of alphabet characters, indexed by the first character plus the
    /// second times 256 (two bytes as a little-endian load gives them); 0xFFFF for a pair holding
    /// any other byte. 128 KB, of which decoding touches the 80 rows of alphabet characters.
    nonisolated(unsafe) static let decodePairTable: UnsafePointer<UInt16> = {
        let table = UnsafeMutablePointer<UInt16>.allocate(capacity: 65_536)
        table.initialize(repeating: 0xFFFF, count: 65_536)
        for first in 0..<64 {
            for second in 0..<64 {
                table[Int(alphabet[first]) | Int(alphabet[second]) << 8] = UInt16(first << 6 | second)
            }
        }
        return UnsafePointer(table)
    }()

    private static let paddingValue: UInt8 = 64
    private static let whitespaceValue: UInt8 = 65
    private static let invalidValue: UInt8 = 0xFF

    // Safe: as ``pairTable``: written once by the static's initializer, never written again or freed.
    /// Alphabet values 0–63, ``paddingValue``, ``whitespaceValue`` or ``invalidValue`` per byte:
    /// 256 bytes set once and never freed, read through a plain pointer, as ``pairTable``.
    nonisolated(unsafe) private static let decodeTable: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        table.initialize(repeating: invalidValue, count: 256)
        for value in 0..<64 { table[Int(alphabet[value])] = UInt8(value) }
        table[Int(MIMEBytes.equals)] = paddingValue
        for byte in [MIMEBytes.space, MIMEBytes.tab, MIMEBytes.cr, MIMEBytes.lf] { table[Int(byte)] = whitespaceValue }
        return UnsafePointer(table)
    }()
}
