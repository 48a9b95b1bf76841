/// Why a link was not tracked.
public enum UntrackedReason: Sendable, Equatable, CustomStringConvertible {
    /// A scheme other than http and https (`mailto`, `tel`, `javascript`, ...).
    case scheme(String)
    /// `#fragment`.
    case fragment
    /// A relative or scheme-relative reference.
    case relative
    /// An http(s) URL that is not valid as written (unencoded space, `{`, `|`, no host, ...).
    case invalidURL(String)
    /// `ses:no-track` is on the anchor.
    case noTrack
    /// Another service's opt-out attribute is on the anchor (its name: SendGrid, Postmark, ...) and
    /// the set honours them (``LinkTrackOptions/honorOtherOptOutAttributes``).
    case otherOptOut(service: String)
    /// The destination is one of the message's `List-Unsubscribe` URLs
    /// (``LinkTrackOptions/trackUnsubscribeLinks`` is off).
    case unsubscribeLink
    /// The destination's host is one of the set's ``LinkTrackOptions/excludedDomains``.
    case excludedDomain
    /// The link already points at the configuration set's redirect domain.
    case alreadyTracked
    /// The tracking URL would exceed ``LinkSigner/maximumURLLength``; the destination's length.
    case tooLong(Int)
    /// In `<head>`.
    case inHead
    /// In `<title>`, `<textarea>` or `<xmp>`, whose content browsers show as text.
    case inRawText
    /// The configuration set does not track clicks.
    case clicksNotTracked
    /// Raw non-ASCII bytes in a link of a document whose charset is not UTF-8: the destination's
    /// characters cannot be known exactly.
    case nonASCII(charset: String)
    /// The tag could not be located byte-exactly.
    case unlocated
    /// A URL in a `text/plain` part whose tracking URL would not be read whole by mail clients'
    /// linkifiers (it would not end in a letter, digit or percent-escape, or would hold a raw
    /// bracket or quote; ``TextLinkSafety``).
    case unsafeInText
    /// A URL in a `text/plain` part whose tracking URL would make its line longer than this many
    /// octets (RFC 5322 §2.1.1).
    case lineTooLong(limit: Int)
    /// A link in an HTML part of a set whose `TrackLinksIn` is `TEXT`: only text parts' links are tracked.
    case htmlLinksNotTracked

    public var description: String {
        switch self {
        case .scheme(let s): return "scheme \(s): is not tracked"
        case .fragment: return "fragment link"
        case .relative: return "relative link"
        case .invalidURL(let why): return "not a valid URL: \(why)"
        case .noTrack: return "ses:no-track"
        case .otherOptOut(let service): return "\(service)'s opt-out attribute"
        case .unsubscribeLink: return "a List-Unsubscribe URL of the message"
        case .excludedDomain: return "an excluded domain"
        case .alreadyTracked: return "already a tracking link on the redirect domain"
        case .tooLong(let n): return "the tracking URL for this \(n)-byte destination would exceed 2048 bytes"
        case .inHead: return "in <head>"
        case .inRawText: return "in <title>, <textarea> or <xmp>"
        case .clicksNotTracked: return "the configuration set does not track clicks"
        case .nonASCII(let charset): return "raw non-ASCII bytes in a \(charset) document"
        case .unlocated: return "the tag could not be located exactly"
        case .unsafeInText: return "its tracking URL would not be read whole by mail clients' linkifiers"
        case .lineTooLong(let limit): return "its tracking URL would make its line longer than \(limit) octets"
        case .htmlLinksNotTracked: return "TrackLinksIn is TEXT: links in HTML parts are not tracked"
        }
    }
}

