/*
 * hist.h - a log-linear latency histogram (as HdrHistogram lays it out): values below 128
 * have a bucket each; above, every power of two is split into 64 equal buckets, so a bucket
 * is at most 1/64 (1.6 %) of its values wide and a reported percentile is within 0.8 % of a
 * recorded value. 3776 buckets cover all of uint64_t; nothing is ever out of range.
 *
 * Pure: the caller owns the struct (about 30 KiB: one per thread, merged at the end). Units
 * are the caller's (echo-bench records nanoseconds).
 */
#ifndef EH_CORE_HIST_H
#define EH_CORE_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HG_SUB_BITS 6                      /* 64 buckets per power of two */
#define HG_SUB (1u << HG_SUB_BITS)
#define HG_BUCKETS ((63 - HG_SUB_BITS) * HG_SUB + 2 * HG_SUB) /* 3776 */

struct hg_hist {
    uint64_t count;   /* values recorded */
    uint64_t min, max; /* exact extremes (min is UINT64_MAX while empty) */
    uint64_t sum;      /* sum of the values, for the mean (wraps after 2^64) */
    uint64_t b[HG_BUCKETS];
};

/* Empties h. Cannot fail. */
void hg_init(struct hg_hist *h);

/* The bucket of value v (0 .. HG_BUCKETS-1). */
static inline size_t hg_index(uint64_t v)
{
    unsigned e;

    if (v < 2 * HG_SUB)
        return (size_t)v;
    e = (unsigned)(63 - __builtin_clzll(v)) - HG_SUB_BITS;
    return (size_t)e * HG_SUB + (size_t)(v >> e);
}

/* Bucket i's exponent and mantissa: its values are [m << e, ((m + 1) << e) - 1]. */
static inline void hg__split(size_t i, unsigned *e, uint64_t *m)
{
    if (i < 2 * HG_SUB) {
        *e = 0;
        *m = i;
        return;
    }
    *e = (unsigned)(i / HG_SUB) - 1;
    *m = (uint64_t)(i - (size_t)*e * HG_SUB);
}

/* The smallest and the largest value of bucket i (i < HG_BUCKETS). */
static inline uint64_t hg_lowest(size_t i)
{
    unsigned e;
    uint64_t m;

    hg__split(i, &e, &m);
    return m << e;
}

static inline uint64_t hg_highest(size_t i)
{
    unsigned e;
    uint64_t m;

    hg__split(i, &e, &m);
    /* The last bucket ends at UINT64_MAX: (m + 1) << e would overflow to 0, minus 1 is right. */
    return ((m + 1) << e) - 1;
}

/* Records value v n times (n may be 0). */
static inline void hg_add_n(struct hg_hist *h, uint64_t v, uint64_t n)
{
    if (!n)
        return;
    h->b[hg_index(v)] += n;
    h->count += n;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->sum += v * n;
}

static inline void hg_add(struct hg_hist *h, uint64_t v)
{
    hg_add_n(h, v, 1);
}

/* Adds every value of src to dst (per-thread histograms into one). */
void hg_merge(struct hg_hist *dst, const struct hg_hist *src);

/* The value at percentile p (0..100; clamped): the middle of the bucket holding the
 * ceil(p/100 * count)-th smallest value (at least the first), clamped to [min, max], so p 0
 * gives min and p 100 gives max. 0 when h is empty. */
uint64_t hg_percentile(const struct hg_hist *h, double p);

/* The mean of the recorded values (rounded down; nanoseconds wrap only after 584 years of
 * summed latency); 0 when empty. */
uint64_t hg_mean(const struct hg_hist *h);

#endif
