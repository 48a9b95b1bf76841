import LinkTrack

/// Why a tracking request was refused (a 404 for a click, a GIF without an event for an open).
/// The raw values are the `reason` label of the bad-token metrics.
public enum BadTokenReason: String, Sendable, Hashable, CaseIterable {
    /// The `Host` is not the `CustomRedirectDomain` of any configuration set.
    case unknownHost = "unknown-host"
    /// The path is neither `/c/<token>` nor `/o/<token>`, or the token is not one of ours.
    case malformed
    /// The token names a key not in `SigningKeys`.
    case unknownKey = "unknown-key"
    /// The MAC does not match: the URL was altered.
    case badSignature = "bad-signature"
    /// The token is valid but names a set that does not exist, or whose domain is not this `Host`.
    case wrongHost = "wrong-host"
    /// The signed destination holds bytes that cannot go into a `Location` header.
    case unsafeDestination = "unsafe-destination"
    /// The configuration has no signing keys.
    case noKeys = "no-keys"
}

/// What the redirect domain answers to one request, decided without any I/O.
public enum TrackingOutcome: Sendable, Equatable {
    /// `302 Found` to `location`; record `event` (nil for HEAD or a set that records no clicks) in `sinks`.
    case redirect(location: String, event: TrackingEvent?, sinks: [LinkTrackDestination])
    /// `200` with the GIF; record `event` (nil for HEAD or a set that records no opens) in `sinks`.
    case pixel(event: TrackingEvent?, sinks: [LinkTrackDestination])
    /// A refused open token: still the GIF (no broken image in the reader's mail), no event.
    case pixelRefused(BadTokenReason)
    /// A refused click token, or a path that is not ours: `404`, never a redirect.
    case notFound(BadTokenReason)
    /// Neither GET nor HEAD: `405`.
    case methodNotAllowed
}

/// One request to a redirect domain, as the HTTP layer hands it over.
public struct TrackingRequest: Sendable {
    public var isHead: Bool
    public var isGetOrHead: Bool
    /// The `Host` (authority) as sent, or nil.
    public var host: String?
    /// The request target as sent: path and query, undecoded.
    public var target: String
    public var peer: IPAddress?
    public var forwardedFor: [String]
    public var userAgent: String?
    public var nowMilliseconds: Int64

    public init(isHead: Bool, isGetOrHead: Bool = true, host: String?, target: String, peer: IPAddress?,
                forwardedFor: [String] = [], userAgent: String?, nowMilliseconds: Int64) {
        self.isHead = isHead
        self.isGetOrHead = isGetOrHead
        self.host = host
        self.target = target
        self.peer = peer
        self.forwardedFor = forwardedFor
        self.userAgent = userAgent
        self.nowMilliseconds = nowMilliseconds
    }
}

/// Turns a request into a ``TrackingOutcome`` under one configuration.
public struct TrackingResolver: Sendable {
    public let configuration: ServerConfiguration
    public let rules: MachineRules
    public let bursts: ClickBurstDetector

    public init(configuration: ServerConfiguration, bursts: ClickBurstDetector, rules: MachineRules = MachineRules()) {
        self.configuration = configuration
        self.bursts = bursts
        self.rules = rules
    }

    public func resolve(_ request: TrackingRequest) -> TrackingOutcome {
        let isOpenPath = request.target.utf8.starts(with: "/o/".utf8)
        let isClickPath = request.target.utf8.starts(with: "/c/".utf8)
        func refuse(_ reason: BadTokenReason) -> TrackingOutcome {
            isOpenPath ? .pixelRefused(reason) : .notFound(reason)
        }
        guard request.isGetOrHead else { return .methodNotAllowed }
        guard isOpenPath || isClickPath else { return .notFound(.malformed) }
        guard let rawHost = request.host else { return refuse(.unknownHost) }
        let host = ServerConfiguration.normalizedHost(rawHost)
        guard let setNames = configuration.setNamesByDomain[host] else { return refuse(.unknownHost) }
        guard let signer = configuration.signer else { return refuse(.noKeys) }

        let token: TrackingToken
        do {
            token = try signer.decode("http://" + host + request.target)
        } catch {
            switch error.kind {
            case .unknownKey: return refuse(.unknownKey)
            case .badSignature: return refuse(.badSignature)
            default: return refuse(.malformed)
            }
        }
        let ip = ClientAddress.resolve(peer: request.peer, forwardedFor: request.forwardedFor,
                                       trustedProxies: configuration.trustedProxies)
        switch token {
        case .click(let click):
            guard isClickPath else { return refuse(.malformed) }
            guard setNames.contains(click.configurationSet), let set = configuration.setsByName[click.configurationSet] else {
                return refuse(.wrongHost)
            }
            guard Self.isSafeLocation(click.destination) else { return refuse(.unsafeDestination) }
            let sinks = configuration.sinks(for: set, kind: .click)
            guard !request.isHead, !sinks.isEmpty else {
                return .redirect(location: click.destination, event: nil, sinks: [])
            }
            var reasons = rules.clickReasons(userAgent: request.userAgent)
            if bursts.record(messageId: click.messageId, linkIndex: click.linkIndex, atMilliseconds: request.nowMilliseconds) {
                reasons.append(.clickBurst)
            }
            let event = TrackingEvent(kind: .click, timestampMilliseconds: request.nowMilliseconds,
                                      configurationSet: set.name, messageId: click.messageId,
                                      messageTags: click.messageTags, ipAddress: ip?.text ?? "",
                                      userAgent: request.userAgent, link: click.destination,
                                      linkIndex: click.linkIndex, linkTags: click.linkTags, machineReasons: reasons)
            return .redirect(location: click.destination, event: event, sinks: sinks)
        case .open(let open):
            guard isOpenPath else { return refuse(.malformed) }
            guard setNames.contains(open.configurationSet), let set = configuration.setsByName[open.configurationSet] else {
                return refuse(.wrongHost)
            }
            let sinks = configuration.sinks(for: set, kind: .open)
            guard !request.isHead, !sinks.isEmpty else { return .pixel(event: nil, sinks: []) }
            let event = TrackingEvent(kind: .open, timestampMilliseconds: request.nowMilliseconds,
                                      configurationSet: set.name, messageId: open.messageId,
                                      messageTags: open.messageTags, ipAddress: ip?.text ?? "",
                                      userAgent: request.userAgent,
                                      machineReasons: rules.openReasons(ipAddress: ip, userAgent: request.userAgent))
            return .pixel(event: event, sinks: sinks)
        }
    }

    /// Whether `location` can be sent as a `Location` value byte for byte: visible ASCII and
    /// non-ASCII UTF-8 only (no control characters, spaces or DEL).
    public static func isSafeLocation(_ location: String) -> Bool {
        var location = location
        // One pass over the contiguous bytes (a generic walk of the UTF-8 view cost more than the rest
        // of the check per request).
        return location.withUTF8 { bytes in !bytes.isEmpty && !bytes.contains { $0 <= 0x20 || $0 == 0x7F } }
    }
}
