/*
 * test_stream.c - Check suite for core/stream: scripted tables (one script per row: each
 * step is a call with its expected return, wants and pending count, while a shadow checks
 * every byte the machine hands out), and a randomized model test of whole connections
 * (peer sends n, socket takes m, EOF, cap changes, storage attach/detach) that checks the
 * oracle of STYLE.md 5: every emitted byte equals the input at its offset, pending never
 * exceeds the cap, es_want() is never 0, and after EOF and drain output == input, then
 * ES_WANT_SHUT_WR, then ES_WANT_CLOSE.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/stream.h"
#include "suite_main.h"

Suite *es_suite(void);

/* Check's ck_assert_* records its location through a pipe on every call (one syscall each),
 * which makes loops of thousands of assertions slow, badly so under ASan. Hot loops use
 * REQUIRE, which costs nothing until it fails. */

#define R ES_WANT_READ
#define W ES_WANT_WRITE
#define S ES_WANT_SHUT_WR
#define C ES_WANT_CLOSE
#define ANY_ERR 1 /* any negative code: the header does not name one */

static uint8_t pat(size_t i)
{
    return (uint8_t)(i * 131u + 7u);
}

/* Spans must add up to the total, stay inside the storage, and be empty past count. */
static void check_spans(const struct es_conn *c, const struct rb_span sp[2], size_t count,
                        size_t total)
{
    REQUIRE(count <= 2, "spans: count %zu", count);
    REQUIRE(sp[0].n + sp[1].n == total, "spans: %zu + %zu != total %zu", sp[0].n, sp[1].n, total);
    for (size_t s = 0; s < 2; s++) {
        if (s >= count) {
            REQUIRE(sp[s].n == 0, "spans: span %zu past count has %zu bytes", s, sp[s].n);
            continue;
        }
        REQUIRE(sp[s].n > 0, "spans: span %zu is empty", s);
        REQUIRE(sp[s].p >= c->pending.buf &&
                    sp[s].p + sp[s].n <= c->pending.buf + rb_cap(&c->pending),
                "spans: span %zu outside the storage", s);
    }
}

enum {
    S_END = 0,
    S_ATTACH, /* a: storage size (0: NULL storage) */
    S_DETACH, /* a: 1 if the storage must come back */
    S_PASS,   /* a: bytes read into scratch, b: bytes the socket already took */
    S_READ,   /* a: bytes read into es_read_spans() */
    S_WRITE,  /* a: bytes the socket took from es_write_spans() */
    S_EOF,
    S_SHUT,
    S_ERROR,
    S_CAP,  /* a: new cap */
    S_ROOM, /* a: expected es_room() */
    S_HOLD,     /* a: bytes the glue moved into its own holding place (es_on_held) */
    S_HOLD_OUT, /* a: held bytes the socket took (es_on_held_written) */
    S_HELD,     /* a: expected es_held() */
};

struct step {
    uint8_t op;
    size_t a, b;
    int rc;
    unsigned want;
    size_t pending;
};

struct scase {
    const char *name;
    size_t cap;
    struct step steps[12];
};

