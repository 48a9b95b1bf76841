import Foundation
import LinkTrack
import Testing
import TestSupport

/// `linktrack decode` on URLs copied from HTML source, and error lines that name their input
/// (issue 16, item 1).
@Suite("ConfigCLI: decode reads HTML-escaped URLs and names each failing input")
struct DecodeCLITests {
    /// The href value the filter writes for a link: the tracking URL with `&amp;` between its fields.
    static func hrefFromFilteredHTML() throws -> String {
        let html = Array("<html><body><a href=\"https://shop.example.com/a?b=1&amp;c=2\">x</a></body></html>".utf8)
        let run = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config, "--input", "html",
                                          "--message-id", "<h@example.com>", "--log-file", "/dev/null"], stdin: html)
        #expect(run.status == 0)
        let text = String(decoding: run.stdout, as: UTF8.self)
        let start = try #require(text.range(of: "href=\"")).upperBound
        let end = try #require(text[start...].firstIndex(of: "\""))
        return String(text[start..<end])
    }

    static let expected = #"{"kind":"click","url":"https://shop.example.com/a?b=1&c=2","messageId":"h@example.com","configurationSet":"marketing","linkIndex":0,"tags":{},"messageTags":{}}"# + "\n"

    @Test func aURLCopiedFromHTMLSourceDecodes() throws {
        let href = try Self.hrefFromFilteredHTML()
        #expect(href.contains("&amp;s=marketing&amp;i=0&amp;u="), "the value as written in HTML: \(href)")
        let raw = href.replacingOccurrences(of: "&amp;", with: "&")
        for spelling in [href, raw, href.replacingOccurrences(of: "&amp;", with: "&#38;"),
                         href.replacingOccurrences(of: "&amp;", with: "&#x26;"), " \(href) "] {
            let arguments = try LinkTrackCLI.run(["decode", "--config", FilterCLITests.config, spelling], stdin: [])
            #expect(arguments.status == 0, "\(spelling): \(String(decoding: arguments.stdout, as: UTF8.self))")
            #expect(String(decoding: arguments.stdout, as: UTF8.self) == Self.expected)
            let lines = try LinkTrackCLI.run(["decode", "--config", FilterCLITests.config], stdin: Array((spelling + "\n").utf8))
            #expect(lines.status == 0)
            #expect(String(decoding: lines.stdout, as: UTF8.self) == Self.expected)
        }
    }

    /// Each error line is `{"error":...,"input":...}` with the URL exactly as given; an escaped URL
    /// that fails says it was read as HTML-escaped.
    @Test func eachErrorLineNamesItsInput() throws {
        let href = try Self.hrefFromFilteredHTML()
        let tamperedEscaped = href.replacingOccurrences(of: "i=0", with: "i=1")
        let tamperedRaw = tamperedEscaped.replacingOccurrences(of: "&amp;", with: "&")
        let inputs = [tamperedEscaped, "not a url", href, tamperedRaw]
        let run = try LinkTrackCLI.run(["decode", "--config", FilterCLITests.config] + inputs, stdin: [])
        #expect(run.status == 65)
        let lines = String(decoding: run.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        try #require(lines.count == 4)
        func json(_ line: String) throws -> JSONValue { try JSONValue.parse(Array(line.utf8)) }
        for (n, input) in [(0, tamperedEscaped), (1, "not a url"), (3, tamperedRaw)] {
            let value = try json(lines[n])
            #expect(value["input"] == .string(input), "\(lines[n])")
            guard case .object(let members) = value else { continue }
            #expect(members.map(\.key) == ["error", "input"])
        }
        #expect(try json(lines[0])["error"] == .string(
            "the signature does not match (the URL was altered or signed with another key) (read as HTML-escaped: \(tamperedRaw))"))
        #expect(try json(lines[3])["error"] == .string("the signature does not match (the URL was altered or signed with another key)"))
        #expect(lines[2] + "\n" == Self.expected)
    }
}
