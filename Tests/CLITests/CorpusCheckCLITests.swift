import Foundation
import LinkTrack
import Testing
import TestSupport

/// `linktrack corpus` on a folder without a configuration, and `linktrack check` printing one
/// violation per part (issue 16, item 4).
@Suite("FilterCLI: corpus without a configuration, check without knock-on violations")
struct CorpusCheckCLITests {
    /// Runs the binary with exactly `environment` added to this process's, minus LINKTRACK_CONFIG
    /// unless it is given.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> LinkTrackCLI.Result {
        var changes: [String: String?] = ["LINKTRACK_CONFIG": nil]
        for (name, value) in environment { changes[name] = value }
        return try LinkTrackCLI.run(arguments, stdin: .null, environment: changes)
    }

    /// A flat folder of two .eml files and no config.json.
    static func emlFolder() throws -> String {
        let dir = NSTemporaryDirectory() + "linktrack-eml-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in ["mime-alternative-lf", "mime-single-part-html-crlf"] {
            try FileManager.default.copyItem(atPath: PackageRoot.corpus + "/\(name)/input.eml", toPath: dir + "/\(name).eml")
        }
        return dir
    }

    @Test(.enabled(if: !FileManager.default.fileExists(atPath: "/etc/linktrack/config.json"),
                   "the default configuration file exists here"))
    func aFolderWithoutConfigurationIsOneUsageError() throws {
        let dir = try Self.emlFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Self.run(["corpus", dir])
        #expect(run.status == 64)
        #expect(run.stdoutText.isEmpty, "no FAIL line per case: \(run.stdoutText)")
        #expect(run.stderr.hasPrefix("Error: 2 of the 2 cases in \(dir) have no configuration (no config.json in the case's folder or in \(dir)); give --config FILE or set LINKTRACK_CONFIG.\nUsage: linktrack corpus "), "\(run.stderr)")
    }

    /// `$LINKTRACK_CONFIG` serves as `--config`, as for the other commands.
    @Test func theEnvironmentVariableOrTheOptionConfiguresTheFolder() throws {
        let dir = try Self.emlFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fromEnvironment = try Self.run(["corpus", dir], environment: ["LINKTRACK_CONFIG": FilterCLITests.config])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stdoutText)\(fromEnvironment.stderr)")
        #expect(fromEnvironment.stdoutText == "2 passed, 0 failed\n")
        let fromOption = try Self.run(["corpus", "--config", FilterCLITests.config, dir])
        #expect(fromOption.status == 0)
        #expect(fromOption.stdoutText == "2 passed, 0 failed\n")
        let missing = try Self.run(["corpus", dir], environment: ["LINKTRACK_CONFIG": dir + "/none.json"])
        #expect(missing.status == 78)
        #expect(missing.stdoutText.isEmpty)
    }

    /// One link of three made not to verify: the checker also finds the next links' indexes off by
    /// one; `check` prints the first violation and counts the others, `--all` prints them.
    @Test func checkPrintsTheFirstViolationOfAPartAndCountsTheRest() throws {
        let dir = NSTemporaryDirectory() + "linktrack-check-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = try FilterCLITests.corpusInput("mime-single-part-html-crlf")
        let filtered = try LinkTrackCLI.run(["filter", "--config", FilterCLITests.config, "--log-file", "/dev/null"], stdin: input)
        #expect(filtered.status == 0)
        var output = filtered.stdout
        // The first MAC character of the first click URL.
        let marker = Array("/c/1.corpus1.".utf8)
        let at = try #require((0..<(output.count - marker.count)).first { output[$0..<($0 + marker.count)].elementsEqual(marker) })
        output[at + marker.count] = output[at + marker.count] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try FileIO.writeAtomically(path: dir + "/in.eml", contents: input)
        try FileIO.writeAtomically(path: dir + "/out.eml", contents: output)

        let all = try Self.run(["check", "--config", FilterCLITests.config, "--all", dir + "/in.eml", dir + "/out.eml"])
        #expect(all.status == 1)
        let allLines = all.stdoutText.split(separator: "\n")
        #expect(allLines.count == 3, "\(all.stdoutText)")
        #expect(allLines.dropFirst().allSatisfy { $0.contains("has index") })

        let first = try Self.run(["check", "--config", FilterCLITests.config, dir + "/in.eml", dir + "/out.eml"])
        #expect(first.status == 1)
        let lines = first.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(first.stdoutText)")
        #expect(lines.first == String(allLines[0]))
        #expect(lines.last == "\(dir)/out.eml: part message: 2 more violations after this one, most likely its consequences (--all lists them)")
    }
}
