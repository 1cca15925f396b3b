/*
 * test_fuzzseq.c - Check suite for core/fuzzseq, the network fuzzer's action sequences: the
 * same seed gives the same sequence and another seed another one; the generator respects its
 * options and emits only actions that do something (normalization leaves it unchanged);
 * normalization drops exactly the no-ops; and cv_stream_extend, which the executor uses to
 * grow a connection's expected echo as it writes.
 */
#include <check.h>
#include <string.h>

#include "core/err.h"
#include "core/fuzzseq.h"
#include "core/verdict.h"
#include "suite_main.h"

Suite *eh_suite(void);

static struct fq_seq a, b;

START_TEST(basic_same_seed_same_sequence)
{
    struct fq_gen g;

    fq_gen_default(&g);
    for (uint64_t seed = 0; seed < 200; seed++) {
        ck_assert_int_eq(fq_generate(&a, seed, &g), 0);
        ck_assert_int_eq(fq_generate(&b, seed, &g), 0);
        ck_assert_msg(fq_equal(&a, &b), "seed %llu: two different sequences",
                      (unsigned long long)seed);
        ck_assert_uint_ge(a.count, g.max_actions / 4 + 1);
        ck_assert_uint_le(a.count, g.max_actions);
    }
}
END_TEST

START_TEST(basic_other_seed_other_sequence)
{
    struct fq_gen g;
    int differ = 0;

    fq_gen_default(&g);
    for (uint64_t seed = 0; seed < 50; seed++) {
        fq_generate(&a, seed, &g);
        fq_generate(&b, seed + 1, &g);
        b.seed = a.seed; /* compare the actions only */
        differ += !fq_equal(&a, &b);
    }
    ck_assert_int_eq(differ, 50);
}
END_TEST

/* A generated sequence is its own normal form: every action does something. */
START_TEST(basic_generated_is_normal)
{
    struct fq_gen g;

    fq_gen_default(&g);
    g.max_actions = FQ_MAX_ACTIONS;
    for (uint64_t seed = 0; seed < 300; seed++) {
        fq_generate(&a, seed, &g);
        b = a;
        fq_normalize(&b);
        ck_assert_msg(fq_equal(&a, &b), "seed %llu: %zu actions, %zu after normalizing",
                      (unsigned long long)seed, a.count, b.count);
    }
}
END_TEST

static const struct {
    const char *name;
    int tcp, udp;
    uint32_t max_write, max_dgram, max_pause;
} opt_cases[] = {
    {"tcp only", 1, 0, 100, 0, 10},
    {"udp only", 0, 1, 1, 512, 0},
    {"both, tiny", 1, 1, 1, 0, 1},
    {"both, large", 1, 1, FQ_MAX_WRITE, FQ_MAX_DGRAM, FQ_MAX_PAUSE},
};

START_TEST(basic_options_respected)
{
    struct fq_gen g;
    int saw_empty = 0, saw_send = 0, saw_write = 0;

    fq_gen_default(&g);
    g.tcp = opt_cases[_i].tcp;
    g.udp = opt_cases[_i].udp;
    g.max_write = opt_cases[_i].max_write;
    g.max_dgram = opt_cases[_i].max_dgram;
    g.max_pause_ms = opt_cases[_i].max_pause;
    for (uint64_t seed = 0; seed < 100; seed++) {
        ck_assert_int_eq(fq_generate(&a, seed, &g), 0);
        for (size_t i = 0; i < a.count; i++) {
            const struct fq_action *x = &a.a[i];
            if (x->op == FQ_SEND) {
                ck_assert_msg(g.udp, "%s: a datagram", opt_cases[_i].name);
                ck_assert_uint_le(x->n, g.max_dgram);
                ck_assert_uint_lt(x->slot, FQ_UDP_SLOTS);
                saw_send = 1;
                saw_empty |= x->n == 0;
            } else if (x->op == FQ_PAUSE) {
                ck_assert_uint_ge(x->n, 1);
                ck_assert_uint_le(x->n, g.max_pause_ms);
            } else {
                ck_assert_msg(g.tcp, "%s: a TCP action", opt_cases[_i].name);
                ck_assert_uint_lt(x->slot, FQ_TCP_SLOTS);
                if (x->op == FQ_WRITE) {
                    ck_assert_uint_ge(x->n, 1);
                    ck_assert_uint_le(x->n, g.max_write);
                    saw_write = 1;
                }
            }
        }
    }
    ck_assert_int_eq(saw_send, g.udp);
    ck_assert_int_eq(saw_write, g.tcp);
    if (g.udp)
        ck_assert_msg(saw_empty, "%s: never an empty datagram", opt_cases[_i].name);
}
END_TEST

