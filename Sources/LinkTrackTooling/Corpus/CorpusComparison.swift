/// Where two outputs first differ, for a readable failure message.
public enum CorpusComparison {
    /// nil when equal; else a description with the offset, the line number and both lines.
    public static func firstDifference(expected: [UInt8], actual: [UInt8]) -> String? {
        guard expected != actual else { return nil }
        var offset = 0
        let limit = min(expected.count, actual.count)
        while offset < limit, expected[offset] == actual[offset] { offset += 1 }
        var lineStart = offset
        while lineStart > 0, expected[lineStart - 1] != 0x0A { lineStart -= 1 }
        let lineNumber = expected[0..<lineStart].filter { $0 == 0x0A }.count + 1
        func line(_ bytes: [UInt8]) -> String {
            guard lineStart <= bytes.count else { return "<end of output>" }
            var end = lineStart
            while end < bytes.count, bytes[end] != 0x0A, end - lineStart < 300 { end += 1 }
            let text = String(decoding: bytes[lineStart..<end], as: UTF8.self)
            return text.replacingCRs()
        }
        return "first difference at byte \(offset) (line \(lineNumber)):\n  expected: \(line(expected))\n  actual:   \(line(actual))\n  (expected \(expected.count) bytes, got \(actual.count))"
    }
}

extension String {
    func replacingCRs() -> String {
        var out = ""
        for c in unicodeScalars { if c == "\r" { out += "\\r" } else { out.unicodeScalars.append(c) } }
        return out
    }
}
