import Testing
import TestSupport
@testable import LinkTrack

@Suite struct HeaderFieldMIMETests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var block: String
        /// Per field: trimmed name, raw value, unfolded value, line ending.
        var fields: [(String, String, String, String)]
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "emptyBlock", block: "", fields: []),
        Row(name: "simpleCRLF", block: "Subject: hi\r\nFrom: a@b.test\r\n", fields: [
            ("Subject", " hi", "hi", "\r\n"), ("From", " a@b.test", "a@b.test", "\r\n"),
        ]),
        Row(name: "simpleLF", block: "Subject: hi\nFrom: a@b.test\n", fields: [
            ("Subject", " hi", "hi", "\n"), ("From", " a@b.test", "a@b.test", "\n"),
        ]),
        Row(name: "foldedWithSpaceAndTab", block: "Subject: a\r\n b\r\n\tc\r\nX: y\r\n", fields: [
            ("Subject", " a\r\n b\r\n\tc", "a b\tc", "\r\n"), ("X", " y", "y", "\r\n"),
        ]),
        Row(name: "mixedLineEndings", block: "A: 1\r\n 2\nB: 3\n\t4\r\n", fields: [
            ("A", " 1\r\n 2", "1 2", "\n"), ("B", " 3\n\t4", "3\t4", "\r\n"),
        ]),
        Row(name: "lastFieldWithoutLineEnding", block: "A: 1\r\nB: 2", fields: [
            ("A", " 1", "1", "\r\n"), ("B", " 2", "2", ""),
        ]),
        Row(name: "spaceBeforeColon", block: "Subject : hi\r\n", fields: [("Subject", " hi", "hi", "\r\n")]),
        Row(name: "noSpaceAfterColon", block: "Subject:hi\r\n", fields: [("Subject", "hi", "hi", "\r\n")]),
        Row(name: "emptyValue", block: "X-Empty:\r\n", fields: [("X-Empty", "", "", "\r\n")]),
        Row(name: "colonInValue", block: "Date: Mon, 1 Jan 2024 10:00:00 +0000\n", fields: [
            ("Date", " Mon, 1 Jan 2024 10:00:00 +0000", "Mon, 1 Jan 2024 10:00:00 +0000", "\n"),
        ]),
        Row(name: "lineWithoutColon", block: "garbage line\r\nX: y\r\n", fields: [
            ("", "garbage line", "garbage line", "\r\n"), ("X", " y", "y", "\r\n"),
        ]),
        Row(name: "firstLineIsContinuation", block: " leading: x\r\nX: y\r\n", fields: [
            ("", " leading: x", "leading: x", "\r\n"), ("X", " y", "y", "\r\n"),
        ]),
        Row(name: "continuationOfLineWithoutColon", block: "junk\r\n more\r\n", fields: [
            ("", "junk\r\n more", "junk more", "\r\n"),
        ]),
        Row(name: "bareCRIsNotALineEnding", block: "A: 1\r2\r\n", fields: [("A", " 1\r2", "1\r2", "\r\n")]),
        Row(name: "foldedEmptyFirstLine", block: "Content-Type:\r\n text/html\r\n", fields: [
            ("Content-Type", "\r\n text/html", "text/html", "\r\n"),
        ]),
    ]

    @Test(arguments: rows)
    func parses(_ row: Row) {
        let block = Array(mime: row.block)
        let fields = HeaderBlock.parse(block)
        #expect(fields.count == row.fields.count)
        for (field, expected) in zip(fields, row.fields) {
            #expect(field.name == expected.0)
            #expect(mimeDebug(field.rawValue) == mimeDebug(Array(mime: expected.1)))
            #expect(field.unfoldedValue == expected.2)
            #expect(field.lineEnding == Array(mime: expected.3))
        }
        #expect(fields.flatMap { block[$0.range] } == block)
    }

    @Test(arguments: ["subject", "SUBJECT", "Subject"], ["Subject", "subject ", "SUBJECT\t"])
    func nameComparisonIgnoresCaseAndWhitespace(written: String, rawName: String) {
        let field = HeaderBlock.parse(Array(mime: rawName + ": x\r\n"))[0]
        #expect(field.name(is: "subject"))
        #expect(!field.name(is: "subjec"))
        #expect(!field.name(is: "subjects"))
        _ = written
    }

    @Test func emptyNameMatchesNothing() {
        let field = HeaderBlock.parse(Array(mime: "no colon here\r\n"))[0]
        #expect(field.rawName.isEmpty)
        #expect(!field.name(is: "no colon here"))
    }

    @Test func unfoldedValueFallsBackToLatin1() {
        let block: [UInt8] = Array(mime: "Subject: caf") + [0xE9] + Array(mime: "\r\n")
        #expect(HeaderBlock.parse(block)[0].unfoldedValue == "caf\u{E9}")
        let utf8 = Array(mime: "Subject: café\r\n")
        #expect(HeaderBlock.parse(utf8)[0].unfoldedValue == "café")
    }

    @Test(arguments: [UInt64(21), 22, 23])
    func concatenatingFieldsGivesBackTheBlock(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let pieces: [String] = ["A", "b", ":", " ", "\t", "\r", "\n", "\r\n", "X-Foo: bar", "\r\n ", "\n\t", "é"]
        for _ in 0..<200 {
            var block: [UInt8] = []
            for _ in 0..<Int.random(in: 0...40, using: &generator) {
                block += Array(mime: pieces.randomElement(using: &generator)!)
            }
            let fields = HeaderBlock.parse(block)
            #expect(fields.flatMap { block[$0.range] } == block, "\(mimeDebug(block))")
            for field in fields {
                let bytes = Array(block[field.range])
                #expect(bytes.starts(with: field.rawName))
                #expect(bytes.reversed().starts(with: field.lineEnding.reversed()))
                #expect(bytes.count >= field.rawValue.count + field.lineEnding.count)
            }
        }
    }
}
