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
/// A click URL is longer than the percent-encoded destination by 38 bytes (`://`, `/c/`, `1.`, `.`, the
/// 16-character MAC, `?m=`, `&s=`, `&i=`, `&u=` and one digit of link index) plus the scheme, domain,
/// key id, percent-encoded message id and set name, each further digit of the link index, and the
/// tags' fields when there are tags: 114 bytes for `https`, a 17-byte domain, a 5-byte key id, a
/// 40-byte message id and `marketing`.
public struct LinkSigner: Sendable {
    /// The URL format version written into every token.
    public static let version = "1"
    /// Tracking links longer than this are not produced; the original link stays untracked.
    public static let maximumURLLength = 2048
    /// 96 bits: forging one URL takes 2^96 online guesses against the redirect server. Truncating
    /// the 256-bit MAC to 96 bits saves 27 characters in every URL (16 instead of 43).
    static let macLength = 12
    /// The MAC's length in the URL: unpadded base64url of ``macLength`` bytes.
    static let macCharacters = 16

    // Safe (`Key` is `@unchecked Sendable`): every field is a `let` set in `init`, and the states are
    // values that each use copies.
    /// A key with its HMAC-SHA256 states prepared once.
    ///
    /// HMAC (RFC 2104) is `H((K0 ^ opad) || H((K0 ^ ipad) || message))`, with `K0` the key padded to
    /// SHA-256's 64-byte block (a longer key is hashed first). Both padded key blocks are hashed here,
    /// and the inner state also takes the fixed start of each kind's message (`LT1 NUL <kind> NUL
    /// <keyId> NUL`), so a MAC costs only the blocks of its query. The composition is checked against
    /// swift-crypto's own `HMAC<SHA256>` in the tests.
    ///
    /// `@unchecked Sendable`: every field is immutable after `init`; the states are plain values
    /// (``SHA256State``) that each use copies.
    final class Key: @unchecked Sendable {
        let keyId: String
        let clickInner: SHA256State
        let openInner: SHA256State
        let outer: SHA256State

        init(keyId: String, secret: [UInt8], accelerated: Bool = true) {
            self.keyId = keyId
            var block = secret.count > 64 ? SHA256State.hash(secret).array : secret
            block.append(contentsOf: repeatElement(0, count: 64 - block.count))
            var inner = SHA256State(accelerated: accelerated)
            inner.update(block.map { $0 ^ 0x36 })
            var outer = SHA256State(accelerated: accelerated)
            outer.update(block.map { $0 ^ 0x5C })
            self.outer = outer
            func start(_ kind: String) -> SHA256State {
                var state = inner
                state.update(Array("LT\(LinkSigner.version)\0\(kind)\0\(keyId)\0".utf8))
                return state
            }
            self.clickInner = start("c")
            self.openInner = start("o")
        }

        func innerState(kind: String) -> SHA256State { kind == "c" ? clickInner : openInner }

