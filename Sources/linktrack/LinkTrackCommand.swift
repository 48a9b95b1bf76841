import LinkTrack
#if canImport(Glibc)
import Glibc
#endif

/// `linktrack`: the only place that exits. Library errors become messages and sysexits here:
/// 64 usage, 65 data error (message rejected), 70 internal, 74 I/O, 75 temporary failure,
/// 78 configuration error.
@main
enum LinkTrackCommand {
    static let abstract = "Open- and click-tracking rewriter for email, configured like Amazon SES."

    static var commands: [any Command.Type] {[
        FilterCommand.self, DecodeCommand.self, KeygenCommand.self,
        PutTrackingOptionsCommand.self, CorpusCommand.self, CheckCommand.self,
    ]}

    static func main() {
        let status = run(Array(CommandLine.arguments.dropFirst()))
        exit(status)
    }

    /// Runs the command line `arguments` (without the program name); returns the exit status.
    static func run(_ arguments: [String]) -> Int32 {
        guard let name = arguments.first else {
            StandardError.write("Error: Missing expected argument '<subcommand>'.\n\(usage)\n")
            return SysExit.usage
        }
        if name == "-h" || name == "--help" || (name == "help" && arguments.count == 1) {
            print(help, terminator: "")
            return SysExit.ok
        }
        if name == "--version" {
            guard arguments.count == 1 else {
                StandardError.write("Error: Unexpected argument '\(arguments[1])' after '--version'.\n\(usage)\n")
                return SysExit.usage
            }
            print("linktrack \(LinkTrackVersion.current)")
            return SysExit.ok
        }
        // `help NAME` is NAME's help.
        let commandName = name == "help" ? arguments[1] : name
        guard let command = commands.first(where: { $0.spec.name == commandName }) else {
            StandardError.write("Error: Unknown subcommand '\(commandName)'.\n\(usage)\n")
            return SysExit.usage
        }
        if name == "help" {
            print(command.spec.help(), terminator: "")
            return SysExit.ok
        }
        do {
            let parsed = try command.spec.parse(arguments.dropFirst())
            try command.init(parsed).run()
            return SysExit.ok
        } catch let outcome as ArgumentsOutcome {
            switch outcome {
            case .help(let text):
                print(text, terminator: "")
                return SysExit.ok
            case .usageError(let text):
                StandardError.write(text)
                return SysExit.usage
            }
        } catch let exit as ExitCode {
            return exit.status
        } catch {
            StandardError.write("linktrack: internal error: \(error)\n")
            return SysExit.software
        }
    }

    static var usage: String {
        "Usage: linktrack <subcommand>\n  See 'linktrack --help' for more information."
    }

    static var help: String {
        var out = "OVERVIEW: \(abstract)\n\nUSAGE: linktrack <subcommand>\n\nOPTIONS:\n  --version               Show the version.\n  -h, --help              Show help information.\n\nSUBCOMMANDS:\n"
        for command in commands { out += CommandSpec.entry(command.spec.name, command.spec.abstract) }
        out += "\n  See 'linktrack help <subcommand>' for detailed help.\n"
        return out
    }
}

/// A subcommand: its spec, built from what the command line said, then run.
protocol Command {
    static var spec: CommandSpec { get }
    init(_ arguments: ParsedArguments) throws(ArgumentsOutcome)
    /// Runs the command; a failure has been reported already and is thrown as ``ExitCode``.
    func run() throws
}

/// The exit status a command leaves with, thrown once its message has been printed.
struct ExitCode: Error {
    var status: Int32
    init(_ status: Int32) { self.status = status }
}

/// sysexits(3) values.
enum SysExit {
    static let ok: Int32 = 0
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let software: Int32 = 70
    static let ioError: Int32 = 74
    static let temporaryFailure: Int32 = 75
    static let configuration: Int32 = 78
}

/// Prints one line on stderr and leaves with `code`.
func fail(_ message: String, code: Int32, log: Logger? = nil) -> ExitCode {
    log?.error(message)
    StandardError.write(message + "\n")
    return ExitCode(code)
}
