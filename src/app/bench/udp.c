/*
 * udp.c - echo-bench's UDP worker: connected UDP sockets (so the kernel drops datagrams from
 * any other source), each with P datagrams in flight (closed loop) or fed by the worker's
 * share of --rate (open loop, as in tcp.c). Datagrams are built by core/probe and sent and
 * received in batches (sendmmsg/recvmmsg). A reply is matched by the sequence number it
 * carries: an answer to a datagram in flight is received; to one already answered, a
 * duplicate; to one given up as lost, late; anything else (another length, another socket's,
 * a changed byte, a number never sent) is wrong. A datagram unanswered for min(--timeout,
 * 1 s) is lost, and its place in the pipeline is refilled. A socket stalls (a failure, as a
 * TCP connection without echo does) when it has heard nothing for --timeout and a datagram
 * sent after the first of those losses is lost too: one loss is the network's right, a
 * server that ignores the datagrams sent after it as well has stopped answering (a lost
 * datagram is never resent; its place in the pipeline takes a new one).
 */
#define _GNU_SOURCE
#include "bench/bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench/pace.h"
#include "bench/uring.h"
#include "core/probe.h"
#include "core/ptable.h"
#include "net/loop.h"
#include "net/sock.h"

#define BATCH 64
#define TICK_MS 10
#define LOSS_MAX_NS 1000000000ull

enum { S_FREE = 0, S_OUT, S_ANSWERED, S_LOST };

struct usock {
    struct nl_io io;       /* first: the loop hands back &io */
    struct uw *w;
    uint32_t id, start;
    int open;
    uint64_t next_seq;     /* next sequence number to send */
    uint64_t target;       /* datagrams that should have been sent by now */
    uint64_t oldest;       /* no datagram below this one is in flight */
    uint32_t inflight;
    uint64_t counted;
    uint64_t heard_ns;     /* the last reply of any kind (or the start of traffic) */
    uint64_t lost_ns;      /* when the first loss since heard_ns was seen (0: none) */
    uint8_t *state;        /* [hmask + 1], by seq & hmask */
    uint64_t *sent_ns;     /* [hmask + 1] */
    uint8_t *rb, *sb;      /* io_uring: receive slot; P datagrams being sent (by seq % P) */
    uint32_t sends;        /* io_uring: sends in flight */
    uint8_t recving;       /* io_uring: a receive in flight */
    uint8_t multishot;     /* io_uring: that receive is a multishot one */
};

struct uw {
    struct bb_worker *b;
    const struct bb_cfg *cfg;
    const uint8_t *t;
    struct nl_loop loop;
    struct pc_tick tick;
    struct pc_rate rate;
    struct usock *s;
    uint8_t *state;
    uint64_t *sent_ns;
    uint64_t hmask;
    size_t slot;           /* receive buffer per datagram */
    uint8_t *sbuf, *rbuf;
    struct mmsghdr smsg[BATCH], rmsg[BATCH];
    struct iovec siov[BATCH], riov[BATCH];
    int measuring, started;
    int blocking;          /* 1: the one socket is served by blocking calls (see run());
                            * -1: that failed, epoll serves */
    int rflags;            /* recvmmsg flags: MSG_DONTWAIT, or MSG_WAITFORONE when blocking */
    uint64_t now, loss_ns;
    int uring;             /* 1: traffic moves through the ring (set when traffic starts) */
#ifdef EH_HAVE_URING
    int ring_open;
    struct io_uring ring;
    struct __kernel_timespec tick_ts;
    uint8_t *ubufs;        /* the sockets' rb and sb */
    struct bu_bufs bufs;   /* provided buffers of the multishot receives */
    int fixed;             /* 1: the sockets are the ring's fixed files, by socket index */
    unsigned nsend;        /* sends queued since the last submit */
#endif
};

