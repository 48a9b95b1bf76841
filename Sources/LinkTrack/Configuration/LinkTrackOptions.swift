/// A configuration set's `LinkTrackOptions`: what LinkTrack does beyond SES's `TrackingOptions`
/// (issue 21). Absent, every field has its default.
public struct LinkTrackOptions: Sendable, Equatable {
    /// `TrackUnsubscribeLinks`: whether a link to a URL of the message's `List-Unsubscribe` header
    /// is tracked like any other. Default false: such links stay untouched.
    public internal(set) var trackUnsubscribeLinks: Bool = false
    /// `ExcludedDomains`: hosts whose links are never tracked. Default empty.
    public internal(set) var excludedDomains = ExcludedDomains()
    /// `HonorOtherOptOutAttributes`: whether other services' opt-out attributes (``OptOutAttributes``)
    /// keep a link untracked as `ses:no-track` does. Default false.
    public internal(set) var honorOtherOptOutAttributes: Bool = false
    /// `TrackLinksIn`: which parts' links are tracked. Default `HTML`.
    public internal(set) var trackLinksIn: TrackLinksIn = .html

    /// The defaults: what a set without `LinkTrackOptions` gets.
    public init() {}

    /// Options built in code, checked as a file's are.
    /// - Throws: `BadRequestException` for an excluded domain that is not a host name or wildcard.
    public init(trackUnsubscribeLinks: Bool = false, excludedDomains: [String] = [],
                honorOtherOptOutAttributes: Bool = false, trackLinksIn: TrackLinksIn = .html) throws(ConfigurationError) {
        self.trackUnsubscribeLinks = trackUnsubscribeLinks
        self.excludedDomains = try Configuration.parseExcludedDomains(excludedDomains)
        self.honorOtherOptOutAttributes = honorOtherOptOutAttributes
        self.trackLinksIn = trackLinksIn
    }

    /// Whether these are the defaults (the filter's HTML path has nothing new to do).
    public var isDefault: Bool { self == LinkTrackOptions() }
}

/// `LinkTrackOptions.TrackLinksIn`: the parts whose links are tracked (Postmark's HtmlOnly,
/// HtmlAndText, TextOnly). Opens are tracked in HTML parts whatever it says: with `TEXT`, HTML parts
/// still get the open pixel and their links stay as written. With text tracking on, the tracked
/// links of all parts of a message share one index sequence.
public enum TrackLinksIn: String, Sendable, Equatable, CaseIterable {
    case html = "HTML"
    case htmlAndText = "HTML_AND_TEXT"
    case text = "TEXT"

    public var tracksHTML: Bool { self != .text }
    public var tracksText: Bool { self != .html }
}

extension Configuration {
    static let linkTrackOptionsKeys: Set<String> = [
        "TrackUnsubscribeLinks", "ExcludedDomains", "HonorOtherOptOutAttributes", "TrackLinksIn",
    ]

    /// Parses a set's `LinkTrackOptions` object.
    static func parseLinkTrackOptions(_ value: JSONValue, field: String) throws(ConfigurationError) -> LinkTrackOptions {
        _ = try object(value, field: field, allowed: linkTrackOptionsKeys)
        func bool(_ key: String) throws(ConfigurationError) -> Bool? {
            guard let v = value[key] else { return nil }
            guard case .bool(let b) = v else { throw wrongType(field: "\(field).\(key)", expected: "boolean", value: v) }
            return b
        }
        var options = LinkTrackOptions()
        if let b = try bool("TrackUnsubscribeLinks") { options.trackUnsubscribeLinks = b }
        if let b = try bool("HonorOtherOptOutAttributes") { options.honorOtherOptOutAttributes = b }
        if let v = value["ExcludedDomains"] {
            guard case .array(let items) = v else {
                throw wrongType(field: "\(field).ExcludedDomains", expected: "array", value: v)
            }
            var entries: [String] = []
            for item in items {
                guard case .string(let s) = item else {
                    throw wrongType(field: "\(field).ExcludedDomains", expected: "array of strings", value: item)
                }
                entries.append(s)
            }
            options.excludedDomains = try parseExcludedDomains(entries)
        }
        if let s = try string(value["TrackLinksIn"], field: "\(field).TrackLinksIn") {
            options.trackLinksIn = try parseTrackLinksIn(s)
        }
        return options
    }

    /// Validates `ExcludedDomains` entries: host names (`partner.example`) or wildcard domains
    /// (`*.bank.example`, `.bank.example`), with Unicode or `xn--` labels.
    static func parseExcludedDomains(_ entries: [String]) throws(ConfigurationError) -> ExcludedDomains {
        do {
            return try ExcludedDomains(entries: entries)
        } catch {
            throw .badRequest("Invalid ExcludedDomains value \(JSONValue.quoted(error.entry)): \(error.reason).")
        }
    }

    /// Validates a `TrackLinksIn` value.
    static func parseTrackLinksIn(_ value: String) throws(ConfigurationError) -> TrackLinksIn {
        guard let parsed = TrackLinksIn(rawValue: value) else {
            throw .badRequest("Invalid TrackLinksIn value \(JSONValue.quoted(value)): expected one of HTML, HTML_AND_TEXT, TEXT.")
        }
        return parsed
    }
}
