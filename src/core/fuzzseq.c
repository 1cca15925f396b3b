/*
 * fuzzseq.c - sequence generation and normalization for the network fuzzer. The generator is
 * a counter-based stream (cv_seed_derive of the seed and a step number), so it keeps no state
 * but a counter and any seed replays the same sequence on any machine. A small model of the
 * slots (closed, open, half-closed) steers it towards actions that do something.
 */
#include "core/fuzzseq.h"

#include <string.h>

#include "core/err.h"
#include "core/verdict.h"

enum { ST_CLOSED = 0, ST_OPEN, ST_SHUT };

struct rng {
    uint64_t seed, k;
};

static uint64_t next(struct rng *r)
{
    return cv_seed_derive(r->seed, r->k++);
}

/* Uniform in [lo, hi] (hi >= lo); the modulo bias is irrelevant at these ranges. */
static uint32_t range(struct rng *r, uint32_t lo, uint32_t hi)
{
    return lo + (uint32_t)(next(r) % ((uint64_t)hi - lo + 1));
}

static uint32_t min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* A write size: mostly small (a byte, a line, a segment), sometimes large enough to cross
 * 64 KiB buffer boundaries. */
static uint32_t write_size(struct rng *r, uint32_t max)
{
    uint32_t p = range(r, 0, 99);

    if (p < 15)
        return range(r, 1, min32(16, max));
    if (p < 55)
        return range(r, 1, min32(1500, max));
    if (p < 85)
        return range(r, 1, min32(16384, max));
    return range(r, 1, max);
}

/* A datagram size: a tenth empty, mostly up to a typical MTU, some up to the limit. */
static uint32_t dgram_size(struct rng *r, uint32_t max)
{
    uint32_t p = range(r, 0, 99);

    if (max == 0 || p < 10)
        return 0;
    if (p < 70)
        return range(r, 1, min32(1472, max));
    if (p < 90)
        return range(r, 1, min32(8192, max));
    return range(r, 1, max);
}

void fq_gen_default(struct fq_gen *g)
{
    memset(g, 0, sizeof *g);
    g->tcp = g->udp = 1;
    g->max_actions = 40;
    g->max_write = 128 * 1024;
    g->max_dgram = FQ_MAX_DGRAM;
    g->max_pause_ms = 50;
}

/* Picks a slot in [0, n) whose state is in mask (bit per state); -1 when none is. */
static int pick_slot(struct rng *r, const uint8_t *st, unsigned n, unsigned mask)
{
    unsigned ok[FQ_TCP_SLOTS], m = 0;

    for (unsigned i = 0; i < n; i++)
        if (mask & (1u << st[i]))
            ok[m++] = i;
    return m == 0 ? -1 : (int)ok[range(r, 0, m - 1)];
}

