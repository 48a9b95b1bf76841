/// The Punycode encoder of RFC 3492, as IDNA (RFC 5891 §4.4) uses it to turn a Unicode label into
/// the letters, digits and hyphens of its `xn--` form (the A-label).
///
/// Only encoding is needed: an excluded domain and a link's host are both brought to their A-label
/// form and compared there, so an `xn--` label never has to be decoded.
enum Punycode {
    // The parameters of RFC 3492 §5.
    static let base = 36
    static let tMin = 1
    static let tMax = 26
    static let skew = 38
    static let damp = 700
    static let initialBias = 72
    static let initialN = 0x80

    /// The Punycode form of `scalars` (RFC 3492 §6.3), without the `xn--` prefix: the basic (ASCII)
    /// code points in their order, a `-` when there were any, then the encoded insertions in lowercase.
    ///
    /// - Returns: the encoded bytes, or nil on overflow (the RFC's integer limit, which no label of
    ///   63 octets comes near).
    static func encode(_ scalars: [Unicode.Scalar]) -> [UInt8]? {
        let input = scalars.map { Int($0.value) }
        var output: [UInt8] = input.filter { $0 < 0x80 }.map { UInt8($0) }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append(UInt8(ascii: "-")) }
        var n = initialN
        var delta = 0
        var bias = initialBias
        while handled < input.count {
            // The smallest code point not yet handled.
            let m = input.lazy.filter { $0 >= n }.min()!
            let (scaled, overflow1) = (m - n).multipliedReportingOverflow(by: handled + 1)
            let (sum, overflow2) = delta.addingReportingOverflow(scaled)
            guard !overflow1, !overflow2, sum <= Int(UInt32.max) else { return nil }
            delta = sum
            n = m
            for c in input {
                if c < n {
                    delta += 1
                    guard delta <= Int(UInt32.max) else { return nil }
                }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta: delta, count: handled + 1, first: handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }

    /// RFC 3492 §6.1.
    static func adapt(delta: Int, count: Int, first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / count
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    /// 0–25 are `a`–`z`, 26–35 are `0`–`9` (RFC 3492 §5).
    static func digit(_ d: Int) -> UInt8 {
        d < 26 ? UInt8(ascii: "a") + UInt8(d) : UInt8(ascii: "0") + UInt8(d - 26)
    }
}
