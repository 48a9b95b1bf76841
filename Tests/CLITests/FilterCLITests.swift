import Foundation
import LinkTrack
import Testing
import TestSupport

/// Runs the built `linktrack` binary as an MTA would and checks stdout, stderr and the exit status.
@Suite struct FilterCLITests {
    static let config = PackageRoot.corpus + "/config.json"

    static func corpusInput(_ name: String) throws -> [UInt8] {
        try FileIO.readAll(path: PackageRoot.corpus + "/\(name)/input.eml")
    }

    @Test func deliversTheRecordedOutputSilently() throws {
        let input = try Self.corpusInput("mime-mixed-related-alternative-crlf")
        let expected = try FileIO.readAll(path: PackageRoot.corpus + "/mime-mixed-related-alternative-crlf/expected.eml")
        let logFile = NSTemporaryDirectory() + "linktrack-log-\(UUID().uuidString)"
        let run = try LinkTrackCLI.run(["filter", "--config", Self.config, "--log-file", logFile], stdin: input)
        #expect(run.status == 0)
        #expect(run.stdout == expected)
        #expect(run.stderr.isEmpty, "stderr must stay empty on success: \(run.stderr)")
    }

    /// Options may be written `--name value` or `--name=value`: both must do the same thing. Rows:
    /// the same invocation written both ways.
    @Test(arguments: [
        (["--input", "html", "--message-id", "m1@example.com", "--configuration-set", "marketing", "--explain"],
         ["--input=html", "--message-id=m1@example.com", "--configuration-set=marketing", "--explain"]),
        (["--configuration-set", "no-such-set", "--unknown-configuration-set", "reject"],
         ["--configuration-set=no-such-set", "--unknown-configuration-set=reject"]),
        (["--configuration-set", "no-such-set", "--unknown-configuration-set", "pass", "--verbose"],
         ["--configuration-set=no-such-set", "--unknown-configuration-set=pass", "--verbose"]),
        (["--rewrite-signed", "--input", "eml"], ["--rewrite-signed", "--input=eml"]),
    ])
    func spacedAndEqualsSpellingsAgree(plain: [String], equals: [String]) throws {
        let input = try Self.corpusInput("mime-mixed-related-alternative-crlf")
        let logFile = NSTemporaryDirectory() + "linktrack-log-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: logFile) }
        let spaced = try LinkTrackCLI.run(["filter", "--config", Self.config, "--log-file", logFile] + plain, stdin: input)
        let parsed = try LinkTrackCLI.run(["filter", "--config=\(Self.config)", "--log-file=\(logFile)"] + equals, stdin: input)
        #expect(spaced.status == parsed.status)
        #expect(spaced.stdout == parsed.stdout)
        // Log lines carry the process id: compare without it.
        func withoutPID(_ text: String) -> String { text.replacing(/linktrack\[\d+\]/, with: "linktrack[pid]") }
        #expect(withoutPID(spaced.stderr) == withoutPID(parsed.stderr))
    }

    /// A wrong command line is explained on stderr with the usage, and exits 64 (EX_USAGE) without
    /// reading stdin. Rows: the argument list after `filter --config FILE`, and what the error names.
    @Test(arguments: [
        (["--bogus"], "Unknown option '--bogus'"),
        (["--input", "xml"], "The value 'xml' is invalid for '--input <input>': use one of eml, html"),
        (["--message-id"], "Missing value for '--message-id <message-id>'"),
        (["--input", "-x"], "Missing value for '--input <input>'"),
        (["--explain=yes"], "The flag '--explain' takes no value"),
        (["-x"], "Unknown option '-x'"),
        (["stray"], "Unexpected argument 'stray'"),
    ])
    func wrongArgumentsAreUsageErrors(arguments: [String], error: String) throws {
        let run = try LinkTrackCLI.run(["filter", "--config", Self.config] + arguments, stdin: [])
        #expect(run.status == 64)
        #expect(run.stderr.hasPrefix("Error: \(error)."), "\(run.stderr)")
        #expect(run.stderr.contains("Usage: linktrack filter [--config <config>]"))
        #expect(run.stdout.isEmpty)
    }

