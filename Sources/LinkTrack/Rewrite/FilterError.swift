/// Why a message could not be filtered. The CLI maps each kind to a sysexits code.
public struct FilterError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The message names a configuration set that does not exist (`NotFoundException`). Exit 65.
        case unknownConfigurationSet
        /// The configuration cannot be used (no signing key, ...). Exit 78.
        case configuration
        /// Reading the input or writing the output failed. Exit 74.
        case io
        /// Anything else: the MTA should keep the message and retry. Exit 75.
        case temporary
    }

    public var kind: Kind
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
