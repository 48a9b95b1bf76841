import LinkTrack

/// Verifies, independently of the rewriter's own bookkeeping, that an output is a correct tracked
/// version of an input:
/// - the top-level header block is unchanged except the removal of `X-SES-CONFIGURATION-SET` /
///   `X-SES-MESSAGE-TAGS` and the addition of a `Message-ID`;
/// - the MIME structure is the same, and every part that must not change is byte-identical;
/// - an HTML part's header block changes only in its `Content-Transfer-Encoding` fields, all set to
///   `quoted-printable` (or one added); a part whose fields disagree does not change, and a changed
///   part's fields agree (issue 16, item 14);
/// - in each HTML part, with tracking URLs and the open pixel taken out, the bytes are identical
///   (apart from removed `ses:` attributes and `{{ses:openTracker}}` placeholders); every changed
///   href is a tracking URL on the set's redirect domain that verifies and decodes to exactly the
///   original destination, with the scheme the HttpsPolicy asks for; a rewritten part holds exactly
///   one open pixel when opens are tracked;
/// - in each `text/plain` part of a set that tracks text (``checkText(input:output:set:)``), only
///   URLs changed, each into a tracking URL that verifies and decodes to it;
/// - no output line is longer than 998 octets unless the same line was in the input.
public struct InvariantChecker: Sendable {
    let configuration: Configuration
    let options: FilterOptions
    let signer: LinkSigner

    public init(configuration: Configuration, options: FilterOptions = FilterOptions()) throws(ConfigurationError) {
        self.configuration = configuration
        self.options = options
        self.signer = try LinkSigner(keys: configuration.signingKeys)
    }

    /// Returns the violations found; empty when the output is a correct version of the input.
    /// - Parameter ignoringOutputHeaders: lowercased names of header fields the transport added to the
    ///   output (`received`, `return-path`, ...), dropped before comparing.
    public func check(input: [UInt8], output: [UInt8], ignoringOutputHeaders: Set<String> = []) -> [String] {
        var problems: [String] = []
        let depth = options.limits.maximumNestingDepth + 1
        let inputTree = MIMEEntity.parse(input[...], maximumDepth: depth)
        var outputTree = MIMEEntity.parse(output[...], maximumDepth: depth)
        if !ignoringOutputHeaders.isEmpty {
            let kept = outputTree.fields.filter { f in !ignoringOutputHeaders.contains(where: { f.name(is: $0) }) }
            outputTree.fields = kept
        }

        // Which configuration set applied.
        // An empty X-SES-CONFIGURATION-SET names no set: it counts as absent.
        let setHeader = inputTree.fields.lazy.filter { $0.name(is: "x-ses-configuration-set") }.map(\.unfoldedValue)
            .first { !$0.isEmpty }
        let setName = setHeader ?? options.configurationSetName ?? configuration.defaultConfigurationSet
        let set = setName.flatMap { name in configuration.configurationSets.first { $0.name == name } }
        let signed = inputTree.fields.contains { $0.name(is: "dkim-signature") } && !options.rewriteSigned
        let tracking = (set?.tracksAnything ?? false) && !signed ? set : nil

        // Lines over 998 octets.
        // A line already over the limit may grow (a single-line base64 body), but no new one may appear.
        let longInput = Self.longLines(input)
        let longOutput = Self.longLines(output)
        if longOutput.count > longInput.count {
            let known = Set(longInput.map { Array($0) })
            let line = longOutput.first { !known.contains(Array($0)) } ?? longOutput[0]
            problems.append("an output line of \(line.count) octets is over 998 and was not in the input")
        }

        // Line endings: a message whose lines all end in LF keeps them so (a re-encoded part, an
        // added header or a wrapped line ends as the message does; no CRLF appears in it).
        if input.contains(0x0A), !input.contains(0x0D), let at = output.firstIndex(of: 0x0D) {
            problems.append("a CR appeared at output offset \(at) in a message whose lines all end in LF")
        }

        guard let tracking else {
            // Untracked: only the documented header removals may differ.
            compareTopHeaders(inputTree, outputTree, tracked: false, problems: &problems)
            if inputTree.body != outputTree.body { problems.append("the body changed although the message is not tracked") }
            return problems
        }
        compareTopHeaders(inputTree, outputTree, tracked: true, problems: &problems)
        // The message's List-Unsubscribe URLs, which stay untracked unless the set says otherwise.
        let unsubscribeFields = inputTree.fields.filter { $0.name(is: "list-unsubscribe") }.map(\.unfoldedValue)
        let unsubscribe = tracking.linkTrackOptions.trackUnsubscribeLinks || unsubscribeFields.isEmpty
            ? nil : ListUnsubscribe(headerValue: Array(unsubscribeFields.joined(separator: ", ").utf8))
        // When text parts are tracked, the message's parts share one index space; otherwise each
        // HTML part starts at 0.
        var nextLinkIndex = 0
        compare(inputTree, outputTree, path: "message", set: tracking, isTop: true, unsubscribe: unsubscribe, problems: &problems,
                nextLinkIndex: &nextLinkIndex)
        return problems
    }

