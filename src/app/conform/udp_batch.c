/*
 * udp_batch.c - bursts of datagrams on one or two sockets (see udp_batch.h). Payloads live in
 * a static pool (the tester runs one case at a time), so nothing is allocated per datagram.
 */
#define _GNU_SOURCE
#include "conform/udp_batch.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static uint8_t rbuf[65536];
static uint8_t pool[2][CB_MAXD][CB_DGRAM_MAX];



void cb_init(struct cb_batch *c, size_t nsock)
{
    memset(c, 0, sizeof *c);
    c->nsock = nsock;
    for (size_t k = 0; k < nsock; k++) {
        c->fd[k] = -1;
        cv_dmatch_init(&c->m[k], c->slots[k], CB_MAXD);
    }
}

void cb_close(struct cb_batch *c)
{
    for (size_t k = 0; k < c->nsock; k++)
        if (c->fd[k] >= 0)
            close(c->fd[k]);
}

size_t cb_unanswered(const struct cb_batch *c)
{
    size_t u = 0;

    for (size_t k = 0; k < c->nsock; k++)
        u += cv_dmatch_unanswered(&c->m[k]);
    return u;
}

/* Whether p[0..n) is exactly one of the datagrams sent from another socket. */
static int other_socket_sent(const struct cb_batch *c, size_t k, const uint8_t *p, size_t n)
{
    for (size_t o = 0; o < c->nsock; o++) {
        if (o == k)
            continue;
        for (size_t i = 0; i < c->m[o].count; i++)
            if (c->m[o].slots[i].n == n && memcmp(c->m[o].slots[i].p, p, n) == 0)
                return 1;
    }
    return 0;
}

/* Receives on every socket for up to wait_ms, returning early once nothing is owed (unless
 * full_wait is set). Returns -errno on a socket error, else 0. */
int cb_wait(struct ct_ctx *x, struct cb_batch *c, int wait_ms, int full_wait)
{
    long long end = ct_now_ms() + wait_ms;

    for (;;) {
        struct pollfd pf[2];
        long long now = ct_now_ms();
        int rc;

        if (now >= end || now >= x->hard_ms || (!full_wait && cb_unanswered(c) == 0))
            return 0;
        for (size_t k = 0; k < c->nsock; k++) {
            pf[k].fd = c->fd[k];
            pf[k].events = POLLIN;
            pf[k].revents = 0;
        }
        rc = poll(pf, (nfds_t)c->nsock, (int)(end - now));
        if (rc < 0 && errno != EINTR)
            return -errno;
        for (size_t k = 0; rc > 0 && k < c->nsock; k++) {
            size_t n;
            struct cv_dresult r;
            if (!pf[k].revents)
                continue;
            while (ct_udp_recv(x, c->fd[k], (unsigned)k, 0, rbuf, sizeof rbuf, &n, NULL) == 1) {
                c->replies++;
                if (n > sizeof rbuf)
                    n = sizeof rbuf;
                cv_dmatch_reply(&c->m[k], rbuf, n, &r);
                if (r.kind == CV_D_MATCH) {
                    if (!c->any_match)
                        ct_udp_answered(x);
                    c->any_match = 1;
                    if (r.index + 1 < c->max_index)
                        c->reordered++;
                    if (r.index + 1 > c->max_index)
                        c->max_index = (uint32_t)r.index + 1;
                    continue;
                }
                /* A late reply answers a send; a duplicate (more exact replies than sends,
                 * retries counted) answers none and is kept as the first bad reply. */
                if (r.kind == CV_D_LATE)
                    continue;
                if (!c->have_bad) {
                    c->have_bad = 1;
                    c->first_bad = r;
                    c->bad_sock = (int)k;
                    c->crosstalk = r.kind == CV_D_FOREIGN && other_socket_sent(c, k, rbuf, n);
                }
            }
        }
    }
}

/* Sends every unanswered datagram of every socket once more. */
int cb_resend(struct ct_ctx *x, struct cb_batch *c)
{
    for (size_t k = 0; k < c->nsock; k++)
        for (size_t i = 0; i < c->m[k].count; i++) {
            struct cv_dslot *s = &c->m[k].slots[i];
            int rc;
            if (s->replies)
                continue;
            rc = ct_udp_send(x, c->fd[k], (unsigned)k, s->p, s->n);
            if (rc < 0)
                return rc;
            cv_dmatch_resend(&c->m[k], i);
        }
    return 0;
}

