import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LinkTrack
import LinkTrackServer
import LinkTrackServerCore
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing

/// A webhook receiver, in this process on a real socket: it checks every batch's signature with its
/// own HMAC (not the server's code), refuses stale timestamps, answers 503 until told otherwise,
/// and records the events it accepted.
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var timestamp: String
        var signature: String
        var body: [UInt8]
    }
    struct State {
        var unavailable = true
        var accepted: [Delivery] = []
        var eventIds: [String] = []
        var refusedSignatures = 0
        var answered503 = 0
    }
    let secret: [UInt8]
    let state = Mutex(State())

    init(secret: [UInt8]) { self.secret = secret }

    func expectedSignature(timestamp: String, body: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(timestamp.utf8) + [UInt8(ascii: ".")] + body,
                                                  using: SymmetricKey(data: secret))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/hook") { request, context -> Response in
            let body = Array(buffer: try await request.body.collect(upTo: 16 << 20))
            let timestamp = request.headers[HTTPField.Name("X-LinkTrack-Timestamp")!] ?? ""
            let signature = request.headers[HTTPField.Name("X-LinkTrack-Signature")!] ?? ""
            let now = Int(Date().timeIntervalSince1970)
            guard let t = Int(timestamp), abs(now - t) <= 300,
                  signature == self.expectedSignature(timestamp: timestamp, body: body) else {
                self.state.withLock { $0.refusedSignatures += 1 }
                return Response(status: .unauthorized)
            }
            if self.state.withLock({ s -> Bool in
                if s.unavailable { s.answered503 += 1 }
                return s.unavailable
            }) {
                return Response(status: .serviceUnavailable)
            }
            guard case .array(let events)? = try JSONValue.parse(body)["Events"] else { return Response(status: .badRequest) }
            let ids = events.compactMap { event -> String? in
                if case .string(let id)? = event["linkTrack"]?["eventId"] { return id }
                return nil
            }
            self.state.withLock {
                $0.accepted.append(Delivery(timestamp: timestamp, signature: signature, body: body))
                $0.eventIds += ids
            }
            return Response(status: .noContent)
        }
        return router
    }
}

struct WebhookSinkTests {
    let registry = PrometheusCollectorRegistry()
    var metrics: ServerMetrics { ServerMetrics(factory: PrometheusMetricsFactory(registry: registry)) }

    @Test func theBodyIsTheSESEventsUnderEvents() throws {
        let events = [makeEvent(1), awkwardEvent(2)]
        let body = WebhookEventSink.body(events)
        let parsed = try JSONValue.parse(body)
        guard case .array(let items)? = parsed["Events"] else { Issue.record("no Events"); return }
        #expect(items.count == 2)
        #expect(String(decoding: body, as: UTF8.self) == "{\"Events\":[" + events.map(\.sesJSON).joined(separator: ",") + "]}")
    }

    @Test func theSignatureIsHMACOfTimestampDotBody() {
        let secret = Array("topsecret".utf8)
        let body = Array("{\"Events\":[]}".utf8)
        let signature = WebhookSignature.sign(secret: secret, timestamp: "1767225600", body: body)
        let mac = HMAC<SHA256>.authenticationCode(for: Array("1767225600.".utf8) + body, using: SymmetricKey(data: secret))
        #expect(signature == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
        #expect(WebhookSignature.verify(secret: secret, timestamp: "1767225600", body: body, signature: signature, now: 1_767_225_700))
        #expect(!WebhookSignature.verify(secret: secret, timestamp: "1767225600", body: body + [0x20], signature: signature, now: 1_767_225_700))
        #expect(!WebhookSignature.verify(secret: secret, timestamp: "1767225600", body: body, signature: signature, now: 1_767_226_000))
    }

    @Test func nameHidesCredentials() {
        #expect(WebhookEventSink.redacted("https://user:pw@hooks.example.com/x?token=abc") == "https://hooks.example.com/x")
    }

