/*
 * test_dgram.c - Check suite for core/dgram: the reply is the request itself (same bytes,
 * same length, empty included, up to 65535), and every drop reason of the policy: port 0,
 * the small-service deny set, broadcast/multicast/unspecified sources (IPv4, IPv6 and
 * IPv4-mapped), and the allow-list. Payloads sit just before a guard page.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/dgram.h"
#include "core/err.h"
#include "guard.h"
#include "suite_main.h"

Suite *ed_suite(void);

static struct guard g;

static void guard_setup(void)
{
    ck_assert_int_eq(guard_init(&g, ED_MAX_DGRAM + 1), 0);
}

static void guard_teardown(void)
{
    guard_free(&g);
}

static uint8_t pat(size_t i)
{
    return (uint8_t)(i * 131u + 7u);
}

enum pol { POL_DEFAULT, POL_CLEARED, POL_DENY_7007, POL_ALLOW_DOC };

static void make_policy(struct ed_policy *pol, int kind)
{
    static const char *const nets[] = {"192.0.2.0/24", "2001:db8::/32"};

    ed_policy_default(pol);
    if (kind == POL_CLEARED)
        ed_policy_clear_deny(pol);
    if (kind == POL_DENY_7007)
        ck_assert_int_eq(ed_policy_deny(pol, 7007), 0);
    if (kind == POL_ALLOW_DOC) {
        for (size_t i = 0; i < 2; i++) {
            struct ea_net net;
            ck_assert_int_eq(ea_parse_net(nets[i], strlen(nets[i]), &net), 0);
            ck_assert_int_eq(ed_policy_allow(pol, &net), 0);
        }
    }
}

static const struct {
    const char *name;
    const char *src; /* parsed with ea_parse(EA_ALLOW_PORT0) */
    int policy;
    size_t n;
    int rc;
    int verdict;
} cases[] = {
    {"v4_reply", "192.0.2.1:40000", POL_DEFAULT, 5, 0, ED_REPLY},
    {"v6_reply", "[2001:db8::1]:40000", POL_DEFAULT, 5, 0, ED_REPLY},
    {"v6_loopback_reply", "[::1]:40000", POL_DEFAULT, 5, 0, ED_REPLY},
    {"empty_gets_empty", "192.0.2.1:40000", POL_DEFAULT, 0, 0, ED_REPLY},
    {"one_byte", "192.0.2.1:40000", POL_DEFAULT, 1, 0, ED_REPLY},
    {"all_256_values", "192.0.2.1:40000", POL_DEFAULT, 256, 0, ED_REPLY},
    {"max_minus_1", "192.0.2.1:40000", POL_DEFAULT, ED_MAX_DGRAM - 1, 0, ED_REPLY},
    {"max", "192.0.2.1:40000", POL_DEFAULT, ED_MAX_DGRAM, 0, ED_REPLY},
    {"max_plus_1", "192.0.2.1:40000", POL_DEFAULT, ED_MAX_DGRAM + 1, EH_ERR_TOO_BIG, 0},
    {"port_1", "192.0.2.1:1", POL_DEFAULT, 3, 0, ED_REPLY},
    {"port_65535", "192.0.2.1:65535", POL_DEFAULT, 3, 0, ED_REPLY},
    {"port0", "192.0.2.1:0", POL_DEFAULT, 3, 0, ED_DROP_PORT0},
    {"port0_v6", "[2001:db8::1]:0", POL_DEFAULT, 3, 0, ED_DROP_PORT0},
    {"port0_empty", "192.0.2.1:0", POL_DEFAULT, 0, 0, ED_DROP_PORT0},
    {"deny_echo_7", "192.0.2.1:7", POL_DEFAULT, 3, 0, ED_DROP_DENIED_PORT},
    {"deny_discard_9", "192.0.2.1:9", POL_DEFAULT, 3, 0, ED_DROP_DENIED_PORT},
    {"deny_daytime_13", "192.0.2.1:13", POL_DEFAULT, 3, 0, ED_DROP_DENIED_PORT},
    {"deny_chargen_19", "[2001:db8::1]:19", POL_DEFAULT, 3, 0, ED_DROP_DENIED_PORT},
    {"deny_time_37", "192.0.2.1:37", POL_DEFAULT, 3, 0, ED_DROP_DENIED_PORT},
    {"port_6_not_denied", "192.0.2.1:6", POL_DEFAULT, 3, 0, ED_REPLY},
    {"port_8_not_denied", "192.0.2.1:8", POL_DEFAULT, 3, 0, ED_REPLY},
    {"cleared_port_7", "192.0.2.1:7", POL_CLEARED, 3, 0, ED_REPLY},
    {"cleared_port0_still", "192.0.2.1:0", POL_CLEARED, 3, 0, ED_DROP_PORT0},
    {"extra_deny_7007", "192.0.2.1:7007", POL_DENY_7007, 3, 0, ED_DROP_DENIED_PORT},
    {"extra_deny_keeps_7", "192.0.2.1:7", POL_DENY_7007, 3, 0, ED_DROP_DENIED_PORT},
    {"limited_broadcast", "255.255.255.255:4000", POL_DEFAULT, 3, 0, ED_DROP_BAD_SOURCE},
    {"v4_unspecified", "0.0.0.0:4000", POL_DEFAULT, 3, 0, ED_DROP_BAD_SOURCE},
    {"v4_multicast_first", "224.0.0.1:4000", POL_DEFAULT, 3, 0, ED_DROP_BAD_SOURCE},
    {"v4_multicast_last", "239.255.255.255:4000", POL_DEFAULT, 3, 0, ED_DROP_BAD_SOURCE},
    {"v4_below_multicast", "223.255.255.255:4000", POL_DEFAULT, 3, 0, ED_REPLY},
    {"v4_above_multicast", "240.0.0.1:4000", POL_DEFAULT, 3, 0, ED_REPLY},
    {"v6_multicast", "[ff02::1]:4000", POL_DEFAULT, 3, 0, ED_DROP_BAD_SOURCE},
    {"v6_unspecified", "[::]:4000", POL_DEFAULT, 3, 0, ED_DROP_BAD_SOURCE},
    {"mapped_multicast", "[::ffff:224.0.0.1]:4000", POL_DEFAULT, 3, 0, ED_DROP_BAD_SOURCE},
    {"mapped_unspecified", "[::ffff:0.0.0.0]:4000", POL_DEFAULT, 3, 0, ED_DROP_BAD_SOURCE},
    {"mapped_broadcast", "[::ffff:255.255.255.255]:4000", POL_DEFAULT, 3, 0, ED_DROP_BAD_SOURCE},
    {"mapped_unicast", "[::ffff:192.0.2.1]:4000", POL_DEFAULT, 3, 0, ED_REPLY},
    {"allow_v4_in", "192.0.2.1:4000", POL_ALLOW_DOC, 3, 0, ED_REPLY},
    {"allow_v4_out", "198.51.100.1:4000", POL_ALLOW_DOC, 3, 0, ED_DROP_NOT_ALLOWED},
    {"allow_v6_in", "[2001:db8::5]:4000", POL_ALLOW_DOC, 3, 0, ED_REPLY},
    {"allow_v6_out", "[2001:db9::1]:4000", POL_ALLOW_DOC, 3, 0, ED_DROP_NOT_ALLOWED},
    {"allow_mapped_in", "[::ffff:192.0.2.9]:4000", POL_ALLOW_DOC, 3, 0, ED_REPLY},
    {"allow_mapped_out", "[::ffff:198.51.100.1]:4000", POL_ALLOW_DOC, 3, 0, ED_DROP_NOT_ALLOWED},
    {"allow_empty_dgram", "192.0.2.1:4000", POL_ALLOW_DOC, 0, 0, ED_REPLY},
};

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

