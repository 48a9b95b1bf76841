#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One message going through a ``MessageFilter``: feed input with ``consume(_:)``, take output with
/// ``takeOutput()``, end with ``finish()``.
///
/// The message walk follows RFC 2045-2049 with the tolerance of mature parsers:
/// - A boundary line of any enclosing multipart ends the parts inside it (a missing final boundary
///   closes implicitly, with a warning); a line that only starts like a boundary (`--boundaryX`) is
///   body text. Transport padding after a boundary is allowed (RFC 2046 §5.1.1).
/// - `multipart/signed` and `multipart/encrypted` subtrees, `message/*` parts, attachments, and
///   parts beyond ``Limits/maximumNestingDepth`` are copied through byte for byte.
/// - A multipart without a boundary parameter is treated as an opaque body.
/// - An HTML part with several `Content-Transfer-Encoding` fields is tracked only when they all name
///   the same encoding (compared as ``ContentTransferEncoding`` reads them: case, blanks, folding
///   and comments do not matter), and when it is re-encoded every one of them is rewritten; when
///   they disagree the part passes through untouched, with a warning (issue 16, item 14). Readers
///   differ on which of the fields counts, so rewriting the body for one of them corrupts it for
///   the others (raw `=3D` and broken links where the first field is read).
/// - Malformed header blocks (issue 16, item 12): a header block that runs into its body without
///   an empty line ends at the first line that cannot belong to it when that line clearly starts
///   the body: HTML markup in a `text/html` entity, the first delimiter of a multipart (see
///   ``startsBody(_:header:isTop:inDigest:)``). Several `Content-Type` fields read as the first
///   one, as Python's `email`, MimeKit and mime4j read them, when the others name the same type or
///   none; when they name different types, or when a `Content-Type`, `Content-Transfer-Encoding` or
///   `Content-Disposition` field follows a line that cannot belong to a header block, readers
///   disagree and the entity passes through untouched, with a warning. Fields the filter adds go
///   before such a line, where every reader takes them for header fields.
public struct FilterSession {
    let filter: MessageFilter
    var limits: Limits { filter.options.limits }

    public internal(set) var report = FilterReport()

    var input: [UInt8] = []
    /// Counts the inputs (each ``consume(_:)`` call, and the rest in ``finish()``), so that a body
    /// slice is only ever extended within the input it shares storage with.
    var inputGeneration = 0
    var output: [UInt8] = []
    var atLineStart = true
    var state: State = .topHeaders(HeaderLines())
    var frames: [Frame] = []
    var tracking: TrackingContext?
    /// How many link reports the parts listed so far hold (see ``list(_:)``).
    var listedLinks = 0

    struct Frame {
        var boundary: [UInt8]
        var path: String
        var partCount = 0
        var isDigest: Bool
    }

    struct HTMLPart {
        var path: String
        var header: [UInt8]
        var blankLine: [UInt8]
        var fields: [HeaderField]
        var contentType: ContentType
        var transferEncoding: ContentTransferEncoding
        /// The body collected so far. While it lies in one piece of the session's input it is a
        /// slice of that input, sharing its storage (the whole-message API then never copies a
        /// body); once it spans two inputs it has storage of its own.
        var body: ArraySlice<UInt8> = []
        /// The ``FilterSession/inputGeneration`` whose storage ``body`` shares, or nil when the
        /// body has storage of its own.
        var borrowedGeneration: Int?
    }

    /// A header block being read, and what may start the body without an empty line before it.
    struct HeaderLines {
        var block: [UInt8] = []
        /// Whether the first line that cannot belong to a header block has been seen; from then on
        /// ``bodyStart`` is known.
        var sawMalformedLine = false
        /// What a line must look like to start the body although no empty line came before it,
        /// read from the fields before the first line that cannot belong to a header block.
        var bodyStart = BodyStart.none
    }

    /// See ``HeaderLines/bodyStart``.
    enum BodyStart {
        /// The entity is `text/html`: a line that starts HTML markup.
        case html
        /// A multipart: its first delimiter line.
        case multipart(boundary: [UInt8])
        /// Nothing: the header block runs on to an empty line.
        case none
    }

