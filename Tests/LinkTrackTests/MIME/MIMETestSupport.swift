@testable import LinkTrack

extension Array where Element == UInt8 {
    /// The bytes of an ASCII/UTF-8 string literal.
    init(mime text: String) {
        self = Array(text.utf8)
    }
}

/// The physical lines of `bytes`, without their CRLF or LF endings.
func mimePhysicalLines(_ bytes: some Collection<UInt8>) -> [[UInt8]] {
    var lines: [[UInt8]] = []
    var current: [UInt8] = []
    for byte in bytes {
        if byte == 0x0A {
            if current.last == 0x0D { current.removeLast() }
            lines.append(current)
            current = []
        } else {
            current.append(byte)
        }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
}

/// Readable bytes for failure messages.
func mimeDebug(_ bytes: [UInt8]) -> String {
    var text = ""
    for byte in bytes {
        switch byte {
        case 0x0D: text += "\\r"
        case 0x0A: text += "\\n"
        case 0x09: text += "\\t"
        case 0x20...0x7E: text.unicodeScalars.append(Unicode.Scalar(byte))
        default: text += "\\x" + String(byte, radix: 16)
        }
    }
    return text
}
