import ArgumentParser
import LinkTrack

struct FilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Track one message: RFC 5322 message (or bare HTML) on stdin, tracked result on stdout.",
        discussion: """
        Exit status (sysexits): 0 delivered (rewritten or passed through), 64 usage, 65 message rejected \
        (unknown configuration set), 74 input/output error, 75 temporary failure (the MTA should retry), \
        78 configuration error. On success nothing is written on stderr unless --explain or --verbose is \
        given; notes and warnings go to syslog (mail facility) or to --log-file.
        """
    )

    enum InputKind: String, ExpressibleByArgument, CaseIterable {
        case eml, html
    }

    @Option(help: "The configuration file (default: $LINKTRACK_CONFIG, else /etc/linktrack/config.json).")
    var config: String = defaultConfigPath()

    @Option(help: "What stdin holds: eml (a whole message) or html (a bare HTML document).")
    var input: InputKind = .eml

    @Option(help: "The configuration set when the message has no X-SES-CONFIGURATION-SET header.")
    var configurationSet: String?

    @Option(help: "The message id for --input html (default: derived from the document).")
    var messageId: String?

    @Option(help: "reject (exit 65, as SES does) or pass (deliver unchanged) a message whose X-SES-CONFIGURATION-SET does not exist.")
    var unknownConfigurationSet: FilterOptions.UnknownConfigurationSetAction = .reject

    @Flag(help: "Rewrite messages that carry a DKIM-Signature (the signature will no longer verify).")
    var rewriteSigned = false

    @Flag(help: "Print on stderr what was done per part and per link.")
    var explain = false

    @Flag(help: "Also print notes and warnings on stderr.")
    var verbose = false

    @Option(help: "Append notes and warnings to this file instead of syslog.")
    var logFile: String?

    func run() throws {
        try FilterRun(config: config, input: input, configurationSet: configurationSet, messageId: messageId,
                      unknownConfigurationSet: unknownConfigurationSet, rewriteSigned: rewriteSigned,
                      explain: explain, verbose: verbose, logFile: logFile).run()
    }
}

/// What `linktrack filter` does, apart from reading its arguments: ``FilterCommand`` builds it from
/// ArgumentParser's parse, and ``FilterRun/fastPath(_:)`` from a plain argument list (see there).
struct FilterRun {
    var config = defaultConfigPath()
    var input: FilterCommand.InputKind = .eml
    var configurationSet: String?
    var messageId: String?
    var unknownConfigurationSet: FilterOptions.UnknownConfigurationSetAction = .reject
    var rewriteSigned = false
    var explain = false
    var verbose = false
    var logFile: String?

    /// The MTA pipe calls `linktrack filter` once per message, so its start-up is on every
    /// message's path, and ArgumentParser's reflection over the command tree took about a third of
    /// the process's time on a 30 KB mail. A plain invocation (`filter` and the long options
    /// `--name value` / flags as `linktrack filter --help` lists them) is read here directly;
    /// anything else (`--name=value`, short or unknown options, a value that starts with `-`,
    /// `--help`, another command) returns nil and goes through ArgumentParser, which parses it
    /// the same way or explains the error.
    static func fastPath(_ arguments: [String]) -> FilterRun? {
        guard arguments.first == "filter" else { return nil }
        var run = FilterRun()
        var i = 1
        while i < arguments.count {
            let name = arguments[i]
            switch name {
            case "--rewrite-signed": run.rewriteSigned = true
            case "--explain": run.explain = true
            case "--verbose": run.verbose = true
            case "--config", "--input", "--configuration-set", "--message-id", "--unknown-configuration-set", "--log-file":
                guard i + 1 < arguments.count, !arguments[i + 1].hasPrefix("-") else { return nil }
                let value = arguments[i + 1]
                switch name {
                case "--config": run.config = value
                case "--input":
                    guard let kind = FilterCommand.InputKind(rawValue: value) else { return nil }
                    run.input = kind
                case "--configuration-set": run.configurationSet = value
                case "--message-id": run.messageId = value
                case "--unknown-configuration-set":
                    guard let action = FilterOptions.UnknownConfigurationSetAction(rawValue: value) else { return nil }
                    run.unknownConfigurationSet = action
                default: run.logFile = value
                }
                i += 1
            default:
                return nil
            }
            i += 1
        }
        return run
    }

    func run() throws {
        let log = Logger(logFile: logFile, verbose: verbose)
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
        let options = FilterOptions(configurationSetName: configurationSet,
                                    unknownConfigurationSet: unknownConfigurationSet, rewriteSigned: rewriteSigned)
        do {
            let filter = try MessageFilter(configuration: configuration, options: options)
            let report = try filter.filter(from: 0, to: 1)
            for note in report.notes { log.note(note) }
            for warning in report.warnings { log.warning(warning) }
            if explain { StandardError.write(Explanation.message(report)) }
        } catch let error as FilterError {
            switch error.kind {
            case .unknownConfigurationSet: throw fail(error.message, code: SysExit.dataError, log: log)
            case .configuration: throw fail("linktrack: configuration error in \(config): \(error.message)", code: SysExit.configuration, log: log)
            case .io: throw fail("linktrack: \(error.message)", code: SysExit.ioError, log: log)
            case .temporary: throw fail("linktrack: temporary failure: \(error.message)", code: SysExit.temporaryFailure, log: log)
            }
        }
    }

    func filterHTML(_ configuration: Configuration, log: Logger) throws {
        let rewriter: HTMLRewriter
        do {
            rewriter = try HTMLRewriter(configuration: configuration)
        } catch {
            throw fail("linktrack: configuration error in \(config): \(error)", code: SysExit.configuration, log: log)
        }
        let document: [UInt8]
        do {
            document = try FileIO.readAll(fileDescriptor: 0)
        } catch {
            throw fail("linktrack: cannot read the input: \(error)", code: SysExit.ioError, log: log)
        }
        var output = document
        if let name = configurationSet ?? configuration.defaultConfigurationSet {
            let set: ConfigurationSet
            do {
                set = try configuration.configurationSet(named: name)
            } catch {
                throw fail(error.description, code: SysExit.dataError, log: log)
            }
            let context = TrackingContext(configurationSet: set,
                                          messageId: messageId ?? TrackingContext.derivedMessageId(for: document))
            let result = rewriter.rewrite(document, charset: nil, context: context)
            output = result.output
            if let reason = result.report.untouchedReason { log.note(reason) }
            for warning in result.report.warnings { log.warning(warning) }
            if explain { StandardError.write(Explanation.html(result.report, path: "html")) }
        } else {
            log.note("no configuration set applies (no --configuration-set, no DefaultConfigurationSet); the document passes unchanged")
        }
        do {
            try FileIO.write(fileDescriptor: 1, output)
        } catch {
            throw fail("linktrack: cannot write the output: \(error)", code: SysExit.ioError, log: log)
        }
    }
}

extension FilterOptions.UnknownConfigurationSetAction: ExpressibleByArgument {}

/// The `--explain` text.
enum Explanation {
    static func message(_ report: FilterReport) -> String {
        var out = "linktrack: configuration set: \(report.configurationSet ?? "none"); message id: \(report.messageId ?? "none"); \(report.changed ? "changed" : "unchanged")\n"
        for note in report.notes { out += "  note: \(note)\n" }
        for warning in report.warnings { out += "  warning: \(warning)\n" }
        for part in report.parts {
            out += "  part \(part.path) \(part.contentType): \(part.action)\n"
            if let html = part.html { out += html_(html, indent: "    ") }
        }
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
