/*
 * fuzz_exec.c - runs one action sequence against a live echo server and checks every echo.
 *
 * One poll() loop serves all the sequence's sockets whatever the current action is, so the
 * echo of every connection is read (and verified byte by byte) while another one writes or
 * pauses, and a server applying backpressure never deadlocks the client. An action that does
 * not fit its slot's state is a no-op (see core/fuzzseq.h). UDP: each datagram is registered
 * with the datagram matcher; any reply that is not exactly one sent datagram fails at once.
 * A datagram still unanswered at the end is resent up to --udp-retries times, the waits
 * doubling and adding up to the timeout; only then is it reported missing, a kind of its own,
 * since a lossy path drops datagrams while a wrong reply is always the server's. At the end,
 * open connections and sockets are watched 20 ms more for bytes, closes or replies that
 * should not come.
 */
#define _GNU_SOURCE
#include "conform/fuzz.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/verdict.h"
#include "net/sock.h"

#define IO_CHUNK 65536
#define UDP_LINGER_MS 20 /* watch for duplicate replies once every datagram is answered */
#define TCP_LINGER_MS 20 /* watch open connections once every echo is complete */

enum { ST_CLOSED = 0, ST_OPEN, ST_SHUT };

struct conn {
    int fd, st;
    int eof;          /* the server's FIN arrived (only legal after our SHUT) */
    uint64_t sent;    /* bytes written on this connection */
    uint64_t wleft;   /* bytes of the current write still to send */
    struct cv_stream v;
};

struct usock {
    int fd;
    uint64_t off;                    /* pattern offset of the next datagram */
    struct cv_dmatch m;
    struct cv_dslot slots[FQ_MAX_ACTIONS];
    uint8_t *bufs[FQ_MAX_ACTIONS];   /* payloads (the matcher borrows them) */
};

struct ex {
    const struct ct_target *t;
    const struct fq_seq *s;
    const struct cz_limits *l;
    struct cz_result *r;
    struct conn c[FQ_TCP_SLOTS];
    struct usock u[FQ_UDP_SLOTS];
    uint8_t rbuf[IO_CHUNK], wbuf[IO_CHUNK];
    long long progress_ms; /* last time bytes moved */
};

static const char *const kind_names[CZ__KIND_COUNT] = {
    [CZ_PASS] = "pass",
    [CZ_CONNECT] = "cannot connect",
    [CZ_MISMATCH] = "echo differs",
    [CZ_EXTRA] = "extra bytes",
    [CZ_CLOSED] = "closed early",
    [CZ_SHORT_EOF] = "EOF before the whole echo",
    [CZ_RESET] = "connection broken",
    [CZ_STALL] = "echo stalled",
    [CZ_NO_EOF] = "no EOF after half-close",
    [CZ_UDP_WRONG] = "wrong datagram",
    [CZ_UDP_SOURCE] = "reply from another port",
    [CZ_UDP_MISSING] = "datagram unanswered",
    [CZ_CUT] = "cut by the time limit",
    [CZ_LOCAL] = "local error",
};

const char *cz_kind_name(int kind)
{
    return kind >= 0 && kind < CZ__KIND_COUNT ? kind_names[kind] : "?";
}

const char *cz_action_text(const struct fq_action *a, char *buf, size_t size)
{
    switch (a->op) {
    case FQ_WRITE:
    case FQ_SEND: snprintf(buf, size, "%s %u %lu", fq_op_name(a->op), a->slot, (unsigned long)a->n); break;
    case FQ_PAUSE: snprintf(buf, size, "pause %lu", (unsigned long)a->n); break;
    default: snprintf(buf, size, "%s %u", fq_op_name(a->op), a->slot); break;
    }
    return buf;
}

static int failed(const struct ex *x)
{
    return x->r->kind != CZ_PASS;
}

