/*
 * test_pollgov.c - Check suite for core/pollgov: the polling window opens only after an idle
 * period the cap could have caught, doubles up to the cap, stays while polls succeed, halves
 * to closed once events come further apart than the cap, and never polls with a cap of 0;
 * plus the bound on what a loop that falls idle spends polling.
 */
#include <check.h>
#include <stdint.h>

#include "core/pollgov.h"
#include "suite_main.h"

Suite *eh_suite(void);

#define US 1000u

START_TEST(starts_closed)
{
    struct pg_gov g;

    pg_init(&g, 200 * US);
    ck_assert_uint_eq(g.win_ns, 0);
    ck_assert_int_eq(pg_should_poll(&g, 0), 0);
    ck_assert_int_eq(pg_should_poll(&g, 1), 0);
}
END_TEST

/* Short idle periods that the window misses: 0 -> 10 -> 20 -> 40 -> 80 -> 160 -> cap. */
START_TEST(grows_to_the_cap)
{
    static const uint32_t want[] = {10, 20, 40, 80, 160, 200, 200};
    struct pg_gov g;

    pg_init(&g, 200 * US);
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
        pg_idle_ended(&g, 200 * US); /* the cap itself still counts as catchable */
        ck_assert_uint_eq(g.win_ns, want[i] * US);
    }
    ck_assert_int_eq(pg_should_poll(&g, 199999), 1);
    ck_assert_int_eq(pg_should_poll(&g, 200000), 0);
}
END_TEST

/* An event within the window leaves it alone; one at its very end grows it. */
START_TEST(hit_keeps_the_window)
{
    struct pg_gov g;

    pg_init(&g, 200 * US);
    pg_idle_ended(&g, 50 * US);
    pg_idle_ended(&g, 50 * US);
    ck_assert_uint_eq(g.win_ns, 20 * US);
    for (int i = 0; i < 100; i++)
        pg_idle_ended(&g, 20 * US - 1);
    ck_assert_uint_eq(g.win_ns, 20 * US);
    pg_idle_ended(&g, 0);
    ck_assert_uint_eq(g.win_ns, 20 * US);
    pg_idle_ended(&g, 20 * US);
    ck_assert_uint_eq(g.win_ns, 40 * US);
}
END_TEST

/* Longer than the cap: halves, and below 10 us closes; a closed window stays closed. */
START_TEST(long_idle_closes)
{
    static const uint32_t want[] = {100000, 50000, 25000, 12500, 0, 0};
    struct pg_gov g;

    pg_init(&g, 200 * US);
    g.win_ns = 200 * US;
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
        pg_idle_ended(&g, 200 * US + 1);
        ck_assert_uint_eq(g.win_ns, want[i]);
    }
    pg_idle_ended(&g, UINT64_MAX);
    ck_assert_uint_eq(g.win_ns, 0);
}
END_TEST

START_TEST(cap_zero_never_polls)
{
    static const uint64_t idles[] = {0, 1, 5 * US, 10 * US, 1000 * US, UINT64_MAX};
    struct pg_gov g;

    pg_init(&g, 0);
    for (unsigned i = 0; i < sizeof idles / sizeof idles[0]; i++) {
        pg_idle_ended(&g, idles[i]);
        ck_assert_uint_eq(g.win_ns, 0);
        ck_assert_int_eq(pg_should_poll(&g, 0), 0);
    }
}
END_TEST

/* A cap below the first step opens straight to the cap; a huge cap doubles without
 * overflowing. */
START_TEST(small_and_huge_caps)
{
    struct pg_gov g;

    pg_init(&g, 3 * US);
    pg_idle_ended(&g, 2 * US);
    ck_assert_uint_eq(g.win_ns, 3 * US);
    pg_idle_ended(&g, 3 * US + 1);
    ck_assert_uint_eq(g.win_ns, 0);

    pg_init(&g, UINT32_MAX);
    for (int i = 0; i < 40; i++)
        pg_idle_ended(&g, UINT32_MAX);
    ck_assert_uint_eq(g.win_ns, UINT32_MAX);
}
END_TEST

/* Over many pseudo-random idle periods: the window stays within [0, cap] and is either
 * closed or at least the first step; and a loop that then falls idle for good (every
 * period longer than the cap) polls less than twice the cap in all before the window
 * closes. The polling time of a period is what the window let it spend: min(idle, win). */
START_TEST(bounds_hold)
{
    static const uint32_t caps[] = {1, 9999, 10000, 50 * US, 200 * US, 100000 * US};
    uint64_t x = 0x9e3779b97f4a7c15u;

    for (unsigned c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        uint32_t cap = caps[c];
        uint32_t first = cap < PG_START_NS ? cap : PG_START_NS;
        struct pg_gov g;

        pg_init(&g, cap);
        for (int i = 0; i < 200000; i++) {
            uint64_t idle;

            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            idle = (x >> 8) % (3ull * cap + 2);
            pg_idle_ended(&g, idle);
            REQUIRE(g.win_ns <= cap, "cap %u: window %u above it", cap, g.win_ns);
            REQUIRE(g.win_ns == 0 || g.win_ns >= first, "cap %u: window %u", cap, g.win_ns);
            if (i % 1000 == 999) {
                struct pg_gov h = g;
                uint64_t spent = 0;

                while (h.win_ns) {
                    uint32_t before = h.win_ns;
                    spent += h.win_ns;
                    pg_idle_ended(&h, (uint64_t)cap + 1 + (x & 0xffff));
                    REQUIRE(h.win_ns <= before / 2, "cap %u: %u did not halve", cap, before);
                }
                REQUIRE(spent < 2ull * cap, "cap %u: %llu ns polled going idle", cap,
                        (unsigned long long)spent);
            }
        }
    }
}
END_TEST

Suite *eh_suite(void)
{
    Suite *s = suite_create("pollgov");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, starts_closed);
    tcase_add_test(tc, grows_to_the_cap);
    tcase_add_test(tc, hit_keeps_the_window);
    tcase_add_test(tc, long_idle_closes);
    tcase_add_test(tc, cap_zero_never_polls);
    tcase_add_test(tc, small_and_huge_caps);
    tcase_add_test(tc, bounds_hold);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return eh_run_suite(eh_suite());
}
