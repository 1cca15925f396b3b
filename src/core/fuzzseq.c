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

/* The generator's slot model as one bit mask of slots per state (bit i: slot i), so picking a
 * slot is two table reads and not a loop over the slots. */
static const uint8_t slots_in_mask[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
static const uint8_t nth_slot[16][FQ_TCP_SLOTS] = {
    {0, 0, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {2, 0, 0, 0}, {0, 2, 0, 0},
    {1, 2, 0, 0}, {0, 1, 2, 0}, {3, 0, 0, 0}, {0, 3, 0, 0}, {1, 3, 0, 0}, {0, 1, 3, 0},
    {2, 3, 0, 0}, {0, 2, 3, 0}, {1, 2, 3, 0}, {0, 1, 2, 3},
};
_Static_assert(FQ_TCP_SLOTS == 4, "slots_in_mask and nth_slot are written for 4 TCP slots");

/* Picks one slot of mask (ascending slot order, uniform); -1 when mask is empty. Draws from r
 * only when there is a slot to pick. */
static int pick_slot(struct rng *r, unsigned mask)
{
    unsigned m = slots_in_mask[mask & 15];

    return m == 0 ? -1 : nth_slot[mask & 15][range(r, 0, m - 1)];
}

/* Relative weights of the ops, as a table from a draw in [0, 102) to its op: 12 connect, 40
 * write, 5 shut, 6 close, 3 reset, 6 pause, 30 send. An op whose slot condition fails is
 * skipped that turn. */
#define OP_DRAWS 102u
static const uint8_t op_of_draw[OP_DRAWS] = {
    FQ_CONNECT, FQ_CONNECT, FQ_CONNECT, FQ_CONNECT, FQ_CONNECT, FQ_CONNECT, /* 12 */
    FQ_CONNECT, FQ_CONNECT, FQ_CONNECT, FQ_CONNECT, FQ_CONNECT, FQ_CONNECT,
    FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, /* 40 */
    FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE,
    FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE,
    FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE,
    FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE, FQ_WRITE,
    FQ_SHUT, FQ_SHUT, FQ_SHUT, FQ_SHUT, FQ_SHUT,                         /* 5 */
    FQ_CLOSE, FQ_CLOSE, FQ_CLOSE, FQ_CLOSE, FQ_CLOSE, FQ_CLOSE,          /* 6 */
    FQ_RESET, FQ_RESET, FQ_RESET,                                        /* 3 */
    FQ_PAUSE, FQ_PAUSE, FQ_PAUSE, FQ_PAUSE, FQ_PAUSE, FQ_PAUSE,          /* 6 */
    FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, /* 30 */
    FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND,
    FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND,
    FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND, FQ_SEND,
};

int fq_generate(struct fq_seq *s, uint64_t seed, const struct fq_gen *g)
{
    /* TCP slots by state (bit i: slot i); all start closed. With no TCP, no slot is in any
     * state, so every TCP op is skipped. */
    unsigned closed = g && g->tcp ? (1u << FQ_TCP_SLOTS) - 1 : 0, open = 0, shut = 0;
    struct rng r = {seed, 0};
    size_t want;

    if (!g || (!g->tcp && !g->udp) || g->max_actions < 1 || g->max_actions > FQ_MAX_ACTIONS ||
        g->max_write < 1 || g->max_write > FQ_MAX_WRITE || g->max_dgram > FQ_MAX_DGRAM ||
        g->max_pause_ms > FQ_MAX_PAUSE)
        return EH_ERR_INVAL;
    /* Only the actions in use are written (a whole sequence is 2 KiB; clearing it cost more
     * than generating a short one). */
    s->seed = seed;
    s->count = 0;
    want = range(&r, (uint32_t)(g->max_actions / 4 + 1), (uint32_t)g->max_actions);
    /* A bounded number of draws: each turn either emits an action or skips an op that does
     * not fit; the connect weight keeps skips rare, the bound keeps it finite regardless. */
    for (size_t turn = 0; s->count < want && turn < 64 * FQ_MAX_ACTIONS; turn++) {
        int op = op_of_draw[range(&r, 0, OP_DRAWS - 1)], slot = 0;
        uint32_t n = 0;

        switch (op) {
        case FQ_CONNECT:
            slot = pick_slot(&r, closed);
            if (slot >= 0)
                closed &= ~(1u << slot), open |= 1u << slot;
            break;
        case FQ_WRITE:
            slot = pick_slot(&r, open);
            n = write_size(&r, g->max_write);
            break;
        case FQ_SHUT:
            slot = pick_slot(&r, open);
            if (slot >= 0)
                open &= ~(1u << slot), shut |= 1u << slot;
            break;
        case FQ_CLOSE:
        case FQ_RESET:
            slot = pick_slot(&r, open | shut);
            if (slot >= 0)
                open &= ~(1u << slot), shut &= ~(1u << slot), closed |= 1u << slot;
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

/* fq_normalize's slot model: for an op and a slot's state, the state after it (bits 0-1),
 * whether the op does something there (K) and whether it does so with no size (F: all but
 * WRITE and PAUSE, which need n > 0). PAUSE and SEND change no slot: their cells keep the
 * state. The last row stands for every op out of range (nothing kept, nothing changed). */
enum { K = 4, F = 8 };
static const uint8_t norm_step[FQ__OP_COUNT + 1][3] = {
    [FQ_CONNECT] = {K | F | ST_OPEN, F | ST_OPEN, F | ST_SHUT},
    [FQ_WRITE] = {ST_CLOSED, K | ST_OPEN, ST_SHUT},
    [FQ_SHUT] = {F | ST_CLOSED, K | F | ST_SHUT, F | ST_SHUT},
    [FQ_CLOSE] = {F | ST_CLOSED, K | F | ST_CLOSED, K | F | ST_CLOSED},
    [FQ_RESET] = {F | ST_CLOSED, K | F | ST_CLOSED, K | F | ST_CLOSED},
    [FQ_PAUSE] = {K | ST_CLOSED, K | ST_OPEN, K | ST_SHUT},
    [FQ_SEND] = {K | F | ST_CLOSED, K | F | ST_OPEN, K | F | ST_SHUT},
    [FQ__OP_COUNT] = {ST_CLOSED, ST_OPEN, ST_SHUT},
};
/* The slots an op may name (an action on a slot past them does nothing): PAUSE names none,
 * so any. */
static const uint16_t norm_slots[FQ__OP_COUNT + 1] = {
    [FQ_CONNECT] = FQ_TCP_SLOTS, [FQ_WRITE] = FQ_TCP_SLOTS, [FQ_SHUT] = FQ_TCP_SLOTS,
    [FQ_CLOSE] = FQ_TCP_SLOTS,   [FQ_RESET] = FQ_TCP_SLOTS, [FQ_PAUSE] = 256,
    [FQ_SEND] = FQ_UDP_SLOTS,    [FQ__OP_COUNT] = 0,
};

struct fq__norm fq__normalize_into(struct fq_action *dst, const struct fq_action *src, size_t n,
                                   unsigned state)
{
    /* The slots' states packed two bits a slot into one word (an array indexed by slot costs a
     * sanitizer-checked stack frame on every call), and the actions walked by pointer. */
    unsigned st = state;
    struct fq_action *out = dst;
    const struct fq_action *end = src + n;

    /* Every action is copied to out and out advances past the ones kept: a table step per
     * action and no branch on the op (a switch on it mispredicted on every change of op). A
     * PAUSE keeps the state of whichever slot its field names; a slot out of range keeps its
     * state (ok = 0). out never passes src, so in place is safe. */
    for (; src < end; src++) {
        const struct fq_action a = *src;
        unsigned op = a.op < FQ__OP_COUNT ? a.op : FQ__OP_COUNT;
        unsigned ok = a.slot < norm_slots[op], sh = 2u * (a.slot & 3u);
        unsigned cur = (st >> sh) & 3, t = norm_step[op][cur];

        st ^= ((cur ^ t) & 3 & (0u - ok)) << sh;
        *out = a;
        out += ok & ((t >> 2) & ((t >> 3) | (a.n != 0)));
    }
    return (struct fq__norm){(size_t)(out - dst), st};
}

void fq_normalize(struct fq_seq *s)
{
    s->count = fq__normalize_into(s->a, s->a, s->count, 0).count;
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
