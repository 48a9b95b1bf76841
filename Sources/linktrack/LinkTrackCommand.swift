import ArgumentParser
import LinkTrack

/// `linktrack`: the only place that exits. Library errors become messages and sysexits here:
/// 64 usage, 65 data error (message rejected), 70 internal, 74 I/O, 75 temporary failure,
/// 78 configuration error.
@main
struct LinkTrackCommand: ParsableCommand {
    /// `linktrack filter` with plain arguments skips ArgumentParser (see ``FilterRun/fastPath(_:)``);
    /// everything else goes through it.
    static func main() {
        if let run = FilterRun.fastPath(Array(CommandLine.arguments.dropFirst())) {
            do {
                try run.run()
            } catch {
                FilterCommand.exit(withError: error)
            }
            return
        }
        Self.main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "linktrack",
        abstract: "Open- and click-tracking rewriter for email, configured like Amazon SES.",
        subcommands: [
            FilterCommand.self, DecodeCommand.self, KeygenCommand.self,
            PutTrackingOptionsCommand.self, CorpusCommand.self, CheckCommand.self,
        ]
    )
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
