import LinkTrack

/// What the control API reads from the configuration file's server-only keys:
///
/// ```json
/// "AccessKeys": [{"AccessKeyId": "AKIALINKTRACK01", "SecretAccessKeyFile": "/etc/linktrack/api.secret"}],
/// "Region": "eu-west-1",
/// "ControlAPIThrottle": {"RequestsPerSecond": 10, "Burst": 20}
/// ```
///
/// The filter and the `put` command check only these keys' shape; the server parses them fully.
/// Without `AccessKeys` every request is refused (`UnrecognizedClientException`).
public struct ControlAPISettings: Sendable, Equatable {
    /// Secret access keys by access key id.
    public var secretAccessKeys: [String: [UInt8]]
    /// `Region` (default `us-east-1`): the one region accepted in credential scopes.
    public var region: String
    /// `ControlAPIThrottle.RequestsPerSecond` (default 10): each access key's bucket refills at this rate.
    public var requestsPerSecond: Double
    /// `ControlAPIThrottle.Burst` (default 20): each access key's bucket holds this many requests.
    public var burst: Double

    public static let defaultRegion = "us-east-1"
    public static let defaultRequestsPerSecond = 10.0
    public static let defaultBurst = 20.0

    public init(secretAccessKeys: [String: [UInt8]], region: String = Self.defaultRegion,
                requestsPerSecond: Double = Self.defaultRequestsPerSecond, burst: Double = Self.defaultBurst) {
        self.secretAccessKeys = secretAccessKeys
        self.region = region
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
    }

    static let accessKeyKeys: Set<String> = [
        "AccessKeyId", "SecretAccessKey", "SecretAccessKeyFile", "SecretAccessKeyEnvironmentVariable",
    ]

    /// Parses `AccessKeys`, `Region` and `ControlAPIThrottle` from a configuration document.
    ///
    /// A secret access key comes from exactly one of `SecretAccessKey` (inline),
    /// `SecretAccessKeyFile` (a file holding it; surrounding whitespace such as the final newline
    /// is removed) or `SecretAccessKeyEnvironmentVariable` (a variable holding it).
    /// - Parameters:
    ///   - document: the parsed configuration file.
    ///   - environment: looks up environment variables; defaults to the process environment.
    ///   - readFile: reads a file; defaults to reading from disk.
    /// - Throws: `BadRequestException` naming the field and value at fault.
    public init(
        document: JSONValue,
        environment: (String) -> String? = ProcessEnvironment.value(of:),
        readFile: (String) throws -> [UInt8] = { try FileIO.readAll(path: $0) }
    ) throws(ConfigurationError) {
        guard case .object = document else {
            throw .badRequest("Invalid type for configuration: expected object.")
        }
        var keys: [String: [UInt8]] = [:]
        if let value = document["AccessKeys"] {
            guard case .array(let items) = value else {
                throw .badRequest("Invalid type for AccessKeys: expected array.")
            }
            for (index, item) in items.enumerated() {
                let (id, secret) = try Self.parseAccessKey(item, field: "AccessKeys[\(index)]",
                                                           environment: environment, readFile: readFile)
                guard keys[id] == nil else {
                    throw .badRequest("AccessKeys[\(index)]: the AccessKeyId \(JSONValue.quoted(id)) is used twice.")
                }
                keys[id] = secret
            }
        }

        var region = Self.defaultRegion
        if let value = document["Region"] {
            guard case .string(let text) = value else { throw .badRequest("Invalid type for Region: expected string.") }
            let bytes = Array(text.utf8)
            guard !bytes.isEmpty, bytes.count <= 64,
                  bytes.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") })
            else {
                throw .badRequest("Invalid Region value \(JSONValue.quoted(text)): use 1 to 64 characters of a-z, 0-9 and '-', such as us-east-1.")
            }
            region = text
        }

        var rate = Self.defaultRequestsPerSecond
        var burst = Self.defaultBurst
        if let value = document["ControlAPIThrottle"] {
            guard case .object(let members) = value else {
                throw .badRequest("Invalid type for ControlAPIThrottle: expected object.")
            }
            for member in members {
                guard member.key == "RequestsPerSecond" || member.key == "Burst" else {
                    throw .badRequest("Unknown key \(JSONValue.quoted(member.key)) in ControlAPIThrottle.")
                }
                guard case .number(let text) = member.value, let n = Double(text), n.isFinite, n > 0 else {
                    throw .badRequest("Invalid type for ControlAPIThrottle.\(member.key): expected positive number.")
                }
                if member.key == "RequestsPerSecond" { rate = n } else { burst = n }
            }
            guard burst >= 1 else {
                throw .badRequest("Invalid ControlAPIThrottle.Burst value \(burst): at least 1 is required, or no request is ever served.")
            }
        }
        self.init(secretAccessKeys: keys, region: region, requestsPerSecond: rate, burst: burst)
    }

