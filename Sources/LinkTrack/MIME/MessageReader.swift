#if canImport(Glibc)
import Glibc
#endif

/// A forward-only reader of an RFC 5322 message and its MIME structure (RFC 2045-2049), fed in
/// chunks, that hands out what it reads as ``Event``s with message offsets, in the manner of
/// MimeKit's `MimeReader` and Go's `multipart.Reader`. It knows nothing of tracking.
///
/// Use: ``append(_:)`` each chunk, then take ``next()`` until it returns nil (it needs more input);
/// after the last chunk call ``finishInput()`` and take ``next()`` until nil again (the last event
/// is ``Event/end(unclosedMultiparts:)``). Every byte of the message is in exactly one event, in
/// order, so a consumer that writes each event's bytes writes the message.
///
/// The reader does not decide what a body is: after an ``Event/headers(_:)`` the body that follows
/// is a leaf's (its bytes come as ``Event/body(_:messageOffset:)``) unless the consumer calls
/// ``enterMultipart(boundary:isDigest:path:)`` before taking the next event; ``passRest()`` makes
/// everything that follows one run of body bytes, unread.
///
/// Deliberate tolerance, as mature readers have it:
/// - A boundary line of any enclosing multipart ends the parts inside it (``Event/boundary(_:)``
///   says how many closed implicitly); a line that only starts like a boundary (`--boundaryX`) is
///   body text. Transport padding after a boundary is allowed (RFC 2046 §5.1.1).
/// - A line longer than ``Limits/maximumLineChunk`` is read in pieces; only the first piece of a
///   line can be a boundary line or end a header block.
/// - A header block that runs into its body without an empty line ends at the first line that
///   cannot belong to it when that line clearly starts the body for the type the fields before it
///   declare (issue 16, item 12; see ``startsBody(_:header:isTop:inDigest:)``).
/// - A header block larger than ``Limits/maximumHeaderBlockSize`` is handed out as
///   ``Event/oversizedHeaders(_:)``; a top-level one makes the rest of the message one body run.
struct MessageReader {
    /// What the reader found next.
    enum Event {
        /// A complete header block; the entity's body follows.
        case headers(Headers)
        /// Bytes of the current body: a leaf's body, or a multipart's preamble or epilogue (the
        /// line ending before a delimiter line belongs to the delimiter by RFC 2046 §5.1.1, but
        /// comes here, at the end of the body before it).
        case body(ArraySlice<UInt8>, messageOffset: Int)
        /// A delimiter or close-delimiter line of an enclosing multipart.
        case boundary(Boundary)
        /// A part's header block cut short by a boundary line, or a header block the message ends
        /// in. The entity has no body.
        case incompleteHeaders(Headers)
        /// A header block larger than ``Limits/maximumHeaderBlockSize``: what was read of it. The
        /// rest of the entity comes as body.
        case oversizedHeaders(Headers)
        /// The end of the message, after ``finishInput()``; `unclosedMultiparts` multiparts had no
        /// close delimiter.
        case end(unclosedMultiparts: Int)
    }

    /// An entity's header block.
    struct Headers {
        /// The header block's bytes, without the empty line that ends it.
        var block: [UInt8]
        /// The empty line that ended the block (with its line ending), or nothing when the body
        /// started without one.
        var blankLine: [UInt8]
        /// Empty for the top-level entity, else the part's position (`1`, `1.2`, ...).
        var path: String
        /// Whether the entity is a part of a `multipart/digest` (whose default type is
        /// `message/rfc822`, RFC 2046 §5.1.5).
        var inDigest: Bool
        /// Where the block starts in the message.
        var messageOffset: Int
        var isTop: Bool { path.isEmpty }
    }

    /// A delimiter line.
    struct Boundary {
        /// The line, with its line ending.
        var line: ArraySlice<UInt8>
        var messageOffset: Int
        /// Whether it is a close delimiter (`--boundary--`).
        var isClose: Bool
        /// The path of the multipart whose boundary it is (empty for the top-level entity).
        var multipartPath: String
        /// How many multiparts inside that one end here without their close delimiter.
        var implicitlyClosed: Int
        /// For a delimiter, the path of the part that starts after it.
        var nextPartPath: String?
    }

    private struct Frame {
        var boundary: [UInt8]
        var path: String
        var partCount = 0
        var isDigest: Bool
    }

    /// A header block being read, and what may start the body without an empty line before it.
    struct HeaderLines {
        var block: [UInt8] = []
        var messageOffset = 0
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

