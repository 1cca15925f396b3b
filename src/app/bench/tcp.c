/*
 * tcp.c - echo-bench's TCP worker: one epoll loop (net/loop) driving its share of the
 * connections in one of four modes. Every byte sent is read straight from the shared pattern
 * table (core/ptable) at the connection's own position, and every byte echoed is compared
 * with memcmp against the same position, so a wrong, lost or foreign byte is caught at its
 * stream offset. Nothing is allocated per message: each connection has a fixed slot, the
 * pipeline's send times live in one array sized at start, and reads go to one scratch buffer.
 *
 * Closed loop: P messages in flight; each completed message is replaced at once, in one
 * write for all that completed in one read. Stream: writes of --size bytes while less than
 * --window is unechoed. Rate (open loop): the worker's share of R messages/s goes round-robin
 * over its connections on a timerfd schedule; a message's latency runs from its intended send
 * time, so a stalled server cannot hide its stall (no coordinated omission). Idle: connect,
 * hold silently, then one message per connection must come back.
 */
#define _GNU_SOURCE
#include "bench/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench/pace.h"
#include "bench/sendpipe.h"
#include "bench/uring.h"
#include "core/ptable.h"
#include "net/loop.h"
#include "net/sock.h"

#define SCRATCH (64 * 1024) /* like the server's: stays in cache (256 KiB cost 30 % more CPU) */
#define MAX_CONNECTING 256       /* connects in progress per worker (SYN queues are finite) */
#define TICK_MS 10
#define STALL_CHECK_NS 250000000ull
#define RATE_MAX_INFLIGHT (1u << 20) /* bytes unechoed per connection before rate mode waits */

enum { C_NEW = 0, C_CONNECTING, C_OPEN, C_CLOSED };

struct conn {
    struct nl_io io;       /* first: the loop hands back &io */
    struct tw *w;
    uint32_t id;           /* global connection number */
    uint8_t state;
    uint8_t answered;      /* idle mode */
    uint32_t spos, rpos;   /* table positions of the next byte to send / to check */
    uint64_t sent, recvd;  /* stream offsets */
    uint64_t queued;       /* messages queued for sending (closed, rate, idle) */
    uint64_t done;         /* messages echoed completely */
    uint64_t counted;      /* completions inside the measured interval */
    uint64_t progress_ns;  /* last progress (connect start, a byte echoed) */
    uint64_t *times;       /* closed mode: send times of the pipeline, [P] */
    uint8_t *rb;           /* io_uring: this connection's receive buffer */
    uint32_t sending;      /* io_uring: bytes of the send in flight (0: none) */
    uint8_t recving;       /* io_uring: a receive in flight */
    struct sp_pipe sp;     /* streaming: the send pipe, the stream's [sent, sent + inpipe) */
    uint8_t multishot;     /* io_uring: that receive is a multishot one */
};

struct tw {
    struct bb_worker *b;
    const struct bb_cfg *cfg;
    const uint8_t *t;
    struct nl_loop loop;
    struct pc_tick tick;
    struct pc_rate rate;
    struct conn *c;
    uint64_t *times;
    uint8_t *buf;
    uint32_t next_connect, connecting, open;
    int phase, measuring, started, checking;
    int blocking;          /* 1: the one connection is served by blocking calls (see run());
                            * -1: that failed, epoll serves */
    uint64_t now;          /* ns, refreshed per read and per tick */
    uint64_t next_stall;
    uint64_t connect_deadline; /* the whole connect phase, however slow the server accepts */
    int uring;             /* 1: traffic moves through the ring (set when traffic starts) */
#ifdef EH_HAVE_URING
    int ring_open;
    struct io_uring ring;
    struct __kernel_timespec tick_ts;
    uint8_t *rbufs;        /* the connections' receive buffers, rbsz each (single-shot) */
    size_t rbsz;
    struct bu_bufs bufs;   /* closed loop: provided buffers of the multishot receives */
    int fixed;             /* 1: the sockets are the ring's fixed files, by connection index */
    unsigned nsend;        /* sends queued since the last submit */
#endif
};

/* Streaming without copies: a pipe per connection that the pattern table's pages go into by
 * reference (bench/sendpipe: tee from a pipe holding one period of the stream, or vmsplice)
 * and out of into the socket (splice). No pipe (the limits, an old kernel): send() copies,
 * as before. */