    /// Help goes to stdout and exits 0, in each of its spellings; a missing or unknown subcommand
    /// and a missing required option or argument are usage errors.
    @Test func helpAndCommandErrors() throws {
        for arguments in [["--help"], ["-h"], ["help"]] {
            let run = try LinkTrackCLI.run(arguments, stdin: [])
            #expect(run.status == 0)
            let text = String(decoding: run.stdout, as: UTF8.self)
            #expect(text.hasPrefix("OVERVIEW: Open- and click-tracking rewriter"))
            for name in ["filter", "decode", "keygen", "put-configuration-set-tracking-options", "corpus", "check"] {
                #expect(text.contains("\n  \(name)"), "the help should list \(name)")
            }
        }
        for arguments in [["filter", "--help"], ["help", "filter"], ["filter", "--config", "x", "-h"]] {
            let run = try LinkTrackCLI.run(arguments, stdin: [])
            #expect(run.status == 0)
            let text = String(decoding: run.stdout, as: UTF8.self)
            #expect(text.hasPrefix("OVERVIEW: Track one message"))
            #expect(text.contains("--unknown-configuration-set <unknown-configuration-set>"))
            #expect(text.contains("(values: eml, html; default: eml)"))
        }
        let cases: [([String], String)] = [
            ([], "Missing expected argument '<subcommand>'"),
            (["frobnicate"], "Unknown subcommand 'frobnicate'"),
            (["help", "frobnicate"], "Unknown subcommand 'frobnicate'"),
            (["check", "--config", Self.config, "only-one"], "Missing expected argument '<output>'"),
            (["put-configuration-set-tracking-options", "--config", "x"],
             "Missing expected argument '--configuration-set-name <configuration-set-name>'"),
        ]
        for (arguments, error) in cases {
            let run = try LinkTrackCLI.run(arguments, stdin: [])
            #expect(run.status == 64, "\(arguments)")
            #expect(run.stderr.hasPrefix("Error: \(error)."), "\(arguments): \(run.stderr)")
        }
    }

    /// `--` ends the options, a repeatable option keeps every value, and a value that starts with
    /// `-` can be given with `=`.
    @Test func optionEndAndRepeatedOptions() throws {
        let dir = NSTemporaryDirectory() + "linktrack-args-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = try Self.corpusInput("mime-mixed-related-alternative-crlf")
        let filtered = try LinkTrackCLI.run(["filter", "--config", Self.config, "--log-file", "/dev/null"], stdin: input)
        #expect(filtered.status == 0)
        // The transport added two header fields: each must be named to be ignored.
        let added = Array("Received: from a\r\nReturn-Path: <b@example.com>\r\n".utf8) + filtered.stdout
        try FileIO.writeAtomically(path: dir + "/-in.eml", contents: input)
        try FileIO.writeAtomically(path: dir + "/out.eml", contents: added)
        let both = try LinkTrackCLI.run(["check", "--config", Self.config, "--ignore-header", "Received",
                                 "--ignore-header=Return-Path", "--", dir + "/-in.eml", dir + "/out.eml"], stdin: [])
        #expect(both.status == 0, "\(String(decoding: both.stdout, as: UTF8.self))")
        let one = try LinkTrackCLI.run(["check", "--config", Self.config, "--ignore-header", "Received",
                                "--", dir + "/-in.eml", dir + "/out.eml"], stdin: [])
        #expect(one.status == 1)
        // A message id that starts with "-".
        let html = Array("<html><body><a href=\"https://example.com/\">x</a></body></html>".utf8)
        let dashed = try LinkTrackCLI.run(["filter", "--config", Self.config, "--input=html", "--message-id=-m@example.com",
                                   "--explain", "--log-file", "/dev/null"], stdin: html)
        #expect(dashed.status == 0)
        #expect(dashed.stderr.contains("link 0 <a>"))
    }

