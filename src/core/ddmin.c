/*
 * ddmin.c - delta debugging over action sequences, then a per-action size search (see
 * ddmin.h). The machine is resumable at every candidate: all its state is in struct dd_state,
 * so the caller can interleave it with socket I/O and stop at a deadline.
 */
#include "core/ddmin.h"

#include <string.h>

#include "core/err.h"

void dd_init(struct dd_state *d, const struct fq_seq *start)
{
    /* Field by field, and only the actions in use, normalized as they are copied: clearing
     * and copying the whole 4.5 KiB cost more than a short shrink. */
    d->best.seed = start->seed;
    d->best.count = fq__normalize_into(d->best.a, start->a, start->count, 0).count;
    d->cand.seed = 0;
    d->cand.count = 0;
    d->phase = DD_ACTIONS;
    d->waiting = 0;
    d->n = 2;
    d->idx = 0;
    d->subset = 0;
    d->j = 0;
    d->lo = d->hi = d->tried = 0;
    d->searching = 0;
    d->tests = d->failures = 0;
}

/* cand = best, the actions in use only (a whole struct fq_seq is 2 KiB). */
static void copy_best(struct dd_state *d)
{
    d->cand.seed = d->best.seed;
    d->cand.count = d->best.count;
    memcpy(d->cand.a, d->best.a, d->best.count * sizeof d->best.a[0]);
}

/* best = cand (it failed), the actions in use only. */
static void keep_cand(struct dd_state *d)
{
    d->best.seed = d->cand.seed;
    d->best.count = d->cand.count;
    memcpy(d->best.a, d->cand.a, d->cand.count * sizeof d->cand.a[0]);
}

/* Builds the candidate from best: chunk i of n alone (subset) or best without it, normalized
 * while it is copied (one pass over the actions, no copy then normalize). */
static void build_chunk(struct dd_state *d, size_t i, int subset)
{
    size_t len = d->best.count, b = i * len / d->n, e = (i + 1) * len / d->n;
    struct fq__norm head;

    d->cand.seed = d->best.seed;
    if (subset) {
        d->cand.count = fq__normalize_into(d->cand.a, &d->best.a[b], e - b, 0).count;
    } else {
        head = fq__normalize_into(d->cand.a, d->best.a, b, 0);
        d->cand.count = head.count + fq__normalize_into(&d->cand.a[head.count], &d->best.a[e],
                                                        len - e, head.state)
                                         .count;
    }
}

static int sized(const struct fq_action *a)
{
    return a->op == FQ_WRITE || a->op == FQ_SEND || a->op == FQ_PAUSE;
}

/* One step of ddmin: a candidate is ready (1), or the phase moved on (0). */
static int next_actions(struct dd_state *d)
{
    size_t len = d->best.count, i;

    if (len < 2) {
        d->phase = DD_MERGE;
        d->j = 0;
        return 0;
    }
    if (d->n > len)
        d->n = len;
    if (d->idx >= 2 * d->n) {
        /* A whole round without a failing candidate: finer chunks, or done at single
         * actions (1-minimal). */
        if (d->n >= len) {
            d->phase = DD_MERGE;
            d->j = 0;
            return 0;
        }
        d->n = 2 * d->n < len ? 2 * d->n : len;
        d->idx = 0;
        return 0;
    }
    i = d->idx++;
    /* With two chunks, each subset is the other's complement: try complements only. */
    if (i < d->n && d->n == 2)
        return 0;
    d->subset = i < d->n;
    build_chunk(d, d->subset ? i : i - d->n, d->subset);
    /* Normalization may leave nothing (a lone write has no connection), or nothing smaller. */
    return d->cand.count > 0 && d->cand.count < len;
}

/* One step of merging: a candidate is ready (1), or it moved on (0). */
static int next_merge(struct dd_state *d)
{
    const struct fq_action *a, *b;

    if (d->j + 1 >= d->best.count) {
        d->phase = DD_SIZES;
        d->j = 0;
        return 0;
    }
    a = &d->best.a[d->j];
    b = &d->best.a[d->j + 1];
    if (a->op != FQ_WRITE || b->op != FQ_WRITE || a->slot != b->slot ||
        (uint64_t)a->n + b->n > FQ_MAX_WRITE) {
        d->j++;
        return 0;
    }
    copy_best(d);
    d->cand.a[d->j].n = a->n + b->n;
    memmove(&d->cand.a[d->j + 1], &d->cand.a[d->j + 2],
            (d->cand.count - d->j - 2) * sizeof d->cand.a[0]);
    d->cand.count--;
    return 1;
}

