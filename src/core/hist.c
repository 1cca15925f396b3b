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

void hg_merge(struct hg_hist *dst, const struct hg_hist *src)
{
    if (!src->count)
        return;
    for (size_t i = 0; i < HG_BUCKETS; i++)
        dst->b[i] += src->b[i];
    dst->count += src->count;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->sum += src->sum;
}

uint64_t hg_percentile(const struct hg_hist *h, double p)
{
    uint64_t rank, seen = 0, v;
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
    for (size_t i = 0; i < HG_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t lo = hg_lowest(i), hi = hg_highest(i);
            v = lo + (hi - lo) / 2;
            if (v < h->min)
                v = h->min;
            if (v > h->max)
                v = h->max;
            return v;
        }
    }
    return h->max;
}

uint64_t hg_mean(const struct hg_hist *h)
{
    return h->count ? h->sum / h->count : 0;
}
