/// The words of a sender's own markup that the scan looks for beyond HTML's: attributes that carry
/// instructions to the tracker (an opt-out, tags for a link) and a placeholder in body text.
///
/// The rewriter builds it with its words and hands it to ``HTMLScanner``; nothing under `HTML/`
/// knows any of them. Attributes are a list, each with an optional required value, because the
/// opt-outs of different senders differ in both: some are a bare name, others a name with one
/// value meaning "off".
struct ScannerVocabulary: Sendable {
    /// An attribute the scan reports on each tag it hands over, as ``AttributeKind/listed(_:)``.
    struct Attribute: Sendable, Equatable {
        /// The name, stored ASCII-lowercased; matched without regard to ASCII case, as HTML names are.
        let name: [UInt8]
        /// When set, the attribute is reported only with this value (stored ASCII-lowercased),
        /// compared with its value as written after character references are decoded, without
        /// regard to ASCII case; with any other value, or none, it is an ordinary attribute. When
        /// nil, the attribute is reported whatever its value, and without one.
        let requiredValue: [UInt8]?

        init(name: String, requiredValue: String? = nil) {
            self.name = name.utf8.map(\.asciiLowercased)
            self.requiredValue = requiredValue.map { $0.utf8.map(\.asciiLowercased) }
        }
    }

    /// The listed attributes; each is reported as ``AttributeKind/listed(_:)`` with its index here.
    let attributes: [Attribute]
    /// Text that marks a place in the body; where it stands in text that renders is reported in
    /// ``HTMLScan/textPlaceholderOffsets``. Empty: none is looked for.
    let textPlaceholder: [UInt8]
    /// Bit `n` is set when a listed name is `n` bytes long (bit 63: 63 bytes or more), so that the
    /// scan passes over most attributes with one test rather than a walk over the list.
    let nameLengths: UInt64

    /// - Parameters:
    ///   - attributes: the attributes to report, in the order that gives their indices.
    ///   - textPlaceholder: the placeholder to find in body text; empty for none.
    init(attributes: [Attribute] = [], textPlaceholder: [UInt8] = []) {
        self.attributes = attributes
        self.textPlaceholder = textPlaceholder
        var lengths: UInt64 = 0
        for attribute in attributes { lengths |= Self.lengthBit(attribute.name.count) }
        self.nameLengths = lengths
    }

    /// The bit of ``nameLengths`` for a name of `count` bytes.
    @inline(__always) static func lengthBit(_ count: Int) -> UInt64 {
        1 << UInt64(min(count, 63))
    }
}
