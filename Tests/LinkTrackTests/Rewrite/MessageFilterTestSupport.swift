@testable import LinkTrack

/// A configuration and helpers to build the exact bytes a filtered message must have.
enum FilterFixture {
    static let secret: [UInt8] = Array("message-filter-test-key-00000001".utf8)
    static let domain = "links.example.com"

    static let configuration: Configuration = {
        let key = try! SigningKey(keyId: "t1", secret: secret)
        return Configuration(
            configurationSets: [
                ConfigurationSet(name: "marketing", customRedirectDomain: domain, httpsPolicy: .require),
                ConfigurationSet(name: "optional", customRedirectDomain: "track.example.net", httpsPolicy: .optional),
                ConfigurationSet(name: "nodomain", customRedirectDomain: nil),
            ],
            defaultConfigurationSet: "marketing", signingKeys: [key])
    }()

    static let signer = try! LinkSigner(keys: configuration.signingKeys)

    static func filter(_ options: FilterOptions = FilterOptions()) -> MessageFilter {
        try! MessageFilter(configuration: configuration, options: options)
    }

    /// The escaped href value of the tracking link for `destination`.
    static func click(_ destination: String, index: Int, messageId: String, set: String = "marketing",
                      scheme: HttpsPolicy.Scheme = .https, domain: String = domain, messageTags: [Tag] = []) -> String {
        let url = signer.clickURL(ClickToken(destination: destination, messageId: messageId, configurationSet: set,
                                             linkIndex: index, messageTags: messageTags), scheme: scheme, domain: domain)!
        return HTMLEscaping.attributeValue(url)
    }

    static func pixel(messageId: String, set: String = "marketing", scheme: HttpsPolicy.Scheme = .https,
                      domain: String = domain, messageTags: [Tag] = []) -> String {
        let url = signer.openURL(OpenToken(messageId: messageId, configurationSet: set, messageTags: messageTags),
                                 scheme: scheme, domain: domain)
        return String(decoding: PixelTag.markup(url: url), as: UTF8.self)
    }

    /// Joins lines with `ending` (each line followed by it).
    static func lines(_ lines: [String], ending: String) -> [UInt8] {
        Array(lines.map { $0 + ending }.joined().utf8)
    }

    static func run(_ message: [UInt8], _ options: FilterOptions = FilterOptions()) throws -> (output: [UInt8], report: FilterReport) {
        try filter(options).filter(message)
    }
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}
