// Memory copies the Swift standard library does not offer.
#ifndef HUBMIRROR_CMEMORY_H
#define HUBMIRROR_CMEMORY_H

#include <stddef.h>

/// Copies `count` bytes from `src` to `dst` (not overlapping) with non-temporal stores where the CPU
/// has them (SSE2 on x86-64): the destination's cache lines are not read first nor left dirty in this
/// core's cache, which is what a buffer another thread reads next (and a device writes out) wants.
/// Ends with a store fence, so the bytes are visible to another thread once it is told of them.
/// Elsewhere, and for small copies, a plain memcpy.
void hm_copy_nontemporal(void *dst, const void *src, size_t count);

#endif