    @Test func explainPrintsPartsAndLinks() throws {
        let input = try Self.corpusInput("mime-mixed-related-alternative-crlf")
        let run = try LinkTrackCLI.run(["filter", "--config", Self.config, "--explain", "--log-file", "/dev/null"], stdin: input)
        #expect(run.status == 0)
        #expect(run.stderr.contains("part 1.1.2 text/html: rewritten"))
        #expect(run.stderr.contains("link 0 <a>"))
    }

    @Test func htmlInputMode() throws {
        let html = Array("<html><body><a href=\"https://example.com/\">x</a></body></html>".utf8)
        let run = try LinkTrackCLI.run(["filter", "--config", Self.config, "--input", "html", "--message-id", "<h@example.com>", "--log-file", "/dev/null"], stdin: html)
        #expect(run.status == 0)
        let text = String(decoding: run.stdout, as: UTF8.self)
        #expect(text.hasPrefix("<html><body><a href=\"https://links.example.com/c/1.corpus1."))
        #expect(text.contains("m=h@example.com&amp;s=marketing&amp;i=0&amp;u=https://example.com/\">x</a><img src=\"https://links.example.com/o/1.corpus1."))
        #expect(text.hasSuffix("></body></html>"))
    }

    /// A document on a regular file (mapped) comes out exactly as the same document on a pipe
    /// (read): rewritten, untouched, with a NUL (parsed from a copy), and empty.
    @Test(arguments: ["rewritten", "no set", "nul", "empty", "derived id"])
    func htmlInputFromAFileEqualsHTMLInputFromAPipe(_ kind: String) throws {
        var html = Array(("<html><body>" + String(repeating: "<p><a href=\"https://example.com/p?q=1&amp;r=2\">x</a> caf\u{E9}</p>\n", count: 300)
            + "</body></html>\n").utf8)
        var arguments = ["filter", "--config", Self.config, "--input", "html", "--log-file", "/dev/null"]
        if kind != "derived id" { arguments += ["--message-id", "<f@example.com>"] }
        switch kind {
        case "no set": arguments += ["--configuration-set", "no-domain"]
        case "nul": html.insert(0, at: 40)
        case "empty": html = []
        default: break
        }
        let piped = try LinkTrackCLI.run(arguments, stdin: html)
        let mapped = try LinkTrackCLI.run(arguments, stdin: .file(html))
        #expect(piped.status == 0 && mapped.status == 0, "\(piped.stderr) \(mapped.stderr)")
        #expect(mapped.stdout == piped.stdout)
        #expect((piped.stdout != html) == (kind == "rewritten" || kind == "nul" || kind == "derived id"))
    }

    @Test func warningsGoToTheLogFileNotToStderr() throws {
        let input = try Self.corpusInput("mime-dkim-signed")
        let logFile = NSTemporaryDirectory() + "linktrack-log-\(UUID().uuidString)"
        defer { unlink(logFile) }
        let run = try LinkTrackCLI.run(["filter", "--config", Self.config, "--log-file", logFile], stdin: input)
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        let log = String(decoding: try FileIO.readAll(path: logFile), as: UTF8.self)
        #expect(log.contains("warning: the message carries a DKIM-Signature"))
    }

