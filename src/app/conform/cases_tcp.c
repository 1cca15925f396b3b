/*
 * cases_tcp.c - the TCP cases of echo-conform, one function per catalog id (RFC 862 over
 * RFC 9293). Each checks every byte against the generated stream; what counts as correct is
 * decided by the verifier in core/verdict.c, how to wait by the harness.
 */
#define _GNU_SOURCE
#include "conform/cases.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sock.h"

/* One connection, one transfer of total bytes (buf, or the pattern of seed). */
static int echo_once(struct ct_ctx *x, const uint8_t *buf, uint64_t seed, uint64_t total,
                     size_t wchunk, int after, int linger_ms, int shut_wr, struct ct_xfer *out)
{
    struct ct_xfer t;
    int fd, rc;

    if (ct_tcp_connect(x, &fd) < 0)
        return -1;
    ct_xfer_init(&t, fd, buf, seed, total);
    t.wchunk = wchunk;
    t.after = after;
    t.linger_ms = linger_ms;
    t.shut_wr = shut_wr;
    rc = ct_xfer_run(x, &t, 1, "client");
    close(fd);
    if (out)
        *out = t;
    return rc;
}

static void run_connect(struct ct_ctx *x)
{
    uint8_t buf[256];
    int fd, eof = 0;
    long r;

    if (ct_tcp_connect(x, &fd) < 0)
        return;
    /* Accepting and closing at once is not an echo service either. */
    r = ct_tcp_peek(x, fd, 100, buf, sizeof buf, &eof);
    if (r < 0) {
        ct_fail(x, "the connection was reset right after it was accepted (%s)", strerror((int)-r));
        ct_detail(x, "an open connection", strerror((int)-r), "0.1 s after connect");
    } else if (eof) {
        ct_fail(x, "the server closed the connection right after accepting it");
        ct_detail(x, "an open connection", "EOF", "0.1 s after connect");
    }
    close(fd);
}

static void run_banner(struct ct_ctx *x)
{
    uint8_t buf[512];
    char q[200], s[240];
    int fd, eof = 0;
    long r;

    if (ct_tcp_connect(x, &fd) < 0)
        return;
    r = ct_tcp_peek(x, fd, 500, buf, sizeof buf, &eof);
    if (r > 0) {
        ct_fail(x, "%ld unsolicited byte%s arrived before anything was sent: \"%s\"", r,
                cv_plural((uint64_t)r), ct_quote(buf, (size_t)r, 48, q, sizeof q));
        snprintf(s, sizeof s, "%ld byte%s: \"%s\"", r, cv_plural((uint64_t)r), q);
        ct_detail(x, "nothing before the first byte is sent", s, "within 0.5 s of connecting");
    } else if (eof) {
        ct_note(x, "the server closed the connection before anything was sent");
    }
    close(fd);
}

static void mark_dead_if_silent(struct ct_ctx *x, const struct ct_xfer *t)
{
    if (x->status == CT_FAIL && t->v.got == 0 && !t->eof && !t->err && x->s)
        x->s->tcp_dead = 1;
}

static void run_roundtrip_single(struct ct_ctx *x)
{
    static const uint8_t msg[] = "Hello, echo! 0123456789 RFC 862\r\n";
    struct ct_xfer t;

    memset(&t, 0, sizeof t);
    echo_once(x, msg, 0, sizeof msg - 1, 0, CT_AFTER_NONE, 0, 0, &t);
    mark_dead_if_silent(x, &t);
}

static void run_all256(struct ct_ctx *x)
{
    uint8_t buf[512];

    /* Upwards then downwards, so NUL sits both first and in the middle of a message. */
    for (int i = 0; i < 256; i++) {
        buf[i] = (uint8_t)i;
        buf[256 + i] = (uint8_t)(255 - i);
    }
    echo_once(x, buf, 0, sizeof buf, 0, CT_AFTER_NONE, 0, 0, NULL);
}

