#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import Crypto
import LinkTrack
import LinkTrackServerCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// `{"Type": "Webhook", "Url": URL, "SecretFile": FILE}`: each batch is one `POST` to the URL:
///
/// ```
/// POST <Url>
/// Content-Type: application/json
/// User-Agent: linktrack-server/<version>
/// X-LinkTrack-Timestamp: <Unix time of this attempt, in seconds>
/// X-LinkTrack-Signature: sha256=<lower-case hex of HMAC-SHA256(secret, "<timestamp>.<body>")>
///
/// {"Events":[<event>,<event>,…]}
/// ```
///
/// Each event is the SES-shaped JSON object that the other sinks store, unchanged; the body is
/// exactly `{"Events":[` + events joined by `,` + `]}`. The secret is the content of `SecretFile`
/// without its trailing line break (read at open and again on SIGHUP). The signed message is the
/// timestamp header's value, a full stop, and the body's bytes exactly as received, so a receiver
/// can refuse a forged or altered batch and, by checking the timestamp (say, within 5 minutes), a
/// captured batch sent again later. A retried batch carries the same events with a fresh timestamp
/// and signature.
///
/// A 2xx answer means the receiver has the batch; anything else (another status, a connection
/// failure, no complete answer within the timeouts: connect 5 s, whole request 15 s) is a failure,
/// and the writer spools the batch and retries it with exponential backoff and jitter, without
/// end: a receiver that refuses a batch (even with a 4xx) holds the spool until it takes it,
/// visible in `/ready`. Redirects are not followed. The receiver sees a batch again when an
/// attempt timed out after it had been taken, or when the server stopped between the receiver's
/// answer and the spool's confirmation: de-duplicate by `linkTrack.eventId`.
public final class WebhookEventSink: EventSink {
    public let url: String
    public let secretFile: String
    /// The whole request, at most.
    public let timeout: Duration
    let logger: Logger

    struct Running {
        var client: HTTPClient
        var secret: [UInt8]
    }
    private let running = Mutex<Running?>(nil)

    public init(url: String, secretFile: String, timeout: Duration = .seconds(15), logger: Logger) {
        self.url = url
        self.secretFile = secretFile
        self.timeout = timeout
        self.logger = logger
    }

    /// `webhook:<url>` without its user information and query (they may hold credentials).
    public var name: String { "webhook:" + Self.redacted(url) }

    public static func redacted(_ url: String) -> String {
        var text = Substring(url)
        if let q = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<q] }
        if let scheme = text.range(of: "://") {
            let afterScheme = text[scheme.upperBound...]
            let authorityEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
            if let at = afterScheme[..<authorityEnd].lastIndex(of: "@") {
                text = text[..<scheme.upperBound] + afterScheme[afterScheme.index(after: at)...]
            }
        }
        return String(text)
    }

    public func open() async throws {
        if running.withLock({ $0 != nil }) { return }
        let secret = try readSecret()
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .seconds(10)),
            decompression: .disabled)
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 2)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration,
                                backgroundActivityLogger: logger)
        let previous = running.withLock { r -> Running? in
            let old = r
            r = Running(client: client, secret: secret)
            return old
        }
        if let previous { try? await previous.client.shutdown() }
    }

    func readSecret() throws -> [UInt8] {
        var bytes: [UInt8]
        do { bytes = try FileIO.readAll(path: secretFile) } catch {
            throw SinkError(sink: name, reason: "SecretFile: \(error)")
        }
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        guard !bytes.isEmpty else { throw SinkError(sink: name, reason: "SecretFile \(secretFile) is empty") }
        return bytes
    }

    /// The body of a batch: `{"Events":[…]}`.
    public static func body(_ events: [TrackingEvent]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(events.count * 600 + 16)
        bytes += Array("{\"Events\":[".utf8)
        for (i, e) in events.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            e.appendSESJSON(to: &bytes)
        }
        bytes += Array("]}".utf8)
        return bytes
    }

    public func write(_ events: [TrackingEvent]) async throws {
        guard let current = running.withLock({ $0 }) else { throw SinkError(sink: name, reason: "not open") }
        let body = Self.body(events)
        let timestamp = String(Self.unixSeconds())
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "linktrack-server/\(ServerVersion.current)")
        request.headers.add(name: "X-LinkTrack-Timestamp", value: timestamp)
        request.headers.add(name: WebhookSignature.header,
                            value: WebhookSignature.sign(secret: current.secret, timestamp: timestamp, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        let seconds = timeout.components.seconds
        do {
            let response = try await current.client.execute(request, timeout: .seconds(seconds))
            // Read (at most 64 KiB of) the answer so the connection can be reused.
            let answer = try? await response.body.collect(upTo: 64 << 10)
            guard (200..<300).contains(Int(response.status.code)) else {
                let snippet = answer.map { String(buffer: $0).prefix(200) } ?? ""
                throw SinkError(sink: name, reason: "the receiver answered \(response.status.code) \(response.status.reasonPhrase) \(snippet)")
            }
        } catch let error as SinkError {
            throw error
        } catch {
            throw SinkError(sink: name, reason: "\(error)")
        }
    }

    static func unixSeconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }

    /// Reads the secret again (rotation: replace the file, then SIGHUP).
    public func reopen() async {
        do {
            let secret = try readSecret()
            running.withLock { r in r?.secret = secret }
        } catch {
            logger.error("cannot read the webhook secret again; the old one stays in use", metadata: [
                "sink": .string(name), "error": .string("\(error)")])
        }
    }

    public func close() async {
        let old = running.withLock { r -> Running? in
            let o = r
            r = nil
            return o
        }
        if let old { try? await old.client.shutdown() }
    }
}

/// The webhook signature: `X-LinkTrack-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
public enum WebhookSignature {
    public static let header = "X-LinkTrack-Signature"
    public static let timestampHeader = "X-LinkTrack-Timestamp"

    public static func sign(secret: [UInt8], timestamp: String, body: [UInt8]) -> String {
        var message = Array(timestamp.utf8)
        message.append(UInt8(ascii: "."))
        message += body
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return "sha256=" + code.map { byte -> String in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Whether `signature` is the signature of `timestamp` and `body` (constant-time compare), and
    /// the timestamp is within `tolerance` seconds of `now`.
    public static func verify(secret: [UInt8], timestamp: String, body: [UInt8], signature: String,
                              now: Int64, tolerance: Int64 = 300) -> Bool {
        guard let t = Int64(timestamp), abs(now - t) <= tolerance else { return false }
        let expected = Array(sign(secret: secret, timestamp: timestamp, body: body).utf8)
        let given = Array(signature.utf8)
        guard expected.count == given.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<expected.count { difference |= expected[i] ^ given[i] }
        return difference == 0
    }
}
