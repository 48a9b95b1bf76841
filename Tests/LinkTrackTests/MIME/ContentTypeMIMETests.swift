import Testing
@testable import LinkTrack

@Suite struct ContentTypeMIMETests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var value: String
        var expected: ContentType?
        var testDescription: String { name }

        init(_ name: String, _ value: String, _ type: String, _ subtype: String, _ parameters: [String: String] = [:]) {
            self.name = name
            self.value = value
            self.expected = ContentType(type: type, subtype: subtype, parameters: parameters)
        }

        init(_ name: String, unparseable value: String) {
            self.name = name
            self.value = value
            self.expected = nil
        }
    }

    static let rows: [Row] = [
        Row("simple", "text/html", "text", "html"),
        Row("uppercase", "TEXT/HTML; CHARSET=UTF-8", "text", "html", ["charset": "UTF-8"]),
        Row("quotedCharset", "text/html; charset=\"utf-8\"", "text", "html", ["charset": "utf-8"]),
        Row("quotedPairEscapes", #"multipart/mixed; boundary="a\"b\\c""#, "multipart", "mixed", ["boundary": #"a"b\c"#]),
        Row("boundaryWithEquals", "multipart/alternative; boundary=----=_Part_123_456.789",
            "multipart", "alternative", ["boundary": "----=_Part_123_456.789"]),
        Row("boundaryWithSlashAndQuestionMark", "multipart/mixed; boundary=a/b?c",
            "multipart", "mixed", ["boundary": "a/b?c"]),
        Row("extraSemicolons", "text/plain;; ; charset=us-ascii;", "text", "plain", ["charset": "us-ascii"]),
        Row("comments", "text/plain (body) ; charset=us-ascii (Plain text)", "text", "plain", ["charset": "us-ascii"]),
        Row("nestedComment", "text/plain; (a (b) c) charset=x", "text", "plain", ["charset": "x"]),
        Row("whitespaceAroundSlashAndEquals", " text / html ; charset = utf-8 ", "text", "html", ["charset": "utf-8"]),
        Row("foldedWhitespace", "multipart/mixed;\r\n\tboundary=\"x\"", "multipart", "mixed", ["boundary": "x"]),
        Row("missingSemicolon", "multipart/mixed boundary=\"abc\"", "multipart", "mixed", ["boundary": "abc"]),
        Row("missingClosingQuote", "multipart/mixed; boundary=\"abc", "multipart", "mixed", ["boundary": "abc"]),
        Row("missingQuotesAroundSpaces", "application/pdf; name=my file.pdf; x=1",
            "application", "pdf", ["name": "my file.pdf", "x": "1"]),
        Row("junkAfterQuotedValue", "text/plain; charset=\"utf-8\"junk; format=flowed",
            "text", "plain", ["charset": "utf-8", "format": "flowed"]),
        Row("parameterWithoutValueIgnored", "text/plain; foo; charset=utf-8", "text", "plain", ["charset": "utf-8"]),
        Row("duplicateParameterFirstWins", "multipart/mixed; boundary=a; boundary=b", "multipart", "mixed", ["boundary": "a"]),
        Row("uppercaseParameterName", "text/plain; Format=Flowed", "text", "plain", ["format": "Flowed"]),
        Row("rawUTF8Value", "text/plain; name=\"résumé.txt\"", "text", "plain", ["name": "résumé.txt"]),
        Row("rfc2231Continuations",
            "message/external-body; access-type=URL; URL*0=\"ftp://\"; URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"",
            "message", "external-body",
            ["access-type": "URL", "url": "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"]),
        Row("rfc2231CharsetAndLanguage", "application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A",
            "application", "x-stuff", ["title": "This is ***fun***"]),
        Row("rfc2231MixedSections",
            "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"",
            "application", "x-stuff", ["title": "This is even more ***fun*** isn't it!"]),
        Row("rfc2231SectionsOutOfOrder", "text/plain; name*1=\"b\"; name*0=\"a\"", "text", "plain", ["name": "ab"]),
        Row("rfc2231MissingSectionStopsJoin", "text/plain; name*0=\"a\"; name*2=\"c\"", "text", "plain", ["name": "a"]),
        Row("rfc2231UTF8", "text/plain; name*=UTF-8''%E2%82%AC%20rates.txt", "text", "plain", ["name": "€ rates.txt"]),
        Row("rfc2231Latin1", "text/plain; name*=iso-8859-1''caf%E9", "text", "plain", ["name": "café"]),
        Row("rfc2231InvalidPercentKept", "text/plain; name*=utf-8''100%", "text", "plain", ["name": "100%"]),
        Row("rfc2231WinsOverPlain", "text/plain; name=\"plain.txt\"; name*=utf-8''ext.txt", "text", "plain", ["name": "ext.txt"]),
        Row("rfc2231BoundaryContinuation", "multipart/mixed; boundary*0=\"abc\"; boundary*1=\"def\"",
            "multipart", "mixed", ["boundary": "abcdef"]),
        Row("empty", unparseable: ""),
        Row("typeOnly", unparseable: "text"),
        Row("missingSubtype", unparseable: "text/; charset=utf-8"),
        Row("missingType", unparseable: "/html"),
        Row("parametersOnly", unparseable: "; charset=utf-8"),
    ]

    @Test(arguments: rows)
    func parses(_ row: Row) {
        #expect(ContentType(parsing: row.value) == row.expected)
    }

    @Test func accessors() throws {
        let type = try #require(ContentType(parsing: "Multipart/Related; Boundary=\"=_abc\"; CHARSET=\" UTF-8 \""))
        #expect(type.isMultipart)
        #expect(type.boundary == "=_abc")
        #expect(type.charset == "utf-8")
        #expect(type.parameter("BOUNDARY") == "=_abc")
        let plain = try #require(ContentType(parsing: "text/plain; charset=\"\"; boundary=\"\""))
        #expect(!plain.isMultipart)
        #expect(plain.charset == nil)
        #expect(plain.boundary == nil)
    }

    struct DispositionRow: Sendable, CustomTestStringConvertible {
        var name: String
        var value: String
        var expected: ContentDisposition?
        var testDescription: String { name }
    }

    static let dispositionRows: [DispositionRow] = [
        DispositionRow(name: "inline", value: "inline", expected: ContentDisposition(disposition: "inline")),
        DispositionRow(name: "uppercase", value: "INLINE", expected: ContentDisposition(disposition: "inline")),
        DispositionRow(name: "attachmentWithFilename", value: "attachment; filename=\"a b.pdf\"",
                       expected: ContentDisposition(disposition: "attachment", parameters: ["filename": "a b.pdf"])),
        DispositionRow(name: "rfc2231Filename", value: "attachment; filename*=UTF-8''%E2%82%AC.pdf; size=12",
                       expected: ContentDisposition(disposition: "attachment", parameters: ["filename": "€.pdf", "size": "12"])),
        DispositionRow(name: "rfc2231FilenameContinued", value: "attachment; filename*0*=UTF-8''a%20; filename*1=\"b.pdf\"",
                       expected: ContentDisposition(disposition: "attachment", parameters: ["filename": "a b.pdf"])),
        DispositionRow(name: "missingSemicolon", value: "attachment filename=x.pdf",
                       expected: ContentDisposition(disposition: "attachment", parameters: ["filename": "x.pdf"])),
        DispositionRow(name: "empty", value: "  ", expected: nil),
        DispositionRow(name: "parametersOnly", value: "; filename=x", expected: nil),
    ]

    @Test(arguments: dispositionRows)
    func parsesDisposition(_ row: DispositionRow) {
        #expect(ContentDisposition(parsing: row.value) == row.expected)
    }

    static let transferEncodings: [(String?, ContentTransferEncoding)] = [
        (nil, .sevenBit),
        ("", .sevenBit),
        ("7bit", .sevenBit),
        (" 7BIT \r\n", .sevenBit),
        ("8bit", .eightBit),
        ("Binary", .binary),
        ("Quoted-Printable", .quotedPrintable),
        ("quoted-printable; charset=utf-8", .quotedPrintable),
        ("BASE64", .base64),
        ("base64 (encoded by hand)", .base64),
        ("7-bit", .other("7-bit")),
        ("8bits", .other("8bits")),
        ("X-UUEncode", .other("x-uuencode")),
        ("quoted printable", .other("quoted printable")),
    ]

    @Test(arguments: transferEncodings)
    func parsesTransferEncoding(value: String?, expected: ContentTransferEncoding) {
        #expect(ContentTransferEncoding(headerValue: value) == expected)
    }
}
