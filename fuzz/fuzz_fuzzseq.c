/*
 * fuzz_fuzzseq.c - drives the action sequences of echo-conform's network fuzzer
 * (core/fuzzseq): the generator with a seed and limits taken from the input, and the
 * normalizer with a raw sequence taken from the input. Oracles:
 * - fq_generate refuses exactly the limits fuzzseq.h calls out of range (EH_ERR_INVAL);
 * - the same seed and limits give the same sequence twice (determinism; on flag, since a
 *   second generation doubles a run), with the seed kept;
 * - a generated sequence has max/4 + 1 .. max actions, each within the limits: only the
 *   transports asked for, slots in range, writes 1..max_write, datagrams 0..max_dgram,
 *   pauses 1..max_pause on slot 0, no size on the other ops;
 * - the generator follows the slots' model, so normalizing a generated sequence keeps it;
 * - fq_normalize equals a reference written here from fuzzseq.h's list of no-ops, keeps the
 *   order (the result is a subsequence) and is idempotent;
 * - format -> parse through core/fuzzfile gives the same sequence, and ff_format refuses
 *   (EH_ERR_INVAL) exactly the sequences with an action out of the file's ranges: when the
 *   input asks, on a prefix of at most ROUND_TRIP actions of the sequence it picks (the text
 *   parser costs ~0.1 us a byte under the sanitizers; fuzz_fuzzfile drives it at length);
 * - fq_equal tells apart a change of seed, length or any one field (of a prefix of at most
 *   EQUAL_MAX actions);
 * - every op has a name, an unknown one "?".
 *
 * Input: 8 bytes seed (little-endian), 1 byte flags (bit 0 tcp, bit 1 udp, bit 2 raw limits:
 * take the limits below as they are, out of range included; bit 3 long: folded max_actions
 * up to FQ_MAX_ACTIONS, not 32, and never past 4 + (size - HEADER) / 2; bits 2 and 3 both:
 * edges, each upper limit its documented bound plus the signed low byte of its field, but
 * max_actions just past its bound or 1..16; bits 4-6 the file round trip of the run: 1 the
 * generated, 2 the raw, 3 the normalized sequence, others none; bit 7 generate twice),
 * 2 bytes max_actions, 4 bytes max_write, 2 bytes max_dgram, 2 bytes max_pause; then raw
 * actions of 4 bytes (op, slot, size 2 bytes; op bit 7 scales the size by 512), at most
 * MAX_RAW of them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzzseq_check.h"
#include "core/err.h"
#include "core/fuzzfile.h"
#include "core/fuzzseq.h"

#define HEADER 19
#define MAX_RAW 64u   /* raw actions per run: every no-op case fits; more only cost time */
#define ROUND_TRIP 4u
#define EQUAL_MAX 8u  /* actions fq_equal is checked on */ /* actions formatted and parsed back, when the input asks */

FUZZ_ORACLE static void fail(const char *what, uint64_t seed, size_t i)
{
    fprintf(stderr, "fuzz_fuzzseq: %s (seed 0x%016llx, action %zu)\n", what,
            (unsigned long long)seed, i);
    abort();
}

static uint32_t le(const uint8_t *p, int n)
{
    uint32_t v = 0;

    while (n-- > 0)
        v = v << 8 | p[n];
    return v;
}

/* Whether every action fits the reproducer file's ranges (fuzzfile.h), with no field the
 * text cannot hold (a pause's slot, a size on an op without one). */
FUZZ_ORACLE static int in_file_range(const struct fq_seq *s)
{
    for (size_t i = 0; i < s->count; i++) {
        const struct fq_action *a = &s->a[i];
        if (a->op >= FQ__OP_COUNT || (a->op <= FQ_RESET && a->slot >= FQ_TCP_SLOTS) ||
            (a->op == FQ_SEND && (a->slot >= FQ_UDP_SLOTS || a->n > FQ_MAX_DGRAM)) ||
            (a->op == FQ_WRITE && a->n > FQ_MAX_WRITE) ||
            (a->op == FQ_PAUSE && (a->n > FQ_MAX_PAUSE || a->slot != 0)) ||
            (a->op != FQ_WRITE && a->op <= FQ_RESET && a->n != 0))
            return 0;
    }
    return 1;
}

/* Format -> parse gives the same sequence; ff_format refuses exactly what is out of range.
 * On the first ROUND_TRIP actions of full only. */
