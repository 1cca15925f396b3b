/*
 * tcp.c - TCP glue between sockets and es_ machines. Each readiness event runs a short
 * loop: do what es_want() asks (close, shut down, write pending, read), until nothing
 * moves or a fairness bound is hit, then register exactly the events the machine wants
 * (READ -> EPOLLIN, WRITE -> EPOLLOUT). When the cap is reached the machine stops asking
 * to read, so EPOLLIN is dropped: that is the backpressure. Writes use sendmsg with
 * MSG_NOSIGNAL so a vanished peer gives EPIPE, never SIGPIPE; splice(2) cannot ask for
 * that, so a program using this must ignore SIGPIPE (echod does).
 *
 * Splice path: a read that fills a whole request of at least SPLICE_MIN bytes marks a bulk
 * stream, and the connection borrows a pipe. From then on each round splices socket ->
 * pipe and at once pipe -> socket; what the socket does not take stays in the pipe as held
 * bytes. While bytes are held only EPOLLOUT is watched: a pipe can be full (of pieces
 * smaller than a page) before the cap is reached, and waiting for EPOLLIN then would spin.
 */
#define _GNU_SOURCE
#include "net/tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/sock.h"

#define ROUNDS_PER_EVENT 8 /* fairness: then let other descriptors run */
#define ACCEPTS_PER_EVENT 64
#define SPLICE_MIN ((size_t)16 * 1024) /* smaller full reads do not start the splice path */
#define SPLICE_FLAGS (SPLICE_F_MOVE | SPLICE_F_NONBLOCK)
#define PIPE_MAX ((size_t)1 << 20) /* the default /proc/sys/fs/pipe-max-size */

/* Results of one I/O step (or -errno). IO_DRAINED: bytes moved and the read came back
 * short, so the socket is empty for now; level-triggered epoll reports new data. */
enum { IO_AGAIN = 0, IO_MOVED = 1, IO_EOF = 2, IO_DRAINED = 3 };

/* The budget is 256 bytes of user memory per idle connection; keep well inside it. */
_Static_assert(sizeof(struct nt_conn) <= 128, "an idle connection slot must stay small");

size_t nt_slot_size(void)
{
    return sizeof(struct nt_conn) + sizeof(struct nl_timer *) + sizeof(uint32_t);
}

static struct nt_conn *conn_of_io(struct nl_io *io)
{
    return (struct nt_conn *)(void *)((char *)io - offsetof(struct nt_conn, io));
}

static struct nt_conn *conn_of_timer(struct nl_timer *t)
{
    return (struct nt_conn *)(void *)((char *)t - offsetof(struct nt_conn, idle));
}

/* Storage pool: buffers of exactly cfg.cap bytes, at most pool_max kept while unused. */
static uint8_t *pool_get(struct nt_server *s)
{
    if (s->n_pool)
        return s->pool[--s->n_pool];
    s->st.buf_allocs++;
    return malloc(s->cfg.cap);
}

static void pool_put(struct nt_server *s, uint8_t *b)
{
    if (!b)
        return;
    if (s->n_pool < s->cfg.pool_max)
        s->pool[s->n_pool++] = b;
    else
        free(b);
}

void nt_pool_trim(struct nt_server *s)
{
    while (s->n_pool)
        free(s->pool[--s->n_pool]);
    /* Pipes on the free list stay listed; pipe_get() reopens a closed one. */
    for (uint32_t k = 0; k < s->n_pipe_free; k++) {
        struct nt_pipe *p = &s->pipes[s->pipe_free[k]];
        if (p->r >= 0) {
            close(p->r);
            close(p->w);
            p->r = p->w = -1;
        }
    }
}

/* Lends connection c a pipe from the pool, opening one if needed. Best effort: without one
 * (pool lent out, out of descriptors) the connection just keeps copying. */
