/*
 * fuzz_ring.c - drives the byte ring (core/ring) with a script of every operation ring.h
 * offers (init, attach, detach, write spans + commit, read spans + consume, push, pop) and
 * checks it against a trivial shadow model: the stream offsets of the bytes that should be
 * held (a FIFO), the storage that should be attached and the capacity. Oracles: every byte read
 * equals the shadow's at the same position; length, free space and capacity agree with the model
 * after every step; every return code is the one the contract in ring.h names; read and write spans
 * lie inside the storage, never overlap each other and together cover it exactly; spans past *count
 * are empty; an emptied ring offers its whole storage as one span.
 *
 * Input: a 4-byte header (cap: 2 bytes, seed, 1 reserved byte so corpora stay valid as the
 * format grows), then 2-byte operations (op in the low 3 bits; a 6-bit size, or with the
 * top bit set a 12-bit one). Payload
 * bytes come from a table at a seed-dependent offset of the stream position, with a period
 * longer than any capacity, so a byte at the wrong offset differs from the expected one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pattern.h"
#include "core/err.h"
#include "core/ring.h"

#define MAX_CAP 4096u
#define MAX_OPS 32u  /* every ring state is a few big ops away; more only costs time */
#define PERIOD 8191u /* prime, > MAX_CAP */

/* Two storage areas; a ring of cap bytes uses the last cap bytes of one, so a write past
 * the ring's end runs into ASan's redzone after the array. */
static uint8_t store_a[MAX_CAP], store_b[MAX_CAP];
static uint8_t out[MAX_CAP];
static uint8_t table[2 * PERIOD];

/* The shadow: the ring should hold the pattern bytes of stream offsets [lo, hi). It is a
 * FIFO of offsets rather than of bytes, so keeping it costs nothing per byte. */
struct model {
    struct rb r;
    uint8_t *storage; /* what the ring should hold as storage, NULL when detached */
    size_t cap;
    uint64_t lo, hi;
    unsigned seed;
    unsigned op_no;
};

/* n <= MAX_CAP < PERIOD pattern bytes from stream offset off, contiguous in the table. */
static const uint8_t *pattern_at(const struct model *m, uint64_t off)
{
    return table + (off + m->seed * 31u) % PERIOD;
}

FUZZ_ORACLE static void fail(const struct model *m, const char *what, size_t off, size_t want,
                             size_t got)
{
    fprintf(stderr,
            "fuzz_ring: op %u: %s at offset %zu: expected %zu, got %zu (cap %zu, held %zu)\n",
            m->op_no, what, off, want, got, m->cap, m->hi - m->lo);
    abort();
}

static size_t held(const struct model *m)
{
    return (size_t)(m->hi - m->lo);
}

/* Forgets what was held (re-init, attach) and records the storage the ring should have. */
static void shadow_reset(struct model *m, uint8_t *storage, size_t cap)
{
    m->storage = storage;
    m->cap = storage ? cap : 0;
    m->lo = m->hi;
}

/* Compares p[0..n) with the shadow from position at; reports the first difference. */
FUZZ_ORACLE static void check_bytes(const struct model *m, const uint8_t *p, size_t n, size_t at)
{
    const uint8_t *want = pattern_at(m, m->lo + at);
    if (n && memcmp(p, want, n) != 0) {
        size_t i = 0;
        while (p[i] == want[i])
            i++;
        fail(m, "held byte", at + i, want[i], p[i]);
    }
}

FUZZ_ORACLE static void check_sizes(const struct model *m)
{
    if (rb_len(&m->r) != held(m))
        fail(m, "rb_len", 0, held(m), rb_len(&m->r));
    if (rb_cap(&m->r) != m->cap)
        fail(m, "rb_cap", 0, m->cap, rb_cap(&m->r));
    if (rb_free(&m->r) != m->cap - held(m))
        fail(m, "rb_free", 0, m->cap - held(m), rb_free(&m->r));
}

