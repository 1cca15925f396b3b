/*
 * cases_udp.c - the UDP cases of echo-conform, one function per catalog id (RFC 862 over
 * RFC 768). Each datagram must come back as one datagram with exactly its bytes; the
 * classification (match, truncated, merged, split, duplicate, foreign, late) is the core
 * matcher's. UDP may lose: unanswered datagrams are sent again before any verdict, and loss
 * alone is only an INFO figure unless nothing comes back at all.
 */
#define _GNU_SOURCE
#include "conform/cases.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conform/udp_batch.h"
#include "net/sock.h"


static uint8_t rbuf[65536];
static uint8_t big[65536];

/* Fails the case for a single-datagram exchange whose reply was not an exact match. */
static void judge_one(struct ct_ctx *x, const struct cv_dmatch *m, const struct cv_dresult *r,
                      size_t n)
{
    char d[200], e[64], s[120];

    if (r->kind == CV_D_MATCH)
        return;
    ct_fail(x, "%s", cv_dresult_describe(m, r, d, sizeof d));
    snprintf(e, sizeof e, "one %zu-byte datagram equal to the request", n);
    if (r->kind == CV_D_TRUNCATED)
        snprintf(s, sizeof s, "%zu byte%s (truncated)", r->n, cv_plural(r->n));
    else if (r->kind == CV_D_ALTERED)
        snprintf(s, sizeof s, "%zu byte%s, first difference at offset %zu", r->n,
                 cv_plural(r->n), r->bad_off);
    else
        snprintf(s, sizeof s, "%zu byte%s (%s)", r->n, cv_plural(r->n), cv_dkind_name(r->kind));
    ct_detail(x, e, s, "datagram 0");
}

/* One datagram p[0..n) must come back exactly; with linger_ms > 0, exactly once: an exact
 * reply beyond the tries seen within linger_ms after the first one is a duplicate. */
static int one_datagram(struct ct_ctx *x, const uint8_t *p, size_t n, int linger_ms)
{
    struct cv_dslot slot;
    struct cv_dmatch m;
    struct cv_dresult r;
    unsigned extra = 0;
    int rc = ct_udp_roundtrip(x, p, n, rbuf, &r, linger_ms, &extra, NULL);

    if (rc != 1)
        return -1;
    cv_dmatch_init(&m, &slot, 1);
    cv_dmatch_add(&m, p, n, NULL);
    judge_one(x, &m, &r, n);
    if (extra) {
        char seen[64];
        ct_fail(x, "datagram 0 (%zu byte%s) was answered %u more time%s than it was sent", n,
                cv_plural(n), extra, cv_plural(extra));
        snprintf(seen, sizeof seen, "%u exact replies beyond the tries", extra);
        ct_detail(x, "one reply per datagram sent", seen, "datagram 0");
    }
    return x->status == CT_FAIL ? -1 : 0;
}

static void run_single(struct ct_ctx *x)
{
    static const uint8_t msg[] = "Hello, UDP echo! RFC 862\r\n";

    if (one_datagram(x, msg, sizeof msg - 1, 0) < 0 && x->s && !x->s->udp_answered) {
        x->s->udp_dead = 1;
        snprintf(x->s->udp_why, sizeof x->s->udp_why, "udp.single failed: %.360s", x->message);
    }
}

static void run_empty(struct ct_ctx *x)
{
    struct cv_dslot slot;
    struct cv_dmatch m;
    struct cv_dresult r;
    unsigned extra = 0;

    if (ct_udp_roundtrip(x, NULL, 0, rbuf, &r, 300, &extra, NULL) != 1)
        return;
    cv_dmatch_init(&m, &slot, 1);
    cv_dmatch_add(&m, NULL, 0, NULL);
    if (r.kind != CV_D_MATCH) {
        ct_fail(x, "an empty datagram was answered with %s %zu-byte datagram", cv_article(r.n),
                r.n);
        ct_detail(x, "one empty datagram", "a non-empty datagram", "datagram 0");
    } else if (extra) {
        ct_fail(x, "an empty datagram got %u repl%s more than it was sent", extra,
                extra == 1 ? "y" : "ies");
        ct_detail(x, "exactly one empty datagram", "more than one reply", "datagram 0");
    }
}