static void pipe_get(struct nt_server *s, struct nt_conn *c)
{
    struct nt_pipe *p;
    uint32_t i;
    size_t want;
    int fds[2], got;
    socklen_t optlen = sizeof got;

    if (s->n_pipe_free) {
        i = s->pipe_free[--s->n_pipe_free];
    } else if (s->n_pipes < NT_MAX_PIPES) {
        i = s->n_pipes++;
        s->pipes[i].r = s->pipes[i].w = -1;
    } else {
        return;
    }
    p = &s->pipes[i];
    if (p->r < 0) {
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
            s->pipe_free[s->n_pipe_free++] = i;
            return;
        }
        p->r = fds[0];
        p->w = fds[1];
        /* Room for a whole cap even when bytes arrive in pieces smaller than a page (one
         * pipe slot each): twice the cap, within the usual system limit. A refusal only
         * means a smaller pipe, which read_splice respects. */
        want = s->cfg.cap < PIPE_MAX / 2 ? 2 * s->cfg.cap : PIPE_MAX;
        if (want > 65536)
            (void)fcntl(p->w, F_SETPIPE_SZ, (int)want);
        got = fcntl(p->w, F_GETPIPE_SZ);
        p->size = got > 0 ? (uint32_t)got : 4096;
    }
    c->pipe = i + 1;
    p->mss = 0;
    if (getsockopt(c->io.fd, IPPROTO_TCP, TCP_MAXSEG, &got, &optlen) == 0 && got > 0)
        p->mss = (uint32_t)got;
}

/* Returns c's pipe to the pool. A pipe still holding bytes (the connection failed) is
 * closed instead, so no byte can reach another connection. */
static void pipe_put(struct nt_server *s, struct nt_conn *c)
{
    struct nt_pipe *p = &s->pipes[c->pipe - 1];

    if (es_held(&c->es)) {
        close(p->r);
        close(p->w);
        p->r = p->w = -1;
    }
    s->pipe_free[s->n_pipe_free++] = c->pipe - 1;
    c->pipe = 0;
}

static void conn_close(struct nt_server *s, struct nt_conn *c)
{
    int fd = c->io.fd;

    if (!es_done(&c->es)) {
        /* Abandoning a live connection (idle timeout, shutdown): pending bytes go. */
        es_on_error(&c->es);
    }
    pool_put(s, es_detach(&c->es));
    if (c->pipe)
        pipe_put(s, c);
    nl_timer_cancel(s->loop, &c->idle);
    nl_del(s->loop, &c->io);
    close(fd);
    s->free_slots[s->n_free++] = (uint32_t)(c - s->slots);
    s->n_live--;
    s->st.closed++;
}

static void conn_fail(struct nt_server *s, struct nt_conn *c)
{
    s->st.errors++;
    es_on_error(&c->es);
}

