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

    /// Filtering twice equals filtering once: every recorded output passes through unchanged.
    @Test(arguments: cases.filter { $0.expectedExitStatus == 0 && !$0.isHTML }.map(\.name))
    func filteringTwiceChangesNothing(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        guard let expectedPath = c.expectedPath else { return }
        var again = c
        again.inputPath = expectedPath
        let outcome = again.run()
        let expected = try FileIO.readAll(path: expectedPath)
        // Messages without a Message-ID get one added on the first pass; that is the only change
        // a second pass may not repeat, and it does not (the header is then present).
        #expect(outcome.output == expected, "\(name): \(CorpusComparison.firstDifference(expected: expected, actual: outcome.output) ?? "")")
    }
}
