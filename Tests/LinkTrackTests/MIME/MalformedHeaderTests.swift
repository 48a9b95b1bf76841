import Testing
@testable import LinkTrack
@testable import LinkTrackTooling

/// Issue 16, item 12: header blocks that real senders get wrong. The corpus has a case per shape
/// (`Corpus/mime-malformed-header-*`); these are the rules underneath.
@Suite struct MalformedHeaderTests {
    typealias F = FilterFixture

    /// RFC 5322 §2.2: a field is a name of printable US-ASCII but `:`, then `:`; blanks before the
    /// colon are the obsolete syntax (§4.5.4) that readers accept.
    @Test(arguments: [
        ("Subject: x", true), ("X-Mailer:", true), ("Subject : x", true), ("Subject\t: x", true),
        ("<o:p>text</o:p>", true),  // `<o` is a valid field name: Python's email reads it as one too
        ("X-Mailer BulkSender 2.1", false), ("<html>", false), ("<a href=\"https://e.com/\">", false),
        (": no name", false), ("Sub ject: x", false), ("Subjéct: x", false), ("", false), ("--b", false),
    ])
    func fieldLines(_ line: String, _ isField: Bool) {
        #expect(HeaderBlock.isFieldLine(Array(line.utf8)) == isField)
    }

    @Test(arguments: [
        ("<!DOCTYPE html>", true), ("<html>", true), ("  <table>", true), ("\t<!-- x -->", true), ("<P>", true),
        ("< p>", false), ("<1>", false), ("Hello <b>", false), ("", false), ("<", false), ("</p>", false),
    ])
    func htmlMarkupStarts(_ line: String, _ starts: Bool) {
        #expect(HeaderBlock.startsHTMLMarkup(Array(line.utf8)) == starts)
    }

    /// The first Content-Type field counts (Python's email, MimeKit, mime4j); later fields must name
    /// the same type or none.
    @Test(arguments: [
        (["text/html"], "text/html", nil),
        (["text/html; charset=utf-8", "text/html"], "text/html", "utf-8"),
        (["text/html", "text/html; charset=iso-8859-1"], "text/html", "iso-8859-1"),
        (["text/html", "charset=utf-8"], "text/html", nil),
        (["garbage", "text/html"], "text/plain", nil),
        (["text/html", "text/plain"], nil, nil),
        (["text/plain", "text/html"], nil, nil),
        (["text/html; charset=utf-8", "text/html; charset=us-ascii"], nil, nil),
        (["multipart/mixed; boundary=a", "multipart/mixed; boundary=b"], nil, nil),
        (["multipart/mixed; boundary=a", "multipart/mixed"], "multipart/mixed", nil),
    ] as [([String], String?, String?)])
    func contentTypeReadings(_ values: [String], _ type: String?, _ charset: String?) {
        let reading = ContentTypeReading(values: values, fallback: ContentType(type: "text", subtype: "plain"))
        switch reading {
        case .type(let read):
            #expect("\(read.type)/\(read.subtype)" == type)
            #expect(read.charset == charset)
        case .conflict(let all):
            #expect(type == nil, "conflict for \(values)")
            #expect(all == values)
        }
    }

    /// The filter and the checker find the same header end, whatever the shape, and the checker
    /// accepts the filter's output.
    @Test(arguments: [
        ["Content-Type: text/html", "<html><body><a href=\"https://e.com/a\">a</a></body></html>"],
        ["Content-Type: text/html", "X-Junk without colon", "<p><a href=\"https://e.com/a\">a</a></p>"],
        ["Content-Type: text/html", "X-Junk without colon", "", "<p><a href=\"https://e.com/a\">a</a></p>"],
        ["Content-Type: multipart/mixed; boundary=zz", "--zz", "Content-Type: text/html", "<a href=\"https://e.com/a\">a</a>", "--zz--"],
        ["Content-Type: multipart/mixed; boundary=zz", "", "--zz", "Content-Type: text/html", "Content-Transfer-Encoding: quoted-printable",
         "<a href=3D\"https://e.com/a\">a</a>", "--zz--"],
    ])
    func filterAndCheckerAgree(_ lines: [String]) throws {
        for ending in ["\r\n", "\n"] {
            let input = F.lines(["From: a@example.com"] + lines, ending: ending)
            let (output, report) = try F.run(input)
            #expect(report.changed, "\(lines)")
            #expect(output.text.contains("https://links.example.com/c/"))
            #expect(try InvariantChecker(configuration: F.configuration).check(input: input, output: output) == [])
        }
    }

    /// The entity's body starts at the line of markup; the empty line stays missing, and the added
    /// Message-ID goes before the first line that is no header field.
    @Test func aMissingEmptyLineStaysMissing() throws {
        let input = F.lines(["From: a@example.com", "Content-Type: text/html", "X-Junk without colon",
                             "<p><a href=\"https://e.com/a\">a</a></p>"], ending: "\n")
        let (output, report) = try F.run(input)
        let id = try #require(report.messageId)
        #expect(output.text.hasPrefix("From: a@example.com\nContent-Type: text/html\nMessage-ID: <\(id)>\nX-Junk without colon\n<p><a href=\""))
    }

    /// What the checker now reports: a part changed although its Content-Type fields name
    /// different types, or although a MIME field follows a line that is no header field.
    @Test(arguments: [
        ["Content-Type: text/plain", "Content-Type: text/html", ""],
        ["Content-Type: text/html", "X-Junk without colon", "Content-Transfer-Encoding: 7bit", ""],
    ])
    func theCheckerRejectsAChangedAmbiguousPart(_ fields: [String]) throws {
        let head = ["Message-ID: <amb@example.com>", "Content-Type: multipart/mixed; boundary=b", "", "--b"]
        let input = F.lines(head + fields + ["<a href=\"https://e.com/a\">a</a>", "--b--"], ending: "\r\n")
        // What a filter that tracked the part anyway would write.
        let unambiguous = F.lines(head + ["Content-Type: text/html", ""] + ["<a href=\"https://e.com/a\">a</a>", "--b--"], ending: "\r\n")
        let tracked = try F.run(unambiguous).output.text
        let body = tracked[tracked.range(of: "\r\n\r\n<a")!.upperBound...]
        let forged = Array((F.lines(head + fields, ending: "\r\n").text + "<a" + body).utf8)
        let problems = try InvariantChecker(configuration: F.configuration).check(input: input, output: forged)
        #expect(problems.contains { $0.contains("yet the part changed") }, "\(problems)")
        // And the filter leaves it untouched.
        let (output, report) = try F.run(input)
        #expect(output == input)
        #expect(report.warnings.contains { ["mimeFieldAfterMalformedLine", "conflictingContentTypes"].contains(caseName($0.partWarning() as Any)) })
    }
}