FUZZ_ORACLE static void check_file(const struct fq_seq *full)
{
    static char text[FF_FORMAT_MAX];
    static struct fq_seq back, prefix;
    const struct fq_seq *s = &prefix;
    struct ff_error e;
    size_t len;
    int rc;

    prefix.seed = full->seed;
    prefix.count = full->count < ROUND_TRIP ? full->count : ROUND_TRIP;
    memcpy(prefix.a, full->a, prefix.count * sizeof prefix.a[0]);
    rc = ff_format(s, text, sizeof text, &len);

    if (rc != (in_file_range(s) ? 0 : EH_ERR_INVAL))
        fail("ff_format accepted an action out of range, or refused one in range", s->seed, 0);
    if (rc != 0)
        return;
    if (ff_parse(text, len, &back, &e) != 0)
        fail("the formatted sequence does not parse", s->seed, e.line);
    if (!fzq_same(s, &back))
        fail("format -> parse changed the sequence", s->seed, 0);
}

/* A generated sequence keeps its seed and the limits it was generated under. */
FUZZ_ORACLE static void check_generated(const struct fq_seq *s, uint64_t seed,
                                        const struct fq_gen *g)
{
    size_t at;
    const char *what;

    if (s->seed != seed)
        fail("the generated sequence does not keep its seed", seed, 0);
    if ((what = fzq_check_generated(s, g, &at)) != NULL)
        fail(what, seed, at);
}

/* fq_equal tells apart sequences that differ in the seed, the count or one field. */
FUZZ_ORACLE static void check_equal(const struct fq_seq *full, uint8_t pick)
{
    static struct fq_seq t, u;
    const struct fq_seq *s = &u;

    /* On a prefix: fq_equal walks every action of equal sequences, and its compares are
     * traced; a change in any one field of the prefix still has to be told apart. */
    u.seed = full->seed;
    u.count = full->count < EQUAL_MAX ? full->count : EQUAL_MAX;
    memcpy(u.a, full->a, u.count * sizeof u.a[0]);
    fzq_copy(&t, s);
    if (!fq_equal(s, &t))
        fail("a sequence differs from its copy", s->seed, 0);
    t.seed ^= 1;
    if (fq_equal(s, &t))
        fail("sequences with different seeds are equal", s->seed, 0);
    fzq_copy(&t, s);
    if (t.count == 0)
        return;
    t.count--;
    if (fq_equal(s, &t))
        fail("sequences of different lengths are equal", s->seed, t.count);
    t.count++;
    if (pick % 3 == 0)
        t.a[pick % t.count].op ^= 1;
    else if (pick % 3 == 1)
        t.a[pick % t.count].slot ^= 1;
    else
        t.a[pick % t.count].n ^= 1;
    if (fq_equal(s, &t))
        fail("sequences with different actions are equal", s->seed, pick % t.count);
}

/* The raw actions of the input, at most MAX_RAW. Uninstrumented like the oracle: its only
 * branches are the loop's, and its compares (and UBSan's per action) were traced on every
 * action of every run. */
FUZZ_ORACLE static void decode_raw(struct fq_seq *raw, uint64_t seed, const uint8_t *data,
                                   size_t size)
{
    raw->seed = seed;
    raw->count = 0;
    for (size_t off = HEADER; off + 4 <= size && raw->count < MAX_RAW; off += 4) {
        struct fq_action *a = &raw->a[raw->count++];
        a->op = data[off] & 7;
        a->slot = data[off + 1] % 6;
        a->n = le(data + off + 2, 2) << (data[off] & 0x80 ? 9 : 0);
    }
}

static int names_checked;

