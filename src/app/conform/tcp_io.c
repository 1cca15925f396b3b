/*
 * tcp_io.c - the TCP side of the harness: connect, and the transfer engine that writes a
 * generated stream on one or many connections while reading and verifying the echo.
 *
 * Every wait is a poll() bounded by two limits: the timeout without progress (a dead server
 * fails after --timeout seconds) and the case's hard cap. Reads and writes are interleaved,
 * so a server that applies backpressure never deadlocks the tester; only the slow-reader
 * mode stops reading on purpose, and only until writes stall for a moment.
 */
#define _GNU_SOURCE
#include "conform/harness.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sock.h"

#define CT_MAX_CONNS 256
#define CT_IO_CHUNK 65536
#define SLOW_READ_IDLE_MS 50

int ct_tcp_connect(struct ct_ctx *x, int *fd)
{
    char a[EA_FORMAT_MAX];
    int rc = ns_connect(&x->t->tcp, SOCK_STREAM, NULL, x->timeout_ms, fd);

    if (rc < 0) {
        ct_fail(x, "cannot connect to %s: %s", ns_format(&x->t->tcp, a, sizeof a),
                ns_strerror(rc));
        ct_detail(x, "an accepted connection", ns_strerror(rc), NULL);
    }
    return rc;
}

void ct_xfer_init(struct ct_xfer *t, int fd, const uint8_t *buf, uint64_t seed, uint64_t total)
{
    memset(t, 0, sizeof *t);
    t->fd = fd;
    t->buf = buf;
    t->seed = seed;
    t->total = total;
    if (buf)
        cv_stream_init_buf(&t->v, buf, (size_t)total);
    else
        cv_stream_init_pattern(&t->v, seed, total);
}

/* Per-connection engine state that callers need not see. */
struct eng {
    long long linger_until; /* ms; 0 until the echo is complete */
    long long phase_since;  /* slow reader: last write (write phase) or read (read phase) */
    int reading;            /* slow reader: in the read phase */
    int shut;               /* SHUT_WR done */
};

/* "client 7: " for connection number no (1-based, as people count) of a multi-connection
 * run; "" for a single connection. */
static void conn_name(char *buf, size_t size, const char *label, size_t no, size_t n)
{
    if (n > 1)
        snprintf(buf, size, "%s %zu: ", label, no);
    else
        buf[0] = '\0';
}

static void fail_mismatch(struct ct_ctx *x, struct ct_xfer *t, const char *who,
                          const uint8_t *p, size_t n)
{
    char d[160], q[120], e[64], w[80];

    cv_stream_describe(&t->v, d, sizeof d);
    if (t->v.status == CV_MISMATCH) {
        ct_fail(x, "%secho differs from what was sent: %s", who, d);
        snprintf(e, sizeof e, "0x%02x at offset %llu", t->v.bad_want,
                 (unsigned long long)t->v.bad_off);
        snprintf(w, sizeof w, "%soffset %llu of %llu", who, (unsigned long long)t->v.bad_off,
                 (unsigned long long)t->total);
        ct_detail(x, e, ct_quote(p, n, 24, q, sizeof q), w);
    } else {
        ct_fail(x, "%sextra bytes after the echo: %s", who, d);
        snprintf(e, sizeof e, "exactly %llu byte%s", (unsigned long long)t->total,
                 cv_plural(t->total));
        snprintf(w, sizeof w, "%soffset %llu", who, (unsigned long long)t->total);
        ct_detail(x, e, ct_quote(p, n, 24, q, sizeof q), w);
    }
}

/* The connection broke (a reset, or another socket error err) in op ("recv", "send"). The
 * account says how much of the echo came back and what should have followed: EOF (FIN) once
 * the client has shut down its side, an open connection otherwise. */
static void fail_broken(struct ct_ctx *x, const struct ct_xfer *t, const char *who,
                        const char *op, int err)
{
    char e[96], d[128], w[120];
    int reset = err == ECONNRESET || err == EPIPE;
    int want_eof = t->shut_wr || t->after == CT_AFTER_EOF;
    unsigned long long got = t->v.got, sent = t->sent, total = t->total;

    if (t->v.status == CV_DONE && want_eof && reset)
        ct_fail(x, "%sall %llu byte%s echoed, then the server reset the connection (RST) "
                "instead of closing it (FIN)", who, total, cv_plural(total));
    else if (t->v.status == CV_DONE)
        ct_fail(x, "%sall %llu byte%s echoed, then %s: %s while the client kept the "
                "connection open", who, total, cv_plural(total), op, strerror(err));
    else
        ct_fail(x, "%s%s: %s after %llu of %llu byte%s sent (%llu echoed)", who, op,
                strerror(err), sent, total, cv_plural(total), got);
    snprintf(e, sizeof e, want_eof ? "%llu byte%s, then EOF (FIN)" : "%llu byte%s, connection open",
             total, cv_plural(total));
    if (reset)
        snprintf(d, sizeof d, "%llu byte%s, then a reset (RST)", got, got == 1 ? "" : "s");
    else
        snprintf(d, sizeof d, "%llu byte%s, then %s: %s", got, got == 1 ? "" : "s", op,
                 strerror(err));
    snprintf(w, sizeof w, "%soffset %llu of the echo (%llu byte%s sent)", who, got, sent,
             cv_plural(sent));
    ct_detail(x, e, d, w);
}

