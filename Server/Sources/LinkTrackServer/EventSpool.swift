#if canImport(Glibc)
import Glibc
#endif
import Crypto
import LinkTrack
import LinkTrackServerCore
import Synchronization

/// A sink's disk spool: `spool/<key>.log` in the data directory, where an ``EventWriter`` puts the
/// events its sink did not take in time (the sink is down, failing or slower than the
/// acknowledgement bound), so that a request is answered once its event is on local disk and a
/// `kill -9` loses nothing answered. The writer replays the spool to the sink in order once the
/// sink is back, and on start.
///
/// The file is append-only:
///
/// - a 16-byte header: `LTSPOOL1` and a 64-bit little-endian generation (random when the file is
///   made, plus one at each compaction);
/// - records: a 32-bit little-endian payload length, the CRC-32 (IEEE) of the payload, and the
///   payload, one event as a small JSON object (every field of ``TrackingEvent``, losslessly).
///
/// One ``append(_:)`` writes all of its records with one `pwrite(2)` and one `fdatasync(2)` (group
/// commit: every event that waited for the spool meanwhile shares the sync). Records the sink has
/// taken are confirmed: `spool/<key>.offset` (`LTSPOFF1`, generation, offset; 24 bytes, not synced:
/// a stale offset only replays more, and stores de-duplicate by event id) says where replay
/// resumes. When every record is confirmed the file is truncated to a new generation's header.
/// While it drains, the disk blocks of the confirmed prefix are freed as it grows (every 8 MiB,
/// `fallocate(PUNCH_HOLE)`: O(1), appends never wait for it); where the file system cannot punch
/// holes, or the file's logical size reaches four times the cap, the unconfirmed records are
/// copied to a new file instead (rename, then directory fsync). `spool/<key>.sink` names the sink
/// in words, for operators.
///
/// On open, the records after the confirmed offset are checked; the file is cut at the first torn
/// or corrupt record (a crash in the middle of an append, whose events were never acknowledged).
///
/// The unconfirmed records are capped at `limitBytes` (what the spool holds on disk, less the
/// freed prefix): an append that does not fit fails with ``SpoolError/full`` and the writer keeps
/// those events in memory.
///
/// All methods do blocking file I/O: call them on a thread pool (the writer uses NIO's).
public final class EventSpool: Sendable {
    public let directory: String
    public let key: String
    public let limitBytes: Int64
    /// What the spool is for, in words (written to `<key>.sink`).
    public let sinkDescription: String
    public var logPath: String { directory + "/" + key + ".log" }
    var offsetPath: String { directory + "/" + key + ".offset" }
    var describePath: String { directory + "/" + key + ".sink" }

    static let headerSize: Int64 = 16
    static let recordHeaderSize = 8
    static let logMagic: [UInt8] = Array("LTSPOOL1".utf8)
    static let offsetMagic: [UInt8] = Array("LTSPOFF1".utf8)
    /// Drop the confirmed prefix (copy the rest to a new file) once it is this large and more than
    /// half of the file.
    static let compactionThreshold: Int64 = 64 << 20
    /// Free the confirmed prefix's blocks once this much more of it is confirmed.
    static let punchStep: Int64 = 8 << 20
    static let blockSize: Int64 = 4096

    struct FileState {
        var fd: Int32 = -1
        var generation: UInt64 = 0
        /// The end of the last complete, synced record.
        var end: Int64 = 0
        /// Where replay resumes.
        var confirmed: Int64 = 0
        var pendingEvents = 0
        /// The confirmed prefix's blocks are freed up to here (block-aligned; 0: none).
        var punched: Int64 = 0
        var punchUnsupported = false
    }

    /// A snapshot for `/ready` and metrics (never waits for I/O).
    public struct Status: Sendable, Equatable {
        /// Bytes of records not yet confirmed by the sink.
        public var pendingBytes: Int64
        /// Events not yet confirmed by the sink.
        public var pendingEvents: Int
        /// About what the file occupies on disk: its size less the freed prefix.
        public var fileBytes: Int64
    }

    /// What ``open()`` found.
    public struct Recovery: Sendable, Equatable {
        public var pendingEvents: Int
        public var pendingBytes: Int64
        /// Bytes cut from the end (a torn last append, or corruption).
        public var discardedBytes: Int64
    }