START_TEST(errors_bad_options)
{
    struct fq_gen g;

    fq_gen_default(&g);
    g.tcp = g.udp = 0;
    ck_assert_int_eq(fq_generate(&a, 1, &g), EH_ERR_INVAL);
    fq_gen_default(&g);
    g.max_actions = 0;
    ck_assert_int_eq(fq_generate(&a, 1, &g), EH_ERR_INVAL);
    g.max_actions = FQ_MAX_ACTIONS + 1;
    ck_assert_int_eq(fq_generate(&a, 1, &g), EH_ERR_INVAL);
    fq_gen_default(&g);
    g.max_write = 0;
    ck_assert_int_eq(fq_generate(&a, 1, &g), EH_ERR_INVAL);
    fq_gen_default(&g);
    g.max_dgram = FQ_MAX_DGRAM + 1;
    ck_assert_int_eq(fq_generate(&a, 1, &g), EH_ERR_INVAL);
    ck_assert_int_eq(fq_generate(&a, 1, NULL), EH_ERR_INVAL);
}
END_TEST

#define A(op, slot, n) {op, slot, n}

/* Each row: a sequence and what normalization keeps of it. */
static const struct {
    const char *name;
    size_t n_in, n_out;
    struct fq_action in[6], out[6];
} norm_cases[] = {
    {"write without connect", 2, 1, {A(FQ_WRITE, 0, 5), A(FQ_SEND, 1, 0)}, {A(FQ_SEND, 1, 0)}},
    {"connect twice", 3, 2, {A(FQ_CONNECT, 1, 0), A(FQ_CONNECT, 1, 0), A(FQ_WRITE, 1, 3)},
     {A(FQ_CONNECT, 1, 0), A(FQ_WRITE, 1, 3)}},
    {"write after shut", 4, 3,
     {A(FQ_CONNECT, 0, 0), A(FQ_SHUT, 0, 0), A(FQ_WRITE, 0, 9), A(FQ_CLOSE, 0, 0)},
     {A(FQ_CONNECT, 0, 0), A(FQ_SHUT, 0, 0), A(FQ_CLOSE, 0, 0)}},
    {"shut twice, reset closed", 5, 3,
     {A(FQ_CONNECT, 2, 0), A(FQ_SHUT, 2, 0), A(FQ_SHUT, 2, 0), A(FQ_RESET, 2, 0),
      A(FQ_RESET, 2, 0)},
     {A(FQ_CONNECT, 2, 0), A(FQ_SHUT, 2, 0), A(FQ_RESET, 2, 0)}},
    {"zero write and pause", 4, 2,
     {A(FQ_CONNECT, 3, 0), A(FQ_WRITE, 3, 0), A(FQ_PAUSE, 0, 0), A(FQ_SEND, 0, 0)},
     {A(FQ_CONNECT, 3, 0), A(FQ_SEND, 0, 0)}},
    {"reconnect after close", 4, 4,
     {A(FQ_CONNECT, 0, 0), A(FQ_CLOSE, 0, 0), A(FQ_CONNECT, 0, 0), A(FQ_WRITE, 0, 1)},
     {A(FQ_CONNECT, 0, 0), A(FQ_CLOSE, 0, 0), A(FQ_CONNECT, 0, 0), A(FQ_WRITE, 0, 1)}},
    {"slots out of range", 3, 1, {A(FQ_CONNECT, 9, 0), A(FQ_SEND, 2, 4), A(FQ_PAUSE, 0, 7)},
     {A(FQ_PAUSE, 0, 7)}},
    {"empty", 0, 0, {A(0, 0, 0)}, {A(0, 0, 0)}},
};

