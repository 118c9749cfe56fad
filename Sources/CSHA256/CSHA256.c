#include <string.h>
#include "CSHA256.h"

static const uint32_t initial[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

void hm_sha256_init(hm_sha256_ctx *ctx) {
    memcpy(ctx->h, initial, sizeof initial);
    ctx->length = 0;
    ctx->used = 0;
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

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

#define NI __attribute__((target("sha,sse4.1,ssse3")))

int hm_sha256_ni_available(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int ssse3 = (c >> 9) & 1, sse41 = (c >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int sha = (b >> 29) & 1;
    return ssse3 && sse41 && sha;
}

// The state in the order the round instructions want: ABEF and CDGH.
NI static inline void load_state(const uint32_t h[8], __m128i *abef, __m128i *cdgh) {
    __m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1);
    __m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B);
    *abef = _mm_alignr_epi8(dcba, hgfe, 8);
    *cdgh = _mm_blend_epi16(hgfe, dcba, 0xF0);
}

NI static inline void store_state(uint32_t h[8], __m128i abef, __m128i cdgh) {
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(dchg, feba, 8));
}

// Words 4k..4k+3 of the message schedule from the four groups before them (w[k & 3] holds group k-4).
#define SCHEDULE(w, k) \
    _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(w[(k) & 3], w[((k) + 1) & 3]), \
                                       _mm_alignr_epi8(w[((k) + 3) & 3], w[((k) + 2) & 3], 4)), \
                         w[((k) + 3) & 3])

NI static void blocks1(uint32_t h[8], const uint8_t *p, size_t n) {
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i s0, s1;
    load_state(h, &s0, &s1);
    for (; n > 0; n--, p += 64) {
        __m128i save0 = s0, save1 = s1, w[4];
#pragma GCC unroll 16
        for (int k = 0; k < 16; k++) {
            if (k < 4) w[k] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * k)), swap);
            else w[k & 3] = SCHEDULE(w, k);
            __m128i m = _mm_add_epi32(w[k & 3], _mm_loadu_si128((const __m128i *)&K[4 * k]));
            s1 = _mm_sha256rnds2_epu32(s1, s0, m);
            s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m, 0x0E));
        }
        s0 = _mm_add_epi32(s0, save0);
        s1 = _mm_add_epi32(s1, save1);
    }
    store_state(h, s0, s1);
}

// The same rounds for two messages, interleaved instruction by instruction: each message's rounds
// depend on the one before, the other message's fill the gaps.
NI static void blocks2(uint32_t ha[8], const uint8_t *pa, uint32_t hb[8], const uint8_t *pb, size_t n) {
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i a0, a1, b0, b1;
    load_state(ha, &a0, &a1);
    load_state(hb, &b0, &b1);
    for (; n > 0; n--, pa += 64, pb += 64) {
        __m128i sa0 = a0, sa1 = a1, sb0 = b0, sb1 = b1, wa[4], wb[4];
#pragma GCC unroll 16
        for (int k = 0; k < 16; k++) {
            if (k < 4) {
                wa[k] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pa + 16 * k)), swap);
                wb[k] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pb + 16 * k)), swap);
            } else {
                wa[k & 3] = SCHEDULE(wa, k);
                wb[k & 3] = SCHEDULE(wb, k);
            }
            __m128i kk = _mm_loadu_si128((const __m128i *)&K[4 * k]);
            __m128i ma = _mm_add_epi32(wa[k & 3], kk), mb = _mm_add_epi32(wb[k & 3], kk);
            a1 = _mm_sha256rnds2_epu32(a1, a0, ma);
            b1 = _mm_sha256rnds2_epu32(b1, b0, mb);
            a0 = _mm_sha256rnds2_epu32(a0, a1, _mm_shuffle_epi32(ma, 0x0E));
            b0 = _mm_sha256rnds2_epu32(b0, b1, _mm_shuffle_epi32(mb, 0x0E));
        }
        a0 = _mm_add_epi32(a0, sa0);
        a1 = _mm_add_epi32(a1, sa1);
        b0 = _mm_add_epi32(b0, sb0);
        b1 = _mm_add_epi32(b1, sb1);
    }
    store_state(ha, a0, a1);
    store_state(hb, b0, b1);
}
#else
int hm_sha256_ni_available(void) { return 0; }
static void blocks1(uint32_t h[8], const uint8_t *p, size_t n) { (void)h; (void)p; (void)n; __builtin_trap(); }
static void blocks2(uint32_t ha[8], const uint8_t *pa, uint32_t hb[8], const uint8_t *pb, size_t n) {
    (void)ha; (void)pa; (void)hb; (void)pb; (void)n; __builtin_trap();
}
#endif