static void open_pipe(struct tw *w, struct conn *c)
{
    const struct bb_cfg *cfg = w->cfg;
    int mss = 0;
    socklen_t len = sizeof mss;

    if (sp_open(&c->sp, w->t, c->spos) != 0)
        return;
    if (sp_teeing(&c->sp))
        w->b->st.teeing = 1;
    /* Corked, the socket sends only whole segments; the part segment at the end of a splice
     * waits in the kernel for the next write's bytes (a 64 KiB write on its own leaves
     * loopback as a 65483-byte segment and a 53-byte one: twice the packets for the bytes).
     * That never stalls when the window holds a write and two segments more: whenever only
     * that part segment is unechoed, the window has room for the next write, which pushes
     * it. Smaller windows stay uncorked. */
    if (getsockopt(c->io.fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len) == 0 && mss > 0 &&
        cfg->window >= cfg->size + 2 * (uint64_t)mss)
        (void)ns_set_int(c->io.fd, IPPROTO_TCP, TCP_CORK, 1);
}

static void conn_close(struct tw *w, struct conn *c)
{
    if (c->state == C_CONNECTING)
        w->connecting--;
    if (c->state == C_OPEN)
        w->open--;
    if (c->io.fd >= 0) {
        int fd = c->io.fd;
        if (w->uring) /* a receive still in flight ends now, and the server sees the close */
            (void)shutdown(fd, SHUT_RDWR);
#ifdef EH_HAVE_URING
        if (w->fixed) /* the ring's reference goes too, so the socket really closes */
            bu_file_drop(&w->ring, (unsigned)(c - w->c));
#endif
        nl_del(&w->loop, &c->io);
        close(fd);
    }
    sp_close(&c->sp);
    c->state = C_CLOSED;
}

static void start_connects(struct tw *w);

static void connect_failed(struct tw *w, struct conn *c, int rc)
{
    w->b->st.connect_errors++;
    if (!w->b->st.first_connect_error[0])
        snprintf(w->b->st.first_connect_error, sizeof w->b->st.first_connect_error,
                 "connection %u: cannot connect to %s: %s", c->id, w->cfg->target,
                 ns_strerror(rc));
    conn_close(w, c);
}

static void on_io(struct nl_loop *l, struct nl_io *io, uint32_t revents);

/* Writes what is queued (or, streaming, what the window allows) straight from the table. */
/* Bytes c should write now. */
static uint64_t to_write(const struct tw *w, const struct conn *c)
{
    const struct bb_cfg *cfg = w->cfg;
    uint64_t want, least;

    if (cfg->mode != BB_STREAM)
        return c->queued * cfg->size - c->sent;
    /* Whole writes of --size only, in rounds: once a quarter of the window (in whole writes,
     * at least one) is free, all the writes that fit. Fewer, larger splices than topping the
     * window up after every read, and the server takes a round's segments in one wake-up:
     * echo-bench's CPU per 64 KiB write against echod fell by a median 7 % (paired A/B,
     * README). Nothing in flight: the whole window is free, so a round always starts. */
    least = cfg->window / 4 - cfg->window / 4 % cfg->size;
    if (least < cfg->size)
        least = cfg->size;
    want = cfg->window > c->sent - c->recvd ? cfg->window - (c->sent - c->recvd) : 0;
    if (want < least && c->sent != c->recvd)
        want = 0;
    else if (want >= cfg->size)
        want -= want % cfg->size;
    return want;
}

#ifdef EH_HAVE_URING
/* What a request names c's socket by: its fixed-file index, or its descriptor. */
static int u_fd(const struct tw *w, const struct conn *c)
{
    return w->fixed ? (int)(c - w->c) : c->io.fd;
}

/* io_uring: queues the next write (one in flight per connection, MSG_WAITALL so the kernel
 * finishes it whole; the bytes come straight from the table, which outlives the ring). */
static void u_send(struct tw *w, struct conn *c)
{
    uint64_t want;
    size_t n;
    struct io_uring_sqe *sqe;

    if (c->sending || c->state != C_OPEN)
        return;
    want = to_write(w, c);
    if (!want)
        return;
    n = want < PT_SPAN ? (size_t)want : PT_SPAN;
    if (w->cfg->mode == BB_STREAM && n > w->cfg->size)
        n = (size_t)w->cfg->size;
    sqe = bu_sqe(&w->ring);
    if (!sqe)
        return; /* the ring failed: the stall check names the connection */
    bu_prep_send(sqe, u_fd(w, c), w->fixed, w->t + c->spos, n, MSG_NOSIGNAL | MSG_WAITALL);
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | BU_SEND);
    c->sending = (uint32_t)n;
    w->nsend++;
}

