import Testing
@testable import LinkTrack
import LinkTrackTooling

/// `text/plain` parts through the whole filter when a set's `TrackLinksIn` takes in text (issue 21,
/// item 4): each transfer encoding, flowed text, and one index space for a message's parts.
@Suite("Rewrite: text parts in the filter") struct TextTrackingFilterTests {
    typealias F = FilterFixture

    static func configuration(_ trackLinksIn: TrackLinksIn) -> Configuration {
        let key = try! SigningKey(keyId: "t1", secret: F.secret)
        let options = try! LinkTrackOptions(trackLinksIn: trackLinksIn)
        return Configuration(
            configurationSets: [ConfigurationSet(uncheckedName: "text", customRedirectDomain: F.domain, httpsPolicy: .optional,
                                                 linkTrackOptions: options)],
            defaultConfigurationSet: "text", signingKeys: [key])
    }

    static func run(_ message: String, _ trackLinksIn: TrackLinksIn = .htmlAndText) throws -> (output: String, report: FilterReport) {
        let filter = try MessageFilter(configuration: configuration(trackLinksIn))
        let (output, report) = try filter.filter(Array(message.utf8))
        // The invariant checker reads every run independently of the rewriter.
        let problems = try InvariantChecker(configuration: configuration(trackLinksIn)).check(input: Array(message.utf8), output: output)
        #expect(problems == [])
        return (output.text, report)
    }

    static func click(_ destination: String, index: Int) throws -> String {
        var buffer: [UInt8] = []
        let signer = MessageSigner(F.signer, messageId: "t@example.com", configurationSet: "text", messageTags: [], domain: F.domain)
        let count = try #require(Array(destination.utf8).withUnsafeBufferPointer {
            signer.writeTextClickURL(destination: $0, linkIndex: index, scheme: .https, into: &buffer)
        })
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    static func message(_ headers: String, _ body: String) -> String {
        "Message-ID: <t@example.com>\r\n\(headers)\r\n\r\n\(body)"
    }

    @Test func sevenBitPartChangesOnlyInItsURLs() throws {
        let input = Self.message("Content-Type: text/plain; charset=us-ascii", "Hello,\r\nsee https://x.example/a.\r\nBye\r\n")
        let (output, report) = try Self.run(input)
        #expect(output == input.replacingOccurrences(of: "https://x.example/a", with: try Self.click("https://x.example/a", index: 0)))
        #expect(report.parts.first?.action == .rewritten)
        #expect(report.trackingURLs.count == 1)
    }

    @Test func htmlOnlySetLeavesTextAsItWas() throws {
        let input = Self.message("Content-Type: text/plain", "see https://x.example/a\r\n")
        let (output, report) = try Self.run(input, .html)
        #expect(output == input)
        #expect(report.parts.first?.text == nil)
    }

    @Test func quotedPrintableSoftBrokenURL() throws {
        let input = Self.message("Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable",
                                 "Link: https://x.example/very/long/pa=\r\nth?q=3D1 end\r\n")
        let (output, report) = try Self.run(input)
        let link = try #require(report.parts.first?.text?.links.first)
        #expect(link.url == "https://x.example/very/long/path?q=1")
        #expect(link.isTracked)
        let body = String(output[output.range(of: "\r\n\r\n")!.upperBound...])
        let decoded = QuotedPrintable.decode(Array(body.utf8)).text
        #expect(decoded == "Link: \(try Self.click("https://x.example/very/long/path?q=1", index: 0)) end\r\n")
        for line in body.split(separator: "\r\n") { #expect(line.utf8.count <= 76) }
    }

    @Test func base64Part() throws {
        let text = "Shop at https://x.example/shop/ today.\r\n"
        let encoded = Base64.encode(Array(text.utf8), layout: .mimeDefault)
        let input = Self.message("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64", encoded.text)
        let (output, _) = try Self.run(input)
        let body = String(output[output.range(of: "\r\n\r\n")!.upperBound...])
        let decoded = try Base64.decode(Array(body.utf8)).bytes.text
        #expect(decoded == text.replacingOccurrences(of: "https://x.example/shop/", with: try Self.click("https://x.example/shop/", index: 0)))
    }

    @Test func flowedPart() throws {
        let input = Self.message("Content-Type: text/plain; format=flowed; delsp=yes",
                                 "Read https://x.example/a/ \r\nb/c now\r\n> https://x.example/quoted\r\n")
        let (output, _) = try Self.run(input)
        let tracked = try Self.click("https://x.example/a/b/c", index: 0)
        #expect(output == Self.message("Content-Type: text/plain; format=flowed; delsp=yes",
                                       "Read \(tracked) now\r\n> https://x.example/quoted\r\n"))
    }

    @Test func alternativeWithBothPartsTrackedHasDistinctIndexes() throws {
        let input = Self.message("Content-Type: multipart/alternative; boundary=alt", """
            --alt\r
            Content-Type: text/plain\r
            \r
            One https://x.example/1 two https://x.example/2\r
            --alt\r
            Content-Type: text/html\r
            \r
            <a href="https://x.example/1">1</a><a href="https://x.example/2">2</a>\r
            --alt--\r

            """)
        let (_, report) = try Self.run(input)
        let indexes = report.parts.flatMap { ($0.text?.links.compactMap(\.linkIndex) ?? []) + ($0.html?.links.compactMap(\.linkIndex) ?? []) }
        #expect(indexes == [0, 1, 2, 3])
        for url in report.trackingURLs { _ = try F.signer.decode(url) }
    }

    @Test func textOnlyKeepsThePixelAndLeavesHTMLLinks() throws {
        let input = Self.message("Content-Type: multipart/alternative; boundary=alt", """
            --alt\r
            Content-Type: text/plain\r
            \r
            https://x.example/1\r
            --alt\r
            Content-Type: text/html\r
            \r
            <a href="https://x.example/1">1</a>\r
            --alt--\r

            """)
        let (output, report) = try Self.run(input, .text)
        let html = try #require(report.parts.first { $0.contentType == "text/html" }?.html)
        #expect(html.links.map(\.untrackedReason) == [.htmlLinksNotTracked])
        if case .inserted = html.pixel {} else { Issue.record("no pixel: \(html.pixel)") }
        #expect(output.contains("<a href=\"https://x.example/1\">1</a>"))
        #expect(report.trackingURLs.count == 1)
    }

    @Test func checkerRejectsAChangedWordAndAForgedURL() throws {
        let checker = try InvariantChecker(configuration: Self.configuration(.htmlAndText))
        let input = Array("see https://x.example/a now\r\n".utf8)
        let set = Self.configuration(.htmlAndText).configurationSets[0]
        let tracked = try Self.click("https://x.example/a", index: 0)
        #expect(checker.checkText(input: input, output: Array("see \(tracked) now\r\n".utf8), set: set) == [])
        #expect(checker.checkText(input: input, output: Array("see \(tracked) NOW\r\n".utf8), set: set) != [])
        let other = try Self.click("https://x.example/b", index: 0)
        #expect(checker.checkText(input: input, output: Array("see \(other) now\r\n".utf8), set: set) != [])
        #expect(checker.checkText(input: input, output: Array("see \(tracked.dropLast())X now\r\n".utf8), set: set) != [])
    }
}
