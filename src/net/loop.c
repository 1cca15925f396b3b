/*
 * loop.c - epoll loop, timer heap and signalfd. Level-triggered, so a handler that stops
 * early (to be fair to other descriptors) is called again on the next wait. The heap holds
 * pointers to caller-owned timers, each remembering its position so cancel and re-arm are
 * O(log n) without a search.
 */
#define _GNU_SOURCE
#include "net/loop.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
/* A sched_yield() between polls that takes longer than this let another task run: the CPU
 * is wanted, so the idle period sleeps instead of polling on (a yield with nothing else to
 * run returns in about a microsecond). */
#define YIELD_RAN_OTHER_NS 10000

int64_t nl_now(struct nl_loop *l)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    l->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    l->now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    return l->now_ms;
}

/* The timerfd fired: clear it. The due timers run at the start of the next round. */
static void on_timerfd(struct nl_loop *l, struct nl_io *io, uint32_t revents)
{
    uint64_t ticks;

    if (read(io->fd, &ticks, sizeof ticks) < 0)
        return; /* EAGAIN: re-armed since it fired; nothing to clear */
}

/* Best effort: a loop without a timerfd times its waits instead. */
static void timerfd_open(struct nl_loop *l)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

    if (fd < 0)
        return;
    if (nl_add(l, &l->tio, fd, EPOLLIN, on_timerfd) < 0) {
        close(fd);
        return;
    }
    l->tfd = fd;
}

/* Makes the timerfd fire at due_ms unless it fires earlier and is still to fire: a later
 * due time then costs one early wake-up, which re-arms it, instead of a system call each
 * time the earliest timer moves on (a connection closing, an idle timer catching up).
 * Returns 0, or -1 when the timerfd could not be set (then this wait is timed). */
static int timerfd_due(struct nl_loop *l, int64_t due_ms)
{
    struct itimerspec its;

    if (due_ms >= l->tfd_due && l->tfd_due > l->now_ms)
        return 0;
    memset(&its, 0, sizeof its);
    /* Absolute CLOCK_MONOTONIC, the clock nl_now() reads: at that instant now_ms == due_ms. A
     * due time of 0 or less would disarm the timerfd; the heap's top is never due yet here. */
    its.it_value.tv_sec = (time_t)(due_ms / 1000);
    its.it_value.tv_nsec = (long)(due_ms % 1000) * 1000000L;
    if (due_ms <= 0 || timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
        l->tfd_due = INT64_MAX;
        return -1;
    }
    l->tfd_due = due_ms;
    return 0;
}

int nl_init(struct nl_loop *l, size_t max_timers)
{
    memset(l, 0, sizeof *l);
    l->epfd = l->sigfd = l->tfd = -1;
    l->sigio.fd = l->tio.fd = -1;
    l->tfd_due = INT64_MAX;
    l->idle_since_ns = -1;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0)
        return -errno;
    if (max_timers) {
        l->heap = calloc(max_timers, sizeof *l->heap);
        if (!l->heap) {
            close(l->epfd);
            l->epfd = -1;
            return -ENOMEM;
        }
    }
    l->max_timers = max_timers;
    nl_now(l);
    if (max_timers)
        timerfd_open(l);
    return 0;
}

void nl_fini(struct nl_loop *l)
{
    if (l->sigfd >= 0)
        close(l->sigfd);
    if (l->tfd >= 0)
        close(l->tfd);
    if (l->epfd >= 0)
        close(l->epfd);
    free(l->heap);
    l->heap = NULL;
    l->sigfd = l->epfd = l->tfd = -1;
    l->tfd_due = INT64_MAX;
    l->n_timers = l->max_timers = 0;
}

int nl_add(struct nl_loop *l, struct nl_io *io, int fd, uint32_t events, nl_io_fn fn)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.ptr = io;
    io->fd = fd;
    io->events = events;
    io->fn = fn;
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        io->fd = -1;
        return -errno;
    }
    return 0;
}

int nl_mod(struct nl_loop *l, struct nl_io *io, uint32_t events)
{
    struct epoll_event ev;

    if (io->events == events || io->fd < 0)
        return 0;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.ptr = io;
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
        return -errno;
    io->events = events;
    return 0;
}

