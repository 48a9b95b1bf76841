import Foundation
import LinkTrack
import Testing
import TestSupport

/// `--unknown-configuration-set pass` for a set named by `--configuration-set` (issue 16, item 5),
/// and `--explain` and the log saying what was done (item 6).
@Suite("FilterCLI: unknown --configuration-set and truthful reports")
struct FilterReportingCLITests {
    static func logFile() -> String { NSTemporaryDirectory() + "linktrack-log-\(UUID().uuidString)" }
    static let passNote = "NotFoundException: Configuration set nope does not exist. The message passes unchanged (--unknown-configuration-set pass)."

    @Test func passAppliesToTheSetNamedByTheOption() throws {
        let input = try FilterCLITests.corpusInput("mime-single-part-html-crlf")
        let log = Self.logFile()
        defer { unlink(log) }
        let run = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config, "--configuration-set", "nope",
                                          "--unknown-configuration-set", "pass", "--log-file", log], stdin: input)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == input)
        #expect(run.stderr.isEmpty)
        let text = String(decoding: try FileIO.readAll(path: log), as: UTF8.self)
        #expect(text.contains("note: \(Self.passNote)\n"), "\(text)")
        #expect(!text.contains("no configuration set applies"))

        let explained = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config, "--configuration-set", "nope",
                                                "--unknown-configuration-set", "pass", "--explain", "--log-file", "/dev/null"], stdin: input)
        #expect(explained.stderr == "linktrack: configuration set: none; message id: none; unchanged\n  note: \(Self.passNote)\n")

        // The default action still rejects, as before.
        let rejected = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config, "--configuration-set", "nope",
                                               "--log-file", "/dev/null"], stdin: input)
        #expect(rejected.status == 65)
        #expect(rejected.stderr == "NotFoundException: Configuration set nope does not exist.\n")
    }

    /// The header still comes first: a message whose X-SES-CONFIGURATION-SET names a set is tracked
    /// with it, and one naming an unknown set passes (as before).
    @Test func theHeaderStillChoosesTheSet() throws {
        let body = try FilterCLITests.corpusInput("mime-single-part-html-crlf")
        let withHeader = Array("X-SES-CONFIGURATION-SET: optional\r\n".utf8) + body
        let run = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config, "--configuration-set", "nope",
                                          "--unknown-configuration-set", "pass", "--log-file", "/dev/null"], stdin: withHeader)
        #expect(run.status == 0)
        let text = String(decoding: run.stdout, as: UTF8.self)
        #expect(text.contains("http://track.example.net/o/1.corpus1."), "tracked with the header's set")
        #expect(!text.contains("X-SES-CONFIGURATION-SET"))
        let unknownHeader = Array("X-SES-CONFIGURATION-SET: gone\r\n".utf8) + body
        let passed = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config, "--configuration-set", "nope",
                                             "--unknown-configuration-set", "pass", "--log-file", "/dev/null"], stdin: unknownHeader)
        #expect(passed.status == 0)
        #expect(passed.stdout == unknownHeader)
    }

    @Test func passAppliesToBareHTMLToo() throws {
        let html = Array("<html><body><a href=\"https://example.com/\">x</a></body></html>".utf8)
        let log = Self.logFile()
        defer { unlink(log) }
        let run = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config, "--input", "html", "--configuration-set", "nope",
                                          "--unknown-configuration-set", "pass", "--log-file", log], stdin: html)
        #expect(run.status == 0)
        #expect(run.stdout == html)
        #expect(run.stderr.isEmpty)
        #expect(String(decoding: try FileIO.readAll(path: log), as: UTF8.self).contains("note: \(Self.passNote)\n"))
        let rejected = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config, "--input", "html",
                                               "--configuration-set", "nope", "--log-file", "/dev/null"], stdin: html)
        #expect(rejected.status == 65)
    }

    /// A message that ends inside its header block passes unchanged: no Message-ID is added, and
    /// neither `--explain` nor the log says one was.
    @Test func noMessageIDIsReportedAddedWhenTheOutputIsUnchanged() throws {
        let input = Array("From: a@example.com\nSubject: no body\n".utf8)
        let log = Self.logFile()
        defer { unlink(log) }
        let run = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config, "--explain", "--log-file", log], stdin: input)
        #expect(run.status == 0)
        #expect(run.stdout == input)
        #expect(run.stderr == """
            linktrack: configuration set: marketing; message id: none; unchanged
              note: the message has no Message-ID; none was added (the message passes unchanged)
              note: the message ends inside its header block; nothing to track

            """)
        let text = String(decoding: try FileIO.readAll(path: log), as: UTF8.self)
        #expect(!text.contains("added <"), "\(text)")

        // With a body the Message-ID is added, and said to be.
        let withBody = Array("From: a@example.com\nSubject: body\n\nhello\n".utf8)
        let added = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config, "--explain", "--log-file", "/dev/null"], stdin: withBody)
        #expect(added.status == 0)
        let output = String(decoding: added.stdout, as: UTF8.self)
        #expect(output.contains("\nMessage-ID: <lt."))
        #expect(added.stderr.contains("; changed\n"))
        #expect(added.stderr.contains("note: the message had no Message-ID; added <lt."))
    }

    /// `--explain` says how many parts, notes and warnings the report counted but does not list
    /// (a report lists at most Limits.maximumReportEntries, 1,000, of each; issue 16).
    @Test func explainCountsWhatTheReportDoesNotList() throws {
        var lines = ["From: a@example.com", "Message-ID: <many@example.com>", "Content-Type: multipart/mixed; boundary=b", ""]
        for k in 0..<1_004 {
            // Every part a multipart without a boundary: listed, and warned about.
            lines += ["--b", "Content-Type: multipart/mixed", "", "part \(k)"]
        }
        lines += ["--b--", ""]
        let input = Array(lines.joined(separator: "\r\n").utf8)
        let run = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config, "--explain", "--log-file", "/dev/null"],
                                       stdin: input)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == input)
        // 1 + 1,004 parts listed up to 1,000; 1,004 warnings likewise.
        #expect(run.stderr.contains("\n  ... and 5 more part(s), not listed\n"), "\(run.stderr.suffix(300))")
        #expect(run.stderr.contains("\n  ... and 4 more warning(s), not listed\n"))
        #expect(!run.stderr.contains("more note(s)"))
    }
}

/// `--input html` reads the charset a bare document's `<meta>` declares, as the MIME path does for
/// a part without a charset parameter (issue 16: raw UTF-8 in a link was "non-ASCII in an unknown
/// document" there, and tracked in a message).
@Suite("FilterCLI: --input html and <meta charset>")
struct FilterHTMLMetaCharsetCLITests {
    @Test(arguments: [("<meta charset=\"utf-8\">", true), ("<meta charset=\"iso-8859-1\">", false), ("", false)])
    func aRawUTF8LinkIsTrackedWhenTheDocumentSaysUTF8(_ meta: String, _ tracked: Bool) throws {
        let document = Array("<html><head>\(meta)</head><body><a href=\"https://bücher.example/x\">b</a></body></html>\n".utf8)
        let run = try LinkTrackCLI.run(["filter", "--input", "html", "--config", FilterCLITests.config,
                                        "--message-id", "<m@example.com>", "--explain", "--log-file", "/dev/null"], stdin: document)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("link 0 <a> https://bücher.example/x: tracked") == tracked, "\(run.stderr)")
        #expect(run.stdoutText.contains("u=https://b%C3%BCcher.example/x") == tracked, "\(run.stdoutText)")
    }
}
