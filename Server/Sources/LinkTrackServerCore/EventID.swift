import Synchronization

/// Event ids in UUID form, RFC 9562 version 7 layout (lower case), made without a system call per
/// event.
///
/// The first 64 bits are a 48-bit Unix time in milliseconds, the version nibble 7 and a 12-bit
/// sequence, taken from one per-process value that only grows (each id takes the larger of the
/// previous value plus one and the current time), so ids are unique within a process and in time
/// order. The last 64 bits are drawn at random once per process (`SystemRandomNumberGenerator`), with the variant
/// bits, so ids of different processes and restarts differ unless two processes draw the same 62
/// bits. Stores de-duplicate by event id, so uniqueness is what matters; and ids in time order
/// append to the right edge of a store's B-tree index on them (one hot page per commit, not one
/// random page per event).
public enum EventID {
    static let processPart: UInt64 = {
        // Once per process: the system's generator (getrandom(2) on Linux).
        var generator = SystemRandomNumberGenerator()
        let value: UInt64 = generator.next()
        // RFC 9562 variant: 10 in the top bits of byte 8.
        return (value & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
    }()
    /// Milliseconds << 12 | sequence, of the last id made.
    static let last = Atomic<UInt64>(0)

    /// A new id, `tttttttt-tttt-7sss-yxxx-xxxxxxxxxxxx`, for an event at `milliseconds` since 1970.
    public static func next(milliseconds: Int64) -> String {
        let candidate = UInt64(clamping: max(0, milliseconds)) << 12
        var current = last.load(ordering: .relaxed)
        while true {
            let value = max(current &+ 1, candidate)
            let (exchanged, original) = last.compareExchange(expected: current, desired: value, ordering: .relaxed)
            if exchanged { return format(high: withVersion(value), low: processPart) }
            current = original
        }
    }

    /// The 60 bits (48 of time, 12 of sequence) with the version nibble 7 inserted at bits 12-15.
    static func withVersion(_ bits: UInt64) -> UInt64 {
        ((bits >> 12) << 16) | 0x7000 | (bits & 0xFFF)
    }

    static func format(high: UInt64, low: UInt64) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { out in
            var o = 0
            for nibble in 0..<32 {
                // Dashes before hex digits 8, 12, 16 and 20: 8-4-4-4-12.
                if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                    out[o] = UInt8(ascii: "-")
                    o += 1
                }
                let word = nibble < 16 ? high : low
                let shift = UInt64(15 - nibble % 16) * 4
                out[o] = digits.utf8Start[Int((word >> shift) & 0xF)]
                o += 1
            }
            return o
        }
    }
}
