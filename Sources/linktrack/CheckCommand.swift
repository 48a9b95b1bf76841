import LinkTrack
import LinkTrackTooling

struct CheckCommand: Command {
    static let spec = CommandSpec(
        name: "check",
        abstract: "Verify that OUTPUT is a correct tracked version of INPUT (the invariant checker).",
        discussion: "Exits 0 when every invariant holds; else prints the violations and exits 1. In each part only the first violation is printed, and the number of later ones, which mostly follow from it (a link that does not verify shifts every later link's index); --all prints them all.",
        options: [
            .option("config", help: "The configuration file the output was made with (default: $LINKTRACK_CONFIG, else /etc/linktrack/config.json)."),
            .option("configuration-set", help: "The configuration set used when INPUT has no X-SES-CONFIGURATION-SET header."),
            .flag("rewrite-signed", help: "The output was made with --rewrite-signed."),
            .option("ignore-header", help: "A header field the transport added to OUTPUT (Received, Return-Path, ...); repeatable.",
                    repeatable: true),
            .flag("html", help: "INPUT and OUTPUT are bare HTML documents."),
            .flag("all", help: "Print every violation, not only the first of each part."),
        ],
        arguments: [
            ArgumentSpec(name: "input", help: "The message before filtering."),
            ArgumentSpec(name: "output", help: "The message after filtering."),
        ]
    )

    var config: String
    var configurationSet: String?
    var rewriteSigned: Bool
    var ignoredHeaders: [String]
    var html: Bool
    var all: Bool
    var input: String
    var output: String

    init(_ arguments: ParsedArguments) {
        config = arguments.value("config") ?? defaultConfigPath()
        configurationSet = arguments.value("configuration-set")
        rewriteSigned = arguments.flag("rewrite-signed")
        ignoredHeaders = arguments.values("ignore-header")
        html = arguments.flag("html")
        all = arguments.flag("all")
        input = arguments.argument("input")
        output = arguments.argument("output")
    }

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
        for line in all ? problems : Self.firstPerPart(problems) { print("\(output): \(line)") }
        throw ExitCode(1)
    }

    /// The first violation of each part, followed by the number of later ones in that part;
    /// violations outside any part (`a header field changed`, ...) all, in order. The checker names
    /// a part's violations `part <path>: ...`.
    static func firstPerPart(_ problems: [String]) -> [String] {
        var lines: [String] = []
        var later: [String: Int] = [:]
        var lineOfPart: [String: Int] = [:]
        for problem in problems {
            guard problem.hasPrefix("part "), let colon = problem.firstRange(of: ": ") else {
                lines.append(problem)
                continue
            }
            let part = String(problem[..<colon.lowerBound])
            if lineOfPart[part] == nil {
                lineOfPart[part] = lines.count
                lines.append(problem)
            } else {
                later[part, default: 0] += 1
            }
        }
        // Each count goes right after its part's first violation.
        for (part, index) in lineOfPart.sorted(by: { $0.value > $1.value }) {
            guard let count = later[part] else { continue }
            lines.insert("\(part): \(count) more violation\(count == 1 ? "" : "s") after this one, most likely its consequence\(count == 1 ? "" : "s") (--all lists them)", at: index + 1)
        }
        return lines
    }
}
