import Hummingbird

/// The benchmark baseline (Benchmarks/README.md, server runs): the smallest Hummingbird server that
/// answers every request with the same 302, on the same HTTP/1 setup as linktrack-server's redirect
/// listener. `linktrack-bench-baseline HOST:PORT`.
@main
struct BenchBaseline {
    struct Fixed302: HTTPResponder {
        typealias Context = BasicRequestContext
        func respond(to request: Request, context: Context) async throws -> Response {
            Response(status: .found, headers: [
                .location: "https://example.org/a?x=1&y=2#f", .cacheControl: "no-store, private", .contentLength: "0",
            ])
        }
    }

    static func main() async throws {
        let address = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "127.0.0.1:8090"
        let colon = address.lastIndex(of: ":")!
        let host = String(address[..<colon])
        let port = Int(address[address.index(after: colon)...])!
        let app = Application(
            responder: Fixed302(),
            server: .http1(configuration: .init(idleTimeout: .seconds(15))),
            configuration: .init(address: .hostname(host, port: port), backlog: 1024))
        try await app.runService()
    }
}
