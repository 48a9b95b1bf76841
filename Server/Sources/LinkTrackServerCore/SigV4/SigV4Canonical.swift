import Crypto

/// The pieces of AWS's canonical request, built as AWS builds them for every service but S3.
///
/// Reference: "Create a canonical request for Signature Version 4" in the AWS General Reference
/// and botocore's `SigV4Auth.canonical_request`, the client our callers use most.
public enum SigV4Canonical {
    /// The canonical URI: the raw path with its dot segments removed and repeated slashes merged
    /// (RFC 3986 §5.2.4, as AWS does for non-S3 services), then each segment percent-encoded
    /// once more. The path arrives already encoded, so `x%2Fy` becomes `x%252Fy`: non-S3
    /// services sign the path encoded twice. An empty path is `/`.
    public static func uri(rawPath: String) -> String {
        let normalized = removeDotSegments(rawPath)
        var out: [UInt8] = []
        out.reserveCapacity(normalized.utf8.count + 8)
        for byte in normalized.utf8 {
            if byte == UInt8(ascii: "/") { out.append(byte) } else { appendEncoded(byte, to: &out) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3986 §5.2.4 on the raw path, plus AWS's merging of repeated slashes; a trailing slash
    /// is kept. Segments are compared as written (`%2E%2E` is not `..`), as botocore does.
    static func removeDotSegments(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                if !output.isEmpty { output.removeLast() }
                continue
            }
            output.append(segment)
        }
        let first = path.hasPrefix("/") ? "/" : ""
        let last = path.hasSuffix("/") && !output.isEmpty ? "/" : ""
        let joined = first + output.joined(separator: "/") + last
        return joined.isEmpty ? "/" : joined
    }

    /// The canonical query string: each `name=value` pair percent-decoded, then encoded again with
    /// only RFC 3986's unreserved characters left as they are, sorted by encoded name and then
    /// encoded value (byte order), joined with `&`. A name without `=` has an empty value. `+`
    /// is a plus sign, not a space (clients encode a space as `%20`).
    public static func queryString(rawQuery: String) -> String {
        guard !rawQuery.isEmpty else { return "" }
        var pairs: [(name: [UInt8], value: [UInt8])] = []
        for piece in rawQuery.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let name: ArraySlice<UInt8>
            let value: ArraySlice<UInt8>
            let bytes = Array(piece)
            if let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                name = bytes[..<equals]
                value = bytes[(equals + 1)...]
            } else {
                name = bytes[...]
                value = []
            }
            pairs.append((encode(percentDecoded(name)), encode(percentDecoded(value))))
        }
        pairs.sort { a, b in
            if a.name != b.name { return a.name.lexicographicallyPrecedes(b.name) }
            return a.value.lexicographicallyPrecedes(b.value)
        }
        var out: [UInt8] = []
        for (i, pair) in pairs.enumerated() {
            if i > 0 { out.append(UInt8(ascii: "&")) }
            out += pair.name
            out.append(UInt8(ascii: "="))
            out += pair.value
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The canonical headers block (each `name:value\n`) for the names in `signedHeaders`, in that
    /// order. A header sent more than once has its values joined with `,` in the order received;
    /// each value loses its leading and trailing whitespace and each inner run of whitespace
    /// becomes one space.
    public static func headers(_ headers: [(name: String, value: String)], signedHeaders: [String]) -> String {
        var out = ""
        for name in signedHeaders {
            let values = headers.filter { asciiLowercased($0.name) == name }.map { trimAll($0.value) }
            out += name + ":" + values.joined(separator: ",") + "\n"
        }
        return out
    }

    /// The canonical request: method, URI, query, headers, signed header names, payload hash.
    public static func request(method: String, rawPath: String, rawQuery: String,
                               headers: [(name: String, value: String)], signedHeaders: [String],
                               payloadHash: String) -> String {
        [
            method,
            uri(rawPath: rawPath),
            queryString(rawQuery: rawQuery),
            self.headers(headers, signedHeaders: signedHeaders),
            signedHeaders.joined(separator: ";"),
            payloadHash,
        ].joined(separator: "\n")
    }

    /// The string to sign for `AWS4-HMAC-SHA256`.
    public static func stringToSign(timestamp: String, scope: String, canonicalRequest: String) -> String {
        "AWS4-HMAC-SHA256\n\(timestamp)\n\(scope)\n\(hexSHA256(Array(canonicalRequest.utf8)))"
    }

    /// The signing key: HMAC-SHA256 chained over date, region, service and `aws4_request`,
    /// starting from `AWS4` + the secret access key.
    public static func signingKey(secret: [UInt8], date: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4".utf8) + secret)
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// The signature of `stringToSign` under `signingKey`, as lowercase hex (what a signer sends).
    public static func signature(signingKey: SymmetricKey, stringToSign: String) -> String {
        hex(Array(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey)))
    }

    /// The lowercase hex SHA-256 of `bytes`.
    public static func hexSHA256(_ bytes: [UInt8]) -> String {
        hex(Array(SHA256.hash(data: bytes)))
    }

    /// Lowercase hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of a hex string (either case), or nil when it is not hex of an even length.
    public static func bytes(hex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = 0
        while i < digits.count {
            guard let hi = hexValue(digits[i]), let lo = hexValue(digits[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    // MARK: - Encoding

    static func isUnreserved(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
            || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
    }

    static func appendEncoded(_ b: UInt8, to out: inout [UInt8]) {
        if isUnreserved(b) {
            out.append(b)
        } else {
            let digits = Array("0123456789ABCDEF".utf8)
            out.append(UInt8(ascii: "%"))
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
    }

    /// Percent-encodes every byte outside RFC 3986's unreserved set, with uppercase hex.
    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for b in bytes { appendEncoded(b, to: &out) }
        return out
    }

    /// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is.
    static func percentDecoded(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "%"), bytes.endIndex - i >= 3,
               let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(b)
                i += 1
            }
        }
        return out
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    static func asciiLowercased(_ s: String) -> String {
        var bytes = Array(s.utf8)
        for i in bytes.indices where (0x41...0x5A).contains(bytes[i]) { bytes[i] |= 0x20 }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Trims leading and trailing whitespace and turns each inner run of whitespace into one
    /// space, as botocore's `' '.join(value.split())` does.
    static func trimAll(_ value: String) -> String {
        value.utf8.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0x0B || $0 == 0x0C })
            .map { String(decoding: $0, as: UTF8.self) }
            .joined(separator: " ")
    }
}
