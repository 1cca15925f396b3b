/*
 * loop.h - a single-threaded epoll event loop with millisecond timers (CLOCK_MONOTONIC) and
 * graceful stop on signals (signalfd).
 *
 * Descriptors are level-triggered. Each watched descriptor has a caller-owned struct nl_io
 * (fd, current event mask, callback), usually embedded in a connection slot, so the loop
 * allocates nothing per descriptor. Timers are caller-owned struct nl_timer in a binary
 * min-heap whose capacity is fixed at nl_init(). Nothing here knows about echo.
 */
#ifndef EH_NET_LOOP_H
#define EH_NET_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "core/pollgov.h"

struct nl_loop;
struct nl_io;
struct nl_timer;

/* Called when io's descriptor is ready; revents holds EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP.
 * Treat revents as a hint: a slot closed and reused within one batch may see a stale event,
 * so handlers just try non-blocking I/O and accept EAGAIN. */
typedef void (*nl_io_fn)(struct nl_loop *l, struct nl_io *io, uint32_t revents);

/* Called when a timer is due; the timer is already disarmed and may be re-armed. */
typedef void (*nl_timer_fn)(struct nl_loop *l, struct nl_timer *t);

struct nl_io {
    int fd;          /* -1 when not watched */
    uint32_t events; /* the mask registered with epoll (0: registered, but disarmed) */
    nl_io_fn fn;
};

struct nl_timer {
    int64_t due_ms; /* monotonic ms when armed */
    uint32_t pos;   /* heap index + 1; 0 when not armed (private) */
    nl_timer_fn fn;
};

struct nl_loop {
    int epfd;
    int sigfd;      /* signalfd, -1 when no signal is caught */
    int stop;       /* set by nl_stop() or a caught signal */
    int signo;      /* the signal that stopped the loop, 0 if none */
    int64_t now_ms; /* cached monotonic time, refreshed after each wait */
    struct nl_timer **heap;
    size_t n_timers, max_timers;
    struct nl_io sigio;
    /* The heap's earliest due time is kept in a timerfd, so the wait itself has no
     * timeout: a timed epoll_wait arms and cancels a kernel timer on every sleep, which a
     * ping-pong client pays for once per message. tfd_due is what the timerfd is set to
     * (INT64_MAX: not set); tfd is -1 when timerfd_create failed (then each wait is timed
     * as before). */
    int tfd;
    int64_t tfd_due;
    struct nl_io tio;
    /* Adaptive busy polling (nl_set_busy_poll): gov decides whether a wait that would sleep
     * polls instead (epoll_wait with timeout 0); idle_since_ns is when the loop last ran out
     * of work (-1 while it has work), idle_polling whether this idle period still polls.
     * now_ns is the clock nl_now() read last. For the summary: busy_polls counts the polls,
     * polled_ns their wall time, yielded the idle periods whose polling stopped because
     * another task wanted the CPU (a yield between polls took over yield_slow_ns, which
     * nl_set_busy_poll sets and tests may change). When such a yield took over
     * yield_contended_ns (another task held the CPU for a time slice), no idle period polls
     * until poll_again_ns, backoff_ns later: NL_CONTENDED_YIELD_NS at first, doubled each
     * time this repeats (up to NL_CONTENDED_NS), 0 again once a poll catches an event. */
    struct pg_gov gov;
    int64_t idle_since_ns;
    int64_t yield_slow_ns;
    int64_t yield_contended_ns;
    int64_t poll_again_ns;
    int64_t backoff_ns;
    int idle_polling;
    int64_t now_ns;
    uint64_t busy_polls;
    uint64_t polled_ns;
    uint64_t yielded;
    void *data; /* for the caller */
};

/* A yield between polls that took over NL_CONTENDED_YIELD_NS let another task hold the CPU
 * for a time slice: the CPU is shared with a busy task. A polling loop stays runnable, so
 * the event it waits for cannot preempt that task, and each message would wait out a slice
 * (default echod sharing its CPU with a busy loop: 0.06-0.14x the messages of echod
 * --busy-poll 0). So no idle period polls for a while: NL_CONTENDED_YIELD_NS, doubled each
 * time polling meets the busy task again, up to NL_CONTENDED_NS; a poll that catches an
 * event ends the back-off. */
#define NL_CONTENDED_YIELD_NS ((int64_t)1000000)
#define NL_CONTENDED_NS ((int64_t)100 * 1000000)

