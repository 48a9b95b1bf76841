import Testing
@testable import LinkTrack
@testable import LinkTrackTooling

/// Issue 16, item 20: soft line breaks take the message's line ending when the document has none of
/// its own; an empty `X-SES-CONFIGURATION-SET` counts as absent and is removed.
@Suite struct SmallerFindingsTests {
    typealias F = FilterFixture

    static func physicalLines(_ text: String) -> [Substring] { text.split(separator: "\n", omittingEmptySubsequences: false) }

    /// A one-line 7bit document that the rewrite pushes past 998 octets is re-encoded as
    /// quoted-printable; in an LF message its soft breaks are LF (they were CRLF).
    @Test(arguments: ["\n", ""])
    func aOneLineDocumentReencodedInAnLFMessageGetsLFSoftBreaks(_ end: String) throws {
        let html = "<p>" + String(repeating: "a", count: 960) + " <a href=\"https://example.com/long\">x</a></p>"
        let input = Array(("Message-ID: <one@example.com>\nContent-Type: text/html\n\n" + html + end).utf8)
        let (output, report) = try F.run(input)
        let text = output.text
        #expect(report.notes.contains { $0.partNote() == .reencodedForLongLine })
        #expect(!text.contains("\r"), "CR in \(text.debugDescription)")
        #expect(text.hasPrefix("Message-ID: <one@example.com>\nContent-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n"))
        for line in Self.physicalLines(text) { #expect(line.utf8.count <= 76) }
        #expect(try InvariantChecker(configuration: F.configuration).check(input: input, output: output) == [])
    }

    /// A one-line quoted-printable body, its only line touched: the re-encoded line's soft breaks
    /// are the message's LF.
    @Test(arguments: ["\n", ""])
    func aOneLineQuotedPrintableBodyInAnLFMessageGetsLFSoftBreaks(_ end: String) throws {
        let body = "<p>Some words before the link, enough of them to need a soft break.</p><a href=3D\"https://example.com/qp\">x</a>"
        let input = Array(("Message-ID: <oneqp@example.com>\nContent-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n"
            + body + end).utf8)
        let (output, _) = try F.run(input)
        let text = output.text
        #expect(!text.contains("\r"), "CR in \(text.debugDescription)")
        #expect(text.contains("=\n"))
        #expect(try InvariantChecker(configuration: F.configuration).check(input: input, output: output) == [])
    }

    /// In a CRLF message the soft breaks stay CRLF.
    @Test func aOneLineDocumentInACRLFMessageKeepsCRLF() throws {
        let html = "<p>" + String(repeating: "a", count: 960) + " <a href=\"https://example.com/long\">x</a></p>"
        let input = Array(("Message-ID: <one@example.com>\r\nContent-Type: text/html\r\n\r\n" + html).utf8)
        let (output, _) = try F.run(input)
        let text = output.text
        #expect(text.contains("=\r\n"))
        #expect(!text.replacingOccurrences("\r\n", with: "").contains("\n"))
    }

    /// An empty `X-SES-CONFIGURATION-SET` names no set: the default set applies and the field goes.
    @Test func anEmptyConfigurationSetHeaderCountsAsAbsentAndIsRemoved() throws {
        let input = F.lines(["X-SES-CONFIGURATION-SET:", "Message-ID: <empty@example.com>", "Content-Type: text/html", "",
                             "<a href=\"https://example.com/\">x</a>"], ending: "\r\n")
        let (output, report) = try F.run(input)
        #expect(report.configurationSet == "marketing")
        #expect(!output.text.lowercased().contains("x-ses-configuration-set"))
        #expect(output.text.hasPrefix("Message-ID: <empty@example.com>\r\nContent-Type: text/html\r\n\r\n<a href=\"https://links.example.com/c/"))
        #expect(try InvariantChecker(configuration: F.configuration).check(input: input, output: output) == [])
        // A folded empty value, and an empty field before a named one.
        let named = F.lines(["X-SES-CONFIGURATION-SET: ", " ", "X-SES-CONFIGURATION-SET: optional", "Message-ID: <e2@example.com>",
                             "Content-Type: text/html", "", "<a href=\"https://example.com/\">x</a>"], ending: "\n")
        let (namedOutput, namedReport) = try F.run(named)
        #expect(namedReport.configurationSet == "optional")
        #expect(namedOutput.text.hasPrefix("Message-ID: <e2@example.com>\n"))
        #expect(try InvariantChecker(configuration: F.configuration).check(input: named, output: namedOutput) == [])
    }

    /// With no set to fall back on, the message passes unchanged, and the note says the field is empty
    /// (it said there was none).
    @Test func anEmptyConfigurationSetHeaderWithNoFallbackIsNamedInTheNote() throws {
        let configuration = try Configuration(json: Array("""
            {"ConfigurationSets": [{"ConfigurationSetName": "marketing",
                                    "TrackingOptions": {"CustomRedirectDomain": "links.example.com"}}],
             "SigningKeys": [{"KeyId": "t1", "Secret": "bWVzc2FnZS1maWx0ZXItdGVzdC1rZXktMDAwMDAwMDE="}]}
            """.utf8))
        let input = F.lines(["X-SES-CONFIGURATION-SET:", "Content-Type: text/html", "", "<a href=\"https://example.com/\">x</a>"],
                            ending: "\r\n")
        let (output, report) = try MessageFilter(configuration: configuration).filter(input)
        #expect(output == input)
        #expect(report.notes.contains(.noConfigurationSet(emptyHeader: true)), "\(report.notes)")
    }
}
