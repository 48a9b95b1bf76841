/// One entry of a configuration set's `EventDestinations`, as SES v2 has it, plus LinkTrack's own
/// `LinkTrackDestination` key that says where `linktrack-server` writes the events.
///
/// SES's own destination keys (`KinesisFirehoseDestination`, `SnsDestination`, ...) are accepted
/// and ignored. An enabled destination without `LinkTrackDestination` writes to the embedded
/// SQLite store.
public struct EventDestination: Sendable, Equatable {
    /// `Name`.
    public var name: String
    /// `Enabled`; absent counts as disabled, as in the API.
    public var enabled: Bool
    /// `MatchingEventTypes`, as written (`OPEN`, `CLICK`, ...).
    public var matchingEventTypes: [String]
    /// `LinkTrackDestination`, or nil (meaning ``LinkTrackDestination/sqlite``).
    public var linkTrackDestination: LinkTrackDestination?

    public init(name: String, enabled: Bool, matchingEventTypes: [String], linkTrackDestination: LinkTrackDestination? = nil) {
        self.name = name
        self.enabled = enabled
        self.matchingEventTypes = matchingEventTypes
        self.linkTrackDestination = linkTrackDestination
    }

    /// Where the events go: the explicit sink, else the embedded SQLite store.
    public var sink: LinkTrackDestination { linkTrackDestination ?? .sqlite }

    /// Whether this destination is enabled and takes events of `type` (`"OPEN"` or `"CLICK"`).
    public func takes(_ type: String) -> Bool { enabled && matchingEventTypes.contains(type) }
}

/// Where `linktrack-server` writes a destination's events (`"LinkTrackDestination": {"Type": ...}`).
public enum LinkTrackDestination: Sendable, Equatable, Hashable {
    /// `{"Type": "SQLite"}`: `events.sqlite` in the server's data directory.
    case sqlite
    /// `{"Type": "JSONLines", "Path": FILE}`: one event per line.
    case jsonLines(path: String)
    /// `{"Type": "PostgreSQL", "ConnectionString": "postgres://user@host:port/db", "PasswordFile" | "PasswordEnvironmentVariable"}`.
    case postgreSQL(connectionString: String, passwordFile: String?, passwordEnvironmentVariable: String?)
    /// `{"Type": "Webhook", "Url": URL, "SecretFile": FILE}`.
    case webhook(url: String, secretFile: String)

    /// The `Type` value.
    public var typeName: String {
        switch self {
        case .sqlite: return "SQLite"
        case .jsonLines: return "JSONLines"
        case .postgreSQL: return "PostgreSQL"
        case .webhook: return "Webhook"
        }
    }
}

extension Configuration {
    static let linkTrackDestinationKeys: Set<String> = [
        "Type", "Path", "ConnectionString", "PasswordFile", "PasswordEnvironmentVariable", "Url", "SecretFile",
    ]