void hm_sha256_update(hm_sha256_ctx *ctx, const void *data, size_t count) {
    const uint8_t *p = data;
    ctx->length += count;
    if (ctx->used > 0) {
        size_t take = 64 - ctx->used < count ? 64 - ctx->used : count;
        memcpy(ctx->block + ctx->used, p, take);
        ctx->used += (uint32_t)take;
        p += take;
        count -= take;
        if (ctx->used < 64) return;
        blocks1(ctx->h, ctx->block, 1);
        ctx->used = 0;
    }
    if (count >= 64) {
        blocks1(ctx->h, p, count / 64);
        p += count / 64 * 64;
        count %= 64;
    }
    memcpy(ctx->block, p, count);
    ctx->used = (uint32_t)count;
}

int hm_sha256_update2(hm_sha256_ctx *a, const void *data_a, hm_sha256_ctx *b, const void *data_b, size_t count) {
    if (a->used != 0 || b->used != 0 || count % 64 != 0) return 0;
    if (count == 0) return 1;
    blocks2(a->h, data_a, b->h, data_b, count / 64);
    a->length += count;
    b->length += count;
    return 1;
}

void hm_sha256_final(hm_sha256_ctx *ctx, uint8_t digest[32]) {
    uint64_t bits = ctx->length * 8;
    uint8_t pad[128] = {0x80};
    size_t padLength = (ctx->used < 56 ? 56 : 120) - ctx->used;
    for (int i = 0; i < 8; i++) pad[padLength + i] = (uint8_t)(bits >> (56 - 8 * i));
    uint64_t length = ctx->length;
    hm_sha256_update(ctx, pad, padLength + 8);
    ctx->length = length;
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(ctx->h[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(ctx->h[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(ctx->h[i] >> 8);
        digest[4 * i + 3] = (uint8_t)ctx->h[i];
    }
}

// FIPS 180-4 examples ("abc" and the 448-bit message) and a two-block message hashed both ways.
int hm_sha256_ni_selftest(void) {
    if (!hm_sha256_ni_available()) return 0;
    static const uint8_t abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    static const uint8_t two[32] = {
        0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8, 0xe5, 0xc0, 0x26, 0x93, 0x0c, 0x3e, 0x60, 0x39,
        0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff, 0x21, 0x67, 0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb, 0x06, 0xc1};
    const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    uint8_t d[32];
    hm_sha256_ctx c, e;
    hm_sha256_init(&c);
    hm_sha256_update(&c, "abc", 3);
    hm_sha256_final(&c, d);
    if (memcmp(d, abc, 32) != 0) return 0;
    hm_sha256_init(&c);
    hm_sha256_update(&c, m2, strlen(m2));
    hm_sha256_final(&c, d);
    if (memcmp(d, two, 32) != 0) return 0;
    // 128 bytes of one message and 128 of another side by side, against each hashed alone.
    uint8_t x[128], y[128], dx[32], dy[32];
    for (int i = 0; i < 128; i++) { x[i] = (uint8_t)(i * 7 + 1); y[i] = (uint8_t)(255 - i * 3); }
    hm_sha256_init(&c);
    hm_sha256_init(&e);
    if (!hm_sha256_update2(&c, x, &e, y, sizeof x)) return 0;
    hm_sha256_final(&c, dx);
    hm_sha256_final(&e, dy);
    hm_sha256_init(&c);
    hm_sha256_update(&c, x, sizeof x);
    hm_sha256_final(&c, d);
    if (memcmp(d, dx, 32) != 0) return 0;
    hm_sha256_init(&c);
    hm_sha256_update(&c, y, sizeof y);
    hm_sha256_final(&c, d);
    return memcmp(d, dy, 32) == 0;
}
