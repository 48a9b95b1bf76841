import CLibXML2
#if canImport(Glibc)
import Glibc
#endif

/// What libxml2's HTML parser found in a document, in the document's own byte offsets.
struct HTMLScan: Sendable {
    /// Offset of the `<` of the first `</body>` that libxml2 treated as the body's end tag.
    var bodyCloseOffset: Int?
    /// Where a construct that swallowed the rest of the document starts (an unterminated comment, tag or
    /// attribute value), so that an insertion before it still renders.
    var unterminatedConstructOffset: Int?
    /// Tags whose position could not be confirmed by the re-scan; their links are left alone.
    var unlocatedTags = 0
    /// Whether `visit` asked to stop: the parse ended there, and the rest of the document was not read.
    var stopped = false
    /// The most items the scan held at once for later (at most ``HTMLScanner/pendingBatchSize``).
    var largestPendingBatch = 0
    /// Where the vocabulary's ``ScannerVocabulary/textPlaceholder`` stands in body text that renders
    /// (not in a tag, comment, script, style, `<head>`, `<title>`, `<textarea>` or `<xmp>`).
    var textPlaceholderOffsets: [Int] = []
}

/// The libxml2 adapter, and its only user: runs libxml2's HTML SAX parser over a document and
/// locates, byte-exactly, the tags it reports that are of interest.
///
/// What is not libxml2's is done by pure types over the document's bytes: ``Latin1OffsetMap`` maps
/// the parser's positions back, ``TagRescanner`` reads a reported tag's attributes again where it
/// stands, and ``ConditionalCommentScanner`` reads the markup of Outlook conditional comments. The
/// words of a sender's markup (its attributes, its placeholder) come from the caller's
/// ``ScannerVocabulary``.
///
/// How positions are recovered:
/// - The document is parsed as ISO-8859-1 whatever its charset, so every byte >= 0x80 becomes exactly
///   two bytes of the parser's UTF-8 and a parser position maps back to a document offset by counting
///   (``Latin1Reading`` converts; libxml2 parses the result as UTF-8).
///   This is byte-transparent for every ASCII-compatible charset; callers must not pass UTF-16/32 or
///   ISO-2022 text.
/// - NUL bytes are replaced by 0xFF in the parsed copy (the parser stops at NUL).
/// - At `startElement` the parser stands on the tag's `>`; the tag's `<` is found by searching back
///   for `<name`, and the attributes are re-scanned with libxml2's own rules (`htmlParseStartTag`).
///   The re-scan is accepted only if it ends at that same `>` and yields the same attribute names.
enum HTMLScanner {
    /// How many tags and other events the scan gathers before it handles them, in the middle of the
    /// parse: large enough to keep most of the gain of deferring the work (see `ScanState.pending`),
    /// small enough that a document of a million tags does not hold a million of them (about 40
    /// bytes each, and their names).
    static let pendingBatchSize = 4096

    static let parserOptions: Int32 = Int32(
        HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue | HTML_PARSE_IGNORE_ENC.rawValue)

