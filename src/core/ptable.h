/*
 * ptable.h - the expected bytes of echo-bench's load, cheap enough to check at GB/s: one
 * table holds PT_PERIOD bytes of the seeded pattern (core/verdict's cv_pattern) followed by
 * the first PT_SPAN of them again, so any position starts a contiguous run of up to PT_SPAN
 * bytes. Each connection's stream reads the table from its own start (derived from the seed
 * and the connection's number), so sending is a write() straight from the table and checking
 * an echo is a memcmp() per span. PT_PERIOD is prime: a byte lost, repeated or reordered, or
 * another connection's bytes, show up at their stream offset unless the shift is an exact
 * multiple of 131071 bytes.
 *
 * Pure: the caller owns the table (PT_SIZE bytes, filled once, read-only afterwards and
 * shared by threads).
 */
#ifndef EH_CORE_PTABLE_H
#define EH_CORE_PTABLE_H

#include <stddef.h>
#include <stdint.h>

#define PT_PERIOD 131071u /* 2^17 - 1, a prime */
#define PT_SPAN 262144u   /* longest contiguous run from any position */
#define PT_SIZE (PT_PERIOD + PT_SPAN)

/* Fills t[0..PT_SIZE) with the pattern of seed: t[i] = cv_pattern_byte(seed, i % PT_PERIOD). */
void pt_fill(uint8_t *t, uint64_t seed);

/* Where stream k (a connection, a socket) of seed starts in the table (< PT_PERIOD). */
uint32_t pt_start(uint64_t seed, uint64_t k);

/* The position n bytes after pos (pos < PT_PERIOD). */
static inline uint32_t pt_advance(uint32_t pos, uint64_t n)
{
    return (uint32_t)((pos + n % PT_PERIOD) % PT_PERIOD);
}

/* Checks p[0..n) (p may be NULL when n is 0) against the stream at *pos. Returns 0 and moves
 * *pos past the n bytes when they all match; otherwise returns 1, *bad gets the index in p of
 * the first differing byte and *pos is moved to it. */
int pt_check(const uint8_t *t, uint32_t *pos, const uint8_t *p, size_t n, size_t *bad);

/* Copies the n bytes of the stream at pos into out[0..n) (for messages that cannot be sent
 * from the table directly). */
void pt_copy(const uint8_t *t, uint32_t pos, uint8_t *out, size_t n);

#endif
