#if canImport(Glibc)
import Glibc
#endif

/// The per-message facts that go into tracking tokens.
public struct TrackingContext: Sendable, Equatable {
    public var configurationSet: ConfigurationSet
    /// The message id without angle brackets.
    public var messageId: String
    /// `X-SES-MESSAGE-TAGS`, in written order.
    public var messageTags: [Tag]
    /// The index of the part's first tracked link: 0 unless several parts of one message share
    /// the index space (text parts are tracked, ``LinkTrackOptions/trackLinksIn``).
    public var firstLinkIndex = 0
    /// The message's `List-Unsubscribe` URLs, whose links stay untracked unless the set's
    /// ``LinkTrackOptions/trackUnsubscribeLinks`` says otherwise (issue 21).
    package var listUnsubscribe: ListUnsubscribe?

    public init(configurationSet: ConfigurationSet, messageId: String, messageTags: [Tag] = []) {
        self.configurationSet = configurationSet
        self.messageId = Self.strippingAngleBrackets(messageId)
        self.messageTags = messageTags
    }

    /// A deterministic message id for a document sent without one: `lt-<24 hex digits>@linktrack.invalid`,
    /// from a fast non-cryptographic digest of the whole document (``DocumentDigest``): the same
    /// document always gets the same id, and documents that differ anywhere get different ones.
    public static func derivedMessageId(for document: [UInt8]) -> String {
        // Safe: the pointer is used only during the call.
        document.withUnsafeBufferPointer { derivedMessageId(for: $0) }
    }

    /// ``derivedMessageId(for:)`` of bytes held elsewhere (a mapped file).
    public static func derivedMessageId(for document: UnsafeBufferPointer<UInt8>) -> String {
        // Safe: the same bytes, untyped, read during the call only.
        let (high, low) = DocumentDigest.digest(UnsafeRawBufferPointer(document))
        func hex(_ value: UInt64, digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        return "lt-\(hex(high, digits: 16))\(hex(low >> 32, digits: 8))@linktrack.invalid"
    }

    static func strippingAngleBrackets(_ id: String) -> String {
        var s = Substring(id.trimmingCharacters(in: " \t\r\n"))
        if s.hasPrefix("<") { s = s.dropFirst() }
        if s.hasSuffix(">") { s = s.dropLast() }
        return String(s)
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let scalars = Set(set.unicodeScalars)
        var view = Substring(self).unicodeScalars
        while let f = view.first, scalars.contains(f) { view.removeFirst() }
        while let l = view.last, scalars.contains(l) { view.removeLast() }
        return String(view)
    }
}

/// Rewrites one HTML document: tracked links, the open pixel, `ses:` attributes removed, and nothing
/// else changed. Safe to share between tasks.
///
/// The input is the decoded bytes of the document in its own charset; edits are spliced into those
/// bytes, so everything but the rewritten href values, the pixel and the removed `ses:no-track` /
/// `ses:tags` attributes (and `{{ses:openTracker}}` placeholders) comes out byte-identical.
public struct HTMLRewriter: Sendable {
    let signer: LinkSigner
    /// The limits a document is held to (``Limits/maximumAttributesPerTag``, ``Limits/maximumLinksPerHTMLPart``);
    /// beyond one it comes back untouched.
    public var limits = Limits()
    /// Above this size a warning says that Gmail clips the message, so the pixel may never load.
    public static let gmailClipSize = 102 * 1024

    public init(signer: LinkSigner) {
        self.signer = signer
    }

    /// - Throws: `BadRequestException` when the configuration has no signing key.
    public init(configuration: Configuration) throws(ConfigurationError) {
        self.signer = try LinkSigner(keys: configuration.signingKeys)
    }

    /// Rewrites `document`.
    /// - Parameters:
    ///   - document: the HTML bytes, decoded from any transfer encoding.
    ///   - charset: the charset label from `Content-Type` or `<meta>`, or nil when unknown
    ///     (treated as ASCII-compatible, after a check for BOMs and ISO-2022 escapes).
    ///   - context: the configuration set and message facts for the tokens.
    /// - Returns: the output, the edits and a report. A document that cannot be processed comes back
    ///   untouched with ``HTMLRewriteReport/untouchedReason`` set; this never throws.
    public func rewrite(_ document: [UInt8], charset: String?, context: TrackingContext) -> HTMLRewriteResult {
        rewrite(document, charset: charset, context: context, buildOutput: true)
    }

