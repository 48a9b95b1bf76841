import LinkTrack
@testable import LinkTrackServerCore
import Testing

@Suite("Control API: authentication and throttling")
struct ControlAPIAuthenticationTests {
    let create = #"{"ConfigurationSetName": "sneaky", "TrackingOptions": {"CustomRedirectDomain": "evil.example"}}"#

    /// Each refusal is a 403 with AWS's error type, and nothing is written.
    func expectRefused(_ h: ControlAPIHarness, _ response: ControlAPIResponse, _ code: String, _ message: String? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        expectError(response, 403, code, message, sourceLocation: sourceLocation)
        #expect(!h.fileText.contains("sneaky"), sourceLocation: sourceLocation)
        #expect(h.changeCount == 0, sourceLocation: sourceLocation)
    }

    @Test func unsigned() async throws {
        let h = try ControlAPIHarness()
        expectRefused(h, await h.send("POST", "/v2/email/configuration-sets", create, signer: nil),
                      "MissingAuthenticationTokenException", "Missing Authentication Token")
        expectRefused(h, await h.send("GET", "/v2/email/configuration-sets/marketing", signer: nil),
                      "MissingAuthenticationTokenException")
    }

    @Test func unknownAccessKey() async throws {
        let h = try ControlAPIHarness()
        let signer = TestSigV4Signer(accessKeyId: "AKIDNOBODY", secret: ControlAPIHarness.secret)
        expectRefused(h, await h.send("POST", "/v2/email/configuration-sets", create, signer: signer),
                      "UnrecognizedClientException", "The security token included in the request is invalid.")
    }

    @Test func wrongSecret() async throws {
        let h = try ControlAPIHarness()
        let signer = TestSigV4Signer(accessKeyId: ControlAPIHarness.accessKeyId, secret: "not-the-secret")
        let response = await h.send("POST", "/v2/email/configuration-sets", create, signer: signer)
        expectRefused(h, response, "SignatureDoesNotMatch")
        #expect(response.message?.hasPrefix("The request signature we calculated does not match the signature you provided.") == true)
        #expect(response.message?.contains("POST\n/v2/email/configuration-sets\n\ncontent-type:application/json\nhost:127.0.0.1:8081\n") == true)
    }

    @Test func sixMinutesOld() async throws {
        let h = try ControlAPIHarness()
        let response = await h.send("POST", "/v2/email/configuration-sets", create, signedAt: h.testClock.epoch - 360)
        expectRefused(h, response, "InvalidSignatureException",
                      "Signature expired: 20231114T220720Z is now earlier than 20231114T220820Z (20231114T221320Z - 5 min.)")
        #expect(response.message?.hasPrefix("Signature expired: ") == true)
    }

    @Test func otherRegion() async throws {
        let h = try ControlAPIHarness()
        let signer = TestSigV4Signer(accessKeyId: ControlAPIHarness.accessKeyId, secret: ControlAPIHarness.secret, region: "eu-west-1")
        expectRefused(h, await h.send("POST", "/v2/email/configuration-sets", create, signer: signer), "SignatureDoesNotMatch",
                      "Credential should be scoped to a valid region, not 'eu-west-1'.")
    }

    @Test func configuredRegionAndSecondKeySource() async throws {
        let h = try ControlAPIHarness(configuration: ControlAPIHarness.baseConfiguration.replacing(
            #""ControlAPIThrottle""#, with: #""Region": "eu-west-1", "ControlAPIThrottle""#))
        let signer = TestSigV4Signer(accessKeyId: "AKIDSECOND", secret: "second-secret", region: "eu-west-1")
        expectOK(await h.send("GET", "/v2/email/configuration-sets", signer: signer))
        expectError(await h.send("GET", "/v2/email/configuration-sets"), 403, "SignatureDoesNotMatch")
    }

    @Test func tamperedBodyAfterSigning() async throws {
        let h = try ControlAPIHarness()
        let signer = TestSigV4Signer(accessKeyId: ControlAPIHarness.accessKeyId, secret: ControlAPIHarness.secret)
        let signed = signer.sign(SigV4Request(method: "PUT", rawPath: "/v2/email/configuration-sets/marketing/tracking-options",
                                              headers: [("Host", "127.0.0.1:8081")], body: Array(#"{"HttpsPolicy": "REQUIRE"}"#.utf8)),
                                 at: Int64(h.testClock.epoch))
        let response = await h.api.respond(to: ControlAPIRequest(method: signed.method, rawPath: signed.rawPath, headers: signed.headers,
                                                                 body: Array(#"{"CustomRedirectDomain": "evil.example"}"#.utf8)))
        expectError(response, 403, "SignatureDoesNotMatch")
        #expect(!h.fileText.contains("evil"))
    }

    @Test func burstThenRefillPerKey() async throws {
        let h = try ControlAPIHarness(configuration: ControlAPIHarness.baseConfiguration.replacing(
            #""ControlAPIThrottle": {"RequestsPerSecond": 1000, "Burst": 1000}"#,
            with: #""ControlAPIThrottle": {"RequestsPerSecond": 2, "Burst": 3}"#))
        for _ in 0..<3 { expectOK(await h.send("GET", "/v2/email/configuration-sets")) }
        let refused = await h.send("GET", "/v2/email/configuration-sets")
        expectError(refused, 429, "TooManyRequestsException")
        // A refused change writes nothing.
        expectError(await h.send("POST", "/v2/email/configuration-sets", #"{"ConfigurationSetName": "late"}"#), 429, "TooManyRequestsException")
        #expect(h.changeCount == 0)
        // Another key has its own bucket.
        let second = TestSigV4Signer(accessKeyId: "AKIDSECOND", secret: "second-secret")
        expectOK(await h.send("GET", "/v2/email/configuration-sets", signer: second))
        // Unsigned requests are refused before the bucket and take nothing from it.
        h.testClock.advance(seconds: 0.5)
        for _ in 0..<5 { expectError(await h.send("GET", "/v2/email/configuration-sets", signer: nil), 403, "MissingAuthenticationTokenException") }
        expectOK(await h.send("POST", "/v2/email/configuration-sets", #"{"ConfigurationSetName": "late"}"#))
        expectError(await h.send("GET", "/v2/email/configuration-sets"), 429, "TooManyRequestsException")
        h.testClock.advance(seconds: 1)
        expectOK(await h.send("GET", "/v2/email/configuration-sets"))
        expectOK(await h.send("GET", "/v2/email/configuration-sets"))
        expectError(await h.send("GET", "/v2/email/configuration-sets"), 429, "TooManyRequestsException")
    }

    @Test func newSettingsTakeEffect() async throws {
        let h = try ControlAPIHarness()
        let newKey = TestSigV4Signer(accessKeyId: "AKIDNEW", secret: "new-secret")
        expectError(await h.send("GET", "/v2/email/configuration-sets", signer: newKey), 403, "UnrecognizedClientException")
        h.api.update(settings: ControlAPISettings(secretAccessKeys: ["AKIDNEW": Array("new-secret".utf8)]))
        expectOK(await h.send("GET", "/v2/email/configuration-sets", signer: newKey))
        expectError(await h.send("GET", "/v2/email/configuration-sets"), 403, "UnrecognizedClientException")
    }

    @Test func noAccessKeysRefusesEverything() async throws {
        let h = try ControlAPIHarness(configuration: #"{"ConfigurationSets": []}"#)
        expectError(await h.send("GET", "/v2/email/configuration-sets"), 403, "UnrecognizedClientException")
    }
}
