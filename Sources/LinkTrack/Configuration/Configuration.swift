/// The tracking settings of one SES-style configuration set.
///
/// Every value is valid: the initialisers check each field with the rules and messages of the JSON
/// path (``Configuration/init(json:environment:readFile:)``), and the properties cannot be set from
/// outside the library.
public struct ConfigurationSet: Sendable, Equatable {
    /// `ConfigurationSetName`.
    public internal(set) var name: String
    /// `TrackingOptions.CustomRedirectDomain`; without it the set tracks nothing and mail passes unchanged.
    public internal(set) var customRedirectDomain: String?
    /// `TrackingOptions.HttpsPolicy`; `OPTIONAL` when absent.
    public internal(set) var httpsPolicy: HttpsPolicy
    /// Whether an enabled event destination matches `OPEN` (true when the set has no `EventDestinations`).
    public internal(set) var tracksOpens: Bool
    /// Whether an enabled event destination matches `CLICK` (true when the set has no `EventDestinations`).
    public internal(set) var tracksClicks: Bool
    /// `EventDestinations` as written (empty when the set has none, which tracks both kinds and
    /// records them in the embedded SQLite store).
    public internal(set) var eventDestinations: [EventDestination] = []
    /// `LinkTrackOptions`: LinkTrack's rules beyond SES (the defaults when the set has none).
    public internal(set) var linkTrackOptions = LinkTrackOptions()

    /// A set whose fields the caller has validated (the JSON parser) or that a test builds.
    init(uncheckedName name: String, customRedirectDomain: String?, httpsPolicy: HttpsPolicy = .optional,
         tracksOpens: Bool = true, tracksClicks: Bool = true, eventDestinations: [EventDestination] = [],
         linkTrackOptions: LinkTrackOptions = LinkTrackOptions()) {
        self.name = name
        self.customRedirectDomain = customRedirectDomain
        self.httpsPolicy = httpsPolicy
        self.tracksOpens = tracksOpens
        self.tracksClicks = tracksClicks
        self.eventDestinations = eventDestinations
        self.linkTrackOptions = linkTrackOptions
    }

    /// Whether mail sent through this set is rewritten at all.
    public var tracksAnything: Bool {
        customRedirectDomain != nil && (tracksOpens || tracksClicks)
    }
}

/// A key for signing tracking tokens. The first key of a configuration signs; all of them verify.
public struct SigningKey: Sendable, Equatable {
    /// `KeyId`: 1 to 32 characters of `[A-Za-z0-9_-]`; it travels in every token.
    public internal(set) var keyId: String
    /// The secret, at least 32 bytes.
    public internal(set) var secret: [UInt8]

    public init(keyId: String, secret: [UInt8]) throws(ConfigurationError) {
        try Self.validate(keyId: keyId)
        guard secret.count >= 32 else {
            throw .badRequest("SigningKeys: the secret of key \(keyId) is \(secret.count) bytes long; at least 32 bytes are required.")
        }
        self.keyId = keyId
        self.secret = secret
    }

    static func validate(keyId: String) throws(ConfigurationError) {
        let bytes = Array(keyId.utf8)
        let valid = !bytes.isEmpty && bytes.count <= 32 && bytes.allSatisfy { b in
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
        guard valid else {
            throw .badRequest("Invalid KeyId value \(JSONValue.quoted(keyId)): use 1 to 32 characters of A-Z, a-z, 0-9, '_' and '-'.")
        }
    }
}

/// A LinkTrack configuration: the SES v2 configuration sets plus the signing keys.
///
/// Load it with ``Configuration/init(json:environment:readFile:)``, which validates every field the way
/// the SES API validates `PutConfigurationSetTrackingOptions`, or build it in code with
/// ``Configuration/init(configurationSets:defaultConfigurationSet:signingKeys:)``, which checks the
/// same rules and throws the same errors.
public struct Configuration: Sendable, Equatable {
    public internal(set) var configurationSets: [ConfigurationSet]
    public internal(set) var defaultConfigurationSet: String?
    /// The signing keys; the first one signs.
    public internal(set) var signingKeys: [SigningKey]

    /// A configuration whose parts the caller has validated (the JSON parser) or that a test builds.
    init(uncheckedConfigurationSets configurationSets: [ConfigurationSet], defaultConfigurationSet: String? = nil,
         signingKeys: [SigningKey]) {
        self.configurationSets = configurationSets
        self.defaultConfigurationSet = defaultConfigurationSet
        self.signingKeys = signingKeys
    }

    /// The configuration set named `name`.
    /// - Throws: `NotFoundException` ("Configuration set <name> does not exist.").
    public func configurationSet(named name: String) throws(ConfigurationError) -> ConfigurationSet {
        guard let set = configurationSets.first(where: { $0.name == name }) else {
            throw .notFound(configurationSet: name)
        }
        return set
    }
}
