/*
 * test_fuzzfile.c - Check suite for core/fuzzfile, the network fuzzer's reproducer format:
 * good files parse to the actions they spell, every malformed file is refused with the right
 * line and reason, formatting is canonical and parse -> format -> parse is the identity for
 * generated sequences, and the parser stays inside the bytes it is given (guard page).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/fuzzfile.h"
#include "guard.h"
#include "suite_main.h"

Suite *eh_suite(void);

static struct fq_seq s1, s2;

static const struct {
    const char *name, *text;
    uint64_t seed;
    size_t count;
    struct fq_action first, last;
} good[] = {
    {"minimal", "echofuzz 1\nseed 5\nend\n", 5, 0, {0, 0, 0}, {0, 0, 0}},
    {"no final newline", "echofuzz 1\nseed 0x10\nsend 1 0\nend", 16, 1, {FQ_SEND, 1, 0},
     {FQ_SEND, 1, 0}},
    {"comments, blanks, tabs, CRLF",
     "# made by hand\r\n\r\n  echofuzz\t1\r\n# seed next\r\nseed 0xFFFFFFFFFFFFFFFF\r\n"
     "connect 3\r\n\twrite  3   16777216\r\npause 10000\r\nend\r\n# trailing comment\r\n",
     UINT64_MAX, 3, {FQ_CONNECT, 3, 0}, {FQ_PAUSE, 0, 10000}},
    {"every keyword",
     "echofuzz 1\nseed 1\nconnect 0\nwrite 0 1\nshut 0\nclose 0\nreset 1\npause 0\n"
     "send 0 65507\nend\n",
     1, 7, {FQ_CONNECT, 0, 0}, {FQ_SEND, 0, 65507}},
};

START_TEST(basic_good)
{
    struct ff_error e;
    int rc = ff_parse(good[_i].text, strlen(good[_i].text), &s1, &e);

    ck_assert_msg(rc == 0, "%s: refused at line %u: %s", good[_i].name, e.line,
                  ff_strerror(e.code));
    ck_assert_uint_eq(s1.seed, good[_i].seed);
    ck_assert_uint_eq(s1.count, good[_i].count);
    if (s1.count > 0) {
        ck_assert_int_eq(s1.a[0].op, good[_i].first.op);
        ck_assert_int_eq(s1.a[0].slot, good[_i].first.slot);
        ck_assert_uint_eq(s1.a[0].n, good[_i].first.n);
        ck_assert_int_eq(s1.a[s1.count - 1].op, good[_i].last.op);
        ck_assert_int_eq(s1.a[s1.count - 1].slot, good[_i].last.slot);
        ck_assert_uint_eq(s1.a[s1.count - 1].n, good[_i].last.n);
    }
}
END_TEST

static const struct {
    const char *name, *text;
    unsigned line;
    int code;
} bad[] = {
    {"empty", "", 1, FF_E_HEADER},
    {"only comments", "# nothing\n\n", 3, FF_E_HEADER},
    {"wrong magic", "echofuzzer 1\n", 1, FF_E_HEADER},
    {"header with extra word", "echofuzz 1 2\n", 1, FF_E_HEADER},
    {"version 2", "# hi\necho\x66uzz 2\nseed 1\nend\n", 2, FF_E_VERSION},
    {"version not a number", "echofuzz one\n", 1, FF_E_VERSION},
    {"no seed", "echofuzz 1\nconnect 0\nend\n", 2, FF_E_SEED},
    {"seed twice", "echofuzz 1\nseed 1\nseed 2\nend\n", 3, FF_E_SEED},
    {"end before seed", "echofuzz 1\nend\n", 2, FF_E_SEED},
    {"cut after seed", "echofuzz 1\n", 2, FF_E_SEED},
    {"seed not a number", "echofuzz 1\nseed 0x\nend\n", 2, FF_E_NUMBER},
    {"seed overflows", "echofuzz 1\nseed 18446744073709551616\nend\n", 2, FF_E_NUMBER},
    {"seed hex overflows", "echofuzz 1\nseed 0x10000000000000000\nend\n", 2, FF_E_NUMBER},
    {"unknown keyword", "echofuzz 1\nseed 1\nconnect 0\nwrit 0 5\nend\n", 4, FF_E_KEYWORD},
    {"upper case keyword", "echofuzz 1\nseed 1\nCONNECT 0\nend\n", 3, FF_E_KEYWORD},
    {"missing size", "echofuzz 1\nseed 1\nwrite 0\nend\n", 3, FF_E_ARGS},
    {"extra word", "echofuzz 1\nseed 1\nconnect 0 1\nend\n", 3, FF_E_ARGS},
    {"too many words", "echofuzz 1\nseed 1\nsend 0 1 2 3 4\nend\n", 3, FF_E_ARGS},
    {"end with a word", "echofuzz 1\nseed 1\nend now\n", 3, FF_E_ARGS},
    {"negative size", "echofuzz 1\nseed 1\nsend 0 -1\nend\n", 3, FF_E_NUMBER},
    {"hex size", "echofuzz 1\nseed 1\npause 0x10\nend\n", 3, FF_E_NUMBER},
    {"tcp slot 4", "echofuzz 1\nseed 1\nconnect 4\nend\n", 3, FF_E_SLOT},
    {"udp slot 2", "echofuzz 1\nseed 1\nsend 2 10\nend\n", 3, FF_E_SLOT},
    {"write too big", "echofuzz 1\nseed 1\nwrite 0 16777217\nend\n", 3, FF_E_SIZE},
    {"datagram too big", "echofuzz 1\nseed 1\nsend 0 65508\nend\n", 3, FF_E_SIZE},
    {"pause too long", "echofuzz 1\nseed 1\npause 10001\nend\n", 3, FF_E_SIZE},
    {"no end", "echofuzz 1\nseed 1\nconnect 0\n", 4, FF_E_NO_END},
    {"after end", "echofuzz 1\nseed 1\nend\nconnect 0\n", 4, FF_E_AFTER_END},
    {"end twice", "echofuzz 1\nseed 1\nend\nend\n", 4, FF_E_AFTER_END},
    {"control character", "echofuzz 1\nseed 1\nconnect\x01 0\nend\n", 3, FF_E_BINARY},
    {"bare CR inside", "echofuzz 1\nseed\r1\nend\n", 2, FF_E_BINARY},
};

START_TEST(errors_bad)
{
    struct ff_error e;
    int rc = ff_parse(bad[_i].text, strlen(bad[_i].text), &s1, &e);

    ck_assert_msg(rc == EH_ERR_INVAL, "%s: accepted", bad[_i].name);
    ck_assert_msg(e.line == bad[_i].line && e.code == bad[_i].code,
                  "%s: line %u '%s', want line %u '%s'", bad[_i].name, e.line,
                  ff_strerror(e.code), bad[_i].line, ff_strerror(bad[_i].code));
    ck_assert_str_ne(ff_strerror(e.code), "unknown error");
}
END_TEST

START_TEST(errors_nul_and_long_line)
{
    static const char nul[] = "echofuzz 1\nseed 1\0\nend\n";
    char longl[400];
    struct ff_error e;

    ck_assert_int_eq(ff_parse(nul, sizeof nul - 1, &s1, &e), EH_ERR_INVAL);
    ck_assert_uint_eq(e.line, 2);
    ck_assert_int_eq(e.code, FF_E_BINARY);
    /* A comment line of exactly FF_MAX_LINE bytes is fine; one byte more is not. */
    for (int extra = 0; extra < 2; extra++) {
        int n = snprintf(longl, sizeof longl, "echofuzz 1\n#%*s\nseed 1\nend\n",
                         FF_MAX_LINE - 1 + extra, "");
        int rc = ff_parse(longl, (size_t)n, &s1, &e);
        ck_assert_int_eq(rc, extra ? EH_ERR_INVAL : 0);
    }
    ck_assert_uint_eq(e.line, 2);
    ck_assert_int_eq(e.code, FF_E_LONG_LINE);
}
END_TEST