    static func longLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        while i <= bytes.count {
            if i == bytes.count || bytes[i] == 0x0A {
                var end = i
                if end > start, bytes[end - 1] == 0x0D { end -= 1 }
                if end - start > 998 { lines.append(bytes[start..<end]) }
                start = i + 1
            }
            i += 1
        }
        return lines
    }

    func compareTopHeaders(_ input: MIMEEntity, _ output: MIMEEntity, tracked: Bool, problems: inout [String]) {
        let header = Array(input.header)
        let outHeader = Array(output.header)
        func bytes(_ f: HeaderField, _ block: [UInt8]) -> ArraySlice<UInt8> { block[f.range] }
        var expected = input.fields.filter { f in
            !(f.name(is: "x-ses-configuration-set") || f.name(is: "x-ses-message-tags"))
        }.map { bytes($0, header) }
        var actual = output.fields.map { bytes($0, outHeader) }
        // In a message that is not tracked (no set, DKIM-signed) a SES header may stay: it is kept when
        // unchanged, or when a DKIM signature's h= covers it.
        if !tracked {
            expected = input.fields.filter { f in
                !(f.name(is: "x-ses-configuration-set") || f.name(is: "x-ses-message-tags"))
                    || output.fields.contains { bytes($0, outHeader) == bytes(f, header) }
            }.map { bytes($0, header) }
        }
        // Fields the filter adds at the end: a Message-ID when there was none, and a
        // Content-Transfer-Encoding for a part re-encoded as quoted-printable that had none.
        var added: [Int] = []
        if tracked, !input.fields.contains(where: { $0.name(is: "content-transfer-encoding") }),
           let index = output.fields.lastIndex(where: { $0.name(is: "content-transfer-encoding") }),
           output.fields[index].unfoldedValue.lowercased() == "quoted-printable" {
            added.append(index)
        }
        var messageIdAdded = false
        if tracked, !input.fields.contains(where: { $0.name(is: "message-id") }),
           let index = output.fields.lastIndex(where: { $0.name(is: "message-id") }) {
            added.append(index)
            messageIdAdded = true
        }
        // Added at the end of the fields, or before the first line that cannot be a header line
        // (issue 16, item 12), where every reader still takes them for header fields.
        let end = Self.firstNonHeaderField(output.fields, block: outHeader, isTop: true) ?? output.fields.count
        for index in added.sorted(by: >) where index >= end - added.count && index < end {
            actual.remove(at: index)
        }
        if messageIdAdded {
            // The added field may carry the line ending the input's last field lacked.
            if var last = expected.popLast() {
                if let lastActual = actual.last, lastActual.starts(with: last) { last = lastActual }
                expected.append(last)
            }
        }
        // The CRLF added after a last field without ending, before a Message-ID.
        if expected.count == actual.count, !zip(expected, actual).allSatisfy({ $0.elementsEqual($1) }) {
            for (e, a) in zip(expected, actual) where !e.elementsEqual(a) {
                let isTransferEncoding = HeaderBlock.parse(Array(e)).first?.name(is: "content-transfer-encoding") == true
                    && String(decoding: a, as: UTF8.self).lowercased().utf8.containsBytes("quoted-printable".utf8)
                if !isTransferEncoding {
                    problems.append("a header field changed: \(String(decoding: e.prefix(80), as: UTF8.self).replacingCRs())")
                    return
                }
            }
        } else if expected.count != actual.count {
            problems.append("the top-level header block has \(actual.count) fields where \(expected.count) were expected")
        }
        if input.blankLine != output.blankLine { problems.append("the blank line after the header block changed") }
    }

    func compare(_ input: MIMEEntity, _ output: MIMEEntity, path: String, set: ConfigurationSet, isTop: Bool,
                 unsubscribe: ListUnsubscribe? = nil, problems: inout [String], nextLinkIndex: inout Int) {
        if !isTop {
            let sameHeader = input.header.elementsEqual(output.header)
            let isHTML = input.contentType.type == "text" && input.contentType.subtype == "html"
            if !sameHeader && !isHTML && !Self.isTrackedText(input, set: set) {
                problems.append("part \(path): the header block changed")
                return
            }
            if !sameHeader, let problem = Self.transferEncodingOnlyChange(input, output) {
                problems.append("part \(path): \(problem)")
                return
            }
        }
        guard input.typeName == output.typeName else {
            problems.append("part \(path): the content type changed from \(input.typeName) to \(output.typeName)")
            return
        }
        if let inMultipart = input.multipart {
            guard let outMultipart = output.multipart, outMultipart.boundary == inMultipart.boundary,
                  outMultipart.children.count == inMultipart.children.count else {
                problems.append("part \(path): the multipart structure changed")
                return
            }
            if !zip(inMultipart.skeleton, outMultipart.skeleton).allSatisfy({ $0.elementsEqual($1) })
                || inMultipart.skeleton.count != outMultipart.skeleton.count {
                problems.append("part \(path): a boundary line, the preamble or the epilogue changed")
            }
            for (k, (a, b)) in zip(inMultipart.children, outMultipart.children).enumerated() {
                compare(a, b, path: path == "message" ? "\(k + 1)" : "\(path).\(k + 1)", set: set, isTop: false, unsubscribe: unsubscribe,
                        problems: &problems, nextLinkIndex: &nextLinkIndex)
            }
            return
        }
        // Readers disagree on which of several Content-Type fields counts when they name different
        // types, and on whether a MIME field after a line that cannot be a header line counts
        // (issue 16, item 12): such a part must pass untouched.
        let unchanged = input.body.elementsEqual(output.body) && (isTop || input.header.elementsEqual(output.header))
        if !unchanged, let problem = Self.ambiguousMIMEFields(input, isTop: isTop) {
            problems.append("part \(path): \(problem), yet the part changed")
            return
        }
        let isText = Self.isTrackedText(input, set: set)
        let renderable = (input.contentType.type == "text" && input.contentType.subtype == "html" || isText)
            && input.disposition?.disposition != "attachment"
        guard renderable else {
            if !input.body.elementsEqual(output.body) { problems.append("part \(path) (\(input.typeName)) must not change, but did") }
            return
        }
        // The top level's header block is compared on its own (it may gain a Message-ID).
        if input.body.elementsEqual(output.body) && (isTop || input.header.elementsEqual(output.header)) { return }
        // Readers disagree on which of several Content-Transfer-Encoding fields counts, so a part
        // whose fields disagree must pass untouched, and a changed part's fields must agree.
        if Self.transferEncodingsDisagree(input) {
            problems.append("part \(path): its Content-Transfer-Encoding fields disagree, yet the part changed")
            return
        }
        if Self.transferEncodingsDisagree(output) {
            problems.append("part \(path): the output's Content-Transfer-Encoding fields disagree")
            return
        }
        guard let inHTML = Self.decode(input, isTop: isTop), let outHTML = Self.decode(output, isTop: isTop) else {
            problems.append("part \(path): the HTML cannot be decoded")
            return
        }
        if !set.linkTrackOptions.trackLinksIn.tracksText { nextLinkIndex = 0 }
        let found = isText ? checkText(input: inHTML, output: outHTML, set: set, unsubscribe: unsubscribe, nextLinkIndex: &nextLinkIndex)
            : checkHTML(input: inHTML, output: outHTML, set: set, unsubscribe: unsubscribe, nextLinkIndex: &nextLinkIndex)
        problems.append(contentsOf: found.map { "part \(path): \($0)" })
    }

    /// Whether `entity` is a `text/plain` part whose links the set tracks (its `TrackLinksIn`).
    static func isTrackedText(_ entity: MIMEEntity, set: ConfigurationSet) -> Bool {
        entity.contentType.type == "text" && entity.contentType.subtype == "plain"
            && set.linkTrackOptions.trackLinksIn.tracksText && set.tracksClicks
    }

    /// The index of the first field of `fields` (of `block`) whose first line cannot be a header
    /// line (see ``MIMEEntity/isHeaderLine(_:)``), or nil; at the top, a first line `From ` (an mbox
    /// envelope) does not count.
    static func firstNonHeaderField(_ fields: [HeaderField], block: [UInt8], isTop: Bool) -> Int? {
        fields.indices.first { k in
            let range = fields[k].range
            let lineEnd = block[range].firstIndex(of: 0x0A) ?? range.upperBound
            let line = block[range.lowerBound..<lineEnd]
            if isTop, k == 0, line.starts(with: Array("From ".utf8)) { return false }
            return !MIMEEntity.isHeaderLine(line)
        }
    }

    /// Why the MIME fields of `entity` have no one reading, or nil: `Content-Type` fields that name
    /// different media types (or boundaries, or charsets), or a `Content-Type`,
    /// `Content-Transfer-Encoding` or `Content-Disposition` field after a line that cannot be a
    /// header line.
    static func ambiguousMIMEFields(_ entity: MIMEEntity, isTop: Bool) -> String? {
        let types = entity.fields.filter { $0.name(is: "content-type") }.compactMap { ContentType(parsing: $0.unfoldedValue) }
        if entity.fields.first(where: { $0.name(is: "content-type") }).flatMap({ ContentType(parsing: $0.unfoldedValue) }) != nil,
           let first = types.first {
            for other in types.dropFirst() {
                if other.type != first.type || other.subtype != first.subtype
                    || (first.boundary != nil && other.boundary != nil && first.boundary != other.boundary)
                    || (first.charset != nil && other.charset != nil && first.charset != other.charset) {
                    return "its Content-Type fields name different types"
                }
            }
        }
        let block = Array(entity.header)
        if let start = firstNonHeaderField(entity.fields, block: block, isTop: isTop),
           entity.fields[start...].contains(where: {
               $0.name(is: "content-type") || $0.name(is: "content-transfer-encoding") || $0.name(is: "content-disposition")
           }) {
            return "a MIME field follows a line that cannot be a header line"
        }
        return nil
    }

    /// Whether `entity` has Content-Transfer-Encoding fields that name different encodings.
    static func transferEncodingsDisagree(_ entity: MIMEEntity) -> Bool {
        let encodings = entity.fields.filter { $0.name(is: "content-transfer-encoding") }
            .map { ContentTransferEncoding(headerValue: $0.unfoldedValue) }
        return encodings.contains { $0 != encodings[0] }
    }

    /// Why the header block of an HTML part changed in a way the filter never changes it, or nil
    /// when the only change is Content-Transfer-Encoding fields set to (or one added as)
    /// quoted-printable.
    static func transferEncodingOnlyChange(_ input: MIMEEntity, _ output: MIMEEntity) -> String? {
        func isTransferEncoding(_ field: HeaderField) -> Bool { field.name(is: "content-transfer-encoding") }
        func others(_ entity: MIMEEntity) -> [ArraySlice<UInt8>] {
            let block = Array(entity.header)
            return entity.fields.filter { !isTransferEncoding($0) }.map { block[$0.range] }
        }
        guard others(input).elementsEqual(others(output), by: { $0.elementsEqual($1) }) else {
            return "the header block changed beyond Content-Transfer-Encoding"
        }
        let before = input.fields.filter(isTransferEncoding).count
        let after = output.fields.filter(isTransferEncoding)
        guard after.count == max(before, 1),
              after.allSatisfy({ ContentTransferEncoding(headerValue: $0.unfoldedValue) == .quotedPrintable }) else {
            return "its Content-Transfer-Encoding fields changed to something other than quoted-printable"
        }
        return nil
    }

    /// The decoded body. At the top level the last line ending is set aside first, as the filter
    /// does (in a multipart, ``MIMEEntity`` already gave it to the delimiter).
    static func decode(_ entity: MIMEEntity, isTop: Bool) -> [UInt8]? {
        var body = Array(entity.body)
        if isTop, body.last == 0x0A { body.removeLast(); if body.last == 0x0D { body.removeLast() } }
        switch entity.transferEncoding {
        case .quotedPrintable: return QuotedPrintable.decode(body)
        case .base64: return try? Base64.decode(body).bytes
        default: return body
        }
    }

    // MARK: - HTML

    /// Aligns the input and output HTML byte by byte, accounting for each kind of documented edit.
    public func checkHTML(input: [UInt8], output: [UInt8], set: ConfigurationSet) -> [String] {
        var nextLinkIndex = 0
        return checkHTML(input: input, output: output, set: set, unsubscribe: nil, nextLinkIndex: &nextLinkIndex)
    }

    /// ``checkHTML(input:output:set:)``.
    /// - Parameters:
    ///   - unsubscribe: the message's `List-Unsubscribe` URLs when the set leaves them untracked
    ///     (issue 21): no tracked link may lead to one.
    ///   - nextLinkIndex: the index of the part's first tracked link (a message whose parts share one
    ///     index space: its set tracks text parts too), moved past the part's tracked links.
    package func checkHTML(input: [UInt8], output: [UInt8], set: ConfigurationSet, unsubscribe: ListUnsubscribe?,
                           nextLinkIndex: inout Int) -> [String] {
        guard let domain = set.customRedirectDomain else { return input == output ? [] : ["changed without a redirect domain"] }
        var problems: [String] = []
        let clickPrefixes = ["https://\(domain)/c/", "http://\(domain)/c/"].map { Array($0.utf8) }
        let pixelPrefixes = ["<img src=\"https://\(domain)/o/", "<img src=\"http://\(domain)/o/"].map { Array($0.utf8) }
        // SES's own spelling, written out here rather than taken from the rewriter (the checker
        // reads the output independently of the rewriter's code).
        let placeholder = Array("{{ses:openTracker}}".utf8)
        var pixels = 0
        var changed = false
        /// The `<` of the tags where a link was tracked and where `ses:no-track` was removed.
        var trackedTagStarts: Set<Int> = []
        var noTrackTagStarts: Set<Int> = []
        // Other services' opt-out attributes, removed and obeyed like ses:no-track when the set
        // honours them (issue 21), spelled out here as their services document them.
        let otherOptOuts = set.linkTrackOptions.honorOtherOptOutAttributes ? Self.otherOptOutNames : []
        let removableNames = Self.sesAttributeNames + otherOptOuts
        let noTrackNames = [Self.noTrackName] + otherOptOuts
        func tagStart(_ offset: Int) -> Int { input[..<min(offset, input.count)].lastIndex(of: UInt8(ascii: "<")) ?? -1 }
        var expectedIndex = nextLinkIndex
        defer { nextLinkIndex = expectedIndex }
        var i = 0
        var j = 0
        func startsWith(_ bytes: [UInt8], _ at: Int, _ prefix: [UInt8]) -> Bool {
            at + prefix.count <= bytes.count && bytes[at..<(at + prefix.count)].elementsEqual(prefix)
        }
        /// `prefix` is lowercase ASCII; compared case-insensitively without copying.
        func startsWithIgnoringCase(_ bytes: [UInt8], _ at: Int, _ prefix: [UInt8]) -> Bool {
            at + prefix.count <= bytes.count && bytes[at..<(at + prefix.count)].lazy.map(\.asciiLowercased).elementsEqual(prefix)
        }
        while j < output.count || i < input.count {
            // An open pixel in the output that is not in the input.
            if pixelPrefixes.contains(where: { startsWith(output, j, $0) }),
               let close = output[j...].firstIndex(of: UInt8(ascii: ">")),
               output[j...close].elementsEqual(Self.pixelShape(output[j...close])),
               !startsWith(input, i, Array(output[j...close])) {
                // The whole tag, not just its prefix, must be new: an old pixel-like tag may follow.
                let tag = Array(output[j...close])
                let srcStart = 10
                let srcEnd = tag[srcStart...].firstIndex(of: UInt8(ascii: "\""))!
                let url = Self.unescape(Array(tag[srcStart..<srcEnd]))
                if case .open(let token)? = try? signer.decode(url), token.configurationSet == set.name {
                    let wanted = set.httpsPolicy.openScheme.rawValue + "://"
                    if !url.hasPrefix(wanted) { problems.append("the open pixel does not use \(wanted)") }
                } else {
                    problems.append("an open pixel URL does not verify")
                }
                pixels += 1
                changed = true
                j = close + 1
                if startsWith(input, i, placeholder) { i += placeholder.count }
                continue
            }
            if startsWith(input, i, placeholder), !startsWith(output, j, placeholder) {
                // A placeholder removed (the pixel went to the first one).
                i += placeholder.count
                changed = true
                continue
            }
            // A click URL in the output where the input has something else.
            let addedQuote = j < output.count && output[j] == UInt8(ascii: "\"") && (i >= input.count || input[i] != UInt8(ascii: "\""))
                && clickPrefixes.contains { startsWith(output, j + 1, $0) }
            let urlStart = addedQuote ? j + 1 : j
            // Not where the input spells the same prefix once its placeholders are removed: that is
            // the input's own text (fuzz finding `Fuzz/repro/mime-placeholder-inside-tracking-prefix.eml`:
            // `"http://l{{ses:openTracker}}inks...`).
            if let prefix = clickPrefixes.first(where: { startsWith(output, urlStart, $0) }),
               !startsWith(input, i, prefix),
               !(urlStart == j && Self.bytesWithoutPlaceholders(input, from: i, count: prefix.count, placeholder: placeholder)
                   .elementsEqual(prefix)) {
                // The output value runs to its quote; the input value to the same quote (or, when
                // quotes were added, to a blank or '>').
                let quote: UInt8 = addedQuote ? UInt8(ascii: "\"") : (j > 0 ? output[j - 1] : 0)
                // A rewritten href value stands between quotes; anything else is text that merely
                // looks like a tracking URL, and must match the input byte for byte.
                guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else {
                    if i < input.count, j < output.count, input[i] == output[j] { i += 1; j += 1; continue }
                    problems.append("the HTML differs at input offset \(i), output offset \(j) outside the documented edits")
                    break
                }
                guard let urlEnd = output[urlStart...].firstIndex(of: quote) else { problems.append("unterminated tracking URL"); break }
                var inputEnd = i
                if addedQuote {
                    while inputEnd < input.count, !input[inputEnd].isASCIIWhitespace, input[inputEnd] != UInt8(ascii: ">") { inputEnd += 1 }
                } else {
                    while inputEnd < input.count, input[inputEnd] != quote { inputEnd += 1 }
                }
                let outputValue = Array(output[urlStart..<urlEnd])
                let inputValue = Array(input[i..<inputEnd])
                if outputValue == inputValue {
                    // An already tracked link, passed through.
                } else {
                    let url = Self.unescape(outputValue)
                    let original = CharacterReference.decodeAttributeValue(inputValue[...]).trimmingASCIIWhitespace()
                    switch try? signer.decode(url) {
                    case .click(let token)?:
                        if Array(token.destination.utf8) != Array(original) {
                            problems.append("a tracking URL decodes to \(token.destination), not to the original \(String(decoding: original, as: UTF8.self))")
                        }
                        if token.configurationSet != set.name { problems.append("a tracking URL names the set \(token.configurationSet)") }
                        if set.linkTrackOptions.excludedDomains.matches(destination: Array(original)) {
                            problems.append("a link to an excluded domain was tracked: \(token.destination)")
                        }
                        if let unsubscribe, unsubscribe.matches(destination: original) {
                            problems.append("a List-Unsubscribe URL was tracked: \(token.destination)")
                        }
                        if token.linkIndex != expectedIndex { problems.append("link \(token.destination) has index \(token.linkIndex), expected \(expectedIndex)") }
                        expectedIndex += 1
                        trackedTagStarts.insert(tagStart(i))
                        let originalScheme: HttpsPolicy.Scheme = original.prefix(5).map(\.asciiLowercased) == Array("https".utf8) ? .https : .http
                        let wanted = set.httpsPolicy.clickScheme(original: originalScheme).rawValue + "://"
                        if !url.hasPrefix(wanted) { problems.append("the click URL for \(token.destination) does not use \(wanted)") }
                    default:
                        problems.append("a tracking URL does not verify: \(url.prefix(100))")
                    }
                    changed = true
                }
                i = inputEnd
                j = addedQuote ? urlEnd + 1 : urlEnd
                continue
            }
            // A removed ses: attribute (with the blank before or after it). Checked before the byte
            // comparison, which would otherwise match its 's' against a following 'style'.
            var k = i
            while k < input.count, input[k].isLibXML2Blank { k += 1 }
            // Only a whole `ses:no-track` or `ses:tags` name after a blank or a closing quote can be a
            // removed attribute ("Courses:" in text is not).
            let sesName = k > 0 && (input[k - 1].isLibXML2Blank || input[k - 1] == UInt8(ascii: "\"") || input[k - 1] == UInt8(ascii: "'"))
                ? removableNames.first { name in
                    startsWithIgnoringCase(input, k, name)
                        && (k + name.count == input.count || !Self.isNameCharacter(input[k + name.count]))
                } : nil
            // Left in place when the output holds the same bytes through one byte past the name, so
            // that a next attribute named "ses:no-track9" is not taken for this one (fuzz finding
            // `Fuzz/repro/html-ses-no-track-then-longer-name.html`); no further, where an edit may start
            // (text " ses:tags" with the pixel inserted 2 bytes after it: fuzz finding
            // `Fuzz/repro/html-ses-tags-text-before-pixel.html`).
            let windowEnd = k + (sesName?.count ?? 0) + 1
            let sesHere = sesName != nil
                && !startsWith(output, j, Array(input[i..<min(windowEnd, input.count)]))
                && !startsWith(output, j, Self.bytesWithoutPlaceholders(input, from: i, count: windowEnd - i, placeholder: placeholder))
            if !sesHere, i < input.count, j < output.count, input[i] == output[j] {
                i += 1
                j += 1
                continue
            }
            if sesHere {
                if noTrackNames.contains(where: { startsWithIgnoringCase(input, k, $0) && sesName! == $0 }) { noTrackTagStarts.insert(tagStart(k)) }
                // The attribute as libxml2 reads it: a name of name characters, then optionally blanks,
                // '=', blanks and a quoted or unquoted value.
                var e = k
                while e < input.count, Self.isNameCharacter(input[e]) { e += 1 }
                var v = e
                while v < input.count, input[v].isLibXML2Blank { v += 1 }
                if v < input.count, input[v] == UInt8(ascii: "=") {
                    v += 1
                    while v < input.count, input[v].isLibXML2Blank { v += 1 }
                    if v < input.count, input[v] == UInt8(ascii: "\"") || input[v] == UInt8(ascii: "'") {
                        let q = input[v]
                        v += 1
                        while v < input.count, input[v] != q { v += 1 }
                        v += 1
                    } else {
                        while v < input.count, !input[v].isLibXML2Blank, input[v] != UInt8(ascii: ">") { v += 1 }
                    }
                    e = v
                }
                i = min(e, input.count)
                if j < output.count, !output[j].isLibXML2Blank {
                    while i < input.count, input[i].isLibXML2Blank { i += 1 }
                }
                changed = true
                continue
            }
            problems.append("the HTML differs at input offset \(i), output offset \(j) outside the documented edits")
            break
        }
        if !trackedTagStarts.isDisjoint(with: noTrackTagStarts) {
            problems.append("a link marked ses:no-track (or another service's opt-out) was tracked")
        }
        // One pixel is added unless the input already held one (possibly commented out, which the
        // rewriter rightly does not count, so one may be added then too).
        if changed, set.tracksOpens,
           pixels > 1 || (pixels == 0 && Self.existingPixels(input, domain: Array(domain.lowercased().utf8)) == 0) {
            problems.append("\(pixels) open pixel(s) added to a rewritten part (exactly one is expected)")
        }
        return problems
    }

    static let pixelTail = Array("\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none;width:1px;height:1px;border:0;\">".utf8)

    /// `tag` rebuilt as the pixel markup with the same URL: equal to `tag` only when `tag` is a pixel
    /// as the rewriter writes it (an `<img>` that merely starts like one is not).
    static func pixelShape(_ tag: ArraySlice<UInt8>) -> [UInt8] {
        let head = Array("<img src=\"".utf8)
        guard tag.starts(with: head), tag.count > head.count + pixelTail.count else { return [] }
        let url = tag[(tag.startIndex + head.count)...].prefix { $0 != UInt8(ascii: "\"") }
        return head + url + pixelTail
    }

    static let sesAttributeNames = [Array("ses:no-track".utf8), Array("ses:tags".utf8)]
    /// SendGrid, Postmark, Mandrill and SparkPost's opt-out attribute names.
    static let otherOptOutNames = ["clicktracking", "data-pm-no-track", "mc:disable-tracking", "data-msys-clicktrack"].map { Array($0.utf8) }

    /// Up to `count` bytes of `input` from `start`, leaving out `{{ses:openTracker}}` placeholders
    /// (removed wherever they stand, even inside an attribute value that holds "ses:tags=" text:
    /// fuzz findings `Fuzz/repro/html-placeholder-inside-ses-tags-value.html` and
    /// `html-placeholder-inside-href-value-with-ses-tags-text.html`). The bytes as they are count
    /// too: a document left untouched keeps its placeholders (fuzz finding
    /// `Fuzz/repro/html-untouched-document-with-placeholder-in-ses-text.html`).
    static func bytesWithoutPlaceholders(_ input: [UInt8], from start: Int, count: Int, placeholder: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = start
        while i < input.count, out.count < count {
            if input[i] == placeholder[0], input[i...].starts(with: placeholder) {
                i += placeholder.count
                continue
            }
            out.append(input[i])
            i += 1
        }
        return out
    }

    /// libxml2's blanks (`IS_BLANK_CH`: space, tab, LF, CR). Not form feed, which HTML5 counts as
    /// whitespace: libxml2 reads `ses:tags=a<FF>b` as one value
    /// (fuzz finding `Fuzz/repro/html-ses-tags-value-with-form-feed.html`).
    static func isLibXML2Blank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    /// libxml2's attribute name characters (`htmlParseHTMLName`).
    static func isNameCharacter(_ b: UInt8) -> Bool {
        b.isASCIIAlphanumeric || b == UInt8(ascii: ":") || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")
    }
    static let noTrackName = Array("ses:no-track".utf8)

    /// How many `<img>` tags of `bytes` have a `src` that is an open pixel URL on `domain` (http or
    /// https, `/o/` path), wherever they stand (in a comment too), as a browser reads the tag: its
    /// name ends at whitespace, `/` or `>`; names, the scheme and the host in any case; the value in
    /// either quote or none, character references decoded. The rewriter adds no pixel where it
    /// finds one, so every form it can find must count here (fuzz finding
    /// `Fuzz/repro/html-existing-pixel-mixed-case-scheme.html`: a pixel written `httPs://`).
    /// - Parameter domain: the redirect domain, lowercased.
    static func existingPixels(_ bytes: [UInt8], domain: [UInt8]) -> Int {
        let img = Array("<img".utf8)
        let src = Array("src".utf8)
        func lowercasedEquals(_ at: Int, _ word: [UInt8]) -> Bool {
            at + word.count <= bytes.count && bytes[at..<(at + word.count)].lazy.map(\.asciiLowercased).elementsEqual(word)
        }
        var count = 0
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "<"), lowercasedEquals(i, img), i + img.count < bytes.count,
                  bytes[i + img.count].isASCIIWhitespace || bytes[i + img.count] == UInt8(ascii: "/") else {
                i += 1
                continue
            }
            // The attributes, up to the tag's `>` outside quotes.
            var k = i + img.count
            var found = false
            while k < bytes.count, bytes[k] != UInt8(ascii: ">") {
                let before = bytes[k - 1]
                if lowercasedEquals(k, src), before.isASCIIWhitespace || before == UInt8(ascii: "\"") || before == UInt8(ascii: "'") {
                    var v = k + src.count
                    while v < bytes.count, bytes[v].isASCIIWhitespace { v += 1 }
                    if v < bytes.count, bytes[v] == UInt8(ascii: "=") {
                        v += 1
                        while v < bytes.count, bytes[v].isASCIIWhitespace { v += 1 }
                        var end = v
                        if v < bytes.count, bytes[v] == UInt8(ascii: "\"") || bytes[v] == UInt8(ascii: "'") {
                            let quote = bytes[v]
                            v += 1
                            end = v
                            while end < bytes.count, bytes[end] != quote { end += 1 }
                        } else {
                            while end < bytes.count, !bytes[end].isASCIIWhitespace, bytes[end] != UInt8(ascii: ">") { end += 1 }
                        }
                        let value = CharacterReference.decodeAttributeValue(bytes[v..<end]).trimmingASCIIWhitespace()
                        if Self.isOpenPixelURL(value, domain: domain) { found = true }
                        k = min(end + 1, bytes.count)
                        continue
                    }
                }
                if bytes[k] == UInt8(ascii: "\"") || bytes[k] == UInt8(ascii: "'") {
                    // A quoted value of another attribute: skipped whole (it may hold `>`).
                    let quote = bytes[k]
                    k += 1
                    while k < bytes.count, bytes[k] != quote { k += 1 }
                }
                k += 1
            }
            if found { count += 1 }
            i = k
        }
        return count
    }

    /// Whether `url` is `http://` or `https://` `domain` `/o/`..., scheme and host in any case.
    static func isOpenPixelURL(_ url: ArraySlice<UInt8>, domain: [UInt8]) -> Bool {
        for scheme in ["http://", "https://"] {
            let prefix = Array(scheme.utf8) + domain + Array("/o/".utf8)
            if url.count >= prefix.count, url.prefix(prefix.count).lazy.map(\.asciiLowercased).elementsEqual(prefix) { return true }
        }
        return false
    }

    static func unescape(_ value: [UInt8]) -> String {
        String(decoding: CharacterReference.decodeAttributeValue(value[...]), as: UTF8.self)
    }
}

extension UInt8 {
    /// See ``InvariantChecker/isLibXML2Blank(_:)``.
    var isLibXML2Blank: Bool { InvariantChecker.isLibXML2Blank(self) }
}
