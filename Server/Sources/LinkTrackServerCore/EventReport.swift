import LinkTrack

/// One stored event, as much of it as a report needs.
public struct StoredEvent: Sendable, Equatable {
    public var eventId: String
    public var kind: EventKind
    public var configurationSet: String
    public var messageId: String
    public var linkIndex: Int?
    public var link: String?
    public var timestampMilliseconds: Int64
    public var isMachine: Bool

    public init(eventId: String, kind: EventKind, configurationSet: String, messageId: String, linkIndex: Int?,
                link: String?, timestampMilliseconds: Int64, isMachine: Bool) {
        self.eventId = eventId
        self.kind = kind
        self.configurationSet = configurationSet
        self.messageId = messageId
        self.linkIndex = linkIndex
        self.link = link
        self.timestampMilliseconds = timestampMilliseconds
        self.isMachine = isMachine
    }

    public init(_ event: TrackingEvent) {
        self.init(eventId: event.eventId, kind: event.kind, configurationSet: event.configurationSet,
                  messageId: event.messageId, linkIndex: event.linkIndex, link: event.link,
                  timestampMilliseconds: event.timestampMilliseconds, isMachine: event.isMachine)
    }
}

/// The counts `linktrack-server report` prints for one configuration set.
public struct SetReport: Sendable, Equatable {
    public var configurationSetName: String
    public var opens = 0
    /// Distinct message ids opened.
    public var uniqueOpens = 0
    public var clicks = 0
    /// Distinct (message id, link index) pairs clicked.
    public var uniqueClicks = 0
    public var machineOpens = 0
    public var machineClicks = 0
    /// The most clicked links (by destination), most first, ties by destination.
    public var topLinks: [(link: String, clicks: Int)] = []

    public init(configurationSetName: String) { self.configurationSetName = configurationSetName }

    public static func == (a: SetReport, b: SetReport) -> Bool {
        a.configurationSetName == b.configurationSetName && a.opens == b.opens && a.uniqueOpens == b.uniqueOpens
            && a.clicks == b.clicks && a.uniqueClicks == b.uniqueClicks && a.machineOpens == b.machineOpens
            && a.machineClicks == b.machineClicks && a.topLinks.map(\.link) == b.topLinks.map(\.link)
            && a.topLinks.map(\.clicks) == b.topLinks.map(\.clicks)
    }
}

/// Folds events into per-set counts. Events are de-duplicated by event id, so a store that holds
/// an event twice (an at-least-once sink) or two stores that both hold it count it once.
public struct EventReportBuilder: Sendable {
    struct Accumulator {
        var report: SetReport
        var openedMessages = Set<String>()
        var clickedLinks = Set<String>()
        var linkClicks: [String: Int] = [:]
    }
    var seen = Set<String>()
    var sets: [String: Accumulator] = [:]
    public let since: Int64?
    public let only: String?
    public let topLinkCount: Int

    public init(since: Int64? = nil, configurationSet: String? = nil, topLinkCount: Int = 10) {
        self.since = since
        self.only = configurationSet
        self.topLinkCount = topLinkCount
    }

    public mutating func add(_ event: StoredEvent) {
        if let since, event.timestampMilliseconds < since { return }
        if let only, event.configurationSet != only { return }
        guard seen.insert(event.eventId).inserted else { return }
        var acc = sets[event.configurationSet] ?? Accumulator(report: SetReport(configurationSetName: event.configurationSet))
        switch event.kind {
        case .open:
            acc.report.opens += 1
            if event.isMachine { acc.report.machineOpens += 1 }
            acc.openedMessages.insert(event.messageId)
        case .click:
            acc.report.clicks += 1
            if event.isMachine { acc.report.machineClicks += 1 }
            acc.clickedLinks.insert(event.messageId + "\u{0}" + String(event.linkIndex ?? -1))
            acc.linkClicks[event.link ?? "", default: 0] += 1
        }
        sets[event.configurationSet] = acc
    }

    /// The reports, one per set that has events (and `named` sets with none, as zeros), sorted by name.
    public func reports(including named: [String] = []) -> [SetReport] {
        var names = Set(sets.keys)
        for name in named where only == nil || only == name { names.insert(name) }
        return names.sorted().map { name in
            guard let acc = sets[name] else { return SetReport(configurationSetName: name) }
            var report = acc.report
            report.uniqueOpens = acc.openedMessages.count
            report.uniqueClicks = acc.clickedLinks.count
            report.topLinks = acc.linkClicks.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .prefix(topLinkCount).map { (link: $0.key, clicks: $0.value) }
            return report
        }
    }

    /// `{"ConfigurationSets": [{"ConfigurationSetName", "Opens", "UniqueOpens", "Clicks", "UniqueClicks",
    /// "MachineOpens", "MachineClicks", "TopLinks": [{"Link", "Clicks"}]}]}`
    public static func json(_ reports: [SetReport]) -> String {
        let sets = reports.map { r in
            "{\"ConfigurationSetName\": \(JSONValue.quoted(r.configurationSetName)), \"Opens\": \(r.opens), "
                + "\"UniqueOpens\": \(r.uniqueOpens), \"Clicks\": \(r.clicks), \"UniqueClicks\": \(r.uniqueClicks), "
                + "\"MachineOpens\": \(r.machineOpens), \"MachineClicks\": \(r.machineClicks), \"TopLinks\": ["
                + r.topLinks.map { "{\"Link\": \(JSONValue.quoted($0.link)), \"Clicks\": \($0.clicks)}" }.joined(separator: ", ")
                + "]}"
        }
        return "{\"ConfigurationSets\": [" + sets.joined(separator: ", ") + "]}\n"
    }

    /// The reports as text for a person.
    public static func text(_ reports: [SetReport]) -> String {
        if reports.isEmpty { return "No events.\n" }
        var out = ""
        for r in reports {
            out += "\(r.configurationSetName)\n"
            out += "  messages opened  \(r.uniqueOpens)\n"
            out += "  opens            \(r.opens) (\(r.machineOpens) flagged as machine)\n"
            out += "  unique clicks    \(r.uniqueClicks)\n"
            out += "  clicks           \(r.clicks) (\(r.machineClicks) flagged as machine)\n"
            if !r.topLinks.isEmpty {
                out += "  top links\n"
                for link in r.topLinks { out += "    \(link.clicks)  \(link.link)\n" }
            }
        }
        return out
    }
}

extension StoredEvent {
    /// Reads back what ``TrackingEvent/sesJSON`` wrote; nil for anything else.
    public init?(sesJSON value: JSONValue) {
        guard case .string(let type)? = value["eventType"], let kind = EventKind(rawValue: type),
              let mail = value["mail"], case .string(let messageId)? = mail["messageId"],
              case .array(let setValues)? = mail["tags"]?["ses:configuration-set"],
              case .string(let set)? = setValues.first,
              let detail = value[kind == .click ? "click" : "open"],
              case .string(let timestamp)? = detail["timestamp"],
              let milliseconds = TrackingEvent.parseISO8601(timestamp),
              let ours = value["linkTrack"], case .string(let eventId)? = ours["eventId"]
        else { return nil }
        var linkIndex: Int?
        if case .number(let n)? = ours["linkIndex"] { linkIndex = Int(n) }
        var link: String?
        if case .string(let l)? = detail["link"] { link = l }
        let machine = ours["machine"] == .bool(true)
        self.init(eventId: eventId, kind: kind, configurationSet: set, messageId: messageId, linkIndex: linkIndex,
                  link: link, timestampMilliseconds: milliseconds, isMachine: machine)
    }
}
