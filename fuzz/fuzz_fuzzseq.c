/*
 * fuzz_fuzzseq.c - drives the action sequences of echo-conform's network fuzzer
 * (core/fuzzseq): the generator with a seed and limits taken from the input, and the
 * normalizer with a raw sequence taken from the input. Oracles:
 * - fq_generate refuses exactly the limits fuzzseq.h calls out of range (EH_ERR_INVAL);
 * - the same seed and limits give the same sequence twice (determinism), with the seed kept;
 * - a generated sequence has max/4 + 1 .. max actions, each within the limits: only the
 *   transports asked for, slots in range, writes 1..max_write, datagrams 0..max_dgram,
 *   pauses 1..max_pause on slot 0, no size on the other ops;
 * - the generator follows the slots' model, so normalizing a generated sequence keeps it;
 * - fq_normalize equals a reference written here from fuzzseq.h's list of no-ops, keeps the
 *   order (the result is a subsequence) and is idempotent;
 * - format -> parse through core/fuzzfile gives the same sequence, and ff_format refuses
 *   (EH_ERR_INVAL) exactly the sequences with an action out of the file's ranges;
 * - fq_equal tells apart a change of seed, length or any one field;
 * - every op has a name, an unknown one "?".
 *
 * Input: 8 bytes seed (little-endian), 1 byte flags (bit 0 tcp, bit 1 udp, bit 2 raw limits:
 * take the limits below as they are, out of range included, bit 3 long: folded max_actions
 * up to FQ_MAX_ACTIONS, not 32; bits 4-7 mod 3 pick the one file round trip of the run: the
 * generated, the raw or the normalized sequence), 2 bytes max_actions, 4 bytes
 * max_write, 2 bytes max_dgram, 2 bytes max_pause; then raw actions of 4 bytes (op, slot,
 * size 2 bytes; op bit 7 scales the size by 512), at most MAX_RAW of them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/err.h"
#include "core/fuzzfile.h"
#include "core/fuzzseq.h"

#define HEADER 19
#define MAX_RAW 64u /* raw actions per run: every no-op case fits; more only cost time */

/* *d = *s for the actions in use only (a whole struct fq_seq is 2 KiB; copying it several
 * times per run cost more than the code under test). */
FUZZ_ORACLE static void seq_copy(struct fq_seq *d, const struct fq_seq *s)
{
    d->seed = s->seed;
    d->count = s->count;
    memcpy(d->a, s->a, s->count * sizeof s->a[0]);
}

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

/* The no-op rules of fuzzseq.h, slot by slot: closed (0), open (1), half-closed (2). */
FUZZ_ORACLE static void reference_normalize(const struct fq_seq *in, struct fq_seq *out)
{
    uint8_t st[FQ_TCP_SLOTS] = {0};

    out->seed = in->seed;
    out->count = 0;
    for (size_t i = 0; i < in->count; i++) {
        struct fq_action a = in->a[i];
        int tcp = a.op <= FQ_RESET, keep;

        if (a.op >= FQ__OP_COUNT || (tcp && a.slot >= FQ_TCP_SLOTS) ||
            (a.op == FQ_SEND && a.slot >= FQ_UDP_SLOTS))
            continue;
        if (a.op == FQ_CONNECT)
            keep = st[a.slot] == 0, st[a.slot] = keep ? 1 : st[a.slot];
        else if (a.op == FQ_WRITE)
            keep = st[a.slot] == 1 && a.n > 0;
        else if (a.op == FQ_SHUT)
            keep = st[a.slot] == 1, st[a.slot] = keep ? 2 : st[a.slot];
        else if (a.op == FQ_CLOSE || a.op == FQ_RESET)
            keep = st[a.slot] != 0, st[a.slot] = 0;
        else if (a.op == FQ_PAUSE)
            keep = a.n > 0;
        else
            keep = 1;
        if (keep)
            out->a[out->count++] = a;
    }
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

/* Format -> parse gives the same sequence; ff_format refuses exactly what is out of range. */
FUZZ_ORACLE static void check_file(const struct fq_seq *s)
{
    static char text[FF_FORMAT_MAX];
    static struct fq_seq back;
    struct ff_error e;
    size_t len;
    int rc = ff_format(s, text, sizeof text, &len);

    if (rc != (in_file_range(s) ? 0 : EH_ERR_INVAL))
        fail("ff_format accepted an action out of range, or refused one in range", s->seed, 0);
    if (rc != 0)
        return;
    if (ff_parse(text, len, &back, &e) != 0)
        fail("the formatted sequence does not parse", s->seed, e.line);
    if (!fq_equal(s, &back))
        fail("format -> parse changed the sequence", s->seed, 0);
}

/* A generated sequence keeps to the limits it was generated under. */
FUZZ_ORACLE static void check_generated(const struct fq_seq *s, uint64_t seed,
                                        const struct fq_gen *g)
{
    if (s->seed != seed)
        fail("the generated sequence does not keep its seed", seed, 0);
    if (s->count < g->max_actions / 4 + 1 || s->count > g->max_actions)
        fail("the generated sequence has a length out of max/4 + 1 .. max", seed, s->count);
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
        if (!ok)
            fail("a generated action is outside the limits", seed, i);
    }
}

