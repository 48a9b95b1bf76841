#if canImport(Glibc)
import Glibc
#endif
import LinkTrack
import LinkTrackServer
import LinkTrackServerCore
import Logging
import Metrics
import Prometheus

/// `linktrack-server`: the thin executable. Flags → settings, logging and metrics bootstrap,
/// `ServiceGroup.run()`; everything else is in LinkTrackServer. Exit statuses follow sysexits:
/// 64 usage, 66 no input (configuration file missing), 78 configuration error, 75 temporary failure.
@main
enum LinkTrackServerMain {
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let command = arguments.first else {
            fail(ServerUsage.text, status: 64)
        }
        arguments.removeFirst()
        switch command {
        case "--version", "version":
            print("linktrack-server \(ServerVersion.current)")
        case "-h", "--help", "help":
            print(ServerUsage.text, terminator: "")
        case "serve":
            await serve(arguments)
        case "report":
            await report(arguments)
        default:
            fail("linktrack-server: unknown command '\(command)'\n\n" + ServerUsage.text, status: 64)
        }
    }

    static func fail(_ message: String, status: Int32) -> Never {
        var text = message
        if !text.hasSuffix("\n") { text += "\n" }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(status)
    }

    static func parse(_ arguments: [String], spec: [String: Bool], usage: String) -> [String: String] {
        do {
            return try ServerFlags.parse(arguments, valueFlags: Set(spec.filter { $0.value }.map(\.key)),
                                         booleanFlags: Set(spec.filter { !$0.value }.map(\.key)))
        } catch {
            fail("linktrack-server: \(error)\n\n" + usage, status: 64)
        }
    }

    static func serve(_ arguments: [String]) async {
        let flags = parse(arguments, spec: ServerUsage.serveFlags, usage: ServerUsage.text)
        if flags["help"] != nil { print(ServerUsage.text, terminator: ""); return }
        let settings: ServerSettings
        do {
            settings = try ServerFlags.settings(flags, environment: ProcessEnvironment.value(of:))
        } catch {
            fail("linktrack-server: \(error)", status: 64)
        }
        let level = ProcessEnvironment.value(of: "LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in ServerLogHandler(label: label, logLevel: level) }
        let logger = Logger(label: "linktrack-server")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let metrics = ServerMetrics(factory: MetricsSystem.factory)
        ServerLimits.raiseOpenFileLimit()

        if mkdir(settings.dataDirectory, 0o750) != 0 && errno != EEXIST {
            fail("linktrack-server: cannot create the data directory \(settings.dataDirectory): \(String(cString: strerror(errno)))", status: 73)
        }
        let configuration: LiveConfiguration
        do {
            configuration = try LiveConfiguration(path: settings.configurationPath, metrics: metrics, logger: logger)
        } catch let error as IOError {
            fail("linktrack-server: cannot read the configuration: \(error)", status: 66)
        } catch {
            fail("linktrack-server: the configuration \(settings.configurationPath) is not valid: \(error)", status: 78)
        }
        let services = LinkTrackServerServices(settings: settings, configuration: configuration, metrics: metrics,
                                               registry: registry, logger: logger,
                                               adminRoutes: { router in ServerExtensions.addAdminRoutes(router, configuration, logger) })
        do {
            try await services.serviceGroup.run()
        } catch {
            logger.critical("linktrack-server stopped: \(error)")
            exit(75)
        }
    }

    static func report(_ arguments: [String]) async {
        let flags = parse(arguments, spec: ServerUsage.reportFlags, usage: ServerUsage.text)
        if flags["help"] != nil { print(ServerUsage.text, terminator: ""); return }
        do {
            let options = try ServerFlags.reportOptions(flags, environment: ProcessEnvironment.value(of:))
            let output = try await EventReportCommand.run(options)
            print(output, terminator: "")
        } catch let error as ServerFlags.UsageError {
            fail("linktrack-server: \(error)", status: 64)
        } catch let error as IOError {
            fail("linktrack-server: \(error)", status: 66)
        } catch let error as ConfigurationError {
            fail("linktrack-server: the configuration is not valid: \(error)", status: 78)
        } catch {
            fail("linktrack-server: cannot read the events: \(error)", status: 74)
        }
    }
}
