import CSHA256
import Testing
import TestSupport
@testable import LinkTrack

/// Helpers for the LinkSigner tests.
enum TrackingFixtures {
    static let domain = "links.example.com"
    static let key1 = try! SigningKey(keyId: "k2026", secret: cfgSecret(1))
    static let key2 = try! SigningKey(keyId: "k2027", secret: cfgSecret(2))
    static let stranger = try! SigningKey(keyId: "other", secret: cfgSecret(3))
    static let signer = try! LinkSigner(keys: [key1])

    static let tags = [LinkTrack.Tag(name: "campaign", value: "spring_sale"), LinkTrack.Tag(name: "pos", value: "hero-1")]
    static let messageTags = [LinkTrack.Tag(name: "tenant", value: "acme"), LinkTrack.Tag(name: "flow", value: "welcome")]

    static let click = ClickToken(destination: "https://shop.example.com/p?id=7&ref=mail#top",
                                  messageId: "0100018f2c3a4b5c-1a2b3c4d@email.example.com",
                                  configurationSet: "marketing", linkIndex: 3, linkTags: tags, messageTags: messageTags)
    static let open = OpenToken(messageId: "0100018f2c3a4b5c-1a2b3c4d@email.example.com",
                                configurationSet: "marketing", messageTags: messageTags)

    static func clickURL(_ token: ClickToken = click, signer: LinkSigner = signer, scheme: HttpsPolicy.Scheme = .https) -> String {
        signer.clickURL(token, scheme: scheme, domain: domain)!
    }

    static func openURL(_ token: OpenToken = open, signer: LinkSigner = signer) -> String {
        signer.openURL(token, scheme: .https, domain: domain)
    }

    /// The byte offset of the `/` that starts the path.
    static func pathStart(_ url: String) -> Int {
        let bytes = Array(url.utf8)
        return bytes.indices.first { $0 > 8 && bytes[$0] == UInt8(ascii: "/") }!
    }

    /// `url` with a fresh, valid MAC for its (possibly edited) query, signed with `key`: the parser's own
    /// checks behind the signature.
    static func resigned(_ url: String, key: SigningKey = key1) -> String {
        let bytes = Array(url.utf8)
        let mark = bytes.firstIndex(of: UInt8(ascii: "?"))!
        let start = pathStart(url)
        let path = String(decoding: bytes[(start + 1)..<mark], as: UTF8.self)
        let kind = String(path.prefix(1))
        let mac = String(decoding: LinkSigner.mac(kind: kind, keyId: key.keyId, query: bytes[(mark + 1)...],
                                                  key: LinkSigner.Key(keyId: key.keyId, secret: key.secret)), as: UTF8.self)
        return String(decoding: bytes[..<start], as: UTF8.self) + "/\(kind)/1.\(key.keyId).\(mac)?"
            + String(decoding: bytes[(mark + 1)...], as: UTF8.self)
    }

    static func replacing(_ url: String, _ old: String, with new: String) -> String {
        precondition(url.contains(old), "\(url) has no \(old)")
        return url.replacing(old, with: new, maxReplacements: 1)
    }

    static func percentEncoded(_ text: String) -> Int {
        var out: [UInt8] = []
        PercentEncoding.append(text.utf8, to: &out)
        return out.count
    }
}

@Suite("Tracking: LinkSigner round trips")
struct TrackingRoundTripTests {
    struct Destination: Sendable, CustomTestStringConvertible {
        var name: String
        var url: String
        var testDescription: String { name }
    }

    static let destinations: [Destination] = [
        Destination(name: "plain https", url: "https://example.com/"),
        Destination(name: "plain http with a path", url: "http://example.com/a/b/c.html"),
        Destination(name: "non-ASCII", url: "https://bücher.example/straße?q=日本語&emoji=😀"),
        Destination(name: "ampersands", url: "https://example.com/?a=1&b=2&&c=&"),
        Destination(name: "a fake u field", url: "https://example.com/?x=1&u=https://evil.example/"),
        Destination(name: "fragment #", url: "https://example.com/page#section-2"),
        Destination(name: "percent escapes stay as written", url: "https://example.com/a%20b?q=%26%23%zz%"),
        Destination(name: "plus signs", url: "https://example.com/search?q=a+b+c"),
        Destination(name: "double quotes", url: "https://example.com/?q=\"quoted\""),
        Destination(name: "single quotes", url: "https://example.com/it's"),
        Destination(name: "space, angle brackets, backslash", url: "https://example.com/a b<c>d\\e"),
        Destination(name: "reserved literals ? / = : @ ; , !", url: "https://u:p@example.com/p;x=1,2?a=b/c?d=!$*~"),
        Destination(name: "mailto", url: "mailto:someone@example.com?subject=Hi%20there"),
        Destination(name: "relative", url: "/relative/path?x=1"),
        Destination(name: "empty", url: ""),
        Destination(name: "control characters", url: "https://example.com/\t\n\r\u{0}"),
    ]

