/// How a base64 body was laid out in lines, so that it can be re-encoded the same way.
///
/// `encode(decode(raw).bytes, layout: decode(raw).layout) == raw` holds for every body written by
/// a conventional encoder: equal-length lines (the last one shorter) of a multiple of 4
/// characters, one line ending style, canonical padding bits.
struct Base64Layout: Sendable, Equatable {
    /// Characters per line, excluding the line ending: the length of the first line. `Int.max`
    /// (or 0) means a single line of any length.
    var lineLength: Int
    /// The first line's ending, CRLF or LF; CRLF when the body has no line break.
    var lineEnding: [UInt8]
    /// Whether the last line is followed by a line ending.
    var endsWithLineEnding: Bool

    /// 76-character lines ending in CRLF, the RFC 2045 §6.8 maximum and the common default.
    static let mimeDefault = Base64Layout(lineLength: 76, lineEnding: [MIMEBytes.cr, MIMEBytes.lf], endsWithLineEnding: true)
}

/// Why a base64 body could not be decoded. Offsets are raw offsets into the encoded body.
enum Base64Error: Error, Equatable {
    /// A byte that is neither in the base64 alphabet, nor `=`, nor whitespace.
    case invalidCharacter(offset: Int, byte: UInt8)
    /// An `=` that is not part of the final padding, or data after the padding.
    case misplacedPadding(offset: Int)
    /// The body ends in a 4-character group with only one data character, or with
    /// incomplete padding; `length` counts the alphabet and padding characters.
    case truncated(length: Int)
}

extension Base64Error: CustomStringConvertible {
    var description: String {
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
enum Base64 {
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
    /// same data still re-encodes to the same single line; a longer single line gets `Int.max`.
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
                    lineLength = firstLineLength
                } else {
                    let singleLength = firstLineLength >= 0 ? firstLineLength : currentLineLength
                    lineLength = singleLength <= 76 ? 76 : Int.max
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
