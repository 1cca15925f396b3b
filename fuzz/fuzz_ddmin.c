/*
 * fuzz_ddmin.c - drives the shrinker of echo-conform's network fuzzer (core/ddmin) with a
 * failure predicate and a failing start sequence taken from the input. The predicate stands
 * in for "the server still fails": a formula (all of, any of, or c0 or (c1 and c2)) over one
 * to three culprit clauses, each "at least need actions with this op and slot (and size >=
 * min)". The last form lets a merge satisfy c0 where ddmin kept c1 and c2's actions, so the
 * later phases have something to remove.
 * Oracles:
 * - every candidate is normal (checked against fuzzseq_check.h's reference, not
 *   fq_normalize), non-empty, and in the ddmin phase shorter than the best; dd_next() before
 *   dd_result() hands out the same candidate;
 * - the best is always exactly a sequence that failed: a shadow kept here (the normalized
 *   start, then each candidate reported failing) equals dd_best() after every result; the
 *   final one fails, is no longer than the ddmin result, and dd_result() with no candidate out
 *   is refused;
 * - the ddmin result is a subsequence of the normalized start and 1-minimal: removing any one
 *   action (then normalizing) leaves nothing or a sequence that passes. (When the predicate is
 *   monotone over its subsequences this is minimality too: a smaller failing subsequence
 *   would make some one-action removal fail. An earlier brute force over all subsets of
 *   results up to 8 actions could therefore only fire after this check had, and cost up to
 *   256 normalizations a run; it was dropped.)
 * - the predicate calls stay within Zeller and Hildebrandt's worst case n^2 + 3n for ddmin
 *   over n actions, 2n for merging, 34 per action for the size searches (0, 1, then halving a
 *   32-bit interval) and one renumbering; the machine's counters equal the calls made.
 *
 * Input: 1 byte mode (bits 0-1 clause count - 1, bit 2 any-of, bit 3 generated start, bit 4
 * c0 or (c1 and c2), bit 5 long: starts of up to MAX_START actions, not MAX_SHORT, bit 6
 * wide: sizes of 2 bytes, not 1), 3 clauses of 4 bytes (op, slot, min size 2 bytes, the high
 * one used when wide; op bit 7: need 2), then either a generator seed (8 bytes) and length
 * byte (sizes up to 255 unless wide), or raw actions of 4 bytes (op, slot, size 2 bytes, the
 * high one used when wide). A start that does not fail gets the clauses' culprits appended.
 * A run tries at most BUDGET_BASE + BUDGET_PER_BYTE * (size - HEADER) candidates; one
 * stopped there is checked as far as it got (every candidate, the best, and the ddmin
 * result if that phase ended); the checks of a finished run need a long enough input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzzseq_check.h"
#include "core/ddmin.h"
#include "core/err.h"
#include "core/fuzzseq.h"

/* Actions in a start. ddmin is quadratic and the size searches take ~17 candidates per
 * sized action, so a start of 24 costs ~40 times one of 4: long starts on flag only (mode bit
 * 5), short ones otherwise, so the fuzzer decides when a run may be that expensive. */
#define MAX_START 24
#define MAX_SHORT 6
/* Candidates a run may try: BUDGET_BASE + BUDGET_PER_BYTE per input byte past the header, so a
 * run's work grows with its input as the minimal echo target's does. One per byte (it was two):
 * about a third of runs stopped at the budget, and a fifth less CPU per run over a fixed corpus;
 * fuzz_ddmin.options' max_len of 512 (it was 256) keeps the most a run may try as it was
 * (507 candidates, enough for most shrinks of a long start to end). */
#define BUDGET_BASE 8
#define BUDGET_PER_BYTE 1
#define HEADER 13

struct clause {
    uint8_t op, slot, need;
    uint32_t min;
};

struct pred {
    int count, any, mixed; /* mixed: c0 or (c1 and c2) */
    struct clause c[3];
    /* The clauses as fails_normal() matches them, set once a run by pred_keys(): a key per
     * clause (op and slot in one value, or one no action has for a clause not in use) and a
     * least size (0, which every action has, for an op without one). Worked out per candidate
     * they cost three calls of sized(), instrumented and traced, each time: a sixth of a run. */
    uint32_t k0, k1, k2, m0, m1, m2;
};

FUZZ_ORACLE static void fail(const char *what, size_t value)
{
    fprintf(stderr, "fuzz_ddmin: %s (%zu)\n", what, value);
    abort();
}

static int sized(int op)
{
    return op == FQ_WRITE || op == FQ_SEND || op == FQ_PAUSE;
}

