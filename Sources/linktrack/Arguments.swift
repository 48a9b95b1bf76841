/// The command line, read without a framework.
///
/// `linktrack filter` starts once per message in an MTA pipe, so its start-up is on every message's
/// path. swift-argument-parser brings FoundationEssentials, the regex modules and libdispatch into
/// the static binary, and with them relocations to apply at every start (the figures are in
/// Benchmarks/README.md); the few options the commands take are read here instead.
///
/// The rules, as ArgumentParser applied them to these commands:
/// - options are long only: `--name value` or `--name=value`; a value given as the next argument
///   may not start with `-` (write `--name=-value`);
/// - flags take no value; an option may be repeated only when its spec says so, else the last
///   value wins;
/// - `--` ends the options: what follows is positional;
/// - `-h`, `--help` or `help` (as the command) print the help on stdout and exit 0;
/// - anything else wrong prints `Error: ...` and the usage on stderr and exits 64 (EX_USAGE).
struct CommandSpec {
    var name: String
    var abstract: String
    var discussion: String?
    var options: [OptionSpec] = []
    var arguments: [ArgumentSpec] = []
}

/// A long option (`--name value`) or, when ``valueName`` is nil, a flag (`--name`).
struct OptionSpec {
    var name: String
    var valueName: String?
    var help: String
    var choices: [String]? = nil
    var defaultValue: String? = nil
    var repeatable = false
    var required = false

    static func flag(_ name: String, help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: nil, help: help)
    }

    static func option(_ name: String, help: String, choices: [String]? = nil, default defaultValue: String? = nil,
                       repeatable: Bool = false, required: Bool = false) -> OptionSpec {
        OptionSpec(name: name, valueName: name, help: help, choices: choices, defaultValue: defaultValue,
                   repeatable: repeatable, required: required)
    }
}

/// A positional argument; a variadic one takes all that remain (it must come last).
struct ArgumentSpec {
    var name: String
    var help: String
    var variadic = false
}

/// What the command line said, by option name.
struct ParsedArguments {
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    var positional: [String: [String]] = [:]

    func value(_ name: String) -> String? { values[name]?.last }
    func values(_ name: String) -> [String] { values[name] ?? [] }
    func flag(_ name: String) -> Bool { flags.contains(name) }
    func argument(_ name: String) -> String { positional[name]?.first ?? "" }
    func arguments(_ name: String) -> [String] { positional[name] ?? [] }
}

/// Why the command line was not run: help was asked for, or it is wrong.
enum ArgumentsOutcome: Error {
    case help(String)
    case usageError(String)
}

extension CommandSpec {
    /// Reads `arguments` (those after the command's name).
    func parse(_ arguments: ArraySlice<String>) throws(ArgumentsOutcome) -> ParsedArguments {
        var parsed = ParsedArguments()
        var positional: [String] = []
        var i = arguments.startIndex
        var optionsEnded = false
        while i < arguments.endIndex {
            let argument = arguments[i]
            i += 1
            if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
                positional.append(argument)
                continue
            }
            if argument == "--" { optionsEnded = true; continue }
            if argument == "-h" || argument == "--help" { throw .help(help()) }
            guard argument.hasPrefix("--") else { throw usageError("Unknown option '\(argument)'") }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = options.first(where: { $0.name == name }) else {
                throw usageError("Unknown option '--\(name)'")
            }
            guard option.valueName != nil else {
                if inlineValue != nil { throw usageError("The flag '--\(name)' takes no value") }
                parsed.flags.insert(name)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else if i < arguments.endIndex, !arguments[i].hasPrefix("-") {
                value = arguments[i]
                i += 1
            } else {
                throw usageError("Missing value for '\(option.synopsis)'")
            }
            if let choices = option.choices, !choices.contains(value) {
                throw usageError("The value '\(value)' is invalid for '\(option.synopsis)': use one of \(choices.joined(separator: ", "))")
            }
            if option.repeatable {
                parsed.values[name, default: []].append(value)
            } else {
                parsed.values[name] = [value]
            }
        }
        for option in options where option.required && parsed.values[option.name] == nil {
            throw usageError("Missing expected argument '\(option.synopsis)'")
        }
        var next = positional[...]
        for spec in self.arguments {
            if spec.variadic {
                parsed.positional[spec.name] = Array(next)
                next = []
            } else {
                guard let value = next.first else { throw usageError("Missing expected argument '<\(spec.name)>'") }
                parsed.positional[spec.name] = [value]
                next = next.dropFirst()
            }
        }
        if let extra = next.first { throw usageError("Unexpected argument '\(extra)'") }
        return parsed
    }

    /// `Usage: linktrack NAME [--option <option>] ... <argument>`.
    var usage: String {
        var parts = ["linktrack", name]
        for option in options {
            let synopsis = option.synopsis + (option.repeatable ? " ..." : "")
            parts.append(option.required ? synopsis : "[\(synopsis)]")
        }
        for argument in arguments {
            parts.append(argument.variadic ? "[<\(argument.name)> ...]" : "<\(argument.name)>")
        }
        return parts.joined(separator: " ")
    }

    func usageError(_ message: String) -> ArgumentsOutcome {
        .usageError("Error: \(message).\nUsage: \(usage)\n  See 'linktrack \(name) --help' for more information.\n")
    }

    /// The help text: what the command does, its usage, its arguments and options.
    func help() -> String {
        var out = "OVERVIEW: " + Self.wrap(abstract, indent: "", width: 70) + "\n"
        if let discussion { out += "\n" + Self.wrap(discussion, indent: "") + "\n" }
        out += "\nUSAGE: " + Self.wrap(usage, indent: "       ", width: 73) + "\n"
        if !arguments.isEmpty {
            out += "\nARGUMENTS:\n"
            for argument in arguments {
                out += Self.entry("<\(argument.name)>" + (argument.variadic ? " ..." : ""), argument.help)
            }
        }
        out += "\nOPTIONS:\n"
        for option in options {
            var text = option.help
            if let choices = option.choices { text += " (values: \(choices.joined(separator: ", "))" + (option.defaultValue.map { "; default: \($0)" } ?? "") + ")" }
            else if let value = option.defaultValue { text += " (default: \(value))" }
            out += Self.entry(option.synopsis, text)
        }
        out += Self.entry("-h, --help", "Show help information.")
        return out
    }

    static func entry(_ name: String, _ text: String) -> String {
        let column = 26
        let lead = "  " + name
        if lead.count + 2 <= column {
            return lead + String(repeating: " ", count: column - lead.count) + Self.wrap(text, indent: String(repeating: " ", count: column), width: 80 - column) + "\n"
        }
        return lead + "\n" + String(repeating: " ", count: column) + Self.wrap(text, indent: String(repeating: " ", count: column), width: 80 - column) + "\n"
    }

    /// Wraps `text` at `width` columns; continuation lines start with `indent`.
    static func wrap(_ text: String, indent: String, width: Int = 80) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if !line.isEmpty, line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines.joined(separator: "\n" + indent)
    }
}

extension OptionSpec {
    /// `--name <name>` or `--name`.
    var synopsis: String { valueName.map { "--\(name) <\($0)>" } ?? "--\(name)" }
}
