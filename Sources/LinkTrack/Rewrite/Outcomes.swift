/// What the filter and the rewriter report, as values: each case is one outcome, with the data an
/// operator needs; its `description` is the sentence `--explain` and the logs print. Code and
/// tests branch on the cases, never on the sentences.

/// What was done with one MIME entity.
public enum PartAction: Sendable, Equatable, CustomStringConvertible {
    /// An HTML part whose body was rewritten.
    case rewritten
    /// An HTML part read and left as it was (nothing to track, or tracking does not apply).
    case unchanged
    /// A multipart whose parts were read.
    case walked
    /// Written through byte for byte, without being read.
    case passedThrough(PassThroughReason)

    public var description: String {
        switch self {
        case .rewritten: return "rewritten"
        case .unchanged: return "unchanged"
        case .walked: return "walked"
        case .passedThrough(.notHTML): return "passed through"
        case .passedThrough(let reason): return "passed through: \(reason)"
        }
    }
}

/// Why an entity was written through without being read.
public enum PassThroughReason: Sendable, Equatable, CustomStringConvertible {
    /// Neither a multipart nor `text/html`: nothing to track in it.
    case notHTML
    /// An HTML part with `Content-Disposition: attachment`.
    case attachment
    /// `multipart/signed` or `multipart/encrypted` (the type).
    case mustNotChange(contentType: String)
    /// A multipart without a boundary parameter.
    case noBoundary
    /// A multipart that reuses an enclosing multipart's boundary (RFC 2046 §5.1.2).
    case boundaryReused
    /// Deeper than ``Limits/maximumNestingDepth``.
    case nestingTooDeep
    /// Several `Content-Type` fields that name different types.
    case conflictingContentTypes
    /// A MIME field after a line that cannot belong to a header block.
    case mimeFieldAfterMalformedLine
    /// Several `Content-Transfer-Encoding` fields that name different encodings.
    case conflictingTransferEncodings
    /// Larger than ``Limits/maximumHTMLPartSize``.
    case tooLarge
    /// A base64 body that cannot be decoded.
    case undecodableBase64
    /// A transfer encoding that is not decoded (`x-uuencode`, ...): its name.
    case unsupportedTransferEncoding(String)
    /// The HTML rewriter left the document as a whole untouched.
    case documentUntouched(DocumentUntouchedReason)

    public var description: String {
        switch self {
        case .notHTML: return "not HTML"
        case .attachment: return "attachment"
        case .mustNotChange(let type): return "\(type) must not change"
        case .noBoundary: return "no boundary"
        case .boundaryReused: return "boundary reused from an enclosing multipart"
        case .nestingTooDeep: return "nesting too deep"
        case .conflictingContentTypes: return "conflicting Content-Type fields"
        case .mimeFieldAfterMalformedLine: return "a MIME field after a line that is not a header field"
        case .conflictingTransferEncodings: return "conflicting Content-Transfer-Encoding fields"
        case .tooLarge: return "larger than the HTML size limit"
        case .undecodableBase64: return "undecodable base64"
        case .unsupportedTransferEncoding(let name): return "unsupported transfer encoding \(name)"
        case .documentUntouched(let reason): return reason.description
        }
    }
}

/// Why the HTML rewriter left a whole document untouched.
public enum DocumentUntouchedReason: Sendable, Equatable, CustomStringConvertible {
    /// The configuration set (its name) has no `CustomRedirectDomain`.
    case noRedirectDomain(configurationSet: String)
    /// The configuration set (its name) tracks neither opens nor clicks.
    case tracksNothing(configurationSet: String)
    /// A charset the rewriter cannot edit bytewise; why.
    case unsupportedCharset(String)
    /// Nothing but whitespace.
    case emptyDocument
    /// A start tag with more than ``Limits/maximumAttributesPerTag`` attributes, at a document offset.
    case tooManyAttributes(limit: Int, documentOffset: Int)
    /// More open-tracker placeholders and links than ``Limits/maximumLinksPerHTMLPart``.
    case tooManyPlaceholders(limit: Int)
    /// More links, opt-out attributes and placeholders than ``Limits/maximumLinksPerHTMLPart``.
    case tooManyLinks(limit: Int)
    /// libxml2 could not parse the document; its error.
    case unparsable(String)

    public var description: String {
        switch self {
        case .noRedirectDomain(let set): return "configuration set \(set) has no CustomRedirectDomain, so it tracks nothing"
        case .tracksNothing(let set): return "configuration set \(set) has no enabled event destination for OPEN or CLICK"
        case .unsupportedCharset(let reason): return "left untouched: \(reason)"
        case .emptyDocument: return "the document is empty"
        case .tooManyAttributes(let limit, let offset):
            return "a start tag has more than \(limit) attributes (at offset \(offset)); parts with such tags are not parsed (Limits.maximumAttributesPerTag)"
        case .tooManyPlaceholders(let limit):
            return "the document holds more than \(limit) {{ses:openTracker}} placeholders and links (Limits.maximumLinksPerHTMLPart)"
        case .tooManyLinks(let limit):
            return "the document holds more than \(limit) links, ses: attributes and {{ses:openTracker}} placeholders (Limits.maximumLinksPerHTMLPart)"
        case .unparsable(let error): return "libxml2 could not parse the document (\(error))"
        }
    }
}

