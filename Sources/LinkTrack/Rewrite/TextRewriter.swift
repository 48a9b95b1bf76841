/// Rewrites the links of one decoded `text/plain` body (issue 21, item 4): each bare `http(s)://`
/// URL that ``PlainTextLinkFinder`` finds is replaced by its click-tracking URL, and nothing else
/// changes.
///
/// The result is an ``EditList`` in the decoded body's offsets (`decodedOffset`s), for the part
/// pipeline to splice and re-encode as it does an HTML part's edits.
///
/// - A URL wrapped over lines (`format=flowed` with `DelSp=yes`, or a line break inside `<…>`) is
///   replaced whole: the one edit covers its first byte to its last, the soft line break between
///   the pieces included, so the tracking URL stands on one line. (A quoted-printable soft break
///   is already gone from the decoded body.)
/// - The tracking URL ends in a letter, a digit or a percent-escape, and holds no raw bracket,
///   quote or angle bracket, so that the recipient's linkifier reads it whole
///   (``TextLinkSafety``): its destination field percent-encodes every such byte, and a
///   destination that ends in punctuation the encoding keeps literal (`/`, `.`, `-`, ...) has that
///   last byte percent-escaped, which decodes to the same destination.
/// - With ``maximumLineLength`` set (a 7bit, 8bit or binary part, whose decoded lines are its
///   lines on the wire), a URL whose tracking URL would make its line longer than that is left
///   untracked (``UntrackedReason/lineTooLong(limit:)``); RFC 5322 §2.1.1 allows 998 octets.
/// - Links are indexed from ``TrackingContext/firstLinkIndex``, in body order.
struct TextRewriter {
    let signer: LinkSigner
    let limits: Limits

    /// How to read a body and what to keep its lines to.
    struct Options {
        /// The line format and whether quoted reply lines are skipped.
        var finder = PlainTextLinkFinder.Options()
        /// The longest line the rewrite may make, in octets, or nil for no limit (a quoted-printable or
        /// base64 part, whose encoder wraps the lines).
        var maximumLineLength: Int?
        /// The body's charset label, lowercased, or nil when the part names none.
        var charset: String?
    }

