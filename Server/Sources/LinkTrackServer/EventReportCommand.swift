import LinkTrack
import LinkTrackServerCore
import Logging

/// `linktrack-server report`: reads the stores the configuration's sets write to (SQLite, JSON
/// Lines, PostgreSQL; a webhook's receiver keeps its own) and folds their events into per-set
/// counts (``EventReportBuilder``). Events are de-duplicated by event id, so a set that writes to
/// two stores counts each event once. Events still waiting in a server's spool count once replayed.
public enum EventReportCommand {
    public struct Options: Sendable {
        public var configurationPath: String
        public var dataDirectory: String
        public var configurationSet: String?
        public var since: Int64?
        public var json = false
        public init(configurationPath: String, dataDirectory: String) {
            self.configurationPath = configurationPath
            self.dataDirectory = dataDirectory
        }
    }

    public static func run(_ options: Options) async throws -> String {
        let configuration = try ServerConfiguration(json: try FileIO.readAll(path: options.configurationPath))
        if let name = options.configurationSet {
            _ = try configuration.configuration.configurationSet(named: name)
        }
        var builder = EventReportBuilder(since: options.since, configurationSet: options.configurationSet)
        let logger = Logger(label: "linktrack-server.report")
        var readStores = Set<String>()
        for sink in configuration.allSinks {
            switch sink {
            case .sqlite:
                let path = EventSinks.sqlitePath(dataDirectory: options.dataDirectory)
                guard fileExists(path) else { continue }
                for event in try await SQLiteEventSink.readAll(path: path, since: options.since, logger: logger) {
                    builder.add(event)
                }
            case .jsonLines(let path):
                guard fileExists(path) else { continue }
                for event in try JSONLinesReader.read(path: path) { builder.add(event) }
            case .postgreSQL(let connectionString, let passwordFile, let passwordEnvironmentVariable):
                // The store may hold other sets' events (several configurations can share it):
                // read only the sets this report is about.
                let settings = try PostgreSQLConnectionSettings(connectionString: connectionString)
                let password = try PostgreSQLEventSink.password(file: passwordFile, environmentVariable: passwordEnvironmentVariable,
                                                                inURL: settings.password)
                let sets = options.configurationSet.map { [$0] } ?? configuration.configuration.configurationSets.map(\.name)
                if readStores.insert("postgresql:" + settings.displayName).inserted {
                    for event in try await PostgreSQLEventSink.readAll(settings: settings, password: password, since: options.since,
                                                                       configurationSets: sets, logger: logger) {
                        builder.add(event)
                    }
                }
            case .webhook:
                // The receiver has the events; nothing to read here.
                continue
            }
        }
        let names = options.configurationSet.map { [$0] } ?? configuration.configuration.configurationSets.map(\.name)
        let reports = builder.reports(including: names)
        return options.json ? EventReportBuilder.json(reports) : EventReportBuilder.text(reports)
    }
}

#if canImport(Glibc)
import Glibc
#endif

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// Reads a JSON Lines event file written by ``JSONLinesEventSink``. A line that does not parse (a
/// torn last line after a crash mid-write) is skipped.
public enum JSONLinesReader {
    public static func read(path: String) throws -> [StoredEvent] {
        let bytes = try FileIO.readAll(path: path)
        var events: [StoredEvent] = []
        for line in bytes.split(separator: 0x0A) {
            guard let value = try? JSONValue.parse(Array(line)), let event = StoredEvent(sesJSON: value) else { continue }
            events.append(event)
        }
        return events
    }
}
