/*
 * fuzz_shrink.c - drives the network fuzzer's action sequences (core/fuzzseq) and its
 * shrinker (core/ddmin) without a network: the "server" is a predicate on the sequence.
 *
 * Oracles. Generator: out-of-range settings are refused exactly as fuzzseq.h lists them;
 * the same seed gives the same sequence; every action is of an allowed kind, slot and size;
 * the count is within [max/4 + 1, max]; a generated sequence is already normal (the
 * generator follows the slot model). Normalizer: equal to a reference written from the rules
 * in fuzzseq.h, and idempotent. Shrinker, against the predicate "some WRITE (or SEND, or
 * PAUSE) of at least K" or "writes on one connection adding up to K": every candidate is
 * normal; asking twice gives the same candidate;
 * a result with no candidate out is refused; the best sequence always fails and never grows;
 * it finishes within a bound; and it ends at the documented minimum: one datagram (or pause)
 * of exactly K, or a connect then one write of exactly K on connection 0 (writes adding up
 * to K, merged into one unless that would pass FQ_MAX_WRITE).
 *
 * Input: a 24-byte header (seed: 8, flags (1 TCP, 2 UDP, 4 raw actions, 8 two more actions,
 * 16 oversized writes, 32 generate twice for determinism, 64 long: max actions to 257, not
 * 33; a max in range is cut to 4 + a quarter of the bytes past the header), max actions,
 * max write: 3, max datagram: 2, max pause: 2, predicate op, threshold: 3, 2 reserved),
 * then, in raw mode, 3-byte actions.
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

#define SHRINK_MAX 8u     /* actions handed to the shrinker: keeps a run short */
#define STEP_BOUND 20000u /* candidates the shrinker may ask for */

static struct fq_seq gen, again, norm, start;
static struct dd_state dd;

FUZZ_ORACLE static void fail(const char *what, unsigned long long want, unsigned long long got)
{
    fprintf(stderr, "fuzz_shrink: %s: expected %llu, got %llu\n", what, want, got);
    abort();
}

FUZZ_ORACLE static void check_generated(const struct fq_seq *s, const struct fq_gen *g)
{
    size_t at;
    const char *what = fzq_check_generated(s, g, &at);

    if (what)
        fail(what, g->max_actions, at);
}

/* The predicate standing in for a failing server: some action of op with n >= k; with sum
 * set, writes on one connection adding up to k (so that merging writes matters). */
static int sum_mode;

FUZZ_ORACLE static int fails(const struct fq_seq *s, int op, uint32_t k)
{
    uint64_t total[FQ_TCP_SLOTS] = {0};

    for (size_t i = 0; i < s->count; i++) {
        if (s->a[i].op != op)
            continue;
        if (sum_mode && s->a[i].slot < FQ_TCP_SLOTS && (total[s->a[i].slot] += s->a[i].n) >= k)
            return 1;
        if (!sum_mode && s->a[i].n >= k)
            return 1;
    }
    return 0;
}

FUZZ_ORACLE static void check_normal(const struct fq_seq *s, const char *what)
{
    if (!fzq_is_normal(s))
        fail(what, 1, 0);
}

FUZZ_ORACLE static void shrink(int op, uint32_t k)
{
    const struct fq_seq *c, *c2;
    size_t best_count, steps = 0;
    uint32_t minimal = op != FQ_SEND && k == 0 ? 1 : k; /* a write or pause of 0 is a no-op */

    dd_init(&dd, &start);
    if (dd_result(&dd, 1) != EH_ERR_STATE)
        fail("result accepted with no candidate out", EH_ERR_STATE, 0);
    best_count = dd_best(&dd)->count;
    while ((c = dd_next(&dd)) != NULL) {
        if (++steps > STEP_BOUND)
            fail("shrinker does not finish", STEP_BOUND, steps);
        c2 = dd_next(&dd);
        if (c2 != c)
            fail("asking twice gave another candidate", 0, 1);
        check_normal(c, "candidate not normalized");
        if (dd_result(&dd, fails(c, op, k)) != 0)
            fail("result refused", 0, 1);
        if (!fails(dd_best(&dd), op, k))
            fail("best sequence does not fail", 1, 0);
        if (dd_best(&dd)->count > best_count)
            fail("best sequence grew", best_count, dd_best(&dd)->count);
        best_count = dd_best(&dd)->count;
    }
    /* The documented end: 1-minimal in actions, then the smallest failing size, slots
     * renumbered from 0. */
    c = dd_best(&dd);
    if (sum_mode) {
        /* A connect, then writes on it adding up to exactly the threshold (one write when
         * merging two stays within FQ_MAX_WRITE). */
        uint64_t total = 0;
        int ok = c->count >= 2 && c->a[0].op == FQ_CONNECT && c->a[0].slot == 0;
        for (size_t i = 1; ok && i < c->count; i++) {
            ok = c->a[i].op == FQ_WRITE && c->a[i].slot == 0;
            total += c->a[i].n;
        }
        if (!ok || total != minimal || (c->count > 2 && total <= FQ_MAX_WRITE / 2))
            fail("writes not shrunk to connect + writes adding up to the threshold", minimal,
                 total);
    } else if (op == FQ_WRITE) {
        if (c->count != 2 || c->a[0].op != FQ_CONNECT || c->a[1].op != FQ_WRITE ||
            c->a[0].slot != 0 || c->a[1].slot != 0 || c->a[1].n != minimal)
            fail("write not shrunk to connect + write of the threshold on slot 0", minimal,
                 c->count == 2 ? c->a[1].n : c->count);
    } else if (c->count != 1 || c->a[0].op != op || c->a[0].n != minimal ||
               (op == FQ_SEND && c->a[0].slot != 0)) {
        fail("not shrunk to one action of the threshold", minimal, c->count ? c->a[0].n : 0);
    }
}