    private let file = Mutex(FileState())
    private let snapshot = Mutex(Status(pendingBytes: 0, pendingEvents: 0, fileBytes: 0))

    public init(directory: String, key: String, sinkDescription: String, limitBytes: Int64) {
        self.directory = directory
        self.key = key
        self.sinkDescription = sinkDescription
        self.limitBytes = limitBytes
    }

    /// The spool's key for a sink: 32 hex digits of SHA-256 over what identifies the sink's store
    /// (never a password), so the same store finds its spool again after a restart.
    public static func key(for identity: String) -> String {
        String(SHA256.hash(data: Array(identity.utf8)).map { byte -> String in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined().prefix(32))
    }

    public var status: Status { snapshot.withLock { $0 } }

    public var isOpen: Bool { file.withLock { $0.fd >= 0 } }

    // MARK: - Open and recover

    /// Opens (making the directory and file if needed) and checks the unconfirmed records. Safe to
    /// call again; a no-op once open.
    @discardableResult
    public func open() throws(SpoolError) -> Recovery {
        try file.withLock { (s: inout FileState) throws(SpoolError) -> Recovery in
            if s.fd >= 0 {
                return Recovery(pendingEvents: s.pendingEvents, pendingBytes: s.end - s.confirmed, discardedBytes: 0)
            }
            try makeDirectory(directory)
            var created = false
            var fd = Glibc.open(logPath, O_RDWR | O_CLOEXEC)
            if fd < 0 && errno == ENOENT {
                fd = Glibc.open(logPath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                created = true
            }
            guard fd >= 0 else { throw SpoolError.io("open \(logPath)", errno) }
            do throws(SpoolError) {
                var state = FileState(fd: fd)
                var discarded: Int64 = 0
                if created || fileSize(fd) < Self.headerSize {
                    try writeFreshHeader(&state, generation: UInt64.random(in: 1...UInt64.max))
                    try syncDirectory(directory)
                    try writeOffset(state)
                } else {
                    var header = [UInt8](repeating: 0, count: Int(Self.headerSize))
                    try preadFully(fd, &header, at: 0)
                    guard Array(header[0..<8]) == Self.logMagic else {
                        throw SpoolError.corrupt("\(logPath) is not a LinkTrack spool file")
                    }
                    state.generation = readUInt64(header, 8)
                    state.confirmed = Self.headerSize
                    if let (generation, offset) = readOffset(), generation == state.generation {
                        state.confirmed = offset
                    }
                    let size = fileSize(fd)
                    if state.confirmed < Self.headerSize || state.confirmed > size { state.confirmed = Self.headerSize }
                    let (validEnd, count) = try scan(fd, from: state.confirmed, to: size)
                    if validEnd < size {
                        discarded = size - validEnd
                        guard ftruncate(fd, off_t(validEnd)) == 0 else { throw SpoolError.io("truncate \(logPath)", errno) }
                        guard fdatasync(fd) == 0 else { throw SpoolError.io("fsync \(logPath)", errno) }
                    }
                    state.end = validEnd
                    state.pendingEvents = count
                }
                if access(describePath, F_OK) != 0 {
                    try? writeWhole(describePath, Array((sinkDescription + "\n").utf8))
                }
                s = state
                publish(s)
                return Recovery(pendingEvents: s.pendingEvents, pendingBytes: s.end - s.confirmed, discardedBytes: discarded)
            } catch {
                Glibc.close(fd)
                throw error
            }
        }
    }

    /// Walks records from `start`; returns the end of the last valid one and how many there are.
    func scan(_ fd: Int32, from start: Int64, to size: Int64) throws(SpoolError) -> (Int64, Int) {
        var position = start
        var count = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var bufferStart = start
        var bufferCount = try preadSome(fd, &buffer, at: start, maximum: buffer.count)
        while position + Int64(Self.recordHeaderSize) <= size {
            var at = Int(position - bufferStart)
            if at + Self.recordHeaderSize > bufferCount {
                bufferStart = position
                bufferCount = try preadSome(fd, &buffer, at: position, maximum: buffer.count)
                at = 0
                if bufferCount < Self.recordHeaderSize { break }
            }
            let length = Int(readUInt32(buffer, at))
            let crc = readUInt32(buffer, at + 4)
            let recordSize = Self.recordHeaderSize + length
            guard length > 0, position + Int64(recordSize) <= size else { break }
            if at + recordSize > bufferCount {
                if recordSize > buffer.count { buffer = [UInt8](repeating: 0, count: recordSize) }
                bufferStart = position
                bufferCount = try preadSome(fd, &buffer, at: position, maximum: buffer.count)
                at = 0
                if bufferCount < recordSize { break }
            }
            guard CRC32.checksum(buffer[(at + Self.recordHeaderSize)..<(at + recordSize)]) == crc else { break }
            position += Int64(recordSize)
            count += 1
        }
        return (position, count)
    }

    // MARK: - Append

    /// Where an append put its records.
    public struct Appended: Sendable, Equatable {
        public var range: Range<Int64>
        /// The end of each event's record, in order.
        public var ends: [Int64]
        public var generation: UInt64
    }

    /// Appends `events` (all or none) with one write, then syncs (`fdatasync`).
    @discardableResult
    public func append(_ events: [TrackingEvent]) throws(SpoolError) -> Appended {
        if !isOpen { try open() }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(events.count * 600)
        var relativeEnds: [Int64] = []
        relativeEnds.reserveCapacity(events.count)
        for event in events {
            let payload = Array(SpoolRecord.encode(event).utf8)
            appendUInt32(&bytes, UInt32(payload.count))
            appendUInt32(&bytes, CRC32.checksum(payload[...]))
            bytes += payload
            relativeEnds.append(Int64(bytes.count))
        }
        return try file.withLock { (s: inout FileState) throws(SpoolError) -> Appended in
            guard s.fd >= 0 else { throw SpoolError.io("append to \(logPath) (closed)", EBADF) }
            let pending = s.end - s.confirmed
            guard Self.headerSize + pending + Int64(bytes.count) <= limitBytes else {
                throw SpoolError.full(limit: limitBytes, needed: Int64(bytes.count), used: Self.headerSize + pending)
            }
            // Without freed blocks, or once the logical size is far past the cap, drop the confirmed
            // prefix by copying the rest (a long drain under load never empties the file).
            let logical = s.end + Int64(bytes.count)
            if s.confirmed > Self.headerSize,
               (s.punchUnsupported && logical > limitBytes) || logical > max(4 * limitBytes, limitBytes + Self.compactionThreshold) {
                try compact(&s)
            }
            let start = s.end
            do throws(SpoolError) {
                try pwriteFully(s.fd, bytes, at: start)
                guard fdatasync(s.fd) == 0 else { throw SpoolError.io("fsync \(logPath)", errno) }
            } catch {
                // Whatever part of it reached the file is cut off again (or found torn at the next open).
                _ = ftruncate(s.fd, off_t(start))
                throw error
            }
            s.end = start + Int64(bytes.count)
            s.pendingEvents += events.count
            publish(s)
            return Appended(range: start..<s.end, ends: relativeEnds.map { start + $0 }, generation: s.generation)
        }
    }

    // MARK: - Replay

    /// The oldest unconfirmed events (at most `maximumEvents`, about `maximumBytes`), with their
    /// range. A record that does not decode (written by another version) is skipped and returned in
    /// `undecodable` so the caller can count and log it.
    public func read(maximumEvents: Int, maximumBytes: Int = 8 << 20) throws(SpoolError)
        -> (events: [TrackingEvent], range: Range<Int64>, generation: UInt64, undecodable: [String]) {
        try file.withLock { (s: inout FileState) throws(SpoolError) in
            guard s.fd >= 0 else { throw SpoolError.io("read \(logPath) (closed)", EBADF) }
            let available = s.end - s.confirmed
            guard available > 0 else { return ([], s.confirmed..<s.confirmed, s.generation, []) }
            var buffer = [UInt8](repeating: 0, count: Int(min(available, Int64(maximumBytes))))
            try preadFully(s.fd, &buffer, at: s.confirmed)
            var events: [TrackingEvent] = []
            var undecodable: [String] = []
            var at = 0
            while events.count + undecodable.count < maximumEvents, at + Self.recordHeaderSize <= buffer.count {
                let length = Int(readUInt32(buffer, at))
                let recordEnd = at + Self.recordHeaderSize + length
                if recordEnd > buffer.count {
                    guard at == 0 else { break }
                    // One record larger than the buffer: read it alone.
                    guard length > 0, Int64(recordEnd) <= available else {
                        throw SpoolError.corrupt("\(logPath): bad record length \(length) at byte \(s.confirmed)")
                    }
                    buffer = [UInt8](repeating: 0, count: recordEnd)
                    try preadFully(s.fd, &buffer, at: s.confirmed)
                }
                let payload = buffer[(at + Self.recordHeaderSize)..<recordEnd]
                guard length > 0, CRC32.checksum(payload) == readUInt32(buffer, at + 4) else {
                    // Hand over the good records before it; the next read starts at the bad one.
                    if at > 0 { break }
                    throw SpoolError.corrupt("\(logPath): bad record at byte \(s.confirmed)")
                }
                if let event = SpoolRecord.decode(Array(payload)) {
                    events.append(event)
                } else {
                    undecodable.append(String(decoding: payload, as: UTF8.self))
                }
                at = recordEnd
            }
            return (events, s.confirmed..<(s.confirmed + Int64(at)), s.generation, undecodable)
        }
    }

    /// Marks the records in `range` (of `generation`) as taken by the sink. Only a range that
    /// starts at or before the confirmed offset moves it (confirmation is in order); the file is
    /// truncated when everything is confirmed, and compacted when the confirmed prefix is large.
    public func confirm(_ range: Range<Int64>, generation: UInt64, events: Int) throws(SpoolError) {
        try file.withLock { (s: inout FileState) throws(SpoolError) in
            guard s.fd >= 0, generation == s.generation, range.lowerBound <= s.confirmed,
                  range.upperBound > s.confirmed, range.upperBound <= s.end else { return }
            s.confirmed = range.upperBound
            s.pendingEvents = max(0, s.pendingEvents - events)
            if s.confirmed == s.end {
                // Everything replayed: start a new, empty generation.
                guard ftruncate(s.fd, 0) == 0 else { throw SpoolError.io("truncate \(logPath)", errno) }
                try writeFreshHeader(&s, generation: s.generation &+ 1)
                s.pendingEvents = 0
                try writeOffset(s)
            } else {
                try writeOffset(s)
                punchConfirmed(&s)
            }
            publish(s)
        }
    }

    /// glibc's `fallocate(2)` (Swift's Glibc module leaves it out: it is a GNU extension), looked up once.
    typealias Fallocate = @convention(c) (Int32, Int32, off_t, off_t) -> Int32
    static let fallocate: Fallocate? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "fallocate") else { return nil }
        return unsafeBitCast(symbol, to: Fallocate.self)
    }()

