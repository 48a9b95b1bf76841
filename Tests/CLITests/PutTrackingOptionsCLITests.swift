import Foundation
import LinkTrack
import Testing
import TestSupport

/// `put-configuration-set-tracking-options` through the binary: the note when the set stops
/// tracking, and a file kept as written outside the changed member (issue 16, item 2).
@Suite("ConfigCLI: put keeps the file and says when a set stops tracking")
struct PutTrackingOptionsCLITests {
    static func put(_ config: URL, _ arguments: [String]) throws -> LinkTrackCLI.Result {
        try LinkTrackCLI.run(["put-configuration-set-tracking-options", "--config", config.path] + arguments)
    }

    static let trackingOptions = #"{ "CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE" }"#

    /// Only `--https-policy`: the PUT removes CustomRedirectDomain, as SES's does; the command
    /// succeeds and says on stderr that the set no longer tracks. Only the member changes: the
    /// one-line `MatchingEventTypes` array and everything else stay byte for byte.
    @Test func policyAloneSaysTheSetNoLongerTracksAndKeepsTheRest() throws {
        let config = try ConfigCLI.configFile()
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let result = try Self.put(config, ["--configuration-set-name", "marketing", "--https-policy", "REQUIRE"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText.isEmpty)
        #expect(result.stderr == "linktrack: note: configuration set marketing now has no CustomRedirectDomain "
            + "(the PUT replaces TrackingOptions whole), so its mail is no longer tracked; "
            + "give --custom-redirect-domain to keep tracking.\n")
        let written = try String(contentsOf: config, encoding: .utf8)
        #expect(written == ConfigCLI.configText.replacingOccurrences(of: Self.trackingOptions, with: #"{ "HttpsPolicy": "REQUIRE" }"#))
        #expect(written.contains(#""MatchingEventTypes": ["OPEN", "CLICK"] }"#))
        let set = try Configuration(json: Array(written.utf8), environment: { _ in nil }).configurationSet(named: "marketing")
        #expect(!set.tracksAnything)
    }

    /// With a domain there is nothing to say; a set without TrackingOptions gets the member after
    /// its name, in the set's own layout, and nothing else moves.
    @Test func domainGivenIsSilentAndAnInsertedMemberKeepsTheRest() throws {
        let config = try ConfigCLI.configFile()
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let result = try Self.put(config, ["--configuration-set-name", "receipts", "--custom-redirect-domain", "r.example.com"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty && result.stdoutText.isEmpty)
        let written = try String(contentsOf: config, encoding: .utf8)
        #expect(written == ConfigCLI.configText.replacingOccurrences(
            of: #"{ "ConfigurationSetName": "receipts" }"#,
            with: #"{ "ConfigurationSetName": "receipts", "TrackingOptions": { "CustomRedirectDomain": "r.example.com" } }"#))
    }

    /// A file laid out by hand over many lines (the demo configuration) keeps its layout; only the
    /// lines of the member change.
    @Test func aMultiLineFileChangesOnlyTheMembersLines() throws {
        let text = try String(contentsOfFile: FilterCLITests.config, encoding: .utf8)
        let config = try ConfigCLI.configFile(text)
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let result = try Self.put(config, ["--configuration-set-name", "optional", "--custom-redirect-domain", "o.example.net"])
        #expect(result.status == 0, "\(result.stderr)")
        let written = try String(contentsOf: config, encoding: .utf8)
        #expect(written == text.replacingOccurrences(of: """
                  "TrackingOptions": {
                    "CustomRedirectDomain": "track.example.net",
                    "HttpsPolicy": "OPTIONAL"
                  }
            """, with: """
                  "TrackingOptions": {
                    "CustomRedirectDomain": "o.example.net"
                  }
            """))
        #expect(written != text)
    }
}
