/// The tracking settings of one SES-style configuration set.
public struct ConfigurationSet: Sendable, Equatable {
    /// `ConfigurationSetName`.
    public var name: String
    /// `TrackingOptions.CustomRedirectDomain`; without it the set tracks nothing and mail passes unchanged.
    public var customRedirectDomain: String?
    /// `TrackingOptions.HttpsPolicy`; `OPTIONAL` when absent.
    public var httpsPolicy: HttpsPolicy
    /// Whether an enabled event destination matches `OPEN` (true when the set has no `EventDestinations`).
    public var tracksOpens: Bool
    /// Whether an enabled event destination matches `CLICK` (true when the set has no `EventDestinations`).
    public var tracksClicks: Bool
    /// `EventDestinations` as written (empty when the set has none, which tracks both kinds and
    /// records them in the embedded SQLite store).
    public var eventDestinations: [EventDestination] = []

    public init(name: String, customRedirectDomain: String?, httpsPolicy: HttpsPolicy = .optional,
                tracksOpens: Bool = true, tracksClicks: Bool = true) {
        self.name = name
        self.customRedirectDomain = customRedirectDomain
        self.httpsPolicy = httpsPolicy
        self.tracksOpens = tracksOpens
        self.tracksClicks = tracksClicks
    }

    /// Whether mail sent through this set is rewritten at all.
    public var tracksAnything: Bool {
        customRedirectDomain != nil && (tracksOpens || tracksClicks)
    }
}

/// A key for signing tracking tokens. The first key of a configuration signs; all of them verify.
public struct SigningKey: Sendable, Equatable {
    /// `KeyId`: 1 to 32 characters of `[A-Za-z0-9_-]`; it travels in every token.
    public var keyId: String
    /// The secret, at least 32 bytes.
    public var secret: [UInt8]

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
/// the SES API validates `PutConfigurationSetTrackingOptions`.
public struct Configuration: Sendable, Equatable {
    public var configurationSets: [ConfigurationSet]
    public var defaultConfigurationSet: String?
    /// The signing keys; the first one signs.
    public var signingKeys: [SigningKey]

    public init(configurationSets: [ConfigurationSet], defaultConfigurationSet: String? = nil, signingKeys: [SigningKey]) {
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
