/// The parser's input: the document read as ISO-8859-1, handed to libxml2 as UTF-8 (see
/// ``HTMLScanner``).
///
/// libxml2 can do this conversion itself (an ISO-8859-1 encoding handler), but its converter goes
/// byte by byte through a general-purpose interface, a visible share of a rewrite (the figure is in
/// Benchmarks/README.md). This reader converts straight into the parser's buffer when the parser
/// asks for more input, copying eight bytes at a time while they are ASCII, which most of an HTML
/// document is; the parser reads the result as UTF-8 with no handler. The parse is the same:
/// libxml2 parses the UTF-8 its handler would have produced, byte for byte, and like the handler's
/// output it only ever holds a window of it.
///
/// (libxml2 2.9.14 cannot read a static buffer without an encoding handler: after its first
/// shrink it reads the buffer again from near the start. Hence a pull reader, not a converted
/// copy read in place.)
final class Latin1Reading {
    private let source: UnsafeBufferPointer<UInt8>
    private var offset = 0

    init(_ source: UnsafeBufferPointer<UInt8>) {
        self.source = source
    }

    /// libxml2's read callback (`xmlInputReadCallback`): fills `buffer` with up to `length` bytes.
    static let read: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<CChar>?, Int32) -> Int32 = {
        context, buffer, length in
        guard let context, let buffer, length > 0 else { return -1 }
        // Safe: `context` is the reader that ``HTMLScanner/withParserContext(reading:_:)`` retains
        // until the parser context is freed; `buffer` holds `length` bytes (libxml2's contract),
        // which is the capacity `convert` is given; `reader.offset` never passes `source.count`.
        let reader = Unmanaged<Latin1Reading>.fromOpaque(context).takeUnretainedValue()
        let output = UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: UInt8.self)
        let (consumed, written) = convert(UnsafeBufferPointer(rebasing: reader.source[reader.offset...]),
                                          into: output, capacity: Int(length))
        reader.offset += consumed
        return Int32(written)
    }

    /// Writes the UTF-8 of a prefix of `input` (read as ISO-8859-1) at `output`, as much as fits
    /// in `capacity` bytes without splitting a character.
    /// - Returns: how many input bytes were converted and how many output bytes written.
    /// - Warning: `output` must hold `capacity` bytes.
    static func convert(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutablePointer<UInt8>,
                        capacity: Int) -> (consumed: Int, written: Int) {
        guard let start = input.baseAddress else { return (0, 0) }
        let count = input.count
        let source = UnsafeRawPointer(start)
        let target = UnsafeMutableRawPointer(output)
        let top: UInt64 = 0x8080_8080_8080_8080
        var i = 0
        var o = 0
        while i + 8 <= count, o + 16 <= capacity {
            // Thirty-two bytes at once while they are all ASCII (most of a document). Input and
            // output move together in such a run, so one bound, taken once, serves both.
            let room = min(count &- i, capacity &- o)
            var k = 0
            while k &+ 32 <= room {
                // Safe: reads i + k..<i + k + 32 <= count, writes o + k..<o + k + 32 <= capacity.
                let a = source.loadUnaligned(fromByteOffset: i &+ k, as: UInt64.self)
                let b = source.loadUnaligned(fromByteOffset: i &+ k &+ 8, as: UInt64.self)
                let c = source.loadUnaligned(fromByteOffset: i &+ k &+ 16, as: UInt64.self)
                let d = source.loadUnaligned(fromByteOffset: i &+ k &+ 24, as: UInt64.self)
                guard (a | b | c | d) & top == 0 else { break }
                target.storeBytes(of: a, toByteOffset: o &+ k, as: UInt64.self)
                target.storeBytes(of: b, toByteOffset: o &+ k &+ 8, as: UInt64.self)
                target.storeBytes(of: c, toByteOffset: o &+ k &+ 16, as: UInt64.self)
                target.storeBytes(of: d, toByteOffset: o &+ k &+ 24, as: UInt64.self)
                k &+= 32
            }
            i &+= k
            o &+= k
            guard i + 8 <= count, o + 16 <= capacity else { break }
            // Safe: reads i..<i + 8 <= count; writes at most 16 bytes from o, and o + 16 <= capacity.
            let word = source.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if word & top == 0 {
                target.storeBytes(of: word, toByteOffset: o, as: UInt64.self)
                i += 8
                o += 8
            } else {
                for _ in 0..<8 {
                    o = append(start[i], to: output, at: o)
                    i += 1
                }
            }
        }
        while i < count {
            // Safe: i < count, and the guard keeps the write within `capacity`.
            let byte = start[i]
            guard o + (byte < 0x80 ? 1 : 2) <= capacity else { break }
            o = append(byte, to: output, at: o)
            i += 1
        }
        return (i, o)
    }

    /// U+0000 to U+007F as one byte, U+0080 to U+00FF as two (110000xx 10xxxxxx).
    @inline(__always)
    private static func append(_ byte: UInt8, to output: UnsafeMutablePointer<UInt8>, at offset: Int) -> Int {
        if byte < 0x80 {
            output[offset] = byte
            return offset + 1
        }
        output[offset] = 0xC0 | (byte >> 6)
        output[offset + 1] = 0x80 | (byte & 0x3F)
        return offset + 2
    }
}