static void run_script(const struct scase *c)
{
    static uint8_t store[256];
    uint8_t scratch[256];
    struct es_conn conn;
    struct rb_span sp[2];
    size_t in = 0, out = 0, count, total;

    es_init(&conn, c->cap);
    for (int k = 0; c->steps[k].op != S_END; k++) {
        const struct step *st = &c->steps[k];
        int rc = 0;

        switch (st->op) {
        case S_ATTACH:
            ck_assert_uint_le(st->a, sizeof store);
            rc = es_attach(&conn, st->a ? store : NULL, st->a);
            break;
        case S_DETACH: {
            uint8_t *got = es_detach(&conn);
            ck_assert_msg(st->a ? got == store : got == NULL, "%s step %d: detach gave %p", c->name,
                          k, (void *)got);
            break;
        }
        case S_PASS:
            for (size_t i = 0; i < st->a; i++)
                scratch[i] = pat(in + i);
            rc = es_passthrough(&conn, scratch, st->a, st->b);
            if (rc == 0) {
                out += st->b; /* the glue wrote p[0..sent) itself */
                in += st->a;
            }
            break;
        case S_READ: {
            size_t fill;
            total = es_read_spans(&conn, sp, &count);
            check_spans(&conn, sp, count, total);
            ck_assert_msg(total <= es_room(&conn), "%s step %d: spans %zu > room %zu", c->name, k,
                          total, es_room(&conn));
            fill = st->a < total ? st->a : total;
            for (size_t s = 0, j = 0; s < count && j < fill; s++)
                for (size_t i = 0; i < sp[s].n && j < fill; i++, j++)
                    sp[s].p[i] = pat(in + j);
            rc = es_on_read(&conn, st->a);
            if (rc == 0) {
                ck_assert_msg(fill == st->a, "%s step %d: script reads past the spans", c->name, k);
                in += st->a;
            }
            break;
        }
        case S_WRITE:
            total = es_write_spans(&conn, sp, &count);
            check_spans(&conn, sp, count, total);
            ck_assert_uint_eq(total, es_pending(&conn));
            for (size_t s = 0, j = 0; s < count; s++)
                for (size_t i = 0; i < sp[s].n; i++, j++)
                    ck_assert_msg(sp[s].p[i] == pat(out + j), "%s step %d: byte %zu", c->name, k,
                                  out + j);
            rc = es_on_written(&conn, st->a);
            if (rc == 0)
                out += st->a;
            break;
        case S_EOF:
            es_on_eof(&conn);
            break;
        case S_SHUT:
            rc = es_on_shut_wr(&conn);
            break;
        case S_ERROR:
            es_on_error(&conn);
            out = in - es_held(&conn); /* ring bytes are abandoned; held ones stay counted */
            break;
        case S_HOLD:
            rc = es_on_held(&conn, st->a);
            if (rc == 0)
                in += st->a;
            break;
        case S_HOLD_OUT:
            rc = es_on_held_written(&conn, st->a);
            if (rc == 0)
                out += st->a;
            break;
        case S_HELD:
            ck_assert_msg(es_held(&conn) == st->a, "%s step %d: held %zu", c->name, k,
                          es_held(&conn));
            break;
        case S_CAP:
            rc = es_set_cap(&conn, st->a);
            break;
        case S_ROOM:
            ck_assert_msg(es_room(&conn) == st->a, "%s step %d: room %zu", c->name, k,
                          es_room(&conn));
            break;
        default:
            ck_abort_msg("bad op");
        }
        if (st->rc == ANY_ERR)
            ck_assert_msg(rc < 0, "%s step %d: rc %d, want an error", c->name, k, rc);
        else
            ck_assert_msg(rc == st->rc, "%s step %d: rc %d, want %d", c->name, k, rc, st->rc);
        if (st->op != S_ROOM && st->op != S_HELD) {
            ck_assert_msg(es_want(&conn) == st->want, "%s step %d: want %#x, expected %#x", c->name,
                          k, es_want(&conn), st->want);
            ck_assert_msg(es_pending(&conn) == st->pending, "%s step %d: pending %zu", c->name, k,
                          es_pending(&conn));
        }
        ck_assert_uint_ne(es_want(&conn), 0);
        ck_assert_uint_le(es_pending(&conn) + es_held(&conn), conn.cap);
        ck_assert_uint_eq(es_pending(&conn) + es_held(&conn), in - out);
        ck_assert(es_pending(&conn) == 0 || es_held(&conn) == 0);
        ck_assert_uint_eq(es_done(&conn), (es_want(&conn) & C) != 0);
    }
}

