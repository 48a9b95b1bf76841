import LinkTrackServerCore
import Testing

/// One request of AWS's Signature Version 4 test suite ("aws-sig-v4-test-suite", 2015 edition:
/// AKIDEXAMPLE, 20150830T123600Z, us-east-1, service "service", host example.amazonaws.com), in
/// our own encoding of its inputs: the request line's path and query as they would arrive on the
/// wire, the header fields in order, the body, the signed header names and AWS's published
/// signature.
struct SuiteVector: CustomTestStringConvertible, Sendable {
    var name: String
    var method = "GET"
    var rawPath = "/"
    var rawQuery = ""
    var extraHeaders: [(name: String, value: String)] = []
    var body = ""
    var signedHeaders = "host;x-amz-date"
    var signature: String
    var testDescription: String { name }

    static let suiteTime: Int64 = 1_440_938_160  // 2015-08-30T12:36:00Z
    static let scope = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"

    var request: SigV4Request {
        var headers: [(name: String, value: String)] = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")]
        headers += extraHeaders
        headers.append(("Authorization", "AWS4-HMAC-SHA256 Credential=\(Self.scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return SigV4Request(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: headers, body: Array(body.utf8))
    }
}

let vanillaSignature = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
let postVanillaSignature = "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
let stsToken = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

let suiteVectors: [SuiteVector] = [
    SuiteVector(name: "get-vanilla", signature: vanillaSignature),
    SuiteVector(name: "get-vanilla-query", signature: vanillaSignature),
    SuiteVector(name: "get-vanilla-empty-query-key", rawQuery: "Param1=value1",
                signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"),
    SuiteVector(name: "get-vanilla-query-order-key-case", rawQuery: "Param2=value2&Param1=value1",
                signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    SuiteVector(name: "get-vanilla-query-order-value", rawQuery: "Param1=value2&Param1=value1",
                signature: "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"),
    SuiteVector(name: "get-vanilla-query-unreserved",
                rawQuery: "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
    // The suite's request line holds the raw UTF-8; the same query percent-encoded must sign alike.
    SuiteVector(name: "get-vanilla-utf8-query", rawQuery: "\u{1234}=bar",
                signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
    SuiteVector(name: "get-vanilla-utf8-query (percent-encoded on the wire)", rawQuery: "%E1%88%B4=bar",
                signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
    SuiteVector(name: "get-unreserved", rawPath: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
    SuiteVector(name: "get-utf8", rawPath: "/\u{1234}",
                signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
    SuiteVector(name: "get-space (normalize-path)", rawPath: "/example space/",
                signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
    SuiteVector(name: "get-slashes (normalize-path)", rawPath: "//example//",
                signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
    SuiteVector(name: "get-slash (normalize-path)", rawPath: "//", signature: vanillaSignature),
    SuiteVector(name: "get-slash-dot-slash (normalize-path)", rawPath: "/./", signature: vanillaSignature),
    SuiteVector(name: "get-relative (normalize-path)", rawPath: "/example/..", signature: vanillaSignature),
    SuiteVector(name: "get-relative-relative (normalize-path)", rawPath: "/example1/example2/../..", signature: vanillaSignature),
    SuiteVector(name: "get-header-key-duplicate",
                extraHeaders: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
                signedHeaders: "host;my-header1;x-amz-date",
                signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
    SuiteVector(name: "get-header-value-order",
                extraHeaders: [("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"), ("My-Header1", "value2")],
                signedHeaders: "host;my-header1;x-amz-date",
                signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
    SuiteVector(name: "get-header-value-trim",
                extraHeaders: [("My-Header1", " value1"), ("My-Header2", "\"a   b   c\"")],
                signedHeaders: "host;my-header1;my-header2;x-amz-date",
                signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
    SuiteVector(name: "post-vanilla", method: "POST", signature: postVanillaSignature),
    SuiteVector(name: "post-header-key-case", method: "POST", signature: postVanillaSignature),
    SuiteVector(name: "post-header-key-sort", method: "POST", extraHeaders: [("My-Header1", "value1")],
                signedHeaders: "host;my-header1;x-amz-date",
                signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
    SuiteVector(name: "post-header-value-case", method: "POST", extraHeaders: [("My-Header1", "VALUE1")],
                signedHeaders: "host;my-header1;x-amz-date",
                signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
    SuiteVector(name: "post-sts-header-before", method: "POST", extraHeaders: [("X-Amz-Security-Token", stsToken)],
                signedHeaders: "host;x-amz-date;x-amz-security-token",
                signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"),
    SuiteVector(name: "post-sts-header-after", method: "POST", extraHeaders: [("X-Amz-Security-Token", stsToken)],
                signature: postVanillaSignature),
    SuiteVector(name: "post-vanilla-query", method: "POST", rawQuery: "Param1=value1",
                signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
    SuiteVector(name: "post-vanilla-empty-query-value", method: "POST", rawQuery: "Param1=value1",
                signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
    SuiteVector(name: "post-vanilla-query-nonunreserved", method: "POST",
                rawQuery: "%40%23%24%25%5E=&%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D",
                signature: "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"),
    SuiteVector(name: "post-x-www-form-urlencoded", method: "POST",
                extraHeaders: [("Content-Type", "application/x-www-form-urlencoded")], body: "Param1=value1",
                signedHeaders: "content-type;host;x-amz-date",
                signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
    SuiteVector(name: "post-x-www-form-urlencoded-parameters", method: "POST",
                extraHeaders: [("Content-Type", "application/x-www-form-urlencoded; charset=utf8")], body: "Param1=value1",
                signedHeaders: "content-type;host;x-amz-date",
                signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"),
]

let suiteVerifier = SigV4Verifier(service: "service", region: "us-east-1",
                                  secretAccessKeys: ["AKIDEXAMPLE": Array("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".utf8)])

@Suite("SigV4 verifier against AWS's test suite")
struct SigV4SuiteVectorTests {
    @Test(arguments: suiteVectors)
    func publishedSignatureVerifies(_ vector: SuiteVector) throws {
        let key = try suiteVerifier.verify(vector.request, now: SuiteVector.suiteTime)
        #expect(key == "AKIDEXAMPLE")
    }

    /// The same request with the last hex digit of the signature changed is refused.
    @Test(arguments: suiteVectors)
    func alteredSignatureIsRefused(_ vector: SuiteVector) {
        var altered = vector
        let last = altered.signature.removeLast()
        altered.signature.append(last == "0" ? "1" : "0")
        #expect(throws: SigV4Error.self) { try suiteVerifier.verify(altered.request, now: SuiteVector.suiteTime) }
        do {
            _ = try suiteVerifier.verify(altered.request, now: SuiteVector.suiteTime)
        } catch {
            guard case .signatureDoesNotMatch = error else { Issue.record("got \(error)"); return }
        }
    }

    @Test func getVanillaCanonicalRequestAndStringToSign() {
        let v = suiteVectors[0]
        let canonical = SigV4Canonical.request(method: "GET", rawPath: v.rawPath, rawQuery: v.rawQuery,
                                               headers: v.request.headers, signedHeaders: ["host", "x-amz-date"],
                                               payloadHash: SigV4Canonical.hexSHA256([]))
        #expect(canonical == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let toSign = SigV4Canonical.stringToSign(timestamp: "20150830T123600Z", scope: "20150830/us-east-1/service/aws4_request",
                                                 canonicalRequest: canonical)
        #expect(toSign == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63")
    }

    @Test func getUTF8CanonicalRequest() {
        let canonical = SigV4Canonical.request(method: "GET", rawPath: "/\u{1234}", rawQuery: "",
                                               headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
                                               signedHeaders: ["host", "x-amz-date"], payloadHash: SigV4Canonical.hexSHA256([]))
        #expect(canonical == "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SigV4Canonical.hexSHA256(Array(canonical.utf8)) == "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102")
    }

    @Test func postFormCanonicalRequest() {
        let canonical = SigV4Canonical.request(
            method: "POST", rawPath: "/", rawQuery: "",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            signedHeaders: ["content-type", "host", "x-amz-date"], payloadHash: SigV4Canonical.hexSHA256(Array("Param1=value1".utf8)))
        #expect(canonical == "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
        #expect(SigV4Canonical.hexSHA256(Array(canonical.utf8)) == "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281")
    }

    @Test func nonunreservedQueryIsSortedByEncodedName() {
        #expect(SigV4Canonical.queryString(rawQuery: "%40%23%24%25%5E=&%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D")
            == "%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D&%40%23%24%25%5E=")
    }
}

/// The 2011 edition of the suite signs with the `Date` header (no `X-Amz-Date`): service "host",
/// host.foo.com, Mon, 09 Sep 2011 23:36:00 GMT.
@Suite("SigV4 verifier with the Date header (2011 suite)")
struct SigV4DateHeaderVectorTests {
    static let time: Int64 = 1_315_611_360  // 2011-09-09T23:36:00Z
    let verifier = SigV4Verifier(service: "host", region: "us-east-1",
                                 secretAccessKeys: ["AKIDEXAMPLE": Array("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".utf8)])

    func request(_ method: String, _ path: String, _ query: String = "", signature: String) -> SigV4Request {
        SigV4Request(method: method, rawPath: path, rawQuery: query, headers: [
            ("Date", "Mon, 09 Sep 2011 23:36:00 GMT"), ("Host", "host.foo.com"),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, SignedHeaders=date;host, Signature=\(signature)"),
        ])
    }

    @Test(arguments: [
        ("GET", "/", "", "b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470"),
        ("GET", "/foo/bar/../..", "", "b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470"),
        ("POST", "/", "", "22902d79e148b64e7571c3565769328423fe276eae4b26f83afceda9e767f726"),
        ("GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "", "830cc36d03f0f84e6ee4953fbe701c1c8b71a0372c63af9255aa364dd183281e"),
        ("GET", "/", "foo=Zoo&foo=aha", "be7148d34ebccdc6423b19085378aa0bee970bdc61d144bd1a8c48c33079ab09"),
    ])
    func verifies(_ method: String, _ path: String, _ query: String, _ signature: String) throws {
        #expect(try verifier.verify(request(method, path, query, signature: signature), now: Self.time) == "AKIDEXAMPLE")
    }
}

@Suite("SigV4 verifier's refusals")
struct SigV4RefusalTests {
    let now: Int64 = 1_700_000_000
    let verifier = SigV4Verifier(service: "ses", region: "eu-west-1",
                                 secretAccessKeys: ["AKIDLINKTRACK": Array("secret-one".utf8)])
    var signer: TestSigV4Signer {
        TestSigV4Signer(accessKeyId: "AKIDLINKTRACK", secret: "secret-one", region: "eu-west-1", service: "ses")
    }

    func base(body: String = "{}") -> SigV4Request {
        SigV4Request(method: "PUT", rawPath: "/v2/email/configuration-sets/x%2Fy/tracking-options", rawQuery: "",
                     headers: [("Host", "127.0.0.1:8081"), ("Content-Type", "application/json")], body: Array(body.utf8))
    }

    func error(_ request: SigV4Request, at time: Int64? = nil) -> SigV4Error? {
        do {
            _ = try verifier.verify(request, now: time ?? now)
            return nil
        } catch {
            return error
        }
    }

    @Test func signedRequestVerifies() throws {
        #expect(try verifier.verify(signer.sign(base(), at: now), now: now) == "AKIDLINKTRACK")
    }

    @Test func pathIsSignedEncodedTwice() {
        let signed = signer.sign(base(), at: now)
        let canonical = SigV4Canonical.uri(rawPath: signed.rawPath)
        #expect(canonical == "/v2/email/configuration-sets/x%252Fy/tracking-options")
        // The same path decoded once (x/y as two segments) is another request.
        var other = signed
        other.rawPath = "/v2/email/configuration-sets/x/y/tracking-options"
        guard case .signatureDoesNotMatch? = error(other) else { Issue.record("decoded path verified"); return }
    }

    @Test func missingAuthorization() {
        #expect(error(base()) == .missingAuthenticationToken)
    }

    @Test func unknownAccessKey() {
        var other = signer
        other.accessKeyId = "AKIDUNKNOWN"
        #expect(error(other.sign(base(), at: now)) == .unrecognizedAccessKey(accessKeyId: "AKIDUNKNOWN"))
    }

    @Test func wrongSecret() {
        var other = signer
        other.secret = "secret-two"
        guard case .signatureDoesNotMatch? = error(other.sign(base(), at: now)) else { Issue.record("verified"); return }
    }

    @Test func sixMinutesOldIsExpired() {
        let signed = signer.sign(base(), at: now - 360)
        #expect(error(signed) == .signatureExpired(signedAt: SigV4Time.formatBasic(now - 360),
                                                   earliestAllowed: SigV4Time.formatBasic(now - 300),
                                                   now: SigV4Time.formatBasic(now), skewMinutes: 5))
    }

    @Test func fourMinutesEitherWayVerifies() throws {
        #expect(try verifier.verify(signer.sign(base(), at: now - 240), now: now) == "AKIDLINKTRACK")
        #expect(try verifier.verify(signer.sign(base(), at: now + 240), now: now) == "AKIDLINKTRACK")
    }

    @Test func sixMinutesAheadIsNotYetCurrent() {
        guard case .signatureNotYetCurrent? = error(signer.sign(base(), at: now + 360)) else { Issue.record("verified"); return }
    }

    @Test func otherRegionOrServiceIsRefused() {
        var other = signer
        other.region = "us-east-1"
        guard case .credentialScope? = error(other.sign(base(), at: now)) else { Issue.record("verified"); return }
        other = signer
        other.service = "email"
        guard case .credentialScope? = error(other.sign(base(), at: now)) else { Issue.record("verified"); return }
    }

    @Test func alteredBodyIsRefused() {
        var signed = signer.sign(base(body: #"{"HttpsPolicy": "REQUIRE"}"#), at: now)
        signed.body = Array(#"{"HttpsPolicy": "OPTIONAL"}"#.utf8)
        guard case .signatureDoesNotMatch? = error(signed) else { Issue.record("verified"); return }
    }

    @Test func alteredHostPortIsRefused() {
        var signed = signer.sign(base(), at: now)
        signed.headers[0].value = "127.0.0.1:8082"
        guard case .signatureDoesNotMatch? = error(signed) else { Issue.record("verified"); return }
    }

    @Test func contentSHA256MustBeTheBodysHash() throws {
        var request = base()
        request.headers.append(("X-Amz-Content-SHA256", SigV4Canonical.hexSHA256(request.body)))
        #expect(try verifier.verify(signer.sign(request, at: now), now: now) == "AKIDLINKTRACK")
        var wrong = base()
        wrong.headers.append(("x-amz-content-sha256", "UNSIGNED-PAYLOAD"))
        #expect(error(signer.sign(wrong, at: now)) == .payloadHashMismatch)
    }

    @Test func hostAndDateMustBeSigned() {
        guard case .incompleteSignature? = error(signer.sign(base(), at: now, signedHeaders: ["content-type", "x-amz-date"])) else {
            Issue.record("host unsigned verified"); return
        }
        guard case .incompleteSignature? = error(signer.sign(base(), at: now, signedHeaders: ["content-type", "host"])) else {
            Issue.record("date unsigned verified"); return
        }
    }

    @Test(arguments: [
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AKIDLINKTRACK/20231114/eu-west-1/ses/aws4_request",
        "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDLINKTRACK, SignedHeaders=host;x-amz-date, Signature=00",
        "Basic dXNlcjpwYXNz",
        "AWS4-HMAC-SHA512 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00",
    ])
    func malformedAuthorization(_ value: String) {
        var request = base()
        request.headers.append(("X-Amz-Date", SigV4Time.formatBasic(now)))
        request.headers.append(("Authorization", value))
        guard case .incompleteSignature? = error(request) else { Issue.record("\(value) accepted"); return }
    }

    @Test func shortOrNonHexSignatureIsAMismatch() {
        let signed = signer.sign(base(), at: now)
        for replacement in ["abc", String(repeating: "z", count: 64), ""] {
            var request = signed
            let i = request.headers.firstIndex { $0.name == "Authorization" }!
            let value = request.headers[i].value
            request.headers[i].value = String(value[..<value.range(of: "Signature=")!.upperBound]) + replacement
            if replacement.isEmpty {
                guard case .incompleteSignature? = error(request) else { Issue.record("empty signature"); continue }
            } else {
                guard case .signatureDoesNotMatch? = error(request) else { Issue.record("\(replacement) accepted"); continue }
            }
        }
    }
}

@Suite("SigV4 dates")
struct SigV4TimeTests {
    @Test func basicRoundTrips() {
        #expect(SigV4Time.parseBasic("20150830T123600Z") == 1_440_938_160)
        #expect(SigV4Time.formatBasic(1_440_938_160) == "20150830T123600Z")
        #expect(SigV4Time.formatBasic(0) == "19700101T000000Z")
        #expect(SigV4Time.parseBasic("20240229T235959Z") == 1_709_251_199)
        #expect(SigV4Time.formatBasic(1_709_251_199) == "20240229T235959Z")
        #expect(SigV4Time.parseBasic("20230229T000000Z") == nil)
        #expect(SigV4Time.parseBasic("2015-08-30T12:36:00Z") == nil)
    }

    @Test func imfFixdate() {
        #expect(SigV4Time.parseIMFFixdate("Mon, 09 Sep 2011 23:36:00 GMT") == 1_315_611_360)
        #expect(SigV4Time.parseIMFFixdate("Mon, 09 Sep 2011 23:36:00 UTC") == nil)
    }
}
