#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FilterSession {
    /// Decodes, rewrites and re-encodes one collected HTML part, then writes it. A part that cannot be
    /// processed is written exactly as it came, and the reason goes into the report.
    mutating func finishHTMLPart(_ part: HTMLPart) {
        var partReport = PartReport(path: part.path, contentType: "text/html", action: .unchanged, html: nil)
        if let tracking {
            // The document is decoded into buffers that the filter keeps for the next part (see
            // ``PartBufferPool``). They go back once `rewriteHTMLPart` has returned, when no copy of
            // them is left, so that their storage is reused rather than copied.
            var buffers = filter.partBuffers.take()
            rewriteHTMLPart(part, tracking: tracking, buffers: &buffers, partReport: &partReport)
            filter.partBuffers.give(buffers)
        } else {
            writeOriginal(part)
        }
        list(partReport)
    }

    private mutating func writeOriginal(_ part: HTMLPart) {
        output.append(contentsOf: part.header)
        output.append(contentsOf: part.blankLine)
        output.append(contentsOf: part.body)
    }

    private mutating func rewriteHTMLPart(_ part: HTMLPart, tracking: TrackingContext, buffers: inout PartBuffers,
                                          partReport: inout PartReport) {
        // The line ending before the next boundary belongs to the delimiter (RFC 2046 §5.1.1); at the
        // end of the message it is kept out of the document too, so a pixel added at the end lands
        // before it.
        // Slices, not copies: the body can be megabytes (and is itself usually a slice of the message).
        let body = part.body
        var suffixLength = 0
        if body.last == 0x0A { suffixLength = body.count >= 2 && body[body.endIndex - 2] == 0x0D ? 2 : 1 }
        let content = body[body.startIndex..<(body.endIndex - suffixLength)]
        let suffix = body[(body.endIndex - suffixLength)...]
        let lineEnding = Self.lineEnding(of: part, suffix: suffix)

        var base64Layout: Base64Layout?
        switch part.transferEncoding {
        case .quotedPrintable:
            // The line map (logical lines and soft breaks) is recorded while decoding, so that the
            // splice below does not decode the body a second time.
            QuotedPrintable.decodeWithLineMap(content, into: &buffers.decoded, map: &buffers.lines)
        case .base64:
            do {
                base64Layout = try Base64.decode(content, into: &buffers.decoded)
            } catch {
                warn(.part(part.path, .undecodableBase64("\(error)")))
                partReport.action = .passedThrough(.undecodableBase64)
                writeOriginal(part)
                return
            }
        case .other(let name) where name.hasPrefix("x-") || name.hasSuffix("uuencode"):
            // A real encoding we do not decode (x-uuencode, ...): rewriting its text would corrupt it.
            // Misspellings of the identity encodings (7-bit, 8bits) fall to the default below.
            note(.part(part.path, .unsupportedTransferEncoding(name)))
            partReport.action = .passedThrough(.unsupportedTransferEncoding(name))
            writeOriginal(part)
            return
        default:
            // 7bit, 8bit, binary: the body is the document, rewritten where it lies (no copy).
            content.withUnsafeBufferPointer { document in
                rewriteIdentityEncoded(part, document: document, suffix: suffix, lineEnding: lineEnding,
                                       tracking: tracking, partReport: &partReport)
            }
            return
        }
        let decoded = buffers.decoded
        let result = decoded.withUnsafeBufferPointer { document in
            // Read in place: the report copies the few bytes it keeps (the hrefs), rather than
            // holding on to the pooled buffer, which the next part reuses.
            filter.rewriter.rewrite(contentsOf: document, charset: part.contentType.charset ?? MetaCharset.prescan(document),
                                    context: tracking)
        }
        guard accept(result, of: part, partReport: &partReport) else { return }
        output.append(contentsOf: part.header)
        output.append(contentsOf: part.blankLine)
        if part.transferEncoding == .quotedPrintable {
            // Written straight into the message's output: no buffer of the part's size in between.
            QuotedPrintable.splice(raw: content, decoded: decoded, map: buffers.lines, edits: result.edits,
                                   into: &output, fallbackLineEnding: lineEnding)
        } else {
            Base64.encode(decoded, edits: result.edits, layout: base64Layout!, into: &output)
        }
        output.append(contentsOf: suffix)
        report.changed = true
        partReport.action = .rewritten
    }

    /// Takes the rewriter's report for `part`; writes the part as it came, and returns false, when
    /// there is nothing to splice.
    private mutating func accept(_ result: HTMLRewriteResult, of part: HTMLPart, partReport: inout PartReport) -> Bool {
        partReport.html = result.report
        if let reason = result.report.untouchedReason {
            partReport.action = .passedThrough(.documentUntouched(reason))
            if reason != .emptyDocument { note(.part(part.path, .documentUntouched(reason))) }
            writeOriginal(part)
            return false
        }
        for warning in result.report.warnings { warn(.part(part.path, .html(warning))) }
        guard !result.edits.isEmpty else {
            writeOriginal(part)
            return false
        }
        return true
    }

    /// Rewrites a 7bit, 8bit or binary part: the edits are spliced from the body straight into the
    /// output, with no copy of the document and no rewritten copy in between (issue 16, item 16).
    private mutating func rewriteIdentityEncoded(_ part: HTMLPart, document: UnsafeBufferPointer<UInt8>,
                                                 suffix: ArraySlice<UInt8>, lineEnding: [UInt8], tracking: TrackingContext,
                                                 partReport: inout PartReport) {
        let result = filter.rewriter.rewrite(contentsOf: document,
                                             charset: part.contentType.charset ?? MetaCharset.prescan(document),
                                             context: tracking)
        guard accept(result, of: part, partReport: &partReport) else { return }
        let headerStart = output.count
        output.append(contentsOf: part.header)
        output.append(contentsOf: part.blankLine)
        let documentStart = output.count
        var growth = 0
        for edit in result.edits.edits { growth += edit.replacement.count - edit.range.count }
        output.reserveCapacity(documentStart + document.count + max(growth, 0) + suffix.count)
        Splicer.apply(result.edits, to: document) { (piece: UnsafeBufferPointer<UInt8>) in output.append(contentsOf: piece) }
        // RFC 5322 §2.1.1: lines of at most 998 octets. A rewrite that makes a line longer than that
        // (and than it was) re-encodes the part as quoted-printable. `binary` too: the next hop may
        // not offer BINARYMIME (RFC 3030). So does a rewrite that leaves a line starting like an
        // enclosing multipart's delimiter (a removed placeholder before or after "--boundary" text):
        // that line would end the part (issue 16, item 13). The encoder never starts a physical line
        // with "-", so the encoded part has no such line.
        let (longLine, delimiterLine) = output.withUnsafeBufferPointer { written -> (Bool, Bool) in
            let rewritten = UnsafeBufferPointer(rebasing: written[documentStart...])
            let longLine = Self.introducesLongLine(original: document, output: rewritten)
            return (longLine, !longLine && Self.introducesDelimiterLikeLine(
                original: document, output: rewritten, boundaries: part.enclosingBoundaries))
        }
        if longLine || delimiterLine {
            // Encoded from where the rewrite was written, then put in its place (no third copy).
            let encoded = output.withUnsafeBufferPointer { written in
                QuotedPrintable.encode(UnsafeBufferPointer(rebasing: written[documentStart...]), defaultLineEnding: lineEnding)
            }
            output.removeSubrange(headerStart...)
            output.append(contentsOf: Self.settingTransferEncoding(part.header, fields: part.fields, to: "quoted-printable",
                                                                   isTop: part.path == "message"))
            output.append(contentsOf: part.blankLine)
            output.append(contentsOf: encoded)
            note(.part(part.path, longLine ? .reencodedForLongLine : .reencodedForDelimiterLikeLine))
        }
        output.append(contentsOf: suffix)
        report.changed = true
        partReport.action = .rewritten
    }

    /// The line ending of the message around `part`, for soft line breaks where the document itself
    /// has none (a one-line document): the one after the document (the boundary's), else the one
    /// after the header block, else the header block's own (issue 16, item 20: a one-line document
    /// in an LF message got CRLF soft breaks).
    static func lineEnding(of part: HTMLPart, suffix: ArraySlice<UInt8>) -> [UInt8] {
        if !suffix.isEmpty { return Array(suffix) }
        if part.blankLine.last == MIMEBytes.lf { return part.blankLine }
        return HeaderBlock.dominantLineEnding(part.header)
    }

    /// Whether `output` has a line over 998 octets that is not also a line of `original`.
    static func introducesLongLine(original: UnsafeBufferPointer<UInt8>, output: UnsafeBufferPointer<UInt8>) -> Bool {
        func longLines(_ bytes: UnsafeBufferPointer<UInt8>) -> [UnsafeBufferPointer<UInt8>] {
            var lines: [UnsafeBufferPointer<UInt8>] = []
            var start = 0
            while start <= bytes.count {
                let lineFeed = bytes.baseAddress.flatMap { base in
                    memchr(base + start, 0x0A, bytes.count - start).map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) }
                } ?? bytes.count
                var end = lineFeed
                if end > start, bytes[end - 1] == 0x0D { end -= 1 }
                if end - start > 998 { lines.append(UnsafeBufferPointer(rebasing: bytes[start..<end])) }
                start = lineFeed + 1
            }
            return lines
        }
        let after = longLines(output)
        guard !after.isEmpty else { return false }
        let before = Set(longLines(original).map { Array($0) })
        return after.contains { !before.contains(Array($0)) }
    }

    /// ``introducesLongLine(original:output:)`` of arrays.
    static func introducesLongLine(original: [UInt8], output: [UInt8]) -> Bool {
        original.withUnsafeBufferPointer { o in output.withUnsafeBufferPointer { introducesLongLine(original: o, output: $0) } }
    }

    /// Whether `output` has a line that starts with "--" and one of `boundaries` and is not, byte for
    /// byte, also a line of `original`.
    ///
    /// A line that was in the part already was not a delimiter for the reader of the input (it
    /// would have ended the part), so only a line the rewrite made can be one. This takes any line
    /// that merely starts like a delimiter, not only one that RFC 2046 §5.1.1 reads as one (nothing
    /// but blanks after the boundary), since some readers match the prefix alone.
    /// - Parameters:
    ///   - original: the decoded part before the rewrite.
    ///   - output: the decoded part after it.
    ///   - boundaries: the boundaries of the enclosing multiparts, without the leading "--".
    static func introducesDelimiterLikeLine(original: UnsafeBufferPointer<UInt8>, output: UnsafeBufferPointer<UInt8>,
                                            boundaries: [[UInt8]]) -> Bool {
        guard !boundaries.isEmpty else { return false }
        let after = linesStartingLikeDelimiter(output, boundaries: boundaries)
        guard !after.isEmpty else { return false }
        let before = Set(linesStartingLikeDelimiter(original, boundaries: boundaries).map { Array($0) })
        return after.contains { !before.contains(Array($0)) }
    }

    /// ``introducesDelimiterLikeLine(original:output:boundaries:)`` of arrays.
    static func introducesDelimiterLikeLine(original: [UInt8], output: [UInt8], boundaries: [[UInt8]]) -> Bool {
        original.withUnsafeBufferPointer { o in
            output.withUnsafeBufferPointer { introducesDelimiterLikeLine(original: o, output: $0, boundaries: boundaries) }
        }
    }

    /// The lines of `bytes` (without their line endings) that start with "--" and one of
    /// `boundaries`.
    static func linesStartingLikeDelimiter(_ bytes: UnsafeBufferPointer<UInt8>, boundaries: [[UInt8]]) -> [UnsafeBufferPointer<UInt8>] {
        var lines: [UnsafeBufferPointer<UInt8>] = []
        guard let base = bytes.baseAddress else { return lines }
        var start = 0
        while start < bytes.count {
            let lineFeed = memchr(base + start, 0x0A, bytes.count - start)
                .map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? bytes.count
            if bytes.count - start >= 2, bytes[start] == UInt8(ascii: "-"), bytes[start + 1] == UInt8(ascii: "-") {
                var end = lineFeed
                if end > start, end < bytes.count, bytes[end - 1] == MIMEBytes.cr { end -= 1 }
                let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                let afterDashes = line.dropFirst(2)
                if boundaries.contains(where: { afterDashes.starts(with: $0) }) { lines.append(line) }
            }
            start = lineFeed + 1
        }
        return lines
    }

    /// The header block with every `Content-Transfer-Encoding` field set to `value` (each field's
    /// name and line ending kept, its folding dropped), or the field added when there is none: at
    /// the end of the fields, before a line that cannot belong to a header block if there is one
    /// (``insertionOffset(in:isTop:)``).
    ///
    /// Every field, not only the last: a part reaches here only when its fields agree (see
    /// ``FilterSession``), and a reader that takes the first field must see the new encoding too
    /// (issue 16, item 14).
    static func settingTransferEncoding(_ header: [UInt8], fields: [HeaderField], to value: String, isTop: Bool) -> [UInt8] {
        var edits = EditList()
        let existing = fields.filter { $0.name(is: "content-transfer-encoding") }
        for field in existing {
            let replacement = field.rawName + Array(": \(value)".utf8) + field.lineEnding
            edits.add(Edit(range: field.range, replacement: replacement))
        }
        if existing.isEmpty {
            // A part's header block (a message's is read with isTop, for its envelope line).
            edits.add(.insert(HeaderBlock.fieldToAdd("Content-Transfer-Encoding: \(value)", to: header, fields: fields, isTop: isTop),
                              at: HeaderBlock.insertionOffset(in: header, isTop: isTop)))
        }
        return Splicer.apply(edits, to: header)
    }
}
