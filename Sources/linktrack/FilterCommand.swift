import LinkTrack

struct FilterCommand: Command {
    static let spec = CommandSpec(
        name: "filter",
        abstract: "Track one message: RFC 5322 message (or bare HTML) on stdin, tracked result on stdout.",
        discussion: """
        Exit status (sysexits): 0 delivered (rewritten or passed through), 64 usage, 65 message rejected \
        (unknown configuration set), 74 input/output error, 75 temporary failure (the MTA should retry), \
        78 configuration error. On success nothing is written on stderr unless --explain or --verbose is \
        given; notes and warnings go to --log-file, else to syslog (mail facility), else (no syslog socket, \
        as in a container) to /var/log/linktrack.log or /tmp/linktrack-UID.log. A --log-file that cannot be \
        opened is a configuration error (78).
        """,
        options: [
            .option("config", help: "The configuration file (default: $LINKTRACK_CONFIG, else /etc/linktrack/config.json)."),
            .option("input", help: "What stdin holds: eml (a whole message) or html (a bare HTML document).",
                    choices: InputKind.allCases.map(\.rawValue), default: "eml"),
            .option("configuration-set", help: "The configuration set when the message has no X-SES-CONFIGURATION-SET header."),
            .option("message-id", help: "The message id for --input html (default: derived from the document)."),
            .option("unknown-configuration-set",
                    help: "reject (exit 65, as SES does) or pass (deliver unchanged) a message whose configuration set (X-SES-CONFIGURATION-SET, else --configuration-set) does not exist.",
                    choices: FilterOptions.UnknownConfigurationSetAction.allCases.map(\.rawValue), default: "reject"),
            .flag("rewrite-signed", help: "Rewrite messages that carry a DKIM-Signature (the signature will no longer verify)."),
            .flag("explain", help: "Print on stderr what was done per part and per link."),
            .flag("verbose", help: "Also print notes and warnings on stderr."),
            .option("log-file", help: "Append notes and warnings to this file instead of syslog (it must be writable: else exit 78)."),
        ]
    )

    enum InputKind: String, CaseIterable {
        case eml, html
    }

    var config = defaultConfigPath()
    var input: InputKind = .eml
    var configurationSet: String?
    var messageId: String?
    var unknownConfigurationSet: FilterOptions.UnknownConfigurationSetAction = .reject
    var rewriteSigned = false
    var explain = false
    var verbose = false
    var logFile: String?

    init(_ arguments: ParsedArguments) {
        if let config = arguments.value("config") { self.config = config }
        // The spec's choices have been checked by the parse.
        if let input = arguments.value("input").flatMap(InputKind.init(rawValue:)) { self.input = input }
        configurationSet = arguments.value("configuration-set")
        messageId = arguments.value("message-id")
        if let action = arguments.value("unknown-configuration-set").flatMap(FilterOptions.UnknownConfigurationSetAction.init(rawValue:)) {
            unknownConfigurationSet = action
        }
        rewriteSigned = arguments.flag("rewrite-signed")
        explain = arguments.flag("explain")
        verbose = arguments.flag("verbose")
        logFile = arguments.value("log-file")
    }

    func run() throws {
        let log: Logger
        do {
            log = try Logger(logFile: logFile, verbose: verbose)
        } catch {
            throw fail("linktrack: \(error)", code: SysExit.configuration)
        }
        let configuration = try loadConfiguration(path: config, log: log)
        if ProcessEnvironment.value(of: "LINKTRACK_TEST_FAULT") == "temporary" {
            // Test-only switch for the MTA integration tests: a forced internal failure.
            throw fail("linktrack: temporary failure: forced by LINKTRACK_TEST_FAULT", code: SysExit.temporaryFailure, log: log)
        }
        switch input {
        case .eml: try filterMessage(configuration, log: log)
        case .html: try filterHTML(configuration, log: log)
        }
    }

