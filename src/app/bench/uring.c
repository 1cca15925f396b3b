/*
 * uring.c - echo-bench's io_uring helpers (see uring.h).
 */
#define _GNU_SOURCE
#include "bench/uring.h"
#include "bench/pace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef EH_HAVE_URING
int bu_open(struct io_uring *r, unsigned entries)
{
    int rc = -EINVAL;

    if (entries < 8)
        entries = 8;
    if (entries > 4096)
        entries = 4096;
#if defined(IORING_SETUP_DEFER_TASKRUN) && defined(IORING_SETUP_SINGLE_ISSUER)
    rc = io_uring_queue_init(entries, r, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
#endif
    if (rc == -EINVAL)
        rc = io_uring_queue_init(entries, r, 0);
    return rc;
}

struct io_uring_sqe *bu_sqe(struct io_uring *r)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(r);

    if (!sqe && io_uring_submit(r) >= 0)
        sqe = io_uring_get_sqe(r);
    return sqe;
}

void bu_tick(struct io_uring *r, struct __kernel_timespec *ts, unsigned ms)
{
    struct io_uring_sqe *sqe = bu_sqe(r);

    if (!sqe)
        return;
    ts->tv_sec = ms / 1000;
    ts->tv_nsec = (long long)(ms % 1000) * 1000000;
    io_uring_prep_timeout(sqe, ts, 0, 0);
    io_uring_sqe_set_data64(sqe, BU_TICK);
}

int bu_run(struct io_uring *r, const int *stop, unsigned *nsend, unsigned tick_ms,
           void (*complete)(void *ctx, struct io_uring_cqe *cqe), void (*tick)(void *ctx),
           void *ctx)
{
    uint64_t next_tick = 0;

    while (!*stop) {
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        int rc = io_uring_submit_and_wait(r, *nsend + 1);
        *nsend = 0;
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
            return rc;
        io_uring_for_each_cqe(r, head, cqe) {
            complete(ctx, cqe);
            seen++;
        }
        io_uring_cq_advance(r, seen);
        if (pc_tick_due(&next_tick, tick_ms))
            tick(ctx);
    }
    return 0;
}
#endif

int bu_usable(char *why, size_t n)
{
    const char *env = getenv("EH_BENCH_NO_URING");

    if (env && *env && strcmp(env, "0") != 0) {
        snprintf(why, n, "EH_BENCH_NO_URING is set");
        return -1;
    }
#ifdef EH_HAVE_URING
    {
        struct io_uring r;
        int rc = bu_open(&r, 8);
        if (rc) {
            snprintf(why, n, "io_uring_queue_init: %s", strerror(-rc));
            return -1;
        }
        io_uring_queue_exit(&r);
        return 0;
    }
#else
    snprintf(why, n, "built without liburing");
    return -1;
#endif
}
