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

/* Bucket i's exponent and mantissa: its values are [m << e, ((m + 1) << e) - 1]. */
static void split(size_t i, unsigned *e, uint64_t *m)
{
    if (i < 2 * HG_SUB) {
        *e = 0;
        *m = i;
        return;
    }
    *e = (unsigned)(i / HG_SUB) - 1;
    *m = (uint64_t)(i - (size_t)*e * HG_SUB);
}

uint64_t hg_lowest(size_t i)
{
    unsigned e;
    uint64_t m;

    split(i, &e, &m);
    return m << e;
}

uint64_t hg_highest(size_t i)
{
    unsigned e;
    uint64_t m;

    split(i, &e, &m);
    /* The last bucket ends at UINT64_MAX: (m + 1) << e would overflow to 0, minus 1 is right. */
    return ((m + 1) << e) - 1;
}

/* Buckets are summed and merged up to STRIDE at a time, through local copies held as
 * vectors of 8: the loops' compares and the sanitizers' per-access checks run once per 8 or
 * 64 buckets, not once per bucket (fuzzing builds trace every compare, and a wide histogram
 * walked one bucket at a time cost most of a fuzz run). */
#define STRIDE 64u
typedef uint64_t v8 __attribute__((vector_size(64)));

/* The sum of b[0..n), n <= STRIDE. */
static uint64_t sum_run(const uint64_t *b, size_t n)
{
    v8 t[STRIDE / 8] = {{0}}, acc = {0};
    uint64_t s = 0;

    memcpy(t, b, n * sizeof *b);
    for (unsigned k = 0; k < STRIDE / 8; k++)
        acc += t[k];
    for (unsigned k = 0; k < 8; k++)
        s += acc[k];
    return s;
}

/* d[0..n) += s[0..n), n <= STRIDE. */
static void add_run(uint64_t *dst, const uint64_t *src, size_t n)
{
    v8 d[STRIDE / 8] = {{0}}, s[STRIDE / 8] = {{0}};

    memcpy(d, dst, n * sizeof *dst);
    memcpy(s, src, n * sizeof *src);
    for (unsigned k = 0; k < STRIDE / 8; k++)
        d[k] += s[k]; /* lanes past n add zeros and are never copied back */
    memcpy(dst, d, n * sizeof *dst);
}

void hg_merge(struct hg_hist *dst, const struct hg_hist *src)
{
    size_t i, end;

    if (!src->count)
        return;
    /* Only the buckets from min's to max's can hold anything. */
    i = hg_index(src->min), end = hg_index(src->max) + 1;
    for (; i < end; i += STRIDE)
        add_run(dst->b + i, src->b + i, end - i < STRIDE ? end - i : STRIDE);
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