    /// Frees the disk blocks of the confirmed prefix (the first block, with the header, stays).
    private func punchConfirmed(_ s: inout FileState) {
        guard !s.punchUnsupported else { return }
        let start = max(s.punched, Self.blockSize)
        let end = s.confirmed / Self.blockSize * Self.blockSize
        guard end - start >= Self.punchStep else { return }
        // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
        if let punch = Self.fallocate, punch(s.fd, 0x02 | 0x01, off_t(start), off_t(end - start)) == 0 {
            s.punched = end
        } else {
            s.punchUnsupported = true
        }
    }

    /// Drops the confirmed prefix: copies the unconfirmed records to a new file of the next
    /// generation, syncs it, renames it over the spool and syncs the directory.
    private func compact(_ s: inout FileState) throws(SpoolError) {
        let temporary = logPath + ".compact"
        let fd = Glibc.open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SpoolError.io("open \(temporary)", errno) }
        var next = FileState(fd: fd)
        do throws(SpoolError) {
            try writeFreshHeader(&next, generation: s.generation &+ 1)
            var position = s.confirmed
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while position < s.end {
                let n = try preadSome(s.fd, &buffer, at: position, maximum: Int(min(Int64(buffer.count), s.end - position)))
                guard n > 0 else { throw SpoolError.io("read \(logPath)", EIO) }
                try pwriteFully(fd, Array(buffer[0..<n]), at: next.end)
                next.end += Int64(n)
                position += Int64(n)
            }
            guard fdatasync(fd) == 0 else { throw SpoolError.io("fsync \(temporary)", errno) }
            guard rename(temporary, logPath) == 0 else { throw SpoolError.io("rename \(temporary)", errno) }
            try syncDirectory(directory)
        } catch {
            Glibc.close(fd)
            unlink(temporary)
            throw error
        }
        Glibc.close(s.fd)
        next.pendingEvents = s.pendingEvents
        next.punchUnsupported = s.punchUnsupported
        s = next
        try writeOffset(s)
    }

    /// Gives up on the unconfirmed records after a corrupt one was found where replay resumes:
    /// the file restarts empty. Returns how many events were counted as pending.
    public func discardUnconfirmed() throws(SpoolError) -> Int {
        try file.withLock { (s: inout FileState) throws(SpoolError) -> Int in
            guard s.fd >= 0 else { return 0 }
            let lost = s.pendingEvents
            guard ftruncate(s.fd, 0) == 0 else { throw SpoolError.io("truncate \(logPath)", errno) }
            try writeFreshHeader(&s, generation: s.generation &+ 1)
            s.pendingEvents = 0
            try writeOffset(s)
            publish(s)
            return lost
        }
    }

    /// Closes the file (the records stay for the next start).
    public func close() {
        file.withLock { s in
            if s.fd >= 0 { Glibc.close(s.fd) }
            s = FileState()
        }
    }

    // MARK: - File helpers

    private func publish(_ s: FileState) {
        let status = Status(pendingBytes: s.end - s.confirmed, pendingEvents: s.pendingEvents,
                            fileBytes: s.end - (s.punched > 0 ? s.punched - Self.blockSize : 0))
        snapshot.withLock { $0 = status }
    }

    private func writeFreshHeader(_ s: inout FileState, generation: UInt64) throws(SpoolError) {
        var header = Self.logMagic
        appendUInt64(&header, generation)
        try pwriteFully(s.fd, header, at: 0)
        guard fdatasync(s.fd) == 0 else { throw SpoolError.io("fsync \(logPath)", errno) }
        s.generation = generation
        s.end = Self.headerSize
        s.confirmed = Self.headerSize
        s.punched = 0
    }

    private func writeOffset(_ s: FileState) throws(SpoolError) {
        var bytes = Self.offsetMagic
        appendUInt64(&bytes, s.generation)
        appendUInt64(&bytes, UInt64(s.confirmed))
        let fd = Glibc.open(offsetPath, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SpoolError.io("open \(offsetPath)", errno) }
        defer { Glibc.close(fd) }
        try pwriteFully(fd, bytes, at: 0)
    }

    private func readOffset() -> (UInt64, Int64)? {
        guard let bytes = try? FileIO.readAll(path: offsetPath), bytes.count >= 24,
              Array(bytes[0..<8]) == Self.offsetMagic else { return nil }
        return (readUInt64(bytes, 8), Int64(bitPattern: readUInt64(bytes, 16)))
    }

    private func writeWhole(_ path: String, _ bytes: [UInt8]) throws(SpoolError) {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SpoolError.io("open \(path)", errno) }
        defer { Glibc.close(fd) }
        try pwriteFully(fd, bytes, at: 0)
    }
}