/* Feeds whatever the server had already echoed (waiting in our receive queue when a send
 * fails) to the verifier, so the account counts it. Returns 1 when that showed a wrong or
 * extra byte (reported), 0 otherwise. */
static int drain_waiting(struct ct_ctx *x, struct ct_xfer *t, size_t i, const char *who)
{
    static uint8_t buf[CT_IO_CHUNK];

    for (int k = 0; k < 256; k++) {
        uint64_t before = t->v.got;
        ssize_t r = recv(t->fd, buf, sizeof buf, MSG_DONTWAIT);
        int st;
        if (r <= 0)
            return 0;
        ct_log(x, CT_RECV, (unsigned)i, buf, (size_t)r);
        st = cv_stream_feed(&t->v, buf, (size_t)r);
        if (st == CV_MISMATCH || st == CV_EXTRA) {
            size_t at = (size_t)((st == CV_MISMATCH ? t->v.bad_off : t->total) - before);
            fail_mismatch(x, t, who, buf + at, (size_t)r - at);
            return 1;
        }
    }
    return 0;
}

static void handle_read(struct ct_ctx *x, struct ct_xfer *t, struct eng *g, size_t i, size_t n,
                        const char *label, uint8_t *rbuf, long long *progress)
{
    char who[32], d[160], e[64], w[120];

    conn_name(who, sizeof who, label, t->id ? t->id : i + 1, n);
    for (int rounds = 0; rounds < 16 && !t->done; rounds++) {
        ssize_t r = recv(t->fd, rbuf, CT_IO_CHUNK, 0);
        if (r > 0) {
            uint64_t before = t->v.got;
            int st;
            ct_log(x, CT_RECV, (unsigned)i, rbuf, (size_t)r);
            *progress = ct_now_ms();
            if (!t->t_first_us)
                t->t_first_us = ct_now_us();
            st = cv_stream_feed(&t->v, rbuf, (size_t)r);
            if (st == CV_MISMATCH) {
                size_t at = (size_t)(t->v.bad_off - before);
                fail_mismatch(x, t, who, rbuf + at, (size_t)r - at);
                t->done = 1;
            } else if (st == CV_EXTRA) {
                size_t at = (size_t)(t->total - before);
                fail_mismatch(x, t, who, rbuf + at, (size_t)r - at);
                t->done = 1;
            } else if (st == CV_DONE && !g->linger_until) {
                t->t_done_us = ct_now_us();
                g->linger_until = ct_now_ms() + (t->after == CT_AFTER_LINGER ? t->linger_ms : 0);
                if (t->after == CT_AFTER_NONE)
                    t->done = 1;
            }
            if (g->reading && t->v.got >= t->sent)
                g->reading = 0, g->phase_since = ct_now_ms();
            else if (g->reading)
                g->phase_since = ct_now_ms();
            continue;
        }
        if (r == 0) {
            t->eof = 1;
            t->done = 1;
            ct_log_event(x, (unsigned)i, "EOF");
            *progress = ct_now_ms();
            if (t->v.status == CV_MORE) {
                ct_fail(x, "%sconnection closed by the server after %llu of %llu byte%s "
                        "echoed", who, (unsigned long long)t->v.got,
                        (unsigned long long)t->total, cv_plural(t->total));
                snprintf(e, sizeof e, "%llu byte%s", (unsigned long long)t->total,
                         cv_plural(t->total));
                snprintf(d, sizeof d, "%llu byte%s, then EOF", (unsigned long long)t->v.got,
                         cv_plural(t->v.got));
                snprintf(w, sizeof w, "%soffset %llu (%llu byte%s had been sent)", who,
                         (unsigned long long)t->v.got, (unsigned long long)t->sent,
                         cv_plural(t->sent));
                ct_detail(x, e, d, w);
            }
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        t->err = -errno;
        t->done = 1;
        ct_log_event(x, (unsigned)i, errno == ECONNRESET ? "RST" : "recv error");
        fail_broken(x, t, who, "recv", -t->err);
        return;
    }
}

static void handle_write(struct ct_ctx *x, struct ct_xfer *t, struct eng *g, size_t i,
                         const char *who, uint8_t *wbuf, long long *progress)
{
    size_t lim = t->wchunk ? t->wchunk : CT_IO_CHUNK;

    while (t->sent < t->total) {
        uint64_t left = t->total - t->sent;
        size_t k = left < lim ? (size_t)left : lim;
        ssize_t w;
        if (k > CT_IO_CHUNK)
            k = CT_IO_CHUNK;
        if (t->buf)
            memcpy(wbuf, t->buf + t->sent, k);
        else
            cv_pattern_fill(t->seed, t->sent, wbuf, k);
        w = send(t->fd, wbuf, k, MSG_NOSIGNAL);
        if (w > 0) {
            ct_log(x, CT_SENT, (unsigned)i, wbuf, (size_t)w);
            t->sent += (uint64_t)w;
            if (t->sent - t->v.got > t->max_unread)
                t->max_unread = t->sent - t->v.got;
            *progress = ct_now_ms();
            if (t->stall_ms)
                g->phase_since = *progress;
            if (t->wchunk)
                break; /* one write per poll round: small writes stay separate */
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        t->err = -errno;
        t->done = 1;
        ct_log_event(x, (unsigned)i, errno == ECONNRESET || errno == EPIPE ? "RST" : "send error");
        /* What the server echoed before the reset is still queued for us: count it. */
        if (!drain_waiting(x, t, i, who))
            fail_broken(x, t, who, "send", -t->err);
        return;
    }
    if (t->sent == t->total && t->shut_wr && !g->shut) {
        g->shut = 1;
        shutdown(t->fd, SHUT_WR);
        ct_log_event(x, (unsigned)i, "SHUT_WR");
    }
}

static void fail_timeout(struct ct_ctx *x, struct ct_xfer *t, size_t n, const char *label,
                         int hard)
{
    size_t open = 0, first = n;
    char d[160], who[32], e[64], w[120];
    double secs = hard ? (double)(ct_now_ms() - x->start_ms) / 1000.0 : x->timeout_ms / 1000.0;

    for (size_t i = 0; i < n; i++)
        if (!t[i].done) {
            open++;
            if (first == n)
                first = i;
        }
    if (first == n)
        return;
    conn_name(who, sizeof who, label, t[first].id ? t[first].id : first + 1, n);
    if (t[first].v.status == CV_DONE && t[first].after == CT_AFTER_EOF) {
        ct_fail(x, "timed out after %.3g s: %sall %llu byte%s echoed but no EOF after SHUT_WR",
                secs, who, (unsigned long long)t[first].total, cv_plural(t[first].total));
        ct_detail(x, "EOF after the echo", "the connection stayed open", NULL);
        return;
    }
    cv_stream_describe(&t[first].v, d, sizeof d);
    if (n > 1)
        ct_fail(x, "timed out after %.3g s: %zu of %zu %ss unfinished; %s%s", secs, open, n,
                label, who, d);
    else
        ct_fail(x, "timed out after %.3g s: %s (%llu byte%s sent)", secs, d,
                (unsigned long long)t[first].sent, cv_plural(t[first].sent));
    snprintf(e, sizeof e, "%llu byte%s", (unsigned long long)t[first].total,
             cv_plural(t[first].total));
    ct_detail(x, e, d, NULL);
    snprintf(w, sizeof w, "%soffset %llu, %.3g s waited", who,
             (unsigned long long)t[first].v.got, secs);
    ct_detail(x, NULL, NULL, w);
}

int ct_xfer_run(struct ct_ctx *x, struct ct_xfer *t, size_t n, const char *label)
{
    static uint8_t wbuf[CT_IO_CHUNK], rbuf[CT_IO_CHUNK];
    struct pollfd pf[CT_MAX_CONNS];
    struct eng g[CT_MAX_CONNS];
    size_t map[CT_MAX_CONNS];
    long long progress = ct_now_ms();
    char who[32];

    if (n > CT_MAX_CONNS) {
        ct_fail(x, "internal: too many connections (%zu)", n);
        return -1;
    }
    memset(g, 0, sizeof g);
    for (size_t i = 0; i < n; i++) {
        g[i].phase_since = progress;
        if (t[i].v.status == CV_DONE && t[i].after == CT_AFTER_NONE && !t[i].shut_wr)
            t[i].done = 1;
    }
    for (;;) {
        long long now = ct_now_ms(), wake = progress + x->timeout_ms;
        size_t m = 0;
        int rc, fail = 0;

        for (size_t i = 0; i < n; i++) {
            short ev = 0;
            if (t[i].done)
                continue;
            if (t[i].err)
                fail = 1;
            conn_name(who, sizeof who, label, t[i].id ? t[i].id : i + 1, n);
            if (t[i].stall_ms && !g[i].reading && t[i].sent < t[i].total &&
                now - g[i].phase_since >= t[i].stall_ms) {
                /* Writes stalled: the server holds back. Now read what it kept for us. */
                uint64_t unread = t[i].sent - t[i].v.got;
                if (unread > t[i].max_unread)
                    t[i].max_unread = unread;
                g[i].reading = 1;
                g[i].phase_since = now;
            } else if (t[i].stall_ms && g[i].reading &&
                       now - g[i].phase_since >= SLOW_READ_IDLE_MS) {
                g[i].reading = 0;
                g[i].phase_since = now;
            }
            if (t[i].sent < t[i].total && !(t[i].stall_ms && g[i].reading))
                ev |= POLLOUT;
            if (!t[i].stall_ms || g[i].reading || t[i].sent == t[i].total)
                ev |= POLLIN;
            if (t[i].sent == t[i].total && t[i].shut_wr && !g[i].shut)
                handle_write(x, &t[i], &g[i], i, who, wbuf, &progress);
            if (g[i].linger_until) {
                if (t[i].after == CT_AFTER_LINGER && now >= g[i].linger_until) {
                    t[i].done = 1;
                    continue;
                }
                if (t[i].after == CT_AFTER_LINGER && g[i].linger_until < wake)
                    wake = g[i].linger_until;
            }
            if (t[i].stall_ms && t[i].sent < t[i].total) {
                long long ph = g[i].phase_since +
                               (g[i].reading ? SLOW_READ_IDLE_MS : t[i].stall_ms);
                if (ph < wake)
                    wake = ph;
            }
            pf[m].fd = t[i].fd;
            pf[m].events = ev;
            pf[m].revents = 0;
            map[m++] = i;
        }
        if (m == 0)
            break;
        if (fail || x->status == CT_FAIL)
            break;
        if (now >= x->hard_ms) {
            fail_timeout(x, t, n, label, 1);
            break;
        }
        if (now - progress >= x->timeout_ms) {
            fail_timeout(x, t, n, label, 0);
            break;
        }
        if (wake > x->hard_ms)
            wake = x->hard_ms;
        rc = poll(pf, (nfds_t)m, wake > now ? (int)(wake - now) : 0);
        if (rc < 0 && errno != EINTR) {
            ct_fail(x, "poll: %s", strerror(errno));
            break;
        }
        for (size_t k = 0; rc > 0 && k < m; k++) {
            size_t i = map[k];
            if (!pf[k].revents)
                continue;
            conn_name(who, sizeof who, label, t[i].id ? t[i].id : i + 1, n);
            if (pf[k].revents & (POLLIN | POLLHUP | POLLERR))
                handle_read(x, &t[i], &g[i], i, n, label, rbuf, &progress);
            if (!t[i].done && (pf[k].revents & POLLOUT))
                handle_write(x, &t[i], &g[i], i, who, wbuf, &progress);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!t[i].done || t[i].err || t[i].v.status != CV_DONE)
            return -1;
    return x->status == CT_FAIL ? -1 : 0;
}

long ct_tcp_peek(struct ct_ctx *x, int fd, int wait_ms, uint8_t *buf, size_t cap, int *eof)
{
    long long end = ct_now_ms() + wait_ms;
    size_t got = 0;

    if (end > x->hard_ms)
        end = x->hard_ms;

    *eof = 0;
    for (;;) {
        long long now = ct_now_ms();
        int rc;
        ssize_t r;
        if (now >= end || got == cap)
            return (long)got;
        rc = ns_wait(fd, POLLIN, (int)(end - now));
        if (rc < 0)
            return rc;
        if (rc == 0)
            return (long)got;
        r = recv(fd, buf + got, cap - got, 0);
        if (r > 0) {
            ct_log(x, CT_RECV, 0, buf + got, (size_t)r);
            got += (size_t)r;
        } else if (r == 0) {
            ct_log_event(x, 0, "EOF");
            *eof = 1;
            return (long)got;
        } else if (errno != EINTR && errno != EAGAIN) {
            ct_log_event(x, 0, errno == ECONNRESET ? "RST" : "recv error");
            return -errno;
        }
    }
}

int ct_tcp_write_all(struct ct_ctx *x, int fd, unsigned conn, const uint8_t *p, size_t n)
{
    size_t off = 0;
    long long progress = ct_now_ms();

    while (off < n) {
        ssize_t w = send(fd, p + off, n - off, MSG_NOSIGNAL);
        if (w > 0) {
            ct_log(x, CT_SENT, conn, p + off, (size_t)w);
            off += (size_t)w;
            progress = ct_now_ms();
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        if (ct_now_ms() - progress >= x->timeout_ms || ct_now_ms() >= x->hard_ms)
            return -ETIMEDOUT;
        ns_wait(fd, POLLOUT, 50);
    }
    return 0;
}