    /// ``rewrite(_:charset:context:)``; with `buildOutput` false the result's `output` is left
    /// empty when the document was rewritten, for a caller that applies the edits itself (the
    /// quoted-printable and base64 splices; ``Splicer/apply(_:to:bufferSize:write:)``). An
    /// untouched document still comes back as the `output`.
    public func rewrite(_ document: [UInt8], charset: String?, context: TrackingContext, buildOutput: Bool) -> HTMLRewriteResult {
        // Safe: `bytes` is used only during the rewrite; the result holds copies or slices of `document`,
        // never the pointer.
        document.withUnsafeBufferPointer { bytes in
            rewrite(bytes, storage: document, reportingLinks: true, charset: charset, context: context, buildOutput: buildOutput)
        }
    }

    /// ``rewrite(_:charset:context:)`` of bytes that are not held in an array (a mapped file, say),
    /// valid for the call. The result's `output` is empty: apply its edits with
    /// ``Splicer/apply(_:to:bufferSize:write:)`` (they are empty when the document is left
    /// untouched). The report's `originalBytes` are copies; with `reportingLinks` false the
    /// report has no ``HTMLRewriteReport/links`` (its warnings and pixel are still there), which
    /// spares a copy and a report per link for a caller that prints none.
    public func rewrite(contentsOf document: UnsafeBufferPointer<UInt8>, charset: String?, context: TrackingContext,
                        reportingLinks: Bool = true) -> HTMLRewriteResult {
        rewrite(document, storage: nil, reportingLinks: reportingLinks, charset: charset, context: context, buildOutput: false)
    }

