import LinkTrack

/// An SES v2 operation named by a request's method and path.
///
/// The raw path is split on `/` first and each segment percent-decoded after, so a name sent as
/// `x%2Fy` is the one segment `x/y` (botocore encodes path parameters once).
enum ControlAPIRoute: Equatable {
    case createConfigurationSet
    case listConfigurationSets
    case getConfigurationSet(name: String)
    case deleteConfigurationSet(name: String)
    case putConfigurationSetTrackingOptions(name: String)
    case createEventDestination(set: String)
    case getEventDestinations(set: String)
    case updateEventDestination(set: String, destination: String)
    case deleteEventDestination(set: String, destination: String)

    /// The SES operation name.
    var operation: String {
        switch self {
        case .createConfigurationSet: return "CreateConfigurationSet"
        case .listConfigurationSets: return "ListConfigurationSets"
        case .getConfigurationSet: return "GetConfigurationSet"
        case .deleteConfigurationSet: return "DeleteConfigurationSet"
        case .putConfigurationSetTrackingOptions: return "PutConfigurationSetTrackingOptions"
        case .createEventDestination: return "CreateConfigurationSetEventDestination"
        case .getEventDestinations: return "GetConfigurationSetEventDestinations"
        case .updateEventDestination: return "UpdateConfigurationSetEventDestination"
        case .deleteEventDestination: return "DeleteConfigurationSetEventDestination"
        }
    }

    /// The operation for `method` and `rawPath`.
    /// - Throws: ``ControlAPIError/unknownOperation(method:path:)`` when there is none,
    ///   ``ControlAPIError/badRequest(_:)`` for a segment that is not valid percent-encoded UTF-8.
    init(method: String, rawPath: String) throws(ControlAPIError) {
        let raw = rawPath.split(separator: "/", omittingEmptySubsequences: false)
        let unknown = ControlAPIError.unknownOperation(method: method, path: rawPath)
        guard raw.count >= 4, raw[0].isEmpty, raw[1] == "v2", raw[2] == "email", raw[3] == "configuration-sets" else {
            throw unknown
        }
        var segments: [String] = []
        for segment in raw.dropFirst(4) {
            guard !segment.isEmpty else { throw unknown }
            segments.append(try Self.percentDecoded(segment))
        }
        switch (method, segments.count) {
        case ("POST", 0): self = .createConfigurationSet
        case ("GET", 0): self = .listConfigurationSets
        case ("GET", 1): self = .getConfigurationSet(name: segments[0])
        case ("DELETE", 1): self = .deleteConfigurationSet(name: segments[0])
        case ("PUT", 2) where raw[5] == "tracking-options": self = .putConfigurationSetTrackingOptions(name: segments[0])
        case ("POST", 2) where raw[5] == "event-destinations": self = .createEventDestination(set: segments[0])
        case ("GET", 2) where raw[5] == "event-destinations": self = .getEventDestinations(set: segments[0])
        case ("PUT", 3) where raw[5] == "event-destinations":
            self = .updateEventDestination(set: segments[0], destination: segments[2])
        case ("DELETE", 3) where raw[5] == "event-destinations":
            self = .deleteEventDestination(set: segments[0], destination: segments[2])
        default: throw unknown
        }
    }

    /// Decodes `%XX` escapes of one path segment or query part (`+` stays a plus sign).
    static func percentDecoded(_ text: Substring) throws(ControlAPIError) -> String {
        let bytes = Array(text.utf8)
        guard bytes.contains(UInt8(ascii: "%")) else { return String(text) }
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) else {
                    throw .badRequest("Invalid percent-encoding in \(JSONValue.quoted(String(text))).")
                }
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        guard let decoded = String(validating: out, as: UTF8.self) else {
            throw .badRequest("\(JSONValue.quoted(String(text))) does not decode to UTF-8 text.")
        }
        return decoded
    }

    /// The decoded `name=value` pairs of a raw query, in order.
    static func queryParameters(_ rawQuery: String) throws(ControlAPIError) -> [(String, String)] {
        var pairs: [(String, String)] = []
        for piece in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            if let equals = piece.firstIndex(of: "=") {
                pairs.append((try percentDecoded(piece[..<equals]), try percentDecoded(piece[piece.index(after: equals)...])))
            } else {
                pairs.append((try percentDecoded(piece), ""))
            }
        }
        return pairs
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}
