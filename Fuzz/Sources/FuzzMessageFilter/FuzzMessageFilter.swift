// libFuzzer target for the MIME filter (`MessageFilter`). Per input:
// 1. filter the whole message in memory;
// 2. filter it again through a session fed in three chunks (split points taken from a hash of the
//    input), taking the output after each chunk, and require the same bytes and the same outcome;
// 3. require a non-empty output for a non-empty input, unless the filter threw;
// 4. run the invariant checker on input and output.
// Any failure prints a `==LinkTrack fuzz violation==` report and aborts, so libFuzzer saves the input
// (`FUZZ_ONLY=text` limits that to violations whose report contains the text: see run.sh --minimize).
import CLibFuzzer
import FuzzSupport
import LinkTrack
import LinkTrackTooling

/// One way of running the filter, with the checker that knows the same options.
struct Variant: Sendable {
    let name: String
    let filter: MessageFilter
    let checker: InvariantChecker

    init(_ name: String, _ options: FilterOptions) {
        self.name = name
        do {
            filter = try MessageFilter(configuration: Fuzz.configuration, options: options)
            checker = try InvariantChecker(configuration: Fuzz.configuration, options: options)
        } catch {
            Fuzz.fail("cannot build the \(name) filter: \(error)")
        }
    }
}

/// The variant is picked by the input's hash: the defaults (unknown set rejected, DKIM-signed
/// messages passed), `--unknown-configuration-set pass --rewrite-signed`, and `--configuration-set
/// optional` (the OPTIONAL policy for messages without the header).
let variants: [Variant] = [
    Variant("default", FilterOptions()),
    Variant("pass-unknown+rewrite-signed", FilterOptions(unknownConfigurationSet: .pass, rewriteSigned: true)),
    Variant("configuration-set=optional", FilterOptions(configurationSetName: "optional")),
]

enum Outcome: Equatable {
    case output([UInt8])
    case failed(FilterError.Kind)
}

func filterWhole(_ filter: MessageFilter, _ message: [UInt8]) -> Outcome {
    do {
        return .output(try filter.filter(message).output)
    } catch {
        return .failed(error.kind)
    }
}

func filterChunked(_ filter: MessageFilter, _ message: [UInt8], splits: [Int]) -> Outcome {
    var session = filter.makeSession()
    var output: [UInt8] = []
    var start = 0
    do {
        for end in splits + [message.count] {
            try session.consume(message[start..<end])
            output += session.takeOutput()
            start = end
        }
        try session.finish()
        output += session.takeOutput()
        return .output(output)
    } catch {
        return .failed(error.kind)
    }
}

func describe(_ outcome: Outcome) -> String {
    switch outcome {
    case .output(let bytes): return "\(bytes.count) bytes"
    case .failed(let kind): return "FilterError.\(kind)"
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = UnsafeBufferPointer(start: data, count: size)
    let message = Array(buffer)
    let h = Fuzz.hash(buffer)
    let variant = variants[Int(h % UInt64(variants.count))]

    let whole = filterWhole(variant.filter, message)
    let a = Int((h >> 8) % UInt64(size + 1))
    let b = Int((h >> 32) % UInt64(size + 1))
    let splits = [min(a, b), max(a, b)]
    let chunked = filterChunked(variant.filter, message, splits: splits)
    if whole != chunked {
        var details = ["variant \(variant.name)", "whole message: \(describe(whole))", "chunks split at \(splits): \(describe(chunked))"]
        if case .output(let x) = whole, case .output(let y) = chunked {
            let first = zip(x, y).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(x.count, y.count)
            details.append("first difference at output offset \(first)")
        }
        Fuzz.violation("the chunked run differs from the whole-message run", details: details)
    }

    switch whole {
    case .failed(let kind):
        guard kind == .unknownConfigurationSet, variant.filter.options.unknownConfigurationSet == .reject else {
            Fuzz.violation("the filter threw FilterError.\(kind)", details: ["variant \(variant.name)"])
            return 0
        }
    case .output(let output):
        if size > 0 && output.isEmpty {
            Fuzz.violation("the output is empty for a \(size)-byte input", details: ["variant \(variant.name)"])
            return 0
        }
        let problems = variant.checker.check(input: message, output: output)
        if !problems.isEmpty {
            Fuzz.violation("the invariant checker found \(problems.count) problem(s)", details: ["variant \(variant.name)"] + problems)
        }
    }
    return 0
}

/// The process entry point. SwiftPM links executables with `--defsym main=FuzzMessageFilter_main`, which hides
/// libFuzzer's main; this hands the command line to libFuzzer's driver instead.
@_cdecl("FuzzMessageFilter_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(data!, size) }
}