static void run_utf8(struct ct_ctx *x)
{
    static const char text[] = "Gr\xc3\xbc\xc3\x9f" "e, \xe4\xb8\x96\xe7\x95\x8c! "
                               "\xce\xa9\xce\xbc\xce\xad\xce\xb3\xce\xb1 \xf0\x9f\x90\x99 "
                               "\xe2\x82\xac 100 \xe2\x80\x94 echo";
    echo_once(x, (const uint8_t *)text, 0, sizeof text - 1, 0, CT_AFTER_NONE, 0, 0, NULL);
}

static void run_size(struct ct_ctx *x, uint64_t n)
{
    echo_once(x, NULL, x->seed, n, 0, CT_AFTER_NONE, 0, 0, NULL);
}

#define SIZE_CASE(name, n)                                                                        \
    static void name(struct ct_ctx *x)                                                            \
    {                                                                                             \
        run_size(x, n);                                                                           \
    }
SIZE_CASE(run_size_1, 1)
SIZE_CASE(run_size_1023, 1023)
SIZE_CASE(run_size_1024, 1024)
SIZE_CASE(run_size_1025, 1025)
SIZE_CASE(run_size_4095, 4095)
SIZE_CASE(run_size_4096, 4096)
SIZE_CASE(run_size_4097, 4097)
SIZE_CASE(run_size_65535, 65535)
SIZE_CASE(run_size_65536, 65536)
SIZE_CASE(run_size_65537, 65537)
SIZE_CASE(run_size_1m, 1u << 20)