static void run_all256(struct ct_ctx *x)
{
    uint8_t buf[256];

    for (int i = 0; i < 256; i++)
        buf[i] = (uint8_t)i;
    one_datagram(x, buf, sizeof buf, 0);
}

/* How long a size case watches for a second copy of its reply. A server that sends a reply
 * twice sends the copies back to back; udp.duplicate watches longer for late copies. */
#define SIZE_LINGER_MS 30

static void run_size(struct ct_ctx *x, size_t n)
{
    cv_pattern_fill(x->seed, 0, big, n);
    one_datagram(x, big, n, SIZE_LINGER_MS);
}

#define SIZE_CASE(name, n)                                                                        \
    static void name(struct ct_ctx *x)                                                            \
    {                                                                                             \
        run_size(x, n);                                                                           \
    }
SIZE_CASE(run_size_1, 1)
SIZE_CASE(run_size_512, 512)
SIZE_CASE(run_size_1024, 1024)
SIZE_CASE(run_size_1025, 1025)
SIZE_CASE(run_size_1472, 1472)
SIZE_CASE(run_size_1473, 1473)
SIZE_CASE(run_size_2048, 2048)
SIZE_CASE(run_size_2049, 2049)
SIZE_CASE(run_size_4096, 4096)
SIZE_CASE(run_size_4097, 4097)
SIZE_CASE(run_size_8192, 8192)
SIZE_CASE(run_size_8193, 8193)

static void run_size_max(struct ct_ctx *x)
{
    /* 65535 minus the IPv4 (20) or, for IPv6, no header in the payload length, minus UDP (8). */
    run_size(x, x->t->udp.family == EA_INET6 ? 65527 : 65507);
}

static void run_burst(struct ct_ctx *x)
{
    static struct cb_batch c;
    enum { N = 64 };
    long long t0 = ct_now_ms();
    size_t lost_first;

    cb_init(&c, 1);
    if (cb_open(x, &c) < 0)
        goto out;
    for (size_t i = 0; i < N; i++) {
        size_t n = 1 + (size_t)(cv_seed_derive(x->seed, i) % CB_DGRAM_MAX);
        const uint8_t *p = cb_add(x, &c, 0, i, n);
        if (ct_udp_send(x, c.fd[0], 0, p, n) < 0) {
            ct_fail(x, "sendto: %s", strerror(errno));
            goto out;
        }
    }
    cb_wait(x, &c, 300, 0);
    lost_first = cb_unanswered(&c);
    cb_settle(x, &c, 4);
    if (cb_silent(x, &c, "a burst of 64 datagrams", 4, t0))
        goto out;
    if (c.have_bad) {
        cb_report_bad(x, &c);
        goto out;
    }
    if (cb_too_few(x, &c, N, 4))
        goto out;
    /* Give up on what is still unanswered; a reply to it from now on is late (INFO). */
    for (size_t i = 0; i < c.m[0].count; i++)
        if (!c.slots[0][i].replies)
            cv_dmatch_expire(&c.m[0], i);
    cb_wait(x, &c, 200, 1);
    if (c.have_bad) {
        cb_report_bad(x, &c);
        goto out;
    }
    ct_note(x, "%zu of %d answered (%zu unanswered before retries), %u reordered, %u duplicate, "
            "%u late", N - cb_unanswered(&c) + c.m[0].kinds[CV_D_LATE], N, lost_first,
            c.reordered, c.m[0].kinds[CV_D_DUPLICATE], c.m[0].kinds[CV_D_LATE]);
out:
    cb_close(&c);
}

/* Receives on fd until end_ms (or, when stop is not NULL, until *stop turns non-zero), and
 * classifies every reply with m; got[i] counts the replies given to slot i, exact or not. */
static int dup_drain(struct ct_ctx *x, int fd, struct cv_dmatch *m, unsigned *got,
                     long long end_ms, const unsigned *stop)
{
    for (;;) {
        long long now = ct_now_ms();
        struct cv_dresult r;
        size_t rn;
        int rc;

        if (now >= end_ms || now >= x->hard_ms || (stop && *stop))
            return 0;
        rc = ct_udp_recv(x, fd, 0, (int)(end_ms - now), rbuf, sizeof rbuf, &rn, NULL);
        if (rc < 0 && rc != -ECONNREFUSED)
            return rc;
        if (rc != 1)
            continue;
        cv_dmatch_reply(m, rbuf, rn < sizeof rbuf ? rn : sizeof rbuf, &r);
        if (r.kind != CV_D_FOREIGN)
            got[r.index]++;
        if (r.kind == CV_D_MATCH || r.kind == CV_D_LATE)
            ct_udp_answered(x);
    }
}