static const struct scase basic[] = {
    {"fast_path_all_sent",
     8,
     {{S_PASS, 5, 5, 0, R, 0}, {S_EOF, 0, 0, 0, S, 0}, {S_SHUT, 0, 0, 0, C, 0}}},
    {"fast_path_partial_queues",
     8,
     {{S_ATTACH, 8, 0, 0, R, 0},
      {S_PASS, 5, 2, 0, R | W, 3},
      {S_WRITE, 3, 0, 0, R, 0},
      {S_DETACH, 1, 0, 0, R, 0},
      {S_EOF, 0, 0, 0, S, 0},
      {S_SHUT, 0, 0, 0, C, 0}}},
    {"fast_path_zero_bytes", 8, {{S_PASS, 0, 0, 0, R, 0}, {S_ROOM, 8, 0, 0, 0, 0}}},
    {"one_byte",
     8,
     {{S_ATTACH, 8, 0, 0, R, 0},
      {S_READ, 1, 0, 0, R | W, 1},
      {S_WRITE, 1, 0, 0, R, 0},
      {S_EOF, 0, 0, 0, S, 0}}},
    {"zero_copy_fill_to_cap",
     8,
     {{S_ATTACH, 8, 0, 0, R, 0},
      {S_READ, 3, 0, 0, R | W, 3},
      {S_READ, 5, 0, 0, W, 8},
      {S_ROOM, 0, 0, 0, 0, 0},
      {S_WRITE, 2, 0, 0, R | W, 6},
      {S_READ, 2, 0, 0, W, 8},
      {S_WRITE, 8, 0, 0, R, 0},
      {S_EOF, 0, 0, 0, S, 0},
      {S_SHUT, 0, 0, 0, C, 0}}},
    {"wrap_point",
     8,
     {{S_ATTACH, 8, 0, 0, R, 0},
      {S_READ, 6, 0, 0, R | W, 6},
      {S_WRITE, 5, 0, 0, R | W, 1},
      {S_READ, 7, 0, 0, W, 8},
      {S_WRITE, 3, 0, 0, R | W, 5},
      {S_WRITE, 5, 0, 0, R, 0}}},
    {"eof_drains_before_shut",
     8,
     {{S_ATTACH, 8, 0, 0, R, 0},
      {S_READ, 4, 0, 0, R | W, 4},
      {S_EOF, 0, 0, 0, W, 4},
      {S_ROOM, 0, 0, 0, 0, 0},
      {S_WRITE, 1, 0, 0, W, 3},
      {S_WRITE, 3, 0, 0, S, 0},
      {S_SHUT, 0, 0, 0, C, 0},
      {S_DETACH, 1, 0, 0, C, 0}}},
    {"eof_last_byte_pending",
     8,
     {{S_ATTACH, 8, 0, 0, R, 0},
      {S_READ, 2, 0, 0, R | W, 2},
      {S_EOF, 0, 0, 0, W, 2},
      {S_WRITE, 1, 0, 0, W, 1},
      {S_WRITE, 1, 0, 0, S, 0}}},
    {"eof_on_empty", 8, {{S_EOF, 0, 0, 0, S, 0}, {S_ROOM, 0, 0, 0, 0, 0}, {S_SHUT, 0, 0, 0, C, 0}}},
    {"error_abandons_pending",
     8,
     {{S_ATTACH, 8, 0, 0, R, 0},
      {S_READ, 4, 0, 0, R | W, 4},
      {S_ERROR, 0, 0, 0, C, 0},
      {S_ROOM, 0, 0, 0, 0, 0},
      {S_DETACH, 1, 0, 0, C, 0}}},
    {"default_cap", 0, {{S_ROOM, ES_DEFAULT_CAP, 0, 0, 0, 0}, {S_PASS, 0, 0, 0, R, 0}}},
};

/* Held bytes (the splice path): counted like pending bytes for the cap, the wants and the
 * half-close, and never waiting together with ring bytes. */
