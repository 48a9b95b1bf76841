#if canImport(Glibc)
import Glibc
#endif

/// libxml2's reading of one start tag (`htmlParseStartTag`, `htmlParseAttribute`,
/// `htmlParseAttValue`, `htmlParseHTMLName`), done again over the document's own bytes so that
/// each attribute's name and value are located byte-exactly: libxml2 reports a tag's attributes
/// decoded and without positions.
///
/// It reads the document in place and keeps the storage of its attribute list from one tag to the
/// next, so a tag costs no allocation (unless it has listed attributes).
///
/// - Warning: `bytes` must stay valid while the re-scanner is used.
struct TagRescanner {
    /// The document. Safe: every read of it below is at an index checked first against `end` or
    /// a smaller limit (its subscript is not checked in release builds).
    let bytes: UnsafeBufferPointer<UInt8>
    let end: Int
    let vocabulary: ScannerVocabulary
    /// The attributes of the tag last re-scanned, all of them, duplicates included (kept to reuse
    /// their storage).
    private(set) var attributes: [ScannedAttribute] = []

    init(bytes: UnsafeBufferPointer<UInt8>, vocabulary: ScannerVocabulary) {
        self.bytes = bytes
        self.end = bytes.count
        self.vocabulary = vocabulary
    }

    // MARK: - libxml2's byte classes

    @inline(__always) static func isBlank(_ b: UInt8) -> Bool { byteClass(b) & blank != 0 }
    @inline(__always) static func isNameStart(_ b: UInt8) -> Bool { byteClass(b) & nameStart != 0 }
    @inline(__always) static func isNameCharacter(_ b: UInt8) -> Bool { byteClass(b) & nameCharacter != 0 }
    static func isASCIILetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    @inline(__always) private static func byteClass(_ b: UInt8) -> UInt8 {
        // Safe: the table holds 256 bytes (checked in the tests) and a UInt8 indexes at most 255.
        byteClasses.utf8Start[Int(b)]
    }

    /// Bits of ``byteClasses``.
    static let blank: UInt8 = 1
    static let nameStart: UInt8 = 2
    static let nameCharacter: UInt8 = 4
    /// For each byte, the classes it belongs to in libxml2's tag rules (`htmlParseHTMLName`,
    /// `IS_BLANK_CH`): ``blank`` for space, tab, LF and CR; ``nameStart`` for ASCII letters, `_`, `:`
    /// and `.`; ``nameCharacter`` for ASCII letters and digits, `:`, `-`, `_` and `.`. A static
    /// string, so that the table is read in place on every tag byte (checked against those rules in
    /// the tests).
    static let byteClasses: StaticString = "\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{1}\u{1}\u{0}\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{4}\u{6}\u{0}\u{4}\u{4}\u{4}\u{4}\u{4}\u{4}\u{4}\u{4}\u{4}\u{4}\u{6}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{0}\u{0}\u{0}\u{0}\u{6}\u{0}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{6}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}"

    // MARK: - Re-scanning a tag

    /// `htmlParseStartTag`'s reading of the tag starting at `start` (the `<`), within `limit`
    /// (the document's end by default; a conditional comment's markup ends earlier). nil when no
    /// tag starts there or it does not end within `limit` (an unterminated quote swallows the rest).
    mutating func rescan(from start: Int, limit: Int? = nil) -> ScannedTag? {
        var tag = ScannedTag.empty
        return rescan(from: start, limit: limit, into: &tag) ? tag : nil
    }

