import Benchmark
import BenchInputs
import LinkTrack

// Names: "<group>/<input>". Groups: baseline (libxml2 SAX, empty handlers, same options),
// rewriter (HTMLRewriter), filter (MessageFilter on a whole message), signer, callers.
// MB/s and the ratios to the baseline are computed from these results by summarize.py.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 3,
        maxDuration: .seconds(4),
        maxIterations: 400
    )

    for input in BenchInputs.htmlInputs {
        let html = BenchInputs.load(input.file)
        // Baseline and rewriter on the same bytes, one after the other in the same run.
        Benchmark("baseline/\(input.name)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(LibXML2Baseline.parse(html))
            }
        }
        Benchmark("rewriter/\(input.name)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(BenchInputs.rewrite(html))
            }
        }
    }

    for input in BenchInputs.messageInputs {
        let message = BenchInputs.load(input.file)
        let big = message.count > 10 << 20
        Benchmark("filter/\(input.name)",
                  configuration: .init(warmupIterations: big ? 1 : 3, maxDuration: .seconds(big ? 10 : 4),
                                       maxIterations: big ? 12 : 400)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(BenchInputs.filterMessage(message))
            }
        }
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
