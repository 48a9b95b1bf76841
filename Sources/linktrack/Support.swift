import CSupport
import LinkTrack

#if canImport(Glibc)
import Glibc
#endif

enum StandardError {
    /// The stderr the process was given: fd 2, or for `filter` the descriptor it was moved to
    /// (``LinkTrackCommand/prepareProcess(filter:)``). Set once at start, before any other thread.
    nonisolated(unsafe) static var fileDescriptor: Int32 = 2

    static func write(_ text: String) {
        try? FileIO.write(fileDescriptor: fileDescriptor, Array(text.utf8))
    }
}

/// Where warnings and notes go: never stderr on success, because MTAs merge a filter's stderr into
/// the message (Exim's transport_filter).
///
/// - With `--log-file`: that file, opened before anything else is done (a file that cannot be
///   opened is a configuration error, exit 78, before the message is read).
/// - Else syslog, mail facility, through `/dev/log`. A record the socket does not take (no syslog
///   daemon, as in most containers; see ``lt_syslog_send``) goes to the fallback file instead:
///   `/var/log/linktrack.log` when it can be appended to, else `/tmp/linktrack-<uid>.log` (created
///   mode 0600, used only when it is the filter user's own).
final class Logger {
    /// The syslog socket.
    static let syslogSocket = ProcessEnvironment.value(of: "LINKTRACK_TEST_SYSLOG_SOCKET") ?? "/dev/log"
    /// Where records go when syslog does not take them, in order of preference.
    static var fallbackFiles: [String] {
        // Test-only switch: the integration and CLI tests must not write the real locations.
        if let test = ProcessEnvironment.value(of: "LINKTRACK_TEST_FALLBACK_LOG") { return [test] }
        return ["/var/log/linktrack.log", "/tmp/linktrack-\(getuid()).log"]
    }

    /// `--log-file` could not be opened.
    struct OpenError: Error, CustomStringConvertible {
        var path: String
        var code: Int32
        var description: String { "cannot open the log file \(path): \(String(cString: strerror(code)))" }
    }

    /// The `--log-file`, or the fallback file once syslog has refused a record.
    private var fileDescriptor: Int32?
    private let usesSyslog: Bool
    /// Whether the fallback was tried (once per process, whether or not it could be opened).
    private var fallbackTried = false
    let alsoStandardError: Bool

    init(logFile: String?, verbose: Bool) throws(OpenError) {
        alsoStandardError = verbose
        if let logFile {
            let fd = open(logFile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw OpenError(path: logFile, code: errno) }
            fileDescriptor = fd
            usesSyslog = false
        } else {
            fileDescriptor = nil
            usesSyslog = true
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
        if usesSyslog, fileDescriptor == nil, !fallbackTried,
           lt_syslog_send(Self.syslogSocket, lt_log_mail() | priority, "linktrack", "\(level): \(message)") == 0 {
            if alsoStandardError { StandardError.write(line + "\n") }
            return
        }
        if fileDescriptor == nil, !fallbackTried {
            fallbackTried = true
            fileDescriptor = Self.openFallback()
        }
        if let fileDescriptor {
            try? FileIO.write(fileDescriptor: fileDescriptor, Array((line + "\n").utf8))
        }
        if alsoStandardError { StandardError.write(line + "\n") }
    }

    /// The first fallback file that can be appended to and belongs to this user.
    static func openFallback() -> Int32? {
        for path in fallbackFiles {
            // O_NOFOLLOW: a link planted in /tmp must not redirect the records.
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { continue }
            var status = stat()
            if fstat(fd, &status) == 0, status.st_uid == geteuid(), (status.st_mode & S_IFMT) == S_IFREG {
                return fd
            }
            close(fd)
        }
        return nil
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

/// A put command's file handling: reads the configuration file at `path`, gives its bytes to `put`
/// and replaces the file atomically with what it returns. A file that cannot be read is exit 78; text
/// that is not JSON, or a request `put` refuses, is its SES exception and exit 65; a failed write 74.
func putConfigurationFile(_ path: String, _ put: ([UInt8]) throws(ConfigurationError) -> [UInt8]) throws {
    let bytes: [UInt8]
    do {
        bytes = try FileIO.readAll(path: path)
    } catch {
        throw fail("linktrack: \(error)", code: SysExit.configuration)
    }
    do {
        do {
            _ = try JSONValue.parse(bytes)
        } catch {
            // Named after the file, which the library's message cannot be.
            throw ConfigurationError.badRequest("\(path) is not valid JSON: \(error.description).")
        }
        try FileIO.writeAtomically(path: path, contents: try put(bytes))
    } catch let error as ConfigurationError {
        throw fail("\(error.exceptionName): \(error.message)", code: SysExit.dataError)
    } catch let error as IOError {
        throw fail("linktrack: \(error)", code: SysExit.ioError)
    }
}
