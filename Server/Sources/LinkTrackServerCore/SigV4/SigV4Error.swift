/// Why a request's Signature Version 4 authentication failed.
///
/// These stay typed inside; the control API's response builder turns each into AWS's answer
/// (status 403, `X-Amzn-ErrorType` and message): see `ControlAPIError.answer`.
public enum SigV4Error: Error, Sendable, Equatable {
    /// No `Authorization` header (`MissingAuthenticationTokenException`).
    case missingAuthenticationToken
    /// The `Authorization` header is malformed or lacks a part, the date header is missing, or
    /// `host` or the date is not signed (`IncompleteSignatureException`). The reason is AWS-worded.
    case incompleteSignature(reason: String)
    /// The access key id is not in the configuration (`UnrecognizedClientException`).
    case unrecognizedAccessKey(accessKeyId: String)
    /// The credential scope names another region, service or date than the request's
    /// (`SignatureDoesNotMatch`, AWS-worded reason).
    case credentialScope(reason: String)
    /// The request was signed more than the allowed skew before now (`InvalidSignatureException`,
    /// "Signature expired: ..."). The times are ISO 8601 basic.
    case signatureExpired(signedAt: String, earliestAllowed: String, now: String, skewMinutes: Int)
    /// The request was signed more than the allowed skew after now (`InvalidSignatureException`).
    case signatureNotYetCurrent(signedAt: String, latestAllowed: String, now: String, skewMinutes: Int)
    /// `x-amz-content-sha256` is not the SHA-256 of the body received (`SignatureDoesNotMatch`).
    case payloadHashMismatch
    /// The signature is not the one the secret gives for this request (`SignatureDoesNotMatch`).
    /// Carries what we computed, which AWS shows the client to help it find its mistake.
    case signatureDoesNotMatch(canonicalRequest: String, stringToSign: String)
}
