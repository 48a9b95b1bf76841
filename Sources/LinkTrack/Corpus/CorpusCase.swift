#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// `linktrack filter` arguments (`--configuration-set`, `--message-id`, `--rewrite-signed`,
    /// `--unknown-configuration-set`).
    public var arguments: [String]
    /// The exit status `linktrack filter` should end with.
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
    /// The exit status `linktrack filter` ends with for this outcome (0, 65, 75 or 78).
    public var exitStatus: Int32
    /// The error's text, when there was one.
    public var error: String?
    public var report: FilterReport?
    /// What the ``InvariantChecker`` found wrong with the output (messages only).
    public var invariantViolations: [String] = []
}

extension CorpusCase {
    /// Runs the case through the library, as `linktrack filter` would.
    /// - Parameter defaultConfiguration: used when the case names no config file.
    /// - Parameter pieceSize: when set, a message is fed to a ``FilterSession`` in pieces of this
    ///   many bytes rather than filtered whole (the output must not depend on it).
    public func run(defaultConfiguration: Configuration? = nil, pieceSize: Int? = nil) -> CorpusOutcome {
        func failure(_ status: Int32, _ message: String) -> CorpusOutcome {
            CorpusOutcome(output: [], exitStatus: status, error: message, report: nil)
        }
        let configuration: Configuration
        if let configPath {
            do {
                configuration = try Configuration(json: try FileIO.readAll(path: configPath))
            } catch {
                return failure(78, "configuration error in \(configPath): \(error)")
            }
        } else if let defaultConfiguration {
            configuration = defaultConfiguration
        } else {
            return failure(78, "no configuration for case \(name)")
        }
        var options = FilterOptions()
        var messageId: String?
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            let value = i + 1 < arguments.count ? arguments[i + 1] : nil
            switch argument {
            case "--configuration-set": options.configurationSetName = value; i += 2
            case "--message-id": messageId = value; i += 2
            case "--unknown-configuration-set":
                guard let v = value, let action = FilterOptions.UnknownConfigurationSetAction(rawValue: v) else {
                    return failure(64, "bad --unknown-configuration-set value")
                }
                options.unknownConfigurationSet = action; i += 2
            case "--rewrite-signed": options.rewriteSigned = true; i += 1
            default: return failure(64, "unsupported argument \(argument) in case \(name)")
            }
        }
        let input: [UInt8]
        do {
            input = try FileIO.readAll(path: inputPath)
        } catch {
            return failure(74, "\(error)")
        }
        if isHTML {
            let rewriter: HTMLRewriter
            do {
                rewriter = try HTMLRewriter(configuration: configuration)
            } catch {
                return failure(78, error.description)
            }
            guard let setName = options.configurationSetName ?? configuration.defaultConfigurationSet else {
                return CorpusOutcome(output: input, exitStatus: 0, error: nil, report: nil)
            }
            guard let set = try? configuration.configurationSet(named: setName) else {
                return failure(65, ConfigurationError.notFound(configurationSet: setName).description)
            }
            let context = TrackingContext(configurationSet: set, messageId: messageId ?? TrackingContext.derivedMessageId(for: input))
            let output = rewriter.rewrite(input, charset: nil, context: context).output
            var outcome = CorpusOutcome(output: output, exitStatus: 0, error: nil, report: nil)
            if let checker = try? InvariantChecker(configuration: configuration, options: options) {
                outcome.invariantViolations = checker.checkHTML(input: input, output: output, set: set)
            }
            return outcome
        }
        do {
            let filter = try MessageFilter(configuration: configuration, options: options)
            let output: [UInt8]
            let report: FilterReport
            if let pieceSize {
                var session = filter.makeSession()
                var pieces: [UInt8] = []
                var start = 0
                while start < input.count {
                    let end = min(start + max(pieceSize, 1), input.count)
                    try session.consume(input[start..<end])
                    pieces += session.takeOutput()
                    start = end
                }
                try session.finish()
                pieces += session.takeOutput()
                (output, report) = (pieces, session.report)
            } else {
                (output, report) = try filter.filter(input)
            }
            var outcome = CorpusOutcome(output: output, exitStatus: 0, error: nil, report: report)
            if let checker = try? InvariantChecker(configuration: configuration, options: options) {
                outcome.invariantViolations = checker.check(input: input, output: output)
            }
            return outcome
        } catch {
            switch error.kind {
            case .unknownConfigurationSet: return failure(65, error.message)
            case .configuration: return failure(78, error.message)
            case .io: return failure(74, error.message)
            case .temporary: return failure(75, error.message)
            }
        }
    }
}

extension FileIO {
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The names in a directory, without `.` and `..`.
    public static func listDirectory(_ path: String) throws(IOError) -> [String] {
        guard let dir = opendir(path) else { throw IOError(operation: "open the directory", path: path, errorNumber: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
