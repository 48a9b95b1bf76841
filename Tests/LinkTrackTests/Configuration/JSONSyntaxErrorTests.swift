import Testing
@testable import LinkTrack

/// Every syntax error of the configuration's JSON parser, one row per quirk: the byte offset it
/// names and its reason.
@Suite struct JSONSyntaxErrorTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var document: [UInt8]
        var offset: Int
        var reason: String
        var testDescription: String { name }

        init(_ name: String, _ document: String, at offset: Int, _ reason: String) {
            self.init(name, Array(document.utf8), at: offset, reason)
        }

        init(_ name: String, _ document: [UInt8], at offset: Int, _ reason: String) {
            self.name = name
            self.document = document
            self.offset = offset
            self.reason = reason
        }
    }

    static let rows: [Row] = [
        Row("empty document", "", at: 0, "unexpected end of input"),
        Row("only whitespace", " \n", at: 2, "unexpected end of input"),
        Row("data after the document", "{} x", at: 3, "unexpected data after the document"),
        Row("two documents", "1 2", at: 2, "unexpected data after the document"),
        Row("nesting one deeper than allowed", String(repeating: "[", count: 65), at: 64, "nesting deeper than 64"),
        Row("object key not a string", "{1:2}", at: 1, "expected a string key"),
        Row("object key in single quotes", "{'a':1}", at: 1, "expected a string key"),
        Row("trailing comma in an object", "{\"a\":1,}", at: 7, "expected a string key"),
        Row("missing colon", "{\"a\" 1}", at: 5, "expected ':'"),
        Row("object ends after a value", "{\"a\":1", at: 6, "unexpected end of input in an object"),
        Row("semicolon between members", "{\"a\":1;", at: 6, "expected ',' or '}'"),
        Row("array ends after a value", "[1", at: 2, "unexpected end of input in an array"),
        Row("semicolon between items", "[1;2]", at: 2, "expected ',' or ']'"),
        Row("trailing comma in an array", "[1,]", at: 3, "unexpected character"),
        Row("truncated literal", "tru", at: 0, "unexpected character"),
        Row("capitalised literal", "True", at: 0, "unexpected character"),
        Row("bare minus", "-", at: 1, "unexpected character"),
        Row("fraction without digits", "1.", at: 2, "expected digits after '.'"),
        Row("exponent without digits", "1e+", at: 3, "expected exponent digits"),
        Row("unterminated string", "\"abc", at: 4, "unterminated string"),
        Row("control character in a string", "\"a\u{01}\"", at: 2, "control character in a string"),
        Row("raw newline in a string", "\"a\nb\"", at: 2, "control character in a string"),
        Row("escape at the end", "\"\\", at: 2, "unterminated escape"),
        Row("unknown escape", "\"\\q\"", at: 3, "invalid escape"),
        Row("truncated \\u escape", "\"\\u12\"", at: 3, "truncated \\u escape"),
        Row("non-hex digit in \\u escape", "\"\\u12G4\"", at: 5, "invalid \\u escape"),
        Row("high surrogate before a non-surrogate", "\"\\uD800\\u0041\"", at: 13, "invalid surrogate pair"),
        Row("lone low surrogate", "\"\\uDC00\"", at: 7, "invalid \\u escape"),
        Row("invalid UTF-8 in a string", [0x22, 0x61, 0xFF, 0x22], at: 1, "invalid UTF-8 in a string"),
    ]

    @Test(arguments: rows)
    func syntaxError(_ row: Row) {
        #expect(throws: JSONSyntaxError(offset: row.offset, reason: row.reason)) {
            try JSONValue.parse(row.document)
        }
    }
}