static void run_duplicate(struct ct_ctx *x)
{
    /* Sizes on both sides of the usual buffer and MTU limits, up to the largest datagram: a
     * server may duplicate only the datagrams that take another path through it. */
    enum { N = 9, WATCH_MS = 1000 };
    size_t sizes[N] = {1, 100, 1024, 1025, 1472, 1473, 4097, 8193, 65507};
    static uint8_t pay[1 + 100 + 1024 + 1025 + 1472 + 1473 + 4097 + 8193 + 65527];
    struct cv_dslot slots[N];
    struct cv_dmatch m;
    unsigned got[N];
    long long t0 = ct_now_ms();
    size_t off = 0, first = 0, sent = 0;
    int fd, rc, tries = 0;

    if (x->t->udp.family == EA_INET6)
        sizes[N - 1] = 65527;
    memset(got, 0, sizeof got);
    cv_dmatch_init(&m, slots, N);
    rc = ct_udp_socket(x, 0, &fd);
    if (rc < 0) {
        ct_fail(x, "cannot open a UDP socket: %s", strerror(-rc));
        return;
    }
    /* One at a time, each answered (exactly or not: truncation is the size cases' finding)
     * or given up on before the next, resent after 250, 500, 1000 ms; then a quiet watch in
     * which any exact reply beyond the sends is one too many, however late. */
    for (size_t i = 0; i < N && x->status != CT_FAIL; i++) {
        uint8_t *p = pay + off;
        long long end = ct_now_ms() + x->timeout_ms;
        int wait = 250;
        cv_pattern_fill(cv_seed_derive(x->seed, i), 0, p, sizes[i]);
        off += sizes[i];
        cv_dmatch_add(&m, p, sizes[i], NULL);
        sent++;
        for (int k = 0; !got[i]; k++) {
            long long now = ct_now_ms(), until = now + wait;
            if (now >= end || now >= x->hard_ms)
                break;
            if (k > 0)
                cv_dmatch_resend(&m, i);
            rc = ct_udp_send(x, fd, 0, p, sizes[i]);
            if (rc < 0) {
                ct_fail(x, "sendto: %s (%s %zu-byte datagram)", strerror(-rc),
                        cv_article(sizes[i]), sizes[i]);
                goto out;
            }
            tries++;
            rc = dup_drain(x, fd, &m, got, until < end ? until : end, &got[i]);
            if (rc < 0) {
                ct_fail(x, "recvfrom: %s", strerror(-rc));
                goto out;
            }
            wait *= 2;
        }
        if (!got[i])
            cv_dmatch_expire(&m, i);
        if (i == 0 && !got[0]) {
            close(fd);
            ct_udp_silence(x, "the first datagram of udp.duplicate", tries, ct_now_ms() - t0);
            return;
        }
    }
    rc = dup_drain(x, fd, &m, got, ct_now_ms() + WATCH_MS, NULL);
    if (cv_dmatch_excess(&m, &first) > 0) {
        const struct cv_dslot *sl = &slots[first];
        char seen[64], w[64];
        ct_fail(x, "datagram %zu (%zu byte%s) was answered %u times but sent %u time%s", first,
                sl->n, cv_plural(sl->n), sl->replies, sl->sends, cv_plural(sl->sends));
        snprintf(seen, sizeof seen, "%u replies to %u send%s", sl->replies, sl->sends,
                 sl->sends == 1 ? "" : "s");
        snprintf(w, sizeof w, "datagram %zu (%zu byte%s), %.3g s after the first send", first,
                 sl->n, cv_plural(sl->n), (ct_now_ms() - t0) / 1000.0);
        ct_detail(x, "one reply per datagram sent", seen, w);
    } else {
        ct_note(x, "%zu datagrams of 1 to %zu bytes, none answered more often than sent "
                "(watched %.3g s more)", sent, sizes[N - 1], WATCH_MS / 1000.0);
    }
out:
    close(fd);
}

