/*
 * test_sendpipe.c - Check suite for echo-bench's stream send pipe (src/app/bench/sendpipe):
 * whatever the fill (tee of whole periods, or vmsplice), the bytes that leave the pipe are the
 * connection's stream at its offsets, across many periods, with fills of any size and the
 * pipe drained in any pieces. The pipe is drained with read() here where echo-bench splices
 * it into a socket; every byte read is checked against the pattern table (core/ptable).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/sendpipe.h"
#include "core/ptable.h"
#include "suite_main.h"

Suite *sp_suite(void);


static uint8_t table[PT_SIZE];
static uint8_t buf[1 << 20];

/* Fill towards want, drain up to take bytes of what the pipe holds, until total bytes left. */
static const struct {
    const char *name;
    int tee;          /* 0: EH_BENCH_NO_TEE=1, vmsplice fills */
    uint32_t start;   /* the stream's start in the table */
    uint64_t want, piece;
    size_t take;
    size_t total;
} runs[] = {
    {"tee_64k_writes", 1, 12345, 65536, 65536, 65536, 20 * PT_PERIOD + 3},
    {"tee_start_at_period_end", 1, PT_PERIOD - 1, 65536, 65536, 65536, 3 * PT_PERIOD},
    {"tee_small_writes", 1, 0, 1000, 1000, 1000, PT_PERIOD + 5000},
    {"tee_one_byte_drains", 1, 77, 65536, 65536, 1, 3000},
    {"tee_odd_drains", 1, 4000, 65536, 65536, 4099, 2 * PT_PERIOD + 17},
    {"tee_window_beyond_bound", 1, 9, 1 << 20, 65536, 1 << 20, 8 * PT_PERIOD},
    {"vmsplice_64k_writes", 0, 12345, 65536, 65536, 65536, 4 * PT_PERIOD + 3},
    {"vmsplice_small_pieces", 0, PT_PERIOD - 2, 65536, 1000, 3333, PT_PERIOD + 999},
};

START_TEST(basic_stream)
{
    struct sp_pipe p;
    uint32_t pos = runs[_i].start, check = runs[_i].start;
    size_t done = 0, bad = 0, max_held = 0;

    pt_fill(table, 862);
    if (runs[_i].tee)
        unsetenv("EH_BENCH_NO_TEE");
    else
        setenv("EH_BENCH_NO_TEE", "1", 1);
    ck_assert_int_eq(sp_open(&p, table, runs[_i].start), 0);
    /* Teeing needs a 1 MiB pipe, which the kernel may refuse to a user over its pipe quota. */
    if (runs[_i].tee && !sp_teeing(&p)) {
        sp_close(&p);
        return;
    }
    ck_assert_int_eq(sp_teeing(&p), runs[_i].tee);
    while (done < runs[_i].total) {
        size_t n;
        ssize_t r;
        REQUIRE(sp_fill(&p, table, pos, runs[_i].want, runs[_i].piece) == 0, "%s: fill at %zu",
                runs[_i].name, done);
        REQUIRE(p.inpipe > 0, "%s: nothing filled at %zu", runs[_i].name, done);
        if (p.inpipe > max_held)
            max_held = p.inpipe;
        n = p.inpipe < runs[_i].take ? p.inpipe : runs[_i].take;
        if (n > runs[_i].total - done)
            n = runs[_i].total - done;
        r = read(p.pr, buf, n);
        REQUIRE(r == (ssize_t)n, "%s: read %zd of %zu at %zu", runs[_i].name, r, n, done);
        REQUIRE(pt_check(table, &check, buf, n, &bad) == 0, "%s: byte %zu differs",
                runs[_i].name, done + bad);
        sp_sent(&p, (uint32_t)n);
        pos = pt_advance(pos, n);
        done += n;
    }
    /* A tee fill holds whole periods, at most six, and stays a tee fill to the end; vmsplice
     * holds no more than the fill asked. */
    ck_assert_int_eq(sp_teeing(&p), runs[_i].tee);
    if (runs[_i].tee)
        REQUIRE(max_held <= 6 * (size_t)PT_PERIOD, "%s: held %zu", runs[_i].name, max_held);
    else
        REQUIRE(max_held <= runs[_i].want, "%s: held %zu", runs[_i].name, max_held);
    ck_assert_uint_eq(check, pt_advance(runs[_i].start, runs[_i].total));
    sp_close(&p);
    ck_assert_int_eq(p.pr, -1);
    ck_assert_int_eq(p.tr, -1);
    ck_assert_uint_eq(p.inpipe, 0);
}
END_TEST

/* The stream moved on without the pipe (bytes sent some other way): the tee no longer lines
 * up with a period, so fills go on by vmsplice, from the stream's new position. */
START_TEST(limits_moved_stream)
{
    struct sp_pipe p;
    uint32_t start = 500, pos, check;
    size_t bad = 0;
    ssize_t r;

    pt_fill(table, 3);
    unsetenv("EH_BENCH_NO_TEE");
    ck_assert_int_eq(sp_open(&p, table, start), 0);
    if (!sp_teeing(&p)) {
        sp_close(&p);
        return;
    }
    ck_assert_int_eq(sp_fill(&p, table, start, 65536, 65536), 0);
    ck_assert_uint_eq(p.inpipe, PT_PERIOD);
    r = read(p.pr, buf, p.inpipe);
    ck_assert_int_eq(r, PT_PERIOD);
    sp_sent(&p, PT_PERIOD);
    pos = check = pt_advance(start, PT_PERIOD + 7); /* 7 bytes went by send() */
    ck_assert_int_eq(sp_fill(&p, table, pos, 65536, 65536), 0);
    ck_assert_int_eq(sp_teeing(&p), 0);
    ck_assert_uint_eq(p.inpipe, 65536);
    r = read(p.pr, buf, p.inpipe);
    ck_assert_int_eq(r, 65536);
    ck_assert_int_eq(pt_check(table, &check, buf, 65536, &bad), 0);
    sp_close(&p);
}
END_TEST

/* No pipe: fills refuse, closing twice is harmless. */
START_TEST(errors_no_pipe)
{
    struct sp_pipe p;

    sp_init(&p);
    ck_assert_int_eq(sp_teeing(&p), 0);
    ck_assert_int_lt(sp_fill(&p, table, 0, 100, 100), 0);
    sp_close(&p);
    sp_close(&p);
    ck_assert_int_eq(p.pr, -1);
}
END_TEST

Suite *sp_suite(void)
{
    Suite *s = suite_create("sendpipe");
    TCase *tc = tcase_create("basic");

    tcase_add_loop_test(tc, basic_stream, 0, (int)(sizeof runs / sizeof runs[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, limits_moved_stream);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, errors_no_pipe);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return eh_run_suite(sp_suite());
}
