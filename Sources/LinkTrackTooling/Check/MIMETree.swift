import LinkTrack

/// An in-memory MIME tree for the invariant checker: deliberately a separate, simple reading of the
/// message (not the streaming filter's), so that the two can check each other.
struct MIMEEntity {
    /// The header block, without the blank line.
    var header: ArraySlice<UInt8>
    var fields: [HeaderField]
    /// The blank line ending the header block (empty when the entity has no body).
    var blankLine: ArraySlice<UInt8>
    var body: ArraySlice<UInt8>
    var contentType: ContentType
    var disposition: ContentDisposition?
    var transferEncoding: ContentTransferEncoding
    var multipart: Multipart?

    struct Multipart {
        var boundary: [UInt8]
        /// Everything that is not a child's bytes: preamble, delimiter lines, epilogue, in order.
        var skeleton: [ArraySlice<UInt8>]
        var children: [MIMEEntity]
    }

    var typeName: String { "\(contentType.type)/\(contentType.subtype)" }

    /// The first `Content-Type` field's type (Python's email, MimeKit and mime4j take the first), or
    /// the default (RFC 2045 §5.2; message/rfc822 in a digest) when there is none or it does not parse.
    static func firstContentType(_ fields: [HeaderField], inDigest: Bool) -> ContentType {
        fields.first { $0.name(is: "content-type") }.flatMap { ContentType(parsing: $0.unfoldedValue) }
            ?? (inDigest ? ContentType(type: "message", subtype: "rfc822") : ContentType(type: "text", subtype: "plain"))
    }