static const struct scase held[] = {
    {"held_fill_to_cap",
     8,
     {{S_HOLD, 5, 0, 0, R | W, 0},
      {S_ROOM, 3, 0, 0, 0, 0},
      {S_HOLD, 3, 0, 0, W, 0},
      {S_HOLD, 1, 0, EH_ERR_NOSPACE, W, 0},
      {S_HELD, 8, 0, 0, 0, 0},
      {S_HOLD_OUT, 6, 0, 0, R | W, 0},
      {S_HOLD_OUT, 2, 0, 0, R, 0},
      {S_EOF, 0, 0, 0, S, 0},
      {S_SHUT, 0, 0, 0, C, 0}}},
    {"held_eof_drains_before_shut",
     8,
     {{S_HOLD, 4, 0, 0, R | W, 0},
      {S_EOF, 0, 0, 0, W, 0},
      {S_ROOM, 0, 0, 0, 0, 0},
      {S_HOLD, 1, 0, EH_ERR_STATE, W, 0},
      {S_SHUT, 0, 0, EH_ERR_STATE, W, 0},
      {S_HOLD_OUT, 3, 0, 0, W, 0},
      {S_HOLD_OUT, 1, 0, 0, S, 0},
      {S_SHUT, 0, 0, 0, C, 0}}},
    {"held_excludes_fast_and_ring",
     8,
     {{S_HOLD, 2, 0, 0, R | W, 0},
      {S_PASS, 1, 1, EH_ERR_STATE, R | W, 0},
      {S_ATTACH, 8, 0, 0, R | W, 0},
      {S_READ, 1, 0, EH_ERR_STATE, R | W, 0},
      {S_HOLD_OUT, 2, 0, 0, R, 0},
      {S_READ, 1, 0, 0, R | W, 1},
      {S_HOLD, 1, 0, EH_ERR_STATE, R | W, 1},
      {S_WRITE, 1, 0, 0, R, 0},
      {S_HOLD, 1, 0, 0, R | W, 0},
      {S_DETACH, 1, 0, 0, R | W, 0}}},
    {"held_written_beyond",
     8,
     {{S_HOLD, 2, 0, 0, R | W, 0},
      {S_HOLD_OUT, 3, 0, EH_ERR_NOSPACE, R | W, 0},
      {S_HELD, 2, 0, 0, 0, 0},
      {S_HOLD_OUT, 0, 0, 0, R | W, 0}}},
    {"held_error_keeps_count",
     8,
     {{S_HOLD, 3, 0, 0, R | W, 0},
      {S_ERROR, 0, 0, 0, C, 0},
      {S_HELD, 3, 0, 0, 0, 0},
      {S_ROOM, 0, 0, 0, 0, 0},
      {S_HOLD, 1, 0, EH_ERR_STATE, C, 0}}},
    {"held_cap_change",
     8,
     {{S_HOLD, 6, 0, 0, R | W, 0},
      {S_CAP, 5, 0, EH_ERR_NOSPACE, R | W, 0},
      {S_CAP, 6, 0, 0, W, 0},
      {S_HOLD_OUT, 6, 0, 0, R, 0},
      {S_CAP, 1, 0, 0, R, 0},
      {S_HOLD, 2, 0, EH_ERR_NOSPACE, R, 0}}},
};

