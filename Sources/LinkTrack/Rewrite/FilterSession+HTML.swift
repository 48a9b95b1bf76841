extension FilterSession {
    /// Decodes, rewrites and re-encodes one collected HTML part, then writes it. A part that cannot be
    /// processed is written exactly as it came, and the reason goes into the report.
    mutating func finishHTMLPart(_ part: HTMLPart) {
        var partReport = PartReport(path: part.path, contentType: "text/html", action: "unchanged", html: nil)
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
        report.parts.append(partReport)
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
                report.warnings.append("part \(part.path): the base64 body cannot be decoded (\(error)); the part passes through untouched")
                partReport.action = "passed through: undecodable base64"
                writeOriginal(part)
                return
            }
        case .other(let name) where name.hasPrefix("x-") || name.hasSuffix("uuencode"):
            // A real encoding we do not decode (x-uuencode, ...): rewriting its text would corrupt it.
            // Misspellings of the identity encodings (7-bit, 8bits) fall to the default below.
            report.notes.append("part \(part.path): Content-Transfer-Encoding \(name) is not supported; the part passes through untouched")
            partReport.action = "passed through: unsupported transfer encoding \(name)"
            writeOriginal(part)
            return
        default:
            buffers.decoded.removeAll(keepingCapacity: true)
            buffers.decoded.append(contentsOf: content)
        }
        let decoded = buffers.decoded
        let charset = part.contentType.charset ?? MetaCharset.prescan(decoded)
        // Quoted-printable and base64 are encoded from the decoded bytes and the edits: the
        // rewritten document itself is not needed there.
        let result = filter.rewriter.rewrite(decoded, charset: charset, context: tracking,
                                             buildOutput: part.transferEncoding != .quotedPrintable
                                                 && part.transferEncoding != .base64)
        partReport.html = result.report
        if let reason = result.report.untouchedReason {
            partReport.action = "passed through: \(reason)"
            if !reason.utf8.containsBytes("empty".utf8) { report.notes.append("part \(part.path): \(reason)") }
            writeOriginal(part)
            return
        }
        for warning in result.report.warnings { report.warnings.append("part \(part.path): \(warning)") }
        guard !result.edits.isEmpty else {
            writeOriginal(part)
            return
        }

        var header = part.header
        switch part.transferEncoding {
        case .quotedPrintable:
            // Written straight into the message's output: no buffer of the part's size in between.
            output.append(contentsOf: header)
            output.append(contentsOf: part.blankLine)
            QuotedPrintable.splice(raw: content, decoded: decoded, map: buffers.lines, edits: result.edits,
                                   into: &output)
        case .base64:
            output.append(contentsOf: header)
            output.append(contentsOf: part.blankLine)
            Base64.encode(decoded, edits: result.edits, layout: base64Layout!, into: &output)
        default:
            let encoded: [UInt8]
            // RFC 5322 §2.1.1: lines of at most 998 octets. A rewrite that makes a line longer
            // than that (and than it was) re-encodes the part as quoted-printable. `binary` too:
            // the next hop may not offer BINARYMIME (RFC 3030). So does a rewrite that leaves a
            // line starting like an enclosing multipart's delimiter (a removed placeholder before
            // or after "--boundary" text): that line would end the part (issue 16, item 13). The
            // encoder never starts a physical line with "-", so the encoded part has no such line.
            let longLine = Self.introducesLongLine(original: decoded, output: result.output)
            let delimiterLine = !longLine && Self.introducesDelimiterLikeLine(
                original: decoded, output: result.output, boundaries: frames.map(\.boundary))
            if longLine || delimiterLine {
                encoded = QuotedPrintable.encode(result.output, defaultLineEnding: Self.dominantLineEnding(decoded))
                header = Self.settingTransferEncoding(header, fields: part.fields, to: "quoted-printable")
                report.notes.append(longLine
                    ? "part \(part.path): a rewritten line exceeded 998 octets; the part was re-encoded as quoted-printable"
                    : "part \(part.path): a rewritten line would start like an enclosing multipart boundary; the part was re-encoded as quoted-printable")
            } else {
                encoded = result.output
            }
            output.append(contentsOf: header)
            output.append(contentsOf: part.blankLine)
            output.append(contentsOf: encoded)
        }
        output.append(contentsOf: suffix)
        report.changed = true
        partReport.action = "rewritten"
    }

    /// Whether `output` has a line over 998 octets that is not also a line of `original`.
    static func introducesLongLine(original: [UInt8], output: [UInt8]) -> Bool {
        func longLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
            var lines: [ArraySlice<UInt8>] = []
            var start = 0
            for i in 0...bytes.count where i == bytes.count || bytes[i] == 0x0A {
                var end = i
                if end > start, bytes[end - 1] == 0x0D { end -= 1 }
                if end - start > 998 { lines.append(bytes[start..<end]) }
                start = i + 1
            }
            return lines
        }
        let after = longLines(output)
        guard !after.isEmpty else { return false }
        let before = Set(longLines(original).map { Array($0) })
        return after.contains { !before.contains(Array($0)) }
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
    static func introducesDelimiterLikeLine(original: [UInt8], output: [UInt8], boundaries: [[UInt8]]) -> Bool {
        guard !boundaries.isEmpty else { return false }
        let after = linesStartingLikeDelimiter(output, boundaries: boundaries)
        guard !after.isEmpty else { return false }
        let before = Set(linesStartingLikeDelimiter(original, boundaries: boundaries).map { Array($0) })
        return after.contains { !before.contains(Array($0)) }
    }

    /// The lines of `bytes` (without their line endings) that start with "--" and one of
    /// `boundaries`.
    static func linesStartingLikeDelimiter(_ bytes: [UInt8], boundaries: [[UInt8]]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        while start < bytes.count {
            let lineFeed = indexOfLineFeed(bytes, from: start) ?? bytes.count
            if bytes.count - start >= 2, bytes[start] == UInt8(ascii: "-"), bytes[start + 1] == UInt8(ascii: "-") {
                var end = lineFeed
                if end > start, end < bytes.count, bytes[end - 1] == MIMEBytes.cr { end -= 1 }
                let line = bytes[start..<end]
                let afterDashes = line.dropFirst(2)
                if boundaries.contains(where: { afterDashes.starts(with: $0) }) { lines.append(line) }
            }
            start = lineFeed + 1
        }
        return lines
    }

    /// The header block with every `Content-Transfer-Encoding` field set to `value` (each field's
    /// name and line ending kept, its folding dropped), or the field added at the end when there is
    /// none.
    ///
    /// Every field, not only the last: a part reaches here only when its fields agree (see
    /// ``FilterSession``), and a reader that takes the first field must see the new encoding too
    /// (issue 16, item 14).
    static func settingTransferEncoding(_ header: [UInt8], fields: [HeaderField], to value: String) -> [UInt8] {
        var edits = EditList()
        let existing = fields.filter { $0.name(is: "content-transfer-encoding") }
        for field in existing {
            let replacement = field.rawName + Array(": \(value)".utf8) + field.lineEnding
            edits.add(Edit(range: field.range, replacement: replacement))
        }
        if existing.isEmpty {
            var added: [UInt8] = []
            if let last = fields.last, last.lineEnding.isEmpty { added += dominantLineEnding(header) }
            added += Array("Content-Transfer-Encoding: \(value)".utf8) + (fields.last?.lineEnding.isEmpty == false ? fields.last!.lineEnding : dominantLineEnding(header))
            edits.add(.insert(added, at: header.count))
        }
        return Splicer.apply(edits, to: header)
    }
}
