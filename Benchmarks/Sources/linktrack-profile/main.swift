// linktrack-profile: does one operation once, for valgrind --tool=callgrind.
//
//   linktrack-profile rewrite|rewrite-2|baseline|filter FILE [COUNT]
import BenchInputs
import LinkTrack
import LinkTrackTooling
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let args = Array(CommandLine.arguments.dropFirst())
guard args.count >= 2 else {
    print("usage: linktrack-profile rewrite|baseline|filter FILE [COUNT]")
    exit(64)
}
let input: [UInt8]
do { input = try FileIO.readAll(path: args[1]) } catch { print("\(error)"); exit(66) }
let count = args.count > 2 ? Int(args[2]) ?? 1 : 1
var total = 0
switch args[0] {
case "rewrite":
    _ = BenchInputs.context
    _ = BenchInputs.rewriter
    for _ in 0..<count { total &+= BenchInputs.rewrite(input) }
case "rewrite-2":
    // Two callers at once, COUNT documents each (for perf stat of the two-caller case).
    _ = BenchInputs.context
    _ = BenchInputs.rewriter
    let document = input
    Callers.run(2) { for _ in 0..<count { precondition(BenchInputs.rewrite(document) > 0) } }
    total = 2 * count
case "baseline":
    for _ in 0..<count { total &+= LibXML2Baseline.parse(input) }
case "filter":
    _ = BenchInputs.filter
    for _ in 0..<count { total &+= BenchInputs.filterMessage(input) }
default:
    print("unknown mode \(args[0])")
    exit(64)
}
print("\(args[0]) \(args[1]) x\(count): \(total) bytes out")