void nl_del(struct nl_loop *l, struct nl_io *io)
{
    if (io->fd >= 0)
        (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    io->fd = -1;
    io->events = 0;
}

/* Heap helpers: position i (0-based) stores pos = i + 1 in its timer. */
static void heap_set(struct nl_loop *l, size_t i, struct nl_timer *t)
{
    l->heap[i] = t;
    t->pos = (uint32_t)(i + 1);
}

static void heap_up(struct nl_loop *l, size_t i)
{
    struct nl_timer *t = l->heap[i];

    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (l->heap[parent]->due_ms <= t->due_ms)
            break;
        heap_set(l, i, l->heap[parent]);
        i = parent;
    }
    heap_set(l, i, t);
}

static void heap_down(struct nl_loop *l, size_t i)
{
    struct nl_timer *t = l->heap[i];
    size_t n = l->n_timers;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && l->heap[c + 1]->due_ms < l->heap[c]->due_ms)
            c++;
        if (t->due_ms <= l->heap[c]->due_ms)
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, t);
}

void nl_timer_init(struct nl_timer *t, nl_timer_fn fn)
{
    t->due_ms = 0;
    t->pos = 0;
    t->fn = fn;
}

void nl_timer_cancel(struct nl_loop *l, struct nl_timer *t)
{
    struct nl_timer *m;
    size_t i, last;

    if (!t->pos)
        return;
    i = t->pos - 1;
    last = --l->n_timers;
    t->pos = 0;
    if (i == last)
        return;
    /* Move the last timer into the hole; it may need to go either way. */
    m = l->heap[last];
    heap_set(l, i, m);
    heap_up(l, i);
    heap_down(l, (size_t)m->pos - 1);
}

int nl_timer_arm(struct nl_loop *l, struct nl_timer *t, int64_t due_ms)
{
    if (t->pos) {
        size_t i = t->pos - 1;
        t->due_ms = due_ms;
        heap_up(l, i);
        heap_down(l, t->pos - 1);
        return 0;
    }
    if (l->n_timers >= l->max_timers)
        return -ENOSPC;
    t->due_ms = due_ms;
    l->heap[l->n_timers] = t;
    heap_up(l, l->n_timers++);
    return 0;
}

/* Runs the due timers; returns how many ran. */
static int run_timers(struct nl_loop *l)
{
    int ran = 0;

    while (l->n_timers && l->heap[0]->due_ms <= l->now_ms && !l->stop) {
        struct nl_timer *t = l->heap[0];
        nl_timer_cancel(l, t);
        t->fn(l, t);
        ran++;
    }
    return ran;
}

static void on_signal(struct nl_loop *l, struct nl_io *io, uint32_t revents)
{
    struct signalfd_siginfo si;
    ssize_t n = read(io->fd, &si, sizeof si);

    if (n == (ssize_t)sizeof si) {
        l->signo = (int)si.ssi_signo;
        l->stop = 1;
    }
}