    @Test(arguments: destinations)
    func clickRoundTrip(_ row: Destination) throws {
        let none: [LinkTrack.Tag] = []
        let combinations: [([LinkTrack.Tag], [LinkTrack.Tag])] = [(none, none), (TrackingFixtures.tags, none), (none, TrackingFixtures.messageTags),
                                              (TrackingFixtures.tags, TrackingFixtures.messageTags)]
        for (tags, messageTags) in combinations {
            let token = ClickToken(destination: row.url, messageId: "0100018f2c3a+abc/def=@email.example.com",
                                   configurationSet: "marketing", linkIndex: 12345, linkTags: tags, messageTags: messageTags)
            let url = try #require(TrackingFixtures.signer.clickURL(token, scheme: .https, domain: TrackingFixtures.domain))
            #expect(try TrackingFixtures.signer.decode(url) == .click(token))
            // URL-safe: the query holds only unreserved characters, the literal set, '&' and %XX escapes.
            let query = url.split(separator: "?", maxSplits: 1)[1]
            let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$*,;:@/?=&%".utf8)
            #expect(query.utf8.allSatisfy { allowed.contains($0) }, "\(url)")
            #expect(!query.contains("#") && !query.contains("+") && !query.contains("\"") && !query.contains(" "))
            let fields = 4 + (tags.isEmpty ? 0 : 1) + (messageTags.isEmpty ? 0 : 1)
            #expect(query.split(separator: "&", omittingEmptySubsequences: false).count == fields,
                    "a raw '&' in a value would add a field")
        }
    }

    struct OpenRow: Sendable, CustomTestStringConvertible {
        var name: String
        var token: OpenToken
        var testDescription: String { name }
    }

    static let opens: [OpenRow] = [
        OpenRow(name: "no message tags", token: OpenToken(messageId: "abc@example.com", configurationSet: "marketing")),
        OpenRow(name: "message tags", token: TrackingFixtures.open),
        OpenRow(name: "odd message id", token: OpenToken(messageId: "a&b#c%d+e\"f'g h@例え.jp", configurationSet: "m-1_2",
                                                          messageTags: [LinkTrack.Tag(name: "a", value: "b")])),
    ]

    @Test(arguments: opens)
    func openRoundTrip(_ row: OpenRow) throws {
        for scheme in [HttpsPolicy.Scheme.http, .https] {
            let url = TrackingFixtures.signer.openURL(row.token, scheme: scheme, domain: TrackingFixtures.domain)
            #expect(url.hasPrefix("\(scheme.rawValue)://\(TrackingFixtures.domain)/o/1.k2026."))
            #expect(try TrackingFixtures.signer.decode(url) == .open(row.token))
        }
    }

    @Test func documentedFormat() throws {
        let url = TrackingFixtures.clickURL(ClickToken(destination: "https://x.example/?a=1&b=2", messageId: "id@h",
                                                       configurationSet: "marketing", linkIndex: 0,
                                                       linkTags: [LinkTrack.Tag(name: "a", value: "b"), LinkTrack.Tag(name: "c", value: "d")],
                                                       messageTags: [LinkTrack.Tag(name: "e", value: "f")]))
        let parts = url.split(separator: "?", maxSplits: 1)
        #expect(parts[0].hasPrefix("https://links.example.com/c/1.k2026."))
        #expect(parts[0].count == "https://links.example.com/c/1.k2026.".count + 16, "a 16-character (96-bit) MAC")
        #expect(parts[1] == "m=id@h&s=marketing&i=0&t=a:b;c:d&g=e=f&u=https://x.example/?a=1%26b=2")
        let open = TrackingFixtures.openURL(OpenToken(messageId: "id@h", configurationSet: "marketing"))
        #expect(open.hasPrefix("https://links.example.com/o/1.k2026."))
        #expect(open.hasSuffix("?m=id@h&s=marketing"))
    }

    @Test func decodeJSONLine() throws {
        let token = ClickToken(destination: "https://x.example/\"q\"", messageId: "id@h", configurationSet: "marketing",
                               linkIndex: 2, linkTags: [LinkTrack.Tag(name: "a", value: "b")])
        #expect(TrackingToken.click(token).jsonLine
                == #"{"kind":"click","url":"https://x.example/\"q\"","messageId":"id@h","configurationSet":"marketing","linkIndex":2,"tags":{"a":"b"},"messageTags":{}}"#)
        #expect(TrackingToken.open(OpenToken(messageId: "id@h", configurationSet: "m", messageTags: [LinkTrack.Tag(name: "t", value: "v")])).jsonLine
                == #"{"kind":"open","messageId":"id@h","configurationSet":"m","messageTags":{"t":"v"}}"#)
    }
}

@Suite("Tracking: LinkSigner determinism and keys")
struct TrackingKeyTests {
    @Test func sameInputGivesTheSameURL() throws {
        let again = try LinkSigner(keys: [try SigningKey(keyId: "k2026", secret: cfgSecret(1))])
        #expect(TrackingFixtures.clickURL() == TrackingFixtures.clickURL(signer: again))
        #expect(TrackingFixtures.openURL() == TrackingFixtures.openURL(signer: again))
        // A configuration with more verify-only keys signs the same way.
        let rotated = try LinkSigner(keys: [TrackingFixtures.key1, TrackingFixtures.key2])
        #expect(TrackingFixtures.clickURL() == TrackingFixtures.clickURL(signer: rotated))
    }