/* Checks one span set: count, totals, empty tails, and every span inside the storage. */
FUZZ_ORACLE static void check_spans(const struct model *m, const struct rb_span sp[2], size_t count,
                                    size_t total, size_t want_total, const char *kind)
{
    if (total != want_total)
        fail(m, kind, 0, want_total, total);
    if (count > 2 || (count == 0) != (total == 0))
        fail(m, "span count", 0, total ? 1 : 0, count);
    if (sp[0].n + sp[1].n != total)
        fail(m, "span lengths", 0, total, sp[0].n + sp[1].n);
    for (size_t i = 0; i < 2; i++) {
        if (i >= count) {
            if (sp[i].n != 0 || sp[i].p != NULL)
                fail(m, "span past count not empty", i, 0, sp[i].n);
            continue;
        }
        if (sp[i].n == 0)
            fail(m, "empty span within count", i, 1, 0);
        if (sp[i].p < m->storage || sp[i].p + sp[i].n > m->storage + m->cap)
            fail(m, "span outside storage", i, m->cap, (size_t)(sp[i].p - m->storage));
    }
}

FUZZ_ORACLE static int overlap(const struct rb_span *x, const struct rb_span *y)
{
    return x->n && y->n && x->p < y->p + y->n && y->p < x->p + x->n;
}

/* Reads the spans of both kinds and checks that they partition the storage, and the bytes
 * at both ends of each read span (every byte is compared in full when it leaves, by pop or
 * consume, so a look costs O(1)). Fills rs and ws for the caller. */
FUZZ_ORACLE static void check_layout(const struct model *m, struct rb_span rs[2], size_t *rc,
                                     struct rb_span ws[2], size_t *wc)
{
    size_t rt = rb_read_spans(&m->r, rs, rc), wt = rb_write_spans(&m->r, ws, wc);

    check_spans(m, rs, *rc, rt, held(m), "read span total");
    check_spans(m, ws, *wc, wt, m->cap - held(m), "write span total");
    /* Inside the storage, summing to cap, pairwise disjoint: an exact partition. */
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 2; j++)
            if (overlap(&rs[i], &ws[j]) ||
                (i < j && (overlap(&rs[i], &rs[j]) || overlap(&ws[i], &ws[j]))))
                fail(m, "spans overlap", i, j, 1);
    for (size_t i = 0, at = 0; i < *rc; at += rs[i].n, i++) {
        check_bytes(m, rs[i].p, 1, at);
        check_bytes(m, rs[i].p + rs[i].n - 1, 1, at + rs[i].n - 1);
    }
    /* ring.h: an emptied ring's next fill is one span from the start of storage. */
    if (held(m) == 0 && m->cap && (*wc != 1 || ws[0].p != m->storage))
        fail(m, "empty ring not one span at the start", 0, 1, *wc);
}

static uint8_t *pick_storage(unsigned which, size_t cap)
{
    uint8_t *s = which == 1 ? store_a : which == 2 ? store_b : NULL;
    return s ? s + (MAX_CAP - cap) : NULL;
}

