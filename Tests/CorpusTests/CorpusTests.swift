import LinkTrack
import LinkTrackTooling
import Testing
import TestSupport
@testable import linktrack

/// Runs every case of `Corpus/` through the library, as `linktrack corpus` does (its arguments read
/// by the CLI's parser, its failure mapped to the CLI's exit status), and compares the bytes with the
/// recorded expectation. `RECORD_CORPUS=1 swift test --filter CorpusTests` records them anew (and
/// fails the run, so a re-record is never mistaken for a pass).
@Suite struct CorpusTests {
    static let cases: [CorpusCase] = (try? CorpusCase.discover(in: PackageRoot.corpus)) ?? []

    static func run(_ c: CorpusCase, chunkSize: (() -> Int)? = nil) -> CorpusCommand.CaseRun {
        CorpusCommand.run(c, defaultConfiguration: nil, chunkSize: chunkSize)
    }

    @Test func corpusHasCases() {
        #expect(Self.cases.count >= 80, "expected at least 80 corpus cases in \(PackageRoot.corpus)")
    }

    @Test(arguments: cases.map(\.name))
    func corpusCase(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let run = Self.run(c)
        #expect(run.status == c.expectedExitStatus, "\(name): \(run.error ?? "")")
        let outcome = try #require(run.outcome, "\(name): \(run.error ?? "")")
        #expect(outcome.invariantViolations.isEmpty, "\(name): \(outcome.invariantViolations)")
        guard outcome.failure == nil, let expectedPath = c.expectedPath else { return }
        if ProcessEnvironment.value(of: "RECORD_CORPUS") == "1" {
            try FileIO.writeAtomically(path: expectedPath, contents: outcome.output)
            Issue.record("recorded \(expectedPath); run again without RECORD_CORPUS")
            return
        }
        let expected = try FileIO.readAll(path: expectedPath)
        let difference = CorpusComparison.firstDifference(expected: expected, actual: outcome.output)
        #expect(difference == nil, "\(name): \(difference ?? "")")
    }

    /// How a message is cut into chunks for a ``FilterSession``.
    enum Chunking: CustomTestStringConvertible, CaseIterable {
        case bytes1, bytes2, bytes16, bytes61, bytes4096
        /// Sizes from 1 to 512, drawn in turn from a generator seeded by the case's name.
        case seededRandom

        static let seed: UInt64 = 20

        var testDescription: String {
            switch self {
            case .bytes1: "1-byte chunks"
            case .bytes2: "2-byte chunks"
            case .bytes16: "16-byte chunks"
            case .bytes61: "61-byte chunks"
            case .bytes4096: "4096-byte chunks"
            case .seededRandom: "chunks of 1...512 bytes (seed \(Self.seed) + the case name's bytes)"
            }
        }

        func sizes(for name: String) -> () -> Int {
            switch self {
            case .bytes1: return { 1 }
            case .bytes2: return { 2 }
            case .bytes16: return { 16 }
            case .bytes61: return { 61 }
            case .bytes4096: return { 4096 }
            case .seededRandom:
                let seed = name.utf8.reduce(Self.seed) { $0 &* 31 &+ UInt64($1) }
                let box = GeneratorBox(SeededGenerator(seed: seed))
                return { Int.random(in: 1...512, using: &box.generator) }
            }
        }
    }

    /// The generator a chunk-size closure draws from.
    final class GeneratorBox {
        var generator: SeededGenerator
        init(_ generator: SeededGenerator) { self.generator = generator }
    }

    /// A message fed in chunks comes out as the whole message does, with the same exit status,
    /// for every message of the corpus. An HTML part's body is a slice of the session's input while
    /// it lies in one chunk and gets storage of its own once it spans chunks; quoted-printable and
    /// base64 bodies are decoded and spliced from either. (Bare HTML cases have no chunked entry.)
    @Test(arguments: cases.filter { !$0.isHTML }.map(\.name), Chunking.allCases)
    func feedingInChunksGivesTheWholeMessageBytes(_ name: String, _ chunking: Chunking) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let whole = Self.run(c)
        let chunked = Self.run(c, chunkSize: chunking.sizes(for: name))
        #expect(chunked.status == whole.status, "\(name), \(chunking.testDescription): \(chunked.error ?? "")")
        let difference = CorpusComparison.firstDifference(expected: whole.outcome?.output ?? [],
                                                          actual: chunked.outcome?.output ?? [])
        #expect(difference == nil, "\(name), \(chunking.testDescription): \(difference ?? "")")
    }

    /// Filtering twice equals filtering once: a tracked output filtered again with the same
    /// configuration set comes out unchanged (links on the redirect domain and an existing pixel are
    /// left alone). Cases with `ses:no-track` are the documented exception.
    @Test(arguments: cases.filter { $0.expectedExitStatus == 0 && !$0.isHTML }.map(\.name))
    func filteringTwiceChangesNothing(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let first = try #require(Self.run(c).outcome)
        guard let report = first.report, let set = report.configurationSet, report.changed else { return }
        // ses:no-track is removed as SES removes it, so a second pass tracks such a link: the one
        // documented exception to idempotence.
        let input = try FileIO.readAll(path: c.inputPath)
        if String(decoding: input, as: UTF8.self).contains("ses:no-") { return }
        let configuration = try Configuration(json: try FileIO.readAll(path: try #require(c.configPath)))
        var options = FilterOptions(configurationSetName: set)
        options.rewriteSigned = try CorpusCommand.options(for: c).filter.rewriteSigned
        let filter = try MessageFilter(configuration: configuration, options: options)
        let second = try filter.filter(first.output).output
        let difference = CorpusComparison.firstDifference(expected: first.output, actual: second)
        #expect(difference == nil, "\(name): \(difference ?? "")")
    }
}
