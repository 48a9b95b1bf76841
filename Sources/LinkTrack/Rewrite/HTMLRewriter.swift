import Crypto
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

    public init(configurationSet: ConfigurationSet, messageId: String, messageTags: [Tag] = []) {
        self.configurationSet = configurationSet
        self.messageId = Self.strippingAngleBrackets(messageId)
        self.messageTags = messageTags
    }

    /// A deterministic message id for a document sent without one: `lt-<hash>@linktrack.invalid`.
    public static func derivedMessageId(for document: [UInt8]) -> String {
        let digest = SHA256.hash(data: document)
        let hex = digest.prefix(12).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        return "lt-\(hex)@linktrack.invalid"
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
        var report = HTMLRewriteReport()
        func untouched(_ reason: String) -> HTMLRewriteResult {
            report.untouchedReason = reason
            return HTMLRewriteResult(output: document, edits: EditList(), report: report)
        }
        let set = context.configurationSet
        guard let domain = set.customRedirectDomain else {
            return untouched("configuration set \(set.name) has no CustomRedirectDomain, so it tracks nothing")
        }
        guard set.tracksOpens || set.tracksClicks else {
            return untouched("configuration set \(set.name) has no enabled event destination for OPEN or CLICK")
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
            return untouched("left untouched: \(reason)")
        }
        if document.allSatisfy(\.isASCIIWhitespace) {
            report.pixel = .emptyDocument
            return untouched("the document is empty")
        }
        var edits = EditList()
        var linkIndex = 0
        var pixelPresent = false
        let charsetName = charset ?? "unknown"
        let domainLower = domain.lowercased()
        let domainBytes = Array(domainLower.utf8)
        let clickSigner = MessageSigner(signer, messageId: context.messageId, configurationSet: set.name,
                                        messageTags: context.messageTags, domain: domain)

        // Every click URL is built in this buffer, then escaped into its own replacement.
        var urlBuffer: [UInt8] = []
        var destinationBuffer: [UInt8] = []
        report.links.reserveCapacity(max(16, document.count / 1024))

        // Each tag is handled as the parser reports it, while its bytes are still in the cache.
        func handle(_ tag: ScannedTag) {
            if tag.isImage {
                if let src = tag.attribute(.src), let range = src.valueRange,
                   Self.isOpenPixel(CharacterReference.decodeAttributeValue(document[range]), domain: domainLower) {
                    pixelPresent = true
                }
                return
            }
            let href = tag.attribute(.href)
            // ses: attributes are SES's instructions to us; they are removed wherever we act on the tag.
            let noTrack = tag.attribute(.sesNoTrack)
            let tagsAttribute = tag.attribute(.sesTags)
            if tag.context == .body || tag.context == .conditionalComment {
                for attribute in tag.sesAttributes {
                    edits.add(Edit(range: attribute.leadingWhitespaceStart..<attribute.fullRange.upperBound, replacement: []))
                }
            }
            guard let href, let valueRange = href.valueRange else { return }
            let raw = document[valueRange]
            // The destination is decoded into a buffer reused for every link (the report derives it
            // again from the original when asked).
            CharacterReference.decodeAttributeValue(raw, into: &destinationBuffer)
            destinationBuffer.trimASCIIWhitespace()
            let trimmed = destinationBuffer
            var link = LinkReport(
                element: Self.elementName(document[tag.nameRange]), originalBytes: Array(raw),
                documentOffset: valueRange.lowerBound, writtenValue: nil, linkIndex: nil, untrackedReason: nil,
                inConditionalComment: tag.context == .conditionalComment)
            defer { report.links.append(link) }

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
            if !set.tracksClicks { link.untrackedReason = .clicksNotTracked; return }
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
                let value = tagsAttribute.valueRange.map { CharacterReference.decodeAttributeValue(document[$0]) } ?? []
                if let parsed = Self.parseLinkTags(value) {
                    linkTags = parsed
                } else {
                    report.warnings.append("ses:tags value \"\(String(decoding: value, as: UTF8.self))\" on the link to \(link.destination) is malformed (expected key:value;key2:value2 of [0-9A-Za-z_-]); the link is tracked without tags")
                }
            }
            let scheme = set.httpsPolicy.clickScheme(original: originalScheme)
            let signed = trimmed.withUnsafeBufferPointer {
                clickSigner.writeClickURL(destination: $0, linkIndex: linkIndex, linkTags: linkTags, scheme: scheme,
                                          into: &urlBuffer)
            }
            guard signed else {
                link.untrackedReason = .tooLong(trimmed.count)
                report.warnings.append("the link to \(link.destination.prefix(80))... is too long to track (tracking URLs are limited to \(LinkSigner.maximumURLLength) bytes)")
                return
            }
            let replacement = HTMLEscaping.urlAttributeValue(urlBuffer, addQuotes: href.quote == nil)
            guard edits.add(Edit(range: valueRange, replacement: replacement)) else {
                link.untrackedReason = .unlocated; return
            }
            link.writtenValue = replacement
            link.linkIndex = linkIndex
            linkIndex += 1
                }

        let scan: HTMLScan
        do {
            scan = try HTMLScanner.scan(document, visit: handle)
        } catch {
            return untouched("libxml2 could not parse the document (\(error))")
        }
        for _ in 0..<scan.unlocatedTags {
            report.warnings.append("a tag could not be located byte-exactly; its link was left untracked")
        }

        // The open pixel, and {{ses:openTracker}} placeholders (removed whether or not a pixel goes in).
        let placeholders = Self.placeholderRanges(in: document)
        var pixelAtPlaceholder = false
        if !set.tracksOpens {
            report.pixel = .opensNotTracked
        } else if pixelPresent {
            report.pixel = .alreadyPresent
        } else {
            let url = signer.openURLBytes(OpenToken(messageId: context.messageId, configurationSet: set.name,
                                               messageTags: context.messageTags),
                                     scheme: set.httpsPolicy.openScheme, domain: domain)
            let pixel = PixelTag.markup(url: url)
            if let first = placeholders.first, edits.add(Edit(range: first, replacement: pixel)) {
                report.pixel = .inserted(.placeholder, documentOffset: first.lowerBound)
                pixelAtPlaceholder = true
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
                    report.warnings.append("the open pixel could not be placed at offset \(offset)")
                }
            }
        }
        for range in placeholders.dropFirst(pixelAtPlaceholder ? 1 : 0) {
            edits.add(Edit(range: range, replacement: []))
        }

        let output = edits.isEmpty ? document : Splicer.apply(edits, to: document)
        if output.count > Self.gmailClipSize {
            report.warnings.append("the HTML is \(output.count) bytes; Gmail clips messages over 102 KB, so the open pixel may never load")
        }
        return HTMLRewriteResult(output: output, edits: edits, report: report)
    }


    /// The element's name, lowercased (the common ones without building a new string).
    static func elementName(_ name: ArraySlice<UInt8>) -> String {
        if name.count == 1, name.first! | 0x20 == UInt8(ascii: "a") { return "a" }
        return String(decoding: name.map(\.asciiLowercased), as: UTF8.self)
    }

    /// Whether `src` is an open pixel URL on the redirect domain (`/o/` path).
    static func isOpenPixel(_ src: [UInt8], domain: String) -> Bool {
        let trimmed = Array(src.trimmingASCIIWhitespace())
        guard case .redirectDomain = LinkDestination.classify(trimmed, redirectDomain: Array(domain.utf8)) else { return false }
        guard let pathStart = trimmed.indices.dropFirst(8).first(where: { trimmed[$0] == UInt8(ascii: "/") }) else { return false }
        return trimmed[pathStart...].starts(with: Array("/o/".utf8))
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

    static func placeholderRanges(in document: [UInt8]) -> [Range<Int>] {
        let needle = PixelTag.placeholder
        var ranges: [Range<Int>] = []
        document.withUnsafeBufferPointer { buffer in
            needle.withUnsafeBufferPointer { pattern in
                guard let base = buffer.baseAddress, let patternBase = pattern.baseAddress else { return }
                var i = 0
                // memchr finds the next '{' at memory speed; CSS has many, so the second '{' is
                // checked before the whole placeholder is compared.
                while buffer.count - i >= pattern.count,
                      let hit = memchr(base + i, Int32(pattern[0]), buffer.count - i - pattern.count + 1) {
                    let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    if base[at + 1] == pattern[1], memcmp(base + at, patternBase, pattern.count) == 0 {
                        ranges.append(at..<(at + pattern.count))
                        i = at + pattern.count
                    } else {
                        i = at + 1
                    }
                }
            }
        }
        return ranges
    }
}