    /// The rewrite of `document`, whose bytes `storage` holds when they are in an array.
    private func rewrite(_ document: UnsafeBufferPointer<UInt8>, storage: [UInt8]?, reportingLinks: Bool, charset: String?,
                         context: TrackingContext, buildOutput: Bool) -> HTMLRewriteResult {
        var report = HTMLRewriteReport()
        func untouched(_ reason: DocumentUntouchedReason) -> HTMLRewriteResult {
            report.untouchedReason = reason
            return HTMLRewriteResult(output: storage ?? [], edits: EditList(), report: report)
        }
        let set = context.configurationSet
        guard let domain = set.customRedirectDomain else {
            return untouched(.noRedirectDomain(configurationSet: set.name))
        }
        guard set.tracksOpens || set.tracksClicks else {
            return untouched(.tracksNothing(configurationSet: set.name))
        }
        var family = CharsetFamily.classify(label: charset)
        if charset == nil || charset?.isEmpty == true, let sniffed = CharsetFamily.sniff(document) { family = sniffed }
        // A UTF-16/32 byte order mark or ISO-2022 escapes win over a label that says otherwise (UTF-8
        // and US-ASCII labels included: bytewise rewriting would garble such a document).
        if family == .utf8 || family == .asciiCompatible, let sniffed = CharsetFamily.sniff(document),
           case .unsupported = sniffed {
            family = sniffed
        }
        if case .unsupported(let reason) = family {
            return untouched(.unsupportedCharset(reason))
        }
        if document.allSatisfy(\.isASCIIWhitespace) {
            report.pixel = .emptyDocument
            return untouched(.emptyDocument)
        }
        // Before libxml2 sees the document: its time is quadratic in a tag's attributes.
        if let offset = StartTagAttributeBound.firstOffsetOverLimit(document, limit: limits.maximumAttributesPerTag) {
            return untouched(.tooManyAttributes(limit: limits.maximumAttributesPerTag, documentOffset: offset))
        }
        // Placeholders first: each is an edit too, and they count against the same limit as links.
        let maximumLinks = limits.maximumLinksPerHTMLPart
        guard let placeholders = Self.placeholderRanges(in: document, atMost: maximumLinks) else {
            return untouched(.tooManyPlaceholders(limit: maximumLinks))
        }
        let links = LinkRewriting(document: document, storage: storage, reportingLinks: reportingLinks, set: set,
                                  domain: domain, family: family, charsetName: charset ?? "unknown",
                                  signer: MessageSigner(signer, messageId: context.messageId, configurationSet: set.name,
                                                        messageTags: context.messageTags, domain: domain),
                                  linkBudget: maximumLinks - placeholders.count, context: context)
        let scan: HTMLScan
        do {
            let vocabulary = set.linkTrackOptions.honorOtherOptOutAttributes ? Self.scannerVocabularyWithOtherServices : Self.scannerVocabulary
            scan = try HTMLScanner.scan(document, vocabulary: vocabulary) { links.visit($0) }
        } catch {
            return untouched(.unparsable("\(error)"))
        }
        if scan.stopped {
            return untouched(.tooManyLinks(limit: maximumLinks))
        }
        // Taken over (not copied): the state lets go of them first.
        report = links.report
        links.report = HTMLRewriteReport()
        var edits = links.edits
        links.edits = EditList()
        let pixelPresent = links.pixelPresent
        for _ in 0..<scan.unlocatedTags {
            report.warnings.append(.unlocatedTag)
        }

        // The open pixel, and {{ses:openTracker}} placeholders (removed whether or not a pixel goes in).
        var pixelPlaceholderIndex: Int?
        if !set.tracksOpens {
            report.pixel = .opensNotTracked
        } else if pixelPresent {
            report.pixel = .alreadyPresent
        } else {
            let url = signer.openURLBytes(OpenToken(messageId: context.messageId, configurationSet: set.name,
                                               messageTags: context.messageTags),
                                     scheme: set.httpsPolicy.openScheme, domain: domain)
            let pixel = PixelTag.markup(url: url)
            // The pixel goes at the first placeholder that stands in rendered body text; one inside
            // a tag, a comment, a script or the head would hide it.
            let textPlaceholder = scan.textPlaceholderOffsets.lazy.compactMap { offset in
                Self.index(ofPlaceholderAt: offset, in: placeholders)
            }.first
            if let index = textPlaceholder, edits.add(Edit(range: placeholders[index], replacement: pixel)) {
                report.pixel = .inserted(.placeholder, documentOffset: placeholders[index].lowerBound)
                pixelPlaceholderIndex = index
            } else {
                let placement: PixelPlacement
                let offset: Int
                if let body = scan.bodyCloseOffset {
                    (placement, offset) = (.beforeBodyClose, body)
                } else if let unterminated = scan.unterminatedConstructOffset {
                    (placement, offset) = (.beforeUnterminatedConstruct, unterminated)
                } else {
                    (placement, offset) = (.endOfDocument, document.count)
                }
                if edits.add(.insert(pixel, at: offset)) {
                    report.pixel = .inserted(placement, documentOffset: offset)
                } else {
                    report.warnings.append(.pixelNotPlaced(documentOffset: offset))
                }
            }
        }
        // All at once: one merge with the link edits, where adding them one by one would insert
        // each in the middle of the list (issue 16, item 15).
        var removals: [Edit] = []
        removals.reserveCapacity(placeholders.count)
        for (index, range) in placeholders.enumerated() where index != pixelPlaceholderIndex {
            removals.append(Edit(range: range, replacement: []))
        }
        edits.add(contentsOf: removals)

        let output: [UInt8]
        if !buildOutput {
            output = []
        } else if edits.isEmpty, let storage {
            output = storage
        } else {
            output = Splicer.apply(edits, to: document)
        }
        var outputCount = document.count
        for edit in edits.edits { outputCount += edit.replacement.count - edit.range.count }
        if outputCount > Self.gmailClipSize {
            report.warnings.append(.gmailClipping(bytes: outputCount))
        }
        return HTMLRewriteResult(output: output, edits: edits, report: report)
    }


    /// The element's name, lowercased (the common ones without building a new string).
    static func elementName(_ name: UnsafeBufferPointer<UInt8>) -> String {
        if name.count == 1, name.first! | 0x20 == UInt8(ascii: "a") { return "a" }
        return String(decoding: name.map(\.asciiLowercased), as: UTF8.self)
    }

