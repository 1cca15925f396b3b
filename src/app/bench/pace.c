/*
 * pace.c - phases and the open-loop schedule of echo-bench's workers (see pace.h). The rate
 * timer is a timerfd armed at absolute monotonic times, so a late wake-up sends everything due
 * at once and the intended send times, not the actual ones, start each latency.
 */
#define _GNU_SOURCE
#include "bench/pace.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "net/sock.h"

int pc_step(struct bb_worker *b, uint64_t now, int *measuring)
{
    int phase = __atomic_load_n(&b->sh->phase, __ATOMIC_ACQUIRE);
    uint64_t m, e;

    if (phase == BB_STOP) {
        pc_finish(b, measuring);
        return -1;
    }
    if (phase != BB_RUN)
        return phase;
    m = __atomic_load_n(&b->sh->measure_ns, __ATOMIC_ACQUIRE);
    e = __atomic_load_n(&b->sh->end_ns, __ATOMIC_ACQUIRE);
    if (!*measuring && now >= m && now < e && !b->st.t_begin_ns) {
        *measuring = 1;
        b->st.t_begin_ns = now;
    }
    if (now >= e) {
        pc_finish(b, measuring);
        return -1;
    }
    return phase;
}

void pc_finish(struct bb_worker *b, int *measuring)
{
    if (*measuring)
        b->st.t_end_ns = bb_now_ns();
    *measuring = 0;
}

static void arm(struct pc_rate *r, uint64_t at)
{
    struct itimerspec its;

    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = (time_t)(at / 1000000000u);
    its.it_value.tv_nsec = (long)(at % 1000000000u);
    if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
        its.it_value.tv_nsec = 1; /* all zero would disarm */
    (void)timerfd_settime(r->io.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* A non-blocking timerfd watched by l; io->fd stays -1 on failure. */
static int timer_open(struct nl_io *io, struct nl_loop *l, nl_io_fn fn)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), rc;

    io->fd = -1;
    if (fd < 0)
        return -errno;
    rc = nl_add(l, io, fd, EPOLLIN, fn);
    if (rc)
        close(fd);
    return rc;
}

static void timer_close(struct nl_io *io, struct nl_loop *l)
{
    if (io->fd >= 0) {
        int fd = io->fd;
        nl_del(l, io);
        close(fd);
    }
}

int pc_tick_open(struct pc_tick *t, struct nl_loop *l, nl_io_fn fn, unsigned ms)
{
    struct itimerspec its;
    int rc = timer_open(&t->io, l, fn);

    if (rc)
        return rc;
    memset(&its, 0, sizeof its);
    its.it_interval.tv_sec = ms / 1000;
    its.it_interval.tv_nsec = (long)(ms % 1000) * 1000000;
    its.it_value.tv_nsec = 1;
    if (timerfd_settime(t->io.fd, 0, &its, NULL) < 0) {
        rc = -errno;
        timer_close(&t->io, l);
    }
    return rc;
}

void pc_tick_ack(struct pc_tick *t)
{
    uint64_t n;

    (void)!read(t->io.fd, &n, sizeof n);
}

void pc_tick_close(struct pc_tick *t, struct nl_loop *l)
{
    timer_close(&t->io, l);
}

int pc_block(int fd, unsigned ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    int rc = 0;

    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
        rc = -errno;
    if (!rc)
        rc = ns_set_nonblock(fd, 0);
    if (rc)
        (void)ns_set_nonblock(fd, 1);
    return rc;
}

int pc_tick_due(uint64_t *next, unsigned ms)
{
    uint64_t now = bb_now_ns();

    if (now < *next)
        return 0;
    *next = now + (uint64_t)ms * 1000000u;
    return 1;
}

int pc_rate_open(struct pc_rate *r, struct nl_loop *l, nl_io_fn fn, double rate, uint32_t conns,
                 uint32_t count)
{
    memset(r, 0, sizeof *r);
    r->count = count ? count : 1;
    r->gap_ns = 1e9 * (double)conns / (rate * (double)r->count);
    return timer_open(&r->io, l, fn);
}

void pc_rate_start(struct pc_rate *r, uint64_t now)
{
    r->t0 = now;
    r->k = 0;
    r->started = 1;
    arm(r, now);
}

void pc_rate_fire(struct pc_rate *r, uint64_t now, pc_send_fn send, void *ctx)
{
    uint64_t ticks, due, count = r->count;

    if (read(r->io.fd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
        return;
    if (!r->started || now < r->t0)
        return;
    due = (uint64_t)((double)(now - r->t0) / r->gap_ns) + 1;
    /* Only the connections that messages k .. due-1 go to have anything new. */
    for (uint64_t j = 0; j < count && r->k + j < due; j++) {
        uint64_t idx = (r->k + j) % count;
        send(ctx, idx, (due - idx + count - 1) / count); /* m with m * count + idx < due */
    }
    r->k = due;
    arm(r, r->t0 + (uint64_t)((double)due * r->gap_ns));
}

uint64_t pc_rate_intended(const struct pc_rate *r, uint64_t idx, uint64_t m)
{
    return r->t0 + (uint64_t)((double)(m * r->count + idx) * r->gap_ns);
}

void pc_rate_close(struct pc_rate *r, struct nl_loop *l)
{
    timer_close(&r->io, l);
}