/* Raw mode's actions into start. Uninstrumented like the oracle: its only branches are the
 * loop's, and its compares (and UBSan's per action) were traced on every action, up to 256
 * of them a run. */
FUZZ_ORACLE static void decode_raw(uint64_t seed, const uint8_t *data, size_t size)
{
    start.seed = seed; /* every field of every action is set below */
    start.count = 0;
    for (size_t i = 24; i + 3 <= size && start.count < FQ_MAX_ACTIONS; i += 3) {
        struct fq_action *a = &start.a[start.count++];
        a->op = data[i] % (FQ__OP_COUNT + 1);
        a->slot = data[i + 1] % 6;
        a->n = data[i + 2] * (data[i] & 0x80 ? 1021u : 1u);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fq_gen g;
    uint64_t seed = 0;
    int rc, op;
    uint32_t k, top = 0;

    if (size < 24)
        return 0;
    for (int i = 0; i < 8; i++)
        seed = seed << 8 | data[i];
    memset(&g, 0, sizeof g);
    g.tcp = data[8] & 1;
    g.udp = (data[8] >> 1) & 1;
    /* Long sequences (up to 257 actions, past the limit) on flag only: generating, checking
     * and normalizing a hundred actions cost most runs several times what the rest did. */
    g.max_actions = (data[8] & 64 ? data[9] : data[9] % 32u) + (data[8] & 8 ? 2u : 0u);
    /* ... and, in range, no longer than a quarter of the input's bytes past the header: a
     * run's work grows with its input (as the minimal echo target's does), not with one flag
     * bit. */
    if (g.max_actions <= FQ_MAX_ACTIONS && g.max_actions > 4 + (size - 24) / 4)
        g.max_actions = 4 + (size - 24) / 4;
    g.max_write = data[8] & 16 ? FQ_MAX_WRITE + 1
                               : (uint32_t)data[10] << 16 | (uint32_t)data[11] << 8 | data[12];
    g.max_dgram = (uint32_t)data[13] << 8 | data[14];
    g.max_pause_ms = (uint32_t)data[15] << 8 | data[16];
    op = data[17] % 4 == 1 ? FQ_SEND : data[17] % 4 == 2 ? FQ_PAUSE : FQ_WRITE;
    sum_mode = data[17] % 4 == 3;
    k = (uint32_t)data[18] << 16 | (uint32_t)data[19] << 8 | data[20];

    if (data[8] & 4) {
        /* Raw mode: any actions, valid or not, for the normalizer and the shrinker. */
        decode_raw(seed, data, size);
        if (strcmp(fq_op_name(FQ__OP_COUNT), "?") != 0)
            fail("name of an unknown op", 0, 1);
    } else {
        rc = fq_generate(&gen, seed, &g);
        if ((rc == 0) != fzq_gen_valid(&g))
            fail("generator settings decision", (unsigned long long)fzq_gen_valid(&g), rc == 0);
        if (rc != 0)
            return 0;
        check_generated(&gen, &g);
        /* Determinism on flag only: a second generation doubles the cost of a run. */
        if ((data[8] & 32) && (fq_generate(&again, seed, &g) != 0 || !fzq_same(&gen, &again)))
            fail("same seed, another sequence", 1, 0);

        if (fq_tcp_seed(seed, 0) == fq_tcp_seed(seed, 1) ||
            fq_udp_seed(seed, 0) == fq_udp_seed(seed, 1))
            fail("two slots share a payload seed", 0, 1);
        fzq_copy(&start, &gen);
    }

    /* Normalizer: the reference's result, and idempotent. */
    fzq_ref_normalize(&start, &norm);
    fq_normalize(&start);
    if (!fzq_same(&norm, &start))
        fail("normalized sequence differs from the reference", norm.count, start.count);
    /* A generated sequence is already normal: normalizing it (as the reference agrees) drops
     * nothing. */
    if (!(data[8] & 4) && start.count != gen.count)
        fail("generated sequence not normal", gen.count, start.count);
    fzq_copy(&norm, &start);
    fq_normalize(&norm);
    if (!fzq_same(&norm, &start))
        fail("normalize is not idempotent", start.count, norm.count);

    /* Shrink the first SHRINK_MAX actions against a threshold some action reaches. */
    if (start.count > SHRINK_MAX)
        start.count = SHRINK_MAX;
    for (size_t i = 0; i < start.count; i++)
        if (start.a[i].op == op && start.a[i].n + 1 > top)
            top = start.a[i].n + 1;
    if (top == 0)
        return 0; /* no action of that kind: nothing would fail */
    if (sum_mode)
        top = top > UINT32_MAX / 4 ? UINT32_MAX : top * 4; /* sums reach past one write */
    if (sum_mode && !fails(&start, op, k % top))
        return 0;
    shrink(op, k % top);
    return 0;
}
