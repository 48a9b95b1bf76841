#if canImport(Glibc)
import Glibc
#endif

/// The per-document state of ``HTMLRewriter/rewrite(_:charset:context:)`` while the scanner reports
/// tags: what each link becomes, the edits, and the report.
///
/// A class whose mutable fields are `@exclusivity(unchecked)`: the scanner calls ``visit(_:)`` from
/// the one thread that runs the rewrite, one call at a time, and the dynamic exclusivity checks
/// (which a closure over local variables would also pay) cost a runtime call per access.
final class LinkRewriting {
    // Safe: the bytes are valid while the rewrite runs, and this object lives only for the rewrite
    // (``HTMLRewriter`` lets go of it before returning).
    /// The document's bytes, valid while the rewrite runs.
    let document: UnsafeBufferPointer<UInt8>
    /// The array that holds them, when they are held in one: the report's `originalBytes` are then
    /// slices of it rather than copies.
    let storage: [UInt8]?
    /// Whether each link gets a ``LinkReport`` (a caller that prints none can do without).
    let reportingLinks: Bool
    let domainBytes: [UInt8]
    let family: CharsetFamily
    let charsetName: String
    let signer: MessageSigner
    /// The set's switches, read once: the set is a struct of strings, copied whole when read
    /// through this object.
    let tracksClicks: Bool
    let httpsPolicy: HttpsPolicy
    /// The set's excluded domains (issue 21), nil when there are none, and the message's
    /// unsubscribe URLs when the set leaves them untracked.
    ///
    /// Copied only when there is something to copy: the copy goes through a function the compiler
    /// shares between types, which makes the runtime build their type metadata (`Set<[UInt8]>`
    /// among them, with its `Hashable` conformances looked up) on a process's first rewrite, about
    /// 0.25 M instructions, 3 % of a 30 kB rewrite.
    let excludedDomains: ExcludedDomains?
    let unsubscribeURLs: ListUnsubscribe?

    @exclusivity(unchecked) var edits = EditList()
    @exclusivity(unchecked) var report = HTMLRewriteReport()
    @exclusivity(unchecked) var linkIndex = 0
    @exclusivity(unchecked) var pixelPresent = false
    /// How many more links (and `ses:` attributes) the document may hold (see
    /// ``Limits/maximumLinksPerHTMLPart``); below zero, the rewrite stops.
    @exclusivity(unchecked) var linkBudget: Int
    /// Every click URL is built at the start of this buffer.
    @exclusivity(unchecked) var urlBuffer: [UInt8] = []
    /// Every destination is decoded into this buffer (the report derives it again when asked).
    @exclusivity(unchecked) var destinationBuffer: [UInt8] = []
    /// Without ``storage``, a value with character references is copied here to be decoded: one
    /// buffer reused for every link, not an array allocated per value.
    @exclusivity(unchecked) var rawValueBuffer: [UInt8] = []
    /// Escapes the click URLs for their attribute values, the signer's constant parts once.
    @exclusivity(unchecked) var escaper: ClickURLEscaper

    /// - Warning: `document` must stay valid for the object's life, which ends with the rewrite.
    init(document: UnsafeBufferPointer<UInt8>, storage: [UInt8]?, reportingLinks: Bool, set: ConfigurationSet,
         domain: String, family: CharsetFamily, charsetName: String, signer: MessageSigner, linkBudget: Int,
         context: TrackingContext) {
        self.linkBudget = linkBudget
        self.linkIndex = context.firstLinkIndex
        self.excludedDomains = set.linkTrackOptions.excludedDomains.isEmpty ? nil : set.linkTrackOptions.excludedDomains
        self.unsubscribeURLs = set.linkTrackOptions.trackUnsubscribeLinks || context.listUnsubscribe == nil
            ? nil : context.listUnsubscribe
        self.document = document
        self.storage = storage
        self.reportingLinks = reportingLinks
        self.domainBytes = Array(domain.lowercased().utf8)
        self.family = family
        self.charsetName = charsetName
        self.signer = signer
        self.escaper = ClickURLEscaper(signer: signer)
        self.tracksClicks = set.tracksClicks
        self.httpsPolicy = set.httpsPolicy
        if reportingLinks { report.links.reserveCapacity(max(16, document.count / 1024)) }
    }

