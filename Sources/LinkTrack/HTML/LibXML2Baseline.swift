import CLibXML2

/// The floor for benchmarks: libxml2's HTML SAX parse of a document with empty handlers and the
/// same options, forced ISO-8859-1 reading and in-place input that ``HTMLRewriter`` uses. Nothing is located or
/// rewritten; the result is the number of start tags, so the work cannot be optimised away.
public enum LibXML2Baseline {
    public static func parse(_ document: [UInt8]) -> Int {
        _ = HTMLScanner.initialized
        guard !document.isEmpty, document.count < Int(Int32.max) else { return 0 }
        return document.withUnsafeBufferPointer { buffer -> Int in
            let raw = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            guard let ctxt = lt_html_create_static_ctxt(raw, Int32(buffer.count)) else { return 0 }
            defer { htmlFreeParserCtxt(ctxt) }
            htmlCtxtUseOptions(ctxt, HTMLScanner.parserOptions)
            guard let handler = xmlGetCharEncodingHandler(XML_CHAR_ENCODING_8859_1),
                  xmlSwitchToEncoding(ctxt, handler) == 0 else { return 0 }
            var sax = htmlSAXHandler()
            sax.initialized = 1
            sax.startElement = { ctx, _, _ in
                let counter = lt_xml_ctxt_private(ctx)!.assumingMemoryBound(to: Int.self)
                counter.pointee += 1
            }
            sax.endElement = { _, _ in }
            sax.characters = { _, _, _ in }
            sax.comment = { _, _ in }
            ctxt.pointee.sax.pointee = sax
            var count = 0
            return withUnsafeMutablePointer(to: &count) { pointer -> Int in
                ctxt.pointee._private = UnsafeMutableRawPointer(pointer)
                _ = htmlParseDocument(ctxt)
                return pointer.pointee
            }
        }
    }
}
