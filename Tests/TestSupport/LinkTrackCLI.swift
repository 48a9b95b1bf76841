import Foundation

/// The built `linktrack` binary, run as an MTA or an operator runs it.
public enum LinkTrackCLI {
    /// The binary: beside the test bundle (the products directory, whatever the scratch path; on
    /// Darwin the runner lies inside `X.xctest/Contents/MacOS`), else `.build/debug` under the root.
    public static let binary: String = {
        if let first = CommandLine.arguments.first {
            var directory = URL(fileURLWithPath: first).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("linktrack").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                directory = directory.deletingLastPathComponent()
            }
        }
        return PackageRoot.path + "/.build/debug/linktrack"
    }()

    /// What a run gave.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: [UInt8]
        public var stderr: String
        /// `stdout` as UTF-8 text.
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Where the run's stdin comes from.
    public enum Input: Sendable {
        /// A pipe, written on a thread of its own while the binary runs (as an MTA gives it).
        case pipe([UInt8])
        /// A regular file holding these bytes (which `filter --input html` maps rather than reads).
        case file([UInt8])
        /// `/dev/null`.
        case null
    }

    /// Runs the binary and waits for it.
    /// - Parameters:
    ///   - arguments: the command line after the program name.
    ///   - stdin: see ``Input``.
    ///   - environment: changes to this process's environment: a nil value removes the variable.
    ///   - stdoutPath: when set, stdout goes to this file instead of being captured.
    /// - Throws: when the binary cannot be started.
    public static func run(_ arguments: [String], stdin: Input = .pipe([]), environment: [String: String?] = [:],
                           stdoutPath: String? = nil) throws -> Result {
        // A command that fails before reading stdin (a usage error) closes the pipe while the
        // writer below may still be writing: the write must fail, not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (name, value) in environment { env[name] = value }
        process.environment = env
        let input = Pipe(), output = Pipe(), error = Pipe()
        let stdinPath = NSTemporaryDirectory() + "linktrack-stdin-\(UUID().uuidString)"
        defer { unlink(stdinPath) }
        switch stdin {
        case .pipe: process.standardInput = input
        case .file(let bytes):
            try Data(bytes).write(to: URL(fileURLWithPath: stdinPath))
            process.standardInput = FileHandle(forReadingAtPath: stdinPath)
        case .null: process.standardInput = FileHandle.nullDevice
        }
        if let stdoutPath {
            process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        } else {
            process.standardOutput = output
        }
        process.standardError = error
        try process.run()
        if case .pipe(let bytes) = stdin {
            let writer = Thread {
                try? input.fileHandleForWriting.write(contentsOf: Data(bytes))
                try? input.fileHandleForWriting.close()
            }
            writer.start()
        }
        // stderr is read on a thread of its own: a command that fills the stderr pipe while the
        // test still reads stdout must not block.
        let errorData = ErrorCollector()
        let reader = Thread {
            errorData.set(error.fileHandleForReading.readDataToEndOfFile())
        }
        reader.start()
        let out = stdoutPath == nil ? output.fileHandleForReading.readDataToEndOfFile() : Data()
        process.waitUntilExit()
        let err = errorData.wait()
        return Result(status: process.terminationStatus, stdout: Array(out), stderr: String(decoding: err, as: UTF8.self))
    }

    /// Runs the binary with `stdin` on a pipe and `environment` added to this process's.
    public static func run(_ arguments: [String], stdin: [UInt8], environment: [String: String] = [:],
                           stdoutPath: String? = nil) throws -> Result {
        try run(arguments, stdin: .pipe(stdin), environment: environment.mapValues { Optional($0) }, stdoutPath: stdoutPath)
    }

    /// Runs the binary with `stdin` given as text on a pipe.
    public static func run(_ arguments: [String], stdin: String, environment: [String: String] = [:]) throws -> Result {
        try run(arguments, stdin: Array(stdin.utf8), environment: environment)
    }
}

/// The stderr bytes, handed from the reading thread to the waiting one.
private final class ErrorCollector: @unchecked Sendable {
    private let done = NSCondition()
    private var data: Data?

    func set(_ value: Data) {
        done.lock()
        data = value
        done.signal()
        done.unlock()
    }

    func wait() -> Data {
        done.lock()
        defer { done.unlock() }
        while data == nil { done.wait() }
        return data!
    }
}
