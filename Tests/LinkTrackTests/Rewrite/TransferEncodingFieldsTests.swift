import Foundation
import Testing
@testable import LinkTrack
@testable import LinkTrackTooling

/// Issue 16, item 14: an HTML part with several `Content-Transfer-Encoding` fields. Readers differ
/// on which one counts (Python's email and Thunderbird take the first), so the filter tracks such a
/// part only when every field names the same encoding, and then rewrites all of them when it
/// re-encodes the part; when they disagree the part passes through untouched.
@Suite struct TransferEncodingFieldsTests {
    typealias F = FilterFixture

    enum Outcome: Sendable, Equatable {
        /// Tracked; the fields stay as they were (a quoted-printable part is spliced in place).
        case trackedFieldsKept
        /// Tracked and re-encoded: every field now reads `quoted-printable`.
        case trackedReencoded
        /// Passed through byte for byte, with a warning.
        case untouched
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        /// The part's Content-Transfer-Encoding fields, whole (folding included), without line ending.
        var fields: [String]
        var outcome: Outcome
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "twoQuotedPrintableFieldsAgree", fields: ["Content-Transfer-Encoding: quoted-printable",
                                                           "Content-Transfer-Encoding: quoted-printable"],
            outcome: .trackedFieldsKept),
        Row(name: "twoSevenBitFieldsAgreeAndAreBothRewritten", fields: ["Content-Transfer-Encoding: 7bit",
                                                                       "Content-Transfer-Encoding: 7bit"],
            outcome: .trackedReencoded),
        Row(name: "caseAndNameCaseDoNotMatter", fields: ["Content-Transfer-Encoding: 7BIT",
                                                        "content-transfer-encoding: 7bit"],
            outcome: .trackedReencoded),
        Row(name: "foldedAndCommentedValuesAgree", fields: ["Content-Transfer-Encoding:\r\n 8bit",
                                                           "Content-Transfer-Encoding: 8bit (checked)"],
            outcome: .trackedReencoded),
        Row(name: "threeAgreeingFields", fields: ["Content-Transfer-Encoding: binary", "Content-Transfer-Encoding: binary",
                                                 "Content-Transfer-Encoding: Binary"],
            outcome: .trackedReencoded),
        Row(name: "emptyValueIsSevenBit", fields: ["Content-Transfer-Encoding:", "Content-Transfer-Encoding: 7bit"],
            outcome: .trackedReencoded),
        Row(name: "quotedPrintableThenSevenBitDisagree", fields: ["Content-Transfer-Encoding: quoted-printable",
                                                                 "Content-Transfer-Encoding: 7bit"],
            outcome: .untouched),
        Row(name: "sevenBitThenQuotedPrintableDisagree", fields: ["Content-Transfer-Encoding: 7bit",
                                                                 "Content-Transfer-Encoding: quoted-printable"],
            outcome: .untouched),
        Row(name: "sevenBitAndEightBitDisagree", fields: ["Content-Transfer-Encoding: 7bit", "Content-Transfer-Encoding: 8bit"],
            outcome: .untouched),
        Row(name: "base64AndQuotedPrintableDisagree", fields: ["Content-Transfer-Encoding: base64",
                                                              "Content-Transfer-Encoding: quoted-printable"],
            outcome: .untouched),
        Row(name: "foldedFieldDisagrees", fields: ["Content-Transfer-Encoding: 7bit", "Content-Transfer-Encoding:\r\n\tquoted-printable"],
            outcome: .untouched),
        Row(name: "oneOfThreeDisagrees", fields: ["Content-Transfer-Encoding: 7bit", "Content-Transfer-Encoding: 7bit",
                                                 "Content-Transfer-Encoding: 8bit"],
            outcome: .untouched),
    ]

    static let messageId = "cte@example.com"
    /// A line that the tracked link pushes past 998 octets, so that an identity part is re-encoded.
    static let html = "<html><body><p>" + String(repeating: "a", count: 930)
        + " <a href=\"https://example.com/x?a=1\">x</a></p></body></html>"

    /// A multipart/alternative whose HTML part has `fields` (the body is encoded to match the first
    /// field that names quoted-printable or base64; for identity encodings it is the HTML itself).
    static func message(fields: [String], eol: String) -> [UInt8] {
        let encodings = fields.map { ContentTransferEncoding(headerValue: HeaderBlock.parse(Array(($0 + "\r\n").utf8))[0].unfoldedValue) }
        let body: String
        if encodings.contains(.base64) {
            body = String(decoding: Base64.encode(Array(html.utf8), layout: Base64Layout(
                lineLength: 76, lineEnding: Array(eol.utf8), endsWithLineEnding: false)), as: UTF8.self)
        } else if encodings.contains(.quotedPrintable) {
            body = String(decoding: QuotedPrintable.encode(Array(html.utf8), defaultLineEnding: Array(eol.utf8)), as: UTF8.self)
        } else {
            body = html
        }
        let head = ["From: a@example.com", "Message-ID: <\(messageId)>", "MIME-Version: 1.0",
                    "Content-Type: multipart/alternative; boundary=\"alt\"", "",
                    "--alt", "Content-Type: text/plain", "", "plain", "--alt", "Content-Type: text/html; charset=utf-8"]
        let lines = head + fields.map { $0.replacingOccurrences("\r\n", with: eol) } + ["", body, "--alt--"]
        return F.lines(lines, ending: eol)
    }

    @Test(arguments: rows, ["\r\n", "\n"])
    func severalTransferEncodingFields(_ row: Row, _ eol: String) throws {
        let input = Self.message(fields: row.fields, eol: eol)
        let (output, report) = try F.run(input)
        let checker = try InvariantChecker(configuration: F.configuration)
        #expect(checker.check(input: input, output: output) == [])
        let tree = MIMEEntity.parse(output[...], maximumDepth: 40)
        let part = try #require(tree.multipart?.children.last)
        let fields = part.fields.filter { $0.name(is: "content-transfer-encoding") }
        #expect(fields.count == row.fields.count)
        let partReport = try #require(report.parts.first { $0.path == "2" })
        switch row.outcome {
        case .untouched:
            #expect(output == input)
            #expect(partReport.action == .passedThrough(.conflictingTransferEncodings))
            #expect(report.warnings.contains { if case .conflictingTransferEncodings(let names) = $0.partWarning("2") { names.count == row.fields.count } else { false } },
                    "\(report.warnings)")
        case .trackedFieldsKept, .trackedReencoded:
            #expect(partReport.action == .rewritten)
            let values = fields.map { $0.unfoldedValue }
            if row.outcome == .trackedReencoded {
                #expect(values == Array(repeating: "quoted-printable", count: row.fields.count))
                // Each field keeps its own name as written and its line ending; folding goes.
                let block = Array(part.header)
                #expect(fields.map { Array(block[$0.range]).text }
                        == fields.map { $0.rawName.text + ": quoted-printable" + eol })
            } else {
                let inputPart = try #require(MIMEEntity.parse(input[...], maximumDepth: 40).multipart?.children.last)
                #expect(part.header.elementsEqual(inputPart.header))
            }
            let decoded = try #require(InvariantChecker.decode(part, isTop: false))
            let link = HTMLEscaping.attributeValue(F.signer.clickURL(
                ClickToken(destination: "https://example.com/x?a=1", messageId: Self.messageId, configurationSet: "marketing", linkIndex: 0),
                scheme: .https, domain: F.domain)!)
            #expect(decoded.text == Self.html.replacingOccurrences("https://example.com/x?a=1", with: link)
                .replacingOccurrences("</body>", with: F.pixel(messageId: Self.messageId) + "</body>"))
        }
        // A reader that takes the first field (Python's email) decodes what we decode. (Not for a
        // part left untouched: its fields disagree in the input already.)
        if row.outcome != .untouched, let python = try Self.pythonDecodedHTMLParts(output) {
            let ours = try #require(InvariantChecker.decode(part, isTop: false))
            #expect(python == [ours], "Python's email reads the HTML part differently")
        }
    }

    /// The checker refuses a part re-encoded with only its last field changed (what the filter did
    /// before), and a part with disagreeing fields that changed at all.
    @Test func checkerRefusesDisagreeingFields() throws {
        let checker = try InvariantChecker(configuration: F.configuration)
        let input = Self.message(fields: ["Content-Transfer-Encoding: 7bit", "Content-Transfer-Encoding: 7bit"], eol: "\r\n")
        let output = try F.run(input).output
        #expect(checker.check(input: input, output: output) == [])
        let lastOnly = Array(output.text.replacingOccurrences(
            "Content-Transfer-Encoding: quoted-printable\r\nContent-Transfer-Encoding: quoted-printable",
            with: "Content-Transfer-Encoding: 7bit\r\nContent-Transfer-Encoding: quoted-printable").utf8)
        #expect(lastOnly != output)
        #expect(checker.check(input: input, output: lastOnly) == ["part 2: its Content-Transfer-Encoding fields changed to something other than quoted-printable"])

        let conflicting = Self.message(fields: ["Content-Transfer-Encoding: 8bit", "Content-Transfer-Encoding: 7bit"], eol: "\r\n")
        let rewritten = Array(conflicting.text.replacingOccurrences("https://example.com/x?a=1", with: "https://example.com/y").utf8)
        #expect(checker.check(input: conflicting, output: rewritten).contains("part 2: its Content-Transfer-Encoding fields disagree, yet the part changed"))
        #expect(checker.check(input: conflicting, output: try F.run(conflicting).output) == [])
    }

    /// The decoded payloads of the text/html parts as Python's `email` package reads them, or nil
    /// when python3 is not installed (the check is an extra, not the oracle).
    static func pythonDecodedHTMLParts(_ message: [UInt8]) throws -> [[UInt8]]? {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else { return nil }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("linktrack-cte-\(UInt64.random(in: 0...UInt64.max)).eml").path
        try Data(message).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let script = """
            import email, sys
            m = email.message_from_bytes(open(sys.argv[1], 'rb').read())
            for p in m.walk():
                if p.get_content_type() == 'text/html':
                    print(p.get_payload(decode=True).hex())
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            var bytes: [UInt8] = []
            var index = line.startIndex
            while index < line.endIndex {
                let next = line.index(index, offsetBy: 2)
                bytes.append(UInt8(line[index..<next], radix: 16)!)
                index = next
            }
            return bytes
        }
    }
}
