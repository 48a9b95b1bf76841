import Testing
@testable import LinkTrack

@Suite struct InvariantCheckerTests {
    typealias F = FilterFixture

    static let input = F.lines([
        "From: a@example.com", "Message-ID: <ic@example.com>", "X-SES-MESSAGE-TAGS: campaign=x",
        "Content-Type: multipart/mixed; boundary=b", "",
        "--b", "Content-Type: text/html", "",
        "<html><body><p>Hello</p><a href=\"https://shop.example.com/a?x=1&amp;y=2\">a</a>",
        "<a ses:no-track href=\"http://shop.example.com/keep\">k</a> <a href=\"mailto:x@example.com\">m</a></body></html>",
        "--b", "Content-Type: application/pdf", "Content-Transfer-Encoding: base64", "", "JVBERi0xLjQK",
        "--b--",
    ], ending: "\r\n")

    static var checker: InvariantChecker { try! InvariantChecker(configuration: F.configuration) }

    static func filtered() throws -> [UInt8] { try F.run(input).output }

    @Test func aCorrectOutputPasses() throws {
        #expect(Self.checker.check(input: Self.input, output: try Self.filtered()) == [])
    }

    @Test func anUnchangedMessageIsNotACorrectTrackedOutput() {
        // The pixel and the tracked link are missing, and the SES header is still there.
        #expect(!Self.checker.check(input: Self.input, output: Self.input).isEmpty)
    }

    /// Each row corrupts the correct output in one way; the checker must notice.
    static var mutations: [(String, @Sendable ([UInt8]) -> [UInt8])] { [
        ("a byte of text outside any href", { replacing($0, "<p>Hello</p>", "<p>Hellp</p>") }),
        ("a header field", { replacing($0, "From: a@example.com", "From: b@example.com") }),
        ("the attachment", { replacing($0, "JVBERi0xLjQK", "JVBERi0xLjUK") }),
        ("a boundary line", { replacing($0, "--b--", "--c--") }),
        ("the pixel removed", { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            guard let start = text.range(of: "<img src="), let end = text[start.lowerBound...].firstIndex(of: ">") else { return bytes }
            return Array((String(text[..<start.lowerBound]) + String(text[text.index(after: end)...])).utf8)
        }),
        ("a second pixel", { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            guard let start = text.range(of: "<img src="), let end = text[start.lowerBound...].firstIndex(of: ">") else { return bytes }
            let pixel = String(text[start.lowerBound...end])
            return Array(text.replacingOccurrences("<p>Hello</p>", with: "<p>Hello</p>" + pixel).utf8)
        }),
        ("a tracking URL for another destination", { bytes in
            let other = F.click("https://evil.example.net/", index: 0, messageId: "ic@example.com", messageTags: [Tag(name: "campaign", value: "x")])
            return replacingTrackingURL(bytes, index: 0, with: other)
        }),
        ("a tracking URL with a forged signature", { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            guard let r = text.range(of: "/c/1.t1.") else { return bytes }
            var chars = Array(text)
            let at = text.distance(from: text.startIndex, to: r.upperBound)
            chars[at] = chars[at] == "A" ? "B" : "A"
            return Array(String(chars).utf8)
        }),
        ("the http scheme under REQUIRE", { bytes in
            replacing(bytes, "href=\"https://links.example.com/", "href=\"http://links.example.com/")
        }),
        ("a new line over 998 octets", { bytes in replacing(bytes, "<p>Hello</p>", "<p>" + String(repeating: "x", count: 1200) + "</p>") }),
        ("the no-track link tracked after all", { bytes in
            let tracked = F.click("http://shop.example.com/keep", index: 1, messageId: "ic@example.com", messageTags: [Tag(name: "campaign", value: "x")])
            return replacing(bytes, "href=\"http://shop.example.com/keep\"", "href=\"\(tracked)\"")
        }),
    ] }

    @Test(arguments: 0..<11)
    func everyCorruptionIsFound(_ index: Int) throws {
        let (name, mutate) = Self.mutations[index]
        let good = try Self.filtered()
        let bad = mutate(good)
        #expect(bad != good, "the mutation \(name) did not apply")
        #expect(!Self.checker.check(input: Self.input, output: bad).isEmpty, "not detected: \(name)")
    }