/// What happened to one link.
///
/// The texts are kept as the bytes they come from and turned into strings only when read: a
/// newsletter has thousands of links, and most reports are never printed.
public struct LinkReport: Sendable, Equatable {
    /// The element (`a`, `area`, `v:roundrect`, ...).
    public var element: String
    /// The href value's bytes as written in the document: a slice of the document, sharing its
    /// storage (a report keeps the document alive rather than copying every value).
    public var originalBytes: ArraySlice<UInt8>
    /// The offset of the href value in the HTML document.
    public var documentOffset: Int
    /// The bytes written in place of the original value when the link is tracked: the tracking URL,
    /// HTML-escaped, in quotes when the original value had none. (The same buffer as the edit's.)
    public var writtenValue: [UInt8]?
    /// The position among the tracked links, when tracked.
    public var linkIndex: Int?
    /// Why it was not tracked, when not.
    public var untrackedReason: UntrackedReason?
    /// Whether the link was inside an Outlook conditional comment.
    public var inConditionalComment: Bool

    /// The href value as written in the document.
    public var original: String { String(decoding: originalBytes, as: UTF8.self) }
    /// The value's bytes after character-reference decoding and trimming.
    public var destinationBytes: [UInt8] {
        var bytes = CharacterReference.decodeAttributeValue(originalBytes)
        bytes.trimASCIIWhitespace()
        return bytes
    }
    /// The value after character-reference decoding and trimming.
    public var destination: String { String(decoding: destinationBytes, as: UTF8.self) }
    /// The tracking URL written in place of the original, or nil.
    public var trackingURL: String? { trackingURLBytes.map { String(decoding: $0, as: UTF8.self) } }

    /// The tracking URL's bytes (``writtenValue`` without added quotes and HTML escaping), or nil.
    public var trackingURLBytes: [UInt8]? {
        guard var value = writtenValue else { return nil }
        // A tracking URL never starts with a quote: one there was added around an unquoted value.
        if value.first == UInt8(ascii: "\"") { value = Array(value.dropFirst().dropLast()) }
        return HTMLEscaping.unescapeAttributeValue(value)
    }

    public var isTracked: Bool { writtenValue != nil }
}

/// Where the open pixel went.
public enum PixelPlacement: String, Sendable, Equatable {
    case placeholder = "at the {{ses:openTracker}} placeholder"
    case beforeBodyClose = "before </body>"
    case endOfDocument = "at the end of the document"
    case beforeUnterminatedConstruct = "before an unterminated construct at the end of the document"
}

/// What happened to the open pixel.
public enum PixelOutcome: Sendable, Equatable {
    case inserted(PixelPlacement, documentOffset: Int)
    case opensNotTracked
    case alreadyPresent
    case emptyDocument
    case notProcessed
}

/// The account of one HTML rewrite.
public struct HTMLRewriteReport: Sendable, Equatable {
    public var links: [LinkReport] = []
    public var pixel: PixelOutcome = .notProcessed
    /// Things an operator should know (malformed `ses:tags`, Gmail clipping, ...).
    public var warnings: [HTMLWarning] = []
    /// Set when the document was returned untouched as a whole, with the reason.
    public var untouchedReason: DocumentUntouchedReason?

    public var trackedLinkCount: Int { links.lazy.filter(\.isTracked).count }

    public init() {}
}

/// The result of ``HTMLRewriter/rewrite(_:charset:context:)``.
public struct HTMLRewriteResult: Sendable {
    /// The rewritten document.
    public var output: [UInt8]
    /// The edits that turned the input into ``output``, in the input's offsets.
    public var edits: EditList
    public var report: HTMLRewriteReport
}

extension HTMLRewriteReport {
    /// The tracking URLs written into the document, in document order, which is link-index order
    /// (the first is link 0); each verifies with ``LinkSigner/decode(_:)``. Empty when the report was
    /// made without per-link entries (`reportingLinks: false`).
    public var trackingURLs: [String] { links.compactMap(\.trackingURL) }
}

extension FilterReport {
    /// The tracking URLs written into the message, part by part in message order (see
    /// ``HTMLRewriteReport/trackingURLs``), for the parts and links the report lists (``Limits``
    /// bounds how many a report holds).
    public var trackingURLs: [String] { parts.flatMap { ($0.html?.trackingURLs ?? []) + ($0.text?.trackingURLs ?? []) } }
}
