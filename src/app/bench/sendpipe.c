/*
 * sendpipe.c - a streaming connection's send pipe, filled with the pattern table's pages by
 * reference: by tee(2) from a pipe that holds one period of the stream, or by vmsplice(2)
 * where that pipe cannot be had (see sendpipe.h). Glue only: the caller splices the pipe
 * into its socket and keeps the stream's offsets.
 */
#define _GNU_SOURCE
#include "bench/sendpipe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench/envflag.h"
#include "core/ptable.h"

#define SEND_PIPE_BYTES (1u << 20)   /* the default pipe-max-size */
#define PERIOD_PIPE_BYTES (1u << 18) /* 64 slots for the period's at most 34 pages */
/* A period starting anywhere covers at most 33 pages, so one tee appends at most 33 pipe
 * buffers. Teeing only while the send pipe holds at most five periods keeps it within
 * seven periods' buffers (a partly sent one and six), 231 of the 1 MiB pipe's 256 slots:
 * a tee never comes up short for want of room. */
#define TEE_BELOW (5u * PT_PERIOD)

void sp_init(struct sp_pipe *p)
{
    p->pr = p->pw = p->tr = p->tw = -1;
    p->tpos = 0;
    p->inpipe = 0;
}

static void close_pair(int *r, int *w)
{
    if (*r >= 0) {
        close(*r);
        close(*w);
    }
    *r = *w = -1;
}

int sp_open(struct sp_pipe *p, const uint8_t *t, uint32_t pos)
{
    int fds[2];
    struct iovec iov;

    sp_init(p);
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return -errno;
    p->pr = fds[0];
    p->pw = fds[1];
    /* Else the default 64 KiB: vmsplice still works, in smaller rounds. */
    (void)fcntl(p->pw, F_SETPIPE_SZ, (int)SEND_PIPE_BYTES);
    if (fcntl(p->pw, F_GETPIPE_SZ) < (int)SEND_PIPE_BYTES ||
        bb_env_on("EH_BENCH_NO_TEE")) /* vmsplice every write: to compare, to test */
        return 0;
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return 0;
    p->tr = fds[0];
    p->tw = fds[1];
    iov.iov_base = (void *)(uintptr_t)(t + pos);
    iov.iov_len = PT_PERIOD;
    if (fcntl(p->tw, F_SETPIPE_SZ, (int)PERIOD_PIPE_BYTES) < 0 ||
        vmsplice(p->tw, &iov, 1, SPLICE_F_NONBLOCK) != (ssize_t)PT_PERIOD) {
        close_pair(&p->tr, &p->tw); /* a part period would be no use: vmsplice it is */
        return 0;
    }
    p->tpos = pos;
    return 0;
}

int sp_teeing(const struct sp_pipe *p)
{
    return p->tr >= 0;
}

/* Appends whole periods while the pipe holds less than want (and at most TEE_BELOW). */
static int fill_tee(struct sp_pipe *p, uint64_t want)
{
    while (p->inpipe < want && p->inpipe <= TEE_BELOW) {
        ssize_t r = tee(p->tr, p->pw, PT_PERIOD, SPLICE_F_NONBLOCK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r != (ssize_t)PT_PERIOD)
            return -EIO; /* a part period: the next tee would restart the period */
        p->inpipe += PT_PERIOD;
    }
    return 0;
}

static int fill_vmsplice(struct sp_pipe *p, const uint8_t *t, uint32_t pos, uint64_t want,
                         uint64_t piece)
{
    while (p->inpipe < want) {
        uint64_t n = want - p->inpipe;
        struct iovec iov;
        ssize_t r;
        if (n > piece)
            n = piece;
        if (n > PT_SPAN)
            n = PT_SPAN;
        iov.iov_base = (void *)(uintptr_t)(t + pt_advance(pos, p->inpipe));
        iov.iov_len = (size_t)n;
        r = vmsplice(p->pw, &iov, 1, SPLICE_F_NONBLOCK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN && p->inpipe)
            return 0; /* the pipe is full */
        if (r < 0)
            return -errno;
        if (r == 0)
            return -EIO;
        p->inpipe += (uint32_t)r;
        if ((uint64_t)r < n)
            return 0;
    }
    return 0;
}

int sp_fill(struct sp_pipe *p, const uint8_t *t, uint32_t pos, uint64_t want, uint64_t piece)
{
    if (p->pr < 0)
        return -EBADF;
    if (p->tr >= 0) {
        /* The pipe ends where a period starts, as long as only tee filled it. */
        if (pt_advance(pos, p->inpipe) == p->tpos)
            return fill_tee(p, want);
        close_pair(&p->tr, &p->tw); /* defensive: never seen; vmsplice from here on */
    }
    return fill_vmsplice(p, t, pos, want, piece ? piece : PT_SPAN);
}

void sp_sent(struct sp_pipe *p, uint32_t n)
{
    p->inpipe -= n;
}

void sp_close(struct sp_pipe *p)
{
    close_pair(&p->pr, &p->pw);
    close_pair(&p->tr, &p->tw);
    p->inpipe = 0;
}