    /// Runs `body` with a parser context (the rewriter's options not yet set) that reads `bytes`
    /// as ISO-8859-1: ``Latin1Reading`` converts them and libxml2 pulls the UTF-8. Returns nil when
    /// libxml2 cannot be set up. `bytes` must stay valid until `body` returns.
    static func withParserContext<Result>(reading bytes: UnsafeBufferPointer<UInt8>,
                                          _ body: (htmlParserCtxtPtr) -> Result) -> Result? {
        // Safe: retained for libxml2's read callback, and released here only, after the context
        // (which calls it) is freed: the `defer`s run in reverse order.
        let reader = Unmanaged.passRetained(Latin1Reading(bytes))
        defer { reader.release() }
        guard let ctxt = lt_html_create_pull_ctxt(Latin1Reading.read, reader.toOpaque()) else { return nil }
        defer { htmlFreeParserCtxt(ctxt) }
        // Declared, or the parser would guess an encoding at the first byte >= 0x80 and
        // convert the UTF-8 again.
        guard xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8) == 0 else { return nil }
        return body(ctxt)
    }

    /// `xmlInitParser` must run once before parsers are used from several threads.
    static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    /// Why a document could not be scanned.
    enum Failure: Error, Sendable, Equatable {
        case parserUnavailable
        case documentTooLarge(Int)
    }

    /// Scans `document`, handing each tag of interest to `visit`: `<a>` and `<area>` tags, `<img>`
    /// tags (for the existing open pixel check), and every tag with an `href` inside an Outlook
    /// conditional comment; in document order. `visit` returns false to stop: the parse ends there
    /// (``HTMLScan/stopped``).
    ///
    /// The tags are handed over in batches of at most ``pendingBatchSize`` as the parse goes, so
    /// what the scan holds is bounded whatever the document (issue 16, item 16).
    /// - Parameters:
    ///   - vocabulary: the attributes to report on each tag (``ScannedTag/listedAttributes``) and
    ///     the placeholder to find in body text (``HTMLScan/textPlaceholderOffsets``).
    /// - Throws: ``Failure`` when libxml2 cannot be set up for the document (before any visit).
    static func scan(_ document: [UInt8], vocabulary: ScannerVocabulary,
                     visit: (ScannedTag) -> Bool) throws(Failure) -> HTMLScan {
        // Safe: the pointer is used only during the call; the scan keeps nothing of it.
        try document.withUnsafeBufferPointer { buffer in
            Result { () throws(Failure) in try scan(buffer, vocabulary: vocabulary, visit: visit) }
        }.get()
    }

    /// ``scan(_:vocabulary:visit:)`` of bytes held elsewhere (a mapped file), valid for the call.
    static func scan(_ document: UnsafeBufferPointer<UInt8>, vocabulary: ScannerVocabulary,
                     visit: (ScannedTag) -> Bool) throws(Failure) -> HTMLScan {
        _ = initialized
        guard document.count < Int(Int32.max) / 2 else { throw .documentTooLarge(document.count) }
        // The parser stops at NUL: parse a copy with NUL replaced when there is one (rare).
        // Safe: memchr reads the buffer's own `count` bytes (memchr, not `contains`: it is the
        // check every document pays, and memchr reads a word at a time).
        if let base = document.baseAddress, memchr(base, 0, document.count) != nil {
            var copy = Array(document)
            for i in copy.indices where copy[i] == 0 { copy[i] = 0xFF }
            return try copy.withUnsafeBufferPointer { buffer in
                Result { () throws(Failure) in try scanBytes(buffer, vocabulary: vocabulary, visit: visit) }
            }.get()
        }
        return try scanBytes(document, vocabulary: vocabulary, visit: visit)
    }

    private static func scanBytes(_ buffer: UnsafeBufferPointer<UInt8>, vocabulary: ScannerVocabulary,
                                  visit: (ScannedTag) -> Bool) throws(Failure) -> HTMLScan {
        // Safe: the state, and with it `visit`, does not outlive this call (libxml2 keeps no
        // reference to it once the parse returns).
        let result = withoutActuallyEscaping(visit) { visit -> HTMLScan? in
            let state = ScanState(bytes: buffer, vocabulary: vocabulary, visit: visit)
            guard state.run() else { return nil }
            return state.result
        }
        guard let result else { throw .parserUnavailable }
        return result
    }

    /// The code point of an HTML 4 named character reference (without `&` and `;`), from libxml2's table.
    static func namedCharacterReference(_ name: ArraySlice<UInt8>) -> UInt32? {
        var cName = Array(name)
        cName.append(0)
        // The array is passed as a pointer valid for the call; the result points into libxml2's
        // static table.
        guard let entity = htmlEntityLookup(cName) else { return nil }
        return UInt32(entity.pointee.value)
    }
}

/// The per-parse state that libxml2's callbacks reach through `ctxt->_private`.
///
/// No error can arise inside a callback: what one finds that ends the scan (``visit`` asking to
/// stop) is stored in ``stopped`` and reported after `htmlParseDocument` returns.
///
/// Its mutable fields are `@exclusivity(unchecked)`: they are touched only from the one thread that
/// runs the parse, never through overlapping accesses, and the dynamic checks cost a runtime call
/// on every access in callbacks that run thousands of times per document.
private final class ScanState {
    /// The bytes being parsed: the whole (NUL-replaced) document. Safe: every read of it is at an
    /// index checked first against `end`.
    let bytes: UnsafeBufferPointer<UInt8>
    let end: Int
    @exclusivity(unchecked) var context: htmlParserCtxtPtr?
    @exclusivity(unchecked) var result = HTMLScan()

