/// Every limit of the filter, with its default. Beyond a limit the affected part (or message) passes
/// through untouched, with a warning in the report: never a crash, a hang or unbounded memory.
public struct Limits: Sendable, Equatable {
    /// The deepest multipart nesting that is walked; deeper parts pass through untouched.
    /// Default 32 (real mail rarely goes past 5; MimeKit's parser defaults to 1024, but depth here
    /// costs nothing but the boundary stack).
    public var maximumNestingDepth: Int = 32
    /// The largest header block held to be parsed; a larger one (top level: the whole message;
    /// a part: that part) passes through untouched. Default 1 MiB.
    public var maximumHeaderBlockSize: Int = 1 << 20
    /// The largest HTML part (encoded) that is held in memory and rewritten; larger parts pass
    /// through untouched. Default 32 MiB; values above ``largestHTMLPartSize`` act as that.
    ///
    /// What one part costs at its peak, besides the process itself (about 12 MB for `linktrack`):
    /// - the encoded part while it is collected: up to twice its size in a growing buffer when it
    ///   arrives in pieces (the filter's input), nothing more when it is a slice of a message held
    ///   whole;
    /// - the decoded document, for quoted-printable and base64 parts (7bit, 8bit and binary parts
    ///   are rewritten where they lie);
    /// - the rewritten part in the output, which is what tracking adds over its size: per link the
    ///   tracking URL for the original (110-150 bytes more for typical destinations, at most
    ///   2,048 bytes);
    /// - per link, up to ``maximumLinksPerHTMLPart``: the edit (the tracking URL) and the report
    ///   (a copy of the `href` value), about 150 bytes besides those two;
    /// - a part re-encoded as quoted-printable (a line pushed past 998 octets) holds its encoding too.
    ///
    /// So a part costs at most about six times its size, and typically three to four (the peak
    /// resident sizes behind this are in README.md, "Limits").
    public var maximumHTMLPartSize: Int = 32 << 20

    /// The most ``maximumHTMLPartSize`` can allow: 1 GiB - 1. libxml2 reads at most 2 GiB - 1, and a
    /// document read as ISO-8859-1 can double in its UTF-8; the quoted-printable line map keeps
    /// 32-bit offsets.
    public static let largestHTMLPartSize = Int(Int32.max) / 2
    /// The most attributes a start tag of an HTML part may have, as libxml2 may read it; a part with
    /// a tag over the limit passes through untouched, with a note, before libxml2 sees it.
    ///
    /// libxml2 2.9.14 compares each attribute of a tag with every earlier one, so its time grows with
    /// the square of a tag's attributes, and a document's with the number of attributes per tag.
    /// At 256 the worst document costs about three times the densest ordinary markup (the timings
    /// are in Benchmarks/README.md, "Figures behind the limits and the code's choices"). The count is an upper bound found in one linear pass (``StartTagAttributeBound``):
    /// a `<a ...` inside a comment or an attribute value counts too. Real mail stays far below it
    /// (the corpus and the benchmark newsletters: fewer than 20). Default 256.
    public var maximumAttributesPerTag: Int = 256
    /// The most links an HTML part may hold; a part with more passes through untouched, with a note.
    /// Links are `<a>` and `<area>` tags, tracked or not, and tags with an `href` inside Outlook
    /// conditional comments; each `ses:` attribute and each `{{ses:openTracker}}` placeholder counts
    /// as one more, since each of them, like each link, is an edit (and a link a report) held until
    /// the part is written.
    ///
    /// This bounds what a part costs beyond its bytes (see ``maximumHTMLPartSize``): per link its
    /// edit and report, and what its tracking URL adds to the output. The parse stops at the first
    /// link over the limit, so a part of many short links costs no more than one of this many
    /// (Benchmarks/README.md has the peak sizes, "Figures behind the limits and the code's
    /// choices"). Real mail holds far fewer (the 1 MB benchmark newsletter: 2,005). Default
    /// 20,000.
    public var maximumLinksPerHTMLPart: Int = 20_000
    /// The most parts, notes and warnings (each) a message's ``FilterReport`` lists; beyond, they are
    /// counted (``FilterReport/unlistedParts`` and the like). Link reports are listed for at most
    /// ``maximumLinksPerHTMLPart`` links per message. Default 1,000.
    public var maximumReportEntries: Int = 1_000
    /// Passed-through lines longer than this are written in pieces of this size, so one huge line
    /// (a binary attachment without line breaks) does not sit in memory. Default 64 KiB.
    public var maximumLineChunk: Int = 64 << 10

    public init() {}

    public static let `default` = Limits()
}