int fq_generate(struct fq_seq *s, uint64_t seed, const struct fq_gen *g)
{
    /* Relative weights of the ops; an op whose slot condition fails is skipped that turn. */
    static const uint8_t weight[FQ__OP_COUNT] = {
        [FQ_CONNECT] = 12, [FQ_WRITE] = 40, [FQ_SHUT] = 5, [FQ_CLOSE] = 6,
        [FQ_RESET] = 3,    [FQ_PAUSE] = 6,  [FQ_SEND] = 30,
    };
    uint8_t st[FQ_TCP_SLOTS] = {0};
    struct rng r = {seed, 0};
    size_t want;
    unsigned total = 0;

    if (!g || (!g->tcp && !g->udp) || g->max_actions < 1 || g->max_actions > FQ_MAX_ACTIONS ||
        g->max_write < 1 || g->max_write > FQ_MAX_WRITE || g->max_dgram > FQ_MAX_DGRAM ||
        g->max_pause_ms > FQ_MAX_PAUSE)
        return EH_ERR_INVAL;
    memset(s, 0, sizeof *s);
    s->seed = seed;
    want = range(&r, (uint32_t)(g->max_actions / 4 + 1), (uint32_t)g->max_actions);
    /* A bounded number of draws: each turn either emits an action or skips an op that does
     * not fit; the connect weight keeps skips rare, the bound keeps it finite regardless. */
    for (int k = 0; k < FQ__OP_COUNT; k++)
        total += weight[k];
    for (size_t turn = 0; s->count < want && turn < 64 * FQ_MAX_ACTIONS; turn++) {
        unsigned p;
        int op = 0, slot = 0;
        uint32_t n = 0;

        p = range(&r, 0, total - 1);
        while (p >= weight[op])
            p -= weight[op++];
        switch (op) {
        case FQ_CONNECT:
            slot = g->tcp ? pick_slot(&r, st, FQ_TCP_SLOTS, 1u << ST_CLOSED) : -1;
            if (slot >= 0)
                st[slot] = ST_OPEN;
            break;
        case FQ_WRITE:
            slot = g->tcp ? pick_slot(&r, st, FQ_TCP_SLOTS, 1u << ST_OPEN) : -1;
            n = write_size(&r, g->max_write);
            break;
        case FQ_SHUT:
            slot = g->tcp ? pick_slot(&r, st, FQ_TCP_SLOTS, 1u << ST_OPEN) : -1;
            if (slot >= 0)
                st[slot] = ST_SHUT;
            break;
        case FQ_CLOSE:
        case FQ_RESET:
            slot = g->tcp ? pick_slot(&r, st, FQ_TCP_SLOTS, (1u << ST_OPEN) | (1u << ST_SHUT))
                          : -1;
            if (slot >= 0)
                st[slot] = ST_CLOSED;
            break;
        case FQ_PAUSE:
            if (g->max_pause_ms == 0)
                slot = -1;
            else
                n = range(&r, 1, g->max_pause_ms);
            break;
        default: /* FQ_SEND */
            slot = g->udp ? (int)range(&r, 0, FQ_UDP_SLOTS - 1) : -1;
            n = dgram_size(&r, g->max_dgram);
            break;
        }
        if (slot < 0)
            continue;
        s->a[s->count].op = (uint8_t)op;
        s->a[s->count].slot = (uint8_t)slot;
        s->a[s->count].n = n;
        s->count++;
    }
    return 0;
}

void fq_normalize(struct fq_seq *s)
{
    uint8_t st[FQ_TCP_SLOTS] = {0};
    size_t out = 0;

    for (size_t i = 0; i < s->count; i++) {
        const struct fq_action *a = &s->a[i];
        int keep = 0;

        if (a->op != FQ_PAUSE && a->op != FQ_SEND && a->slot >= FQ_TCP_SLOTS)
            continue;
        switch (a->op) {
        case FQ_CONNECT:
            keep = st[a->slot] == ST_CLOSED;
            if (keep)
                st[a->slot] = ST_OPEN;
            break;
        case FQ_WRITE: keep = st[a->slot] == ST_OPEN && a->n > 0; break;
        case FQ_SHUT:
            keep = st[a->slot] == ST_OPEN;
            if (keep)
                st[a->slot] = ST_SHUT;
            break;
        case FQ_CLOSE:
        case FQ_RESET:
            keep = st[a->slot] != ST_CLOSED;
            st[a->slot] = ST_CLOSED;
            break;
        case FQ_PAUSE: keep = a->n > 0; break;
        case FQ_SEND: keep = a->slot < FQ_UDP_SLOTS; break;
        default: keep = 0; break;
        }
        if (keep)
            s->a[out++] = *a;
    }
    s->count = out;
}

int fq_equal(const struct fq_seq *a, const struct fq_seq *b)
{
    if (a->seed != b->seed || a->count != b->count)
        return 0;
    for (size_t i = 0; i < a->count; i++)
        if (a->a[i].op != b->a[i].op || a->a[i].slot != b->a[i].slot || a->a[i].n != b->a[i].n)
            return 0;
    return 1;
}

const char *fq_op_name(int op)
{
    static const char *const names[FQ__OP_COUNT] = {"connect", "write", "shut", "close",
                                                    "reset",   "pause", "send"};

    return op >= 0 && op < FQ__OP_COUNT ? names[op] : "?";
}

uint64_t fq_tcp_seed(uint64_t seed, unsigned s)
{
    return cv_seed_derive(seed, 0x7463700000000000ull + s); /* "tcp" */
}

uint64_t fq_udp_seed(uint64_t seed, unsigned u)
{
    return cv_seed_derive(seed, 0x7564700000000000ull + u); /* "udp" */
}
