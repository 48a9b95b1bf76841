import Foundation
import LinkTrack
import Testing
import TestSupport

/// Where `linktrack filter`'s notes and warnings go (issue 16, item 3): syslog (mail facility) when
/// its socket takes them, else a fallback file, never stderr on success; a `--log-file` that cannot
/// be opened stops the filter before it reads the message.
@Suite("FilterCLI: logging without syslog")
struct LoggingCLITests {
    static let dkimMessage = "mime-dkim-signed"
    static let warning = "warning: the message carries a DKIM-Signature"

    static func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "linktrack-\(name)-\(UUID().uuidString.prefix(8))"
    }

    /// A Unix datagram socket bound at a fresh path, standing in for `/dev/log`.
    final class SyslogSocket {
        let path = LoggingCLITests.temporaryPath("log")
        let fd: Int32

        init() throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            try #require(fd >= 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            try #require(bound == 0, "bind \(path): \(errno)")
        }

        /// The records received so far.
        func records() -> [String] {
            var out: [String] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if n <= 0 { break }
                out.append(String(decoding: buffer[0..<n], as: UTF8.self))
            }
            return out
        }

        deinit {
            close(fd)
            unlink(path)
        }
    }

    @Test func syslogGetsTheWarningWithTheMailFacility() throws {
        let socket = try SyslogSocket()
        let fallback = Self.temporaryPath("fallback")
        defer { unlink(fallback) }
        let input = try FilterCLITests.corpusInput(Self.dkimMessage)
        let run = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config], stdin: input,
                                         environment: ["LINKTRACK_TEST_SYSLOG_SOCKET": socket.path,
                                                       "LINKTRACK_TEST_FALLBACK_LOG": fallback])
        #expect(run.status == 0)
        #expect(run.stdout == input)
        #expect(run.stderr.isEmpty)
        let records = socket.records()
        #expect(records.count == 1)
        // <20>: facility mail (2) * 8 + severity warning (4), the ident with the process id.
        let record = try #require(records.first)
        #expect(record.hasPrefix("<20>"), "\(record)")
        #expect(record.contains(" linktrack["), "\(record)")
        #expect(record.contains("]: \(Self.warning)"), "\(record)")
        #expect(!FileManager.default.fileExists(atPath: fallback))
    }

    /// No syslog socket (a container without `/dev/log`), or a path that is not a socket: the
    /// records go to the fallback file, and stderr stays empty.
    @Test(arguments: ["missing", "regular file"])
    func withoutSyslogTheWarningGoesToTheFallbackFile(_ kind: String) throws {
        let socketPath = Self.temporaryPath("nolog")
        if kind == "regular file" { try FileIO.writeAtomically(path: socketPath, contents: []) }
        defer { unlink(socketPath) }
        let fallback = Self.temporaryPath("fallback")
        defer { unlink(fallback) }
        let input = try FilterCLITests.corpusInput(Self.dkimMessage)
        let run = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config], stdin: input,
                                         environment: ["LINKTRACK_TEST_SYSLOG_SOCKET": socketPath,
                                                       "LINKTRACK_TEST_FALLBACK_LOG": fallback])
        #expect(run.status == 0)
        #expect(run.stdout == input)
        #expect(run.stderr.isEmpty, "never stderr on success: \(run.stderr)")
        let log = String(decoding: try FileIO.readAll(path: fallback), as: UTF8.self)
        #expect(log.hasPrefix("linktrack["))
        #expect(log.contains("]: \(Self.warning)"))
        #expect(log.hasSuffix("\n") && log.filter { $0 == "\n" }.count == 1)
    }

    /// Nowhere to log at all: the message is still delivered, silently (stderr would land in the mail).
    @Test func nowhereToLogStillDeliversSilently() throws {
        let input = try FilterCLITests.corpusInput(Self.dkimMessage)
        let run = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config], stdin: input,
                                         environment: ["LINKTRACK_TEST_SYSLOG_SOCKET": "/nonexistent/log",
                                                       "LINKTRACK_TEST_FALLBACK_LOG": "/nonexistent/linktrack.log"])
        #expect(run.status == 0)
        #expect(run.stdout == input)
        #expect(run.stderr.isEmpty)
    }

    /// A `--log-file` that cannot be opened is a configuration error at start: exit 78, one line,
    /// no output, nothing sent to syslog.
    @Test(arguments: ["/nonexistent/dir/linktrack.log", "directory"])
    func unopenableLogFileIsAnErrorAtStart(_ path: String) throws {
        let socket = try SyslogSocket()
        let logFile = path == "directory" ? NSTemporaryDirectory() : path
        let input = try FilterCLITests.corpusInput(Self.dkimMessage)
        let run = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config, "--log-file", logFile], stdin: input,
                                         environment: ["LINKTRACK_TEST_SYSLOG_SOCKET": socket.path])
        #expect(run.status == 78)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("linktrack: cannot open the log file \(logFile): "), "\(run.stderr)")
        #expect(run.stderr.hasSuffix("\n") && run.stderr.filter { $0 == "\n" }.count == 1)
        #expect(socket.records().isEmpty)
    }
}