/// A spool failure, typed for logs.
public enum SpoolError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The spool is at its cap (`--spool-limit-bytes`).
    case full(limit: Int64, needed: Int64, used: Int64)
    case io(String, Int32)
    case corrupt(String)

    public var description: String {
        switch self {
        case .full(let limit, let needed, let used):
            return "the spool is full (\(used) of \(limit) bytes used, \(needed) more needed; --spool-limit-bytes)"
        case .io(let operation, let number):
            return "cannot \(operation): \(String(cString: strerror(number)))"
        case .corrupt(let reason):
            return reason
        }
    }
}

// MARK: - Records

/// One event as a spool record's payload: a JSON object with every field of ``TrackingEvent``
/// (the SES JSON alone would lose a missing user agent and tag order).
enum SpoolRecord {
    static func encode(_ e: TrackingEvent) -> String {
        func q(_ s: String) -> String { JSONValue.quoted(s) }
        func tags(_ t: [Tag]) -> String { "[" + t.map { "[" + q($0.name) + "," + q($0.value) + "]" }.joined(separator: ",") + "]" }
        var j = "{\"v\":1,\"id\":" + q(e.eventId) + ",\"k\":" + q(e.kind.rawValue) + ",\"t\":\(e.timestampMilliseconds)"
        j += ",\"s\":" + q(e.configurationSet) + ",\"m\":" + q(e.messageId) + ",\"mt\":" + tags(e.messageTags)
        j += ",\"ip\":" + q(e.ipAddress) + ",\"ua\":" + (e.userAgent.map(q) ?? "null")
        j += ",\"l\":" + (e.link.map(q) ?? "null") + ",\"li\":" + (e.linkIndex.map { String($0) } ?? "null")
        j += ",\"lt\":" + tags(e.linkTags) + ",\"mr\":[" + e.machineReasons.map { q($0.rawValue) }.joined(separator: ",") + "]}"
        return j
    }

