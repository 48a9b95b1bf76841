#if canImport(Glibc)
import Glibc
#endif

/// Escapes the click URLs of one message's signer for attribute values, searching per link only
/// the bytes that change from link to link.
///
/// A click URL (see ``MessageSigner/Layout``) is a head, the MAC, `?` and the query start, the
/// link index, the fields after the index (link tags, message tags, `&u=`) and the percent-encoded
/// destination. The head (one per scheme) and the query start are the signer's own constants and
/// hold the `&`s (and, from a message id or set, any quote) to escape: they are escaped once, here,
/// from the signer's bytes. The fields are kept as last written and escaped, and escaped again only
/// when their bytes differ (they do when a link has tags). The MAC (base64url), the index (digits)
/// and the destination (``PercentEncoding``'s literal bytes and `%XX`) hold no byte to escape and
/// are copied as they are. The signer knows no HTML; this type knows only where its parts stand.
///
/// The value is put together in a buffer kept for every link, then copied into an array of its
/// exact size: the one allocation a link costs, the replacement an ``Edit`` owns.
/// (`Array(unsafeUninitializedCapacity:)` would spare the copy but takes a generic path in the
/// runtime, a type-metadata lookup per call, that costs more than the copy of a few hundred bytes.)
struct ClickURLEscaper {
    /// One stretch of the URL that may repeat from link to link, as written and escaped.
    struct RepeatedRun {
        private(set) var raw: [UInt8] = []
        private(set) var escaped: [UInt8] = []

        /// Makes ``escaped`` the escaping of `bytes` (``HTMLEscaping/appendAttributeValue(_:to:)``),
        /// escaping them only when they differ from the last bytes taken.
        mutating func take(_ bytes: UnsafeBufferPointer<UInt8>) {
            // Safe: `memcmp` reads `bytes.count` bytes of each, and both hold that many.
            if raw.count == bytes.count,
               raw.withUnsafeBufferPointer({ bytes.isEmpty || memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }) {
                return
            }
            raw = Array(bytes)
            escaped.removeAll(keepingCapacity: true)
            HTMLEscaping.appendAttributeValue(raw, to: &escaped)
        }
    }

    /// The signer whose URLs this escapes.
    let signer: MessageSigner
    /// Its heads and `?` with its query start, escaped.
    private let escapedHttpsHead: [UInt8]
    private let escapedHttpHead: [UInt8]
    private let escapedQueryStart: [UInt8]
    /// The fields between the link index and the destination.
    private var fields = RepeatedRun()
    /// Every value is put together at the start of this buffer.
    private var scratch: [UInt8] = []

    init(signer: MessageSigner) {
        self.signer = signer
        func escaped(_ bytes: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            HTMLEscaping.appendAttributeValue(bytes, to: &out)
            return out
        }
        escapedHttpsHead = escaped(signer.httpsHead)
        escapedHttpHead = escaped(signer.httpHead)
        escapedQueryStart = escaped([UInt8(ascii: "?")] + signer.queryStart)
    }

    /// The click URL `url` escaped for an attribute value (`&`, `"` and `'` become references), in
    /// double quotes when `addQuotes`: what ``HTMLEscaping/urlAttributeValue(_:addQuotes:)`` gives.
    /// - Parameters:
    ///   - url: the URL as ``signer``'s
    ///     ``MessageSigner/writeClickURLLayout(destination:linkIndex:linkTags:scheme:into:)`` wrote it.
    ///   - layout: where its parts stand, as the signer returned it.
    ///   - scheme: the scheme the signer wrote it with (each has its own head).
    ///   - addQuotes: whether to put the value in double quotes (for an unquoted attribute).
    /// - Returns: the attribute value's bytes.
    mutating func attributeValue(_ url: UnsafeBufferPointer<UInt8>, layout: MessageSigner.Layout,
                                 scheme: HttpsPolicy.Scheme, addQuotes: Bool) -> [UInt8] {
        let rawHeadCount = scheme == .https ? signer.httpsHead.count : signer.httpHead.count
        let macEnd = layout.macStart + LinkSigner.macCharacters
        // The parts stand where the signer's constants put them (their bytes are the signer's).
        precondition(layout.macStart == rawHeadCount && layout.indexStart == macEnd + 1 + signer.queryStart.count
                     && layout.indexStart <= layout.fieldsStart && layout.fieldsStart <= layout.destinationStart
                     && layout.destinationStart <= layout.count && layout.count <= url.count,
                     "a layout that is not this signer's")
        assert(url[0..<layout.macStart].elementsEqual(scheme == .https ? signer.httpsHead : signer.httpHead)
               && url[(macEnd + 1)..<layout.indexStart].elementsEqual(signer.queryStart), "a URL of another signer")
        assert(!url[layout.macStart..<macEnd].contains(where: { HTMLEscaping.reference(for: $0) != nil })
               && !url[layout.indexStart..<layout.fieldsStart].contains(where: { HTMLEscaping.reference(for: $0) != nil })
               && !url[layout.destinationStart..<layout.count].contains(where: { HTMLEscaping.reference(for: $0) != nil }),
               "a byte that needs escaping in the MAC, the index or the destination")
        // Safe: the range lies within `url` (checked above).
        fields.take(UnsafeBufferPointer(rebasing: url[layout.fieldsStart..<layout.destinationStart]))
        let head = scheme == .https ? escapedHttpsHead : escapedHttpHead
        let query = escapedQueryStart
        let escapedFields = fields.escaped
        let total = (addQuotes ? 2 : 0) + head.count + LinkSigner.macCharacters + query.count
            + (layout.fieldsStart - layout.indexStart) + escapedFields.count + (layout.count - layout.destinationStart)
        MessageSigner.grow(&scratch, to: total)
        return scratch.withUnsafeMutableBufferPointer { out -> [UInt8] in
            // Safe: exactly `total` bytes are written, and `out` holds at least that many; the
            // ranges of `url` lie within it (checked above).
            let p = out.baseAddress!
            var n = 0
            if addQuotes { p[n] = UInt8(ascii: "\""); n += 1 }
            head.withUnsafeBufferPointer { MessageSigner.put($0, at: p, &n) }
            MessageSigner.put(UnsafeBufferPointer(rebasing: url[layout.macStart..<macEnd]), at: p, &n)
            query.withUnsafeBufferPointer { MessageSigner.put($0, at: p, &n) }
            MessageSigner.put(UnsafeBufferPointer(rebasing: url[layout.indexStart..<layout.fieldsStart]), at: p, &n)
            escapedFields.withUnsafeBufferPointer { MessageSigner.put($0, at: p, &n) }
            MessageSigner.put(UnsafeBufferPointer(rebasing: url[layout.destinationStart..<layout.count]), at: p, &n)
            if addQuotes { p[n] = UInt8(ascii: "\""); n += 1 }
            return Array(UnsafeBufferPointer(rebasing: out[0..<n]))
        }
    }
}