    static func replacing(_ bytes: [UInt8], _ target: String, _ replacement: String) -> [UInt8] {
        Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(target, with: replacement).utf8)
    }

    static func replacingTrackingURL(_ bytes: [UInt8], index: Int, with url: String) -> [UInt8] {
        let text = String(decoding: bytes, as: UTF8.self)
        var ranges: [Range<String.Index>] = []
        var rest = text.startIndex
        while let r = text[rest...].range(of: "href=\"https://links.example.com/c/") {
            let valueStart = text.index(r.lowerBound, offsetBy: 6)
            let valueEnd = text[valueStart...].firstIndex(of: "\"")!
            ranges.append(valueStart..<valueEnd)
            rest = valueEnd
        }
        guard index < ranges.count else { return bytes }
        var out = text
        out.replaceSubrange(ranges[index], with: url)
        return Array(out.utf8)
    }
}

/// Fuzz finding crash-101eca8c: libxml2 reads an unquoted `ses:tags` value across a form feed
/// (its blanks are space, tab, LF and CR), and the rewriter removes the attribute as libxml2 read
/// it; the checker, which took the form feed for a blank, reported the removed bytes as a change.
@Suite struct InvariantCheckerLibXML2BlanksTests {
    typealias F = FilterFixture

    @Test func sesAttributeValueWithAFormFeedIsRemovedWhole() throws {
        let input = F.lines([
            "From: a@example.com", "Message-ID: <ff@example.com>", "Content-Type: text/html", "",
            "<html><body><a ses:tags=a\u{0C}b href=\"https://shop.example.com/x\">x</a></body></html>",
        ], ending: "\r\n")
        let output = try F.run(input).output
        let text = String(decoding: output, as: UTF8.self)
        #expect(!text.contains("ses:tags") && !text.contains("\u{0C}b"), "\(text)")
        let checker = try InvariantChecker(configuration: F.configuration)
        #expect(checker.check(input: input, output: output) == [])
    }
}

/// Fuzz findings crash-ec4efd19 and kin: a `{{ses:openTracker}}` placeholder inside an attribute
/// value whose text also holds "ses:tags=" is removed there (placeholders are removed wherever they
/// stand); the checker took the text for a removed ses: attribute.
@Suite struct InvariantCheckerPlaceholderInValueTests {
    typealias F = FilterFixture

    @Test func placeholderInsideAValueThatReadsLikeASesAttribute() throws {
        let input = F.lines([
            "From: a@example.com", "Message-ID: <ph@example.com>", "Content-Type: text/html", "",
            "<html><body><p>{{ses:openTracker}}</p><a href=\"a ses:tags='{{ses:openTracker}}x'\">r</a>",
            "<a href=\"https://shop.example.com/y\">y</a></body></html>",
        ], ending: "\r\n")
        let output = try F.run(input).output
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.contains("<a href=\"a ses:tags='x'\">"), "\(text)")
        let checker = try InvariantChecker(configuration: F.configuration)
        #expect(checker.check(input: input, output: output) == [])
    }
}


/// Fuzz finding crash-598fac04: a removed `ses:no-track` followed by an attribute whose name only
/// starts with it (`ses:no-track9`); the checker took the second for the first left in place.
@Suite struct InvariantCheckerSesPrefixTests {
    typealias F = FilterFixture

    @Test func removedAttributeFollowedByOneWithTheSameNamePrefix() throws {
        let input = F.lines([
            "From: a@example.com", "Message-ID: <sp@example.com>", "Content-Type: text/html", "",
            "<html><body><a ses:no-track=\"x\" ses:no-track9 href=\"https://shop.example.com/z\">z</a></body></html>",
        ], ending: "\r\n")
        let output = try F.run(input).output
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.contains("<a ses:no-track9 href=\"https://shop.example.com/z\">"), "\(text)")
        let checker = try InvariantChecker(configuration: F.configuration)
        #expect(checker.check(input: input, output: output) == [])
    }
}
