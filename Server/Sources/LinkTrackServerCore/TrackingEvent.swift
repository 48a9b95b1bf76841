import Foundation
import LinkTrack

/// Open or click.
public enum EventKind: String, Sendable, Hashable, CaseIterable {
    case open = "Open"
    case click = "Click"

    /// The `MatchingEventTypes` value that selects this kind.
    public var matchingEventType: String { self == .open ? "OPEN" : "CLICK" }
}

/// Why an open or click is thought to come from a machine rather than a reader (see ``MachineRules``).
public enum MachineReason: String, Sendable, Hashable, CaseIterable {
    /// Apple Mail Privacy Protection fetches every image when mail arrives.
    case appleMailPrivacyProtection = "apple-mail-privacy-protection"
    /// Gmail's image proxy (`GoogleImageProxy`) fetches images for its readers.
    case googleImageProxy = "google-image-proxy"
    /// Yahoo Mail's image proxy.
    case yahooImageProxy = "yahoo-image-proxy"
    /// A user agent of a known link scanner, security gateway, crawler or HTTP library.
    case linkScanner = "link-scanner"
    /// No `User-Agent` at all: browsers always send one.
    case missingUserAgent = "missing-user-agent"
    /// Several links of one message clicked within ``MachineRules/burstWindow``: a scanner following
    /// every link, not a reader.
    case clickBurst = "click-burst"
}

/// One open or click, as recorded. Serialised in SES's event-publishing shape by ``sesJSON``.
public struct TrackingEvent: Sendable, Equatable {
    /// Unique per event, for de-duplication by stores that may see a batch twice.
    public var eventId: String
    public var kind: EventKind
    /// When the request arrived, in milliseconds since 1970.
    public var timestampMilliseconds: Int64
    public var configurationSet: String
    public var messageId: String
    public var messageTags: [Tag]
    /// The client's address (see ``ClientAddress``); empty when unknown.
    public var ipAddress: String
    public var userAgent: String?
    /// Clicks: the destination, exactly as signed.
    public var link: String?
    /// Clicks: the link's index in its message.
    public var linkIndex: Int?
    public var linkTags: [Tag]
    public var machineReasons: [MachineReason]

    public init(eventId: String? = nil, kind: EventKind, timestampMilliseconds: Int64,
                configurationSet: String, messageId: String, messageTags: [Tag], ipAddress: String,
                userAgent: String?, link: String? = nil, linkIndex: Int? = nil, linkTags: [Tag] = [],
                machineReasons: [MachineReason] = []) {
        self.eventId = eventId ?? EventID.next(milliseconds: timestampMilliseconds)
        self.kind = kind
        self.timestampMilliseconds = timestampMilliseconds
        self.configurationSet = configurationSet
        self.messageId = messageId
        self.messageTags = messageTags
        self.ipAddress = ipAddress
        self.userAgent = userAgent
        self.link = link
        self.linkIndex = linkIndex
        self.linkTags = linkTags
        self.machineReasons = machineReasons
    }

    public var isMachine: Bool { !machineReasons.isEmpty }

    /// The timestamp as SES writes it: ISO 8601 in UTC with milliseconds (`2026-12-03T08:15:02.123Z`).
    public var timestamp: String { Self.iso8601(milliseconds: timestampMilliseconds) }

