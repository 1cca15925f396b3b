/*
 * test_frame.c - Check suite for core/frame: line framing (trimming, quit, blank lines per
 * transport, binary and NUL bytes) and echo reassembly fed whole, in chunks and byte by
 * byte, which must all agree. Lines, chunks and the expected bytes each sit just before a
 * guard page, so an over-read crashes.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/frame.h"
#include "guard.h"
#include "suite_main.h"

Suite *cf_suite(void);

static struct guard g_in, g_want;

static void guard_setup(void)
{
    ck_assert_int_eq(guard_init(&g_in, 4096), 0);
    ck_assert_int_eq(guard_init(&g_want, 4096), 0);
}

static void guard_teardown(void)
{
    guard_free(&g_in);
    guard_free(&g_want);
}

#define ANY SIZE_MAX /* offset not asserted (an empty trimmed part has no place) */

static const struct {
    const char *name;
    const char *s;
    size_t n; /* 0: strlen(s) */
    int transport;
    int act;
    size_t off, len;
} lines[] = {
    {"empty_tcp", "", 0, CF_TCP, CF_SKIP, ANY, 0},
    {"empty_udp", "", 0, CF_UDP, CF_SEND, ANY, 0},
    {"newline_tcp", "\n", 0, CF_TCP, CF_SKIP, ANY, 0},
    {"newline_udp", "\n", 0, CF_UDP, CF_SEND, ANY, 0},
    {"blanks_tcp", " \t\r\v\f\n", 0, CF_TCP, CF_SKIP, ANY, 0},
    {"blanks_udp", " \t\r\v\f\n", 0, CF_UDP, CF_SEND, ANY, 0},
    {"one_byte", "x", 0, CF_TCP, CF_SEND, 0, 1},
    {"word", "hello\n", 0, CF_TCP, CF_SEND, 0, 5},
    {"word_crlf", "hello\r\n", 0, CF_UDP, CF_SEND, 0, 5},
    {"no_newline", "hello", 0, CF_TCP, CF_SEND, 0, 5},
    {"trim_both", "  hello \r\n", 0, CF_TCP, CF_SEND, 2, 5},
    {"trim_all_kinds", "\t\v\fhi\f\v\t", 0, CF_UDP, CF_SEND, 3, 2},
    {"inner_space_kept", " a b \n", 0, CF_TCP, CF_SEND, 1, 3},
    {"quit", "q", 0, CF_TCP, CF_QUIT, ANY, ANY},
    {"quit_newline", "q\n", 0, CF_TCP, CF_QUIT, ANY, ANY},
    {"quit_padded", " q \r\n", 0, CF_TCP, CF_QUIT, ANY, ANY},
    {"quit_udp", "q\n", 0, CF_UDP, CF_QUIT, ANY, ANY},
    {"qq_is_data", "qq\n", 0, CF_TCP, CF_SEND, 0, 2},
    {"upper_q_is_data", "Q\n", 0, CF_TCP, CF_SEND, 0, 1},
    {"q_word_is_data", "q x\n", 0, CF_TCP, CF_SEND, 0, 3},
    {"quit_word_is_data", "quit\n", 0, CF_TCP, CF_SEND, 0, 4},
    {"q_nul_is_data", "q\0", 2, CF_TCP, CF_SEND, 0, 2},
    {"nul_only", "\0", 1, CF_TCP, CF_SEND, 0, 1},
    {"nul_inside", "a\0b\n", 4, CF_TCP, CF_SEND, 0, 3},
    {"nul_padded", " \0 ", 3, CF_UDP, CF_SEND, 1, 1},
    {"nbsp_not_trimmed", "\xa0x\xa0\n", 0, CF_TCP, CF_SEND, 0, 3},
    {"nel_not_trimmed", "\x85x\n", 0, CF_TCP, CF_SEND, 0, 2},
    {"high_bytes", "\xff\xfe\n", 0, CF_UDP, CF_SEND, 0, 2},
};

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

START_TEST(basic_line)
{
    size_t n = lines[_i].n ? lines[_i].n : strlen(lines[_i].s);
    const uint8_t *p = guard_place(&g_in, lines[_i].s, n);
    int act = -1;
    size_t off = 777, len = 777;
    int rc = cf_line(p, n, lines[_i].transport, &act, &off, &len);

    ck_assert_msg(rc == 0, "%s: rc %d", lines[_i].name, rc);
    ck_assert_msg(act == lines[_i].act, "%s: act %d", lines[_i].name, act);
    if (act != CF_SEND)
        return;
    ck_assert_msg(len == lines[_i].len, "%s: len %zu", lines[_i].name, len);
    if (lines[_i].off != ANY)
        ck_assert_msg(off == lines[_i].off, "%s: off %zu", lines[_i].name, off);
    ck_assert_uint_le(off + len, n);
    if (len)
        ck_assert_mem_eq(p + off, lines[_i].s + off, len);
}
END_TEST

