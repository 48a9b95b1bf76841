#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One message going through a ``MessageFilter``: feed input with ``consume(_:)``, take output with
/// ``takeOutput()``, end with ``finish()``.
///
/// A ``MessageReader`` reads the message (RFC 2045-2049 with the tolerance described there); the
/// session turns its events into output: the top-level header block as ``TrackingDecision`` says,
/// HTML parts through ``HTMLRewriter``, `text/plain` parts through ``TextRewriter`` when the set's
/// ``LinkTrackOptions/trackLinksIn`` takes in text (with `TEXT`, HTML parts get the open pixel and
/// keep their links, as Postmark's TextOnly still tracks opens), everything else written as it was read. What it does not
/// process it writes through byte for byte:
/// - `multipart/signed` and `multipart/encrypted` subtrees, `message/*` parts, attachments, and
///   parts beyond ``Limits/maximumNestingDepth``.
/// - A multipart without a boundary parameter (read as an opaque body).
/// - An HTML part with several `Content-Transfer-Encoding` fields is tracked only when they all name
///   the same encoding (compared as ``ContentTransferEncoding`` reads them: case, blanks, folding
///   and comments do not matter), and when it is re-encoded every one of them is rewritten; when
///   they disagree the part passes through untouched, with a warning (issue 16, item 14). Readers
///   differ on which of the fields counts, so rewriting the body for one of them corrupts it for
///   the others (raw `=3D` and broken links where the first field is read).
/// - Several `Content-Type` fields read as the first one, as Python's `email`, MimeKit and mime4j
///   read them, when the others name the same type or none; when they name different types, or
///   when a `Content-Type`, `Content-Transfer-Encoding` or `Content-Disposition` field follows a
///   line that cannot belong to a header block, readers disagree and the entity passes through
///   untouched, with a warning (issue 16, item 12). Fields the filter adds go before such a line,
///   where every reader takes them for header fields.
public struct FilterSession {
    let filter: MessageFilter
    var limits: Limits { filter.options.limits }

    public internal(set) var report = FilterReport()

    var reader: MessageReader
    var output: [UInt8] = []
    /// The HTML or text part whose body is being collected, if any.
    var collecting: CollectedPart?
    var tracking: TrackingContext?
    /// How many link reports the parts listed so far hold (see ``list(_:)``).
    var listedLinks = 0
    /// The link index the next part starts at, when the set tracks text parts and the message's
    /// parts share one index space (``LinkTrackOptions/trackLinksIn``).
    var nextLinkIndex = 0

    /// A part whose body is collected to be rewritten: HTML, or `text/plain` when the set tracks
    /// text parts.
    struct CollectedPart {
        enum Kind {
            case html, text

            var contentType: String { self == .html ? "text/html" : "text/plain" }
        }
        var kind: Kind = .html
        var path: String
        var header: [UInt8]
        var blankLine: [UInt8]
        var fields: [HeaderField]
        var contentType: ContentType
        var transferEncoding: ContentTransferEncoding
        /// The boundaries of the multiparts around the part, which no line of its body may start
        /// like (see ``introducesDelimiterLikeLine(original:output:boundaries:)``).
        var enclosingBoundaries: [[UInt8]]
        /// The body collected so far. While it lies in one piece of the reader's input it is a
        /// slice of that input, sharing its storage (the whole-message API then never copies a
        /// body); once it spans two inputs it has storage of its own.
        var body: ArraySlice<UInt8> = []
        /// The ``MessageReader/inputGeneration`` whose storage ``body`` shares, or nil when the
        /// body has storage of its own.
        var borrowedGeneration: Int?
    }

    init(filter: MessageFilter) {
        self.filter = filter
        self.reader = MessageReader(limits: filter.options.limits)
    }

    /// The output produced so far, which the caller now owns.
    public mutating func takeOutput() -> [UInt8] {
        // Handed over, not copied: emptying it in place would allocate a second buffer of the same
        // capacity, since the caller now shares this one.
        let taken = output
        output = []
        return taken
    }

    /// Feeds the next bytes of the message.
    public mutating func consume(_ chunk: ArraySlice<UInt8>) throws(FilterError) {
        reader.append(chunk)
        try handleEvents()
    }

    /// Ends the message: handles a last line without a line ending and closes open parts.
    public mutating func finish() throws(FilterError) {
        reader.finishInput()
        try handleEvents()
    }

