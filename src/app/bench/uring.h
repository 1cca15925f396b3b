/*
 * uring.h - what echo-bench's io_uring engine shares between its TCP and UDP workers: opening
 * a ring with the cheapest setup the kernel accepts, and the run-time check (before the
 * workers start) that io_uring is there at all. Built only with liburing (EH_HAVE_URING);
 * without it, or when the kernel or a container refuses io_uring, or when the environment
 * sets EH_BENCH_NO_URING=1, echo-bench uses its epoll engine and says so in one line.
 *
 * The engine keeps one receive in flight per connection or socket - in the closed loop a
 * multishot receive into a ring of provided buffers, on the sockets registered as fixed files,
 * else (streaming, or refused) one receive per message into the connection's own buffer -
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

/* A ring of provided receive buffers (one buffer group of the ring), for multishot receives:
 * one receive stays armed per connection or socket and every arrival takes the next free
 * buffer, instead of a receive queued (and a poll armed) per message. */
struct bu_bufs {
    struct io_uring_buf_ring *br; /* NULL: not set up (single-shot receives) */
    uint8_t *mem;                 /* count buffers of size bytes */
    size_t size, maplen;
    unsigned count;               /* a power of 2 */
    int bgid;
};

/* Sets up b with at least want (at most 32768) buffers of size bytes as group bgid of r
 * (EH_BENCH_URING_BUFS=N in the environment: N rounded up to a power of 2, for tests).
 * Returns 0, or -errno: -EINVAL when the kernel has no buffer rings or the environment sets
 * EH_BENCH_NO_MULTISHOT=1 (the single-shot path, as on a kernel without them), -ENOMEM. On
 * failure b is left unset and needs no bu_bufs_close(). */
int bu_bufs_open(struct io_uring *r, struct bu_bufs *b, unsigned want, size_t size, int bgid);

/* The buffer a receive completion names (NULL: none; the flags carry no buffer). */
uint8_t *bu_bufs_get(const struct bu_bufs *b, const struct io_uring_cqe *cqe);

/* Gives a buffer from bu_bufs_get() back to the kernel (no-op for NULL). */
void bu_bufs_put(struct bu_bufs *b, const uint8_t *buf);

/* Unregisters and frees b (after io_uring_queue_exit() is fine too: only the memory). */
void bu_bufs_close(struct io_uring *r, struct bu_bufs *b);

/* Registers n sockets as r's fixed files 0..n-1 (fds[i] < 0: an empty slot), so a request
 * names its socket by index (IOSQE_FIXED_FILE) and the kernel skips the descriptor lookup and
 * reference count per request. The ring then holds a reference to each socket: whoever closes
 * one calls bu_file_drop() too. Returns 0 or -errno (then nothing is registered). */
int bu_files_open(struct io_uring *r, const int *fds, unsigned n);

/* Drops fixed file i of r (the socket closes once nothing else holds it). */
void bu_file_drop(struct io_uring *r, unsigned i);

/* Prepares sqe as a send of n bytes at buf on fd, a fixed-file index when fixed. */
void bu_prep_send(struct io_uring_sqe *sqe, int fd, int fixed, const void *buf, size_t n,
                  int flags);

/* Prepares sqe as a receive on fd (a fixed-file index when fixed): a multishot one into b's
 * provided buffers when b is set up, else one receive of at most n bytes into own. Returns 1
 * for a multishot receive, 0 for a single one. */
int bu_prep_recv(struct io_uring_sqe *sqe, const struct bu_bufs *b, int fd, int fixed,
                 void *own, size_t n, int flags);

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