START_TEST(limits_line_all_bytes)
{
    uint8_t b[256];
    const uint8_t *p;
    int act;
    size_t off, len;

    /* Bytes 0..255 in order: 0x00 and 0xff are not whitespace, so nothing is trimmed and
     * the whitespace bytes 9..13 and 32 in the middle stay. */
    for (size_t i = 0; i < 256; i++)
        b[i] = (uint8_t)i;
    p = guard_place(&g_in, b, sizeof b);
    ck_assert_int_eq(cf_line(p, sizeof b, CF_TCP, &act, &off, &len), 0);
    ck_assert_int_eq(act, CF_SEND);
    ck_assert_uint_eq(off, 0);
    ck_assert_uint_eq(len, 256);
    /* Bytes 9..32 only: whitespace at both ends is trimmed down to 14..31. */
    p = guard_place(&g_in, b + 9, 24);
    ck_assert_int_eq(cf_line(p, 24, CF_TCP, &act, &off, &len), 0);
    ck_assert_int_eq(act, CF_SEND);
    ck_assert_uint_eq(off, 5);
    ck_assert_uint_eq(len, 18);
    ck_assert_mem_eq(p + off, b + 14, 18);
}
END_TEST

START_TEST(errors_line)
{
    int act;
    size_t off, len;
    const uint8_t *p = (const uint8_t *)"x";

    ck_assert_int_eq(cf_line(p, 1, 2, &act, &off, &len), EH_ERR_INVAL);
    ck_assert_int_eq(cf_line(p, 1, -1, &act, &off, &len), EH_ERR_INVAL);
    ck_assert_int_eq(cf_line(NULL, 1, CF_TCP, &act, &off, &len), EH_ERR_INVAL);
    ck_assert_int_eq(cf_line(p, 1, CF_TCP, NULL, &off, &len), EH_ERR_INVAL);
    ck_assert_int_eq(cf_line(p, 1, CF_TCP, &act, NULL, &len), EH_ERR_INVAL);
    ck_assert_int_eq(cf_line(p, 1, CF_TCP, &act, &off, NULL), EH_ERR_INVAL);
    ck_assert_int_eq(cf_line(NULL, 0, CF_TCP, &act, &off, &len), 0);
    ck_assert_int_eq(act, CF_SKIP);
}
END_TEST

/* Reassembly: want[0..wn), received got[0..gn) fed in chunks of chunk bytes (0: whole). */
static const struct {
    const char *name;
    const char *want;
    size_t wn; /* 0: strlen(want) */
    const char *got;
    size_t gn; /* 0: strlen(got) */
    int status;
    size_t matched; /* e.got afterwards */
    size_t used;    /* total consumed */
    size_t bad_off;
    char bad_want, bad_got;
} echoes[] = {
    {"exact", "hello", 0, "hello", 0, CF_DONE, 5, 5, 0, 0, 0},
    {"one_byte", "x", 0, "x", 0, CF_DONE, 1, 1, 0, 0, 0},
    {"extra_not_consumed", "hello", 0, "hello world", 0, CF_DONE, 5, 5, 0, 0, 0},
    {"short", "hello", 0, "hel", 0, CF_MORE, 3, 3, 0, 0, 0},
    {"nothing_yet", "hello", 0, "", 0, CF_MORE, 0, 0, 0, 0, 0},
    {"mismatch_first", "hello", 0, "jello", 0, CF_MISMATCH, 0, 0, 0, 'h', 'j'},
    {"mismatch_mid", "hello", 0, "helpo", 0, CF_MISMATCH, 3, 3, 3, 'l', 'p'},
    {"mismatch_last", "hello", 0, "hellO", 0, CF_MISMATCH, 4, 4, 4, 'o', 'O'},
    {"mismatch_then_more", "hello", 0, "hexlo world", 0, CF_MISMATCH, 2, 2, 2, 'l', 'x'},
    {"nul_match", "a\0b", 3, "a\0b", 3, CF_DONE, 3, 3, 0, 0, 0},
    {"nul_mismatch", "a\0b", 3, "a\0c", 3, CF_MISMATCH, 2, 2, 2, 'b', 'c'},
    {"nul_got", "ab", 0, "a\0", 2, CF_MISMATCH, 1, 1, 1, 'b', '\0'},
    {"empty_want", "", 0, "x", 0, CF_DONE, 0, 0, 0, 0, 0},
    {"empty_both", "", 0, "", 0, CF_DONE, 0, 0, 0, 0, 0},
};

struct fed {
    int status;
    size_t used;
    struct cf_expect e;
};

/* Feeds echoes[i].got in chunks of chunk bytes (0: whole), each before the guard page. */
static struct fed feed(int i, size_t chunk)
{
    size_t wn = echoes[i].wn ? echoes[i].wn : strlen(echoes[i].want);
    size_t gn = echoes[i].gn ? echoes[i].gn : strlen(echoes[i].got);
    const uint8_t *w = guard_place(&g_want, echoes[i].want, wn);
    struct fed f = {0, 0, {0}};
    size_t at = 0;