static void u_recv(struct tw *w, struct conn *c)
{
    struct io_uring_sqe *sqe;

    if (c->recving || c->state != C_OPEN)
        return;
    sqe = bu_sqe(&w->ring);
    if (!sqe)
        return;
    /* Closed loop: multishot, in stream order (bench/uring); streaming: into c->rb. */
    c->multishot = (uint8_t)bu_prep_recv(sqe, &w->bufs, u_fd(w, c), w->fixed, c->rb, w->rbsz, 0);
    /* Closed loop: the echo is not there yet when the receive is queued, so wait for it
     * without a first attempt that would fail (streaming, data is usually waiting). */
    if (w->cfg->mode == BB_CLOSED)
        sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | BU_RECV);
    c->recving = 1;
}
#endif

/* Sends up to want bytes through c's pipe: tops the pipe up from the table (bench/sendpipe),
 * then splices at most want bytes of it into the socket (a tee may leave the pipe holding
 * more than the window allows; those wait for the next round). Returns the bytes still
 * wanted (non-zero also when the socket is full). When the kernel refuses a call for this
 * pipe or socket (EINVAL, ENOSYS, ...), drops the pipe: the bytes it held were not sent, and
 * send() sends them from the table. Closes c on a socket error, as send() would. */
static uint64_t splice_out(struct tw *w, struct conn *c, uint64_t want)
{
    ssize_t r;

    for (;;) {
        uint32_t n;
        if (sp_fill(&c->sp, w->t, c->spos, want, w->cfg->size) != 0)
            goto refused;
        if (!c->sp.inpipe)
            return want;
        n = want < c->sp.inpipe ? (uint32_t)want : c->sp.inpipe;
        if (!n)
            return 0;
        r = splice(c->sp.pr, NULL, c->io.fd, NULL, n, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return want ? want : 1;
            if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)
                goto refused;
            w->b->st.early_closes++;
            bb_fail(&w->b->st, "connection %u: splice after %llu bytes: %s", c->id,
                    (unsigned long long)c->sent, strerror(errno));
            conn_close(w, c);
            return 0;
        }
        c->sent += (uint64_t)r;
        c->spos = pt_advance(c->spos, (uint64_t)r);
        w->b->st.spliced += (uint64_t)r;
        want = want > (uint64_t)r ? want - (uint64_t)r : 0;
        sp_sent(&c->sp, (uint32_t)r);
        if ((uint32_t)r < n)
            return want ? want : 1; /* the socket is full: wait until it is writable */
        if (!want)
            return 0;
    }
refused:
    sp_close(&c->sp);
    return want;
}

static void flush(struct tw *w, struct conn *c)
{
    const struct bb_cfg *cfg = w->cfg;
    uint64_t want;

#ifdef EH_HAVE_URING
    if (w->uring) {
        u_send(w, c);
        return;
    }
#endif
    want = to_write(w, c);
    if (c->sp.pr >= 0) {
        want = splice_out(w, c, want);
        if (c->state != C_OPEN)
            return;
        if (c->sp.pr >= 0) {
            (void)nl_mod(&w->loop, &c->io, EPOLLIN | (want ? EPOLLOUT : 0));
            return;
        }
    }

    while (want) {
        size_t n = want < PT_SPAN ? (size_t)want : PT_SPAN;
        ssize_t r;
        if (cfg->mode == BB_STREAM && n > cfg->size)
            n = (size_t)cfg->size;
        r = send(c->io.fd, w->t + c->spos, n, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            w->b->st.early_closes++;
            bb_fail(&w->b->st, "connection %u: send after %llu bytes: %s", c->id,
                    (unsigned long long)c->sent, strerror(errno));
            conn_close(w, c);
            return;
        }
        c->sent += (uint64_t)r;
        c->spos = pt_advance(c->spos, (uint64_t)r);
        want -= (uint64_t)r;
        if ((size_t)r < n)
            break;
    }
    (void)nl_mod(&w->loop, &c->io, EPOLLIN | (want ? EPOLLOUT : 0));
}

