/*
 * ddmin.h - the shrinker of echo-conform's network fuzzer, as an explicit step machine: it
 * proposes candidate sequences, the caller runs each against the server and says whether it
 * still fails (the same way), and the machine keeps the smallest failing one.
 *
 * Two phases. First Zeller and Hildebrandt's ddmin ("Simplifying and Isolating
 * Failure-Inducing Input", 2002) over the actions: try each of n chunks alone, then each
 * complement, refine n until single actions are tried; the result is 1-minimal (removing any
 * one action makes it pass, as far as the tests told). Then merges: two writes in a row on
 * one connection become one write of both sizes (the same bytes, since a connection's bytes
 * are its pattern stream), so "write 0 30000, write 0 40001" becomes "write 0 70001". Then
 * sizes: for each write, datagram
 * and pause, a binary search for the smallest size that still fails (0 and 1 first). Last, slots
 * renumbered in order of first use (connection 0 first), kept if it still fails (a slot's
 * payload stream depends on its number). Candidates are
 * normalized (fq_normalize), so no-ops never count as actions. The machine does no I/O and
 * keeps no clock: the caller bounds the attempts and the time and may stop at any step;
 * dd_best() is always a sequence that failed.
 */
#ifndef EH_CORE_DDMIN_H
#define EH_CORE_DDMIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/fuzzseq.h"

enum dd_phase { DD_ACTIONS = 0, DD_MERGE, DD_SIZES, DD_RENUMBER, DD_DONE };

/* The machine; plain data the caller embeds (about 4.5 KiB). */
struct dd_state {
    struct fq_seq best; /* smallest failing sequence so far */
    struct fq_seq cand; /* the candidate handed out by dd_next() */
    int phase;          /* enum dd_phase */
    int waiting;        /* a candidate is out: dd_result() is due */
    /* ddmin: granularity, and the position in the round (0..n-1 subsets, n..2n-1
     * complements) */
    size_t n, idx;
    int subset;         /* the candidate out is one chunk alone (else a complement) */
    /* merge and sizes: the action under search and its bounds (lo may pass, hi fails), the value
     * tried */
    size_t j;
    uint32_t lo, hi, tried;
    int searching;      /* a search over action j's size is under way */
    size_t tests, failures; /* candidates tried, and how many failed (were kept) */
};

/* Starts shrinking from start, a sequence known to fail. It is normalized first (the caller
 * should make sure the normalized form still fails, or accept that it may not). */
void dd_init(struct dd_state *d, const struct fq_seq *start);

/* The next candidate to try: returns a pointer to it (owned by d, valid until the next
 * dd_result()), or NULL when shrinking is done (then dd_best() is final). Calling it again
 * before dd_result() returns the same candidate. */
const struct fq_seq *dd_next(struct dd_state *d);

/* Reports whether the candidate last returned by dd_next() failed (non-zero: it failed the
 * same way, so it becomes the best). Returns 0, or EH_ERR_STATE when no candidate is out. */
int dd_result(struct dd_state *d, int failed);

/* The smallest failing sequence found so far. */
static inline const struct fq_seq *dd_best(const struct dd_state *d) { return &d->best; }

#endif