    cf_expect_init(&f.e, w, wn);
    f.status = f.e.status;
    if (chunk == 0)
        chunk = gn ? gn : 1;
    do {
        size_t k = gn - at < chunk ? gn - at : chunk, used = 99;
        const uint8_t *p = guard_place(&g_in, echoes[i].got + at, k);
        int st = cf_expect_feed(&f.e, p, k, &used);
        ck_assert_msg(used <= k, "%s: used %zu of %zu", echoes[i].name, used, k);
        ck_assert_int_eq(st, f.e.status);
        f.status = st;
        f.used += used;
        at += k;
    } while (at < gn);
    return f;
}

static void check_fed(int i, const struct fed *f, size_t chunk)
{
    ck_assert_msg(f->status == echoes[i].status, "%s chunk %zu: status %d", echoes[i].name, chunk,
                  f->status);
    ck_assert_msg(f->e.got == echoes[i].matched, "%s chunk %zu: got %zu", echoes[i].name, chunk,
                  f->e.got);
    ck_assert_msg(f->used == echoes[i].used, "%s chunk %zu: used %zu", echoes[i].name, chunk,
                  f->used);
    if (f->status == CF_MISMATCH) {
        ck_assert_uint_eq(f->e.bad_off, echoes[i].bad_off);
        ck_assert_uint_eq(f->e.bad_want, (uint8_t)echoes[i].bad_want);
        ck_assert_uint_eq(f->e.bad_got, (uint8_t)echoes[i].bad_got);
    }
}

/* Whole, byte by byte and in pairs and triples: all must give the same result. */
START_TEST(basic_expect)
{
    static const size_t chunks[] = {0, 1, 2, 3};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        struct fed f = feed(_i, chunks[c]);
        check_fed(_i, &f, chunks[c]);
    }
}
END_TEST

START_TEST(limits_expect_all_bytes)
{
    uint8_t want[256], got[256];
    const uint8_t *w, *p;
    struct cf_expect e;
    size_t at = 0, used, step = 1;

    for (size_t i = 0; i < 256; i++)
        want[i] = got[i] = (uint8_t)(255 - i);
    w = guard_place(&g_want, want, sizeof want);
    cf_expect_init(&e, w, sizeof want);
    /* Growing chunks: 1, 2, 3, ... bytes. */
    while (at < sizeof got) {
        size_t k = sizeof got - at < step ? sizeof got - at : step;
        p = guard_place(&g_in, got + at, k);
        ck_assert_int_eq(cf_expect_feed(&e, p, k, &used), at + k == 256 ? CF_DONE : CF_MORE);
        ck_assert_uint_eq(used, k);
        at += k, step++;
    }
    ck_assert_uint_eq(e.got, 256);
    /* Once done, more bytes are not consumed. */
    ck_assert_int_eq(cf_expect_feed(&e, got, 3, &used), CF_DONE);
    ck_assert_uint_eq(used, 0);

    /* One wrong byte at 200 (where the byte value is 55), found whole. */
    got[200] ^= 0x80;
    cf_expect_init(&e, w, sizeof want);
    p = guard_place(&g_in, got, sizeof got);
    ck_assert_int_eq(cf_expect_feed(&e, p, sizeof got, &used), CF_MISMATCH);
    ck_assert_uint_eq(used, 200);
    ck_assert_uint_eq(e.bad_off, 200);
    ck_assert_uint_eq(e.bad_want, 55);
    ck_assert_uint_eq(e.bad_got, 55 ^ 0x80);
    /* After a mismatch nothing more is consumed. */
    ck_assert_int_eq(cf_expect_feed(&e, p, sizeof got, &used), CF_MISMATCH);
    ck_assert_uint_eq(used, 0);
    ck_assert_uint_eq(e.bad_off, 200);
}
END_TEST

START_TEST(limits_expect_empty_feed)
{
    struct cf_expect e;
    size_t used = 9;

    cf_expect_init(&e, (const uint8_t *)"ab", 2);
    ck_assert_int_eq(e.status, CF_MORE);
    ck_assert_int_eq(cf_expect_feed(&e, NULL, 0, &used), CF_MORE);
    ck_assert_uint_eq(used, 0);
    ck_assert_uint_eq(e.got, 0);
    cf_expect_init(&e, NULL, 0);
    ck_assert_int_eq(e.status, CF_DONE);
}
END_TEST

Suite *cf_suite(void)
{
    Suite *s = suite_create("frame");
    TCase *tc = tcase_create("basic");

    tcase_add_checked_fixture(tc, guard_setup, guard_teardown);
    tcase_add_loop_test(tc, basic_line, 0, N(lines));
    tcase_add_loop_test(tc, basic_expect, 0, N(echoes));
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, guard_setup, guard_teardown);
    tcase_add_test(tc, limits_line_all_bytes);
    tcase_add_test(tc, limits_expect_all_bytes);
    tcase_add_test(tc, limits_expect_empty_feed);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, errors_line);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return eh_run_suite(cf_suite());
}