    private mutating func handleEvents() throws(FilterError) {
        while let event = reader.next() {
            switch event {
            case .headers(let headers):
                if headers.isTop {
                    try endTopHeaders(headers)
                } else {
                    enterBody(fields: HeaderBlock.parse(headers.block), header: headers.block, blankLine: headers.blankLine,
                              path: headers.path, inDigest: headers.inDigest)
                }
            case .body(let bytes, _):
                if let part = collecting {
                    collecting = nil  // releases the part, so the append does not copy the body
                    appendToBody(of: part, bytes)
                } else {
                    output.append(contentsOf: bytes)
                }
            case .boundary(let boundary):
                if let part = collecting {
                    collecting = nil
                    finishCollectedPart(part)
                }
                if boundary.implicitlyClosed > 0 {
                    warn(.part(boundary.multipartPath.isEmpty ? "message" : boundary.multipartPath,
                               .nestedMultipartsUnclosed(boundary.implicitlyClosed)))
                }
                output.append(contentsOf: boundary.line)
            case .incompleteHeaders(let headers):
                if headers.isTop {
                    try endUnterminatedTopHeaders(headers.block)
                } else {
                    output.append(contentsOf: headers.block)
                }
            case .oversizedHeaders(let headers):
                warn(headers.isTop
                    ? .headerBlockTooLarge(limit: limits.maximumHeaderBlockSize)
                    : .part(headers.path, .headerBlockTooLarge(limit: limits.maximumHeaderBlockSize)))
                output.append(contentsOf: headers.block)
            case .end(let unclosed):
                if let part = collecting {
                    collecting = nil
                    finishCollectedPart(part)
                }
                if unclosed > 0 {
                    warn(.unclosedMultiparts(unclosed))
                }
            }
        }
    }

    /// A message that ends inside its header block has no body, so there is nothing to track. The
    /// set is still checked (an unknown one is rejected) and the SES headers go, but no Message-ID
    /// is added: after an unterminated last line it could turn that line into the blank line.
    private mutating func endUnterminatedTopHeaders(_ block: [UInt8]) throws(FilterError) {
        var decision = try decide(block: block, fields: HeaderBlock.parse(block))
        // The Message-ID the decision would add is not: the message passes as it is but for the
        // removals, and tokens there are none.
        if let added = decision.notes.firstIndex(where: { if case .messageIDAdded = $0 { true } else { false } }) {
            decision.notes[added] = .messageIDNotAdded
        }
        report.messageId = nil
        for note in decision.notes { self.note(note) }
        var edits = EditList()
        for range in decision.removals { edits.add(Edit(range: range, replacement: [])) }
        output.append(contentsOf: edits.isEmpty ? block : Splicer.apply(edits, to: block))
        report.changed = !edits.isEmpty
        note(.endsInHeaderBlock)
    }

    // MARK: - The report

    /// Adds a note to the report, or counts it once the report lists ``Limits/maximumReportEntries``.
    mutating func note(_ text: FilterNote) {
        if report.notes.count < limits.maximumReportEntries { report.notes.append(text) } else { report.unlistedNotes += 1 }
    }

    /// Adds a warning to the report, or counts it once the report lists ``Limits/maximumReportEntries``.
    mutating func warn(_ text: FilterWarning) {
        if report.warnings.count < limits.maximumReportEntries { report.warnings.append(text) } else { report.unlistedWarnings += 1 }
    }

    /// Adds a part to the report, or counts it once the report lists ``Limits/maximumReportEntries``
    /// parts. A listed HTML part keeps its links' reports while the message's listed links stay
    /// within ``Limits/maximumLinksPerHTMLPart``; past that, the part is listed without them (they
    /// are counted in ``PartReport/unlistedLinks``). So a message's report is bounded whatever the
    /// number of its parts (issue 16, item 16: without it, a message of many small parts held
    /// a report entry per part).
    mutating func list(_ part: PartReport) {
        guard report.parts.count < limits.maximumReportEntries else {
            report.unlistedParts += 1
            return
        }
        var part = part
        if let links = part.html?.links.count ?? part.text?.links.count, links > 0 {
            if listedLinks + links > limits.maximumLinksPerHTMLPart {
                part.html?.links = []
                part.text?.links = []
                part.unlistedLinks = links
            } else {
                listedLinks += links
            }
        }
        report.parts.append(part)
    }

