/// An attribute that another email service's templates put on a link to keep it untracked, honoured
/// like `ses:no-track` when a set's `HonorOtherOptOutAttributes` is on (issue 21, item 3).
///
/// Names compare ASCII case-insensitively, as HTML attribute names do. A required value compares
/// with the attribute's value after the caller has decoded its character references, with ASCII
/// whitespace around it trimmed and ASCII case ignored (`clicktracking="OFF"` opts out too: for an
/// opt-out, reading the author's intent generously is the safe side). An attribute without a
/// required value counts by its presence alone, whatever its value.
package struct OptOutAttribute: Sendable, Equatable {
    /// The attribute's name, lowercase.
    package var name: [UInt8]
    /// The value it must have, lowercase; nil when its presence is enough.
    package var requiredValue: [UInt8]?
    /// The service whose templates use it, for reports.
    package var service: String

    package init(name: String, requiredValue: String? = nil, service: String) {
        self.name = Array(name.utf8).map(\.asciiLowercased)
        self.requiredValue = requiredValue.map { Array($0.utf8).map(\.asciiLowercased) }
        self.service = service
    }

    /// Whether an attribute named `name` (raw bytes, any case) with the decoded `value` (nil for an
    /// attribute written without `=`) is this opt-out.
    package func matches(name: some Collection<UInt8>, value: [UInt8]?) -> Bool {
        guard name.count == self.name.count, zip(name, self.name).allSatisfy({ $0.asciiLowercased == $1 }) else {
            return false
        }
        guard let requiredValue else { return true }
        guard let value else { return false }
        let trimmed = value.trimmingASCIIWhitespace()
        return trimmed.count == requiredValue.count && zip(trimmed, requiredValue).allSatisfy { $0.asciiLowercased == $1 }
    }
}

/// The opt-out attributes of other services that LinkTrack honours.
package enum OptOutAttributes {
    /// SendGrid `clicktracking=off`, Postmark `data-pm-no-track`, Mandrill `mc:disable-tracking`,
    /// SparkPost `data-msys-clicktrack="0"`.
    package static let otherServices: [OptOutAttribute] = [
        OptOutAttribute(name: "clicktracking", requiredValue: "off", service: "SendGrid"),
        OptOutAttribute(name: "data-pm-no-track", service: "Postmark"),
        OptOutAttribute(name: "mc:disable-tracking", service: "Mandrill"),
        OptOutAttribute(name: "data-msys-clicktrack", requiredValue: "0", service: "SparkPost"),
    ]

    /// The first of ``otherServices`` that an attribute is, or nil.
    package static func match(name: some Collection<UInt8>, value: [UInt8]?) -> OptOutAttribute? {
        otherServices.first { $0.matches(name: name, value: value) }
    }
}
