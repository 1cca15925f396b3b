/*
 * test_err.c - Check suite for core/err: every code has its own lower-case description
 * without a trailing period, codes are stable (their values are part of the contract) and
 * anything else reads "unknown error".
 */
#include <check.h>
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "suite_main.h"

Suite *eh_suite(void);

static const struct {
    const char *name;
    int code;
    int value; /* the stable number: renumbering breaks logs and scripts */
} codes[] = {
    {"ok", EH_OK, 0},
    {"inval", EH_ERR_INVAL, -1},
    {"state", EH_ERR_STATE, -2},
    {"nospace", EH_ERR_NOSPACE, -3},
    {"nostorage", EH_ERR_NOSTORAGE, -4},
    {"too_big", EH_ERR_TOO_BIG, -5},
    {"addr_empty", EH_ERR_ADDR_EMPTY, -20},
    {"addr_too_long", EH_ERR_ADDR_TOO_LONG, -21},
    {"addr_no_port", EH_ERR_ADDR_NO_PORT, -22},
    {"addr_bad_port", EH_ERR_ADDR_BAD_PORT, -23},
    {"addr_port_range", EH_ERR_ADDR_PORT_RANGE, -24},
    {"addr_bracket", EH_ERR_ADDR_BRACKET, -25},
    {"addr_bad_v6", EH_ERR_ADDR_BAD_V6, -26},
    {"addr_bare_v6", EH_ERR_ADDR_BARE_V6, -27},
    {"addr_bad_host", EH_ERR_ADDR_BAD_HOST, -28},
    {"addr_bad_v4", EH_ERR_ADDR_BAD_V4, -29},
    {"addr_bad_prefix", EH_ERR_ADDR_BAD_PREFIX, -30},
    {"addr_bad_scope", EH_ERR_ADDR_BAD_SCOPE, -31},
    {"addr_no_host", EH_ERR_ADDR_NO_HOST, -32},
};
#define N_CODES (int)(sizeof codes / sizeof codes[0])

START_TEST(basic_code_text)
{
    const char *t = eh_strerror(codes[_i].code);
    size_t n;

    ck_assert_msg(codes[_i].code == codes[_i].value, "%s: value %d, want %d", codes[_i].name,
                  codes[_i].code, codes[_i].value);
    ck_assert_ptr_nonnull(t);
    n = strlen(t);
    ck_assert_msg(n > 0, "%s: empty text", codes[_i].name);
    ck_assert_msg(strcmp(t, "unknown error") != 0, "%s: no description", codes[_i].name);
    /* Lower-case, except that an acronym such as "IPv6" may lead. */
    ck_assert_msg(!(isupper((unsigned char)t[0]) && islower((unsigned char)t[1])),
                  "%s: starts with a capital: %s", codes[_i].name, t);
    ck_assert_msg(t[n - 1] != '.' && t[n - 1] != '\n', "%s: trailing period/newline: %s",
                  codes[_i].name, t);
}
END_TEST

START_TEST(basic_texts_distinct)
{
    for (int j = 0; j < N_CODES; j++) {
        if (j == _i)
            continue;
        ck_assert_msg(strcmp(eh_strerror(codes[_i].code), eh_strerror(codes[j].code)) != 0,
                      "%s and %s share a description", codes[_i].name, codes[j].name);
    }
}
END_TEST

static const struct {
    const char *name;
    int code;
} unknown[] = {
    {"positive_one", 1},      {"between_core_and_addr", -6}, {"just_before_addr", -19},
    {"after_last_addr", -33}, {"min_sentinel", EH__ERR_MIN}, {"below_min", -100},
    {"int_min", INT_MIN},     {"int_max", INT_MAX},
};

START_TEST(limits_unknown)
{
    const char *t = eh_strerror(unknown[_i].code);
    ck_assert_ptr_nonnull(t);
    ck_assert_msg(strcmp(t, "unknown error") == 0, "%s (%d): got \"%s\"", unknown[_i].name,
                  unknown[_i].code, t);
}
END_TEST

Suite *eh_suite(void)
{
    Suite *s = suite_create("err");
    TCase *tc = tcase_create("basic");

    tcase_add_loop_test(tc, basic_code_text, 0, N_CODES);
    tcase_add_loop_test(tc, basic_texts_distinct, 0, N_CODES);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_loop_test(tc, limits_unknown, 0, (int)(sizeof unknown / sizeof unknown[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return eh_run_suite(eh_suite());
}
