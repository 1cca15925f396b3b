/*
 * test_addr.c - Check suite for core/addr: endpoint parsing (every accepted form and every
 * rejection code), formatting at every buffer size around the fit, parse -> format -> parse
 * stability, networks, containment and equality. Every parser input sits just before a
 * guard page (tests/guard.h), so reading past s[n) crashes the test.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/err.h"
#include "guard.h"
#include "suite_main.h"

Suite *ea_suite(void);

/* Check's ck_assert_* records its location through a pipe on every call (one syscall each),
 * which makes loops of thousands of assertions slow, badly so under ASan. Hot loops use
 * REQUIRE, which costs nothing until it fails. */

#define BP EA_ALLOW_BARE_PORT
#define P0 EA_ALLOW_PORT0

static struct guard g;

static void guard_setup(void)
{
    ck_assert_int_eq(guard_init(&g, 4096), 0);
}

static void guard_teardown(void)
{
    guard_free(&g);
}

/* Parses s[0..n) placed right before the guard page. */
static int parse_guarded(const char *s, size_t n, unsigned flags, struct ea_endpoint *out)
{
    const char *at = (const char *)guard_place(&g, s, n);
    ck_assert_ptr_nonnull(at);
    return ea_parse(at, n, flags, out);
}

static int is_addr_code(int rc)
{
    return rc <= EH_ERR_ADDR_EMPTY && rc >= EH_ERR_ADDR_NO_HOST;
}

struct pcase {
    const char *name;
    const char *s;
    size_t n; /* 0: strlen(s) */
    unsigned flags;
    int rc;
    int kind;
    unsigned port;
    const char *host;
    const char *fmt; /* ea_format of the address (V4/V6 only) */
};

static size_t len_of(const struct pcase *c)
{
    return c->n ? c->n : strlen(c->s);
}

