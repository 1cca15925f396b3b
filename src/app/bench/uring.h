/*
 * uring.h - what echo-bench's io_uring engine shares between its TCP and UDP workers: opening
 * a ring with the cheapest setup the kernel accepts, and the run-time check (before the
 * workers start) that io_uring is there at all. Built only with liburing (EH_HAVE_URING);
 * without it, or when the kernel or a container refuses io_uring, or when the environment
 * sets EH_BENCH_NO_URING=1, echo-bench uses its epoll engine and says so in one line.
 *
 * The engine keeps one receive in flight per connection or socket (each into its own buffer)
 * and queues sends straight from the pattern table; one io_uring_submit_and_wait() per round
 * submits every send and receive prepared since the last one and reaps every completion, so
 * the system calls per message fall below one when many connections are busy.
 */
#ifndef EH_APP_BENCH_URING_H
#define EH_APP_BENCH_URING_H

#include <stddef.h>
#include <stdint.h>

#ifdef EH_HAVE_URING
#include <liburing.h>

/* What a completion is for, in the low bits of its user data (the rest: the connection's or
 * socket's address, at least 8-byte aligned). */
enum { BU_RECV = 1, BU_SEND = 2, BU_TICK = 3, BU_MASK = 7 };

/* Opens r for about entries requests in flight (single issuer, task work deferred to the
 * wait when the kernel has it). Returns 0 or -errno. */
int bu_open(struct io_uring *r, unsigned entries);

/* A submission entry, submitting what is queued first when the ring is full (NULL only when
 * that fails). */
struct io_uring_sqe *bu_sqe(struct io_uring *r);

/* Queues the worker's periodic wake-up (a timeout of ms milliseconds, BU_TICK). */
void bu_tick(struct io_uring *r, struct __kernel_timespec *ts, unsigned ms);

/* The round loop of a worker once traffic flows, until *stop: one submit-and-wait per round
 * for the *nsend sends queued since the last one plus one more completion, then complete()
 * for every completion reaped, and tick() when tick_ms have passed. Returns 0 or -errno. */
int bu_run(struct io_uring *r, const int *stop, unsigned *nsend, unsigned tick_ms,
           void (*complete)(void *ctx, struct io_uring_cqe *cqe), void (*tick)(void *ctx),
           void *ctx);
#endif

/* Whether io_uring can serve this run: 0 yes; -1 no, with the reason in why. */
int bu_usable(char *why, size_t n);

#endif
