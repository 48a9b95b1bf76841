#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The buffers an HTML part is decoded into: the document bytes and, for quoted-printable, the
/// line map. Their storage is reused from message to message (see ``PartBufferPool``).
struct PartBuffers {
    var decoded: [UInt8] = []
    var lines = QuotedPrintable.LineMap()

    /// The bytes of storage held, for the pool's retention cap.
    var retainedBytes: Int {
        decoded.capacity
            + lines.lines.capacity * MemoryLayout<QuotedPrintable.LogicalLine>.stride
            + lines.softBreaks.capacity * MemoryLayout<QuotedPrintable.SoftBreak>.stride
    }
}

// Safe: ``kept``, the only mutable state, is read and written only with ``mutex`` held.
/// Decoding buffers that a ``MessageFilter`` keeps between messages, so that a sender filtering
/// message after message does not allocate (and fault in) a part-sized buffer each time.
///
/// Without it, each HTML part of a megabyte costs about 800 fresh pages: glibc hands the freed
/// buffers back to the kernel whenever the heap's free top exceeds twice the largest buffer it
/// has mmapped, which a decoded part, its line map and the output together do (Benchmarks/README.md,
/// "What the fifth pass changed", has the page faults with and without the pool).
///
/// What is kept is bounded: at most ``maximumKept`` sets (one per concurrent caller is all that is
/// ever in use), and a set holding more than ``maximumRetainedBytes`` is released after its part
/// rather than kept, so a filter never holds more than about 16 MiB between messages. The pool is
/// shared by copies of the filter and safe to use from any thread.
final class PartBufferPool: @unchecked Sendable {
    static let maximumKept = 4
    static let maximumRetainedBytes = 4 << 20

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var kept: [PartBuffers] = []

    init() {
        // Safe: the mutex lives at a fixed address (pthread mutexes must not move) from here to `deinit`,
        // which no other reference can outlive.
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Buffers for one part: kept ones when there are any, else empty ones.
    func take() -> PartBuffers {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return kept.popLast() ?? PartBuffers()
    }

    /// Returns buffers after their part has been written, to be kept for the next part unless the
    /// pool is full or they hold more than the cap. Their contents are left as they are (whoever
    /// takes them writes over them); emptying them here would copy them if they were still shared.
    func give(_ buffers: consuming PartBuffers) {
        guard buffers.retainedBytes <= Self.maximumRetainedBytes else { return }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if kept.count < Self.maximumKept { kept.append(buffers) }
    }

    /// How many sets are kept now (for tests).
    var keptCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return kept.count
    }
}
