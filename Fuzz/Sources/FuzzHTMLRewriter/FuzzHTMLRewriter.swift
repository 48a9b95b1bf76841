// libFuzzer target for the HTML rewriter (`HTMLRewriter`). Per input, with a configuration set
// picked by a hash of the input (each HttpsPolicy, clicks only, opens only, no domain):
// 1. rewrite the document (charset unknown, as for a part without a charset label);
// 2. require that the reported edits, spliced into the input, give exactly the output;
// 3. run the invariant checker's HTML comparison on input and output.
// Any failure prints a `==LinkTrack fuzz violation==` report and aborts, so libFuzzer saves the input
// (`FUZZ_ONLY=text` limits that to violations whose report contains the text: see run.sh --minimize).
import CLibFuzzer
import FuzzSupport
import LinkTrack
import LinkTrackTooling

let rewriter: HTMLRewriter = {
    do {
        return try HTMLRewriter(configuration: Fuzz.configuration)
    } catch {
        Fuzz.fail("cannot build the rewriter: \(error)")
    }
}()

let checker: InvariantChecker = {
    do {
        return try InvariantChecker(configuration: Fuzz.configuration)
    } catch {
        Fuzz.fail("cannot build the checker: \(error)")
    }
}()

let sets = Fuzz.configuration.configurationSets

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = UnsafeBufferPointer(start: data, count: size)
    let document = Array(buffer)
    let set = sets[Int(Fuzz.hash(buffer) % UInt64(sets.count))]
    let context = TrackingContext(configurationSet: set, messageId: "<fuzz@example.com>")

    let result = rewriter.rewrite(document, charset: nil, context: context)

    let spliced = Splicer.apply(result.edits, to: document)
    if spliced != result.output {
        Fuzz.violation("the edits do not give the output", details: [
            "set \(set.name)", "\(result.edits.count) edits", "spliced \(spliced.count) bytes, output \(result.output.count) bytes",
        ])
    }
    // The entry for bytes outside an array (the CLI's mapped file), on libFuzzer's own buffer (which
    // AddressSanitizer guards to the byte): the same edits and report, without the per-link reports.
    let inPlace = rewriter.rewrite(contentsOf: buffer, charset: nil, context: context, reportingLinks: false)
    var expectedReport = result.report
    expectedReport.links = []
    if inPlace.edits != result.edits || inPlace.report != expectedReport || !inPlace.output.isEmpty {
        Fuzz.violation("rewrite(contentsOf:) differs from rewrite(_:)", details: [
            "set \(set.name)", "\(result.edits.count) edits against \(inPlace.edits.count)",
        ])
    }
    let problems = checker.checkHTML(input: document, output: result.output, set: set)
    if !problems.isEmpty {
        Fuzz.violation("the invariant checker found \(problems.count) problem(s)", details: ["set \(set.name)"] + problems)
    }
    return 0
}

/// The process entry point. SwiftPM links executables with `--defsym main=FuzzHTMLRewriter_main`, which hides
/// libFuzzer's main; this hands the command line to libFuzzer's driver instead.
@_cdecl("FuzzHTMLRewriter_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(data!, size) }
}
