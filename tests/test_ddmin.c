/*
 * test_ddmin.c - Check suite for core/ddmin, the network fuzzer's shrinker, driven by
 * simulated servers: a predicate over the sequence stands in for "runs against the server
 * and fails the same way". Checks: the result is the known minimum for each defect, every
 * sequence the machine keeps really failed, the number of runs is bounded, and the step
 * protocol (dd_next / dd_result) is enforced.
 */
#include <check.h>
#include <string.h>

#include "core/ddmin.h"
#include "core/err.h"
#include "suite_main.h"

Suite *eh_suite(void);

/* Bytes written on TCP slot s over the sequence (normalized: only effective writes). */
static uint64_t written(const struct fq_seq *q, unsigned slot)
{
    uint64_t n = 0;
    for (size_t i = 0; i < q->count; i++)
        if (q->a[i].op == FQ_WRITE && q->a[i].slot == slot)
            n += q->a[i].n;
    return n;
}

/* tcp_byteflip: some connection carries more than 70000 bytes. */
static int byteflip(const struct fq_seq *q)
{
    for (unsigned s = 0; s < FQ_TCP_SLOTS; s++)
        if (written(q, s) > 70000)
            return 1;
    return 0;
}

/* udp_ignore_empty: an empty datagram is sent. */
static int empty_dgram(const struct fq_seq *q)
{
    for (size_t i = 0; i < q->count; i++)
        if (q->a[i].op == FQ_SEND && q->a[i].n == 0)
            return 1;
    return 0;
}

/* udp_trunc1024: a datagram of more than 1024 bytes. */
static int big_dgram(const struct fq_seq *q)
{
    for (size_t i = 0; i < q->count; i++)
        if (q->a[i].op == FQ_SEND && q->a[i].n > 1024)
            return 1;
    return 0;
}

/* halfclose_drop: a connection that is shut after bytes were written on it. */
static int halfclose(const struct fq_seq *q)
{
    uint64_t since_connect[FQ_TCP_SLOTS] = {0};

    for (size_t i = 0; i < q->count; i++) {
        const struct fq_action *a = &q->a[i];
        if (a->op == FQ_CONNECT)
            since_connect[a->slot] = 0;
        else if (a->op == FQ_WRITE)
            since_connect[a->slot] += a->n;
        else if (a->op == FQ_SHUT && since_connect[a->slot] > 0)
            return 1;
    }
    return 0;
}

/* one_client: two connections open at once, and bytes on the second. */
static int two_clients(const struct fq_seq *q)
{
    int open[FQ_TCP_SLOTS] = {0}, n_open = 0;
    for (size_t i = 0; i < q->count; i++) {
        const struct fq_action *a = &q->a[i];
        if (a->op == FQ_CONNECT) {
            open[a->slot] = 1;
            n_open++;
        } else if (a->op == FQ_CLOSE || a->op == FQ_RESET) {
            n_open -= open[a->slot];
            open[a->slot] = 0;
        } else if (a->op == FQ_WRITE && n_open >= 2) {
            return 1;
        }
    }
    return 0;
}

static const struct {
    const char *name;
    int (*fails)(const struct fq_seq *q);
    size_t want_count; /* actions in the minimum */
    int want_op;       /* the op of the last action of the minimum */
    uint32_t want_n;   /* and its size */
} cases[] = {
    {"byteflip", byteflip, 2, FQ_WRITE, 70001},
    {"empty datagram", empty_dgram, 1, FQ_SEND, 0},
    {"big datagram", big_dgram, 1, FQ_SEND, 1025},
    {"halfclose", halfclose, 3, FQ_SHUT, 0},
    {"two clients", two_clients, 3, FQ_WRITE, 1},
};

