import CLibXML2
#if canImport(Glibc)
import Glibc
#endif

/// The attributes LinkTrack reads, told apart while scanning so that no name is copied.
enum AttributeKind: Sendable, Equatable {
    case href, src, sesNoTrack, sesTags, other
}

/// One attribute of a start tag, located in the scanned document's bytes.
struct ScannedAttribute: Sendable, Equatable {
    var kind: AttributeKind
    /// Where the whitespace before the name starts (equal to `nameRange.lowerBound` when there is none).
    var leadingWhitespaceStart: Int
    var nameRange: Range<Int>
    /// The value's bytes, without quotes; nil for an attribute written without `=`.
    var valueRange: Range<Int>?
    /// `"` or `'`, or nil for an unquoted (or absent) value.
    var quote: UInt8?
    /// From the first byte of the name to the last byte of the value, closing quote included.
    var fullRange: Range<Int>
    /// A later attribute of the same name; libxml2 and browsers ignore it.
    var isDuplicate: Bool
}

/// Where a start tag stands, which decides whether its links may be tracked.
enum TagContext: Sendable, Equatable {
    case body
    /// Inside `<head>`.
    case head
    /// Inside `<title>`, `<textarea>` or `<xmp>`, whose content browsers show as text
    /// but libxml2 parses as markup (LIBXML2-NOTES).
    case rawText
    /// Inside an Outlook conditional comment (`<!--[if mso]> ... <![endif]-->`).
    case conditionalComment
}

/// A start tag of interest, with its attributes located byte-exactly.
struct ScannedTag: Sendable, Equatable {
    /// The element name as written (libxml2 reports it lowercased).
    var nameRange: Range<Int>
    /// `<img>`, read for an existing open pixel.
    var isImage: Bool
    /// Offset of the tag's `<`.
    var tagStart: Int
    /// Offset of the tag's closing `>` (or of the `/` of `/>`).
    var tagEnd: Int
    /// The first `href` and `src` (a later duplicate is ignored, as libxml2 and browsers do).
    var href: ScannedAttribute?
    var src: ScannedAttribute?
    /// Every `ses:no-track` and `ses:tags`, duplicates included (usually none: no allocation).
    var sesAttributes: [ScannedAttribute]
    var context: TagContext

    /// The first attribute of that kind (a later duplicate is ignored, as libxml2 and browsers do).
    func attribute(_ kind: AttributeKind) -> ScannedAttribute? {
        switch kind {
        case .href: href
        case .src: src
        case .sesNoTrack, .sesTags: sesAttributes.first { !$0.isDuplicate && $0.kind == kind }
        case .other: nil
        }
    }
}

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
    /// Where `{{ses:openTracker}}` stands in body text that renders (not in a tag, comment, script,
    /// style, `<head>`, `<title>`, `<textarea>` or `<xmp>`): the places the open pixel may go.
    var textPlaceholderOffsets: [Int] = []
}

