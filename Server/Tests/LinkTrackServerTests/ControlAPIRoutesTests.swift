#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LinkTrack
import LinkTrackServer
import LinkTrackServerCore
import NIOCore
import Testing

/// The control API's HTTP edge through Hummingbird's router: the raw target, the authority as
/// `host`, the body, and SES's answer (status, `X-Amzn-ErrorType`, JSON) on the way out.
@Suite("Control API routes")
struct ControlAPIRoutesTests {
    static let key = "AKIDROUTES"
    static let secret = "routes-secret"

    /// A configuration file in a fresh directory and the API over it.
    static func api() throws -> (ControlAPI, String) {
        var template = Array("/tmp/linktrack-controlapi-routes-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        let path = directory + "/config.json"
        let text = """
            {"ConfigurationSets": [{"ConfigurationSetName": "marketing", "TrackingOptions": {"CustomRedirectDomain": "links.example.com"}}],
             "AccessKeys": [{"AccessKeyId": "\(key)", "SecretAccessKey": "\(secret)"}]}
            """
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try FileIO.write(fileDescriptor: fd, Array(text.utf8))
        close(fd)
        let settings = try ControlAPISettings(document: try JSONValue.parse(Array(text.utf8)))
        return (ControlAPI(settings: settings, file: ConfigurationFile(path: path)), path)
    }

    static func cleanUp(_ path: String) {
        let directory = String(path[..<path.lastIndex(of: "/")!])
        unlink(path)
        rmdir(directory)
    }

    /// SigV4 headers for a request to host `localhost` (the router test framework's authority).
    static func signedHeaders(method: String, target: String, body: String) -> HTTPFields {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let timestamp = SigV4Time.formatBasic(Int64(ts.tv_sec))
        let path = String(target.prefix { $0 != "?" })
        let query = target.contains("?") ? String(target[target.index(after: target.firstIndex(of: "?")!)...]) : ""
        let headers: [(name: String, value: String)] = [("host", "localhost"), ("x-amz-date", timestamp)]
        let canonical = SigV4Canonical.request(method: method, rawPath: path, rawQuery: query, headers: headers,
                                               signedHeaders: ["host", "x-amz-date"], payloadHash: SigV4Canonical.hexSHA256(Array(body.utf8)))
        let scope = "\(timestamp.prefix(8))/us-east-1/ses/aws4_request"
        let key = SigV4Canonical.signingKey(secret: Array(secret.utf8), date: String(timestamp.prefix(8)), region: "us-east-1", service: "ses")
        let signature = SigV4Canonical.signature(signingKey: key, stringToSign: SigV4Canonical.stringToSign(
            timestamp: timestamp, scope: scope, canonicalRequest: canonical))
        var fields = HTTPFields()
        fields[HTTPField.Name("X-Amz-Date")!] = timestamp
        fields[.authorization] = "AWS4-HMAC-SHA256 Credential=\(Self.key)/\(scope), SignedHeaders=host;x-amz-date, Signature=\(signature)"
        fields[.contentType] = "application/json"
        return fields
    }

    static let errorType = HTTPField.Name("X-Amzn-ErrorType")!

    @Test func signedRequestsReachTheAPIWithTheRawPath() async throws {
        let (api, path) = try Self.api()
        defer { Self.cleanUp(path) }
        let router = Router(context: BasicRequestContext.self)
        addControlAPIRoutes(to: router, api: api)
        try await Application(router: router).test(.router) { client in
            let target = "/v2/email/configuration-sets/x%2Fy/tracking-options"
            try await client.execute(uri: target, method: .put, headers: Self.signedHeaders(method: "PUT", target: target, body: "{}"),
                                     body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[Self.errorType] == "NotFoundException")
                #expect(response.headers[.contentType] == "application/json")
                #expect(String(buffer: response.body) == #"{"message":"Configuration set x/y does not exist."}"#)
            }
            let put = "/v2/email/configuration-sets/marketing/tracking-options"
            let body = #"{"CustomRedirectDomain": "new.example.com", "HttpsPolicy": "REQUIRE"}"#
            try await client.execute(uri: put, method: .put, headers: Self.signedHeaders(method: "PUT", target: put, body: body),
                                     body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "{}")
                #expect(response.headers[HTTPField.Name("x-amzn-RequestId")!] != nil)
            }
            let list = "/v2/email/configuration-sets?PageSize=1"
            try await client.execute(uri: list, method: .get, headers: Self.signedHeaders(method: "GET", target: list, body: "")) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"ConfigurationSets":["marketing"]}"#)
            }
        }
        let configuration = try Configuration(json: FileIO.readAll(path: path))
        #expect(try configuration.configurationSet(named: "marketing").customRedirectDomain == "new.example.com")
    }

    @Test func unsignedAndOversizedRequestsAreRefused() async throws {
        let (api, path) = try Self.api()
        defer { Self.cleanUp(path) }
        let router = Router(context: BasicRequestContext.self)
        addControlAPIRoutes(to: router, api: api, bodyLimit: 64)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/v2/email/configuration-sets", method: .get) { response in
                #expect(response.status == .forbidden)
                #expect(response.headers[Self.errorType] == "MissingAuthenticationTokenException")
                #expect(String(buffer: response.body) == #"{"message":"Missing Authentication Token"}"#)
            }
            let body = String(repeating: "x", count: 65)
            try await client.execute(uri: "/v2/email/configuration-sets", method: .post,
                                     headers: Self.signedHeaders(method: "POST", target: "/v2/email/configuration-sets", body: body),
                                     body: ByteBuffer(string: body)) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.headers[Self.errorType] == "RequestEntityTooLargeException")
            }
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .notFound)  // only /v2/** belongs to the control API
            }
        }
    }
}