#define KEY(p, k) ((k) < (p)->count ? (uint32_t)(p)->c[k].op << 8 | (p)->c[k].slot : 0x10000u)
#define MIN(p, k) (sized((p)->c[k].op) ? (p)->c[k].min : 0)

/* Sets the keys and least sizes of p's clauses (struct pred). */
static void pred_keys(struct pred *p)
{
    p->k0 = KEY(p, 0), p->k1 = KEY(p, 1), p->k2 = KEY(p, 2);
    p->m0 = MIN(p, 0), p->m1 = MIN(p, 1), p->m2 = MIN(p, 2);
}

/* Whether s fails: the clauses, all or any of them, or c0 or (c1 and c2); and in *normal
 * whether the reference normalizer keeps every action of s (fzq_is_normal), found in the same
 * pass. The clauses are in scalars (arrays here went through ASan's checked stack on every
 * action) and each action is read once, whole. */
FUZZ_ORACLE FUZZ_UNSANITIZED static int fails_normal(const struct pred *p, const struct fq_seq *s,
                                                     int *normal)
{
    /* An action as one number, its key above its size: it matches clause k when it lies in
     * [key_k << 32 | min_k, key_k << 32 | 0xffffffff], one subtraction and compare. The
     * three counts share a word, 21 bits each (a sequence holds at most 256 actions). */
    const uint64_t lo0 = (uint64_t)p->k0 << 32 | p->m0, span0 = 0xffffffffu - p->m0;
    const uint64_t lo1 = (uint64_t)p->k1 << 32 | p->m1, span1 = 0xffffffffu - p->m1;
    const uint64_t lo2 = (uint64_t)p->k2 << 32 | p->m2, span2 = 0xffffffffu - p->m2;
    const struct fq_action *a = s->a, *end = s->a + s->count;
    uint64_t h = 0;
    unsigned st = 0, h0, h1, h2;
    int f0, f1, f2, norm = 1;

    for (; a < end; a++) {
        const struct fq_action x = *a;
        uint64_t v = (uint64_t)((uint32_t)x.op << 8 | x.slot) << 32 | x.n;
        norm &= fzq_ref_keep(&st, &x);
        h += (uint64_t)(v - lo0 <= span0) | (uint64_t)(v - lo1 <= span1) << 21 |
             (uint64_t)(v - lo2 <= span2) << 42;
    }
    *normal = norm;
    h0 = (unsigned)(h & 0x1fffff), h1 = (unsigned)(h >> 21 & 0x1fffff), h2 = (unsigned)(h >> 42);
    f0 = p->count > 0 && h0 >= p->c[0].need;
    f1 = p->count > 1 && h1 >= p->c[1].need;
    f2 = p->count > 2 && h2 >= p->c[2].need;
    if (p->mixed)
        return f0 || (f1 && f2);
    if (p->any)
        return f0 || f1 || f2;
    return f0 && (p->count < 2 || f1) && (p->count < 3 || f2);
}

/* Whether s fails. */
FUZZ_ORACLE FUZZ_UNSANITIZED static int fails(const struct pred *p, const struct fq_seq *s)
{
    int normal;

    return fails_normal(p, s, &normal);
}

/* s without action drop, normalized by the reference. */
FUZZ_ORACLE FUZZ_UNSANITIZED static void without(const struct fq_seq *s, size_t drop,
                                                struct fq_seq *out)
{
    unsigned st = 0;

    out->seed = s->seed;
    out->count = 0;
    for (size_t i = 0; i < s->count; i++)
        if (i != drop && fzq_ref_keep(&st, &s->a[i]))
            out->a[out->count++] = s->a[i];
}

FUZZ_ORACLE FUZZ_UNSANITIZED static int is_subsequence(const struct fq_seq *small,
                                                       const struct fq_seq *big)
{
    size_t j = 0;

    for (size_t i = 0; i < big->count && j < small->count; i++)
        j += big->a[i].op == small->a[j].op && big->a[i].slot == small->a[j].slot &&
             big->a[i].n == small->a[j].n;
    return j == small->count;
}

/* The ddmin result: a subsequence of the start, and 1-minimal. */
FUZZ_ORACLE FUZZ_UNSANITIZED static void check_ddmin_result(const struct pred *p,
                                                            const struct fq_seq *b,
                                                            const struct fq_seq *start)
{
    static struct fq_seq t;

    if (!is_subsequence(b, start))
        fail("the ddmin result is not a subsequence of the start", b->count);
    for (size_t i = 0; i < b->count; i++) {
        without(b, i, &t);
        if (t.count > 0 && fails(p, &t))
            fail("the ddmin result is not 1-minimal: this action can go", i);
    }
}