    struct Variation: Sendable, CustomTestStringConvertible {
        var name: String
        var token: ClickToken
        var testDescription: String { name }
    }

    static let variations: [Variation] = {
        let base = TrackingFixtures.click
        var rows: [Variation] = []
        var t = base; t.linkIndex = 4; rows.append(Variation(name: "different link index", token: t))
        t = base; t.messageId += "x"; rows.append(Variation(name: "different message id", token: t))
        t = base; t.configurationSet = "receipts"; rows.append(Variation(name: "different set", token: t))
        t = base; t.destination += "x"; rows.append(Variation(name: "different destination", token: t))
        t = base; t.linkTags = Array(t.linkTags.reversed()); rows.append(Variation(name: "tags in another order", token: t))
        t = base; t.messageTags = []; rows.append(Variation(name: "no message tags", token: t))
        return rows
    }()

    @Test(arguments: variations)
    func differentInputGivesADifferentURLAndMAC(_ row: Variation) throws {
        let a = TrackingFixtures.clickURL()
        let b = TrackingFixtures.clickURL(row.token)
        #expect(a != b)
        #expect(a.split(separator: "?")[0] != b.split(separator: "?")[0], "the MAC differs")
        #expect(try TrackingFixtures.signer.decode(b) == .click(row.token))
    }

    @Test func oldKeyStillVerifiesAfterRotation() throws {
        let before = try LinkSigner(keys: [TrackingFixtures.key1])
        let after = try LinkSigner(keys: [TrackingFixtures.key2, TrackingFixtures.key1])
        let oldClick = TrackingFixtures.clickURL(signer: before)
        let oldOpen = TrackingFixtures.openURL(signer: before)
        #expect(try after.decode(oldClick) == .click(TrackingFixtures.click))
        #expect(try after.decode(oldOpen) == .open(TrackingFixtures.open))
    }

    @Test func theFirstKeySigns() throws {
        let after = try LinkSigner(keys: [TrackingFixtures.key2, TrackingFixtures.key1])
        let url = TrackingFixtures.clickURL(signer: after)
        #expect(url.contains("/c/1.k2027."))
        #expect(TrackingFixtures.openURL(signer: after).contains("/o/1.k2027."))
        #expect(try after.decode(url) == .click(TrackingFixtures.click))
        // Once the old key is retired the new one alone verifies; the old configuration does not know it.
        #expect(try LinkSigner(keys: [TrackingFixtures.key2]).decode(url) == .click(TrackingFixtures.click))
        #expect(throws: TokenError.unknownKey("k2027")) { try TrackingFixtures.signer.decode(url) }
    }

    @Test func keyNotInTheConfigurationIsUnknown() throws {
        let url = TrackingFixtures.clickURL(signer: try LinkSigner(keys: [TrackingFixtures.stranger]))
        let configured = try LinkSigner(keys: [TrackingFixtures.key1, TrackingFixtures.key2])
        #expect(throws: TokenError.unknownKey("other")) { try configured.decode(url) }
        let open = TrackingFixtures.openURL(signer: try LinkSigner(keys: [TrackingFixtures.stranger]))
        #expect(throws: TokenError.unknownKey("other")) { try configured.decode(open) }
    }

    @Test func sameKeyIdWithAnotherSecretIsABadSignature() throws {
        let impostor = try LinkSigner(keys: [try SigningKey(keyId: "k2026", secret: cfgSecret(9))])
        #expect(throws: TokenError.badSignature) { try TrackingFixtures.signer.decode(TrackingFixtures.clickURL(signer: impostor)) }
        #expect(throws: TokenError.badSignature) { try TrackingFixtures.signer.decode(TrackingFixtures.openURL(signer: impostor)) }
    }

    @Test func noKeyIsBadRequest() {
        let error = #expect(throws: ConfigurationError.self) { try LinkSigner(keys: []) }
        #expect(error?.kind == .badRequest)
        #expect(error?.message.contains("SigningKeys") == true)
    }
}

@Suite("Tracking: LinkSigner tampering")
struct TrackingTamperingTests {
    /// Replacement bytes tried at every position: letters, digits, every separator of the format, and a
    /// byte that is not UTF-8 (it decodes to U+FFFD).
    static let replacements: [UInt8] = Array("Aa0_-.%/?&=;:,+#".utf8) + [0x20, 0xFF]

    static func everySingleByteChangeIsRejected(_ url: String, signer: LinkSigner) -> [String] {
        let bytes = Array(url.utf8)
        var accepted: [String] = []
        for position in TrackingFixtures.pathStart(url)..<bytes.count {
            var variants: [[UInt8]] = []
            for replacement in replacements + [bytes[position] ^ 0x01, bytes[position] ^ 0x20] where replacement != bytes[position] {
                var changed = bytes
                changed[position] = replacement
                variants.append(changed)
            }
            var deleted = bytes
            deleted.remove(at: position)
            variants.append(deleted)
            var inserted = bytes
            inserted.insert(UInt8(ascii: "A"), at: position + 1)   // after the byte: never into the host
            variants.append(inserted)
            for variant in variants {
                let text = String(decoding: variant, as: UTF8.self)
                if (try? signer.decode(text)) != nil { accepted.append(text) }
            }
        }
        return accepted
    }

