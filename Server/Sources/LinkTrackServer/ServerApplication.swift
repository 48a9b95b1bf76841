import Hummingbird
import HummingbirdCore
import LinkTrackServerCore
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization

/// How `linktrack-server serve` runs: addresses, limits and bounds (the flags of `serve`).
public struct ServerSettings: Sendable {
    public var configurationPath: String
    public var dataDirectory: String
    public var listenHost = "127.0.0.1"
    public var listenPort = 8080
    public var adminHost = "127.0.0.1"
    public var adminPort = 8081
    /// Request line plus headers, at most (bytes): larger requests get 400 and the connection closes.
    public var maximumHeaderBytes = 8 * 1024
    /// A connection that sends no complete request (or nothing after a response) for this long is closed:
    /// this bounds slow and idle connections (slow-loris).
    public var idleTimeout: Duration = .seconds(15)
    /// Open connections per listener, at most; more wait in the listen backlog.
    public var maximumConnections = 16_384
    public var acknowledgementTimeout: Duration = .milliseconds(100)
    public var eventQueueLimit = 100_000
    public var sqliteSynchronous = "NORMAL"
    public var shutdownGracePeriod: Duration = .seconds(25)
    /// The cap of each remote sink's disk spool (`--spool-limit-bytes`).
    public var spoolLimitBytes: Int64 = 1 << 30

    public init(configurationPath: String, dataDirectory: String) {
        self.configurationPath = configurationPath
        self.dataDirectory = dataDirectory
    }
}

/// Reports the bound addresses once both listeners are up, then logs the one start line.
public final class ListenerAnnouncer: Sendable {
    struct State {
        var publicAddress: String?
        var adminAddress: String?
        var announced = false
    }
    private let state = Mutex(State())
    let logger: Logger
    let onReady: @Sendable (String, String) -> Void

    public init(logger: Logger, onReady: @escaping @Sendable (String, String) -> Void = { _, _ in }) {
        self.logger = logger
        self.onReady = onReady
    }

    func report(public address: String? = nil, admin: String? = nil) {
        let both = state.withLock { s -> (String, String)? in
            if let address { s.publicAddress = address }
            if let admin { s.adminAddress = admin }
            guard !s.announced, let p = s.publicAddress, let a = s.adminAddress else { return nil }
            s.announced = true
            return (p, a)
        }
        if let (p, a) = both {
            logger.info("linktrack-server listening public=\(p) admin=\(a)")
            onReady(p, a)
        }
    }

    static func describe(_ channel: any Channel, fallbackHost: String) -> String {
        let port = channel.localAddress?.port ?? 0
        let host = channel.localAddress?.ipAddress ?? fallbackHost
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Everything `serve` runs, in shutdown order: on SIGTERM or SIGINT the public listener drains
/// first (in-flight requests finish and their events are handed over), then the admin listener,
/// then the configuration watcher, then the sinks flush and close.
public struct LinkTrackServerServices: Sendable {
    public let configuration: LiveConfiguration
    public let sinks: EventSinks
    public let metrics: ServerMetrics
    public let serviceGroup: ServiceGroup

    public init(settings: ServerSettings, configuration: LiveConfiguration, metrics: ServerMetrics,
                registry: PrometheusCollectorRegistry?, logger: Logger,
                adminRoutes: (Router<AdminRequestContext>) -> Void = { _ in },
                onReady: @escaping @Sendable (String, String) -> Void = { _, _ in }) {
        var sinkOptions = EventSinks.Options(dataDirectory: settings.dataDirectory)
        sinkOptions.acknowledgementTimeout = settings.acknowledgementTimeout
        sinkOptions.queueLimit = settings.eventQueueLimit
        sinkOptions.sqliteSynchronous = settings.sqliteSynchronous
        sinkOptions.spoolLimitBytes = settings.spoolLimitBytes
        let sinks = EventSinks(options: sinkOptions, metrics: metrics, logger: logger)
        sinks.prepare(for: configuration.configuration)
        configuration.onChange { sinks.prepare(for: $0) }

        let announcer = ListenerAnnouncer(logger: logger, onReady: onReady)
        let http1 = HTTP1Channel.Configuration(
            idleTimeout: .nanoseconds(Int64(settings.idleTimeout.components.seconds) * 1_000_000_000
                + settings.idleTimeout.components.attoseconds / 1_000_000_000),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: settings.maximumHeaderBytes,
                                            maxHeaderListSize: settings.maximumHeaderBytes,
                                            maxHeaderFieldCount: 100))

        let publicApp = Application(
            responder: PublicResponder(configuration: configuration, sinks: sinks, metrics: metrics),
            server: .http1(configuration: http1),
            configuration: ApplicationConfiguration(
                address: .hostname(settings.listenHost, port: settings.listenPort), backlog: 1024,
                availableConnectionsDelegate: MaximumAvailableConnections(settings.maximumConnections)),
            onServerRunning: { announcer.report(public: ListenerAnnouncer.describe($0, fallbackHost: settings.listenHost)) },
            logger: logger)

        let adminRouter = buildAdminRouter(sinks: sinks, registry: registry)
        adminRoutes(adminRouter)
        let adminApp = Application(
            router: adminRouter,
            server: .http1(configuration: http1),
            configuration: ApplicationConfiguration(
                address: .hostname(settings.adminHost, port: settings.adminPort), backlog: 256,
                availableConnectionsDelegate: MaximumAvailableConnections(1024)),
            onServerRunning: { announcer.report(admin: ListenerAnnouncer.describe($0, fallbackHost: settings.adminHost)) },
            logger: logger)

        let watcher = ConfigurationWatcher(configuration: configuration, sinks: sinks)
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: sinks),
                .init(service: watcher),
                .init(service: adminApp),
                .init(service: publicApp),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = settings.shutdownGracePeriod
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        self.configuration = configuration
        self.sinks = sinks
        self.metrics = metrics
        self.serviceGroup = ServiceGroup(configuration: groupConfiguration)
    }
}
