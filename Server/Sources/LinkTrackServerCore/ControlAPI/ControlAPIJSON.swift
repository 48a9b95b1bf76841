import LinkTrack

/// JSON pieces the control API needs beyond the library's ``JSONValue``: compact output for
/// response bodies, member edits that keep order, and the opaque paging token.
enum ControlAPIJSON {
    /// One line of JSON (`{"message":"..."}`), as restJson1 services answer.
    static func compact(_ value: JSONValue) -> [UInt8] {
        var out = ""
        write(value, to: &out)
        return Array(out.utf8)
    }

    private static func write(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): out += JSONValue.quoted(s)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, member) in members.enumerated() {
                if i > 0 { out += "," }
                out += JSONValue.quoted(member.key)
                out += ":"
                write(member.value, to: &out)
            }
            out += "}"
        }
    }

    /// Parses a request body that must be a JSON object; an empty body is `{}` (botocore sends
    /// none when no member is set). Members whose value is `null` are dropped, as absent, and
    /// only `allowed` keys are accepted.
    static func requestObject(_ body: [UInt8], operation: String, allowed: Set<String>)
        throws(ControlAPIError) -> [(key: String, value: JSONValue)]
    {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return [] }
        let value: JSONValue
        do {
            value = try JSONValue.parse(body)
        } catch {
            throw .badRequest("The \(operation) request body is not valid JSON: \(error.description).")
        }
        guard case .object(let members) = value else {
            throw .badRequest("The \(operation) request body must be a JSON object.")
        }
        var seen: Set<String> = []
        var kept: [(key: String, value: JSONValue)] = []
        for member in members {
            guard seen.insert(member.key).inserted else {
                throw .badRequest("Duplicate key \(JSONValue.quoted(member.key)) in the \(operation) request.")
            }
            guard allowed.contains(member.key) else {
                throw .badRequest("Unknown key \(JSONValue.quoted(member.key)) in the \(operation) request.")
            }
            if member.value != .null { kept.append(member) }
        }
        return kept
    }

    /// The string member `key`, or nil when absent.
    static func string(_ members: [(key: String, value: JSONValue)], _ key: String) throws(ControlAPIError) -> String? {
        guard let value = members.first(where: { $0.key == key })?.value else { return nil }
        guard case .string(let s) = value else {
            throw .badRequest("Invalid type for \(key): expected string, found \(typeName(value)).")
        }
        return s
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    // MARK: - Paging tokens

    /// base64url without padding (RFC 4648 §5) of `text`'s UTF-8.
    static func base64URL(_ text: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            var chunk = UInt32(bytes[i]) << 16
            if n > 1 { chunk |= UInt32(bytes[i + 1]) << 8 }
            if n > 2 { chunk |= UInt32(bytes[i + 2]) }
            for j in 0...n { out.append(alphabet[Int((chunk >> (18 - 6 * UInt32(j))) & 0x3F)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The text a ``base64URL(_:)`` token holds, or nil when it is not such a token of valid UTF-8.
    static func fromBase64URL(_ token: String) -> String? {
        var bits: UInt32 = 0
        var count = 0
        var out: [UInt8] = []
        for c in token.utf8 {
            let v: UInt8
            switch c {
            case 0x41...0x5A: v = c - 0x41
            case 0x61...0x7A: v = c - 0x61 + 26
            case 0x30...0x39: v = c - 0x30 + 52
            case UInt8(ascii: "-"): v = 62
            case UInt8(ascii: "_"): v = 63
            default: return nil
            }
            bits = (bits << 6 | UInt32(v)) & 0xFFFF
            count += 6
            if count >= 8 {
                count -= 8
                out.append(UInt8((bits >> UInt32(count)) & 0xFF))
            }
        }
        guard count < 6, bits & ((1 << UInt32(count)) - 1) == 0, !out.isEmpty else { return nil }
        return String(validating: out, as: UTF8.self)
    }
}

extension JSONValue {
    /// The members of an object (empty for any other value).
    var objectMembers: [(key: String, value: JSONValue)] {
        if case .object(let members) = self { return members }
        return []
    }
}

extension Array where Element == (key: String, value: JSONValue) {
    /// Sets `key` to `value` in place, or inserts it after the member named `after` (at the end
    /// when there is none).
    mutating func set(_ key: String, _ value: JSONValue, after: String? = nil) {
        if let i = firstIndex(where: { $0.key == key }) {
            self[i].value = value
        } else if let after, let i = firstIndex(where: { $0.key == after }) {
            insert((key, value), at: i + 1)
        } else {
            append((key, value))
        }
    }

    subscript(member key: String) -> JSONValue? {
        first { $0.key == key }?.value
    }
}
