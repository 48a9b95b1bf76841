import Testing
@testable import LinkTrack

/// The HTML part's body is collected in runs of lines that are not delimiter lines (MessageReader
/// hands out a body up to the next delimiter line in one piece per input). These tests put near-boundaries, over-long lines and the size limit inside
/// such runs, and feed the same message whole, line by line and in small chunks.
@Suite struct FilterSessionCollectingTests {
    typealias F = FilterFixture

    static let nearBoundaries = ["-", "--", "-->", "--b-", "--bX", "--b --", "- -b", "---b", "<!-- c -->", " --b"]

    static func message(ending: String) -> (lines: [String], trackedLine: Int) {
        var lines = ["Message-ID: <col@example.com>", "Content-Type: multipart/mixed; boundary=b", "",
                     "--b", "Content-Type: text/html", ""]
        lines += nearBoundaries
        lines += [String(repeating: "y", count: 300), "<p>" + String(repeating: "-", count: 150) + "</p>"]
        lines += ["<a href=\"https://example.com/in\">in</a>", "--b  ", "Content-Type: text/plain", "", "--not", "--b--"]
        return (lines, nearBoundaries.count + 8)
    }

    @Test(arguments: ["\r\n", "\n"])
    func nearBoundaryLinesStayInTheBody(_ ending: String) throws {
        let (lines, trackedLine) = Self.message(ending: ending)
        #expect(lines[trackedLine].hasPrefix("<a href"))
        var options = FilterOptions()
        options.limits.maximumLineChunk = 64
        let (output, _) = try F.run(F.lines(lines, ending: ending), options)
        var expected = lines
        expected[trackedLine] = "<a href=\"\(F.click("https://example.com/in", index: 0, messageId: "col@example.com"))\">in</a>\(F.pixel(messageId: "col@example.com"))"
        #expect(output.text == F.lines(expected, ending: ending).text)
    }

    @Test(arguments: [0, 1, 2, 7, 64])
    func feedingInPiecesGivesTheSameBytes(_ size: Int) throws {
        // 0: one consume call per line.
        let (lines, _) = Self.message(ending: "\r\n")
        let input = F.lines(lines, ending: "\r\n")
        var options = FilterOptions()
        options.limits.maximumLineChunk = 64
        let whole = try F.run(input, options).output
        var session = F.filter(options).makeSession()
        var output: [UInt8] = []
        var start = 0
        while start < input.count {
            let end = size == 0
                ? (input[start...].firstIndex(of: 0x0A).map { $0 + 1 } ?? input.count)
                : min(start + size, input.count)
            try session.consume(input[start..<end])
            output += session.takeOutput()
            start = end
        }
        try session.finish()
        output += session.takeOutput()
        #expect(output.text == whole.text)
    }

    @Test(arguments: [1, 2, 64, 1 << 20])
    func partOutgrowingTheLimitInsideARunPassesUntouched(_ chunkSize: Int) throws {
        var options = FilterOptions()
        options.limits.maximumHTMLPartSize = 200
        let body = (0..<12).map { "<p>line \($0) <a href=\"https://example.com/\($0)\">l</a></p>" } + ["-", "-->"]
        let lines = ["Message-ID: <lim2@example.com>", "Content-Type: multipart/mixed; boundary=b", "",
                     "--b", "Content-Type: text/html", ""] + body
            + ["--b", "Content-Type: text/html", "", "<a href=\"https://example.com/small\">s</a>", "--b--"]
        let input = F.lines(lines, ending: "\n")
        var session = F.filter(options).makeSession()
        var output: [UInt8] = []
        var start = 0
        while start < input.count {
            let end = min(start + chunkSize, input.count)
            try session.consume(input[start..<end])
            output += session.takeOutput()
            start = end
        }
        try session.finish()
        output += session.takeOutput()
        var expected = lines
        let last = lines.count - 2
        expected[last] = "<a href=\"\(F.click("https://example.com/small", index: 0, messageId: "lim2@example.com"))\">s</a>\(F.pixel(messageId: "lim2@example.com"))"
        #expect(output.text == F.lines(expected, ending: "\n").text)
        #expect(session.report.warnings.count { caseName($0.partWarning() as Any) == "htmlPartTooLarge" } == 1)
        #expect(session.report.parts.count { $0.action == .passedThrough(.tooLarge) } == 1)
    }
}