    @Test func everyByteOfAClickURLIsProtected() throws {
        let url = TrackingFixtures.clickURL()
        #expect(try TrackingFixtures.signer.decode(url) == .click(TrackingFixtures.click), "the unaltered URL decodes")
        let accepted = Self.everySingleByteChangeIsRejected(url, signer: TrackingFixtures.signer)
        #expect(accepted.isEmpty, "accepted altered URLs: \(accepted)")
        #expect(url.utf8.count - TrackingFixtures.pathStart(url) > 150, "the whole token was walked")
    }

    @Test func everyByteOfAnOpenURLIsProtected() throws {
        let url = TrackingFixtures.openURL()
        #expect(try TrackingFixtures.signer.decode(url) == .open(TrackingFixtures.open))
        let accepted = Self.everySingleByteChangeIsRejected(url, signer: TrackingFixtures.signer)
        #expect(accepted.isEmpty, "accepted altered URLs: \(accepted)")
    }

    @Test func aRotatedConfigurationRejectsEveryByteChangeToo() throws {
        let rotated = try LinkSigner(keys: [TrackingFixtures.key2, TrackingFixtures.key1])
        let url = TrackingFixtures.clickURL(ClickToken(destination: "https://a.example/%41", messageId: "m@h",
                                                       configurationSet: "s", linkIndex: 0))
        #expect(Self.everySingleByteChangeIsRejected(url, signer: rotated).isEmpty)
    }

    @Test func schemeAndHostAreNotSignedAsDocumented() throws {
        // The redirect server's own host and the policy's scheme are not part of the token.
        let url = TrackingFixtures.clickURL(scheme: .https)
        let moved = TrackingFixtures.replacing(url, "https://links.example.com/", with: "HTTP://other.example.net/")
        #expect(try TrackingFixtures.signer.decode(moved) == .click(TrackingFixtures.click))
    }

    struct Tamper: Sendable, CustomTestStringConvertible {
        var name: String
        var url: String
        var expected: TokenError?
        var testDescription: String { name }
    }

