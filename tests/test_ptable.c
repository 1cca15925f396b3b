/*
 * test_ptable.c - Check suite for core/ptable and core/probe, echo-bench's expected bytes:
 * the table repeats the seeded pattern with its prime period, a stream checks clean across
 * the period and span edges in chunks of any size, and a flipped, lost, repeated or foreign
 * byte is reported at its offset; UDP datagrams round-trip, and a cut, extended, foreign or
 * changed reply gets its verdict (with its sequence number where it carries one).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/probe.h"
#include "core/ptable.h"
#include "core/verdict.h"
#include "suite_main.h"

Suite *pt_suite(void);


static uint8_t table[PT_SIZE];
static uint8_t buf[3 * PT_SPAN];

START_TEST(basic_fill)
{
    pt_fill(table, 862);
    for (size_t i = 0; i < PT_SIZE; i += 997)
        REQUIRE(table[i] == cv_pattern_byte(862, i % PT_PERIOD), "byte %zu", i);
    REQUIRE(table[PT_SIZE - 1] == cv_pattern_byte(862, (PT_SIZE - 1) % PT_PERIOD), "last");
    ck_assert_mem_eq(table + PT_PERIOD, table, PT_PERIOD);
    /* Other seeds, other bytes; other streams, other starts. */
    ck_assert_uint_ne(pt_start(862, 0), pt_start(862, 1));
    ck_assert_uint_lt(pt_start(862, 12345), PT_PERIOD);
}
END_TEST

/* A stream read in chunks of these sizes checks clean from these starts. */
static const struct {
    const char *name;
    uint32_t start;
    size_t chunk, total;
} clean[] = {
    {"bytewise_over_period_end", PT_PERIOD - 3, 1, 10},
    {"one_span", 0, PT_SPAN, PT_SPAN},
    {"span_plus_one_at_end", PT_PERIOD - 1, PT_SPAN + 1, PT_SPAN + 1},
    {"three_spans", 17, 3 * PT_SPAN, 3 * PT_SPAN},
    {"odd_chunks", 5000, 1459, 2 * PT_PERIOD + 77},
};

START_TEST(basic_clean)
{
    uint32_t pos = clean[_i].start, send = clean[_i].start;
    size_t done = 0, bad = 99;

    pt_fill(table, 7);
    while (done < clean[_i].total) {
        size_t n = clean[_i].total - done < clean[_i].chunk ? clean[_i].total - done
                                                            : clean[_i].chunk;
        pt_copy(table, send, buf, n);
        send = pt_advance(send, n);
        REQUIRE(pt_check(table, &pos, buf, n, &bad) == 0, "%s: mismatch at %zu + %zu",
                clean[_i].name, done, bad);
        done += n;
    }
    ck_assert_uint_eq(pos, pt_advance(clean[_i].start, clean[_i].total));
    ck_assert_uint_eq(pos, send);
    ck_assert_int_eq(pt_check(table, &pos, NULL, 0, &bad), 0);
}
END_TEST

/* Faults: flip one byte at off, drop one byte at off, repeat one, or read another stream. */
enum { FLIP, DROP, REPEAT, FOREIGN };
static const struct {
    const char *name;
    int fault;
    size_t off, n;
    size_t want_bad;
} faults[] = {
    {"flip_first", FLIP, 0, 100, 0},
    {"flip_last", FLIP, 99, 100, 99},
    {"flip_at_70000", FLIP, 70000, 100000, 70000},
    {"flip_past_span", FLIP, PT_SPAN + 5, PT_SPAN + 10, PT_SPAN + 5},
    {"drop_at_1000", DROP, 1000, 5000, 1000},
    {"repeat_at_4096", REPEAT, 4096, 8192, 4097},
    {"foreign_stream", FOREIGN, 0, 64, 0},
};

START_TEST(errors_faults)
{
    uint32_t start = pt_start(9, 3), pos = start;
    size_t n = faults[_i].n, off = faults[_i].off, bad = 0;

    pt_fill(table, 9);
    pt_copy(table, start, buf, n + 1);
    switch (faults[_i].fault) {
    case FLIP:
        buf[off] ^= 1;
        break;
    case DROP:
        memmove(buf + off, buf + off + 1, n - off);
        break;
    case REPEAT:
        memmove(buf + off + 1, buf + off, n - off - 1);
        break;
    default:
        pt_copy(table, pt_start(9, 4), buf, n);
        break;
    }
    /* A repeated byte equal to its successor would hide one step later; the pattern is
     * pseudo-random, so the expected offset in the table allows for that. */
    ck_assert_int_eq(pt_check(table, &pos, buf, n, &bad), 1);
    if (faults[_i].fault == REPEAT || faults[_i].fault == DROP)
        ck_assert_uint_le(bad, faults[_i].want_bad + 4);
    else
        ck_assert_uint_eq(bad, faults[_i].want_bad);
    ck_assert_uint_ge(bad, faults[_i].fault == REPEAT ? off : faults[_i].want_bad);
    ck_assert_uint_eq(pos, pt_advance(start, bad));
}
END_TEST