/* Creates the epoll instance and a heap for max_timers timers (and, when max_timers > 0, a
 * timerfd for the earliest of them; without one the waits are timed instead). Returns 0,
 * -errno from epoll_create1, or -ENOMEM. */
int nl_init(struct nl_loop *l, size_t max_timers);

/* Closes the epoll and signal descriptors and frees the heap. Watched descriptors are the
 * callers' to close. Safe on a zeroed or already finished loop. */
void nl_fini(struct nl_loop *l);

/* Monotonic milliseconds now (a fresh clock read; updates l->now_ms). */
int64_t nl_now(struct nl_loop *l);

/* Starts watching fd for events (EPOLLIN and/or EPOLLOUT, may be 0) with callback fn; io is
 * borrowed until nl_del(). Returns 0 or -errno from epoll_ctl. */
int nl_add(struct nl_loop *l, struct nl_io *io, int fd, uint32_t events, nl_io_fn fn);

/* Changes the watched events; does nothing when they are unchanged. Returns 0 or -errno. */
int nl_mod(struct nl_loop *l, struct nl_io *io, uint32_t events);

/* Stops watching io's descriptor (it is not closed) and sets io->fd to -1. Call it before
 * closing the descriptor. */
void nl_del(struct nl_loop *l, struct nl_io *io);

/* Prepares a disarmed timer. Cannot fail. */
void nl_timer_init(struct nl_timer *t, nl_timer_fn fn);

/* Arms (or moves) t to fire at due_ms (monotonic ms). Returns 0 or -ENOSPC when the heap
 * holds max_timers already. */
int nl_timer_arm(struct nl_loop *l, struct nl_timer *t, int64_t due_ms);

/* Disarms t; nothing happens when it is not armed. */
void nl_timer_cancel(struct nl_loop *l, struct nl_timer *t);

static inline int nl_timer_armed(const struct nl_timer *t)
{
    return t->pos != 0;
}

/* Blocks the given signals and makes the loop stop when one arrives (l->signo tells which).
 * Returns 0 or -errno from sigprocmask, signalfd or epoll_ctl. */
int nl_stop_on_signals(struct nl_loop *l, const int *sigs, size_t n);

/* Adaptive busy polling, at most usec microseconds at a time: once the loop runs out of work
 * it polls (epoll_wait with timeout 0) for as long as core/pollgov's window says, then
 * sleeps. The window opens after an idle period of at most usec (a burst of back-to-back
 * events counts as one of about 0), stays while polls catch the next event, and halves (to
 * closed after about five) while idle periods are longer: a loop whose events come further
 * apart than usec soon sleeps at once, and one that falls idle polls once more, one window.
 * Between polls the loop calls sched_yield(), which lets any other task runnable on this CPU
 * go first; when that took long enough for another task to have run (the CPU is wanted),
 * this idle period polls no more and sleeps; when it held the CPU for a time slice, the
 * idle periods of a back-off time sleep too (NL_CONTENDED_YIELD_NS above). usec is clamped
 * to 4,294,967 (the window is 32-bit nanoseconds); 0 turns polling off (the default of a
 * new loop). Cannot fail. */
void nl_set_busy_poll(struct nl_loop *l, uint32_t usec);

/* Asks nl_run() to return after the current callback. */
void nl_stop(struct nl_loop *l);

/* One round of the loop: runs the due timers, then waits at most timeout_ms (0: just polls;
 * < 0: until something happens) for descriptor events, shortened to the next timer's due
 * time (and not at all when a timer ran), and calls their callbacks; stops early when
 * nl_stop() is called. With busy polling on (nl_set_busy_poll) and the loop idle for less
 * than the governor's window, a wait that could sleep is a poll (timeout 0) whatever
 * timeout_ms says; only such waits start an idle period, and only an event other than the
 * loop's own timerfd ends one (its length, the caller's work between rounds included, is
 * what the governor learns from). A timer that comes
 * due during the wait runs in the next round. For
 * tests and fuzz targets that drive a server step by step. Returns how many callbacks ran
 * (timers and descriptors; 0 means nothing was ready), or -errno when epoll_wait fails with
 * anything but EINTR (an EINTR returns the timers that ran). */
int nl_run_once(struct nl_loop *l, int timeout_ms);

/* Runs until nl_stop() or a caught signal. Returns 0, or -errno when epoll_wait fails with
 * anything but EINTR. */
int nl_run(struct nl_loop *l);

#endif
