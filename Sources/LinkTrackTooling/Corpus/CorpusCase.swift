import LinkTrack

/// One regression case: a folder with `input.eml` or `input.html`, an optional `case.json`
/// (`description`, `args`, `exitStatus`), an optional `config.json` (else the corpus's shared one),
/// and the expected output `expected.eml` / `expected.html`. A bare `.eml` file in a flat folder is a
/// case without expectations.
public struct CorpusCase: Sendable {
    public var name: String
    public var inputPath: String
    public var isHTML: Bool
    public var expectedPath: String?
    public var configPath: String?
    public var description: String?
    /// The `linktrack filter` arguments of `case.json`, as written (`--configuration-set`,
    /// `--message-id`, `--rewrite-signed`, `--unknown-configuration-set`): the CLI's parser reads
    /// them into ``Options``.
    public var arguments: [String]
    /// The exit status `linktrack filter` should end with (`case.json`'s `exitStatus`, else 0).
    public var expectedExitStatus: Int32

    /// Finds the cases under `directory`: case folders, and `.eml` files directly inside it.
    public static func discover(in directory: String) throws(IOError) -> [CorpusCase] {
        let sharedConfig = directory + "/config.json"
        let hasShared = FileIO.exists(sharedConfig)
        var cases: [CorpusCase] = []
        for entry in try FileIO.listDirectory(directory).sorted() {
            let path = directory + "/" + entry
            if FileIO.isDirectory(path) {
                let eml = path + "/input.eml"
                let html = path + "/input.html"
                let isHTML = !FileIO.exists(eml) && FileIO.exists(html)
                guard isHTML || FileIO.exists(eml) else { continue }
                var c = CorpusCase(name: entry, inputPath: isHTML ? html : eml, isHTML: isHTML,
                                   expectedPath: path + (isHTML ? "/expected.html" : "/expected.eml"),
                                   configPath: FileIO.exists(path + "/config.json") ? path + "/config.json" : (hasShared ? sharedConfig : nil),
                                   description: nil, arguments: [], expectedExitStatus: 0)
                if let meta = try? JSONValue.parse(FileIO.readAll(path: path + "/case.json")) {
                    if case .string(let d)? = meta["description"] { c.description = d }
                    if case .array(let args)? = meta["args"] {
                        c.arguments = args.compactMap { if case .string(let s) = $0 { return s }; return nil }
                    }
                    if case .number(let n)? = meta["exitStatus"], let status = Int32(n) { c.expectedExitStatus = status }
                }
                cases.append(c)
            } else if entry.hasSuffix(".eml") {
                cases.append(CorpusCase(name: entry, inputPath: path, isHTML: false, expectedPath: nil,
                                        configPath: hasShared ? sharedConfig : nil, description: nil,
                                        arguments: [], expectedExitStatus: 0))
            }
        }
        return cases
    }
}

/// What running a case gave.
public struct CorpusOutcome: Sendable {
    /// The output bytes (empty when the filter refused the message).
    public var output: [UInt8]
    /// Why the filter refused the message, as `linktrack filter` would (the CLI maps the kind to
    /// its exit status); nil when it delivered.
    public var failure: FilterError?
    public var report: FilterReport?
    /// What the ``InvariantChecker`` found wrong with the output.
    public var invariantViolations: [String] = []
}

extension CorpusCase {
    /// The `linktrack filter` options a case may give in its `case.json` `args`. The CLI reads the
    /// arguments with its own parser and fills this in: the corpus runner parses no command line.
    public struct Options: Sendable {
        /// `--configuration-set`, `--unknown-configuration-set` and `--rewrite-signed`.
        public var filter: FilterOptions
        /// `--message-id`, for HTML cases.
        public var messageId: String?

        public init(filter: FilterOptions = FilterOptions(), messageId: String? = nil) {
            self.filter = filter
            self.messageId = messageId
        }
    }

    /// Runs the case through the library, as `linktrack filter` would.
    /// - Parameters:
    ///   - options: what the case's `args` say, read by the CLI's parser.
    ///   - defaultConfiguration: used when the case names no config file.
    ///   - chunkSize: when set, a message is fed to a ``FilterSession`` in chunks of this many
    ///     bytes rather than filtered whole (the output must not depend on it); the closure gives
    ///     the size of each chunk in turn, so that sizes may vary within a message.
    public func run(_ options: Options, defaultConfiguration: Configuration? = nil,
                    chunkSize: (() -> Int)? = nil) -> CorpusOutcome {
        func failure(_ kind: FilterError.Kind, _ message: String) -> CorpusOutcome {
            CorpusOutcome(output: [], failure: FilterError(kind: kind, message: message), report: nil)
        }
        let configuration: Configuration
        if let configPath {
            do {
                configuration = try Configuration(json: try FileIO.readAll(path: configPath))
            } catch {
                return failure(.configuration, "configuration error in \(configPath): \(error)")
            }
        } else if let defaultConfiguration {
            configuration = defaultConfiguration
        } else {
            return failure(.configuration, "no configuration for case \(name)")
        }
        let input: [UInt8]
        do {
            input = try FileIO.readAll(path: inputPath)
        } catch {
            return failure(.io, "\(error)")
        }
        if isHTML {
            let rewriter: HTMLRewriter
            do {
                rewriter = try HTMLRewriter(configuration: configuration)
            } catch {
                return failure(.configuration, error.description)
            }
            guard let setName = options.filter.configurationSetName ?? configuration.defaultConfigurationSet else {
                return CorpusOutcome(output: input, failure: nil, report: nil)
            }
            guard let set = try? configuration.configurationSet(named: setName) else {
                return failure(.unknownConfigurationSet, ConfigurationError.notFound(configurationSet: setName).description)
            }
            let context = TrackingContext(configurationSet: set,
                                          messageId: options.messageId ?? TrackingContext.derivedMessageId(for: input))
            let output = rewriter.rewrite(input, charset: nil, context: context).output
            var outcome = CorpusOutcome(output: output, failure: nil, report: nil)
            if let checker = try? InvariantChecker(configuration: configuration, options: options.filter) {
                outcome.invariantViolations = checker.checkHTML(input: input, output: output, set: set)
            }
            return outcome
        }
        do {
            let filter = try MessageFilter(configuration: configuration, options: options.filter)
            let output: [UInt8]
            let report: FilterReport
            if let chunkSize {
                var session = filter.makeSession()
                var chunks: [UInt8] = []
                var start = 0
                while start < input.count {
                    let end = min(start + max(chunkSize(), 1), input.count)
                    try session.consume(input[start..<end])
                    chunks += session.takeOutput()
                    start = end
                }
                try session.finish()
                chunks += session.takeOutput()
                (output, report) = (chunks, session.report)
            } else {
                (output, report) = try filter.filter(input)
            }
            var outcome = CorpusOutcome(output: output, failure: nil, report: report)
            if let checker = try? InvariantChecker(configuration: configuration, options: options.filter) {
                outcome.invariantViolations = checker.check(input: input, output: output)
            }
            return outcome
        } catch {
            return CorpusOutcome(output: [], failure: error, report: nil)
        }
    }
}