static void sock_close(struct uw *w, struct usock *s)
{
    if (s->io.fd >= 0) {
        int fd = s->io.fd;
        nl_del(&w->loop, &s->io);
        close(fd);
#ifdef EH_HAVE_URING
        if (w->fixed) /* the ring's reference goes too */
            bu_file_drop(&w->ring, (unsigned)(s - w->s));
#endif
    }
    s->open = 0;
}

/* The datagram in slot seq is given up on. */
/* Whether datagram seq was sent inside the measured interval: only those are counted, so
 * sent = received + lost + still in flight at the end. */
static int measured(const struct uw *w, const struct usock *s, uint64_t seq)
{
    uint64_t t0 = w->b->st.t_begin_ns;

    return t0 && s->sent_ns[seq & w->hmask] >= t0;
}

static void mark_lost(struct uw *w, struct usock *s, uint64_t seq)
{
    s->state[seq & w->hmask] = S_LOST;
    s->inflight--;
    if (measured(w, s, seq))
        w->b->st.udp_lost++;
}

#ifdef EH_HAVE_URING
/* What a request names s's socket by: its fixed-file index, or its descriptor. */
static int u_fd(const struct uw *w, const struct usock *s)
{
    return w->fixed ? (int)(s - w->s) : s->io.fd;
}

/* io_uring: queues datagrams next_seq .. target-1, each from its own slot of the socket's send
 * buffer; a slot is written again only once every send queued before has completed. */
static void u_flush(struct uw *w, struct usock *s)
{
    size_t size = (size_t)w->cfg->size, ssz = size ? size : 1;
    uint32_t p = w->cfg->pipeline;
    uint64_t now;

    if (s->sends || !s->open || s->next_seq >= s->target)
        return;
    now = bb_now_ns();
    while (s->next_seq < s->target && s->sends < p) {
        uint64_t seq = s->next_seq;
        uint8_t *st = &s->state[seq & w->hmask], *out = s->sb + (size_t)(seq % p) * ssz;
        struct io_uring_sqe *sqe = bu_sqe(&w->ring);
        if (!sqe)
            break;
        if (*st == S_OUT) /* a very old datagram still holds the slot: it is lost */
            mark_lost(w, s, seq - (w->hmask + 1));
        pb_encode(out, size, w->t, s->start, s->id, seq);
        bu_prep_send(sqe, u_fd(w, s), w->fixed, out, size, 0);
        io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)s | BU_SEND);
        *st = S_OUT;
        s->sent_ns[seq & w->hmask] = now;
        s->inflight++;
        s->sends++;
        w->nsend++;
        if (w->measuring)
            w->b->st.udp_sent++;
        s->next_seq++;
    }
}

static void u_recv(struct uw *w, struct usock *s)
{
    struct io_uring_sqe *sqe;

    if (s->recving || !s->open)
        return;
    sqe = bu_sqe(&w->ring);
    if (!sqe)
        return;
    /* Multishot: one datagram per completion, each in a provided buffer; else into s->rb.
     * MSG_TRUNC: the result is the datagram's real length, so a longer one shows. */
    s->multishot = (uint8_t)bu_prep_recv(sqe, &w->bufs, u_fd(w, s), w->fixed, s->rb, w->slot,
                                         MSG_TRUNC);
    /* The echo is not there yet when the receive is queued: wait for it without a first
     * attempt that would fail. */
    sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)s | BU_RECV);
    s->recving = 1;
}
#endif

