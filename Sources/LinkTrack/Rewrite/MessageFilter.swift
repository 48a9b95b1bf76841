
/// How `linktrack filter` and the library treat each message.
public struct FilterOptions: Sendable, Equatable {
    /// What to do when `X-SES-CONFIGURATION-SET` names a set that does not exist.
    public enum UnknownConfigurationSetAction: String, Sendable, CaseIterable {
        /// Reject the message as SES does (`NotFoundException`, exit 65).
        case reject
        /// Pass the message unchanged.
        case pass
    }

    /// The set used when the message has no `X-SES-CONFIGURATION-SET` header.
    public var configurationSetName: String?
    public var unknownConfigurationSet: UnknownConfigurationSetAction = .reject
    /// Rewrite messages that carry a `DKIM-Signature` (which the rewrite invalidates).
    public var rewriteSigned = false
    public var limits = Limits()

    public init(configurationSetName: String? = nil, unknownConfigurationSet: UnknownConfigurationSetAction = .reject,
                rewriteSigned: Bool = false, limits: Limits = Limits()) {
        self.configurationSetName = configurationSetName
        self.unknownConfigurationSet = unknownConfigurationSet
        self.rewriteSigned = rewriteSigned
        self.limits = limits
    }
}

/// What happened to one MIME part.
public struct PartReport: Sendable, Equatable {
    /// `message` for the top level, else the part's position (`1`, `1.2`, ...).
    public var path: String
    /// `type/subtype` as parsed (lowercased).
    public var contentType: String
    /// What was done: rewritten, unchanged, walked, or why it passed through untouched.
    public var action: PartAction
    /// The HTML rewriter's report, for HTML parts that were processed. Its `links` are empty when
    /// the message's report already lists as many links as ``Limits/maximumLinksPerHTMLPart``; they
    /// are counted in ``unlistedLinks`` then.
    public var html: HTMLRewriteReport?
    /// The text rewriter's report, for `text/plain` parts that were processed (the set's
    /// ``LinkTrackOptions/trackLinksIn`` takes in text). Its `links` are bounded as ``html``'s are.
    public var text: TextRewriteReport?
    /// How many links of this part are not listed in ``html`` or ``text`` (see there).
    public var unlistedLinks = 0

    public init(path: String, contentType: String, action: PartAction, html: HTMLRewriteReport?) {
        self.path = path
        self.contentType = contentType
        self.action = action
        self.html = html
    }
}

/// The account of one filtered message.
public struct FilterReport: Sendable, Equatable {
    /// The configuration set applied, if any.
    public var configurationSet: String?
    /// The message id put in tokens.
    public var messageId: String?
    /// Whether any byte of the message changed.
    public var changed = false
    public var notes: [FilterNote] = []
    public var warnings: [FilterWarning] = []
    public var parts: [PartReport] = []
    /// Notes, warnings and parts beyond the first ``Limits/maximumReportEntries`` of each, which are
    /// counted here rather than listed, so that a report stays small whatever the message.
    public var unlistedNotes = 0
    public var unlistedWarnings = 0
    public var unlistedParts = 0

    public init() {}
}

/// The streaming mail filter: one RFC 5322 message in, the tracked message out.
///
/// Headers and parts that need no change are written through as they are read; only an HTML part
/// being rewritten is held in memory (see ``Limits``). A `Sendable` value: build it once from a
/// configuration and call it from any number of tasks.
///
/// Per message:
/// - The configuration set is `X-SES-CONFIGURATION-SET`'s, else ``FilterOptions/configurationSetName``,
///   else the configuration's `DefaultConfigurationSet`; with none, or one without a
///   `CustomRedirectDomain`, the message passes unchanged (with a note).
/// - `X-SES-CONFIGURATION-SET` and `X-SES-MESSAGE-TAGS` are removed when the message is tracked (and
///   from DKIM-signed messages unless a signature's `h=` covers them).
/// - The token's message id is `Message-ID`'s; without one, a tracked message gets a `Message-ID`
///   derived from a hash of its header block (deterministic: an MTA retry gives the same bytes),
///   added at the end of the top-level header block. It is added whenever tracking applies,
///   because the header block is written before the body is seen.
public struct MessageFilter: Sendable {
    public let configuration: Configuration
    public let options: FilterOptions
    let rewriter: HTMLRewriter
    /// Decoding buffers kept between messages; shared by copies of the filter.
    let partBuffers = PartBufferPool()

    /// - Throws: ``FilterError`` of kind `configuration` when the configuration cannot sign links.
    public init(configuration: Configuration, options: FilterOptions = FilterOptions()) throws(FilterError) {
        self.configuration = configuration
        self.options = options
        do {
            var rewriter = try HTMLRewriter(configuration: configuration)
            rewriter.limits = options.limits
            self.rewriter = rewriter
        } catch {
            throw FilterError(kind: .configuration, message: error.description)
        }
        if let name = options.configurationSetName, !configuration.configurationSets.contains(where: { $0.name == name }) {
            // Checked per message too; failing early gives a clear error before any input is read.
            throw FilterError(kind: .unknownConfigurationSet, message: ConfigurationError.notFound(configurationSet: name).description)
        }
    }

    /// A new streaming session for one message.
    public func makeSession() -> FilterSession {
        FilterSession(filter: self)
    }

    /// Filters a whole message held in memory.
    public func filter(_ message: [UInt8]) throws(FilterError) -> (output: [UInt8], report: FilterReport) {
        var session = makeSession()
        // The output is about the input's size (tracking URLs add a little): one allocation.
        session.output.reserveCapacity(message.count + message.count / 4 + 4096)
        try session.consume(message[...])
        try session.finish()
        return (session.takeOutput(), session.report)
    }

    /// Filters from one file descriptor to another, in chunks.
    /// - Warning: on a thrown error part of the message may already have been written; the caller
    ///   must then make the output void (the CLI exits non-zero so the MTA discards it).
    public func filter(from input: Int32, to output: Int32, chunkSize: Int = 64 << 10) throws(FilterError) -> FilterReport {
        var session = makeSession()
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        func drain(_ session: inout FilterSession) throws(FilterError) {
            let bytes = session.takeOutput()
            guard !bytes.isEmpty else { return }
            do {
                try FileIO.write(fileDescriptor: output, bytes)
            } catch {
                throw FilterError(kind: .io, message: "cannot write the output: \(error)")
            }
        }
        while true {
            let n: Int
            do {
                n = try FileIO.read(fileDescriptor: input, into: &buffer)
            } catch {
                throw FilterError(kind: .io, message: "cannot read the input: \(error)")
            }
            if n == 0 { break }
            try session.consume(buffer[0..<n])
            try drain(&session)
        }
        try session.finish()
        try drain(&session)
        return session.report
    }

    /// Filters a stream of byte chunks, handing output chunks to `sink` as they are ready.
    ///
    /// Built on ``makeSession()`` and emitted into the callers that use it only, so that a binary
    /// that does not (the `linktrack` filter) does not link Swift's concurrency runtime and
    /// libdispatch, which cost start-up time on every message.
    @_alwaysEmitIntoClient
    public func filter<Chunks: AsyncSequence>(
        _ chunks: Chunks, sink: ([UInt8]) async throws -> Void
    ) async throws -> FilterReport where Chunks.Element == [UInt8] {
        var session = makeSession()
        for try await chunk in chunks {
            try session.consume(chunk[...])
            let out = session.takeOutput()
            if !out.isEmpty { try await sink(out) }
        }
        try session.finish()
        let out = session.takeOutput()
        if !out.isEmpty { try await sink(out) }
        return session.report
    }
}
