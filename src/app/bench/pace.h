/*
 * pace.h - the clock side of an echo-bench worker, the same for TCP and UDP: following the
 * main thread's phases (when the measured interval starts and ends) and the open-loop
 * schedule of --rate, a timerfd that fires when the next message is due.
 */
#ifndef EH_APP_BENCH_PACE_H
#define EH_APP_BENCH_PACE_H

#include <stdint.h>

#include "bench/bench.h"
#include "net/loop.h"

/* Called at a worker's tick: starts the measured interval (b->st.t_begin_ns) once now passes
 * measure_ns, and ends it (t_end_ns) at end_ns. *measuring follows. Returns the phase
 * (enum bb_phase), or -1 when the worker must stop (BB_STOP, or the measurement is over). */
int pc_step(struct bb_worker *b, uint64_t now, int *measuring);

/* Ends the measured interval if it is still open (a worker stopped early). */
void pc_finish(struct bb_worker *b, int *measuring);

/* The worker's periodic tick (phases, stalls, losses) as a timerfd in the epoll set, so the
 * loop waits with no timeout: an epoll_wait with one arms and cancels a kernel timer on every
 * call, which costs a busy request/response loop a few percent of its CPU (more in a VM). */
struct pc_tick {
    struct nl_io io; /* io.fd -1 when not open */
};

/* Opens a timerfd firing every ms milliseconds (the first time at once) and watches it in l
 * with fn, which must call pc_tick_ack. Returns 0 or -errno. */
int pc_tick_open(struct pc_tick *t, struct nl_loop *l, nl_io_fn fn, unsigned ms);

/* Consumes the expirations of the tick (call it from fn). */
void pc_tick_ack(struct pc_tick *t);

/* Stops watching and closes the timerfd. Safe when not open. */
void pc_tick_close(struct pc_tick *t, struct nl_loop *l);

/* Makes fd blocking with send and receive timeouts of ms milliseconds, for a worker that
 * serves its one connection or socket with blocking calls and ticks between them. Returns 0,
 * or -errno with fd left non-blocking. */
int pc_block(int fd, unsigned ms);

/* Whether a blocking worker's tick is due (now >= *next); if so, moves *next on by ms. */
int pc_tick_due(uint64_t *next, unsigned ms);

/* The open-loop schedule: the worker's message k is due at t0 + k * gap_ns and goes to its
 * connection k % count, as that connection's message k / count. */
struct pc_rate {
    struct nl_io io; /* the timerfd (io.fd -1 when not open) */
    uint64_t t0, k, count;
    double gap_ns;
    int started;
};

/* Sends connection idx's messages up to (not including) number mine. */
typedef void (*pc_send_fn)(void *ctx, uint64_t idx, uint64_t mine);

/* Opens the timerfd and watches it in l with fn (which calls pc_rate_fire). The worker's share
 * of rate messages/s in total is count/conns of it. Returns 0 or -errno. */
int pc_rate_open(struct pc_rate *r, struct nl_loop *l, nl_io_fn fn, double rate, uint32_t conns,
                 uint32_t count);

/* Starts the schedule at now (the first message is due at once). */
void pc_rate_start(struct pc_rate *r, uint64_t now);

/* On the timer: calls send for every connection with newly due messages, then arms the timer
 * for the next one. */
void pc_rate_fire(struct pc_rate *r, uint64_t now, pc_send_fn send, void *ctx);

/* When connection idx's message m was due (monotonic ns). */
uint64_t pc_rate_intended(const struct pc_rate *r, uint64_t idx, uint64_t m);

/* Stops watching and closes the timerfd. Safe when not open. */
void pc_rate_close(struct pc_rate *r, struct nl_loop *l);

#endif
