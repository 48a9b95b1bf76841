extension Configuration {
    /// `linktrack put-configuration-set-linktrack-options` on a configuration document: validates
    /// the request, then replaces the set's `LinkTrackOptions` with exactly the fields given (a field
    /// left out is removed and takes its default, the PUT semantics of
    /// ``putConfigurationSetTrackingOptions(document:configurationSetName:customRedirectDomain:httpsPolicy:environment:readFile:)``).
    /// A new member goes after `TrackingOptions`, else after `ConfigurationSetName`.
    ///
    /// - Parameters:
    ///   - document: the parsed configuration file.
    ///   - name: `ConfigurationSetName`.
    ///   - fields: the new `LinkTrackOptions` members in the order to write them (keys
    ///     `TrackUnsubscribeLinks`, `ExcludedDomains`, `HonorOtherOptOutAttributes`, `TrackLinksIn`).
    /// - Returns: the updated document.
    /// - Throws: `BadRequestException` for an invalid field or document; `NotFoundException` when no
    ///   set has that name.
    public static func putConfigurationSetLinkTrackOptions(
        document: JSONValue, configurationSetName name: String, fields: [(key: String, value: JSONValue)],
        environment: (String) -> String? = Self.placeholderSecretEnvironment,
        readFile: (String) throws -> [UInt8] = Self.placeholderSecretFile
    ) throws(ConfigurationError) -> JSONValue {
        _ = try parseLinkTrackOptions(.object(fields), field: "LinkTrackOptions")
        _ = try Configuration(document: document, environment: environment, readFile: readFile)

        guard case .object(var top) = document,
              let setsIndex = top.firstIndex(where: { $0.key == "ConfigurationSets" }),
              case .array(var sets) = top[setsIndex].value,
              let setIndex = sets.firstIndex(where: { $0["ConfigurationSetName"] == .string(name) }),
              case .object(var members) = sets[setIndex]
        else {
            throw .notFound(configurationSet: name)
        }
        if let i = members.firstIndex(where: { $0.key == "LinkTrackOptions" }) {
            members[i].value = .object(fields)
        } else {
            let anchor = members.firstIndex(where: { $0.key == "TrackingOptions" })
                ?? members.firstIndex(where: { $0.key == "ConfigurationSetName" }) ?? -1
            members.insert(("LinkTrackOptions", .object(fields)), at: anchor + 1)
        }
        sets[setIndex] = .object(members)
        top[setsIndex].value = .array(sets)
        let updated = JSONValue.object(top)
        _ = try Configuration(document: updated, environment: environment, readFile: readFile)
        return updated
    }

    /// ``putConfigurationSetLinkTrackOptions(document:configurationSetName:fields:environment:readFile:)``
    /// on the text of a configuration file: only the set's `LinkTrackOptions` member changes (its
    /// value replaced in the old one's layout, or the member inserted); every other byte stays.
    ///
    /// - Parameter json: the file's bytes.
    /// - Returns: the file's new bytes.
    /// - Throws: `BadRequestException` for text that is not JSON or an invalid field or document;
    ///   `NotFoundException` when no set has that name.
    public static func putConfigurationSetLinkTrackOptions(
        json: [UInt8], configurationSetName name: String, fields: [(key: String, value: JSONValue)],
        environment: (String) -> String? = Self.placeholderSecretEnvironment,
        readFile: (String) throws -> [UInt8] = Self.placeholderSecretFile
    ) throws(ConfigurationError) -> [UInt8] {
        try putMember(json: json, configurationSetName: name,
                      splice: { location, value in
                          var splice = TrackingOptionsSplice(json: json, location: location, value: value, setName: name,
                                                             options: fields.map { ($0.key, oneLineJSON($0.value)) })
                          splice.memberName = "LinkTrackOptions"
                          splice.insertAfter = ["TrackingOptions", "ConfigurationSetName"]
                          return splice
                      },
                      put: { (document) throws(ConfigurationError) in
                          try putConfigurationSetLinkTrackOptions(
                              document: document, configurationSetName: name, fields: fields,
                              environment: environment, readFile: readFile)
                      })
    }

    /// A field's value on one line: `true`, `"HTML"`, `["a.example", "*.b.example"]`.
    static func oneLineJSON(_ value: JSONValue) -> String {
        switch value {
        case .array(let items): return "[" + items.map(oneLineJSON).joined(separator: ", ") + "]"
        case .string(let s): return JSONValue.quoted(s)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .number(let n): return n
        case .object(let members):
            return "{ " + members.map { JSONValue.quoted($0.key) + ": " + oneLineJSON($0.value) }.joined(separator: ", ") + " }"
        }
    }
}
