// Bytes/ holds the byte helpers every layer uses: ASCII classes and case, trimming, searching and
// sizing byte arrays. They know no format (MIME, HTML, JSON or URL rules live with their readers)
// and use nothing but the standard library.

extension UInt8 {
    /// Whether the byte is an ASCII digit or letter: `0-9`, `A-Z`, `a-z`.
    package var isASCIIAlphanumeric: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
    /// Whether the byte is ASCII whitespace as HTML and URLs read it: space, tab, LF, CR and FF.
    package var isASCIIWhitespace: Bool {
        self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D || self == 0x0C
    }
    /// ASCII lowercase of a letter; other bytes unchanged.
    package var asciiLowercased: UInt8 {
        (0x41...0x5A).contains(self) ? self | 0x20 : self
    }
}

extension Array where Element == UInt8 {
    /// Removes leading and trailing ASCII whitespace in place.
    mutating func trimASCIIWhitespace() {
        let range = trimmedASCIIWhitespaceRange()
        if range.upperBound < count { removeSubrange(range.upperBound...) }
        if range.lowerBound > 0 { removeSubrange(..<range.lowerBound) }
    }

    /// The range of the bytes without leading and trailing ASCII whitespace.
    func trimmedASCIIWhitespaceRange() -> Range<Int> {
        var start = 0
        var end = count
        while start < end, self[start].isASCIIWhitespace { start += 1 }
        while end > start, self[end - 1].isASCIIWhitespace { end -= 1 }
        return start..<end
    }
}

extension Collection where Element == UInt8 {
    /// The bytes without leading and trailing ASCII whitespace (space, tab, CR, LF, FF).
    package func trimmingASCIIWhitespace() -> SubSequence {
        var start = startIndex
        var end = endIndex
        while start != end, self[start].isASCIIWhitespace { start = index(after: start) }
        while start != end {
            let before = index(start, offsetBy: distance(from: start, to: end) - 1)
            if self[before].isASCIIWhitespace { end = before } else { break }
        }
        return self[start..<end]
    }
}
