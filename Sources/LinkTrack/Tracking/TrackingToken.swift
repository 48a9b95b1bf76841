/// A tag carried in a tracking token: an `ses:tags` link tag or an `X-SES-MESSAGE-TAGS` message tag.
/// Names and values are 1 to 256 characters of `[0-9A-Za-z_-]`, as SES allows.
public struct Tag: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Whether `text` is a valid tag name or value.
    public static func isValidComponent<S: StringProtocol>(_ text: S) -> Bool {
        let bytes = text.utf8
        return !bytes.isEmpty && bytes.count <= 256
            && bytes.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }
}

/// What a click link carries.
public struct ClickToken: Sendable, Hashable {
    /// The destination exactly as written in the HTML after character-reference decoding and trimming.
    public var destination: String
    /// The message's `Message-ID`, without the enclosing angle brackets.
    public var messageId: String
    public var configurationSet: String
    /// The link's position among the tracked links of its document, from 0.
    public var linkIndex: Int
    /// Tags from the anchor's `ses:tags` attribute, in written order.
    public var linkTags: [Tag]
    /// Tags from the message's `X-SES-MESSAGE-TAGS` header, in written order.
    public var messageTags: [Tag]

    public init(destination: String, messageId: String, configurationSet: String, linkIndex: Int,
                linkTags: [Tag] = [], messageTags: [Tag] = []) {
        self.destination = destination
        self.messageId = messageId
        self.configurationSet = configurationSet
        self.linkIndex = linkIndex
        self.linkTags = linkTags
        self.messageTags = messageTags
    }
}

/// What the open pixel carries.
public struct OpenToken: Sendable, Hashable {
    public var messageId: String
    public var configurationSet: String
    public var messageTags: [Tag]

    public init(messageId: String, configurationSet: String, messageTags: [Tag] = []) {
        self.messageId = messageId
        self.configurationSet = configurationSet
        self.messageTags = messageTags
    }
}

/// A verified tracking token.
public enum TrackingToken: Sendable, Hashable {
    case click(ClickToken)
    case open(OpenToken)

    /// One line of JSON, as `linktrack decode` prints it.
    public var jsonLine: String {
        func tags(_ list: [Tag]) -> String {
            "{" + list.map { JSONValue.quoted($0.name) + ":" + JSONValue.quoted($0.value) }.joined(separator: ",") + "}"
        }
        switch self {
        case .click(let t):
            return "{\"kind\":\"click\",\"url\":\(JSONValue.quoted(t.destination)),\"messageId\":\(JSONValue.quoted(t.messageId)),"
                + "\"configurationSet\":\(JSONValue.quoted(t.configurationSet)),\"linkIndex\":\(t.linkIndex),"
                + "\"tags\":\(tags(t.linkTags)),\"messageTags\":\(tags(t.messageTags))}"
        case .open(let t):
            return "{\"kind\":\"open\",\"messageId\":\(JSONValue.quoted(t.messageId)),"
                + "\"configurationSet\":\(JSONValue.quoted(t.configurationSet)),\"messageTags\":\(tags(t.messageTags))}"
        }
    }
}

/// Why a tracking URL was refused.
public struct TokenError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Reason: Sendable, Equatable {
        case malformed(String)
        case unknownVersion(String)
        case unknownKey(String)
        case badSignature
    }

    let reason: Reason

    public static func malformed(_ why: String) -> TokenError { TokenError(reason: .malformed(why)) }
    public static func unknownVersion(_ version: String) -> TokenError { TokenError(reason: .unknownVersion(version)) }
    public static func unknownKey(_ keyId: String) -> TokenError { TokenError(reason: .unknownKey(keyId)) }
    public static let badSignature = TokenError(reason: .badSignature)

    /// The kind of refusal, for callers that branch on it (the server counts bad tokens by kind).
    public enum Kind: Sendable, Hashable {
        case malformed, unknownVersion, unknownKey, badSignature
    }

    public var kind: Kind {
        switch reason {
        case .malformed: return .malformed
        case .unknownVersion: return .unknownVersion
        case .unknownKey: return .unknownKey
        case .badSignature: return .badSignature
        }
    }

    public var description: String {
        switch reason {
        case .malformed(let why): return "not a LinkTrack tracking URL: \(why)"
        case .unknownVersion(let v): return "unknown token version \(v)"
        case .unknownKey(let k): return "unknown signing key id \(k)"
        case .badSignature: return "the signature does not match (the URL was altered or signed with another key)"
        }
    }
}
