import Testing
@testable import LinkTrack

/// `ExcludedDomains`: which hosts an entry matches, and which entries are refused.
@Suite("LinkRules: ExcludedDomains")
struct ExcludedDomainsTests {
    struct MatchRow: Sendable, CustomTestStringConvertible {
        var name: String
        var entries: [String]
        var host: String
        var matches: Bool
        var testDescription: String { name }
    }

    static let matchRows: [MatchRow] = [
        MatchRow(name: "exact host matches itself", entries: ["partner.example"], host: "partner.example", matches: true),
        MatchRow(name: "exact host does not match a subdomain", entries: ["partner.example"], host: "www.partner.example", matches: false),
        MatchRow(name: "exact host does not match a longer name ending in it", entries: ["partner.example"], host: "mypartner.example", matches: false),
        MatchRow(name: "hosts compare case-insensitively", entries: ["Partner.Example"], host: "PARTNER.example", matches: true),
        MatchRow(name: "a trailing root dot on the host is ignored", entries: ["partner.example"], host: "partner.example.", matches: true),
        MatchRow(name: "*. wildcard matches a subdomain", entries: ["*.bank.example"], host: "login.bank.example", matches: true),
        MatchRow(name: "*. wildcard matches at any depth", entries: ["*.bank.example"], host: "a.b.c.bank.example", matches: true),
        MatchRow(name: "*. wildcard does not match the apex", entries: ["*.bank.example"], host: "bank.example", matches: false),
        MatchRow(name: "wildcard does not match a name merely ending in the text", entries: ["*.bank.example"], host: "evilbank.example", matches: false),
        MatchRow(name: "leading-dot wildcard matches a subdomain", entries: [".bank.example"], host: "www.bank.example", matches: true),
        MatchRow(name: "leading-dot wildcard does not match the apex", entries: [".bank.example"], host: "bank.example", matches: false),
        MatchRow(name: "apex and wildcard together cover both", entries: ["bank.example", "*.bank.example"], host: "bank.example", matches: true),
        MatchRow(name: "Unicode entry matches an xn-- host", entries: ["bücher.example"], host: "xn--bcher-kva.example", matches: true),
        MatchRow(name: "xn-- entry matches a Unicode host", entries: ["xn--bcher-kva.example"], host: "bücher.example", matches: true),
        MatchRow(name: "Unicode host in upper case matches (Unicode lowercase)", entries: ["xn--bcher-kva.example"], host: "BÜCHER.example", matches: true),
        MatchRow(name: "xn-- host in upper case matches", entries: ["bücher.example"], host: "XN--BCHER-KVA.EXAMPLE", matches: true),
        MatchRow(name: "Unicode wildcard matches a Unicode subdomain", entries: ["*.bücher.example"], host: "shop.bücher.example", matches: true),
        MatchRow(name: "no entries match nothing", entries: [], host: "partner.example", matches: false),
        MatchRow(name: "an empty host matches nothing", entries: ["partner.example"], host: "", matches: false),
        MatchRow(name: "an IPv4 host matches an exact entry", entries: ["192.0.2.1"], host: "192.0.2.1", matches: true),
    ]

    @Test(arguments: matchRows)
    func matches(_ row: MatchRow) throws {
        let domains = try ExcludedDomains(entries: row.entries)
        #expect(domains.matches(host: Array(row.host.utf8)) == row.matches)
    }

    struct DestinationRow: Sendable, CustomTestStringConvertible {
        var name: String
        var destination: String
        var matches: Bool
        var testDescription: String { name }
    }

    static let destinationRows: [DestinationRow] = [
        DestinationRow(name: "https URL on the host", destination: "https://partner.example/a?b", matches: true),
        DestinationRow(name: "scheme in upper case", destination: "HTTP://partner.example", matches: true),
        DestinationRow(name: "userinfo and port are not the host", destination: "https://user@partner.example:8443/x", matches: true),
        DestinationRow(name: "userinfo naming the host does not match", destination: "https://partner.example@evil.example/", matches: false),
        DestinationRow(name: "wildcard subdomain with a query", destination: "https://www.bank.example?x=1", matches: true),
        DestinationRow(name: "mailto is not a web link", destination: "mailto:a@partner.example", matches: false),
        DestinationRow(name: "relative reference", destination: "/partner.example", matches: false),
    ]

    @Test(arguments: destinationRows)
    func matchesDestination(_ row: DestinationRow) throws {
        let domains = try ExcludedDomains(entries: ["partner.example", "*.bank.example"])
        #expect(domains.matches(destination: Array(row.destination.utf8)) == row.matches)
    }

    struct InvalidRow: Sendable, CustomTestStringConvertible {
        var name: String
        var entry: String
        var reason: String
        var testDescription: String { name }
    }

    static let invalidRows: [InvalidRow] = [
        InvalidRow(name: "empty", entry: "", reason: "the domain is empty"),
        InvalidRow(name: "wildcard alone", entry: "*.", reason: "the wildcard names no domain"),
        InvalidRow(name: "a lone dot", entry: ".", reason: "the wildcard names no domain"),
        InvalidRow(name: "star alone", entry: "*", reason: "'*' is allowed only as the whole first label ('*.example.com')"),
        InvalidRow(name: "star inside a label", entry: "a*.example", reason: "'*' is allowed only as the whole first label ('*.example.com')"),
        InvalidRow(name: "star in a later label", entry: "a.*.example", reason: "'*' is allowed only as the whole first label ('*.example.com')"),
        InvalidRow(name: "a URL, not a host", entry: "https://partner.example", reason: "it contains a scheme; give the host name only"),
        InvalidRow(name: "a path", entry: "partner.example/login", reason: "it contains a path; give the host name only"),
        InvalidRow(name: "a port", entry: "partner.example:443", reason: "it contains a port; give the host name only"),
        InvalidRow(name: "a space", entry: "partner .example", reason: "it contains a space"),
        InvalidRow(name: "a trailing dot", entry: "partner.example.", reason: "it ends with '.'"),
        InvalidRow(name: "an empty label", entry: "partner..example", reason: "it has an empty label"),
        InvalidRow(name: "an underscore", entry: "my_host.example", reason: "the label my_host has a character other than letters, digits and '-'"),
        InvalidRow(name: "a leading hyphen", entry: "-x.example", reason: "the label -x starts or ends with '-'"),
        InvalidRow(name: "a label of 64 octets", entry: String(repeating: "a", count: 64) + ".example",
                   reason: "the label \(String(repeating: "a", count: 64)) is 64 octets long; the limit is 63"),
        InvalidRow(name: "a name of 254 octets", entry: Array(repeating: String(repeating: "a", count: 62), count: 4).joined(separator: ".") + ".ab",
                   reason: "it is 254 octets long in its xn-- form; the limit is 253"),
        InvalidRow(name: "an IPv6 literal", entry: "[2001:db8::1]", reason: "it contains a port; give the host name only"),
    ]

    @Test(arguments: invalidRows)
    func refuses(_ row: InvalidRow) {
        #expect(throws: ExcludedDomains.EntryError(entry: row.entry, reason: row.reason)) {
            try ExcludedDomains(entries: ["ok.example", row.entry])
        }
    }

    @Test func equalityIsByEntries() throws {
        #expect(try ExcludedDomains(entries: ["a.example"]) == ExcludedDomains(entries: ["a.example"]))
        #expect(try ExcludedDomains(entries: []) == ExcludedDomains())
        #expect(try ExcludedDomains(entries: ["a.example"]) != ExcludedDomains(entries: ["A.example"]))
    }
}