    /// Parser (UTF-8) offsets to document offsets, moved forward after the parse.
    @exclusivity(unchecked) var offsetMap: Latin1OffsetMap
    /// Re-reads the tags libxml2 reports, where they stand in ``bytes``.
    @exclusivity(unchecked) var rescanner: TagRescanner
    /// The vocabulary's placeholder, looked for in body text.
    let textPlaceholder: [UInt8]

    // Context depths.
    @exclusivity(unchecked) var headDepth = 0
    @exclusivity(unchecked) var rawTextDepth = 0
    /// The `<` of each open element whose content browsers read as text (`script`, `style`, `title`,
    /// `textarea`, `xmp`), innermost last.
    @exclusivity(unchecked) var openRawTextStarts: [Int] = []
    /// How many of those are open while the parse runs (their starts are located after it).
    @exclusivity(unchecked) var openTextElements = 0
    /// The earliest such element that the document ended inside: in a browser it swallows the rest.
    @exclusivity(unchecked) var unterminatedRawTextStart: Int?
    /// Where libxml2 last closed such an element without its end tag (a `</body>` inside a
    /// `<textarea>` closes both in libxml2, but is text in a browser).
    @exclusivity(unchecked) var forcedRawTextCloseOffset: Int?
    /// The furthest parser offset that the parser reported an event at; mapped to a document
    /// offset once, at the end (most events need no document offset of their own).
    @exclusivity(unchecked) var lastEventParserOffset = 0

    /// Receives each tag of interest (see ``HTMLScanner/scan(_:vocabulary:visit:)``).
    let visit: (ScannedTag) -> Bool
    /// What the callbacks recorded, handled in the order it was reported, a batch of
    /// ``HTMLScanner/pendingBatchSize`` at a time and the rest after the parse: the tags are located
    /// and handed to ``visit`` then, in document order. Doing the per-tag and per-link work (mapping
    /// offsets, re-scanning tags, decoding, signing, escaping) in runs rather than inside each
    /// callback keeps libxml2's code and data in the caches while it parses, which makes the whole
    /// rewrite faster (Benchmarks/README.md).
    @exclusivity(unchecked) var pending: [Pending] = []
    /// Set when ``visit`` returned false: the parser is stopped and nothing more is handled.
    @exclusivity(unchecked) var stopped = false
    /// Element and attribute names copied from the callbacks for the tags in ``pending``, each
    /// followed by a 0 byte (libxml2 reuses its attribute array once a callback returns).
    @exclusivity(unchecked) var pendingNames: [UInt8] = []

    /// Work left for after the parse, in the order the parser reported it; every parser offset
    /// is mapped to a document offset then, in one forward walk over the document.
    enum Pending {
        /// A start tag of interest that libxml2 reported: where its `>` is (a parser offset), and
        /// its element and attribute names in ``pendingNames``.
        case startTag(parserOffset: Int, isImage: Bool, context: TagContext, names: Range<Int>)
        /// The start tag of an element whose content is text (`script`, `style`, `title`,
        /// `textarea`, `xmp`).
        case textElementStart(parserOffset: Int, names: Range<Int>)
        /// The end of such an element, or of `body`, where libxml2 reported it; its name in
        /// ``pendingNames``.
        case elementEnd(parserOffset: Int, isBody: Bool, name: Range<Int>)
        /// A comment that starts like a conditional one (`[if `), ending at `parserOffset` (after
        /// `-->`), with a value of `valueLength` bytes.
        case conditionalComment(parserOffset: Int, valueLength: Int)
        /// The text placeholder in rendered body text, as the parser's text reported it.
        case textPlaceholder(parserOffset: Int)
    }

    init(bytes: UnsafeBufferPointer<UInt8>, vocabulary: ScannerVocabulary, visit: @escaping (ScannedTag) -> Bool) {
        self.bytes = bytes
        self.visit = visit
        self.end = bytes.count
        self.offsetMap = Latin1OffsetMap(bytes)
        self.rescanner = TagRescanner(bytes: bytes, vocabulary: vocabulary)
        self.textPlaceholder = vocabulary.textPlaceholder
    }

    /// Runs the parser; returns false when libxml2 could not be set up.
    func run() -> Bool {
        guard end > 0 else { return true }
        return HTMLScanner.withParserContext(reading: bytes) { parse($0) } != nil
    }

