/*
 * hist.c - log-linear histogram (see hist.h). Bucket i >= 128 holds the values v with
 * e = msb(v) - 6 and (v >> e) == i - e * 64, i.e. [m << e, ((m + 1) << e) - 1] for m = i - e*64
 * in 64..127; the 64 buckets below hold exactly one value each.
 */
#include "core/hist.h"

#include <string.h>

void hg_init(struct hg_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

/* Buckets are summed and merged STRIDE at a time as vectors of 8 read and written in place
 * (loads and stores of 64 bytes): the loops' compares and the sanitizers' per-access checks
 * run once per 8 or 64 buckets, not once per bucket (fuzzing builds trace every compare, and
 * a wide histogram walked one bucket at a time cost most of a fuzz run), and no bucket is
 * copied through a temporary. v8u is unaligned (buckets are only 8-byte aligned) and may
 * alias uint64_t. */
#define STRIDE 64u
typedef uint64_t v8 __attribute__((vector_size(64)));
typedef uint64_t v8u __attribute__((vector_size(64), aligned(8), may_alias));

/* The sum of b[0..n), n = 8 or STRIDE. */
static uint64_t sum_run(const uint64_t *b, size_t n)
{
    const v8u *q = (const v8u *)b;
    v8 acc = q[0];
    uint64_t s = 0;

    if (n == STRIDE)
        for (unsigned k = 1; k < STRIDE / 8; k++)
            acc += q[k];
    for (unsigned k = 0; k < 8; k++)
        s += acc[k];
    return s;
}

void hg_merge(struct hg_hist *dst, const struct hg_hist *src)
{
    size_t i, end;

    if (!src->count)
        return;
    /* Only the buckets from min's to max's can hold anything: whole strides, then runs of
     * 8, then the last few one by one. */
    i = hg_index(src->min), end = hg_index(src->max) + 1;
    for (; end - i >= STRIDE; i += STRIDE) {
        v8u *d = (v8u *)(dst->b + i);
        const v8u *s = (const v8u *)(src->b + i);
        for (unsigned k = 0; k < STRIDE / 8; k++)
            d[k] += s[k];
    }
    for (; end - i >= 8; i += 8)
        *(v8u *)(dst->b + i) += *(const v8u *)(src->b + i);
    for (; i < end; i++)
        dst->b[i] += src->b[i];
    dst->count += src->count;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->sum += src->sum;
}

/* The middle of bucket i, clamped to [min, max]. */
static uint64_t middle(const struct hg_hist *h, size_t i)
{
    uint64_t lo = hg_lowest(i), hi = hg_highest(i), v = lo + (hi - lo) / 2;

    return v < h->min ? h->min : v > h->max ? h->max : v;
}

uint64_t hg_percentile(const struct hg_hist *h, double p)
{
    uint64_t rank, seen = 0, s, above;
    size_t first, last, i;
    double r;

    if (!h->count)
        return 0;
    if (!(p > 0.0)) /* also NaN */
        return h->min;
    if (p >= 100.0)
        return h->max;
    r = p / 100.0 * (double)h->count;
    rank = (uint64_t)r;
    if ((double)rank < r)
        rank++;
    if (rank < 1)
        rank = 1;
    /* Only the buckets from min's to max's hold values; walk them from the end nearer the
     * rank (high percentiles from the top), a stride at a time until the rank is near. */
    first = hg_index(h->min), last = hg_index(h->max);
    i = first;
    if (rank <= h->count / 2) {
        /* Runs of STRIDE buckets, then of 8, while they stay below the rank; then one by one. */
        for (size_t w = STRIDE; w > 1; w /= 8)
            for (; last - i >= w && seen + (s = sum_run(h->b + i, w)) < rank; i += w)
                seen += s;
        for (; i < last; i++) {
            seen += h->b[i];
            if (seen >= rank)
                return middle(h, i);
        }
        return middle(h, last);
    }
    /* From the top: bucket i holds the rank-th smallest once the values at or above it
     * number more than count - rank. */
    above = h->count - rank;
    i = last;
    for (size_t w = STRIDE; w > 1; w /= 8)
        for (; i - first >= w && seen + (s = sum_run(h->b + i - (w - 1), w)) <= above; i -= w)
            seen += s;
    for (; i > first; i--) {
        seen += h->b[i];
        if (seen > above)
            return middle(h, i);
    }
    return middle(h, first);
}

uint64_t hg_mean(const struct hg_hist *h)
{
    return h->count ? h->sum / h->count : 0;
}