/* Closed loop: keep P messages in flight, stamping each with its send time. */
static void refill_closed(struct tw *w, struct conn *c)
{
    uint32_t p = w->cfg->pipeline;

    while (c->queued < c->done + p) {
        c->times[c->queued % p] = w->now;
        c->queued++;
    }
    flush(w, c);
}

static void kick(struct tw *w, struct conn *c)
{
    c->progress_ns = w->now;
    switch (w->cfg->mode) {
    case BB_CLOSED:
        refill_closed(w, c);
        break;
    case BB_STREAM:
        flush(w, c);
        break;
    default:
        break; /* rate: the schedule sends; idle: nothing until the check */
    }
}

static void on_connected(struct tw *w, struct conn *c)
{
    w->connecting--;
    w->open++;
    c->state = C_OPEN;
    w->b->st.connected++;
    /* Small messages must leave at once: Nagle would hold a pipelined partial write. */
    (void)ns_set_int(c->io.fd, IPPROTO_TCP, TCP_NODELAY, 1);
    if (w->cfg->mode == BB_STREAM && !w->b->st.congestion[0]) {
        socklen_t len = sizeof w->b->st.congestion - 1;
        if (getsockopt(c->io.fd, IPPROTO_TCP, TCP_CONGESTION, w->b->st.congestion, &len) != 0)
            w->b->st.congestion[0] = 0;
    }
    if (w->cfg->mode == BB_STREAM && !w->cfg->no_splice && w->cfg->engine != BB_URING)
        open_pipe(w, c);
    (void)nl_mod(&w->loop, &c->io, EPOLLIN);
    if (w->started)
        kick(w, c);
}

static void start_connects(struct tw *w)
{
    while (w->connecting < MAX_CONNECTING && w->next_connect < w->b->count) {
        struct conn *c = &w->c[w->next_connect++];
        int fd = -1, rc = ns_connect_start_cc(&w->cfg->addr, w->cfg->conn_cc, &fd);
        c->progress_ns = w->now;
        if (rc != 0 && rc != -EINPROGRESS) {
            connect_failed(w, c, rc);
            continue;
        }
        rc = nl_add(&w->loop, &c->io, fd, EPOLLOUT, on_io);
        if (rc) {
            close(fd);
            connect_failed(w, c, rc);
            continue;
        }
        c->state = C_CONNECTING;
        w->connecting++;
    }
}

static void complete(struct tw *w, struct conn *c, uint64_t upto)
{
    const struct bb_cfg *cfg = w->cfg;
    struct bb_stats *st = &w->b->st;
    uint64_t n = upto - c->done;

    if (cfg->mode == BB_IDLE) {
        if (upto >= 1 && !c->answered) {
            c->answered = 1;
            st->idle_answered++;
            conn_close(w, c);
        }
        c->done = upto;
        return;
    }
    if (w->measuring) {
        st->msgs += n;
        c->counted += n;
        if (cfg->mode == BB_CLOSED) {
            for (uint64_t m = c->done; m < upto; m++)
                hg_add(&st->hist, w->now - c->times[m % cfg->pipeline]);
        } else if (cfg->mode == BB_RATE) {
            uint64_t j = (uint64_t)(c - w->c);
            for (uint64_t m = c->done; m < upto; m++) {
                uint64_t due = pc_rate_intended(&w->rate, j, m);
                hg_add(&st->hist, w->now > due ? w->now - due : 0);
            }
        }
    }
    __atomic_store_n(&w->b->live_msgs, w->b->live_msgs + n, __ATOMIC_RELAXED);
    c->done = upto;
}

/* r bytes arrived in buf (r <= 0: the connection ended, err the reason). Checks them against
 * the table at the connection's position and moves the loop on. */