/* Sends datagrams next_seq .. target-1 in batches. */
static void flush(struct uw *w, struct usock *s)
{
    size_t size = (size_t)w->cfg->size;
    int again = 0;

#ifdef EH_HAVE_URING
    if (w->uring) {
        u_flush(w, s);
        return;
    }
#endif

    while (s->next_seq < s->target && s->open) {
        unsigned n = 0;
        int r;
        uint64_t now = bb_now_ns();
        while (n < BATCH && s->next_seq + n < s->target) {
            uint64_t seq = s->next_seq + n;
            uint8_t *st = &s->state[seq & w->hmask];
            if (*st == S_OUT) /* a very old datagram still holds the slot: it is lost */
                mark_lost(w, s, seq - (w->hmask + 1));
            pb_encode(w->sbuf + (size_t)n * (size ? size : 1), size, w->t, s->start, s->id, seq);
            n++;
        }
        r = sendmmsg(s->io.fd, w->smsg, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == ENOBUFS) {
                again = 1;
                break;
            }
            if (errno == ECONNREFUSED)
                continue; /* an ICMP error from an earlier datagram; try again */
            bb_fail(&w->b->st, "socket %u: sendmmsg: %s", s->id, strerror(errno));
            w->b->st.early_closes++;
            sock_close(w, s);
            return;
        }
        for (int i = 0; i < r; i++) {
            uint64_t seq = s->next_seq + (uint64_t)i;
            s->state[seq & w->hmask] = S_OUT;
            s->sent_ns[seq & w->hmask] = now;
            s->inflight++;
        }
        if (w->measuring)
            w->b->st.udp_sent += (uint64_t)r;
        s->next_seq += (uint64_t)r;
        if ((unsigned)r < n) {
            again = 1;
            break;
        }
    }
    if (s->open)
        (void)nl_mod(&w->loop, &s->io, EPOLLIN | (again ? EPOLLOUT : 0));
}

static void on_reply(struct uw *w, struct usock *s, const uint8_t *p, size_t n, int trunc)
{
    struct bb_stats *st = &w->b->st;
    const struct bb_cfg *cfg = w->cfg;
    uint64_t seq = 0;
    size_t bad = 0;
    int v = trunc ? PB_LENGTH : pb_check(p, n, (size_t)cfg->size, w->t, s->start, s->id, &seq,
                                         &bad);
    uint8_t *slot;

    /* Any reply, even a wrong or late one, shows the server is still answering. */
    s->heard_ns = w->now;
    s->lost_ns = 0;
    if (v != PB_OK) {
        st->udp_wrong++;
        if (v == PB_LENGTH)
            bb_fail(st, "socket %u: datagram %llu (%llu bytes) came back as %s%zu bytes",
                    s->id, (unsigned long long)seq, (unsigned long long)cfg->size,
                    trunc ? "more than " : "", n);
        else if (v == PB_FOREIGN) {
            /* Name whose datagram came instead; the reachability probe uses socket
             * UINT32_MAX. (PB_FOREIGN means the reply has a whole header.) */
            uint32_t other = 0;
            uint64_t oseq = 0;
            (void)pb_header(p, n, &other, &oseq);
            if (other == UINT32_MAX)
                bb_fail(st, "socket %u: a reply carrying the reachability probe's datagram "
                        "(cross-talk)", s->id);
            else
                bb_fail(st, "socket %u: a reply carrying socket %llu's datagram %llu "
                        "(cross-talk)", s->id, (unsigned long long)other,
                        (unsigned long long)oseq);
        }
        else
            bb_fail(st, "socket %u: datagram %llu came back with byte %zu changed: expected "
                    "0x%02x, got 0x%02x", s->id, (unsigned long long)seq, bad,
                    (unsigned)w->t[bad < PB_HEADER || cfg->size < PB_HEADER
                                       ? pt_advance(s->start, bad)
                                       : pt_advance(pb_pos(s->start, seq, (size_t)cfg->size),
                                                    bad - PB_HEADER)],
                    p[bad]);
        /* A wrong answer to a datagram in flight still ends its wait, so the loop goes on. */
        if (v != PB_FOREIGN && cfg->size >= PB_HEADER && seq < s->next_seq &&
            s->next_seq - seq <= w->hmask + 1 && s->state[seq & w->hmask] == S_OUT) {
            s->state[seq & w->hmask] = S_ANSWERED;
            s->inflight--;
        }
        return;
    }
    if (cfg->size < PB_HEADER) {
        /* No sequence number: the reply answers the oldest datagram in flight. */
        while (s->oldest < s->next_seq && s->state[s->oldest & w->hmask] != S_OUT)
            s->oldest++;
        if (s->oldest >= s->next_seq) {
            if (st->udp_lost)
                st->udp_late++;
            else {
                st->udp_dup++;
                bb_fail(st, "socket %u: more replies than datagrams sent (%llu)", s->id,
                        (unsigned long long)s->next_seq);
            }
            return;
        }
        seq = s->oldest;
    }
    if (seq >= s->next_seq) {
        st->udp_wrong++;
        bb_fail(st, "socket %u: a reply to datagram %llu, which was never sent (%llu sent)",
                s->id, (unsigned long long)seq, (unsigned long long)s->next_seq);
        return;
    }
    slot = &s->state[seq & w->hmask];
    if (s->next_seq - seq > w->hmask + 1 || *slot == S_LOST) {
        if (w->b->st.t_begin_ns)
            st->udp_late++;
        return;
    }
    if (*slot == S_ANSWERED) {
        st->udp_dup++;
        bb_fail(st, "socket %u: datagram %llu was answered twice", s->id,
                (unsigned long long)seq);
        return;
    }
    *slot = S_ANSWERED;
    s->inflight--;
    if (w->measuring && measured(w, s, seq)) {
        uint64_t from = cfg->mode == BB_RATE ? pc_rate_intended(&w->rate, (uint64_t)(s - w->s), seq)
                                              : s->sent_ns[seq & w->hmask];
        st->udp_received++;
        st->msgs++;
        st->bytes += n;
        s->counted++;
        hg_add(&st->hist, w->now > from ? w->now - from : 0);
    }
    __atomic_store_n(&w->b->live_msgs, w->b->live_msgs + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&w->b->live_bytes, w->b->live_bytes + n, __ATOMIC_RELAXED);
}

