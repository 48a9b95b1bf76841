import CSHA256

/// A SHA-256 computation (FIPS 180-4), as a plain value.
///
/// LinkTrack signs every link with HMAC-SHA256 composed from prepared states (see
/// ``LinkSigner/Key``): each link copies a state and finishes it. swift-crypto's `SHA256` keeps its
/// state in a reference-counted object, so each copy that was updated allocated one, two per link,
/// and its wrappers cost more than the hashing itself; this state is a C struct copied on the stack.
/// The compression function uses the x86 SHA extensions where the CPU has them (`CSHA256`); the
/// tests check both paths against swift-crypto's SHA-256 and HMAC and the FIPS examples.
struct SHA256State {
    private var state = lt_sha256_state()

    /// - Parameter accelerated: false forces the portable compression function (for tests).
    init(accelerated: Bool = true) {
        lt_sha256_init(&state, accelerated ? 1 : 0)
    }

    /// Whether this state's compression function uses the CPU's SHA extensions.
    var isAccelerated: Bool { state.accelerated != 0 }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        // Safe: the C function reads exactly `bytes.count` bytes from `base`, during the call.
        lt_sha256_update(&state, base, bytes.count)
    }

    mutating func update(_ bytes: [UInt8]) {
        // Safe: the pointer is used only during the call.
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything hashed so far; the state itself goes on unchanged.
    func digest() -> SHA256Sum {
        var copy = state
        var digest = SHA256Sum()
        // Safe: `digest.bytes` is 32 bytes, exactly what `lt_sha256_final` writes; the pointer does not
        // escape.
        withUnsafeMutableBytes(of: &digest.bytes) { lt_sha256_final(&copy, $0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        return digest
    }

    /// The SHA-256 of `bytes`.
    static func hash(_ bytes: [UInt8]) -> SHA256Sum {
        var state = SHA256State()
        state.update(bytes)
        return state.digest()
    }
}

/// A SHA-256 digest: 32 bytes, held inline.
struct SHA256Sum: Equatable {
    var bytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    static func == (a: SHA256Sum, b: SHA256Sum) -> Bool { a.array == b.array }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        // Safe: the 32 bytes live on the stack for the call; `body` is a `withUnsafe...` closure and must not
        // keep them (as the standard library's).
        try Swift.withUnsafeBytes(of: bytes, body)
    }

    // Safe: the bytes are copied during the call.
    var array: [UInt8] { withUnsafeBytes { Array($0) } }
}