static void on_data(struct tw *w, struct conn *c, const uint8_t *buf, ssize_t r, int err)
{
    struct bb_stats *st = &w->b->st;
    uint64_t expect, ok;
    size_t bad;

    if (r <= 0) {
        errno = err;
        /* The server ended a connection the client did not: RFC 862 echoes until the user
         * terminates. */
        st->early_closes++;
        if (!c->sent)
            bb_fail(st, "connection %u: closed by the server (%s) before anything was sent%s",
                    c->id, r == 0 ? "end of stream" : strerror(errno),
                    w->cfg->mode == BB_IDLE ? ", during the idle hold" : "");
        else
            bb_fail(st, "connection %u: closed by the server (%s) after %llu of %llu bytes "
                    "echoed", c->id, r == 0 ? "end of stream" : strerror(errno),
                    (unsigned long long)c->recvd, (unsigned long long)c->sent);
        conn_close(w, c);
        return;
    }
    w->now = bb_now_ns();
    /* A send whose completion is not reaped yet (io_uring) is on its way: its echo may be. */
    expect = c->sent + c->sending - c->recvd;
    ok = (uint64_t)r < expect ? (uint64_t)r : expect;
    if (pt_check(w->t, &c->rpos, buf, (size_t)ok, &bad)) {
        uint32_t at = c->rpos;
        st->mismatches++;
        bb_fail(st, "connection %u: byte %llu of the echo differs: expected 0x%02x, got 0x%02x",
                c->id, (unsigned long long)(c->recvd + bad), w->t[at], buf[bad]);
        conn_close(w, c);
        return;
    }
    if ((uint64_t)r > expect) {
        st->mismatches++;
        bb_fail(st, "connection %u: %llu bytes arrived beyond the %llu sent (at byte %llu), "
                "the first 0x%02x", c->id, (unsigned long long)((uint64_t)r - expect),
                (unsigned long long)(c->sent + c->sending),
                (unsigned long long)(c->sent + c->sending), buf[ok]);
        conn_close(w, c);
        return;
    }
    c->recvd += (uint64_t)r;
    c->progress_ns = w->now;
    if (w->measuring)
        st->bytes += (uint64_t)r;
    __atomic_store_n(&w->b->live_bytes, w->b->live_bytes + (uint64_t)r, __ATOMIC_RELAXED);
    if (w->cfg->mode == BB_STREAM) {
        uint64_t writes = c->recvd / w->cfg->size;
        complete(w, c, writes);
        flush(w, c);
        return;
    }
    if (c->recvd / w->cfg->size > c->done) {
        complete(w, c, c->recvd / w->cfg->size);
        if (c->state != C_OPEN)
            return;
        if (w->cfg->mode == BB_CLOSED && w->started)
            refill_closed(w, c);
    }
}

static void on_readable(struct tw *w, struct conn *c)
{
    ssize_t r = recv(c->io.fd, w->buf, SCRATCH, 0);

    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    on_data(w, c, w->buf, r, errno);
}

static void on_io(struct nl_loop *l, struct nl_io *io, uint32_t revents)
{
    struct conn *c = (struct conn *)io;
    struct tw *w = c->w;

    if (c->state == C_CONNECTING) {
        int rc = ns_connect_result(io->fd);
        w->now = bb_now_ns();
        if (rc)
            connect_failed(w, c, rc);
        else
            on_connected(w, c);
        start_connects(w);
        return;
    }
    if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(w, c);
    if (c->state == C_OPEN && (revents & EPOLLOUT))
        flush(w, c);
}

/* Rate mode: connection idx has messages up to mine due; one write for all of them. */
static void send_due(void *ctx, uint64_t idx, uint64_t mine)
{
    struct tw *w = ctx;
    struct conn *c = &w->c[idx];

    if (c->state != C_OPEN || mine <= c->queued)
        return;
    if (c->sent - c->recvd >= RATE_MAX_INFLIGHT)
        return; /* the server is not keeping up: the latencies will show it */
    c->queued = mine;
    flush(w, c);
}

static void on_rate(struct nl_loop *l, struct nl_io *io, uint32_t revents)
{
    struct tw *w = (struct tw *)((char *)io - offsetof(struct tw, rate.io));

    w->now = bb_now_ns();
    pc_rate_fire(&w->rate, w->now, send_due, w);
}

static void start_traffic(struct tw *w)
{
    w->started = 1;
    if (w->cfg->mode == BB_RATE) {
        pc_rate_start(&w->rate, w->now);
        return;
    }
    for (uint32_t i = 0; i < w->b->count; i++)
        if (w->c[i].state == C_OPEN)
            kick(w, &w->c[i]);
}