    @Test func corpusCommandRunsAFolderAndReportsFailures() throws {
        let run = try LinkTrackCLI.run(["corpus", PackageRoot.corpus], stdin: [])
        #expect(run.status == 0)
        let text = String(decoding: run.stdout, as: UTF8.self)
        #expect(text.hasSuffix(" passed, 0 failed\n"))

        // A flat folder of .eml files without expectations, plus one case whose expectation is wrong.
        let dir = NSTemporaryDirectory() + "linktrack-corpus-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/wrong", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: Self.config, toPath: dir + "/config.json")
        try FileManager.default.copyItem(atPath: PackageRoot.corpus + "/mime-alternative-lf/input.eml", toPath: dir + "/plain.eml")
        try FileManager.default.copyItem(atPath: PackageRoot.corpus + "/mime-alternative-lf/input.eml", toPath: dir + "/wrong/input.eml")
        try FileManager.default.copyItem(atPath: PackageRoot.corpus + "/mime-alternative-lf/input.eml", toPath: dir + "/wrong/expected.eml")
        let mixed = try LinkTrackCLI.run(["corpus", dir], stdin: [])
        #expect(mixed.status == 1)
        let out = String(decoding: mixed.stdout, as: UTF8.self)
        #expect(out.contains("FAIL wrong: first difference at byte"))
        #expect(out.hasSuffix("1 passed, 1 failed\n"))
    }

    /// Each exit status of the MTA contract, through the binary.
    @Test func exitStatuses() throws {
        let input = try Self.corpusInput("mime-single-part-html-crlf")
        // 64: usage
        #expect(try LinkTrackCLI.run(["filter", "--no-such-option"], stdin: input).status == 64)
        // 65: unknown configuration set, with the SES text
        let unknown = try LinkTrackCLI.run(["filter", "--config", Self.config, "--log-file", "/dev/null"],
                                   stdin: try Self.corpusInput("exit-unknown-configuration-set"))
        #expect(unknown.status == 65)
        #expect(unknown.stderr == "NotFoundException: Configuration set does-not-exist does not exist.\n")
        #expect(unknown.stdout.isEmpty)
        // 74: the output cannot be written
        let full = try LinkTrackCLI.run(["filter", "--config", Self.config, "--log-file", "/dev/null"], stdin: input, stdoutPath: "/dev/full")
        #expect(full.status == 74)
        // 75: internal failure (test-only switch)
        let temporary = try LinkTrackCLI.run(["filter", "--config", Self.config, "--log-file", "/dev/null"], stdin: input,
                                     environment: ["LINKTRACK_TEST_FAULT": "temporary"])
        #expect(temporary.status == 75)
        #expect(temporary.stdout.isEmpty)
        // 78: configuration error
        let broken = try LinkTrackCLI.run(["filter", "--config", "/nonexistent/config.json", "--log-file", "/dev/null"], stdin: input)
        #expect(broken.status == 78)
        #expect(broken.stderr.contains("configuration error"))
        let noKeys = try LinkTrackCLI.run(["filter", "--config", PackageRoot.corpus + "/exit-config-without-signing-keys/config.json", "--log-file", "/dev/null"], stdin: input)
        #expect(noKeys.status == 78)
    }

    /// A message with a 50 MB attachment is filtered with peak memory far below the message size.
    @Test func streamingKeepsMemoryBounded() throws {
        let path = NSTemporaryDirectory() + "linktrack-big-\(UUID().uuidString).eml"
        defer { unlink(path) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(fd >= 0)
        var head = "Message-ID: <big@example.com>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n"
        head += "<a href=\"https://example.com/\">x</a>\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        try FileIO.write(fileDescriptor: fd, Array(head.utf8))
        let line = Array((String(repeating: "QUJDRA", count: 12) + "QUJD\r\n").utf8)
        var block: [UInt8] = []
        for _ in 0..<1000 { block += line }
        for _ in 0..<(50_000_000 / block.count) { try FileIO.write(fileDescriptor: fd, block) }
        try FileIO.write(fileDescriptor: fd, Array("--b--\r\n".utf8))
        close(fd)

        let small = try Self.peakResidentKilobytes(stdinPath: PackageRoot.corpus + "/mime-single-part-html-crlf/input.eml")
        let big = try Self.peakResidentKilobytes(stdinPath: path)
        #expect(big.status == 0)
        // Far below the 50 MB message: the attachment streams through.
        #expect(big.kilobytes < small.kilobytes + 20_000, "peak RSS \(big.kilobytes) kB for the 50 MB message vs \(small.kilobytes) kB for a tiny one")
    }

    /// Runs `linktrack filter` with stdin from a file and stdout to /dev/null; the child's own peak RSS.
    static func peakResidentKilobytes(stdinPath: String) throws -> (status: Int32, kilobytes: Int) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = [LinkTrackCLI.binary, "filter", "--config", config, "--log-file", "/dev/null"]
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, LinkTrackCLI.binary, &actions, nil, &cArgs, environ)
        try #require(rc == 0)
        var status: Int32 = 0
        var usage = rusage()
        wait4(pid, &status, 0, &usage)
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exit, usage.ru_maxrss)
    }
}
