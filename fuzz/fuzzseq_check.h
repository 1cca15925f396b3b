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

/* *d = *s for the actions in use only (a whole struct fq_seq is 2 KiB; copying it several
 * times per run cost more than the code under test). */
FUZZ_ORACLE static inline void fzq_copy(struct fq_seq *d, const struct fq_seq *s)
{
    d->seed = s->seed;
    d->count = s->count;
    memcpy(d->a, s->a, s->count * sizeof s->a[0]);
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
 * only. */
FUZZ_ORACLE_INLINE FUZZ_UNSANITIZED static inline int fzq_ref_keep(unsigned *st,
                                                                 const struct fq_action *a)
{
    unsigned sh, cur, next;
    int keep;

    if (a->op >= FQ__OP_COUNT || (a->op <= FQ_RESET && a->slot >= FQ_TCP_SLOTS) ||
        (a->op == FQ_SEND && a->slot >= FQ_UDP_SLOTS))
        return 0;
    if (a->op == FQ_PAUSE)
        return a->n > 0;
    if (a->op == FQ_SEND)
        return 1;
    sh = 2u * a->slot;
    cur = (*st >> sh) & 3;
    next = cur;
    if (a->op == FQ_CONNECT)
        keep = cur == 0, next = keep ? 1 : cur;
    else if (a->op == FQ_WRITE)
        keep = cur == 1 && a->n > 0;
    else if (a->op == FQ_SHUT)
        keep = cur == 1, next = keep ? 2 : cur;
    else /* FQ_CLOSE, FQ_RESET */
        keep = cur != 0, next = 0;
    *st = (*st & ~(3u << sh)) | next << sh;
    return keep;
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
