/// An error in a configuration or in a request against it, shaped like the SES v2 API's errors.
///
/// The CLI prints it as `<exceptionName>: <message>`, for example
/// `NotFoundException: Configuration set marketing does not exist.`
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A malformed value, unknown key, wrong type or missing required field (`BadRequestException`).
        case badRequest
        /// A named configuration set does not exist (`NotFoundException`).
        case notFound
    }

    public var kind: Kind
    /// A sentence naming the field and the value at fault.
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public static func badRequest(_ message: String) -> ConfigurationError {
        ConfigurationError(kind: .badRequest, message: message)
    }

    public static func notFound(configurationSet name: String) -> ConfigurationError {
        ConfigurationError(kind: .notFound, message: "Configuration set \(name) does not exist.")
    }

    /// `BadRequestException` or `NotFoundException`, as the SES API names them.
    public var exceptionName: String {
        switch kind {
        case .badRequest: return "BadRequestException"
        case .notFound: return "NotFoundException"
        }
    }

    public var description: String { "\(exceptionName): \(message)" }
}