    /// Whether `byte` may follow an attribute that is removed: HTML whitespace, `/` or `>`.
    static func endsAttribute(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D
            || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">")
    }

    /// The bytes of `range`: a slice of ``storage``, or a copy when there is none.
    func bytes(_ range: Range<Int>) -> ArraySlice<UInt8> {
        // Safe: ranges come from the scanner and lie within the document; the bytes are copied.
        storage?[range] ?? ArraySlice(UnsafeBufferPointer(rebasing: document[range]))
    }

    /// Whether the element name that ends at `offset` ends there for a browser too: at the end of
    /// the document, at whitespace, `/` or `>` (HTML5 reads every other byte as part of the name).
    static func nameEndsAsInBrowsers(_ document: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Bool {
        offset >= document.count || document[offset].isASCIIWhitespace || document[offset] == UInt8(ascii: "/")
            || document[offset] == UInt8(ascii: ">")
    }

    /// Removes every `ses:no-track` and `ses:tags` attribute of `tag` (its
    /// ``ScannedTag/listedAttributes``: the scan lists ``HTMLRewriter/SESAttribute``'s), duplicates
    /// included, each with the whitespace before it; or, when one of them cannot go, none of them (issue 16, item 21: a
    /// duplicate left behind would reach the reader while its twin was removed).
    ///
    /// An attribute can go only when the tag goes on with whitespace, `/` or `>` after it. Anything
    /// else (`<a ses:no-track"x" href=...>`, `ses:tags="k:v"x`) would be joined to what precedes: to
    /// the tag's name (`<a"x"`, which a browser reads as another element, no longer a link) or to
    /// another attribute. Such a tag keeps its `ses:` attributes as written; browsers ignore them,
    /// and they are still obeyed.
    func removeSESAttributes(of tag: ScannedTag) {
        var removals: [Edit] = []
        removals.reserveCapacity(tag.listedAttributes.count)
        for attribute in tag.listedAttributes {
            let after = attribute.fullRange.upperBound
            if after < document.count, !Self.endsAttribute(document[after]) {
                report.warnings.append(.optOutAttributeRunTogether(documentOffset: after, others: tag.listedAttributes.count - 1))
                return
            }
            removals.append(Edit(range: attribute.leadingWhitespaceStart..<attribute.fullRange.upperBound, replacement: []))
        }
        guard removals.allSatisfy({ edits.canAdd($0) }) else {
            report.warnings.append(.optOutAttributesOverlap(tagOffset: tag.tagStart))
            return
        }
        for removal in removals { edits.add(removal) }
    }

    /// Handles one tag the scanner found.
    /// - Returns: false when the document holds more links than ``linkBudget`` allows: the scan stops
    ///   and the rewrite leaves the document untouched.
    func visit(_ tag: ScannedTag) -> Bool {
        if !tag.isImage {
            // Each link costs an edit and a report until the part is written; so does each ses:
            // attribute removed. Counted before any of them is made.
            linkBudget -= 1 + tag.listedAttributes.count
            if linkBudget < 0 { return false }
        }
        visitCounted(tag)
        return true
    }

    private func visitCounted(_ tag: ScannedTag) {
        if tag.isImage {
            // Only an `<img>` that browsers read as one: a name run together with other bytes
            // (`<img[i src=...>`, which libxml2 reads as `img`) is another element to a browser, where
            // no image loads, so it is no open pixel (Fuzz/repro/html-pixel-src-on-img-name-run-together.html).
            guard !pixelPresent, Self.nameEndsAsInBrowsers(document, tag.nameRange.upperBound),
                  let src = tag.attribute(.src), let range = src.valueRange else { return }
            let raw = UnsafeBufferPointer(rebasing: document[range])
            // Most sources hold no character reference: read them in place, without a decoded copy.
            // Safe: memchr reads the value's own bytes.
            let isPixel: Bool
            // Safe: `memchr` reads `raw.count` bytes from `base`, all within the document.
            if let base = raw.baseAddress, memchr(base, Int32(UInt8(ascii: "&")), raw.count) != nil {
                isPixel = HTMLRewriter.isOpenPixel(CharacterReference.decodeAttributeValue(bytes(range)), domain: domainBytes)
            } else {
                isPixel = HTMLRewriter.isOpenPixel(raw, domain: domainBytes)
            }
            if isPixel { pixelPresent = true }
            return
        }
        let href = tag.attribute(.href)
        // ses: attributes are SES's instructions to us; they are removed wherever we act on the tag.
        let noTrack = tag.attribute(HTMLRewriter.SESAttribute.noTrack.kind)
        let tagsAttribute = tag.attribute(HTMLRewriter.SESAttribute.tags.kind)
        if tag.context == .body || tag.context == .conditionalComment, !tag.listedAttributes.isEmpty {
            removeSESAttributes(of: tag)
        }
        guard let href, let valueRange = href.valueRange else { return }
        let raw = UnsafeBufferPointer(rebasing: document[valueRange])
        // The destination is decoded into a buffer reused for every link (the report derives it
        // again from the original when asked). Most values hold no character reference.
        // Safe: `memchr` reads `raw.count` bytes from `base`, all within the document.
        if let base = raw.baseAddress, memchr(base, Int32(UInt8(ascii: "&")), raw.count) != nil {
            if let storage {
                CharacterReference.decodeAttributeValue(storage[valueRange], into: &destinationBuffer)
            } else {
                rawValueBuffer.removeAll(keepingCapacity: true)
                rawValueBuffer.append(contentsOf: raw)
                CharacterReference.decodeAttributeValue(rawValueBuffer[...], into: &destinationBuffer)
            }
        } else {
            destinationBuffer.removeAll(keepingCapacity: true)
            destinationBuffer.append(contentsOf: raw)
        }
        destinationBuffer.trimASCIIWhitespace()
        let trimmed = destinationBuffer
        var link = LinkReport(
            // Only a report reads the element's name (for `v:roundrect` and the like, a String on the heap).
            // Safe: the name's range comes from the scanner and lies within the document.
            element: reportingLinks ? HTMLRewriter.elementName(UnsafeBufferPointer(rebasing: document[tag.nameRange])) : "",
            originalBytes: reportingLinks ? bytes(valueRange) : [],
            documentOffset: valueRange.lowerBound, writtenValue: nil, linkIndex: nil, untrackedReason: nil,
            inConditionalComment: tag.context == .conditionalComment)
        defer { if reportingLinks { report.links.append(link) } }

        switch tag.context {
        case .head: link.untrackedReason = .inHead; return
        case .rawText: link.untrackedReason = .inRawText; return
        case .body, .conditionalComment: break
        }
        let originalScheme: HttpsPolicy.Scheme
        var isASCII = true
        switch LinkDestination.classify(trimmed, redirectDomain: domainBytes) {
        case .web(let scheme, let ascii): originalScheme = scheme; isASCII = ascii
        case .redirectDomain: link.untrackedReason = .alreadyTracked; return
        case .otherScheme(let s): link.untrackedReason = .scheme(s); return
        case .fragment: link.untrackedReason = .fragment; return
        case .relative: link.untrackedReason = .relative; return
        case .invalid(let why):
            // In a non-UTF-8 charset a byte >= 0x80 can carry '\' or '|' as its second byte (Shift_JIS):
            // say what the link holds, not which ASCII byte it seems to contain.
            if family != .utf8, raw.contains(where: { $0 >= 0x80 }) {
                link.untrackedReason = .nonASCII(charset: charsetName)
            } else {
                link.untrackedReason = .invalidURL(why)
            }
            return
        }
        if noTrack != nil { link.untrackedReason = .noTrack; return }
        // A plain loop: the lazy chain it replaces made the compiler copy the whole tag (with a
        // retain and a release of its attributes) for every link.
        for attribute in tag.listedAttributes {
            if let other = HTMLRewriter.otherServiceOptOut(attribute.kind) {
                link.untrackedReason = .otherOptOut(service: other.service); return
            }
        }
        if let unsubscribeURLs, unsubscribeURLs.matches(destination: trimmed) { link.untrackedReason = .unsubscribeLink; return }
        if let excludedDomains, excludedDomains.matches(destination: trimmed) { link.untrackedReason = .excludedDomain; return }
        if !tracksClicks { link.untrackedReason = .clicksNotTracked; return }
        if !isASCII {
            if family != .utf8, raw.contains(where: { $0 >= 0x80 }) {
                link.untrackedReason = .nonASCII(charset: charsetName); return
            }
            guard String(validating: trimmed, as: UTF8.self) != nil else {
                link.untrackedReason = .invalidURL("not valid UTF-8"); return
            }
        }
        var linkTags: [Tag] = []
        if let tagsAttribute {
            let value = tagsAttribute.valueRange.map { CharacterReference.decodeAttributeValue(bytes($0)) } ?? []
            if let parsed = HTMLRewriter.parseLinkTags(value) {
                linkTags = parsed
            } else {
                report.warnings.append(.malformedLinkTags(value: String(decoding: value, as: UTF8.self), destination: String(decoding: trimmed, as: UTF8.self)))
            }
        }
        let scheme = httpsPolicy.clickScheme(original: originalScheme)
        // Safe: the pointers are used only during the calls.
        let written = trimmed.withUnsafeBufferPointer {
            signer.writeClickURLLayout(destination: $0, linkIndex: linkIndex, linkTags: linkTags, scheme: scheme,
                                       into: &urlBuffer)
        }
        guard let layout = written else {
            link.untrackedReason = .tooLong(trimmed.count)
            report.warnings.append(.linkTooLong(destinationPrefix: String(decoding: trimmed.prefix(80), as: UTF8.self)))
            return
        }
        // The URL as the signer wrote it, escaped for the attribute here (the signer knows no HTML).
        // Safe: the pointer is used only during the call.
        let replacement = urlBuffer.withUnsafeBufferPointer {
            escaper.attributeValue($0, layout: layout, scheme: scheme, addQuotes: href.quote == nil)
        }
        guard edits.add(Edit(range: valueRange, replacement: replacement)) else {
            link.untrackedReason = .unlocated; return
        }
        link.writtenValue = replacement
        link.linkIndex = linkIndex
        linkIndex += 1
    }
}