/* Waits, resending what is unanswered, for up to rounds rounds within the timeout. */
int cb_settle(struct ct_ctx *x, struct cb_batch *c, int rounds)
{
    long long end = ct_now_ms() + x->timeout_ms;
    int wait = 300;

    for (int i = 0; i < rounds; i++) {
        long long now = ct_now_ms();
        int rc;
        if (now >= end)
            break;
        rc = cb_wait(x, c, (int)(end - now < wait ? end - now : wait), 0);
        if (rc < 0)
            return rc;
        if (cb_unanswered(c) == 0 || i + 1 == rounds)
            break;
        rc = cb_resend(x, c);
        if (rc < 0)
            return rc;
        wait *= 2;
    }
    return 0;
}

int cb_open(struct ct_ctx *x, struct cb_batch *c)
{
    for (size_t k = 0; k < c->nsock; k++) {
        int rc = ct_udp_socket(x, 0, &c->fd[k]);
        if (rc < 0) {
            ct_fail(x, "cannot open a UDP socket: %s", strerror(-rc));
            return -1;
        }
    }
    return 0;
}

/* Fills pool datagram i of socket k with its own bytes and registers it. */
const uint8_t *cb_add(struct ct_ctx *x, struct cb_batch *c, size_t k, size_t i, size_t n)
{
    uint8_t *p = pool[k][i];

    cv_pattern_fill(cv_seed_derive(x->seed, k * 1000 + i), 0, p, n);
    cv_dmatch_add(&c->m[k], p, n, NULL);
    return p;
}

void cb_report_bad(struct ct_ctx *x, struct cb_batch *c)
{
    char d[200], w[64], s[80];

    if (c->crosstalk) {
        ct_fail(x, "socket %d received a reply to a datagram sent from the other socket "
                "(cross-talk)", c->bad_sock);
        ct_detail(x, "each socket gets only its own replies", "a reply meant for the other socket",
                  NULL);
        snprintf(w, sizeof w, "socket %d", c->bad_sock);
        ct_detail(x, NULL, NULL, w);
        return;
    }
    if (c->first_bad.kind == CV_D_DUPLICATE) {
        const struct cv_dslot *sl = &c->m[c->bad_sock].slots[c->first_bad.index];
        ct_fail(x, "datagram %zu (%zu byte%s) was answered %u times but sent %u time%s",
                c->first_bad.index, sl->n, cv_plural(sl->n), sl->replies, sl->sends,
                cv_plural(sl->sends));
        snprintf(s, sizeof s, "%u replies to %u send%s", sl->replies, sl->sends,
                 sl->sends == 1 ? "" : "s");
        snprintf(w, sizeof w, "datagram %zu%s", c->first_bad.index,
                 c->nsock > 1 ? (c->bad_sock ? " of socket 1" : " of socket 0") : "");
        ct_detail(x, "one reply per datagram sent", s, w);
        return;
    }
    ct_fail(x, "%s", cv_dresult_describe(&c->m[c->bad_sock], &c->first_bad, d, sizeof d));
    snprintf(s, sizeof s, "%s %zu-byte reply (%s)", cv_article(c->first_bad.n), c->first_bad.n,
             cv_dkind_name(c->first_bad.kind));
    snprintf(w, sizeof w, "datagram %zu%s", c->first_bad.index,
             c->nsock > 1 ? (c->bad_sock ? " of socket 1" : " of socket 0") : "");
    ct_detail(x, "every reply exactly one request", s, c->first_bad.kind == CV_D_FOREIGN ? NULL : w);
}

/* After every retry, more than a quarter of the datagrams still unanswered is not what a
 * lossy network does (even 20% loss each way leaves under 2% unanswered after 4 tries):
 * the server ignores datagrams. Fails the case then and returns 1. */
int cb_too_few(struct ct_ctx *x, struct cb_batch *c, size_t total, int tries)
{
    size_t un = cb_unanswered(c);
    char seen[64];

    if (un * 4 <= total)
        return 0;
    ct_fail(x, "only %zu of %zu datagrams were answered after %d tries each: far more loss "
            "than UDP's own (the server ignores or rate-limits datagrams)", total - un, total,
            tries);
    snprintf(seen, sizeof seen, "%zu answered", total - un);
    ct_detail(x, "every datagram answered (after retries)", seen, NULL);
    return 1;
}

int cb_silent(struct ct_ctx *x, struct cb_batch *c, const char *what, int tries,
                       long long t0)
{
    if (c->replies > 0)
        return 0;
    ct_udp_silence(x, what, tries, ct_now_ms() - t0);
    return 1;
}

