/*
 * test_hist.c - Check suite for core/hist: every bucket's bounds are contiguous and at most
 * 1/64 of its values wide, a value always lands in the bucket whose bounds hold it (edges,
 * powers of two, UINT64_MAX), percentiles against a sorted shadow of the recorded values stay
 * within the bucket error, and merging per-thread histograms equals recording everything in
 * one.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"
#include "suite_main.h"

Suite *hg_suite(void);


static struct hg_hist h1, h2, h3; /* 30 KiB each: not on the stack */

/* A deterministic generator for value sets (xorshift64*). */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

START_TEST(basic_buckets_contiguous)
{
    ck_assert_uint_eq(hg_lowest(0), 0);
    ck_assert_uint_eq(hg_highest(HG_BUCKETS - 1), UINT64_MAX);
    for (size_t i = 0; i < HG_BUCKETS; i++) {
        uint64_t lo = hg_lowest(i), hi = hg_highest(i);
        REQUIRE(lo <= hi, "bucket %zu: %llu > %llu", i, (unsigned long long)lo,
                (unsigned long long)hi);
        if (i + 1 < HG_BUCKETS)
            REQUIRE(hg_lowest(i + 1) == hi + 1, "gap after bucket %zu", i);
        /* The error bound: width at most 1/64 of the smallest value in it. */
        REQUIRE((hi - lo) * 64 <= lo || hi == lo, "bucket %zu too wide: %llu..%llu", i,
                (unsigned long long)lo, (unsigned long long)hi);
        REQUIRE(hg_index(lo) == i && hg_index(hi) == i, "bucket %zu bounds map elsewhere", i);
    }
}
END_TEST

static const struct {
    const char *name;
    uint64_t v;
} values[] = {
    {"zero", 0},           {"one", 1},           {"63", 63},
    {"64", 64},            {"127", 127},         {"128", 128},
    {"129", 129},          {"255", 255},         {"256", 256},
    {"1000", 1000},        {"2^32-1", 4294967295ull}, {"2^32", 4294967296ull},
    {"2^63", 1ull << 63},  {"max-1", UINT64_MAX - 1}, {"max", UINT64_MAX},
};

START_TEST(basic_index_holds_value)
{
    uint64_t v = values[_i].v;
    size_t i = hg_index(v);

    ck_assert_msg(i < HG_BUCKETS, "%s: index %zu out of range", values[_i].name, i);
    ck_assert_msg(hg_lowest(i) <= v && v <= hg_highest(i), "%s: not in its bucket",
                  values[_i].name);
}
END_TEST

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static const double pcts[] = {0, 0.1, 1, 10, 50, 90, 99, 99.9, 100};

/* Percentiles against a sorted shadow: the reported value is within 1/64 of the true one
 * (nearest-rank), and the extremes are exact. */
START_TEST(basic_percentiles)
{
    enum { N = 20000 };
    static uint64_t shadow[N];
    uint64_t seed = 0x9e3779b97f4a7c15ull + (uint64_t)_i;

    hg_init(&h1);
    for (int k = 0; k < N; k++) {
        /* Log-uniform-ish: latencies from ns to seconds. */
        uint64_t r = rnd(&seed);
        shadow[k] = (r >> (r % 50 + 14)) + 1;
        hg_add(&h1, shadow[k]);
    }
    qsort(shadow, N, sizeof shadow[0], cmp);
    ck_assert_uint_eq(h1.count, N);
    ck_assert_uint_eq(h1.min, shadow[0]);
    ck_assert_uint_eq(h1.max, shadow[N - 1]);
    for (size_t p = 0; p < sizeof pcts / sizeof pcts[0]; p++) {
        double rank = pcts[p] / 100.0 * N;
        size_t r = (size_t)rank;
        uint64_t want, got = hg_percentile(&h1, pcts[p]);
        if ((double)r < rank)
            r++;
        if (r < 1)
            r = 1;
        want = shadow[r - 1];
        if (pcts[p] >= 100)
            want = shadow[N - 1];
        REQUIRE(got >= want - want / 64 - 1 && got <= want + want / 64 + 1,
                "p%g: %llu, want %llu within 1/64", pcts[p], (unsigned long long)got,
                (unsigned long long)want);
    }
}
END_TEST