START_TEST(basic_handle)
{
    static uint8_t want[ED_MAX_DGRAM + 1];
    struct ed_policy pol;
    struct ea_endpoint ep;
    struct ed_reply r = {NULL, 12345, 99};
    const uint8_t *p;
    size_t n = cases[_i].n;
    int rc;

    ck_assert_int_eq(ea_parse(cases[_i].src, strlen(cases[_i].src), EA_ALLOW_PORT0, &ep), 0);
    make_policy(&pol, cases[_i].policy);
    for (size_t i = 0; i < n; i++)
        want[i] = pat(i);
    p = guard_place(&g, want, n);
    ck_assert_ptr_nonnull(p);
    rc = ed_handle(&pol, &ep.addr, p, n, &r);
    ck_assert_msg(rc == cases[_i].rc, "%s: rc %d", cases[_i].name, rc);
    if (rc)
        return;
    ck_assert_msg(r.verdict == cases[_i].verdict, "%s: verdict %s, want %s", cases[_i].name,
                  ed_verdict_name(r.verdict), ed_verdict_name(cases[_i].verdict));
    if (r.verdict == ED_REPLY) {
        /* The reply is the request: same bytes, same length, nothing copied. */
        ck_assert_msg(r.n == n, "%s: reply %zu bytes", cases[_i].name, r.n);
        ck_assert_ptr_eq(r.p, p);
        if (n)
            ck_assert_mem_eq(r.p, want, n);
    }
}
END_TEST

START_TEST(basic_default_policy)
{
    static const uint16_t expect[] = {7, 9, 13, 19, 37};
    struct ed_policy pol;

    memset(&pol, 0xAB, sizeof pol); /* ed_policy_default must not rely on zeroed memory */
    ed_policy_default(&pol);
    ck_assert_uint_eq(pol.n_deny, 5);
    ck_assert_uint_eq(pol.n_allow, 0);
    for (size_t i = 0; i < 5; i++) {
        int found = 0;
        for (size_t j = 0; j < pol.n_deny; j++)
            found |= pol.deny[j] == expect[i];
        ck_assert_msg(found, "port %u not denied", expect[i]);
    }
}
END_TEST

