import Foundation
import LinkTrack
import LinkTrackServer
import LinkTrackServerCore
import Logging
import PostgresNIO
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing

/// The PostgreSQL server the tests use: `LINKTRACK_TEST_POSTGRES_URL`, for example
/// `postgres://linktrack@127.0.0.1:5433/linktrack` from `Server/Tests/integration/pg-cluster.sh start DIR`
/// (a superuser with trust authentication: each test makes and drops its own database).
let testPostgresURL = ProcessInfo.processInfo.environment["LINKTRACK_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
let postgresMissing = "LINKTRACK_TEST_POSTGRES_URL is not set: start a throwaway cluster with Server/Tests/integration/pg-cluster.sh start DIR and export the URL it prints"

/// A fresh database for one test, dropped afterwards.
struct TestDatabase {
    let name: String
    let url: String
    let settings: PostgreSQLConnectionSettings

    static func make() async throws -> TestDatabase {
        let base = try PostgreSQLConnectionSettings(connectionString: try #require(testPostgresURL))
        let name = "lt_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin(base) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)")).consumeAll()
        }
        var settings = base
        settings.database = name
        let host = base.host.contains(":") ? "[\(base.host)]" : base.host
        return TestDatabase(name: name, url: "postgres://\(base.username)@\(host):\(base.port)/\(name)", settings: settings)
    }

    func drop() async {
        guard let base = try? PostgreSQLConnectionSettings(connectionString: testPostgresURL ?? "") else { return }
        try? await Self.admin(base) { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")).consumeAll()
        }
    }

    /// Runs `body` with a client of `settings` (password from the URL).
    static func admin(_ settings: PostgreSQLConnectionSettings, _ body: (PostgresClient) async throws -> Void) async throws {
        let client = PostgresClient(configuration: try settings.clientConfiguration(password: settings.password))
        let runner = Task.detached { await client.run() }
        defer { runner.cancel() }
        try await body(client)
    }

    func withClient(_ body: (PostgresClient) async throws -> Void) async throws {
        try await Self.admin(settings, body)
    }

    func count(_ sql: String = "SELECT count(*) FROM linktrack_events") async throws -> Int {
        var n = 0
        try await withClient { client in
            for try await c in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(Int64.self) { n = Int(c) }
        }
        return n
    }

    func sink(passwordFile: String? = nil, logger: Logger = Logger(label: "t"),
              onRejected: @escaping @Sendable (TrackingEvent, String) -> Void = { _, _ in }) -> PostgreSQLEventSink {
        PostgreSQLEventSink(settings: settings, passwordFile: passwordFile, passwordEnvironmentVariable: nil,
                            logger: logger, onRejected: onRejected)
    }
}

extension PostgresRowSequence {
    func consumeAll() async throws { for try await _ in self {} }
}

/// Runs `body` with a fresh database, dropping it whatever happens.
func withTestDatabase(_ body: (TestDatabase) async throws -> Void) async throws {
    let db = try await TestDatabase.make()
    do {
        try await body(db)
    } catch {
        await db.drop()
        throw error
    }
    await db.drop()
}

struct PostgreSQLConnectionStringTests {
    @Test func parsesTheUsualForms() throws {
        let a = try PostgreSQLConnectionSettings(connectionString: "postgres://linktrack@db.internal:5433/events")
        #expect(a.username == "linktrack" && a.host == "db.internal" && a.port == 5433 && a.database == "events")
        #expect(a.password == nil && a.sslMode == .disable)
        #expect(a.displayName == "linktrack@db.internal:5433/events")
        let b = try PostgreSQLConnectionSettings(connectionString: "postgresql://u%40x:p%3Aw%2Fd@[::1]/d%20b?sslmode=verify-full&application_name=lt")
        #expect(b.username == "u@x" && b.password == "p:w/d" && b.host == "::1" && b.port == 5432 && b.database == "d b")
        #expect(b.sslMode == .verifyFull && b.applicationName == "lt")
        #expect(b.displayName == "u@x@[::1]:5432/d b")
        let c = try PostgreSQLConnectionSettings(connectionString: "postgres://u@/db?host=/run/postgresql&port=5434")
        #expect(c.socketDirectory == "/run/postgresql" && c.port == 5434)
        #expect(c.displayName == "u@/run/postgresql/.s.PGSQL.5434/db")
        let d = try PostgreSQLConnectionSettings(connectionString: "postgres://u@h")
        #expect(d.database == nil && d.displayName == "u@h:5432/u")
    }

