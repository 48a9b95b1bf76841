import CLibXML2
import LinkTrack

/// The floor for benchmarks: libxml2's HTML SAX parse of a document with empty handlers and the
/// same options as ``HTMLRewriter``, reading the document as ISO-8859-1. Nothing is located or
/// rewritten; the result is the number of start tags, so the work cannot be optimised away.
public enum LibXML2Baseline {
    /// How the document reaches the parser.
    public enum Reading: Sendable {
        /// libxml2's own ISO-8859-1 encoding handler over the document read in place: the
        /// baseline as issue 6 defines it.
        case libxml2Handler
        /// The rewriter's own path: ``Latin1Reading`` converts and libxml2 reads UTF-8.
        case rewriterReader
    }

    public static func parse(_ document: [UInt8], reading: Reading = .libxml2Handler) -> Int {
        LibXML2Parsing.initialize()
        guard !document.isEmpty, document.count < Int(Int32.max) / 2 else { return 0 }
        // Safe: the document is not empty (checked above), and libxml2 reads it only during the parse,
        // which ends (and its context is freed) inside the closure.
        return document.withUnsafeBufferPointer { buffer -> Int in
            switch reading {
            case .libxml2Handler:
                let raw = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
                guard let ctxt = lt_html_create_static_ctxt(raw, Int32(buffer.count)) else { return 0 }
                defer { htmlFreeParserCtxt(ctxt) }
                htmlCtxtUseOptions(ctxt, LibXML2Parsing.parserOptions)
                guard let handler = xmlGetCharEncodingHandler(XML_CHAR_ENCODING_8859_1),
                      xmlSwitchToEncoding(ctxt, handler) == 0 else { return 0 }
                return run(ctxt)
            case .rewriterReader:
                return LibXML2Parsing.withParserContext(reading: buffer) { ctxt in
                    htmlCtxtUseOptions(ctxt, LibXML2Parsing.parserOptions)
                    return run(ctxt)
                } ?? 0
            }
        }
    }

    private static func run(_ ctxt: htmlParserCtxtPtr) -> Int {
        var sax = htmlSAXHandler()
        sax.initialized = 1
        sax.startElement = { ctx, _, _ in
            // Safe: `_private` points at `run`'s counter, an Int, for the whole of htmlParseDocument.
            let counter = lt_xml_ctxt_private(ctx)!.assumingMemoryBound(to: Int.self)
            counter.pointee += 1
        }
        sax.endElement = { _, _ in }
        sax.characters = { _, _, _ in }
        sax.comment = { _, _ in }
        ctxt.pointee.sax.pointee = sax
        var count = 0
        // Safe: the callbacks run only inside htmlParseDocument, within this closure.
        return withUnsafeMutablePointer(to: &count) { pointer -> Int in
            ctxt.pointee._private = UnsafeMutableRawPointer(pointer)
            _ = htmlParseDocument(ctxt)
            return pointer.pointee
        }
    }

    /// The most attributes libxml2 reports on one element of `document` (duplicates, which it drops,
    /// not counted), read as the rewriter reads it: what ``StartTagAttributeBound`` must never
    /// under-count (its tests compare the two).
    static func largestAttributeCount(_ document: [UInt8]) -> Int {
        LibXML2Parsing.initialize()
        guard !document.isEmpty else { return 0 }
        var copy = document
        for i in copy.indices where copy[i] == 0 { copy[i] = 0xFF }
        // Safe: the copy is not empty and outlives the parser context, which is freed inside the closure.
        return copy.withUnsafeBufferPointer { buffer -> Int in
            LibXML2Parsing.withParserContext(reading: buffer) { ctxt -> Int in
                htmlCtxtUseOptions(ctxt, LibXML2Parsing.parserOptions)
                var sax = htmlSAXHandler()
                sax.initialized = 1
                sax.startElement = { ctx, _, atts in
                    // Safe: `_private` points at the Int below for the whole of htmlParseDocument; libxml2's
                    // attribute array is NULL-terminated in name/value pairs.
                    let largest = lt_xml_ctxt_private(ctx)!.assumingMemoryBound(to: Int.self)
                    var n = 0
                    if let atts { while atts[2 * n] != nil { n += 1 } }
                    largest.pointee = max(largest.pointee, n)
                }
                ctxt.pointee.sax.pointee = sax
                var largest = 0
                // Safe: the callbacks run only inside htmlParseDocument, within this closure.
                return withUnsafeMutablePointer(to: &largest) { pointer -> Int in
                    ctxt.pointee._private = UnsafeMutableRawPointer(pointer)
                    _ = htmlParseDocument(ctxt)
                    return pointer.pointee
                }
            } ?? 0
        }
    }
}
