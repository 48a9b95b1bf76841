// SHA-256 as FIPS 180-4 §6.2 defines it: a portable compression function, and one that uses the
// x86 SHA extensions (SHA256RNDS2, SHA256MSG1, SHA256MSG2) where the CPU has them. Both are
// checked against swift-crypto (BoringSSL) and the FIPS 180-2 examples in the tests.
#include "lt_sha256.h"
#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static inline uint32_t load_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/// FIPS 180-4 §6.2.2, one 64-byte block at a time.
static void compress_portable(uint32_t hash[8], const uint8_t *blocks, size_t count) {
    uint32_t w[64];
    for (; count > 0; count--, blocks += 64) {
        for (int t = 0; t < 16; t++) w[t] = load_be32(blocks + 4 * t);
        for (int t = 16; t < 64; t++) {
            uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint32_t a = hash[0], b = hash[1], c = hash[2], d = hash[3];
        uint32_t e = hash[4], f = hash[5], g = hash[6], h = hash[7];
        for (int t = 0; t < 64; t++) {
            uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
            uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g; g = f; f = e; e = d + t1;
            d = c; c = b; b = a; a = t1 + t2;
        }
        hash[0] += a; hash[1] += b; hash[2] += c; hash[3] += d;
        hash[4] += e; hash[5] += f; hash[6] += g; hash[7] += h;
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define LT_HAVE_SHA_EXTENSIONS 1

/// The same function with the SHA extensions. SHA256RNDS2 keeps the working variables as two
/// vectors, ABEF and CDGH, and does two rounds per instruction with W[t] + K[t] in the low half of
/// its message operand; SHA256MSG1 and SHA256MSG2 compute the message schedule four words at a time
/// (with the W[t-7] term added in between).
__attribute__((target("sha,sse4.1,ssse3")))
static void compress_sha_extensions(uint32_t hash[8], const uint8_t *blocks, size_t count) {
    // Byte order of each 32-bit word reversed (the message is big-endian).
    const __m128i byteSwap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i dcba = _mm_loadu_si128((const __m128i *)&hash[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&hash[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
    for (; count > 0; count--, blocks += 64) {
        const __m128i abefStart = abef, cdghStart = cdgh;
        __m128i w[4];
        // Unrolled, so that w[] lives in registers and the schedule interleaves with the rounds.
#pragma clang loop unroll(full)
        for (int i = 0; i < 4; i++) {
            w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blocks + 16 * i)), byteSwap);
        }
#pragma clang loop unroll(full)
        for (int group = 0; group < 16; group++) {
            __m128i message = _mm_add_epi32(w[group & 3], _mm_loadu_si128((const __m128i *)&K[4 * group]));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, message);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(message, 0x0E));
            if (group < 12) {
                // W[t..t+3] for t = 4 * (group + 4), from the four groups before it.
                __m128i next = _mm_sha256msg1_epu32(w[group & 3], w[(group + 1) & 3]);
                next = _mm_add_epi32(next, _mm_alignr_epi8(w[(group + 3) & 3], w[(group + 2) & 3], 4));
                w[group & 3] = _mm_sha256msg2_epu32(next, w[(group + 3) & 3]);
            }
        }
        abef = _mm_add_epi32(abef, abefStart);
        cdgh = _mm_add_epi32(cdgh, cdghStart);
    }
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&hash[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&hash[4], _mm_alignr_epi8(dchg, feba, 8));
}

static int detect_sha_extensions(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3");
}
#endif

int lt_sha256_has_sha_extensions(void) {
#ifdef LT_HAVE_SHA_EXTENSIONS
    // Computed once; a race only ever stores the same value.
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        value = detect_sha_extensions();
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
#else
    return 0;
#endif
}

static void compress(lt_sha256_state *state, const uint8_t *blocks, size_t count) {
#ifdef LT_HAVE_SHA_EXTENSIONS
    if (state->accelerated) {
        compress_sha_extensions(state->hash, blocks, count);
        return;
    }
#endif
    compress_portable(state->hash, blocks, count);
}

void lt_sha256_init(lt_sha256_state *state, int accelerated) {
    static const uint32_t initial[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    };
    memcpy(state->hash, initial, sizeof initial);
    state->length = 0;
    state->accelerated = accelerated && lt_sha256_has_sha_extensions() ? 1 : 0;
}

void lt_sha256_update(lt_sha256_state *state, const void *data, size_t count) {
    const uint8_t *bytes = data;
    size_t buffered = (size_t)(state->length % 64);
    state->length += count;
    if (buffered > 0) {
        size_t take = 64 - buffered < count ? 64 - buffered : count;
        memcpy(state->buffer + buffered, bytes, take);
        bytes += take;
        count -= take;
        if (buffered + take < 64) return;
        compress(state, state->buffer, 1);
    }
    if (count >= 64) {
        compress(state, bytes, count / 64);
        bytes += count / 64 * 64;
        count %= 64;
    }
    if (count > 0) memcpy(state->buffer, bytes, count);
}

void lt_sha256_final(lt_sha256_state *state, uint8_t digest[32]) {
    // FIPS 180-4 §5.1.1: a 1 bit, zeros, and the length in bits as a 64-bit big-endian number.
    uint64_t bits = state->length * 8;
    size_t buffered = (size_t)(state->length % 64);
    state->buffer[buffered++] = 0x80;
    if (buffered > 56) {
        memset(state->buffer + buffered, 0, 64 - buffered);
        compress(state, state->buffer, 1);
        buffered = 0;
    }
    memset(state->buffer + buffered, 0, 56 - buffered);
    for (int i = 0; i < 8; i++) state->buffer[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress(state, state->buffer, 1);
    for (int i = 0; i < 8; i++) store_be32(digest + 4 * i, state->hash[i]);
}
