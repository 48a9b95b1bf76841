/// The `ExcludedDomains` of a configuration set's `LinkTrackOptions`: hosts whose links are never
/// tracked (issue 21, item 2).
///
/// - `partner.example` matches that host only.
/// - `*.bank.example` and `.bank.example` match its subdomains at any depth (`a.bank.example`,
///   `x.y.bank.example`), not `bank.example` itself.
///
/// Hosts compare ASCII case-insensitively in their A-label form (RFC 5890 §2.3.2.1): a label with
/// non-ASCII characters, in an entry or in a link's host, is lowercased (Unicode default case
/// mapping) and Punycode-encoded with `xn--` before comparing, so `bücher.example` and
/// `xn--bcher-kva.example` are the same domain. There is no further IDNA mapping (no NFC, no
/// UTS 46 width folding): a host written in a decomposed form is not recognised. One trailing dot
/// (the root) is ignored on both sides.
public struct ExcludedDomains: Sendable, Equatable {
    /// The entries as the configuration wrote them.
    public let entries: [String]
    /// The exact hosts, in lowercase A-label form.
    let exactHosts: Set<[UInt8]>
    /// The wildcard entries' domains, in lowercase A-label form with a leading dot (`.bank.example`).
    let suffixes: [[UInt8]]

    /// No excluded domain (the default).
    public init() {
        entries = []
        exactHosts = []
        suffixes = []
    }

    /// Why an entry is not a domain, for the configuration's `BadRequestException`.
    package struct EntryError: Error, Sendable, Equatable {
        package var entry: String
        /// A clause for "Invalid ExcludedDomains value "<entry>": <reason>."
        package var reason: String
    }

    /// Validates and compiles `entries`.
    /// - Throws: ``EntryError`` for the first entry that is not a host name or a wildcard domain.
    package init(entries: [String]) throws(EntryError) {
        var exact: Set<[UInt8]> = []
        var suffixes: [[UInt8]] = []
        for entry in entries {
            let (domain, isWildcard) = try Self.compile(entry)
            if isWildcard { suffixes.append([UInt8(ascii: ".")] + domain) } else { exact.insert(domain) }
        }
        self.entries = entries
        self.exactHosts = exact
        self.suffixes = suffixes
    }

    public static func == (lhs: ExcludedDomains, rhs: ExcludedDomains) -> Bool { lhs.entries == rhs.entries }

    public var isEmpty: Bool { entries.isEmpty }

    /// Whether a link whose host is `host` must stay untracked.
    /// - Parameter host: the host bytes of a link's destination (no userinfo, port or brackets), as
    ///   written: any case, Unicode (UTF-8) or `xn--` labels.
    package func matches<Host: Collection<UInt8>>(host: Host) -> Bool {
        guard !entries.isEmpty else { return false }
        var bytes = Array(host)
        if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        guard !bytes.isEmpty, let normal = Self.aLabelForm(bytes) else { return false }
        if exactHosts.contains(normal) { return true }
        for suffix in suffixes where normal.count > suffix.count && normal.suffix(suffix.count).elementsEqual(suffix) {
            return true
        }
        return false
    }

    /// Whether a link to `destination` (a decoded, trimmed absolute URL) must stay untracked: the
    /// host of an `http`/`https` URL matched by ``matches(host:)``; false for anything else.
    package func matches(destination: [UInt8]) -> Bool {
        guard !entries.isEmpty, let host = LinkURL.hostRange(of: destination) else { return false }
        return matches(host: destination[host])
    }

    /// An entry's domain in lowercase A-label form and whether it is a wildcard.
    static func compile(_ entry: String) throws(EntryError) -> (domain: [UInt8], isWildcard: Bool) {
        func fail(_ reason: String) -> EntryError { EntryError(entry: entry, reason: reason) }
        var bytes = Array(entry.utf8)
        var isWildcard = false
        if bytes.starts(with: "*.".utf8) {
            bytes.removeFirst(2)
            isWildcard = true
        } else if bytes.first == UInt8(ascii: ".") {
            bytes.removeFirst()
            isWildcard = true
        }
        if bytes.isEmpty { throw fail(isWildcard ? "the wildcard names no domain" : "the domain is empty") }
        if bytes.containsBytes("://".utf8) { throw fail("it contains a scheme; give the host name only") }
        if bytes.contains(UInt8(ascii: "*")) { throw fail("'*' is allowed only as the whole first label ('*.example.com')") }
        if bytes.contains(UInt8(ascii: "/")) { throw fail("it contains a path; give the host name only") }
        if bytes.contains(UInt8(ascii: ":")) { throw fail("it contains a port; give the host name only") }
        if bytes.contains(where: { $0 == 0x20 || $0 == 0x09 }) { throw fail("it contains a space") }
        if bytes.last == UInt8(ascii: ".") { throw fail("it ends with '.'") }
        guard let domain = aLabelForm(bytes) else { throw fail("it is not valid UTF-8") }
        if domain.count > 253 { throw fail("it is \(domain.count) octets long in its xn-- form; the limit is 253") }
        for label in domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            let text = String(decoding: label, as: UTF8.self)
            if label.isEmpty { throw fail("it has an empty label") }
            if label.count > 63 { throw fail("the label \(text) is \(label.count) octets long; the limit is 63") }
            guard label.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") }) else {
                throw fail("the label \(text) has a character other than letters, digits and '-'")
            }
            if label.first == UInt8(ascii: "-") || label.last == UInt8(ascii: "-") {
                throw fail("the label \(text) starts or ends with '-'")
            }
        }
        return (domain, isWildcard)
    }

    /// `host` with ASCII labels lowercased and each label holding non-ASCII replaced by
    /// `xn--` + its Punycode; nil when a label is not valid UTF-8 or cannot be encoded.
    static func aLabelForm(_ host: [UInt8]) -> [UInt8]? {
        guard host.contains(where: { $0 >= 0x80 }) else { return host.map(\.asciiLowercased) }
        var out: [UInt8] = []
        out.reserveCapacity(host.count + 8)
        for (n, label) in host.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).enumerated() {
            if n > 0 { out.append(UInt8(ascii: ".")) }
            if !label.contains(where: { $0 >= 0x80 }) {
                out += label.map(\.asciiLowercased)
                continue
            }
            guard let text = String(validating: label, as: UTF8.self),
                  let encoded = Punycode.encode(Array(text.lowercased().unicodeScalars)) else { return nil }
            out += Array("xn--".utf8) + encoded
        }
        return out
    }
}
