#if canImport(Glibc)
import Glibc
#endif
import LinkTrack
import LinkTrackServerCore
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// `{"Type": "PostgreSQL", "ConnectionString": "postgres://user@host:port/db", "PasswordFile": FILE}`
/// (or `"PasswordEnvironmentVariable": NAME`; a password in the URL is used only when neither is
/// given): one table `linktrack_events` with the SQLite store's columns, the event id its primary
/// key, so that a batch written twice (a replayed spool, a retried write) is stored once
/// (`ON CONFLICT (event_id) DO NOTHING`). Several servers can write to one database.
///
/// Each batch is one statement and one round trip, whatever its size: the columns travel as 14
/// arrays and `unnest` turns them into rows (`INSERT … SELECT … FROM unnest($1::text[], …)`).
///
/// Lifecycle: the sink owns its `PostgresClient` (a connection pool, at most 4 connections: one
/// writer per sink). `open()` makes the client, starts `client.run()` in a detached task (so the
/// service group's graceful shutdown does not reach it: the pool must outlive the writer's final
/// flush) and migrates the schema; `close()`, which the ``EventWriter`` calls after its last
/// flush, cancels that task, closing the pool. A failed `open()` tears the client down and the
/// next attempt makes a new one (the password file is read again).
///
/// Schema migrations run in one transaction under a PostgreSQL advisory lock, so servers starting
/// together do not race; `linktrack_schema_version` records the applied versions, and version 1
/// uses `IF NOT EXISTS`, so a table made by hand with the same columns is adopted.
public final class PostgreSQLEventSink: EventSink {
    public let settings: PostgreSQLConnectionSettings
    public let passwordFile: String?
    public let passwordEnvironmentVariable: String?
    /// A write that takes longer fails (and the writer spools and retries).
    public let writeTimeout: Duration
    let logger: Logger
    /// Called for each event PostgreSQL refuses for its data (never for a connection failure):
    /// such an event can never be written, so it is reported (counted and logged) and skipped.
    let onRejected: @Sendable (TrackingEvent, String) -> Void

    struct Running {
        var client: PostgresClient
        var runner: Task<Void, Never>
    }
    private let running = Mutex<Running?>(nil)

    public init(settings: PostgreSQLConnectionSettings, passwordFile: String?, passwordEnvironmentVariable: String?,
                writeTimeout: Duration = .seconds(10), logger: Logger,
                onRejected: @escaping @Sendable (TrackingEvent, String) -> Void = { _, _ in }) {
        self.settings = settings
        self.passwordFile = passwordFile
        self.passwordEnvironmentVariable = passwordEnvironmentVariable
        self.writeTimeout = writeTimeout
        self.logger = logger
        self.onRejected = onRejected
    }

    public var name: String { "postgresql:" + settings.displayName }

    // MARK: - Schema

