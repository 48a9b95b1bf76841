#if canImport(Glibc)
import Glibc
#endif
import LinkTrack
@testable import LinkTrackServerCore
import Synchronization
import Testing

/// A settable clock for the control API's tests.
final class ControlAPITestClock: Sendable {
    private let times = Mutex((epoch: 1_700_000_000.0, monotonic: 1_000.0))

    var epoch: Double { times.withLock { $0.epoch } }
    func advance(seconds: Double) { times.withLock { $0.epoch += seconds; $0.monotonic += seconds } }

    var clock: ControlAPIClock {
        ControlAPIClock(epochSeconds: { self.times.withLock { $0.epoch } },
                        monotonicSeconds: { self.times.withLock { $0.monotonic } })
    }
}

/// A configuration file in a fresh temporary directory, the ``ControlAPI`` over it, and a signer.
final class ControlAPIHarness: Sendable {
    static let accessKeyId = "AKIDLINKTRACK"
    static let secret = "control-api-secret-1"
    static let signingSecret = Base64Text.encode([UInt8](repeating: 0x5A, count: 32))

    static let baseConfiguration = """
        {
          "ConfigurationSets": [
            {"ConfigurationSetName": "marketing", "TrackingOptions": {"CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE"}}
          ],
          "SigningKeys": [{"KeyId": "k1", "Secret": "\(signingSecret)"}],
          "AccessKeys": [{"AccessKeyId": "\(accessKeyId)", "SecretAccessKey": "\(secret)"},
                         {"AccessKeyId": "AKIDSECOND", "SecretAccessKeyEnvironmentVariable": "LINKTRACK_TEST_SECOND_SECRET"}],
          "ControlAPIThrottle": {"RequestsPerSecond": 1000, "Burst": 1000}
        }
        """

    let directory: String
    let path: String
    let testClock = ControlAPITestClock()
    let api: ControlAPI
    let changes = ChangeCounter()

    /// A new directory under `$TMPDIR` (else `/tmp`).
    static func makeTemporaryDirectory() -> String {
        let base = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/linktrack-controlapi-XXXXXX").utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    init(configuration: String = ControlAPIHarness.baseConfiguration, limits: ControlAPILimits = ControlAPILimits()) throws {
        directory = Self.makeTemporaryDirectory()
        path = directory + "/config.json"
        try Self.write(configuration, to: path)
        let document = try JSONValue.parse(Array(configuration.utf8))
        let settings = try ControlAPISettings(document: document, environment: { $0 == "LINKTRACK_TEST_SECOND_SECRET" ? "second-secret" : nil })
        let changes = self.changes
        let file = ConfigurationFile(path: path, onChange: { changes.increment() })
        api = ControlAPI(settings: settings, file: file, clock: testClock.clock, limits: limits)
    }

    deinit {
        if let entries = try? Self.list(directory) {
            for entry in entries { unlink(directory + "/" + entry) }
        }
        rmdir(directory)
    }

    static func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw IOError(operation: "open", path: path, errorNumber: errno) }
        defer { close(fd) }
        try FileIO.write(fileDescriptor: fd, Array(text.utf8))
    }

    static func list(_ directory: String) throws -> [String] {
        try FileIO.listDirectory(directory).sorted()
    }

    var fileText: String { String(decoding: (try? FileIO.readAll(path: path)) ?? [], as: UTF8.self) }
    var document: JSONValue { (try? JSONValue.parse(Array(fileText.utf8))) ?? .null }
    var changeCount: Int { changes.value }

    final class ChangeCounter: Sendable {
        private let count = Mutex(0)
        func increment() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    /// Sends a request signed by `signer` (the harness's key by default; nil sends it unsigned).
    func send(_ method: String, _ target: String, _ body: String? = nil,
              signer: TestSigV4Signer? = TestSigV4Signer(accessKeyId: ControlAPIHarness.accessKeyId, secret: ControlAPIHarness.secret),
              signedAt: Double? = nil) async -> ControlAPIResponse {
        var headers: [(name: String, value: String)] = [("Host", "127.0.0.1:8081"), ("User-Agent", "aws-cli/1.45.11")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        var sigRequest = SigV4Request(method: method, rawPath: "", headers: headers, body: Array((body ?? "").utf8))
        let request = ControlAPIRequest(method: method, rawTarget: target, headers: headers, body: Array((body ?? "").utf8))
        sigRequest.rawPath = request.rawPath
        sigRequest.rawQuery = request.rawQuery
        if let signer {
            let time = Int64(signedAt ?? testClock.epoch)
            sigRequest = signer.sign(sigRequest, at: time, signedHeaders: ["content-type", "host", "x-amz-date"].filter { name in
                name != "content-type" || body != nil
            })
        }
        return await api.respond(to: ControlAPIRequest(method: method, rawPath: sigRequest.rawPath, rawQuery: sigRequest.rawQuery,
                                                       headers: sigRequest.headers, body: sigRequest.body))
    }
}

extension ControlAPIResponse {
    var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }
    var message: String? {
        if case .string(let m)? = json["message"] { return m }
        return nil
    }
    var errorType: String? { header("X-Amzn-ErrorType") }
}

/// Checks an error answer: status, `X-Amzn-ErrorType`, JSON content type and message.
func expectError(_ response: ControlAPIResponse, _ status: Int, _ code: String, _ message: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(response.status == status, "\(response.bodyText)", sourceLocation: sourceLocation)
    #expect(response.errorType == code, sourceLocation: sourceLocation)
    #expect(response.header("Content-Type") == "application/json", sourceLocation: sourceLocation)
    if let message {
        #expect(response.message == message, sourceLocation: sourceLocation)
    }
}

func expectOK(_ response: ControlAPIResponse, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(response.status == 200, "\(response.errorType ?? ""): \(response.message ?? response.bodyText)", sourceLocation: sourceLocation)
    #expect(response.header("Content-Type") == "application/json", sourceLocation: sourceLocation)
    #expect(response.header("X-Amzn-ErrorType") == nil, sourceLocation: sourceLocation)
}

func names(_ value: JSONValue?) -> [String] {
    guard case .array(let items)? = value else { return [] }
    return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
}