/* Writes pending bytes with one gathered send. */
static int do_write(struct nt_server *s, struct nt_conn *c)
{
    struct rb_span sp[2];
    struct iovec iov[2];
    struct msghdr mh;
    size_t count;
    ssize_t n;

    es_write_spans(&c->es, sp, &count);
    for (size_t i = 0; i < count; i++)
        iov[i].iov_base = sp[i].p, iov[i].iov_len = sp[i].n;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = iov;
    mh.msg_iovlen = count;
    do
        n = sendmsg(c->io.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : -errno;
    (void)es_on_written(&c->es, (size_t)n);
    s->st.bytes += (uint64_t)n;
    if (!es_pending(&c->es))
        pool_put(s, es_detach(&c->es));
    return n > 0 ? IO_MOVED : IO_AGAIN;
}

/* Nothing pending: read into the shared scratch area and write it straight back; only the
 * part the socket did not take is queued, in storage taken from the pool. */
static int read_fast(struct nt_server *s, struct nt_conn *c)
{
    size_t room = es_room(&c->es);
    size_t want = room < NT_SCRATCH_SIZE ? room : NT_SCRATCH_SIZE;
    ssize_t n, m;
    int rc;

    do
        n = recv(c->io.fd, s->scratch, want, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return IO_EOF;
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : -errno;
    do
        m = send(c->io.fd, s->scratch, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (m < 0 && errno == EINTR);
    if (m < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        m = 0;
    }
    s->st.bytes += (uint64_t)m;
    if (m < n && !es_has_storage(&c->es)) {
        uint8_t *b = pool_get(s);
        if (!b)
            return -ENOMEM;
        (void)es_attach(&c->es, b, s->cfg.cap);
    }
    rc = es_passthrough(&c->es, s->scratch, (size_t)n, (size_t)m);
    if (rc != 0)
        return -EPROTO; /* the machine refused: a glue bug, fail safe */
    /* A full large read with everything sent: a bulk stream, better spliced from now on. */
    if ((size_t)n == want && want >= SPLICE_MIN && m == n && !s->cfg.no_splice)
        pipe_get(s, c);
    return (size_t)n < want ? IO_DRAINED : IO_MOVED;
}

/* Writes held bytes from c's pipe to the socket. */
static int write_held(struct nt_server *s, struct nt_conn *c)
{
    ssize_t n;

    do
        n = splice(s->pipes[c->pipe - 1].r, NULL, c->io.fd, NULL, es_held(&c->es), SPLICE_FLAGS);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : -errno;
    (void)es_on_held_written(&c->es, (size_t)n);
    s->st.bytes += (uint64_t)n;
    s->st.spliced += (uint64_t)n;
    return n > 0 ? IO_MOVED : IO_AGAIN;
}

/* Splice path: socket -> pipe (as much as the cap and the pipe allow), then at once pipe ->
 * socket. *got gets the bytes read. A kernel that cannot splice this socket (EINVAL) turns
 * the path off for the server; nothing was moved then. A read asks for whole segments when
 * it can: what a full read takes then leaves as full segments, where 64 KiB would leave as
 * a 65483-byte loopback segment and a 53-byte one (twice the packets, each a trip through
 * the stack); a short read (the stream paused) sends what came, as before. */
static int read_splice(struct nt_server *s, struct nt_conn *c, size_t *got)
{
    const struct nt_pipe *p = &s->pipes[c->pipe - 1];
    size_t room = es_room(&c->es), space = p->size - es_held(&c->es);
    size_t want = room < space ? room : space;
    ssize_t n;
    int rc;

    *got = 0;
    if (p->mss && want > p->mss)
        want -= want % p->mss;
    if (!want)
        return IO_AGAIN;
    do
        n = splice(c->io.fd, NULL, p->w, NULL, want, SPLICE_FLAGS);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return IO_EOF;
    if (n < 0) {
        if (errno == EINVAL && !es_held(&c->es)) {
            s->cfg.no_splice = 1;
            pipe_put(s, c);
            return IO_AGAIN;
        }
        return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : -errno;
    }
    (void)es_on_held(&c->es, (size_t)n);
    *got = (size_t)n;
    rc = write_held(s, c);
    if (rc < 0)
        return rc;
    return (size_t)n < want ? IO_DRAINED : IO_MOVED;
}

/* Bytes pending (storage attached): read into the ring's free space. */
static int read_ring(struct nt_server *s, struct nt_conn *c)
{
    struct rb_span sp[2];
    struct iovec iov[2];
    size_t count;
    ssize_t n;

    if (es_read_spans(&c->es, sp, &count) == 0)
        return IO_AGAIN;
    for (size_t i = 0; i < count; i++)
        iov[i].iov_base = sp[i].p, iov[i].iov_len = sp[i].n;
    do
        n = readv(c->io.fd, iov, (int)count);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return IO_EOF;
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : -errno;
    (void)es_on_read(&c->es, (size_t)n);
    return IO_MOVED;
}

static void conn_io(struct nl_loop *l, struct nl_io *io, uint32_t revents)
{
    struct nt_conn *c = conn_of_io(io);
    struct nt_server *s = c->srv;
    unsigned w;
    uint32_t ev;
    int rc;

    int slow = 0; /* the splice path saw a small read or none: the stream has paused */

    for (int round = 0; round < ROUNDS_PER_EVENT; round++) {
        int moved = 0, drained = 0, blocked = 0;
        size_t got = 0;

        w = es_want(&c->es);
        if (w & ES_WANT_CLOSE) {
            conn_close(s, c);
            return;
        }
        if (w & ES_WANT_SHUT_WR) {
            if (shutdown(c->io.fd, SHUT_WR) < 0)
                conn_fail(s, c);
            else
                (void)es_on_shut_wr(&c->es);
            continue;
        }
        if (w & ES_WANT_WRITE) {
            rc = es_held(&c->es) ? write_held(s, c) : do_write(s, c);
            if (rc < 0) {
                conn_fail(s, c);
                continue;
            }
            /* Held bytes the socket will not take: wait for EPOLLOUT, not read more. */
            blocked = rc == IO_AGAIN && es_held(&c->es);
            moved |= rc == IO_MOVED;
        }
        w = es_want(&c->es);
        if ((w & ES_WANT_READ) && !blocked) {
            if (c->pipe) {
                rc = read_splice(s, c, &got);
                slow |= got < SPLICE_MIN;
            } else {
                rc = es_pending(&c->es) ? read_ring(s, c) : read_fast(s, c);
            }
            if (rc < 0) {
                conn_fail(s, c);
                continue;
            }
            if (rc == IO_EOF) {
                es_on_eof(&c->es);
                moved = 1;
            }
            drained = rc == IO_DRAINED;
            moved |= rc == IO_MOVED || drained;
        }
        if (moved)
            c->last_ms = l->now_ms;
        /* A short read on the fast path leaves nothing to do until the next event; this
         * saves the recv() that would only say EAGAIN. */
        if (!moved || (drained && !es_pending(&c->es) && !es_held(&c->es)))
            break;
    }
    if (c->pipe && !es_held(&c->es) && slow)
        pipe_put(s, c);
    w = es_want(&c->es);
    if (w & (ES_WANT_CLOSE | ES_WANT_SHUT_WR)) {
        /* The fairness bound stopped us just before finishing: come back at once. */
        ev = EPOLLOUT;
    } else {
        ev = ((w & ES_WANT_READ) ? EPOLLIN : 0u) | ((w & ES_WANT_WRITE) ? EPOLLOUT : 0u);
        if (es_held(&c->es))
            ev = EPOLLOUT; /* read again once the pipe moved on (see the top) */
    }
    if (nl_mod(l, &c->io, ev) < 0) {
        conn_fail(s, c);
        conn_close(s, c);
    }
}

static void idle_fire(struct nl_loop *l, struct nl_timer *t)
{
    struct nt_conn *c = conn_of_timer(t);
    struct nt_server *s = c->srv;
    int64_t due = c->last_ms + s->cfg.idle_timeout_ms;

    /* Activity only updates last_ms; the timer catches up here, once per period. */
    if (due > l->now_ms && nl_timer_arm(l, t, due) == 0)
        return;
    s->st.idle_closed++;
    conn_close(s, c);
}

static void set_listeners(struct nt_server *s, uint32_t ev)
{
    for (uint32_t i = 0; i < s->n_lis; i++)
        (void)nl_mod(s->loop, &s->lis[i].io, ev);
}

static void backoff_fire(struct nl_loop *l, struct nl_timer *t)
{
    struct nt_server *s =
        (struct nt_server *)(void *)((char *)t - offsetof(struct nt_server, backoff));
    s->paused = 0;
    set_listeners(s, EPOLLIN);
}

/* Out of some resource: stop accepting for a moment instead of spinning on the listener. */
static void pause_accepting(struct nt_server *s)
{
    if (s->paused)
        return;
    s->paused = 1;
    s->st.backoffs++;
    set_listeners(s, 0);
    if (nl_timer_arm(s->loop, &s->backoff, s->loop->now_ms + NT_BACKOFF_MS) < 0) {
        s->paused = 0;
        set_listeners(s, EPOLLIN);
    }
}

/* Out of descriptors: give up the reserve, accept the waiting connection and close it, so
 * the queue drains and the listener stops being readable. Returns 1 when one was shed (more
 * may wait), 0 when the queue was empty (stop accepting for this event), -1 when the reserve
 * could not be had back (pause accepting). */
static int shed_one(struct nt_server *s, int lfd)
{
    int fd, rc;

    if (s->reserve_fd < 0)
        return -1;
    close(s->reserve_fd);
    s->reserve_fd = -1;
    rc = ns_accept(lfd, &fd, NULL);
    if (rc == 0) {
        close(fd);
        s->st.shed++;
    }
    s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (s->reserve_fd < 0)
        return -1;
    return rc == -EAGAIN || rc == -EWOULDBLOCK ? 0 : 1;
}

static int conn_open(struct nt_server *s, int fd)
{
    struct nt_conn *c;
    uint32_t idx;

    if (s->n_free)
        idx = s->free_slots[--s->n_free];
    else
        idx = s->n_fresh++;
    c = &s->slots[idx];
    es_init(&c->es, s->cfg.cap);
    nl_timer_init(&c->idle, idle_fire);
    c->srv = s;
    c->pipe = 0;
    c->last_ms = s->loop->now_ms;
    if (nl_add(s->loop, &c->io, fd, EPOLLIN, conn_io) < 0) {
        s->free_slots[s->n_free++] = idx;
        return -1;
    }
    if (s->cfg.idle_timeout_ms)
        (void)nl_timer_arm(s->loop, &c->idle, c->last_ms + s->cfg.idle_timeout_ms);
    s->n_live++;
    s->st.accepted++;
    return 0;
}

static void listener_io(struct nl_loop *l, struct nl_io *io, uint32_t revents)
{
    struct nt_listener *li = (struct nt_listener *)(void *)io;
    struct nt_server *s = li->srv;

    for (int i = 0; i < ACCEPTS_PER_EVENT && !s->paused; i++) {
        struct ea_addr peer;
        int fd, rc = ns_accept(io->fd, &fd, &peer);

        if (rc == -EAGAIN || rc == -EWOULDBLOCK)
            return;
        if (rc == -EMFILE || rc == -ENFILE) {
            int shed = shed_one(s, io->fd);
            if (shed < 0)
                pause_accepting(s);
            if (shed <= 0)
                return;
            continue;
        }
        if (rc == -ECONNABORTED || rc == -EPROTO || rc == -EPERM)
            continue; /* that connection is gone; the next one may be fine */
        if (rc < 0) {
            /* ENOBUFS, ENOMEM and anything unexpected: the queue stays, so wait. */
            pause_accepting(s);
            return;
        }
        if (s->cfg.allow && !s->cfg.allow(s->cfg.allow_ctx, &peer)) {
            close(fd);
            s->st.not_allowed++;
            continue;
        }
        if (s->n_live >= s->cfg.max_conns) {
            close(fd);
            s->st.refused_full++;
            continue;
        }
        (void)ns_set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
        if (conn_open(s, fd) < 0)
            close(fd);
    }
}

int nt_init(struct nt_server *s, struct nl_loop *l, const struct nt_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->reserve_fd = -1;
    s->loop = l;
    s->cfg = *cfg;
    if (!s->cfg.cap)
        s->cfg.cap = ES_DEFAULT_CAP;
    if (s->cfg.cap > UINT32_MAX)
        s->cfg.cap = UINT32_MAX;
    if (!s->cfg.pool_max) {
        /* Keep about 4 MiB of idle buffers: many small ones, or one huge one. */
        size_t n = ((size_t)4 << 20) / s->cfg.cap;
        s->cfg.pool_max = n < 1 ? 1 : n > 64 ? 64 : (uint32_t)n;
    }
    nl_timer_init(&s->backoff, backoff_fire);
    if (!s->cfg.max_conns)
        return -EINVAL;
    /* calloc: slot pages are touched only as slots are first used (n_fresh grows). */
    s->slots = calloc(s->cfg.max_conns, sizeof *s->slots);
    s->free_slots = calloc(s->cfg.max_conns, sizeof *s->free_slots);
    s->scratch = malloc(NT_SCRATCH_SIZE);
    s->pool = calloc(s->cfg.pool_max, sizeof *s->pool);
    if (!s->slots || !s->free_slots || !s->scratch || !s->pool) {
        nt_fini(s);
        return -ENOMEM;
    }
    s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return 0;
}

int nt_add_listener(struct nt_server *s, int fd)
{
    struct nt_listener *li;
    int rc;

    if (s->n_lis >= NT_MAX_LISTEN)
        return -ENOSPC;
    li = &s->lis[s->n_lis];
    li->srv = s;
    rc = nl_add(s->loop, &li->io, fd, EPOLLIN, listener_io);
    if (rc)
        return rc;
    s->n_lis++;
    return 0;
}

void nt_fini(struct nt_server *s)
{
    if (s->slots) {
        for (uint32_t i = 0; i < s->n_fresh; i++)
            if (s->slots[i].io.fd >= 0 && s->slots[i].srv)
                conn_close(s, &s->slots[i]);
    }
    for (uint32_t i = 0; i < s->n_pipes; i++) {
        if (s->pipes[i].r >= 0) {
            close(s->pipes[i].r);
            close(s->pipes[i].w);
        }
        s->pipes[i].r = s->pipes[i].w = -1;
    }
    s->n_pipes = s->n_pipe_free = 0;
    for (uint32_t i = 0; i < s->n_lis; i++) {
        int fd = s->lis[i].io.fd;
        nl_del(s->loop, &s->lis[i].io);
        if (fd >= 0)
            close(fd);
    }
    s->n_lis = 0;
    if (s->loop)
        nl_timer_cancel(s->loop, &s->backoff);
    for (uint32_t i = 0; i < s->n_pool; i++)
        free(s->pool[i]);
    s->n_pool = 0;
    if (s->reserve_fd >= 0)
        close(s->reserve_fd);
    s->reserve_fd = -1;
    free(s->pool);
    free(s->scratch);
    free(s->free_slots);
    free(s->slots);
    s->pool = NULL;
    s->scratch = NULL;
    s->free_slots = NULL;
    s->slots = NULL;
}
