import ArgumentParser
import LinkTrack

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify that OUTPUT is a correct tracked version of INPUT (the invariant checker).",
        discussion: "Exits 0 when every invariant holds; else prints each violation and exits 1."
    )

    @Option(help: "The configuration file the output was made with.")
    var config: String = defaultConfigPath()

    @Option(help: "The configuration set used when INPUT has no X-SES-CONFIGURATION-SET header.")
    var configurationSet: String?

    @Flag(help: "The output was made with --rewrite-signed.")
    var rewriteSigned = false

    @Option(name: .customLong("ignore-header"), help: "A header field the transport added to OUTPUT (Received, Return-Path, ...); repeatable.")
    var ignoredHeaders: [String] = []

    @Flag(help: "INPUT and OUTPUT are bare HTML documents.")
    var html = false

    @Argument(help: "The message before filtering.")
    var input: String

    @Argument(help: "The message after filtering.")
    var output: String

    func run() throws {
        let configuration = try loadConfiguration(path: config, log: nil)
        let inputBytes: [UInt8]
        let outputBytes: [UInt8]
        do {
            inputBytes = try FileIO.readAll(path: input)
            outputBytes = try FileIO.readAll(path: output)
        } catch {
            throw fail("linktrack: \(error)", code: SysExit.ioError)
        }
        let checker: InvariantChecker
        do {
            checker = try InvariantChecker(configuration: configuration,
                                           options: FilterOptions(configurationSetName: configurationSet, rewriteSigned: rewriteSigned))
        } catch {
            throw fail("linktrack: configuration error in \(config): \(error)", code: SysExit.configuration)
        }
        let problems: [String]
        if html {
            guard let name = configurationSet ?? configuration.defaultConfigurationSet,
                  let set = try? configuration.configurationSet(named: name) else {
                throw fail("linktrack: no configuration set for --html", code: SysExit.usage)
            }
            problems = checker.checkHTML(input: inputBytes, output: outputBytes, set: set)
        } else {
            problems = checker.check(input: inputBytes, output: outputBytes,
                                     ignoringOutputHeaders: Set(ignoredHeaders.map { $0.lowercased() }))
        }
        if problems.isEmpty {
            print("ok: \(output) is a correct tracked version of \(input)")
            return
        }
        for problem in problems { print("\(output): \(problem)") }
        throw ExitCode(1)
    }
}
