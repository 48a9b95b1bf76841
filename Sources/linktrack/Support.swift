import CSupport
import LinkTrack

#if canImport(Glibc)
import Glibc
#endif

enum StandardError {
    static func write(_ text: String) {
        try? FileIO.write(fileDescriptor: 2, Array(text.utf8))
    }
}

/// Where warnings and notes go: never stderr on success, because MTAs merge a filter's stderr into
/// the message (Exim's transport_filter). To `--log-file` when given, else to syslog (mail facility).
final class Logger {
    let fileDescriptor: Int32?
    let alsoStandardError: Bool

    init(logFile: String?, verbose: Bool) {
        alsoStandardError = verbose
        if let logFile {
            let fd = open(logFile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            fileDescriptor = fd >= 0 ? fd : nil
        } else {
            fileDescriptor = nil
            lt_openlog("linktrack")
        }
    }

    deinit {
        if let fileDescriptor { close(fileDescriptor) }
    }

    func note(_ message: String) { emit("note", message, priority: lt_log_notice()) }
    func warning(_ message: String) { emit("warning", message, priority: lt_log_warning()) }
    func error(_ message: String) { emit("error", message, priority: lt_log_err()) }

    private func emit(_ level: String, _ message: String, priority: Int32) {
        let line = "linktrack[\(getpid())]: \(level): \(message)"
        if let fileDescriptor {
            try? FileIO.write(fileDescriptor: fileDescriptor, Array((line + "\n").utf8))
        } else {
            lt_syslog(priority, "\(level): \(message)")
        }
        if alsoStandardError { StandardError.write(line + "\n") }
    }
}

/// Loads the configuration file, mapping failures to exit 78 (EX_CONFIG).
func loadConfiguration(path: String, log: Logger?) throws -> Configuration {
    let bytes: [UInt8]
    do {
        bytes = try FileIO.readAll(path: path)
    } catch {
        throw fail("linktrack: configuration error: \(error)", code: SysExit.configuration, log: log)
    }
    do {
        return try Configuration(json: bytes)
    } catch {
        throw fail("linktrack: configuration error in \(path): \(error)", code: SysExit.configuration, log: log)
    }
}

/// The default configuration path: `$LINKTRACK_CONFIG`, else `/etc/linktrack/config.json`.
func defaultConfigPath() -> String {
    ProcessEnvironment.value(of: "LINKTRACK_CONFIG") ?? "/etc/linktrack/config.json"
}
