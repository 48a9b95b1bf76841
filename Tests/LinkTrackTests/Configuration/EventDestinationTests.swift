import Testing
@testable import LinkTrack

/// The keys `linktrack-server` reads (issue 17 item 8, issue 18 item 3): the filter and `put` accept
/// them, parse `LinkTrackDestination` with the same messages, and ignore what they do not use.
struct EventDestinationTests {
    func destinationSet(_ destinations: String) -> String {
        cfgSet("marketing", "\"TrackingOptions\": {\"CustomRedirectDomain\": \"links.example.com\"}, \"EventDestinations\": [\(destinations)]")
    }

    @Test func sinksAreParsed() throws {
        let json = cfgDocument(sets: [destinationSet("""
            {"Name": "a", "Enabled": true, "MatchingEventTypes": ["OPEN"]},
            {"Name": "b", "Enabled": true, "MatchingEventTypes": ["CLICK"], "LinkTrackDestination": {"Type": "JSONLines", "Path": "/tmp/e.jsonl"}},
            {"Name": "c", "Enabled": false, "MatchingEventTypes": ["CLICK"], "LinkTrackDestination": {"Type": "SQLite"}},
            {"Name": "d", "Enabled": true, "MatchingEventTypes": ["CLICK"], "LinkTrackDestination": {"Type": "PostgreSQL", "ConnectionString": "postgres://lt@127.0.0.1:5432/lt", "PasswordEnvironmentVariable": "PGPW"}},
            {"Name": "e", "Enabled": true, "MatchingEventTypes": ["OPEN"], "LinkTrackDestination": {"Type": "Webhook", "Url": "http://127.0.0.1:9/h", "SecretFile": "/etc/s"}, "SnsDestination": {"TopicArn": "x"}}
            """)])
        let set = try cfgParse(json).configurationSet(named: "marketing")
        #expect(set.eventDestinations.map(\.name) == ["a", "b", "c", "d", "e"])
        #expect(set.eventDestinations[0].sink == .sqlite)
        #expect(set.eventDestinations[1].sink == .jsonLines(path: "/tmp/e.jsonl"))
        #expect(set.eventDestinations[2].takes("CLICK") == false)
        #expect(set.eventDestinations[3].sink == .postgreSQL(connectionString: "postgres://lt@127.0.0.1:5432/lt",
                                                            passwordFile: nil, passwordEnvironmentVariable: "PGPW"))
        #expect(set.eventDestinations[4].sink == .webhook(url: "http://127.0.0.1:9/h", secretFile: "/etc/s"))
        #expect(set.tracksOpens && set.tracksClicks)
    }

    static let errors: [(String, String, String)] = [
        ("unknown type", "{\"Type\": \"Kafka\"}", "Invalid ConfigurationSets[0].EventDestinations[0].LinkTrackDestination.Type value \"Kafka\""),
        ("no type", "{}", "Type is required"),
        ("json lines without path", "{\"Type\": \"JSONLines\"}", "Path is required for Type JSONLines"),
        ("key of another type", "{\"Type\": \"SQLite\", \"Path\": \"x\"}", "Path does not apply to Type SQLite"),
        ("unknown key", "{\"Type\": \"SQLite\", \"Bogus\": 1}", "Unknown key \"Bogus\""),
        ("webhook bad url", "{\"Type\": \"Webhook\", \"Url\": \"ftp://x\", \"SecretFile\": \"s\"}", "expected an http or https URL"),
        ("postgres two passwords", "{\"Type\": \"PostgreSQL\", \"ConnectionString\": \"postgres://a@b/c\", \"PasswordFile\": \"f\", \"PasswordEnvironmentVariable\": \"v\"}", "at most one of PasswordFile"),
        ("postgres not a url", "{\"Type\": \"PostgreSQL\", \"ConnectionString\": \"host=x\"}", "expected postgres://"),
    ]

    @Test(arguments: errors) func badDestinations(_ row: (String, String, String)) {
        let json = cfgDocument(sets: [destinationSet("{\"Name\": \"a\", \"Enabled\": true, \"MatchingEventTypes\": [\"OPEN\"], \"LinkTrackDestination\": \(row.1)}")])
        #expect(throws: ConfigurationError.self, "\(row.0)") { try cfgParse(json) }
        do { _ = try cfgParse(json) } catch {
            #expect(error.kind == .badRequest)
            #expect(error.message.contains(row.2), "\(row.0): \(error.message)")
        }
    }

    @Test func serverKeysAreAcceptedAndShapeChecked() throws {
        let good = cfgDocument(sets: [cfgSet()], extra: """
            , "AccessKeys": [{"AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "s"}, {"AccessKeyId": "B", "SecretAccessKeyFile": "/f"}],
            "Region": "eu-west-1", "TrustedProxies": ["127.0.0.1", "10.0.0.0/8"], "ControlAPIThrottle": {"RequestsPerSecond": 5, "Burst": 10}
            """)
        #expect(try cfgParse(good).configurationSets.count == 1)
        let bad: [(String, String)] = [
            (", \"AccessKeys\": {}", "Invalid type for AccessKeys"),
            (", \"AccessKeys\": [{\"AccessKeyId\": \"A\"}]", "give exactly one of SecretAccessKey"),
            (", \"AccessKeys\": [{\"AccessKeyId\": \"A\", \"Secret\": \"x\"}]", "Unknown key \"Secret\""),
            (", \"Region\": 3", "Invalid type for Region"),
            (", \"TrustedProxies\": [1]", "Invalid type for TrustedProxies"),
            (", \"ControlAPIThrottle\": {\"Burst\": -1}", "ControlAPIThrottle.Burst"),
        ]
        for (extra, words) in bad {
            do {
                _ = try cfgParse(cfgDocument(sets: [cfgSet()], extra: extra))
                Issue.record("accepted \(extra)")
            } catch {
                #expect(error.message.contains(words), "\(extra): \(error.message)")
            }
        }
    }
}