/* Compares the n oldest held bytes, as the read spans show them, with the shadow. */
FUZZ_ORACLE static void check_oldest(const struct model *m, const struct rb_span rs[2], size_t n)
{
    size_t k0 = n < rs[0].n ? n : rs[0].n;
    check_bytes(m, rs[0].p, k0, 0);
    check_bytes(m, rs[1].p, n - k0, k0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct model m;
    struct rb_span rs[2], ws[2];
    size_t rc_n, wc_n, cap, done;

    if (size < 4)
        return 0;
    fuzz_pattern_init(table, PERIOD);
    cap = 1 + ((size_t)data[0] << 8 | data[1]) % MAX_CAP;
    m.seed = data[2];
    m.lo = m.hi = 0;
    m.op_no = 0;
    rb_init(&m.r, pick_storage(1, cap), cap);
    shadow_reset(&m, pick_storage(1, cap), cap);
    data += 4, size -= 4;

    for (; size >= 2 && m.op_no < MAX_OPS; m.op_no++, data += 2, size -= 2) {
        /* Sizes stay small (cheap runs) unless the op's top bit asks for up to 4095 bytes,
         * which reaches the wrap point of large rings. */
        size_t arg =
            data[0] & 0x80 ? (size_t)((data[0] >> 3) & 0xf) << 8 | data[1] : data[1] & 0x3f;
        int rc;

        switch (data[0] & 7) {
        case 0: { /* push arg bytes */
            size_t want = arg < m.cap - held(&m) ? arg : m.cap - held(&m);
            rb_push(&m.r, pattern_at(&m, m.hi), arg, &done);
            if (done != want)
                fail(&m, "push count", 0, want, done);
            m.hi += done;
            break;
        }
        case 1: { /* pop arg bytes */
            size_t want = arg < held(&m) ? arg : held(&m);
            rb_pop(&m.r, out, arg, &done);
            if (done != want)
                fail(&m, "pop count", 0, want, done);
            check_bytes(&m, out, done, 0);
            m.lo += done;
            break;
        }
        case 2: { /* zero-copy fill: write min(arg, free) bytes into the spans, commit arg */
            size_t fill = 0, room = m.cap - held(&m);
            const uint8_t *src = pattern_at(&m, m.hi);
            size_t total = rb_write_spans(&m.r, ws, &wc_n);
            check_spans(&m, ws, wc_n, total, room, "write span total");
            for (size_t i = 0; i < wc_n && fill < arg; i++) {
                size_t k = arg - fill < ws[i].n ? arg - fill : ws[i].n;
                memcpy(ws[i].p, src + fill, k);
                fill += k;
            }
            rc = rb_commit(&m.r, arg);
            if (rc != (arg > room ? EH_ERR_NOSPACE : 0))
                fail(&m, "commit status", 0, arg > room, (size_t)-rc);
            if (rc == 0)
                m.hi += arg;
            break;
        }
        case 3: { /* zero-copy drain: check the bytes leaving through the read spans */
            size_t total = rb_read_spans(&m.r, rs, &rc_n);
            check_spans(&m, rs, rc_n, total, held(&m), "read span total");
            /* The spans borrow until the next mutating call: compare before consuming. */
            check_oldest(&m, rs, arg < total ? arg : total);
            rc = rb_consume(&m.r, arg);
            if (rc != (arg > held(&m) ? EH_ERR_NOSPACE : 0))
                fail(&m, "consume status", 0, arg > held(&m), (size_t)-rc);
            if (rc == 0)
                m.lo += arg;
            break;
        }
        case 4: { /* detach */
            uint8_t *want = m.storage && held(&m) == 0 ? m.storage : NULL;
            uint8_t *got = rb_detach(&m.r);
            if (got != want)
                fail(&m, "detach result", 0, want != NULL, got != NULL);
            if (got)
                shadow_reset(&m, NULL, 0);
            break;
        }
        case 5: { /* attach storage (none, a or b) of arg % (MAX_CAP + 1) bytes, 0 included */
            size_t ncap = arg % (MAX_CAP + 1);
            uint8_t *s = pick_storage((data[0] >> 3) % 3, ncap);
            int want = !s || ncap == 0 ? EH_ERR_INVAL : m.storage ? EH_ERR_STATE : 0;
            rc = rb_attach(&m.r, s, ncap);
            if (rc != want)
                fail(&m, "attach status", 0, (size_t)-want, (size_t)-rc);
            if (rc == 0)
                shadow_reset(&m, s, ncap);
            break;
        }
        case 6: { /* re-init over storage (or none) of arg bytes: everything held is gone */
            size_t ncap = arg % (MAX_CAP + 1);
            uint8_t *s = data[0] & 0x40 ? NULL : pick_storage(1 + ((data[0] >> 3) & 1), ncap);
            rb_init(&m.r, s, ncap);
            shadow_reset(&m, s, ncap);
            break;
        }
        default: /* look only */
            check_layout(&m, rs, &rc_n, ws, &wc_n);
            break;
        }
        check_sizes(&m);
    }

    /* The end: everything held drains in order through pop. */
    check_layout(&m, rs, &rc_n, ws, &wc_n);
    rb_pop(&m.r, out, MAX_CAP, &done);
    if (done != held(&m))
        fail(&m, "final pop count", 0, held(&m), done);
    check_bytes(&m, out, done, 0);
    m.lo += done;
    check_sizes(&m);
    return 0;
}