static void check_stalls(struct tw *w)
{
    const struct bb_cfg *cfg = w->cfg;

    if (w->phase == BB_CONNECT && w->now > w->connect_deadline) {
        /* A server that accepts too slowly (or a black hole behind a full SYN queue) must not
         * make the phase last connections / 256 timeouts: give up on the rest at once. */
        for (uint32_t i = 0; i < w->b->count; i++)
            if (w->c[i].state == C_NEW || w->c[i].state == C_CONNECTING)
                connect_failed(w, &w->c[i], -ETIMEDOUT);
        w->next_connect = w->b->count;
    }

    for (uint32_t i = 0; i < w->b->count; i++) {
        struct conn *c = &w->c[i];
        if (c->state == C_CONNECTING && w->now > c->progress_ns + cfg->timeout_ns) {
            connect_failed(w, c, -ETIMEDOUT);
        } else if (c->state == C_OPEN && c->sent > c->recvd &&
                   w->now > c->progress_ns + cfg->timeout_ns) {
            w->b->st.stalls++;
            bb_fail(&w->b->st, "connection %u: no echo for %.1f s (%llu of %llu bytes echoed)",
                    c->id, (double)cfg->timeout_ns / 1e9, (unsigned long long)c->recvd,
                    (unsigned long long)c->sent);
            conn_close(w, c);
        }
    }
    start_connects(w);
}

static void on_tick(struct nl_loop *l, struct nl_io *io, uint32_t revents)
{
    struct tw *w = (struct tw *)((char *)io - offsetof(struct tw, tick.io));
    struct bb_worker *b = w->b;
    int phase;

    pc_tick_ack(&w->tick);
    w->now = bb_now_ns();
    if (w->phase == BB_CONNECT && w->next_connect >= b->count && !w->connecting) {
        /* All attempts ended: tell the main thread once. */
        w->phase = -1;
        if (w->cfg->mode == BB_IDLE)
            b->st.idle_held = b->st.connected;
        __atomic_fetch_sub(&b->sh->connecting, 1, __ATOMIC_RELEASE);
    }
    phase = pc_step(b, w->now, &w->measuring);
    if (phase < 0) {
        nl_stop(l);
        return;
    }
    if (phase == BB_RUN && !w->started && w->cfg->mode != BB_IDLE) {
#ifdef EH_HAVE_URING
        w->uring = w->ring_open; /* from here on, traffic moves through the ring */
#endif
        start_traffic(w);
    }
    if (phase == BB_CHECK && !w->checking) {
        w->checking = 1;
        w->started = 1;
        for (uint32_t i = 0; i < b->count; i++) {
            struct conn *c = &w->c[i];
            if (c->state == C_OPEN) {
                c->queued = 1;
                c->progress_ns = w->now;
                flush(w, c);
            }
        }
    }
    if (w->checking && !w->open) {
        nl_stop(l);
        return;
    }
    if (w->now >= w->next_stall) {
        w->next_stall = w->now + STALL_CHECK_NS;
        check_stalls(w);
    }
}

/* The worker's loop. A worker with a single connection in the closed loop or streaming, once
 * traffic flows, blocks in recv() (at most TICK_MS at a time) instead of in epoll_wait():
 * two system calls per message instead of three, so echo-bench spends less CPU per message
 * than an epoll server. Everything else (connecting, many connections, rate, idle) runs on
 * the epoll loop. */
#ifdef EH_HAVE_URING
/* bu_run's completion callback: ctx is the worker. */
static void u_complete(void *ctx, struct io_uring_cqe *cqe)
{
    struct tw *w = ctx;
    uint64_t ud = io_uring_cqe_get_data64(cqe);
    struct conn *c = (struct conn *)(uintptr_t)(ud & ~(uint64_t)BU_MASK);
    int res = cqe->res;

    switch (ud & BU_MASK) {
    case BU_TICK:
        bu_tick(&w->ring, &w->tick_ts, TICK_MS);
        return;
    case BU_SEND:
        c->sending = 0;
        if (c->state != C_OPEN)
            return;
        if (res < 0) {
            w->b->st.early_closes++;
            bb_fail(&w->b->st, "connection %u: send after %llu bytes: %s", c->id,
                    (unsigned long long)c->sent, strerror(-res));
            conn_close(w, c);
            return;
        }
        c->sent += (uint64_t)res;
        c->spos = pt_advance(c->spos, (uint64_t)res);
        u_send(w, c);
        return;
    case BU_RECV: {
        uint8_t *buf = bu_bufs_get(&w->bufs, cqe);
        if (!(cqe->flags & IORING_CQE_F_MORE))
            c->recving = 0; /* a multishot receive that ended, or a single one */
        if (c->state != C_OPEN) {
            bu_bufs_put(&w->bufs, buf);
            return;
        }
        if (res == -EINTR || res == -EAGAIN || (res == -ENOBUFS && w->bufs.br)) {
            u_recv(w, c); /* -ENOBUFS: buffers come back as their completions are read */
            return;
        }
        if (res == -EINVAL && c->multishot && !w->b->st.multishot) {
            /* The kernel has buffer rings but refuses multishot receives (before 6.0):
             * every connection goes back to one receive per message into its own buffer
             * (each connection's refusal comes here once; the first one drops the ring). */
            bu_bufs_close(&w->ring, &w->bufs);
            u_recv(w, c);
            return;
        }
        if (buf && res > 0)
            w->b->st.multishot++;
        on_data(w, c, buf ? buf : c->rb, res, res < 0 ? -res : 0); /* reads the clock */
        bu_bufs_put(&w->bufs, buf);
        u_recv(w, c);
        return;
    }
    default:
        return;
    }
}