    @Test func batchesAreSignedSpooledWhileTheReceiverAnswers503AndDeliveredAfterwards() async throws {
        let dir = try temporarySpoolDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secret = Array("webhook secret \(UUID().uuidString)".utf8)
        try Data(secret + [0x0A]).write(to: URL(fileURLWithPath: dir + "/secret"))
        let receiver = WebhookReceiver(secret: secret)
        let app = Application(router: receiver.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let sink = WebhookEventSink(url: "http://127.0.0.1:\(port)/hook", secretFile: dir + "/secret", logger: Logger(label: "t"))
            let spool = EventSpool(directory: dir + "/spool", key: "hook", sinkDescription: "webhook", limitBytes: 1 << 30)
            let writer = EventWriter(sink: sink, metrics: metrics, logger: Logger(label: "t"),
                                     acknowledgementTimeout: .seconds(3), maximumBatch: 50, spool: spool)
            try await withRunning(writer) {
                let acks = await withTaskGroup(of: WriteAcknowledgement.self) { group in
                    for i in 0..<300 { group.addTask { await writer.submit(makeEvent(i)) } }
                    return await group.reduce(into: [WriteAcknowledgement]()) { $0.append($1) }
                }
                // 503: nothing was taken, every event is on disk.
                #expect(acks.allSatisfy { $0 == .spooled }, "\(Set(acks.map { "\($0)" }))")
                #expect(receiver.state.withLock { $0.answered503 } > 0)
                #expect(!writer.isHealthy)
                #expect(writer.lastError?.contains("503") == true)
                #expect(spool.status.pendingEvents == 300)
                // The receiver recovers: the spool drains, in the spool's order, in signed batches of at most 50.
                receiver.state.withLock { $0.unavailable = false }
                let deadline = ContinuousClock.now + .seconds(20)
                while spool.status.pendingBytes > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
                #expect(spool.status.pendingBytes == 0)
                #expect(writer.isHealthy)
                #expect(await writer.submit(makeEvent(300)) == .written)
            }
            let state = receiver.state.withLock { $0 }
            #expect(state.refusedSignatures == 0)
            // Each once (the 300 were handed over concurrently, so in no particular order), the last after them.
            #expect(state.eventIds.count == 301 && Set(state.eventIds) == Set((0...300).map { "e\($0)" }))
            #expect(state.eventIds.last == "e300")
            #expect(state.accepted.allSatisfy { try! JSONValue.parse($0.body)["Events"].map { v in
                if case .array(let a) = v { return a.count <= 50 } else { return false } } ?? false })

            // A tampered batch is refused: one byte of a delivered body changed, its signature kept.
            let original = try #require(state.accepted.first)
            var tampered = original.body
            let index = try #require(tampered.firstIndex(of: UInt8(ascii: "0")))
            tampered[index] = UInt8(ascii: "9")
            var headers = HTTPFields()
            headers[HTTPField.Name("X-LinkTrack-Timestamp")!] = original.timestamp
            headers[HTTPField.Name("X-LinkTrack-Signature")!] = original.signature
            headers[.contentType] = "application/json"
            try await client.execute(uri: "/hook", method: .post, headers: headers, body: ByteBuffer(bytes: tampered)) { response in
                #expect(response.status == .unauthorized)
            }
            // The untouched batch still verifies (the receiver's check is not simply refusing everything)...
            try await client.execute(uri: "/hook", method: .post, headers: headers, body: ByteBuffer(bytes: original.body)) { response in
                #expect(response.status == .noContent)
            }
            // ...and an old one, signed correctly, is refused for its timestamp (replay protection).
            let old = String(Int(Date().timeIntervalSince1970) - 3_600)
            headers[HTTPField.Name("X-LinkTrack-Timestamp")!] = old
            headers[HTTPField.Name("X-LinkTrack-Signature")!] = receiver.expectedSignature(timestamp: old, body: original.body)
            try await client.execute(uri: "/hook", method: .post, headers: headers, body: ByteBuffer(bytes: original.body)) { response in
                #expect(response.status == .unauthorized)
            }
            #expect(receiver.state.withLock { $0.refusedSignatures } == 2)
        }
        let text = registry.emitToString()
        #expect(!text.contains("linktrack_events_lost_total"))
        #expect(text.contains("linktrack_events_replayed_total{sink=\"webhook:http://127.0.0.1:"))
    }

    @Test func aMissingSecretFileFailsTheSinkAndTheEventsWait() async throws {
        let dir = try temporarySpoolDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sink = WebhookEventSink(url: "http://127.0.0.1:9/hook", secretFile: dir + "/none", logger: Logger(label: "t"))
        await #expect(throws: SinkError.self) { try await sink.open() }
        try Data().write(to: URL(fileURLWithPath: dir + "/empty"))
        let empty = WebhookEventSink(url: "http://127.0.0.1:9/hook", secretFile: dir + "/empty", logger: Logger(label: "t"))
        await #expect(throws: SinkError.self) { try await empty.open() }
    }
}
