/// A request to the SES v2 control API as it arrived over HTTP, with nothing decoded: the
/// signature covers these exact bytes. The same raw request the SigV4 verifier reads.
public typealias ControlAPIRequest = SigV4Request

extension SigV4Request {
    /// Splits a raw request target (`/v2/email/configuration-sets?PageSize=2`) at its first `?`.
    public init(method: String, rawTarget: String, headers: [(name: String, value: String)], body: [UInt8] = []) {
        if let question = rawTarget.firstIndex(of: "?") {
            self.init(method: method, rawPath: String(rawTarget[..<question]),
                      rawQuery: String(rawTarget[rawTarget.index(after: question)...]), headers: headers, body: body)
        } else {
            self.init(method: method, rawPath: rawTarget, rawQuery: "", headers: headers, body: body)
        }
    }
}

/// The answer to a ``ControlAPIRequest``: what the HTTP layer sends, as it is.
public struct ControlAPIResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// Header fields to send (`Content-Type`, `X-Amzn-ErrorType`, `x-amzn-RequestId`).
    public var headers: [(name: String, value: String)]
    /// The JSON body.
    public var body: [UInt8]
    /// The SES operation the request named (`PutConfigurationSetTrackingOptions`), when it got
    /// that far: for logs and metrics, not sent.
    public var operation: String?
    /// The access key that signed the request, when it verified: for logs, not sent.
    public var accessKeyId: String?

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8],
                operation: String? = nil, accessKeyId: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.operation = operation
        self.accessKeyId = accessKeyId
    }

    /// The value of the first header named `name` (ASCII case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The body as text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