START_TEST(limits_empty_and_one)
{
    hg_init(&h1);
    ck_assert_uint_eq(hg_percentile(&h1, 50), 0);
    ck_assert_uint_eq(hg_mean(&h1), 0);
    hg_add(&h1, 12345);
    for (size_t p = 0; p < sizeof pcts / sizeof pcts[0]; p++)
        ck_assert_uint_eq(hg_percentile(&h1, pcts[p]), 12345);
    ck_assert_uint_eq(hg_mean(&h1), 12345);
    hg_add_n(&h1, 7, 0); /* n = 0 records nothing */
    ck_assert_uint_eq(h1.count, 1);
    ck_assert_uint_eq(h1.min, 12345);
}
END_TEST

START_TEST(limits_exact_below_128)
{
    hg_init(&h1);
    for (uint64_t v = 1; v <= 100; v++)
        hg_add(&h1, v);
    /* One bucket per value below 128: nearest-rank percentiles are exact. */
    ck_assert_uint_eq(hg_percentile(&h1, 50), 50);
    ck_assert_uint_eq(hg_percentile(&h1, 90), 90);
    ck_assert_uint_eq(hg_percentile(&h1, 99), 99);
    ck_assert_uint_eq(hg_percentile(&h1, 99.9), 100);
    ck_assert_uint_eq(hg_mean(&h1), 50);
}
END_TEST

/* Three "threads" record disjoint parts; merged, they equal one histogram of everything. */
START_TEST(basic_merge)
{
    uint64_t seed = 42;

    hg_init(&h1);
    hg_init(&h2);
    hg_init(&h3);
    for (int k = 0; k < 5000; k++) {
        uint64_t v = rnd(&seed) >> (k % 40 + 20);
        hg_add(k % 3 ? &h2 : &h1, v);
        hg_add(&h3, v);
    }
    hg_merge(&h1, &h2);
    ck_assert_uint_eq(h1.count, h3.count);
    ck_assert_uint_eq(h1.min, h3.min);
    ck_assert_uint_eq(h1.max, h3.max);
    ck_assert_uint_eq(h1.sum, h3.sum);
    ck_assert_mem_eq(h1.b, h3.b, sizeof h1.b);
    hg_init(&h2);
    hg_merge(&h1, &h2); /* merging an empty one changes nothing (min stays) */
    ck_assert_uint_eq(h1.min, h3.min);
    hg_merge(&h2, &h3); /* into an empty one: a copy */
    ck_assert_uint_eq(h2.min, h3.min);
    ck_assert_uint_eq(hg_percentile(&h2, 99), hg_percentile(&h3, 99));
}
END_TEST

/* Every rank exactly: the middle of the bucket of the rank-th smallest value, clamped to
 * [min, max], whichever end the walk starts from and however many buckets (the walk goes a
 * stride of buckets at a time) lie between; spans of a few buckets to all of them. */
START_TEST(basic_every_rank)
{
    enum { N = 97 };
    static uint64_t shadow[N];
    uint64_t seed = 7 + (uint64_t)_i;

    hg_init(&h1);
    for (int k = 0; k < N; k++) {
        uint64_t r = rnd(&seed);
        /* _i 0: a few neighbouring buckets; 1: thousands of ns; 2: every magnitude */
        shadow[k] = _i == 0 ? 1000 + r % 200 : _i == 1 ? r >> (r % 40 + 20) : r >> (r % 64);
        hg_add_n(&h1, shadow[k], 1);
    }
    qsort(shadow, N, sizeof shadow[0], cmp);
    for (int rank = 1; rank <= N; rank++) {
        double p = ((double)rank - 0.5) * 100.0 / N; /* ceil(p/100 * N) == rank */
        size_t i = hg_index(shadow[rank - 1]);
        uint64_t lo = hg_lowest(i), hi = hg_highest(i), want = lo + (hi - lo) / 2;

        want = want < shadow[0] ? shadow[0] : want > shadow[N - 1] ? shadow[N - 1] : want;
        REQUIRE(hg_percentile(&h1, p) == want, "rank %d (p%g): %llu, want %llu", rank, p,
                (unsigned long long)hg_percentile(&h1, p), (unsigned long long)want);
    }
}
END_TEST

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

Suite *hg_suite(void)
{
    Suite *s = suite_create("hist");
    TCase *tc = tcase_create("basic");

    tcase_add_test(tc, basic_buckets_contiguous);
    tcase_add_loop_test(tc, basic_index_holds_value, 0, N(values));
    tcase_add_loop_test(tc, basic_percentiles, 0, 4);
    tcase_add_loop_test(tc, basic_every_rank, 0, 3);
    tcase_add_test(tc, basic_merge);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, limits_empty_and_one);
    tcase_add_test(tc, limits_exact_below_128);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return eh_run_suite(hg_suite());
}
