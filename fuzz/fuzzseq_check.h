/*
 * fuzzseq_check.h - oracle helpers shared by the targets that drive the network fuzzer's
 * action sequences (core/fuzzseq) and its shrinker (core/ddmin): fuzz_fuzzseq, fuzz_shrink,
 * fuzz_ddmin. A reference for the no-op rules of fuzzseq.h, written from its list and not
 * from fuzzseq.c, and the generator's documented bounds. Local to those targets. None of it is
 * instrumented (FUZZ_ORACLE) and only fq_op_name is called in the core, so an oracle built
 * from these costs the fuzzer no comparison tracing. The per-action ones are not sanitized
 * either (FUZZ_UNSANITIZED): each checks a sequence's count against its array first
 * (fzq_check_count).
 */
#ifndef EH_FUZZ_FUZZSEQ_CHECK_H
#define EH_FUZZ_FUZZSEQ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/fuzzseq.h"

FUZZ_ORACLE static inline void fzq_count_fail(const struct fq_seq *s)
{
    fprintf(stderr, "fuzzseq_check: a sequence holds %zu actions, more than FQ_MAX_ACTIONS\n",
            s->count);
    abort();
}

/* Fails (fzq_count_fail) when s holds more actions than its array: the unsanitized helpers
 * below (FUZZ_UNSANITIZED) check this before reading s->a, so a corrupt count is an oracle
 * failure, not a read past the array. Call it from FUZZ_ORACLE FUZZ_UNSANITIZED functions. */
FUZZ_ORACLE_INLINE FUZZ_UNSANITIZED static inline void fzq_check_count(const struct fq_seq *s)
{
    if (s->count > FQ_MAX_ACTIONS)
        fzq_count_fail(s);
}

/* Keeps the compiler from turning fzq_copy's loop back into a call of memcpy, which ASan
 * intercepts (checking both ranges: a third of fzq_copy's time on short sequences). */
#if defined(__clang__)
#define FZQ_NO_MEMCPY __attribute__((no_builtin("memcpy")))
#else
#define FZQ_NO_MEMCPY
#endif

/* *d = *s for the actions in use only (a whole struct fq_seq is 2 KiB; copying it several
 * times per run cost more than the code under test), action by action. s's count is checked
 * against its array first (fzq_check_count), so an unsanitized copy reads only inside it. */
FUZZ_ORACLE FUZZ_UNSANITIZED FZQ_NO_MEMCPY static inline void fzq_copy(struct fq_seq *d,
                                                                       const struct fq_seq *s)
{
    const struct fq_action *x = s->a, *end;

    fzq_check_count(s);
    end = s->a + s->count;
    d->seed = s->seed;
    d->count = s->count;
    for (struct fq_action *y = d->a; x < end; x++, y++)
        *y = *x;
}

/* The bytes of struct fq_action that hold its fields (not its padding), as a mask over the
 * action read as one 64-bit word. */
FUZZ_ORACLE_INLINE FUZZ_UNSANITIZED static inline uint64_t fzq_field_mask(void)
{
    uint8_t b[sizeof(struct fq_action)] = {0};
    uint64_t m;

    memset(b + offsetof(struct fq_action, op), 0xff, sizeof ((struct fq_action *)0)->op);
    memset(b + offsetof(struct fq_action, slot), 0xff, sizeof ((struct fq_action *)0)->slot);
    memset(b + offsetof(struct fq_action, n), 0xff, sizeof ((struct fq_action *)0)->n);
    memcpy(&m, b, sizeof m);
    return m;
}
_Static_assert(sizeof(struct fq_action) == sizeof(uint64_t), "fzq_same reads an action as a word");

/* Whether a and b hold the same seed and actions, field by field (fq_equal's contract,
 * written again so the oracle does not trust the code under test): each action is read as
 * one word and compared under fzq_field_mask, which is op, slot and n, and nothing else. */
FUZZ_ORACLE FUZZ_UNSANITIZED static inline int fzq_same(const struct fq_seq *a,
                                                         const struct fq_seq *b)
{
    const struct fq_action *x = a->a, *y = b->a, *end = a->a + a->count;
    const uint64_t mask = fzq_field_mask();

    if (a->seed != b->seed || a->count != b->count)
        return 0;
    fzq_check_count(a);
    for (; x < end; x++, y++) {
        uint64_t u, v;
        memcpy(&u, x, sizeof u);
        memcpy(&v, y, sizeof v);
        if ((u ^ v) & mask)
            return 0;
    }
    return 1;
}

/* The no-op rules of fuzzseq.h for one action, slot by slot: closed (0), open (1),
 * half-closed (2), two bits a slot in *st (slot i at bits 2i, 2i + 1). Returns whether the
 * executor would do something; updates *st. Call it from FUZZ_ORACLE FUZZ_UNSANITIZED functions
 * only.
 * Written as a table of fuzzseq.h's list, one row per op and one column per state of the
 * action's slot, so a run takes no branch on the op (a branch per action that the op decided
 * mispredicted on every change of op; the branchy form this replaced gave the same answer for
 * every state word, op, slot and size class, checked exhaustively). A cell holds the slot's
 * state after the op and whether the op does something there (DO), or does only with a size
 * above 0 (DO_N). PAUSE and SEND leave every slot as it is (their cells keep the state). */
