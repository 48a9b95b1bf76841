/// What happened to one URL of a `text/plain` part.
public struct TextLinkReport: Sendable, Equatable {
    /// The URL as the finder read it: the pieces of a wrapped URL joined, brackets outside.
    public var urlBytes: [UInt8]
    /// The offset of its first byte in the decoded body.
    public var decodedOffset: Int
    /// The tracking URL written in its place, when tracked.
    public var trackingURLBytes: [UInt8]?
    /// The position among the message's tracked links, when tracked.
    public var linkIndex: Int?
    /// Why it was not tracked, when not.
    public var untrackedReason: UntrackedReason?

    init(url: [UInt8], decodedOffset: Int) {
        self.urlBytes = url
        self.decodedOffset = decodedOffset
    }

    public var url: String { String(decoding: urlBytes, as: UTF8.self) }
    public var trackingURL: String? { trackingURLBytes.map { String(decoding: $0, as: UTF8.self) } }
    public var isTracked: Bool { trackingURLBytes != nil }
}

/// The account of one `text/plain` rewrite (issue 21, item 4).
public struct TextRewriteReport: Sendable, Equatable {
    public var links: [TextLinkReport] = []
    /// Set when the body was left untouched as a whole, with the reason.
    public var untouchedReason: DocumentUntouchedReason?

    public var trackedLinkCount: Int { links.lazy.filter(\.isTracked).count }
    /// The tracking URLs written into the body, in body order, which is link-index order.
    public var trackingURLs: [String] { links.compactMap(\.trackingURL) }

    public init() {}
}
