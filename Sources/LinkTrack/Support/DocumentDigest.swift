/// A fast 128-bit digest of a byte string, for identifiers derived from content; NOT cryptographic.
///
/// `linktrack filter --input html` without `--message-id` names the document by a digest of it,
/// so the same document always gets the same id. That id is no secret and needs no collision
/// resistance against an adversary: it travels inside tokens whose MAC covers it. So it need not
/// be SHA-256, a noticeable share of a filter run on a large document; this costs a fraction of
/// that (four independent multiply-rotate lanes over 32-byte stripes, then a final avalanche per
/// half).
enum DocumentDigest {
    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63

    /// The digest of `bytes`, as two 64-bit halves.
    static func digest(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        let count = bytes.count
        var a = prime1 &+ prime2
        var b = prime2
        var c: UInt64 = 0
        var d = 0 &- prime1
        var i = 0
        if let base = bytes.baseAddress {
            while i + 32 <= count {
                // Safe: `i + 32 <= count`: the four 8-byte loads lie within `bytes` (unaligned loads are
                // allowed on any address).
                a = round(a, base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                b = round(b, base.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
                c = round(c, base.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
                d = round(d, base.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
                i += 32
            }
        }
        var high = rotate(a, 1) &+ rotate(b, 7) &+ rotate(c, 12) &+ rotate(d, 18) &+ UInt64(count)
        var low = (rotate(a, 29) ^ rotate(b, 37) ^ rotate(c, 43) ^ rotate(d, 53)) &* prime3 &+ UInt64(count)
        if let base = bytes.baseAddress {
            while i + 8 <= count {
                // Safe: `i + 8 <= count`: the load lies within `bytes`.
                let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                high = rotate(high ^ round(0, word), 27) &* prime1 &+ prime4
                low = rotate(low ^ round(prime3, word), 31) &* prime2 &+ prime1
                i += 8
            }
            while i < count {
                // Safe: `i < count`.
                let byte = UInt64(base.load(fromByteOffset: i, as: UInt8.self))
                high = rotate(high ^ (byte &* prime1), 11) &* prime2
                low = rotate(low ^ (byte &* prime4), 17) &* prime3
                i += 1
            }
        }
        return (avalanche(high), avalanche(low ^ high))
    }

    @inline(__always) private static func round(_ lane: UInt64, _ word: UInt64) -> UInt64 {
        rotate(lane &+ word &* prime2, 31) &* prime1
    }

    @inline(__always) private static func rotate(_ x: UInt64, _ r: UInt64) -> UInt64 {
        (x << r) | (x >> (64 - r))
    }

    @inline(__always) private static func avalanche(_ x: UInt64) -> UInt64 {
        var h = x
        h ^= h >> 33
        h = h &* prime2
        h ^= h >> 29
        h = h &* prime3
        h ^= h >> 32
        return h
    }
}
