import LinkTrack
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
            let outcome = c.run(defaultConfiguration: fallback)
            var problem: String?
            if !outcome.invariantViolations.isEmpty {
                problem = "invariant violated: " + outcome.invariantViolations.joined(separator: "; ")
            } else if outcome.exitStatus != c.expectedExitStatus {
                problem = "exit status \(outcome.exitStatus), expected \(c.expectedExitStatus)" + (outcome.error.map { ": \($0)" } ?? "")
            } else if outcome.exitStatus == 0, let expectedPath = c.expectedPath {
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
