#if canImport(Glibc)
import Glibc
#endif

/// Decodes character references in an attribute value the way an HTML5 browser does
/// (WHATWG HTML §13.2.5.72-80, "character reference state" in an attribute value).
///
/// Deliberate tolerance and limits:
/// - Named references are looked up in HTML 4's table (libxml2's), plus `&apos;` and the upper-case
///   legacy names `AMP`, `LT`, `GT`, `QUOT`, `COPY`, `REG`. HTML5-only names such as `&NewLine;` stay
///   as written; no web link needs them.
/// - Without a `;`, only the legacy names (the Latin-1 entities and `amp`, `lt`, `gt`, `quot`) are
///   decoded, and, as in attribute values, not when the next character is `=` or alphanumeric: so
///   `&region=1` stays as written while `&amp;` and `&amp` become `&`.
/// - Numeric references follow HTML5: no `;` needed, 0, surrogates and values above U+10FFFF become
///   U+FFFD, and 0x80-0x9F are read as windows-1252.
package enum CharacterReference {
    /// Returns the decoded bytes (references as UTF-8, other bytes as they are).
    package static func decodeAttributeValue(_ raw: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        decodeAttributeValue(raw, into: &out)
        return out
    }

    /// ``decodeAttributeValue(_:)`` written over `out`, whose storage is reused.
    static func decodeAttributeValue(_ raw: ArraySlice<UInt8>, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        raw.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            out.reserveCapacity(buffer.count)
            // Runs without `&` are copied whole; memchr finds the next reference. Safe: memchr
            // reads runStart..<count of the buffer, and `at` lies in it.
            var runStart = 0
            while runStart < buffer.count,
                  let hit = memchr(base + runStart, Int32(UInt8(ascii: "&")), buffer.count - runStart) {
                let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<at]))
                if let (scalar, length) = decodeReference(raw, at: raw.startIndex + at) {
                    appendUTF8(scalar, to: &out)
                    runStart = at + length
                } else {
                    out.append(UInt8(ascii: "&"))
                    runStart = at + 1
                }
            }
            if runStart < buffer.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart...])) }
        }
    }

    /// Decodes the reference starting at the `&` at `start`: its code point and byte length.
    static func decodeReference(_ raw: ArraySlice<UInt8>, at start: Int) -> (UInt32, Int)? {
        var i = start + 1
        guard i < raw.endIndex else { return nil }
        if raw[i] == UInt8(ascii: "#") {
            i += 1
            var hex = false
            if i < raw.endIndex, raw[i] | 0x20 == UInt8(ascii: "x") { hex = true; i += 1 }
            let digitsStart = i
            var value: UInt32 = 0
            var overflow = false
            while i < raw.endIndex, let d = digit(raw[i], hex: hex) {
                value = value &* (hex ? 16 : 10) &+ d
                if value > 0x10FFFF { overflow = true; value = 0x110000 }
                i += 1
            }
            guard i > digitsStart else { return nil }
            if i < raw.endIndex, raw[i] == UInt8(ascii: ";") { i += 1 }
            return (numericValue(overflow ? 0x110000 : value), i - start)
        }
        // Named: the alphanumeric run, then ';' or the longest legacy prefix.
        var end = i
        while end < raw.endIndex, end - i < 32, raw[end].isASCIIAlphanumeric { end += 1 }
        guard end > i else { return nil }
        if end < raw.endIndex, raw[end] == UInt8(ascii: ";"), let value = lookup(raw[i..<end]) {
            return (value, end + 1 - start)
        }
        var prefixEnd = end
        while prefixEnd > i {
            let name = raw[i..<prefixEnd]
            if let value = legacyValue(name) {
                let next = prefixEnd < raw.endIndex ? raw[prefixEnd] : 0
                if next == UInt8(ascii: "=") || next.isASCIIAlphanumeric { return nil }
                return (value, prefixEnd - start)
            }
            prefixEnd -= 1
        }
        return nil
    }

    static func lookup(_ name: ArraySlice<UInt8>) -> UInt32? {
        if let value = commonName(name) { return value }
        return HTMLScanner.namedCharacterReference(name)
    }

    /// The names links use (`amp`, `lt`, `gt`, `quot`), and those HTML5 adds to libxml2's HTML 4 table
    /// (`apos`, and the upper-case legacy `AMP`, `LT`, `GT`, `QUOT`, `COPY`, `REG`), compared without
    /// building a key: `&amp;` is in nearly every link with a query.
    static func commonName(_ name: ArraySlice<UInt8>) -> UInt32? {
        func equals(_ literal: StaticString) -> Bool {
            guard literal.utf8CodeUnitCount == name.count else { return false }
            var k = 0
            for b in name {
                // Safe: k < name.count, which equals the literal's length.
                guard b == literal.utf8Start[k] else { return false }
                k += 1
            }
            return true
        }
        switch name.count {
        case 2:
            if equals("lt") || equals("LT") { return 0x3C }
            if equals("gt") || equals("GT") { return 0x3E }
        case 3:
            if equals("amp") || equals("AMP") { return 0x26 }
            if equals("REG") { return 0xAE }
        case 4:
            if equals("quot") || equals("QUOT") { return 0x22 }
            if equals("apos") { return 0x27 }
            if equals("COPY") { return 0xA9 }
        default: break
        }
        return nil
    }

    /// Names HTML5 decodes without a `;`: `amp`, `lt`, `gt`, `quot`, their upper-case forms with
    /// `COPY` and `REG`, and the Latin-1 entities (U+00A0 to U+00FF).
    static func legacyValue(_ name: ArraySlice<UInt8>) -> UInt32? {
        if let value = commonName(name) { return value == 0x27 ? nil : value }
        guard let value = HTMLScanner.namedCharacterReference(name) else { return nil }
        if value == 0x26 || value == 0x3C || value == 0x3E || value == 0x22 || (0xA0...0xFF).contains(value) {
            return value
        }
        return nil
    }

    static func digit(_ b: UInt8, hex: Bool) -> UInt32? {
        switch b {
        case 0x30...0x39: return UInt32(b - 0x30)
        case 0x41...0x46 where hex: return UInt32(b - 0x41 + 10)
        case 0x61...0x66 where hex: return UInt32(b - 0x61 + 10)
        default: return nil
        }
    }

    static let windows1252: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]

    static func numericValue(_ value: UInt32) -> UInt32 {
        if value == 0 || value > 0x10FFFF || (0xD800...0xDFFF).contains(value) { return 0xFFFD }
        if (0x80...0x9F).contains(value) { return windows1252[Int(value - 0x80)] }
        return value
    }

    static func appendUTF8(_ value: UInt32, to out: inout [UInt8]) {
        if value < 0x80 { out.append(UInt8(value)); return }
        let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
        out.append(contentsOf: String(Character(scalar)).utf8)
    }
}