static void fail(struct ex *x, int kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records the first failure only: later ones are consequences. */
static void fail(struct ex *x, int kind, const char *fmt, ...)
{
    va_list ap;

    if (failed(x))
        return;
    x->r->kind = kind;
    va_start(ap, fmt);
    vsnprintf(x->r->msg, sizeof x->r->msg, fmt, ap);
    va_end(ap);
}

/* ---- TCP ------------------------------------------------------------------------------ */

static void fail_stream(struct ex *x, unsigned i, const struct conn *c)
{
    char d[160];

    cv_stream_describe(&c->v, d, sizeof d);
    if (c->v.status == CV_MISMATCH)
        fail(x, CZ_MISMATCH, "connection %u: echo differs from what was sent: %s", i, d);
    else
        fail(x, CZ_EXTRA, "connection %u: bytes that were never sent came back: %s", i, d);
}

static void on_readable(struct ex *x, unsigned i)
{
    struct conn *c = &x->c[i];

    for (int k = 0; k < 16 && c->fd >= 0 && !c->eof; k++) {
        ssize_t n = recv(c->fd, x->rbuf, sizeof x->rbuf, 0);
        if (n > 0) {
            x->progress_ms = ct_now_ms();
            x->r->tcp_bytes += (uint64_t)n;
            int st = cv_stream_feed(&c->v, x->rbuf, (size_t)n);
            if (st == CV_MISMATCH || st == CV_EXTRA) {
                fail_stream(x, i, c);
                return;
            }
            continue;
        }
        if (n == 0) {
            char d[160];
            c->eof = 1;
            x->progress_ms = ct_now_ms();
            cv_stream_describe(&c->v, d, sizeof d);
            if (c->st == ST_OPEN)
                fail(x, CZ_CLOSED, "connection %u: the server closed it (FIN) while the client "
                     "kept it open (%s so far)", i, d);
            else if (c->v.status != CV_DONE)
                fail(x, CZ_SHORT_EOF, "connection %u: after the client's half-close the server "
                     "closed before echoing everything: %s", i, d);
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        if (errno == EINTR)
            continue;
        fail(x, CZ_RESET, "connection %u: recv: %s after %llu of %llu bytes echoed%s", i,
             strerror(errno), (unsigned long long)c->v.got, (unsigned long long)c->v.total,
             errno == ECONNRESET ? " (the server reset it)" : "");
        return;
    }
}

static void on_writable(struct ex *x, unsigned i)
{
    struct conn *c = &x->c[i];
    uint64_t seed = fq_tcp_seed(x->s->seed, i);

    while (c->wleft > 0) {
        size_t k = c->wleft < sizeof x->wbuf ? (size_t)c->wleft : sizeof x->wbuf;
        ssize_t n;

        cv_pattern_fill(seed, c->sent, x->wbuf, k);
        n = send(c->fd, x->wbuf, k, MSG_NOSIGNAL);
        if (n > 0) {
            /* The echo of these bytes can only be read after this returns: extending the
             * verifier now keeps bytes that come before they were sent counted as extra. */
            cv_stream_extend(&c->v, (uint64_t)n);
            c->sent += (uint64_t)n;
            c->wleft -= (uint64_t)n;
            x->progress_ms = ct_now_ms();
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        fail(x, CZ_RESET, "connection %u: send: %s after %llu bytes sent (%llu echoed)%s", i,
             strerror(errno), (unsigned long long)c->sent, (unsigned long long)c->v.got,
             errno == ECONNRESET || errno == EPIPE ? " (the server reset or closed it)" : "");
        c->wleft = 0;
        return;
    }
}

/* ---- UDP ------------------------------------------------------------------------------ */

static void on_datagram(struct ex *x, unsigned u)
{
    struct usock *s = &x->u[u];

    for (int k = 0; k < 64 && !failed(x); k++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        struct ea_addr from;
        struct cv_dresult res;
        char d[200], a[EA_FORMAT_MAX], b[EA_FORMAT_MAX];
        /* MSG_TRUNC: the real length of a datagram longer than the buffer. */
        ssize_t n = recvfrom(s->fd, x->rbuf, sizeof x->rbuf, MSG_TRUNC, (struct sockaddr *)&ss,
                             &len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNREFUSED)
                fail(x, CZ_LOCAL, "socket %u: recvfrom: %s", u, strerror(errno));
            return;
        }
        x->progress_ms = ct_now_ms();
        if (ns_addr_from_sockaddr((struct sockaddr *)&ss, len, &from) != 0)
            memset(&from, 0, sizeof from);
        if (cv_source_kind(&x->t->udp, &from) == CV_SRC_OTHER_PORT) {
            fail(x, CZ_UDP_SOURCE, "socket %u: a %zd-byte reply came from %s, not from the "
                 "service at %s", u, n, from.family ? ns_format(&from, b, sizeof b) : "?",
                 ns_format(&x->t->udp, a, sizeof a));
            return;
        }
        cv_dmatch_reply(&s->m, x->rbuf, (size_t)n, &res);
        if (res.kind == CV_D_MATCH) {
            if (s->slots[res.index].replies == 1) /* replies to retries count once */
                x->r->dgrams++;
        } else if (res.kind != CV_D_LATE) {
            /* A late exact reply belongs to a datagram already reported missing. */
            cv_dresult_describe(&s->m, &res, d, sizeof d);
            fail(x, CZ_UDP_WRONG, "socket %u: %s", u, d);
        }
    }
}

static int udp_open(struct ex *x, unsigned u)
{
    struct ea_addr any;
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, af = x->t->udp.family == EA_INET6 ? AF_INET6 : AF_INET;

    memset(&any, 0, sizeof any);
    any.family = af == AF_INET6 ? EA_INET6 : EA_INET;
    ns_addr_to_sockaddr(&any, &ss, &len);
    fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail(x, CZ_LOCAL, "socket: %s", strerror(errno));
        return -1;
    }
    /* Room for many large replies, so the client itself does not drop them. */
    ns_set_int(fd, SOL_SOCKET, SO_RCVBUF, 1 << 21);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        fail(x, CZ_LOCAL, "bind: %s", strerror(errno));
        close(fd);
        return -1;
    }
    x->u[u].fd = fd;
    return 0;
}