/* Generates failing sequences for the case and shrinks each. */
START_TEST(basic_minimum)
{
    static struct fq_seq q;
    static struct dd_state d;
    struct fq_gen g;
    int shrunk = 0;

    fq_gen_default(&g);
    g.max_actions = 60;
    for (uint64_t seed = 1; seed < 400 && shrunk < 8; seed++) {
        const struct fq_seq *c;
        size_t runs = 0;

        fq_generate(&q, seed, &g);
        if (!cases[_i].fails(&q))
            continue;
        shrunk++;
        dd_init(&d, &q);
        while ((c = dd_next(&d)) != NULL) {
            ck_assert_ptr_eq(dd_next(&d), c); /* the same candidate until its result */
            ck_assert_int_eq(dd_result(&d, cases[_i].fails(c)), 0);
            ck_assert_msg(cases[_i].fails(dd_best(&d)), "%s: kept a passing sequence",
                          cases[_i].name);
            ck_assert_msg(++runs < 2000, "%s: seed %llu: no end", cases[_i].name,
                          (unsigned long long)seed);
        }
        ck_assert_int_eq(dd_result(&d, 1), EH_ERR_STATE);
        ck_assert_msg(dd_best(&d)->count == cases[_i].want_count,
                      "%s: seed %llu: %zu actions from %zu, want %zu", cases[_i].name,
                      (unsigned long long)seed, dd_best(&d)->count, q.count,
                      cases[_i].want_count);
        ck_assert_int_eq(dd_best(&d)->a[dd_best(&d)->count - 1].op, cases[_i].want_op);
        if (cases[_i].want_op != FQ_SHUT)
            ck_assert_uint_eq(dd_best(&d)->a[dd_best(&d)->count - 1].n, cases[_i].want_n);
        ck_assert_uint_eq(dd_best(&d)->seed, q.seed);
        /* These defects do not depend on slot numbers: renumbering starts at 0. */
        ck_assert_uint_eq(dd_best(&d)->a[0].slot, 0);
        ck_assert_uint_eq(d.tests, runs);
    }
    ck_assert_msg(shrunk > 0, "%s: no generated sequence fails", cases[_i].name);
}
END_TEST

/* A sequence that fails regardless shrinks to a single action; one that fails only whole
 * stays whole (every candidate is refused). */
START_TEST(limits_always_and_never)
{
    static struct fq_seq q;
    static struct dd_state d;
    struct fq_gen g;
    const struct fq_seq *c;
    size_t runs = 0;

    fq_gen_default(&g);
    fq_generate(&q, 99, &g);
    dd_init(&d, &q);
    while ((c = dd_next(&d)) != NULL && runs++ < 5000)
        dd_result(&d, 1);
    ck_assert_uint_eq(dd_best(&d)->count, 1);
    dd_init(&d, &q);
    runs = 0;
    while ((c = dd_next(&d)) != NULL && runs++ < 5000) {
        ck_assert_uint_lt(c->count, q.count + 1);
        dd_result(&d, 0);
    }
    ck_assert_ptr_null(c);
    ck_assert_msg(fq_equal(dd_best(&d), &q), "changed without a failing candidate");
    ck_assert_uint_eq(d.failures, 0);
}
END_TEST

START_TEST(limits_empty_and_single)
{
    static struct fq_seq q;
    static struct dd_state d;

    memset(&q, 0, sizeof q);
    dd_init(&d, &q);
    ck_assert_ptr_null(dd_next(&d));
    ck_assert_int_eq(dd_result(&d, 0), EH_ERR_STATE);
    q.count = 1;
    q.a[0] = (struct fq_action){FQ_SEND, 0, 7};
    dd_init(&d, &q);
    /* Only sizes to try: 0 first. */
    ck_assert_ptr_nonnull(dd_next(&d));
    ck_assert_uint_eq(dd_next(&d)->a[0].n, 0);
    dd_result(&d, 1);
    ck_assert_ptr_null(dd_next(&d));
    ck_assert_uint_eq(dd_best(&d)->a[0].n, 0);
}
END_TEST

Suite *eh_suite(void)
{
    Suite *s = suite_create("ddmin");
    TCase *tc = tcase_create("basic");

    tcase_add_loop_test(tc, basic_minimum, 0, (int)(sizeof cases / sizeof cases[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, limits_always_and_never);
    tcase_add_test(tc, limits_empty_and_single);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return eh_run_suite(eh_suite());
}