static void on_io(struct nl_loop *l, struct nl_io *io, uint32_t revents)
{
    struct usock *s = (struct usock *)io;
    struct uw *w = s->w;
    int r;

    if (revents & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        for (int i = 0; i < BATCH; i++) {
            w->riov[i].iov_len = w->slot;
            w->rmsg[i].msg_hdr.msg_flags = 0;
        }
        r = recvmmsg(io->fd, w->rmsg, BATCH, w->rflags, NULL);
        if (r < 0 && errno == ECONNREFUSED) {
            /* ICMP port unreachable: the server is not there (any more). */
            w->b->st.early_closes++;
            bb_fail(&w->b->st, "socket %u: %s:  the server refused datagrams (ICMP port "
                    "unreachable)", s->id, w->cfg->target);
            sock_close(w, s);
            return;
        }
        if (r > 0) {
            w->now = bb_now_ns();
            for (int i = 0; i < r; i++)
                on_reply(w, s, w->rbuf + (size_t)i * w->slot, w->rmsg[i].msg_len,
                         (w->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) != 0);
            if (w->cfg->mode == BB_CLOSED && w->started)
                s->target = s->next_seq + (w->cfg->pipeline - s->inflight);
        }
    }
    if (s->open && w->started)
        flush(w, s);
}

/* Datagram seq of s was just given up as lost: a stall (see the top of the file) when s has
 * heard nothing for --timeout and seq was sent after the first loss of that silence.
 * Returns 1 after closing s. */
static int check_stall(struct uw *w, struct usock *s, uint64_t seq)
{
    const struct bb_cfg *cfg = w->cfg;

    if (!s->lost_ns) {
        s->lost_ns = w->now;
        return 0;
    }
    if (s->sent_ns[seq & w->hmask] < s->lost_ns || w->now - s->heard_ns <= cfg->timeout_ns)
        return 0;
    w->b->st.stalls++;
    bb_fail(&w->b->st, "socket %u: no reply for %.1f s (datagram %llu, sent after an earlier "
            "loss, lost too; %llu sent)", s->id, (double)(w->now - s->heard_ns) / 1e9,
            (unsigned long long)seq, (unsigned long long)s->next_seq);
    sock_close(w, s);
    return 1;
}

