import LinkTrack
import Testing

/// Runs every case of `Corpus/` through the library and compares the bytes with the recorded
/// expectation. `RECORD_CORPUS=1 swift test --filter CorpusTests` records them anew (and fails the run,
/// so a re-record is never mistaken for a pass).
@Suite struct CorpusTests {
    static let corpusDirectory: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/Corpus"
    }()

    static let cases: [CorpusCase] = (try? CorpusCase.discover(in: corpusDirectory)) ?? []

    @Test func corpusHasCases() {
        #expect(Self.cases.count >= 80, "expected at least 80 corpus cases in \(Self.corpusDirectory)")
    }

    @Test(arguments: cases.map(\.name))
    func corpusCase(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let outcome = c.run()
        #expect(outcome.exitStatus == c.expectedExitStatus, "\(name): \(outcome.error ?? "")")
        #expect(outcome.invariantViolations.isEmpty, "\(name): \(outcome.invariantViolations)")
        guard outcome.exitStatus == 0, let expectedPath = c.expectedPath else { return }
        if ProcessEnvironment.value(of: "RECORD_CORPUS") == "1" {
            try FileIO.writeAtomically(path: expectedPath, contents: outcome.output)
            Issue.record("recorded \(expectedPath); run again without RECORD_CORPUS")
            return
        }
        let expected = try FileIO.readAll(path: expectedPath)
        let difference = CorpusComparison.firstDifference(expected: expected, actual: outcome.output)
        #expect(difference == nil, "\(name): \(difference ?? "")")
    }

    /// A message fed in pieces comes out as the whole message does. An HTML part's body is a slice
    /// of the session's input while it lies in one piece and gets storage of its own once it spans
    /// pieces; quoted-printable and base64 bodies are decoded and spliced from either.
    @Test(arguments: cases.filter { $0.expectedExitStatus == 0 && !$0.isHTML }.map(\.name))
    func feedingInPiecesGivesTheWholeMessageBytes(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let whole = c.run()
        for pieceSize in [61, 4096] {
            let pieces = c.run(pieceSize: pieceSize)
            #expect(pieces.exitStatus == whole.exitStatus, "\(name), pieces of \(pieceSize): \(pieces.error ?? "")")
            let difference = CorpusComparison.firstDifference(expected: whole.output, actual: pieces.output)
            #expect(difference == nil, "\(name), pieces of \(pieceSize): \(difference ?? "")")
        }
    }

    /// Filtering twice equals filtering once: a tracked output filtered again with the same
    /// configuration set comes out unchanged (links on the redirect domain and an existing pixel are
    /// left alone). Cases with `ses:no-track` are the documented exception.
    @Test(arguments: cases.filter { $0.expectedExitStatus == 0 && !$0.isHTML }.map(\.name))
    func filteringTwiceChangesNothing(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let first = c.run()
        guard let report = first.report, let set = report.configurationSet, report.changed else { return }
        // ses:no-track is removed as SES removes it, so a second pass tracks such a link: the one
        // documented exception to idempotence.
        let input = try FileIO.readAll(path: c.inputPath)
        if String(decoding: input, as: UTF8.self).contains("ses:no-") { return }
        let configuration = try Configuration(json: try FileIO.readAll(path: try #require(c.configPath)))
        var options = FilterOptions(configurationSetName: set)
        options.rewriteSigned = c.arguments.contains("--rewrite-signed")
        let filter = try MessageFilter(configuration: configuration, options: options)
        let second = try filter.filter(first.output).output
        let difference = CorpusComparison.firstDifference(expected: first.output, actual: second)
        #expect(difference == nil, "\(name): \(difference ?? "")")
    }
}
