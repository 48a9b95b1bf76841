#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import HTTPTypes
import LinkTrack
import LinkTrackServerCore
import NIOCore

/// The request context of the redirect listener: only the peer's address.
public struct TrackingRequestContext: InitializableFromSource, Sendable {
    public let peer: IPAddress?

    public init(source: ApplicationRequestContextSource) {
        peer = source.channel.remoteAddress.flatMap(Self.peer)
    }

    /// The socket address's bytes as an ``IPAddress`` (no text round trip through NIO's `ipAddress`).
    static func peer(_ address: SocketAddress) -> IPAddress? {
        switch address {
        case .v4(let v4):
            let raw = v4.address.sin_addr.s_addr   // network byte order in memory
            return withUnsafeBytes(of: raw) { IPAddress(rawBytes: Array($0)) }
        case .v6(let v6):
            return withUnsafeBytes(of: v6.address.sin6_addr) { IPAddress(rawBytes: Array($0)) }
        case .unixDomainSocket:
            return nil
        }
    }

    public init(peer: IPAddress?) { self.peer = peer }
}

/// Answers on the redirect domains: `/c/<token>` (302 to the signed destination) and `/o/<token>`
/// (the GIF), recording each GET as an event before the answer goes out (see ``EventWriter`` for
/// the exact guarantee). Everything else is 404 (405 for a method other than GET and HEAD).
public struct PublicResponder: HTTPResponder {
    public typealias Context = TrackingRequestContext
    let configuration: LiveConfiguration
    let sinks: EventSinks
    let metrics: ServerMetrics
    let clock: @Sendable () -> Int64

    public init(configuration: LiveConfiguration, sinks: EventSinks, metrics: ServerMetrics,
                clock: @escaping @Sendable () -> Int64 = PublicResponder.wallClockMilliseconds) {
        self.configuration = configuration
        self.sinks = sinks
        self.metrics = metrics
        self.clock = clock
    }

    /// The 43-byte transparent GIF (GIF89a, 1x1, one transparent colour).
    public static let gifBytes: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]
    static let gif = ByteBuffer(bytes: gifBytes)
    static let gifHeaders: HTTPFields = [
        .contentType: "image/gif", .contentLength: "43", .cacheControl: "no-store, private",
    ]
    static let notFoundPage = ByteBuffer(string:
        "<!DOCTYPE html><html><head><title>Link not found</title></head><body><h1>Link not found</h1><p>This link is not valid.</p></body></html>\n")
    static let notFoundHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8", .contentLength: String(notFoundPage.readableBytes),
        .cacheControl: "no-store, private",
    ]

    public static let wallClockMilliseconds: @Sendable () -> Int64 = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let method = request.method
        let isHead = method == .head
        let forwarded = request.headers[values: .xForwardedFor]
        // The first Host field becomes the authority; a Host left among the fields is a second one. Such a
        // request is invalid (RFC 9112 section 3.2) and ambiguous: it is routed nowhere (no Host).
        let host = request.headers[.host] == nil ? request.head.authority : nil
        let tracking = TrackingRequest(
            isHead: isHead, isGetOrHead: isHead || method == .get, host: host,
            target: request.uri.string, peer: context.peer, forwardedFor: forwarded,
            userAgent: request.headers[.userAgent], nowMilliseconds: clock())
        let resolver = configuration.resolver
        let outcome = resolver.resolve(tracking)
        switch outcome {
        case .redirect(let location, let event, let sinks):
            if let event { _ = await self.sinks.record(event, in: sinks) }
            metrics.request(kind: "click", set: event?.configurationSet ?? "-", outcome: "redirect")
            return Response(status: .found, headers: [
                .location: location, .cacheControl: "no-store, private", .contentLength: "0",
            ])
        case .pixel(let event, let sinks):
            if let event { _ = await self.sinks.record(event, in: sinks) }
            metrics.request(kind: "open", set: event?.configurationSet ?? "-", outcome: "pixel")
            return gifResponse(isHead: isHead)
        case .pixelRefused(let reason):
            metrics.badToken(kind: "open", reason: reason)
            metrics.request(kind: "open", set: "-", outcome: "refused")
            return gifResponse(isHead: isHead)
        case .notFound(let reason):
            let isClick = request.uri.string.hasPrefix("/c/")
            if isClick { metrics.badToken(kind: "click", reason: reason) }
            metrics.request(kind: isClick ? "click" : "other", set: "-", outcome: "not_found")
            return Response(status: .notFound, headers: Self.notFoundHeaders,
                            body: isHead ? .init() : .init(byteBuffer: Self.notFoundPage))
        case .methodNotAllowed:
            metrics.request(kind: "other", set: "-", outcome: "method_not_allowed")
            return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD", .contentLength: "0"])
        }
    }

    func gifResponse(isHead: Bool) -> Response {
        Response(status: .ok, headers: Self.gifHeaders, body: isHead ? .init() : .init(byteBuffer: Self.gif))
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let host = HTTPField.Name("Host")!
}
