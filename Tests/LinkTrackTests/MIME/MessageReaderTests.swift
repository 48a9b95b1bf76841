import Testing
import TestSupport
@testable import LinkTrack

/// ``MessageReader`` on its own: every byte in exactly one event, in order and at its message
/// offset, whatever the chunk size; the events of each structure a message can have.
@Suite struct MessageReaderTests {
    /// Reads `message` in pieces of `chunkSize` (0: whole) as a consumer that walks every multipart
    /// with a boundary would, and returns the trace of events (runs of body bytes merged, so that
    /// the trace does not depend on the chunk size) and the bytes of all events joined.
    static func read(_ message: String, chunkSize: Int = 0, limits: Limits = Limits(), passRestAfterTop: Bool = false)
        -> (trace: [String], bytes: [UInt8]) {
        var reader = MessageReader(limits: limits)
        var trace: [String] = []
        var bytes: [UInt8] = []
        var body: [UInt8] = []
        func flushBody() {
            if !body.isEmpty { trace.append("body \(String(decoding: body, as: UTF8.self).debugDescription)") }
            body = []
        }
        func take(_ reader: inout MessageReader) {
            while let event = reader.next() {
                switch event {
                case .headers(let headers):
                    flushBody()
                    #expect(headers.messageOffset == bytes.count)
                    bytes += headers.block + headers.blankLine
                    trace.append("headers \(headers.isTop ? "top" : headers.path)\(headers.blankLine.isEmpty ? " (no blank line)" : "")")
                    if passRestAfterTop, headers.isTop {
                        reader.passRest()
                        continue
                    }
                    let fields = HeaderBlock.parse(headers.block)
                    if case .type(let type) = MessageReader.contentTypeReading(fields, inDigest: headers.inDigest),
                       type.isMultipart, let boundary = type.boundary {
                        reader.enterMultipart(boundary: Array(boundary.utf8), isDigest: type.subtype == "digest", path: headers.path)
                    }
                case .body(let piece, let offset):
                    #expect(offset == bytes.count)
                    bytes += piece
                    body += piece
                case .boundary(let boundary):
                    flushBody()
                    #expect(boundary.messageOffset == bytes.count)
                    bytes += boundary.line
                    var line = boundary.isClose ? "close \(boundary.multipartPath)" : "delimiter \(boundary.multipartPath) -> \(boundary.nextPartPath ?? "?")"
                    if boundary.implicitlyClosed > 0 { line += " closing \(boundary.implicitlyClosed)" }
                    trace.append(line)
                case .incompleteHeaders(let headers):
                    flushBody()
                    #expect(headers.messageOffset == bytes.count || headers.block.isEmpty)
                    bytes += headers.block
                    trace.append("incomplete headers \(headers.isTop ? "top" : headers.path)")
                case .oversizedHeaders(let headers):
                    flushBody()
                    bytes += headers.block
                    trace.append("oversized headers \(headers.isTop ? "top" : headers.path)")
                case .end(let unclosed):
                    flushBody()
                    trace.append("end \(unclosed)")
                }
            }
        }
        let input = Array(message.utf8)
        let size = chunkSize == 0 ? max(input.count, 1) : chunkSize
        var start = 0
        while start < input.count {
            reader.append(input[start..<min(start + size, input.count)])
            take(&reader)
            start += size
        }
        reader.finishInput()
        take(&reader)
        return (trace, bytes)
    }