    func filterMessage(_ configuration: Configuration, log: Logger) throws {
        var configuration = configuration
        var options = FilterOptions(configurationSetName: configurationSet,
                                    unknownConfigurationSet: unknownConfigurationSet, rewriteSigned: rewriteSigned)
        // `--unknown-configuration-set pass` applies to the set `--configuration-set` names too
        // (issue 16, item 5). MessageFilter refuses an unknown configurationSetName when it is made,
        // whatever the action; so with `pass` the filter gets neither that name nor a default set,
        // and a message without X-SES-CONFIGURATION-SET, whose set is the unknown one, passes
        // unchanged; one whose header names a set still uses it.
        var passedUnknownSet: String?
        if unknownConfigurationSet == .pass, let name = configurationSet,
           !configuration.configurationSets.contains(where: { $0.name == name }) {
            passedUnknownSet = name
            options.configurationSetName = nil
            do {
                configuration = try Configuration(configurationSets: configuration.configurationSets,
                                                  defaultConfigurationSet: nil, signingKeys: configuration.signingKeys)
            } catch {
                throw fail("linktrack: configuration error in \(config): \(error)", code: SysExit.configuration, log: log)
            }
        }
        do {
            let filter = try MessageFilter(configuration: configuration, options: options)
            var report = try filter.filter(from: 0, to: 1)
            report.notes = Self.notes(of: report, passedUnknownSet: passedUnknownSet)
            for note in report.notes { log.note(note.description) }
            for warning in report.warnings { log.warning(warning.description) }
            if explain { StandardError.write(Explanation.message(report)) }
        } catch {
            let message = switch error.kind {
            case .unknownConfigurationSet: error.message
            case .configuration: "linktrack: configuration error in \(config): \(error.message)"
            case .io: "linktrack: \(error.message)"
            case .temporary: "linktrack: temporary failure: \(error.message)"
            }
            throw fail(message, code: SysExit.code(for: error.kind), log: log)
        }
    }

    /// The note for a message that passes because its set does not exist (the library's wording
    /// for an unknown X-SES-CONFIGURATION-SET).
    static func unknownSetNote(_ name: String) -> String {
        FilterNote.unknownConfigurationSetPassed(name).description
    }

    /// The report's notes, worded after what was done: a message that passed because the
    /// `--configuration-set` it fell back to does not exist says so, not that no set applies
    /// (issue 16, item 5; the filter was built without that set, so the library cannot know).
    static func notes(of report: FilterReport, passedUnknownSet: String?) -> [FilterNote] {
        report.notes.map { note in
            if let passedUnknownSet, report.configurationSet == nil, case .noConfigurationSet = note {
                return .unknownConfigurationSetPassed(passedUnknownSet)
            }
            return note
        }
    }

    func filterHTML(_ configuration: Configuration, log: Logger) throws {
        let rewriter: HTMLRewriter
        do {
            rewriter = try HTMLRewriter(configuration: configuration)
        } catch {
            throw fail("linktrack: configuration error in \(config): \(error)", code: SysExit.configuration, log: log)
        }
        // A regular file on stdin is mapped, a pipe read whole (FileIO.withContents).
        let outcome: Result<Void, HTMLFailure>
        do {
            outcome = try FileIO.withContents(ofFileDescriptor: 0) { (document) throws(HTMLFailure) in
                try filterHTML(document, rewriter: rewriter, configuration: configuration, log: log)
            }
        } catch {
            throw fail("linktrack: cannot read the input: \(error)", code: SysExit.ioError, log: log)
        }
        switch outcome {
        case .success: break
        case .failure(.unknownConfigurationSet(let message)): throw fail(message, code: SysExit.dataError, log: log)
        case .failure(.write(let error)): throw fail("linktrack: cannot write the output: \(error)", code: SysExit.ioError, log: log)
        }
    }

    enum HTMLFailure: Error {
        case unknownConfigurationSet(String)
        case write(IOError)
    }

