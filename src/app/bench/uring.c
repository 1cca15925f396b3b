/*
 * uring.c - echo-bench's io_uring helpers (see uring.h).
 */
#define _GNU_SOURCE
#include "bench/uring.h"
#include "bench/envflag.h"
#include "bench/pace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

int bu_bufs_open(struct io_uring *r, struct bu_bufs *b, unsigned want, size_t size, int bgid)
{
    const char *fix = getenv("EH_BENCH_URING_BUFS");
    struct io_uring_buf_reg reg;
    unsigned count = 16;
    void *map;
    int rc;

    memset(b, 0, sizeof *b);
    if (bb_env_on("EH_BENCH_NO_MULTISHOT"))
        return -EINVAL;
    /* Tests: a fixed, tiny count, so receives run out of buffers (-ENOBUFS) and re-arm. */
    if (fix && *fix)
        want = (unsigned)strtoul(fix, NULL, 10), count = 1;
    while (count < want && count < 32768)
        count <<= 1;
    /* The ring's entries and the buffers in one mapping: the entries must be page-aligned. */
    b->maplen = count * sizeof(struct io_uring_buf) + (size_t)count * size;
    map = mmap(NULL, b->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return -ENOMEM;
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (uint64_t)(uintptr_t)map;
    reg.ring_entries = count;
    reg.bgid = (uint16_t)bgid;
    rc = io_uring_register_buf_ring(r, &reg, 0);
    if (rc) {
        munmap(map, b->maplen);
        return rc < 0 ? rc : -EINVAL;
    }
    b->br = map;
    b->mem = (uint8_t *)map + count * sizeof(struct io_uring_buf);
    b->size = size;
    b->count = count;
    b->bgid = bgid;
    io_uring_buf_ring_init(b->br);
    for (unsigned i = 0; i < count; i++)
        io_uring_buf_ring_add(b->br, b->mem + (size_t)i * size, (unsigned)size, (unsigned short)i,
                              io_uring_buf_ring_mask(count), (int)i);
    io_uring_buf_ring_advance(b->br, (int)count);
    return 0;
}

uint8_t *bu_bufs_get(const struct bu_bufs *b, const struct io_uring_cqe *cqe)
{
    unsigned bid;

    if (!b->br || !(cqe->flags & IORING_CQE_F_BUFFER))
        return NULL;
    bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    return bid < b->count ? b->mem + (size_t)bid * b->size : NULL;
}

void bu_bufs_put(struct bu_bufs *b, const uint8_t *buf)
{
    unsigned bid;

    if (!buf)
        return;
    bid = (unsigned)((size_t)(buf - b->mem) / b->size);
    io_uring_buf_ring_add(b->br, b->mem + (size_t)bid * b->size, (unsigned)b->size,
                          (unsigned short)bid, io_uring_buf_ring_mask(b->count), 0);
    io_uring_buf_ring_advance(b->br, 1);
}

void bu_bufs_close(struct io_uring *r, struct bu_bufs *b)
{
    if (!b->br)
        return;
    if (r)
        (void)io_uring_unregister_buf_ring(r, b->bgid);
    munmap(b->br, b->maplen);
    memset(b, 0, sizeof *b);
}

int bu_files_open(struct io_uring *r, const int *fds, unsigned n)
{
    if (bb_env_on("EH_BENCH_NO_FIXED_FILES"))
        return -EINVAL;
    return n ? io_uring_register_files(r, fds, n) : -EINVAL;
}

void bu_file_drop(struct io_uring *r, unsigned i)
{
    int none = -1;

    (void)io_uring_register_files_update(r, i, &none, 1);
}

void bu_prep_send(struct io_uring_sqe *sqe, int fd, int fixed, const void *buf, size_t n,
                  int flags)
{
    io_uring_prep_send(sqe, fd, buf, n, flags);
    if (fixed)
        sqe->flags |= IOSQE_FIXED_FILE;
}

int bu_prep_recv(struct io_uring_sqe *sqe, const struct bu_bufs *b, int fd, int fixed,
                 void *own, size_t n, int flags)
{
    if (b->br) {
        /* Armed once, it stays armed and every arrival takes the next provided buffer (one
         * completion each, in order); the kernel ends it only on EOF, an error or no free
         * buffer (-ENOBUFS), and then the caller arms it again. */
        io_uring_prep_recv_multishot(sqe, fd, NULL, 0, flags);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = (uint16_t)b->bgid;
    } else {
        io_uring_prep_recv(sqe, fd, own, n, flags);
    }
    if (fixed)
        sqe->flags |= IOSQE_FIXED_FILE;
    return b->br != NULL;
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
    if (bb_env_on("EH_BENCH_NO_URING")) {
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