static struct dd_state d;
static struct fq_seq start, norm, a_result, shadow;

/* Appends the actions that make clause c hold: a fresh connection for the TCP ops. */
static void plant(struct fq_seq *s, const struct clause *c)
{
    for (unsigned k = 0; k < c->need && s->count + 3 <= FQ_MAX_ACTIONS; k++) {
        struct fq_action *a = &s->a[s->count];
        if (c->op != FQ_PAUSE && c->op != FQ_SEND) {
            a[0] = (struct fq_action){FQ_RESET, c->slot, 0};
            a[1] = (struct fq_action){FQ_CONNECT, c->slot, 0};
            s->count += 2;
            a += 2;
            if (c->op == FQ_CONNECT)
                continue;
        }
        *a = (struct fq_action){c->op, c->slot, sized(c->op) ? (c->min ? c->min : 1) : 0};
        s->count++;
    }
}

/* Shrinks start (normalized: norm) against p with at most budget candidates, checking every
 * step, then the result of each phase reached. */
FUZZ_ORACLE FUZZ_UNSANITIZED static void shrink(const struct pred *p, size_t budget)
{
    const struct fq_seq *cand;
    size_t calls = 0, a_calls = 0, bound, len = norm.count;
    int seen_a = 0;

    dd_init(&d, &start);
    fzq_copy(&shadow, &norm);
    if (!fzq_same(dd_best(&d), &shadow))
        fail("dd_init did not start from the start as the reference normalizes it", d.best.count);
    while (calls < budget && (cand = dd_next(&d)) != NULL) {
        int failed, normal;
        if (!seen_a && d.phase != DD_ACTIONS) {
            seen_a = 1;
            fzq_copy(&a_result, &d.best);
            a_calls = calls;
        }
        if (dd_next(&d) != cand)
            fail("dd_next handed out a second candidate before dd_result", calls);
        /* The candidate is d's (ddmin.h) and holds no more actions than its array: the
         * unsanitized checks below read it in full. */
        if ((const char *)cand < (const char *)&d ||
            (const char *)(cand + 1) > (const char *)(&d + 1))
            fail("dd_next handed out a candidate outside the machine", calls);
        fzq_check_count(cand);
        failed = fails_normal(p, cand, &normal);
        if (cand->count == 0 || !normal)
            fail("a candidate is empty or not normalized", cand->count);
        if (d.phase == DD_ACTIONS && cand->count >= d.best.count)
            fail("a ddmin candidate is not shorter than the best", cand->count);
        if (failed) /* the shadow: the best is now exactly this candidate */
            fzq_copy(&shadow, cand);
        if (dd_result(&d, failed) != 0)
            fail("dd_result refused the result of a candidate", calls);
        calls++;
        /* The shadow only ever holds the start or a candidate that failed, so this is "the
         * best always fails", and "it changes only when a candidate failed". */
        if (!fzq_same(dd_best(&d), &shadow))
            fail(failed ? "a failing candidate did not become the best"
                        : "the best changed on a passing candidate",
                 calls);
        /* The bounds below, checked as the run goes and not only at its end: a machine that
         * never finishes its ddmin phase (or the next) is caught within the budget. */
        if (d.phase == DD_ACTIONS && calls > len * len + 3 * len)
            fail("ddmin made more than n^2 + 3n tests", calls);
        if (calls > len * len + 39 * len + 1)
            fail("the shrinker made more tests than its phases allow", calls);
    }
    if (calls >= budget && dd_next(&d) != NULL) {
        /* Stopped with a candidate out, as echo-conform stops at --shrink-runs: the best so
         * far failed (the shadow says so), and the ddmin result, if that phase ended, holds
         * its properties. */
        if (d.tests != calls)
            fail("the machine's counters differ from the calls made", d.tests);
        if (seen_a) {
            if (a_calls > len * len + 3 * len)
                fail("ddmin made more than n^2 + 3n tests", a_calls);
            check_ddmin_result(p, &a_result, &norm);
        }
        return;
    }
    if (!seen_a) {
        fzq_copy(&a_result, &d.best);
        a_calls = calls;
    }

    bound = len * len + 3 * len;
    if (a_calls > bound)
        fail("ddmin made more than n^2 + 3n tests", a_calls);
    bound += 2 * len + 34 * len + 1;
    if (calls > bound)
        fail("the shrinker made more tests than its phases allow", calls);
    if (d.tests != calls || d.failures > calls)
        fail("the machine's counters differ from the calls made", d.tests);
    if (dd_next(&d) != NULL || dd_result(&d, 1) != EH_ERR_STATE)
        fail("a finished machine handed out a candidate or took a result", calls);
    if (!fails(p, dd_best(&d)) || dd_best(&d)->count > a_result.count ||
        dd_best(&d)->count == 0)
        fail("the final sequence does not fail, or is longer than the ddmin result",
             dd_best(&d)->count);
    check_ddmin_result(p, &a_result, &norm);
}

