import Foundation

/// An IPv4 or IPv6 address as 16 bytes (IPv4 as its IPv4-mapped IPv6 form, `::ffff:a.b.c.d`), so
/// one comparison serves both families.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]
    /// The text it was parsed from, as the client or proxy wrote it (the event's `ipAddress`).
    public let text: String

    static let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

    /// Parses `1.2.3.4`, `::1`, `2001:db8::7`, `::ffff:1.2.3.4` and `[::1]`; nil for anything else.
    public init?(_ text: some StringProtocol) {
        var s = Substring(text)
        if s.hasPrefix("["), s.hasSuffix("]") { s = s.dropFirst().dropLast() }
        if let v4 = Self.parseIPv4(s) {
            bytes = Self.mappedPrefix + v4
        } else if let v6 = Self.parseIPv6(s) {
            bytes = v6
        } else {
            return nil
        }
        self.text = String(s)
    }

    /// An address from a socket's raw bytes: 4 (IPv4) or 16 (IPv6, an IPv4-mapped one written as
    /// `::ffff:a.b.c.d`); nil for any other length. The text is what `inet_ntop` writes (IPv4 in
    /// dotted decimal, IPv6 in its shortest form), as the peer would have been parsed from.
    public init?(rawBytes: [UInt8]) {
        switch rawBytes.count {
        case 4:
            bytes = Self.mappedPrefix + rawBytes
            var text = ""
            text.reserveCapacity(15)
            for (i, byte) in rawBytes.enumerated() {
                if i > 0 { text.append(".") }
                text.append(String(byte))
            }
            self.text = text
        case 16:
            bytes = rawBytes
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            let ok = rawBytes.withUnsafeBytes { raw in inet_ntop(AF_INET6, raw.baseAddress, &buffer, socklen_t(buffer.count)) } != nil
            guard ok else { return nil }
            text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        default:
            return nil
        }
    }

    public var isIPv4: Bool { bytes.starts(with: Self.mappedPrefix) }
    public var description: String { text }

    static func parseIPv4(_ s: Substring) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let n = Int(part), n <= 255 else { return nil }
            out.append(UInt8(n))
        }
        return out
    }

    static func parseIPv6(_ s: Substring) -> [UInt8]? {
        guard s.contains(":"), s.count <= 45 else { return nil }
        var head: [UInt8] = []
        var tail: [UInt8] = []
        var sawGap = false
        let halves = s.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ text: String, allowIPv4Tail: Bool) -> [UInt8]? {
            if text.isEmpty { return [] }
            var out: [UInt8] = []
            let items = text.split(separator: ":", omittingEmptySubsequences: false)
            for (i, item) in items.enumerated() {
                if allowIPv4Tail, i == items.count - 1, item.contains(".") {
                    guard let v4 = parseIPv4(item) else { return nil }
                    out += v4
                    continue
                }
                guard !item.isEmpty, item.count <= 4, let n = UInt16(item, radix: 16) else { return nil }
                out += [UInt8(n >> 8), UInt8(n & 0xFF)]
            }
            return out
        }
        if halves.count == 2 {
            sawGap = true
            guard let h = groups(halves[0], allowIPv4Tail: false), let t = groups(halves[1], allowIPv4Tail: true) else { return nil }
            head = h
            tail = t
        } else {
            guard let h = groups(halves[0], allowIPv4Tail: true) else { return nil }
            head = h
        }
        if sawGap {
            guard head.count + tail.count <= 14 else { return nil }
            return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
        }
        return head.count == 16 ? head : nil
    }
}

/// An address or a CIDR range (`10.0.0.0/8`, `2001:db8::/32`, `127.0.0.1`), as `TrustedProxies` lists them.
public struct IPAddressRange: Sendable, Hashable {
    public let network: IPAddress
    /// Prefix length over the 16-byte form (an IPv4 `/8` is 96 + 8).
    public let prefixLength: Int

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        network = address
        if parts.count == 2 {
            guard let n = Int(parts[1]), n >= 0 else { return nil }
            let maximum = address.isIPv4 ? 32 : 128
            guard n <= maximum else { return nil }
            prefixLength = address.isIPv4 ? 96 + n : n
        } else {
            prefixLength = 128
        }
    }

    public func contains(_ address: IPAddress) -> Bool {
        var remaining = prefixLength
        var i = 0
        while remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if network.bytes[i] & mask != address.bytes[i] & mask { return false }
            remaining -= 8
            i += 1
        }
        return true
    }
}

/// Which address an event records for the client.
public enum ClientAddress {
    /// The socket's peer address, unless that peer is a trusted proxy: then the right-most address of
    /// `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends the address it saw, so
    /// only entries appended by trusted proxies can be believed; anything left of them is the
    /// client's to forge).
    /// - Parameters:
    ///   - peer: the socket's remote address (nil in tests without a socket).
    ///   - forwardedFor: every `X-Forwarded-For` field value, in order.
    ///   - trustedProxies: `TrustedProxies`.
    public static func resolve(peer: IPAddress?, forwardedFor: [String], trustedProxies: [IPAddressRange]) -> IPAddress? {
        guard let peer else { return nil }
        guard trustedProxies.contains(where: { $0.contains(peer) }) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmed(of: " \t") }
        var candidate = peer
        for hop in hops.reversed() {
            guard let address = IPAddress(hop) else { return candidate }
            candidate = address
            if !trustedProxies.contains(where: { $0.contains(address) }) { return address }
        }
        return candidate
    }
}

extension StringProtocol {
    func trimmed(of set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
