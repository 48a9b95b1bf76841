import Testing
@testable import LinkTrack

/// `ListUnsubscribe`: RFC 2369 header values, RFC 8058 one-click, and which link destinations are
/// the header's URLs.
@Suite("LinkRules: ListUnsubscribe")
struct ListUnsubscribeTests {
    struct ParseRow: Sendable, CustomTestStringConvertible {
        var name: String
        var value: String
        var urls: [String]
        var testDescription: String { name }
    }

    static let parseRows: [ParseRow] = [
        ParseRow(name: "one https URL", value: " <https://x.example/u?id=1>", urls: ["https://x.example/u?id=1"]),
        ParseRow(name: "mailto and https, comma-separated", value: "<mailto:u@x.example?subject=unsubscribe>, <https://x.example/u>",
                 urls: ["mailto:u@x.example?subject=unsubscribe", "https://x.example/u"]),
        ParseRow(name: "three URLs without spaces", value: "<https://a.example/1>,<https://b.example/2>,<mailto:c@c.example>",
                 urls: ["https://a.example/1", "https://b.example/2", "mailto:c@c.example"]),
        ParseRow(name: "comments around entries (RFC 2369 §2)", value: "(Use this link) <https://x.example/u> (or write) , <mailto:u@x.example>",
                 urls: ["https://x.example/u", "mailto:u@x.example"]),
        ParseRow(name: "nested comment with quoted parenthesis", value: "(a (b \\) c) d) <https://x.example/u>",
                 urls: ["https://x.example/u"]),
        ParseRow(name: "unfolded value: CRLF and blanks left between entries", value: "<https://x.example/u>,\r\n\t<mailto:u@x.example>",
                 urls: ["https://x.example/u", "mailto:u@x.example"]),
        ParseRow(name: "whitespace inside the brackets is not part of the URL", value: "<https://x.example/very/\r\n long/path>",
                 urls: ["https://x.example/very/long/path"]),
        ParseRow(name: "a value not starting with < is ignored (RFC 2369 §2)", value: "https://x.example/u", urls: []),
        ParseRow(name: "text after an entry without a comma ends the list", value: "<https://x.example/u> please <mailto:u@x.example>",
                 urls: ["https://x.example/u"]),
        ParseRow(name: "an unclosed bracket ends the list", value: "<https://x.example/u>, <mailto:u@x.example", urls: ["https://x.example/u"]),
        ParseRow(name: "empty brackets are skipped", value: "<>, <https://x.example/u>", urls: ["https://x.example/u"]),
        ParseRow(name: "empty value", value: "", urls: []),
    ]

    @Test(arguments: parseRows)
    func parses(_ row: ParseRow) {
        let header = ListUnsubscribe(headerValue: Array(row.value.utf8))
        #expect(header.urls.map { String(decoding: $0, as: UTF8.self) } == row.urls)
    }

    struct OneClickRow: Sendable, CustomTestStringConvertible {
        var name: String
        var list: String?
        var post: String?
        var isOneClick: Bool
        var testDescription: String { name }
    }

    static let oneClickRows: [OneClickRow] = [
        OneClickRow(name: "RFC 8058 pair", list: "<https://x.example/u>", post: "List-Unsubscribe=One-Click", isOneClick: true),
        OneClickRow(name: "blanks around it", list: "<https://x.example/u>", post: "  List-Unsubscribe=One-Click \r\n", isOneClick: true),
        OneClickRow(name: "other case", list: "<https://x.example/u>", post: "list-unsubscribe=one-click", isOneClick: true),
        OneClickRow(name: "another value", list: "<https://x.example/u>", post: "List-Unsubscribe=Yes", isOneClick: false),
        OneClickRow(name: "no List-Unsubscribe-Post", list: "<https://x.example/u>", post: nil, isOneClick: false),
        OneClickRow(name: "post without List-Unsubscribe", list: nil, post: "List-Unsubscribe=One-Click", isOneClick: false),
    ]

    @Test(arguments: oneClickRows)
    func oneClick(_ row: OneClickRow) {
        let header = ListUnsubscribe(headerValue: row.list.map { Array($0.utf8) }, postHeaderValue: row.post.map { Array($0.utf8) })
        #expect(header.isOneClick == row.isOneClick)
    }

    struct MatchRow: Sendable, CustomTestStringConvertible {
        var name: String
        /// The destination after the caller decoded character references.
        var destination: String
        var matches: Bool
        var testDescription: String { name }
    }

    static let header = "<mailto:leave@x.example>, <https://Lists.X.example/u?id=7&list=news>, <http://x.example/o>"

    static let matchRows: [MatchRow] = [
        MatchRow(name: "the same URL", destination: "https://Lists.X.example/u?id=7&list=news", matches: true),
        MatchRow(name: "host and scheme in another case", destination: "HTTPS://lists.x.EXAMPLE/u?id=7&list=news", matches: true),
        MatchRow(name: "blanks around the href value are trimmed", destination: " \t https://lists.x.example/u?id=7&list=news\n", matches: true),
        MatchRow(name: "the second http URL", destination: "http://x.example/o", matches: true),
        MatchRow(name: "the mailto URL", destination: "mailto:leave@x.example", matches: true),
        MatchRow(name: "the path's case matters", destination: "https://lists.x.example/U?id=7&list=news", matches: false),
        MatchRow(name: "an undecoded &amp; is not the header's &", destination: "https://lists.x.example/u?id=7&amp;list=news", matches: false),
        MatchRow(name: "another query", destination: "https://lists.x.example/u?id=8&list=news", matches: false),
        MatchRow(name: "a different scheme", destination: "https://x.example/o", matches: false),
        MatchRow(name: "a trailing slash makes another link", destination: "http://x.example/o/", matches: false),
    ]

    @Test(arguments: matchRows)
    func matches(_ row: MatchRow) {
        let list = ListUnsubscribe(headerValue: Array(Self.header.utf8))
        #expect(list.matches(destination: Array(row.destination.utf8)) == row.matches)
    }

    @Test func noHeaderMatchesNothing() {
        #expect(!ListUnsubscribe(headerValue: nil).matches(destination: Array("https://x.example/u".utf8)))
    }
}
