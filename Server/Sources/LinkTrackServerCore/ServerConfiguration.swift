import LinkTrack

/// What `linktrack-server` reads from the configuration file: the filter's configuration (sets,
/// signing keys) plus the server-only keys, indexed for the request path.
///
/// Built once per load of the file; requests read one immutable value, so a reload swaps the whole
/// value and no request sees half of an old and half of a new configuration.
public struct ServerConfiguration: Sendable {
    /// The configuration as the filter reads it.
    public let configuration: Configuration
    /// The parsed JSON document (for the control API, which edits it).
    public let document: JSONValue
    /// Verifies tokens with every key of `SigningKeys` (rotation: the first signs, all verify).
    public let signer: LinkSigner?
    /// `TrustedProxies`: the peers whose `X-Forwarded-For` is believed.
    public let trustedProxies: [IPAddressRange]
    /// Sets by name.
    public let setsByName: [String: ConfigurationSet]
    /// The redirect domains served (lowercased), with the names of the sets that use each.
    public let setNamesByDomain: [String: Set<String>]
    /// ``sinks(for:kind:)`` of every set, worked out once per load (the request path reads it).
    let sinksBySet: [String: (open: [LinkTrackDestination], click: [LinkTrackDestination])]

    /// Parses and validates a configuration file's bytes.
    /// - Throws: ``ConfigurationError`` (`BadRequestException`) naming the field at fault.
    public init(
        json: [UInt8],
        environment: (String) -> String? = ProcessEnvironment.value(of:),
        readFile: (String) throws -> [UInt8] = { try FileIO.readAll(path: $0) }
    ) throws(ConfigurationError) {
        try self.init(document: try Configuration.parseDocument(json), environment: environment, readFile: readFile)
    }

    /// Validates an already-parsed document. See ``init(json:environment:readFile:)``.
    public init(
        document: JSONValue,
        environment: (String) -> String? = ProcessEnvironment.value(of:),
        readFile: (String) throws -> [UInt8] = { try FileIO.readAll(path: $0) }
    ) throws(ConfigurationError) {
        let configuration = try Configuration(document: document, environment: environment, readFile: readFile)
        self.configuration = configuration
        self.document = document
        self.signer = configuration.signingKeys.isEmpty ? nil : try LinkSigner(keys: configuration.signingKeys)

        var proxies: [IPAddressRange] = []
        if case .array(let items)? = document["TrustedProxies"] {
            for item in items {
                guard case .string(let text) = item else { continue }
                guard let range = IPAddressRange(text) else {
                    throw .badRequest("Invalid TrustedProxies value \(JSONValue.quoted(text)): expected an IPv4 or IPv6 address or CIDR range.")
                }
                proxies.append(range)
            }
        }
        self.trustedProxies = proxies

        var byName: [String: ConfigurationSet] = [:]
        var byDomain: [String: Set<String>] = [:]
        for set in configuration.configurationSets {
            byName[set.name] = set
            if let domain = set.customRedirectDomain {
                byDomain[Self.normalizedHost(domain), default: []].insert(set.name)
            }
        }
        self.setsByName = byName
        self.setNamesByDomain = byDomain
        var sinks: [String: (open: [LinkTrackDestination], click: [LinkTrackDestination])] = [:]
        for set in configuration.configurationSets {
            sinks[set.name] = (Self.computeSinks(for: set, kind: .open), Self.computeSinks(for: set, kind: .click))
        }
        self.sinksBySet = sinks
    }

    /// A `Host` value lowercased, without its port (`Links.Example.com:8080` → `links.example.com`).
    /// An IPv6 literal keeps its brackets.
    public static func normalizedHost(_ host: some StringProtocol) -> String {
        // The common case (a lowercase name without a port or a final dot) is already normal.
        let utf8 = host.utf8
        if let last = utf8.reversed().first, last != UInt8(ascii: "."),
           utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2E }) {
            return String(host)
        }
        var text = Substring(host)
        if text.hasPrefix("[") {
            if let close = text.firstIndex(of: "]") { text = text[...close] }
        } else if let colon = text.lastIndex(of: ":") {
            text = text[..<colon]
        }
        if text.hasSuffix(".") { text = text.dropLast() }
        return text.lowercased()
    }

    /// The event destinations of `set` that take events of `kind`, as distinct sinks in the order
    /// written. A set without `EventDestinations` tracks both kinds and records them in SQLite.
    public func sinks(for set: ConfigurationSet, kind: EventKind) -> [LinkTrackDestination] {
        if let known = sinksBySet[set.name] { return kind == .open ? known.open : known.click }
        return Self.computeSinks(for: set, kind: kind)
    }

    static func computeSinks(for set: ConfigurationSet, kind: EventKind) -> [LinkTrackDestination] {
        if set.eventDestinations.isEmpty {
            return (kind == .open ? set.tracksOpens : set.tracksClicks) ? [.sqlite] : []
        }
        var sinks: [LinkTrackDestination] = []
        for destination in set.eventDestinations where destination.takes(kind.matchingEventType) {
            if !sinks.contains(destination.sink) { sinks.append(destination.sink) }
        }
        return sinks
    }

    /// Every sink some set writes to.
    public var allSinks: [LinkTrackDestination] {
        var sinks: [LinkTrackDestination] = []
        for set in configuration.configurationSets {
            for kind in [EventKind.open, .click] {
                for sink in self.sinks(for: set, kind: kind) where !sinks.contains(sink) { sinks.append(sink) }
            }
        }
        return sinks
    }
}