/* The raw actions of the input into start, at most max_start. Uninstrumented like the
 * oracle: its only branches are the loop's, and its compares (and UBSan's per action) were
 * traced on every action of every run. */
FUZZ_ORACLE static void decode_raw(const uint8_t *data, size_t size, size_t max_start, int wide)
{
    start.seed = size;
    for (size_t off = HEADER; off + 4 <= size && start.count < max_start; off += 4) {
        struct fq_action *a = &start.a[start.count++];
        a->op = data[off] % FQ__OP_COUNT;
        a->slot = data[off + 1] % FQ_TCP_SLOTS;
        a->n = (uint32_t)(data[off + 2] | (wide ? data[off + 3] << 8 : 0));
        if (a->op == FQ_PAUSE)
            a->n %= FQ_MAX_PAUSE + 1;
    }
}

/* The predicate in the input's header into p. Uninstrumented like the oracle: its branches
 * (an op and slot per clause, decoded by masks and remainders) run in every run, were a third
 * of the edges a run hit, and the core's edges show the clauses' effect on the shrink. */
FUZZ_ORACLE static void decode_pred(const uint8_t *data, int wide, struct pred *p)
{
    memset(p, 0, sizeof *p);
    p->count = 1 + (data[0] & 3) % 3;
    p->any = (data[0] >> 2) & 1;
    p->mixed = (data[0] >> 4) & 1;
    if (p->mixed)
        p->count = 3;
    for (int k = 0; k < 3; k++) {
        const uint8_t *c = data + 1 + 4 * k;
        p->c[k].op = (uint8_t)((c[0] & 0x7f) % FQ__OP_COUNT);
        p->c[k].slot = p->c[k].op == FQ_PAUSE ? 0
                       : p->c[k].op == FQ_SEND ? c[1] % FQ_UDP_SLOTS
                                               : c[1] % FQ_TCP_SLOTS;
        p->c[k].min = (uint32_t)(c[2] | (wide ? c[3] << 8 : 0));
        if (p->c[k].op == FQ_PAUSE && p->c[k].min > FQ_MAX_PAUSE)
            p->c[k].min %= FQ_MAX_PAUSE + 1;
        p->c[k].need = c[0] & 0x80 ? 2 : 1;
    }
    pred_keys(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pred p;
    size_t max_start;
    int wide;

    if (size < HEADER)
        return 0;
    /* Sizes up to 16 bits on flag only: each sized action in the result costs a binary
     * search, ~17 candidates over 16 bits and ~10 over 8. */
    wide = (data[0] >> 6) & 1;
    decode_pred(data, wide, &p);

    max_start = data[0] & 32 ? MAX_START : MAX_SHORT;
    start.seed = 0;
    start.count = 0;
    if (data[0] & 8) {
        struct fq_gen g;
        uint64_t seed = 0;
        if (size < HEADER + 9)
            return 0;
        for (int i = 0; i < 8; i++)
            seed = seed << 8 | data[HEADER + i];
        fq_gen_default(&g);
        g.max_actions = 1 + data[HEADER + 8] % max_start;
        g.max_write = wide ? 70000 : 255;
        g.max_dgram = wide ? g.max_dgram : 255;
        g.max_pause_ms = wide ? 300 : 255;
        if (fq_generate(&start, seed, &g) != 0)
            fail("fq_generate refused the default limits", 0);
    } else {
        decode_raw(data, size, max_start, wide);
    }
    /* The start normalized by the reference, not by fq_normalize: dd_init's own normalizing
     * is then checked against an independent model (shrink), and a run makes one call of the
     * core's normalizer fewer. */
    fzq_ref_normalize(&start, &norm);
    if (!fails(&p, &norm)) {
        for (int k = 0; k < p.count; k++)
            plant(&start, &p.c[k]);
        fzq_ref_normalize(&start, &norm);
        if (!fails(&p, &norm))
            fail("the planted culprits do not make the start fail", norm.count);
    }
    /* Candidates this run may try: the work of a run grows with its input's length, as the
     * minimal echo target's does, so the fuzzer pays for a long shrink with a long input. */
    shrink(&p, BUDGET_BASE + BUDGET_PER_BYTE * (size - HEADER));
    return 0;
}
