/// What tracking a message gets, decided from its top-level header block and the configuration
/// alone (no body is needed): the configuration set, the header changes (the `X-SES-*` fields go,
/// a `Message-ID` may be added), the token context, and what to tell the operator.
///
/// The rules, as SES applies them where it has them:
/// - The set is `X-SES-CONFIGURATION-SET`'s, else ``FilterOptions/configurationSetName``, else the
///   configuration's `DefaultConfigurationSet`; an empty field names no set (issue 16, item 20).
///   A set that does not exist rejects the message (`NotFoundException`) unless
///   ``FilterOptions/unknownConfigurationSet`` is `pass`.
/// - A set without a `CustomRedirectDomain`, or that tracks neither opens nor clicks, leaves the
///   message as it is.
/// - A `DKIM-Signature` stops tracking unless ``FilterOptions/rewriteSigned``: rewriting would
///   break it. The `X-SES-*` fields still go, except those a signature's `h=` covers.
/// - `X-SES-MESSAGE-TAGS` entries (`name=value`, comma-separated) go into the tokens; a malformed
///   one is ignored with a warning.
/// - The tokens carry the `Message-ID`; without one, a `Message-ID` derived from a hash of the
///   header block is added (deterministic: an MTA retry gives the same bytes). An empty field is
///   kept (a second one would break RFC 5322 §3.6) and the derived id goes into the tokens only.
struct TrackingDecision: Equatable {
    /// The set applied, if any.
    var configurationSet: String?
    /// The token context when the message is tracked.
    var tracking: TrackingContext?
    /// Byte ranges of the header block to remove (whole fields).
    var removals: [Range<Int>] = []
    /// A field (with its line ending) to add at ``HeaderBlock/insertionOffset(in:isTop:)``.
    var addedField: [UInt8]?
    var notes: [FilterNote] = []
    var warnings: [FilterWarning] = []

    /// Decides for the header block `block`, whose fields are `fields`.
    /// - Throws: ``FilterError`` of kind `unknownConfigurationSet` when the set named does not exist
    ///   and ``FilterOptions/unknownConfigurationSet`` is `reject`.
    init(block: [UInt8], fields: [HeaderField], configuration: Configuration, options: FilterOptions) throws(FilterError) {
        let setHeaders = fields.filter { $0.name(is: "x-ses-configuration-set") }
        let tagHeaders = fields.filter { $0.name(is: "x-ses-message-tags") }
        let sesRanges = (setHeaders + tagHeaders).map(\.range)

        let named = setHeaders.lazy.map(\.unfoldedValue).first { !$0.isEmpty }
        let requested = named ?? options.configurationSetName ?? configuration.defaultConfigurationSet
        guard let requested, !requested.isEmpty else {
            notes.append(.noConfigurationSet(emptyHeader: !setHeaders.isEmpty))
            return
        }
        guard let set = configuration.configurationSets.first(where: { $0.name == requested }) else {
            if options.unknownConfigurationSet == .pass {
                notes.append(.unknownConfigurationSetPassed(requested))
                return
            }
            throw FilterError(kind: .unknownConfigurationSet,
                              message: ConfigurationError.notFound(configurationSet: requested).description)
        }
        configurationSet = set.name
        guard set.tracksAnything else {
            notes.append(set.customRedirectDomain == nil ? .noRedirectDomain(configurationSet: set.name)
                                                         : .tracksNothing(configurationSet: set.name))
            return
        }
        let dkim = fields.filter { $0.name(is: "dkim-signature") }
        if !dkim.isEmpty, !options.rewriteSigned {
            warnings.append(.dkimSigned)
            let covered = Set(dkim.flatMap { Self.signedHeaderNames($0.unfoldedValue) })
            for field in setHeaders where !covered.contains("x-ses-configuration-set") { removals.append(field.range) }
            for field in tagHeaders where !covered.contains("x-ses-message-tags") { removals.append(field.range) }
            return
        }
        removals = sesRanges

        var messageTags: [Tag] = []
        for field in tagHeaders {
            for pair in field.unfoldedValue.split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = kv.first.map { Self.trimmed($0) } ?? ""
                let value = kv.count == 2 ? Self.trimmed(kv[1]) : ""
                if kv.count == 2, Tag.isValidComponent(name), Tag.isValidComponent(value) {
                    messageTags.append(Tag(name: name, value: value))
                } else {
                    warnings.append(.malformedMessageTag(Self.trimmed(pair)))
                }
            }
        }

        let messageId: String
        let existing = fields.first(where: { $0.name(is: "message-id") })
        if let existing, !existing.unfoldedValue.isEmpty {
            messageId = existing.unfoldedValue
        } else {
            let digest = SHA256State.hash(block).array
            let hex = digest.prefix(12).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            messageId = "<lt.\(hex)@\(set.customRedirectDomain!)>"
        }
        if existing?.unfoldedValue.isEmpty == true {
            notes.append(.emptyMessageID(derived: messageId))
        } else if existing == nil {
            addedField = HeaderBlock.fieldToAdd("Message-ID: \(messageId)", to: block, fields: fields, isTop: true)
            notes.append(.messageIDAdded(messageId))
        }
        tracking = TrackingContext(configurationSet: set, messageId: messageId, messageTags: messageTags)
        // RFC 2369 allows one List-Unsubscribe field; the URLs of several are all kept untracked.
        let unsubscribe = fields.filter { $0.name(is: "list-unsubscribe") }.map(\.unfoldedValue)
        if !unsubscribe.isEmpty {
            let post = fields.first { $0.name(is: "list-unsubscribe-post") }.map { Array($0.unfoldedValue.utf8) }
            tracking?.listUnsubscribe = ListUnsubscribe(headerValue: Array(unsubscribe.joined(separator: ", ").utf8),
                                                       postHeaderValue: post)
        }
    }

    /// The lowercased header names in a DKIM-Signature's `h=` tag (RFC 6376 §3.5).
    static func signedHeaderNames(_ value: String) -> [String] {
        for tag in value.split(separator: ";") {
            let kv = tag.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, Self.trimmed(kv[0]).lowercased() == "h" else { continue }
            return kv[1].split(separator: ":").map { Self.trimmed($0.filter { !$0.isWhitespace }).lowercased() }
        }
        return []
    }

    static func trimmed<S: StringProtocol>(_ text: S) -> String {
        String(decoding: Array(text.utf8).trimmingASCIIWhitespace(), as: UTF8.self)
    }
}
