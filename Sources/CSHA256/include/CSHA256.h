// SHA-256 on the x86 SHA extensions (SHA-NI), one message at a time or two at once.
//
// libcrypto's SHA-256 runs one message through the SHA-NI round instructions, whose latency leaves the
// unit idle half the time; two independent messages interleaved keep it busy and hash nearly twice the
// bytes per cycle (the technique of Linux's sha256_ni_finup2x). libcrypto has no API for that, hence
// these kernels. They are used only where two files are hashed side by side (the transfer engine) and
// only after `hm_sha256_ni_selftest` agreed with known answers; everything else hashes with libcrypto.
#ifndef HUBMIRROR_CSHA256_H
#define HUBMIRROR_CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// A running SHA-256: the chaining state, the message length so far, and a partial block.
typedef struct {
    uint32_t h[8];
    uint64_t length;
    uint8_t block[64];
    uint32_t used;
} hm_sha256_ctx;

/// 1 when this CPU has the SHA extensions (and SSSE3 and SSE4.1) and the kernels below may run.
int hm_sha256_ni_available(void);

/// 1 when the kernels, one message and two at once, give the known digests on this machine (0 also
/// when they are not available). Cheap enough to call once per process.
int hm_sha256_ni_selftest(void);

void hm_sha256_init(hm_sha256_ctx *ctx);

/// Hashes `count` more bytes of the message. Needs `hm_sha256_ni_available()`.
void hm_sha256_update(hm_sha256_ctx *ctx, const void *data, size_t count);

/// Hashes `count` more bytes of each of two messages at once. Both contexts must be on a block
/// boundary (`used == 0`) and `count` a multiple of 64; returns 0 (and hashes nothing) otherwise.
int hm_sha256_update2(hm_sha256_ctx *a, const void *data_a, hm_sha256_ctx *b, const void *data_b, size_t count);

/// Pads, finishes and writes the 32-byte digest. The context cannot be fed afterwards.
void hm_sha256_final(hm_sha256_ctx *ctx, uint8_t digest[32]);

#endif
