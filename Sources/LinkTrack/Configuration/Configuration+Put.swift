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

extension Configuration {
    /// ``putConfigurationSetTrackingOptions(document:configurationSetName:customRedirectDomain:httpsPolicy:environment:readFile:)``
    /// on the text of a configuration file: the same validation, errors and resulting document, but
    /// only the set's `TrackingOptions` member changes (its value replaced, or the member inserted
    /// after `ConfigurationSetName`); every other byte of the file stays as written: spacing, line
    /// endings, arrays on one line, key order (issue 16, item 2).
    ///
    /// The new value follows the old one's layout: on one line (`{ "CustomRedirectDomain": "…" }`)
    /// when it was on one line, else one member per line at the old members' indentation.
    ///
    /// - Parameter json: the file's bytes.
    /// - Returns: the file's new bytes.
    /// - Throws: `BadRequestException` for text that is not JSON, an invalid domain, policy or
    ///   document; `NotFoundException` when no set has that name.
    public static func putConfigurationSetTrackingOptions(
        json: [UInt8], configurationSetName name: String,
        customRedirectDomain: String?, httpsPolicy: String?,
        environment: (String) -> String? = Self.placeholderSecretEnvironment,
        readFile: (String) throws -> [UInt8] = Self.placeholderSecretFile
    ) throws(ConfigurationError) -> [UInt8] {
        var options: [(key: String, json: String)] = []
        if let customRedirectDomain { options.append(("CustomRedirectDomain", JSONValue.quoted(customRedirectDomain))) }
        if let httpsPolicy { options.append(("HttpsPolicy", JSONValue.quoted(httpsPolicy))) }
        return try putMember(json: json, configurationSetName: name,
                             splice: { TrackingOptionsSplice(json: json, location: $0, value: $1, setName: name, options: options) },
                             put: { (document) throws(ConfigurationError) in
                                 try putConfigurationSetTrackingOptions(
                                     document: document, configurationSetName: name, customRedirectDomain: customRedirectDomain,
                                     httpsPolicy: httpsPolicy, environment: environment, readFile: readFile)
                             })
    }

    /// A put on a file's bytes: `put` on the parsed document gives the new document (validated);
    /// the file's new bytes are the old ones with one member spliced (`splice`), when that gives
    /// exactly the new document, else the new document written whole.
    static func putMember(
        json: [UInt8], configurationSetName name: String,
        splice: (JSONLocation, JSONValue) -> TrackingOptionsSplice,
        put: (JSONValue) throws(ConfigurationError) -> JSONValue
    ) throws(ConfigurationError) -> [UInt8] {
        let parsed: (value: JSONValue, location: JSONLocation)
        do {
            parsed = try JSONValue.parseWithLocations(json)
        } catch {
            throw .badRequest("The configuration is not valid JSON: \(error.description).")
        }
        let updated = try put(parsed.value)
        // The splice must give exactly the document the API call gives; it does by construction, and
        // is checked so that a file is never written wrong. Should it ever not, the document is
        // written whole instead (correct, but reflowed).
        if let spliced = splice(parsed.location, parsed.value).apply(), (try? JSONValue.parse(spliced)) == updated {
            return spliced
        }
        return Array(updated.serialized().utf8)
    }
}

/// Replaces (or inserts) one configuration set's `TrackingOptions` member (or another object
/// member, ``memberName``) in a file's bytes.
struct TrackingOptionsSplice {
    let json: [UInt8]
    let location: JSONLocation
    let value: JSONValue
    let setName: String
    /// The new object's members, each value as JSON text.
    let options: [(key: String, json: String)]
    /// The member replaced or inserted.
    var memberName = "TrackingOptions"
    /// Where a new member goes: after the first of these members the set has.
    var insertAfter = ["ConfigurationSetName"]