    enum State {
        case topHeaders(HeaderLines)
        case partHeaders(HeaderLines, path: String, inDigest: Bool)
        case opaque
        case collecting(HTMLPart)
        /// Everything left is copied as it comes.
        case passAll
    }

    init(filter: MessageFilter) {
        self.filter = filter
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
        // A body collected from an earlier input is not extended by slicing this one.
        inputGeneration &+= 1
        if case .passAll = state {
            output.append(contentsOf: chunk)
            return
        }
        if input.isEmpty {
            // A slice that spans a whole array (the whole-message API) becomes an array sharing its
            // storage: the message is not copied.
            input = Array(chunk)
        } else {
            input.append(contentsOf: chunk)
        }
        var start = 0
        let count = input.count
        while start < count {
            if case .passAll = state {
                output.append(contentsOf: input[start...])
                start = count
                break
            }
            if let end = collectableRunEnd(from: start) {
                collect(input[start..<end])
                atLineStart = true
                start = end
            } else if let lf = Self.indexOfLineFeed(input, from: start) {
                let continuation = !atLineStart
                atLineStart = true
                try handleLine(input[start...lf], continuation: continuation)
                start = lf + 1
            } else if count - start >= limits.maximumLineChunk {
                let continuation = !atLineStart
                atLineStart = false
                try handleLine(input[start..<count], continuation: continuation)
                start = count
            } else {
                break
            }
        }
        if start == input.count {
            input = []
        } else if start > 0 {
            input.removeFirst(start)
        }
    }

    /// Ends the message: handles a last line without a line ending and closes open parts.
    public mutating func finish() throws(FilterError) {
        if !input.isEmpty {
            let rest = input[...]
            let continuation = !atLineStart
            input = []
            inputGeneration &+= 1
            if case .passAll = state {
                output.append(contentsOf: rest)
            } else {
                try handleLine(rest, continuation: continuation)
            }
        }
        if case .topHeaders(let header) = state {
            let block = header.block
            // No blank line: the message has no body, so there is nothing to track. The set is still
            // checked (an unknown one is rejected) and the SES headers go, but no Message-ID is added:
            // after an unterminated last line it could turn that line into the blank line.
            let decision = try decideTracking(fields: HeaderBlock.parse(block), block: block)
            var edits = EditList()
            for range in decision.removals { edits.add(Edit(range: range, replacement: [])) }
            output.append(contentsOf: edits.isEmpty ? block : Splicer.apply(edits, to: block))
            report.changed = !edits.isEmpty
            note("the message ends inside its header block; nothing to track")
            state = .passAll
        }
        switch state {
        case .partHeaders(let header, _, _):
            output.append(contentsOf: header.block)
        case .collecting(let part):
            finishHTMLPart(part)
        case .topHeaders, .opaque, .passAll:
            break
        }
        state = .passAll
        if !frames.isEmpty {
            warn("the message ends without the final boundary of \(frames.count) multipart part(s); the parts were closed at the end")
            frames.removeAll()
        }
    }

    // MARK: - The report

    /// Adds a note to the report, or counts it once the report lists ``Limits/maximumReportEntries``.
    mutating func note(_ text: String) {
        if report.notes.count < limits.maximumReportEntries { report.notes.append(text) } else { report.unlistedNotes += 1 }
    }

    /// Adds a warning to the report, or counts it once the report lists ``Limits/maximumReportEntries``.
    mutating func warn(_ text: String) {
        if report.warnings.count < limits.maximumReportEntries { report.warnings.append(text) } else { report.unlistedWarnings += 1 }
    }