static const struct pcase good[] = {
    {"v4", "192.0.2.1:7", 0, 0, 0, EA_KIND_V4, 7, "192.0.2.1", "192.0.2.1:7"},
    {"v4_max", "255.255.255.255:65535", 0, 0, 0, EA_KIND_V4, 65535, "255.255.255.255",
     "255.255.255.255:65535"},
    {"v4_any", "0.0.0.0:1", 0, 0, 0, EA_KIND_V4, 1, "0.0.0.0", "0.0.0.0:1"},
    {"v4_port0_allowed", "127.0.0.1:0", 0, P0, 0, EA_KIND_V4, 0, "127.0.0.1", "127.0.0.1:0"},
    {"v6_loopback", "[::1]:7", 0, 0, 0, EA_KIND_V6, 7, "::1", "[::1]:7"},
    {"v6_any", "[::]:7007", 0, 0, 0, EA_KIND_V6, 7007, "::", "[::]:7007"},
    {"v6_long_form", "[2001:db8:0:0:0:0:0:1]:80", 0, 0, 0, EA_KIND_V6, 80, "2001:db8:0:0:0:0:0:1",
     "[2001:db8::1]:80"},
    {"v6_39_chars", "[0000:0000:0000:0000:0000:0000:0000:0001]:7", 0, 0, 0, EA_KIND_V6, 7,
     "0000:0000:0000:0000:0000:0000:0000:0001", "[::1]:7"},
    {"v6_upper", "[2001:DB8::A]:7", 0, 0, 0, EA_KIND_V6, 7, "2001:DB8::A", "[2001:db8::a]:7"},
    {"v6_scope", "[fe80::1%2]:7", 0, 0, 0, EA_KIND_V6, 7, "fe80::1%2", "[fe80::1%2]:7"},
    {"v6_scope_max", "[fe80::1%4294967295]:7", 0, 0, 0, EA_KIND_V6, 7, "fe80::1%4294967295",
     "[fe80::1%4294967295]:7"},
    {"v6_mapped", "[::ffff:192.0.2.1]:7", 0, 0, 0, EA_KIND_V6, 7, "::ffff:192.0.2.1",
     "[::ffff:192.0.2.1]:7"},
    {"v6_max", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", 0, 0, 0, EA_KIND_V6, 65535,
     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"},
    {"name_localhost", "localhost:7007", 0, 0, 0, EA_KIND_NAME, 7007, "localhost", NULL},
    {"name_dotted", "echo.example.org:7", 0, 0, 0, EA_KIND_NAME, 7, "echo.example.org", NULL},
    {"name_hyphen_digits", "a-1.b2:7", 0, 0, 0, EA_KIND_NAME, 7, "a-1.b2", NULL},
    {"name_one_char", "a:7", 0, 0, 0, EA_KIND_NAME, 7, "a", NULL},
    {"name_upper", "Example.COM:7", 0, 0, 0, EA_KIND_NAME, 7, "Example.COM", NULL},
    {"name_digit_labels", "1.2.3.com:7", 0, 0, 0, EA_KIND_NAME, 7, "1.2.3.com", NULL},
    {"name_hex_looking", "0x7f.1:7", 0, 0, 0, EA_KIND_NAME, 7, "0x7f.1", NULL},
    {"port_leading_zeros", "a:007", 0, 0, 0, EA_KIND_NAME, 7, "a", NULL},
    {"bare_port", "7007", 0, BP, 0, EA_KIND_PORT, 7007, "", NULL},
    {"bare_port_one_byte", "7", 0, BP, 0, EA_KIND_PORT, 7, "", NULL},
    {"bare_port_max", "65535", 0, BP, 0, EA_KIND_PORT, 65535, "", NULL},
    {"bare_port0", "0", 0, BP | P0, 0, EA_KIND_PORT, 0, "", NULL},
    {"bare_flag_full_form", "192.0.2.1:7", 0, BP, 0, EA_KIND_V4, 7, "192.0.2.1", "192.0.2.1:7"},
};

static const struct pcase bad[] = {
    {"empty", "", 0, BP | P0, EH_ERR_ADDR_EMPTY, 0, 0, NULL, NULL},
    {"one_colon", ":", 0, 0, EH_ERR_ADDR_NO_HOST, 0, 0, NULL, NULL},
    {"one_letter", "a", 0, 0, EH_ERR_ADDR_NO_PORT, 0, 0, NULL, NULL},
    {"one_bracket", "[", 0, 0, EH_ERR_ADDR_BRACKET, 0, 0, NULL, NULL},
    {"one_digit_no_flag", "7", 0, 0, EH_ERR_ADDR_NO_HOST, 0, 0, NULL, NULL},
    {"one_nul", "\0", 1, BP, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"nul_in_host", "a\0b:7", 5, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"nul_in_port", "a:7\0", 4, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"nul_in_v6", "[::1\0]:7", 8, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"port_alone_no_flag", "7007", 0, 0, EH_ERR_ADDR_NO_HOST, 0, 0, NULL, NULL},
    {"colon_port", ":7", 0, BP, EH_ERR_ADDR_NO_HOST, 0, 0, NULL, NULL},
    {"name_no_port", "localhost", 0, BP, EH_ERR_ADDR_NO_PORT, 0, 0, NULL, NULL},
    {"name_colon_no_port", "localhost:", 0, 0, EH_ERR_ADDR_NO_PORT, 0, 0, NULL, NULL},
    {"v4_no_port", "192.0.2.1", 0, 0, EH_ERR_ADDR_NO_PORT, 0, 0, NULL, NULL},
    {"v6_no_port", "[::1]", 0, 0, EH_ERR_ADDR_NO_PORT, 0, 0, NULL, NULL},
    {"v6_colon_no_port", "[::1]:", 0, 0, EH_ERR_ADDR_NO_PORT, 0, 0, NULL, NULL},
    {"port_alpha", "a:7x", 0, 0, EH_ERR_ADDR_BAD_PORT, 0, 0, NULL, NULL},
    {"port_plus", "a:+7", 0, 0, EH_ERR_ADDR_BAD_PORT, 0, 0, NULL, NULL},
    {"port_minus", "a:-7", 0, 0, EH_ERR_ADDR_BAD_PORT, 0, 0, NULL, NULL},
    {"port_lead_space", "a: 7", 0, 0, EH_ERR_ADDR_BAD_PORT, 0, 0, NULL, NULL},
    {"port_trail_space", "a:7 ", 0, 0, EH_ERR_ADDR_BAD_PORT, 0, 0, NULL, NULL},
    {"port_trail_newline", "a:7\n", 0, 0, EH_ERR_ADDR_BAD_PORT, 0, 0, NULL, NULL},
    {"port_hex", "a:0x7", 0, 0, EH_ERR_ADDR_BAD_PORT, 0, 0, NULL, NULL},
    {"port_two_colons_v4", "1.2.3.4:7:7", 0, 0, EH_ERR_ADDR_BAD_V6, 0, 0, NULL, NULL},
    {"port_65536", "a:65536", 0, 0, EH_ERR_ADDR_PORT_RANGE, 0, 0, NULL, NULL},
    {"port_overlong", "a:99999999999999999999999999", 0, 0, EH_ERR_ADDR_PORT_RANGE, 0, 0, NULL,
     NULL},
    {"port_wraps_2_32", "a:4294967303", 0, 0, EH_ERR_ADDR_PORT_RANGE, 0, 0, NULL, NULL},
    {"port_wraps_2_64", "a:18446744073709551623", 0, 0, EH_ERR_ADDR_PORT_RANGE, 0, 0, NULL, NULL},
    {"port0_refused", "a:0", 0, BP, EH_ERR_ADDR_PORT_RANGE, 0, 0, NULL, NULL},
    {"port0_zeros_refused", "a:00000", 0, 0, EH_ERR_ADDR_PORT_RANGE, 0, 0, NULL, NULL},
    {"bare_port0_refused", "0", 0, BP, EH_ERR_ADDR_PORT_RANGE, 0, 0, NULL, NULL},
    {"bare_port_65536", "65536", 0, BP | P0, EH_ERR_ADDR_PORT_RANGE, 0, 0, NULL, NULL},
    {"bare_port_plus", "+7", 0, BP, EH_ERR_ADDR_BAD_PORT, 0, 0, NULL, NULL},
    {"bare_port_minus", "-7", 0, BP, EH_ERR_ADDR_BAD_PORT, 0, 0, NULL, NULL},
    {"bracket_unclosed", "[::1:7", 0, 0, EH_ERR_ADDR_BRACKET, 0, 0, NULL, NULL},
    {"bracket_text_after", "[::1]x:7", 0, 0, EH_ERR_ADDR_BRACKET, 0, 0, NULL, NULL},
    {"bracket_port_no_colon", "[::1]7", 0, 0, EH_ERR_ADDR_BRACKET, 0, 0, NULL, NULL},
    {"bracket_close_only", "::1]:7", 0, 0, EH_ERR_ADDR_BRACKET, 0, 0, NULL, NULL},
    {"bracket_mid", "a[b]:7", 0, 0, EH_ERR_ADDR_BRACKET, 0, 0, NULL, NULL},
    {"bracket_nested", "[[::1]]:7", 0, 0, EH_ERR_ADDR_BRACKET, 0, 0, NULL, NULL},
    {"bracket_double_close", "[::1]]:7", 0, 0, EH_ERR_ADDR_BRACKET, 0, 0, NULL, NULL},
    {"bracket_in_port", "[::1]:[7]", 0, 0, EH_ERR_ADDR_BAD_PORT, 0, 0, NULL, NULL},
    {"bracket_v4", "[192.0.2.1]:7", 0, 0, EH_ERR_ADDR_BAD_V6, 0, 0, NULL, NULL},
    {"bracket_empty", "[]:7", 0, 0, EH_ERR_ADDR_BAD_V6, 0, 0, NULL, NULL},
    {"bracket_name", "[localhost]:7", 0, 0, EH_ERR_ADDR_BAD_V6, 0, 0, NULL, NULL},
    {"v6_two_gaps", "[1::2::3]:7", 0, 0, EH_ERR_ADDR_BAD_V6, 0, 0, NULL, NULL},
    {"v6_group_too_long", "[12345::]:7", 0, 0, EH_ERR_ADDR_BAD_V6, 0, 0, NULL, NULL},
    {"v6_nine_groups", "[1:2:3:4:5:6:7:8:9]:7", 0, 0, EH_ERR_ADDR_BAD_V6, 0, 0, NULL, NULL},
    {"v6_46_chars", "[0000:0000:0000:0000:0000:0000:0000:0000:0000]:7", 0, 0, EH_ERR_ADDR_BAD_V6, 0,
     0, NULL, NULL},
    {"v6_only_scope", "[%1]:7", 0, 0, EH_ERR_ADDR_BAD_V6, 0, 0, NULL, NULL},
    {"scope_empty", "[fe80::1%]:7", 0, 0, EH_ERR_ADDR_BAD_SCOPE, 0, 0, NULL, NULL},
    {"scope_name", "[fe80::1%eth0]:7", 0, 0, EH_ERR_ADDR_BAD_SCOPE, 0, 0, NULL, NULL},
    {"scope_2_32", "[fe80::1%4294967296]:7", 0, 0, EH_ERR_ADDR_BAD_SCOPE, 0, 0, NULL, NULL},
    {"scope_overlong", "[fe80::1%99999999999999999999]:7", 0, 0, EH_ERR_ADDR_BAD_SCOPE, 0, 0, NULL,
     NULL},
    {"scope_plus", "[fe80::1%+1]:7", 0, 0, EH_ERR_ADDR_BAD_SCOPE, 0, 0, NULL, NULL},
    {"scope_twice", "[fe80::1%1%2]:7", 0, 0, EH_ERR_ADDR_BAD_SCOPE, 0, 0, NULL, NULL},
    {"bare_v6_with_port", "::1:7", 0, 0, EH_ERR_ADDR_BARE_V6, 0, 0, NULL, NULL},
    {"bare_v6_no_port", "::1", 0, BP, EH_ERR_ADDR_BARE_V6, 0, 0, NULL, NULL},
    {"bare_v6_doc", "2001:db8::1", 0, 0, EH_ERR_ADDR_BARE_V6, 0, 0, NULL, NULL},
    {"bare_v6_scope", "fe80::1%2:7", 0, 0, EH_ERR_ADDR_BARE_V6, 0, 0, NULL, NULL},
    {"bare_v6_full_no_port", "1:2:3:4:5:6:7:8", 0, 0, EH_ERR_ADDR_BARE_V6, 0, 0, NULL, NULL},
    {"bare_v6_mapped_port", "::ffff:1.2.3.4:7", 0, 0, EH_ERR_ADDR_BARE_V6, 0, 0, NULL, NULL},
    {"bare_v6_garbage", "::1::7", 0, 0, EH_ERR_ADDR_BAD_V6, 0, 0, NULL, NULL},
    {"bare_v6_bad_scope", "fe80::1%x:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"colons_only", "::", 0, 0, EH_ERR_ADDR_BARE_V6, 0, 0, NULL, NULL},
    {"three_colons", ":::", 0, 0, EH_ERR_ADDR_BARE_V6, 0, 0, NULL, NULL},
    {"many_colons_name", "host:name:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"v4_octet_256", "256.1.1.1:7", 0, 0, EH_ERR_ADDR_BAD_V4, 0, 0, NULL, NULL},
    {"v4_three_parts", "1.2.3:7", 0, 0, EH_ERR_ADDR_BAD_V4, 0, 0, NULL, NULL},
    {"v4_five_parts", "1.2.3.4.5:7", 0, 0, EH_ERR_ADDR_BAD_V4, 0, 0, NULL, NULL},
    {"v4_leading_zero", "01.2.3.4:7", 0, 0, EH_ERR_ADDR_BAD_V4, 0, 0, NULL, NULL},
    {"v4_empty_part", "1..2.3:7", 0, 0, EH_ERR_ADDR_BAD_V4, 0, 0, NULL, NULL},
    {"v4_trailing_dot", "1.2.3.4.:7", 0, 0, EH_ERR_ADDR_BAD_V4, 0, 0, NULL, NULL},
    {"v4_leading_dot", ".1.2.3:7", 0, 0, EH_ERR_ADDR_BAD_V4, 0, 0, NULL, NULL},
    {"v4_only_dots", "...:7", 0, 0, EH_ERR_ADDR_BAD_V4, 0, 0, NULL, NULL},
    {"v4_undotted_number", "3232235777:7", 0, 0, EH_ERR_ADDR_BAD_V4, 0, 0, NULL, NULL},
    {"v4_bad_no_port", "256.1.1.1", 0, 0, EH_ERR_ADDR_BAD_V4, 0, 0, NULL, NULL},
    {"host_lead_hyphen", "-a:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"host_trail_hyphen", "a-:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"host_label_trail_hyphen", "a-.b:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"host_label_lead_hyphen", "a.-b:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"host_empty_label", "a..b:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"host_lead_dot", ".a:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"host_trail_dot", "a.:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"host_underscore", "a_b:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"host_space", "a b:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"host_utf8", "\xc3\xa4:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"host_byte_ff", "\xff:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"host_slash", "a/b:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"host_percent", "a%1:7", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
    {"host_bad_no_port", "a_b", 0, 0, EH_ERR_ADDR_BAD_HOST, 0, 0, NULL, NULL},
};

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

static void check_good(const struct pcase *c)
{
    struct ea_endpoint e;
    char buf[EA_FORMAT_MAX];
    size_t len = 99;
    int rc = parse_guarded(c->s, len_of(c), c->flags, &e);

    ck_assert_msg(rc == 0, "%s: rc %d (%s)", c->name, rc, eh_strerror(rc));
    ck_assert_msg(e.kind == c->kind, "%s: kind %d", c->name, e.kind);
    ck_assert_msg(e.port == c->port, "%s: port %u", c->name, e.port);
    ck_assert_msg(strcmp(e.host, c->host) == 0, "%s: host \"%s\"", c->name, e.host);
    if (c->kind == EA_KIND_V4 || c->kind == EA_KIND_V6) {
        ck_assert_int_eq(e.addr.family, c->kind == EA_KIND_V4 ? EA_INET : EA_INET6);
        ck_assert_msg(e.addr.port == c->port, "%s: addr.port %u", c->name, e.addr.port);
        ck_assert_int_eq(ea_format(&e.addr, buf, sizeof buf, &len), 0);
        ck_assert_msg(strcmp(buf, c->fmt) == 0, "%s: formatted \"%s\"", c->name, buf);
        ck_assert_uint_eq(len, strlen(c->fmt));
    } else {
        ck_assert_msg(e.addr.family == EA_NONE, "%s: family %d", c->name, e.addr.family);
    }
}

START_TEST(basic_parse)
{
    check_good(&good[_i]);
}
END_TEST

START_TEST(errors_parse)
{
    struct ea_endpoint e;
    int rc = parse_guarded(bad[_i].s, len_of(&bad[_i]), bad[_i].flags, &e);

    ck_assert_msg(rc == bad[_i].rc, "%s: rc %d (%s), want %d (%s)", bad[_i].name, rc,
                  eh_strerror(rc), bad[_i].rc, eh_strerror(bad[_i].rc));
}
END_TEST

/* parse -> format -> parse gives the same endpoint, and formatting it again the same text. */
START_TEST(basic_round_trip)
{
    const struct pcase *c = &good[_i];
    struct ea_endpoint a, b;
    char t1[EA_FORMAT_MAX], t2[EA_FORMAT_MAX];
    size_t l1, l2;

    if (c->kind != EA_KIND_V4 && c->kind != EA_KIND_V6)
        return;
    ck_assert_int_eq(parse_guarded(c->s, len_of(c), c->flags, &a), 0);
    ck_assert_int_eq(ea_format(&a.addr, t1, sizeof t1, &l1), 0);
    ck_assert_msg(parse_guarded(t1, l1, c->flags, &b) == 0, "%s: \"%s\" not read back", c->name,
                  t1);
    ck_assert_msg(ea_equal(&a.addr, &b.addr), "%s: \"%s\" differs", c->name, t1);
    ck_assert_uint_eq(a.addr.scope, b.addr.scope);
    ck_assert_int_eq(a.kind, b.kind);
    ck_assert_int_eq(ea_format(&b.addr, t2, sizeof t2, &l2), 0);
    ck_assert_uint_eq(l1, l2);
    ck_assert_mem_eq(t1, t2, l1 + 1);
}
END_TEST

/* Every prefix of every table input, whole or cut anywhere, is either accepted or refused
 * with an EH_ERR_ADDR_* code, and never read past its end (the guard page). */
static void check_prefixes(const struct pcase *c)
{
    size_t n = len_of(c);
    struct ea_endpoint e;

    for (size_t k = 0; k <= n; k++) {
        for (unsigned f = 0; f < 4; f++) {
            const char *at = (const char *)guard_place(&g, c->s, k);
            int rc = ea_parse(at, k, f, &e);
            REQUIRE(rc == 0 || is_addr_code(rc), "%s[0..%zu) flags %u: rc %d", c->name, k, f, rc);
            REQUIRE(strcmp(eh_strerror(rc), "unknown error") != 0, "%s: rc %d has no text", c->name,
                    rc);
        }
    }
}

START_TEST(limits_prefixes_good)
{
    check_prefixes(&good[_i]);
}
END_TEST

START_TEST(limits_prefixes_bad)
{
    check_prefixes(&bad[_i]);
}
END_TEST

/* Long inputs, built at run time: labels of label_len letters joined by dots, the last
 * one last_len long, then port. */
static const struct {
    const char *name;
    size_t label_len, labels, last_len;
    const char *port; /* appended after ':'; NULL: no ":port" */
    int rc;
    size_t text_n; /* the built text's length, when the row is about it (else 0) */
} longs[] = {
    {"label_63", 63, 1, 63, "7", 0, 0},
    {"label_64", 64, 1, 64, "7", EH_ERR_ADDR_BAD_HOST, 0},
    {"label_64_last", 10, 2, 64, "7", EH_ERR_ADDR_BAD_HOST, 0},
    {"name_253", 63, 4, 61, "7", 0, 0},
    {"name_253_port_65535", 63, 4, 61, "65535", 0, 0},
    {"name_254", 63, 4, 62, "7", EH_ERR_ADDR_TOO_LONG, 0},
    {"name_259", 63, 4, 67, "7", EH_ERR_ADDR_TOO_LONG, 0},
    {"name_253_no_port", 63, 4, 61, NULL, EH_ERR_ADDR_NO_PORT, 0},
    {"text_max_long_port", 1, 1, 1, /* 1 + 1 + 260 = EA_TEXT_MAX */
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000000000000000000000000000000000000000000000007",
     0, EA_TEXT_MAX},
    {"text_max_plus_1", 1, 1, 1,
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000007",
     EH_ERR_ADDR_TOO_LONG, EA_TEXT_MAX + 1},
};

START_TEST(limits_long)
{
    char s[1024];
    size_t n = 0;
    struct ea_endpoint e;
    int rc;

    for (size_t l = 0; l < longs[_i].labels; l++) {
        size_t ll = l + 1 == longs[_i].labels ? longs[_i].last_len : longs[_i].label_len;
        if (l)
            s[n++] = '.';
        memset(s + n, 'a' + (int)(l % 26), ll);
        n += ll;
    }
    if (longs[_i].port) {
        s[n++] = ':';
        memcpy(s + n, longs[_i].port, strlen(longs[_i].port));
        n += strlen(longs[_i].port);
    }
    if (longs[_i].text_n)
        ck_assert_msg(n == longs[_i].text_n, "%s: built %zu bytes", longs[_i].name, n);
    rc = parse_guarded(s, n, 0, &e);
    ck_assert_msg(rc == longs[_i].rc, "%s (n=%zu): rc %d (%s)", longs[_i].name, n, rc,
                  eh_strerror(rc));
    if (rc == 0) {
        ck_assert_int_eq(e.kind, EA_KIND_NAME);
        ck_assert_uint_eq(strlen(e.host), n - 1 - strlen(longs[_i].port));
        ck_assert_mem_eq(e.host, s, strlen(e.host));
    }
}
END_TEST

START_TEST(errors_null_args)
{
    struct ea_endpoint e;
    struct ea_net net;

    ck_assert_int_eq(ea_parse(NULL, 0, 0, &e), EH_ERR_ADDR_EMPTY);
    ck_assert_int_eq(ea_parse(NULL, 3, 0, &e), EH_ERR_INVAL);
    ck_assert_int_eq(ea_parse("a:7", 3, 0, NULL), EH_ERR_INVAL);
    ck_assert_int_eq(ea_parse_net(NULL, 3, &net), EH_ERR_INVAL);
    ck_assert_int_eq(ea_parse_net("::1", 3, NULL), EH_ERR_INVAL);
    ck_assert_int_eq(ea_net_contains(NULL, &e.addr), 0);
    ck_assert_int_eq(ea_equal(NULL, NULL), 0);
}
END_TEST

/* Formatting at every interesting buffer size. */
static const struct {
    const char *name;
    uint8_t family;
    uint8_t ip[16];
    unsigned port;
    uint32_t scope;
    size_t size;
    int rc;
    const char *text; /* buffer contents afterwards */
} fmts[] = {
    {"v4", EA_INET, {192, 0, 2, 1}, 7, 0, EA_FORMAT_MAX, 0, "192.0.2.1:7"},
    {"v4_scope_ignored", EA_INET, {192, 0, 2, 1}, 7, 9, EA_FORMAT_MAX, 0, "192.0.2.1:7"},
    {"v4_longest_exact", EA_INET, {255, 255, 255, 255}, 65535, 0, 22, 0, "255.255.255.255:65535"},
    {"v4_one_short",
     EA_INET,
     {255, 255, 255, 255},
     65535,
     0,
     21,
     EH_ERR_NOSPACE,
     "255.255.255.255:6553"},
    {"v4_size_1", EA_INET, {1, 2, 3, 4}, 7, 0, 1, EH_ERR_NOSPACE, ""},
    {"v4_port0", EA_INET, {0}, 0, 0, EA_FORMAT_MAX, 0, "0.0.0.0:0"},
    {"v6_loopback", EA_INET6, {[15] = 1}, 7, 0, EA_FORMAT_MAX, 0, "[::1]:7"},
    {"v6_scope", EA_INET6, {0xfe, 0x80, [15] = 1}, 7, 2, EA_FORMAT_MAX, 0, "[fe80::1%2]:7"},
    {"v6_longest",
     EA_INET6,
     {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff},
     65535,
     4294967295u,
     EA_FORMAT_MAX,
     0,
     "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535"},
    {"v6_exact", EA_INET6, {[15] = 1}, 7, 0, 8, 0, "[::1]:7"},
    {"v6_one_short", EA_INET6, {[15] = 1}, 7, 0, 7, EH_ERR_NOSPACE, "[::1]:"},
    {"v6_mapped",
     EA_INET6,
     {[10] = 0xff, 0xff, 192, 0, 2, 1},
     7,
     0,
     EA_FORMAT_MAX,
     0,
     "[::ffff:192.0.2.1]:7"},
    {"family_none", EA_NONE, {0}, 7, 0, EA_FORMAT_MAX, EH_ERR_INVAL, ""},
    {"family_5", 5, {0}, 7, 0, EA_FORMAT_MAX, EH_ERR_INVAL, ""},
};

START_TEST(basic_format)
{
    struct ea_addr a;
    char buf[EA_FORMAT_MAX + 8];
    size_t len = 99;
    int rc;

    memset(&a, 0, sizeof a);
    a.family = fmts[_i].family;
    memcpy(a.ip, fmts[_i].ip, 16);
    a.port = (uint16_t)fmts[_i].port;
    a.scope = fmts[_i].scope;
    memset(buf, 'X', sizeof buf);
    rc = ea_format(&a, buf, fmts[_i].size, &len);
    ck_assert_msg(rc == fmts[_i].rc, "%s: rc %d", fmts[_i].name, rc);
    ck_assert_msg(strcmp(buf, fmts[_i].text) == 0, "%s: \"%s\"", fmts[_i].name, buf);
    ck_assert_msg(len == strlen(fmts[_i].text), "%s: len %zu", fmts[_i].name, len);
    /* Nothing is written past size. */
    ck_assert_msg(buf[fmts[_i].size] == 'X', "%s: wrote past size", fmts[_i].name);
}
END_TEST

START_TEST(limits_format_size0)
{
    struct ea_addr a = {.family = EA_INET, .port = 7, .ip = {1, 2, 3, 4}};
    char buf[4] = "XYZ";
    size_t len = 99;

    ck_assert_int_eq(ea_format(&a, buf, 0, &len), EH_ERR_NOSPACE);
    ck_assert_str_eq(buf, "XYZ");
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(ea_format(&a, NULL, 0, &len), EH_ERR_NOSPACE);
    ck_assert_int_eq(ea_format(NULL, buf, sizeof buf, &len), EH_ERR_INVAL);
    ck_assert_int_eq(ea_format(&a, buf, sizeof buf, NULL), EH_ERR_NOSPACE);
}
END_TEST

/* Networks. */
static const struct {
    const char *name;
    const char *s;
    size_t n; /* 0: strlen */
    int rc;
    uint8_t family;
    unsigned prefix;
    uint8_t ip[16];
} nets[] = {
    {"v4_24", "192.0.2.0/24", 0, 0, EA_INET, 24, {192, 0, 2, 0}},
    {"v4_host_bits_masked", "192.0.2.77/24", 0, 0, EA_INET, 24, {192, 0, 2, 0}},
    {"v4_25_masked", "192.0.2.255/25", 0, 0, EA_INET, 25, {192, 0, 2, 128}},
    {"v4_single", "10.0.0.1", 0, 0, EA_INET, 32, {10, 0, 0, 1}},
    {"v4_all", "0.0.0.0/0", 0, 0, EA_INET, 0, {0}},
    {"v4_all_masked", "1.2.3.4/0", 0, 0, EA_INET, 0, {0}},
    {"v4_32", "1.2.3.4/32", 0, 0, EA_INET, 32, {1, 2, 3, 4}},
    {"v6_32", "2001:db8::/32", 0, 0, EA_INET6, 32, {0x20, 0x01, 0x0d, 0xb8}},
    {"v6_single", "2001:db8::1", 0, 0, EA_INET6, 128, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
    {"v6_121_masked",
     "2001:db8::ff/121",
     0,
     0,
     EA_INET6,
     121,
     {0x20, 0x01, 0x0d, 0xb8, [15] = 0x80}},
    {"v6_all", "::/0", 0, 0, EA_INET6, 0, {0}},
    {"v6_128", "::1/128", 0, 0, EA_INET6, 128, {[15] = 1}},
    {"v6_mapped_96", "::ffff:0:0/96", 0, 0, EA_INET6, 96, {[10] = 0xff, 0xff}},
    {"empty", "", 0, EH_ERR_ADDR_EMPTY, 0, 0, {0}},
    {"only_prefix", "/24", 0, EH_ERR_ADDR_EMPTY, 0, 0, {0}},
    {"v4_33", "1.2.3.4/33", 0, EH_ERR_ADDR_BAD_PREFIX, 0, 0, {0}},
    {"v4_slash_only", "1.2.3.4/", 0, EH_ERR_ADDR_BAD_PREFIX, 0, 0, {0}},
    {"v4_negative", "1.2.3.4/-1", 0, EH_ERR_ADDR_BAD_PREFIX, 0, 0, {0}},
    {"v4_alpha", "1.2.3.4/x", 0, EH_ERR_ADDR_BAD_PREFIX, 0, 0, {0}},
    {"v4_leading_zero", "1.2.3.4/024", 0, EH_ERR_ADDR_BAD_PREFIX, 0, 0, {0}},
    {"v4_overlong", "1.2.3.4/00000000000000000024", 0, EH_ERR_ADDR_BAD_PREFIX, 0, 0, {0}},
    {"v4_two_slashes", "1.2.3.4/24/8", 0, EH_ERR_ADDR_BAD_PREFIX, 0, 0, {0}},
    {"v4_space", "1.2.3.4/ 8", 0, EH_ERR_ADDR_BAD_PREFIX, 0, 0, {0}},
    {"v6_129", "::1/129", 0, EH_ERR_ADDR_BAD_PREFIX, 0, 0, {0}},
    {"v6_1000", "2001:db8::/1000", 0, EH_ERR_ADDR_BAD_PREFIX, 0, 0, {0}},
    {"v6_brackets", "[::1]/128", 0, EH_ERR_ADDR_BRACKET, 0, 0, {0}},
    {"v6_scope", "fe80::1%2/64", 0, EH_ERR_ADDR_BAD_V6, 0, 0, {0}},
    {"v6_bad", "1::2::3/64", 0, EH_ERR_ADDR_BAD_V6, 0, 0, {0}},
    {"v4_bad", "256.0.0.0/8", 0, EH_ERR_ADDR_BAD_V4, 0, 0, {0}},
    {"v4_three_parts", "10.0.0/8", 0, EH_ERR_ADDR_BAD_V4, 0, 0, {0}},
    {"name", "localhost/8", 0, EH_ERR_ADDR_BAD_HOST, 0, 0, {0}},
    {"nul", "1.2.3.4\0/8", 10, EH_ERR_ADDR_BAD_HOST, 0, 0, {0}},
    {"one_nul", "\0", 1, EH_ERR_ADDR_BAD_HOST, 0, 0, {0}},
};

START_TEST(basic_net)
{
    struct ea_net net;
    size_t n = nets[_i].n ? nets[_i].n : strlen(nets[_i].s);
    const char *at = (const char *)guard_place(&g, nets[_i].s, n);
    int rc = ea_parse_net(at, n, &net);

    ck_assert_msg(rc == nets[_i].rc, "%s: rc %d (%s)", nets[_i].name, rc, eh_strerror(rc));
    if (rc)
        return;
    ck_assert_msg(net.addr.family == nets[_i].family, "%s: family %d", nets[_i].name,
                  net.addr.family);
    ck_assert_msg(net.prefix == nets[_i].prefix, "%s: prefix %d", nets[_i].name, net.prefix);
    ck_assert_mem_eq(net.addr.ip, nets[_i].ip, net.addr.family == EA_INET ? 4 : 16);
    /* Every prefix of the text is refused with a code or accepted, without over-reads. */
    for (size_t k = 0; k < n; k++) {
        at = (const char *)guard_place(&g, nets[_i].s, k);
        rc = ea_parse_net(at, k, &net);
        REQUIRE(rc == 0 || is_addr_code(rc), "%s[0..%zu): rc %d", nets[_i].name, k, rc);
    }
}
END_TEST

/* Containment: net text, endpoint text (parsed with ea_parse), expected answer. */
static const struct {
    const char *name;
    const char *net, *ep;
    int in;
} contains[] = {
    {"v4_inside", "192.0.2.0/24", "192.0.2.1:7", 1},
    {"v4_outside", "192.0.2.0/24", "192.0.3.1:7", 0},
    {"v4_25_last_in", "192.0.2.0/25", "192.0.2.127:7", 1},
    {"v4_25_first_out", "192.0.2.0/25", "192.0.2.128:7", 0},
    {"v4_9_last_in", "10.0.0.0/9", "10.127.255.255:7", 1},
    {"v4_9_first_out", "10.0.0.0/9", "10.128.0.0:7", 0},
    {"v4_single_in", "10.0.0.1", "10.0.0.1:9", 1},
    {"v4_single_out", "10.0.0.1", "10.0.0.2:9", 0},
    {"v4_all", "0.0.0.0/0", "203.0.113.9:7", 1},
    {"v4_all_not_v6", "0.0.0.0/0", "[2001:db8::1]:7", 0},
    {"v4_net_mapped_in", "192.0.2.0/24", "[::ffff:192.0.2.1]:7", 1},
    {"v4_net_mapped_out", "192.0.2.0/24", "[::ffff:192.0.3.1]:7", 0},
    {"v4_net_compat_not_mapped", "192.0.2.0/24", "[::192.0.2.1]:7", 0},
    {"v6_inside", "2001:db8::/32", "[2001:db8:1::1]:7", 1},
    {"v6_outside", "2001:db8::/32", "[2001:db9::1]:7", 0},
    {"v6_33_last_in", "2001:db8::/33", "[2001:db8:7fff:ffff::1]:7", 1},
    {"v6_33_first_out", "2001:db8::/33", "[2001:db8:8000::]:7", 0},
    {"v6_net_not_v4", "2001:db8::/32", "192.0.2.1:7", 0},
    {"v6_mapped_net_v4", "::ffff:0:0/96", "192.0.2.1:7", 1},
    {"v6_all", "::/0", "[::1]:7", 1},
    {"v6_single_in", "::1", "[::1]:7", 1},
    {"v6_single_out", "::1", "[::2]:7", 0},
    {"v6_scope_ignored", "fe80::/10", "[fe80::1%3]:7", 1},
};

START_TEST(basic_contains)
{
    struct ea_net net;
    struct ea_endpoint e;

    ck_assert_int_eq(ea_parse_net(contains[_i].net, strlen(contains[_i].net), &net), 0);
    ck_assert_int_eq(ea_parse(contains[_i].ep, strlen(contains[_i].ep), 0, &e), 0);
    ck_assert_msg(ea_net_contains(&net, &e.addr) == contains[_i].in, "%s: got %d",
                  contains[_i].name, !contains[_i].in);
}
END_TEST

START_TEST(errors_contains_bad_net)
{
    /* Hand-made nets that no parser would produce: out-of-range prefix or family. */
    struct ea_net net = {.addr = {.family = EA_INET}, .prefix = 33};
    struct ea_addr a = {.family = EA_INET};

    ck_assert_int_eq(ea_net_contains(&net, &a), 0);
    net.addr.family = EA_INET6, net.prefix = 129, a.family = EA_INET6;
    ck_assert_int_eq(ea_net_contains(&net, &a), 0);
    net.addr.family = EA_NONE, net.prefix = 0;
    ck_assert_int_eq(ea_net_contains(&net, &a), 0);
    net.addr.family = EA_INET, a.family = EA_NONE;
    ck_assert_int_eq(ea_net_contains(&net, &a), 0);
}
END_TEST

static const struct {
    const char *name;
    const char *a, *b;
    int eq;
} equals[] = {
    {"v4_same", "192.0.2.1:7", "192.0.2.1:7", 1},
    {"v4_port_differs", "192.0.2.1:7", "192.0.2.1:8", 0},
    {"v4_ip_differs", "192.0.2.1:7", "192.0.2.2:7", 0},
    {"v4_vs_mapped", "192.0.2.1:7", "[::ffff:192.0.2.1]:7", 0},
    {"v6_same_spelled_apart", "[2001:db8::1]:7", "[2001:DB8:0:0:0:0:0:1]:7", 1},
    {"v6_differs", "[2001:db8::1]:7", "[2001:db8::2]:7", 0},
    {"v6_scope_one_side", "[fe80::1%2]:7", "[fe80::1]:7", 1},
    {"v6_scope_same", "[fe80::1%2]:7", "[fe80::1%2]:7", 1},
    {"v6_scope_differs", "[fe80::1%2]:7", "[fe80::1%3]:7", 0},
};

START_TEST(basic_equal)
{
    struct ea_endpoint a, b;

    ck_assert_int_eq(ea_parse(equals[_i].a, strlen(equals[_i].a), 0, &a), 0);
    ck_assert_int_eq(ea_parse(equals[_i].b, strlen(equals[_i].b), 0, &b), 0);
    ck_assert_msg(ea_equal(&a.addr, &b.addr) == equals[_i].eq, "%s", equals[_i].name);
    ck_assert_msg(ea_equal(&b.addr, &a.addr) == equals[_i].eq, "%s (swapped)", equals[_i].name);
}
END_TEST

static const struct {
    const char *name, *text;
    int loopback;
} loops[] = {
    {"v4_127_0_0_1", "127.0.0.1:7", 1},
    {"v4_127_net_edge", "127.255.255.254:7", 1},
    {"v4_126", "126.255.255.255:7", 0},
    {"v4_128", "128.0.0.1:7", 0},
    {"v4_any", "0.0.0.0:7", 0},
    {"v6_loopback", "[::1]:7", 1},
    {"v6_any", "[::]:7", 0},
    {"v6_two", "[::2]:7", 0},
    {"v6_mapped_127", "[::ffff:127.0.0.9]:7", 1},
    {"v6_mapped_other", "[::ffff:10.0.0.1]:7", 0},
    {"v6_compat_127", "[::127.0.0.1]:7", 0},
    {"v6_doc", "[2001:db8::1]:7", 0},
};

START_TEST(basic_loopback)
{
    struct ea_endpoint e;

    ck_assert_int_eq(ea_parse(loops[_i].text, strlen(loops[_i].text), 0, &e), 0);
    ck_assert_msg(ea_is_loopback(&e.addr) == loops[_i].loopback, "%s", loops[_i].name);
}
END_TEST

START_TEST(errors_loopback_none)
{
    struct ea_endpoint e;

    ck_assert_int_eq(ea_is_loopback(NULL), 0);
    ck_assert_int_eq(ea_parse("7", 1, EA_ALLOW_BARE_PORT, &e), 0);
    ck_assert_int_eq(ea_is_loopback(&e.addr), 0); /* a bare port has no address */
}
END_TEST

Suite *ea_suite(void)
{
    Suite *s = suite_create("addr");
    TCase *tc = tcase_create("basic");

    tcase_add_checked_fixture(tc, guard_setup, guard_teardown);
    tcase_add_loop_test(tc, basic_parse, 0, N(good));
    tcase_add_loop_test(tc, basic_round_trip, 0, N(good));
    tcase_add_loop_test(tc, basic_format, 0, N(fmts));
    tcase_add_loop_test(tc, basic_net, 0, N(nets));
    tcase_add_loop_test(tc, basic_contains, 0, N(contains));
    tcase_add_loop_test(tc, basic_equal, 0, N(equals));
    tcase_add_loop_test(tc, basic_loopback, 0, N(loops));
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, guard_setup, guard_teardown);
    tcase_add_loop_test(tc, limits_long, 0, N(longs));
    tcase_add_loop_test(tc, limits_prefixes_good, 0, N(good));
    tcase_add_loop_test(tc, limits_prefixes_bad, 0, N(bad));
    tcase_add_test(tc, limits_format_size0);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, guard_setup, guard_teardown);
    tcase_add_loop_test(tc, errors_parse, 0, N(bad));
    tcase_add_test(tc, errors_null_args);
    tcase_add_test(tc, errors_contains_bad_net);
    tcase_add_test(tc, errors_loopback_none);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return eh_run_suite(ea_suite());
}