    private enum State {
        case topHeaders(HeaderLines)
        case partHeaders(HeaderLines, path: String, inDigest: Bool)
        case body
        /// Everything left is body, unread.
        case passAll
        case ended
    }

    let limits: Limits
    private var state: State = .topHeaders(HeaderLines())
    private var frames: [Frame] = []
    private var input: [UInt8] = []
    /// Where the next unread byte of ``input`` is.
    private var start = 0
    /// The message offset of ``input``'s first byte.
    private var inputOffset = 0
    /// Whether ``start`` is at the start of a line (false after a piece of an over-long line).
    private var atLineStart = true
    private var inputEnded = false
    /// Input passed on unread in ``State/passAll``, and its message offset.
    private var pending: ArraySlice<UInt8> = []
    private var pendingOffset = 0
    /// Counts the inputs (each ``append(_:)``, and the rest in ``finishInput()``), so that a
    /// consumer only joins two body slices that share storage (see ``joined(_:_:)``).
    private(set) var inputGeneration = 0

    init(limits: Limits) {
        self.limits = limits
    }

    /// The boundaries of the enclosing multiparts, outermost first, without the leading "--".
    var enclosingBoundaries: [[UInt8]] { frames.map(\.boundary) }

    /// How many multiparts enclose the current position.
    var depth: Int { frames.count }

    /// Whether the rest of the message is passed on unread (see ``passRest()``).
    var isPassingThrough: Bool {
        if case .passAll = state { return true }
        return false
    }

    // MARK: - Input

    /// Adds the next bytes of the message.
    mutating func append(_ chunk: ArraySlice<UInt8>) {
        precondition(!inputEnded, "append(_:) after finishInput()")
        inputGeneration &+= 1
        if case .passAll = state {
            if pending.isEmpty { pending = chunk } else { pending.append(contentsOf: chunk) }
            return
        }
        if start == input.count {
            inputOffset += input.count
            // A slice that spans a whole array (the whole-message API) becomes an array sharing
            // its storage: the message is not copied.
            input = Array(chunk)
        } else {
            if start > 0 {
                inputOffset += start
                input.removeFirst(start)
            }
            input.append(contentsOf: chunk)
        }
        start = 0
    }

    /// Says that the message has no more bytes: ``next()`` then hands out the last line, whatever
    /// it holds, and ``Event/end(unclosedMultiparts:)``.
    mutating func finishInput() {
        inputEnded = true
        inputGeneration &+= 1
    }

    /// `body` and `next` as one slice when `next` follows `body` in the same input (nothing is
    /// copied), else nil.
    func joined(_ body: ArraySlice<UInt8>, generation: Int, _ next: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard generation == inputGeneration, body.endIndex == next.startIndex, next.endIndex <= input.count else { return nil }
        return input[body.startIndex..<next.endIndex]
    }

    // MARK: - Consumer decisions

    /// Makes the body that follows the last ``Event/headers(_:)`` a multipart with `boundary`.
    mutating func enterMultipart(boundary: [UInt8], isDigest: Bool, path: String) {
        frames.append(Frame(boundary: boundary, path: path, isDigest: isDigest))
    }

    /// Passes everything that follows on as body, unread.
    mutating func passRest() {
        state = .passAll
        pending = input[start...]
        pendingOffset = inputOffset + start
        inputOffset += input.count
        input = []
        start = 0
    }

    // MARK: - Events

    /// The next event, or nil when more input is needed (or the message has ended).
    mutating func next() -> Event? {
        while true {
            switch state {
            case .ended:
                return nil
            case .passAll:
                if !pending.isEmpty {
                    let rest = pending
                    pending = []
                    let offset = pendingOffset
                    pendingOffset += rest.count
                    return .body(rest, messageOffset: offset)
                }
                if inputEnded {
                    state = .ended
                    return end()
                }
                return nil
            case .body:
                if let event = nextInBody() { return event }
                if start < input.count || !inputEnded { return nil }
                state = .ended
                return end()
            case .topHeaders, .partHeaders:
                if let event = nextInHeaders() { return event }
                if start < input.count || !inputEnded { return nil }
                // The message ends inside a header block.
                let headers: Headers
                switch state {
                case .topHeaders(let lines):
                    headers = Headers(block: lines.block, blankLine: [], path: "", inDigest: false, messageOffset: lines.messageOffset)
                case .partHeaders(let lines, let path, let inDigest):
                    headers = Headers(block: lines.block, blankLine: [], path: path, inDigest: inDigest, messageOffset: lines.messageOffset)
                default:
                    preconditionFailure()
                }
                state = .body
                return .incompleteHeaders(headers)
            }
        }
    }

