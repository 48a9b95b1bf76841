import LinkTrack
import LinkTrackTooling
#if canImport(Glibc)
import Glibc
#endif

struct CorpusCommand: Command {
    static let spec = CommandSpec(
        name: "corpus",
        abstract: "Run every case under a folder as a regression test; prints 'N passed, N failed'.",
        discussion: """
        A case is a folder with input.eml or input.html, optional case.json ({"args": [...], "exitStatus": N}), \
        optional config.json (else DIR/config.json) and expected.eml / expected.html; a .eml file directly \
        in DIR is a case without expectations. Every case is also checked by the invariant checker \
        (see `linktrack check`), so a folder of real outgoing mail shows whether LinkTrack is safe on it. \
        Exits 0 only when all pass.
        """,
        options: [
            .option("config", help: "The configuration for cases without a config.json of their own or in DIR (default: $LINKTRACK_CONFIG, else /etc/linktrack/config.json)."),
            .flag("record", help: "Write the expected files anew from the current output."),
        ],
        arguments: [ArgumentSpec(name: "directory", help: "The corpus folder.")]
    )

    var directory: String
    var config: String?
    var record: Bool

    init(_ arguments: ParsedArguments) {
        directory = arguments.argument("directory")
        config = arguments.value("config")
        record = arguments.flag("record")
    }

    func run() throws {
        let cases: [CorpusCase]
        do {
            cases = try CorpusCase.discover(in: directory)
        } catch {
            throw fail("linktrack: \(error)", code: SysExit.ioError)
        }
        // Cases without a config.json of their own or in DIR (a flat folder of .eml files) need one
        // from the command line, else $LINKTRACK_CONFIG or the default file, as for `filter`.
        // Without any, one usage error says so, rather than one identical failure per case.
        let unconfigured = cases.filter { $0.configPath == nil }.count
        var fallback: Configuration?
        if let config {
            fallback = try loadConfiguration(path: config, log: nil)
        } else if unconfigured > 0 {
            let path = defaultConfigPath()
            guard ProcessEnvironment.value(of: "LINKTRACK_CONFIG") != nil || FileIO.exists(path) else {
                throw Self.spec.usageError("\(unconfigured) of the \(cases.count) cases in \(directory) have no configuration "
                    + "(no config.json in the case's folder or in \(directory)); give --config FILE or set LINKTRACK_CONFIG")
            }
            fallback = try loadConfiguration(path: path, log: nil)
        }
        let interactive = isatty(2) != 0
        var passed = 0
        var failed = 0
        for (n, c) in cases.enumerated() {
            if interactive { StandardError.write("\r[\(n + 1)/\(cases.count)] \(c.name)\u{1B}[K") }
            let run = Self.run(c, defaultConfiguration: fallback)
            var problem: String?
            if let outcome = run.outcome, !outcome.invariantViolations.isEmpty {
                problem = "invariant violated: " + outcome.invariantViolations.joined(separator: "; ")
            } else if run.status != c.expectedExitStatus {
                problem = "exit status \(run.status), expected \(c.expectedExitStatus)" + (run.error.map { ": \($0)" } ?? "")
            } else if let outcome = run.outcome, run.status == SysExit.ok, let expectedPath = c.expectedPath {
                if record {
                    do { try FileIO.writeAtomically(path: expectedPath, contents: outcome.output) } catch {
                        problem = "cannot record: \(error)"
                    }
                } else if let expected = try? FileIO.readAll(path: expectedPath) {
                    problem = CorpusComparison.firstDifference(expected: expected, actual: outcome.output)
                } else {
                    problem = "no expected output (run with --record)"
                }
            }
            if let problem {
                failed += 1
                if interactive { StandardError.write("\r\u{1B}[K") }
                print("FAIL \(c.name): \(problem)")
            } else {
                passed += 1
            }
        }
        if interactive { StandardError.write("\r\u{1B}[K") }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}

extension CorpusCommand {
    /// The `linktrack filter` options a case may give in its `case.json` `args`: the filter's own
    /// specs, so that a case reads its arguments as `filter` reads its command line.
    static let caseArguments = CommandSpec(
        name: FilterCommand.spec.name,
        abstract: FilterCommand.spec.abstract,
        options: FilterCommand.spec.options.filter {
            ["configuration-set", "message-id", "unknown-configuration-set", "rewrite-signed"].contains($0.name)
        }
    )

    /// A case's arguments, read by the filter's parser into the runner's typed options.
    /// - Throws: ``ArgumentsOutcome`` for an argument the case may not give or a wrong value.
    static func options(for c: CorpusCase) throws(ArgumentsOutcome) -> CorpusCase.Options {
        let filter = FilterCommand(try caseArguments.parse(c.arguments[...]))
        return CorpusCase.Options(
            filter: FilterOptions(configurationSetName: filter.configurationSet,
                                  unknownConfigurationSet: filter.unknownConfigurationSet,
                                  rewriteSigned: filter.rewriteSigned),
            messageId: filter.messageId)
    }

    /// One case run as `linktrack filter` would run it.
    struct CaseRun {
        /// The exit status `linktrack filter` would end with.
        var status: Int32
        /// The error's text, when there was one.
        var error: String?
        /// What the runner gave; nil when the case's arguments are wrong.
        var outcome: CorpusOutcome?
    }

    /// Runs `c`: its arguments read by the filter's parser, its failure mapped to the filter's
    /// exit status.
    /// - Parameter chunkSize: see ``CorpusCase/run(_:defaultConfiguration:chunkSize:)``.
    static func run(_ c: CorpusCase, defaultConfiguration: Configuration?, chunkSize: (() -> Int)? = nil) -> CaseRun {
        let options: CorpusCase.Options
        do {
            options = try Self.options(for: c)
        } catch {
            switch error {
            case .help: return CaseRun(status: SysExit.usage, error: "help asked for in case \(c.name)", outcome: nil)
            case .usageError(let text): return CaseRun(status: SysExit.usage, error: text, outcome: nil)
            }
        }
        let outcome = c.run(options, defaultConfiguration: defaultConfiguration, chunkSize: chunkSize)
        return CaseRun(status: outcome.failure.map { SysExit.code(for: $0.kind) } ?? SysExit.ok,
                       error: outcome.failure?.message, outcome: outcome)
    }
}