static void check_loss(struct uw *w)
{
    w->now = bb_now_ns();
    for (uint32_t i = 0; i < w->b->count; i++) {
        struct usock *s = &w->s[i];
        int lost = 0;
        if (!s->open)
            continue;
        while (s->oldest < s->next_seq) {
            uint8_t st = s->state[s->oldest & w->hmask];
            if (st == S_OUT) {
                /* Sent after w->now was read (in this very tick) is young too. */
                if (s->sent_ns[s->oldest & w->hmask] + w->loss_ns > w->now)
                    break;
                mark_lost(w, s, s->oldest);
                lost = 1;
                if (w->started && check_stall(w, s, s->oldest))
                    break;
            }
            s->oldest++;
        }
        if (!s->open)
            continue;
        if (lost && w->cfg->mode == BB_CLOSED && w->started) {
            s->target = s->next_seq + (w->cfg->pipeline - s->inflight);
            flush(w, s);
        }
    }
}

/* Rate mode: socket idx has datagrams up to mine due. */
static void send_due(void *ctx, uint64_t idx, uint64_t mine)
{
    struct uw *w = ctx;
    struct usock *s = &w->s[idx];
    uint64_t room;

    if (!s->open || mine <= s->target)
        return;
    /* At most a history window in flight: a rate beyond what the server answers (or the
     * socket sends) waits here, and the latencies, taken from the intended send times, show
     * it. Unbounded, one call would send every datagram due (a million a second into
     * --rate 1e9) and the run would last minutes past its end. */
    room = s->inflight < w->hmask + 1 ? w->hmask + 1 - s->inflight : 0;
    if (mine > s->next_seq + room)
        mine = s->next_seq + room;
    if (mine <= s->target)
        return;
    s->target = mine;
    flush(w, s);
}

static void on_rate(struct nl_loop *l, struct nl_io *io, uint32_t revents)
{
    struct uw *w = (struct uw *)((char *)io - offsetof(struct uw, rate.io));

    w->now = bb_now_ns();
    pc_rate_fire(&w->rate, w->now, send_due, w);
}

static void start_traffic(struct uw *w)
{
    w->started = 1;
    for (uint32_t i = 0; i < w->b->count; i++)
        w->s[i].heard_ns = w->now; /* the preflight's reply was the last one heard */
    if (w->cfg->mode == BB_RATE) {
        pc_rate_start(&w->rate, w->now);
        return;
    }
    for (uint32_t i = 0; i < w->b->count; i++) {
        struct usock *s = &w->s[i];
        if (!s->open)
            continue;
        s->target = w->cfg->pipeline;
        flush(w, s);
    }
}

static void on_tick(struct nl_loop *l, struct nl_io *io, uint32_t revents)
{
    struct uw *w = (struct uw *)((char *)io - offsetof(struct uw, tick.io));
    int phase;

    pc_tick_ack(&w->tick);
    w->now = bb_now_ns();
    phase = pc_step(w->b, w->now, &w->measuring);
    if (phase < 0) {
        nl_stop(l);
        return;
    }
    if (phase == BB_RUN) {
        if (!w->started) {
#ifdef EH_HAVE_URING
            w->uring = w->ring_open; /* from here on, traffic moves through the ring */
#endif
            start_traffic(w);
        }
        check_loss(w);
    }
}

/* The worker's loop. With a single socket in the closed loop, once traffic flows, the worker
 * blocks in recvmmsg() (MSG_WAITFORONE, at most TICK_MS at a time) instead of in
 * epoll_wait(): two system calls per round trip instead of three. */
