import Testing
import TestSupport

/// `linktrack --version` (issue 16, item 7).
@Suite struct VersionCLITests {
    @Test func versionIsOneLineOnStdout() throws {
        let run = try LinkTrackCLI.run(["--version"], stdin: [])
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        let text = String(decoding: run.stdout, as: UTF8.self)
        #expect(text.hasPrefix("linktrack "))
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "one line: \(text)")
        // "linktrack", one space, then a version of digits and dots such as 0.2.0.
        let version = text.dropFirst("linktrack ".count).dropLast()
        #expect(!version.isEmpty && version.allSatisfy { $0.isNumber || $0 == "." }, "\(version)")
        #expect(version.split(separator: ".").count == 3)
    }

    @Test func helpListsVersionAndExtraArgumentsAreAUsageError() throws {
        let help = try LinkTrackCLI.run(["--help"], stdin: [])
        #expect(String(decoding: help.stdout, as: UTF8.self).contains("\n  --version               Show the version.\n"))
        let run = try LinkTrackCLI.run(["--version", "filter"], stdin: [])
        #expect(run.status == 64)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("Error: Unexpected argument 'filter' after '--version'."), "\(run.stderr)")
    }
}