    /// Rewrites `body`.
    /// - Parameters:
    ///   - body: the decoded text.
    ///   - options: how to read it.
    ///   - context: the configuration set and message facts for the tokens.
    /// - Returns: the edits (empty when nothing is tracked) and the report.
    func rewrite(_ body: [UInt8], options: Options, context: TrackingContext) -> TextRewriteResult {
        var report = TextRewriteReport()
        let set = context.configurationSet
        guard let domain = set.customRedirectDomain else {
            report.untouchedReason = .noRedirectDomain(configurationSet: set.name)
            return TextRewriteResult(edits: EditList(), report: report)
        }
        var family = CharsetFamily.classify(label: options.charset)
        if family == .utf8 || family == .asciiCompatible, let sniffed = CharsetFamily.sniff(body), case .unsupported = sniffed {
            family = sniffed
        }
        if case .unsupported(let reason) = family {
            report.untouchedReason = .unsupportedCharset(reason)
            return TextRewriteResult(edits: EditList(), report: report)
        }
        let links = PlainTextLinkFinder.links(in: body, options: options.finder)
        guard links.count <= limits.maximumLinksPerHTMLPart else {
            report.untouchedReason = .tooManyLinks(limit: limits.maximumLinksPerHTMLPart)
            return TextRewriteResult(edits: EditList(), report: report)
        }
        let domainBytes = Array(domain.lowercased().utf8)
        let messageSigner = MessageSigner(signer, messageId: context.messageId, configurationSet: set.name,
                                          messageTags: context.messageTags, domain: domain)
        let rules = set.linkTrackOptions
        let unsubscribeURLs = rules.trackUnsubscribeLinks ? nil : context.listUnsubscribe
        var edits = EditList()
        var linkIndex = context.firstLinkIndex
        var urlBuffer: [UInt8] = []
        // The output line the last tracked URL stands on: where it ends in the body, and its length
        // with the edits made on it so far.
        var line: (end: Int, length: Int)?
        report.links.reserveCapacity(links.count)

        for found in links {
            var link = TextLinkReport(url: found.url, decodedOffset: found.decodedRange.lowerBound)
            defer { report.links.append(link) }
            let originalScheme: HttpsPolicy.Scheme
            switch LinkDestination.classify(found.url, redirectDomain: domainBytes) {
            case .web(let scheme, _): originalScheme = scheme
            case .redirectDomain: link.untrackedReason = .alreadyTracked; continue
            case .otherScheme(let s): link.untrackedReason = .scheme(s); continue
            case .fragment: link.untrackedReason = .fragment; continue
            case .relative: link.untrackedReason = .relative; continue
            case .invalid(let why): link.untrackedReason = .invalidURL(why); continue
            }
            if let unsubscribeURLs, unsubscribeURLs.matches(destination: found.url) { link.untrackedReason = .unsubscribeLink; continue }
            if !rules.excludedDomains.isEmpty, rules.excludedDomains.matches(destination: found.url) {
                link.untrackedReason = .excludedDomain; continue
            }
            if !set.tracksClicks { link.untrackedReason = .clicksNotTracked; continue }
            if !found.isASCII {
                // In a charset other than UTF-8 the bytes' characters are not known exactly.
                if family != .utf8 { link.untrackedReason = .nonASCII(charset: options.charset ?? "unknown"); continue }
                guard String(validating: found.url, as: UTF8.self) != nil else {
                    link.untrackedReason = .invalidURL("not valid UTF-8"); continue
                }
            }
            let scheme = set.httpsPolicy.clickScheme(original: originalScheme)
            // Safe: the pointer is used only during the call.
            let written = found.url.withUnsafeBufferPointer {
                messageSigner.writeTextClickURL(destination: $0, linkIndex: linkIndex, scheme: scheme, into: &urlBuffer)
            }
            guard let count = written else {
                link.untrackedReason = .tooLong(found.url.count)
                continue
            }
            let trackingURL = Array(urlBuffer[..<count])
            guard TextLinkSafety.endsInLetterDigitOrPercentEscape(trackingURL),
                  !trackingURL.contains(where: TextLinkSafety.isDelimiter) else {
                link.untrackedReason = .unsafeInText; continue
            }
            let range = found.decodedRange
            if let maximum = options.maximumLineLength {
                let end = Self.lineEnd(in: body, from: range.upperBound)
                let current = line.flatMap { $0.end == end ? $0.length : nil }
                    ?? end - Self.lineStart(in: body, before: range.lowerBound)
                let length = current - range.count + trackingURL.count
                if length > maximum {
                    link.untrackedReason = .lineTooLong(limit: maximum); continue
                }
                line = (end, length)
            }
            guard edits.add(Edit(range: range, replacement: trackingURL)) else {
                link.untrackedReason = .unlocated; continue
            }
            link.trackingURLBytes = trackingURL
            link.linkIndex = linkIndex
            linkIndex += 1
        }
        return TextRewriteResult(edits: edits, report: report)
    }

    /// The offset of the first byte of the line holding `offset`.
    static func lineStart(in body: [UInt8], before offset: Int) -> Int {
        var i = offset
        while i > 0, body[i - 1] != 0x0A { i -= 1 }
        return i
    }

    /// The offset where the line holding `offset` ends, before its CR LF or LF.
    static func lineEnd(in body: [UInt8], from offset: Int) -> Int {
        var i = offset
        while i < body.count, body[i] != 0x0A { i += 1 }
        if i > offset, i < body.count, body[i - 1] == 0x0D { i -= 1 }
        return i
    }
}

/// The result of ``TextRewriter/rewrite(_:options:context:)``.
struct TextRewriteResult {
    /// The edits, in the decoded body's offsets.
    var edits: EditList
    var report: TextRewriteReport
}