static void u_tick_cb(void *ctx)
{
    struct tw *w = ctx;
    on_tick(&w->loop, &w->tick.io, 0);
}

/* The io_uring loop, once traffic flows: one submit-and-wait per round for every connection
 * (waiting for the sends just queued, which loopback completes at once, and one more
 * completion), then every completion reaped. The ring's own timeout wakes it for the tick. */
static int run_uring(struct tw *w)
{
    int *fds = malloc((w->b->count ? w->b->count : 1) * sizeof *fds);

    /* Fixed files from here on (connections no longer open): no descriptor lookup per
     * request. Refused (EH_BENCH_NO_FIXED_FILES=1, a limit): descriptors, as before. */
    if (fds) {
        for (uint32_t i = 0; i < w->b->count; i++)
            fds[i] = w->c[i].state == C_OPEN ? w->c[i].io.fd : -1;
        w->fixed = bu_files_open(&w->ring, fds, w->b->count) == 0;
        free(fds);
    }
    for (uint32_t i = 0; i < w->b->count; i++) {
        u_recv(w, &w->c[i]);
        u_send(w, &w->c[i]);
    }
    bu_tick(&w->ring, &w->tick_ts, TICK_MS);
    return bu_run(&w->ring, &w->loop.stop, &w->nsend, TICK_MS, u_complete, u_tick_cb, w);
}
#endif

static int run(struct tw *w)
{
    struct conn *c = &w->c[0];
    uint64_t next_tick = 0;
    int rc;

    while (!w->loop.stop) {
#ifdef EH_HAVE_URING
        if (w->uring)
            return run_uring(w);
#endif
        if (!(w->b->count == 1 && w->started && c->state == C_OPEN && w->blocking >= 0 &&
              (w->cfg->mode == BB_CLOSED || w->cfg->mode == BB_STREAM))) {
            rc = nl_run_once(&w->loop, -1);
            if (rc < 0)
                return rc;
            continue;
        }
        if (!w->blocking && pc_block(c->io.fd, TICK_MS) != 0) {
            w->blocking = -1; /* stay non-blocking: epoll serves */
            continue;
        }
        w->blocking = 1;
        if (to_write(w, c))
            flush(w, c);
        if (c->state == C_OPEN)
            on_readable(w, c);
        if (pc_tick_due(&next_tick, TICK_MS))
            on_tick(&w->loop, &w->tick.io, 0);
    }
    return 0;
}