/// The only user of libxml2: runs its HTML SAX parser over a document and locates, byte-exactly, the
/// tags LinkTrack cares about.
///
/// How positions are recovered (see LIBXML2-NOTES):
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
        let reader = Latin1Reading(bytes)
        return withExtendedLifetime(reader) { () -> Result? in
            guard let ctxt = lt_html_create_pull_ctxt(Latin1Reading.read, Unmanaged.passUnretained(reader).toOpaque())
            else { return nil }
            defer { htmlFreeParserCtxt(ctxt) }
            // Declared, or the parser would guess an encoding at the first byte >= 0x80 and
            // convert the UTF-8 again.
            guard xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8) == 0 else { return nil }
            return body(ctxt)
        }
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
    /// - Throws: ``Failure`` when libxml2 cannot be set up for the document (before any visit).
    static func scan(_ document: [UInt8], visit: (ScannedTag) -> Bool) throws(Failure) -> HTMLScan {
        try document.withUnsafeBufferPointer { buffer in Result { () throws(Failure) in try scan(buffer, visit: visit) } }.get()
    }

    /// ``scan(_:visit:)`` of bytes held elsewhere (a mapped file), valid for the call.
    static func scan(_ document: UnsafeBufferPointer<UInt8>, visit: (ScannedTag) -> Bool) throws(Failure) -> HTMLScan {
        _ = initialized
        guard document.count < Int(Int32.max) / 2 else { throw .documentTooLarge(document.count) }
        // The parser stops at NUL: parse a copy with NUL replaced when there is one (rare).
        if let base = document.baseAddress, memchr(base, 0, document.count) != nil {
            var copy = Array(document)
            for i in copy.indices where copy[i] == 0 { copy[i] = 0xFF }
            return try copy.withUnsafeBufferPointer { buffer in
                Result { () throws(Failure) in try scanBytes(buffer, visit: visit) }
            }.get()
        }
        return try scanBytes(document, visit: visit)
    }

    private static func scanBytes(_ buffer: UnsafeBufferPointer<UInt8>, visit: (ScannedTag) -> Bool) throws(Failure) -> HTMLScan {
        let result = withoutActuallyEscaping(visit) { visit -> HTMLScan? in
            // The state, and with it `visit`, does not outlive this call.
            let state = ScanState(bytes: buffer, visit: visit)
            guard state.run() else { return nil }
            return state.result
        }
        guard let result else { throw .parserUnavailable }
        return result
    }

    @inline(__always) static func isBlank(_ b: UInt8) -> Bool { byteClasses.utf8Start[Int(b)] & blank != 0 }
    @inline(__always) static func isNameStart(_ b: UInt8) -> Bool { byteClasses.utf8Start[Int(b)] & nameStart != 0 }
    @inline(__always) static func isNameCharacter(_ b: UInt8) -> Bool { byteClasses.utf8Start[Int(b)] & nameCharacter != 0 }

    /// Bits of ``byteClasses``.
    static let blank: UInt8 = 1
    static let nameStart: UInt8 = 2
    static let nameCharacter: UInt8 = 4
    /// For each byte, the classes it belongs to in libxml2's tag rules (`htmlParseHTMLName`,
    /// `IS_BLANK_CH`): ``blank`` for space, tab, LF and CR; ``nameStart`` for ASCII letters, `_`, `:`
    /// and `.`; ``nameCharacter`` for ASCII letters and digits, `:`, `-`, `_` and `.`. A static
    /// string, so that the table is read in place on every tag byte (checked against those rules in
    /// the tests).
    static let byteClasses: StaticString = "\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{1}\u{1}\u{0}\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{4}\u{6}\u{0}\u{4}\u{4}\u{4}\u{4}\u{4}\u{4}\u{4}\u{4}\u{4}\u{4}\u{6}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{0}\u{0}\u{0}\u{0}\u{6}\u{0}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}"

    /// The code point of an HTML 4 named character reference (without `&` and `;`), from libxml2's table.
    static func namedCharacterReference(_ name: ArraySlice<UInt8>) -> UInt32? {
        var cName = Array(name)
        cName.append(0)
        guard let entity = cName.withUnsafeBufferPointer({ htmlEntityLookup($0.baseAddress) }) else { return nil }
        return UInt32(entity.pointee.value)
    }
}

/// The per-parse state that libxml2's callbacks reach through `ctxt->_private`.
///
/// Its mutable fields are `@exclusivity(unchecked)`: they are touched only from the one thread that
/// runs the parse, never through overlapping accesses, and the dynamic checks cost a runtime call
/// on every access in callbacks that run thousands of times per document.
private final class ScanState {
    /// The bytes being parsed: the whole (NUL-replaced) document.
    let bytes: UnsafeBufferPointer<UInt8>
    let end: Int
    @exclusivity(unchecked) var context: htmlParserCtxtPtr?
    @exclusivity(unchecked) var result = HTMLScan()

    // Position mapping: parser (UTF-8) offset <-> document offset, moved forward after the parse.
    @exclusivity(unchecked) var mappedParserOffset = 0
    /// The attributes of the tag last re-scanned, all of them (kept to reuse its storage).
    @exclusivity(unchecked) var scannedAttributes: [ScannedAttribute] = []
    @exclusivity(unchecked) var mappedDocumentOffset: Int

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