#ifdef EH_HAVE_URING
/* bu_run's completion callback: ctx is the worker. */
static void u_complete(void *ctx, struct io_uring_cqe *cqe)
{
    struct uw *w = ctx;
    uint64_t ud = io_uring_cqe_get_data64(cqe);
    struct usock *s = (struct usock *)(uintptr_t)(ud & ~(uint64_t)BU_MASK);
    int res = cqe->res;

    switch (ud & BU_MASK) {
    case BU_TICK:
        bu_tick(&w->ring, &w->tick_ts, TICK_MS);
        return;
    case BU_SEND:
        s->sends--;
        if (!s->open)
            return;
        /* A datagram the kernel did not take (no buffer, an ICMP error from an earlier one)
         * stays in flight and is counted lost after its wait, as the network could lose it. */
        if (res < 0 && res != -EAGAIN && res != -ENOBUFS && res != -ECONNREFUSED &&
            res != -EINTR) {
            bb_fail(&w->b->st, "socket %u: send: %s", s->id, strerror(-res));
            w->b->st.early_closes++;
            sock_close(w, s);
            return;
        }
        u_flush(w, s);
        return;
    case BU_RECV: {
        uint8_t *buf = bu_bufs_get(&w->bufs, cqe);
        if (!(cqe->flags & IORING_CQE_F_MORE))
            s->recving = 0; /* a multishot receive that ended, or a single one */
        if (!s->open) {
            bu_bufs_put(&w->bufs, buf);
            return;
        }
        if (res == -EINVAL && s->multishot && !w->b->st.multishot) {
            /* Multishot receives refused (a kernel before 6.0): one receive per datagram
             * into the socket's own buffer, as before. */
            bu_bufs_close(&w->ring, &w->bufs);
            u_recv(w, s);
            return;
        }
        if (res == -ECONNREFUSED) {
            w->b->st.early_closes++;
            bb_fail(&w->b->st, "socket %u: %s:  the server refused datagrams (ICMP port "
                    "unreachable)", s->id, w->cfg->target);
            sock_close(w, s);
            return;
        }
        if (res >= 0) {
            if (buf)
                w->b->st.multishot++;
            w->now = bb_now_ns();
            on_reply(w, s, buf ? buf : s->rb, (size_t)res < w->slot ? (size_t)res : w->slot,
                     (size_t)res > w->slot);
            if (w->cfg->mode == BB_CLOSED && w->started)
                s->target = s->next_seq + (w->cfg->pipeline - s->inflight);
            u_flush(w, s);
        }
        bu_bufs_put(&w->bufs, buf); /* -ENOBUFS: buffers come back as completions are read */
        u_recv(w, s);
        return;
    }
    default:
        return;
    }
}

static void u_tick_cb(void *ctx)
{
    struct uw *w = ctx;
    on_tick(&w->loop, &w->tick.io, 0);
}

/* The io_uring loop, once traffic flows (see tcp.c's): one submit-and-wait per round for
 * every socket, then every completion reaped. */
static int run_uring(struct uw *w)
{
    int *fds = malloc((w->b->count ? w->b->count : 1) * sizeof *fds);

    /* Fixed files from here on (see tcp.c; refused: descriptors, as before). */
    if (fds) {
        for (uint32_t i = 0; i < w->b->count; i++)
            fds[i] = w->s[i].open ? w->s[i].io.fd : -1;
        w->fixed = bu_files_open(&w->ring, fds, w->b->count) == 0;
        free(fds);
    }
    for (uint32_t i = 0; i < w->b->count; i++) {
        u_recv(w, &w->s[i]);
        u_flush(w, &w->s[i]);
    }
    bu_tick(&w->ring, &w->tick_ts, TICK_MS);
    return bu_run(&w->ring, &w->loop.stop, &w->nsend, TICK_MS, u_complete, u_tick_cb, w);
}
#endif

