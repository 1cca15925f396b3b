/*
 * fuzz_hist.c - drives echo-bench's latency histogram (core/hist) with values of every
 * magnitude and checks it against a reference that keeps every value: count, min, max, sum
 * and mean are exact; each value lies in its bucket, buckets are contiguous and at most 1/64
 * of their values wide; the percentile of any p is the middle of the bucket of the
 * ceil(p/100 * count)-th smallest recorded value, clamped to [min, max] (p <= 0 or NaN gives
 * min, p >= 100 max); every bucket holds exactly the values that fall in it, and so do two
 * histograms merged (the reference counts them from the sorted values).
 *
 * Input: a 4-byte header (percentile, percentile choice, flags: percentile kind and merge
 * (bits 2 and 3 both), 1 reserved), then 4-byte records: shift and flags, then a 24-bit mantissa;
 * the value is the mantissa shifted left.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/hist.h"

#define MAX_VALUES 64u /* values per run: a few reach every bucket path; more only cost time */

static struct hg_hist ha, hb;
static uint64_t vals[MAX_VALUES * 4]; /* every value, repeated as often as recorded */

FUZZ_ORACLE static void fail(const char *what, unsigned long long want, unsigned long long got)
{
    fprintf(stderr, "fuzz_hist: %s: expected %llu, got %llu\n", what, want, got);
    abort();
}

FUZZ_ORACLE static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The bucket of v: v inside it, its neighbours adjoining, its width within 1/64 of v. */
FUZZ_ORACLE static void check_bucket(uint64_t v)
{
    size_t i = hg_index(v);
    uint64_t lo, hi;

    if (i >= HG_BUCKETS)
        fail("bucket index out of range", HG_BUCKETS, i);
    lo = hg_lowest(i), hi = hg_highest(i);
    if (v < lo || v > hi)
        fail("value outside its bucket", v, v < lo ? lo : hi);
    if (hi - lo > lo / 64)
        fail("bucket wider than 1/64 of its values", lo / 64, hi - lo);
    if (i + 1 < HG_BUCKETS && hg_lowest(i + 1) != hi + 1)
        fail("next bucket does not adjoin", hi + 1, hg_lowest(i + 1));
    if (i > 0 && hg_highest(i - 1) + 1 != lo)
        fail("previous bucket does not adjoin", lo, hg_highest(i - 1) + 1);
}

/* The reference percentile from the sorted values. */
FUZZ_ORACLE static uint64_t ref_percentile(const uint64_t *v, size_t n, double p)
{
    double r;
    uint64_t rank, x, lo, hi, mid;

    if (n == 0)
        return 0;
    if (!(p > 0.0))
        return v[0];
    if (p >= 100.0)
        return v[n - 1];
    r = p / 100.0 * (double)n;
    rank = (uint64_t)r + ((double)(uint64_t)r < r); /* ceil, without libm */
    if (rank < 1)
        rank = 1;
    x = v[rank - 1];
    lo = hg_lowest(hg_index(x)), hi = hg_highest(hg_index(x));
    mid = lo + (hi - lo) / 2;
    return mid < v[0] ? v[0] : mid > v[n - 1] ? v[n - 1] : mid;
}

/* Every bucket of h holds exactly as many values as the sorted v[0..n) put in it: the
 * buckets of the values one by one, then (all, when asked) a sum over all of them: nothing
 * anywhere else. The sum reads 64 bytes at a time (one sanitizer check each, not eight). */
typedef uint64_t v8u __attribute__((vector_size(64), aligned(8), may_alias));

FUZZ_ORACLE static void check_buckets(const struct hg_hist *h, const uint64_t *v, size_t n, int all)
{
    v8u acc = {0};
    uint64_t total = 0;

    for (size_t i = 0, j; i < n; i = j) {
        size_t b = hg_index(v[i]);
        for (j = i + 1; j < n && hg_index(v[j]) == b; j++)
            ;
        if (h->b[b] != j - i)
            fail("values in a bucket", j - i, h->b[b]);
    }
    if (!all)
        return;
    _Static_assert(HG_BUCKETS % 8 == 0, "buckets come in whole vectors");
    for (size_t i = 0; i < HG_BUCKETS; i += 8)
        acc += *(const v8u *)(h->b + i);
    for (unsigned k = 0; k < 8; k++)
        total += acc[k];
    if (total != n)
        fail("values in all buckets", n, total);
}

FUZZ_ORACLE static void check_summary(const struct hg_hist *h, const uint64_t *v, size_t n,
                                      uint64_t sum)
{
    if (h->count != n)
        fail("count", n, h->count);
    if (h->min != (n ? v[0] : UINT64_MAX) || h->max != (n ? v[n - 1] : 0))
        fail("min or max", n ? v[0] : UINT64_MAX, h->min);
    if (h->sum != sum || hg_mean(h) != (n ? sum / n : 0))
        fail("sum or mean", sum, h->sum);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const double fixed[] = {0.0, 50.0, 99.0, 99.9, 100.0, -1.0, 250.0};
    size_t n = 0;
    uint64_t sum = 0;
    int merge;
    double p;

    if (size < 4)
        return 0;
    /* Merging on two flags only, in about one run in four: it costs a pass over up to 3776
     * buckets and one more init. */
    merge = (data[2] & 0xc) == 0xc;
    hg_init(&ha);
    if (merge)
        hg_init(&hb);
    /* One percentile per run (each costs a pass over the buckets): any, an edge, or NaN. */
    p = data[2] & 1 ? data[0] * (100.0 / 255.0) : data[2] & 2 ? fixed[data[1] % 7] : NAN;
    data += 4, size -= 4;

    for (size_t k = 0; size >= 4 && k < MAX_VALUES; k++, data += 4, size -= 4) {
        uint64_t v = ((uint64_t)data[1] << 16 | (uint64_t)data[2] << 8 | data[3]) << (data[0] & 63);
        uint64_t times = data[0] & 0x80 ? (uint64_t)(data[3] & 3) : 1; /* 0 .. 3 */
        struct hg_hist *h = merge && data[0] & 0x40 ? &hb : &ha;

        check_bucket(v);
        if (times == 1 && (data[2] & 1))
            hg_add(h, v);
        else
            hg_add_n(h, v, times);
        for (uint64_t t = 0; t < times; t++)
            vals[n++] = v, sum += v;
    }
    qsort(vals, n, sizeof vals[0], cmp_u64);

    if (merge)
        hg_merge(&ha, &hb);
    check_summary(&ha, vals, n, sum);
    check_buckets(&ha, vals, n, merge);
    {
        uint64_t want = ref_percentile(vals, n, p), got = hg_percentile(&ha, p);
        if (got != want)
            fail("percentile", want, got);
    }
    return 0;
}
