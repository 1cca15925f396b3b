/*
 * test_ring.c - Check suite for core/ring: span layout at every head/tail position around
 * the wrap point, byte fidelity for all 256 values, commit/consume bounds, attach/detach
 * rules, and a randomized model test against a linear shadow of the byte stream.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/ring.h"
#include "suite_main.h"

Suite *rb_suite(void);

/* Check's ck_assert_* records its location through a pipe on every call (one syscall each),
 * which makes loops of thousands of assertions slow, badly so under ASan. Hot loops use
 * REQUIRE, which costs nothing until it fails. */

/* The byte at stream offset i. 131 is odd, so any 256 consecutive offsets give all 256
 * byte values, NUL included. */
static uint8_t pat(size_t i)
{
    return (uint8_t)(i * 131u + 7u);
}

static void push_pat(struct rb *r, size_t from, size_t n, size_t *done)
{
    uint8_t tmp[512];
    ck_assert_uint_le(n, sizeof tmp);
    for (size_t i = 0; i < n; i++)
        tmp[i] = pat(from + i);
    rb_push(r, tmp, n, done);
}

/* Span layout. Setup: push push1 bytes, consume consume1, push push2 more (so the head
 * sits at consume1 unless the ring emptied). */
static const struct {
    const char *name;
    size_t cap, push1, consume1, push2;
    size_t len, head;
    size_t rcount, r0, r1;
    size_t wcount, w0, w1;
} spans[] = {
    {"empty", 8, 0, 0, 0, 0, 0, 0, 0, 0, 1, 8, 0},
    {"one_byte", 8, 1, 0, 0, 1, 0, 1, 1, 0, 1, 7, 0},
    {"cap_minus_1", 8, 7, 0, 0, 7, 0, 1, 7, 0, 1, 1, 0},
    {"full", 8, 8, 0, 0, 8, 0, 1, 8, 0, 0, 0, 0},
    {"drain_resets_head", 8, 5, 5, 0, 0, 0, 0, 0, 0, 1, 8, 0},
    {"head_mid_free_wraps", 8, 6, 3, 0, 3, 3, 1, 3, 0, 2, 2, 3},
    {"tail_at_wrap_point", 8, 6, 3, 2, 5, 3, 1, 5, 0, 1, 3, 0},
    {"data_one_past_wrap", 8, 6, 3, 3, 6, 3, 2, 5, 1, 1, 2, 0},
    {"wrapped_full", 8, 6, 3, 5, 8, 3, 2, 5, 3, 0, 0, 0},
    {"head_at_last_byte", 8, 8, 7, 1, 2, 7, 2, 1, 1, 1, 6, 0},
    {"cap1_full", 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0},
    {"cap1_refill", 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0},
    {"cap2_wrap", 2, 2, 1, 1, 2, 1, 2, 1, 1, 0, 0, 0},
};

START_TEST(basic_spans)
{
    uint8_t store[8];
    struct rb r;
    struct rb_span sp[2];
    size_t count, done, total, k = 0;

    memset(store, 0xEE, sizeof store);
    rb_init(&r, store, spans[_i].cap);
    push_pat(&r, 0, spans[_i].push1, &done);
    ck_assert_uint_eq(done, spans[_i].push1);
    ck_assert_int_eq(rb_consume(&r, spans[_i].consume1), 0);
    push_pat(&r, spans[_i].push1, spans[_i].push2, &done);
    ck_assert_msg(done == spans[_i].push2, "%s: pushed %zu", spans[_i].name, done);

    ck_assert_msg(rb_len(&r) == spans[_i].len, "%s: len %zu", spans[_i].name, rb_len(&r));
    ck_assert_msg(r.head == spans[_i].head, "%s: head %zu", spans[_i].name, r.head);
    ck_assert_uint_eq(rb_free(&r), spans[_i].cap - spans[_i].len);

    total = rb_read_spans(&r, sp, &count);
    ck_assert_uint_eq(total, spans[_i].len);
    ck_assert_msg(count == spans[_i].rcount && sp[0].n == spans[_i].r0 && sp[1].n == spans[_i].r1,
                  "%s: read spans %zu (%zu,%zu)", spans[_i].name, count, sp[0].n, sp[1].n);
    /* Held bytes are the stream from consume1 on, in order across both spans. */
    for (size_t s = 0; s < count; s++)
        for (size_t i = 0; i < sp[s].n; i++, k++)
            ck_assert_msg(sp[s].p[i] == pat(spans[_i].consume1 + k), "%s: byte %zu", spans[_i].name,
                          k);
    for (size_t s = count; s < 2; s++)
        ck_assert_uint_eq(sp[s].n, 0);

    total = rb_write_spans(&r, sp, &count);
    ck_assert_uint_eq(total, spans[_i].cap - spans[_i].len);
    ck_assert_msg(count == spans[_i].wcount && sp[0].n == spans[_i].w0 && sp[1].n == spans[_i].w1,
                  "%s: write spans %zu (%zu,%zu)", spans[_i].name, count, sp[0].n, sp[1].n);
    /* Free spans must stay inside storage and never overlap held bytes. */
    for (size_t s = 0; s < count; s++) {
        size_t at = (size_t)(sp[s].p - store);
        ck_assert_uint_le(at + sp[s].n, spans[_i].cap);
        for (size_t i = 0; i < sp[s].n; i++) {
            size_t rel = (at + i + spans[_i].cap - r.head) % spans[_i].cap;
            ck_assert_msg(rel >= r.len, "%s: free span overlaps held byte", spans[_i].name);
        }
    }
}
END_TEST

