/// Which scheme tracking URLs use, as SES's `TrackingOptions.HttpsPolicy` defines it.
public enum HttpsPolicy: String, Sendable, CaseIterable {
    /// Open pixel `https`, every click link `https`.
    case require = "REQUIRE"
    /// Open pixel `https`; each click link keeps the scheme of the link it replaces.
    case requireOpenOnly = "REQUIRE_OPEN_ONLY"
    /// Open pixel `http`; each click link keeps the scheme of the link it replaces. The default.
    case optional = "OPTIONAL"

    /// A tracking URL's scheme.
    public enum Scheme: String, Sendable {
        case http, https
    }

    /// The scheme of the open pixel's URL.
    public var openScheme: Scheme {
        switch self {
        case .require, .requireOpenOnly: return .https
        case .optional: return .http
        }
    }

    /// The scheme of a click URL that replaces a link whose own scheme is `original`.
    public func clickScheme(original: Scheme) -> Scheme {
        switch self {
        case .require: return .https
        case .requireOpenOnly, .optional: return original
        }
    }
}
