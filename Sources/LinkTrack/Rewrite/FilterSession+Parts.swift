#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The per-part pipeline, shared by HTML and `text/plain` parts: decode the body (quoted-printable,
/// base64 or identity), let the part's transform turn the decoded bytes into an ``EditList`` and a
/// report (``HTMLRewriter`` for HTML, ``TextRewriter`` for text), then re-encode with the edits
/// spliced in (``QuotedPrintable/splice(raw:decoded:map:edits:into:fallbackLineEnding:)``,
/// ``Base64/encode(_:edits:layout:into:)``) or splice them in place, with the 998-octet and
/// delimiter-like-line checks that re-encode an identity-encoded part as quoted-printable.
extension FilterSession {
    /// Decodes, rewrites and re-encodes one collected part, then writes it. A part that cannot be
    /// processed is written exactly as it came, and the reason goes into the report.
    mutating func finishCollectedPart(_ part: CollectedPart) {
        var partReport = PartReport(path: part.path, contentType: part.kind.contentType, action: .unchanged, html: nil)
        if let tracking {
            // The document is decoded into buffers that the filter keeps for the next part (see
            // ``PartBufferPool``). They go back once `rewritePart` has returned, when no copy of
            // them is left, so that their storage is reused rather than copied.
            var buffers = filter.partBuffers.take()
            rewritePart(part, tracking: tracking, buffers: &buffers, partReport: &partReport)
            filter.partBuffers.give(buffers)
        } else {
            writeOriginal(part)
        }
        list(partReport)
    }

    private mutating func writeOriginal(_ part: CollectedPart) {
        output.append(contentsOf: part.header)
        output.append(contentsOf: part.blankLine)
        output.append(contentsOf: part.body)
    }