static void prefix_message(struct ct_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Puts where a multi-step case failed in front of the harness's message. */
static void prefix_message(struct ct_ctx *x, const char *fmt, ...)
{
    char pre[96];
    size_t pl, ml;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    pl = strlen(pre);
    ml = strlen(x->message);
    if (pl + ml >= sizeof x->message)
        ml = sizeof x->message - 1 - pl;
    memmove(x->message + pl, x->message, ml);
    memcpy(x->message, pre, pl);
    x->message[pl + ml] = '\0';
}

static void run_roundtrip_multi(struct ct_ctx *x)
{
    static const uint32_t sizes[20] = {1,    7,   100, 1000, 4096, 2,     33,   1500, 65536, 3,
                                       8192, 513, 64,  1,    9000, 20000, 127,  4097, 1024,  5};
    int fd;

    if (ct_tcp_connect(x, &fd) < 0)
        return;
    for (int i = 0; i < 20; i++) {
        struct ct_xfer t;
        ct_xfer_init(&t, fd, NULL, cv_seed_derive(x->seed, (uint64_t)i), sizes[i]);
        if (ct_xfer_run(x, &t, 1, "client") < 0) {
            prefix_message(x, "round trip %d of %d: ", i + 1, 20);
            break;
        }
    }
    close(fd);
}

static void run_pipeline(struct ct_ctx *x)
{
    /* 64 messages of 100 bytes, each its own write, written without waiting for echoes. */
    echo_once(x, NULL, x->seed, 64 * 100, 100, CT_AFTER_NONE, 0, 0, NULL);
}

static void run_bytewise(struct ct_ctx *x)
{
    struct ct_xfer t;
    int fd;

    if (ct_tcp_connect(x, &fd) < 0)
        return;
    ns_set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    ct_xfer_init(&t, fd, NULL, x->seed, 256);
    t.wchunk = 1;
    ct_xfer_run(x, &t, 1, "client");
    close(fd);
}

static double mib_per_s(uint64_t bytes, long long us)
{
    return us > 0 ? (double)bytes / (1024.0 * 1024.0) / ((double)us / 1e6) : 0.0;
}

static void run_large(struct ct_ctx *x)
{
    struct ct_xfer t;
    long long t0 = ct_now_us();

    if (echo_once(x, NULL, x->seed, 16u << 20, 0, CT_AFTER_NONE, 0, 0, &t) == 0)
        ct_note(x, "16 MiB echoed in %.2f s", (double)(ct_now_us() - t0) / 1e6);
}

static void run_halfclose(struct ct_ctx *x)
{
    /* A short message with SHUT_WR right behind it (data and FIN may be read together),
     * then 1 MiB whose last write is followed at once by SHUT_WR. */
    if (echo_once(x, NULL, cv_seed_derive(x->seed, 1), 100, 0, CT_AFTER_EOF, 0, 1, NULL) < 0) {
        prefix_message(x, "100 bytes + SHUT_WR: ");
        return;
    }
    if (echo_once(x, NULL, cv_seed_derive(x->seed, 2), 1u << 20, 0, CT_AFTER_EOF, 0, 1, NULL) < 0)
        prefix_message(x, "1 MiB + SHUT_WR: ");
}

static void run_slowreader(struct ct_ctx *x)
{
    struct ct_xfer t;
    int fd;

    if (ct_tcp_connect(x, &fd) < 0)
        return;
    /* Small buffers on our side leave the holding back to the server (and its kernel). */
    ns_set_int(fd, SOL_SOCKET, SO_RCVBUF, 64 * 1024);
    ns_set_int(fd, SOL_SOCKET, SO_SNDBUF, 64 * 1024);
    ct_xfer_init(&t, fd, NULL, x->seed, 8u << 20);
    t.stall_ms = 100;
    t.shut_wr = 1;
    if (ct_xfer_run(x, &t, 1, "client") == 0)
        ct_note(x, "8 MiB echoed intact; up to %llu bytes were in flight, unread by the client, "
                "held back and not dropped", (unsigned long long)t.max_unread);
    close(fd);
}

static void run_concurrent(struct ct_ctx *x)
{
    enum { N = 100 };
    struct ct_xfer *t = calloc(N, sizeof *t);
    int fds[N], n = 0;

    if (!t) {
        ct_fail(x, "out of memory");
        return;
    }
    /* Clients join in groups of 4, each proving with a short round trip that it is served
     * while the earlier ones stay connected (a one-client server stops here). Small groups
     * keep a short listen backlog (socat's is 5) from dropping connects, which is not what is
     * tested, and keep a slow server's round trips few. */
    while (n < N) {
        struct ct_xfer hello[4];
        int k = 0;
        for (; k < 4 && n + k < N; k++) {
            if (ct_tcp_connect(x, &fds[n + k]) < 0) {
                prefix_message(x, "client %d of %d: ", n + k + 1, N);
                n += k;
                goto out;
            }
            ct_xfer_init(&hello[k], fds[n + k], NULL,
                         cv_seed_derive(x->seed, 1000u + (unsigned)(n + k)), 16);
            hello[k].id = (unsigned)(n + k + 1); /* clients are numbered 1..N, not per group */
        }
        if (ct_xfer_run(x, hello, (size_t)k, "client") < 0) {
            if (n == 0)
                prefix_message(x, "clients 1-%d of %d, connected together: ", k, N);
            else
                prefix_message(x, "clients %d-%d of %d, while %d earlier ones stay connected: ",
                               n + 1, n + k, N, n);
            n += k;
            goto out;
        }
        n += k;
    }
    /* Then all at once: each client has its own stream, so a byte from another client is a
     * mismatch. Writes of 1 KiB, one per client per round, interleave them on the server. */
    for (int i = 0; i < N; i++) {
        ct_xfer_init(&t[i], fds[i], NULL, cv_seed_derive(x->seed, (uint64_t)i), 2048);
        t[i].wchunk = 256;
    }
    ct_xfer_run(x, t, N, "client");
out:
    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(t);
}

static void run_sequential(struct ct_ctx *x)
{
    for (int i = 0; i < 200; i++) {
        if (echo_once(x, NULL, cv_seed_derive(x->seed, (uint64_t)i), 64, 0, CT_AFTER_NONE, 0, 0,
                      NULL) < 0) {
            prefix_message(x, "client %d of %d: ", i + 1, 200);
            return;
        }
    }
}

static void run_reset(struct ct_ctx *x)
{
    struct linger lg = {1, 0};
    struct ct_xfer t;
    uint8_t buf[65536];
    int a, b, eof;

    if (ct_tcp_connect(x, &a) < 0)
        return;
    if (ct_tcp_connect(x, &b) < 0) {
        close(a);
        return;
    }
    /* Client B fills the server's path towards it without reading, so the server is still
     * writing to B when B resets; a server that dies of SIGPIPE or stops on ECONNRESET fails. */
    ns_set_int(b, SOL_SOCKET, SO_RCVBUF, 16 * 1024);
    cv_pattern_fill(cv_seed_derive(x->seed, 99), 0, buf, sizeof buf);
    for (int i = 0; i < 16; i++) {
        ssize_t w = send(b, buf, sizeof buf, MSG_NOSIGNAL);
        if (w > 0)
            ct_log(x, CT_SENT, 1, buf, (size_t)w);
        else if (ns_wait(b, POLLOUT, 50) <= 0)
            break;
    }
    ct_tcp_peek(x, b, 50, buf, 1024, &eof);
    setsockopt(b, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(b);
    ct_log_event(x, 1, "RST");
    poll(NULL, 0, 100);
    /* Client A was connected before the reset and must carry on; C comes after it. A's
     * transfer stays small, so a server that cannot stream large amounts fails elsewhere. */
    ct_xfer_init(&t, a, NULL, x->seed, 32768);
    if (ct_xfer_run(x, &t, 1, "client") < 0) {
        prefix_message(x, "client connected before another one reset: ");
        close(a);
        return;
    }
    close(a);
    if (echo_once(x, NULL, cv_seed_derive(x->seed, 3), 4096, 0, CT_AFTER_NONE, 0, 0, NULL) < 0)
        prefix_message(x, "client connecting after another one reset: ");
}

static void run_trailing(struct ct_ctx *x)
{
    struct ct_xfer t;

    memset(&t, 0, sizeof t);
    /* After a round trip nothing more may come; after data + SHUT_WR only the data, then
     * (if the server closes) EOF. A missing EOF is tcp.halfclose.flush's concern. */
    if (echo_once(x, NULL, cv_seed_derive(x->seed, 1), 100, 0, CT_AFTER_LINGER, 300, 0, NULL) <
        0) {
        prefix_message(x, "round trip, then 0.3 s of silence expected: ");
        return;
    }
    if (echo_once(x, NULL, cv_seed_derive(x->seed, 2), 1000, 0, CT_AFTER_LINGER, 300, 1, &t) <
        0) {
        if ((t.eof && t.v.status == CV_MORE) ||
            (t.err && t.v.status != CV_MISMATCH && t.v.status != CV_EXTRA)) {
            /* Closed or reset after SHUT_WR (before or after the whole echo): lost data or a
             * RST instead of a FIN, which tcp.halfclose.flush reports; nothing extra was
             * seen, which is what this case is about. */
            ct_unfail(x);
            ct_note(x, "no extra bytes; after SHUT_WR the server %s (see tcp.halfclose.flush)",
                    t.err ? "reset the connection" : "closed before the echo was complete");
            return;
        }
        prefix_message(x, "1000 bytes + SHUT_WR: ");
    }
}

/* The idle pause: long enough for an aggressive idle timer or a keepalive chatter, short
 * enough for the default suite. Watched once, judged by two cases. */
#define IDLE_MS 1500

enum idle_kind {
    IDLE_OPEN = 0, /* quiet during the pause, echoes after it */
    IDLE_CLOSED,   /* closed or reset during or right after the pause (SHOULD) */
    IDLE_MUST,     /* unsolicited bytes, or no (or a wrong) echo on the open connection */
    IDLE_SETUP     /* the pause was never reached (connect or first round trip failed) */
};

/* Connects, echoes 64 bytes, watches IDLE_MS of silence, then echoes 64 bytes more. Leaves a
 * failure with a full account in x for every outcome but IDLE_OPEN. */
static int idle_probe(struct ct_ctx *x)
{
    struct ct_xfer t;
    uint8_t buf[512];
    char q[200], s[260], d[160];
    int fd, eof = 0, kind = IDLE_OPEN;
    long r;

    if (ct_tcp_connect(x, &fd) < 0)
        return IDLE_SETUP;
    ct_xfer_init(&t, fd, NULL, cv_seed_derive(x->seed, 1), 64);
    if (ct_xfer_run(x, &t, 1, "client") < 0) {
        close(fd);
        return IDLE_SETUP;
    }
    r = ct_tcp_peek(x, fd, IDLE_MS, buf, sizeof buf, &eof);
    if (r > 0) {
        ct_quote(buf, (size_t)r, 48, q, sizeof q);
        ct_fail(x, "%ld unsolicited byte%s arrived during a %.3g s pause in which the client "
                "sent nothing%s: \"%s\"", r, r == 1 ? "" : "s", IDLE_MS / 1000.0,
                eof ? ", then EOF" : "", q);
        snprintf(s, sizeof s, "%ld byte%s: \"%s\"%s", r, r == 1 ? "" : "s", q,
                 eof ? ", then EOF" : "");
        ct_detail(x, "nothing while the client is idle (every byte echoed)", s,
                  "during the pause after a 64-byte round trip");
        kind = IDLE_MUST;
    } else if (eof || r < 0) {
        ct_fail(x, "the server %s the connection during a %.3g s pause",
                eof ? "closed" : "reset", IDLE_MS / 1000.0);
        ct_detail(x, "the connection stays open while idle", eof ? "EOF (FIN)" : "a reset (RST)",
                  "within 1.5 s of idleness");
        kind = IDLE_CLOSED;
    } else {
        ct_xfer_init(&t, fd, NULL, cv_seed_derive(x->seed, 2), 64);
        if (ct_xfer_run(x, &t, 1, "client") < 0) {
            if (t.eof || t.err) {
                prefix_message(x, "after a %.3g s pause: ", IDLE_MS / 1000.0);
                kind = IDLE_CLOSED;
            } else if (t.v.status == CV_MISMATCH || t.v.status == CV_EXTRA) {
                prefix_message(x, "after a %.3g s pause: ", IDLE_MS / 1000.0);
                kind = IDLE_MUST;
            } else {
                /* Still open, and the echo stopped: the server went deaf while idle. */
                cv_stream_describe(&t.v, d, sizeof d);
                ct_unfail(x);
                ct_fail(x, "after a %.3g s pause the connection stayed open, but the echo "
                        "stopped: %s within %.3g s", IDLE_MS / 1000.0, d,
                        x->timeout_ms / 1000.0);
                snprintf(s, sizeof s, "%s, connection still open", d);
                ct_detail(x, "all 64 bytes echoed", s, "the first write after the pause");
                kind = IDLE_MUST;
            }
        }
    }
    close(fd);
    return kind;
}

static void run_unsolicited_idle(struct ct_ctx *x)
{
    int kind = idle_probe(x);

    if (x->s && kind != IDLE_SETUP) {
        x->s->idle_done = 1;
        x->s->idle_closed = kind == IDLE_CLOSED;
        if (kind == IDLE_CLOSED) {
            snprintf(x->s->idle_msg, sizeof x->s->idle_msg, "%s", x->message);
            snprintf(x->s->idle_expected, sizeof x->s->idle_expected, "%s", x->expected);
            snprintf(x->s->idle_seen, sizeof x->s->idle_seen, "%s", x->seen);
            snprintf(x->s->idle_where, sizeof x->s->idle_where, "%s", x->where);
        }
    }
    if (kind == IDLE_CLOSED) {
        /* Closing an idle connection is the SHOULD of tcp.idle.pause, not a lost echo. */
        ct_unfail(x);
        ct_note(x, "nothing unsolicited; the server closed the idle connection (see "
                "tcp.idle.pause)");
    } else if (kind == IDLE_OPEN) {
        ct_note(x, "nothing arrived during the %.3g s pause; the connection still echoes",
                IDLE_MS / 1000.0);
    }
}

static void run_idle(struct ct_ctx *x)
{
    int kind;

    if (x->s && x->s->idle_done) {
        /* tcp.unsolicited.idle (just before) watched the pause: judge it, do not wait again. */
        if (x->s->idle_closed) {
            ct_fail(x, "%s", x->s->idle_msg);
            ct_detail(x, x->s->idle_expected, x->s->idle_seen, x->s->idle_where);
        } else {
            ct_note(x, "the connection stayed open through the %.3g s pause (watched in "
                    "tcp.unsolicited.idle)", IDLE_MS / 1000.0);
        }
        return;
    }
    kind = idle_probe(x);
    if (kind == IDLE_MUST) {
        /* Run without tcp.unsolicited.idle: what happened on the open connection is its
         * concern; this case only asks whether the server closed it. */
        char m[sizeof x->message];
        snprintf(m, sizeof m, "%s", x->message);
        ct_unfail(x);
        ct_note(x, "the connection stayed open (tcp.unsolicited.idle fails: %.300s)", m);
    }
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static void run_rtt(struct ct_ctx *x)
{
    enum { N = 200 };
    long long us[N], start = ct_now_us();
    struct ct_xfer t;
    int fd, n;

    if (ct_tcp_connect(x, &fd) < 0)
        return;
    ns_set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    /* At most N round trips or 2 s, so a slow server costs no more than a fast one. */
    for (n = 0; n < N && (n < 10 || ct_now_us() - start < 2000000); n++) {
        long long t0 = ct_now_us();
        ct_xfer_init(&t, fd, NULL, cv_seed_derive(x->seed, (uint64_t)n), 32);
        if (ct_xfer_run(x, &t, 1, "client") < 0)
            goto out;
        us[n] = ct_now_us() - t0;
    }
    qsort(us, (size_t)n, sizeof us[0], cmp_ll);
    ct_note(x, "rtt median %lld us, p99 %lld us, max %lld us over %d round trips of 32 bytes",
            us[n / 2], us[n * 99 / 100], us[n - 1], n);
out:
    close(fd);
}

static void run_throughput(struct ct_ctx *x)
{
    long long t0 = ct_now_us();

    if (echo_once(x, NULL, x->seed, 8u << 20, 0, CT_AFTER_NONE, 0, 0, NULL) == 0)
        ct_note(x, "throughput %.1f MiB/s (8 MiB echoed, both directions at once)",
                mib_per_s(8u << 20, ct_now_us() - t0));
}

const struct ct_runner ct_tcp_runners[] = {
    {"tcp.connect", run_connect},
    {"tcp.unsolicited.banner", run_banner},
    {"tcp.roundtrip.single", run_roundtrip_single},
    {"tcp.bytes.all256", run_all256},
    {"tcp.bytes.utf8", run_utf8},
    {"tcp.size.1", run_size_1},
    {"tcp.size.1023", run_size_1023},
    {"tcp.size.1024", run_size_1024},
    {"tcp.size.1025", run_size_1025},
    {"tcp.size.4095", run_size_4095},
    {"tcp.size.4096", run_size_4096},
    {"tcp.size.4097", run_size_4097},
    {"tcp.size.65535", run_size_65535},
    {"tcp.size.65536", run_size_65536},
    {"tcp.size.65537", run_size_65537},
    {"tcp.size.1m", run_size_1m},
    {"tcp.roundtrip.multi", run_roundtrip_multi},
    {"tcp.pipeline", run_pipeline},
    {"tcp.nodelay.bytewise", run_bytewise},
    {"tcp.large.16m", run_large},
    {"tcp.halfclose.flush", run_halfclose},
    {"tcp.slowreader.8m", run_slowreader},
    {"tcp.concurrent.100", run_concurrent},
    {"tcp.sequential.200", run_sequential},
    {"tcp.reset.isolation", run_reset},
    {"tcp.unsolicited.trailing", run_trailing},
    {"tcp.unsolicited.idle", run_unsolicited_idle},
    {"tcp.idle.pause", run_idle},
    {"tcp.perf.rtt", run_rtt},
    {"tcp.perf.throughput", run_throughput},
    {NULL, NULL},
};
