#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Quoted-printable content transfer encoding (RFC 2045 §6.7), with a splice operation that
/// re-encodes only the physical lines an edit touches and copies every other byte through.
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
package enum QuotedPrintable {
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
    ///
    /// Offsets are stored in 32 bits (a body is far below 4 GiB: see ``LineMap/maximumBodySize``),
    /// which halves the map: on a 1 MB newsletter it is about 250 KB instead of 500 KB, held while
    /// the part is rewritten.
    struct LogicalLine: Sendable, Equatable {
        private var rawStart, rawEnd, decodedStart, decodedEnd, softBreakStart, softBreakEnd: UInt32
        /// The hard line break that ends the line; `.none` only for a last line without one.
        var lineEnding: LineEnding
        /// The ending of the line's first soft line break, `.none` if it has none.
        var softLineEnding: LineEnding

        init(rawRange: Range<Int>, decodedRange: Range<Int>, lineEnding: LineEnding, softLineEnding: LineEnding,
             softBreaks: Range<Int> = 0..<0) {
            rawStart = UInt32(rawRange.lowerBound)
            rawEnd = UInt32(rawRange.upperBound)
            decodedStart = UInt32(decodedRange.lowerBound)
            decodedEnd = UInt32(decodedRange.upperBound)
            softBreakStart = UInt32(softBreaks.lowerBound)
            softBreakEnd = UInt32(softBreaks.upperBound)
            self.lineEnding = lineEnding
            self.softLineEnding = softLineEnding
        }

        /// The line's bytes in the raw (encoded) body, including its hard line break.
        var rawRange: Range<Int> { Int(rawStart)..<Int(rawEnd) }
        /// The line's bytes in the decoded body, including its hard line break.
        var decodedRange: Range<Int> { Int(decodedStart)..<Int(decodedEnd) }
        /// The line's soft line breaks, as indices into ``LineMap/softBreaks`` (recorded by
        /// ``decodeWithLineMap(_:)-(ArraySlice<UInt8>)``).
        var softBreaks: Range<Int> {
            get { Int(softBreakStart)..<Int(softBreakEnd) }
            set {
                softBreakStart = UInt32(newValue.lowerBound)
                softBreakEnd = UInt32(newValue.upperBound)
            }
        }
    }

    /// Where a soft line break ends a physical line: the raw offset just after its line ending,
    /// and the decoded offset at that point (a soft break decodes to nothing, so it is also where
    /// the next physical line's bytes start). An `=` at the very end of the data is no such
    /// boundary: it is a soft break only because nothing follows it.
    struct SoftBreak: Sendable, Equatable {
        private var storedRawEnd, storedDecodedOffset: UInt32

        init(rawEnd: Int, decodedOffset: Int) {
            storedRawEnd = UInt32(rawEnd)
            storedDecodedOffset = UInt32(decodedOffset)
        }

        var rawEnd: Int { Int(storedRawEnd) }
        var decodedOffset: Int { Int(storedDecodedOffset) }
    }

    /// The logical lines of a body and the soft line breaks that divide them into physical lines.
    struct LineMap: Sendable, Equatable {
        var lines: [LogicalLine] = []
        var softBreaks: [SoftBreak] = []

        /// The largest body whose lines are recorded (offsets are 32-bit): 4 GiB - 1. A larger body
        /// is decoded without a map (``Limits/maximumHTMLPartSize`` keeps HTML parts far below).
        static let maximumBodySize = Int(UInt32.max)
    }

    // MARK: Decoding

    /// Decodes a quoted-printable body tolerantly (see the type's documentation for the list of
    /// tolerated deviations from RFC 2045 §6.7).
    /// - Parameter raw: the encoded body.
    /// - Returns: the decoded bytes; hard line breaks are kept as they are in `raw`.
    package static func decode(_ raw: [UInt8]) -> [UInt8] {
        var lines = LineMap()
        // Decoding never grows the data, so the output is written straight into a buffer of the
        // raw size: no per-byte capacity checks.
        // Safe: decoding writes at most `raw.count` bytes (it never grows the data) and returns how many; the
        // pointers are used only inside the closures.
        return [UInt8](unsafeUninitializedCapacity: raw.count) { output, initializedCount in
            raw.withUnsafeBufferPointer { input in
                initializedCount = decodeLines(input, into: output, lines: &lines, recordingLines: false)
            }
        }
    }

    /// Decodes like ``decode(_:)`` and, in the same pass, records the logical lines.
    /// - Parameter raw: the encoded body.
    /// - Returns: the decoded bytes, and the logical lines in order (none for an empty body).
    static func decodeWithLineMap(_ raw: [UInt8]) -> (decoded: [UInt8], map: LineMap) {
        decodeWithLineMap(raw[...])
    }

    /// ``decodeWithLineMap(_:)`` of a slice (a body within the message, say), without copying it;
    /// the lines' raw ranges are offsets from the slice's first byte, not the slice's indices.
    static func decodeWithLineMap(_ raw: ArraySlice<UInt8>) -> (decoded: [UInt8], map: LineMap) {
        var decoded: [UInt8] = []
        var map = LineMap()
        decodeWithLineMap(raw, into: &decoded, map: &map)
        return (decoded, map)
    }

    /// ``decodeWithLineMap(_:)`` of a slice into buffers that may be reused from an earlier part:
    /// their storage is written over when it is large enough and not shared.
    static func decodeWithLineMap(_ raw: ArraySlice<UInt8>, into decoded: inout [UInt8], map lines: inout LineMap) {
        lines.lines.removeAll(keepingCapacity: true)
        lines.softBreaks.removeAll(keepingCapacity: true)
        // Decoding never grows the data: the raw size bounds the output, so it is written through
        // a pointer without per-byte capacity checks.
        decoded.resize(forWriting: raw.count)
        // Safe: as in ``decode(_:)``: `output` holds `raw.count` bytes, the most decoding writes.
        let count = decoded.withUnsafeMutableBufferPointer { output in
            raw.withUnsafeBufferPointer { input in
                decodeLines(input, into: output, lines: &lines, recordingLines: true)
            }
        }
        decoded.removeLast(decoded.count - count)
    }

    /// The decoding loop: writes into `output` (at least `input.count` bytes) and returns the
    /// decoded length.
    ///
    /// Every write is in bounds: each step consumes at least as many raw bytes as it writes
    /// (`=XX` 3 for 1, CRLF 2 for 2, other bytes 1 for 1, soft breaks and padding 0), so the
    /// decoded count never exceeds the raw offset.
    ///
    /// Literal bytes, spaces and tabs included, are copied in runs up to the next `=`, CR or LF.
    /// Transport padding is only looked for when a hard line break (or the end of the data) is
    /// reached: it is the trailing spaces and tabs of the output, back to `paddingFloor` at most.
    /// The floor is raised past every byte that `=XX` or a soft line break produced or preceded,
    /// which are never padding; any other byte that ends a run of whitespace (a literal byte, a
    /// kept `=`, a bare CR, a line feed) is neither space nor tab and stops the trim by itself.
    private static func decodeLines(
        _ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>,
        lines: inout LineMap, recordingLines: Bool
    ) -> Int {
        let count = input.count
        var decodedCount = 0
        var lineRawStart = 0
        var lineDecodedStart = 0
        var lineSoftBreakStart = 0
        var softLineEnding = LineEnding.none
        var paddingFloor = 0
        var rawOffset = 0

        while rawOffset < count {
            copyLiteralRun(input, from: &rawOffset, into: output, at: &decodedCount)
            guard rawOffset < count else { break }
            let byte = input[rawOffset]
            if byte == MIMEBytes.equals {
                var softBreak = false
                rawOffset = decodeEquals(input, at: rawOffset, into: output, decodedCount: &decodedCount,
                                         softLineEnding: &softLineEnding, paddingFloor: &paddingFloor,
                                         softBreak: &softBreak)
                // A soft break that ends physical lines; not the tolerated "=" at the very end of
                // the data, which is a soft break only because nothing follows it.
                if softBreak, recordingLines, input[rawOffset - 1] == MIMEBytes.lf {
                    lines.softBreaks.append(SoftBreak(rawEnd: rawOffset, decodedOffset: decodedCount))
                }
                continue
            }
            let ending: LineEnding
            if byte == MIMEBytes.lf {
                ending = .lf
            } else if rawOffset + 1 < count, input[rawOffset + 1] == MIMEBytes.lf {
                ending = .crlf
            } else {
                // A bare CR is data, not a line break.
                output[decodedCount] = byte
                decodedCount += 1
                rawOffset += 1
                continue
            }
            decodedCount = trimmingPadding(output, count: decodedCount, floor: paddingFloor)
            if ending == .crlf {
                output[decodedCount] = MIMEBytes.cr
                decodedCount += 1
                rawOffset += 1
            }
            output[decodedCount] = MIMEBytes.lf
            decodedCount += 1
            rawOffset += 1
            if recordingLines {
                lines.lines.append(LogicalLine(
                    rawRange: lineRawStart..<rawOffset, decodedRange: lineDecodedStart..<decodedCount,
                    lineEnding: ending, softLineEnding: softLineEnding,
                    softBreaks: lineSoftBreakStart..<lines.softBreaks.count))
                lineRawStart = rawOffset
                lineDecodedStart = decodedCount
                lineSoftBreakStart = lines.softBreaks.count
                softLineEnding = .none
            }
        }
        decodedCount = trimmingPadding(output, count: decodedCount, floor: paddingFloor)
        if recordingLines, lineRawStart < count {
            lines.lines.append(LogicalLine(
                rawRange: lineRawStart..<count, decodedRange: lineDecodedStart..<decodedCount,
                lineEnding: .none, softLineEnding: softLineEnding,
                softBreaks: lineSoftBreakStart..<lines.softBreaks.count))
        }
        return decodedCount
    }

    /// Decodes the `=` at `input[rawOffset]`: an `=XX` escape, a soft line break, or a stray `=`
    /// kept literally. Returns the raw offset after what it consumed.
    ///
    /// Writes at most one byte while consuming at least one, which keeps the bound of
    /// ``decodeLines(_:into:lines:recordingLines:)``.
    @inline(__always)
    private static func decodeEquals(
        _ input: UnsafeBufferPointer<UInt8>, at rawOffset: Int, into output: UnsafeMutableBufferPointer<UInt8>,
        decodedCount: inout Int, softLineEnding: inout LineEnding, paddingFloor: inout Int,
        softBreak: inout Bool
    ) -> Int {
        let count = input.count
        if rawOffset + 2 < count,
           // Safe: the table is a static string of 256 bytes (constant memory), one per byte value;
           // `rawOffset + 2 < count`.
           case let high = hexDigitValues.utf8Start[Int(input[rawOffset + 1])],
           case let low = hexDigitValues.utf8Start[Int(input[rawOffset + 2])],
           (high | low) & 0xF0 == 0 {
            output[decodedCount] = high << 4 | low
            decodedCount += 1
            // An encoded space or tab (`=20`, `=09`) is data, never padding.
            paddingFloor = decodedCount
            return rawOffset + 3
        }
        var next = rawOffset + 1
        while next < count, input[next] == MIMEBytes.space || input[next] == MIMEBytes.tab { next += 1 }
        if next == count {
            // Tolerance: "=" (and padding) at the very end is a soft line break.
            paddingFloor = decodedCount
            softBreak = true
            return count
        }
        if input[next] == MIMEBytes.lf {
            if softLineEnding == .none { softLineEnding = .lf }
            paddingFloor = decodedCount
            softBreak = true
            return next + 1
        }
        if input[next] == MIMEBytes.cr, next + 1 < count, input[next + 1] == MIMEBytes.lf {
            if softLineEnding == .none { softLineEnding = .crlf }
            paddingFloor = decodedCount
            softBreak = true
            return next + 2
        }
        // Tolerance (RFC 2045 §6.7 note (2)): keep a stray "=" literally.
        output[decodedCount] = MIMEBytes.equals
        decodedCount += 1
        return rawOffset + 1
    }

    /// `count` without the trailing spaces and tabs of `output[floor..<count]` (rule #3 padding).
    @inline(__always)
    private static func trimmingPadding(_ output: UnsafeMutableBufferPointer<UInt8>, count: Int, floor: Int) -> Int {
        var end = count
        while end > floor, output[end - 1] == MIMEBytes.space || output[end - 1] == MIMEBytes.tab { end -= 1 }
        return end
    }

    /// Copies the run of literal bytes from `input[rawOffset]` up to the next `=`, CR or LF (or
    /// the end) to `output[decodedCount...]`, advancing both offsets.
    ///
    /// Eight bytes at a time while a word holds no byte that may stop the run (see
    /// ``mayStopDecoding(_:)``), then byte by byte. Each word is stored whole before its stop is
    /// known; that is in bounds because `decodedCount <= rawOffset` and `rawOffset + 8 <= count`,
    /// and the bytes stored past the stop are overwritten later or lie past the decoded length.
    @inline(__always)
    private static func copyLiteralRun(
        _ input: UnsafeBufferPointer<UInt8>, from rawOffset: inout Int,
        into output: UnsafeMutableBufferPointer<UInt8>, at decodedCount: inout Int
    ) {
        let count = input.count
        guard let inputBase = input.baseAddress, let outputBase = output.baseAddress else { return }
        while rawOffset < count {
            // Words while at least eight bytes are left and none may stop the run: one bound for
            // the loop, taken once (`last`), and no overflow checks (offsets stay below `count`).
            let last = count &- 8
            while rawOffset <= last {
                // Safe: `rawOffset + 8 <= count`, and `decodedCount <= rawOffset` with `output` at least
                // `count` long, so both 8-byte accesses are in bounds (see above).
                let word = UnsafeRawPointer(inputBase + rawOffset).loadUnaligned(as: UInt64.self)
                UnsafeMutableRawPointer(outputBase + decodedCount).storeBytes(of: word, as: UInt64.self)
                let stops = mayStopDecoding(UInt64(littleEndian: word))
                if stops != 0 {
                    // The lowest flagged byte is exact (see mayStopDecoding); the bytes below it are
                    // literal. That byte is read below.
                    let literals = stops.trailingZeroBitCount &>> 3
                    rawOffset &+= literals
                    decodedCount &+= literals
                    break
                }
                rawOffset &+= 8
                decodedCount &+= 8
            }
            guard rawOffset < count else { return }
            let byte = input[rawOffset]
            if isDecodeStop(byte) { return }
            output[decodedCount] = byte
            decodedCount += 1
            rawOffset += 1
        }
    }

    /// A mask with the high bit set in each byte of `word` (little-endian byte order) that is `=`
    /// or below 0x0E, which includes CR and LF, but also TAB and other controls: the caller checks
    /// a flagged byte with ``isDecodeStop(_:)``.
    ///
    /// The usual SWAR tests ("Bit Twiddling Hacks": haszero, hasless): subtracting 0x01 (or 0x0E)
    /// from each byte borrows from the high bit of the bytes that are zero (or below 0x0E). A
    /// borrow can flag bytes *above* a flagged byte by mistake, never below one, so the lowest
    /// flagged byte is always right and a zero mask means no byte is flagged.
    @inline(__always)
    private static func mayStopDecoding(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let equalsZeroed = word ^ (ones &* UInt64(MIMEBytes.equals))
        let equals = (equalsZeroed &- ones) & ~equalsZeroed & highBits
        let belowCRPlusOne = (word &- ones &* 0x0E) & ~word & highBits
        return equals | belowCRPlusOne
    }

    /// Whether `byte` ends a run of literal bytes when decoding: `=`, CR or LF.
    ///
    /// One bit test instead of three comparisons: bit `b` of the mask is set for each of the
    /// three byte values, all below 64.
    @inline(__always)
    private static func isDecodeStop(_ byte: UInt8) -> Bool {
        let mask: UInt64 = 1 << MIMEBytes.equals | 1 << MIMEBytes.cr | 1 << MIMEBytes.lf
        return byte < 64 && mask >> byte & 1 != 0
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
    /// start of a physical line, as `=2D` (see ``startsPhysicalLineUnsafely(_:at:)``: no physical
    /// line the encoder writes can be read as a multipart boundary delimiter).
    /// - Parameters:
    ///   - decoded: the bytes to encode.
    ///   - defaultLineEnding: the soft line break ending for the last line when it has no line
    ///     break of its own; other lines' soft breaks use that line's own hard line break.
    ///   - maxLineLength: the longest physical line, excluding its line ending (RFC 2045: 76).
    ///     Values below 4 are raised to 4, the least that fits `=XX` and a soft break.
    /// - Returns: the encoded bytes. An `=XX` is never split across a soft line break.
    static func encode(_ decoded: [UInt8], defaultLineEnding: [UInt8], maxLineLength: Int = 76) -> [UInt8] {
        // Safe: the pointer is used only during the call.
        decoded.withUnsafeBufferPointer { encode($0, defaultLineEnding: defaultLineEnding, maxLineLength: maxLineLength) }
    }

    /// ``encode(_:defaultLineEnding:maxLineLength:)`` of bytes held elsewhere.
    static func encode(_ input: UnsafeBufferPointer<UInt8>, defaultLineEnding: [UInt8], maxLineLength: Int = 76) -> [UInt8] {
        let maxLength = max(maxLineLength, 4)
        // Written straight into a buffer of the worst-case size: no per-byte capacity checks. (Of a
        // large buffer only the pages written are ever touched.)
        let capacity = encodedCountBound(input.count, defaultLineEnding: defaultLineEnding, maxLength: maxLength)
        // Safe: `capacity` is ``encodedCountBound(_:defaultLineEnding:maxLength:)``, the most the encoder
        // writes, and it returns how many it wrote; the pointers are used only inside the closures.
        return [UInt8](unsafeUninitializedCapacity: capacity) { output, initializedCount in
            defaultLineEnding.withUnsafeBufferPointer { defaultLineEnding in
                initializedCount = encodeLines(input, into: output, defaultLineEnding: defaultLineEnding, maxLength: maxLength)
            }
        }
    }

    /// Appends the encoding of `decoded` to `encoded`; see ``encode(_:defaultLineEnding:maxLineLength:)``.
    static func encode<C: RandomAccessCollection>(
        _ decoded: C, into encoded: inout [UInt8], defaultLineEnding: [UInt8], maxLineLength: Int = 76
    ) where C.Element == UInt8, C.Index == Int {
        let maxLength = max(maxLineLength, 4)
        // Safe: the pointers are used only during the calls.
        let done: Void? = decoded.withContiguousStorageIfAvailable { input in
            appendEncoding(of: input, to: &encoded, defaultLineEnding: defaultLineEnding, maxLength: maxLength)
        }
        if done == nil {
            Array(decoded).withUnsafeBufferPointer { input in
                appendEncoding(of: input, to: &encoded, defaultLineEnding: defaultLineEnding, maxLength: maxLength)
            }
        }
    }

    /// Encodes into a temporary buffer of the worst-case size, then appends what was written.
    private static func appendEncoding(
        of input: UnsafeBufferPointer<UInt8>, to encoded: inout [UInt8], defaultLineEnding: [UInt8], maxLength: Int
    ) {
        let capacity = encodedCountBound(input.count, defaultLineEnding: defaultLineEnding, maxLength: maxLength)
        // Safe: as in ``encode(_:defaultLineEnding:maxLineLength:)``: sized by the bound; only the `written`
        // bytes are read.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { output in
            let written = defaultLineEnding.withUnsafeBufferPointer { defaultLineEnding in
                encodeLines(input, into: output, defaultLineEnding: defaultLineEnding, maxLength: maxLength)
            }
            // Only the first `written` bytes were initialized, and only they are read.
            encoded.append(contentsOf: UnsafeBufferPointer(rebasing: output[..<written]))
        }
    }

    /// The most bytes that encoding `count` bytes can produce: 3 characters per byte (hard line
    /// breaks take 1 or 2 for 1 or 2), plus one soft line break (`=` and its ending) per
    /// `maxLength - 3` characters at most. A physical line is only broken before a character
    /// that no longer fits in `maxLength - 1` columns, and characters are at most 3 long, so a
    /// broken physical line holds at least `maxLength - 3` of them.
    static func encodedCountBound(_ count: Int, defaultLineEnding: [UInt8], maxLength: Int) -> Int {
        let characters = 3 * count
        let softBreaks = characters / (maxLength - 3) + 1
        return characters + softBreaks * (1 + max(defaultLineEnding.count, 2))
    }

    /// The encoding loop: writes into `output`, which holds at least
    /// ``encodedCountBound(_:defaultLineEnding:maxLength:)`` bytes, and returns the encoded length.
    private static func encodeLines(
        _ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>,
        defaultLineEnding: UnsafeBufferPointer<UInt8>, maxLength: Int
    ) -> Int {
        var writer = EncodedWriter(buffer: output)
        var lineStart = 0
        let count = input.count
        while lineStart < count {
            // Find the hard line break: LF, with the CR before it when there is one.
            let lineFeed = indexOfLineFeed(input, from: lineStart) ?? count
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
                // Safe: `lineStart <= contentEnd <= input.count`.
                UnsafeBufferPointer(rebasing: input[lineStart..<contentEnd]), into: &writer,
                softLineEnding: ending, defaultLineEnding: defaultLineEnding, maxLength: maxLength)
            writer.append(ending)
            lineStart = lineFeed + 1
        }
        return writer.count
    }

    /// The index of the first LF in `input` at or after `start`, if any (memchr, vectorized).
    private static func indexOfLineFeed(_ input: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < input.count, let base = input.baseAddress,
              // Safe: `start < input.count`: `memchr` reads `input.count - start` bytes within the buffer,
              // and a hit lies among them.
              let hit = memchr(base + start, Int32(MIMEBytes.lf), input.count - start) else { return nil }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }

    /// Encodes one hard line's content (without its line break), inserting soft line breaks.
    ///
    /// Each physical line is either the whole rest of the content, when its encoding fits in
    /// `maxLength` characters, or else as many characters as fit in `maxLength - 1`, followed by a
    /// soft line break. Only the first character of a physical line can be escaped for its
    /// position (`.`, `-`, `From `), so whether the rest fits is decided once, where the physical line
    /// starts, and only needs computing when at most `maxLength` bytes are left (each byte takes
    /// at least one character).
    /// - Parameters:
    ///   - softLineEnding: the ending of the soft line breaks; `.none` to use `defaultLineEnding`.
    private static func encodeLine(
        _ content: UnsafeBufferPointer<UInt8>, into writer: inout EncodedWriter,
        softLineEnding: LineEnding, defaultLineEnding: UnsafeBufferPointer<UInt8>, maxLength: Int
    ) {
        let count = content.count
        var index = 0
        while index < count {
            if count - index <= maxLength, physicalLineLength(content, from: index) <= maxLength {
                writeLastPhysicalLine(content, from: index, into: &writer)
                return
            }
            index = writeBrokenPhysicalLine(content, from: index, into: &writer, maxLength: maxLength)
            writer.appendSoftLineBreak(softLineEnding, default: defaultLineEnding)
        }
    }

    /// The encoded length of `content[start...]` written as one physical line.
    ///
    /// Only the first byte (escaped for its position too) and the last (a space or tab there is
    /// escaped) are special; the bytes between are counted eight at a time while a word holds none
    /// that may need escaping (see ``mayNeedEscape(_:)``), else one by one. Kept out of line: inlined
    /// into the encoding loop, the loop as a whole runs slower.
    @inline(never)
    private static func physicalLineLength(_ content: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let count = content.count
        guard start < count, let base = content.baseAddress else { return 0 }
        var length = isEscaped(content, at: start, startsPhysicalLine: true) ? 3 : 1
        var index = start + 1
        let last = count - 1
        while last - index >= 8 {
            // Safe: `index + 8 <= last < count`: the load lies within `content`.
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            if mayNeedEscape(UInt64(littleEndian: word)) == 0 {
                length += 8
            } else {
                for k in index..<(index + 8) { length += needsEscape(content[k], isLast: false) ? 3 : 1 }
            }
            index += 8
        }
        while index < last {
            length += needsEscape(content[index], isLast: false) ? 3 : 1
            index += 1
        }
        if index == last { length += needsEscape(content[last], isLast: true) ? 3 : 1 }
        return length
    }

    /// Writes `content[start...]` as one physical line, without a soft line break.
    private static func writeLastPhysicalLine(
        _ content: UnsafeBufferPointer<UInt8>, from start: Int, into writer: inout EncodedWriter
    ) {
        let last = content.count - 1
        writer.append(content[start], escaped: isEscaped(content, at: start, startsPhysicalLine: true))
        var index = start + 1
        while index < last {
            index = copyLiterals(content, from: index, to: last, into: &writer)
            if index < last {
                writer.append(content[index], escaped: true)
                index += 1
            }
        }
        if index == last {
            writer.append(content[last], escaped: needsEscape(content[last], isLast: true))
        }
    }

    /// Writes the characters from `content[start]` on that fit in `maxLength - 1` columns, leaving
    /// room for the `=` of a soft line break, and returns the index of the first byte not written.
    ///
    /// Called only when the rest does not fit in `maxLength` columns, so it always stops before
    /// the end of the content. The first character always fits: it takes at most 3 columns and
    /// `maxLength` is at least 4.
    private static func writeBrokenPhysicalLine(
        _ content: UnsafeBufferPointer<UInt8>, from start: Int, into writer: inout EncodedWriter, maxLength: Int
    ) -> Int {
        let count = content.count
        let limit = maxLength - 1
        let firstEscaped = isEscaped(content, at: start, startsPhysicalLine: true)
        writer.append(content[start], escaped: firstEscaped)
        var column = firstEscaped ? 3 : 1
        var index = start + 1
        while index < count {
            // Literal bytes, as many as fit, but never the last byte: a space or tab there is escaped.
            let runStart = index
            index = copyLiterals(content, from: index, to: min(count - 1, index + limit - column), into: &writer)
            column += index - runStart
            let length = needsEscape(content[index], isLast: index == count - 1) ? 3 : 1
            if column + length > limit { break }
            writer.append(content[index], escaped: length == 3)
            column += length
            index += 1
        }
        return index
    }

    /// Copies `content[start..<end]` up to the first byte that cannot be written as it is inside
    /// a physical line (not at its start, not at the end of the content); returns where it stopped.
    ///
    /// Eight bytes at a time while a word holds no byte that may need escaping (see
    /// ``mayNeedEscape(_:)``), then byte by byte.
    @inline(__always)
    private static func copyLiterals(
        _ content: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, into writer: inout EncodedWriter
    ) -> Int {
        var index = start
        guard let base = content.baseAddress else { return index }
        while index < end {
            if end - index >= 8 {
                // Safe: `end - index >= 8` and `end <= content.count`: the load lies within `content`.
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                let flagged = mayNeedEscape(UInt64(littleEndian: word))
                // The lowest flagged byte is exact (see mayNeedEscape); the bytes below it are literal.
                let literals = flagged == 0 ? 8 : flagged.trailingZeroBitCount / 8
                writer.append(word: word, keeping: literals)
                index += literals
                if literals == 8 { continue }
            }
            guard !needsEscape(content[index], isLast: false) else { break }
            writer.append(content[index])
            index += 1
        }
        return index
    }

    /// A mask with the high bit set in each byte of `word` (little-endian byte order) that is `=`,
    /// below 0x20 (TAB too, which the caller checks with ``needsEscape(_:isLast:)``), 0x7F, or from
    /// 0x80 on.
    ///
    /// The usual SWAR tests ("Bit Twiddling Hacks": haszero, hasless): subtracting 0x01 (or 0x20)
    /// from each byte borrows from the high bit of the bytes that are zero (or below 0x20). A
    /// borrow can flag bytes *above* a flagged byte by mistake, never below one, so the lowest
    /// flagged byte is always right and a zero mask means no byte is flagged.
    @inline(__always)
    private static func mayNeedEscape(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let equalsZeroed = word ^ (ones &* UInt64(MIMEBytes.equals))
        let equals = (equalsZeroed &- ones) & ~equalsZeroed & highBits
        let deleteZeroed = word ^ (ones &* 0x7F)
        let delete = (deleteZeroed &- ones) & ~deleteZeroed & highBits
        let controls = (word &- ones &* 0x20) & ~word & highBits
        return equals | delete | controls | (word & highBits)
    }

    /// Whether `content[index]` is written as `=XX`, given whether it starts a physical line.
    @inline(__always)
    private static func isEscaped(_ content: UnsafeBufferPointer<UInt8>, at index: Int, startsPhysicalLine: Bool) -> Bool {
        needsEscape(content[index], isLast: index == content.count - 1)
            || (startsPhysicalLine && startsPhysicalLineUnsafely(content, at: index))
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

    /// Whether writing `content[index]` literally at the start of a physical line could change the
    /// message: a leading "." (SMTP), the "F" of "From " (mbox), or a leading "-".
    ///
    /// The "-" rule keeps the encoder from forging a multipart boundary (issue 16, item 13). A
    /// delimiter line is "--" and a boundary at the start of a line (RFC 2046 §5.1.1), and the
    /// encoder starts a physical line wherever it puts a soft break, so decoded text such as
    /// `...--b1` at the end of a line could otherwise come out as a line `--b1` that ends the part
    /// for every reader. A physical line starting with `=2D` can never begin with "--", whatever the
    /// boundaries around the part are, so the encoder need not know them (it does not: the HTML part
    /// is encoded on its own). The rule is wider than needed (any leading "-", not only "--" and a
    /// boundary) because it must hold for the boundaries of every enclosing multipart, and because a
    /// lone "-" costs two bytes on the rare line that starts with one. It applies to every physical
    /// line the encoder starts: after a soft break and at the start of each hard line it encodes.
    /// Base64 needs no such rule (its alphabet has no "-"); identity-encoded parts are checked by
    /// ``FilterSession`` instead, which re-encodes them when a rewrite would make such a line.
    @inline(__always)
    private static func startsPhysicalLineUnsafely(_ content: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        let byte = content[index]
        if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") { return true }
        guard byte == UInt8(ascii: "F"), index + 4 < content.count else { return false }
        return content[index + 1] == UInt8(ascii: "r") && content[index + 2] == UInt8(ascii: "o")
            && content[index + 3] == UInt8(ascii: "m") && content[index + 4] == MIMEBytes.space
    }

    /// Appends to a buffer sized with ``encodedCountBound(_:defaultLineEnding:maxLength:)``, so
    /// that no write checks capacity (buffer subscripts are still bounds-checked in debug builds).
    private struct EncodedWriter {
        let buffer: UnsafeMutableBufferPointer<UInt8>
        private(set) var count = 0

        init(buffer: UnsafeMutableBufferPointer<UInt8>) {
            self.buffer = buffer
        }

        @inline(__always)
        mutating func append(_ byte: UInt8) {
            buffer[count] = byte
            count += 1
        }

        /// Stores the 8 bytes of `word` (in memory order) and keeps the first `count` of them; the
        /// others are overwritten by later appends or lie past the encoded length.
        ///
        /// In bounds when at least 8 input bytes are left to encode: each takes at least one of
        /// the 3 bytes per input byte that ``encodedCountBound(_:defaultLineEnding:maxLength:)``
        /// reserves, and soft breaks never use more than it reserves for them. Checked anyway,
        /// once per word, because a wrong bound would write past the buffer.
        @inline(__always)
        mutating func append(word: UInt64, keeping count: Int) {
            precondition(self.count + 8 <= buffer.count, "quoted-printable output bound too small")
            // Safe: the precondition above: the 8 bytes lie within `buffer`, which is not empty.
            UnsafeMutableRawPointer(buffer.baseAddress! + self.count).storeBytes(of: word, as: UInt64.self)
            self.count += count
        }

        /// Appends `byte` as it is, or as `=XX` with uppercase hex digits (rule #1).
        @inline(__always)
        mutating func append(_ byte: UInt8, escaped: Bool) {
            guard escaped else { return append(byte) }
            buffer[count] = MIMEBytes.equals
            buffer[count + 1] = hexDigit(byte >> 4)
            buffer[count + 2] = hexDigit(byte & 0x0F)
            count += 3
        }

        /// Appends a hard line ending's bytes (nothing for `.none`).
        @inline(__always)
        mutating func append(_ ending: LineEnding) {
            if ending == .crlf { append(MIMEBytes.cr) }
            if ending != .none { append(MIMEBytes.lf) }
        }

        /// Appends `=` and `ending`'s bytes, or `defaultEnding` when `ending` is `.none`.
        @inline(__always)
        mutating func appendSoftLineBreak(_ ending: LineEnding, default defaultEnding: UnsafeBufferPointer<UInt8>) {
            append(MIMEBytes.equals)
            guard ending == .none else { return append(ending) }
            for byte in defaultEnding { append(byte) }
        }
    }

    /// The uppercase hex digit for `nibble` (RFC 2045 §6.7 rule #1 requires uppercase).
    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "A") &+ (nibble &- 10)
    }

    /// For each byte, its value as a hexadecimal digit (either case), or 0x7F when it is none: one
    /// load per digit in the decoding loop (checked against ``hexValue(_:)`` in the tests).
    static let hexDigitValues: StaticString = "\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{0}\u{1}\u{2}\u{3}\u{4}\u{5}\u{6}\u{7}\u{8}\u{9}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{a}\u{b}\u{c}\u{d}\u{e}\u{f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{a}\u{b}\u{c}\u{d}\u{e}\u{f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}"

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
    /// The result decodes to `Splicer.apply(edits, to: decode(raw))`. Every physical line that no
    /// edit touches is copied byte for byte from `raw`, odd encodings and all. A physical line ends
    /// at a soft line break or at the hard line break of its logical line (see ``LogicalLine``).
    /// The touched physical lines are re-encoded together with
    /// ``encode(_:defaultLineEnding:maxLineLength:)`` (physical lines of at most 76 characters):
    /// - their hard line breaks come from the edited decoded bytes, so they keep the original CRLF
    ///   or LF, and the soft breaks the encoder adds use the ending of their logical line;
    /// - a run that ends at a soft line break ends with that soft break, copied from `raw`, and is
    ///   encoded in 75 columns to leave room for its `=`; the physical lines after it follow
    ///   unchanged. (A link in the middle of a long quoted-printable paragraph changes the few
    ///   physical lines it stands on, not the whole paragraph.)
    ///
    /// The splice never makes a line that starts like a multipart delimiter ("--" and a boundary):
    /// a copied physical line was a line of `raw` already, and every physical line of a re-encoded
    /// run starts where a line of `raw` started or where the encoder put a soft break, and the
    /// encoder never starts a physical line with a literal `-` (issue 16, item 13).
    ///
    /// Which physical lines an edit touches, in decoded offsets:
    /// - a replacement or deletion of `lower..<upper` touches every physical line its bytes
    ///   overlap;
    /// - an insertion at `offset` touches the physical line that *contains* `offset`, that is the
    ///   one that starts at `offset` when `offset` is a boundary. An insertion at the very end of
    ///   the decoded body touches the last physical line.
    ///
    /// When a run ends at a hard line break but its edited bytes no longer end with one (an edit
    /// deleted it), the next physical line joins the run: decoding stops being line-local
    /// otherwise.
    /// - Parameters:
    ///   - raw: the encoded body.
    ///   - edits: edits in the coordinates of `decode(raw)`.
    /// - Returns: the encoded body with the edits applied; `raw` itself when there are no edits.
    static func splice(raw: [UInt8], edits: EditList) -> [UInt8] {
        if edits.isEmpty { return raw }
        let (decoded, map) = decodeWithLineMap(raw)
        return splice(raw: raw[...], decoded: decoded, map: map, edits: edits)
    }

    /// Splices like ``splice(raw:edits:)``, given what ``decodeWithLineMap(_:)`` returned for
    /// `raw`, for a caller that has already decoded the body and should not decode it again.
    /// The map's raw offsets count from `raw`'s first byte (see
    /// ``decodeWithLineMap(_:)-(ArraySlice<UInt8>)``), whatever the slice's own indices.
    static func splice(raw: ArraySlice<UInt8>, decoded: [UInt8], map: LineMap, edits: EditList) -> [UInt8] {
        var output: [UInt8] = []
        splice(raw: raw, decoded: decoded, map: map, edits: edits, into: &output)
        return output
    }

    /// ``splice(raw:decoded:map:edits:)`` appended to `output` (a message being written, say),
    /// without a buffer of its own.
    /// - Parameter fallbackLineEnding: the soft line break ending where the body gives none (a
    ///   one-line body): the line ending of the message around it (issue 16, item 20).
    static func splice(raw: ArraySlice<UInt8>, decoded: [UInt8], map: LineMap, edits: EditList,
                       into output: inout [UInt8], fallbackLineEnding: [UInt8] = [MIMEBytes.cr, MIMEBytes.lf]) {
        // Offsets from the body's first byte, made indices of the slice.
        let origin = raw.startIndex
        if edits.isEmpty { output.append(contentsOf: raw); return }
        let lines = map.lines
        guard !lines.isEmpty else {
            output.append(contentsOf: encode(Splicer.apply(edits, to: decoded), defaultLineEnding: fallbackLineEnding))
            return
        }
        let softBreaks = map.softBreaks
        let allEdits = edits.edits
        var growth = 0
        for edit in allEdits { growth += edit.replacement.count - edit.range.count }
        output.reserveCapacity(output.count + raw.count + max(growth + growth / 8, 0) + 16)
        var content: [UInt8] = []

        /// A physical line: piece `piece` of logical line `line`, which has one more piece than
        /// soft line breaks.
        struct PhysicalLine: Comparable {
            var line: Int
            var piece: Int
            static func < (a: PhysicalLine, b: PhysicalLine) -> Bool {
                a.line != b.line ? a.line < b.line : a.piece < b.piece
            }
        }
        func endsAtSoftBreak(_ p: PhysicalLine) -> Bool { p.piece < lines[p.line].softBreaks.count }
        // Where piece `piece` of logical line `line` ends (raw and decoded offsets); piece -1 "ends"
        // where the line starts.
        func pieceEnd(line: Int, piece: Int) -> (raw: Int, decoded: Int) {
            let logical = lines[line]
            if piece < 0 { return (logical.rawRange.lowerBound, logical.decodedRange.lowerBound) }
            if piece < logical.softBreaks.count {
                let softBreak = softBreaks[logical.softBreaks.lowerBound + piece]
                return (softBreak.rawEnd, softBreak.decodedOffset)
            }
            return (logical.rawRange.upperBound, logical.decodedRange.upperBound)
        }
        func start(_ p: PhysicalLine) -> (raw: Int, decoded: Int) { pieceEnd(line: p.line, piece: p.piece - 1) }
        func end(_ p: PhysicalLine) -> (raw: Int, decoded: Int) { pieceEnd(line: p.line, piece: p.piece) }
        // The index of the logical line containing `decodedOffset`, searching forward from `from`;
        // the last line for the end of the body.
        func lineIndex(containing decodedOffset: Int, from: Int) -> Int {
            var index = from
            while index < lines.count - 1, lines[index].decodedRange.upperBound <= decodedOffset { index += 1 }
            return index
        }
        // The physical line containing `decodedOffset`: its piece is the number of the line's soft
        // breaks at or before the offset.
        func physicalLine(containing decodedOffset: Int, from: Int) -> PhysicalLine {
            let line = lineIndex(containing: decodedOffset, from: from)
            let breaks = lines[line].softBreaks
            var piece = 0
            while piece < breaks.count, softBreaks[breaks.lowerBound + piece].decodedOffset <= decodedOffset { piece += 1 }
            return PhysicalLine(line: line, piece: piece)
        }
        func lastPhysicalLine(of edit: Edit, first: PhysicalLine) -> PhysicalLine {
            edit.range.isEmpty ? first : physicalLine(containing: edit.range.upperBound - 1, from: first.line)
        }
        // The soft break that ends `p`, in `raw`'s indices (`=`, blanks, line ending).
        func softBreakBytes(_ p: PhysicalLine) -> Range<Int>? {
            trailingSoftBreak(raw, (origin + start(p).raw)..<(origin + end(p).raw))
        }

        var rawCursor = 0
        var editIndex = 0
        var searchFrom = 0
        while editIndex < allEdits.count {
            let first = physicalLine(containing: allEdits[editIndex].range.lowerBound, from: searchFrom)
            var last = lastPhysicalLine(of: allEdits[editIndex], first: first)
            let groupEditStart = editIndex
            editIndex += 1
            var probe = first.line
            var finalSoftBreak: Range<Int>?
            while true {
                // Take in every further edit that touches the run.
                while editIndex < allEdits.count {
                    let next = physicalLine(containing: allEdits[editIndex].range.lowerBound, from: probe)
                    guard next <= last else { break }
                    probe = next.line
                    last = max(last, lastPhysicalLine(of: allEdits[editIndex], first: next))
                    editIndex += 1
                }
                // Build the run's edited decoded bytes.
                let decodedLower = start(first).decoded
                let decodedUpper = end(last).decoded
                content.removeAll(keepingCapacity: true)
                var cursor = decodedLower
                for edit in allEdits[groupEditStart..<editIndex] {
                    content.append(contentsOf: decoded[cursor..<edit.range.lowerBound])
                    content.append(contentsOf: edit.replacement)
                    cursor = edit.range.upperBound
                }
                content.append(contentsOf: decoded[cursor..<decodedUpper])
                if endsAtSoftBreak(last), let bytes = softBreakBytes(last) {
                    // The run ends inside its logical line, with the soft break that ended there.
                    finalSoftBreak = bytes
                    break
                }
                if content.last == MIMEBytes.lf || last.line == lines.count - 1 {
                    // A body that ends with a soft line break ("=" and no hard break) keeps it: the
                    // encoder ends such a run without one, and whatever follows the body (the end
                    // of the message, say) would otherwise join its last line.
                    if last.line == lines.count - 1, content.last != MIMEBytes.lf {
                        finalSoftBreak = trailingSoftBreak(
                            raw, (origin + lines[last.line].rawRange.lowerBound)..<(origin + lines[last.line].rawRange.upperBound))
                    }
                    break
                }
                last = PhysicalLine(line: last.line + 1, piece: 0)
            }
            output.append(contentsOf: raw[(origin + rawCursor)..<(origin + start(first).raw)])
            encode(content, into: &output,
                   defaultLineEnding: defaultLineEnding(lines: lines, last: last.line, fallback: fallbackLineEnding),
                   maxLineLength: finalSoftBreak == nil ? 76 : 75)
            if let finalSoftBreak { output.append(contentsOf: raw[finalSoftBreak]) }
            rawCursor = finalSoftBreak.map { $0.upperBound - origin } ?? lines[last.line].rawRange.upperBound
            searchFrom = last.line
        }
        output.append(contentsOf: raw[(origin + rawCursor)...])
    }

    /// The range of the soft line break that ends `range` (`=`, optional blanks, and CRLF, LF or
    /// the end of the data) when the line has no hard break, else nil.
    private static func trailingSoftBreak(_ raw: ArraySlice<UInt8>, _ range: Range<Int>) -> Range<Int>? {
        var i = range.upperBound
        if i > range.lowerBound, raw[i - 1] == MIMEBytes.lf {
            i -= 1
            if i > range.lowerBound, raw[i - 1] == MIMEBytes.cr { i -= 1 }
        }
        while i > range.lowerBound, raw[i - 1] == MIMEBytes.space || raw[i - 1] == MIMEBytes.tab { i -= 1 }
        // An `=` followed only by blanks and the line break is a soft break, whatever comes before
        // it (an `=` before it that is not followed by two hex digits is a literal `=`).
        guard i > range.lowerBound, raw[i - 1] == MIMEBytes.equals else { return nil }
        return (i - 1)..<range.upperBound
    }

    /// The soft line break ending for a re-encoded run whose edited bytes may end without a hard
    /// line break: the original line's own ending, else its soft break's, else the line before's,
    /// else `fallback` (the message's).
    private static func defaultLineEnding(lines: [LogicalLine], last: Int, fallback: [UInt8]) -> [UInt8] {
        let line = lines[last]
        if line.lineEnding != .none { return line.lineEnding.bytes }
        if line.softLineEnding != .none { return line.softLineEnding.bytes }
        if last > 0 { return lines[last - 1].lineEnding.bytes }
        return fallback
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
