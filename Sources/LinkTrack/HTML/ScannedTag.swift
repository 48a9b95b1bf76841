/// The attributes the scan tells apart while it reads a tag, so that no name is copied.
enum AttributeKind: Sendable, Equatable {
    case href, src
    /// The attribute at this index of ``ScannerVocabulary/attributes``.
    case listed(Int)
    case other
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
    /// but libxml2 parses as markup.
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
    /// Every attribute of ``ScannerVocabulary/attributes``, duplicates included, in the order
    /// written (usually none: no allocation).
    var listedAttributes: [ScannedAttribute]
    var context: TagContext

    /// A tag that stands nowhere, for a caller to rescan into (``TagRescanner/rescan(from:limit:into:)``).
    static var empty: ScannedTag {
        ScannedTag(nameRange: 0..<0, isImage: false, tagStart: 0, tagEnd: 0, href: nil, src: nil, listedAttributes: [],
                   context: .body)
    }

    /// The first attribute of that kind (a later duplicate is ignored, as libxml2 and browsers do).
    func attribute(_ kind: AttributeKind) -> ScannedAttribute? {
        switch kind {
        case .href: href
        case .src: src
        case .listed: listedAttributes.first { !$0.isDuplicate && $0.kind == kind }
        case .other: nil
        }
    }
}
