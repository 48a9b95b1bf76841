import LinkTrack

/// Bounds of the control API, as SES has quotas.
public struct ControlAPILimits: Sendable, Equatable {
    /// Configuration sets in one file, at most (SES: 10,000 per region).
    public var maximumConfigurationSets = 10_000
    /// Event destinations of one configuration set, at most (SES: 10).
    public var maximumEventDestinations = 10
    /// `PageSize` of ListConfigurationSets, at most; also the page size when none is given.
    public var maximumPageSize = 1_000

    public init() {}
}

/// The SES v2 operations as pure functions on the configuration document: each takes the
/// document (and the request's members) and returns the new document or the response body.
/// Validation of the whole result is the ``ConfigurationFile``'s, with the library's code.
enum ControlAPIOperations {
    /// Keys of a configuration set that GetConfigurationSet returns (SES's response shape).
    static let getConfigurationSetKeys: [String] = [
        "ConfigurationSetName", "TrackingOptions", "DeliveryOptions", "ReputationOptions",
        "SendingOptions", "Tags", "SuppressionOptions", "VdmOptions", "ArchivingOptions",
    ]
    /// Keys of an `EventDestinationDefinition`, plus LinkTrack's own `LinkTrackDestination`.
    static let eventDestinationDefinitionKeys: Set<String> = [
        "Enabled", "MatchingEventTypes", "KinesisFirehoseDestination", "CloudWatchDestination",
        "SnsDestination", "EventBridgeDestination", "PinpointDestination", "LinkTrackDestination",
    ]

    // MARK: - Reading the document

    static func sets(_ document: JSONValue) -> [JSONValue] {
        if case .array(let items)? = document["ConfigurationSets"] { return items }
        return []
    }

    static func name(of set: JSONValue) -> String? {
        if case .string(let name)? = set["ConfigurationSetName"] { return name }
        return nil
    }

    static func set(named name: String, in document: JSONValue) throws(ControlAPIError) -> JSONValue {
        guard let set = sets(document).first(where: { self.name(of: $0) == name }) else { throw .setNotFound(name) }
        return set
    }

    /// Replaces the configuration set named `name` with what `edit` makes of its members.
    static func editingSet(named name: String, in document: JSONValue,
                           _ edit: (inout [(key: String, value: JSONValue)]) throws(ControlAPIError) -> Void)
        throws(ControlAPIError) -> JSONValue
    {
        var top = document.objectMembers
        var items = sets(document)
        guard let index = items.firstIndex(where: { self.name(of: $0) == name }) else { throw .setNotFound(name) }
        var members = items[index].objectMembers
        try edit(&members)
        items[index] = .object(members)
        top.set("ConfigurationSets", .array(items))
        return .object(top)
    }

    // MARK: - Configuration sets

    static let createConfigurationSetKeys: Set<String> = Set(getConfigurationSetKeys)

    /// CreateConfigurationSet: appends `{ConfigurationSetName, <the other members as sent>}`.
    static func createConfigurationSet(_ document: JSONValue, body: [UInt8], limits: ControlAPILimits)
        throws(ControlAPIError) -> JSONValue
    {
        let request = try ControlAPIJSON.requestObject(body, operation: "CreateConfigurationSet", allowed: createConfigurationSetKeys)
        guard let name = try ControlAPIJSON.string(request, "ConfigurationSetName") else {
            throw .badRequest("ConfigurationSetName is required.")
        }
        do {
            try Configuration.validateConfigurationSetName(name)
        } catch {
            throw .configuration(error)
        }
        if let options = request[member: "TrackingOptions"] {
            guard case .object = options else {
                throw .badRequest("Invalid type for TrackingOptions: expected object, found \(ControlAPIJSON.typeName(options)).")
            }
            try validateTrackingOptions(options.objectMembers)
        }
        var items = sets(document)
        if items.contains(where: { self.name(of: $0) == name }) {
            throw .alreadyExists("Configuration set \(name) already exists.")
        }
        guard items.count < limits.maximumConfigurationSets else {
            throw .limitExceeded("You have reached the maximum number of configuration sets (\(limits.maximumConfigurationSets)).")
        }
        var members: [(key: String, value: JSONValue)] = [("ConfigurationSetName", .string(name))]
        members += request.filter { $0.key != "ConfigurationSetName" }
        items.append(.object(members))
        var top = document.objectMembers
        top.set("ConfigurationSets", .array(items))
        return .object(top)
    }

