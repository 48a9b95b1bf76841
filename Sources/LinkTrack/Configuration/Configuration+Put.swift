extension Configuration {
    /// Does to a configuration document what SES v2's `PutConfigurationSetTrackingOptions` does to a
    /// configuration set: validates the request, then replaces the set's `TrackingOptions` with exactly
    /// the fields given (a field left out is removed, as with the API's PUT). Everything else in the
    /// document, including member order, stays as it was.
    ///
    /// - Parameters:
    ///   - document: the parsed configuration file.
    ///   - name: `ConfigurationSetName`.
    ///   - customRedirectDomain: the new `CustomRedirectDomain`, or nil to remove it.
    ///   - httpsPolicy: the new `HttpsPolicy` as written, or nil to remove it (meaning `OPTIONAL`).
    /// - Returns: the updated document.
    /// - Throws: `BadRequestException` for an invalid domain, policy or document; `NotFoundException`
    ///   when no set has that name.
    ///
    /// Secrets held in files or environment variables are not read by default (the shell that edits
    /// the file need not hold them): their sources are checked for shape only.
    public static func putConfigurationSetTrackingOptions(
        document: JSONValue, configurationSetName name: String,
        customRedirectDomain: String?, httpsPolicy: String?,
        environment: (String) -> String? = Self.placeholderSecretEnvironment,
        readFile: (String) throws -> [UInt8] = Self.placeholderSecretFile
    ) throws(ConfigurationError) -> JSONValue {
        if let customRedirectDomain { try validateRedirectDomain(customRedirectDomain) }
        if let httpsPolicy { _ = try parseHttpsPolicy(httpsPolicy) }
        // The document must be valid before and after; this also finds the set.
        _ = try Configuration(document: document, environment: environment, readFile: readFile)

        guard case .object(var top) = document,
              let setsIndex = top.firstIndex(where: { $0.key == "ConfigurationSets" }),
              case .array(var sets) = top[setsIndex].value,
              let setIndex = sets.firstIndex(where: { $0["ConfigurationSetName"] == .string(name) }),
              case .object(var members) = sets[setIndex]
        else {
            throw .notFound(configurationSet: name)
        }
        var options: [(key: String, value: JSONValue)] = []
        if let customRedirectDomain { options.append(("CustomRedirectDomain", .string(customRedirectDomain))) }
        if let httpsPolicy { options.append(("HttpsPolicy", .string(httpsPolicy))) }
        if let i = members.firstIndex(where: { $0.key == "TrackingOptions" }) {
            members[i].value = .object(options)
        } else {
            let after = (members.firstIndex(where: { $0.key == "ConfigurationSetName" }) ?? -1) + 1
            members.insert(("TrackingOptions", .object(options)), at: after)
        }
        sets[setIndex] = .object(members)
        top[setsIndex].value = .array(sets)
        let updated = JSONValue.object(top)
        _ = try Configuration(document: updated, environment: environment, readFile: readFile)
        return updated
    }

    /// Stands in for secrets from files and variables when only the document's shape is validated.
    public static func placeholderSecretEnvironment(_ name: String) -> String? { placeholderSecret }
    public static func placeholderSecretFile(_ path: String) throws -> [UInt8] { Array(placeholderSecret.utf8) }
    static let placeholderSecret = Base64Text.encode([UInt8](repeating: 0x5A, count: 32))
}