static const struct scase limits[] = {
    {"read_cap_minus_1_then_cap",
     8,
     {{S_ATTACH, 8, 0, 0, R, 0},
      {S_READ, 7, 0, 0, R | W, 7},
      {S_ROOM, 1, 0, 0, 0, 0},
      {S_READ, 1, 0, 0, W, 8},
      {S_READ, 1, 0, EH_ERR_NOSPACE, W, 8}}},
    {"read_cap_plus_1", 8, {{S_ATTACH, 8, 0, 0, R, 0}, {S_READ, 9, 0, EH_ERR_NOSPACE, R, 0}}},
    {"pass_cap", 8, {{S_PASS, 8, 8, 0, R, 0}, {S_PASS, 9, 9, EH_ERR_NOSPACE, R, 0}}},
    {"pass_cap_all_queued", 8, {{S_ATTACH, 8, 0, 0, R, 0}, {S_PASS, 8, 0, 0, W, 8}}},
    {"cap_1",
     1,
     {{S_ATTACH, 1, 0, 0, R, 0},
      {S_READ, 1, 0, 0, W, 1},
      {S_READ, 1, 0, EH_ERR_NOSPACE, W, 1},
      {S_WRITE, 1, 0, 0, R, 0},
      {S_PASS, 1, 0, 0, W, 1}}},
    {"storage_bigger_than_cap",
     4,
     {{S_ATTACH, 8, 0, 0, R, 0},
      {S_READ, 5, 0, EH_ERR_NOSPACE, R, 0},
      {S_READ, 4, 0, 0, W, 4},
      {S_WRITE, 3, 0, 0, R | W, 1},
      {S_READ, 3, 0, 0, W, 4}}},
    {"set_cap_around_pending",
     8,
     {{S_ATTACH, 8, 0, 0, R, 0},
      {S_READ, 5, 0, 0, R | W, 5},
      {S_CAP, 4, 0, EH_ERR_NOSPACE, R | W, 5},
      {S_CAP, 5, 0, 0, W, 5},
      {S_ROOM, 0, 0, 0, 0, 0},
      {S_CAP, 8, 0, 0, R | W, 5},
      {S_CAP, 9, 0, EH_ERR_INVAL, R | W, 5},
      {S_CAP, 0, 0, EH_ERR_INVAL, R | W, 5}}},
    {"set_cap_without_storage",
     8,
     {{S_CAP, 100, 0, 0, R, 0},
      {S_ROOM, 100, 0, 0, 0, 0},
      {S_ATTACH, 8, 0, EH_ERR_INVAL, R, 0},
      {S_ATTACH, 100, 0, 0, R, 0},
      {S_READ, 100, 0, 0, W, 100}}},
    {"write_more_than_pending",
     8,
     {{S_ATTACH, 8, 0, 0, R, 0},
      {S_READ, 3, 0, 0, R | W, 3},
      {S_WRITE, 4, 0, EH_ERR_NOSPACE, R | W, 3},
      {S_WRITE, 0, 0, 0, R | W, 3}}},
    {"written_on_empty", 8, {{S_WRITE, 0, 0, 0, R, 0}, {S_WRITE, 1, 0, EH_ERR_NOSPACE, R, 0}}},
};