    /// Parses with the callbacks below, then does the work they left (``finishPending()``).
    private func parse(_ ctxt: htmlParserCtxtPtr) {
        context = ctxt
        htmlCtxtUseOptions(ctxt, HTMLScanner.parserOptions)
        var sax = htmlSAXHandler()
        sax.initialized = 1
        sax.startElement = { ctx, name, atts in ScanState.with(ctx) { $0.startElement(name: name, attributes: atts) } }
        sax.endElement = { ctx, name in ScanState.with(ctx) { $0.endElement(name: name) } }
        sax.characters = { ctx, text, length in ScanState.with(ctx) { $0.characters(text, length: Int(length)) } }
        sax.ignorableWhitespace = { ctx, _, _ in ScanState.with(ctx) { $0.noteEvent() } }
        sax.cdataBlock = { ctx, _, _ in ScanState.with(ctx) { $0.noteEvent() } }
        sax.processingInstruction = { ctx, _, _ in ScanState.with(ctx) { $0.noteEvent() } }
        sax.internalSubset = { ctx, _, _, _ in ScanState.with(ctx) { $0.doctypeEvent() } }
        sax.comment = { ctx, value in ScanState.with(ctx) { $0.comment(value: value) } }
        ctxt.pointee.sax.pointee = sax
        // Safe: retained for the callbacks, which only run inside htmlParseDocument, and released
        // here only, once it has returned (`_private` is cleared first).
        let unmanaged = Unmanaged.passRetained(self)
        ctxt.pointee._private = unmanaged.toOpaque()
        _ = htmlParseDocument(ctxt)
        ctxt.pointee._private = nil
        unmanaged.release()
        context = nil
        finishPending()
        result.stopped = stopped
    }

    /// Runs `body` with the state behind `ctxt->_private`, without retaining it again.
    static func with(_ ctx: UnsafeMutableRawPointer?, _ body: (ScanState) -> Void) {
        // Safe: ``parse(_:)`` sets `_private` to a retained reference before the parse and releases
        // it only after, and the callbacks fire only during the parse.
        Unmanaged<ScanState>.fromOpaque(lt_xml_ctxt_private(ctx)!)._withUnsafeGuaranteedRef(body)
    }

    /// Maps a parser offset (UTF-8 of the ISO-8859-1 reading) to a document offset, walking on
    /// from the last one mapped (after the parse, in the order of ``pending``).
    @inline(__always) func documentOffset(parserOffset target: Int) -> Int {
        offsetMap.documentOffset(parserOffset: target)
    }

    /// Text: an event, and where it holds the text placeholder in rendered body text.
    func characters(_ text: UnsafePointer<xmlChar>?, length: Int) {
        noteEvent()
        let count = textPlaceholder.count
        guard count > 0, let text, length >= count, headDepth == 0, rawTextDepth == 0,
              openTextElements == 0, let context else { return }
        let rawPosition = lt_xml_input_position(context)
        guard rawPosition != UInt.max else { return }
        // Text reaches this callback without references (libxml2 reports those apart), so the
        // chunk's bytes are the parser's input bytes just before its position.
        let chunkStart = Int(rawPosition) - length
        textPlaceholder.withUnsafeBufferPointer { placeholder in
            var k = 0
            // Safe: `text` holds `length` bytes during the callback, and every read below is in
            // k..<length: memchr's from k, memcmp's once k + count <= length.
            while k + count <= length, let hit = memchr(text + k, Int32(placeholder[0]), length - k) {
                k = UnsafeRawPointer(text).distance(to: UnsafeRawPointer(hit))
                guard k + count <= length else { break }
                if memcmp(text + k, placeholder.baseAddress!, count) == 0 {
                    appendPending(.textPlaceholder(parserOffset: chunkStart + k))
                    k += count
                } else {
                    k += 1
                }
            }
        }
    }

    /// A `<!DOCTYPE ...>`: content, when it ended at its `>`. libxml2 reports one that runs to the end
    /// of the document as well (`htmlParseDocTypeDecl` skips to a `>` that is not there); that one
    /// swallows the rest, so it is left to ``findUnterminatedConstruct(after:)``, which puts the
    /// pixel before it rather than inside it (fuzz finding
    /// `Fuzz/repro/mime-placeholder-inside-tracking-prefix.eml`).
    func doctypeEvent() {
        // Safe: the parser's input is valid during its callback, and `cur > base` guards the read.
        guard let context, let input = context.pointee.input, let cur = input.pointee.cur, let base = input.pointee.base,
              cur > base, cur[-1] == UInt8(ascii: ">") else { return }
        noteEvent()
    }