    private mutating func rewritePart(_ part: CollectedPart, tracking: TrackingContext, buffers: inout PartBuffers,
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
                // A body on one line has no line ending of its own: when it is re-encoded (and
                // wrapped), its lines end as the message's do, not in CRLF inside an LF message.
                base64Layout = try Base64.decode(content, into: &buffers.decoded, fallbackLineEnding: lineEnding)
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
            // Safe: the document pointer is used only inside the transform, which copies what it keeps.
            content.withUnsafeBufferPointer { document in
                rewriteIdentityEncoded(part, document: document, suffix: suffix, lineEnding: lineEnding,
                                       tracking: tracking, partReport: &partReport)
            }
            return
        }
        let decoded = buffers.decoded
        // Safe: the decoded buffer is read only during the transform; the report keeps copies.
        let transformed = decoded.withUnsafeBufferPointer { document in
            // Read in place: the report copies the few bytes it keeps (the hrefs), rather than
            // holding on to the pooled buffer, which the next part reuses.
            transform(part, document: document, tracking: tracking, maximumLineLength: nil, partReport: &partReport)
        }
        guard let edits = transformed else {
            writeOriginal(part)
            return
        }
        output.append(contentsOf: part.header)
        output.append(contentsOf: part.blankLine)
        if part.transferEncoding == .quotedPrintable {
            // Written straight into the message's output: no buffer of the part's size in between.
            QuotedPrintable.splice(raw: content, decoded: decoded, map: buffers.lines, edits: edits,
                                   into: &output, fallbackLineEnding: lineEnding)
        } else {
            Base64.encode(decoded, edits: edits, layout: base64Layout!, into: &output)
        }
        output.append(contentsOf: suffix)
        report.changed = true
        partReport.action = .rewritten
    }

    /// The part's transform: the edits that rewrite its decoded `document`, with its report put in
    /// `partReport`; nil when the part is to be written as it came.
    /// - Parameter maximumLineLength: the longest line a text rewrite may make (an identity-encoded
    ///   part's lines are its lines on the wire), or nil.
    private mutating func transform(_ part: CollectedPart, document: UnsafeBufferPointer<UInt8>, tracking: TrackingContext,
                                    maximumLineLength: Int?, partReport: inout PartReport) -> EditList? {
        let trackLinksIn = tracking.configurationSet.linkTrackOptions.trackLinksIn
        var context = tracking
        // Text tracking on: the message's parts share one index space (issue 21, item 4). Off, every
        // HTML part starts at 0, as before.
        if trackLinksIn.tracksText { context.firstLinkIndex = nextLinkIndex }
        switch part.kind {
        case .html:
            var report: HTMLRewriteReport
            let edits: EditList
            if trackLinksIn.tracksHTML {
                let result = filter.rewriter.rewrite(contentsOf: document, charset: part.contentType.charset ?? MetaCharset.prescan(document),
                                                     context: context)
                (report, edits) = (result.report, result.edits)
            } else {
                // TrackLinksIn TEXT: an HTML part still gets the open pixel, as Postmark's TextOnly
                // still tracks opens; its links are left alone.
                guard context.configurationSet.tracksOpens else { return nil }
                context.configurationSet.tracksClicks = false
                let result = filter.rewriter.rewrite(contentsOf: document, charset: part.contentType.charset ?? MetaCharset.prescan(document),
                                                     context: context)
                (report, edits) = (result.report, result.edits)
                for i in report.links.indices where report.links[i].untrackedReason == .clicksNotTracked {
                    report.links[i].untrackedReason = .htmlLinksNotTracked
                }
            }
            guard accept(report, of: part, partReport: &partReport) else { return nil }
            if trackLinksIn.tracksText { nextLinkIndex += report.trackedLinkCount }
            return edits.isEmpty ? nil : edits
        case .text:
            var options = TextRewriter.Options()
            if Self.parameter("format", of: part.contentType) == "flowed" {
                options.finder.format = .flowed(deleteSpace: Self.parameter("delsp", of: part.contentType) == "yes")
            }
            // A quoted reply is someone else's text: its links are not the sender's to track.
            options.finder.skipsQuotedLines = true
            options.maximumLineLength = maximumLineLength
            options.charset = part.contentType.charset
            let result = TextRewriter(signer: filter.rewriter.signer, limits: limits)
                .rewrite(Array(document), options: options, context: context)
            partReport.text = result.report
            if let reason = result.report.untouchedReason {
                partReport.action = .passedThrough(.documentUntouched(reason))
                note(.part(part.path, .documentUntouched(reason)))
                return nil
            }
            nextLinkIndex += result.report.trackedLinkCount
            return result.edits.isEmpty ? nil : result.edits
        }
    }

    /// A `Content-Type` parameter's value, trimmed and lowercased.
    static func parameter(_ name: String, of contentType: ContentType) -> String? {
        contentType.parameter(name).map { MIMEBytes.trimmingWhitespace($0).lowercased() }
    }

    /// Takes the HTML rewriter's report for `part`; returns false when there is nothing to splice
    /// for a reason the report or the notes already give.
    private mutating func accept(_ report: HTMLRewriteReport, of part: CollectedPart, partReport: inout PartReport) -> Bool {
        partReport.html = report
        if let reason = report.untouchedReason {
            partReport.action = .passedThrough(.documentUntouched(reason))
            if reason != .emptyDocument { note(.part(part.path, .documentUntouched(reason))) }
            return false
        }
        for warning in report.warnings { warn(.part(part.path, .html(warning))) }
        return true
    }

    /// Rewrites a 7bit, 8bit or binary part: the edits are spliced from the body straight into the
    /// output, with no copy of the document and no rewritten copy in between (issue 16, item 16).
    private mutating func rewriteIdentityEncoded(_ part: CollectedPart, document: UnsafeBufferPointer<UInt8>,
                                                 suffix: ArraySlice<UInt8>, lineEnding: [UInt8], tracking: TrackingContext,
                                                 partReport: inout PartReport) {
        guard let edits = transform(part, document: document, tracking: tracking, maximumLineLength: 998,
                                    partReport: &partReport) else {
            writeOriginal(part)
            return
        }
        let headerStart = output.count
        output.append(contentsOf: part.header)
        output.append(contentsOf: part.blankLine)
        let documentStart = output.count
        var growth = 0
        for edit in edits.edits { growth += edit.replacement.count - edit.range.count }
        output.reserveCapacity(documentStart + document.count + max(growth, 0) + suffix.count)
        Splicer.apply(edits, to: document) { (piece: UnsafeBufferPointer<UInt8>) in output.append(contentsOf: piece) }
        // RFC 5322 §2.1.1: lines of at most 998 octets. A rewrite that makes a line longer than that
        // (and than it was) re-encodes the part as quoted-printable. `binary` too: the next hop may
        // not offer BINARYMIME (RFC 3030). So does a rewrite that leaves a line starting like an
        // enclosing multipart's delimiter (a removed placeholder before or after "--boundary" text):
        // that line would end the part (issue 16, item 13). The encoder never starts a physical line
        // with "-", so the encoded part has no such line.
        // Safe: views of the output written so far, read only inside this closure.
        let (longLine, delimiterLine) = output.withUnsafeBufferPointer { written -> (Bool, Bool) in
            let rewritten = UnsafeBufferPointer(rebasing: written[documentStart...])
            let longLine = Self.introducesLongLine(original: document, output: rewritten)
            return (longLine, !longLine && Self.introducesDelimiterLikeLine(
                original: document, output: rewritten, boundaries: part.enclosingBoundaries))
        }
        if longLine || delimiterLine {
            // Encoded from where the rewrite was written, then put in its place (no third copy).
            // Safe: the rewritten document is read only to encode it; the output is changed after the closure.
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
    static func lineEnding(of part: CollectedPart, suffix: ArraySlice<UInt8>) -> [UInt8] {
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
                // Safe: memchr reads from `start` to the end of `bytes`, never past it.
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
        // Safe: both pointers are used only during the call.
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
        // Safe: both pointers are used only during the call.
        original.withUnsafeBufferPointer { o in
            output.withUnsafeBufferPointer { introducesDelimiterLikeLine(original: o, output: $0, boundaries: boundaries) }
        }
    }

    /// The lines of `bytes` (without their line endings) that start with "--" and one of
    /// `boundaries`.
    static func linesStartingLikeDelimiter(_ bytes: UnsafeBufferPointer<UInt8>, boundaries: [[UInt8]]) -> [UnsafeBufferPointer<UInt8>] {
        var lines: [UnsafeBufferPointer<UInt8>] = []
        // Safe: memchr reads from `start` to the end of `bytes`; every line is a view within it, used by the caller while `bytes` is valid.
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