static const struct {
    const char *name;
    size_t size;
} sizes[] = {{"empty", 0}, {"one", 1}, {"below_header", PB_HEADER - 1}, {"header", PB_HEADER},
             {"64", 64}, {"1473", 1473}, {"max", 65507}};

START_TEST(basic_probe_roundtrip)
{
    static uint8_t d[65536], e[65536];
    size_t size = sizes[_i].size, bad = 0;
    uint32_t start = pt_start(1, 5);
    uint64_t seq = 77;

    pt_fill(table, 1);
    for (uint64_t q = 0; q < 3; q++) {
        pb_encode(d, size, table, start, 5, q * 1000003);
        ck_assert_int_eq(pb_check(d, size, size, table, start, 5, &seq, &bad), PB_OK);
        ck_assert_uint_eq(seq, size >= PB_HEADER ? q * 1000003 : 0);
    }
    if (size >= PB_HEADER + 1) {
        /* Two datagrams of one socket differ in the body too. */
        pb_encode(d, size, table, start, 5, 1);
        pb_encode(e, size, table, start, 5, 2);
        ck_assert_int_ne(memcmp(d + PB_HEADER, e + PB_HEADER, size - PB_HEADER), 0);
    }
}
END_TEST

START_TEST(errors_probe)
{
    static uint8_t d[4096];
    size_t bad = 0;
    uint64_t seq = 0;
    uint32_t start = pt_start(1, 5);

    pt_fill(table, 1);
    pb_encode(d, 2000, table, start, 5, 42);
    /* Cut to 1024 (the tutorial server): length, but still datagram 42. */
    ck_assert_int_eq(pb_check(d, 1024, 2000, table, start, 5, &seq, &bad), PB_LENGTH);
    ck_assert_uint_eq(seq, 42);
    ck_assert_int_eq(pb_check(d, 2001, 2000, table, start, 5, &seq, &bad), PB_LENGTH);
    ck_assert_int_eq(pb_check(d, 0, 2000, table, start, 5, &seq, &bad), PB_LENGTH);
    /* Another socket's datagram. */
    ck_assert_int_eq(pb_check(d, 2000, 2000, table, pt_start(1, 6), 6, &seq, &bad), PB_FOREIGN);
    /* ... whose header names the socket and datagram it belongs to. */
    {
        uint32_t id = 0;
        uint64_t hseq = 0;

        ck_assert_int_eq(pb_header(d, 2000, &id, &hseq), 0);
        ck_assert_uint_eq(id, 5);
        ck_assert_uint_eq(hseq, 42);
        ck_assert_int_eq(pb_header(d, PB_HEADER, &id, &hseq), 0);
        ck_assert_int_eq(pb_header(d, PB_HEADER - 1, &id, &hseq), -1);
    }
    /* A changed byte in the body, at its offset. */
    d[1500] ^= 0x80;
    ck_assert_int_eq(pb_check(d, 2000, 2000, table, start, 5, &seq, &bad), PB_CHANGED);
    ck_assert_uint_eq(bad, 1500);
    ck_assert_uint_eq(seq, 42);
    d[1500] ^= 0x80;
    /* A changed sequence number makes the body wrong for it. */
    d[4] ^= 1;
    ck_assert_int_eq(pb_check(d, 2000, 2000, table, start, 5, &seq, &bad), PB_CHANGED);
    ck_assert_uint_eq(seq, 43);
    /* Short datagrams: a changed byte is found too. */
    pb_encode(d, 5, table, start, 5, 0);
    d[2] ^= 4;
    ck_assert_int_eq(pb_check(d, 5, 5, table, start, 5, &seq, &bad), PB_CHANGED);
    ck_assert_uint_eq(bad, 2);
}
END_TEST

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

Suite *pt_suite(void)
{
    Suite *s = suite_create("ptable");
    TCase *tc = tcase_create("basic");

    tcase_add_test(tc, basic_fill);
    tcase_add_loop_test(tc, basic_clean, 0, N(clean));
    tcase_add_loop_test(tc, basic_probe_roundtrip, 0, N(sizes));
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_loop_test(tc, errors_faults, 0, N(faults));
    tcase_add_test(tc, errors_probe);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return eh_run_suite(pt_suite());
}