    /// The new bytes, or nil when the set cannot be found (the document-level call has failed then).
    func apply() -> [UInt8]? {
        guard case .array(let sets)? = value["ConfigurationSets"], let setsLocation = location["ConfigurationSets"],
              let index = sets.firstIndex(where: { $0["ConfigurationSetName"] == .string(setName) }),
              index < setsLocation.items.count else { return nil }
        let set = setsLocation.items[index]
        let replacement: [UInt8]
        let range: Range<Int>
        if let member = set.members.first(where: { $0.key == memberName }) {
            range = member.value.documentRange
            let old = json[range]
            if old.contains(0x0A) {
                let memberIndent = member.value.members.first.map { indentation(at: $0.keyDocumentRange.lowerBound) }
                    ?? indentation(at: member.keyDocumentRange.lowerBound) + indentUnit(set: set)
                replacement = multiLineObject(memberIndent: memberIndent, closingIndent: indentation(at: range.upperBound - 1))
            } else {
                replacement = oneLineObject()
            }
        } else {
            guard let nameMember = insertAfter.lazy.compactMap({ key in set.members.first { $0.key == key } }).first else {
                return nil
            }
            range = nameMember.value.documentRange.upperBound..<nameMember.value.documentRange.upperBound
            // The set spreads over lines when its first member starts a line of its own.
            if startsLine(nameMember.keyDocumentRange.lowerBound) {
                let keyIndent = indentation(at: nameMember.keyDocumentRange.lowerBound)
                // After an object written on one line (a `TrackingOptions` beside which a
                // `LinkTrackOptions` goes), the new object is on one line too.
                let anchorValue = json[nameMember.value.documentRange]
                let oneLine = anchorValue.first == UInt8(ascii: "{") && !anchorValue.contains(0x0A)
                replacement = Array(",".utf8) + lineEnding + keyIndent + Array((JSONValue.quoted(memberName) + ": ").utf8)
                    + (oneLine ? oneLineObject()
                        : multiLineObject(memberIndent: keyIndent + indentUnit(set: set), closingIndent: keyIndent))
            } else {
                replacement = Array((", " + JSONValue.quoted(memberName) + ": ").utf8) + oneLineObject()
            }
        }
        return Array(json[..<range.lowerBound]) + replacement + Array(json[range.upperBound...])
    }

    /// `{ "CustomRedirectDomain": "…", "HttpsPolicy": "…" }`, or `{}`.
    func oneLineObject() -> [UInt8] {
        guard !options.isEmpty else { return Array("{}".utf8) }
        let members = options.map { JSONValue.quoted($0.key) + ": " + $0.json }
        return Array(("{ " + members.joined(separator: ", ") + " }").utf8)
    }

    /// One member per line at `memberIndent`, the `}` at `closingIndent`; `{}` when empty.
    func multiLineObject(memberIndent: [UInt8], closingIndent: [UInt8]) -> [UInt8] {
        guard !options.isEmpty else { return Array("{}".utf8) }
        var out = Array("{".utf8) + lineEnding
        for (n, option) in options.enumerated() {
            out += memberIndent + Array((JSONValue.quoted(option.key) + ": " + option.json).utf8)
            if n < options.count - 1 { out.append(UInt8(ascii: ",")) }
            out += lineEnding
        }
        return out + closingIndent + Array("}".utf8)
    }

    /// CRLF when the file's first line ends so, else LF.
    var lineEnding: [UInt8] {
        if let lf = json.firstIndex(of: 0x0A), lf > 0, json[lf - 1] == 0x0D { return [0x0D, 0x0A] }
        return [0x0A]
    }

    /// The blanks that start the line holding `offset`.
    func indentation(at offset: Int) -> [UInt8] {
        var start = offset
        while start > 0, json[start - 1] != 0x0A { start -= 1 }
        var end = start
        while end < json.count, json[end] == 0x20 || json[end] == 0x09 { end += 1 }
        return Array(json[start..<end])
    }

    /// Whether only blanks stand between the start of its line and `offset`.
    func startsLine(_ offset: Int) -> Bool {
        var i = offset
        while i > 0, json[i - 1] == 0x20 || json[i - 1] == 0x09 { i -= 1 }
        return i == 0 || json[i - 1] == 0x0A
    }

    /// One level of indentation as the set writes it: its first member's indentation beyond the
    /// set's own line, else two spaces.
    func indentUnit(set: JSONLocation) -> [UInt8] {
        guard let first = set.members.first, startsLine(first.keyDocumentRange.lowerBound) else { return Array("  ".utf8) }
        let outer = indentation(at: set.documentRange.lowerBound)
        let inner = indentation(at: first.keyDocumentRange.lowerBound)
        return inner.count > outer.count && inner.starts(with: outer) ? Array(inner[outer.count...]) : Array("  ".utf8)
    }
}
