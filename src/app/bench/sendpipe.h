/*
 * sendpipe.h - where a streaming connection's sends come from without a copy: a pipe that
 * holds the next bytes of the connection's stream as references to the pattern table's pages
 * (core/ptable), which the caller splices into its socket. The table is filled once and never
 * written again, so pages still in flight stay right.
 *
 * Two ways to fill the pipe. The cheap one: a second, "period" pipe holds one whole period
 * of the stream (PT_PERIOD bytes from the connection's start, its pages pinned once by
 * vmsplice when the connection opens), and tee(2) appends that period to the send pipe by
 * reference counting alone, so no page is looked up or pinned per write. The stream repeats
 * with that period, so whole periods appended back to back are the stream. The other one,
 * used when the period pipe cannot be had (pipe limits, an old kernel): vmsplice(2) of the
 * table at the stream's position, in pieces, pinning the pages on every write. Neither sends
 * anything: the caller splices from pr and reports what left with sp_sent().
 */
#ifndef EH_APP_BENCH_SENDPIPE_H
#define EH_APP_BENCH_SENDPIPE_H

#include <stdint.h>

struct sp_pipe {
    int pr, pw;      /* the send pipe's ends (-1: none; the caller copies with send()) */
    int tr, tw;      /* the period pipe's ends (-1: none; fills use vmsplice) */
    uint32_t tpos;   /* table position of the period pipe's first byte */
    uint32_t inpipe; /* bytes in the send pipe: the stream's next inpipe bytes */
};

/* Marks p as holding no pipe (every fd -1, inpipe 0). Cannot fail. */
void sp_init(struct sp_pipe *p);

/* Opens p's send pipe (grown to 1 MiB where the kernel lets this user) and, when the send
 * pipe got that size and the environment does not set EH_BENCH_NO_TEE=1, the period pipe with the PT_PERIOD bytes of t from position pos
 * (pos < PT_PERIOD; t is PT_SIZE bytes and must outlive p and every splice from it).
 * Returns 0 (with or without the period pipe: see sp_teeing()), or -errno when not even
 * the send pipe could be made (p then holds none). */
int sp_open(struct sp_pipe *p, const uint8_t *t, uint32_t pos);

/* 1 when fills append whole periods by tee(2), 0 when they vmsplice (or there is no pipe). */
int sp_teeing(const struct sp_pipe *p);

/* Tops the send pipe up towards want bytes (it may end up holding more, by tee, up to six
 * periods, or fewer when the pipe is full). pos is the table position of the pipe's first
 * byte, i.e. of the stream's next unsent byte; vmsplice fills go in pieces of at most piece
 * bytes. Returns 0, or -errno when the kernel refused a fill (the pipe's bytes are then no
 * longer the stream's: the caller closes p and sends from the table itself). */
int sp_fill(struct sp_pipe *p, const uint8_t *t, uint32_t pos, uint64_t want, uint64_t piece);

/* The caller spliced n bytes out of pr (n <= inpipe). */
void sp_sent(struct sp_pipe *p, uint32_t n);

/* Closes what p holds and marks it empty (sp_init). */
void sp_close(struct sp_pipe *p);

#endif
