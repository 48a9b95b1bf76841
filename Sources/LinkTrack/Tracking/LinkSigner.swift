import Crypto

/// Builds and verifies signed tracking URLs.
///
/// ## URL format, version 1
/// ```
/// click: <scheme>://<domain>/c/1.<keyId>.<mac>?m=<messageId>&s=<set>&i=<linkIndex>[&t=<linkTags>][&g=<messageTags>]&u=<destination>
/// open:  <scheme>://<domain>/o/1.<keyId>.<mac>?m=<messageId>&s=<set>[&g=<messageTags>]
/// ```
/// - Every value is percent-encoded: bytes outside `A-Z a-z 0-9 - . _ ~ ! $ * , ; : @ / ? =` become
///   `%XX` (upper-case hex), so `&`, `#`, `%`, `+`, quotes, `<`, `>` and non-ASCII never appear raw.
/// - `t` is `key:value;key2:value2` (`ses:tags`), `g` is `name=value,name2=value2` (`X-SES-MESSAGE-TAGS`).
/// - `mac` is HMAC-SHA256 with the key named by `keyId`, over `LT1 NUL <c|o> NUL <keyId> NUL <query>`
///   where `<query>` is the exact bytes after `?`; truncated to 96 bits and written as 16 characters
///   of unpadded base64url. Verification recomputes it over the bytes received and compares the
///   16 characters in constant time, so any altered byte of the path or query is refused.
/// - The scheme and domain are not signed: the scheme follows the HttpsPolicy, and the domain is the
///   redirect server's own.
/// - The token is deterministic: the same message, link and configuration give the same URL.
///
/// The overhead over the percent-encoded destination is about 60 bytes plus the domain, message id,
/// set name and tags.
public struct LinkSigner: Sendable {
    /// The URL format version written into every token.
    public static let version = "1"
    /// Tracking links longer than this are not produced; the original link stays untracked.
    public static let maximumURLLength = 2048
    /// 96 bits: forging one URL takes 2^96 online guesses against the redirect server; the
    /// shorter MAC keeps tracking URLs within about 100 bytes of the destination.
    static let macLength = 12
    /// The MAC's length in the URL: unpadded base64url of ``macLength`` bytes.
    static let macCharacters = 16

    struct Key: Sendable {
        var keyId: String
        var secret: [UInt8]
        var symmetricKey: SymmetricKey { SymmetricKey(data: secret) }
    }

    let keys: [Key]

    /// - Parameter keys: the configuration's signing keys; the first one signs, all verify.
    /// - Throws: `BadRequestException` when there is no key.
    public init(keys: [SigningKey]) throws(ConfigurationError) {
        guard !keys.isEmpty else {
            throw .badRequest("SigningKeys: no signing key is configured; add one (linktrack keygen prints one).")
        }
        self.keys = keys.map { Key(keyId: $0.keyId, secret: $0.secret) }
    }

    // MARK: - Building

    /// The click URL for `token`, or nil when it would be longer than ``maximumURLLength``.
    /// Tags must be valid (``Tag/isValidComponent(_:)``): a tag that is not gives nil, since its
    /// separators would make the URL undecodable.
    public func clickURL(_ token: ClickToken, scheme: HttpsPolicy.Scheme, domain: String) -> String? {
        let tags = token.linkTags + token.messageTags
        guard tags.allSatisfy({ Tag.isValidComponent($0.name) && Tag.isValidComponent($0.value) }) else { return nil }
        var query: [UInt8] = []
        query.reserveCapacity(token.destination.utf8.count + 96)
        appendField("m", token.messageId, to: &query, first: true)
        appendField("s", token.configurationSet, to: &query)
        appendField("i", String(token.linkIndex), to: &query)
        if !token.linkTags.isEmpty {
            appendField("t", token.linkTags.map { "\($0.name):\($0.value)" }.joined(separator: ";"), to: &query)
        }
        if !token.messageTags.isEmpty {
            appendField("g", token.messageTags.map { "\($0.name)=\($0.value)" }.joined(separator: ","), to: &query)
        }
        appendField("u", token.destination, to: &query)
        let url = assemble(kind: "c", query: query, scheme: scheme, domain: domain)
        return url.utf8.count > Self.maximumURLLength ? nil : url
    }

