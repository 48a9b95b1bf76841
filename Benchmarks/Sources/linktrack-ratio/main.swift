// linktrack-ratio: the same work as the Benchmark suite, timed with ContinuousClock in interleaved
// rounds (baseline, then the measured operation, round after round) so that a noisy neighbour hits
// both alike. Prints a table and writes JSON (argument 1, default Benchmarks/Results/ratio.json).
//
//   linktrack-ratio [output.json] [--quick]
import BenchInputs
import LinkTrack
import LinkTrackTooling

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
let quick = arguments.contains("--quick")
let outputPath = arguments.first(where: { !$0.hasPrefix("--") }) ?? (BenchInputs.directory + "/../Results/ratio.json")

let clock = ContinuousClock()

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

@inline(never)
func time(_ body: () -> Int) -> Double {
    var sink = 0
    let elapsed = clock.measure { sink = body() }
    if sink == Int.min { print("") }
    return seconds(elapsed)
}

/// Rounds so that each side runs for about `budget` seconds, within [5, 301].
func rounds(for single: Double, budget: Double) -> Int {
    let n = Int(budget / max(single, 1e-6))
    return min(max(n | 1, 5), 301)
}

struct Row {
    var name: String
    var bytes: Int          // bytes of the measured input (message or HTML)
    var htmlBytes: Int      // bytes of the HTML the baseline parsed
    var baseline: Double    // median seconds: libxml2 with its own ISO-8859-1 handler (the defined floor)
    var readerBaseline: Double  // median seconds: libxml2 fed through the rewriter's own reader
    var measured: Double    // median seconds
    var rounds: Int
    var ratio: Double { baseline / measured }   // throughput ratio on the same HTML content
    var readerRatio: Double { readerBaseline / measured }
}

var rows: [Row] = []
let budget = quick ? 0.6 : 3.0
var html: [String: [UInt8]] = [:]
for input in BenchInputs.htmlInputs { html[input.name] = BenchInputs.load(input.file) }

func compare(name: String, input: [UInt8], baselineHTML: [UInt8], _ op: @escaping ([UInt8]) -> Int) -> Row {
    // warm up both
    _ = time { LibXML2Baseline.parse(baselineHTML) }
    _ = time { LibXML2Baseline.parse(baselineHTML, reading: .rewriterReader) }
    let single = time { op(input) }
    let n = rounds(for: single, budget: budget)
    var b: [Double] = [], r: [Double] = [], m: [Double] = []
    for _ in 0..<n {
        b.append(time { LibXML2Baseline.parse(baselineHTML) })
        m.append(time { op(input) })
        r.append(time { LibXML2Baseline.parse(baselineHTML, reading: .rewriterReader) })
    }
    return Row(name: name, bytes: input.count, htmlBytes: baselineHTML.count,
               baseline: median(b), readerBaseline: median(r), measured: median(m), rounds: n)
}

for input in BenchInputs.htmlInputs {
    let bytes = html[input.name]!
    rows.append(compare(name: "rewriter/\(input.name)", input: bytes, baselineHTML: bytes, BenchInputs.rewrite))
}
for input in BenchInputs.messageInputs {
    let message = BenchInputs.load(input.file)
    rows.append(compare(name: "filter/\(input.name)", input: message, baselineHTML: html[input.html!]!, BenchInputs.filterMessage))
}

// Two callers on two cores vs one: each caller rewrites `k` documents; throughput ratio =
// 2 * wall(1 caller) / wall(2 callers). Also for the libxml2 baseline alone (the machine's ceiling).
struct Scaling {
    var name: String; var one: Double; var two: Double; var trials: Int
    /// Process CPU seconds / wall seconds while two callers ran: near 2 when the machine gave both
    /// cores; near 1 when other load took one (then the ratio says nothing about LinkTrack).
    var twoCallersCPUPerWall: Double
    /// The same for one caller: near 1 when it had a core to itself.
    var oneCallerCPUPerWall: Double
    var ratio: Double { 2 * one / two }
}

func processCPUSeconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    return s(usage.ru_utime) + s(usage.ru_stime)
}
var scaling: [Scaling] = []
func scale(name: String, k: Int, _ op: @escaping @Sendable () -> Void) -> Scaling {
    let trials = quick ? 3 : 9
    var ones: [Double] = [], twos: [Double] = [], ratios: [Double] = [], utilisation: [Double] = [], utilisationOne: [Double] = []
    Callers.run(1) { op() }
    for _ in 0..<trials {
        let cpuOne = processCPUSeconds()
        let one = seconds(clock.measure { Callers.run(1) { for _ in 0..<k { op() } } })
        utilisationOne.append((processCPUSeconds() - cpuOne) / one)
        let cpu0 = processCPUSeconds()
        let two = seconds(clock.measure { Callers.run(2) { for _ in 0..<k { op() } } })
        utilisation.append((processCPUSeconds() - cpu0) / two)
        ones.append(one); twos.append(two); ratios.append(2 * one / two)
    }
    _ = ratios
    return Scaling(name: name, one: median(ones), two: median(twos), trials: trials,
                   twoCallersCPUPerWall: median(utilisation), oneCallerCPUPerWall: median(utilisationOne))
}
/// Pure CPU work (xorshift in registers, no memory traffic, no allocation): what the machine gives
/// two threads at all. Below 1.7 here, the callers bar cannot be judged on this run.
@inline(never)
func spin(_ n: Int) -> UInt64 {
    var x: UInt64 = 0x9E3779B97F4A7C15
    for _ in 0..<n { x ^= x << 13; x ^= x >> 7; x ^= x << 17 }
    return x
}
scaling.append(scale(name: "spin (machine check)", k: quick ? 4 : 12) { if spin(20_000_000) == 0 { print("") } })
let letter = html["newsletter-1m"]!
let receipt = html["transactional-30k"]!
scaling.append(scale(name: "rewriter/newsletter-1m", k: quick ? 4 : 12) { _ = BenchInputs.rewrite(letter) })
scaling.append(scale(name: "baseline/newsletter-1m", k: quick ? 4 : 12) { _ = LibXML2Baseline.parse(letter) })
scaling.append(scale(name: "rewriter/transactional-30k", k: quick ? 100 : 400) { _ = BenchInputs.rewrite(receipt) })
let qpMessage = BenchInputs.load("newsletter-qp.eml")
scaling.append(scale(name: "filter/newsletter-qp", k: quick ? 4 : 12) { _ = BenchInputs.filterMessage(qpMessage) })

// Report.
extension String {
    /// The string padded with spaces (or cut) to `length` characters.
    func padding(toLength length: Int, withPad pad: String, startingAt _: Int) -> String {
        count >= length ? String(prefix(length)) : self + String(repeating: pad, count: length - count)
    }
}

func fmt(_ v: Double, _ digits: Int = 2) -> String {
    var s = String(Int((v * pow(10, Double(digits))).rounded()))
    while s.count <= digits { s = "0" + s }
    if digits > 0 { s.insert(".", at: s.index(s.endIndex, offsetBy: -digits)) }
    return s
}
print("ContinuousClock medians, interleaved with the libxml2 baseline (MB = 10^6 bytes)")
print("(ratio: against libxml2 with its own ISO-8859-1 handler, the defined baseline; reader ratio: against")
print(" libxml2 fed through the rewriter's own ISO-8859-1 reader, the same input path as the rewriter)")
print("name                         bytes      median ms   MB/s(input) MB/s(html)  baseline MB/s  ratio  reader ratio  rounds")
for r in rows {
    let line = [
        r.name.padding(toLength: 28, withPad: " ", startingAt: 0),
        String(r.bytes).padding(toLength: 10, withPad: " ", startingAt: 0),
        fmt(r.measured * 1e3, 3).padding(toLength: 11, withPad: " ", startingAt: 0),
        fmt(Double(r.bytes) / r.measured / 1e6).padding(toLength: 13, withPad: " ", startingAt: 0),
        fmt(Double(r.htmlBytes) / r.measured / 1e6).padding(toLength: 11, withPad: " ", startingAt: 0),
        fmt(Double(r.htmlBytes) / r.baseline / 1e6).padding(toLength: 14, withPad: " ", startingAt: 0),
        fmt(r.ratio).padding(toLength: 6, withPad: " ", startingAt: 0),
        fmt(r.readerRatio).padding(toLength: 13, withPad: " ", startingAt: 0),
        String(r.rounds),
    ]
    print(line.joined(separator: " "))
}
print("")
print("Two callers (threads) vs one; throughput ratio = 2 x wall(1 caller) / wall(2 callers), medians")
print("(CPU/wall near 1.0 means other load on the machine took the second core: the ratio is then void)")
for s in scaling {
    print("\(s.name.padding(toLength: 28, withPad: " ", startingAt: 0)) one \(fmt(s.one * 1e3, 1)) ms  two \(fmt(s.two * 1e3, 1)) ms  ratio \(fmt(s.ratio))  CPU/wall one \(fmt(s.oneCallerCPUPerWall)) two \(fmt(s.twoCallersCPUPerWall))  trials \(s.trials)")
}

var json = "{\n  \"rows\": [\n"
json += rows.map { r in
    "    {\"name\": \"\(r.name)\", \"bytes\": \(r.bytes), \"htmlBytes\": \(r.htmlBytes), \"medianSeconds\": \(r.measured), \"baselineMedianSeconds\": \(r.baseline), \"ratio\": \(r.ratio), \"readerBaselineMedianSeconds\": \(r.readerBaseline), \"readerRatio\": \(r.readerRatio), \"rounds\": \(r.rounds)}"
}.joined(separator: ",\n")
json += "\n  ],\n  \"callers\": [\n"
json += scaling.map { s in
    "    {\"name\": \"\(s.name)\", \"oneCallerSeconds\": \(s.one), \"twoCallersSeconds\": \(s.two), \"ratio\": \(s.ratio), \"twoCallersCPUPerWall\": \(s.twoCallersCPUPerWall), \"oneCallerCPUPerWall\": \(s.oneCallerCPUPerWall), \"trials\": \(s.trials)}"
}.joined(separator: ",\n")
json += "\n  ]\n}\n"
if let f = fopen(outputPath, "w") {
    fputs(json, f)
    fclose(f)
} else {
    print("cannot write \(outputPath)")
    exit(1)
}