int nl_stop_on_signals(struct nl_loop *l, const int *sigs, size_t n)
{
    sigset_t set;
    int fd, rc;

    sigemptyset(&set);
    for (size_t i = 0; i < n; i++)
        sigaddset(&set, sigs[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    fd = signalfd(l->sigfd, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (l->sigfd < 0) {
        rc = nl_add(l, &l->sigio, fd, EPOLLIN, on_signal);
        if (rc) {
            close(fd);
            return rc;
        }
    }
    l->sigfd = fd;
    return 0;
}

void nl_set_busy_poll(struct nl_loop *l, uint32_t usec)
{
    pg_init(&l->gov, usec > UINT32_MAX / 1000 ? UINT32_MAX : usec * 1000u);
    l->idle_since_ns = -1;
    l->idle_polling = 0;
    l->yield_slow_ns = YIELD_RAN_OTHER_NS;
    l->poll_again_ns = 0;
    l->backoff_ns = 0;
    l->yield_contended_ns = NL_CONTENDED_YIELD_NS;
}

/* Whether the batch holds an event other than the loop's own timerfd. */
static int caller_event(const struct nl_loop *l, const struct epoll_event *evs, int n)
{
    for (int i = 0; i < n; i++)
        if (evs[i].data.ptr != &l->tio)
            return 1;
    return 0;
}

/* This idle period polls no more: its polling time goes into the summary. */
static void stop_polling(struct nl_loop *l)
{
    if (l->idle_polling)
        l->polled_ns += (uint64_t)(l->now_ns - l->idle_since_ns);
    l->idle_polling = 0;
}

void nl_stop(struct nl_loop *l)
{
    l->stop = 1;
}

int nl_run_once(struct nl_loop *l, int timeout_ms)
{
    struct epoll_event evs[MAX_EVENTS];
    int ran, n, polled = 0;

    nl_now(l);
    ran = run_timers(l);
    if (l->stop)
        return ran;
    if (ran) {
        timeout_ms = 0; /* the round did something: just collect what else is ready */
    } else if (l->n_timers && (l->tfd < 0 || timerfd_due(l, l->heap[0]->due_ms) < 0)) {
        /* No timerfd: wake up for the next timer even when asked to wait longer (or
         * forever). */
        int64_t d = l->heap[0]->due_ms - l->now_ms;
        int t = d <= 0 ? 0 : d > 60000 ? 60000 : (int)d;
        if (timeout_ms < 0 || t < timeout_ms)
            timeout_ms = t;
    }
    /* Busy polling: a wait that could sleep polls instead while the loop has been idle for
     * less than the governor's window; nl_run() comes straight back, so the loop spins
     * until an event or the end of the window. Timers and the stop signals are still seen
     * on every turn. */
    if (timeout_ms != 0 && l->gov.cap_ns) {
        if (l->idle_since_ns < 0) {
            l->idle_since_ns = l->now_ns;
            l->idle_polling = 1;
        }
        uint64_t idle = (uint64_t)(l->now_ns - l->idle_since_ns);
        if (l->idle_polling && pg_should_poll(&l->gov, idle) && l->now_ns >= l->poll_again_ns) {
            timeout_ms = 0;
            polled = 1;
            l->busy_polls++;
        } else {
            stop_polling(l); /* the window has passed: sleep */
        }
    }
    n = epoll_wait(l->epfd, evs, MAX_EVENTS, timeout_ms);
    if (n < 0)
        return errno == EINTR ? ran : -errno;
    nl_now(l);
    if (l->idle_since_ns >= 0 && n > 0 && caller_event(l, evs, n)) {
        /* The idle period is over: tell the governor how long it was. */
        if (polled)
            l->backoff_ns = 0; /* a poll caught it: the CPU is ours again */
        stop_polling(l);
        pg_idle_ended(&l->gov, (uint64_t)(l->now_ns - l->idle_since_ns));
        l->idle_since_ns = -1;
    } else if (n == 0 && polled) {
        /* Nothing yet: let any other task that wants this CPU (perhaps the very client we
         * wait for) go first; if one did, the CPU is wanted, so sleep from now on. */
        int64_t before = l->now_ns;
        sched_yield();
        nl_now(l);
        if (l->now_ns - before > l->yield_slow_ns) {
            stop_polling(l);
            l->yielded++;
            if (l->now_ns - before > l->yield_contended_ns) {
                /* The other task held the CPU for a time slice: a busy task shares it, and
                 * would take a slice from every message we poll for (loop.h). Poll in no
                 * idle period for a while, twice as long each time this repeats (up to
                 * NL_CONTENDED_NS); a poll that catches an event ends the back-off. */
                l->backoff_ns = l->backoff_ns ? 2 * l->backoff_ns : NL_CONTENDED_YIELD_NS;
                if (l->backoff_ns > NL_CONTENDED_NS)
                    l->backoff_ns = NL_CONTENDED_NS;
                l->poll_again_ns = l->now_ns + l->backoff_ns;
            }
        }
    }
    for (int i = 0; i < n && !l->stop; i++) {
        struct nl_io *io = evs[i].data.ptr;
        /* A descriptor deleted earlier in this batch: its event is stale. */
        if (io->fd < 0)
            continue;
        io->fn(l, io, evs[i].events);
        if (io == &l->tio)
            continue; /* the loop's own timerfd is not a callback of the caller's */
        ran++;
    }
    return ran;
}

int nl_run(struct nl_loop *l)
{
    while (!l->stop) {
        int rc = nl_run_once(l, -1);
        if (rc < 0)
            return rc;
    }
    return 0;
}