    @Test func refusesWhatCannotWork() {
        for bad in ["mysql://u@h/db", "postgres://h:5432/db", "postgres://u@h:0/db", "postgres://u@h:99999/db",
                    "postgres://u@h/db?sslmode=sometimes", "postgres://u@h/db?timeout=3", "postgres://u@[::1/db",
                    "postgres://u@h/d%zz", "postgres://u@/db", "postgres://u@/db?host=relative"] {
            #expect(throws: ConnectionStringError.self, "\(bad)") { try PostgreSQLConnectionSettings(connectionString: bad) }
        }
    }

    @Test func passwordComesFromTheFileThenTheEnvironmentThenTheURL() throws {
        let dir = try temporarySpoolDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "s3cret\n".write(toFile: dir + "/pw", atomically: true, encoding: .utf8)
        #expect(try PostgreSQLEventSink.password(file: dir + "/pw", environmentVariable: nil, inURL: "inline") == "s3cret")
        setenv("LINKTRACK_TEST_PG_PASSWORD", "from-env", 1)
        #expect(try PostgreSQLEventSink.password(file: nil, environmentVariable: "LINKTRACK_TEST_PG_PASSWORD", inURL: "inline") == "from-env")
        #expect(try PostgreSQLEventSink.password(file: nil, environmentVariable: nil, inURL: "inline") == "inline")
        #expect(try PostgreSQLEventSink.password(file: nil, environmentVariable: nil, inURL: nil) == nil)
        #expect(throws: SinkError.self) { try PostgreSQLEventSink.password(file: dir + "/missing", environmentVariable: nil, inURL: nil) }
        #expect(throws: SinkError.self) {
            try PostgreSQLEventSink.password(file: nil, environmentVariable: "LINKTRACK_TEST_PG_UNSET_\(UUID().uuidString)", inURL: nil)
        }
    }
}

@Suite(.enabled(if: testPostgresURL != nil, Comment(rawValue: postgresMissing)), .serialized)
struct PostgreSQLSinkTests {
    let registry = PrometheusCollectorRegistry()
    var metrics: ServerMetrics { ServerMetrics(factory: PrometheusMetricsFactory(registry: registry)) }