/* fq_op_name takes nothing from the input and the core keeps no state, so what it answers
 * for each op in one run it answers in all: checked once per process, here, before AFL++'s
 * fork server and libFuzzer's loop. Checked inside the first execution, its edges made that
 * one differ from every later run of the same input (AFL++ flagged the first queue input
 * variable: stability 97.31 %). The replay driver does not call this; the first execution
 * does. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (names_checked)
        return 0;
    for (int op = -1; op <= FQ__OP_COUNT; op++)
        if ((strcmp(fq_op_name(op), "?") == 0) != (op < 0 || op >= FQ__OP_COUNT))
            fail("an op without a name, or a name for no op", 0, (size_t)(op + 1));
    names_checked = 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fq_seq s1, s2, raw, norm, ref;
    struct fq_gen g;
    uint64_t seed = 0;
    int valid, rc, trip;

    if (size < HEADER)
        return 0;
    for (int i = 7; i >= 0; i--)
        seed = seed << 8 | data[i];
    memset(&g, 0, sizeof g);
    g.tcp = data[8] & 1;
    g.udp = (data[8] >> 1) & 1;
    g.max_actions = le(data + 9, 2);
    g.max_write = le(data + 11, 4);
    g.max_dgram = le(data + 15, 2);
    g.max_pause_ms = le(data + 17, 2);
    if ((data[8] & 12) == 12) {
        /* Edges: each upper limit within a signed byte of the bound fuzzseq.h documents, so
         * an off-by-one in any of fq_generate's range checks is a mutation away. Not
         * max_actions at FQ_MAX_ACTIONS: a run generating 256 actions costs a hundred of
         * the others (the long fold reaches it). */
        g.max_actions = data[9] & 0x80 ? FQ_MAX_ACTIONS + 1u + (data[9] & 1u) : 1u + (data[9] & 15u);
        g.max_write = (uint32_t)((int64_t)FQ_MAX_WRITE + (int8_t)data[11]);
        g.max_dgram = (uint32_t)((int)FQ_MAX_DGRAM + (int8_t)data[15]);
        g.max_pause_ms = (uint32_t)((int)FQ_MAX_PAUSE + (int8_t)data[17]);
    } else if (!(data[8] & 4)) {
        /* Mostly in range: fold each limit into its documented interval. */
        if (!g.tcp && !g.udp)
            g.tcp = g.udp = 1;
        /* Long sequences on flag only, and no longer than half the input's bytes past the
         * header (4 + (size - HEADER) / 2): generating costs about a microsecond an action
         * under the sanitizers, so a run's work grows with its input, as the minimal echo
         * target's does, and not with one flag bit the fuzzer would learn to set. */
        size_t cap = data[8] & 8 ? FQ_MAX_ACTIONS : 32u, room = 4 + (size - HEADER) / 2;
        g.max_actions = 1 + g.max_actions % (cap < room ? cap : room);
        g.max_write = 1 + g.max_write % FQ_MAX_WRITE;
        g.max_dgram %= FQ_MAX_DGRAM + 1;
        g.max_pause_ms %= FQ_MAX_PAUSE + 1;
    }
    valid = fzq_gen_valid(&g);
    trip = (data[8] >> 4) & 7;

    rc = fq_generate(&s1, seed, &g);
    if (rc != (valid ? 0 : EH_ERR_INVAL))
        fail(valid ? "fq_generate refused limits in range" : "fq_generate took limits out of range",
             seed, 0);
    if (fq_generate(&s2, seed, NULL) != EH_ERR_INVAL)
        fail("fq_generate took no limits", seed, 0);
    if (valid) {
        /* Determinism on flag: a second generation (after a 2 KiB scribble, so nothing
         * left from the first can pass for it) doubles the cost of a run. */
        if (data[8] & 128) {
            memset(&s2, 0xa5, sizeof s2);
            if (fq_generate(&s2, seed, &g) != 0 || !fzq_same(&s1, &s2))
                fail("the same seed and limits gave two sequences", seed, 0);
        }
        check_generated(&s1, seed, &g);
        if (!fzq_is_normal(&s1))
            fail("the generator emitted an action its own model calls a no-op", seed, 0);
        fzq_copy(&s2, &s1);
        fq_normalize(&s2);
        if (!fzq_same(&s1, &s2))
            fail("normalizing a generated sequence dropped an action", seed, s2.count);
        if (trip == 1)
            check_file(&s1);
    }

    /* A raw sequence: anything, no-ops and out-of-range values included. */
    decode_raw(&raw, seed, data, size);
    fzq_copy(&norm, &raw);
    fq_normalize(&norm);
    fzq_ref_normalize(&raw, &ref);
    if (!fzq_same(&norm, &ref))
        fail("fq_normalize differs from the reference", seed, norm.count);
    fzq_copy(&s2, &norm);
    fq_normalize(&s2);
    if (!fzq_same(&norm, &s2))
        fail("fq_normalize is not idempotent", seed, s2.count);
    if (trip == 2 || trip == 3)
        check_file(trip == 2 ? &raw : &norm);
    check_equal(&raw, data[8]);

    if (!names_checked)
        LLVMFuzzerInitialize(NULL, NULL); /* the replay driver's first execution */
    if (fq_tcp_seed(seed, data[8] % FQ_TCP_SLOTS) != fq_tcp_seed(seed, data[8] % FQ_TCP_SLOTS) ||
        fq_udp_seed(seed, data[8] % FQ_UDP_SLOTS) != fq_udp_seed(seed, data[8] % FQ_UDP_SLOTS))
        fail("a slot's pattern seed is not a function of the seed", seed, 0);
    return 0;
}