/// Something about an HTML document an operator should know.
public enum HTMLWarning: Sendable, Equatable, CustomStringConvertible {
    /// A tag could not be located byte-exactly; its link was left untracked.
    case unlocatedTag
    /// The open pixel could not be placed at a document offset.
    case pixelNotPlaced(documentOffset: Int)
    /// The rewritten document is larger than Gmail shows unclipped (its size in bytes).
    case gmailClipping(bytes: Int)
    /// An `ses:` attribute runs into the text after it (at a document offset) and was left in
    /// place, with the other `ses:` attributes of its tag (how many).
    case optOutAttributeRunTogether(documentOffset: Int, others: Int)
    /// The `ses:` attributes of the tag at a document offset overlap another edit.
    case optOutAttributesOverlap(tagOffset: Int)
    /// A malformed `ses:tags` value (as written) on the link to a destination.
    case malformedLinkTags(value: String, destination: String)
    /// A link too long to track; the first 80 bytes of its destination.
    case linkTooLong(destinationPrefix: String)

    public var description: String {
        switch self {
        case .unlocatedTag: return "a tag could not be located byte-exactly; its link was left untracked"
        case .pixelNotPlaced(let offset): return "the open pixel could not be placed at offset \(offset)"
        case .gmailClipping(let bytes): return "the HTML is \(bytes) bytes; Gmail clips messages over 102 KB, so the open pixel may never load"
        case .optOutAttributeRunTogether(let offset, let others):
            return others == 0
                ? "an ses: attribute run together with the text after it (offset \(offset)) was left in place"
                : "an ses: attribute run together with the text after it (offset \(offset)) was left in place, and with it the other \(others) ses: attribute(s) of its tag"
        case .optOutAttributesOverlap(let offset):
            return "the ses: attributes of the tag at offset \(offset) overlap another edit; they were left in place"
        case .malformedLinkTags(let value, let destination):
            return "ses:tags value \"\(value)\" on the link to \(destination) is malformed (expected key:value;key2:value2 of [0-9A-Za-z_-]); the link is tracked without tags"
        case .linkTooLong(let prefix):
            return "the link to \(prefix)... is too long to track (tracking URLs are limited to \(LinkSigner.maximumURLLength) bytes)"
        }
    }
}

/// Something about a message that was handled as asked, worth an operator's knowing.
public enum FilterNote: Sendable, Equatable, CustomStringConvertible {
    /// No configuration set applies; whether an `X-SES-CONFIGURATION-SET` field was there, empty.
    case noConfigurationSet(emptyHeader: Bool)
    /// The named set does not exist and the message passed unchanged
    /// (``FilterOptions/UnknownConfigurationSetAction/pass``).
    case unknownConfigurationSetPassed(String)
    /// The set (its name) has no `CustomRedirectDomain`.
    case noRedirectDomain(configurationSet: String)
    /// The set (its name) tracks neither opens nor clicks.
    case tracksNothing(configurationSet: String)
    /// The `Message-ID` field is empty; the tokens carry the derived id.
    case emptyMessageID(derived: String)
    /// The message had no `Message-ID`; this one was added.
    case messageIDAdded(String)
    /// The message had no `Message-ID` and none was added, since the message passes unchanged.
    case messageIDNotAdded
    /// The message ends inside its header block.
    case endsInHeaderBlock
    /// About one part (its path).
    case part(String, PartNote)

    public var description: String {
        switch self {
        case .noConfigurationSet(let emptyHeader):
            return emptyHeader
                ? "no configuration set applies (X-SES-CONFIGURATION-SET is empty, no --configuration-set, no DefaultConfigurationSet); the message passes unchanged"
                : "no configuration set applies (no X-SES-CONFIGURATION-SET header, no --configuration-set, no DefaultConfigurationSet); the message passes unchanged"
        case .unknownConfigurationSetPassed(let name):
            return "\(ConfigurationError.notFound(configurationSet: name).description) The message passes unchanged (--unknown-configuration-set pass)."
        case .noRedirectDomain(let set): return "configuration set \(set) has no CustomRedirectDomain; the message passes unchanged"
        case .tracksNothing(let set): return "configuration set \(set) tracks neither opens nor clicks; the message passes unchanged"
        case .emptyMessageID(let derived): return "the Message-ID field is empty; tokens carry \(derived)"
        case .messageIDAdded(let id): return "the message had no Message-ID; added \(id)"
        case .messageIDNotAdded: return "the message has no Message-ID; none was added (the message passes unchanged)"
        case .endsInHeaderBlock: return "the message ends inside its header block; nothing to track"
        case .part(let path, let note): return "part \(path): \(note)"
        }
    }
}