    /// The event in SES's event-publishing JSON, on one line:
    ///
    /// `{"eventType":"Click","mail":{"messageId":…,"tags":{"ses:configuration-set":[…],…}},
    ///  "click":{"timestamp":…,"ipAddress":…,"userAgent":…,"link":…,"linkTags":{…}},"linkTrack":{…}}`
    ///
    /// What SES knows and LinkTrack cannot (`mail.source`, `mail.destination`, `mail.timestamp`,
    /// `mail.sendingAccountId`, the headers) is absent, never invented. LinkTrack's additions sit
    /// under `linkTrack`: `eventId`, `linkIndex` (clicks) and `machine` with its `machineReasons`.
    public var sesJSON: String {
        var bytes: [UInt8] = []
        appendSESJSON(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``sesJSON``'s bytes to `bytes` (the sinks write bytes; no `String` in between).
    public func appendSESJSON(to bytes: inout [UInt8]) {
        var j = JSONBytes(bytes: bytes)
        bytes = []
        defer { bytes = j.bytes }
        // Only for a fresh buffer: a batch appends many events, and `reserveCapacity` on a growing
        // array would reallocate for each (the array's own doubling is what a batch needs).
        if j.bytes.isEmpty { j.reserve(512 + (link?.utf8.count ?? 0) + (userAgent?.utf8.count ?? 0)) }
        j.raw(kind == .click ? #"{"eventType":"Click","mail":{"messageId":"# : #"{"eventType":"Open","mail":{"messageId":"#)
        j.string(messageId)
        j.raw(#","tags":{"ses:configuration-set":["#)
        j.string(configurationSet)
        j.raw("]")
        for (name, values) in Self.grouped(messageTags) where name != "ses:configuration-set" {
            j.raw(",")
            j.string(name)
            j.raw(":")
            j.list(values)
        }
        j.raw(kind == .click ? #"}},"click":{"timestamp":""# : #"}},"open":{"timestamp":""#)
        Self.appendISO8601(milliseconds: timestampMilliseconds, to: &j.bytes)
        j.raw(#"","ipAddress":"#)
        j.string(ipAddress)
        j.raw(#","userAgent":"#)
        j.string(userAgent ?? "")
        if kind == .click {
            j.raw(#","link":"#)
            j.string(link ?? "")
            j.raw(#","linkTags":{"#)
            for (i, (name, values)) in Self.grouped(linkTags).enumerated() {
                if i > 0 { j.raw(",") }
                j.string(name)
                j.raw(":")
                j.list(values)
            }
            j.raw("}")
        }
        j.raw(#"},"linkTrack":{"eventId":"#)
        j.string(eventId)
        if let linkIndex {
            j.raw(#","linkIndex":"#)
            j.decimal(linkIndex)
        }
        j.raw(isMachine ? #","machine":true,"machineReasons":["# : #","machine":false,"machineReasons":["#)
        for (i, reason) in machineReasons.enumerated() {
            if i > 0 { j.raw(",") }
            j.string(reason.rawValue)
        }
        j.raw("]}}")
    }

    /// Tags grouped by name in first-seen order, each with its values (SES lists values per name).
    static func grouped(_ tags: [Tag]) -> [(String, [String])] {
        if tags.isEmpty { return [] }
        var order: [String] = []
        var values: [String: [String]] = [:]
        for tag in tags {
            if values[tag.name] == nil { order.append(tag.name) }
            values[tag.name, default: []].append(tag.value)
        }
        return order.map { ($0, values[$0]!) }
    }

    /// `milliseconds` since 1970 as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func iso8601(milliseconds: Int64) -> String {
        var bytes: [UInt8] = []
        appendISO8601(milliseconds: milliseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``iso8601(milliseconds:)``'s text to `bytes`.
    static func appendISO8601(milliseconds: Int64, to bytes: inout [UInt8]) {
        var seconds = Int(milliseconds / 1000)
        var millis = Int(milliseconds % 1000)
        if millis < 0 { millis += 1000; seconds -= 1 }
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        /// `n` in decimal, zero-padded to `width` digits (a negative year keeps its sign first).
        func pad(_ n: Int, _ width: Int) {
            if n < 0 { bytes.append(UInt8(ascii: "-")) }
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                          UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                                                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            var v = n.magnitude
            withUnsafeMutableBytes(of: &digits) { buffer in
                repeat {
                    buffer[count] = UInt8(ascii: "0") + UInt8(v % 10)
                    v /= 10
                    count += 1
                } while v > 0
                for _ in count..<max(count, width) { bytes.append(UInt8(ascii: "0")) }
                for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[i]) }
            }
        }
        pad(y, 4); bytes.append(UInt8(ascii: "-"))
        pad(m, 2); bytes.append(UInt8(ascii: "-"))
        pad(d, 2); bytes.append(UInt8(ascii: "T"))
        pad(rest / 3600, 2); bytes.append(UInt8(ascii: ":"))
        pad(rest / 60 % 60, 2); bytes.append(UInt8(ascii: ":"))
        pad(rest % 60, 2); bytes.append(UInt8(ascii: "."))
        pad(millis, 3); bytes.append(UInt8(ascii: "Z"))
    }

    /// Parses what ``iso8601(milliseconds:)`` writes, and the shorter forms `YYYY-MM-DD`,
    /// `YYYY-MM-DDTHH:MM:SSZ` and `YYYY-MM-DDTHH:MM:SS±HH:MM` (for `report --since`).
    public static func parseISO8601(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate],
        ] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        }
        return nil
    }
}

/// A JSON text written as bytes: strings are escaped as RFC 8259 §7 requires (quote, backslash and
/// control characters), the runs between those bytes copied whole. The event is written once per
/// request, so this stays off `String`'s per-character paths.
struct JSONBytes {
    var bytes: [UInt8] = []

    mutating func reserve(_ n: Int) { bytes.reserveCapacity(n) }

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func string(_ text: String) {
        bytes.append(0x22)
        var text = text
        text.withUTF8 { utf8 in
            // Copy the runs that need no escape whole; escape the bytes between them.
            var runStart = 0
            for (i, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                escape(byte)
                runStart = i + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(0x22)
    }

    mutating func escape(_ byte: UInt8) {
        switch byte {
        case 0x22: bytes.append(0x5C); bytes.append(0x22)
        case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
        case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef"
            bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30])
            bytes.append(hex.utf8Start[Int(byte >> 4)])
            bytes.append(hex.utf8Start[Int(byte & 0xF)])
        }
    }

    mutating func decimal(_ n: Int) { bytes.append(contentsOf: String(n).utf8) }

    mutating func list(_ values: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (i, value) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            string(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}