    func noteEvent() {
        guard let context else { return }
        let position = lt_xml_input_position(context)
        if position != UInt.max { noteEvent(parserOffset: Int(position)) }
    }

    func noteEvent(parserOffset: Int) {
        if parserOffset > lastEventParserOffset { lastEventParserOffset = parserOffset }
    }

    // MARK: - Elements


    func startElement(name: UnsafePointer<xmlChar>?, attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        guard let name, let context else { return }
        // Classify without allocating: this runs for every element of every message.
        let kind = ElementKind(name)
        if kind == .head { headDepth += 1 }
        if kind == .rawText { rawTextDepth += 1 }
        // Implied elements (html, body, p, ...) fire where no tag of theirs stands: the parser is on
        // a `>` only for a tag written in the document. Checked in the parser's own buffer, so that
        // the many elements LinkTrack does not read need no document offset.
        guard lt_xml_at_tag_close(context) != 0 else { return }
        let position = lt_xml_input_position(context)
        guard position != UInt.max else { return }
        // Only a tag that really ends here counts as parsed content (see findUnterminatedConstruct).
        noteEvent(parserOffset: Int(position))
        // Located after the parse: only the position and the names are taken from here.
        if kind == .link || kind == .img {
            appendPending(.startTag(parserOffset: Int(position), isImage: kind == .img,
                                     context: rawTextDepth > 0 ? .rawText : (headDepth > 0 ? .head : .body),
                                     names: appendPendingNames(name, attributes)))
            return
        }
        guard kind == .rawText || kind == .script else { return }
        appendPending(.textElementStart(parserOffset: Int(position), names: appendPendingNames(name, attributes)))
        openTextElements += 1
    }

    /// Copies a name from libxml2, with a 0 byte after it, to ``pendingNames``.
    func appendPendingName(_ name: UnsafePointer<xmlChar>) {
        // Safe: libxml2's names are NUL-terminated, and valid during the callback.
        pendingNames.append(contentsOf: UnsafeBufferPointer(start: name, count: strlen(name) + 1))
    }

    /// Copies an element's name and its attributes' names (libxml2's `atts`: name, value, ...,
    /// NULL) to ``pendingNames``; returns where they stand there.
    func appendPendingNames(_ name: UnsafePointer<xmlChar>,
                            _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) -> Range<Int> {
        let start = pendingNames.count
        appendPendingName(name)
        if let attributes {
            var i = 0
            // Safe: libxml2's `atts` is name, value pairs ended by a NULL name.
            while let attribute = attributes[i] {
                appendPendingName(attribute)
                i += 2
            }
        }
        return start..<pendingNames.count
    }

    /// Records work for later (see ``pending``); a full batch is handled at once.
    func appendPending(_ item: Pending) {
        guard !stopped else { return }
        pending.append(item)
        if pending.count >= HTMLScanner.pendingBatchSize { handlePending() }
    }

    /// Handles what is left at the end of the parse, then finds where an unterminated construct starts.
    func finishPending() {
        handlePending()
        if stopped { return }
        findUnterminatedConstruct(after: documentOffset(parserOffset: lastEventParserOffset))
    }