    /// Adds a part to the report, or counts it once the report lists ``Limits/maximumReportEntries``
    /// parts. A listed HTML part keeps its links' reports while the message's listed links stay
    /// within ``Limits/maximumLinksPerHTMLPart``; past that, the part is listed without them (they
    /// are counted in ``PartReport/unlistedLinks``). So a message's report is bounded whatever the
    /// number of its parts (issue 16, item 16: 200,000 small parts held 357 MB).
    mutating func list(_ part: PartReport) {
        guard report.parts.count < limits.maximumReportEntries else {
            report.unlistedParts += 1
            return
        }
        var part = part
        if let links = part.html?.links.count, links > 0 {
            if listedLinks + links > limits.maximumLinksPerHTMLPart {
                part.html?.links = []
                part.unlistedLinks = links
            } else {
                listedLinks += links
            }
        }
        report.parts.append(part)
    }

    static func indexOfLineFeed(_ bytes: [UInt8], from start: Int) -> Int? {
        bytes.withUnsafeBufferPointer { buffer -> Int? in
            guard start < buffer.count else { return nil }
            guard let base = buffer.baseAddress,
                  let hit = memchr(base + start, 0x0A, buffer.count - start) else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }

    // MARK: - Lines

    /// While an HTML part is being collected, the end of the run of complete lines from `start`
    /// that cannot be boundary lines, so that they join the part's body in one append rather
    /// than line by line; nil when there is none (or no part is being collected).
    ///
    /// Such a line continues an over-long line (only the first can, when `atLineStart` is false)
    /// or does not start with "--" (see ``boundaryMatch(_:)``). ``handleLine(_:continuation:)``
    /// would append each of them to the body, and after the part outgrew the size limit it would
    /// copy them to the output right after the body, so the output is the same.
    func collectableRunEnd(from start: Int) -> Int? {
        guard case .collecting = state else { return nil }
        return input.withUnsafeBufferPointer { buffer -> Int? in
            guard let base = buffer.baseAddress else { return nil }
            var runEnd: Int?
            var lineStart = start
            var continuation = !atLineStart
            while lineStart < buffer.count {
                if !continuation, buffer[lineStart] == UInt8(ascii: "-"),
                   lineStart + 1 == buffer.count || buffer[lineStart + 1] == UInt8(ascii: "-") { break }
                guard let hit = memchr(base + lineStart, 0x0A, buffer.count - lineStart) else { break }
                lineStart = base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) + 1
                runEnd = lineStart
                continuation = false
            }
            return runEnd
        }
    }

    /// Appends lines that cannot be boundary lines to the body of the HTML part being collected.
    mutating func collect(_ lines: ArraySlice<UInt8>) {
        guard case .collecting(let part) = state else { return }
        state = .opaque  // releases the part held by the state, so the append does not copy the body
        appendToBody(of: part, lines)
    }

    /// Appends `lines` to `part`'s body and keeps collecting, or writes the part out untouched
    /// (and leaves the state `.opaque`) once it is larger than the size limit.
    /// - Precondition: the state does not hold `part` (so that its body is not shared).
    mutating func appendToBody(of part: consuming HTMLPart, _ lines: ArraySlice<UInt8>) {
        if part.body.isEmpty {
            part.body = lines
            part.borrowedGeneration = inputGeneration
        } else if part.borrowedGeneration == inputGeneration, part.body.endIndex == lines.startIndex {
            // The lines follow the body in the same input: the slice grows, nothing is copied.
            part.body = input[part.body.startIndex..<lines.endIndex]
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
            warn("part \(part.path): the HTML part is larger than \(maximumSize) bytes; it passes through untouched")
            list(PartReport(path: part.path, contentType: "text/html", action: "passed through: larger than the HTML size limit", html: nil))
            output.append(contentsOf: part.header)
            output.append(contentsOf: part.blankLine)
            output.append(contentsOf: part.body)
            return
        }
        state = .collecting(part)
    }