    /// Checks a `TrackingOptions` object's domain and policy with the library's functions, for
    /// their messages (the whole result is validated again on write).
    static func validateTrackingOptions(_ members: [(key: String, value: JSONValue)]) throws(ControlAPIError) {
        for member in members {
            guard member.key == "CustomRedirectDomain" || member.key == "HttpsPolicy" else {
                throw .badRequest("Unknown key \(JSONValue.quoted(member.key)) in TrackingOptions.")
            }
            guard case .string(let text) = member.value else {
                throw .badRequest("Invalid type for TrackingOptions.\(member.key): expected string, found \(ControlAPIJSON.typeName(member.value)).")
            }
            do {
                if member.key == "CustomRedirectDomain" {
                    try Configuration.validateRedirectDomain(text)
                } else {
                    _ = try Configuration.parseHttpsPolicy(text)
                }
            } catch {
                throw .configuration(error)
            }
        }
    }

    /// GetConfigurationSet: the set's members of SES's response shape, in the order stored.
    static func getConfigurationSet(_ document: JSONValue, name: String) throws(ControlAPIError) -> JSONValue {
        let set = try set(named: name, in: document)
        return .object(set.objectMembers.filter { getConfigurationSetKeys.contains($0.key) })
    }

    /// ListConfigurationSets: names in byte order, `PageSize` at a time; `NextToken` is the
    /// base64url of the last name returned, so a token stays good while sets come and go.
    static func listConfigurationSets(_ document: JSONValue, rawQuery: String, limits: ControlAPILimits)
        throws(ControlAPIError) -> JSONValue
    {
        var pageSize = limits.maximumPageSize
        var after: String?
        for (key, value) in try ControlAPIRoute.queryParameters(rawQuery) {
            switch key {
            case "PageSize":
                guard let n = Int(value), n >= 1, n <= limits.maximumPageSize else {
                    throw .badRequest("Invalid PageSize value \(JSONValue.quoted(value)): expected an integer from 1 to \(limits.maximumPageSize).")
                }
                pageSize = n
            case "NextToken":
                guard let name = ControlAPIJSON.fromBase64URL(value) else {
                    throw .badRequest("Invalid NextToken value \(JSONValue.quoted(value)): use the NextToken of a previous ListConfigurationSets response.")
                }
                after = name
            default:
                continue
            }
        }
        let names = sets(document).compactMap(name(of:)).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let remaining = after.map { last in names.filter { Array(last.utf8).lexicographicallyPrecedes(Array($0.utf8)) } } ?? names
        let page = Array(remaining.prefix(pageSize))
        var members: [(key: String, value: JSONValue)] = [("ConfigurationSets", .array(page.map { .string($0) }))]
        if remaining.count > page.count, let last = page.last {
            members.append(("NextToken", .string(ControlAPIJSON.base64URL(last))))
        }
        return .object(members)
    }

    /// DeleteConfigurationSet. The set named by `DefaultConfigurationSet` is refused: mail without
    /// a set header would otherwise change behaviour silently.
    static func deleteConfigurationSet(_ document: JSONValue, name: String) throws(ControlAPIError) -> JSONValue {
        var items = sets(document)
        guard let index = items.firstIndex(where: { self.name(of: $0) == name }) else { throw .setNotFound(name) }
        if case .string(name)? = document["DefaultConfigurationSet"] {
            throw .badRequest("Configuration set \(name) is the DefaultConfigurationSet of the configuration; change DefaultConfigurationSet in the file before deleting the set.")
        }
        items.remove(at: index)
        var top = document.objectMembers
        top.set("ConfigurationSets", .array(items))
        return .object(top)
    }

    /// PutConfigurationSetTrackingOptions: the library's own edit (the `put` command's).
    static func putConfigurationSetTrackingOptions(_ document: JSONValue, name: String, body: [UInt8])
        throws(ControlAPIError) -> JSONValue
    {
        let request = try ControlAPIJSON.requestObject(body, operation: "PutConfigurationSetTrackingOptions",
                                                       allowed: ["CustomRedirectDomain", "HttpsPolicy"])
        let domain = try ControlAPIJSON.string(request, "CustomRedirectDomain")
        let policy = try ControlAPIJSON.string(request, "HttpsPolicy")
        do {
            return try Configuration.putConfigurationSetTrackingOptions(
                document: document, configurationSetName: name, customRedirectDomain: domain, httpsPolicy: policy)
        } catch {
            throw .configuration(error)
        }
    }

    // MARK: - Event destinations

    static func destinations(of members: [(key: String, value: JSONValue)]) -> [JSONValue] {
        if case .array(let items)? = members[member: "EventDestinations"] { return items }
        return []
    }

    static func destinationName(_ destination: JSONValue) -> String? {
        if case .string(let name)? = destination["Name"] { return name }
        return nil
    }

    static func destinationNotFound(_ destination: String, set: String) -> ControlAPIError {
        .notFound("Event destination \(destination) does not exist in configuration set \(set).")
    }

