import Foundation
import LinkTrack
import Testing
import TestSupport

/// `put-configuration-set-linktrack-options` through the binary: flags to fields, the file kept
/// outside the changed member, usage and request errors.
@Suite("ConfigCLI: put-configuration-set-linktrack-options")
struct PutLinkTrackOptionsCLITests {
    static func put(_ config: URL, _ arguments: [String]) throws -> LinkTrackCLI.Result {
        try LinkTrackCLI.run(["put-configuration-set-linktrack-options", "--config", config.path] + arguments)
    }

    static let trackingOptions = #""TrackingOptions": { "CustomRedirectDomain": "links.example.com", "HttpsPolicy": "REQUIRE" }"#

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var arguments: [String]
        /// The member written after the marketing set's TrackingOptions, on a line of its own as the
    /// set's members are, and on one line as TrackingOptions is.
        var member: String
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "every flag, in the fields' order", arguments: [
            "--track-links-in", "HTML_AND_TEXT", "--excluded-domains", "partner.example,*.bank.example",
            "--honor-other-opt-out-attributes", "true", "--track-unsubscribe-links", "false",
        ], member: #""LinkTrackOptions": { "TrackUnsubscribeLinks": false, "ExcludedDomains": ["partner.example", "*.bank.example"], "HonorOtherOptOutAttributes": true, "TrackLinksIn": "HTML_AND_TEXT" }"#),
        Row(name: "repeated --excluded-domains add up", arguments: ["--excluded-domains", "a.example", "--excluded-domains=.b.example,c.example"],
            member: #""LinkTrackOptions": { "ExcludedDomains": ["a.example", ".b.example", "c.example"] }"#),
        Row(name: "an empty --excluded-domains= writes an empty list", arguments: ["--excluded-domains="],
            member: #""LinkTrackOptions": { "ExcludedDomains": [] }"#),
        Row(name: "no option: an empty object (all defaults)", arguments: [], member: #""LinkTrackOptions": {}"#),
    ]

    @Test(arguments: rows)
    func writesTheMemberAndKeepsTheRest(_ row: Row) throws {
        let config = try ConfigCLI.configFile()
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let result = try Self.put(config, ["--configuration-set-name", "marketing"] + row.arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty && result.stderr.isEmpty)
        let written = try String(contentsOf: config, encoding: .utf8)
        #expect(written == ConfigCLI.configText.replacingOccurrences(of: Self.trackingOptions, with: Self.trackingOptions + ",\n      " + row.member))
        _ = try Configuration(json: Array(written.utf8), environment: { _ in nil })
    }

    struct ErrorRow: Sendable, CustomTestStringConvertible {
        var name: String
        var arguments: [String]
        var status: Int32
        var stderrPrefix: String
        var testDescription: String { name }
    }

    static let errorRows: [ErrorRow] = [
        ErrorRow(name: "a boolean that is not true or false is a usage error", arguments: ["--configuration-set-name", "marketing", "--track-unsubscribe-links", "yes"],
                 status: 64, stderrPrefix: "Error: The value 'yes' is invalid for '--track-unsubscribe-links <track-unsubscribe-links>': use one of true, false."),
        ErrorRow(name: "an unknown TrackLinksIn is a usage error", arguments: ["--configuration-set-name", "marketing", "--track-links-in", "ALL"],
                 status: 64, stderrPrefix: "Error: The value 'ALL' is invalid for '--track-links-in <track-links-in>': use one of HTML, HTML_AND_TEXT, TEXT."),
        ErrorRow(name: "the set name is required", arguments: ["--track-links-in", "TEXT"],
                 status: 64, stderrPrefix: "Error: Missing expected argument '--configuration-set-name <configuration-set-name>'."),
        ErrorRow(name: "an invalid domain is a BadRequestException", arguments: ["--configuration-set-name", "marketing", "--excluded-domains", "https://x.example"],
                 status: 65, stderrPrefix: "BadRequestException: Invalid ExcludedDomains value \"https://x.example\": it contains a scheme; give the host name only.\n"),
        ErrorRow(name: "an unknown set is a NotFoundException", arguments: ["--configuration-set-name", "nope"],
                 status: 65, stderrPrefix: "NotFoundException: Configuration set nope does not exist.\n"),
    ]

    @Test(arguments: errorRows)
    func refusesAndLeavesTheFile(_ row: ErrorRow) throws {
        let config = try ConfigCLI.configFile()
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let result = try Self.put(config, row.arguments)
        #expect(result.status == row.status)
        #expect(result.stderr.hasPrefix(row.stderrPrefix), "\(result.stderr)")
        #expect(try String(contentsOf: config, encoding: .utf8) == ConfigCLI.configText)
    }

    @Test func helpListsTheCommandAndItsFlags() throws {
        let top = try LinkTrackCLI.run(["--help"])
        #expect(top.stdoutText.contains("\n  put-configuration-set-linktrack-options"))
        let help = try LinkTrackCLI.run(["put-configuration-set-linktrack-options", "--help"])
        #expect(help.status == 0)
        for flag in ["--track-unsubscribe-links", "--excluded-domains", "--honor-other-opt-out-attributes", "--track-links-in"] {
            #expect(help.stdoutText.contains(flag), "\(flag)")
        }
    }
}
