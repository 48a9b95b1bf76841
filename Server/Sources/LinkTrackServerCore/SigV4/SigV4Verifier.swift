import Crypto

/// Verifies AWS Signature Version 4 (`AWS4-HMAC-SHA256` in the `Authorization` header) against
/// a table of access keys, as an AWS service does.
///
/// What it checks, in order: an `Authorization` header is there and well formed; the request has
/// an `X-Amz-Date` (or `Date`) that is signed, and `host` is signed; the access key is known; the
/// credential scope is `<date of the request>/<region>/<service>/aws4_request`; the request time
/// is within ``allowedSkewSeconds`` of now; a sent `x-amz-content-sha256` is the SHA-256 of the body;
/// and the signature equals the one computed over the canonical request, compared in constant time.
///
/// The payload hash is always computed here from the body received: a client's own
/// `x-amz-content-sha256` is checked, never trusted (so `UNSIGNED-PAYLOAD` is refused).
/// Presigned URLs (authentication in the query) are not accepted.
public struct SigV4Verifier: Sendable {
    /// The service name of the credential scope (`ses` for the SES v2 API).
    public var service: String
    /// The one region accepted in the credential scope.
    public var region: String
    /// Secret access keys by access key id.
    public var secretAccessKeys: [String: [UInt8]]
    /// How far the request time may be from now, either way (AWS: 5 minutes).
    public var allowedSkewSeconds: Int64

    public init(service: String, region: String, secretAccessKeys: [String: [UInt8]], allowedSkewSeconds: Int64 = 300) {
        self.service = service
        self.region = region
        self.secretAccessKeys = secretAccessKeys
        self.allowedSkewSeconds = allowedSkewSeconds
    }

    /// The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` header.
    public struct Authorization: Sendable, Equatable {
        public var accessKeyId: String
        public var scopeDate: String
        public var scopeRegion: String
        public var scopeService: String
        public var scopeTerminator: String
        public var signedHeaders: [String]
        public var signature: String

        public var scope: String { "\(scopeDate)/\(scopeRegion)/\(scopeService)/\(scopeTerminator)" }
    }