/* fq_equal tells apart sequences that differ in the seed, the count or one field. */
FUZZ_ORACLE static void check_equal(const struct fq_seq *s, uint8_t pick)
{
    static struct fq_seq t;

    seq_copy(&t, s);
    if (!fq_equal(s, &t))
        fail("a sequence differs from its copy", s->seed, 0);
    t.seed ^= 1;
    if (fq_equal(s, &t))
        fail("sequences with different seeds are equal", s->seed, 0);
    seq_copy(&t, s);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fq_seq s1, s2, raw, norm, ref;
    struct fq_gen g;
    uint64_t seed = 0;
    int valid, rc;

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
    if (!(data[8] & 4)) {
        /* Mostly in range: fold each limit into its documented interval. */
        if (!g.tcp && !g.udp)
            g.tcp = g.udp = 1;
        /* Long sequences on flag only: generating, checking and writing out a hundred
         * actions twice cost a run many times what the minimal echo target's does. */
        g.max_actions = 1 + g.max_actions % (data[8] & 8 ? FQ_MAX_ACTIONS : 32u);
        g.max_write = 1 + g.max_write % FQ_MAX_WRITE;
        g.max_dgram %= FQ_MAX_DGRAM + 1;
        g.max_pause_ms %= FQ_MAX_PAUSE + 1;
    }
    valid = (g.tcp || g.udp) && g.max_actions >= 1 && g.max_actions <= FQ_MAX_ACTIONS &&
            g.max_write >= 1 && g.max_write <= FQ_MAX_WRITE && g.max_dgram <= FQ_MAX_DGRAM &&
            g.max_pause_ms <= FQ_MAX_PAUSE;

    rc = fq_generate(&s1, seed, &g);
    if (rc != (valid ? 0 : EH_ERR_INVAL))
        fail(valid ? "fq_generate refused limits in range" : "fq_generate took limits out of range",
             seed, 0);
    if (fq_generate(&s2, seed, NULL) != EH_ERR_INVAL)
        fail("fq_generate took no limits", seed, 0);
    if (valid) {
        memset(&s2, 0xa5, sizeof s2);
        if (fq_generate(&s2, seed, &g) != 0 || !fq_equal(&s1, &s2))
            fail("the same seed and limits gave two sequences", seed, 0);
        check_generated(&s1, seed, &g);
        seq_copy(&s2, &s1);
        fq_normalize(&s2);
        if (!fq_equal(&s1, &s2))
            fail("normalizing a generated sequence dropped an action", seed, s2.count);
        if ((data[8] >> 4) % 3 == 0) /* one file round trip per run: each costs a run */
            check_file(&s1);
    }

    /* A raw sequence: anything, no-ops and out-of-range values included. */
    raw.seed = seed;
    raw.count = 0;
    for (size_t off = HEADER; off + 4 <= size && raw.count < MAX_RAW; off += 4) {
        struct fq_action *a = &raw.a[raw.count++];
        a->op = data[off] & 7;
        a->slot = data[off + 1] % 6;
        a->n = le(data + off + 2, 2) << (data[off] & 0x80 ? 9 : 0);
    }
    seq_copy(&norm, &raw);
    fq_normalize(&norm);
    reference_normalize(&raw, &ref);
    if (!fq_equal(&norm, &ref))
        fail("fq_normalize differs from the reference", seed, norm.count);
    seq_copy(&s2, &norm);
    fq_normalize(&s2);
    if (!fq_equal(&norm, &s2))
        fail("fq_normalize is not idempotent", seed, s2.count);
    if ((data[8] >> 4) % 3 != 0)
        check_file((data[8] >> 4) % 3 == 1 ? &raw : &norm);
    check_equal(&raw, data[8]);

    for (int op = -1; op <= FQ__OP_COUNT; op++)
        if ((strcmp(fq_op_name(op), "?") == 0) != (op < 0 || op >= FQ__OP_COUNT))
            fail("an op without a name, or a name for no op", seed, (size_t)(op + 1));
    if (fq_tcp_seed(seed, data[8] % FQ_TCP_SLOTS) != fq_tcp_seed(seed, data[8] % FQ_TCP_SLOTS) ||
        fq_udp_seed(seed, data[8] % FQ_UDP_SLOTS) != fq_udp_seed(seed, data[8] % FQ_UDP_SLOTS))
        fail("a slot's pattern seed is not a function of the seed", seed, 0);
    return 0;
}
