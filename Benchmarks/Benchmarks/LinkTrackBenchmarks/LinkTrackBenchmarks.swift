import Benchmark
import BenchInputs
import LinkTrack
import LinkTrackTooling

// Names: "<html input>/<step>". The harness runs its benchmarks in name order, each in a process of
// its own, so the steps of one HTML input run back to back: 1-baseline (libxml2 SAX, empty handlers,
// same options), 2-rewriter (HTMLRewriter), 3-filter-<message> (MessageFilter on each message whose
// HTML part carries these bytes), 8-baseline-reader (the same parse fed through the rewriter's own
// ISO-8859-1 reader instead of libxml2's handler, reported beside the defined baseline),
// 9-baseline-again. summarize.py takes the faster of the two baseline runs around the measured ones
// as the reference. Other groups: signer, callers.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 3,
        // Up to 4 s per benchmark: a small document runs thousands of times, so a moment of load
        // from elsewhere on a shared machine moves its median less (400 runs of the 30 KB mail
        // took 0.16 s, and one such moment made a run report 0.68 x against 0.78 x in the next).
        maxDuration: .seconds(4),
        maxIterations: 10_000
    )

    for input in BenchInputs.htmlInputs {
        let html = BenchInputs.load(input.file)
        func baseline(_ step: String) {
            Benchmark("\(input.name)/\(step)") { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(LibXML2Baseline.parse(html))
                }
            }
        }
        baseline("1-baseline")
        Benchmark("\(input.name)/2-rewriter") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(BenchInputs.rewrite(html))
            }
        }
        for message in BenchInputs.messageInputs where message.html == input.name {
            let bytes = BenchInputs.load(message.file)
            let big = bytes.count > 10 << 20
            Benchmark("\(input.name)/3-filter-\(message.name)",
                      configuration: .init(warmupIterations: big ? 1 : 3, maxDuration: .seconds(big ? 10 : 4),
                                           maxIterations: big ? 12 : 400)) { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(BenchInputs.filterMessage(bytes))
                }
            }
        }
        Benchmark("\(input.name)/8-baseline-reader") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(LibXML2Baseline.parse(html, reading: .rewriterReader))
            }
        }
        baseline("9-baseline-again")
    }

    let signer = BenchInputs.signer
    let token = BenchInputs.clickToken
    let url = signer.clickURL(token, scheme: .https, domain: "links.example.com")!
    Benchmark("signer/clickURL", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(signer.clickURL(token, scheme: .https, domain: "links.example.com"))
        }
    }
    Benchmark("signer/decode", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try? signer.decode(url))
        }
    }

    // Two documents per iteration: by one caller in turn, or by two callers (threads) at once.
    // Throughput ratio (two callers / one caller) = wall(1 caller) / wall(2 callers).
    let newsletter = BenchInputs.load("newsletter-1m.html")
    Benchmark("callers/1x2-newsletter-1m") { _ in
        Callers.run(1) {
            blackHole(BenchInputs.rewrite(newsletter))
            blackHole(BenchInputs.rewrite(newsletter))
        }
    }
    Benchmark("callers/2x1-newsletter-1m") { _ in
        Callers.run(2) {
            blackHole(BenchInputs.rewrite(newsletter))
        }
    }
}