    /// Verifies `request` as of `now` (seconds since the Unix epoch).
    /// - Returns: the access key id that signed the request.
    /// - Throws: ``SigV4Error`` saying what failed.
    public func verify(_ request: SigV4Request, now: Int64) throws(SigV4Error) -> String {
        let authorizations = request.headerValues("authorization")
        guard let header = authorizations.first else { throw .missingAuthenticationToken }
        guard authorizations.count == 1 else {
            throw .incompleteSignature(reason: "The request has more than one Authorization header.")
        }
        let authorization = try Self.parseAuthorization(header)

        // The request time: X-Amz-Date, else Date; whichever is used must be signed, or a captured
        // request could be replayed later with a fresh date.
        let timestamp: String
        let requestTime: Int64
        if let amzDate = request.headerValues("x-amz-date").first {
            guard let t = SigV4Time.parseBasic(SigV4Canonical.trimAll(amzDate)) else {
                throw .incompleteSignature(reason: "Invalid X-Amz-Date value \(amzDate): expected the form 20150830T123600Z.")
            }
            guard authorization.signedHeaders.contains("x-amz-date") else {
                throw .incompleteSignature(reason: "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
            }
            requestTime = t
            timestamp = SigV4Time.formatBasic(t)
        } else if let date = request.headerValues("date").first {
            guard let t = SigV4Time.parseIMFFixdate(SigV4Canonical.trimAll(date)) else {
                throw .incompleteSignature(reason: "Invalid Date value \(date): expected the form Sun, 30 Aug 2015 12:36:00 GMT.")
            }
            guard authorization.signedHeaders.contains("date") else {
                throw .incompleteSignature(reason: "'Date' must be a 'SignedHeader' in the AWS Authorization.")
            }
            requestTime = t
            timestamp = SigV4Time.formatBasic(t)
        } else {
            throw .incompleteSignature(reason: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        }
        guard authorization.signedHeaders.contains("host") else {
            throw .incompleteSignature(reason: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
        }

        guard let secret = secretAccessKeys[authorization.accessKeyId] else {
            throw .unrecognizedAccessKey(accessKeyId: authorization.accessKeyId)
        }

        guard authorization.scopeTerminator == "aws4_request" else {
            throw .credentialScope(reason: "Credential should be scoped with a valid terminator: 'aws4_request', not '\(authorization.scopeTerminator)'.")
        }
        guard authorization.scopeService == service else {
            throw .credentialScope(reason: "Credential should be scoped to correct service: '\(service)'.")
        }
        guard authorization.scopeRegion == region else {
            throw .credentialScope(reason: "Credential should be scoped to a valid region, not '\(authorization.scopeRegion)'.")
        }
        let requestDate = String(timestamp.prefix(8))
        guard authorization.scopeDate == requestDate else {
            throw .credentialScope(reason: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '\(authorization.scopeDate)' != '\(requestDate)', from '\(timestamp)'.")
        }

        let minutes = Int(allowedSkewSeconds / 60)
        if requestTime < now - allowedSkewSeconds {
            throw .signatureExpired(signedAt: timestamp, earliestAllowed: SigV4Time.formatBasic(now - allowedSkewSeconds),
                                    now: SigV4Time.formatBasic(now), skewMinutes: minutes)
        }
        if requestTime > now + allowedSkewSeconds {
            throw .signatureNotYetCurrent(signedAt: timestamp, latestAllowed: SigV4Time.formatBasic(now + allowedSkewSeconds),
                                          now: SigV4Time.formatBasic(now), skewMinutes: minutes)
        }

        let payloadHash = SigV4Canonical.hexSHA256(request.body)
        for claimed in request.headerValues("x-amz-content-sha256")
        where SigV4Canonical.asciiLowercased(SigV4Canonical.trimAll(claimed)) != payloadHash {
            throw .payloadHashMismatch
        }

        let canonicalRequest = SigV4Canonical.request(
            method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery,
            headers: request.headers, signedHeaders: authorization.signedHeaders, payloadHash: payloadHash)
        let stringToSign = SigV4Canonical.stringToSign(timestamp: timestamp, scope: authorization.scope,
                                                       canonicalRequest: canonicalRequest)
        let key = SigV4Canonical.signingKey(secret: secret, date: authorization.scopeDate,
                                            region: authorization.scopeRegion, service: authorization.scopeService)
        // A signature of the wrong length or not hex is compared as zeros, so that every wrong
        // signature takes the same path and time.
        var provided = SigV4Canonical.bytes(hex: authorization.signature) ?? []
        if provided.count != SHA256.byteCount { provided = [UInt8](repeating: 0, count: SHA256.byteCount) }
        let valid = HMAC<SHA256>.isValidAuthenticationCode(provided, authenticating: Array(stringToSign.utf8), using: key)
        guard valid, authorization.signature.utf8.count == 2 * SHA256.byteCount else {
            throw .signatureDoesNotMatch(canonicalRequest: canonicalRequest, stringToSign: stringToSign)
        }
        return authorization.accessKeyId
    }

    /// Parses `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ses/aws4_request,
    /// SignedHeaders=host;x-amz-date, Signature=<64 hex>` (spaces after the commas optional).
    public static func parseAuthorization(_ header: String) throws(SigV4Error) -> Authorization {
        let text = SigV4Canonical.trimAll(header)
        let algorithm: Substring
        let rest: Substring
        if let space = text.firstIndex(of: " ") {
            algorithm = text[..<space]
            rest = text[text.index(after: space)...]
        } else {
            algorithm = text[...]
            rest = ""
        }
        guard algorithm == "AWS4-HMAC-SHA256" else {
            if algorithm.hasPrefix("AWS4-") {
                throw .incompleteSignature(reason: "Unsupported AWS 'algorithm': '\(algorithm)'.")
            }
            throw .incompleteSignature(reason: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=\(algorithm)")
        }
        var parameters: [String: String] = [:]
        for part in rest.split(separator: ",") {
            let item = part.trimmingSpaces
            guard let equals = item.firstIndex(of: "=") else {
                throw .incompleteSignature(reason: "Authorization header requires each component to be of the form key=value; found '\(item)'.")
            }
            parameters[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        var missing: [String] = []
        for name in ["Credential", "Signature", "SignedHeaders"] where (parameters[name] ?? "").isEmpty {
            missing.append("Authorization header requires '\(name)' parameter.")
        }
        guard missing.isEmpty, let credential = parameters["Credential"], let signature = parameters["Signature"],
              let signedHeaders = parameters["SignedHeaders"]
        else {
            throw .incompleteSignature(reason: missing.joined(separator: " ") + " Authorization=" + text)
        }
        let parts = credential.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 5, !parts[0].isEmpty else {
            throw .incompleteSignature(reason: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '\(credential)'")
        }
        let n = parts.count
        return Authorization(
            accessKeyId: parts[0..<(n - 4)].joined(separator: "/"),
            scopeDate: String(parts[n - 4]), scopeRegion: String(parts[n - 3]),
            scopeService: String(parts[n - 2]), scopeTerminator: String(parts[n - 1]),
            signedHeaders: signedHeaders.split(separator: ";", omittingEmptySubsequences: true).map {
                SigV4Canonical.asciiLowercased(String($0))
            },
            signature: signature)
    }
}

fileprivate extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return s
    }
}
