/// An HTTP request as it arrived, for AWS Signature Version 4 verification: nothing decoded.
///
/// The verifier rebuilds AWS's canonical request from these raw parts, so they must be the bytes
/// the client sent: the path still percent-encoded (`x%2Fy`, never `x/y`), the query as it stood
/// after `?`, every header as received including `host` (with its port, as sent), and the whole body.
public struct SigV4Request: Sendable {
    /// The method, as sent (`GET`, `POST`, ...).
    public var method: String
    /// The path of the request target, percent-encoded as received, without the query.
    public var rawPath: String
    /// The query after `?`, as received; empty when there is none.
    public var rawQuery: String
    /// The header fields in the order received; names in any case.
    public var headers: [(name: String, value: String)]
    /// The request body.
    public var body: [UInt8]

    public init(method: String, rawPath: String, rawQuery: String = "",
                headers: [(name: String, value: String)], body: [UInt8] = []) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
        self.body = body
    }

    /// The values of every field named `name` (ASCII case-insensitive), in the order received.
    public func headerValues(_ name: String) -> [String] {
        headers.filter { SigV4Canonical.asciiLowercased($0.name) == name }.map(\.value)
    }
}