    // MARK: - HTML bodies

    /// Appends `lines` to `part`'s body and keeps collecting, or writes the part out untouched
    /// once it is larger than the size limit.
    /// - Precondition: ``collecting`` does not hold `part` (so that its body is not shared).
    mutating func appendToBody(of part: consuming CollectedPart, _ lines: ArraySlice<UInt8>) {
        if part.body.isEmpty {
            part.body = lines
            part.borrowedGeneration = reader.inputGeneration
        } else if let generation = part.borrowedGeneration, let joined = reader.joined(part.body, generation: generation, lines) {
            // The lines follow the body in the same input: the slice grows, nothing is copied.
            part.body = joined
        } else {
            if part.borrowedGeneration != nil {
                // The body outlives the input it was borrowed from: give it storage of its own.
                var owned: [UInt8] = []
                owned.reserveCapacity(2 * (part.body.count + lines.count))
                owned.append(contentsOf: part.body)
                part.body = owned[...]
                part.borrowedGeneration = nil
            }
            part.body.append(contentsOf: lines)
        }
        // Capped at what the quoted-printable line map and the parser can address (Limits).
        let maximumSize = min(limits.maximumHTMLPartSize, Limits.largestHTMLPartSize)
        if part.header.count + part.body.count > maximumSize {
            warn(.part(part.path, part.kind == .html ? .htmlPartTooLarge(limit: maximumSize) : .textPartTooLarge(limit: maximumSize)))
            list(PartReport(path: part.path, contentType: part.kind.contentType, action: .passedThrough(.tooLarge), html: nil))
            output.append(contentsOf: part.header)
            output.append(contentsOf: part.blankLine)
            output.append(contentsOf: part.body)
            return
        }
        collecting = part
    }

    // MARK: - Headers

    /// The ``TrackingDecision`` for the top-level header block, with its warnings reported and the
    /// report's set and message id filled in (its notes are the caller's to report).
    private mutating func decide(block: [UInt8], fields: [HeaderField]) throws(FilterError) -> TrackingDecision {
        let decision = try TrackingDecision(block: block, fields: fields, configuration: filter.configuration, options: filter.options)
        for warning in decision.warnings { warn(warning) }
        report.configurationSet = decision.configurationSet
        tracking = decision.tracking
        report.messageId = decision.tracking?.messageId
        return decision
    }

    mutating func endTopHeaders(_ headers: MessageReader.Headers) throws(FilterError) {
        let block = headers.block
        let fields = HeaderBlock.parse(block)
        let decision = try decide(block: block, fields: fields)
        for note in decision.notes { self.note(note) }
        var header = block
        if !decision.removals.isEmpty || decision.addedField != nil {
            var edits = EditList()
            for range in decision.removals { edits.add(Edit(range: range, replacement: [])) }
            if let added = decision.addedField {
                edits.add(.insert(added, at: HeaderBlock.insertionOffset(in: block, isTop: true)))
            }
            header = Splicer.apply(edits, to: block)
            report.changed = true
        }
        guard tracking != nil else {
            output.append(contentsOf: header)
            output.append(contentsOf: headers.blankLine)
            reader.passRest()
            return
        }
        let headerFields = header == block ? fields : HeaderBlock.parse(header)
        enterBody(fields: headerFields, header: header, blankLine: headers.blankLine, path: "", inDigest: false)
    }