    static let tampers: [Tamper] = {
        let click = TrackingFixtures.clickURL()
        let open = TrackingFixtures.openURL()
        let mac = String(click[click.range(of: "/c/1.k2026.")!.upperBound...].prefix(LinkSigner.macCharacters))
        let accented = TrackingFixtures.clickURL(ClickToken(destination: "https://x.example/é", messageId: "m@h",
                                                            configurationSet: "marketing", linkIndex: 0))
        let r = TrackingFixtures.replacing
        let resigned = { (url: String) in TrackingFixtures.resigned(url) }
        return [
            Tamper(name: "unknown version 2", url: r(click, "/c/1.", "/c/2."), expected: .unknownVersion("2")),
            Tamper(name: "unknown version 0 on an open URL", url: r(open, "/o/1.", "/o/0."), expected: .unknownVersion("0")),
            Tamper(name: "unknown version 10", url: r(click, "/c/1.", "/c/10."), expected: .unknownVersion("10")),
            Tamper(name: "truncated MAC by one character", url: r(click, mac, String(mac.dropLast())), expected: .badSignature),
            Tamper(name: "MAC cut to 12 characters", url: r(click, mac, String(mac.prefix(12))), expected: .badSignature),
            Tamper(name: "MAC empty", url: r(click, mac, ""), expected: .badSignature),
            Tamper(name: "MAC with an extra character", url: r(click, mac, mac + "A"), expected: .badSignature),
            Tamper(name: "MAC written twice", url: r(click, mac, mac + mac), expected: .badSignature),
            Tamper(name: "click token relabelled as open", url: r(click, "/c/", "/o/"), expected: .badSignature),
            Tamper(name: "open token relabelled as click", url: r(open, "/o/", "/c/"), expected: .badSignature),
            Tamper(name: "unknown kind x", url: r(click, "/c/", "/x/"), expected: .malformed("unknown kind x")),
            Tamper(name: "kind of two letters", url: r(click, "/c/", "/cc/"), expected: .malformed("unknown kind cc")),
            Tamper(name: "a third dot in the token", url: r(click, "/c/1.k2026.", "/c/1.k2026.x."),
                   expected: .malformed("unexpected token layout")),
            Tamper(name: "one dot in the token", url: r(click, "/c/1.k2026.", "/c/1k2026."),
                   expected: .malformed("unexpected token layout")),
            Tamper(name: "a second slash in the path", url: r(click, "/c/1.", "/c/x/1."), expected: .malformed("unexpected path")),
            Tamper(name: "unknown key id", url: r(click, "/c/1.k2026.", "/c/1.k2027."), expected: .unknownKey("k2027")),
            Tamper(name: "extra field", url: click + "&x=1", expected: .badSignature),
            Tamper(name: "extra field on an open URL", url: open + "&u=https://evil.example/", expected: .badSignature),
            Tamper(name: "swapped field order", url: r(click, "m=0100018f2c3a4b5c-1a2b3c4d@email.example.com&s=marketing",
                                                      "s=marketing&m=0100018f2c3a4b5c-1a2b3c4d@email.example.com"),
                   expected: .badSignature),
            Tamper(name: "destination replaced", url: r(click, "u=https://shop.example.com", "u=https://evil.example.com"),
                   expected: .badSignature),
            Tamper(name: "hex escape in lower case", url: r(accented, "%C3%A9", "%c3%a9"), expected: .badSignature),
            Tamper(name: "escape decoded to its character", url: r(click, "%23top", "#top"), expected: .badSignature),
            Tamper(name: "escape truncated", url: r(click, "%26", "%2"), expected: .badSignature),
            Tamper(name: "destination case changed", url: r(click, "%23top", "%23Top"), expected: .badSignature),
            Tamper(name: "fragment appended", url: click + "#x", expected: .badSignature),
            Tamper(name: "query removed", url: String(click.split(separator: "?")[0]), expected: nil),
            Tamper(name: "empty query", url: String(click.split(separator: "?")[0]) + "?", expected: .badSignature),
            Tamper(name: "path prefix added", url: r(click, "/c/", "/track/c/"), expected: nil),
            Tamper(name: "not a URL", url: "hello", expected: nil),
            Tamper(name: "ftp scheme", url: r(click, "https:", "ftp:"), expected: nil),
            Tamper(name: "empty", url: "", expected: nil),
            // Behind a valid MAC (which an attacker cannot make), the parser is strict all the same.
            Tamper(name: "re-signed extra field", url: resigned(click + "&x=1"), expected: nil),
            Tamper(name: "re-signed swapped field order",
                   url: resigned(r(click, "m=0100018f2c3a4b5c-1a2b3c4d@email.example.com&s=marketing",
                                   "s=marketing&m=0100018f2c3a4b5c-1a2b3c4d@email.example.com")), expected: nil),
            Tamper(name: "re-signed duplicate field", url: resigned(r(click, "&i=3", "&i=3&i=3")), expected: nil),
            Tamper(name: "re-signed trailing ampersand", url: resigned(click + "&"), expected: .malformed("unexpected fields")),
            Tamper(name: "re-signed empty field", url: resigned(r(click, "&i=3", "&&i=3")), expected: .malformed("missing field i")),
            Tamper(name: "re-signed empty query", url: resigned(String(click.split(separator: "?")[0]) + "?"),
                   expected: .malformed("missing field m")),
            Tamper(name: "re-signed missing destination", url: resigned(String(click.prefix(upTo: click.range(of: "&u=")!.lowerBound))),
                   expected: nil),
            Tamper(name: "re-signed negative link index", url: resigned(r(click, "&i=3", "&i=-3")), expected: nil),
            Tamper(name: "re-signed non-numeric link index", url: resigned(r(click, "&i=3", "&i=three")), expected: nil),
            Tamper(name: "re-signed bad escape", url: resigned(r(click, "%26", "%G6")), expected: nil),
            Tamper(name: "re-signed truncated escape", url: resigned(click + "%2"), expected: nil),
            Tamper(name: "re-signed invalid UTF-8", url: resigned(r(click, "%26", "%FF")), expected: nil),
            Tamper(name: "re-signed tag without value", url: resigned(r(click, "t=campaign:spring_sale", "t=campaign")), expected: nil),
            Tamper(name: "re-signed open URL with a destination", url: resigned(open + "&u=https://evil.example/"), expected: nil),
        ]
    }()

    @Test(arguments: tampers)
    func alteredTokenIsRejected(_ row: Tamper) throws {
        #expect(row.url != TrackingFixtures.clickURL() && row.url != TrackingFixtures.openURL())
        let error = #expect(throws: TokenError.self) { try TrackingFixtures.signer.decode(row.url) }
        if let expected = row.expected {
            #expect(error == expected)
        } else if row.name.hasPrefix("re-signed") {
            guard case .malformed = error?.reason else {
                Issue.record("expected a malformed-token error, got \(String(describing: error))")
                return
            }
        }
    }

    @Test func resigningHelperMakesValidURLs() throws {
        // So that the re-signed rows above fail for their edit, not for their MAC.
        #expect(TrackingFixtures.resigned(TrackingFixtures.clickURL()) == TrackingFixtures.clickURL())
        #expect(TrackingFixtures.resigned(TrackingFixtures.openURL()) == TrackingFixtures.openURL())
        let edited = TrackingFixtures.resigned(TrackingFixtures.replacing(TrackingFixtures.clickURL(), "&i=3", with: "&i=4"))
        guard case .click(let token) = try TrackingFixtures.signer.decode(edited) else { Issue.record("not a click"); return }
        #expect(token.linkIndex == 4)
    }
}