    /// Receives each tag of interest (see ``HTMLScanner/scan(_:visit:)``).
    let visit: (ScannedTag) -> Bool
    /// What the callbacks recorded, handled in the order it was reported, a batch of
    /// ``HTMLScanner/pendingBatchSize`` at a time and the rest after the parse: the tags are located
    /// and handed to ``visit`` then, in document order. Doing the per-tag and per-link work (mapping
    /// offsets, re-scanning tags, decoding, signing, escaping) in runs rather than inside each
    /// callback keeps libxml2's code and data in the caches while it parses: measured with
    /// `linktrack-ratio`, visiting after the parse made the whole rewrite about 5 % faster than
    /// visiting from the callbacks, and the rest of the deferral a little more.
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
        /// `{{ses:openTracker}}` in rendered body text, as the parser's text reported it.
        case textPlaceholder(parserOffset: Int)
    }

    init(bytes: UnsafeBufferPointer<UInt8>, visit: @escaping (ScannedTag) -> Bool) {
        self.bytes = bytes
        self.visit = visit
        self.end = bytes.count
        self.mappedDocumentOffset = 0
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
        // The context is released by `defer` above, after htmlParseDocument returns; the callbacks
        // only run inside that call, so the unretained reference cannot outlive `self`.
        ctxt.pointee._private = Unmanaged.passUnretained(self).toOpaque()
        _ = htmlParseDocument(ctxt)
        context = nil
        finishPending()
        result.stopped = stopped
    }

    /// Runs `body` with the state behind `ctxt->_private`, without retaining it: `run()` keeps the
    /// state alive for the whole parse, and the callbacks only fire inside it.
    static func with(_ ctx: UnsafeMutableRawPointer?, _ body: (ScanState) -> Void) {
        Unmanaged<ScanState>.fromOpaque(lt_xml_ctxt_private(ctx)!)._withUnsafeGuaranteedRef(body)
    }

    /// Maps a parser offset (UTF-8 of the ISO-8859-1 reading) to a document offset, walking on
    /// from the last one mapped (after the parse, in the order of ``pending``).
    func documentOffset(parserOffset target: Int) -> Int {
        var cursor = (parser: mappedParserOffset, document: mappedDocumentOffset)
        defer { (mappedParserOffset, mappedDocumentOffset) = cursor }
        return documentOffset(parserOffset: target, cursor: &cursor)
    }

    /// Maps a parser offset to a document offset, walking from `cursor` (a pair of offsets that
    /// correspond), which is left at the result: each walk over the document's bytes goes on from
    /// the last, so a run of increasing offsets costs one pass in all.
    func documentOffset(parserOffset target: Int, cursor: inout (parser: Int, document: Int)) -> Int {
        // Locals, so that the walk runs in registers rather than through the object.
        var parserOffset = cursor.parser
        var documentOffset = cursor.document
        defer { cursor = (parserOffset, documentOffset) }
        guard let start = bytes.baseAddress else { return 0 }
        // Whole blocks of bytes while the target lies at or past a block's end: each byte >= 0x80
        // counts twice. A block is measured before it is taken, so the bytes left for the loops
        // below are fewer than a block's parser bytes.
        let raw = UnsafeRawPointer(start)
        let top: UInt64 = 0x8080_8080_8080_8080
        // Thirty-two bytes at a time: the top bits of four words, each moved to the bottom of its
        // byte, add up without carries (at most 4 per byte), and one multiplication sums the bytes
        // into the top byte (no popcount instruction needed).
        while parserOffset + 32 <= target, documentOffset + 32 <= end {
            let a = raw.loadUnaligned(fromByteOffset: documentOffset, as: UInt64.self)
            let b = raw.loadUnaligned(fromByteOffset: documentOffset + 8, as: UInt64.self)
            let c = raw.loadUnaligned(fromByteOffset: documentOffset + 16, as: UInt64.self)
            let d = raw.loadUnaligned(fromByteOffset: documentOffset + 24, as: UInt64.self)
            let high = (a & top) >> 7 &+ (b & top) >> 7 &+ (c & top) >> 7 &+ (d & top) >> 7
            let step = 32 + Int((high &* 0x0101_0101_0101_0101) >> 56)
            guard parserOffset + step <= target else { break }
            parserOffset += step
            documentOffset += 32
        }
        while parserOffset + 8 <= target, documentOffset + 8 <= end {
            let word = raw.loadUnaligned(fromByteOffset: documentOffset, as: UInt64.self)
            let step = 8 + Int((((word & top) >> 7) &* 0x0101_0101_0101_0101) >> 56)
            guard parserOffset + step <= target else { break }
            parserOffset += step
            documentOffset += 8
        }
        while parserOffset < target, documentOffset < end {
            parserOffset += start[documentOffset] >= 0x80 ? 2 : 1
            documentOffset += 1
        }
        while parserOffset > target, documentOffset > 0 {
            documentOffset -= 1
            parserOffset -= start[documentOffset] >= 0x80 ? 2 : 1
        }
        return documentOffset
    }

    /// Text: an event, and where it holds `{{ses:openTracker}}` in rendered body text.
    func characters(_ text: UnsafePointer<xmlChar>?, length: Int) {
        noteEvent()
        let placeholder = PixelTag.placeholderText
        guard let text, length >= placeholder.utf8CodeUnitCount, headDepth == 0, rawTextDepth == 0,
              openTextElements == 0, let context else { return }
        let rawPosition = lt_xml_input_position(context)
        guard rawPosition != UInt.max else { return }
        // Text reaches this callback without references (libxml2 reports those apart), so the
        // chunk's bytes are the parser's input bytes just before its position.
        let chunkStart = Int(rawPosition) - length
        var k = 0
        while k + placeholder.utf8CodeUnitCount <= length,
              let hit = memchr(text + k, Int32(UInt8(ascii: "{")), length - k) {
            k = UnsafeRawPointer(text).distance(to: UnsafeRawPointer(hit))
            guard k + placeholder.utf8CodeUnitCount <= length else { break }
            if memcmp(text + k, placeholder.utf8Start, placeholder.utf8CodeUnitCount) == 0 {
                appendPending(.textPlaceholder(parserOffset: chunkStart + k))
                k += placeholder.utf8CodeUnitCount
            } else {
                k += 1
            }
        }
    }

    /// A `<!DOCTYPE ...>`: content, when it ended at its `>`. libxml2 reports one that runs to the end
    /// of the document as well (`htmlParseDocTypeDecl` skips to a `>` that is not there); that one
    /// swallows the rest, so it is left to ``findUnterminatedConstruct(after:)``, which puts the
    /// pixel before it rather than inside it (fuzz finding crash-438af3ec).
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
        for item in pending {
            guard !stopped else { return }
            switch item {
            case let .startTag(parserOffset, isImage, context, names):
                let offset = documentOffset(parserOffset: parserOffset)
                guard offset < end else { continue }
                guard var located = locate(names: names, closeOffset: offset) else {
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
                openRawTextStarts.append(locate(names: names, closeOffset: offset)?.tagStart ?? offset)
            case let .elementEnd(parserOffset, isBody, name):
                elementEnd(at: documentOffset(parserOffset: parserOffset), isBody: isBody, name: name)
            case let .conditionalComment(parserOffset, valueLength):
                conditionalComment(endingAt: parserOffset, valueLength: valueLength)
            case let .textPlaceholder(parserOffset):
                let offset = documentOffset(parserOffset: parserOffset)
                let placeholder = PixelTag.placeholderText
                // Kept only where the document's own bytes say so (the mapping is exact for
                // ASCII-compatible text; anything else is not a place for the pixel).
                if offset + placeholder.utf8CodeUnitCount <= end,
                   memcmp(bytes.baseAddress! + offset, placeholder.utf8Start, placeholder.utf8CodeUnitCount) == 0 {
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
        while i > 0, Self.isBlank(bytes[i - 1]) { i -= 1 }
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
        guard headDepth == 0, rawTextDepth == 0, Self.startsConditionalComment(value) else { return }
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
        guard let inner = Self.conditionalCommentMarkup(bytes, contentStart..<contentEnd) else { return }
        // Most conditional comments hold table scaffolding: only read markup that can hold an href.
        guard Self.containsHref(bytes, inner) else { return }
        scanConditionalMarkup(inner)
    }

    /// Finds the tags with an `href` in the markup of a conditional comment, which libxml2 reports
    /// only as comment text.
    ///
    /// The markup is read as an HTML fragment with the same tag rules as ``rescan(from:limit:)``
    /// (libxml2's `htmlParseStartTag`): nested comments, `<!...>`, `<?...>` and end tags are skipped,
    /// and the content of `<script>` and `<style>` is text. An unterminated construct ends the
    /// scan, as it would swallow the rest of the fragment. (An earlier version ran a second libxml2
    /// parser over each such comment; on a newsletter with 2,000 comments that cost more than a
    /// quarter of the whole rewrite, for the same tags.)
    func scanConditionalMarkup(_ inner: Range<Int>) {
        let limit = inner.upperBound
        var i = inner.lowerBound
        while let lt = index(of: UInt8(ascii: "<"), from: i, limit: limit) {
            i = lt
            guard i + 1 < limit else { return }
            let next = bytes[i + 1]
            if next == UInt8(ascii: "!"), i + 3 < limit, bytes[i + 2] == UInt8(ascii: "-"), bytes[i + 3] == UInt8(ascii: "-") {
                guard let close = commentEnd(from: i + 4, limit: limit) else { return }
                i = close
            } else if next == UInt8(ascii: "!") || next == UInt8(ascii: "?") || next == UInt8(ascii: "/") {
                guard let close = index(of: UInt8(ascii: ">"), from: i + 2, limit: limit) else { return }
                i = close + 1
            } else if Self.isASCIILetter(next) {
                guard var tag = rescan(from: i, limit: limit) else { return }
                i = tag.tagEnd + 1
                if let name = rawTextElementName(tag.nameRange) {
                    // Text up to the matching end tag.
                    guard let close = endTag(name, from: i, limit: limit) else { return }
                    i = close
                    continue
                }
                guard tag.attribute(.href) != nil else { continue }
                tag.context = .conditionalComment
                if !visit(tag) { return stop() }
            } else {
                i += 1
            }
        }
    }

    static let endifMarker: StaticString = "<![endif]"

    /// Whether `range` holds `href` in any case.
    static func containsHref(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        var i = range.lowerBound
        while i + 4 <= range.upperBound {
            // Skip eight bytes at once when none of them is `h` or `H` (only 0x48 and 0x68 give
            // 0x68 when OR-ed with 0x20); otherwise try each of those eight positions.
            if i + 8 <= range.upperBound {
                let x = (raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) | 0x2020_2020_2020_2020)
                    ^ 0x6868_6868_6868_6868
                if (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                    continue
                }
            }
            let stop = min(i + 8, range.upperBound - 3)
            while i < stop {
                if bytes[i] | 0x20 == UInt8(ascii: "h"), bytes[i + 1] | 0x20 == UInt8(ascii: "r"),
                   bytes[i + 2] | 0x20 == UInt8(ascii: "e"), bytes[i + 3] | 0x20 == UInt8(ascii: "f") { return true }
                i += 1
            }
        }
        return false
    }

    /// The first index of `byte` in `start..<limit`.
    func index(of byte: UInt8, from start: Int, limit: Int) -> Int? {
        guard start < limit else { return nil }
        // Safe: start..<limit lies within `bytes`, whose base address is not nil when count > 0.
        guard let found = memchr(bytes.baseAddress! + start, Int32(byte), limit - start) else { return nil }
        return start + (UnsafeRawPointer(found) - UnsafeRawPointer(bytes.baseAddress! + start))
    }

    /// The index just after the `-->` that ends a comment whose content starts at `start`.
    func commentEnd(from start: Int, limit: Int) -> Int? {
        var i = start
        while let gt = index(of: UInt8(ascii: ">"), from: i, limit: limit) {
            if gt - 2 >= start, bytes[gt - 1] == UInt8(ascii: "-"), bytes[gt - 2] == UInt8(ascii: "-") { return gt + 1 }
            i = gt + 1
        }
        return nil
    }

    /// `script` or `style` when `range` names one (their content is text).
    func rawTextElementName(_ range: Range<Int>) -> StaticString? {
        func named(_ name: StaticString) -> Bool {
            guard name.utf8CodeUnitCount == range.count else { return false }
            for k in 0..<range.count where bytes[range.lowerBound + k].asciiLowercased != name.utf8Start[k] { return false }
            return true
        }
        if named(Self.script) { return Self.script }
        if named(Self.style) { return Self.style }
        return nil
    }

    // Static strings, not arrays: constant memory, with no reference count for threads to share.
    static let script: StaticString = "script"
    static let style: StaticString = "style"

    /// The index just after the `>` of the first `</name` ... `>` at or after `start`.
    func endTag(_ staticName: StaticString, from start: Int, limit: Int) -> Int? {
        let name = UnsafeBufferPointer(start: staticName.utf8Start, count: staticName.utf8CodeUnitCount)
        var i = start
        while let lt = index(of: UInt8(ascii: "<"), from: i, limit: limit) {
            i = lt + 1
            guard lt + 2 + name.count <= limit, bytes[lt + 1] == UInt8(ascii: "/") else { continue }
            var same = true
            for k in 0..<name.count where bytes[lt + 2 + k].asciiLowercased != name[k] { same = false; break }
            guard same else { continue }
            guard let gt = index(of: UInt8(ascii: ">"), from: lt + 2 + name.count, limit: limit) else { return nil }
            return gt + 1
        }
        return nil
    }

    /// Whether a comment's text starts with `[if` and a blank (after blanks), as a conditional
    /// comment does: the cheap test that spares every other comment the position mapping.
    static func startsConditionalComment(_ value: UnsafePointer<xmlChar>) -> Bool {
        var i = 0
        while isBlank(value[i]) { i += 1 }
        // Each test stops at the terminating NUL, so no read goes past it.
        return value[i] == UInt8(ascii: "[") && value[i + 1] | 0x20 == UInt8(ascii: "i")
            && value[i + 2] | 0x20 == UInt8(ascii: "f") && isBlank(value[i + 3])
    }

    /// For `[if ...]> markup <![endif]`, the range of `markup`; nil for any other comment.
    static func conditionalCommentMarkup(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int>? {
        var i = range.lowerBound
        while i < range.upperBound, isBlank(bytes[i]) { i += 1 }
        guard range.upperBound - i >= 4, bytes[i] == UInt8(ascii: "["),
              bytes[i + 1].asciiLowercased == UInt8(ascii: "i"), bytes[i + 2].asciiLowercased == UInt8(ascii: "f"),
              isBlank(bytes[i + 3]) else { return nil }
        // The condition ends at the first "]>".
        var start: Int?
        var j = i + 4
        while j + 1 < range.upperBound {
            if bytes[j] == UInt8(ascii: "]"), bytes[j + 1] == UInt8(ascii: ">") { start = j + 2; break }
            j += 1
        }
        guard let start else { return nil }
        // The markup ends at the last "<![endif]".
        let endif = UnsafeBufferPointer(start: endifMarker.utf8Start, count: endifMarker.utf8CodeUnitCount)
        var k = range.upperBound - endif.count
        while k >= start {
            guard bytes[k] == UInt8(ascii: "<") else { k -= 1; continue }
            var match = true
            for m in 0..<endif.count where bytes[k + m].asciiLowercased != endif[m] { match = false; break }
            if match { return start..<k }
            k -= 1
        }
        return nil
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
            if i + 2 < end, bytes[i + 1] == UInt8(ascii: "/"), Self.isASCIILetter(bytes[i + 2]) {
                var j = i + 3
                while j < end, bytes[j] != UInt8(ascii: ">") { j += 1 }
                if j < end { i = j + 1; continue }
            }
            result.unterminatedConstructOffset = min(unterminatedRawTextStart ?? i, i)
            return
        }
    }

    // MARK: - Locating a start tag

    /// Finds the `<` of the tag whose `>` is at `closeOffset` and re-scans its attributes; the scan
    /// must end at that `>` and give the attribute names libxml2 reported, in order.
    /// - Parameter names: the element's name and its attributes' names as libxml2 reported them,
    ///   in ``pendingNames``.
    func locate(names: Range<Int>, closeOffset: Int) -> ScannedTag? {
        var searchEnd = closeOffset
        var attempts = 0
        while attempts < 64, let candidate = lastIndex(of: UInt8(ascii: "<"), before: searchEnd) {
            if matchesName(names.lowerBound, at: candidate + 1) {
                attempts += 1
                if let tag = rescan(from: candidate), tag.tagEnd == closeOffset, sameNames(names) {
                    return tag
                }
            }
            searchEnd = candidate
        }
        return nil
    }

    /// The last index of `byte` before `end`.
    func lastIndex(of byte: UInt8, before end: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        let pattern = UInt64(byte) &* 0x0101_0101_0101_0101
        // Safe: every read lies in 0..<i with i <= bytes.count.
        var i = min(end, bytes.count)
        // Eight bytes at a time while none of them is `byte`.
        while i >= 8 {
            let x = raw.loadUnaligned(fromByteOffset: i - 8, as: UInt64.self) ^ pattern
            if (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080 != 0 { break }
            i -= 8
        }
        while i > 0 {
            i -= 1
            if base[i] == byte { return i }
        }
        return nil
    }

    /// Whether the attributes of the tag last re-scanned (duplicates left out) are libxml2's, name
    /// for name.
    /// - Parameter names: the element's name, then libxml2's attribute names, in ``pendingNames``.
    func sameNames(_ names: Range<Int>) -> Bool {
        // Past the element's name.
        var k = names.lowerBound
        while pendingNames[k] != 0 { k += 1 }
        k += 1
        for attribute in scannedAttributes where !attribute.isDuplicate {
            guard k < names.upperBound else { return false }
            for b in attribute.nameRange {
                guard pendingNames[k] == bytes[b].asciiLowercased else { return false }
                k += 1
            }
            guard pendingNames[k] == 0 else { return false }
            k += 1
        }
        return k == names.upperBound
    }

    /// Whether the document at `offset` holds the name that starts at `nameStart` in
    /// ``pendingNames`` (libxml2 reports it lowercased), followed by a byte that ends a name.
    func matchesName(_ nameStart: Int, at offset: Int) -> Bool {
        var k = 0
        while pendingNames[nameStart + k] != 0 {
            guard offset + k < end, bytes[offset + k].asciiLowercased == pendingNames[nameStart + k] else { return false }
            k += 1
        }
        let after = offset + k
        return after == end || !Self.isNameCharacter(bytes[after])
    }

    /// The kind of the attribute whose name is at `range`.
    func attributeKind(_ range: Range<Int>) -> AttributeKind {
        // The four names have four different lengths; static strings, so nothing is retained.
        let candidate: AttributeKind
        let name: StaticString
        switch range.count {
        case 4: (candidate, name) = (.href, "href")
        case 3: (candidate, name) = (.src, "src")
        case 12: (candidate, name) = (.sesNoTrack, "ses:no-track")
        case 8: (candidate, name) = (.sesTags, "ses:tags")
        default: return .other
        }
        let expected = name.utf8Start
        var k = 0
        for b in range {
            guard bytes[b].asciiLowercased == expected[k] else { return .other }
            k += 1
        }
        return candidate
    }

    func sameName(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        for k in 0..<a.count where bytes[a.lowerBound + k].asciiLowercased != bytes[b.lowerBound + k].asciiLowercased { return false }
        return true
    }

    /// `htmlParseStartTag`'s reading of the tag starting at `start` (the `<`), within `limit`
    /// (the document's end by default; a conditional comment's markup ends earlier).
    func rescan(from start: Int, limit: Int? = nil) -> ScannedTag? {
        let end = limit ?? self.end
        var i = start + 1
        guard let nameRange = htmlName(at: &i, limit: end) else { return nil }
        // The storage of the previous scan, reused: no allocation per tag.
        var attributes = scannedAttributes
        scannedAttributes = []
        attributes.removeAll(keepingCapacity: true)
        defer { scannedAttributes = attributes }
        skipBlanks(&i, limit: end)
        while i < end {
            let c = bytes[i]
            if c == UInt8(ascii: ">") { break }
            if c == UInt8(ascii: "/"), i + 1 < end, bytes[i + 1] == UInt8(ascii: ">") { break }
            if let attrName = htmlName(at: &i, limit: end) {
                skipBlanks(&i, limit: end)
                var valueRange: Range<Int>?
                var quote: UInt8?
                var fullEnd = attrName.upperBound
                if i < end, bytes[i] == UInt8(ascii: "=") {
                    i += 1
                    skipBlanks(&i, limit: end)
                    if i < end, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") {
                        let q = bytes[i]
                        // unterminated: swallows the rest
                        guard let j = index(of: q, from: i + 1, limit: end) else { return nil }
                        valueRange = (i + 1)..<j
                        quote = q
                        i = j + 1
                        fullEnd = i
                    } else {
                        let valueStart = i
                        while i < end, bytes[i] != UInt8(ascii: ">"), !Self.isBlank(bytes[i]) { i += 1 }
                        valueRange = valueStart..<i
                        fullEnd = i
                    }
                }
                let duplicate = attributes.contains { sameName($0.nameRange, attrName) }
                attributes.append(ScannedAttribute(
                    kind: attributeKind(attrName), leadingWhitespaceStart: blanksBefore(attrName.lowerBound, after: nameRange.upperBound),
                    nameRange: attrName,
                    valueRange: valueRange, quote: quote, fullRange: attrName.lowerBound..<fullEnd,
                    isDuplicate: duplicate))
            } else {
                // libxml2 drops a bogus attribute up to the next blank or the end of the tag.
                while i < end, !Self.isBlank(bytes[i]), bytes[i] != UInt8(ascii: ">"),
                      !(bytes[i] == UInt8(ascii: "/") && i + 1 < end && bytes[i + 1] == UInt8(ascii: ">")) { i += 1 }
            }
            skipBlanks(&i, limit: end)
        }
        guard i < end else { return nil }
        var tag = ScannedTag(nameRange: nameRange, isImage: false, tagStart: start, tagEnd: i,
                             href: nil, src: nil, sesAttributes: [], context: .body)
        for attribute in attributes {
            switch attribute.kind {
            case .href: if tag.href == nil && !attribute.isDuplicate { tag.href = attribute }
            case .src: if tag.src == nil && !attribute.isDuplicate { tag.src = attribute }
            case .sesNoTrack, .sesTags: tag.sesAttributes.append(attribute)
            case .other: break
            }
        }
        return tag
    }

    /// The start of the blanks just before `offset` (not before `floor`): what goes with an attribute
    /// that is removed. The blanks after a valueless attribute are the ones libxml2 skipped while
    /// looking for its `=`, so they are found by looking back, not by the scan position.
    func blanksBefore(_ offset: Int, after floor: Int) -> Int {
        var start = offset
        while start > floor, Self.isBlank(bytes[start - 1]) { start -= 1 }
        return start
    }

    /// `htmlParseHTMLName`: a letter, `_`, `:` or `.`, then letters, digits, `:`, `-`, `_`, `.`;
    /// at most 100 characters (libxml2 cuts longer names).
    func htmlName(at i: inout Int, limit end: Int) -> Range<Int>? {
        guard i < end, Self.isNameStart(bytes[i]) else { return nil }
        let start = i
        while i < end, i - start < 100, Self.isNameCharacter(bytes[i]) { i += 1 }
        return start..<i
    }

    func skipBlanks(_ i: inout Int, limit end: Int) {
        while i < end, Self.isBlank(bytes[i]) { i += 1 }
    }

    static func isBlank(_ b: UInt8) -> Bool { HTMLScanner.isBlank(b) }
    static func isASCIILetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    static func isNameStart(_ b: UInt8) -> Bool { HTMLScanner.isNameStart(b) }
    static func isNameCharacter(_ b: UInt8) -> Bool { HTMLScanner.isNameCharacter(b) }
}

private func strlen(_ p: UnsafePointer<xmlChar>) -> Int {
    p.withMemoryRebound(to: CChar.self, capacity: 1) { Int(Glibc.strlen($0)) }
}
