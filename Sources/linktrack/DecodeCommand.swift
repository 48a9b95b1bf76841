import LinkTrack

struct DecodeCommand: Command {
    static let spec = CommandSpec(
        name: "decode",
        abstract: "Verify and decode tracking URLs; prints one JSON object per URL per line.",
        discussion: "Reads URLs from the arguments, or one per line from standard input when none are given. Exits 65 if any URL failed.",
        options: [
            .option("config", help: "The configuration file (its SigningKeys verify) (default: $LINKTRACK_CONFIG, else /etc/linktrack/config.json)."),
        ],
        arguments: [ArgumentSpec(name: "urls", help: "Tracking URLs.", variadic: true)]
    )

    var config: String
    var urls: [String]

    init(_ arguments: ParsedArguments) {
        config = arguments.value("config") ?? defaultConfigPath()
        urls = arguments.arguments("urls")
    }

    func run() throws {
        let configuration = try loadConfiguration(path: config, log: nil)
        let signer: LinkSigner
        do {
            signer = try LinkSigner(keys: configuration.signingKeys)
        } catch {
            throw fail("linktrack: configuration error in \(config): \(error)", code: SysExit.configuration)
        }
        var inputs = urls
        if inputs.isEmpty {
            while let line = readLine() {
                let trimmed = line.trimmingWhitespace()
                if !trimmed.isEmpty { inputs.append(trimmed) }
            }
        }
        var failed = false
        var out = ""
        for url in inputs {
            do {
                out += try signer.decode(url).jsonLine + "\n"
            } catch {
                failed = true
                out += "{\"error\":\(JSONValue.quoted(error.description))}\n"
            }
        }
        print(out, terminator: "")
        if failed { throw ExitCode(SysExit.dataError) }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let f = view.first, f.isWhitespace { view.removeFirst() }
        while let l = view.last, l.isWhitespace { view.removeLast() }
        return String(view)
    }
}