@Suite("Tracking: LinkSigner length")
struct TrackingLengthTests {
    @Test func urlOver2048BytesIsNotProduced() throws {
        let base = ClickToken(destination: "", messageId: "m@example.com", configurationSet: "marketing", linkIndex: 0)
        let empty = try #require(TrackingFixtures.signer.clickURL(base, scheme: .https, domain: TrackingFixtures.domain))
        let room = LinkSigner.maximumURLLength - empty.utf8.count
        var token = base
        token.destination = String(repeating: "a", count: room)
        let longest = try #require(TrackingFixtures.signer.clickURL(token, scheme: .https, domain: TrackingFixtures.domain))
        #expect(longest.utf8.count == 2048)
        #expect(try TrackingFixtures.signer.decode(longest) == .click(token))
        token.destination += "a"
        #expect(TrackingFixtures.signer.clickURL(token, scheme: .https, domain: TrackingFixtures.domain) == nil)
        // The limit counts encoded bytes: a destination of fewer characters can exceed it once escaped.
        token.destination = String(repeating: "é", count: room / 6 + 1)   // 2 UTF-8 bytes, 6 encoded bytes each
        #expect(token.destination.count < room)
        #expect(TrackingFixtures.signer.clickURL(token, scheme: .https, domain: TrackingFixtures.domain) == nil)
        token.destination = "https://example.com/" + String(repeating: "x", count: 3000)
        #expect(TrackingFixtures.signer.clickURL(token, scheme: .http, domain: TrackingFixtures.domain) == nil)
    }

    /// The bytes a click URL adds to the percent-encoded destination besides the values it carries:
    /// `://`, `/c/`, `1.`, `.`, the 16-character MAC, `?m=`, `&s=`, `&i=`, `&u=` (37) and one digit of
    /// link index. The README and ``LinkSigner``'s documentation give this number.
    static let fixedOverhead = 38

    struct OverheadRow: Sendable, CustomTestStringConvertible {
        var scheme: HttpsPolicy.Scheme
        var domain: String
        var keyId: String
        var messageId: String
        var set: String
        var linkIndex: Int
        var linkTags: [LinkTrack.Tag] = []
        var messageTags: [LinkTrack.Tag] = []
        /// The bytes of the tags' fields: `&t=` and `&g=` with their text.
        var tagBytes = 0
        var testDescription: String { "\(scheme) \(domain) \(keyId) \(messageId) \(set) \(linkIndex) +\(tagBytes)" }
    }

    static let overheadRows: [OverheadRow] = [
        // The README's example: 38 + 5 + 17 + 5 + 40 + 9 = 114.
        OverheadRow(scheme: .https, domain: "links.example.com", keyId: "k2026",
                    messageId: "0100018f2c3a4b5c-1a2b3c4d-5e6f@example.c", set: "marketing", linkIndex: 7),
        OverheadRow(scheme: .http, domain: "t.co", keyId: "k", messageId: "a@b", set: "s", linkIndex: 0),
        OverheadRow(scheme: .https, domain: "links.example.com", keyId: "k2026",
                    messageId: "0100018f2c3a4b5c-1a2b3c4d-5e6f@example.c", set: "marketing", linkIndex: 12345),
        OverheadRow(scheme: .https, domain: "links.example.com", keyId: String(repeating: "k", count: 32),
                    messageId: "id@example.com", set: String(repeating: "s", count: 64), linkIndex: 3,
                    linkTags: [LinkTrack.Tag(name: "campaign", value: "spring")],
                    messageTags: [LinkTrack.Tag(name: "tenant", value: "acme"), LinkTrack.Tag(name: "flow", value: "welcome")],
                    tagBytes: 3 + "campaign:spring".count + 3 + "tenant=acme,flow=welcome".count),
    ]

    /// The overhead is exactly the fixed 38 bytes plus what the URL carries, as the README says.
    /// Issue 2 asked for "about 100 bytes" over the destination; for the README's example it is 114, of
    /// which 76 are the scheme, domain, key id, message id and set name a stateless link must carry and
    /// 16 the MAC: only 22 are structure. The target is this formula (issue 16, item 8).
    @Test(arguments: overheadRows)
    func clickURLOverheadIsTheDocumentedFormula(_ row: OverheadRow) throws {
        let destination = "https://shop.example.com/products/spring?utm_source=email&utm_medium=ses&id=12345"
        let signer = try LinkSigner(keys: [try SigningKey(keyId: row.keyId, secret: cfgSecret(1))])
        let token = ClickToken(destination: destination, messageId: row.messageId, configurationSet: row.set,
                               linkIndex: row.linkIndex, linkTags: row.linkTags, messageTags: row.messageTags)
        let url = try #require(signer.clickURL(token, scheme: row.scheme, domain: row.domain))
        let overhead = url.utf8.count - TrackingFixtures.percentEncoded(destination)
        let carried = row.scheme.rawValue.utf8.count + row.domain.utf8.count + row.keyId.utf8.count
            + TrackingFixtures.percentEncoded(row.messageId) + TrackingFixtures.percentEncoded(row.set)
        #expect(overhead == Self.fixedOverhead + carried + String(row.linkIndex).count - 1 + row.tagBytes)
    }

