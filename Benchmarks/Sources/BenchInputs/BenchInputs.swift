import LinkTrack

/// The generated inputs (Benchmarks/Inputs, written by generate.py) and what the benchmarks need
/// from them. The directory is `$LINKTRACK_BENCH_INPUTS`, else `Inputs` beside this package.
public enum BenchInputs {
    public static let directory: String = {
        if let dir = ProcessEnvironment.value(of: "LINKTRACK_BENCH_INPUTS"), !dir.isEmpty { return dir }
        // #filePath is .../Benchmarks/Sources/BenchInputs/BenchInputs.swift
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/Inputs"
    }()

    public static func load(_ name: String) -> [UInt8] {
        do {
            return try FileIO.readAll(path: directory + "/" + name)
        } catch {
            fatalError("cannot read \(directory)/\(name): \(error). Run python3 Benchmarks/generate.py first.")
        }
    }

    /// The HTML inputs, by the names used in benchmark names and reports.
    public static let htmlInputs: [(name: String, file: String)] = [
        ("transactional-30k", "transactional-30k.html"),
        ("html-100k", "html-100k.html"),
        ("newsletter-1m", "newsletter-1m.html"),
    ]

    /// The messages for the MIME filter, with the HTML input whose bytes their HTML part carries
    /// (the baseline for the ratio), or nil.
    public static let messageInputs: [(name: String, file: String, html: String?)] = [
        ("transactional-qp", "transactional.eml", "transactional-30k"),
        ("newsletter-qp", "newsletter-qp.eml", "newsletter-1m"),
        ("newsletter-base64", "newsletter-base64.eml", "newsletter-1m"),
        ("big-50m", "big-50m.eml", "html-100k"),
    ]

    public static let configuration: Configuration = {
        do {
            return try Configuration(json: load("config.json"))
        } catch {
            fatalError("bad benchmark configuration: \(error)")
        }
    }()

    public static let rewriter: HTMLRewriter = {
        do {
            return try HTMLRewriter(configuration: configuration)
        } catch {
            fatalError("\(error)")
        }
    }()

    public static let filter: MessageFilter = {
        do {
            return try MessageFilter(configuration: configuration)
        } catch {
            fatalError("\(error)")
        }
    }()

    public static let context: TrackingContext = {
        do {
            return TrackingContext(configurationSet: try configuration.configurationSet(named: "marketing"),
                                   messageId: "bench-0001@example.com")
        } catch {
            fatalError("\(error)")
        }
    }()

    public static let signer: LinkSigner = {
        do {
            return try LinkSigner(keys: configuration.signingKeys)
        } catch {
            fatalError("\(error)")
        }
    }()

    public static let clickToken = ClickToken(
        destination: "https://news.example.com/2026/11/garden-kettle-lantern-17?utm_source=newsletter&utm_medium=email",
        messageId: "bench-0001@example.com", configurationSet: "marketing", linkIndex: 17)

    /// One rewrite; the returned count keeps the work from being optimised away.
    @inline(never)
    public static func rewrite(_ html: [UInt8]) -> Int {
        let result = rewriter.rewrite(html, charset: "utf-8", context: context)
        precondition(result.report.untouchedReason == nil, "rewriter left the input untouched: \(result.report.untouchedReason!)")
        return result.output.count
    }

    /// One filtered message.
    @inline(never)
    public static func filterMessage(_ message: [UInt8]) -> Int {
        do {
            let (output, report) = try filter.filter(message)
            precondition(report.changed, "the filter did not change the message")
            return output.count
        } catch {
            fatalError("filter failed: \(error)")
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain threads for the "two callers on two cores" measurements: each caller is its own pthread,
/// so the Swift concurrency pool's size and scheduling are not part of what is measured.
public enum Callers {
    final class Box: @unchecked Sendable {
        let work: @Sendable () -> Void
        init(_ work: @escaping @Sendable () -> Void) { self.work = work }
    }

    /// Runs `work` on `count` threads at once and returns when all have finished.
    public static func run(_ count: Int, _ work: @escaping @Sendable () -> Void) {
        #if canImport(Glibc)
        var threads: [pthread_t] = []
        #else
        var threads: [pthread_t?] = []
        #endif
        for _ in 0..<count {
            let box = Unmanaged.passRetained(Box(work)).toOpaque()
            #if canImport(Glibc)
            var thread = pthread_t()
            #else
            var thread: pthread_t? = nil
            #endif
            let rc = pthread_create(&thread, nil, { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                box.work()
                return nil
            }, box)
            precondition(rc == 0, "pthread_create failed: \(rc)")
            threads.append(thread)
        }
        for thread in threads {
            #if canImport(Glibc)
            pthread_join(thread, nil)
            #else
            pthread_join(thread!, nil)
            #endif
        }
    }
}