    func filterHTML(_ document: UnsafeBufferPointer<UInt8>, rewriter: HTMLRewriter, configuration: Configuration,
                    log: Logger) throws(HTMLFailure) {
        var edits = EditList()
        if let name = configurationSet ?? configuration.defaultConfigurationSet {
            let set: ConfigurationSet
            do {
                set = try configuration.configurationSet(named: name)
            } catch {
                guard unknownConfigurationSet == .pass else { throw .unknownConfigurationSet(error.description) }
                log.note(Self.unknownSetNote(name))
                if explain { StandardError.write("linktrack: html\n  note: \(Self.unknownSetNote(name))\n") }
                return try write(edits, document)
            }
            let context = TrackingContext(configurationSet: set,
                                          messageId: messageId ?? TrackingContext.derivedMessageId(for: document))
            // The edits are applied on the way out: the rewritten document is never held whole.
            // Per-link reports are only printed by --explain.
            // A bare document has no Content-Type: its charset is what its <meta> declares, as for a
            // MIME part without a charset parameter (else it is sniffed).
            let result = rewriter.rewrite(contentsOf: document, charset: MetaCharset.prescan(document), context: context,
                                          reportingLinks: explain)
            if let reason = result.report.untouchedReason {
                log.note(reason.description)
            } else {
                edits = result.edits
            }
            for warning in result.report.warnings { log.warning(warning.description) }
            if explain { StandardError.write(Explanation.html(result.report, path: "html")) }
        } else {
            log.note("no configuration set applies (no --configuration-set, no DefaultConfigurationSet); the document passes unchanged")
        }
        try write(edits, document)
    }

    /// Writes `document` with `edits` applied on stdout.
    func write(_ edits: EditList, _ document: UnsafeBufferPointer<UInt8>) throws(HTMLFailure) {
        do throws(IOError) {
            try Splicer.apply(edits, to: document) { (piece) throws(IOError) in try FileIO.write(fileDescriptor: 1, piece) }
        } catch {
            throw .write(error)
        }
    }
}


/// The `--explain` text.
enum Explanation {
    static func message(_ report: FilterReport) -> String {
        var out = "linktrack: configuration set: \(report.configurationSet ?? "none"); message id: \(report.messageId ?? "none"); \(report.changed ? "changed" : "unchanged")\n"
        for note in report.notes { out += "  note: \(note)\n" }
        for warning in report.warnings { out += "  warning: \(warning)\n" }
        // A report lists at most Limits.maximumReportEntries of each kind; the rest are counted.
        if report.unlistedNotes > 0 { out += "  ... and \(report.unlistedNotes) more note(s), not listed\n" }
        if report.unlistedWarnings > 0 { out += "  ... and \(report.unlistedWarnings) more warning(s), not listed\n" }
        for part in report.parts {
            out += "  part \(part.path) \(part.contentType): \(part.action)\n"
            if let html = part.html { out += html_(html, indent: "    ") }
            if part.unlistedLinks > 0 { out += "    ... and \(part.unlistedLinks) more link(s), not listed\n" }
        }
        if report.unlistedParts > 0 { out += "  ... and \(report.unlistedParts) more part(s), not listed\n" }
        return out
    }

    static func html(_ report: HTMLRewriteReport, path: String) -> String {
        "linktrack: \(path)\n" + html_(report, indent: "  ")
    }

    static func html_(_ report: HTMLRewriteReport, indent: String) -> String {
        var out = ""
        if let reason = report.untouchedReason { out += "\(indent)untouched: \(reason)\n" }
        for link in report.links {
            let place = link.inConditionalComment ? " (conditional comment)" : ""
            if let index = link.linkIndex {
                out += "\(indent)link \(index) <\(link.element)>\(place) \(link.destination): tracked\n"
            } else {
                out += "\(indent)link <\(link.element)>\(place) \(link.destination): not tracked (\(link.untrackedReason?.description ?? "?"))\n"
            }
        }
        switch report.pixel {
        case .inserted(let placement, let offset): out += "\(indent)open pixel: inserted \(placement.rawValue) (offset \(offset))\n"
        case .opensNotTracked: out += "\(indent)open pixel: none (opens not tracked)\n"
        case .alreadyPresent: out += "\(indent)open pixel: already present\n"
        case .emptyDocument: out += "\(indent)open pixel: none (empty document)\n"
        case .notProcessed: break
        }
        for warning in report.warnings { out += "\(indent)warning: \(warning)\n" }
        return out
    }
}