/* Byte fidelity: n bytes of the all-values pattern pass through a ring whose head starts
 * at head (reached by pushing filler and consuming it while data is held). */
static const struct {
    const char *name;
    size_t cap, head, n;
} bytes[] = {
    {"one_nul_byte", 1, 0, 1},
    {"all_256_from_0", 256, 0, 256},
    {"all_256_wrap_at_1", 256, 255, 256},
    {"all_256_wrap_mid", 256, 128, 256},
    {"cap255_wraps", 255, 100, 255},
    {"cap257_wraps", 257, 128, 257},
    {"partial_wrap", 300, 299, 256},
    {"empty", 16, 3, 0},
};

START_TEST(basic_bytes)
{
    uint8_t store[300], in[300], out[300], filler[300] = {0};
    struct rb r;
    size_t done, first, got;

    for (size_t i = 0; i < bytes[_i].n; i++)
        in[i] = pat(i);
    rb_init(&r, store, bytes[_i].cap);
    memset(store, 0xA5, sizeof store);
    first =
        bytes[_i].n < bytes[_i].cap - bytes[_i].head ? bytes[_i].n : bytes[_i].cap - bytes[_i].head;
    rb_push(&r, filler, bytes[_i].head, &done);
    ck_assert_uint_eq(done, bytes[_i].head);
    rb_push(&r, in, first, &done);
    ck_assert_uint_eq(done, first);
    ck_assert_int_eq(rb_consume(&r, bytes[_i].head), 0);
    rb_push(&r, in + first, bytes[_i].n - first, &done);
    ck_assert_msg(done == bytes[_i].n - first, "%s: second push %zu", bytes[_i].name, done);
    ck_assert_uint_eq(rb_len(&r), bytes[_i].n);
    rb_pop(&r, out, sizeof out, &got);
    ck_assert_msg(got == bytes[_i].n, "%s: popped %zu", bytes[_i].name, got);
    if (got)
        ck_assert_mem_eq(out, in, got);
    ck_assert_uint_eq(rb_len(&r), 0);
    ck_assert_uint_eq(r.head, 0);
}
END_TEST

enum { OP_COMMIT, OP_CONSUME, OP_PUSH, OP_POP };

/* Bounds: a ring of cap with held bytes, then one operation of n bytes. */
static const struct {
    const char *name;
    size_t cap, held;
    int op;
    size_t n;
    int rc;      /* for commit/consume */
    size_t done; /* for push/pop */
    size_t len;  /* held afterwards */
} bounds[] = {
    {"commit_zero_on_full", 4, 4, OP_COMMIT, 0, 0, 0, 4},
    {"commit_free", 4, 1, OP_COMMIT, 3, 0, 0, 4},
    {"commit_free_plus_1", 4, 1, OP_COMMIT, 4, EH_ERR_NOSPACE, 0, 1},
    {"commit_huge", 4, 0, OP_COMMIT, (size_t)-1, EH_ERR_NOSPACE, 0, 0},
    {"commit_on_detached", 0, 0, OP_COMMIT, 1, EH_ERR_NOSPACE, 0, 0},
    {"consume_zero_on_empty", 4, 0, OP_CONSUME, 0, 0, 0, 0},
    {"consume_all", 4, 3, OP_CONSUME, 3, 0, 0, 0},
    {"consume_held_plus_1", 4, 3, OP_CONSUME, 4, EH_ERR_NOSPACE, 0, 3},
    {"consume_huge", 4, 3, OP_CONSUME, (size_t)-1, EH_ERR_NOSPACE, 0, 3},
    {"push_cap_minus_1", 4, 0, OP_PUSH, 3, 0, 3, 3},
    {"push_cap", 4, 0, OP_PUSH, 4, 0, 4, 4},
    {"push_cap_plus_1", 4, 0, OP_PUSH, 5, 0, 4, 4},
    {"push_into_full", 4, 4, OP_PUSH, 1, 0, 0, 4},
    {"push_into_detached", 0, 0, OP_PUSH, 1, 0, 0, 0},
    {"pop_more_than_held", 4, 2, OP_POP, 5, 0, 2, 0},
    {"pop_zero", 4, 2, OP_POP, 0, 0, 0, 2},
    {"pop_empty", 4, 0, OP_POP, 3, 0, 0, 0},
};