    static func decode(_ bytes: [UInt8]) -> TrackingEvent? {
        guard let value = try? JSONValue.parse(bytes), value["v"] == .number("1"),
              case .string(let id)? = value["id"], case .string(let kindText)? = value["k"],
              let kind = EventKind(rawValue: kindText), case .number(let time)? = value["t"], let ms = Int64(time),
              case .string(let set)? = value["s"], case .string(let message)? = value["m"],
              case .string(let ip)? = value["ip"], let messageTags = tags(value["mt"]), let linkTags = tags(value["lt"]),
              case .array(let reasonValues)? = value["mr"] else { return nil }
        var userAgent: String?
        if case .string(let ua)? = value["ua"] { userAgent = ua }
        var link: String?
        if case .string(let l)? = value["l"] { link = l }
        var linkIndex: Int?
        if case .number(let n)? = value["li"] { linkIndex = Int(n) }
        var reasons: [MachineReason] = []
        for r in reasonValues {
            guard case .string(let text) = r, let reason = MachineReason(rawValue: text) else { return nil }
            reasons.append(reason)
        }
        return TrackingEvent(eventId: id, kind: kind, timestampMilliseconds: ms, configurationSet: set, messageId: message,
                             messageTags: messageTags, ipAddress: ip, userAgent: userAgent, link: link, linkIndex: linkIndex,
                             linkTags: linkTags, machineReasons: reasons)
    }