    static func parseAccessKey(
        _ value: JSONValue, field: String,
        environment: (String) -> String?, readFile: (String) throws -> [UInt8]
    ) throws(ConfigurationError) -> (String, [UInt8]) {
        guard case .object(let members) = value else {
            throw .badRequest("Invalid type for \(field): expected object.")
        }
        var seen: Set<String> = []
        for member in members {
            guard accessKeyKeys.contains(member.key) else {
                throw .badRequest("Unknown key \(JSONValue.quoted(member.key)) in \(field).")
            }
            guard seen.insert(member.key).inserted else {
                throw .badRequest("Duplicate key \(JSONValue.quoted(member.key)) in \(field).")
            }
            guard case .string = member.value else {
                throw .badRequest("Invalid type for \(field).\(member.key): expected string.")
            }
        }
        func string(_ key: String) -> String? {
            if case .string(let s)? = value[key] { return s }
            return nil
        }
        guard let id = string("AccessKeyId") else { throw .badRequest("\(field): AccessKeyId is required.") }
        let idBytes = Array(id.utf8)
        guard !idBytes.isEmpty, idBytes.count <= 128,
              idBytes.allSatisfy({ $0.isAccessKeyIdCharacter })
        else {
            throw .badRequest("Invalid \(field).AccessKeyId value \(JSONValue.quoted(id)): use 1 to 128 characters of A-Z, a-z, 0-9, '_' and '-'.")
        }
        let inline = string("SecretAccessKey")
        let file = string("SecretAccessKeyFile")
        let variable = string("SecretAccessKeyEnvironmentVariable")
        guard [inline, file, variable].compactMap({ $0 }).count == 1 else {
            throw .badRequest("\(field) (AccessKeyId \(id)): give exactly one of SecretAccessKey, SecretAccessKeyFile and SecretAccessKeyEnvironmentVariable.")
        }
        var secret: [UInt8]
        if let inline {
            secret = Array(inline.utf8)
        } else if let file {
            do {
                secret = try readFile(file)
            } catch {
                throw .badRequest("\(field) (AccessKeyId \(id)): cannot read SecretAccessKeyFile \(JSONValue.quoted(file)): \(error).")
            }
            while let last = secret.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D { secret.removeLast() }
            while let first = secret.first, first == 0x20 || first == 0x09 || first == 0x0A || first == 0x0D { secret.removeFirst() }
        } else {
            let name = variable!
            guard let v = environment(name), !v.isEmpty else {
                throw .badRequest("\(field) (AccessKeyId \(id)): the environment variable \(name) named by SecretAccessKeyEnvironmentVariable is not set.")
            }
            secret = Array(v.utf8)
        }
        guard !secret.isEmpty else {
            throw .badRequest("\(field) (AccessKeyId \(id)): the secret access key is empty.")
        }
        return (id, secret)
    }
}

extension UInt8 {
    fileprivate var isAccessKeyIdCharacter: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
            || self == UInt8(ascii: "_") || self == UInt8(ascii: "-")
    }
}