START_TEST(limits_bounds)
{
    uint8_t store[4], io[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct rb r;
    size_t done = 99;

    rb_init(&r, bounds[_i].cap ? store : NULL, bounds[_i].cap);
    ck_assert_int_eq(rb_commit(&r, bounds[_i].held), 0);
    switch (bounds[_i].op) {
    case OP_COMMIT:
        ck_assert_msg(rb_commit(&r, bounds[_i].n) == bounds[_i].rc, "%s", bounds[_i].name);
        break;
    case OP_CONSUME:
        ck_assert_msg(rb_consume(&r, bounds[_i].n) == bounds[_i].rc, "%s", bounds[_i].name);
        break;
    case OP_PUSH:
        rb_push(&r, io, bounds[_i].n, &done);
        ck_assert_msg(done == bounds[_i].done, "%s: done %zu", bounds[_i].name, done);
        break;
    default:
        rb_pop(&r, io, bounds[_i].n, &done);
        ck_assert_msg(done == bounds[_i].done, "%s: done %zu", bounds[_i].name, done);
        break;
    }
    ck_assert_msg(rb_len(&r) == bounds[_i].len, "%s: len %zu", bounds[_i].name, rb_len(&r));
    ck_assert_uint_le(rb_len(&r), rb_cap(&r));
}
END_TEST

START_TEST(limits_detached)
{
    struct rb r;
    struct rb_span sp[2];
    size_t count = 9;
    uint8_t s;

    /* NULL storage makes a detached ring whatever cap says. */
    rb_init(&r, NULL, 5);
    ck_assert_uint_eq(rb_cap(&r), 0);
    ck_assert_uint_eq(rb_write_spans(&r, sp, &count), 0);
    ck_assert_uint_eq(count, 0);
    ck_assert_ptr_null(sp[0].p);
    ck_assert_uint_eq(rb_read_spans(&r, sp, &count), 0);
    ck_assert_uint_eq(count, 0);
    ck_assert_ptr_null(rb_detach(&r));
    ck_assert_int_eq(rb_attach(&r, &s, 1), 0);
    ck_assert_uint_eq(rb_write_spans(&r, sp, &count), 1);
    ck_assert_ptr_eq(sp[0].p, &s);
}
END_TEST

/* attach / detach. Start: detached, or attached (cap 4) holding held bytes. */
static const struct {
    const char *name;
    int attached;
    size_t held;
    int op; /* 0: attach(storage2 or NULL, cap), 1: detach */
    int null_storage;
    size_t cap;
    int rc;           /* attach */
    int detach_ok;    /* detach returns the storage */
    size_t cap_after; /* rb_cap afterwards */
} att[] = {
    {"attach_null", 0, 0, 0, 1, 4, EH_ERR_INVAL, 0, 0},
    {"attach_cap0", 0, 0, 0, 0, 0, EH_ERR_INVAL, 0, 0},
    {"attach_ok", 0, 0, 0, 0, 4, 0, 0, 4},
    {"attach_twice", 1, 0, 0, 0, 2, EH_ERR_STATE, 0, 4},
    {"attach_twice_null", 1, 0, 0, 1, 2, EH_ERR_INVAL, 0, 4},
    {"detach_empty", 1, 0, 1, 0, 0, 0, 1, 0},
    {"detach_holding", 1, 1, 1, 0, 0, 0, 0, 4},
    {"detach_detached", 0, 0, 1, 0, 0, 0, 0, 0},
};

START_TEST(errors_attach)
{
    uint8_t store[4], store2[4];
    struct rb r;

    rb_init(&r, att[_i].attached ? store : NULL, att[_i].attached ? 4 : 0);
    ck_assert_int_eq(rb_commit(&r, att[_i].held), 0);
    if (att[_i].op == 0) {
        int rc = rb_attach(&r, att[_i].null_storage ? NULL : store2, att[_i].cap);
        ck_assert_msg(rc == att[_i].rc, "%s: rc %d", att[_i].name, rc);
        if (rc == 0)
            ck_assert_ptr_eq(r.buf, store2);
    } else {
        uint8_t *got = rb_detach(&r);
        if (att[_i].detach_ok) {
            ck_assert_msg(got == store, "%s: storage not returned", att[_i].name);
            ck_assert_ptr_null(r.buf);
        } else {
            ck_assert_msg(got == NULL, "%s: returned storage", att[_i].name);
        }
    }
    ck_assert_msg(rb_cap(&r) == att[_i].cap_after, "%s: cap %zu", att[_i].name, rb_cap(&r));
    ck_assert_uint_eq(rb_len(&r), att[_i].held);
}
END_TEST

/* A deterministic PRNG (xorshift32) keeps the model test repeatable. */
static uint32_t rnd(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static const struct {
    const char *name;
    size_t cap;
    uint32_t seed;
} models[] = {
    {"cap1", 1, 1}, {"cap2", 2, 2}, {"cap7", 7, 3}, {"cap64", 64, 4}, {"cap255", 255, 5},
};

START_TEST(basic_model)
{
    uint8_t store[255], tmp[260];
    struct rb r;
    struct rb_span sp[2];
    size_t cap = models[_i].cap, wr = 0, rd = 0, count, done;
    uint32_t seed = models[_i].seed;

    rb_init(&r, store, cap);
    for (int op = 0; op < 20000; op++) {
        size_t k = rnd(&seed) % (cap + 2);
        size_t held = wr - rd;

        switch (rnd(&seed) % 4) {
        case 0: /* zero-copy write: fill the free spans, commit k */
            REQUIRE(rb_write_spans(&r, sp, &count) == cap - held, "%s op %d: free space wrong",
                    models[_i].name, op);
            if (held == 0)
                REQUIRE(count == 1 && sp[0].n == cap, "%s op %d: empty ring not one span",
                        models[_i].name, op);
            for (size_t s = 0, j = 0; s < count; s++)
                for (size_t i = 0; i < sp[s].n; i++, j++)
                    sp[s].p[i] = pat(wr + j);
            if (k > cap - held) {
                REQUIRE(rb_commit(&r, k) == EH_ERR_NOSPACE, "%s op %d: commit %zu", models[_i].name,
                        op, k);
            } else {
                REQUIRE(rb_commit(&r, k) == 0, "%s op %d: commit %zu", models[_i].name, op, k);
                wr += k;
            }
            break;
        case 1: /* zero-copy read: check the held spans, consume k */
            REQUIRE(rb_read_spans(&r, sp, &count) == held, "%s op %d: held", models[_i].name, op);
            for (size_t s = 0, j = 0; s < count; s++)
                for (size_t i = 0; i < sp[s].n; i++, j++)
                    if (sp[s].p[i] != pat(rd + j))
                        ck_abort_msg("%s op %d: byte %zu is %u, want %u", models[_i].name, op,
                                     rd + j, sp[s].p[i], pat(rd + j));
            if (k > held) {
                REQUIRE(rb_consume(&r, k) == EH_ERR_NOSPACE, "%s op %d: consume %zu",
                        models[_i].name, op, k);
            } else {
                REQUIRE(rb_consume(&r, k) == 0, "%s op %d: consume %zu", models[_i].name, op, k);
                rd += k;
            }
            break;
        case 2:
            for (size_t i = 0; i < k; i++)
                tmp[i] = pat(wr + i);
            rb_push(&r, tmp, k, &done);
            REQUIRE(done == (k < cap - held ? k : cap - held), "%s op %d: pushed %zu",
                    models[_i].name, op, done);
            wr += done;
            break;
        default:
            rb_pop(&r, tmp, k, &done);
            REQUIRE(done == (k < held ? k : held), "%s op %d: popped %zu", models[_i].name, op,
                    done);
            for (size_t i = 0; i < done; i++)
                if (tmp[i] != pat(rd + i))
                    ck_abort_msg("%s op %d: popped byte %zu wrong", models[_i].name, op, rd + i);
            rd += done;
            break;
        }
        REQUIRE(rb_len(&r) == wr - rd, "%s op %d: len %zu", models[_i].name, op, rb_len(&r));
        REQUIRE(rb_len(&r) <= cap, "%s op %d: over cap", models[_i].name, op);
        REQUIRE(r.head < cap, "%s op %d: head %zu", models[_i].name, op, r.head);
    }
    ck_assert_uint_gt(rd, 1000); /* the script really moved bytes */
}
END_TEST

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

Suite *rb_suite(void)
{
    Suite *s = suite_create("ring");
    TCase *tc = tcase_create("basic");

    tcase_add_loop_test(tc, basic_spans, 0, N(spans));
    tcase_add_loop_test(tc, basic_bytes, 0, N(bytes));
    tcase_add_loop_test(tc, basic_model, 0, N(models));
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_loop_test(tc, limits_bounds, 0, N(bounds));
    tcase_add_test(tc, limits_detached);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_loop_test(tc, errors_attach, 0, N(att));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return eh_run_suite(rb_suite());
}
