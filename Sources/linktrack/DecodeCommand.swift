import LinkTrack

struct DecodeCommand: Command {
    static let spec = CommandSpec(
        name: "decode",
        abstract: "Verify and decode tracking URLs; prints one JSON object per URL per line.",
        discussion: "Reads URLs from the arguments, or one per line from standard input when none are given. A URL copied from HTML source, with its character references still in it (&amp; between the fields), is read as a browser reads it. An error line names the URL it is about. Exits 65 if any URL failed.",
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
            switch Self.decode(url, signer: signer) {
            case .success(let token):
                out += token.jsonLine + "\n"
            case .failure(let failure):
                failed = true
                out += "{\"error\":\(JSONValue.quoted(failure.message)),\"input\":\(JSONValue.quoted(url))}\n"
            }
        }
        print(out, terminator: "")
        if failed { throw ExitCode(SysExit.dataError) }
    }
}

extension DecodeCommand {
    /// Why a URL did not decode: the sentence its error line gives.
    struct Failure: Error { var message: String }

    /// Decodes `url` as given; when that fails and `url` holds HTML character references (copied
    /// from a message's HTML source, `&amp;` between the fields), decodes it as the browser reads it.
    /// The error then says that the URL was read that way.
    static func decode(_ url: String, signer: LinkSigner) -> Result<TrackingToken, Failure> {
        let raw: TokenError
        do {
            return .success(try signer.decode(url))
        } catch {
            raw = error
        }
        let unescaped = LinkSigner.unescapedHTMLAttributeValue(url)
        guard unescaped != url else { return .failure(Failure(message: raw.description)) }
        do {
            return .success(try signer.decode(unescaped))
        } catch {
            return .failure(Failure(message: "\(error.description) (read as HTML-escaped: \(unescaped))"))
        }
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