static int udp_send(struct ex *x, unsigned u, const uint8_t *p, size_t n)
{
    struct sockaddr_storage ss;
    socklen_t len;

    ns_addr_to_sockaddr(&x->t->udp, &ss, &len);
    for (int tries = 0; tries < 100; tries++) {
        if (sendto(x->u[u].fd, p, n, 0, (struct sockaddr *)&ss, len) >= 0)
            return 0;
        if (errno == EINTR || errno == ECONNREFUSED)
            continue; /* ECONNREFUSED: an ICMP error of an earlier datagram; send again */
        if (errno != EAGAIN && errno != ENOBUFS)
            break;
        ns_wait(x->u[u].fd, POLLOUT, 10);
    }
    fail(x, CZ_LOCAL, "socket %u: sendto: %s", u, strerror(errno));
    return -1;
}

/* ---- The loop ------------------------------------------------------------------------- */

typedef int (*done_fn)(struct ex *x, long arg);

/* Serves every socket until done(x, arg) holds, a failure, the run's deadline, or until
 * (monotonic ms; 0: none) passes. With progress set, a wait without bytes moving for the
 * timeout ends it too. Returns 1 when done() held, 0 otherwise (failure, time). */
static int pump(struct ex *x, done_fn done, long arg, long long until, int progress)
{
    x->progress_ms = ct_now_ms();
    for (;;) {
        struct pollfd pf[FQ_TCP_SLOTS + FQ_UDP_SLOTS];
        unsigned who[FQ_TCP_SLOTS + FQ_UDP_SLOTS];
        long long now = ct_now_ms(), end = x->l->deadline_ms;
        int np = 0, rc;

        if (failed(x))
            return 0;
        if (done && done(x, arg))
            return 1;
        if (until && until < end)
            end = until;
        if (progress && x->progress_ms + x->l->timeout_ms < end)
            end = x->progress_ms + x->l->timeout_ms;
        if (now >= end) {
            if (now >= x->l->deadline_ms && (!until || until > x->l->deadline_ms))
                fail(x, CZ_CUT, "the run's time limit ran out");
            return 0;
        }
        for (unsigned i = 0; i < FQ_TCP_SLOTS; i++) {
            struct conn *c = &x->c[i];
            if (c->fd < 0)
                continue;
            pf[np].fd = c->fd;
            pf[np].events = (short)((c->eof ? 0 : POLLIN) | (c->wleft ? POLLOUT : 0));
            pf[np].revents = 0;
            if (pf[np].events == 0)
                continue;
            who[np++] = i;
        }
        for (unsigned u = 0; u < FQ_UDP_SLOTS; u++)
            if (x->u[u].fd >= 0) {
                pf[np].fd = x->u[u].fd;
                pf[np].events = POLLIN;
                pf[np].revents = 0;
                who[np++] = FQ_TCP_SLOTS + u;
            }
        rc = poll(pf, (nfds_t)np, (int)(end - now));
        if (rc < 0 && errno != EINTR) {
            fail(x, CZ_LOCAL, "poll: %s", strerror(errno));
            return 0;
        }
        for (int k = 0; rc > 0 && k < np && !failed(x); k++) {
            if (!pf[k].revents)
                continue;
            if (who[k] >= FQ_TCP_SLOTS) {
                on_datagram(x, who[k] - FQ_TCP_SLOTS);
                continue;
            }
            if (pf[k].revents & (POLLIN | POLLERR | POLLHUP))
                on_readable(x, who[k]);
            if (!failed(x) && (pf[k].revents & (POLLOUT | POLLERR)) && x->c[who[k]].wleft)
                on_writable(x, who[k]);
        }
    }
}

