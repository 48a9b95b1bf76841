import LinkTrack
import Synchronization

/// The SES v2 control API (restJson1), without HTTP: one request in, one response out.
///
/// Each request goes through, in order:
/// 1. Signature Version 4 authentication against `AccessKeys` (service `ses`, the configured
///    `Region`): nothing is read, served or written before the signature verifies.
/// 2. The access key's token bucket (`ControlAPIThrottle`): `TooManyRequestsException` when empty.
/// 3. Routing by method and raw path, then the operation, on the configuration file through
///    ``ConfigurationFile`` (reads and changes see the file on disk, hand edits included).
///
/// Errors stay typed (``ControlAPIError``) until ``respond(to:)`` builds SES's answer from them.
public final class ControlAPI: Sendable {
    /// The service name of the credential scope.
    public static let service = "ses"

    private struct State {
        var settings: ControlAPISettings
        var buckets = TokenBuckets()
    }

    private let state: Mutex<State>
    public let file: ConfigurationFile
    let clock: ControlAPIClock
    let limits: ControlAPILimits

    public init(settings: ControlAPISettings, file: ConfigurationFile, clock: ControlAPIClock = .system,
                limits: ControlAPILimits = ControlAPILimits()) {
        self.state = Mutex(State(settings: settings))
        self.file = file
        self.clock = clock
        self.limits = limits
    }

    /// The settings in force.
    public var settings: ControlAPISettings { state.withLock { $0.settings } }

    /// Puts new settings in force (the server calls this when the configuration is reloaded).
    /// Buckets of keys still configured keep their level.
    public func update(settings: ControlAPISettings) {
        state.withLock {
            $0.settings = settings
            $0.buckets.keep(only: settings.secretAccessKeys.keys)
        }
    }

    /// Answers one request: 200 with the operation's JSON, or SES's error answer.
    public func respond(to request: ControlAPIRequest) async -> ControlAPIResponse {
        let requestId = Self.makeRequestId()
        var accessKeyId: String?
        var operation: String?
        do throws(ControlAPIError) {
            accessKeyId = try authenticate(request)
            let route = try ControlAPIRoute(method: request.method, rawPath: request.rawPath)
            operation = route.operation
            let body = try await perform(route, request)
            return ControlAPIResponse(
                status: 200,
                headers: [("Content-Type", "application/json"), ("x-amzn-RequestId", requestId)],
                body: ControlAPIJSON.compact(body), operation: operation, accessKeyId: accessKeyId)
        } catch {
            let answer = error.answer
            return ControlAPIResponse(
                status: answer.status,
                headers: [("Content-Type", "application/json"), ("X-Amzn-ErrorType", answer.code), ("x-amzn-RequestId", requestId)],
                body: ControlAPIJSON.compact(.object([("message", .string(answer.message))])),
                operation: operation, accessKeyId: accessKeyId)
        }
    }

    /// Verifies the signature, then takes a token from the key's bucket.
    /// - Returns: the access key id.
    func authenticate(_ request: ControlAPIRequest) throws(ControlAPIError) -> String {
        let settings = self.settings
        let verifier = SigV4Verifier(service: Self.service, region: settings.region,
                                     secretAccessKeys: settings.secretAccessKeys)
        let accessKeyId: String
        do {
            accessKeyId = try verifier.verify(request, now: Int64(clock.epochSeconds().rounded(.down)))
        } catch {
            throw .authentication(error)
        }
        let now = clock.monotonicSeconds()
        let allowed = state.withLock {
            $0.buckets.take(key: accessKeyId, now: now, requestsPerSecond: $0.settings.requestsPerSecond, burst: $0.settings.burst)
        }
        guard allowed else { throw .tooManyRequests(accessKeyId: accessKeyId) }
        return accessKeyId
    }

    /// Runs an operation: reads answer from the file on disk, changes go through ``ConfigurationFile/update(_:)``.
    /// - Returns: the response body (`{}` for a change).
    func perform(_ route: ControlAPIRoute, _ request: ControlAPIRequest) async throws(ControlAPIError) -> JSONValue {
        let body = request.body
        let query = request.rawQuery
        let limits = self.limits
        switch route {
        case .listConfigurationSets:
            return try ControlAPIOperations.listConfigurationSets(try await file.read(), rawQuery: query, limits: limits)
        case .getConfigurationSet(let name):
            return try ControlAPIOperations.getConfigurationSet(try await file.read(), name: name)
        case .getEventDestinations(let set):
            return try ControlAPIOperations.getEventDestinations(try await file.read(), set: set)
        case .createConfigurationSet:
            try await file.update { (document) throws(ControlAPIError) in
                try ControlAPIOperations.createConfigurationSet(document, body: body, limits: limits)
            }
        case .deleteConfigurationSet(let name):
            try await file.update { (document) throws(ControlAPIError) in
                try ControlAPIOperations.deleteConfigurationSet(document, name: name)
            }
        case .putConfigurationSetTrackingOptions(let name):
            try await file.update { (document) throws(ControlAPIError) in
                try ControlAPIOperations.putConfigurationSetTrackingOptions(document, name: name, body: body)
            }
        case .createEventDestination(let set):
            try await file.update { (document) throws(ControlAPIError) in
                try ControlAPIOperations.createEventDestination(document, set: set, body: body, limits: limits)
            }
        case .updateEventDestination(let set, let destination):
            try await file.update { (document) throws(ControlAPIError) in
                try ControlAPIOperations.updateEventDestination(document, set: set, destination: destination, body: body)
            }
        case .deleteEventDestination(let set, let destination):
            try await file.update { (document) throws(ControlAPIError) in
                try ControlAPIOperations.deleteEventDestination(document, set: set, destination: destination)
            }
        }
        return .object([])
    }

    /// A random request id in UUID form, for `x-amzn-RequestId`.
    static func makeRequestId() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = SigV4Canonical.hex(bytes)
        let h = Array(hex)
        return String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-" + String(h[20..<32])
    }
}