    private mutating func end() -> Event {
        let unclosed = frames.count
        frames.removeAll()
        return .end(unclosedMultiparts: unclosed)
    }

    /// The next line to read from `start`: a complete line, a piece of an over-long one, or at the
    /// end of the input its last line; nil when more input is needed.
    private func nextLine() -> Range<Int>? {
        guard start < input.count else { return nil }
        if let lf = Self.indexOfLineFeed(input, from: start) { return start..<(lf + 1) }
        if input.count - start >= limits.maximumLineChunk || inputEnded { return start..<input.count }
        return nil
    }

    private mutating func take(_ line: Range<Int>) {
        start = line.upperBound
        atLineStart = line.isEmpty || input[line.upperBound - 1] == 0x0A
    }

    private mutating func nextInHeaders() -> Event? {
        while let range = nextLine() {
            let line = input[range]
            let continuation = !atLineStart
            let offset = inputOffset + range.lowerBound
            switch state {
            case .topHeaders(var header):
                if header.block.isEmpty { header.messageOffset = offset }
                if !continuation, Self.isBlankLine(line) {
                    take(range)
                    state = .body
                    return .headers(Headers(block: header.block, blankLine: Array(line), path: "", inDigest: false,
                                            messageOffset: header.messageOffset))
                }
                state = .ended  // releases the block held by the state, so the append does not copy it
                if !continuation, Self.startsBody(line, header: &header, isTop: true, inDigest: false) {
                    // The line is the body's first, read in the state the header block led to.
                    state = .body
                    return .headers(Headers(block: header.block, blankLine: [], path: "", inDigest: false,
                                            messageOffset: header.messageOffset))
                }
                take(range)
                header.block.append(contentsOf: line)
                if header.block.count > limits.maximumHeaderBlockSize {
                    passRest()
                    return .oversizedHeaders(Headers(block: header.block, blankLine: [], path: "", inDigest: false,
                                                     messageOffset: header.messageOffset))
                }
                state = .topHeaders(header)

            case .partHeaders(var header, let path, let inDigest):
                if header.block.isEmpty { header.messageOffset = offset }
                if !continuation, boundaryMatch(line) != nil {
                    // Read again in the body state, as the boundary it is.
                    state = .body
                    return .incompleteHeaders(Headers(block: header.block, blankLine: [], path: path, inDigest: inDigest,
                                                      messageOffset: header.messageOffset))
                }
                if !continuation, Self.isBlankLine(line) {
                    take(range)
                    state = .body
                    return .headers(Headers(block: header.block, blankLine: Array(line), path: path, inDigest: inDigest,
                                            messageOffset: header.messageOffset))
                }
                state = .ended  // releases the block held by the state, so the append does not copy it
                if !continuation, Self.startsBody(line, header: &header, isTop: false, inDigest: inDigest) {
                    state = .body
                    return .headers(Headers(block: header.block, blankLine: [], path: path, inDigest: inDigest,
                                            messageOffset: header.messageOffset))
                }
                take(range)
                header.block.append(contentsOf: line)
                if header.block.count > limits.maximumHeaderBlockSize {
                    state = .body
                    return .oversizedHeaders(Headers(block: header.block, blankLine: [], path: path, inDigest: inDigest,
                                                     messageOffset: header.messageOffset))
                }
                state = .partHeaders(header, path: path, inDigest: inDigest)

            default:
                return nil
            }
        }
        return nil
    }

    /// In a body: the run of lines up to the next delimiter line (or the end of the input), or the
    /// delimiter line.
    private mutating func nextInBody() -> Event? {
        guard start < input.count else { return nil }
        if atLineStart, let range = nextLine(), let match = boundaryMatch(input[range]) {
            take(range)
            return .boundary(handleBoundary(line: input[range], messageOffset: inputOffset + range.lowerBound, match: match))
        }
        let runStart = start
        let runEnd = bodyRunEnd()
        if runEnd > runStart {
            start = runEnd
            atLineStart = input[runEnd - 1] == 0x0A
            return .body(input[runStart..<runEnd], messageOffset: inputOffset + runStart)
        }
        // No complete line: a piece of an over-long line, or at the end the last line.
        guard let range = nextLine() else { return nil }
        take(range)
        return .body(input[range], messageOffset: inputOffset + range.lowerBound)
    }