/// Something about one part, worth an operator's knowing.
public enum PartNote: Sendable, Equatable, CustomStringConvertible {
    /// A transfer encoding that is not decoded (its name); the part passed through.
    case unsupportedTransferEncoding(String)
    /// The HTML rewriter left the document untouched.
    case documentUntouched(DocumentUntouchedReason)
    /// A rewritten line exceeded 998 octets, so the part was re-encoded as quoted-printable.
    case reencodedForLongLine
    /// A rewritten line would start like an enclosing multipart's delimiter, so the part was
    /// re-encoded as quoted-printable.
    case reencodedForDelimiterLikeLine

    public var description: String {
        switch self {
        case .unsupportedTransferEncoding(let name): return "Content-Transfer-Encoding \(name) is not supported; the part passes through untouched"
        case .documentUntouched(let reason): return reason.description
        case .reencodedForLongLine: return "a rewritten line exceeded 998 octets; the part was re-encoded as quoted-printable"
        case .reencodedForDelimiterLikeLine: return "a rewritten line would start like an enclosing multipart boundary; the part was re-encoded as quoted-printable"
        }
    }
}

/// Something about a message that may not be what its sender meant.
public enum FilterWarning: Sendable, Equatable, CustomStringConvertible {
    /// A DKIM-signed message passes without tracking (no ``FilterOptions/rewriteSigned``).
    case dkimSigned
    /// A malformed `X-SES-MESSAGE-TAGS` entry (trimmed), ignored.
    case malformedMessageTag(String)
    /// The top-level header block is larger than the limit (bytes); the message passes through.
    case headerBlockTooLarge(limit: Int)
    /// The message ends without the close delimiters of this many multiparts.
    case unclosedMultiparts(Int)
    /// About one part (its path).
    case part(String, PartWarning)

    public var description: String {
        switch self {
        case .dkimSigned:
            return "the message carries a DKIM-Signature, which rewriting would break; it passes without tracking (use --rewrite-signed to track it)"
        case .malformedMessageTag(let entry):
            return "X-SES-MESSAGE-TAGS entry \"\(entry)\" is malformed (expected name=value of [0-9A-Za-z_-]); it is ignored"
        case .headerBlockTooLarge(let limit):
            return "the header block is larger than \(limit) bytes; the message passes through untouched"
        case .unclosedMultiparts(let count):
            return "the message ends without the final boundary of \(count) multipart part(s); the parts were closed at the end"
        case .part(let path, let warning): return "part \(path): \(warning)"
        }
    }
}

/// Something about one part that may not be what its sender meant.
public enum PartWarning: Sendable, Equatable, CustomStringConvertible {
    /// This many multiparts inside this one end without their close delimiter.
    case nestedMultipartsUnclosed(Int)
    /// The part's header block is larger than the limit (bytes).
    case headerBlockTooLarge(limit: Int)
    /// The HTML part is larger than the limit (bytes).
    case htmlPartTooLarge(limit: Int)
    /// The `text/plain` part, collected for link tracking, is larger than the limit (bytes;
    /// ``Limits/maximumHTMLPartSize`` bounds text parts too).
    case textPartTooLarge(limit: Int)
    /// Its `Content-Type` fields (their values) name different types.
    case conflictingContentTypes([String])
    /// A MIME field (its name) follows a line that cannot belong to a header block.
    case mimeFieldAfterMalformedLine(String)
    /// A multipart (its type) without a boundary parameter.
    case noBoundary(contentType: String)
    /// A multipart (its type) that reuses an enclosing multipart's boundary.
    case boundaryReused(contentType: String)
    /// Multipart nesting deeper than the limit.
    case nestingTooDeep(limit: Int)
    /// Its `Content-Transfer-Encoding` fields (their names) disagree.
    case conflictingTransferEncodings([String])
    /// The base64 body cannot be decoded (the decoder's error).
    case undecodableBase64(String)
    /// About the HTML document.
    case html(HTMLWarning)

    public var description: String {
        switch self {
        case .nestedMultipartsUnclosed(let count): return "\(count) nested multipart part(s) end without their final boundary"
        case .headerBlockTooLarge(let limit): return "the header block is larger than \(limit) bytes; the part passes through untouched"
        case .htmlPartTooLarge(let limit): return "the HTML part is larger than \(limit) bytes; it passes through untouched"
        case .textPartTooLarge(let limit): return "the text part is larger than \(limit) bytes; its links are not tracked"
        case .conflictingContentTypes(let values):
            return "its \(values.count) Content-Type fields name different types (\(values.joined(separator: "; "))); the part passes through untouched"
        case .mimeFieldAfterMalformedLine(let name):
            return "its \(name) field follows a line that is not a header field, so readers disagree on whether it counts; the part passes through untouched"
        case .noBoundary(let type): return "\(type) without a boundary parameter passes through untouched"
        case .boundaryReused(let type): return "\(type) reuses an enclosing multipart's boundary; the part passes through untouched"
        case .nestingTooDeep(let limit): return "multipart nesting deeper than \(limit); the part passes through untouched"
        case .conflictingTransferEncodings(let names):
            return "its \(names.count) Content-Transfer-Encoding fields disagree (\(names.joined(separator: ", "))); the part passes through untouched"
        case .undecodableBase64(let error): return "the base64 body cannot be decoded (\(error)); the part passes through untouched"
        case .html(let warning): return warning.description
        }
    }
}