static int run(struct uw *w)
{
    struct usock *s = &w->s[0];
    uint64_t next_tick = 0;
    int rc;

    while (!w->loop.stop) {
#ifdef EH_HAVE_URING
        if (w->uring)
            return run_uring(w);
#endif
        if (!(w->b->count == 1 && w->started && s->open && w->blocking >= 0 &&
              w->cfg->mode == BB_CLOSED)) {
            rc = nl_run_once(&w->loop, -1);
            if (rc < 0)
                return rc;
            continue;
        }
        if (!w->blocking && pc_block(s->io.fd, TICK_MS) != 0) {
            w->blocking = -1; /* stay non-blocking: epoll serves */
            continue;
        }
        w->blocking = 1;
        w->rflags = MSG_WAITFORONE;
        on_io(&w->loop, &s->io, EPOLLIN);
        if (pc_tick_due(&next_tick, TICK_MS))
            on_tick(&w->loop, &w->tick.io, 0);
    }
    return 0;
}

void *bb_udp_worker(void *arg)
{
    struct bb_worker *b = arg;
    const struct bb_cfg *cfg = b->cfg;
    size_t size = (size_t)cfg->size, ssz = size ? size : 1;
    uint64_t h = 64;
    struct uw *w = calloc(1, sizeof *w);
    int rc = 0;

    if (!w) {
        bb_fail(&b->st, "worker %u: out of memory", b->index);
        b->fatal = 1;
        __atomic_fetch_sub(&b->sh->connecting, 1, __ATOMIC_RELEASE);
        return NULL;
    }
    /* The history window: four pipelines (rate mode: 4096), so duplicates and late replies
     * are told apart from datagrams never sent. */
    while (h < 4ull * cfg->pipeline || (cfg->mode == BB_RATE && h < 4096))
        h <<= 1;
    w->hmask = h - 1;
    w->b = b;
    w->cfg = cfg;
    w->t = b->table;
    w->rate.io.fd = w->tick.io.fd = -1;
    w->rflags = MSG_DONTWAIT;
    w->slot = size + 1 < 64 ? 64 : size + 1;
    w->loss_ns = cfg->timeout_ns < LOSS_MAX_NS ? cfg->timeout_ns : LOSS_MAX_NS;
    w->s = calloc(b->count ? b->count : 1, sizeof *w->s);
    w->state = calloc((size_t)b->count * h, 1);
    w->sent_ns = calloc((size_t)b->count * h, sizeof *w->sent_ns);
    w->sbuf = malloc(BATCH * ssz);
    w->rbuf = malloc(BATCH * w->slot);
    rc = nl_init(&w->loop, 0);
    if (!w->s || !w->state || !w->sent_ns || !w->sbuf || !w->rbuf || rc) {
        bb_fail(&b->st, "worker %u: %s", b->index, rc ? ns_strerror(rc) : "out of memory");
        b->fatal = 1;
        __atomic_fetch_sub(&b->sh->connecting, 1, __ATOMIC_RELEASE);
        goto out;
    }
    for (int i = 0; i < BATCH; i++) {
        w->siov[i].iov_base = w->sbuf + (size_t)i * ssz;
        w->siov[i].iov_len = size;
        w->smsg[i].msg_hdr.msg_iov = &w->siov[i];
        w->smsg[i].msg_hdr.msg_iovlen = 1;
        w->riov[i].iov_base = w->rbuf + (size_t)i * w->slot;
        w->riov[i].iov_len = w->slot;
        w->rmsg[i].msg_hdr.msg_iov = &w->riov[i];
        w->rmsg[i].msg_hdr.msg_iovlen = 1;
    }
    for (uint32_t i = 0; i < b->count; i++) {
        struct usock *s = &w->s[i];
        int fd = -1;
        s->io.fd = -1;
        s->w = w;
        s->id = b->first + i;
        s->start = pt_start(cfg->seed, s->id);
        s->state = w->state + (size_t)i * h;
        s->sent_ns = w->sent_ns + (size_t)i * h;
        rc = ns_connect(&cfg->addr, SOCK_DGRAM, NULL, 0, &fd);
        if (!rc) {
            /* Room for a deep pipeline of large datagrams both ways. */
            (void)ns_set_int(fd, SOL_SOCKET, SO_RCVBUF, 4 << 20);
            (void)ns_set_int(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20);
            rc = nl_add(&w->loop, &s->io, fd, EPOLLIN, on_io);
            if (rc)
                close(fd);
        }
        if (rc) {
            b->st.connect_errors++;
            if (!b->st.first_connect_error[0])
                snprintf(b->st.first_connect_error, sizeof b->st.first_connect_error,
                         "socket %u: cannot open a UDP socket to %s: %s", s->id, cfg->target,
                         ns_strerror(rc));
            continue;
        }
        s->open = 1;
        b->st.connected++;
    }
    if ((cfg->mode == BB_RATE &&
         (rc = pc_rate_open(&w->rate, &w->loop, on_rate, cfg->rate, cfg->conns, b->count))) ||
        (rc = pc_tick_open(&w->tick, &w->loop, on_tick, TICK_MS)) != 0) {
        bb_fail(&b->st, "worker %u: timerfd: %s", b->index, ns_strerror(rc));
        b->fatal = 1;
        __atomic_fetch_sub(&b->sh->connecting, 1, __ATOMIC_RELEASE);
        goto out;
    }
#ifdef EH_HAVE_URING
    if (cfg->engine == BB_URING && cfg->mode == BB_CLOSED) {
        size_t per = w->slot + (size_t)cfg->pipeline * ssz;
        w->ubufs = malloc(per * (b->count ? b->count : 1));
        if (w->ubufs && bu_open(&w->ring, (b->count + 1) * (cfg->pipeline + 1) + 8) == 0) {
            w->ring_open = 1;
            for (uint32_t i = 0; i < b->count; i++) {
                w->s[i].rb = w->ubufs + per * i;
                w->s[i].sb = w->s[i].rb + w->slot;
            }
            /* Multishot receives into provided buffers: room for every datagram in flight
             * and some spare, at most 16 MiB (refused: one receive per datagram into rb). */
            {
                uint64_t want = (uint64_t)b->count * cfg->pipeline + 16;
                uint64_t cap = ((uint64_t)16 << 20) / w->slot;
                (void)bu_bufs_open(&w->ring, &w->bufs, (unsigned)(want < cap ? want : cap),
                                   w->slot, 0);
            }
        } else {
            fprintf(stderr, "echo-bench: note: worker %u cannot open its io_uring, using epoll\n",
                    b->index);
        }
    }
#endif
    __atomic_fetch_sub(&b->sh->connecting, 1, __ATOMIC_RELEASE);
    w->now = bb_now_ns();
    rc = run(w);
    if (rc)
        bb_fail(&b->st, "worker %u: epoll_wait: %s", b->index, ns_strerror(rc));
    pc_finish(b, &w->measuring);
#ifdef EH_HAVE_URING
    w->fixed = 0; /* the ring's references go at once with the ring, below */
#endif
    for (uint32_t i = 0; i < b->count; i++) {
        b->done[i] = w->s[i].counted;
        sock_close(w, &w->s[i]);
    }
out:
#ifdef EH_HAVE_URING
    if (w->ring_open) /* cancels what is still in flight before the buffers go */
        io_uring_queue_exit(&w->ring);
    bu_bufs_close(NULL, &w->bufs);
    free(w->ubufs);
#endif
    pc_tick_close(&w->tick, &w->loop);
    pc_rate_close(&w->rate, &w->loop);
    nl_fini(&w->loop);
    free(w->s);
    free(w->state);
    free(w->sent_ns);
    free(w->sbuf);
    free(w->rbuf);
    free(w);
    return NULL;
}