static const struct scase errors[] = {
    {"pass_while_pending",
     8,
     {{S_ATTACH, 8, 0, 0, R, 0},
      {S_PASS, 4, 1, 0, R | W, 3},
      {S_PASS, 1, 1, EH_ERR_STATE, R | W, 3}}},
    {"pass_after_eof", 8, {{S_EOF, 0, 0, 0, S, 0}, {S_PASS, 1, 1, EH_ERR_STATE, S, 0}}},
    {"pass_sent_gt_n", 8, {{S_PASS, 2, 3, EH_ERR_INVAL, R, 0}}},
    {"pass_no_storage", 8, {{S_PASS, 4, 1, EH_ERR_NOSTORAGE, R, 0}, {S_ROOM, 8, 0, 0, 0, 0}}},
    {"read_after_eof",
     8,
     {{S_ATTACH, 8, 0, 0, R, 0}, {S_EOF, 0, 0, 0, S, 0}, {S_READ, 1, 0, EH_ERR_STATE, S, 0}}},
    {"read_without_storage", 8, {{S_READ, 1, 0, ANY_ERR, R, 0}}},
    {"shut_not_asked",
     8,
     {{S_SHUT, 0, 0, EH_ERR_STATE, R, 0},
      {S_ATTACH, 8, 0, 0, R, 0},
      {S_READ, 2, 0, 0, R | W, 2},
      {S_EOF, 0, 0, 0, W, 2},
      {S_SHUT, 0, 0, EH_ERR_STATE, W, 2}}},
    {"shut_twice",
     8,
     {{S_EOF, 0, 0, 0, S, 0}, {S_SHUT, 0, 0, 0, C, 0}, {S_SHUT, 0, 0, EH_ERR_STATE, C, 0}}},
    {"attach_twice", 8, {{S_ATTACH, 8, 0, 0, R, 0}, {S_ATTACH, 8, 0, EH_ERR_STATE, R, 0}}},
    {"attach_null", 8, {{S_ATTACH, 0, 0, EH_ERR_INVAL, R, 0}}},
    {"attach_too_small", 8, {{S_ATTACH, 7, 0, EH_ERR_INVAL, R, 0}}},
    {"detach_pending",
     8,
     {{S_ATTACH, 8, 0, 0, R, 0}, {S_READ, 1, 0, 0, R | W, 1}, {S_DETACH, 0, 0, 0, R | W, 1}}},
    {"detach_nothing", 8, {{S_DETACH, 0, 0, 0, R, 0}}},
    {"eof_idempotent", 8, {{S_EOF, 0, 0, 0, S, 0}, {S_EOF, 0, 0, 0, S, 0}}},
    {"error_after_shut",
     8,
     {{S_EOF, 0, 0, 0, S, 0}, {S_SHUT, 0, 0, 0, C, 0}, {S_ERROR, 0, 0, 0, C, 0}}},
    {"error_then_calls",
     8,
     {{S_ATTACH, 8, 0, 0, R, 0},
      {S_ERROR, 0, 0, 0, C, 0},
      {S_READ, 1, 0, EH_ERR_STATE, C, 0},
      {S_PASS, 1, 1, EH_ERR_STATE, C, 0},
      {S_EOF, 0, 0, 0, C, 0},
      {S_SHUT, 0, 0, EH_ERR_STATE, C, 0}}},
};

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

START_TEST(basic_script)
{
    run_script(&basic[_i]);
}
END_TEST

START_TEST(held_script)
{
    run_script(&held[_i]);
}
END_TEST

START_TEST(limits_script)
{
    run_script(&limits[_i]);
}
END_TEST

START_TEST(errors_script)
{
    run_script(&errors[_i]);
}
END_TEST

START_TEST(limits_init_clamps)
{
    struct es_conn c;

    es_init(&c, 0);
    ck_assert_uint_eq(c.cap, ES_DEFAULT_CAP);
    es_init(&c, 1);
    ck_assert_uint_eq(es_room(&c), 1);
#if SIZE_MAX > UINT32_MAX
    es_init(&c, (size_t)UINT32_MAX + 1);
    ck_assert_uint_eq(c.cap, UINT32_MAX);
    ck_assert_int_eq(es_set_cap(&c, (size_t)UINT32_MAX + 1), EH_ERR_INVAL);
#endif
    ck_assert_uint_eq(es_want(&c), R);
    ck_assert(!es_has_storage(&c));
}
END_TEST

/* Deterministic PRNG (xorshift32): the model test must replay identically. */
static uint32_t rnd(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

#define MODEL_STORE 512
#define MODEL_BYTES (1u << 16)

static const struct {
    const char *name;
    size_t cap;
    uint32_t seed;
    int conns;
} models[] = {
    {"cap1", 1, 0x1234567u, 100},  {"cap2", 2, 0xfeedu, 100},     {"cap7", 7, 0xbeefu, 100},
    {"cap64", 64, 0xc0ffeeu, 100}, {"cap500", 500, 0xabcdu, 100}, {"cap512", 512, 0x5eedu, 100},
};

/* One connection's bytes: what the peer sent and what the machine emitted. */
static uint8_t model_in[MODEL_BYTES], model_out[MODEL_BYTES];

static void model_emit(size_t *out, const uint8_t *p, size_t n, const char *name, int op)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != model_in[*out + i])
            ck_abort_msg("%s op %d: offset %zu: expected %#x, got %#x", name, op, *out + i,
                         model_in[*out + i], p[i]);
        model_out[*out + i] = p[i];
    }
    *out += n;
}