    /// Validates an `EventDestinationName`: 1 to 64 characters of `[A-Za-z0-9_-]`, as SES requires.
    static func validateDestinationName(_ name: String) throws(ControlAPIError) {
        let bytes = Array(name.utf8)
        let valid = !bytes.isEmpty && bytes.count <= 64 && bytes.allSatisfy {
            (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
                || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
        guard valid else {
            throw .badRequest("Invalid EventDestinationName value \(JSONValue.quoted(name)): use 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'.")
        }
    }

    /// The members of a request's `EventDestination` (an `EventDestinationDefinition`).
    static func definition(_ request: [(key: String, value: JSONValue)]) throws(ControlAPIError) -> [(key: String, value: JSONValue)] {
        guard let value = request[member: "EventDestination"] else { throw .badRequest("EventDestination is required.") }
        guard case .object(let members) = value else {
            throw .badRequest("Invalid type for EventDestination: expected object, found \(ControlAPIJSON.typeName(value)).")
        }
        for member in members where !eventDestinationDefinitionKeys.contains(member.key) {
            throw .badRequest("Unknown key \(JSONValue.quoted(member.key)) in EventDestination.")
        }
        guard members.contains(where: { $0.key == "MatchingEventTypes" }) else {
            throw .badRequest("EventDestination.MatchingEventTypes is required.")
        }
        return members.filter { $0.value != .null }
    }

    /// CreateConfigurationSetEventDestination: appends `{Name, <the definition as sent>}` to the
    /// set's `EventDestinations`.
    static func createEventDestination(_ document: JSONValue, set setName: String, body: [UInt8], limits: ControlAPILimits)
        throws(ControlAPIError) -> JSONValue
    {
        let request = try ControlAPIJSON.requestObject(body, operation: "CreateConfigurationSetEventDestination",
                                                       allowed: ["EventDestinationName", "EventDestination"])
        guard let name = try ControlAPIJSON.string(request, "EventDestinationName") else {
            throw .badRequest("EventDestinationName is required.")
        }
        try validateDestinationName(name)
        let definition = try definition(request)
        return try editingSet(named: setName, in: document) { (members) throws(ControlAPIError) in
            var items = destinations(of: members)
            if items.contains(where: { destinationName($0) == name }) {
                throw .alreadyExists("Event destination \(name) already exists in configuration set \(setName).")
            }
            guard items.count < limits.maximumEventDestinations else {
                throw .limitExceeded("Configuration set \(setName) already has the maximum number of event destinations (\(limits.maximumEventDestinations)).")
            }
            items.append(.object([("Name", .string(name))] + definition))
            members.set("EventDestinations", .array(items), after: members[member: "TrackingOptions"] == nil ? "ConfigurationSetName" : "TrackingOptions")
        }
    }

    /// GetConfigurationSetEventDestinations: `{"EventDestinations": [...]}` as stored.
    static func getEventDestinations(_ document: JSONValue, set setName: String) throws(ControlAPIError) -> JSONValue {
        let set = try set(named: setName, in: document)
        return .object([("EventDestinations", .array(destinations(of: set.objectMembers)))])
    }

    /// UpdateConfigurationSetEventDestination: replaces the destination's definition with the one
    /// sent, keeping its place and name. A `LinkTrackDestination` stored before is kept when the
    /// request does not mention it: SES clients cannot send that key, and toggling `Enabled`
    /// must not move the events to another sink.
    static func updateEventDestination(_ document: JSONValue, set setName: String, destination name: String, body: [UInt8])
        throws(ControlAPIError) -> JSONValue
    {
        let request = try ControlAPIJSON.requestObject(body, operation: "UpdateConfigurationSetEventDestination",
                                                       allowed: ["EventDestination"])
        var definition = try definition(request)
        return try editingSet(named: setName, in: document) { (members) throws(ControlAPIError) in
            var items = destinations(of: members)
            guard let index = items.firstIndex(where: { destinationName($0) == name }) else {
                throw destinationNotFound(name, set: setName)
            }
            if definition[member: "LinkTrackDestination"] == nil, let kept = items[index]["LinkTrackDestination"] {
                definition.append(("LinkTrackDestination", kept))
            }
            items[index] = .object([("Name", .string(name))] + definition)
            members.set("EventDestinations", .array(items))
        }
    }

    /// DeleteConfigurationSetEventDestination. The set keeps `"EventDestinations": []` when its last
    /// destination goes: as in SES, a set with no destination publishes no events (a set without
    /// the key at all would track both kinds, LinkTrack's default).
    static func deleteEventDestination(_ document: JSONValue, set setName: String, destination name: String)
        throws(ControlAPIError) -> JSONValue
    {
        try editingSet(named: setName, in: document) { (members) throws(ControlAPIError) in
            var items = destinations(of: members)
            guard let index = items.firstIndex(where: { destinationName($0) == name }) else {
                throw destinationNotFound(name, set: setName)
            }
            items.remove(at: index)
            members.set("EventDestinations", .array(items))
        }
    }
}