    static let nested = [
        "From: a@example.com", "Content-Type: multipart/mixed; boundary=outer", "", "preamble",
        "--outer", "Content-Type: multipart/alternative; boundary=inner", "",
        "--inner", "Content-Type: text/plain", "", "plain", "--inner-not", "--inner",
        "Content-Type: text/html", "", "<p>html</p>", "--inner--", "inner epilogue",
        "--outer  ", "Content-Type: text/plain", "", "second", "--outer--", "epilogue", "",
    ].joined(separator: "\r\n")

    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var message: String
        var trace: [String]
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "a nested multipart, padding after a delimiter, a near-boundary line", message: nested, trace: [
            "headers top", "body \"preamble\\r\\n\"", "delimiter  -> 1", "headers 1",
            "delimiter 1 -> 1.1", "headers 1.1", "body \"plain\\r\\n--inner-not\\r\\n\"",
            "delimiter 1 -> 1.2", "headers 1.2", "body \"<p>html</p>\\r\\n\"", "close 1",
            "body \"inner epilogue\\r\\n\"", "delimiter  -> 2", "headers 2", "body \"second\\r\\n\"",
            "close ", "body \"epilogue\\r\\n\"", "end 0",
        ]),
        Row(name: "an outer delimiter closes the inner multipart", message: [
            "Content-Type: multipart/mixed; boundary=o", "", "--o", "Content-Type: multipart/mixed; boundary=i", "",
            "--i", "", "x", "--o--", "",
        ].joined(separator: "\n"), trace: [
            "headers top", "delimiter  -> 1", "headers 1", "delimiter 1 -> 1.1", "headers 1.1", "body \"x\\n\"",
            "close  closing 1", "end 0",
        ]),
        Row(name: "no close delimiter at the end", message: [
            "Content-Type: multipart/mixed; boundary=o", "", "--o", "", "x",
        ].joined(separator: "\n"), trace: [
            "headers top", "delimiter  -> 1", "headers 1", "body \"x\"", "end 1",
        ]),
        Row(name: "a part's header block cut short by a boundary", message: [
            "Content-Type: multipart/mixed; boundary=o", "", "--o", "Content-Type: text/plain", "--o--", "",
        ].joined(separator: "\n"), trace: [
            "headers top", "delimiter  -> 1", "incomplete headers 1", "close ", "end 0",
        ]),
        Row(name: "the message ends in its header block", message: "Subject: x\r\nX-A: y", trace: [
            "incomplete headers top", "end 0",
        ]),
        Row(name: "an HTML body starts without an empty line", message: [
            "Content-Type: text/html", "<html><p>x</p></html>", "",
        ].joined(separator: "\n"), trace: [
            "headers top (no blank line)", "body \"<html><p>x</p></html>\\n\"", "end 0",
        ]),
        Row(name: "a multipart's first delimiter starts its body without an empty line", message: [
            "Content-Type: multipart/mixed; boundary=o", "--o", "", "x", "--o--", "",
        ].joined(separator: "\n"), trace: [
            "headers top (no blank line)", "delimiter  -> 1", "headers 1", "body \"x\\n\"", "close ", "end 0",
        ]),
        Row(name: "a line that cannot be a header in a text/plain header block stays in it", message: [
            "Content-Type: text/plain", "not a header", "", "body", "",
        ].joined(separator: "\n"), trace: [
            "headers top", "body \"body\\n\"", "end 0",
        ]),
    ]

    @Test(arguments: rows, [0, 1, 2, 16, 1024])
    func eventsOfEachStructure(_ row: Row, chunkSize: Int) {
        let (trace, bytes) = Self.read(row.message, chunkSize: chunkSize)
        #expect(trace == row.trace)
        #expect(bytes == Array(row.message.utf8))
    }

    @Test func seededRandomChunkSizesGiveTheSameEvents() {
        var generator = SeededGenerator(seed: 0x4D52)
        let whole = Self.read(Self.nested)
        for _ in 0..<50 {
            let size = Int.random(in: 1...40, using: &generator)
            let (trace, bytes) = Self.read(Self.nested, chunkSize: size)
            #expect(trace == whole.trace, "chunk size \(size)")
            #expect(bytes == Array(Self.nested.utf8))
        }
    }

    @Test func overLongLinesAreReadInPiecesAndOnlyTheirFirstPieceCanBeABoundary() {
        var limits = Limits()
        limits.maximumLineChunk = 8
        // "--o" after 8 bytes of a line is not at the line's start: body text.
        let message = "Content-Type: multipart/mixed; boundary=o\n\n--o\n\nxxxxxxxx--o\n--o--\n"
        let (trace, bytes) = Self.read(message, chunkSize: 4, limits: limits)
        #expect(trace == ["headers top", "delimiter  -> 1", "headers 1", "body \"xxxxxxxx--o\\n\"", "close ", "end 0"])
        #expect(bytes == Array(message.utf8))
    }

    @Test func anOversizedHeaderBlockIsHandedOutAndTheRestIsBody() {
        var limits = Limits()
        limits.maximumHeaderBlockSize = 20
        let message = "Subject: a long subject line\nX: y\n\nbody\n"
        let (trace, bytes) = Self.read(message, chunkSize: 3, limits: limits)
        #expect(trace == ["oversized headers top", "body \"X: y\\n\\nbody\\n\"", "end 0"])
        #expect(bytes == Array(message.utf8))
    }

    @Test(arguments: [0, 1, 5])
    func passRestHandsOutEverythingUnread(_ chunkSize: Int) {
        let (trace, bytes) = Self.read(Self.nested, chunkSize: chunkSize, passRestAfterTop: true)
        let body = Self.nested.split(separator: "\r\n\r\n", maxSplits: 1)[1]
        #expect(trace == ["headers top", "body \(String(body).debugDescription)", "end 0"])
        #expect(bytes == Array(Self.nested.utf8))
    }
}