void *bb_tcp_worker(void *arg)
{
    struct bb_worker *b = arg;
    const struct bb_cfg *cfg = b->cfg;
    struct tw w;
    int rc;

    memset(&w, 0, sizeof w);
    w.b = b;
    w.cfg = cfg;
    w.t = b->table;
    w.rate.io.fd = w.tick.io.fd = -1;
    w.phase = BB_CONNECT;
    w.c = calloc(b->count ? b->count : 1, sizeof *w.c);
    w.buf = malloc(SCRATCH);
    if (cfg->mode == BB_CLOSED)
        w.times = calloc((size_t)b->count * cfg->pipeline, sizeof *w.times);
    rc = nl_init(&w.loop, 0);
    if (!w.c || !w.buf || (cfg->mode == BB_CLOSED && !w.times) || rc) {
        bb_fail(&b->st, "worker %u: %s", b->index, rc ? ns_strerror(rc) : "out of memory");
        b->fatal = 1;
        __atomic_fetch_sub(&b->sh->connecting, 1, __ATOMIC_RELEASE);
        goto out;
    }
    for (uint32_t i = 0; i < b->count; i++) {
        w.c[i].io.fd = -1;
        sp_init(&w.c[i].sp);
        w.c[i].w = &w;
        w.c[i].id = b->first + i;
        w.c[i].spos = w.c[i].rpos = pt_start(cfg->seed, b->first + i);
        if (w.times)
            w.c[i].times = w.times + (size_t)i * cfg->pipeline;
    }
    if ((cfg->mode == BB_RATE &&
         (rc = pc_rate_open(&w.rate, &w.loop, on_rate, cfg->rate, cfg->conns, b->count))) ||
        (rc = pc_tick_open(&w.tick, &w.loop, on_tick, TICK_MS)) != 0) {
        bb_fail(&b->st, "worker %u: timerfd: %s", b->index, ns_strerror(rc));
        b->fatal = 1;
        __atomic_fetch_sub(&b->sh->connecting, 1, __ATOMIC_RELEASE);
        goto out;
    }
    w.now = bb_now_ns();
    w.next_stall = w.now + STALL_CHECK_NS;
    /* --timeout for the first connection, plus 1 ms for each further one. */
    w.connect_deadline = w.now + cfg->timeout_ns + (uint64_t)b->count * 1000000u;
#ifdef EH_HAVE_URING
    if (cfg->engine == BB_URING && (cfg->mode == BB_CLOSED || cfg->mode == BB_STREAM)) {
        /* Closed loop: room for the pipeline's echo in one receive; stream: one write's. */
        uint64_t want = cfg->mode == BB_STREAM ? SCRATCH : cfg->size * cfg->pipeline;
        w.rbsz = want < 2048 ? 2048 : want > SCRATCH ? SCRATCH : (size_t)want;
        w.rbufs = malloc(w.rbsz * b->count);
        if (w.rbufs && bu_open(&w.ring, 2 * b->count + 8) == 0) {
            w.ring_open = 1;
            for (uint32_t i = 0; i < b->count; i++)
                w.c[i].rb = w.rbufs + w.rbsz * i;
            /* Closed loop: multishot receives into a ring of provided buffers (a buffer per
             * connection and some spare: a connection's echo seldom takes two at a time).
             * Refused (-EINVAL before 5.19, EH_BENCH_NO_MULTISHOT=1): one receive per
             * message into the connection's own buffer, as before. */
            if (cfg->mode == BB_CLOSED) {
                size_t cap = ((size_t)16 << 20) / w.rbsz; /* at most 16 MiB of them */
                unsigned nbuf = b->count + 16 < cap ? b->count + 16 : (unsigned)cap;
                (void)bu_bufs_open(&w.ring, &w.bufs, nbuf, w.rbsz, 0);
            }
        } else {
            fprintf(stderr, "echo-bench: note: worker %u cannot open its io_uring, using epoll\n",
                    b->index);
        }
    }
#endif
    start_connects(&w);
    rc = run(&w);
    if (rc)
        bb_fail(&b->st, "worker %u: epoll_wait: %s", b->index, ns_strerror(rc));
    pc_finish(b, &w.measuring);
    if (w.phase == BB_CONNECT) /* stopped before all connects ended */
        __atomic_fetch_sub(&b->sh->connecting, 1, __ATOMIC_RELEASE);
#ifdef EH_HAVE_URING
    w.fixed = 0; /* the ring's references go at once with the ring, below: no call per socket */
#endif
    for (uint32_t i = 0; i < b->count; i++) {
        struct conn *c = &w.c[i];
        b->done[i] = c->counted;
        /* For a run where nothing completed: how far the echo of the first connection got. */
        if (!b->st.first_unechoed[0] && c->state == C_OPEN && c->sent > c->recvd)
            snprintf(b->st.first_unechoed, sizeof b->st.first_unechoed,
                     "connection %u: %llu of %llu bytes echoed", c->id,
                     (unsigned long long)c->recvd, (unsigned long long)c->sent);
        if (w.c[i].io.fd >= 0)
            conn_close(&w, &w.c[i]);
    }
out:
#ifdef EH_HAVE_URING
    if (w.ring_open) /* cancels what is still in flight before the buffers go */
        io_uring_queue_exit(&w.ring);
    bu_bufs_close(NULL, &w.bufs);
    free(w.rbufs);
#endif
    pc_tick_close(&w.tick, &w.loop);
    pc_rate_close(&w.rate, &w.loop);
    nl_fini(&w.loop);
    free(w.c);
    free(w.buf);
    free(w.times);
    return NULL;
}