    /// Whether `line` is a header field line (RFC 5322 §2.2: `ftext` name, optional blanks, `:`) or a
    /// folded one (it starts with a blank).
    static func isHeaderLine(_ line: ArraySlice<UInt8>) -> Bool {
        guard let first = line.first else { return true }
        if first == 0x20 || first == 0x09 { return true }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else { return false }
        var name = line[line.startIndex..<colon]
        while let last = name.last, last == 0x20 || last == 0x09 { name = name.dropLast() }
        return !name.isEmpty && name.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: ":") }
    }

    /// Parses `bytes` as an entity; `ancestors` are the boundaries of enclosing multiparts.
    static func parse(_ bytes: ArraySlice<UInt8>, ancestors: [[UInt8]] = [], inDigest: Bool = false, depth: Int = 0,
                      maximumDepth: Int) -> MIMEEntity {
        // Header block: up to the first blank line, or (issue 16, item 12) up to a line that cannot
        // be a header line and clearly starts the body for the type declared before the first such
        // line: HTML markup in text/html, the first delimiter of a multipart.
        var i = bytes.startIndex
        var headerEnd = bytes.endIndex
        var bodyStart = bytes.endIndex
        var declared: ContentType?
        while i < bytes.endIndex {
            var lineEnd = i
            while lineEnd < bytes.endIndex, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd < bytes.endIndex ? lineEnd + 1 : lineEnd
            let line = bytes[i..<next]
            if line.count == 1 && line.first == 0x0A || (line.count == 2 && line.first == 0x0D && line.last == 0x0A) {
                headerEnd = i
                bodyStart = next
                break
            }
            let content = bytes[i..<lineEnd]
            let isEnvelope = depth == 0 && i == bytes.startIndex && content.starts(with: Array("From ".utf8))
            if !isEnvelope, !isHeaderLine(content) {
                if declared == nil { declared = firstContentType(HeaderBlock.parse(Array(bytes[bytes.startIndex..<i])), inDigest: inDigest) }
                let type = declared!
                var trimmed = content
                while let first = trimmed.first, first == 0x20 || first == 0x09 { trimmed = trimmed.dropFirst() }
                let startsHTML = type.type == "text" && type.subtype == "html" && trimmed.count >= 2
                    && trimmed.first == UInt8(ascii: "<")
                    && (trimmed[trimmed.startIndex + 1].isASCIIAlphanumeric && !(0x30...0x39).contains(trimmed[trimmed.startIndex + 1])
                        || trimmed[trimmed.startIndex + 1] == UInt8(ascii: "!"))
                let startsMultipart = type.isMultipart && type.boundary.map { delimiterKind(line, Array($0.utf8)).isDelimiter } == true
                if startsHTML || startsMultipart {
                    headerEnd = i
                    bodyStart = i
                    break
                }
            }
            i = next
        }
        let header = bytes[bytes.startIndex..<headerEnd]
        let fields = HeaderBlock.parse(Array(header))
        let contentType = firstContentType(fields, inDigest: inDigest)
        var entity = MIMEEntity(
            header: header, fields: fields, blankLine: bytes[headerEnd..<bodyStart], body: bytes[bodyStart...],
            contentType: contentType,
            disposition: fields.last(where: { $0.name(is: "content-disposition") }).flatMap { ContentDisposition(parsing: $0.unfoldedValue) },
            transferEncoding: ContentTransferEncoding(headerValue: fields.last(where: { $0.name(is: "content-transfer-encoding") })?.unfoldedValue),
            multipart: nil)
        if contentType.isMultipart, contentType.subtype != "signed", contentType.subtype != "encrypted",
           let boundary = contentType.boundary, !boundary.isEmpty, depth < maximumDepth {
            entity.multipart = parseMultipart(entity.body, boundary: Array(boundary.utf8), ancestors: ancestors,
                                              isDigest: contentType.subtype == "digest", depth: depth, maximumDepth: maximumDepth)
        }
        return entity
    }

    static func delimiterKind(_ line: ArraySlice<UInt8>, _ boundary: [UInt8]) -> (isDelimiter: Bool, isClose: Bool) {
        guard line.count >= 2 + boundary.count, line.first == UInt8(ascii: "-"), line[line.startIndex + 1] == UInt8(ascii: "-"),
              line[(line.startIndex + 2)..<(line.startIndex + 2 + boundary.count)].elementsEqual(boundary) else { return (false, false) }
        var rest = line[(line.startIndex + 2 + boundary.count)...]
        var close = false
        if rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")]) { close = true; rest = rest.dropFirst(2) }
        return (rest.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }, close)
    }

    static func parseMultipart(_ body: ArraySlice<UInt8>, boundary: [UInt8], ancestors: [[UInt8]], isDigest: Bool,
                               depth: Int, maximumDepth: Int) -> Multipart {
        var skeleton: [ArraySlice<UInt8>] = []
        var children: [MIMEEntity] = []
        var segmentStart = body.startIndex
        var partStart: Int?
        var closed = false
        var i = body.startIndex
        func finishPart(at lineStart: Int) {
            guard let start = partStart else { return }
            // The line ending before a delimiter belongs to the delimiter.
            var end = lineStart
            if end > start, body[end - 1] == 0x0A { end -= 1; if end > start, body[end - 1] == 0x0D { end -= 1 } }
            children.append(parse(body[start..<end], ancestors: ancestors + [boundary], inDigest: isDigest,
                                  depth: depth + 1, maximumDepth: maximumDepth))
            segmentStart = end
            partStart = nil
        }
        while i < body.endIndex {
            var lineEnd = i
            while lineEnd < body.endIndex, body[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd < body.endIndex ? lineEnd + 1 : lineEnd
            let line = body[i..<next]
            if closed {
                // Epilogue: runs to an ancestor's delimiter, which is the caller's business.
                i = next
                continue
            }
            let kind = delimiterKind(line, boundary)
            if kind.isDelimiter {
                finishPart(at: i)
                skeleton.append(body[segmentStart..<next])
                segmentStart = next
                if kind.isClose { closed = true } else { partStart = next }
            } else if ancestors.contains(where: { delimiterKind(line, $0).isDelimiter }) {
                break
            }
            i = next
        }
        if partStart != nil {
            // Missing final boundary: the part runs to the end.
            let start = partStart!
            children.append(parse(body[start..<body.endIndex], ancestors: ancestors + [boundary], inDigest: isDigest,
                                  depth: depth + 1, maximumDepth: maximumDepth))
            segmentStart = body.endIndex
        }
        skeleton.append(body[segmentStart..<body.endIndex])
        return Multipart(boundary: boundary, skeleton: skeleton, children: children)
    }
}
