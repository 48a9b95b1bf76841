import LinkTrack

/// Why a control API request failed. Typed inside the module; only ``ControlAPIResponse``'s
/// builder (``ControlAPIError/answer``) turns it into SES's status, error type and message.
public enum ControlAPIError: Error, Sendable, Equatable {
    /// Signature Version 4 authentication failed (403).
    case authentication(SigV4Error)
    /// The access key's token bucket is empty (`TooManyRequestsException`, 429).
    case tooManyRequests(accessKeyId: String)
    /// A validation failure from the library's configuration code: `BadRequestException` or
    /// `NotFoundException`, with the library's message.
    case configuration(ConfigurationError)
    /// A malformed request (`BadRequestException`, 400).
    case badRequest(String)
    /// The named configuration set or event destination does not exist (`NotFoundException`, 404).
    case notFound(String)
    /// The configuration set or event destination exists already (`AlreadyExistsException`, 400).
    case alreadyExists(String)
    /// A limit of ``ControlAPILimits`` is reached (`LimitExceededException`, 400).
    case limitExceeded(String)
    /// No SES v2 operation has this method and path (`UnknownOperationException`, 404).
    case unknownOperation(method: String, path: String)
    /// The configuration file on disk does not parse or validate, so no change can be based on it
    /// (`InternalFailure`, 500): the operator must fix it by hand.
    case configurationFileInvalid(path: String, reason: String)
    /// Reading or writing the configuration file failed (`InternalFailure`, 500).
    case storage(IOError)

    /// `Configuration set <name> does not exist.`, as the library words it.
    static func setNotFound(_ name: String) -> ControlAPIError {
        .configuration(.notFound(configurationSet: name))
    }
}

/// An error as SES v2 sends it: HTTP status, `X-Amzn-ErrorType` and `{"message": ...}`.
public struct AWSErrorAnswer: Sendable, Equatable {
    public var status: Int
    public var code: String
    public var message: String
}

extension ControlAPIError {
    /// The answer SES (or AWS's authentication front end) gives for this error.
    public var answer: AWSErrorAnswer {
        switch self {
        case .authentication(let error):
            switch error {
            case .missingAuthenticationToken:
                return AWSErrorAnswer(status: 403, code: "MissingAuthenticationTokenException", message: "Missing Authentication Token")
            case .incompleteSignature(let reason):
                return AWSErrorAnswer(status: 403, code: "IncompleteSignatureException", message: reason)
            case .unrecognizedAccessKey:
                return AWSErrorAnswer(status: 403, code: "UnrecognizedClientException",
                                      message: "The security token included in the request is invalid.")
            case .credentialScope(let reason):
                return AWSErrorAnswer(status: 403, code: "SignatureDoesNotMatch", message: reason)
            case let .signatureExpired(signedAt, earliest, now, minutes):
                return AWSErrorAnswer(status: 403, code: "InvalidSignatureException",
                                      message: "Signature expired: \(signedAt) is now earlier than \(earliest) (\(now) - \(minutes) min.)")
            case let .signatureNotYetCurrent(signedAt, latest, now, minutes):
                return AWSErrorAnswer(status: 403, code: "InvalidSignatureException",
                                      message: "Signature not yet current: \(signedAt) is still later than \(latest) (\(now) + \(minutes) min.)")
            case .payloadHashMismatch:
                return AWSErrorAnswer(status: 403, code: "SignatureDoesNotMatch",
                                      message: "The provided 'x-amz-content-sha256' header does not match what was computed.")
            case let .signatureDoesNotMatch(canonicalRequest, stringToSign):
                return AWSErrorAnswer(status: 403, code: "SignatureDoesNotMatch", message: """
                    The request signature we calculated does not match the signature you provided. \
                    Check your AWS Secret Access Key and signing method. Consult the service documentation for details.

                    The Canonical String for this request should have been
                    '\(canonicalRequest)'

                    The String-to-Sign should have been
                    '\(stringToSign)'

                    """)
            }
        case .tooManyRequests:
            return AWSErrorAnswer(status: 429, code: "TooManyRequestsException", message: "Too many requests have been made to the operation.")
        case .configuration(let error):
            return AWSErrorAnswer(status: error.kind == .notFound ? 404 : 400, code: error.exceptionName, message: error.message)
        case .badRequest(let message):
            return AWSErrorAnswer(status: 400, code: "BadRequestException", message: message)
        case .notFound(let message):
            return AWSErrorAnswer(status: 404, code: "NotFoundException", message: message)
        case .alreadyExists(let message):
            return AWSErrorAnswer(status: 400, code: "AlreadyExistsException", message: message)
        case .limitExceeded(let message):
            return AWSErrorAnswer(status: 400, code: "LimitExceededException", message: message)
        case let .unknownOperation(method, path):
            return AWSErrorAnswer(status: 404, code: "UnknownOperationException",
                                  message: "No SES v2 operation is served at \(method) \(path).")
        case let .configurationFileInvalid(path, reason):
            return AWSErrorAnswer(status: 500, code: "InternalFailure",
                                  message: "The configuration file \(path) does not validate, so no change can be based on it; fix it by hand: \(reason)")
        case .storage(let error):
            return AWSErrorAnswer(status: 500, code: "InternalFailure", message: "The configuration file could not be read or written: \(error).")
        }
    }
}
