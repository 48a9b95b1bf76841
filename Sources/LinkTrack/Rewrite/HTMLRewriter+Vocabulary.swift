extension HTMLRewriter {
    /// The attributes of SES's markup that the rewriter obeys on a link, then removes (the reader
    /// never sees them). Each case's raw value is its index in ``scannerVocabulary``'s list.
    enum SESAttribute: Int, CaseIterable, Sendable {
        /// `ses:no-track`: the link is left untracked, whatever the attribute's value.
        case noTrack
        /// `ses:tags="key:value;..."`: tags for the link's click events.
        case tags

        /// The name as SES documents it.
        var name: String {
            switch self {
            case .noTrack: "ses:no-track"
            case .tags: "ses:tags"
            }
        }

        /// How the scan reports it.
        var kind: AttributeKind { .listed(rawValue) }
    }

    /// SES's words, handed to ``HTMLScanner``: the attributes above and `{{ses:openTracker}}`, the
    /// placeholder SES replaces with the open pixel.
    static let scannerVocabulary = ScannerVocabulary(
        attributes: SESAttribute.allCases.map { ScannerVocabulary.Attribute(name: $0.name) },
        textPlaceholder: PixelTag.placeholder)
}