START_TEST(limits_too_many_actions)
{
    static char text[FF_FORMAT_MAX + 64];
    size_t off = 0;
    struct ff_error e;

    off += (size_t)snprintf(text, sizeof text, "echofuzz 1\nseed 1\n");
    for (int i = 0; i <= FQ_MAX_ACTIONS; i++)
        off += (size_t)snprintf(text + off, sizeof text - off, "pause %d\n", i);
    off += (size_t)snprintf(text + off, sizeof text - off, "end\n");
    ck_assert_int_eq(ff_parse(text, off, &s1, &e), EH_ERR_INVAL);
    ck_assert_int_eq(e.code, FF_E_TOO_MANY);
    ck_assert_uint_eq(e.line, 3 + FQ_MAX_ACTIONS);
}
END_TEST

/* Generated sequences of every size: format, parse back, equal; the text is canonical
 * (formatting the parsed sequence gives the same bytes). The parse reads from a buffer that
 * ends at a guard page. */
START_TEST(basic_round_trip)
{
    struct fq_gen g;
    static char t1[FF_FORMAT_MAX], t2[FF_FORMAT_MAX];
    struct guard gd;

    ck_assert_int_eq(guard_init(&gd, FF_FORMAT_MAX), 0);
    fq_gen_default(&g);
    g.max_actions = FQ_MAX_ACTIONS;
    g.max_write = FQ_MAX_WRITE;
    g.max_pause_ms = FQ_MAX_PAUSE;
    for (uint64_t seed = 0; seed < 200; seed++) {
        size_t n1, n2;
        struct ff_error e;
        const char *tail;

        fq_generate(&s1, seed * 0x9E3779B97F4A7C15ull, &g);
        ck_assert_int_eq(ff_format(&s1, t1, sizeof t1, &n1), 0);
        ck_assert_uint_eq(n1, strlen(t1));
        tail = (const char *)guard_place(&gd, t1, n1);
        ck_assert_int_eq(ff_parse(tail, n1, &s2, &e), 0);
        ck_assert_msg(fq_equal(&s1, &s2), "seed %llu: changed by the round trip",
                      (unsigned long long)seed);
        ck_assert_int_eq(ff_format(&s2, t2, sizeof t2, &n2), 0);
        ck_assert_uint_eq(n1, n2);
        ck_assert_mem_eq(t1, t2, n1);
    }
    guard_free(&gd);
}
END_TEST