static int write_done(struct ex *x, long i)
{
    return x->c[i].wleft == 0;
}

/* The whole echo is back (and, after SHUT, the server's EOF). */
static int conn_done(const struct conn *c)
{
    return c->fd < 0 || (c->v.status == CV_DONE && (c->st != ST_SHUT || c->eof));
}

static int echo_done(struct ex *x, long i)
{
    return conn_done(&x->c[i]);
}

static int all_echoed(struct ex *x, long arg)
{
    (void)arg;
    for (unsigned i = 0; i < FQ_TCP_SLOTS; i++)
        if (!conn_done(&x->c[i]))
            return 0;
    return 1;
}

static int all_answered(struct ex *x, long arg)
{
    (void)arg;
    for (unsigned u = 0; u < FQ_UDP_SLOTS; u++)
        if (x->u[u].fd >= 0 && cv_dmatch_unanswered(&x->u[u].m) > 0)
            return 0;
    return 1;
}

/* After waiting for conn i's echo (or EOF) in vain: the stall account. */
static void fail_stalled(struct ex *x, unsigned i)
{
    const struct conn *c = &x->c[i];
    char d[160];

    if (c->v.status == CV_DONE)
        fail(x, CZ_NO_EOF, "connection %u: all %llu bytes echoed after the client's half-close, "
             "but no EOF (FIN) within %.1f s", i, (unsigned long long)c->v.total,
             x->l->timeout_ms / 1000.0);
    else
        fail(x, CZ_STALL, "connection %u: %s, then nothing for %.1f s", i,
             cv_stream_describe(&c->v, d, sizeof d), x->l->timeout_ms / 1000.0);
}

static void wait_echo(struct ex *x, unsigned i)
{
    if (!pump(x, echo_done, (long)i, 0, 1))
        fail_stalled(x, i);
}

static void close_conn(struct conn *c, int reset)
{
    if (c->fd < 0)
        return;
    if (reset) {
        struct linger lg = {1, 0}; /* close() sends RST */
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c->fd);
    c->fd = -1;
    c->st = ST_CLOSED;
}

