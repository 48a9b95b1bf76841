import CLibXML2

/// The libxml2 adapter's parser set-up, for the libxml2 baseline in LinkTrackTooling (the
/// benchmarks' floor): the same options and the same reading of the document as the rewriter's.
package enum LibXML2Parsing {
    /// Initializes libxml2 once per process, before any parse.
    package static func initialize() {
        _ = HTMLScanner.initialized
    }

    /// The HTML parser options the rewriter parses with.
    package static var parserOptions: Int32 { HTMLScanner.parserOptions }

    /// Runs `body` with a parser context reading `bytes` as the rewriter reads them (ISO-8859-1
    /// converted to UTF-8); nil when libxml2 cannot make one.
    /// - Warning: the context must not escape `body`.
    package static func withParserContext<Result>(reading bytes: UnsafeBufferPointer<UInt8>,
                                                  _ body: (htmlParserCtxtPtr) -> Result) -> Result? {
        HTMLScanner.withParserContext(reading: bytes, body)
    }
}