    static func parseLinkTrackDestination(_ value: JSONValue, field: String) throws(ConfigurationError) -> LinkTrackDestination {
        let object = try object(value, field: field, allowed: linkTrackDestinationKeys)
        guard let type = try string(object["Type"], field: "\(field).Type") else {
            throw .badRequest("\(field): Type is required (SQLite, JSONLines, PostgreSQL or Webhook).")
        }
        func required(_ key: String) throws(ConfigurationError) -> String {
            guard let v = try string(object[key], field: "\(field).\(key)"), !v.isEmpty else {
                throw .badRequest("\(field): \(key) is required for Type \(type).")
            }
            return v
        }
        func only(_ allowed: Set<String>) throws(ConfigurationError) {
            guard case .object(let members) = object else { return }
            for member in members where member.key != "Type" && !allowed.contains(member.key) {
                throw .badRequest("\(field): \(member.key) does not apply to Type \(type).")
            }
        }
        switch type {
        case "SQLite":
            try only([])
            return .sqlite
        case "JSONLines":
            try only(["Path"])
            return .jsonLines(path: try required("Path"))
        case "PostgreSQL":
            try only(["ConnectionString", "PasswordFile", "PasswordEnvironmentVariable"])
            let connection = try required("ConnectionString")
            guard connection.hasPrefix("postgres://") || connection.hasPrefix("postgresql://") else {
                throw .badRequest("Invalid \(field).ConnectionString value: expected postgres://user@host:port/database.")
            }
            let file = try string(object["PasswordFile"], field: "\(field).PasswordFile")
            let variable = try string(object["PasswordEnvironmentVariable"], field: "\(field).PasswordEnvironmentVariable")
            if file != nil && variable != nil {
                throw .badRequest("\(field): give at most one of PasswordFile and PasswordEnvironmentVariable.")
            }
            return .postgreSQL(connectionString: connection, passwordFile: file, passwordEnvironmentVariable: variable)
        case "Webhook":
            try only(["Url", "SecretFile"])
            let url = try required("Url")
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw .badRequest("Invalid \(field).Url value \(JSONValue.quoted(url)): expected an http or https URL.")
            }
            return .webhook(url: url, secretFile: try required("SecretFile"))
        default:
            throw .badRequest("Invalid \(field).Type value \(JSONValue.quoted(type)): expected one of SQLite, JSONLines, PostgreSQL, Webhook.")
        }
    }

    /// The top-level keys that only `linktrack-server` reads. The filter and the `put` commands
    /// check their shape and ignore them.
    static let serverTopLevelKeys: Set<String> = ["AccessKeys", "Region", "TrustedProxies", "ControlAPIThrottle"]
    static let accessKeyKeys: Set<String> = [
        "AccessKeyId", "SecretAccessKey", "SecretAccessKeyFile", "SecretAccessKeyEnvironmentVariable",
    ]

    /// Checks the shape of the server-only top-level keys (types and known member names).
    static func validateServerKeys(_ top: JSONValue) throws(ConfigurationError) {
        if let value = top["AccessKeys"] {
            guard case .array(let items) = value else { throw wrongType(field: "AccessKeys", expected: "array", value: value) }
            for (index, item) in items.enumerated() {
                let field = "AccessKeys[\(index)]"
                let entry = try object(item, field: field, allowed: accessKeyKeys)
                guard let id = try string(entry["AccessKeyId"], field: "\(field).AccessKeyId"), !id.isEmpty else {
                    throw .badRequest("\(field): AccessKeyId is required.")
                }
                var sources = 0
                for key in ["SecretAccessKey", "SecretAccessKeyFile", "SecretAccessKeyEnvironmentVariable"] {
                    if try string(entry[key], field: "\(field).\(key)") != nil { sources += 1 }
                }
                guard sources == 1 else {
                    throw .badRequest("\(field) (AccessKeyId \(id)): give exactly one of SecretAccessKey, SecretAccessKeyFile and SecretAccessKeyEnvironmentVariable.")
                }
            }
        }
        if let value = top["Region"] {
            guard case .string(let region) = value, !region.isEmpty else {
                throw wrongType(field: "Region", expected: "non-empty string", value: value)
            }
        }
        if let value = top["TrustedProxies"] {
            guard case .array(let items) = value else { throw wrongType(field: "TrustedProxies", expected: "array", value: value) }
            for item in items {
                guard case .string = item else { throw wrongType(field: "TrustedProxies", expected: "array of strings", value: item) }
            }
        }
        if let value = top["ControlAPIThrottle"] {
            let throttle = try object(value, field: "ControlAPIThrottle", allowed: ["RequestsPerSecond", "Burst"])
            for key in ["RequestsPerSecond", "Burst"] {
                guard let member = throttle[key] else { continue }
                guard case .number(let text) = member, let n = Double(text), n > 0 else {
                    throw wrongType(field: "ControlAPIThrottle.\(key)", expected: "positive number", value: member)
                }
            }
        }
    }
}
