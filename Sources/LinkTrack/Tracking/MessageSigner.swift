/// Signs the click links of one message.
///
/// Every click query starts with the same `m=<messageId>&s=<set>&i=`, usually more than one
/// SHA-256 block: it is percent-encoded and hashed once here, so each link costs only the blocks of
/// its own index, tags and destination. The URLs are exactly ``LinkSigner/clickURL(_:scheme:domain:)``'s.
///
/// A class, so that signing a link borrows one reference: a struct of arrays and hash states
/// held by the rewriter was copied, with a retain and a release of each field, for every link.
final class MessageSigner {
    let key: LinkSigner.Key
    /// `https://<domain>/c/1.<keyId>.` and the same with `http`.
    let httpsHead: [UInt8]
    let httpHead: [UInt8]
    /// `m=<messageId>&s=<set>&i=`, percent-encoded.
    let queryStart: [UInt8]
    /// `&g=<messageTags>`, or nothing.
    let messageTagsField: [UInt8]
    /// The inner HMAC state after the key block, the kind's prefix and ``queryStart``.
    let inner: SHA256State
    /// False when a message tag is not valid: then no click URL can be built.
    let messageTagsValid: Bool

    init(_ signer: LinkSigner, messageId: String, configurationSet: String, messageTags: [Tag], domain: String) {
        key = signer.keys[0]
        httpsHead = LinkSigner.urlHead(kind: "c", scheme: .https, domain: domain, keyId: key.keyId)
        httpHead = LinkSigner.urlHead(kind: "c", scheme: .http, domain: domain, keyId: key.keyId)
        var start: [UInt8] = []
        LinkSigner.appendField("m", messageId, to: &start, first: true)
        LinkSigner.appendField("s", configurationSet, to: &start)
        start.append(contentsOf: "&i=".utf8)
        queryStart = start
        var tags: [UInt8] = []
        LinkSigner.appendTags(messageTags, name: "g", pairSeparator: UInt8(ascii: ","),
                              keyValueSeparator: UInt8(ascii: "="), to: &tags)
        messageTagsField = tags
        messageTagsValid = messageTags.allSatisfy(Tag.isValid)
        var state = key.clickInner
        start.withUnsafeBytes { state.update($0) }
        inner = state
    }

    /// The click URL for one link, or nil when it would be longer than ``LinkSigner/maximumURLLength``
    /// or a tag is not valid.
    /// - Parameter destination: the link's target after character-reference decoding and trimming.
    func clickURL(destination: UnsafeBufferPointer<UInt8>, linkIndex: Int, linkTags: [Tag],
                  scheme: HttpsPolicy.Scheme) -> [UInt8]? {
        var url: [UInt8] = []
        guard writeClickURL(destination: destination, linkIndex: linkIndex, linkTags: linkTags, scheme: scheme,
                            into: &url) else { return nil }
        return url
    }

    /// ``clickURL(destination:linkIndex:linkTags:scheme:)`` written over `url`, whose storage is
    /// reused (a rewrite passes the same buffer for every link); false when there is no URL.
    func writeClickURL(destination: UnsafeBufferPointer<UInt8>, linkIndex: Int, linkTags: [Tag],
                       scheme: HttpsPolicy.Scheme, into url: inout [UInt8]) -> Bool {
        url.removeAll(keepingCapacity: true)
        guard messageTagsValid, linkTags.allSatisfy(Tag.isValid) else { return false }
        let head = scheme == .https ? httpsHead : httpHead
        // The URL is written in place: head, room for the MAC, `?`, the query start and the rest
        // of the query, which is then hashed where it stands and the MAC filled in.
        url.reserveCapacity(head.count + LinkSigner.macCharacters + 1 + queryStart.count + messageTagsField.count
                            + destination.count * 3 + 32)  // every destination byte may become %XX
        url.append(contentsOf: head)
        let macStart = url.count
        // Literals go in from static strings: appending a `repeatElement` or a `String.UTF8View`
        // takes the general, element-by-element path, several times the cost of a copy.
        Self.append(Self.macPlaceholder, to: &url)
        url.append(UInt8(ascii: "?"))
        url.append(contentsOf: queryStart)
        let restStart = url.count
        Self.appendDecimal(linkIndex, to: &url)
        LinkSigner.appendTags(linkTags, name: "t", pairSeparator: UInt8(ascii: ";"),
                              keyValueSeparator: UInt8(ascii: ":"), to: &url)
        url.append(contentsOf: messageTagsField)
        Self.append("&u=", to: &url)
        PercentEncoding.append(destination, to: &url)
        guard url.count <= LinkSigner.maximumURLLength else { return false }

        var state = inner
        url.withUnsafeBytes { state.update(UnsafeRawBufferPointer(rebasing: $0[restStart...])) }
        key.writeMAC(finishing: state, into: &url, at: macStart)
        return true
    }

    /// Where the MAC goes, filled in once the query is hashed (``LinkSigner/macCharacters`` bytes).
    static let macPlaceholder: StaticString = "0000000000000000"

    static func append(_ literal: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        precondition(value >= 0, "a link index is never negative")
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[i]) }
        }
    }
}

extension Tag {
    /// Whether both name and value are valid components (see ``isValidComponent(_:)``).
    static func isValid(_ tag: Tag) -> Bool {
        isValidComponent(tag.name) && isValidComponent(tag.value)
    }
}