    /// The end of the run of complete lines from `start` that are not delimiter lines of an
    /// enclosing multipart (`start` when the first is one, or when there is no complete line).
    ///
    /// Only a line that starts with "--" can be a delimiter line, and only when it is read from its
    /// start (not after a piece of an over-long line); its whole line is needed to tell.
    private func bodyRunEnd() -> Int {
        input.withUnsafeBufferPointer { buffer -> Int in
            // Safe: `base` is used only inside this closure, and every offset read is below
            // `buffer.count` (memchr is given the length left).
            guard let base = buffer.baseAddress else { return start }
            var runEnd = start
            var lineStart = start
            var continuation = !atLineStart
            while lineStart < buffer.count {
                guard let hit = memchr(base + lineStart, 0x0A, buffer.count - lineStart) else { break }
                let lineEnd = base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) + 1
                if !continuation, !frames.isEmpty, buffer[lineStart] == UInt8(ascii: "-"),
                   boundaryMatch(input[lineStart..<lineEnd]) != nil { break }
                lineStart = lineEnd
                runEnd = lineEnd
                continuation = false
            }
            return runEnd
        }
    }

    private mutating func handleBoundary(line: ArraySlice<UInt8>, messageOffset: Int, match: BoundaryMatch) -> Boundary {
        let implicitlyClosed = frames.count - 1 - match.frameIndex
        if implicitlyClosed > 0 { frames.removeLast(implicitlyClosed) }
        var boundary = Boundary(line: line, messageOffset: messageOffset, isClose: match.isClose,
                                multipartPath: frames[match.frameIndex].path, implicitlyClosed: implicitlyClosed)
        if match.isClose {
            frames.removeLast()
            state = .body
        } else {
            frames[match.frameIndex].partCount += 1
            let frame = frames[match.frameIndex]
            let path = frame.path.isEmpty ? "\(frame.partCount)" : "\(frame.path).\(frame.partCount)"
            boundary.nextPartPath = path
            state = .partHeaders(HeaderLines(), path: path, inDigest: frame.isDigest)
        }
        return boundary
    }

    // MARK: - Lines

    static func indexOfLineFeed(_ bytes: [UInt8], from start: Int) -> Int? {
        bytes.withUnsafeBufferPointer { buffer -> Int? in
            guard start < buffer.count else { return nil }
            // Safe: the search stays within the buffer (length `count - start` from `start`).
            guard let base = buffer.baseAddress,
                  let hit = memchr(base + start, 0x0A, buffer.count - start) else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }

    static func isBlankLine(_ line: ArraySlice<UInt8>) -> Bool {
        line.count == 1 && line.first == 0x0A
            || (line.count == 2 && line.first == 0x0D && line.last == 0x0A)
            || line.isEmpty
    }

    private struct BoundaryMatch {
        var frameIndex: Int
        var isClose: Bool
    }

    /// Whether `line` is a delimiter or close-delimiter line of an enclosing multipart
    /// (RFC 2046 §5.1.1: "--" boundary ["--"] transport-padding CRLF), innermost first.
    private func boundaryMatch(_ line: ArraySlice<UInt8>) -> BoundaryMatch? {
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

    // MARK: - Headers

    /// Whether `line`, read in a header block before any empty line, starts the entity's body
    /// (issue 16, item 12).
    ///
    /// RFC 5322 §2.2 makes a header field a name, a colon and a body, and §2.2.3 a folded line
    /// start with a blank; a line that is neither cannot belong to the header section, which has
    /// therefore ended without its empty line (§2.1). Python's `email` takes that line as the
    /// body's first, as does mime4j with `setMalformedHeaderStartsBody`; mime4j by default and
    /// MimeKit drop such lines and read headers on to an empty line (MimeKit, in a multipart, to a
    /// boundary line too). The readings agree where the reader recovers a body: only when the line
    /// is clearly the body's start for the type the fields before it declare (read once, at the
    /// first such line) — HTML markup (`<` and a letter or `!`) in a `text/html` entity, or the
    /// first delimiter line of a multipart. Anything else stays in the header block, and the
    /// header block runs on to an empty line.
    static func startsBody(_ line: ArraySlice<UInt8>, header: inout HeaderLines, isTop: Bool, inDigest: Bool) -> Bool {
        guard !HeaderBlock.canBelongToHeader(line) else { return false }
        // An mbox envelope line ("From ...") at the top of a message is skipped by readers.
        if isTop, header.block.isEmpty, line.starts(with: "From ".utf8) { return false }
        if !header.sawMalformedLine {
            header.sawMalformedLine = true
            let fields = HeaderBlock.parse(header.block)
            if case .type(let type) = contentTypeReading(fields, inDigest: inDigest) {
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
}
