import CSupport
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
        PutTrackingOptionsCommand.self, PutLinkTrackOptionsCommand.self, CorpusCommand.self, CheckCommand.self,
    ]}

    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let status = prepareProcess(filter: arguments.first == "filter") { exit(status) }
        let status = run(arguments)
        exit(status)
    }

    /// What every run does before anything else (issue 16, items 18 and 19); returns an exit status
    /// when the run must stop.
    ///
    /// - File descriptors 0, 1 and 2 are made open, before anything else opens a file: a closed
    ///   one would be the next file opened (with stdout closed, the `--log-file` received the whole
    ///   message and the run exited 0). A closed stdin or stderr is opened on /dev/null; a closed
    ///   stdout is an I/O error (74), reported in one line before the input is read.
    /// - `filter` installs the signal dispositions of an MTA filter
    ///   (``lt_install_filter_signal_dispositions``): SIGPIPE ignored (a closed pipe is EPIPE, 74),
    ///   and a crash, an allocation failure or SIGQUIT leaves one fixed line on stderr and exit 75
    ///   instead of the Swift runtime's crash report; fd 2 is /dev/null from then on and the
    ///   filter's own lines go to the stderr it was given, moved to a descriptor >= 3, so that the
    ///   runtime's "Fatal error: failed to allocate" line does not precede ours. The other
    ///   subcommands keep the runtime's backtracer, which helps whoever runs them by hand, and
    ///   ignore SIGPIPE too.
    static func prepareProcess(filter: Bool) -> Int32? {
        let closed = lt_open_standard_descriptors()
        if closed < 0 {
            StandardError.write("linktrack: cannot open /dev/null on a closed standard file descriptor: \(String(cString: strerror(errno)))\n")
            return SysExit.ioError
        }
        if filter {
            var diagnostics: Int32 = 2
            let failure = lt_install_filter_signal_dispositions(&diagnostics)
            StandardError.fileDescriptor = diagnostics
            if failure != 0 {
                StandardError.write("linktrack: cannot install the signal handlers: \(String(cString: strerror(failure)))\n")
                return SysExit.software
            }
        } else {
            signal(SIGPIPE, SIG_IGN)
        }
        if closed & 0b010 != 0 {
            StandardError.write("linktrack: standard output is closed; nothing was read or written\n")
            return SysExit.ioError
        }
        return nil
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

    /// The exit status for a library error of `kind`.
    static func code(for kind: FilterError.Kind) -> Int32 {
        switch kind {
        case .unknownConfigurationSet: dataError
        case .configuration: configuration
        case .io: ioError
        case .temporary: temporaryFailure
        }
    }
}

/// Prints one line on stderr and leaves with `code`.
func fail(_ message: String, code: Int32, log: Logger? = nil) -> ExitCode {
    log?.error(message)
    StandardError.write(message + "\n")
    return ExitCode(code)
}
