/*
 * pattern.h - the payload table fuzz_ring and fuzz_stream take their bytes from: period
 * pseudo-random bytes (xorshift32), stored twice in a row so that any n <= period bytes from
 * any start are contiguous and memcpy/memcmp can fill and check whole spans. A byte put at the
 * wrong stream offset differs from the expected one unless the offsets are a period apart,
 * so each target picks a prime period longer than anything it holds at once.
 */
#ifndef EH_FUZZ_PATTERN_H
#define EH_FUZZ_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"

/* Fills table[0 .. 2 * period) once; later calls see a filled table and return at once.
 * Uninstrumented (FUZZ_ORACLE; afl-denylist.sh lists it for AFL++): its loop runs in the
 * first execution of a process only, so under AFL++'s persistent mode its edges made that
 * execution differ from the next ones of the same input (fuzz_stream's first queue entry
 * flagged variable, stability 98.74 % instead of 100 %). It is harness, not code under test. */
FUZZ_ORACLE static inline void fuzz_pattern_init(uint8_t *table, size_t period)
{
    uint32_t x = 2463534242u;

    if (table[0] | table[1] | table[2])
        return;
    for (size_t i = 0; i < period; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        table[i] = table[i + period] = (uint8_t)(x >> 24);
    }
}

#endif
