#if canImport(Glibc)
import Glibc
#endif
import LinkTrack
import LinkTrackServerCore
import Logging
import ServiceLifecycle
import UnixSignals
import Synchronization

/// The configuration in force, swapped whole on reload. Requests read it without waiting.
///
/// Reloaded on SIGHUP and when the file changes on disk (its inode, size or modification time:
/// the `put` commands and the control API replace it by rename), checked once a second. A new file
/// that does not validate is refused with a log line and the old configuration stays in force.
public final class LiveConfiguration: Sendable {
    public let path: String
    let logger: Logger
    let metrics: ServerMetrics
    let bursts = ClickBurstDetector()
    private let current: Mutex<(resolver: TrackingResolver, stamp: FileStamp?)>
    private let listeners = Mutex<[@Sendable (ServerConfiguration) -> Void]>([])

    /// Loads the file once; a configuration that does not load stops the start.
    public init(path: String, metrics: ServerMetrics, logger: Logger) throws {
        self.path = path
        self.logger = logger
        self.metrics = metrics
        let stamp = FileStamp(path: path)
        let configuration = try Self.load(path: path)
        current = Mutex((TrackingResolver(configuration: configuration, bursts: bursts), stamp))
    }

    public init(configuration: ServerConfiguration, metrics: ServerMetrics, logger: Logger) {
        self.path = ""
        self.logger = logger
        self.metrics = metrics
        current = Mutex((TrackingResolver(configuration: configuration, bursts: bursts), nil))
    }

    static func load(path: String) throws -> ServerConfiguration {
        let bytes = try FileIO.readAll(path: path)
        return try ServerConfiguration(json: bytes)
    }

    public var resolver: TrackingResolver { current.withLock { $0.resolver } }
    public var configuration: ServerConfiguration { resolver.configuration }

    /// Calls `listener` with each configuration that comes into force.
    public func onChange(_ listener: @escaping @Sendable (ServerConfiguration) -> Void) {
        listeners.withLock { $0.append(listener) }
    }

    /// Reads the file again; keeps the old configuration if the new one does not validate.
    /// - Returns: whether the new file is now in force.
    @discardableResult
    public func reload(reason: String) -> Bool {
        guard !path.isEmpty else { return false }
        let stamp = FileStamp(path: path)
        do {
            let configuration = try Self.load(path: path)
            current.withLock { $0 = (TrackingResolver(configuration: configuration, bursts: bursts), stamp) }
            metrics.reload(succeeded: true)
            logger.info("configuration reloaded", metadata: [
                "reason": .string(reason), "path": .string(path),
                "configurationSets": .stringConvertible(configuration.configuration.configurationSets.count)])
            for listener in listeners.withLock({ $0 }) { listener(configuration) }
            return true
        } catch {
            current.withLock { $0.stamp = stamp }
            metrics.reload(succeeded: false)
            logger.error("the new configuration was refused; the previous one stays in force", metadata: [
                "reason": .string(reason), "path": .string(path), "error": .string("\(error)")])
            return false
        }
    }

    /// Reloads when the file on disk is not the one last read.
    public func reloadIfChanged() {
        guard !path.isEmpty else { return }
        let stamp = FileStamp(path: path)
        let known = current.withLock { $0.stamp }
        if stamp != known { reload(reason: "file changed") }
    }
}

/// Identifies a version of a file: inode, size and modification time in nanoseconds.
struct FileStamp: Equatable, Sendable {
    var inode: UInt64
    var size: Int64
    var modified: Int64

    init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
    }
}

/// Watches for SIGHUP (reload, reopen JSON Lines files) and for a replaced configuration file.
public struct ConfigurationWatcher: Service {
    let configuration: LiveConfiguration
    let sinks: EventSinks
    let interval: Duration

    public init(configuration: LiveConfiguration, sinks: EventSinks, interval: Duration = .seconds(1)) {
        self.configuration = configuration
        self.sinks = sinks
        self.interval = interval
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in signals.cancelOnGracefulShutdown() {
                    configuration.reload(reason: "SIGHUP")
                    await sinks.reopenFiles()
                }
            }
            group.addTask {
                // Cancelled at once on graceful shutdown, so a stop never waits for the next check.
                try? await cancelWhenGracefulShutdown {
                    while true {
                        try await Task.sleep(for: interval)
                        configuration.reloadIfChanged()
                    }
                }
            }
        }
    }
}
