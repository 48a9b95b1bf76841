import LinkTrack

struct KeygenCommand: Command {
    static let spec = CommandSpec(
        name: "keygen",
        abstract: "Print a new random signing key entry, ready to paste into SigningKeys.",
        options: [.option("key-id", help: "The key id (default: k followed by random hex).")]
    )

    var keyId: String?

    init(_ arguments: ParsedArguments) {
        keyId = arguments.value("key-id")
    }

    func run() throws {
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let id = keyId ?? "k" + (0..<4).map { _ in String(UInt8.random(in: 0...255, using: &generator), radix: 16) }.joined()
        do {
            _ = try SigningKey(keyId: id, secret: secret)
        } catch {
            throw fail("linktrack: \(error)", code: SysExit.usage)
        }
        print("{ \"KeyId\": \(JSONValue.quoted(id)), \"Secret\": \(JSONValue.quoted(Base64Text.encode(secret))) }")
    }
}
