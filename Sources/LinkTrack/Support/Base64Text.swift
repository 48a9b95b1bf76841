/// Standard base64 (RFC 4648 §4) on one line, for secrets in configuration files.
public enum Base64Text {
    public static func encode(_ bytes: [UInt8]) -> String {
        String(decoding: Base64.encode(bytes, layout: Base64Layout(lineLength: Int.max, lineEnding: [], endsWithLineEnding: false)), as: UTF8.self)
    }
}
