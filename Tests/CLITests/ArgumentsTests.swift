import Testing
@testable import linktrack

/// Every way the command line's parser refuses arguments, one row per quirk, on the commands'
/// own specs: the first line of the usage error (the usage itself follows it).
@Suite struct ArgumentsTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var command: String
        var arguments: [String]
        var error: String
        var testDescription: String { name }

        init(_ name: String, _ command: String, _ arguments: [String], _ error: String) {
            self.name = name
            self.command = command
            self.arguments = arguments
            self.error = error
        }
    }

    static let rows: [Row] = [
        Row("single-dash option", "filter", ["-x"], "Unknown option '-x'"),
        Row("short option spelling of a long one", "filter", ["-config", "c.json"], "Unknown option '-config'"),
        Row("unknown long option", "filter", ["--nope"], "Unknown option '--nope'"),
        Row("unknown option with a value after =", "filter", ["--nope=1"], "Unknown option '--nope'"),
        Row("value given to a flag", "filter", ["--rewrite-signed=yes"], "The flag '--rewrite-signed' takes no value"),
        Row("option at the end without its value", "filter", ["--config"], "Missing value for '--config <config>'"),
        Row("value that starts with a dash, without =", "filter", ["--message-id", "-m@example.com"],
            "Missing value for '--message-id <message-id>'"),
        Row("option followed by another option", "filter", ["--config", "--explain"], "Missing value for '--config <config>'"),
        Row("value outside the choices", "filter", ["--input", "xml"],
            "The value 'xml' is invalid for '--input <input>': use one of eml, html"),
        Row("choice in the wrong case", "filter", ["--unknown-configuration-set=PASS"],
            "The value 'PASS' is invalid for '--unknown-configuration-set <unknown-configuration-set>': use one of reject, pass"),
        Row("positional argument to a command without any", "filter", ["message.eml"], "Unexpected argument 'message.eml'"),
        Row("positional argument after --", "filter", ["--", "--explain"], "Unexpected argument '--explain'"),
        Row("missing first positional argument", "check", [], "Missing expected argument '<input>'"),
        Row("missing second positional argument", "check", ["in.eml"], "Missing expected argument '<output>'"),
        Row("one positional argument too many", "check", ["in.eml", "out.eml", "more.eml"], "Unexpected argument 'more.eml'"),
        Row("missing required option", "put-configuration-set-tracking-options", ["--config", "c.json"],
            "Missing expected argument '--configuration-set-name <configuration-set-name>'"),
    ]

    static func spec(_ name: String) throws -> CommandSpec {
        try #require(LinkTrackCommand.commands.first { $0.spec.name == name }).spec
    }

    @Test(arguments: rows)
    func usageError(_ row: Row) throws {
        let spec = try Self.spec(row.command)
        do {
            _ = try spec.parse(row.arguments[...])
            Issue.record("\(row.arguments) parsed")
        } catch {
            guard case .usageError(let text) = error else {
                Issue.record("\(row.arguments): \(error), not a usage error")
                return
            }
            #expect(text.hasPrefix("Error: \(row.error).\nUsage: \(spec.usage)\n"), "\(text)")
        }
    }

    /// `-h` and `--help` anywhere among the options ask for the help, before any error after them.
    @Test(arguments: [["-h"], ["--help"], ["--config", "c.json", "--help"], ["--help", "--nope"]])
    func helpIsAskedFor(_ arguments: [String]) throws {
        let spec = try Self.spec("filter")
        do {
            _ = try spec.parse(arguments[...])
        } catch {
            guard case .help(let text) = error else {
                Issue.record("\(arguments): \(error)")
                return
            }
            #expect(text == spec.help())
        }
    }
}
