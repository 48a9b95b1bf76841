import Testing
@testable import LinkTrackServerCore

struct IPAddressTests {
    @Test(arguments: [
        ("127.0.0.1", true), ("::1", true), ("2001:db8::7", true), ("::ffff:1.2.3.4", true), ("[::1]", true),
        ("1.2.3", false), ("256.1.1.1", false), ("01234.1.1.1", false), ("1::2::3", false), ("abc", false),
        ("", false), ("1:2:3:4:5:6:7:8:9", false), ("fe80::1%eth0", false),
    ])
    func parsing(_ row: (String, Bool)) {
        #expect((IPAddress(row.0) != nil) == row.1, "\(row.0)")
    }

    @Test func mappedIPv4EqualsIPv4() {
        #expect(IPAddress("::ffff:10.1.2.3")?.bytes == IPAddress("10.1.2.3")?.bytes)
        #expect(IPAddress("10.1.2.3")?.isIPv4 == true)
        #expect(IPAddress("2001:db8::1")?.isIPv4 == false)
    }

    @Test(arguments: [
        ("10.0.0.0/8", "10.255.1.2", true), ("10.0.0.0/8", "11.0.0.1", false),
        ("192.168.1.0/24", "192.168.1.77", true), ("192.168.1.0/24", "192.168.2.1", false),
        ("127.0.0.1", "127.0.0.1", true), ("127.0.0.1", "127.0.0.2", false),
        ("2001:db8::/32", "2001:db8:ffff::1", true), ("2001:db8::/32", "2001:db9::1", false),
        ("0.0.0.0/0", "8.8.8.8", true), ("0.0.0.0/0", "::1", false), ("::/0", "::1", true),
        ("17.0.0.0/8", "17.58.0.1", true),
    ])
    func ranges(_ row: (String, String, Bool)) throws {
        let range = try #require(IPAddressRange(row.0))
        #expect(range.contains(try #require(IPAddress(row.1))) == row.2, "\(row.0) ∋ \(row.1)")
    }

    @Test func badRanges() {
        #expect(IPAddressRange("10.0.0.0/33") == nil)
        #expect(IPAddressRange("::/129") == nil)
        #expect(IPAddressRange("10.0.0.0/x") == nil)
        #expect(IPAddressRange("nonsense/8") == nil)
    }

    static let proxies = [IPAddressRange("127.0.0.2")!, IPAddressRange("10.0.0.0/8")!]

    @Test func forwardedForOnlyFromTrustedProxies() {
        let client = IPAddress("203.0.113.9")!
        // A client that is not a proxy cannot forge its address.
        #expect(ClientAddress.resolve(peer: client, forwardedFor: ["1.1.1.1"], trustedProxies: Self.proxies) == client)
        // Through one trusted proxy: the address the proxy appended.
        #expect(ClientAddress.resolve(peer: IPAddress("127.0.0.2"), forwardedFor: ["198.51.100.4"],
                                      trustedProxies: Self.proxies)?.text == "198.51.100.4")
        // A forged entry left of the real one is ignored: the right-most untrusted address counts.
        #expect(ClientAddress.resolve(peer: IPAddress("127.0.0.2"), forwardedFor: ["6.6.6.6, 198.51.100.4"],
                                      trustedProxies: Self.proxies)?.text == "198.51.100.4")
        // Two proxies in a row, and several header fields.
        #expect(ClientAddress.resolve(peer: IPAddress("127.0.0.2"), forwardedFor: ["6.6.6.6", "198.51.100.4, 10.1.1.1"],
                                      trustedProxies: Self.proxies)?.text == "198.51.100.4")
        // Garbage from a trusted proxy: keep the last address that could be read.
        #expect(ClientAddress.resolve(peer: IPAddress("127.0.0.2"), forwardedFor: ["junk"], trustedProxies: Self.proxies)?.text == "127.0.0.2")
        // No header: the proxy's own address.
        #expect(ClientAddress.resolve(peer: IPAddress("127.0.0.2"), forwardedFor: [], trustedProxies: Self.proxies)?.text == "127.0.0.2")
        #expect(ClientAddress.resolve(peer: nil, forwardedFor: ["1.1.1.1"], trustedProxies: Self.proxies) == nil)
    }
}