    @Test func theREADMEExampleIs114Bytes() throws {
        let row = Self.overheadRows[0]
        let signer = try LinkSigner(keys: [try SigningKey(keyId: row.keyId, secret: cfgSecret(1))])
        let destination = "https://example.com/"
        let url = try #require(signer.clickURL(ClickToken(destination: destination, messageId: row.messageId,
                                                          configurationSet: row.set, linkIndex: row.linkIndex),
                                               scheme: row.scheme, domain: row.domain))
        #expect(url.utf8.count - TrackingFixtures.percentEncoded(destination) == 114)
    }
}

@Suite("Tracking: the MAC is HMAC-SHA256 (known answers)")
struct TrackingMACTests {
    /// The MAC built from prepared SHA-256 states must equal HMAC-SHA256 over the documented
    /// message (``KnownAnswers/macs``, computed by OpenSSL), for keys shorter than, equal to and
    /// longer than SHA-256's block.
    @Test(arguments: [32, 63, 64, 65, 100, 200], [true, false])
    func preparedStatesGiveHMACSHA256(keyLength: Int, accelerated: Bool) throws {
        let secret = cfgSecret(UInt8(keyLength), count: keyLength)
        let key = LinkSigner.Key(keyId: "kx", secret: secret, accelerated: accelerated)
        let expected = try #require(KnownAnswers.macs[keyLength])
        for ((kind, queryLength), expectedText) in zip(KnownAnswers.macMessages, expected) {
            let query = (0..<queryLength).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            #expect(LinkSigner.mac(kind: kind, keyId: "kx", query: query[...], key: key) == Array(expectedText.utf8),
                    "key \(keyLength) bytes, \(kind), query \(queryLength) bytes")
        }
    }

    /// The per-message signer (query start hashed once) gives the URL of the one-token path, and the
    /// MAC it writes is the one-token path's MAC over the whole query (checked against known answers
    /// above), from a key prepared afresh.
    @Test func messageSignerMatchesTheTokenPath() throws {
        let signer = TrackingFixtures.signer
        let token = TrackingFixtures.click
        let messageSigner = MessageSigner(signer, messageId: token.messageId, configurationSet: token.configurationSet,
                                          messageTags: token.messageTags, domain: TrackingFixtures.domain)
        for index in [0, 7, 10, 99, 12345] {
            var t = token
            t.linkIndex = index
            var destination = t.destination
            let fast = destination.withUTF8 {
                messageSigner.clickURL(destination: $0, linkIndex: index, linkTags: t.linkTags, scheme: .http)
            }
            let url = try #require(fast)
            let text = String(decoding: url, as: UTF8.self)
            #expect(try signer.decode(text) == .click(t))
            let mark = try #require(url.firstIndex(of: UInt8(ascii: "?")))
            let macStart = mark - LinkSigner.macCharacters
            let key = LinkSigner.Key(keyId: TrackingFixtures.key1.keyId, secret: TrackingFixtures.key1.secret)
            let expected = LinkSigner.mac(kind: "c", keyId: key.keyId, query: url[(mark + 1)...], key: key)
            #expect(Array(url[macStart..<mark]) == expected)
        }
        // The buffer a rewrite passes for every link: a long URL, then a short one, then long again,
        // each the same as built alone (the bytes after the short one are left over).
        var buffer: [UInt8] = []
        for (index, destination) in [(1, String(repeating: "https://e.example/x?q=%C3", count: 40)), (123_456, "http://a.b/"),
                                     (Int.max, "https://e.example/caf\u{E9} &\"'<>")] {
            var d = destination
            let alone = try #require(d.withUTF8 { messageSigner.clickURL(destination: $0, linkIndex: index, linkTags: [], scheme: .https) })
            let count = try #require(d.withUTF8 {
                messageSigner.writeClickURLLayout(destination: $0, linkIndex: index, linkTags: [], scheme: .https,
                                                  into: &buffer)?.count
            })
            #expect(Array(buffer[..<count]) == alone)
            #expect(String(decoding: alone, as: UTF8.self).contains("i=\(index)&"))
        }
    }
}

