#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LinkTrack

/// The configuration file, as the control API reads and changes it.
///
/// Every change is serialised by this actor and made in one step with no suspension between
/// reading and renaming: read the file from disk again (so a hand edit made since the last change
/// is the base, never overwritten), apply the change to the JSON document (member order and every
/// other key kept), validate the result as the filter would, then write it atomically — a
/// temporary file in the same directory, `fsync`, `rename` over the file, `fsync` of the
/// directory — and finally call `onChange` (the server reloads its own view there, so a client
/// that got its answer sees the change served).
///
/// Changes from other processes (`linktrack put-configuration-set-tracking-options`, an editor)
/// are not locked out; each writer replaces the whole file atomically, so the file is always
/// one writer's complete, valid version.
public actor ConfigurationFile {
    /// The path given (a symbolic link is followed: the file it names is replaced, not the link).
    public nonisolated let path: String
    private let onChange: @Sendable () async -> Void
    private let environment: @Sendable (String) -> String?
    private let readSecretFile: @Sendable (String) throws -> [UInt8]

    /// - Parameters:
    ///   - path: the configuration file.
    ///   - environment, readSecretFile: how secrets are found when a result is validated; by default
    ///     placeholders stand in for them, as with the `put` command (only the shape is checked).
    ///   - onChange: called after each change is on disk.
    public init(path: String,
                environment: @escaping @Sendable (String) -> String? = Configuration.placeholderSecretEnvironment,
                readSecretFile: @escaping @Sendable (String) throws -> [UInt8] = Configuration.placeholderSecretFile,
                onChange: @escaping @Sendable () async -> Void = {}) {
        self.path = path
        self.environment = environment
        self.readSecretFile = readSecretFile
        self.onChange = onChange
    }

    /// The document on disk now, validated.
    /// - Throws: ``ControlAPIError/storage(_:)`` when it cannot be read,
    ///   ``ControlAPIError/configurationFileInvalid(path:reason:)`` when it does not validate.
    public func read() throws(ControlAPIError) -> JSONValue {
        try readValidated()
    }

    /// Applies `change` to the document on disk and writes the result, if it differs.
    /// - Parameter change: returns the new document from the current one; it throws to refuse.
    /// - Returns: whether the file was written.
    /// - Throws: what `change` throws; ``ControlAPIError/configuration(_:)`` when the result does
    ///   not validate; storage and invalid-file errors as ``read()``.
    @discardableResult
    public func update(_ change: @Sendable (JSONValue) throws(ControlAPIError) -> JSONValue) async throws(ControlAPIError) -> Bool {
        let current = try readValidated()
        let updated = try change(current)
        guard updated != current else { return false }
        do {
            _ = try Configuration(document: updated, environment: environment, readFile: readSecretFile)
        } catch {
            throw .configuration(error)
        }
        do {
            try Self.writeAtomically(path: path, contents: Array(updated.serialized().utf8))
        } catch {
            throw .storage(error)
        }
        await onChange()
        return true
    }

    private func readValidated() throws(ControlAPIError) -> JSONValue {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(path: path)
        } catch {
            throw .storage(error)
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw .configurationFileInvalid(path: path, reason: "it is not valid JSON: \(error.description).")
        }
        do {
            _ = try Configuration(document: document, environment: environment, readFile: readSecretFile)
        } catch {
            throw .configurationFileInvalid(path: path, reason: error.description)
        }
        return document
    }

    /// Replaces the file at `path` (or the file its symbolic link names) with `contents`: a
    /// temporary file beside it with the original's permission bits and owner, written and
    /// synced, renamed over the original, then the directory synced so the rename survives a
    /// crash.
    static func writeAtomically(path: String, contents: [UInt8]) throws(IOError) {
        var target = path
        if let resolved = realpath(path, nil) {
            target = String(cString: resolved)
            free(resolved)
        }
        let directory: String
        if let slash = target.lastIndex(of: "/") {
            directory = slash == target.startIndex ? "/" : String(target[..<slash])
        } else {
            directory = "."
        }

        var template = Array((target + ".tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw IOError(operation: "create a temporary file beside", path: target, errorNumber: errno) }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do throws(IOError) {
            var info = stat()
            if stat(target, &info) == 0 {
                _ = fchmod(fd, info.st_mode & 0o7777)
                _ = fchown(fd, info.st_uid, info.st_gid)  // works as root; otherwise the file is ours anyway
            }
            try FileIO.write(fileDescriptor: fd, contents)
            guard fsync(fd) == 0 else { throw IOError(operation: "sync", path: temporary, errorNumber: errno) }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw IOError(operation: "close", path: temporary, errorNumber: errno) }
        guard rename(temporary, target) == 0 else { throw IOError(operation: "rename onto", path: target, errorNumber: errno) }
        renamed = true

        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY)
        guard directoryFD >= 0 else { throw IOError(operation: "open the directory", path: directory, errorNumber: errno) }
        defer { close(directoryFD) }
        guard fsync(directoryFD) == 0 else { throw IOError(operation: "sync the directory", path: directory, errorNumber: errno) }
    }
}
