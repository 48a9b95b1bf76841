#ifndef LT_SHA256_H
#define LT_SHA256_H

#include <stddef.h>
#include <stdint.h>

/// SHA-256 (FIPS 180-4) for LinkTrack's tracking-link MACs.
///
/// The state is a plain value: copying it (to continue a hash from a precomputed prefix, as HMAC
/// does for its key blocks) costs no allocation. On x86-64 CPUs with the SHA extensions the
/// compression function uses them; elsewhere a portable C version runs.
typedef struct {
    uint32_t hash[8];
    /// Bytes hashed so far, including those in `buffer`.
    uint64_t length;
    /// The bytes of an incomplete block.
    uint8_t buffer[64];
    /// 1 when the compression function may use the SHA extensions, 0 for the portable code.
    uint32_t accelerated;
} lt_sha256_state;

/// Starts a hash; `accelerated` 0 forces the portable compression function (for tests).
void lt_sha256_init(lt_sha256_state *state, int accelerated);
void lt_sha256_update(lt_sha256_state *state, const void *data, size_t count);
/// Writes the 32-byte digest. The state is finished: start a new one (or a copy) to hash more.
void lt_sha256_final(lt_sha256_state *state, uint8_t digest[32]);
/// 1 when this CPU has the SHA extensions and the accelerated code is used.
int lt_sha256_has_sha_extensions(void);

#endif
