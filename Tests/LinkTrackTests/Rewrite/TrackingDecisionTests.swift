import Testing
@testable import LinkTrack

/// ``TrackingDecision`` as the pure function of a header block and the configuration it is: no
/// message body, no session.
@Suite struct TrackingDecisionTests {
    typealias F = FilterFixture

    static func decide(_ lines: [String], options: FilterOptions = FilterOptions()) throws(FilterError) -> TrackingDecision {
        let block = Array(lines.map { $0 + "\r\n" }.joined().utf8)
        return try TrackingDecision(block: block, fields: HeaderBlock.parse(block), configuration: F.configuration, options: options)
    }

    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var lines: [String]
        var options = FilterOptions()
        var set: String?
        var tracked: Bool
        var removed: [String] = []
        var added: String?
        var notes: [FilterNote] = []
        var warnings: [FilterWarning] = []
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "the header's set; its X-SES fields go", lines: [
            "Message-ID: <a@example.com>", "X-SES-CONFIGURATION-SET: marketing", "X-SES-MESSAGE-TAGS: campaign=may",
        ], set: "marketing", tracked: true, removed: ["X-SES-CONFIGURATION-SET: marketing\r\n", "X-SES-MESSAGE-TAGS: campaign=may\r\n"]),
        Row(name: "no header: the configuration's default set", lines: ["Message-ID: <a@example.com>"],
            set: "marketing", tracked: true),
        Row(name: "an empty set header names no set", lines: ["Message-ID: <a@example.com>", "X-SES-CONFIGURATION-SET: "],
            options: FilterOptions(configurationSetName: "optional"), set: "optional", tracked: true,
            removed: ["X-SES-CONFIGURATION-SET: \r\n"]),
        Row(name: "a set without a redirect domain tracks nothing", lines: ["X-SES-CONFIGURATION-SET: nodomain"],
            set: "nodomain", tracked: false, notes: [.noRedirectDomain(configurationSet: "nodomain")]),
        Row(name: "an unknown set passes when asked to", lines: ["X-SES-CONFIGURATION-SET: nosuch"],
            options: FilterOptions(unknownConfigurationSet: .pass), set: nil, tracked: false,
            notes: [.unknownConfigurationSetPassed("nosuch")]),
        Row(name: "DKIM: untracked; the X-SES fields its h= covers stay", lines: [
            "DKIM-Signature: v=1; h=From:X-SES-CONFIGURATION-SET; b=x", "X-SES-CONFIGURATION-SET: marketing",
            "X-SES-MESSAGE-TAGS: a=b",
        ], set: "marketing", tracked: false, removed: ["X-SES-MESSAGE-TAGS: a=b\r\n"], warnings: [.dkimSigned]),
        Row(name: "DKIM with --rewrite-signed is tracked", lines: ["Message-ID: <a@x>", "DKIM-Signature: v=1; h=From; b=x"],
            options: FilterOptions(rewriteSigned: true), set: "marketing", tracked: true),
        Row(name: "a malformed tag is ignored with a warning", lines: ["Message-ID: <a@x>", "X-SES-MESSAGE-TAGS: ok=1, bad tag"],
            set: "marketing", tracked: true, removed: ["X-SES-MESSAGE-TAGS: ok=1, bad tag\r\n"],
            warnings: [.malformedMessageTag("bad tag")]),
    ]

    @Test(arguments: rows)
    func decisions(_ row: Row) throws {
        let decision = try Self.decide(row.lines, options: row.options)
        let block = Array(row.lines.map { $0 + "\r\n" }.joined().utf8)
        #expect(decision.configurationSet == row.set)
        #expect((decision.tracking != nil) == row.tracked)
        #expect(decision.removals.map { String(decoding: block[$0], as: UTF8.self) } == row.removed)
        #expect(decision.notes == row.notes)
        #expect(decision.warnings == row.warnings)
        #expect(decision.addedField == nil)
    }

    @Test func anUnknownSetIsRejected() {
        #expect(throws: FilterError.self) { try Self.decide(["X-SES-CONFIGURATION-SET: nosuch"]) }
        do {
            _ = try Self.decide(["X-SES-CONFIGURATION-SET: nosuch"])
        } catch {
            #expect(error.kind == .unknownConfigurationSet)
        }
    }

    @Test func aMissingMessageIDIsDerivedFromTheHeaderBlockAndAdded() throws {
        let decision = try Self.decide(["From: a@example.com", "Subject: x"])
        let again = try Self.decide(["From: a@example.com", "Subject: x"])
        let other = try Self.decide(["From: a@example.com", "Subject: y"])
        let id = try #require(decision.tracking?.messageId)
        #expect(id.hasPrefix("lt.") && id.hasSuffix("@\(F.domain)"))
        #expect(again == decision)
        #expect(other.tracking?.messageId != id)
        #expect(decision.addedField.map { String(decoding: $0, as: UTF8.self) } == "Message-ID: <\(id)>\r\n")
        #expect(decision.notes == [.messageIDAdded("<\(id)>")])
    }

    @Test func anEmptyMessageIDStaysAndTheDerivedIdGoesIntoTheTokensOnly() throws {
        let decision = try Self.decide(["Message-ID: ", "Subject: x"])
        let id = try #require(decision.tracking?.messageId)
        #expect(decision.addedField == nil)
        #expect(decision.notes == [.emptyMessageID(derived: "<\(id)>")])
    }
}
