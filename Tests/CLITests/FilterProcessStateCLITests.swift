import Foundation
import LinkTrack
import Testing
import TestSupport

/// The process state an MTA may hand `linktrack filter` (issue 16, items 18 and 19): closed or
/// failing standard descriptors, a memory limit, SIGQUIT. Each run is the built binary.
@Suite("FilterCLI: closed descriptors, memory limits and signals")
struct FilterProcessStateCLITests {
    static let fatalLine = "linktrack: temporary failure: the filter was stopped by a fatal signal (out of memory, a crash, or SIGQUIT); the message was not delivered\n"
    static let input = PackageRoot.corpus + "/mime-single-part-html-crlf/input.eml"

    static func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "linktrack-\(name)-\(UUID().uuidString.prefix(8))"
    }

    enum Descriptor {
        case closed
        case path(String, flags: Int32)
    }

    /// Spawns `linktrack` with each of fds 0-2 closed or opened on a path, optionally through
    /// `/bin/sh -c 'ulimit -v KB; exec …'`; returns the exit status (128 + n for signal n).
    static func spawn(_ arguments: [String], stdin: Descriptor, stdout: Descriptor, stderr: Descriptor,
                      virtualMemoryKilobytes: Int? = nil) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, descriptor) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch descriptor {
            case .closed: posix_spawn_file_actions_addclose(&actions, fd)
            case .path(let path, let flags): posix_spawn_file_actions_addopen(&actions, fd, path, flags, 0o600)
            }
        }
        var argv = [LinkTrackCLI.binary] + arguments
        if let limit = virtualMemoryKilobytes {
            argv = ["/bin/sh", "-c", "ulimit -v \(limit) && exec \"$0\" \"$@\""] + argv
        }
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        try #require(rc == 0)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    static func read(_ path: String) -> String {
        (try? FileIO.readAll(path: path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Item 18: with stdout closed, the `--log-file` used to become fd 1 and receive the whole
    /// message (exit 0). Now: exit 74, one line on stderr, nothing of the message in the log.
    @Test func closedStandardOutputIsAnIOErrorAndTheLogGetsNoMessageBytes() throws {
        let log = Self.temporaryPath("log"), err = Self.temporaryPath("err")
        defer { unlink(log); unlink(err) }
        let status = try Self.spawn(["filter", "--config", FilterCLITests.config, "--log-file", log],
                                    stdin: .path(Self.input, flags: O_RDONLY), stdout: .closed,
                                    stderr: .path(err, flags: O_WRONLY | O_CREAT | O_TRUNC))
        #expect(status == 74)
        #expect(Self.read(err) == "linktrack: standard output is closed; nothing was read or written\n")
        let logged = Self.read(log)
        #expect(!logged.contains("Message-ID") && !logged.contains("<html") && !logged.contains("Subject"), "\(logged)")
        for line in logged.split(separator: "\n") { #expect(line.hasPrefix("linktrack["), "\(line)") }
    }

    /// A closed stderr (or stdin) is opened on /dev/null: the log file does not take its place.
    @Test func closedStandardErrorDoesNotTurnTheLogIntoStandardError() throws {
        let log = Self.temporaryPath("log"), out = Self.temporaryPath("out")
        defer { unlink(log); unlink(out) }
        let status = try Self.spawn(["filter", "--config", FilterCLITests.config, "--log-file", log, "--explain"],
                                    stdin: .path(Self.input, flags: O_RDONLY),
                                    stdout: .path(out, flags: O_WRONLY | O_CREAT | O_TRUNC), stderr: .closed)
        #expect(status == 0)
        let expected = try FileIO.readAll(path: PackageRoot.corpus + "/mime-single-part-html-crlf/expected.eml")
        #expect(try FileIO.readAll(path: out) == expected)
        #expect(!Self.read(log).contains("configuration set:"), "the --explain text went into the log")
    }

    /// Item 18: a failing stdout is 74 (ENOSPC; EPIPE, with SIGPIPE ignored by the filter itself).
    @Test func failingStandardOutputIsAnIOError() throws {
        let err = Self.temporaryPath("err")
        defer { unlink(err) }
        let full = try Self.spawn(["filter", "--config", FilterCLITests.config, "--log-file", "/dev/null"],
                                  stdin: .path(Self.input, flags: O_RDONLY), stdout: .path("/dev/full", flags: O_WRONLY),
                                  stderr: .path(err, flags: O_WRONLY | O_CREAT | O_TRUNC))
        #expect(full == 74)
        #expect(Self.read(err).split(separator: "\n").count == 1)

        // A pipe whose reader is gone; the spawn inherits the test process's SIGPIPE disposition
        // set to the default, so that only the filter's own disposition can make this 74.
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        close(fds[0])
        defer { close(fds[1]) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LinkTrackCLI.binary)
        process.arguments = ["filter", "--config", FilterCLITests.config, "--log-file", "/dev/null"]
        process.standardInput = FileHandle(forReadingAtPath: Self.input)
        process.standardOutput = FileHandle(fileDescriptor: fds[1], closeOnDealloc: false)
        let error = Pipe()
        process.standardError = error
        try process.run()
        let text = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 74)
        #expect(text == "linktrack: cannot write the output: cannot write: Broken pipe\n")
    }

    /// Item 19: under a memory limit the filter fails with one line and 75 (not 134 or 139, not the
    /// runtime's "Fatal error"). The limit is found here: the smallest of a few under which a small
    /// message still passes (the binary and its libraries need some address space to start).
    @Test func memoryLimitIsATemporaryFailureWithOneLine() throws {
        let big = Self.temporaryPath("big.eml"), err = Self.temporaryPath("err")
        defer { unlink(big); unlink(err) }
        var message = Array("Message-ID: <big@example.com>\r\nContent-Type: text/html\r\n\r\n".utf8)
        for i in 0..<600_000 { message += Array("<a href=\"https://example.com/\(i)\">x</a>\r\n".utf8) }
        try FileIO.writeAtomically(path: big, contents: message)

        let arguments = ["filter", "--config", FilterCLITests.config, "--log-file", "/dev/null"]
        var limit: Int?
        for candidate in [60_000, 70_000, 80_000, 100_000, 130_000, 170_000, 220_000] {
            let status = try Self.spawn(arguments, stdin: .path(Self.input, flags: O_RDONLY),
                                        stdout: .path("/dev/null", flags: O_WRONLY), stderr: .path("/dev/null", flags: O_WRONLY),
                                        virtualMemoryKilobytes: candidate)
            if status == 0 { limit = candidate; break }
        }
        let kilobytes = try #require(limit, "no tried limit lets a small message through")
        let status = try Self.spawn(arguments, stdin: .path(big, flags: O_RDONLY),
                                    stdout: .path("/dev/null", flags: O_WRONLY),
                                    stderr: .path(err, flags: O_WRONLY | O_CREAT | O_TRUNC),
                                    virtualMemoryKilobytes: kilobytes)
        #expect(status == 75, "ulimit -v \(kilobytes): \(Self.read(err))")
        #expect(Self.read(err) == Self.fatalLine)
    }

    /// Item 19: SIGQUIT while the filter waits on stdin (a pipe the test holds open) is exit 75 and
    /// one line, not the runtime's crash report (which printed memory and then let the run exit 0).
    @Test func sigquitIsATemporaryFailureWithoutACrashReport() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LinkTrackCLI.binary)
        process.arguments = ["filter", "--config", FilterCLITests.config, "--log-file", "/dev/null"]
        let input = Pipe(), output = Pipe(), error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // The header block is written on as soon as it is read: output means the filter is past
        // its start (its handlers installed) and reading the body.
        input.fileHandleForWriting.write(Data("Message-ID: <q@example.com>\r\nSubject: secret-subject\r\nContent-Type: text/plain\r\n\r\nsecret-body".utf8))
        let first = output.fileHandleForReading.availableData
        #expect(!first.isEmpty)
        kill(process.processIdentifier, SIGQUIT)
        let text = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try? input.fileHandleForWriting.close()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 75)
        #expect(text == Self.fatalLine)
        #expect(!text.contains("Backtracing") && !text.contains("crashed") && !text.contains("secret"))
    }
}
