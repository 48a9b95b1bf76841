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

    /// ``scannerVocabulary`` and the opt-out attributes of other services
    /// (``OptOutAttributes/otherServices``), for a set with
    /// ``LinkTrackOptions/honorOtherOptOutAttributes``: obeyed and removed like `ses:no-track`.
    static let scannerVocabularyWithOtherServices = ScannerVocabulary(
        attributes: scannerVocabulary.attributes + OptOutAttributes.otherServices.map {
            ScannerVocabulary.Attribute(name: String(decoding: $0.name, as: UTF8.self),
                                        requiredValue: $0.requiredValue.map { String(decoding: $0, as: UTF8.self) })
        },
        textPlaceholder: PixelTag.placeholder)

    /// The other service's opt-out attribute that `kind` is, or nil (SES's own, or not listed).
    static func otherServiceOptOut(_ kind: AttributeKind) -> OptOutAttribute? {
        guard case .listed(let index) = kind, index >= SESAttribute.allCases.count else { return nil }
        return OptOutAttributes.otherServices[index - SESAttribute.allCases.count]
    }
}
