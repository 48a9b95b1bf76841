#if canImport(Glibc)
import Glibc
#endif
import Logging

/// The server's log handler: the lines of swift-log's `StreamLogHandler` on standard error
/// (`<time> <level> <label>: <key=value …> [<source>] <message>`, metadata sorted by key), with the
/// metadata formatted when a line is written, not each time it is set.
///
/// Hummingbird gives every request a logger with its own request id (`hb.request.id`). A
/// `StreamLogHandler` formats its whole metadata whenever it is set, so that id was turned into
/// text and sorted in for every request, logged or not (about 3 % of a request's CPU at the
/// default level, which logs nothing per request). Here setting metadata only stores it.
///
/// Each line is one `write(2)` of the whole line to file descriptor 2, so lines from different
/// threads never interleave.
public struct ServerLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let descriptor: Int32

    public init(label: String, logLevel: Logger.Level = .info, descriptor: Int32 = 2,
                metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.logLevel = logLevel
        self.descriptor = descriptor
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = Array(Self.timestamp().utf8)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: "\(event.level)".utf8)
        if !label.isEmpty {
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: label.utf8)
        }
        line.append(UInt8(ascii: ":"))
        if let text = Self.format(effectiveMetadata(event)) {
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: text.utf8)
        }
        line.append(contentsOf: " [".utf8)
        line.append(contentsOf: event.source.utf8)
        line.append(contentsOf: "] ".utf8)
        line.append(contentsOf: "\(event.message)".utf8)
        line.append(UInt8(ascii: "\n"))
        var offset = 0
        while offset < line.count {
            let n = line.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return   // standard error is gone: nothing else to tell
            }
            offset += n
        }
    }

    /// The handler's metadata, then the provider's, then the line's own, then the error's, later
    /// keys replacing earlier ones (as `StreamLogHandler` merges them).
    func effectiveMetadata(_ event: LogEvent) -> Logger.Metadata {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, new in new }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            merged.merge(explicit) { _, new in new }
        }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        return merged
    }

    /// `key=value` pairs sorted by key, separated by spaces; nil when there is none.
    static func format(_ metadata: Logger.Metadata) -> String? {
        guard !metadata.isEmpty else { return nil }
        return metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    /// Local time as `2026-12-03T16:50:49+0000`.
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