    mutating func handleLine(_ line: ArraySlice<UInt8>, continuation: Bool) throws(FilterError) {
        switch state {
        case .passAll:
            output.append(contentsOf: line)

        case .topHeaders(var header):
            if !continuation, Self.isBlankLine(line) {
                state = .opaque
                try endTopHeaders(block: header.block, blankLine: Array(line))
                return
            }
            state = .passAll  // releases the block held by the state, so the append does not copy it
            if !continuation, Self.startsBody(line, header: &header, isTop: true, inDigest: false) {
                try endTopHeaders(block: header.block, blankLine: [])
                // The line is the body's first, read in the state the header block led to.
                try handleLine(line, continuation: false)
                return
            }
            header.block.append(contentsOf: line)
            if header.block.count > limits.maximumHeaderBlockSize {
                warn("the header block is larger than \(limits.maximumHeaderBlockSize) bytes; the message passes through untouched")
                output.append(contentsOf: header.block)
                state = .passAll
                return
            }
            state = .topHeaders(header)

        case .partHeaders(var header, let path, let inDigest):
            if !continuation, let match = boundaryMatch(line) {
                output.append(contentsOf: header.block)
                state = .opaque
                handleBoundary(line, match: match)
                return
            }
            if !continuation, Self.isBlankLine(line) {
                endPartHeaders(block: header.block, blankLine: Array(line), path: path, inDigest: inDigest)
                return
            }
            state = .opaque  // releases the block held by the state, so the append does not copy it
            if !continuation, Self.startsBody(line, header: &header, isTop: false, inDigest: inDigest) {
                endPartHeaders(block: header.block, blankLine: [], path: path, inDigest: inDigest)
                try handleLine(line, continuation: false)
                return
            }
            header.block.append(contentsOf: line)
            if header.block.count > limits.maximumHeaderBlockSize {
                warn("part \(path): the header block is larger than \(limits.maximumHeaderBlockSize) bytes; the part passes through untouched")
                output.append(contentsOf: header.block)
                state = .opaque
                return
            }
            state = .partHeaders(header, path: path, inDigest: inDigest)

        case .opaque:
            if !continuation, let match = boundaryMatch(line) {
                handleBoundary(line, match: match)
            } else {
                output.append(contentsOf: line)
            }

        case .collecting(let part):
            if !continuation, let match = boundaryMatch(line) {
                state = .opaque
                finishHTMLPart(part)
                handleBoundary(line, match: match)
                return
            }
            // Avoid a copy-on-write of the body: take it out of the state while appending.
            state = .opaque
            appendToBody(of: part, line)
        }
    }

    static func isBlankLine(_ line: ArraySlice<UInt8>) -> Bool {
        line.count == 1 && line.first == 0x0A
            || (line.count == 2 && line.first == 0x0D && line.last == 0x0A)
            || line.isEmpty
    }

    // MARK: - Boundaries

    struct BoundaryMatch {
        var frameIndex: Int
        var isClose: Bool
    }

