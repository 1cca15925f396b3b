/*
 * ptable.c - the shared pattern table (see ptable.h). The check compares whole spans with
 * memcmp and looks for the offending byte only after a span differs, so a correct echo costs
 * one memcmp per received chunk (or per PT_SPAN bytes of it).
 */
#include "core/ptable.h"

#include <string.h>

#include "core/verdict.h"

void pt_fill(uint8_t *t, uint64_t seed)
{
    cv_pattern_fill(seed, 0, t, PT_PERIOD);
    /* The span is longer than the period: repeat it in non-overlapping pieces. */
    for (size_t at = PT_PERIOD; at < PT_SIZE;) {
        size_t n = PT_SIZE - at < PT_PERIOD ? PT_SIZE - at : PT_PERIOD;
        memcpy(t + at, t, n);
        at += n;
    }
}

uint32_t pt_start(uint64_t seed, uint64_t k)
{
    return (uint32_t)(cv_seed_derive(seed, k) % PT_PERIOD);
}

int pt_check(const uint8_t *t, uint32_t *pos, const uint8_t *p, size_t n, size_t *bad)
{
    uint32_t at = *pos;
    size_t done = 0;

    while (done < n) {
        size_t len = n - done < PT_SPAN ? n - done : PT_SPAN;
        if (memcmp(t + at, p + done, len) != 0) {
            size_t i = 0;
            while (t[at + i] == p[done + i])
                i++;
            *bad = done + i;
            *pos = pt_advance(at, i);
            return 1;
        }
        done += len;
        at = pt_advance(at, len);
    }
    *pos = at;
    return 0;
}

void pt_copy(const uint8_t *t, uint32_t pos, uint8_t *out, size_t n)
{
    while (n) {
        size_t len = n < PT_SPAN ? n : PT_SPAN;
        memcpy(out, t + pos, len);
        out += len;
        n -= len;
        pos = pt_advance(pos, len);
    }
}