    /// ``rescan(from:limit:)`` into `tag`, which is left as it was when it returns false: a caller
    /// that handles many tags keeps one, rather than copying a large optional out of each call.
    mutating func rescan(from start: Int, limit: Int? = nil, into tag: inout ScannedTag) -> Bool {
        let end = limit ?? self.end
        var i = start + 1
        guard let nameRange = htmlName(at: &i, limit: end) else { return false }
        // The storage of the previous scan, reused: no allocation per tag.
        attributes.removeAll(keepingCapacity: true)
        skipBlanks(&i, limit: end)
        while i < end {
            let c = bytes[i]
            if c == UInt8(ascii: ">") { break }
            if c == UInt8(ascii: "/"), i + 1 < end, bytes[i + 1] == UInt8(ascii: ">") { break }
            if let attrName = htmlName(at: &i, limit: end) {
                skipBlanks(&i, limit: end)
                var valueRange: Range<Int>?
                var quote: UInt8?
                var fullEnd = attrName.upperBound
                if i < end, bytes[i] == UInt8(ascii: "=") {
                    i += 1
                    skipBlanks(&i, limit: end)
                    if i < end, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") {
                        let q = bytes[i]
                        // unterminated: swallows the rest
                        guard let j = bytes.index(of: q, from: i + 1, limit: end) else { return false }
                        valueRange = (i + 1)..<j
                        quote = q
                        i = j + 1
                        fullEnd = i
                    } else {
                        let valueStart = i
                        while i < end, bytes[i] != UInt8(ascii: ">"), !Self.isBlank(bytes[i]) { i += 1 }
                        valueRange = valueStart..<i
                        fullEnd = i
                    }
                }
                let duplicate = attributes.contains { sameName($0.nameRange, attrName) }
                attributes.append(ScannedAttribute(
                    kind: attributeKind(attrName, value: valueRange),
                    leadingWhitespaceStart: blanksBefore(attrName.lowerBound, after: nameRange.upperBound),
                    nameRange: attrName,
                    valueRange: valueRange, quote: quote, fullRange: attrName.lowerBound..<fullEnd,
                    isDuplicate: duplicate))
            } else {
                // libxml2 drops a bogus attribute up to the next blank or the end of the tag.
                while i < end, !Self.isBlank(bytes[i]), bytes[i] != UInt8(ascii: ">"),
                      !(bytes[i] == UInt8(ascii: "/") && i + 1 < end && bytes[i + 1] == UInt8(ascii: ">")) { i += 1 }
            }
            skipBlanks(&i, limit: end)
        }
        guard i < end else { return false }
        tag.nameRange = nameRange
        tag.isImage = false
        tag.tagStart = start
        tag.tagEnd = i
        tag.href = nil
        tag.src = nil
        tag.listedAttributes = []
        tag.context = .body
        for attribute in attributes {
            switch attribute.kind {
            case .href: if tag.href == nil && !attribute.isDuplicate { tag.href = attribute }
            case .src: if tag.src == nil && !attribute.isDuplicate { tag.src = attribute }
            case .listed: tag.listedAttributes.append(attribute)
            case .other: break
            }
        }
        return true
    }

    /// The kind of the attribute whose name is at `range` and whose value (if any) is at `value`.
    ///
    /// Inlined into the re-scan, which calls it for every attribute: out of line, the re-scanner
    /// (the call's `self`) was copied to the stack for each call.
    @inline(__always)
    func attributeKind(_ range: Range<Int>, value: Range<Int>?) -> AttributeKind {
        switch range.count {
        case 4: if matches(range, "href") { return .href }
        case 3: if matches(range, "src") { return .src }
        default: break
        }
        // One test passes over every attribute whose length no listed name has.
        guard vocabulary.nameLengths & ScannerVocabulary.lengthBit(range.count) != 0 else { return .other }
        for (index, listed) in vocabulary.attributes.enumerated() where listed.name.count == range.count {
            guard matches(range, listed.name) else { continue }
            guard let required = listed.requiredValue else { return .listed(index) }
            return hasValue(value, required) ? .listed(index) : .other
        }
        return .other
    }

    /// Whether the bytes at `range` are `name` (lowercase), without regard to ASCII case. A static
    /// string, so that nothing is retained.
    private func matches(_ range: Range<Int>, _ name: StaticString) -> Bool {
        let expected = name.utf8Start
        var k = 0
        for b in range {
            // Safe: callers pass a name of `range.count` bytes.
            guard bytes[b].asciiLowercased == expected[k] else { return false }
            k += 1
        }
        return true
    }

    private func matches(_ range: Range<Int>, _ name: [UInt8]) -> Bool {
        var k = 0
        for b in range {
            guard bytes[b].asciiLowercased == name[k] else { return false }
            k += 1
        }
        return true
    }

    /// Whether the value at `range` is `required` (lowercase) once its character references are
    /// decoded, without regard to ASCII case.
    private func hasValue(_ range: Range<Int>?, _ required: [UInt8]) -> Bool {
        guard let range else { return false }
        // Safe: `range` is a value this rescanner located within `bytes`; `raw` is read or copied
        // before the function returns.
        let raw = UnsafeBufferPointer(rebasing: bytes[range])
        // A value with no reference is compared in place; only one with a `&` is decoded (a copy).
        // Blanks around the value do not count (`clicktracking=" off "` opts out too).
        let decoded = raw.contains(UInt8(ascii: "&")) ? CharacterReference.decodeAttributeValue(ArraySlice(raw)) : Array(raw)
        let value = decoded.trimmingASCIIWhitespace()
        return value.count == required.count && zip(value, required).allSatisfy { $0.asciiLowercased == $1 }
    }

    func sameName(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        for k in 0..<a.count where bytes[a.lowerBound + k].asciiLowercased != bytes[b.lowerBound + k].asciiLowercased { return false }
        return true
    }

    /// The start of the blanks just before `offset` (not before `floor`): what goes with an attribute
    /// that is removed. The blanks after a valueless attribute are the ones libxml2 skipped while
    /// looking for its `=`, so they are found by looking back, not by the scan position.
    func blanksBefore(_ offset: Int, after floor: Int) -> Int {
        var start = offset
        while start > floor, Self.isBlank(bytes[start - 1]) { start -= 1 }
        return start
    }

    /// `htmlParseHTMLName`: a letter, `_`, `:` or `.`, then letters, digits, `:`, `-`, `_`, `.`;
    /// at most 100 characters (libxml2 cuts longer names).
    func htmlName(at i: inout Int, limit end: Int) -> Range<Int>? {
        guard i < end, Self.isNameStart(bytes[i]) else { return nil }
        let start = i
        while i < end, i - start < 100, Self.isNameCharacter(bytes[i]) { i += 1 }
        return start..<i
    }

    func skipBlanks(_ i: inout Int, limit end: Int) {
        while i < end, Self.isBlank(bytes[i]) { i += 1 }
    }

    // MARK: - Locating a tag libxml2 reported

    /// Finds the `<` of the tag whose `>` is at `closeOffset` and re-scans its attributes; the scan
    /// must end at that `>` and give the attribute names libxml2 reported, in order.
    /// - Parameters:
    ///   - names: the element's name, then its attributes' names, as libxml2 reported them
    ///     (lowercased), each followed by a 0 byte, at `range` in `names`.
    ///
    mutating func locate(closeOffset: Int, names: [UInt8], at range: Range<Int>) -> ScannedTag? {
        var tag = ScannedTag.empty
        return locate(closeOffset: closeOffset, names: names, at: range, into: &tag) ? tag : nil
    }

    /// ``locate(closeOffset:names:at:)`` into `tag`, whose contents are unspecified when it returns
    /// false: the scanner keeps one tag for all it locates, where an optional result (a large
    /// struct) was copied through memory several times for every tag.
    @inline(__always)
    mutating func locate(closeOffset: Int, names: [UInt8], at range: Range<Int>, into tag: inout ScannedTag) -> Bool {
        var searchEnd = closeOffset
        var attempts = 0
        while attempts < 64, let candidate = lastIndex(of: UInt8(ascii: "<"), before: searchEnd) {
            if matchesName(names, at: range.lowerBound, offset: candidate + 1) {
                attempts += 1
                if rescan(from: candidate, into: &tag), tag.tagEnd == closeOffset, sameNames(names, range) {
                    return true
                }
            }
            searchEnd = candidate
        }
        return false
    }

    /// The last index of `byte` before `end`.
    func lastIndex(of byte: UInt8, before end: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        let pattern = UInt64(byte) &* 0x0101_0101_0101_0101
        var i = min(end, bytes.count)
        // Eight bytes at a time while none of them is `byte`.
        while i >= 8 {
            // Safe: the word read is i - 8..<i, with 8 <= i <= bytes.count.
            let x = raw.loadUnaligned(fromByteOffset: i - 8, as: UInt64.self) ^ pattern
            if (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080 != 0 { break }
            i -= 8
        }
        while i > 0 {
            i -= 1
            if bytes[i] == byte { return i }
        }
        return nil
    }

    /// Whether the attributes of the tag last re-scanned (duplicates left out) are libxml2's, name
    /// for name.
    /// - Parameter range: the element's name, then libxml2's attribute names, in `names`.
    func sameNames(_ names: [UInt8], _ range: Range<Int>) -> Bool {
        // Safe: `range` holds NUL-terminated names within `names`, the last NUL at
        // `range.upperBound - 1`. A name byte of the document is never NUL, so a comparison that
        // reaches a NUL fails there, and every read below stays before `range.upperBound` (each
        // attribute starts below it, checked first). The document's reads are within its names.
        names.withUnsafeBufferPointer { names in
            // Past the element's name.
            var k = range.lowerBound
            while names[k] != 0 { k += 1 }
            k += 1
            for attribute in attributes where !attribute.isDuplicate {
                guard k < range.upperBound else { return false }
                for b in attribute.nameRange {
                    guard names[k] == bytes[b].asciiLowercased else { return false }
                    k += 1
                }
                guard names[k] == 0 else { return false }
                k += 1
            }
            return k == range.upperBound
        }
    }

    /// Whether the document at `offset` holds the name that starts at `nameStart` in `names`
    /// (libxml2 reports it lowercased), followed by a byte that ends a name.
    func matchesName(_ names: [UInt8], at nameStart: Int, offset: Int) -> Bool {
        var k = 0
        while names[nameStart + k] != 0 {
            guard offset + k < end, bytes[offset + k].asciiLowercased == names[nameStart + k] else { return false }
            k += 1
        }
        let after = offset + k
        return after == end || !Self.isNameCharacter(bytes[after])
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The first index of `byte` in `start..<limit`, found with `memchr`; `limit` must not exceed
    /// `count`. Inlined: called for every quoted value the re-scan reads, where the call around
    /// `memchr` cost about as much as `memchr` itself.
    @inline(__always)
    func index(of byte: UInt8, from start: Int, limit: Int) -> Int? {
        guard start < limit, let base = baseAddress else { return nil }
        // Safe: start..<limit lies within the buffer (start >= 0 at every call, limit <= count).
        guard let found = memchr(base + start, Int32(byte), limit - start) else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }
}
