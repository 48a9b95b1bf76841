import Testing
@testable import LinkTrack

@Suite("LinkRules: tracking URLs that text linkifiers read whole")
struct TextLinkSafetyTests {
    struct EscapeRow: Sendable, CustomTestStringConvertible {
        var name: String
        var destination: String
        var expected: String
        var testDescription: String { name }
    }

    static let escapeRows: [EscapeRow] = [
        EscapeRow(name: "nothing to escape is returned as is", destination: "https://x.example/a?b=1", expected: "https://x.example/a?b=1"),
        EscapeRow(name: "parentheses in the path", destination: "https://x.example/a_(b)", expected: "https://x.example/a_%28b%29"),
        EscapeRow(name: "square and curly brackets in the query", destination: "https://x.example/?a[0]={x}", expected: "https://x.example/?a%5B0%5D=%7Bx%7D"),
        EscapeRow(name: "quotes and backquote", destination: "https://x.example/\"q\"'s`", expected: "https://x.example/%22q%22%27s%60"),
        EscapeRow(name: "angle brackets in the fragment", destination: "https://x.example/#<top>", expected: "https://x.example/#%3Ctop%3E"),
        EscapeRow(name: "an IPv6 host keeps its brackets", destination: "http://[2001:db8::1]:8080/(x)", expected: "http://[2001:db8::1]:8080/%28x%29"),
        EscapeRow(name: "an existing escape stays", destination: "https://x.example/%28", expected: "https://x.example/%28"),
    ]

    @Test(arguments: escapeRows)
    func escapes(_ row: EscapeRow) {
        let escaped = TextLinkSafety.escapingDelimiters(Array(row.destination.utf8))
        #expect(String(decoding: escaped, as: UTF8.self) == row.expected)
    }

    struct EndRow: Sendable, CustomTestStringConvertible {
        var name: String
        var url: String
        var safe: Bool
        var testDescription: String { name }
    }

    static let endRows: [EndRow] = [
        EndRow(name: "letter", url: "https://t.example/c/1?u=https://x.example/a", safe: true),
        EndRow(name: "digit", url: "https://t.example/c/1?u=https://x.example/1", safe: true),
        EndRow(name: "percent-escape", url: "https://t.example/c/1?u=https://x.example/%29", safe: true),
        EndRow(name: "slash", url: "https://t.example/c/1?u=https://x.example/", safe: false),
        EndRow(name: "full stop", url: "https://t.example/c/1?u=https://x.example/a.", safe: false),
        EndRow(name: "question mark", url: "https://t.example/c/1?u=https://x.example/?", safe: false),
        EndRow(name: "equals sign", url: "https://t.example/c/1?u=https://x.example/?a=", safe: false),
        EndRow(name: "closing parenthesis", url: "https://t.example/c/1?u=https://x.example/(a)", safe: false),
        EndRow(name: "empty", url: "", safe: false),
    ]

    @Test(arguments: endRows)
    func endings(_ row: EndRow) {
        #expect(TextLinkSafety.endsInLetterDigitOrPercentEscape(Array(row.url.utf8)) == row.safe)
    }
}