/* Datagrams of several sizes, one at a time, each from a fresh socket: a server may answer
 * large datagrams through another socket. Every reply's source is checked by ct_udp_recv.
 * Returns 1 when all were answered and the case has not failed. */
static int source_probes(struct ct_ctx *x)
{
    static const uint8_t msg[] = "where does my echo come from?";
    static const size_t sizes[] = {sizeof msg - 1, 1025, 1473, 8193};
    struct cv_dresult r;

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const uint8_t *p = msg;
        if (i > 0) {
            cv_pattern_fill(cv_seed_derive(x->seed, i), 0, big, sizes[i]);
            p = big;
        }
        if (ct_udp_roundtrip(x, p, sizes[i], rbuf, &r, 0, NULL, NULL) != 1 ||
            x->status == CT_FAIL)
            return 0;
    }
    return 1;
}

static void run_source(struct ct_ctx *x)
{
    /* MUST: the port. A reply from another port fails here (and in any case that sees one);
     * another address of the right port is udp.source.addr's (SHOULD). */
    char a[EA_FORMAT_MAX];

    if (!source_probes(x))
        return;
    ct_note(x, "replies to datagrams of 29, 1025, 1473 and 8193 bytes came from port %u, where "
            "the requests went (%s)", (unsigned)x->t->udp.port,
            ns_format(&x->t->udp, a, sizeof a));
}

static void run_source_addr(struct ct_ctx *x)
{
    /* SHOULD (RFC 1122 3.3.4.2): the reply's source address is the one the request went to.
     * Judges every reply seen so far in this run (ct_udp_recv keeps the first from another
     * address in the session) and its own probes. Without a session it keeps its own. */
    struct ct_session own;
    struct ct_session *keep = x->s;
    char a[EA_FORMAT_MAX];

    if (!x->s) {
        memset(&own, 0, sizeof own);
        x->s = &own;
    }
    if (!x->s->udp_other_addr)
        source_probes(x);
    if (x->s->udp_other_addr && x->status != CT_FAIL) {
        ct_fail(x, "%s (RFC 1122 3.3.4.2: a reply SHOULD come from the address the request was "
                "sent to)", x->s->addr_msg);
        ct_detail(x, x->s->addr_expected, x->s->addr_seen, x->s->addr_where);
    } else if (x->status != CT_FAIL) {
        ct_note(x, "every reply so far came from %s, the address the requests went to",
                ns_format(&x->t->udp, a, sizeof a));
    }
    x->s = keep;
}

static void run_interleave(struct ct_ctx *x)
{
    static struct cb_batch c;
    enum { N = 16 };
    long long t0 = ct_now_ms();

    cb_init(&c, 2);
    if (cb_open(x, &c) < 0)
        goto out;
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < 2; k++) {
            const uint8_t *p = cb_add(x, &c, k, i, 200);
            if (ct_udp_send(x, c.fd[k], (unsigned)k, p, 200) < 0) {
                ct_fail(x, "sendto: %s", strerror(errno));
                goto out;
            }
        }
    cb_settle(x, &c, 4);
    if (cb_silent(x, &c, "two sockets' datagrams", 4, t0))
        goto out;
    if (c.have_bad) {
        cb_report_bad(x, &c);
        goto out;
    }
    for (size_t k = 0; k < 2; k++)
        if (cv_dmatch_unanswered(&c.m[k]) == N) {
            ct_fail(x, "socket %zu got no reply at all while the other one did", k);
            ct_detail(x, "replies on both sockets", "none on one socket", NULL);
            goto out;
        }
    if (cb_too_few(x, &c, 2 * N, 4))
        goto out;
    ct_note(x, "%zu of %d datagrams answered on the right socket", 2 * N - cb_unanswered(&c),
            2 * N);
out:
    cb_close(&c);
}