static void do_action(struct ex *x, const struct fq_action *a)
{
    struct conn *c = a->slot < FQ_TCP_SLOTS ? &x->c[a->slot] : NULL;
    char ab[EA_FORMAT_MAX];
    int rc;

    switch (a->op) {
    case FQ_CONNECT:
        if (!c || c->st != ST_CLOSED)
            return;
        rc = ns_connect(&x->t->tcp, SOCK_STREAM, NULL, x->l->timeout_ms, &c->fd);
        if (rc < 0) {
            c->fd = -1;
            fail(x, rc == -EMFILE || rc == -ENFILE || rc == -ENOBUFS ? CZ_LOCAL : CZ_CONNECT,
                 "connection %u: cannot connect to %s: %s", a->slot,
                 ns_format(&x->t->tcp, ab, sizeof ab), ns_strerror(rc));
            return;
        }
        c->st = ST_OPEN;
        c->eof = 0;
        c->sent = c->wleft = 0;
        cv_stream_init_pattern(&c->v, fq_tcp_seed(x->s->seed, a->slot), 0);
        return;
    case FQ_WRITE:
        if (!c || c->st != ST_OPEN || c->eof || a->n == 0)
            return;
        c->wleft = a->n;
        if (!pump(x, write_done, a->slot, 0, 1))
            fail(x, CZ_STALL, "connection %u: the server took only %llu of %lu bytes written "
                 "and echoed %llu, then nothing for %.1f s (it stopped reading)", a->slot,
                 (unsigned long long)(a->n - c->wleft), (unsigned long)a->n,
                 (unsigned long long)c->v.got, x->l->timeout_ms / 1000.0);
        c->wleft = 0;
        return;
    case FQ_SHUT:
        if (!c || c->st != ST_OPEN)
            return;
        if (shutdown(c->fd, SHUT_WR) < 0)
            fail(x, CZ_RESET, "connection %u: shutdown: %s", a->slot, strerror(errno));
        c->st = ST_SHUT;
        return;
    case FQ_CLOSE:
        if (!c || c->st == ST_CLOSED)
            return;
        wait_echo(x, a->slot);
        close_conn(c, 0);
        return;
    case FQ_RESET:
        if (c)
            close_conn(c, 1);
        return;
    case FQ_PAUSE:
        pump(x, NULL, 0, ct_now_ms() + a->n, 0);
        return;
    case FQ_SEND: {
        struct usock *s;
        size_t idx;
        uint8_t *p;
        if (a->slot >= FQ_UDP_SLOTS)
            return;
        s = &x->u[a->slot];
        if (s->fd < 0 && udp_open(x, a->slot) < 0)
            return;
        p = malloc(a->n ? a->n : 1);
        if (!p) {
            fail(x, CZ_LOCAL, "out of memory");
            return;
        }
        cv_pattern_fill(fq_udp_seed(x->s->seed, a->slot), s->off, p, a->n);
        s->off += a->n;
        if (cv_dmatch_add(&s->m, p, a->n, &idx) < 0) {
            free(p);
            return;
        }
        s->bufs[idx] = p;
        udp_send(x, a->slot, p, a->n);
        return;
    }
    default: return;
    }
}

/* The end of the sequence: every connection's echo (and EOF after SHUT), then every
 * datagram's reply, with retries. */