        /// Finishes the MAC of a message whose bytes `inner` has taken, and appends its base64url text.
        func appendMAC(finishing inner: SHA256State, to out: inout [UInt8]) {
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: LinkSigner.macCharacters))
            writeMAC(finishing: inner, into: &out, at: start)
        }

        /// Finishes the MAC and writes its base64url text over `out[start..<start + 16]`.
        func writeMAC(finishing inner: SHA256State, into out: inout [UInt8], at start: Int) {
            let innerDigest = inner.digest()
            var outer = self.outer
            // Safe: the digest's bytes are used only during these calls, and `out[start..<start + 16]` lies
            // within `out` (callers make room for the MAC first).
            innerDigest.withUnsafeBytes { outer.update($0) }
            outer.digest().withUnsafeBytes { digest in
                out.withUnsafeMutableBufferPointer { buffer in
                    Base64URL.write(UnsafeRawBufferPointer(rebasing: digest.prefix(LinkSigner.macLength)),
                                    into: UnsafeMutableBufferPointer(rebasing: buffer[start..<(start + LinkSigner.macCharacters)]))
                }
            }
        }
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
    ///
    /// Tags must be valid (``Tag/isValidComponent(_:)``): a tag that is not gives nil, since its
    /// separators would make the URL undecodable.
    public func clickURL(_ token: ClickToken, scheme: HttpsPolicy.Scheme, domain: String) -> String? {
        clickURLBytes(token, scheme: scheme, domain: domain).map { String(decoding: $0, as: UTF8.self) }
    }

    /// ``clickURL(_:scheme:domain:)`` as bytes, without building a `String`.
    func clickURLBytes(_ token: ClickToken, scheme: HttpsPolicy.Scheme, domain: String) -> [UInt8]? {
        guard token.messageTags.allSatisfy(Tag.isValid) else { return nil }
        let signer = MessageSigner(self, messageId: token.messageId, configurationSet: token.configurationSet,
                                   messageTags: token.messageTags, domain: domain)
        var destination = token.destination
        return destination.withUTF8 {
            signer.clickURL(destination: $0, linkIndex: token.linkIndex, linkTags: token.linkTags, scheme: scheme)
        }
    }

    /// The open-pixel URL for `token`.
    public func openURL(_ token: OpenToken, scheme: HttpsPolicy.Scheme, domain: String) -> String {
        String(decoding: openURLBytes(token, scheme: scheme, domain: domain), as: UTF8.self)
    }

    func openURLBytes(_ token: OpenToken, scheme: HttpsPolicy.Scheme, domain: String) -> [UInt8] {
        var query: [UInt8] = []
        Self.appendField("m", token.messageId, to: &query, first: true)
        Self.appendField("s", token.configurationSet, to: &query)
        Self.appendTags(token.messageTags, name: "g", pairSeparator: UInt8(ascii: ","), keyValueSeparator: UInt8(ascii: "="), to: &query)
        let key = keys[0]
        var url = Self.urlHead(kind: "o", scheme: scheme, domain: domain, keyId: key.keyId)
        var inner = key.openInner
        // Safe: the bytes are hashed during the call only.
        query.withUnsafeBytes { inner.update($0) }
        key.appendMAC(finishing: inner, to: &url)
        url.append(UInt8(ascii: "?"))
        url.append(contentsOf: query)
        return url
    }

    /// `<scheme>://<domain>/<kind>/<version>.<keyId>.`: everything before the MAC.
    static func urlHead(kind: String, scheme: HttpsPolicy.Scheme, domain: String, keyId: String) -> [UInt8] {
        var url: [UInt8] = []
        url.reserveCapacity(domain.utf8.count + keyId.utf8.count + 64)
        url.append(contentsOf: scheme.rawValue.utf8)
        url.append(contentsOf: "://".utf8)
        url.append(contentsOf: domain.utf8)
        url.append(UInt8(ascii: "/"))
        url.append(contentsOf: kind.utf8)
        url.append(UInt8(ascii: "/"))
        url.append(contentsOf: version.utf8)
        url.append(UInt8(ascii: "."))
        url.append(contentsOf: keyId.utf8)
        url.append(UInt8(ascii: "."))
        return url
    }

    static func appendField(_ name: StaticString, _ value: String, to query: inout [UInt8], first: Bool = false) {
        if !first { query.append(UInt8(ascii: "&")) }
        // Safe: a field name is a one-byte static string literal: its first byte is constant memory.
        query.append(name.utf8Start.pointee)
        query.append(UInt8(ascii: "="))
        PercentEncoding.append(value.utf8, to: &query)
    }

    static func appendTags(_ tags: [Tag], name: StaticString, pairSeparator: UInt8, keyValueSeparator: UInt8,
                           to query: inout [UInt8]) {
        guard !tags.isEmpty else { return }
        query.append(UInt8(ascii: "&"))
        // Safe: a field name is a one-byte static string literal: its first byte is constant memory.
        query.append(name.utf8Start.pointee)
        query.append(UInt8(ascii: "="))
        for (n, tag) in tags.enumerated() {
            if n > 0 { query.append(pairSeparator) }
            // Tag names and values are [0-9A-Za-z_-], which percent-encoding leaves as they are.
            query.append(contentsOf: tag.name.utf8)
            query.append(keyValueSeparator)
            query.append(contentsOf: tag.value.utf8)
        }
    }

    /// The MAC's 16 base64url characters for `query`, signed with `key`.
    static func mac(kind: String, keyId: String, query: ArraySlice<UInt8>, key: Key) -> [UInt8] {
        // Safe: the bytes are hashed during the call only.
        query.withUnsafeBytes { mac(kind: kind, query: $0, key: key) }
    }

    /// The MAC's 16 base64url characters for the query bytes `query`, signed with `key` (what
    /// ``decode(_:)`` compares a token's MAC with).
    static func mac(kind: String, query: UnsafeRawBufferPointer, key: Key) -> [UInt8] {
        var inner = key.innerState(kind: kind)
        inner.update(query)
        var out: [UInt8] = []
        key.appendMAC(finishing: inner, to: &out)
        return out
    }

    // MARK: - Verifying

    /// Verifies and decodes a tracking URL.
    /// - Throws: ``TokenError`` for anything but an unaltered URL signed with one of the keys.
    public func decode(_ url: String) throws(TokenError) -> TrackingToken {
        // Read in place from the string's UTF-8 (no copy of the URL, no array of its pieces): the
        // server decodes one token per request.
        var url = url
        let result = url.withUTF8 { bytes in
            Result { () throws(TokenError) -> TrackingToken in try decode(bytes: bytes) }
        }
        return try result.get()
    }

    func decode(bytes: UnsafeBufferPointer<UInt8>) throws(TokenError) -> TrackingToken {
        let pathStart = try Self.pathStart(of: bytes)
        guard let queryMark = bytes[pathStart...].firstIndex(of: UInt8(ascii: "?")) else { throw .malformed("no query") }
        let path = bytes[(pathStart + 1)..<queryMark]
        let query = bytes[(queryMark + 1)...]
        // path: <kind>/<version>.<keyId>.<mac>: exactly one `/` and, after it, exactly two dots.
        guard let slash = path.firstIndex(of: UInt8(ascii: "/")),
              !path[(slash + 1)...].contains(UInt8(ascii: "/")) else { throw .malformed("unexpected path") }
        let kindBytes = path[..<slash]
        guard kindBytes.count == 1, kindBytes.first == UInt8(ascii: "c") || kindBytes.first == UInt8(ascii: "o") else {
            throw .malformed("unknown kind \(String(decoding: kindBytes, as: UTF8.self))")
        }
        let kind = kindBytes.first == UInt8(ascii: "c") ? "c" : "o"
        let layout = path[(slash + 1)...]
        guard let dot1 = layout.firstIndex(of: UInt8(ascii: ".")),
              let dot2 = layout[(dot1 + 1)...].firstIndex(of: UInt8(ascii: ".")),
              !layout[(dot2 + 1)...].contains(UInt8(ascii: ".")) else { throw .malformed("unexpected token layout") }
        let versionBytes = layout[..<dot1]
        guard versionBytes.elementsEqual(Self.version.utf8) else {
            throw .unknownVersion(String(decoding: versionBytes, as: UTF8.self))
        }
        let keyIdBytes = layout[(dot1 + 1)..<dot2]
        guard let key = keys.first(where: { $0.keyId.utf8.elementsEqual(keyIdBytes) }) else {
            throw .unknownKey(String(decoding: keyIdBytes, as: UTF8.self))
        }
        let expected = Self.mac(kind: kind, query: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: query)), key: key)
        guard Self.constantTimeEqual(expected, layout[(dot2 + 1)...]) else { throw .badSignature }

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

    // MARK: - Reading the layout

    /// The two kinds of tracking URL, named by the first segment of the path: `c` and `o`.
    enum Kind: Sendable, Equatable {
        case click, open
    }

    /// Where the path of a URL starts: its first `/` after `<http or https>://<host>`.
    /// - Throws: ``TokenError/malformed(_:)`` when the URL has no http(s) scheme, no host or no path.
    static func pathStart<C: RandomAccessCollection<UInt8>>(of url: C) throws(TokenError) -> Int where C.Index == Int {
        guard let colon = url.firstIndex(of: UInt8(ascii: ":")) else { throw .malformed("no scheme") }
        let scheme = String(decoding: url[url.startIndex..<colon], as: UTF8.self).lowercased()
        guard scheme == "http" || scheme == "https" else { throw .malformed("the scheme is not http or https") }
        guard url.endIndex > colon + 3, url[colon + 1] == UInt8(ascii: "/"), url[colon + 2] == UInt8(ascii: "/") else {
            throw .malformed("no host")
        }
        let hostStart = colon + 3
        guard let pathStart = url[hostStart...].firstIndex(of: UInt8(ascii: "/")), pathStart > hostStart else {
            throw .malformed("no path")
        }
        return pathStart
    }

    /// The kind of tracking URL that `url`'s path names (`/c/...` or `/o/...`), reading no further:
    /// neither the rest of the layout nor the signature is checked (``decode(_:)`` checks both).
    /// Nil when `url` has no http(s) scheme, host and path, or its path starts with neither.
    ///
    /// The rewriter asks this of an `<img>`'s source on the redirect domain, to leave a message
    /// that already holds an open pixel without a second one.
    static func kind<C: RandomAccessCollection<UInt8>>(ofURL url: C) -> Kind? where C.Index == Int {
        guard let slash = try? pathStart(of: url), url.endIndex - slash >= 3,
              url[slash + 2] == UInt8(ascii: "/") else { return nil }
        switch url[slash + 1] {
        case UInt8(ascii: "c"): return .click
        case UInt8(ascii: "o"): return .open
        default: return nil
        }
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
    static func constantTimeEqual<B: Collection<UInt8>>(_ a: [UInt8], _ b: B) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

/// Reads `name=value` fields of a query in a fixed order.
private struct QueryFields {
    /// The query, read one `&`-separated piece at a time (empty pieces count, as in `a&&b`).
    let query: Slice<UnsafeBufferPointer<UInt8>>
    /// Where the next piece starts; nil after the last one.
    var next: Int?

    init(_ query: Slice<UnsafeBufferPointer<UInt8>>) {
        self.query = query
        next = query.startIndex
    }

    mutating func takeOptional(_ name: StaticString) throws(TokenError) -> String? {
        guard let start = next else { return nil }
        let end = query[start...].firstIndex(of: UInt8(ascii: "&")) ?? query.endIndex
        let piece = query[start..<end]
        // Safe: a field name is a short static string literal: constant memory of `utf8CodeUnitCount` bytes.
        let nameBytes = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        guard let eq = piece.firstIndex(of: UInt8(ascii: "=")),
              piece[start..<eq].elementsEqual(nameBytes) else { return nil }
        next = end < query.endIndex ? end + 1 : nil
        guard let value = PercentEncoding.decode(piece[(eq + 1)...]) else {
            throw .malformed("bad percent-encoding in \(name)")
        }
        return value
    }

    mutating func take(_ name: StaticString) throws(TokenError) -> String {
        guard let value = try takeOptional(name) else { throw .malformed("missing field \(name)") }
        return value
    }

    func end() throws(TokenError) {
        guard next == nil else { throw .malformed("unexpected fields") }
    }
}

/// The percent-encoding of token values (see ``LinkSigner``).
enum PercentEncoding {
    // The tables of the hot paths are static strings, not arrays: an array would be retained and
    // released on every use, and two threads signing at once would contend for its reference
    // count. A static string's bytes are constant memory.

    /// Byte `b` is 1 when `b` is written as it is, 0 when it is escaped (generated from the set
    /// above; checked against it in the tests).
    static let literalTable: StaticString = "\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{1}\u{0}\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{1}\u{0}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{0}\u{1}\u{0}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{0}\u{0}\u{0}\u{0}\u{1}\u{0}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{0}\u{0}\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}"
    static let hex: StaticString = "0123456789ABCDEF"

    // Safe: the table is a static string of 256 bytes (checked in the tests), one per byte value.
    /// Whether `b` is written as it is.
    static func isLiteral(_ b: UInt8) -> Bool { literalTable.utf8Start[Int(b)] == 1 }

    static func append(_ value: String.UTF8View, to out: inout [UInt8]) {
        if value.withContiguousStorageIfAvailable({ append($0, to: &out) }) == nil {
            var copy = String(value)
            copy.withUTF8 { append($0, to: &out) }
        }
    }

    /// Copies runs of literal bytes at once and escapes the rest.
    static func append(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + bytes.count + 16)
        // Safe: static strings: constant memory; the table has 256 bytes, one per byte value, and `hex` 16
        // digits indexed by a nibble. The slices below lie within `bytes`.
        let table = literalTable.utf8Start
        let digits = hex.utf8Start
        var runStart = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if table[Int(b)] == 1 { i += 1; continue }
            if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
            out.append(UInt8(ascii: "%"))
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
            i += 1
            runStart = i
        }
        if runStart < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count])) }
    }

    /// Decodes `%XX` escapes; nil for a malformed escape or invalid UTF-8.
    static func decode(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String? {
        // Most values hold no escape: validated and copied once, with no intermediate array.
        if !bytes.contains(UInt8(ascii: "%")) { return String(validating: bytes, as: UTF8.self) }
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
    static let alphabetText: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    // Safe: a static string's 64 bytes are constant memory; indices are 6-bit values.
    static var alphabet: UnsafePointer<UInt8> { alphabetText.utf8Start }

    /// Writes the text of `bytes` (a multiple of 3 bytes long) into `out`, which has room for it.
    static func write(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<UInt8>) {
        // Safe: the precondition makes every index below lie within `bytes` and `out`.
        precondition(bytes.count % 3 == 0 && out.count == bytes.count / 3 * 4)
        do {
            let alphabet = Self.alphabet
            var o = 0
            var i = 0
            while i + 3 <= bytes.count {
                let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                out[o] = alphabet[Int(n >> 18 & 63)]
                out[o + 1] = alphabet[Int(n >> 12 & 63)]
                out[o + 2] = alphabet[Int(n >> 6 & 63)]
                out[o + 3] = alphabet[Int(n & 63)]
                i += 3
                o += 4
            }
        }
    }

    static func append(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
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
    }
}
