import LinkTrackServerCore

/// A small SigV4 signer for tests: adds `X-Amz-Date` (unless the caller gave a date header) and
/// `Authorization` to a request, signing every header given (or the names in `signedHeaders`).
/// It builds the canonical request with ``SigV4Canonical``, whose pieces the AWS vectors check.
struct TestSigV4Signer {
    var accessKeyId = "AKIDEXAMPLE"
    var secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    var region = "us-east-1"
    var service = "ses"

    /// Signs `request` as of `time` (seconds since the epoch).
    func sign(_ request: SigV4Request, at time: Int64, signedHeaders: [String]? = nil) -> SigV4Request {
        var request = request
        let timestamp = SigV4Time.formatBasic(time)
        let hasDate = request.headers.contains { lower($0.name) == "x-amz-date" || lower($0.name) == "date" }
        if !hasDate { request.headers.append((name: "X-Amz-Date", value: timestamp)) }
        let names = signedHeaders ?? Array(Set(request.headers.map { lower($0.name) })).sorted()
        let canonical = SigV4Canonical.request(
            method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery,
            headers: request.headers, signedHeaders: names, payloadHash: SigV4Canonical.hexSHA256(request.body))
        let scope = "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
        let toSign = SigV4Canonical.stringToSign(timestamp: timestamp, scope: scope, canonicalRequest: canonical)
        let key = SigV4Canonical.signingKey(secret: Array(secret.utf8), date: String(timestamp.prefix(8)),
                                            region: region, service: service)
        let signature = SigV4Canonical.signature(signingKey: key, stringToSign: toSign)
        request.headers.append((name: "Authorization",
                                value: "AWS4-HMAC-SHA256 Credential=\(accessKeyId)/\(scope), SignedHeaders=\(names.joined(separator: ";")), Signature=\(signature)"))
        return request
    }

    private func lower(_ s: String) -> String { s.lowercased() }
}