static void run_loop7(struct ct_ctx *x)
{
    static const uint8_t msg[] = "loop probe from port 7";
    struct ea_addr local;
    int fd, rc;

    /* Bound to port 7 with SO_REUSEADDR and connected to the target: the kernel prefers the
     * exact 4-tuple, so two testers probing two servers at once each get their own replies. */
    memset(&local, 0, sizeof local);
    local.family = x->t->udp.family == EA_INET6 ? EA_INET6 : EA_INET;
    local.port = 7;
    rc = ns_connect(&x->t->udp, SOCK_DGRAM, &local, 1000, &fd);
    if (rc == -EACCES || rc == -EPERM) {
        ct_skip(x, "needs privilege to send from source port 7");
        return;
    }
    if (rc < 0) {
        ct_skip(x, "cannot send from source port 7: %s", strerror(-rc));
        return;
    }
    /* Two tries, so a lost datagram does not pass by accident. */
    for (int i = 0; i < 2 && x->status != CT_FAIL; i++) {
        uint8_t buf[64];
        ssize_t r;
        if (send(fd, msg, sizeof msg - 1, 0) < 0)
            break; /* ECONNREFUSED: an ICMP answer is no echo */
        ct_log(x, CT_SENT, 0, msg, sizeof msg - 1);
        if (ns_wait(fd, POLLIN, 400) <= 0)
            continue;
        r = recv(fd, buf, sizeof buf, 0);
        if (r >= 0) {
            ct_log(x, CT_RECV, 0, buf, (size_t)r < sizeof buf ? (size_t)r : sizeof buf);
            ct_fail(x, "a datagram from source port 7 was answered: two echo services could "
                    "bounce it between them forever (CVE-1999-0103)");
            ct_detail(x, "no reply to source port 7", "a reply", NULL);
        }
    }
    close(fd);
    /* Silence proves loop protection only if the server still answers everyone else. */
    if (x->status != CT_FAIL && !ct_udp_still_answers(x))
        ct_skip(x, "cannot judge: a control datagram from an ephemeral port got no reply "
                   "either, so the silence towards port 7 may not be loop protection");
}

static void run_loss(struct ct_ctx *x)
{
    static struct cb_batch c;
    enum { N = 200 };
    long long t0 = ct_now_ms();
    size_t lost;

    cb_init(&c, 1);
    if (cb_open(x, &c) < 0)
        goto out;
    for (size_t i = 0; i < N; i++) {
        const uint8_t *p = cb_add(x, &c, 0, i, 64);
        if (ct_udp_send(x, c.fd[0], 0, p, 64) < 0) {
            ct_fail(x, "sendto: %s", strerror(errno));
            goto out;
        }
    }
    cb_wait(x, &c, x->timeout_ms < 1000 ? x->timeout_ms : 1000, 0);
    if (cb_silent(x, &c, "200 datagrams", 1, t0))
        goto out;
    lost = cb_unanswered(&c);
    ct_note(x, "lost %zu of %d (%.1f%%), %u reordered, no retries", lost, N,
            100.0 * (double)lost / N, c.reordered);
out:
    cb_close(&c);
}

const struct ct_runner ct_udp_runners[] = {
    {"udp.single", run_single},
    {"udp.empty", run_empty},
    {"udp.bytes.all256", run_all256},
    {"udp.size.1", run_size_1},
    {"udp.size.512", run_size_512},
    {"udp.size.1024", run_size_1024},
    {"udp.size.1025", run_size_1025},
    {"udp.size.1472", run_size_1472},
    {"udp.size.1473", run_size_1473},
    {"udp.size.2048", run_size_2048},
    {"udp.size.2049", run_size_2049},
    {"udp.size.4096", run_size_4096},
    {"udp.size.4097", run_size_4097},
    {"udp.size.8192", run_size_8192},
    {"udp.size.8193", run_size_8193},
    {"udp.size.max", run_size_max},
    {"udp.burst", run_burst},
    {"udp.duplicate", run_duplicate},
    {"udp.source.match", run_source},
    {"udp.source.addr", run_source_addr},
    {"udp.interleave.2sockets", run_interleave},
    {"udp.loop.port7", run_loop7},
    {"udp.perf.loss", run_loss},
    {NULL, NULL},
};

ct_run_fn ct_runner(const char *id)
{
    const struct ct_runner *tables[2] = {ct_tcp_runners, ct_udp_runners};

    for (int k = 0; k < 2; k++)
        for (const struct ct_runner *r = tables[k]; r->id; r++)
            if (strcmp(r->id, id) == 0)
                return r->run;
    return NULL;
}