    /// The open-pixel URL for `token`.
    public func openURL(_ token: OpenToken, scheme: HttpsPolicy.Scheme, domain: String) -> String {
        var query: [UInt8] = []
        appendField("m", token.messageId, to: &query, first: true)
        appendField("s", token.configurationSet, to: &query)
        if !token.messageTags.isEmpty {
            appendField("g", token.messageTags.map { "\($0.name)=\($0.value)" }.joined(separator: ","), to: &query)
        }
        return assemble(kind: "o", query: query, scheme: scheme, domain: domain)
    }

    private func assemble(kind: String, query: [UInt8], scheme: HttpsPolicy.Scheme, domain: String) -> String {
        let key = keys[0]
        let mac = Self.mac(kind: kind, keyId: key.keyId, query: query[...], key: key.symmetricKey)
        var url = scheme.rawValue + "://" + domain + "/" + kind + "/" + Self.version + "." + key.keyId + "." + mac + "?"
        url += String(decoding: query, as: UTF8.self)
        return url
    }

    private func appendField(_ name: String, _ value: String, to query: inout [UInt8], first: Bool = false) {
        if !first { query.append(UInt8(ascii: "&")) }
        query.append(contentsOf: name.utf8)
        query.append(UInt8(ascii: "="))
        PercentEncoding.append(value.utf8, to: &query)
    }

    static func mac(kind: String, keyId: String, query: ArraySlice<UInt8>, key: SymmetricKey) -> String {
        var hmac = HMAC<SHA256>(key: key)
        var prefix: [UInt8] = Array("LT\(version)".utf8)
        prefix.append(0)
        prefix.append(contentsOf: kind.utf8)
        prefix.append(0)
        prefix.append(contentsOf: keyId.utf8)
        prefix.append(0)
        hmac.update(data: prefix)
        query.withUnsafeBytes { hmac.update(data: $0) }
        let code = hmac.finalize()
        return code.withUnsafeBytes { Base64URL.encode(Array($0.prefix(macLength))) }
    }

    // MARK: - Verifying