    /// Locates the start tags and reads the conditional comments recorded so far, and hands their
    /// tags to ``visit``, in document order; stops the parser when ``visit`` says so. Offsets are
    /// mapped in one forward walk, continued batch after batch.
    func handlePending() {
        result.largestPendingBatch = max(result.largestPendingBatch, pending.count)
        defer {
            pending.removeAll(keepingCapacity: true)
            pendingNames.removeAll(keepingCapacity: true)
        }
        // One tag that each located tag is read into, rather than an optional copied out per tag.
        var located = ScannedTag.empty
        for item in pending {
            guard !stopped else { return }
            switch item {
            case let .startTag(parserOffset, isImage, context, names):
                let offset = documentOffset(parserOffset: parserOffset)
                guard offset < end else { continue }
                guard rescanner.locate(closeOffset: offset, names: pendingNames, at: names, into: &located) else {
                    result.unlocatedTags += 1
                    continue
                }
                located.isImage = isImage
                located.context = context
                if !visit(located) { stop() }
            case let .textElementStart(parserOffset, names):
                let offset = documentOffset(parserOffset: parserOffset)
                // Past the end (libxml2 closing the document), the element starts nowhere: its
                // end event below then finds no start either.
                guard offset < end else { continue }
                openRawTextStarts.append(rescanner.locate(closeOffset: offset, names: pendingNames, at: names, into: &located)
                                         ? located.tagStart : offset)
            case let .elementEnd(parserOffset, isBody, name):
                elementEnd(at: documentOffset(parserOffset: parserOffset), isBody: isBody, name: name)
            case let .conditionalComment(parserOffset, valueLength):
                conditionalComment(endingAt: parserOffset, valueLength: valueLength)
            case let .textPlaceholder(parserOffset):
                let offset = documentOffset(parserOffset: parserOffset)
                // Kept only where the document's own bytes say so (the mapping is exact for
                // ASCII-compatible text; anything else is no place for what the caller puts there).
                if offset + textPlaceholder.count <= end,
                   bytes[offset..<(offset + textPlaceholder.count)].elementsEqual(textPlaceholder) {
                    result.textPlaceholderOffsets.append(offset)
                }
            }
        }
    }

    /// Ends the scan at ``visit``'s request: nothing more is handled, and the parser (when it is
    /// still running) stops at its next check.
    func stop() {
        stopped = true
        if let context { xmlStopParser(context) }
    }

    /// The elements the scanner treats specially, told apart without allocating.
    enum ElementKind: Equatable {
        /// `a` and `area`.
        case link
        case img, head, body
        /// `title`, `textarea`, `xmp`: libxml2 parses their content as markup, browsers as text.
        case rawText
        /// `script`, `style`: text in both.
        case script
        case other

        init(_ name: UnsafePointer<xmlChar>) {
            func equals(_ literal: StaticString) -> Bool {
                let count = literal.utf8CodeUnitCount
                let p = literal.utf8Start
                // Safe: `name` is NUL-terminated and the literal has no NUL, so the loop stops at
                // the first NUL or before it; `name[count]` is read only when the bytes before it
                // (none of them NUL) matched.
                for i in 0..<count where name[i] != p[i] { return false }
                return name[count] == 0
            }
            switch name[0] {
            case UInt8(ascii: "a"): self = equals("a") || equals("area") ? .link : .other
            case UInt8(ascii: "i"): self = equals("img") ? .img : .other
            case UInt8(ascii: "h"): self = equals("head") ? .head : .other
            case UInt8(ascii: "b"): self = equals("body") ? .body : .other
            case UInt8(ascii: "t"): self = equals("title") || equals("textarea") ? .rawText : .other
            case UInt8(ascii: "x"): self = equals("xmp") ? .rawText : .other
            case UInt8(ascii: "s"): self = equals("script") || equals("style") ? .script : .other
            default: self = .other
            }
        }
    }

    static let bodyName = Array("body".utf8)

    func endElement(name: UnsafePointer<xmlChar>?) {
        guard let name else { return }
        let kind = ElementKind(name)
        switch kind {
        case .head: headDepth = max(0, headDepth - 1); return
        case .rawText: rawTextDepth = max(0, rawTextDepth - 1)
        case .script, .body: break
        case .link, .img, .other: return
        }
        guard let context else { return }
        let position = lt_xml_input_position(context)
        guard position != UInt.max else { return }
        if kind == .rawText || kind == .script, openTextElements > 0 { openTextElements -= 1 }
        let nameStart = pendingNames.count
        appendPendingName(name)
        appendPending(.elementEnd(parserOffset: Int(position), isBody: kind == .body,
                                   name: nameStart..<(pendingNames.count - 1)))
    }

    /// The end of a text element or of `body` where libxml2 reported it (see ``endElement(name:)``).
    func elementEnd(at offset: Int, isBody: Bool, name: Range<Int>) {
        if !isBody, let start = openRawTextStarts.popLast(),
           endTagStart(Array(pendingNames[name]), endingBefore: offset) == nil {
            // Closed by libxml2, not by its own end tag: at the end of the input it is unterminated.
            if offset >= end {
                unterminatedRawTextStart = min(unterminatedRawTextStart ?? start, start)
            } else {
                forcedRawTextCloseOffset = offset
            }
        }
        if isBody, result.bodyCloseOffset == nil, offset != forcedRawTextCloseOffset {
            result.bodyCloseOffset = endTagStart(Self.bodyName, endingBefore: offset)
        }
    }