START_TEST(limits_deny_set)
{
    struct ed_policy pol;

    ed_policy_default(&pol);
    /* A duplicate is accepted without taking a slot. */
    ck_assert_int_eq(ed_policy_deny(&pol, 7), 0);
    ck_assert_uint_eq(pol.n_deny, 5);
    for (uint16_t port = 1000; pol.n_deny < ED_MAX_DENY; port++)
        ck_assert_int_eq(ed_policy_deny(&pol, port), 0);
    ck_assert_int_eq(ed_policy_deny(&pol, 60000), EH_ERR_NOSPACE);
    ck_assert_uint_eq(pol.n_deny, ED_MAX_DENY);
    ck_assert_int_eq(ed_policy_deny(&pol, 1000), 0); /* already there, even when full */
    ed_policy_clear_deny(&pol);
    ck_assert_uint_eq(pol.n_deny, 0);
    ck_assert_int_eq(ed_policy_deny(&pol, 60000), 0);
}
END_TEST

START_TEST(limits_allow_list)
{
    struct ed_policy pol;
    struct ea_net net;
    struct ea_endpoint ep;
    struct ed_reply r;

    ed_policy_default(&pol);
    ck_assert_int_eq(ea_parse_net("10.0.0.0/8", 10, &net), 0);
    for (int i = 0; i < ED_MAX_ALLOW; i++)
        ck_assert_int_eq(ed_policy_allow(&pol, &net), 0);
    ck_assert_int_eq(ed_policy_allow(&pol, &net), EH_ERR_NOSPACE);
    ck_assert_uint_eq(pol.n_allow, ED_MAX_ALLOW);
    /* The last slot works. */
    ck_assert_int_eq(ea_parse_net("192.0.2.0/24", 12, &pol.allow[ED_MAX_ALLOW - 1]), 0);
    ck_assert_int_eq(ea_parse("192.0.2.1:4000", 14, 0, &ep), 0);
    ck_assert_int_eq(ed_handle(&pol, &ep.addr, (const uint8_t *)"x", 1, &r), 0);
    ck_assert_int_eq(r.verdict, ED_REPLY);
}
END_TEST

START_TEST(errors_args)
{
    struct ed_policy pol;
    struct ea_addr src = {.family = EA_INET, .port = 4000, .ip = {192, 0, 2, 1}};
    struct ed_reply r;
    const uint8_t *p = (const uint8_t *)"abc";

    ed_policy_default(&pol);
    ck_assert_int_eq(ed_handle(&pol, NULL, p, 3, &r), EH_ERR_INVAL);
    ck_assert_int_eq(ed_handle(&pol, &src, p, 3, NULL), EH_ERR_INVAL);
    src.family = EA_NONE;
    ck_assert_int_eq(ed_handle(&pol, &src, p, 3, &r), EH_ERR_INVAL);
    src.family = 5;
    ck_assert_int_eq(ed_handle(&pol, &src, p, 3, &r), EH_ERR_INVAL);
    src.family = EA_INET;
    /* NULL is fine for an empty datagram. */
    ck_assert_int_eq(ed_handle(&pol, &src, NULL, 0, &r), 0);
    ck_assert_int_eq(r.verdict, ED_REPLY);
    ck_assert_uint_eq(r.n, 0);
    ck_assert_int_eq(ed_handle(&pol, &src, p, (size_t)-1, &r), EH_ERR_TOO_BIG);
}
END_TEST

static const struct {
    const char *name;
    int verdict;
    const char *text;
} names[] = {
    {"reply", ED_REPLY, "reply"},
    {"port0", ED_DROP_PORT0, "port0"},
    {"denied", ED_DROP_DENIED_PORT, "denied-port"},
    {"bad_source", ED_DROP_BAD_SOURCE, "bad-source"},
    {"not_allowed", ED_DROP_NOT_ALLOWED, "not-allowed"},
    {"count", ED__VERDICT_COUNT, NULL},
    {"negative", -1, NULL},
};

START_TEST(basic_verdict_names)
{
    const char *t = ed_verdict_name(names[_i].verdict);

    ck_assert_ptr_nonnull(t);
    if (names[_i].text)
        ck_assert_msg(strcmp(t, names[_i].text) == 0, "%s: \"%s\"", names[_i].name, t);
    else
        for (int v = 0; v < ED__VERDICT_COUNT; v++)
            ck_assert_msg(strcmp(t, ed_verdict_name(v)) != 0, "%s: reuses a real name",
                          names[_i].name);
}
END_TEST

Suite *ed_suite(void)
{
    Suite *s = suite_create("dgram");
    TCase *tc = tcase_create("basic");

    tcase_add_checked_fixture(tc, guard_setup, guard_teardown);
    tcase_add_loop_test(tc, basic_handle, 0, N(cases));
    tcase_add_test(tc, basic_default_policy);
    tcase_add_loop_test(tc, basic_verdict_names, 0, N(names));
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, limits_deny_set);
    tcase_add_test(tc, limits_allow_list);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, errors_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return eh_run_suite(ed_suite());
}