    /// Verifies and decodes a tracking URL.
    /// - Throws: ``TokenError`` for anything but an unaltered URL signed with one of the keys.
    public func decode(_ url: String) throws(TokenError) -> TrackingToken {
        let bytes = Array(url.utf8)
        // scheme
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { throw .malformed("no scheme") }
        let scheme = String(decoding: bytes[0..<colon], as: UTF8.self).lowercased()
        guard scheme == "http" || scheme == "https" else { throw .malformed("the scheme is not http or https") }
        guard bytes.count > colon + 3, bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/") else {
            throw .malformed("no host")
        }
        let hostStart = colon + 3
        guard let pathStart = bytes[hostStart...].firstIndex(of: UInt8(ascii: "/")), pathStart > hostStart else {
            throw .malformed("no path")
        }
        guard let queryMark = bytes[pathStart...].firstIndex(of: UInt8(ascii: "?")) else { throw .malformed("no query") }
        let path = bytes[(pathStart + 1)..<queryMark]
        let query = bytes[(queryMark + 1)...]
        // path: <kind>/<version>.<keyId>.<mac>
        let segments = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard segments.count == 2 else { throw .malformed("unexpected path") }
        let kind = String(decoding: segments[0], as: UTF8.self)
        guard kind == "c" || kind == "o" else { throw .malformed("unknown kind \(kind)") }
        let parts = segments[1].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("unexpected token layout") }
        let version = String(decoding: parts[0], as: UTF8.self)
        guard version == Self.version else { throw .unknownVersion(version) }
        let keyId = String(decoding: parts[1], as: UTF8.self)
        guard let key = keys.first(where: { $0.keyId == keyId }) else { throw .unknownKey(keyId) }
        let expected = Array(Self.mac(kind: kind, keyId: keyId, query: query, key: key.symmetricKey).utf8)
        guard Self.constantTimeEqual(expected, Array(parts[2])) else { throw .badSignature }

        // The signature holds: the fields were written by us, but parse them strictly all the same.
        var fields = QueryFields(query)
        let messageId = try fields.take("m")
        let set = try fields.take("s")
        if kind == "o" {
            let messageTags = try Self.parseTags(try fields.takeOptional("g"), pairSeparator: ",", kvSeparator: "=")
            try fields.end()
            return .open(OpenToken(messageId: messageId, configurationSet: set, messageTags: messageTags))
        }
        let indexText = try fields.take("i")
        guard let index = Int(indexText), index >= 0 else { throw .malformed("bad link index") }
        let linkTags = try Self.parseTags(try fields.takeOptional("t"), pairSeparator: ";", kvSeparator: ":")
        let messageTags = try Self.parseTags(try fields.takeOptional("g"), pairSeparator: ",", kvSeparator: "=")
        let destination = try fields.take("u")
        try fields.end()
        return .click(ClickToken(destination: destination, messageId: messageId, configurationSet: set,
                                 linkIndex: index, linkTags: linkTags, messageTags: messageTags))
    }

    static func parseTags(_ text: String?, pairSeparator: Character, kvSeparator: Character) throws(TokenError) -> [Tag] {
        guard let text else { return [] }
        var tags: [Tag] = []
        for pair in text.split(separator: pairSeparator, omittingEmptySubsequences: false) {
            let kv = pair.split(separator: kvSeparator, maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2 else { throw .malformed("bad tag list") }
            tags.append(Tag(name: String(kv[0]), value: String(kv[1])))
        }
        return tags
    }

    /// Compares two byte strings in time that depends only on their lengths.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// Reads `name=value` fields of a query in a fixed order.
private struct QueryFields {
    var pieces: [ArraySlice<UInt8>]
    var position = 0

    init(_ query: ArraySlice<UInt8>) {
        pieces = query.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false)
    }

    mutating func takeOptional(_ name: String) throws(TokenError) -> String? {
        guard position < pieces.count else { return nil }
        let piece = pieces[position]
        guard let eq = piece.firstIndex(of: UInt8(ascii: "=")),
              String(decoding: piece[piece.startIndex..<eq], as: UTF8.self) == name else { return nil }
        position += 1
        guard let value = PercentEncoding.decode(piece[(eq + 1)...]) else { throw .malformed("bad percent-encoding in \(name)") }
        return value
    }

    mutating func take(_ name: String) throws(TokenError) -> String {
        guard let value = try takeOptional(name) else { throw .malformed("missing field \(name)") }
        return value
    }

    func end() throws(TokenError) {
        guard position == pieces.count else { throw .malformed("unexpected fields") }
    }
}

/// The percent-encoding of token values (see ``LinkSigner``).
enum PercentEncoding {
    /// Bytes written as they are.
    static let literal: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for b in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(b)] = true }
        for b in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(b)] = true }
        for b in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(b)] = true }
        for c in "-._~!$*,;:@/?=".utf8 { table[Int(c)] = true }
        return table
    }()
    static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    static func append<S: Sequence>(_ bytes: S, to out: inout [UInt8]) where S.Element == UInt8 {
        for b in bytes {
            if literal[Int(b)] {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
    }

    /// Decodes `%XX` escapes; nil for a malformed escape or invalid UTF-8.
    static func decode(_ bytes: ArraySlice<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < bytes.endIndex else { return nil }
                guard let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) else { return nil }
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(b)
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}

/// Unpadded base64url (RFC 4648 §5).
enum Base64URL {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)]); out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)]); out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(n >> 18 & 63)]); out.append(alphabet[Int(n >> 12 & 63)])
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(n >> 18 & 63)]); out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