START_TEST(limits_format_space)
{
    static char t[FF_FORMAT_MAX];
    size_t n;

    memset(&s1, 0, sizeof s1);
    s1.seed = 3;
    s1.count = 2;
    s1.a[0] = (struct fq_action){FQ_CONNECT, 0, 0};
    s1.a[1] = (struct fq_action){FQ_WRITE, 0, 12};
    ck_assert_int_eq(ff_format(&s1, t, sizeof t, &n), 0);
    ck_assert_str_eq(t, "echofuzz 1\nseed 0x0000000000000003\nconnect 0\nwrite 0 12\nend\n");
    for (size_t size = 0; size <= n; size++)
        ck_assert_int_eq(ff_format(&s1, t, size, NULL), EH_ERR_NOSPACE);
    ck_assert_int_eq(ff_format(&s1, t, n + 1, NULL), 0);
    s1.a[1].slot = FQ_TCP_SLOTS;
    ck_assert_int_eq(ff_format(&s1, t, sizeof t, NULL), EH_ERR_INVAL);
    s1.a[1] = (struct fq_action){FQ__OP_COUNT, 0, 0};
    ck_assert_int_eq(ff_format(&s1, t, sizeof t, NULL), EH_ERR_INVAL);
    /* Fields the text has no room for are refused, not dropped (found by fuzz_fuzzseq:
     * "pause 1" would parse back with slot 0, "connect 0" without its size). */
    s1.a[1] = (struct fq_action){FQ_PAUSE, 3, 20};
    ck_assert_int_eq(ff_format(&s1, t, sizeof t, NULL), EH_ERR_INVAL);
    s1.a[1] = (struct fq_action){FQ_PAUSE, 0, 20};
    ck_assert_int_eq(ff_format(&s1, t, sizeof t, NULL), 0);
    for (int op = FQ_CONNECT; op <= FQ_RESET; op++) {
        if (op == FQ_WRITE)
            continue;
        s1.a[1] = (struct fq_action){(uint8_t)op, 1, 5};
        ck_assert_int_eq(ff_format(&s1, t, sizeof t, NULL), EH_ERR_INVAL);
        s1.a[1].n = 0;
        ck_assert_int_eq(ff_format(&s1, t, sizeof t, NULL), 0);
    }
    ck_assert_str_eq(ff_strerror(FF__E_COUNT), "unknown error");
    ck_assert_str_eq(ff_strerror(-1), "unknown error");
}
END_TEST

Suite *eh_suite(void)
{
    Suite *s = suite_create("fuzzfile");
    TCase *tc = tcase_create("basic");

    tcase_add_loop_test(tc, basic_good, 0, (int)(sizeof good / sizeof good[0]));
    tcase_add_test(tc, basic_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_loop_test(tc, errors_bad, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, errors_nul_and_long_line);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, limits_too_many_actions);
    tcase_add_test(tc, limits_format_space);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return eh_run_suite(eh_suite());
}
