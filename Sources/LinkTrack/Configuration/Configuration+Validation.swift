// The initialisers for configurations built in code. They check what the JSON path checks, with the
// same messages, so that `customRedirectDomain: "https://links.example.com/"` is refused here as it is
// in a file (issue 16, item 9).
//
// They are `@_disfavoredOverload` so that a non-throwing initialiser of the same spelling, where one is
// declared (the library's own test fixtures build values that are valid by construction without `try`),
// wins over them; a program that links the library sees only these.

extension ConfigurationSet {
    /// A configuration set built in code, checked as a `ConfigurationSets` entry of a file is.
    ///
    /// - Parameters:
    ///   - name: `ConfigurationSetName`: 1 to 64 characters of `A-Z a-z 0-9 _ -`.
    ///   - customRedirectDomain: `TrackingOptions.CustomRedirectDomain`, a host name only (no scheme,
    ///     path or port); nil for a set that tracks nothing.
    ///   - httpsPolicy: `TrackingOptions.HttpsPolicy`.
    ///   - tracksOpens: whether opens are tracked (as an enabled event destination matching `OPEN`).
    ///   - tracksClicks: whether clicks are tracked (as an enabled event destination matching `CLICK`).
    /// - Throws: `BadRequestException` naming the field and the value, with the message a file gets.
    @_disfavoredOverload
    public init(name: String, customRedirectDomain: String?, httpsPolicy: HttpsPolicy = .optional,
                tracksOpens: Bool = true, tracksClicks: Bool = true) throws(ConfigurationError) {
        self.init(uncheckedName: name, customRedirectDomain: customRedirectDomain, httpsPolicy: httpsPolicy,
                  tracksOpens: tracksOpens, tracksClicks: tracksClicks)
        try validate(field: nil)
    }

    /// A configuration set built in code with its `EventDestinations`, from which, as in a file,
    /// opens are tracked when an enabled destination matches `OPEN` and clicks when one matches `CLICK`.
    ///
    /// - Throws: `BadRequestException` for an invalid name, domain, event type or `LinkTrackDestination`.
    public init(name: String, customRedirectDomain: String?, httpsPolicy: HttpsPolicy = .optional,
                eventDestinations: [EventDestination]) throws(ConfigurationError) {
        self.init(uncheckedName: name, customRedirectDomain: customRedirectDomain, httpsPolicy: httpsPolicy,
                  tracksOpens: eventDestinations.contains { $0.takes("OPEN") },
                  tracksClicks: eventDestinations.contains { $0.takes("CLICK") },
                  eventDestinations: eventDestinations)
        try validate(field: nil)
    }

    /// Checks every field as ``Configuration/init(document:environment:readFile:)`` does.
    /// - Parameter field: where the set stands (`ConfigurationSets[2]`), for the messages that name it.
    func validate(field: String?) throws(ConfigurationError) {
        try Configuration.validateConfigurationSetName(name)
        if let customRedirectDomain { try Configuration.validateRedirectDomain(customRedirectDomain) }
        for (i, destination) in eventDestinations.enumerated() {
            let dField = (field.map { $0 + "." } ?? "") + "EventDestinations[\(i)]"
            for type in destination.matchingEventTypes where !Configuration.eventTypes.contains(type) {
                throw .badRequest("Invalid MatchingEventTypes value \(JSONValue.quoted(type)) in \(dField).")
            }
            if let sink = destination.linkTrackDestination {
                try sink.validate(field: "\(dField).LinkTrackDestination")
            }
        }
    }
}

