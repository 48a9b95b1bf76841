#if canImport(Glibc)
import Glibc
#endif
import LinkTrack
import LinkTrackServerCore

/// The version both executables print with `--version`.
public enum ServerVersion {
    public static let current = "0.2.0"
}

/// `linktrack-server --help`.
public enum ServerUsage {
    public static let text = """
    usage: linktrack-server serve [options]
           linktrack-server report [options]
           linktrack-server --version | --help

    serve: answers on the redirect domains (click redirects, the open pixel, events) and, on the
    admin listener, /health, /ready, /metrics and the SES v2 control API.
      --config FILE             configuration file (default: $LINKTRACK_CONFIG, else /etc/linktrack/config.json);
                                reloaded on SIGHUP and when the file is replaced
      --data-directory DIR      where events.sqlite lives (default: /var/lib/linktrack; created if missing)
      --listen HOST:PORT        redirect listener (default: 127.0.0.1:8080; port 0 picks a free port)
      --admin-listen HOST:PORT  admin listener (default: 127.0.0.1:8081); never expose it as a redirect domain
      --max-header-bytes N      request line plus headers, at most (default: 8192); larger requests get 400
      --idle-timeout SECONDS    close a connection that sends no complete request for this long (default: 15)
      --max-connections N       open connections on the redirect listener, at most (default: 16384)
      --event-ack-timeout MS    how long a request waits for its event to be written before it is
                                answered anyway, the event kept in memory and retried (default: 100)
      --event-queue-limit N     events kept in memory per sink while it is slow or down (default: 100000)
      --sqlite-synchronous normal|full
                                SQLite's synchronous mode: normal survives a killed process, full also
                                survives power loss (default: normal)
      --shutdown-grace SECONDS  on SIGTERM, how long to drain requests and flush events (default: 25)
      --spool-limit-bytes N     cap of each PostgreSQL or webhook sink's disk spool, DIR/spool/*.log, where
                                events wait while the sink is down or slow (default: 1073741824, 1 GiB);
                                what finds it full waits in memory (--event-queue-limit), then is lost,
                                counted in linktrack_events_lost_total
      The first line logged once both listeners are up reads:
        linktrack-server listening public=HOST:PORT admin=HOST:PORT

    report: counts opens and clicks per configuration set from the stores the configuration names.
      --config FILE             as for serve
      --data-directory DIR      as for serve
      --configuration-set NAME  only this set
      --since ISO-8601          only events at or after this time (2026-12-01 or 2026-12-01T08:00:00Z)
      --format text|json        (default: text); json prints {"ConfigurationSets": [...]}

    Environment: LINKTRACK_CONFIG (the default --config), LOG_LEVEL (trace, debug, info, notice,
    warning, error, critical; default info). Logs go to stderr.

    """

    public static let serveFlags: [String: Bool] = [
        "config": true, "data-directory": true, "listen": true, "admin-listen": true, "max-header-bytes": true,
        "idle-timeout": true, "max-connections": true, "event-ack-timeout": true, "event-queue-limit": true,
        "sqlite-synchronous": true, "shutdown-grace": true, "spool-limit-bytes": true, "help": false,
    ]
    public static let reportFlags: [String: Bool] = [
        "config": true, "data-directory": true, "configuration-set": true, "since": true, "format": true, "help": false,
    ]
}