    @Test func schemaIsCreatedOnceEvenWhenServersStartTogether() async throws {
        try await withTestDatabase { db in
            // Eight sinks (eight servers) open at the same moment on an empty database.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let sink = db.sink()
                        try await sink.open()
                        await sink.close()
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await db.count("SELECT count(*) FROM linktrack_schema_version") == 1)
            #expect(try await db.count("SELECT count(*) FROM pg_indexes WHERE tablename = 'linktrack_events'") == 4)
            // Opening again changes nothing.
            let sink = db.sink()
            try await sink.open()
            await sink.close()
            #expect(try await db.count("SELECT count(*) FROM linktrack_schema_version") == 1)
        }
    }

    @Test func aBatchIsOneStatementAndReplaysAreStoredOnce() async throws {
        try await withTestDatabase { db in
            let sink = db.sink()
            try await sink.open()
            // A statement-level trigger logs each INSERT statement on the table and the rows it added.
            try await db.withClient { client in
                for sql in [
                    "CREATE TABLE insert_statements (id serial PRIMARY KEY, inserted bigint NOT NULL)",
                    """
                    CREATE FUNCTION log_insert_statement() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN INSERT INTO insert_statements (inserted) SELECT count(*) FROM added; RETURN NULL; END $$
                    """,
                    """
                    CREATE TRIGGER log_insert_statements AFTER INSERT ON linktrack_events
                    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION log_insert_statement()
                    """,
                ] {
                    try await client.query(PostgresQuery(unsafeSQL: sql)).consumeAll()
                }
            }
            let events = (0..<12_000).map { makeEvent($0) }
            try await sink.write(events)
            try await sink.write(Array(events[0..<500]))      // a replayed batch
            try await sink.write(Array(events[11_000...]) + [makeEvent(12_000)])
            await sink.close()
            #expect(try await db.count() == 12_001)
            // Each batch is one statement: 12,000 rows, then none (all 500 are stored already), then
            // the one new event of 1,001.
            var statements: [Int64] = []
            try await db.withClient { client in
                for try await n in try await client.query("SELECT inserted FROM insert_statements ORDER BY id")
                    .decode(Int64.self) { statements.append(n) }
            }
            #expect(statements == [12_000, 0, 1])
            let stored = try await PostgreSQLEventSink.readAll(settings: db.settings, password: nil, since: nil,
                                                               configurationSets: nil, logger: Logger(label: "t"))
            #expect(stored.count == 12_001)
            #expect(Set(stored.map(\.eventId)).count == 12_001)
            #expect(stored.first == StoredEvent(events[0]))
        }
    }

    @Test func everyColumnHoldsTheEventExactly() async throws {
        try await withTestDatabase { db in
            let rejected = Mutex<[String]>([])
            let sink = db.sink(onRejected: { event, _ in rejected.withLock { $0.append(event.eventId) } })
            try await sink.open()
            let events = (0..<20).map(awkwardEvent)
            try await sink.write(events)
            await sink.close()
            #expect(rejected.withLock { $0 }.isEmpty)
            try await db.withClient { client in
                let rows = try await client.query("""
                    SELECT event_id, event_type, configuration_set, message_id, link_index, link, timestamp_ms,
                           ip_address, user_agent, machine, machine_reasons, event_json
                    FROM linktrack_events ORDER BY timestamp_ms
                    """)
                var i = 0
                for try await (id, type, set, message, linkIndex, link, time, ip, ua, machine, reasons, json) in rows.decode(
                    (String, String, String, String, Int64?, String?, Int64, String, String?, Bool, String, String).self) {
                    let e = events[i]
                    #expect(id == e.eventId)
                    #expect(type == e.kind.rawValue)
                    #expect(set == e.configurationSet)
                    #expect(message == e.messageId)
                    #expect(linkIndex == e.linkIndex.map { Int64($0) })
                    #expect(link == e.link)
                    #expect(time == e.timestampMilliseconds)
                    #expect(ip == e.ipAddress)
                    // NUL cannot be stored in text: U+FFFD instead; the JSON keeps it escaped.
                    #expect(ua == e.userAgent.map { $0.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") })
                    #expect(machine == e.isMachine)
                    #expect(reasons == e.machineReasons.map(\.rawValue).joined(separator: ","))
                    #expect(json == e.sesJSON)
                    i += 1
                }
                #expect(i == 20)
            }
        }
    }

    @Test func reportReadsPostgreSQLWithTheSameOutput() async throws {
        try await withTestDatabase { db in
            let dir = try temporarySpoolDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let secret = Base64Text.encode((0..<32).map { UInt8($0) })
            let config = """
                {"ConfigurationSets": [
                  {"ConfigurationSetName": "marketing", "TrackingOptions": {"CustomRedirectDomain": "links.example.com"},
                   "EventDestinations": [{"Name": "pg", "Enabled": true, "MatchingEventTypes": ["OPEN", "CLICK"],
                     "LinkTrackDestination": {"Type": "PostgreSQL", "ConnectionString": "\(db.url)"}}]},
                  {"ConfigurationSetName": "other", "TrackingOptions": {"CustomRedirectDomain": "links.example.com"},
                   "EventDestinations": [{"Name": "pg", "Enabled": true, "MatchingEventTypes": ["OPEN", "CLICK"],
                     "LinkTrackDestination": {"Type": "PostgreSQL", "ConnectionString": "\(db.url)"}}]}],
                 "SigningKeys": [{"KeyId": "k1", "Secret": "\(secret)"}]}
                """
            try config.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
            var options = EventReportCommand.Options(configurationPath: dir + "/config.json", dataDirectory: dir)
            options.json = true
            // No table yet: zero counts, not an error.
            #expect(try await EventReportCommand.run(options).contains("\"Clicks\": 0"))
            let sink = db.sink()
            try await sink.open()
            var events = (0..<10).map { makeEvent($0) }                 // marketing clicks, 7 messages
            events.append(TrackingEvent(eventId: "o1", kind: .open, timestampMilliseconds: 5_000, configurationSet: "marketing",
                                        messageId: "m1", messageTags: [], ipAddress: "1.2.3.4", userAgent: "GoogleImageProxy",
                                        machineReasons: [.googleImageProxy]))
            events.append(makeEvent(100, set: "other"))
            events.append(makeEvent(101, set: "not-in-this-configuration"))
            try await sink.write(events)
            await sink.close()
            let text = try await EventReportCommand.run(options)
            var expected = EventReportBuilder(since: nil, configurationSet: nil)
            for e in events where e.configurationSet != "not-in-this-configuration" { expected.add(StoredEvent(e)) }
            let wanted = EventReportBuilder.json(expected.reports(including: ["marketing", "other"]))
            #expect(text == wanted, "\(wanted)")
            #expect(text.contains("\"Clicks\": 10"))
            #expect(text.contains("\"MachineOpens\": 1"))
            options.configurationSet = "other"
            #expect(try await EventReportCommand.run(options).contains("\"Clicks\": 1"))
        }
    }

    @Test func aPasswordFromAFileAuthenticates() async throws {
        try await withTestDatabase { db in
            let role = "lt_pw_" + db.name.suffix(8)
            try await db.withClient { client in
                try await client.query(PostgresQuery(unsafeSQL: "CREATE ROLE \(role) LOGIN PASSWORD 'right horse'")).consumeAll()
                try await client.query(PostgresQuery(unsafeSQL: "GRANT ALL ON SCHEMA public TO \(role)")).consumeAll()
            }
            let dir = try temporarySpoolDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try "right horse\n".write(toFile: dir + "/pw", atomically: true, encoding: .utf8)
            try "wrong horse\n".write(toFile: dir + "/bad", atomically: true, encoding: .utf8)
            var settings = db.settings
            settings.username = role
            let good = PostgreSQLEventSink(settings: settings, passwordFile: dir + "/pw", passwordEnvironmentVariable: nil,
                                           logger: Logger(label: "t"))
            try await good.open()
            try await good.write([makeEvent(1)])
            await good.close()
            let bad = PostgreSQLEventSink(settings: settings, passwordFile: dir + "/bad", passwordEnvironmentVariable: nil,
                                          writeTimeout: .seconds(5), logger: Logger(label: "t"))
            await #expect(throws: SinkError.self) { try await bad.open() }
            await bad.close()
            #expect(try await db.count() == 1)
            try await db.withClient { client in
                try await client.query(PostgresQuery(unsafeSQL: "DROP OWNED BY \(role)")).consumeAll()
                try await client.query(PostgresQuery(unsafeSQL: "DROP ROLE \(role)")).consumeAll()
            }
        }
    }

    @Test func eventsSpooledWhileTheDatabaseIsUnreachableArriveOnceAfterwards() async throws {
        try await withTestDatabase { db in
            let dir = try temporarySpoolDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            // A port nothing listens on: the database is down.
            var down = db.settings
            down.port = try freeLoopbackPort()
            let spool = { EventSpool(directory: dir, key: "pg", sinkDescription: "test", limitBytes: 1 << 30) }
            let firstSpool = spool()
            let unreachable = PostgreSQLEventSink(settings: down, passwordFile: nil, passwordEnvironmentVariable: nil,
                                                  writeTimeout: .seconds(2), logger: Logger(label: "t"))
            let writer = EventWriter(sink: unreachable, metrics: metrics, logger: Logger(label: "t"),
                                     acknowledgementTimeout: .seconds(3), spool: firstSpool)
            try await withRunning(writer) {
                let acks = await withTaskGroup(of: WriteAcknowledgement.self) { group in
                    for i in 0..<300 { group.addTask { await writer.submit(makeEvent(i)) } }
                    return await group.reduce(into: [WriteAcknowledgement]()) { $0.append($1) }
                }
                #expect(acks.allSatisfy { $0 == .spooled }, "\(Set(acks.map { "\($0)" }))")
            }
            #expect(firstSpool.status.pendingEvents == 300)
            // Some of them had already reached the database another way (a batch that timed out late).
            let direct = db.sink()
            try await direct.open()
            try await direct.write((0..<50).map { makeEvent($0) })
            await direct.close()
            // The database is back (the next start): the spool is replayed, every event stored once.
            let secondSpool = spool()
            let writer2 = EventWriter(sink: db.sink(), metrics: metrics, logger: Logger(label: "t"), spool: secondSpool)
            try await withRunning(writer2) {
                let deadline = ContinuousClock.now + .seconds(20)
                while secondSpool.status.pendingBytes > 0 || !secondSpool.isOpen, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(secondSpool.status.pendingBytes == 0)
            #expect(try await db.count() == 300)
            #expect(try await db.count("SELECT count(DISTINCT event_id) FROM linktrack_events") == 300)
        }
    }
}

func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}
