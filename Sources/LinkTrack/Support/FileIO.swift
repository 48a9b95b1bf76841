#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An operating-system I/O failure, with the operation, the path (if any) and errno's text.
public struct IOError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var path: String?
    public var errorNumber: Int32

    public init(operation: String, path: String?, errorNumber: Int32) {
        self.operation = operation
        self.path = path
        self.errorNumber = errorNumber
    }

    public var description: String {
        let reason = String(cString: strerror(errorNumber))
        if let path { return "cannot \(operation) \(path): \(reason)" }
        return "cannot \(operation): \(reason)"
    }
}

/// Small, Foundation-free file helpers (the CLI starts once per message, so start-up cost matters).
public enum FileIO {
    /// Reads a whole file.
    public static func readAll(path: String) throws(IOError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw IOError(operation: "open", path: path, errorNumber: errno) }
        defer { close(fd) }
        do {
            return try readAll(fileDescriptor: fd)
        } catch {
            throw IOError(operation: error.operation, path: path, errorNumber: error.errorNumber)
        }
    }

    /// Reads a file descriptor to its end.
    ///
    /// A regular file (`< message.eml`) says its size, and is read straight into one buffer of
    /// that size (plus one byte, to see the end in the same pass); anything else, or a file that
    /// grew meanwhile, is read in 64 KiB pieces.
    package static func readAll(fileDescriptor fd: Int32) throws(IOError) -> [UInt8] {
        var result: [UInt8] = []
        var status = stat()
        if fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_size > 0 {
            var failure: Int32?
            var ended = false
            // Safe: `read` writes at most `buffer.count - initialized` bytes at `baseAddress + initialized`,
            // and `initialized` counts only bytes it wrote; the buffer is not empty (size + 1 bytes).
            result = [UInt8](unsafeUninitializedCapacity: Int(status.st_size) + 1) { buffer, initialized in
                while initialized < buffer.count {
                    let n = Glibc.read(fd, buffer.baseAddress! + initialized, buffer.count - initialized)
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        return
                    }
                    if n == 0 { ended = true; return }
                    initialized += n
                }
            }
            if let failure { throw IOError(operation: "read", path: nil, errorNumber: failure) }
            if ended { return result }
        }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try read(fileDescriptor: fd, into: &chunk)
            if n == 0 { return result }
            result.append(contentsOf: chunk[0..<n])
        }
    }

    /// Calls `body` with the whole contents of `fd`.
    ///
    /// A regular file (`< page.html`) is mapped (`mmap`, read-only and private) rather than read:
    /// its pages come from the page cache without a copy, sixteen at a time, where reading a
    /// megabyte into fresh memory costs 256 page faults and a copy. The bytes are valid only
    /// during `body`. A file that has grown past the size it said, or that cannot be mapped, is
    /// read instead. Anything else (a pipe, as from an MTA) is read with ``readAll(fileDescriptor:)``.
    ///
    /// - Warning: as with any mapped file, a file truncated by another process while `body` runs
    ///   makes the process die of SIGBUS (a non-zero exit, never a short output that succeeds).
    package static func withContents<R, E: Error>(
        ofFileDescriptor fd: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R
    ) throws(IOError) -> Result<R, E> {
        var status = stat()
        if fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_size > 0,
           let mapping = mmap(nil, Int(status.st_size), PROT_READ, MAP_PRIVATE, fd, 0), mapping != MAP_FAILED {
            defer { munmap(mapping, Int(status.st_size)) }
            // Nothing past the size seen: a file still being written is read whole instead.
            var probe: UInt8 = 0
            if pread(fd, &probe, 1, status.st_size) == 0 {
                // Safe: the mapping is `st_size` readable bytes until the `munmap` deferred above, after
                // `body` returns; `body` is told not to keep the pointer.
                let bytes = UnsafeBufferPointer(start: mapping.assumingMemoryBound(to: UInt8.self), count: Int(status.st_size))
                return Result { () throws(E) in try body(bytes) }
            }
        }
        let bytes = try readAll(fileDescriptor: fd)
        // Safe: the pointer is used only during `body`, as documented.
        return bytes.withUnsafeBufferPointer { buffer in Result { () throws(E) in try body(buffer) } }
    }

    /// Reads up to `buffer.count` bytes; returns 0 at end of file. Retries on EINTR.
    package static func read(fileDescriptor fd: Int32, into buffer: inout [UInt8]) throws(IOError) -> Int {
        while true {
            // Safe: `read` writes at most `$0.count` bytes into the array's own storage.
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw IOError(operation: "read", path: nil, errorNumber: errno)
        }
    }

    /// Writes all of `bytes` to `fd`. Retries on EINTR and short writes.
    public static func write(fileDescriptor fd: Int32, _ bytes: [UInt8]) throws(IOError) {
        try write(fileDescriptor: fd, bytes[...])
    }

    /// Writes all of `bytes` to `fd`. Retries on EINTR and short writes.
    public static func write(fileDescriptor fd: Int32, _ bytes: ArraySlice<UInt8>) throws(IOError) {
        // Safe: the pointer is used only during the call.
        try bytes.withUnsafeBufferPointer { (buffer) throws(IOError) in try write(fileDescriptor: fd, buffer) }
    }

    /// Writes all of `bytes` to `fd`. Retries on EINTR and short writes.
    public static func write(fileDescriptor fd: Int32, _ bytes: UnsafeBufferPointer<UInt8>) throws(IOError) {
        var offset = 0
        while offset < bytes.count {
            // Safe: `offset < bytes.count`, so the buffer is not empty and the range lies within it.
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError(operation: "write", path: nil, errorNumber: errno)
            }
            offset += n
        }
    }

    /// Replaces the file at `path` atomically: writes a temporary file beside it, syncs it, keeps the
    /// original's permission bits, then renames it over the original.
    package static func writeAtomically(path: String, contents: [UInt8]) throws(IOError) {
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        // Safe: the template is a NUL-terminated C string (`utf8CString`), which `mkstemp` rewrites in place
        // without changing its length.
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw IOError(operation: "create a temporary file beside", path: path, errorNumber: errno) }
        // Safe: still NUL-terminated; `String(cString:)` copies it.
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do throws(IOError) {
            var info = stat()
            if stat(path, &info) == 0 { fchmod(fd, info.st_mode & 0o7777) }
            try write(fileDescriptor: fd, contents)
            guard fsync(fd) == 0 else { throw IOError(operation: "sync", path: temporary, errorNumber: errno) }
        } catch {
            close(fd)
            throw IOError(operation: error.operation, path: path, errorNumber: error.errorNumber)
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw IOError(operation: "rename onto", path: path, errorNumber: errno) }
        ok = true
    }
}
