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
    /// through untouched. Peak memory is bounded by about four times this. Default 32 MiB; values
    /// above ``largestHTMLPartSize`` act as that.
    public var maximumHTMLPartSize: Int = 32 << 20

    /// The most ``maximumHTMLPartSize`` can allow: 1 GiB - 1. libxml2 reads at most 2 GiB - 1, and a
    /// document read as ISO-8859-1 can double in its UTF-8; the quoted-printable line map keeps
    /// 32-bit offsets.
    public static let largestHTMLPartSize = Int(Int32.max) / 2
    /// Passed-through lines longer than this are written in pieces of this size, so one huge line
    /// (a binary attachment without line breaks) does not sit in memory. Default 64 KiB.
    public var maximumLineChunk: Int = 64 << 10

    public init() {}

    public static let `default` = Limits()
}
