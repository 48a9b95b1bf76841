import Testing
@testable import LinkTrack

/// `PlainTextLinkFinder`: URL boundaries in decoded text/plain bodies (issue 21, item 4).
@Suite("LinkRules: PlainTextLinkFinder")
struct PlainTextLinkFinderTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var body: String
        var options = PlainTextLinkFinder.Options()
        /// Each link as the texts of its pieces in the body (one piece unless it is wrapped).
        var links: [[String]]
        var testDescription: String { name }
    }

    static let flowedDelSp = PlainTextLinkFinder.Options(format: .flowed(deleteSpace: true))
    static let flowed = PlainTextLinkFinder.Options(format: .flowed(deleteSpace: false))
    static let skipQuoted = PlainTextLinkFinder.Options(skipsQuotedLines: true)

    static let rows: [Row] = [
        Row(name: "a bare URL", body: "Go to https://x.example/a today.\r\n", links: [["https://x.example/a"]]),
        Row(name: "http and upper-case scheme", body: "HTTP://X.example/A and http://y.example", links: [["HTTP://X.example/A"], ["http://y.example"]]),
        Row(name: "trailing full stop stays outside", body: "See https://x.example/a.", links: [["https://x.example/a"]]),
        Row(name: "each trailing punctuation stays outside", body: "https://x.example/1, https://x.example/2; https://x.example/3: https://x.example/4! https://x.example/5?",
            links: [["https://x.example/1"], ["https://x.example/2"], ["https://x.example/3"], ["https://x.example/4"], ["https://x.example/5"]]),
        Row(name: "several trailing marks", body: "(https://x.example/a?!).", links: [["https://x.example/a"]]),
        Row(name: "a full stop inside the path stays", body: "https://x.example/a.html.", links: [["https://x.example/a.html"]]),
        Row(name: "a query's ? and = inside stay", body: "https://x.example/?a=b&c=d.", links: [["https://x.example/?a=b&c=d"]]),
        Row(name: "enclosing parentheses stay outside", body: "(see https://x.example/a)", links: [["https://x.example/a"]]),
        Row(name: "balanced parentheses inside stay", body: "(see https://x.example/a_(b))", links: [["https://x.example/a_(b)"]]),
        Row(name: "balanced parentheses then a full stop", body: "https://en.example/wiki/A_(b).", links: [["https://en.example/wiki/A_(b)"]]),
        Row(name: "square brackets around", body: "[https://x.example/a]", links: [["https://x.example/a"]]),
        Row(name: "balanced square brackets inside", body: "https://x.example/?a[0]=1", links: [["https://x.example/?a[0]=1"]]),
        Row(name: "double quotes around", body: "\"https://x.example/a\"", links: [["https://x.example/a"]]),
        Row(name: "single quotes around", body: "'https://x.example/a'", links: [["https://x.example/a"]]),
        Row(name: "angle brackets", body: "Link: <https://x.example/a.>.", links: [["https://x.example/a."]]),
        Row(name: "RFC 3986 Appendix C <URL:...>", body: "<URL:https://x.example/a>", links: [["https://x.example/a"]]),
        Row(name: "angle brackets across a line break", body: "<https://x.example/very/\r\n   long/path> end",
            links: [["https://x.example/very/", "long/path"]]),
        Row(name: "angle brackets with a blank inside one line are not one URL", body: "<https://x.example/a b>",
            links: [["https://x.example/a"]]),
        Row(name: "angle brackets not closed", body: "<https://x.example/a\r\n\r\nnext", links: [["https://x.example/a"]]),
        Row(name: "a scheme glued to a word is not a URL", body: "xhttps://x.example/a", links: []),
        Row(name: "no host after the slashes", body: "https:// and https://.", links: []),
        Row(name: "an IPv6 host", body: "http://[2001:db8::1]:8080/x", links: [["http://[2001:db8::1]:8080/x"]]),
        Row(name: "non-ASCII path bytes belong to the URL", body: "https://x.example/café now", links: [["https://x.example/café"]]),
        Row(name: "a URL at the very end without a line break", body: "https://x.example", links: [["https://x.example"]]),
        Row(name: "two URLs on two lines (LF only)", body: "https://a.example\nhttps://b.example\n", links: [["https://a.example"], ["https://b.example"]]),
        Row(name: "fixed lines: a line ending in a space does not join", body: "https://x.example/a/ \r\nb/c\r\n", links: [["https://x.example/a/"]]),
        Row(name: "flowed DelSp=yes: a URL runs across a soft break", body: "Go https://x.example/long/ \r\npath/end now\r\n", options: flowedDelSp,
            links: [["https://x.example/long/", "path/end"]]),
        Row(name: "flowed DelSp=yes: across two soft breaks", body: "https://x.example/a \r\nb \r\nc\r\n", options: flowedDelSp,
            links: [["https://x.example/a", "b", "c"]]),
        Row(name: "flowed DelSp=no: the space is content, the URL ends", body: "https://x.example/long/ \r\npath\r\n", options: flowed,
            links: [["https://x.example/long/"]]),
        Row(name: "flowed: a hard break ends the URL", body: "https://x.example/a\r\nb\r\n", options: flowedDelSp,
            links: [["https://x.example/a"]]),
        Row(name: "flowed: a stuffed space is not text", body: "https://x.example/a \r\n b\r\n", options: flowedDelSp,
            links: [["https://x.example/a", "b"]]),
        Row(name: "flowed: quoted lines join at the same depth, quote marks removed", body: "> https://x.example/a \r\n> b\r\n", options: flowedDelSp,
            links: [["https://x.example/a", "b"]]),
        Row(name: "flowed: no join into a different quote depth", body: "> https://x.example/a \r\nb\r\n", options: flowedDelSp,
            links: [["https://x.example/a"], ]),
        Row(name: "quoted reply lines found without the option", body: "> https://x.example/old\r\nhttps://x.example/new\r\n",
            links: [["https://x.example/old"], ["https://x.example/new"]]),
        Row(name: "quoted reply lines skipped with the option", body: "> https://x.example/old\r\n>> https://x.example/older\r\nhttps://x.example/new\r\n",
            options: skipQuoted, links: [["https://x.example/new"]]),
        Row(name: "a line with > later is not quoted", body: "a > https://x.example/a\r\n", options: skipQuoted, links: [["https://x.example/a"]]),
        Row(name: "angle brackets do not run into a skipped quoted line", body: "<https://x.example/a\r\n> b>\r\n", options: skipQuoted,
            links: [["https://x.example/a"]]),
        Row(name: "flowed and skipped: a soft break before a quoted line does not join", body: "https://x.example/a \r\n> b\r\n",
            options: PlainTextLinkFinder.Options(format: .flowed(deleteSpace: true), skipsQuotedLines: true), links: [["https://x.example/a"]]),
        Row(name: "no URL", body: "Nothing here: mailto:a@x.example, ftp://x.example", links: []),
    ]

    @Test(arguments: rows)
    func finds(_ row: Row) {
        let body = Array(row.body.utf8)
        let links = PlainTextLinkFinder.links(in: body, options: row.options)
        let pieces = links.map { link in link.decodedRanges.map { String(decoding: body[$0], as: UTF8.self) } }
        #expect(pieces == row.links)
        for link in links {
            #expect(link.url == link.decodedRanges.flatMap { body[$0] })
        }
    }

    @Test func reportsBracketsAndASCII() {
        let body = Array("<https://x.example/a> https://x.example/é".utf8)
        let links = PlainTextLinkFinder.links(in: body)
        #expect(links.map(\.isAngleBracketed) == [true, false])
        #expect(links.map(\.isASCII) == [true, false])
        #expect(links.first?.decodedRange == 1..<20)
    }
}