FUZZ_ORACLE_INLINE FUZZ_UNSANITIZED static inline int fzq_ref_keep(unsigned *st,
                                                                 const struct fq_action *a)
{
    enum { C = 0, O = 1, H = 2, X = 3, DO = 4, DO_N = 8 };
    /* clang-format off */
    static const uint8_t step[FQ__OP_COUNT][4] = {
        /* the slot:   closed       open         half-closed  (never) */
        [FQ_CONNECT] = {DO | O,      O,           H,           X},
        [FQ_WRITE] = {C,             DO_N | O,    H,           X},
        [FQ_SHUT] = {C,              DO | H,      H,           X},
        [FQ_CLOSE] = {C,             DO | C,      DO | C,      DO | C},
        [FQ_RESET] = {C,             DO | C,      DO | C,      DO | C},
        [FQ_PAUSE] = {DO_N | C,      DO_N | O,    DO_N | H,    DO_N | X},
        [FQ_SEND] = {DO | C,         DO | O,      DO | H,      DO | X},
    };
    /* clang-format on */
    /* The slots an op may name: TCP ones 4, SEND 2, PAUSE any (it names none). */
    static const uint16_t slots[FQ__OP_COUNT] = {
        [FQ_CONNECT] = FQ_TCP_SLOTS, [FQ_WRITE] = FQ_TCP_SLOTS, [FQ_SHUT] = FQ_TCP_SLOTS,
        [FQ_CLOSE] = FQ_TCP_SLOTS,   [FQ_RESET] = FQ_TCP_SLOTS, [FQ_PAUSE] = 256,
        [FQ_SEND] = FQ_UDP_SLOTS,
    };
    unsigned sh, cur, t, ok;

    if (a->op >= FQ__OP_COUNT)
        return 0;
    ok = a->slot < slots[a->op];
    sh = 2u * (a->slot & 3u); /* a slot out of range changes nothing (ok = 0) */
    cur = (*st >> sh) & 3;
    t = step[a->op][cur];
    *st ^= ((cur ^ t) & 3 & (0u - ok)) << sh;
    return (int)(ok & ((t >> 2) | ((t >> 3) & (a->n != 0))) & 1);
}

/* The reference normalizer: in without the actions the executor would treat as no-ops. */
FUZZ_ORACLE FUZZ_UNSANITIZED static inline void fzq_ref_normalize(const struct fq_seq *in,
                                                                  struct fq_seq *out)
{
    unsigned st = 0;

    fzq_check_count(in);
    out->seed = in->seed;
    out->count = 0;
    for (size_t i = 0; i < in->count; i++)
        if (fzq_ref_keep(&st, &in->a[i]))
            out->a[out->count++] = in->a[i];
}

/* Whether s is normal (the reference drops none of its actions): one pass, no copy. */
FUZZ_ORACLE FUZZ_UNSANITIZED static inline int fzq_is_normal(const struct fq_seq *s)
{
    unsigned st = 0;
    const struct fq_action *a = s->a, *end = s->a + s->count;

    fzq_check_count(s);
    for (; a < end; a++)
        if (!fzq_ref_keep(&st, a))
            return 0;
    return 1;
}

/* Whether fq_generate must take g: the ranges fuzzseq.h documents for struct fq_gen. */
FUZZ_ORACLE static inline int fzq_gen_valid(const struct fq_gen *g)
{
    return (g->tcp || g->udp) && g->max_actions >= 1 && g->max_actions <= FQ_MAX_ACTIONS &&
           g->max_write >= 1 && g->max_write <= FQ_MAX_WRITE && g->max_dgram <= FQ_MAX_DGRAM &&
           g->max_pause_ms <= FQ_MAX_PAUSE;
}

/* A sequence generated under g keeps to g: max/4 + 1 .. max actions, only the transports
 * asked for, slots in range, writes 1..max_write, datagrams 0..max_dgram, pauses
 * 1..max_pause on slot 0, no size on the other ops, every op named. Returns NULL, or what is
 * wrong with *at set to the action (the count for a length out of range). */
FUZZ_ORACLE static inline const char *fzq_check_generated(const struct fq_seq *s,
                                                          const struct fq_gen *g, size_t *at)
{
    *at = s->count;
    if (s->count < g->max_actions / 4 + 1 || s->count > g->max_actions)
        return "the generated sequence has a length out of max/4 + 1 .. max";
    for (size_t i = 0; i < s->count; i++) {
        const struct fq_action *a = &s->a[i];
        int ok;
        switch (a->op) {
        case FQ_CONNECT:
        case FQ_SHUT:
        case FQ_CLOSE:
        case FQ_RESET: ok = g->tcp && a->slot < FQ_TCP_SLOTS && a->n == 0; break;
        case FQ_WRITE:
            ok = g->tcp && a->slot < FQ_TCP_SLOTS && a->n >= 1 && a->n <= g->max_write;
            break;
        case FQ_PAUSE: ok = a->slot == 0 && a->n >= 1 && a->n <= g->max_pause_ms; break;
        case FQ_SEND: ok = g->udp && a->slot < FQ_UDP_SLOTS && a->n <= g->max_dgram; break;
        default: ok = 0; break;
        }
        if (!ok || fq_op_name(a->op)[0] == '?') {
            *at = i;
            return "a generated action is outside the limits";
        }
    }
    return NULL;
}

#endif
