import Hummingbird
import LinkTrackServerCore
import NIOCore
import Prometheus

/// The admin listener's request context.
public typealias AdminRequestContext = BasicRequestContext

/// `/health` (the process answers), `/ready` (every sink writable) and `/metrics` (Prometheus text),
/// on the admin listener only, never on a redirect domain. The control API adds its routes here too.
public func buildAdminRouter(sinks: EventSinks, registry: PrometheusCollectorRegistry?) -> Router<AdminRequestContext> {
    let router = Router(context: AdminRequestContext.self)
    router.get("/health") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
    }
    router.get("/ready") { _, _ in
        var lines: [String] = []
        var ready = true
        for writer in sinks.allWriters.sorted(by: { $0.sink.name < $1.sink.name }) {
            let healthy = writer.isHealthy
            ready = ready && healthy
            lines.append("\(writer.sink.name) \(healthy ? "ok" : "failing: \(writer.lastError ?? "")") queued=\(writer.queueDepth)\(writer.spoolSummary)")
        }
        let body = (ready ? "ready\n" : "not ready\n") + lines.map { $0 + "\n" }.joined()
        return Response(status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"],
                        body: .init(byteBuffer: ByteBuffer(string: body)))
    }
    router.get("/metrics") { _, _ in
        let bytes = registry?.emitToBuffer() ?? []
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
    return router
}