    /// The migrations, in order; version n is `migrations[n - 1]`. Append, never edit.
    public static let migrations: [[String]] = [
        [
            """
            CREATE TABLE IF NOT EXISTS linktrack_events (
                event_id text PRIMARY KEY,
                event_type text NOT NULL,
                configuration_set text NOT NULL,
                message_id text NOT NULL,
                link_index bigint,
                link text,
                timestamp_ms bigint NOT NULL,
                ip_address text NOT NULL,
                user_agent text,
                machine boolean NOT NULL,
                machine_reasons text NOT NULL,
                event_json text NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS linktrack_events_message_id ON linktrack_events (message_id)",
            "CREATE INDEX IF NOT EXISTS linktrack_events_time ON linktrack_events (timestamp_ms)",
            "CREATE INDEX IF NOT EXISTS linktrack_events_set_type_time ON linktrack_events (configuration_set, event_type, timestamp_ms)",
        ],
    ]

    /// Arbitrary, fixed: the advisory lock that serialises migrations between servers.
    static let migrationLock: Int64 = 0x4C69_6E6B_5472_6B31

    /// Brings the schema to the newest version (idempotent; safe when several servers start at once).
    public static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger).consume()
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS linktrack_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: logger).consume()
            var current = 0
            for try await version in try await connection.query(
                "SELECT coalesce(max(version), 0)::int8 FROM linktrack_schema_version", logger: logger).decode(Int64.self) {
                current = Int(version)
            }
            for (index, statements) in migrations.enumerated() where index + 1 > current {
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).consume()
                }
                let version = Int64(index + 1)
                try await connection.query("INSERT INTO linktrack_schema_version (version) VALUES (\(version))", logger: logger).consume()
            }
        }
    }

    // MARK: - EventSink

    public func open() async throws {
        if running.withLock({ $0 != nil }) { return }
        let configuration: PostgresClient.Configuration
        do {
            configuration = try settings.clientConfiguration(password: try resolvePassword())
        } catch {
            throw SinkError(sink: name, reason: "\(error)")
        }
        // The pool's own logs (a line per failed connection attempt, at info) only from warning up:
        // the writer logs a sink's failure and its recovery once each.
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        // Detached: no task-local graceful shutdown from the service group reaches the pool.
        let runner = Task.detached { await client.run() }
        do {
            try await withDeadline(writeTimeout) { try await Self.migrate(client, logger: self.logger) }
        } catch {
            runner.cancel()
            await runner.value
            throw SinkError(sink: name, reason: "cannot prepare the schema: \(Self.describe(error))")
        }
        let previous = running.withLock { r -> Running? in
            let old = r
            r = Running(client: client, runner: runner)
            return old
        }
        if let previous {
            previous.runner.cancel()
            await previous.runner.value
        }
    }

    public func write(_ events: [TrackingEvent]) async throws {
        guard let client = running.withLock({ $0?.client }) else { throw SinkError(sink: name, reason: "not open") }
        guard !events.isEmpty else { return }
        do {
            try await withDeadline(writeTimeout) { try await Self.insert(events, into: client, logger: self.logger) }
        } catch let error as PSQLError where Self.isDataError(error) {
            // One event's data is refused (say, a byte PostgreSQL's text cannot hold): write the rest
            // one by one, so a bad event never blocks the others, and report the refused ones.
            for event in events {
                do {
                    try await withDeadline(writeTimeout) { try await Self.insert([event], into: client, logger: self.logger) }
                } catch let single as PSQLError where Self.isDataError(single) {
                    onRejected(event, Self.describe(single))
                } catch {
                    await dropClient()
                    throw SinkError(sink: name, reason: Self.describe(error))
                }
            }
        } catch {
            await dropClient()
            throw SinkError(sink: name, reason: Self.describe(error))
        }
    }

    /// After a failure, the next `open()` makes a fresh client (the server may have restarted, the
    /// password may have changed).
    func dropClient() async {
        let old = running.withLock { r -> Running? in
            let o = r
            r = nil
            return o
        }
        if let old {
            old.runner.cancel()
            await old.runner.value
        }
    }

    public func reopen() async {}

    public func close() async { await dropClient() }

    // MARK: - Statements

    static let insertSQL = """
        INSERT INTO linktrack_events (event_id, event_type, configuration_set, message_id, link_index, link,
            timestamp_ms, ip_address, user_agent, machine, machine_reasons, event_json)
        SELECT e, t, s, m, CASE WHEN li >= 0 THEN li END, CASE WHEN hl THEN l END,
            ts, ip, CASE WHEN hu THEN ua END, mc, mr, j
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::bool[], $7::text[],
                    $8::int8[], $9::text[], $10::bool[], $11::text[], $12::bool[], $13::text[], $14::text[])
            AS u(e, t, s, m, li, hl, l, ts, ip, hu, ua, mc, mr, j)
        ON CONFLICT (event_id) DO NOTHING
        """

    /// The insert as a prepared statement: prepared once per connection (postgres-nio does it on
    /// first use), so a batch costs PostgreSQL no parse or plan.
    struct InsertEvents: PostgresPreparedStatement {
        static let name = "linktrack_insert_events_v1"
        static let sql = insertSQL
        typealias Row = Int
        let bindings: PostgresBindings
        func makeBindings() throws -> PostgresBindings { bindings }
        func decodeRow(_ row: PostgresRow) throws -> Int { 0 }
    }

    /// One statement, one round trip: the batch as 14 arrays.
    static func insert(_ events: [TrackingEvent], into client: PostgresClient, logger: Logger) async throws {
        var ids: [String] = [], types: [String] = [], sets: [String] = [], messages: [String] = []
        var linkIndexes: [Int64] = [], hasLink: [Bool] = [], links: [String] = [], times: [Int64] = []
        var ips: [String] = [], hasAgent: [Bool] = [], agents: [String] = [], machine: [Bool] = []
        var reasons: [String] = [], json: [String] = []
        ids.reserveCapacity(events.count)
        json.reserveCapacity(events.count)
        for e in events {
            ids.append(text(e.eventId))
            types.append(e.kind.rawValue)
            sets.append(text(e.configurationSet))
            messages.append(text(e.messageId))
            linkIndexes.append(e.linkIndex.map { Int64($0) } ?? -1)
            hasLink.append(e.link != nil)
            links.append(text(e.link ?? ""))
            times.append(e.timestampMilliseconds)
            ips.append(text(e.ipAddress))
            hasAgent.append(e.userAgent != nil)
            agents.append(text(e.userAgent ?? ""))
            machine.append(e.isMachine)
            reasons.append(e.machineReasons.map(\.rawValue).joined(separator: ","))
            json.append(e.sesJSON)
        }
        var bindings = PostgresBindings(capacity: 14)
        bindings.append(ids); bindings.append(types); bindings.append(sets); bindings.append(messages)
        bindings.append(linkIndexes); bindings.append(hasLink); bindings.append(links); bindings.append(times)
        bindings.append(ips); bindings.append(hasAgent); bindings.append(agents); bindings.append(machine)
        bindings.append(reasons); bindings.append(json)
        for try await _ in try await client.execute(InsertEvents(bindings: bindings), logger: logger) {}
    }

    /// PostgreSQL's text cannot hold NUL: the columns get U+FFFD instead (the event's JSON keeps
    /// the exact value, escaped).
    static func text(_ s: String) -> String {
        guard s.utf8.contains(0) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars { out.append(u.value == 0 ? "\u{FFFD}" : u) }
        return String(out)
    }

    // MARK: - Reading (report)

    /// The events of `configurationSets` (all sets when nil) at or after `since`, in time order.
    public static func readAll(settings: PostgreSQLConnectionSettings, password: String?, since: Int64?,
                               configurationSets: [String]?, logger: Logger) async throws -> [StoredEvent] {
        let client = PostgresClient(configuration: try settings.clientConfiguration(password: password), backgroundLogger: logger)
        let runner = Task.detached { await client.run() }
        defer { runner.cancel() }
        var events: [StoredEvent] = []
        let rows: PostgresRowSequence
        let from = since ?? Int64.min
        // No table yet (no server has written): no events.
        var exists = false
        for try await present in try await client.query(
            "SELECT to_regclass('linktrack_events') IS NOT NULL", logger: logger).decode(Bool.self) {
            exists = present
        }
        guard exists else { return [] }
        if let sets = configurationSets {
            rows = try await client.query("""
                SELECT event_id, event_type, configuration_set, message_id, link_index, link, timestamp_ms, machine
                FROM linktrack_events WHERE timestamp_ms >= \(from) AND configuration_set = ANY(\(sets)) ORDER BY timestamp_ms, event_id
                """, logger: logger)
        } else {
            rows = try await client.query("""
                SELECT event_id, event_type, configuration_set, message_id, link_index, link, timestamp_ms, machine
                FROM linktrack_events WHERE timestamp_ms >= \(from) ORDER BY timestamp_ms, event_id
                """, logger: logger)
        }
        for try await (id, type, set, message, linkIndex, link, time, machine) in rows.decode(
            (String, String, String, String, Int64?, String?, Int64, Bool).self) {
            guard let kind = EventKind(rawValue: type) else { continue }
            events.append(StoredEvent(eventId: id, kind: kind, configurationSet: set, messageId: message,
                                      linkIndex: linkIndex.map { Int($0) }, link: link, timestampMilliseconds: time,
                                      isMachine: machine))
        }
        return events
    }

    // MARK: - Helpers

    func resolvePassword() throws -> String? {
        try Self.password(file: passwordFile, environmentVariable: passwordEnvironmentVariable, inURL: settings.password)
    }

    /// `PasswordFile` (its content without the trailing line break), else
    /// `PasswordEnvironmentVariable`, else the URL's password (or none).
    public static func password(file: String?, environmentVariable: String?, inURL: String?) throws -> String? {
        if let file {
            var bytes: [UInt8]
            do { bytes = try FileIO.readAll(path: file) } catch {
                throw SinkError(sink: "postgresql", reason: "PasswordFile: \(error)")
            }
            while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
            return String(decoding: bytes, as: UTF8.self)
        }
        if let environmentVariable {
            guard let value = ProcessEnvironment.value(of: environmentVariable) else {
                throw SinkError(sink: "postgresql", reason: "PasswordEnvironmentVariable \(environmentVariable) is not set")
            }
            return value
        }
        return inURL
    }

    static func isDataError(_ error: PSQLError) -> Bool {
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("22")
    }

    /// A PSQLError's code and server message (its `description` hides them on purpose; its debug
    /// description would print the whole batch).
    static func describe(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            var text = "PostgreSQL error \(e.code)"
            if let info = e.serverInfo {
                if let state = info[.sqlState] { text += " \(state)" }
                if let message = info[.message] { text += ": \(message)" }
                if let detail = info[.detail] { text += " (\(detail))" }
            }
            if let underlying = e.underlying { text += ": \(underlying)" }
            return text
        }
        return "\(error)"
    }
}

/// A write or migration that did not finish in time.
struct DeadlineExceeded: Error, CustomStringConvertible {
    var limit: Duration
    var description: String { "no answer within \(limit)" }
}

/// Runs `operation`, giving up after `limit`. On time-out the operation is cancelled and left to
/// finish on its own: a connection to an unreachable host may not notice cancellation at once, and
/// the writer must not wait for it.
func withDeadline<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.state.withLock { $0.continuation = continuation }
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                if let c = race.take() {
                    race.state.withLock { $0.timer }?.cancel()
                    c.resume(with: result)
                }
            }
            let timer = Task {
                try? await Task.sleep(for: limit)
                guard !Task.isCancelled else { return }
                if let c = race.take() {
                    race.state.withLock { $0.work }?.cancel()
                    c.resume(throwing: DeadlineExceeded(limit: limit))
                }
            }
            race.state.withLock {
                $0.work = work
                $0.timer = timer
            }
        }
    } onCancel: {
        race.state.withLock { $0.work }?.cancel()
    }
}

final class DeadlineRace<T: Sendable>: Sendable {
    struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
    }
    let state = Mutex(State())

    func take() -> CheckedContinuation<T, any Error>? {
        state.withLock { s in
            let c = s.continuation
            s.continuation = nil
            return c
        }
    }
}

extension PostgresRowSequence {
    /// Reads (and drops) every row, so the connection goes back to the pool.
    func consume() async throws {
        for try await _ in self {}
    }
}

/// A `postgres://` connection string, parsed: `postgres[ql]://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE][?OPTIONS]`
/// with percent-escapes, `[v6]` hosts, and the options `sslmode` (`disable`, the default;
/// `prefer`, `require`: encrypted, not verified; `verify-ca`; `verify-full`), `sslrootcert=FILE`,
/// `host=/socket/directory` (a Unix socket, `.s.PGSQL.PORT` in it) and `application_name`.
public struct PostgreSQLConnectionSettings: Sendable, Equatable {
    public enum SSLMode: String, Sendable, Equatable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var username: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String?
    public var sslMode: SSLMode
    public var sslRootCertificate: String?
    /// A directory holding the server's Unix socket, instead of TCP.
    public var socketDirectory: String?
    public var applicationName: String?

    /// `user@host:port/database`: no password, for logs, metric labels and the spool's key.
    public var displayName: String {
        let h = host.contains(":") ? "[\(host)]" : host
        let where_ = socketDirectory.map { "\($0)/.s.PGSQL.\(port)" } ?? "\(h):\(port)"
        return "\(username)@\(where_)/\(database ?? username)"
    }

    public init(connectionString: String) throws(ConnectionStringError) {
        var rest: Substring
        if connectionString.hasPrefix("postgres://") {
            rest = connectionString.dropFirst("postgres://".count)
        } else if connectionString.hasPrefix("postgresql://") {
            rest = connectionString.dropFirst("postgresql://".count)
        } else {
            throw ConnectionStringError("expected postgres://user@host:port/database")
        }
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var userInfo: Substring?
        if let at = rest.lastIndex(of: "@") {
            userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        var user: String?
        if let userInfo {
            if let colon = userInfo.firstIndex(of: ":") {
                user = try Self.decode(userInfo[..<colon])
                password = try Self.decode(userInfo[userInfo.index(after: colon)...])
            } else {
                user = try Self.decode(userInfo)
            }
        }
        // Host and port.
        var hostText: Substring = rest
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw ConnectionStringError("an IPv6 host needs its closing ]") }
            hostText = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw ConnectionStringError("unexpected text after the host")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            hostText = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        }
        host = try Self.decode(hostText)
        port = 5432
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw ConnectionStringError("bad port '\(portText)'") }
            port = p
        }
        database = path.isEmpty ? nil : try Self.decode(path)
        sslMode = .disable
        for item in query.split(separator: "&") where !item.isEmpty {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try Self.decode(pair[0])
            let value = pair.count > 1 ? try Self.decode(pair[1]) : ""
            switch key {
            case "sslmode":
                switch value {
                case "allow": sslMode = .prefer
                default:
                    guard let mode = SSLMode(rawValue: value) else {
                        throw ConnectionStringError("sslmode \(value): expected disable, prefer, require, verify-ca or verify-full")
                    }
                    sslMode = mode
                }
            case "sslrootcert": sslRootCertificate = value
            case "host": socketDirectory = value
            case "application_name": applicationName = value
            case "user": user = value
            case "password": password = value
            case "dbname": database = value
            case "port":
                guard let p = Int(value), (1...65535).contains(p) else { throw ConnectionStringError("bad port '\(value)'") }
                port = p
            default:
                throw ConnectionStringError("unknown option '\(key)' (known: sslmode, sslrootcert, host, application_name, user, password, dbname, port)")
            }
        }
        if let dir = socketDirectory, !dir.hasPrefix("/") { throw ConnectionStringError("host=\(dir): a socket directory must be an absolute path") }
        guard let user, !user.isEmpty else { throw ConnectionStringError("the user is required (postgres://user@host/database)") }
        username = user
        if host.isEmpty && socketDirectory == nil { throw ConnectionStringError("the host is required") }
        if host.isEmpty { host = "localhost" }
    }

    /// postgres-nio's configuration, with `password` (already resolved from the file, the
    /// environment or the URL).
    public func clientConfiguration(password: String?) throws -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let dir = socketDirectory {
            configuration = .init(unixSocketPath: dir + "/.s.PGSQL.\(port)", username: username, password: password, database: database)
        } else {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let root = sslRootCertificate { tls.trustRoots = .file(root) }
            let mode: PostgresClient.Configuration.TLS
            switch sslMode {
            case .disable: mode = .disable
            case .prefer:
                tls.certificateVerification = .none
                mode = .prefer(tls)
            case .require:
                tls.certificateVerification = .none
                mode = .require(tls)
            case .verifyCA:
                tls.certificateVerification = .noHostnameVerification
                mode = .require(tls)
            case .verifyFull:
                mode = .require(tls)
            }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: mode)
        }
        configuration.options.maximumConnections = 4
        configuration.options.connectTimeout = .seconds(5)
        if let applicationName { configuration.options.additionalStartupParameters = [("application_name", applicationName)] }
        return configuration
    }

    static func decode(_ text: Substring) throws(ConnectionStringError) -> String {
        var bytes: [UInt8] = []
        var it = Array(text.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let h = hex(it[it.startIndex]), let l = hex(it[it.startIndex + 1]) else {
                    throw ConnectionStringError("bad percent-escape in '\(text)'")
                }
                bytes.append(h << 4 | l)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        guard let s = String(validating: bytes, as: UTF8.self) else { throw ConnectionStringError("'\(text)' is not UTF-8") }
        return s
    }

    static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

public struct ConnectionStringError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    init(_ description: String) { self.description = "ConnectionString: " + description }
}