    static func tags(_ value: JSONValue?) -> [Tag]? {
        guard case .array(let items)? = value else { return nil }
        var out: [Tag] = []
        for item in items {
            guard case .array(let pair) = item, pair.count == 2, case .string(let name) = pair[0],
                  case .string(let v) = pair[1] else { return nil }
            out.append(Tag(name: name, value: v))
        }
        return out
    }
}

// MARK: - Bytes

/// CRC-32 (IEEE 802.3, the zlib polynomial), table-driven.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}

func appendUInt32(_ bytes: inout [UInt8], _ v: UInt32) {
    for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
}

func appendUInt64(_ bytes: inout [UInt8], _ v: UInt64) {
    for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
}

func readUInt32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    var v: UInt32 = 0
    for i in 0..<4 { v |= UInt32(bytes[at + i]) << (8 * UInt32(i)) }
    return v
}

func readUInt64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<8 { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
    return v
}

private func fileSize(_ fd: Int32) -> Int64 {
    var st = stat()
    guard fstat(fd, &st) == 0 else { return 0 }
    return Int64(st.st_size)
}

private func pwriteFully(_ fd: Int32, _ bytes: [UInt8], at offset: Int64) throws(SpoolError) {
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset + Int64(done))) }
        if n < 0 {
            if errno == EINTR { continue }
            throw SpoolError.io("write the spool", errno)
        }
        done += n
    }
}

private func preadSome(_ fd: Int32, _ buffer: inout [UInt8], at offset: Int64, maximum: Int) throws(SpoolError) -> Int {
    var done = 0
    let wanted = min(maximum, buffer.count)
    while done < wanted {
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, wanted - done, off_t(offset + Int64(done))) }
        if n < 0 {
            if errno == EINTR { continue }
            throw SpoolError.io("read the spool", errno)
        }
        if n == 0 { break }
        done += n
    }
    return done
}

private func preadFully(_ fd: Int32, _ buffer: inout [UInt8], at offset: Int64) throws(SpoolError) {
    let n = try preadSome(fd, &buffer, at: offset, maximum: buffer.count)
    guard n == buffer.count else { throw SpoolError.corrupt("the spool ended early (read \(n) of \(buffer.count) bytes at \(offset))") }
}

private func makeDirectory(_ path: String) throws(SpoolError) {
    if mkdir(path, 0o750) != 0 && errno != EEXIST { throw SpoolError.io("create \(path)", errno) }
}

private func syncDirectory(_ path: String) throws(SpoolError) {
    let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw SpoolError.io("open \(path)", errno) }
    defer { Glibc.close(fd) }
    guard fsync(fd) == 0 else { throw SpoolError.io("fsync \(path)", errno) }
}
