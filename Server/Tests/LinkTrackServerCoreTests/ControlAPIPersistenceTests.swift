#if canImport(Glibc)
import Glibc
#endif
import LinkTrack
@testable import LinkTrackServerCore
import Testing

@Suite("Control API: the configuration file")
struct ControlAPIPersistenceTests {
    @Test func handEditSinceTheLastChangeIsTheBase() async throws {
        let h = try ControlAPIHarness()
        expectOK(await h.send("POST", "/v2/email/configuration-sets", #"{"ConfigurationSetName": "api-one"}"#))
        // The operator adds a set and a default by hand, writing the file in place.
        let edited = h.fileText.replacing(#""ConfigurationSetName": "api-one""#,
                                          with: #""ConfigurationSetName": "api-one"}, {"ConfigurationSetName": "by-hand""#)
            .replacing(#""SigningKeys""#, with: #""DefaultConfigurationSet": "by-hand", "SigningKeys""#)
        try ControlAPIHarness.write(edited, to: h.path)
        expectOK(await h.send("PUT", "/v2/email/configuration-sets/marketing/tracking-options", #"{"CustomRedirectDomain": "new.example.com"}"#))
        let configuration = try Configuration(json: Array(h.fileText.utf8))
        #expect(configuration.configurationSets.map(\.name) == ["marketing", "api-one", "by-hand"])
        #expect(configuration.defaultConfigurationSet == "by-hand")
        #expect(try configuration.configurationSet(named: "marketing").customRedirectDomain == "new.example.com")
        // And reads see the hand edit at once.
        expectOK(await h.send("GET", "/v2/email/configuration-sets/by-hand"))
    }

    @Test func keepsOtherContentAndMemberOrder() async throws {
        let text = """
            {
              "SigningKeys": [{"Secret": "\(ControlAPIHarness.signingSecret)", "KeyId": "k1"}],
              "AccessKeys": [{"SecretAccessKey": "\(ControlAPIHarness.secret)", "AccessKeyId": "\(ControlAPIHarness.accessKeyId)"}],
              "TrustedProxies": ["10.0.0.0/8"],
              "ConfigurationSets": [
                {"TrackingOptions": {"HttpsPolicy": "REQUIRE", "CustomRedirectDomain": "links.example.com"}, "ConfigurationSetName": "marketing",
                 "ReputationOptions": {"ReputationMetricsEnabled": true},
                 "EventDestinations": [{"MatchingEventTypes": ["OPEN"], "Name": "d", "Enabled": true, "SnsDestination": {"TopicArn": "arn:aws:sns:x"}}]}
              ]
            }
            """
        let h = try ControlAPIHarness(configuration: text)
        expectOK(await h.send("POST", "/v2/email/configuration-sets", #"{"ConfigurationSetName": "other"}"#))
        let before = try JSONValue.parse(Array(text.utf8))
        let after = h.document
        #expect(after.objectMembers.map(\.key) == ["SigningKeys", "AccessKeys", "TrustedProxies", "ConfigurationSets"])
        for key in ["SigningKeys", "AccessKeys", "TrustedProxies"] { #expect(after[key] == before[key]) }
        guard case .array(let sets)? = after["ConfigurationSets"], case .array(let old)? = before["ConfigurationSets"] else {
            Issue.record("no sets"); return
        }
        #expect(sets[0] == old[0])
        #expect(sets.count == 2)
    }

    @Test func atomicWriteLeavesNoTemporaryFileAndKeepsPermissions() async throws {
        let h = try ControlAPIHarness()
        chmod(h.path, 0o640)
        var before = stat()
        stat(h.path, &before)
        expectOK(await h.send("POST", "/v2/email/configuration-sets", #"{"ConfigurationSetName": "x"}"#))
        var after = stat()
        stat(h.path, &after)
        #expect(after.st_mode & 0o777 == 0o640)
        #expect(after.st_ino != before.st_ino)  // replaced by rename, not rewritten in place
        #expect(try ControlAPIHarness.list(h.directory) == ["config.json"])
    }

    @Test func symbolicLinkIsFollowed() async throws {
        let h = try ControlAPIHarness()
        let link = h.directory + "/link.json"
        symlink(h.path, link)
        let file = ConfigurationFile(path: link)
        let api = ControlAPI(settings: h.api.settings, file: file, clock: h.testClock.clock)
        let signer = TestSigV4Signer(accessKeyId: ControlAPIHarness.accessKeyId, secret: ControlAPIHarness.secret)
        let signed = signer.sign(SigV4Request(method: "POST", rawPath: "/v2/email/configuration-sets", headers: [("Host", "h")],
                                              body: Array(#"{"ConfigurationSetName": "via-link"}"#.utf8)), at: Int64(h.testClock.epoch))
        expectOK(await api.respond(to: ControlAPIRequest(method: "POST", rawPath: signed.rawPath, headers: signed.headers, body: signed.body)))
        var info = stat()
        lstat(link, &info)
        #expect(info.st_mode & S_IFMT == S_IFLNK)
        #expect(h.fileText.contains("via-link"))
    }

    @Test func invalidFileOnDiskRefusesChangesAndReads() async throws {
        let h = try ControlAPIHarness()
        let broken = h.fileText.replacing(#""HttpsPolicy": "REQUIRE""#, with: #""HttpsPolicy": "SOMETIMES""#)
        try ControlAPIHarness.write(broken, to: h.path)
        let response = await h.send("POST", "/v2/email/configuration-sets", #"{"ConfigurationSetName": "x"}"#)
        expectError(response, 500, "InternalFailure")
        #expect(response.message?.contains(#"Invalid HttpsPolicy value "SOMETIMES""#) == true)
        #expect(h.fileText == broken)
        expectError(await h.send("GET", "/v2/email/configuration-sets"), 500, "InternalFailure")
        try ControlAPIHarness.write("{not json", to: h.path)
        expectError(await h.send("GET", "/v2/email/configuration-sets"), 500, "InternalFailure")
    }

    @Test func missingFileIsInternalFailure() async throws {
        let h = try ControlAPIHarness()
        unlink(h.path)
        expectError(await h.send("PUT", "/v2/email/configuration-sets/marketing/tracking-options", "{}"), 500, "InternalFailure")
    }

    /// Many clients at once: every change is applied, in some order, and the file stays valid.
    @Test func concurrentChangesAreSerialised() async throws {
        let h = try ControlAPIHarness()
        let count = 24
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<count {
                group.addTask {
                    let created = await h.send("POST", "/v2/email/configuration-sets",
                                               #"{"ConfigurationSetName": "set-\#(i)", "TrackingOptions": {"CustomRedirectDomain": "t\#(i).example.com"}}"#)
                    expectOK(created)
                    let put = await h.send("PUT", "/v2/email/configuration-sets/set-\(i)/tracking-options",
                                           #"{"CustomRedirectDomain": "u\#(i).example.com", "HttpsPolicy": "REQUIRE"}"#)
                    expectOK(put)
                    let marketing = await h.send("PUT", "/v2/email/configuration-sets/marketing/tracking-options",
                                                 #"{"CustomRedirectDomain": "m\#(i).example.com"}"#)
                    expectOK(marketing)
                }
            }
        }
        let configuration = try Configuration(json: Array(h.fileText.utf8))
        #expect(configuration.configurationSets.count == count + 1)
        for i in 0..<count {
            let set = try configuration.configurationSet(named: "set-\(i)")
            #expect(set.customRedirectDomain == "u\(i).example.com")
            #expect(set.httpsPolicy == .require)
        }
        let marketing = try configuration.configurationSet(named: "marketing").customRedirectDomain ?? ""
        #expect((0..<count).map { "m\($0).example.com" }.contains(marketing))
        #expect(try ControlAPIHarness.list(h.directory) == ["config.json"])
    }

    @Test func onChangeRunsBeforeTheAnswer() async throws {
        let directory = ControlAPIHarness.makeTemporaryDirectory()
        defer { unlink(directory + "/config.json"); rmdir(directory) }
        let path = directory + "/config.json"
        try ControlAPIHarness.write(ControlAPIHarness.baseConfiguration, to: path)
        let seen = ControlAPIHarness.SeenDomains()
        let file = ConfigurationFile(path: path, onChange: {
            // What the server's reload would read.
            let configuration = try? Configuration(json: FileIO.readAll(path: path))
            seen.append((try? configuration?.configurationSet(named: "marketing").customRedirectDomain) ?? nil)
        })
        let clock = ControlAPITestClock()
        let api = ControlAPI(settings: ControlAPISettings(secretAccessKeys: [ControlAPIHarness.accessKeyId: Array(ControlAPIHarness.secret.utf8)]),
                             file: file, clock: clock.clock)
        let signer = TestSigV4Signer(accessKeyId: ControlAPIHarness.accessKeyId, secret: ControlAPIHarness.secret)
        let signed = signer.sign(SigV4Request(method: "PUT", rawPath: "/v2/email/configuration-sets/marketing/tracking-options",
                                              headers: [("Host", "h")], body: Array(#"{"CustomRedirectDomain": "after.example.com"}"#.utf8)),
                                 at: Int64(clock.epoch))
        expectOK(await api.respond(to: ControlAPIRequest(method: signed.method, rawPath: signed.rawPath, headers: signed.headers, body: signed.body)))
        #expect(seen.values == ["after.example.com"])
    }
}

extension ControlAPIHarness {
    final class SeenDomains: Sendable {
        private let storage = Synchronization.Mutex<[String?]>([])
        func append(_ value: String?) { storage.withLock { $0.append(value) } }
        var values: [String?] { storage.withLock { $0 } }
    }
}

import Synchronization

@Suite("Control API: settings from the configuration")
struct ControlAPISettingsTests {
    func settings(_ json: String, environment: @escaping (String) -> String? = { _ in nil },
                  readFile: @escaping (String) throws -> [UInt8] = { _ in throw IOError(operation: "open", path: nil, errorNumber: 2) })
        throws(ConfigurationError) -> ControlAPISettings
    {
        let document = try! JSONValue.parse(Array(json.utf8))
        return try ControlAPISettings(document: document, environment: environment, readFile: readFile)
    }

    @Test func defaults() throws {
        let s = try settings("{}")
        #expect(s.secretAccessKeys.isEmpty)
        #expect(s.region == "us-east-1")
        #expect(s.requestsPerSecond == 10)
        #expect(s.burst == 20)
    }

    @Test func threeSecretSources() throws {
        let s = try settings("""
            {"AccessKeys": [{"AccessKeyId": "A1", "SecretAccessKey": "inline"},
                            {"AccessKeyId": "A2", "SecretAccessKeyFile": "/run/secrets/a2"},
                            {"AccessKeyId": "A3", "SecretAccessKeyEnvironmentVariable": "A3_SECRET"}],
             "Region": "eu-central-1", "ControlAPIThrottle": {"RequestsPerSecond": 0.5, "Burst": 4}}
            """, environment: { $0 == "A3_SECRET" ? "from-env" : nil },
            readFile: { path in path == "/run/secrets/a2" ? Array("from-file\n".utf8) : [] })
        #expect(s.secretAccessKeys == ["A1": Array("inline".utf8), "A2": Array("from-file".utf8), "A3": Array("from-env".utf8)])
        #expect(s.region == "eu-central-1")
        #expect(s.requestsPerSecond == 0.5)
        #expect(s.burst == 4)
    }

    @Test(arguments: [
        (#"{"AccessKeys": [{"AccessKeyId": "A1"}]}"#, "AccessKeys[0] (AccessKeyId A1): give exactly one of SecretAccessKey, SecretAccessKeyFile and SecretAccessKeyEnvironmentVariable."),
        (#"{"AccessKeys": [{"AccessKeyId": "A1", "SecretAccessKey": "x", "SecretAccessKeyFile": "f"}]}"#, "AccessKeys[0] (AccessKeyId A1): give exactly one of SecretAccessKey, SecretAccessKeyFile and SecretAccessKeyEnvironmentVariable."),
        (#"{"AccessKeys": [{"AccessKeyId": "A1", "SecretAccessKey": "x"}, {"AccessKeyId": "A1", "SecretAccessKey": "y"}]}"#, #"AccessKeys[1]: the AccessKeyId "A1" is used twice."#),
        (#"{"AccessKeys": [{"AccessKeyId": "A 1", "SecretAccessKey": "x"}]}"#, #"Invalid AccessKeys[0].AccessKeyId value "A 1": use 1 to 128 characters of A-Z, a-z, 0-9, '_' and '-'."#),
        (#"{"AccessKeys": [{"AccessKeyId": "A1", "SecretAccessKeyEnvironmentVariable": "NOPE"}]}"#, "AccessKeys[0] (AccessKeyId A1): the environment variable NOPE named by SecretAccessKeyEnvironmentVariable is not set."),
        (#"{"AccessKeys": [{"AccessKeyId": "A1", "SecretAccessKey": ""}]}"#, "AccessKeys[0] (AccessKeyId A1): the secret access key is empty."),
        (#"{"AccessKeys": [{"AccessKeyId": "A1", "Secret": "x"}]}"#, #"Unknown key "Secret" in AccessKeys[0]."#),
        (#"{"Region": "US East"}"#, #"Invalid Region value "US East": use 1 to 64 characters of a-z, 0-9 and '-', such as us-east-1."#),
        (#"{"ControlAPIThrottle": {"Burst": 0.5}}"#, "Invalid ControlAPIThrottle.Burst value 0.5: at least 1 is required, or no request is ever served."),
        (#"{"ControlAPIThrottle": {"RequestsPerSecond": -1}}"#, "Invalid type for ControlAPIThrottle.RequestsPerSecond: expected positive number."),
    ])
    func refusals(_ json: String, _ message: String) {
        #expect(throws: ConfigurationError.badRequest(message)) { try settings(json) }
    }

    @Test func unreadableSecretFile() {
        #expect(throws: ConfigurationError.self) {
            try settings(#"{"AccessKeys": [{"AccessKeyId": "A1", "SecretAccessKeyFile": "/nope"}]}"#)
        }
    }
}