static void finish(struct ex *x)
{
    int any_udp = 0, r;
    long long total = 0, wait;

    if (!failed(x) && !pump(x, all_echoed, 0, 0, 1)) {
        for (unsigned i = 0; i < FQ_TCP_SLOTS && !failed(x); i++)
            if (!conn_done(&x->c[i]))
                fail_stalled(x, i);
    }
    /* Every echo is complete: a short watch for what must not come (bytes never sent, a
     * close or reset of a connection the client keeps open), so a greeting or an RST is
     * caught without an action after it. */
    for (unsigned i = 0; i < FQ_TCP_SLOTS && !failed(x); i++)
        if (x->c[i].fd >= 0) {
            pump(x, NULL, 0, ct_now_ms() + TCP_LINGER_MS, 0);
            break;
        }
    for (unsigned u = 0; u < FQ_UDP_SLOTS; u++)
        any_udp |= x->u[u].fd >= 0;
    if (!any_udp || failed(x))
        return;
    /* Waits of timeout * 2^r / (2^(R+1) - 1) for r = 0..R: they double and add up to the
     * timeout; after each but the last, every unanswered datagram is sent again. */
    for (r = 0; r <= x->l->udp_retries; r++)
        total += 1LL << r;
    for (r = 0; r <= x->l->udp_retries && !failed(x); r++) {
        wait = x->l->timeout_ms * (1LL << r) / total;
        if (pump(x, all_answered, 0, ct_now_ms() + (wait > 1 ? wait : 1), 0))
            break;
        if (failed(x) || r == x->l->udp_retries)
            break;
        for (unsigned u = 0; u < FQ_UDP_SLOTS; u++) {
            struct usock *s = &x->u[u];
            for (size_t i = 0; s->fd >= 0 && i < s->m.count && !failed(x); i++)
                if (s->slots[i].replies == 0 && udp_send(x, u, s->bufs[i], s->slots[i].n) == 0)
                    cv_dmatch_resend(&s->m, i);
        }
    }
    if (failed(x))
        return;
    for (unsigned u = 0; u < FQ_UDP_SLOTS; u++) {
        struct usock *s = &x->u[u];
        for (size_t i = 0; s->fd >= 0 && i < s->m.count; i++)
            if (s->slots[i].replies == 0 && x->l->allow_loss) {
                x->r->lost++;
                cv_dmatch_expire(&s->m, i);
            } else if (s->slots[i].replies == 0) {
                fail(x, CZ_UDP_MISSING, "socket %u: datagram %zu (%zu byte%s) got no reply "
                     "after %u send%s over %.1f s (a lossy path drops datagrams; a wrong "
                     "reply would have been reported as such)", u, i, s->slots[i].n,
                     cv_plural(s->slots[i].n), s->slots[i].sends, cv_plural(s->slots[i].sends),
                     x->l->timeout_ms / 1000.0);
                for (size_t k = 0; k < s->m.count; k++)
                    cv_dmatch_expire(&s->m, k);
                return;
            }
    }
    /* Everything is answered: a short watch for replies beyond one per send. */
    pump(x, NULL, 0, ct_now_ms() + UDP_LINGER_MS, 0);
    for (unsigned u = 0; u < FQ_UDP_SLOTS && !failed(x); u++) {
        size_t first = 0;
        if (x->u[u].fd >= 0 && cv_dmatch_excess(&x->u[u].m, &first) > 0)
            fail(x, CZ_UDP_WRONG, "socket %u: datagram %zu was answered %u times, sent %u",
                 u, first + 1, x->u[u].slots[first].replies, x->u[u].slots[first].sends);
    }
}

/* Waits until the pacer lets the next action start, serving the sockets meanwhile. */
static void pace(struct ex *x)
{
    struct cz_pacer *p = x->l->pace;
    long long now = ct_now_us();

    if (!p || p->rate <= 0)
        return;
    if (p->next_us > now)
        pump(x, NULL, 0, (p->next_us + 999) / 1000, 0);
    now = ct_now_us();
    p->next_us = (p->next_us > now ? p->next_us : now) + (long long)(1e6 / p->rate);
}

int cz_exec(const struct ct_target *t, const struct fq_seq *s, const struct cz_limits *l,
            struct cz_result *r)
{
    struct ex *x = calloc(1, sizeof *x);
    long long start = ct_now_ms();

    memset(r, 0, sizeof *r);
    if (!x) {
        r->kind = CZ_LOCAL;
        snprintf(r->msg, sizeof r->msg, "out of memory");
        return 0;
    }
    x->t = t;
    x->s = s;
    x->l = l;
    x->r = r;
    for (unsigned i = 0; i < FQ_TCP_SLOTS; i++)
        x->c[i].fd = -1;
    for (unsigned u = 0; u < FQ_UDP_SLOTS; u++) {
        x->u[u].fd = -1;
        cv_dmatch_init(&x->u[u].m, x->u[u].slots, FQ_MAX_ACTIONS);
    }
    for (size_t i = 0; i < s->count && !failed(x); i++) {
        r->action = i;
        pace(x);
        if (failed(x))
            break;
        if (ct_now_ms() >= l->deadline_ms) {
            fail(x, CZ_CUT, "the run's time limit ran out");
            break;
        }
        do_action(x, &s->a[i]);
        r->done = i + 1;
    }
    if (!failed(x)) {
        r->action = s->count;
        finish(x);
    }
    for (unsigned i = 0; i < FQ_TCP_SLOTS; i++)
        close_conn(&x->c[i], 0);
    for (unsigned u = 0; u < FQ_UDP_SLOTS; u++) {
        if (x->u[u].fd >= 0)
            close(x->u[u].fd);
        for (size_t i = 0; i < x->u[u].m.count; i++)
            free(x->u[u].bufs[i]);
    }
    r->ms = ct_now_ms() - start;
    free(x);
    return 0;
}