/* In the model test: a failed expectation names the row, the operation and the condition. */
#define EXPECT(cond) REQUIRE(cond, "%s op %d: %s", models[_i].name, op, #cond)

START_TEST(basic_model)
{
    static uint8_t store[MODEL_STORE];
    uint8_t scratch[MODEL_STORE];
    uint32_t seed = models[_i].seed;
    long ops = 0;

    for (int conn_no = 0; conn_no < models[_i].conns; conn_no++) {
        struct es_conn c;
        struct rb_span sp[2];
        size_t in = 0, out = 0, count, total, cap = models[_i].cap;
        int eof = 0, op;

        es_init(&c, cap);
        for (op = 0; op < 100000; op++, ops++) {
            unsigned want = es_want(&c);
            size_t pend = es_pending(&c);
            uint32_t r = rnd(&seed) % 100;

            REQUIRE(want != 0, "%s op %d: wants nothing", models[_i].name, op);
            EXPECT(pend == in - out);
            EXPECT(pend <= c.cap);
            EXPECT(((want & R) != 0) == (!eof && pend < c.cap));
            EXPECT(((want & W) != 0) == (pend > 0));
            EXPECT(((want & S) != 0) == (eof && pend == 0)); /* never shut with bytes queued */
            EXPECT((want & C) == 0);                         /* nothing failed or ended yet */
            if (pend)
                EXPECT(es_has_storage(&c));
            if (eof && pend == 0)
                break;

            if (r < 40 && !eof && in < MODEL_BYTES - MODEL_STORE) {
                /* The peer sends n bytes; the glue reads what fits. */
                size_t room = es_room(&c);
                size_t n = rnd(&seed) % (c.cap + 1);
                for (size_t i = 0; i < n && i < MODEL_STORE; i++)
                    model_in[in + i] = (uint8_t)rnd(&seed);
                if (n > room) {
                    /* More than the room is refused, and nothing changes. */
                    int rc = es_on_read(&c, n);
                    REQUIRE(es_has_storage(&c) ? rc == EH_ERR_NOSPACE : rc < 0,
                            "%s op %d: reading %zu > room %zu gave %d", models[_i].name, op, n,
                            room, rc);
                    REQUIRE(es_pending(&c) == pend, "%s op %d: refused read changed pending",
                            models[_i].name, op);
                    n = room;
                }
                if (pend == 0 && (rnd(&seed) & 1)) {
                    /* Fast path: read into scratch, the socket takes sent at once. */
                    size_t sent = n ? rnd(&seed) % (n + 1) : 0;
                    int rc;
                    memcpy(scratch, model_in + in, n);
                    if (sent < n && !es_has_storage(&c)) {
                        EXPECT(es_passthrough(&c, scratch, n, sent) == EH_ERR_NOSTORAGE);
                        EXPECT(es_pending(&c) == 0);
                        EXPECT(es_attach(&c, store, MODEL_STORE) == 0);
                    }
                    rc = es_passthrough(&c, scratch, n, sent);
                    REQUIRE(rc == 0, "%s op %d: passthrough %d", models[_i].name, op, rc);
                    model_emit(&out, scratch, sent, models[_i].name, op);
                    in += n;
                } else {
                    if (!es_has_storage(&c))
                        EXPECT(es_attach(&c, store, MODEL_STORE) == 0);
                    total = es_read_spans(&c, sp, &count);
                    check_spans(&c, sp, count, total);
                    EXPECT(total == room);
                    for (size_t s = 0, j = 0; s < count && j < n; s++)
                        for (size_t i = 0; i < sp[s].n && j < n; i++, j++)
                            sp[s].p[i] = model_in[in + j];
                    EXPECT(es_on_read(&c, n) == 0);
                    in += n;
                }
            } else if (r < 80) {
                /* The socket takes m of the pending bytes. */
                size_t m = pend ? rnd(&seed) % (pend + 1) : 0;
                size_t left = m;
                total = es_write_spans(&c, sp, &count);
                check_spans(&c, sp, count, total);
                EXPECT(total == pend);
                /* Check every pending byte, emit the m the socket took. */
                for (size_t s = 0, j = 0; s < count; s++)
                    for (size_t i = 0; i < sp[s].n; i++, j++)
                        if (sp[s].p[i] != model_in[out + j])
                            ck_abort_msg("%s op %d: pending offset %zu wrong", models[_i].name, op,
                                         out + j);
                for (size_t s = 0; s < count && left; s++) {
                    size_t k = sp[s].n < left ? sp[s].n : left;
                    model_emit(&out, sp[s].p, k, models[_i].name, op);
                    left -= k;
                }
                EXPECT(es_on_written(&c, m) == 0);
                if (es_pending(&c) == 0 && es_has_storage(&c) && (rnd(&seed) & 1)) {
                    /* The glue returns idle storage to its pool. */
                    EXPECT(es_detach(&c) == store);
                }
            } else if (r < 90) {
                /* Cap change: refused below what is pending or above the storage. */
                size_t ncap = 1 + rnd(&seed) % (MODEL_STORE + 8);
                int rc = es_set_cap(&c, ncap);
                if (es_has_storage(&c) && ncap > MODEL_STORE)
                    EXPECT(rc == EH_ERR_INVAL);
                else if (ncap < pend)
                    EXPECT(rc == EH_ERR_NOSPACE);
                else
                    EXPECT(rc == 0);
                if (rc == 0)
                    EXPECT(c.cap == ncap);
                if (!es_has_storage(&c) && c.cap > MODEL_STORE)
                    EXPECT(es_set_cap(&c, MODEL_STORE) == 0);
            } else if (r < 91) {
                es_on_eof(&c);
                eof = 1;
                EXPECT(es_room(&c) == 0);
            }
        }
        REQUIRE(eof || op == 100000, "%s: connection ended early", models[_i].name);
        if (!eof) {
            es_on_eof(&c);
            eof = 1;
        }
        /* Drain what is left, then the half-close sequence. */
        while (es_pending(&c)) {
            EXPECT(es_want(&c) == W);
            total = es_write_spans(&c, sp, &count);
            model_emit(&out, sp[0].p, sp[0].n, models[_i].name, -1);
            EXPECT(es_on_written(&c, sp[0].n) == 0);
        }
        EXPECT(out == in);
        if (in)
            ck_assert_mem_eq(model_out, model_in, in);
        EXPECT(es_want(&c) == S);
        EXPECT(es_on_shut_wr(&c) == 0);
        EXPECT(es_want(&c) == C);
        EXPECT(es_done(&c));
        if (es_has_storage(&c))
            EXPECT(es_detach(&c) == store);
    }
    REQUIRE(ops > 5000, "%s: only %ld operations", models[_i].name,
            ops); /* thousands of operations per row */
}
END_TEST

Suite *es_suite(void)
{
    Suite *s = suite_create("stream");
    TCase *tc = tcase_create("basic");

    tcase_add_loop_test(tc, basic_script, 0, N(basic));
    tcase_add_loop_test(tc, basic_model, 0, N(models));
    suite_add_tcase(s, tc);
    tc = tcase_create("held");
    tcase_add_loop_test(tc, held_script, 0, N(held));
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_loop_test(tc, limits_script, 0, N(limits));
    tcase_add_test(tc, limits_init_clamps);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_loop_test(tc, errors_script, 0, N(errors));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return eh_run_suite(es_suite());
}
