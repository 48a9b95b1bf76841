/// Signs the click links of one message.
///
/// Every click query starts with the same `m=<messageId>&s=<set>&i=`, usually more than one
/// SHA-256 block: it is percent-encoded and hashed once here, so each link costs only the blocks of
/// its own index, tags and destination. The URLs are exactly ``LinkSigner/clickURL(_:scheme:domain:)``'s.
///
/// It writes plain URL bytes into a buffer the caller keeps for every link, and says where their
/// parts stand (``Layout``); escaping them for an HTML attribute is the HTML side's
/// (``ClickURLEscaper``).
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
        // Safe: the bytes are hashed during the call only.
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
    /// reused; false when there is no URL.
    func writeClickURL(destination: UnsafeBufferPointer<UInt8>, linkIndex: Int, linkTags: [Tag],
                       scheme: HttpsPolicy.Scheme, into url: inout [UInt8]) -> Bool {
        guard let count = writeClickURLLayout(destination: destination, linkIndex: linkIndex, linkTags: linkTags,
                                              scheme: scheme, into: &url)?.count else {
            url.removeAll(keepingCapacity: true)
            return false
        }
        url.removeSubrange(count...)
        return true
    }

    /// Where the parts of a click URL stand (see ``writeClickURLLayout(destination:linkIndex:linkTags:scheme:into:)``).
    struct Layout {
        /// The URL's length.
        var count: Int
        /// Where the MAC starts (just after the head, ``httpsHead`` or ``httpHead``): its
        /// ``LinkSigner/macCharacters`` base64url bytes (letters, digits, `-` and `_`), then `?` and
        /// ``queryStart``. The head and the query start are the message's, the same for every link
        /// (the head for every link of one scheme).
        var macStart: Int
        /// Where the link index starts (just after ``queryStart``); its decimal digits end at
        /// ``fieldsStart``.
        var indexStart: Int
        /// Where the fields after the index start: link tags, message tags, then `&u=`.
        var fieldsStart: Int
        /// Where the percent-encoded destination starts (just after `&u=`). From here to ``count``
        /// the URL holds only ``PercentEncoding``'s literal bytes and `%XX`: no `&`, no quote, no
        /// `<` or `>`, so a caller that escapes the URL for some other syntax (an HTML attribute
        /// value) need not search this part, the bulk of the URL.
        var destinationStart: Int
    }

    /// The click URL written at the start of `buffer`, which a rewrite passes for every link: it
    /// grows when a URL needs more room and never shrinks. Returns where its parts stand, its
    /// length among them (the bytes after it are left over from earlier URLs), or nil when there is
    /// no URL.
    ///
    /// The URL is written through one pointer: head, room for the MAC, `?`, the query start and the
    /// rest of the query, percent-encoding the destination on the way. The rest of the query is
    /// then hashed where it stands and the MAC filled in. (Appending piece by piece to an array
    /// costs more than the writing itself: a capacity and uniqueness check per piece.)
    func writeClickURLLayout(destination: UnsafeBufferPointer<UInt8>, linkIndex: Int, linkTags: [Tag],
                             scheme: HttpsPolicy.Scheme, into buffer: inout [UInt8]) -> Layout? {
        guard messageTagsValid, linkTags.allSatisfy(Tag.isValid) else { return nil }
        let head = scheme == .https ? httpsHead : httpHead
        var linkTagsField: [UInt8] = []
        LinkSigner.appendTags(linkTags, name: "t", pairSeparator: UInt8(ascii: ";"),
                              keyValueSeparator: UInt8(ascii: ":"), to: &linkTagsField)
        // At most: every destination byte becomes %XX, and a link index has at most 19 digits.
        // (One byte more: each destination byte is written as four, of which one to three count.)
        let room = head.count + LinkSigner.macCharacters + 1 + queryStart.count + 20 + linkTagsField.count
            + messageTagsField.count + 3 + destination.count * 3 + 1
        Self.grow(&buffer, to: room)
        let macStart = head.count
        let restStart = macStart + LinkSigner.macCharacters + 1 + queryStart.count
        var fieldsStart = 0
        var destinationStart = 0
        let count = buffer.withUnsafeMutableBufferPointer { out -> Int in
            // Safe: at most `room` bytes are written, and `out` holds at least that many.
            let p = out.baseAddress!
            var n = 0
            head.withUnsafeBufferPointer { Self.put($0, at: p, &n) }
            n += LinkSigner.macCharacters  // written over once the query is hashed
            p[n] = UInt8(ascii: "?")
            n += 1
            queryStart.withUnsafeBufferPointer { Self.put($0, at: p, &n) }
            n += Self.writeDecimal(linkIndex, at: p + n)
            fieldsStart = n
            linkTagsField.withUnsafeBufferPointer { Self.put($0, at: p, &n) }
            messageTagsField.withUnsafeBufferPointer { Self.put($0, at: p, &n) }
            Self.put(UnsafeBufferPointer(start: Self.destinationField.utf8Start, count: Self.destinationField.utf8CodeUnitCount),
                     at: p, &n)
            destinationStart = n
            let encodings = Self.percentEncodings
            let target = UnsafeMutableRawPointer(p)
            for b in destination {
                let encoding = encodings[Int(b)]
                target.storeBytes(of: encoding.littleEndian, toByteOffset: n, as: UInt32.self)
                n += Int(encoding >> 24)
            }
            return n
        }
        guard count <= LinkSigner.maximumURLLength else { return nil }
        var state = inner
        // Safe: `restStart..<count` lies within the URL just written; hashed during the call only.
        buffer.withUnsafeBytes { state.update(UnsafeRawBufferPointer(rebasing: $0[restStart..<count])) }
        key.writeMAC(finishing: state, into: &buffer, at: macStart)
        return Layout(count: count, macStart: macStart, indexStart: restStart, fieldsStart: fieldsStart,
                      destinationStart: destinationStart)
    }

    // Safe: written once by the static's initializer before any reader can see it, never written again or
    // freed, so threads may share it.
    /// For each byte, its percent-encoding (``PercentEncoding``) as a little-endian word: the byte
    /// itself or `%XX` in the low three bytes, and how many of them count in the top one. Writing
    /// the whole word and counting its length spares a branch per destination byte.
    ///
    /// Memory set once and never freed, read through a plain pointer: a table in an array would be
    /// retained and released on every use, and callers on two threads would contend for its
    /// reference count (see ``PercentEncoding``).
    nonisolated(unsafe) static let percentEncodings: UnsafePointer<UInt32> = {
        let table = UnsafeMutablePointer<UInt32>.allocate(capacity: 256)
        let digits = PercentEncoding.hex.utf8Start
        for b in 0...255 {
            table[b] = PercentEncoding.isLiteral(UInt8(b)) ? 1 << 24 | UInt32(b)
                : 3 << 24 | UInt32(digits[b & 0xF]) << 16 | UInt32(digits[b >> 4]) << 8 | UInt32(UInt8(ascii: "%"))
        }
        return UnsafePointer(table)
    }()

    /// Makes `buffer` at least `count` bytes long (its bytes are to be written over). Through
    /// `reserveCapacity` and appends of zeros from constant memory: `Array(repeating:count:)` takes
    /// a generic path here that looks up the array's type metadata in the runtime on every call.
    static func grow(_ buffer: inout [UInt8], to count: Int) {
        guard buffer.count < count else { return }
        buffer.reserveCapacity(count)
        while buffer.count < count {
            // Safe: at most `zeroCount` bytes of ``zeros``, which has that many.
            buffer.append(contentsOf: UnsafeBufferPointer(start: zeros, count: min(zeroCount, count - buffer.count)))
        }
    }

    static let zeroCount = 4096
    // Safe: as ``percentEncodings``: initialized once, never written again or freed.
    /// `zeroCount` zero bytes, set once and never freed.
    nonisolated(unsafe) static let zeros: UnsafePointer<UInt8> = {
        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: zeroCount)
        bytes.initialize(repeating: 0, count: zeroCount)
        return UnsafePointer(bytes)
    }()

    /// Copies `bytes` to `p + n` and moves `n` past them.
    @inline(__always)
    static func put(_ bytes: UnsafeBufferPointer<UInt8>, at p: UnsafeMutablePointer<UInt8>, _ n: inout Int) {
        // Safe: callers size the target for everything they put (see
        // ``writeClickURLLayout(destination:linkIndex:linkTags:scheme:into:)``).
        if let base = bytes.baseAddress { (p + n).update(from: base, count: bytes.count) }
        n += bytes.count
    }

    /// The field that carries the destination, last in the query.
    static let destinationField: StaticString = "&u="

    // Safe: callers leave room for 19 digits, the most an `Int` has.
    /// Writes the decimal digits of `value` (not negative) at `out`; returns how many.
    static func writeDecimal(_ value: Int, at out: UnsafeMutablePointer<UInt8>) -> Int {
        precondition(value >= 0, "a link index is never negative")
        var count = 1
        var rest = value / 10
        while rest > 0 { count += 1; rest /= 10 }
        rest = value
        for i in stride(from: count - 1, through: 0, by: -1) {
            out[i] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        return count
    }
}

extension Tag {
    /// Whether both name and value are valid components (see ``isValidComponent(_:)``).
    static func isValid(_ tag: Tag) -> Bool {
        isValidComponent(tag.name) && isValidComponent(tag.value)
    }
}