    /// The offset of `<` when the bytes just before `offset` are `</name` + optional blanks + `>`.
    func endTagStart(_ name: [UInt8], endingBefore offset: Int) -> Int? {
        // libxml2 may stand on the '>' or just after it.
        var i = offset
        if i < end, bytes[i] == UInt8(ascii: ">") { i += 1 }
        guard i > 0, bytes[i - 1] == UInt8(ascii: ">") else { return nil }
        i -= 1
        while i > 0, TagRescanner.isBlank(bytes[i - 1]) { i -= 1 }
        let word = Array("</".utf8) + name
        guard i - word.count >= 0 else { return nil }
        for k in 0..<word.count where bytes[i - word.count + k].asciiLowercased != word[k] { return nil }
        return i - word.count
    }

    // MARK: - Comments

    func comment(value: UnsafePointer<xmlChar>?) {
        guard let value, let context else { return }
        let rawPosition = lt_xml_input_position(context)
        guard rawPosition != UInt.max else { return }
        let position = Int(rawPosition)
        noteEvent(parserOffset: position)
        guard headDepth == 0, rawTextDepth == 0, ConditionalCommentScanner.startsConditionalComment(value) else { return }
        appendPending(.conditionalComment(parserOffset: position, valueLength: strlen(value)))
    }

    /// A comment that starts like a conditional one, read after the parse: the markup it holds, if
    /// it is an Outlook conditional comment with an `href` in it.
    func conditionalComment(endingAt position: Int, valueLength: Int) {
        // The callback fired after "-->": find the content's start by the parser's own count, and
        // check that "<!--" stands there (libxml2 drops invalid characters from the reported value).
        // The content start is mapped first so that the position map only ever walks forward.
        let contentStart = documentOffset(parserOffset: position - 3 - valueLength)
        let offset = documentOffset(parserOffset: position)
        guard offset >= 3, offset <= end, bytes[offset - 1] == UInt8(ascii: ">"), bytes[offset - 2] == UInt8(ascii: "-"),
              bytes[offset - 3] == UInt8(ascii: "-") else { return }
        let contentEnd = offset - 3
        guard contentStart - 4 >= 0, contentStart <= contentEnd,
              bytes[contentStart - 4] == UInt8(ascii: "<"), bytes[contentStart - 3] == UInt8(ascii: "!"),
              bytes[contentStart - 2] == UInt8(ascii: "-"), bytes[contentStart - 1] == UInt8(ascii: "-")
        else { return }
        guard let markup = ConditionalCommentScanner.markup(bytes, content: contentStart..<contentEnd),
              ConditionalCommentScanner.containsHref(bytes, markup) else { return }
        if !ConditionalCommentScanner.scanMarkup(markup, with: &rescanner, visit: visit) { stop() }
    }

    // MARK: - The end of the document

    /// libxml2 swallows the rest of the document into an unterminated comment, tag or quoted value
    /// without reporting it. After the last content event (text, comment, a start tag that ended
    /// at its `>`), only complete end tags may follow: end-element events are no evidence, because
    /// libxml2 also closes open elements at the end of input. The first `<` that does not begin a
    /// complete end tag starts the swallowed construct.
    func findUnterminatedConstruct(after lastEventOffset: Int) {
        // An unclosed script, style, title, textarea or xmp swallows the rest in a browser.
        result.unterminatedConstructOffset = unterminatedRawTextStart
        var i = lastEventOffset
        while i < end {
            guard bytes[i] == UInt8(ascii: "<") else { i += 1; continue }
            if i + 2 < end, bytes[i + 1] == UInt8(ascii: "/"), TagRescanner.isASCIILetter(bytes[i + 2]) {
                var j = i + 3
                while j < end, bytes[j] != UInt8(ascii: ">") { j += 1 }
                if j < end { i = j + 1; continue }
            }
            result.unterminatedConstructOffset = min(unterminatedRawTextStart ?? i, i)
            return
        }
    }
}

private func strlen(_ p: UnsafePointer<xmlChar>) -> Int {
    // Safe: xmlChar is UInt8, laid out as CChar; libxml2's strings are NUL-terminated.
    p.withMemoryRebound(to: CChar.self, capacity: 1) { Int(Glibc.strlen($0)) }
}