START_TEST(basic_normalize)
{
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.seed = b.seed = 7;
    a.count = norm_cases[_i].n_in;
    memcpy(a.a, norm_cases[_i].in, sizeof norm_cases[_i].in);
    b.count = norm_cases[_i].n_out;
    memcpy(b.a, norm_cases[_i].out, sizeof norm_cases[_i].out);
    fq_normalize(&a);
    ck_assert_msg(fq_equal(&a, &b), "%s: %zu actions kept, want %zu", norm_cases[_i].name,
                  a.count, b.count);
    fq_normalize(&a); /* idempotent */
    ck_assert_msg(fq_equal(&a, &b), "%s: not idempotent", norm_cases[_i].name);
}
END_TEST

START_TEST(basic_names_and_seeds)
{
    ck_assert_str_eq(fq_op_name(FQ_CONNECT), "connect");
    ck_assert_str_eq(fq_op_name(FQ_SEND), "send");
    ck_assert_str_eq(fq_op_name(FQ__OP_COUNT), "?");
    ck_assert_str_eq(fq_op_name(-1), "?");
    /* Slots and transports have independent payload streams. */
    ck_assert(fq_tcp_seed(1, 0) != fq_tcp_seed(1, 1));
    ck_assert(fq_tcp_seed(1, 0) != fq_udp_seed(1, 0));
    ck_assert(fq_tcp_seed(1, 0) != fq_tcp_seed(2, 0));
    ck_assert(fq_tcp_seed(5, 3) == fq_tcp_seed(5, 3));
}
END_TEST

/* cv_stream_extend: a stream verified while it is being written. */
START_TEST(basic_stream_extend)
{
    struct cv_stream v;
    uint8_t buf[100];

    cv_pattern_fill(42, 0, buf, sizeof buf);
    cv_stream_init_pattern(&v, 42, 0);
    ck_assert_int_eq(cv_stream_status(&v), CV_DONE);
    cv_stream_extend(&v, 60);
    ck_assert_int_eq(cv_stream_status(&v), CV_MORE);
    ck_assert_int_eq(cv_stream_feed(&v, buf, 60), CV_DONE);
    cv_stream_extend(&v, 0);
    ck_assert_int_eq(cv_stream_status(&v), CV_DONE);
    cv_stream_extend(&v, 40);
    ck_assert_int_eq(cv_stream_feed(&v, buf + 60, 39), CV_MORE);
    ck_assert_int_eq(cv_stream_feed(&v, buf + 99, 1), CV_DONE);
    /* Bytes before they are sent are extra, and stay so when the stream grows. */
    ck_assert_int_eq(cv_stream_feed(&v, buf, 1), CV_EXTRA);
    cv_stream_extend(&v, 10);
    ck_assert_int_eq(cv_stream_status(&v), CV_EXTRA);
}
END_TEST

Suite *eh_suite(void)
{
    Suite *s = suite_create("fuzzseq");
    TCase *tc = tcase_create("basic");

    tcase_add_test(tc, basic_same_seed_same_sequence);
    tcase_add_test(tc, basic_other_seed_other_sequence);
    tcase_add_test(tc, basic_generated_is_normal);
    tcase_add_loop_test(tc, basic_options_respected, 0,
                        (int)(sizeof opt_cases / sizeof opt_cases[0]));
    tcase_add_loop_test(tc, basic_normalize, 0, (int)(sizeof norm_cases / sizeof norm_cases[0]));
    tcase_add_test(tc, basic_names_and_seeds);
    tcase_add_test(tc, basic_stream_extend);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, errors_bad_options);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return eh_run_suite(eh_suite());
}