    /// Decides what the body of an entity needs, after its header block.
    mutating func enterBody(fields: [HeaderField], header: [UInt8], blankLine: [UInt8], path: String,
                            inDigest: Bool) {
        let displayPath = path.isEmpty ? "message" : path
        func passThrough(_ reason: PassThroughReason, contentType: String) {
            output.append(contentsOf: header)
            output.append(contentsOf: blankLine)
            list(PartReport(path: displayPath, contentType: contentType, action: .passedThrough(reason), html: nil))
        }
        let contentType: ContentType
        switch MessageReader.contentTypeReading(fields, inDigest: inDigest) {
        case .type(let type):
            contentType = type
        case .conflict(let values):
            // Python's email, MimeKit and mime4j take the first field; readers that take the last
            // see another entity. With no one reading, nothing in it is changed (issue 16, item 12).
            let first = values.first.flatMap(ContentType.init(parsing:)).map { "\($0.type)/\($0.subtype)" } ?? "text/plain"
            warn(.part(displayPath, .conflictingContentTypes(values)))
            return passThrough(.conflictingContentTypes, contentType: first)
        }
        let typeName = "\(contentType.type)/\(contentType.subtype)"
        // The MIME fields after a line that cannot belong to a header block are header fields to
        // some readers and body text to others (see ``MessageReader/startsBody(_:header:isTop:inDigest:)``),
        // and so is one on that line itself: `\rContent-Transfer-Encoding: 8bit` after an LF is a
        // field to readers that end lines at a bare CR as well (Python's email), and no field to
        // those that do not.
        if let malformed = HeaderBlock.firstMalformedLine(in: header, isTop: path.isEmpty),
           let field = fields.first(where: { $0.range.lowerBound >= malformed && Self.isMIMEField($0) }) {
            warn(.part(displayPath, .mimeFieldAfterMalformedLine(field.name)))
            return passThrough(.mimeFieldAfterMalformedLine, contentType: typeName)
        }
        // An attachment in any Content-Disposition field: readers differ on which of several counts.
        let isAttachment = fields.contains {
            $0.name(is: "content-disposition") && ContentDisposition(parsing: $0.unfoldedValue)?.disposition == "attachment"
        }

        if contentType.isMultipart {
            if contentType.subtype == "signed" || contentType.subtype == "encrypted" {
                return passThrough(.mustNotChange(contentType: typeName), contentType: typeName)
            }
            guard let boundary = contentType.boundary, !boundary.isEmpty else {
                warn(.part(displayPath, .noBoundary(contentType: typeName)))
                return passThrough(.noBoundary, contentType: typeName)
            }
            // RFC 2046 §5.1.2 forbids a nested multipart to reuse an enclosing boundary; readers
            // disagree on where such parts end, so the whole part passes through untouched.
            guard !reader.enclosingBoundaries.contains(where: { $0.elementsEqual(boundary.utf8) }) else {
                warn(.part(displayPath, .boundaryReused(contentType: typeName)))
                return passThrough(.boundaryReused, contentType: typeName)
            }
            guard reader.depth < limits.maximumNestingDepth else {
                warn(.part(displayPath, .nestingTooDeep(limit: limits.maximumNestingDepth)))
                return passThrough(.nestingTooDeep, contentType: typeName)
            }
            output.append(contentsOf: header)
            output.append(contentsOf: blankLine)
            reader.enterMultipart(boundary: Array(boundary.utf8), isDigest: contentType.subtype == "digest", path: path)
            list(PartReport(path: displayPath, contentType: typeName, action: .walked, html: nil))
            return
        }
        let kind: CollectedPart.Kind
        if contentType.type == "text", contentType.subtype == "html" {
            kind = .html
        } else if contentType.type == "text", contentType.subtype == "plain", let set = tracking?.configurationSet,
                  set.linkTrackOptions.trackLinksIn.tracksText, set.tracksClicks {
            kind = .text
        } else {
            return passThrough(.notHTML, contentType: typeName)
        }
        if isAttachment {
            return passThrough(.attachment, contentType: typeName)
        }
        let encodings = fields.filter { $0.name(is: "content-transfer-encoding") }
            .map { ContentTransferEncoding(headerValue: $0.unfoldedValue) }
        if let first = encodings.first, encodings.contains(where: { $0 != first }) {
            // Readers disagree on which field counts (Python's email and Thunderbird take the
            // first, others the last), so there is no one body to rewrite (issue 16, item 14).
            warn(.part(displayPath, .conflictingTransferEncodings(encodings.map(\.name))))
            return passThrough(.conflictingTransferEncodings, contentType: typeName)
        }
        collecting = CollectedPart(kind: kind, path: displayPath, header: header, blankLine: blankLine, fields: fields,
                              contentType: contentType, transferEncoding: encodings.last ?? .sevenBit,
                              enclosingBoundaries: reader.enclosingBoundaries)
    }

    /// Whether `field` says how to read the entity's body: `Content-Type`, `Content-Transfer-Encoding`
    /// or `Content-Disposition`.
    static func isMIMEField(_ field: HeaderField) -> Bool {
        field.name(is: "content-type") || field.name(is: "content-transfer-encoding") || field.name(is: "content-disposition")
    }
}
