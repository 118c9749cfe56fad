#include <stdint.h>
#include <string.h>
#include "CMemory.h"

#if defined(__x86_64__)
#include <emmintrin.h>

void hm_copy_nontemporal(void *dst, const void *src, size_t count) {
    char *d = dst;
    const char *s = src;
    if (count < 4096) {
        memcpy(d, s, count);
        return;
    }
    size_t head = (16 - ((uintptr_t)d & 15)) & 15;
    memcpy(d, s, head);
    d += head; s += head; count -= head;
    while (count >= 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)s);
        __m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
        __m128i e = _mm_loadu_si128((const __m128i *)(s + 48));
        _mm_stream_si128((__m128i *)d, a);
        _mm_stream_si128((__m128i *)(d + 16), b);
        _mm_stream_si128((__m128i *)(d + 32), c);
        _mm_stream_si128((__m128i *)(d + 48), e);
        d += 64; s += 64; count -= 64;
    }
    memcpy(d, s, count);
    // Non-temporal stores are not ordered by the lock a reader takes next: fence them here.
    _mm_sfence();
}
#else
void hm_copy_nontemporal(void *dst, const void *src, size_t count) { memcpy(dst, src, count); }
#endif