/* One step of the size search: a candidate is ready (1), or it moved on (0). */
static int next_size(struct dd_state *d)
{
    const struct fq_action *a;

    if (d->j >= d->best.count) {
        d->phase = DD_RENUMBER;
        return 0;
    }
    a = &d->best.a[d->j];
    if (!d->searching) {
        if (!sized(a) || a->n == 0) {
            d->j++;
            return 0;
        }
        d->searching = 1;
        d->lo = 0;
        d->hi = a->n;
        d->tried = 0; /* the smallest size first: often it is enough */
    } else if (d->lo >= d->hi) {
        d->searching = 0;
        d->j++;
        return 0;
    } else if (d->lo == 1 && d->tried == 0) {
        d->tried = 1; /* 0 passed: 1 next, before bisecting (most defects ignore sizes) */
    } else {
        d->tried = d->lo + (d->hi - d->lo) / 2;
    }
    copy_best(d);
    d->cand.a[d->j].n = d->tried;
    /* best is normal (every sequence it takes is), and a size above 0 keeps a sized action
     * and every slot's state as they were: only a write or pause of 0 goes away. */
    if (d->tried == 0)
        fq_normalize(&d->cand);
    if (d->cand.count == 0) {
        /* Nothing left to run: not a candidate, and nothing to learn from it. */
        d->lo = d->tried + 1;
        return 0;
    }
    return 1;
}

_Static_assert(FQ_TCP_SLOTS <= 4 && FQ_UDP_SLOTS <= 2,
               "next_renumber keeps 4 TCP and 2 UDP slots in its maps");

/* The candidate with slots numbered in order of first use; 0 when that changes nothing. */
static int next_renumber(struct dd_state *d)
{
    /* The new number of each slot, four bits a slot (15: not used yet), in words: arrays here
     * gave dd_next, which this is inlined into, a sanitizer-checked stack frame on every
     * call. */
    unsigned tmap = 0xffff, umap = 0xff, nt = 0, nu = 0;

    copy_best(d);
    for (size_t i = 0; i < d->cand.count; i++) {
        struct fq_action *a = &d->cand.a[i];
        /* Normalized sequences hold slots in range only. */
        unsigned sh = 4u * a->slot;
        if (a->op == FQ_SEND) {
            if (((umap >> sh) & 15) == 15)
                umap = (umap & ~(15u << sh)) | nu++ << sh;
            a->slot = (uint8_t)((umap >> sh) & 15);
        } else if (a->op != FQ_PAUSE) {
            if (((tmap >> sh) & 15) == 15)
                tmap = (tmap & ~(15u << sh)) | nt++ << sh;
            a->slot = (uint8_t)((tmap >> sh) & 15);
        }
    }
    if (fq_equal(&d->cand, &d->best)) {
        d->phase = DD_DONE;
        return 0;
    }
    return 1;
}

/* dd_next when no candidate is out. Out of line: the steps inlined here need a large frame,
 * and dd_next, asked again while a candidate is out, returns it without setting one up. */
static __attribute__((noinline)) const struct fq_seq *next_candidate(struct dd_state *d)
{
    /* Every step either hands out a candidate or advances idx, n, j or the phase, all
     * bounded by the sequence length, so this loop ends. */
    while (d->phase != DD_DONE) {
        int ready = d->phase == DD_ACTIONS  ? next_actions(d)
                    : d->phase == DD_MERGE  ? next_merge(d)
                    : d->phase == DD_SIZES  ? next_size(d)
                                            : next_renumber(d);
        if (ready) {
            d->waiting = 1;
            return &d->cand;
        }
    }
    return NULL;
}

const struct fq_seq *dd_next(struct dd_state *d)
{
    return d->waiting ? &d->cand : next_candidate(d);
}

int dd_result(struct dd_state *d, int failed)
{
    if (!d->waiting)
        return EH_ERR_STATE;
    d->waiting = 0;
    d->tests++;
    if (d->phase == DD_ACTIONS) {
        if (failed) {
            d->failures++;
            keep_cand(d);
            /* ddmin: reduce to the subset (start over at n = 2), or keep the complement with
             * one chunk fewer. */
            d->n = d->subset || d->n < 3 ? 2 : d->n - 1;
            d->idx = 0;
        }
        return 0;
    }
    if (d->phase == DD_RENUMBER) {
        if (failed) {
            d->failures++;
            keep_cand(d);
        }
        d->phase = DD_DONE;
        return 0;
    }
    if (d->phase == DD_MERGE) {
        /* Kept: the merged write may merge with the next one too, so j stays. */
        if (failed) {
            d->failures++;
            keep_cand(d);
        } else {
            d->j++;
        }
        return 0;
    }
    /* DD_SIZES */
    if (failed) {
        size_t before = d->best.count;
        d->failures++;
        keep_cand(d);
        d->hi = d->tried;
        if (d->best.count < before) /* the action went away: search its successor */
            d->searching = 0;
    } else {
        d->lo = d->tried + 1;
    }
    return 0;
}
