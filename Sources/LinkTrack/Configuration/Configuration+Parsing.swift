#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Configuration {
    /// The top-level keys of a configuration file.
    static let topLevelKeys = Set(["ConfigurationSets", "DefaultConfigurationSet", "SigningKeys"])
        .union(serverTopLevelKeys)
    /// Keys of a configuration set: the ones LinkTrack reads, and the other ones SES returns, which
    /// are accepted (so `aws sesv2 get-configuration-set` output can be pasted) and ignored.
    static let configurationSetKeys: Set<String> = [
        "ConfigurationSetName", "TrackingOptions", "LinkTrackOptions", "EventDestinations",
        "DeliveryOptions", "ReputationOptions", "SendingOptions", "Tags", "SuppressionOptions",
        "VdmOptions", "ArchivingOptions", "ConfigurationSetArn",
    ]
    static let trackingOptionsKeys: Set<String> = ["CustomRedirectDomain", "HttpsPolicy"]
    static let eventDestinationKeys: Set<String> = [
        "Name", "Enabled", "MatchingEventTypes",
        "KinesisFirehoseDestination", "CloudWatchDestination", "SnsDestination",
        "PinpointDestination", "EventBridgeDestination", "LinkTrackDestination",
    ]
    static let eventTypes: Set<String> = [
        "SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "OPEN", "CLICK",
        "RENDERING_FAILURE", "DELIVERY_DELAY", "SUBSCRIPTION",
    ]
    static let signingKeyKeys: Set<String> = ["KeyId", "Secret", "SecretFile", "SecretEnvironmentVariable"]

    /// Parses and validates a configuration file.
    ///
    /// A signing key's secret is base64 and comes from exactly one of `Secret` (inline),
    /// `SecretFile` (a file holding the base64 text) or `SecretEnvironmentVariable` (a variable holding it).
    /// - Parameters:
    ///   - json: the file's bytes.
    ///   - environment: looks up environment variables; defaults to the process environment.
    ///   - readFile: reads a file; defaults to reading from disk.
    /// - Throws: `BadRequestException` naming the field and value for anything malformed.
    public init(
        json: [UInt8],
        environment: (String) -> String? = ProcessEnvironment.value(of:),
        readFile: (String) throws -> [UInt8] = { try FileIO.readAll(path: $0) }
    ) throws(ConfigurationError) {
        try self.init(document: try Self.parseDocument(json), environment: environment, readFile: readFile)
    }

    /// Parses a configuration file's bytes as JSON, without validating them as a configuration.
    /// - Throws: `BadRequestException` ("The configuration is not valid JSON: ...").
    public static func parseDocument(_ json: [UInt8]) throws(ConfigurationError) -> JSONValue {
        do {
            return try JSONValue.parse(json)
        } catch {
            throw .badRequest("The configuration is not valid JSON: \(error.description).")
        }
    }

    /// Validates an already-parsed configuration document. See ``init(json:environment:readFile:)``.
    public init(
        document: JSONValue,
        environment: (String) -> String? = ProcessEnvironment.value(of:),
        readFile: (String) throws -> [UInt8] = { try FileIO.readAll(path: $0) }
    ) throws(ConfigurationError) {
        let top = try Self.object(document, field: "configuration", allowed: Self.topLevelKeys)
        try Self.validateServerKeys(top)

        var sets: [ConfigurationSet] = []
        // The names seen so far, so that loading stays linear in the number of sets (a search of
        // `sets` per set made 40,000 sets take seconds; issue 16, item 17).
        var setNames: Set<String> = []
        if let value = top["ConfigurationSets"] {
            guard case .array(let items) = value else {
                throw Self.wrongType(field: "ConfigurationSets", expected: "array", value: value)
            }
            sets.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                let set = try Self.parseConfigurationSet(item, index: index)
                if !setNames.insert(set.name).inserted {
                    throw .badRequest("ConfigurationSets[\(index)]: the name \(JSONValue.quoted(set.name)) is used twice.")
                }
                sets.append(set)
            }
        }

        var defaultName: String?
        if let value = top["DefaultConfigurationSet"] {
            switch value {
            case .null: defaultName = nil
            case .string(let name):
                guard setNames.contains(name) else { throw .notFound(configurationSet: name) }
                defaultName = name
            default: throw Self.wrongType(field: "DefaultConfigurationSet", expected: "string", value: value)
            }
        }

        var keys: [SigningKey] = []
        if let value = top["SigningKeys"] {
            guard case .array(let items) = value else {
                throw Self.wrongType(field: "SigningKeys", expected: "array", value: value)
            }
            for (index, item) in items.enumerated() {
                let key = try Self.parseSigningKey(item, index: index, environment: environment, readFile: readFile)
                if keys.contains(where: { $0.keyId == key.keyId }) {
                    throw .badRequest("SigningKeys[\(index)]: the KeyId \(JSONValue.quoted(key.keyId)) is used twice.")
                }
                keys.append(key)
            }
        }
        self.init(uncheckedConfigurationSets: sets, defaultConfigurationSet: defaultName, signingKeys: keys)
    }

    // MARK: - Pieces

    static func wrongType(field: String, expected: String, value: JSONValue) -> ConfigurationError {
        // Name the value too, except a string, array or object under SigningKeys: it may hold a secret.
        var mayBeSecret = false
        switch value {
        case .string, .array, .object: mayBeSecret = field.hasPrefix("SigningKeys")
        default: break
        }
        let shown = mayBeSecret ? "" : " " + value.briefText
        return .badRequest("Invalid type for \(field): expected \(expected), found \(value.typeName)\(shown).")
    }

    /// The members of an object, after checking it has no unknown or repeated keys.
    static func object(_ value: JSONValue, field: String, allowed: Set<String>) throws(ConfigurationError) -> JSONValue {
        guard case .object(let members) = value else {
            throw wrongType(field: field, expected: "object", value: value)
        }
        var seen: Set<String> = []
        for member in members {
            guard allowed.contains(member.key) else {
                throw .badRequest("Unknown key \(JSONValue.quoted(member.key)) in \(field).")
            }
            guard seen.insert(member.key).inserted else {
                throw .badRequest("Duplicate key \(JSONValue.quoted(member.key)) in \(field).")
            }
        }
        return value
    }

    static func string(_ value: JSONValue?, field: String) throws(ConfigurationError) -> String? {
        guard let value else { return nil }
        guard case .string(let s) = value else { throw wrongType(field: field, expected: "string", value: value) }
        return s
    }

    static func parseConfigurationSet(_ value: JSONValue, index: Int) throws(ConfigurationError) -> ConfigurationSet {
        let field = "ConfigurationSets[\(index)]"
        let set = try object(value, field: field, allowed: configurationSetKeys)
        guard let name = try string(set["ConfigurationSetName"], field: "\(field).ConfigurationSetName") else {
            throw .badRequest("\(field): ConfigurationSetName is required.")
        }
        try validateConfigurationSetName(name)

        var domain: String?
        var policy = HttpsPolicy.optional
        if let options = set["TrackingOptions"] {
            let optionsField = "\(field).TrackingOptions"
            _ = try object(options, field: optionsField, allowed: trackingOptionsKeys)
            if let d = try string(options["CustomRedirectDomain"], field: "\(optionsField).CustomRedirectDomain") {
                try validateRedirectDomain(d)
                domain = d
            }
            if let p = try string(options["HttpsPolicy"], field: "\(optionsField).HttpsPolicy") {
                policy = try parseHttpsPolicy(p)
            }
        }

        var linkTrackOptions = LinkTrackOptions()
        if let options = set["LinkTrackOptions"] {
            linkTrackOptions = try parseLinkTrackOptions(options, field: "\(field).LinkTrackOptions")
        }

        var opens = true
        var clicks = true
        var parsedDestinations: [EventDestination] = []
        if let destinations = set["EventDestinations"] {
            guard case .array(let items) = destinations else {
                throw wrongType(field: "\(field).EventDestinations", expected: "array", value: destinations)
            }
            opens = false
            clicks = false
            for (i, item) in items.enumerated() {
                let dField = "\(field).EventDestinations[\(i)]"
                let destination = try object(item, field: dField, allowed: eventDestinationKeys)
                let destinationName = try string(destination["Name"], field: "\(dField).Name") ?? ""
                var enabled = false
                if let e = destination["Enabled"] {
                    guard case .bool(let b) = e else { throw wrongType(field: "\(dField).Enabled", expected: "boolean", value: e) }
                    enabled = b
                }
                var types: [String] = []
                if let m = destination["MatchingEventTypes"] {
                    guard case .array(let list) = m else {
                        throw wrongType(field: "\(dField).MatchingEventTypes", expected: "array", value: m)
                    }
                    for entry in list {
                        guard case .string(let t) = entry else {
                            throw wrongType(field: "\(dField).MatchingEventTypes", expected: "array of strings", value: entry)
                        }
                        guard eventTypes.contains(t) else {
                            throw .badRequest("Invalid MatchingEventTypes value \(JSONValue.quoted(t)) in \(dField).")
                        }
                        types.append(t)
                    }
                }
                var sink: LinkTrackDestination?
                if let d = destination["LinkTrackDestination"] {
                    sink = try parseLinkTrackDestination(d, field: "\(dField).LinkTrackDestination")
                }
                if enabled {
                    opens = opens || types.contains("OPEN")
                    clicks = clicks || types.contains("CLICK")
                }
                parsedDestinations.append(EventDestination(name: destinationName, enabled: enabled,
                                                           matchingEventTypes: types, linkTrackDestination: sink))
            }
        }
        return ConfigurationSet(uncheckedName: name, customRedirectDomain: domain, httpsPolicy: policy,
                                tracksOpens: opens, tracksClicks: clicks, eventDestinations: parsedDestinations,
                                linkTrackOptions: linkTrackOptions)
    }

    static func parseSigningKey(
        _ value: JSONValue, index: Int,
        environment: (String) -> String?, readFile: (String) throws -> [UInt8]
    ) throws(ConfigurationError) -> SigningKey {
        let field = "SigningKeys[\(index)]"
        let entry = try object(value, field: field, allowed: signingKeyKeys)
        guard let keyId = try string(entry["KeyId"], field: "\(field).KeyId") else {
            throw .badRequest("\(field): KeyId is required.")
        }
        try SigningKey.validate(keyId: keyId)
        let inline = try string(entry["Secret"], field: "\(field).Secret")
        let file = try string(entry["SecretFile"], field: "\(field).SecretFile")
        let variable = try string(entry["SecretEnvironmentVariable"], field: "\(field).SecretEnvironmentVariable")
        let sources = [inline, file, variable].compactMap { $0 }
        guard sources.count == 1 else {
            throw .badRequest("\(field) (KeyId \(keyId)): give exactly one of Secret, SecretFile and SecretEnvironmentVariable.")
        }
        let text: String
        if let inline {
            text = inline
        } else if let file {
            do {
                text = String(decoding: try readFile(file), as: UTF8.self)
            } catch {
                throw .badRequest("\(field) (KeyId \(keyId)): cannot read SecretFile \(JSONValue.quoted(file)): \(error).")
            }
        } else {
            let name = variable!
            guard let v = environment(name), !v.isEmpty else {
                throw .badRequest("\(field) (KeyId \(keyId)): the environment variable \(name) named by SecretEnvironmentVariable is not set.")
            }
            text = v
        }
        guard let secret = SigningKey.decodeSecret(text) else {
            throw .badRequest("\(field) (KeyId \(keyId)): the secret is not valid base64.")
        }
        return try SigningKey(keyId: keyId, secret: secret)
    }

    /// Validates an HttpsPolicy value.
    public static func parseHttpsPolicy(_ value: String) throws(ConfigurationError) -> HttpsPolicy {
        guard let policy = HttpsPolicy(rawValue: value) else {
            throw .badRequest("Invalid HttpsPolicy value \(JSONValue.quoted(value)): expected one of REQUIRE, REQUIRE_OPEN_ONLY, OPTIONAL.")
        }
        return policy
    }

    /// Validates a configuration set name: 1 to 64 characters of `[A-Za-z0-9_-]`, as SES requires.
    public static func validateConfigurationSetName(_ name: String) throws(ConfigurationError) {
        let bytes = Array(name.utf8)
        let valid = !bytes.isEmpty && bytes.count <= 64 && bytes.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        guard valid else {
            throw .badRequest("Invalid ConfigurationSetName value \(JSONValue.quoted(name)): use 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'.")
        }
    }

    /// Validates a `CustomRedirectDomain`: a DNS host name (RFC 1123 §2.1) of at most 253 octets whose
    /// labels are 1 to 63 letters, digits and hyphens, not starting or ending with a hyphen. No scheme,
    /// path, port, space, trailing dot or non-ASCII character.
    public static func validateRedirectDomain(_ domain: String) throws(ConfigurationError) {
        func fail(_ why: String) -> ConfigurationError {
            .badRequest("Invalid CustomRedirectDomain value \(JSONValue.quoted(domain)): \(why).")
        }
        let bytes = Array(domain.utf8)
        if bytes.isEmpty { throw fail("the domain is empty") }
        if bytes.contains(where: { $0 >= 0x80 }) { throw fail("it contains a non-ASCII character (use the punycode form)") }
        if bytes.containsBytes("://".utf8) { throw fail("it contains a scheme; give the host name only") }
        if bytes.contains(UInt8(ascii: "/")) { throw fail("it contains a path; give the host name only") }
        if bytes.contains(UInt8(ascii: ":")) { throw fail("it contains a port; give the host name only") }
        if bytes.contains(where: { $0 == 0x20 || $0 == 0x09 }) { throw fail("it contains a space") }
        if bytes.count > 253 { throw fail("it is \(bytes.count) octets long; the limit is 253") }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        for label in labels {
            if label.isEmpty { throw fail("it has an empty label") }
            if label.count > 63 { throw fail("the label \(String(decoding: label, as: UTF8.self)) is \(label.count) octets long; the limit is 63") }
            guard label.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") }) else {
                throw fail("the label \(String(decoding: label, as: UTF8.self)) has a character other than letters, digits and '-'")
            }
            if label.first == UInt8(ascii: "-") || label.last == UInt8(ascii: "-") {
                throw fail("the label \(String(decoding: label, as: UTF8.self)) starts or ends with '-'")
            }
        }
    }
}

/// Reads the process environment.
public enum ProcessEnvironment {
    public static func value(of name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        return String(cString: raw)
    }
}