extension LinkTrackDestination {
    /// The checks of `Configuration.parseLinkTrackDestination` that a typed value can fail.
    func validate(field: String) throws(ConfigurationError) {
        switch self {
        case .sqlite:
            break
        case .jsonLines(let path):
            if path.isEmpty { throw .badRequest("\(field): Path is required for Type \(typeName).") }
        case .postgreSQL(let connection, let file, let variable):
            if connection.isEmpty { throw .badRequest("\(field): ConnectionString is required for Type \(typeName).") }
            guard connection.hasPrefix("postgres://") || connection.hasPrefix("postgresql://") else {
                throw .badRequest("Invalid \(field).ConnectionString value: expected postgres://user@host:port/database.")
            }
            if file != nil && variable != nil {
                throw .badRequest("\(field): give at most one of PasswordFile and PasswordEnvironmentVariable.")
            }
        case .webhook(let url, let secretFile):
            if url.isEmpty { throw .badRequest("\(field): Url is required for Type \(typeName).") }
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw .badRequest("Invalid \(field).Url value \(JSONValue.quoted(url)): expected an http or https URL.")
            }
            if secretFile.isEmpty { throw .badRequest("\(field): SecretFile is required for Type \(typeName).") }
        }
    }
}

extension Configuration {
    /// A configuration built in code, checked as a configuration file is: every set, names used once,
    /// the default set among the sets, key ids used once.
    ///
    /// - Parameters:
    ///   - configurationSets: the sets (see ``ConfigurationSet/init(name:customRedirectDomain:httpsPolicy:tracksOpens:tracksClicks:)``).
    ///   - defaultConfigurationSet: the set for mail that names none, or nil.
    ///   - signingKeys: the keys; the first one signs, all verify.
    /// - Throws: `BadRequestException` for an invalid or repeated value; `NotFoundException`
    ///   ("Configuration set <name> does not exist.") when the default set is not among the sets.
    @_disfavoredOverload
    public init(configurationSets: [ConfigurationSet], defaultConfigurationSet: String? = nil,
                signingKeys: [SigningKey]) throws(ConfigurationError) {
        var names: Set<String> = []
        for (index, set) in configurationSets.enumerated() {
            try set.validate(field: "ConfigurationSets[\(index)]")
            if !names.insert(set.name).inserted {
                throw .badRequest("ConfigurationSets[\(index)]: the name \(JSONValue.quoted(set.name)) is used twice.")
            }
        }
        if let defaultConfigurationSet, !names.contains(defaultConfigurationSet) {
            throw .notFound(configurationSet: defaultConfigurationSet)
        }
        var keyIds: Set<String> = []
        for (index, key) in signingKeys.enumerated() {
            // Checked again: a key is a plain value that only `SigningKey.init` has seen.
            _ = try SigningKey(keyId: key.keyId, secret: key.secret)
            if !keyIds.insert(key.keyId).inserted {
                throw .badRequest("SigningKeys[\(index)]: the KeyId \(JSONValue.quoted(key.keyId)) is used twice.")
            }
        }
        self.init(uncheckedConfigurationSets: configurationSets, defaultConfigurationSet: defaultConfigurationSet,
                  signingKeys: signingKeys)
    }
}

extension SigningKey {
    /// A key from the base64 text of its secret, as `linktrack keygen` prints it in `"Secret"` and as
    /// `SecretFile` and `SecretEnvironmentVariable` hold it (blanks around it are ignored).
    ///
    /// - Throws: `BadRequestException` for an invalid key id, text that is not base64, or a secret
    ///   shorter than 32 bytes.
    public init(keyId: String, base64Secret: String) throws(ConfigurationError) {
        try Self.validate(keyId: keyId)
        guard let secret = Self.decodeSecret(base64Secret) else {
            throw .badRequest("SigningKey (KeyId \(keyId)): the secret is not valid base64.")
        }
        try self.init(keyId: keyId, secret: secret)
    }

    /// The bytes of a secret's base64 text, or nil when the text is empty or not base64.
    static func decodeSecret(_ text: String) -> [UInt8]? {
        let trimmed = Array(text.utf8).trimmingASCIIWhitespace()
        guard !trimmed.isEmpty else { return nil }
        return try? Base64.decode(Array(trimmed)).bytes
    }
}