/// The small flag parser of `linktrack-server`: `--name value`, `--name=value`, boolean `--name`,
/// `-h` for `--help`.
public enum ServerFlags {
    public struct UsageError: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public static func parse(_ arguments: [String], valueFlags: Set<String>, booleanFlags: Set<String>) throws(UsageError) -> [String: String] {
        var result: [String: String] = [:]
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            if argument == "-h" { result["help"] = ""; continue }
            guard argument.hasPrefix("--"), argument.count > 2 else { throw UsageError("unexpected argument '\(argument)'") }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if booleanFlags.contains(name) {
                guard value == nil else { throw UsageError("--\(name) takes no value") }
                result[name] = ""
                continue
            }
            guard valueFlags.contains(name) else { throw UsageError("unknown option '--\(name)'") }
            if value == nil {
                guard i < arguments.count else { throw UsageError("--\(name) needs a value") }
                value = arguments[i]
                i += 1
            }
            guard result[name] == nil else { throw UsageError("--\(name) is given twice") }
            result[name] = value
        }
        return result
    }

    /// `HOST:PORT` (`[::1]:8080` for IPv6).
    public static func hostPort(_ text: String, flag: String) throws(UsageError) -> (String, Int) {
        var host: Substring
        var portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw UsageError("--\(flag) \(text): expected HOST:PORT") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw UsageError("--\(flag) \(text): expected HOST:PORT") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else {
            throw UsageError("--\(flag) \(text): expected HOST:PORT with a port from 0 to 65535")
        }
        return (String(host), port)
    }

    static func positive(_ flags: [String: String], _ name: String) throws(UsageError) -> Int? {
        guard let text = flags[name] else { return nil }
        guard let n = Int(text), n > 0 else { throw UsageError("--\(name) \(text): expected a positive whole number") }
        return n
    }

    static func configurationPath(_ flags: [String: String], environment: (String) -> String?) -> String {
        flags["config"] ?? environment("LINKTRACK_CONFIG").flatMap { $0.isEmpty ? nil : $0 } ?? "/etc/linktrack/config.json"
    }

    public static func settings(_ flags: [String: String], environment: (String) -> String?) throws(UsageError) -> ServerSettings {
        var s = ServerSettings(configurationPath: configurationPath(flags, environment: environment),
                               dataDirectory: flags["data-directory"] ?? "/var/lib/linktrack")
        if let listen = flags["listen"] { (s.listenHost, s.listenPort) = try hostPort(listen, flag: "listen") }
        if let admin = flags["admin-listen"] { (s.adminHost, s.adminPort) = try hostPort(admin, flag: "admin-listen") }
        if let n = try positive(flags, "max-header-bytes") { s.maximumHeaderBytes = n }
        if let n = try positive(flags, "idle-timeout") { s.idleTimeout = .seconds(n) }
        if let n = try positive(flags, "max-connections") { s.maximumConnections = n }
        if let n = try positive(flags, "event-ack-timeout") { s.acknowledgementTimeout = .milliseconds(n) }
        if let n = try positive(flags, "event-queue-limit") { s.eventQueueLimit = n }
        if let n = try positive(flags, "shutdown-grace") { s.shutdownGracePeriod = .seconds(n) }
        if let n = try positive(flags, "spool-limit-bytes") { s.spoolLimitBytes = Int64(n) }
        if let mode = flags["sqlite-synchronous"] {
            guard ["normal", "full"].contains(mode.lowercased()) else {
                throw UsageError("--sqlite-synchronous \(mode): expected normal or full")
            }
            s.sqliteSynchronous = mode.uppercased()
        }
        return s
    }

    public static func reportOptions(_ flags: [String: String], environment: (String) -> String?) throws -> EventReportCommand.Options {
        var options = EventReportCommand.Options(configurationPath: configurationPath(flags, environment: environment),
                                                 dataDirectory: flags["data-directory"] ?? "/var/lib/linktrack")
        options.configurationSet = flags["configuration-set"]
        if let since = flags["since"] {
            guard let ms = TrackingEvent.parseISO8601(since) else {
                throw UsageError("--since \(since): expected an ISO-8601 date or time such as 2026-12-01 or 2026-12-01T08:00:00Z")
            }
            options.since = ms
        }
        switch flags["format"] ?? "text" {
        case "text": options.json = false
        case "json": options.json = true
        case let other: throw UsageError("--format \(other): expected text or json")
        }
        return options
    }
}

/// Lets the process hold as many connections as the hard limit allows (the soft limit is often 1,024).
public enum ServerLimits {
    public static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