    /// Whether `src` is an open pixel URL on the redirect domain (`/o/` path).
    /// - Parameter domain: the redirect domain's lowercased bytes.
    static func isOpenPixel(_ src: [UInt8], domain: [UInt8]) -> Bool {
        // Safe: the pointer is used only during the call.
        src.withUnsafeBufferPointer { isOpenPixel($0, domain: domain) }
    }

    /// ``isOpenPixel(_:domain:)`` of bytes in place (an `<img>`'s value without character
    /// references needs no decoded copy).
    static func isOpenPixel(_ src: UnsafeBufferPointer<UInt8>, domain: [UInt8]) -> Bool {
        var start = 0
        var end = src.count
        while start < end, src[start].isASCIIWhitespace { start += 1 }
        while end > start, src[end - 1].isASCIIWhitespace { end -= 1 }
        // Safe: a view of `src` within its bounds, used only during this call.
        let trimmed = UnsafeBufferPointer(rebasing: src[start..<end])
        guard case .redirectDomain = LinkDestination.classify(trimmed, redirectDomain: domain) else { return false }
        return LinkSigner.kind(ofURL: trimmed) == .open
    }

    /// `key:value;key2:value2;` with keys and values of `[0-9A-Za-z_-]`; nil when malformed.
    static func parseLinkTags(_ value: [UInt8]) -> [Tag]? {
        let text = String(decoding: value, as: UTF8.self)
        var tags: [Tag] = []
        for pair in text.split(separator: ";", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, Tag.isValidComponent(kv[0]), Tag.isValidComponent(kv[1]) else { return nil }
            tags.append(Tag(name: String(kv[0]), value: String(kv[1])))
        }
        return tags.isEmpty ? nil : tags
    }

    /// The index of the placeholder that starts at `offset` in `placeholders` (sorted, as
    /// ``placeholderRanges(in:)`` finds them), by binary search.
    static func index(ofPlaceholderAt offset: Int, in placeholders: [Range<Int>]) -> Int? {
        var low = 0
        var high = placeholders.count
        while low < high {
            let middle = (low + high) / 2
            if placeholders[middle].lowerBound < offset { low = middle + 1 } else { high = middle }
        }
        return low < placeholders.count && placeholders[low].lowerBound == offset ? low : nil
    }

    static func placeholderRanges(in document: [UInt8]) -> [Range<Int>] {
        // Safe: the pointer is used only during the call.
        document.withUnsafeBufferPointer { placeholderRanges(in: $0) }
    }

    static func placeholderRanges(in buffer: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        placeholderRanges(in: buffer, atMost: Int.max)!
    }

    /// The ranges of the `{{ses:openTracker}}` placeholders of `buffer`, in order; nil as soon as
    /// there are more than `limit`.
    static func placeholderRanges(in buffer: UnsafeBufferPointer<UInt8>, atMost limit: Int) -> [Range<Int>]? {
        let needle = PixelTag.placeholder
        var ranges: [Range<Int>] = []
        var exceeded = false
        // Safe: `memchr` searches only where a whole placeholder still fits (`buffer.count - i -
        // pattern.count + 1` bytes from `i`), so a hit has `pattern.count` bytes after it within `buffer` for
        // `base[at + 1]` and `memcmp`; the pointers are used only inside the closure.
        needle.withUnsafeBufferPointer { pattern in
            guard let base = buffer.baseAddress, let patternBase = pattern.baseAddress else { return }
            var i = 0
            // memchr finds the next '{' at memory speed; CSS has many, so the second '{' is
            // checked before the whole placeholder is compared. Safe: memchr reads i..<count -
            // pattern.count + 1, so a hit leaves room for the whole pattern after it, which is
            // what the byte test and memcmp read.
            while buffer.count - i >= pattern.count,
                  let hit = memchr(base + i, Int32(pattern[0]), buffer.count - i - pattern.count + 1) {
                let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if base[at + 1] == pattern[1], memcmp(base + at, patternBase, pattern.count) == 0 {
                    if ranges.count == limit { exceeded = true; return }
                    ranges.append(at..<(at + pattern.count))
                    i = at + pattern.count
                } else {
                    i = at + 1
                }
            }
        }
        return exceeded ? nil : ranges
    }
}