extension TrackingMACTests {
    /// The href value escaped around the destination (the URL written into a reused buffer, its
    /// destination copied unsearched) equals the click URL escaped by the general escaper, for
    /// message ids, sets and tags that need escaping or none, with and without link tags, both
    /// schemes, quoted or not, and destinations of any bytes (one kept buffer for all, as a rewrite
    /// keeps it), by one ``ClickURLEscaper`` per signer.
    @Test func clickAttributeValueIsTheEscapedClickURL() throws {
        var generator = SeededGenerator(seed: 11)
        let messageIds = ["a@b", "x&y\"z'<q>@example.com", "0100018f2c3a4b5c-1a2b3c4d@email.example.com"]
        let sets = ["marketing", "a&b", "q\"s'"]
        let tagSets: [[LinkTrack.Tag]] = [[], TrackingFixtures.tags, TrackingFixtures.messageTags]
        var buffer: [UInt8] = []
        for messageId in messageIds {
            for set in sets {
                for messageTags in tagSets {
                    let messageSigner = MessageSigner(TrackingFixtures.signer, messageId: messageId, configurationSet: set,
                                                      messageTags: messageTags, domain: TrackingFixtures.domain)
                    // One escaper for all the signer's links, as a rewrite keeps one: its kept
                    // fields must follow a change of link tags, and each scheme has its head.
                    var escaper = ClickURLEscaper(signer: messageSigner)
                    for round in 0..<12 {
                        let destination = (0..<Int.random(in: 0...300, using: &generator)).map { _ in
                            UInt8.random(in: 0...255, using: &generator)
                        }
                        let linkTags = tagSets[round % tagSets.count]
                        let scheme: HttpsPolicy.Scheme = round % 2 == 0 ? .https : .http
                        let addQuotes = round % 4 < 2
                        let url = try #require(destination.withUnsafeBufferPointer {
                            messageSigner.clickURL(destination: $0, linkIndex: round * 977, linkTags: linkTags, scheme: scheme)
                        })
                        let layout = try #require(destination.withUnsafeBufferPointer {
                            messageSigner.writeClickURLLayout(destination: $0, linkIndex: round * 977, linkTags: linkTags,
                                                              scheme: scheme, into: &buffer)
                        })
                        let expected = HTMLEscaping.urlAttributeValue(url, addQuotes: addQuotes)
                        let escaped = buffer.withUnsafeBufferPointer {
                            escaper.attributeValue($0, layout: layout, scheme: scheme, addQuotes: addQuotes)
                        }
                        #expect(escaped == expected, "escaper: id \(messageId), set \(set), round \(round)")
                    }
                }
            }
        }
    }
}

@Suite("Tracking: SHA-256")
struct SHA256StateTests {
    static func hex(_ digest: SHA256Sum) -> String {
        digest.array.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// The FIPS 180-2 appendix B examples, on both compression functions.
    @Test(arguments: [true, false])
    func fipsExamples(accelerated: Bool) {
        let examples: [(String, Int, String)] = [
            ("abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            ("a", 1_000_000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ]
        for (text, repeats, expected) in examples {
            var state = SHA256State(accelerated: accelerated)
            let piece = Array(text.utf8)
            if repeats == 1 {
                state.update(piece)
            } else {
                let chunk = [UInt8](repeating: piece[0], count: 1000)
                for _ in 0..<(repeats / 1000) { state.update(chunk) }
            }
            #expect(Self.hex(state.digest()) == expected, "\(text.prefix(8)) x\(repeats)")
        }
    }

    /// Every length up to five blocks and a few long ones, fed whole and in random pieces, on both
    /// compression functions, against known answers computed by OpenSSL (``KnownAnswers``); a digest
    /// leaves the state usable.
    @Test(arguments: [true, false])
    func matchesKnownAnswers(accelerated: Bool) {
        var generator = SeededGenerator(seed: accelerated ? 256 : 257)
        for (length, expectedPrefix) in zip(KnownAnswers.lengths, KnownAnswers.sha256Prefixes) {
            let bytes = KnownAnswers.message(length: length)
            var whole = SHA256State(accelerated: accelerated)
            whole.update(bytes)
            let digest = Self.hex(whole.digest())
            #expect(digest.hasPrefix(expectedPrefix), "length \(length)")
            if let expected = KnownAnswers.sha256Long[length] { #expect(digest == expected, "length \(length)") }
            var pieces = SHA256State(accelerated: accelerated)
            var start = 0
            while start < length {
                let end = min(length, start + Int.random(in: 0...150, using: &generator))
                bytes[start..<end].withUnsafeBytes { pieces.update($0) }
                start = end
                if start == length / 2 { _ = pieces.digest() }
            }
            #expect(Self.hex(pieces.digest()) == digest, "length \(length) in pieces")
        }
    }

    /// On a CPU with the SHA extensions the default state uses them (so the accelerated path is
    /// the one the tests above exercised); elsewhere both paths are the portable one.
    @Test func acceleratedPathIsUsedWhereAvailable() {
        #expect(SHA256State().isAccelerated == (lt_sha256_has_sha_extensions() != 0))
        #expect(!SHA256State(accelerated: false).isAccelerated)
    }
}

@Suite("Tracking: LinkSigner reads URLs copied from HTML")
struct LinkSignerHTMLTests {
    /// The value as the rewriter writes it into an href decodes to the same token as the URL, and so
    /// do other spellings of its references; a URL without references is read as it is.
    @Test func htmlAttributeValueDecodesToTheSameToken() throws {
        let url = TrackingFixtures.clickURL()
        let written = String(decoding: HTMLEscaping.urlAttributeValue(Array(url.utf8), addQuotes: false), as: UTF8.self)
        #expect(written != url && written.contains("&amp;"))
        let signer = TrackingFixtures.signer
        let token = try signer.decode(url)
        #expect(try signer.decode(htmlAttributeValue: written) == token)
        #expect(try signer.decode(htmlAttributeValue: url) == token)
        #expect(try signer.decode(htmlAttributeValue: "\n " + url.replacingOccurrences(of: "&", with: "&#x26;") + " ") == token)
        #expect(throws: TokenError.badSignature) { try signer.decode(written) != token }
        #expect(LinkSigner.unescapedHTMLAttributeValue(written) == url)
    }
}
