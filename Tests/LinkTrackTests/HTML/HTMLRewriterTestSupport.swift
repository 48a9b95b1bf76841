@testable import LinkTrack

/// Shared fixtures for the HTMLRewriter suites: one signer, one redirect domain, one message, and
/// helpers that build expected output bytes from the same signer the rewriter uses.
enum HTMLRewriterFixture {
    static let domain = "track.example.com"
    static let setName = "newsletters"
    static let messageId = "0100018f-msg-1@example.com"
    static let messageTags = [Tag(name: "env", value: "test")]

    static let signer: LinkSigner = {
        do {
            let key = try SigningKey(keyId: "k1", secret: Array(0..<32))
            return try LinkSigner(keys: [key])
        } catch {
            fatalError("fixture key rejected: \(error)")
        }
    }()

    static let rewriter = HTMLRewriter(signer: signer)

    static func set(policy: HttpsPolicy = .optional, opens: Bool = true, clicks: Bool = true) -> ConfigurationSet {
        ConfigurationSet(name: setName, customRedirectDomain: domain, httpsPolicy: policy,
                         tracksOpens: opens, tracksClicks: clicks)
    }

    static func context(policy: HttpsPolicy = .optional, opens: Bool = true, clicks: Bool = true) -> TrackingContext {
        TrackingContext(configurationSet: set(policy: policy, opens: opens, clicks: clicks),
                        messageId: messageId, messageTags: messageTags)
    }

    static func rewrite(_ document: [UInt8], charset: String? = "utf-8", context: TrackingContext = context())
        -> HTMLRewriteResult {
        rewriter.rewrite(document, charset: charset, context: context)
    }

    /// The raw (unescaped) click URL for `destination` at `index`.
    static func clickURL(_ destination: String, index: Int, scheme: HttpsPolicy.Scheme, tags: [Tag] = []) -> String {
        let token = ClickToken(destination: destination, messageId: messageId, configurationSet: setName,
                               linkIndex: index, linkTags: tags, messageTags: messageTags)
        guard let url = signer.clickURL(token, scheme: scheme, domain: domain) else {
            fatalError("fixture link too long: \(destination)")
        }
        return url
    }

    /// The href value bytes (with `&` written as `&amp;`) that replace a tracked link.
    static func href(_ destination: String, index: Int, scheme: HttpsPolicy.Scheme, tags: [Tag] = []) -> [UInt8] {
        Array(HTMLEscaping.attributeValue(clickURL(destination, index: index, scheme: scheme, tags: tags)).utf8)
    }

    static func openURL(scheme: HttpsPolicy.Scheme) -> String {
        signer.openURL(OpenToken(messageId: messageId, configurationSet: setName, messageTags: messageTags),
                       scheme: scheme, domain: domain)
    }

    /// The pixel markup.
    static func pixel(scheme: HttpsPolicy.Scheme = .http) -> [UInt8] {
        PixelTag.markup(url: openURL(scheme: scheme))
    }

    /// Expands a template into exact expected bytes. Markers (`⟦` ... `⟧`, space-separated fields):
    /// - `⟦p⟧` / `⟦ps⟧`: the pixel with an http / https open URL;
    /// - `⟦c INDEX DEST⟧`: the escaped click URL for DEST (the decoded destination) at INDEX, with
    ///   DEST's own scheme; optional fields `scheme=https`/`scheme=http` and `tags=k:v;k2:v2`.
    static func expand(_ template: String) -> [UInt8] {
        var out: [UInt8] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "⟦") {
            out.append(contentsOf: rest[rest.startIndex..<open].utf8)
            guard let close = rest[open...].firstIndex(of: "⟧") else { fatalError("unclosed marker in \(template)") }
            let fields = rest[rest.index(after: open)..<close].split(separator: " ").map(String.init)
            out.append(contentsOf: expandMarker(fields))
            rest = rest[rest.index(after: close)...]
        }
        out.append(contentsOf: rest.utf8)
        return out
    }

    static func expandMarker(_ fields: [String]) -> [UInt8] {
        switch fields.first {
        case "p": return pixel(scheme: .http)
        case "ps": return pixel(scheme: .https)
        case "c":
            guard fields.count >= 3, let index = Int(fields[1]) else { fatalError("bad marker \(fields)") }
            let destination = fields[2]
            var scheme: HttpsPolicy.Scheme = destination.lowercased().hasPrefix("https:") ? .https : .http
            var tags: [Tag] = []
            for field in fields.dropFirst(3) {
                if field == "scheme=https" { scheme = .https }
                else if field == "scheme=http" { scheme = .http }
                else if field.hasPrefix("tags=") {
                    tags = field.dropFirst(5).split(separator: ";").map {
                        let kv = $0.split(separator: ":", maxSplits: 1)
                        return Tag(name: String(kv[0]), value: String(kv[1]))
                    }
                } else { fatalError("bad marker field \(field)") }
            }
            return href(destination, index: index, scheme: scheme, tags: tags)
        default:
            fatalError("bad marker \(fields)")
        }
    }
}

extension Array where Element == UInt8 {
    /// The UTF-8 bytes of a string literal.
    init(html text: String) {
        self = Array(text.utf8)
    }
}

/// Readable bytes for failure messages.
func htmlDebug(_ bytes: some Collection<UInt8>) -> String {
    var text = ""
    for byte in bytes {
        switch byte {
        case 0x0D: text += "\\r"
        case 0x0A: text += "\\n"
        case 0x09: text += "\\t"
        case 0x20...0x7E: text.unicodeScalars.append(Unicode.Scalar(byte))
        default: text += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }
    }
    return text
}

/// Checks that `output` is `input` with `edits` applied and nothing else: outside the edited ranges
/// the bytes are the input's, each replacement stands where its edit says, and putting the original
/// bytes back in place of each replacement gives back the input. Returns a description of the first
/// mismatch, or nil.
func htmlUndoMismatch(input: [UInt8], output: [UInt8], edits: EditList) -> String? {
    var restored: [UInt8] = []
    var inCursor = 0
    var outCursor = 0
    for edit in edits.edits {
        guard edit.range.lowerBound >= inCursor, edit.range.upperBound <= input.count else {
            return "edit \(edit.range) out of order or outside the input"
        }
        let untouched = input[inCursor..<edit.range.lowerBound]
        guard outCursor + untouched.count <= output.count,
              output[outCursor..<(outCursor + untouched.count)].elementsEqual(untouched) else {
            return "bytes before edit \(edit.range) differ from the input"
        }
        restored.append(contentsOf: untouched)
        outCursor += untouched.count
        guard outCursor + edit.replacement.count <= output.count,
              output[outCursor..<(outCursor + edit.replacement.count)].elementsEqual(edit.replacement) else {
            return "replacement of edit \(edit.range) not found in the output at \(outCursor)"
        }
        outCursor += edit.replacement.count
        restored.append(contentsOf: input[edit.range])
        inCursor = edit.range.upperBound
    }
    let tail = input[inCursor...]
    guard output.count - outCursor == tail.count, output[outCursor...].elementsEqual(tail) else {
        return "bytes after the last edit differ from the input"
    }
    restored.append(contentsOf: tail)
    return restored == input ? nil : "undoing the edits does not give back the input"
}

/// Bytes that compare exactly but print readably in failure messages.
struct HTMLBytes: Equatable, CustomStringConvertible {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var description: String { "\(bytes.count) bytes: " + htmlDebug(bytes.prefix(4000)) }
}