    /// Whether `line` is a delimiter or close-delimiter line of an enclosing multipart
    /// (RFC 2046 §5.1.1: "--" boundary ["--"] transport-padding CRLF), innermost first.
    func boundaryMatch(_ line: ArraySlice<UInt8>) -> BoundaryMatch? {
        guard !frames.isEmpty, line.count >= 3, line.first == UInt8(ascii: "-"),
              line[line.startIndex + 1] == UInt8(ascii: "-") else { return nil }
        let afterDashes = line.startIndex + 2
        for index in frames.indices.reversed() {
            let boundary = frames[index].boundary
            guard line.count - 2 >= boundary.count,
                  line[afterDashes..<(afterDashes + boundary.count)].elementsEqual(boundary) else { continue }
            var rest = line[(afterDashes + boundary.count)...]
            var isClose = false
            if rest.count >= 2, rest.first == UInt8(ascii: "-"), rest[rest.startIndex + 1] == UInt8(ascii: "-") {
                isClose = true
                rest = rest.dropFirst(2)
            }
            if rest.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }) {
                return BoundaryMatch(frameIndex: index, isClose: isClose)
            }
        }
        return nil
    }

    mutating func handleBoundary(_ line: ArraySlice<UInt8>, match: BoundaryMatch) {
        if match.frameIndex < frames.count - 1 {
            let closed = frames.count - 1 - match.frameIndex
            warn("part \(frames[match.frameIndex].path.isEmpty ? "message" : frames[match.frameIndex].path): \(closed) nested multipart part(s) end without their final boundary")
            frames.removeLast(closed)
        }
        output.append(contentsOf: line)
        if match.isClose {
            frames.removeLast()
            state = .opaque
        } else {
            frames[match.frameIndex].partCount += 1
            let frame = frames[match.frameIndex]
            let path = frame.path.isEmpty ? "\(frame.partCount)" : "\(frame.path).\(frame.partCount)"
            state = .partHeaders(HeaderLines(), path: path, inDigest: frame.isDigest)
        }
    }

    // MARK: - Headers

    /// Whether `line`, read in a header block before any empty line, starts the entity's body
    /// (issue 16, item 12).
    ///
    /// RFC 5322 §2.2 makes a header field a name, a colon and a body, and §2.2.3 a folded line
    /// start with a blank; a line that is neither cannot belong to the header section, which has
    /// therefore ended without its empty line (§2.1). Python's `email` takes that line as the
    /// body's first, as does mime4j with `setMalformedHeaderStartsBody`; mime4j by default and
    /// MimeKit drop such lines and read headers on to an empty line (MimeKit, in a multipart, to a
    /// boundary line too). The readings agree where LinkTrack recovers a body: only when the line
    /// is clearly the body's start for the type the fields before it declare (read once, at the
    /// first such line) — HTML markup (`<` and a letter or `!`) in a `text/html` entity, or the
    /// first delimiter line of a multipart. Anything else stays in the header block, as before, and
    /// the header block runs on to an empty line.
    static func startsBody(_ line: ArraySlice<UInt8>, header: inout HeaderLines, isTop: Bool, inDigest: Bool) -> Bool {
        guard !HeaderBlock.canBelongToHeader(line) else { return false }
        // An mbox envelope line ("From ...") at the top of a message is skipped by readers.
        if isTop, header.block.isEmpty, line.starts(with: "From ".utf8) { return false }
        if !header.sawMalformedLine {
            header.sawMalformedLine = true
            let fields = HeaderBlock.parse(header.block)
            if case .type(let type) = Self.contentTypeReading(fields, inDigest: inDigest) {
                if type.type == "text", type.subtype == "html" {
                    header.bodyStart = .html
                } else if type.isMultipart, let boundary = type.boundary {
                    header.bodyStart = .multipart(boundary: Array(boundary.utf8))
                }
            }
        }
        switch header.bodyStart {
        case .html:
            return HeaderBlock.startsHTMLMarkup(line)
        case .multipart(let boundary):
            // "--" boundary, then only transport padding (RFC 2046 §5.1.1).
            guard line.starts(with: "--".utf8), line.dropFirst(2).starts(with: boundary) else { return false }
            return line.dropFirst(2 + boundary.count).allSatisfy {
                $0 == MIMEBytes.space || $0 == MIMEBytes.tab || $0 == MIMEBytes.cr || $0 == MIMEBytes.lf
            }
        case .none:
            return false
        }
    }

    /// How the `Content-Type` fields of an entity read (see ``ContentTypeReading``); the default
    /// type (RFC 2045 §5.2, RFC 2046 §5.1.5 in a digest) when there is none.
    static func contentTypeReading(_ fields: [HeaderField], inDigest: Bool) -> ContentTypeReading {
        ContentTypeReading(values: fields.filter { $0.name(is: "content-type") }.map(\.unfoldedValue),
                           fallback: inDigest ? ContentType(type: "message", subtype: "rfc822") : ContentType(type: "text", subtype: "plain"))
    }

    mutating func endTopHeaders(block: [UInt8], blankLine: [UInt8]) throws(FilterError) {
        let fields = HeaderBlock.parse(block)
        let decision = try decideTracking(fields: fields, block: block)
        var header = block
        if !decision.removals.isEmpty || decision.addedField != nil {
            var edits = EditList()
            for range in decision.removals { edits.add(Edit(range: range, replacement: [])) }
            if let added = decision.addedField {
                edits.add(.insert(added, at: Self.insertionOffset(in: block, isTop: true)))
            }
            header = Splicer.apply(edits, to: block)
            report.changed = true
        }
        guard tracking != nil else {
            output.append(contentsOf: header)
            output.append(contentsOf: blankLine)
            state = .passAll
            return
        }
        let headerFields = header == block ? fields : HeaderBlock.parse(header)
        enterBody(fields: headerFields, header: header, blankLine: blankLine, path: "", inDigest: false)
    }

    mutating func endPartHeaders(block: [UInt8], blankLine: [UInt8], path: String, inDigest: Bool) {
        let fields = HeaderBlock.parse(block)
        enterBody(fields: fields, header: block, blankLine: blankLine, path: path, inDigest: inDigest)
    }

    /// Decides what the body of an entity needs, after its header block.
    mutating func enterBody(fields: [HeaderField], header: [UInt8], blankLine: [UInt8], path: String,
                            inDigest: Bool) {
        let displayPath = path.isEmpty ? "message" : path
        func passThrough(_ action: String, contentType: String) {
            output.append(contentsOf: header)
            output.append(contentsOf: blankLine)
            list(PartReport(path: displayPath, contentType: contentType, action: action, html: nil))
            state = .opaque
        }
        let contentType: ContentType
        switch Self.contentTypeReading(fields, inDigest: inDigest) {
        case .type(let type):
            contentType = type
        case .conflict(let values):
            // Python's email, MimeKit and mime4j take the first field; readers that take the last
            // see another entity. With no one reading, nothing in it is changed (issue 16, item 12).
            let first = values.first.flatMap(ContentType.init(parsing:)).map { "\($0.type)/\($0.subtype)" } ?? "text/plain"
            warn("part \(displayPath): its \(values.count) Content-Type fields name different types (\(values.joined(separator: "; "))); the part passes through untouched")
            return passThrough("passed through: conflicting Content-Type fields", contentType: first)
        }
        let typeName = "\(contentType.type)/\(contentType.subtype)"
        // The MIME fields after a line that cannot belong to a header block are header fields to
        // some readers and body text to others (see ``startsBody(_:header:isTop:inDigest:)``).
        if let malformed = HeaderBlock.firstMalformedLine(in: header, isTop: path.isEmpty),
           let field = fields.first(where: { $0.range.lowerBound > malformed && Self.isMIMEField($0) }) {
            warn("part \(displayPath): its \(field.name) field follows a line that is not a header field, so readers disagree on whether it counts; the part passes through untouched")
            return passThrough("passed through: a MIME field after a line that is not a header field", contentType: typeName)
        }
        // An attachment in any Content-Disposition field: readers differ on which of several counts.
        let isAttachment = fields.contains {
            $0.name(is: "content-disposition") && ContentDisposition(parsing: $0.unfoldedValue)?.disposition == "attachment"
        }

        if contentType.isMultipart {
            if contentType.subtype == "signed" || contentType.subtype == "encrypted" {
                return passThrough("passed through: \(typeName) must not change", contentType: typeName)
            }
            guard let boundary = contentType.boundary, !boundary.isEmpty else {
                warn("part \(displayPath): \(typeName) without a boundary parameter passes through untouched")
                return passThrough("passed through: no boundary", contentType: typeName)
            }
            // RFC 2046 §5.1.2 forbids a nested multipart to reuse an enclosing boundary; readers
            // disagree on where such parts end, so the whole part passes through untouched.
            guard !frames.contains(where: { $0.boundary.elementsEqual(boundary.utf8) }) else {
                warn("part \(displayPath): \(typeName) reuses an enclosing multipart's boundary; the part passes through untouched")
                return passThrough("passed through: boundary reused from an enclosing multipart", contentType: typeName)
            }
            guard frames.count < limits.maximumNestingDepth else {
                warn("part \(displayPath): multipart nesting deeper than \(limits.maximumNestingDepth); the part passes through untouched")
                return passThrough("passed through: nesting too deep", contentType: typeName)
            }
            output.append(contentsOf: header)
            output.append(contentsOf: blankLine)
            frames.append(Frame(boundary: Array(boundary.utf8), path: path, isDigest: contentType.subtype == "digest"))
            list(PartReport(path: displayPath, contentType: typeName, action: "walked", html: nil))
            state = .opaque
            return
        }
        guard contentType.type == "text", contentType.subtype == "html" else {
            return passThrough("passed through", contentType: typeName)
        }
        if isAttachment {
            return passThrough("passed through: attachment", contentType: typeName)
        }
        let encodings = fields.filter { $0.name(is: "content-transfer-encoding") }
            .map { ContentTransferEncoding(headerValue: $0.unfoldedValue) }
        if let first = encodings.first, encodings.contains(where: { $0 != first }) {
            // Readers disagree on which field counts (Python's email and Thunderbird take the
            // first, others the last), so there is no one body to rewrite (issue 16, item 14).
            let names = encodings.map(\.name).joined(separator: ", ")
            warn("part \(displayPath): its \(encodings.count) Content-Transfer-Encoding fields disagree (\(names)); the part passes through untouched")
            return passThrough("passed through: conflicting Content-Transfer-Encoding fields", contentType: typeName)
        }
        state = .collecting(HTMLPart(path: displayPath, header: header, blankLine: blankLine, fields: fields,
                                     contentType: contentType, transferEncoding: encodings.last ?? .sevenBit))
    }


    /// Whether `field` says how to read the entity's body: `Content-Type`, `Content-Transfer-Encoding`
    /// or `Content-Disposition`.
    static func isMIMEField(_ field: HeaderField) -> Bool {
        field.name(is: "content-type") || field.name(is: "content-transfer-encoding") || field.name(is: "content-disposition")
    }

    struct TrackingDecision {
        var removals: [Range<Int>] = []
        var addedField: [UInt8]?
    }

    /// Chooses the configuration set and the header changes for the top-level header block.
    mutating func decideTracking(fields: [HeaderField], block: [UInt8]) throws(FilterError) -> TrackingDecision {
        var decision = TrackingDecision()
        let configuration = filter.configuration
        let setHeaders = fields.filter { $0.name(is: "x-ses-configuration-set") }
        let tagHeaders = fields.filter { $0.name(is: "x-ses-message-tags") }
        let sesRanges = (setHeaders + tagHeaders).map(\.range)

        // An empty X-SES-CONFIGURATION-SET names no set: it counts as absent (and is removed with
        // the others when the message is tracked; issue 16, item 20).
        let named = setHeaders.lazy.map(\.unfoldedValue).first { !$0.isEmpty }
        let requested = named ?? filter.options.configurationSetName ?? configuration.defaultConfigurationSet
        guard let requested, !requested.isEmpty else {
            note(setHeaders.isEmpty
                ? "no configuration set applies (no X-SES-CONFIGURATION-SET header, no --configuration-set, no DefaultConfigurationSet); the message passes unchanged"
                : "no configuration set applies (X-SES-CONFIGURATION-SET is empty, no --configuration-set, no DefaultConfigurationSet); the message passes unchanged")
            return decision
        }
        guard let set = configuration.configurationSets.first(where: { $0.name == requested }) else {
            let error = ConfigurationError.notFound(configurationSet: requested)
            if filter.options.unknownConfigurationSet == .pass {
                note("\(error.description) The message passes unchanged (--unknown-configuration-set pass).")
                return decision
            }
            throw FilterError(kind: .unknownConfigurationSet, message: error.description)
        }
        report.configurationSet = set.name
        guard set.tracksAnything else {
            note(set.customRedirectDomain == nil
                ? "configuration set \(set.name) has no CustomRedirectDomain; the message passes unchanged"
                : "configuration set \(set.name) tracks neither opens nor clicks; the message passes unchanged")
            return decision
        }
        let dkim = fields.filter { $0.name(is: "dkim-signature") }
        if !dkim.isEmpty, !filter.options.rewriteSigned {
            warn("the message carries a DKIM-Signature, which rewriting would break; it passes without tracking (use --rewrite-signed to track it)")
            let covered = Set(dkim.flatMap { Self.signedHeaderNames($0.unfoldedValue) })
            for field in setHeaders where !covered.contains("x-ses-configuration-set") { decision.removals.append(field.range) }
            for field in tagHeaders where !covered.contains("x-ses-message-tags") { decision.removals.append(field.range) }
            return decision
        }
        decision.removals = sesRanges

        var messageTags: [Tag] = []
        for field in tagHeaders {
            for pair in field.unfoldedValue.split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = kv.first.map { Self.trimmed($0) } ?? ""
                let value = kv.count == 2 ? Self.trimmed(kv[1]) : ""
                if kv.count == 2, Tag.isValidComponent(name), Tag.isValidComponent(value) {
                    messageTags.append(Tag(name: name, value: value))
                } else {
                    warn("X-SES-MESSAGE-TAGS entry \"\(Self.trimmed(pair))\" is malformed (expected name=value of [0-9A-Za-z_-]); it is ignored")
                }
            }
        }

        let messageId: String
        let existing = fields.first(where: { $0.name(is: "message-id") })
        if let existing, !existing.unfoldedValue.isEmpty {
            messageId = existing.unfoldedValue
        } else {
            let digest = SHA256State.hash(block).array
            let hex = digest.prefix(12).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            messageId = "<lt.\(hex)@\(set.customRedirectDomain!)>"
        }
        if existing?.unfoldedValue.isEmpty == true {
            // An empty Message-ID field stays as it is (a second field would break RFC 5322 §3.6);
            // the derived id goes into the tokens only.
            note("the Message-ID field is empty; tokens carry \(messageId)")
        } else if existing == nil {
            decision.addedField = Self.fieldToAdd("Message-ID: \(messageId)", to: block, fields: fields, isTop: true)
            note("the message had no Message-ID; added \(messageId)")
        }
        tracking = TrackingContext(configurationSet: set, messageId: messageId, messageTags: messageTags)
        report.messageId = tracking?.messageId
        return decision
    }

    /// Where a field is added to a header block: at its end, or before its first line that cannot
    /// belong to a header block (issue 16, item 12), so that every reader takes the added field for
    /// a header field (Python's email reads the body from that line on).
    static func insertionOffset(in block: [UInt8], isTop: Bool) -> Int {
        HeaderBlock.firstMalformedLine(in: block, isTop: isTop) ?? block.count
    }

    /// The bytes that add the field `text` at ``insertionOffset(in:isTop:)``: with the line ending
    /// of the field before it, and after a line ending when that field has none (a block that ends
    /// without one).
    static func fieldToAdd(_ text: String, to block: [UInt8], fields: [HeaderField], isTop: Bool) -> [UInt8] {
        let offset = insertionOffset(in: block, isTop: isTop)
        let before = fields.last { $0.range.upperBound <= offset }
        var added: [UInt8] = []
        if let before, before.lineEnding.isEmpty { added.append(contentsOf: dominantLineEnding(block)) }
        added.append(contentsOf: Array(text.utf8))
        added.append(contentsOf: before?.lineEnding.isEmpty == false ? before!.lineEnding : dominantLineEnding(block))
        return added
    }

    static func dominantLineEnding(_ block: [UInt8]) -> [UInt8] {
        if let lf = block.firstIndex(of: 0x0A), lf > 0, block[lf - 1] == 0x0D { return [0x0D, 0x0A] }
        if block.contains(0x0A) { return [0x0A] }
        return [0x0D, 0x0A]
    }

    /// The lowercased header names in a DKIM-Signature's `h=` tag (RFC 6376 §3.5).
    static func signedHeaderNames(_ value: String) -> [String] {
        for tag in value.split(separator: ";") {
            let kv = tag.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, Self.trimmed(kv[0]).lowercased() == "h" else { continue }
            return kv[1].split(separator: ":").map { Self.trimmed($0.filter { !$0.isWhitespace }).lowercased() }
        }
        return []
    }

    static func trimmed<S: StringProtocol>(_ text: S) -> String {
        String(decoding: Array(text.utf8).trimmingASCIIWhitespace(), as: UTF8.self)
    }
}
