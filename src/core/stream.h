/*
 * stream.h - the TCP echo stream state machine (RFC 862 over RFC 9293 TCP).
 *
 * Bytes received become bytes to send, in order and binary safe. At most `cap` bytes wait
 * to be sent; when that many wait the machine stops asking to read (backpressure) and never
 * drops a byte. After the peer's EOF everything pending is still sent, then the machine
 * asks to shut down its write side, then to close (half-close, RFC 9293 3.6). It does no
 * I/O: the glue asks es_want() what to do, does it, and reports back.
 *
 * Storage: pending bytes live in a ring over caller storage that is attached only while
 * bytes wait (es_attach / es_detach), so an idle connection holds no buffer. The fast path
 * needs none at all: the glue reads into its own scratch area (at most es_room() bytes),
 * writes straight back, and hands the result to es_passthrough(), which needs storage only
 * for what the socket did not take.
 *
 * Held bytes: the glue may instead move bytes into a holding place of its own that the
 * machine never sees (a kernel pipe, for splice(2)) and write them from there. The machine
 * counts them (es_on_held / es_on_held_written) exactly like pending bytes for the cap,
 * backpressure and the half-close, so a byte is never lost or reordered: ring bytes and
 * held bytes are never both waiting.
 */
#ifndef EH_CORE_STREAM_H
#define EH_CORE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "core/ring.h"

#define ES_DEFAULT_CAP ((size_t)64 * 1024)

enum es_want {
    ES_WANT_READ = 1u << 0,   /* read up to es_room() bytes */
    ES_WANT_WRITE = 1u << 1,  /* write the pending bytes (es_write_spans) */
    ES_WANT_SHUT_WR = 1u << 2, /* all sent after the peer's EOF: shutdown(SHUT_WR) now */
    ES_WANT_CLOSE = 1u << 3   /* finished (or failed): close the socket, release storage */
};

struct es_conn {
    struct rb pending; /* bytes received and not yet sent */
    uint32_t cap;      /* most bytes that may be pending (ring plus held) */
    uint32_t held;     /* bytes the glue holds outside the ring, not yet sent */
    uint8_t flags;     /* ES__* state bits, private */
};

/* Starts a machine for a new connection with the given cap (1 .. UINT32_MAX; 0 or more is
 * clamped to ES_DEFAULT_CAP and UINT32_MAX respectively). No storage is attached. Cannot fail. */
void es_init(struct es_conn *c, size_t cap);

/* The flags' bits (private: only stream.c and the two inline queries below use them). */
enum {
    ES__EOF = 1u << 0,  /* the peer shut down its write side */
    ES__SHUT = 1u << 1, /* we shut down our write side: finished */
    ES__ERR = 1u << 2   /* the connection failed: close */
};

/* What the machine wants now, as ES_WANT_* bits; never 0. Pending bytes always sit in
 * attached storage (es_passthrough refuses to queue without it). Always inline, like the
 * queries below: the glue asks after every event (sanitizer builds' checks made the compiler
 * call them out of line). */
static inline __attribute__((always_inline)) unsigned es_want(const struct es_conn *c)
{
    size_t n = rb_len(&c->pending) + c->held;
    unsigned w = 0;

    if (c->flags & (ES__ERR | ES__SHUT))
        return ES_WANT_CLOSE;
    if (n)
        w |= ES_WANT_WRITE;
    if (!(c->flags & ES__EOF)) {
        if (n < c->cap)
            w |= ES_WANT_READ;
    } else if (!n) {
        w |= ES_WANT_SHUT_WR;
    }
    return w;
}

/* How many bytes the glue may read now: cap minus pending (ring and held), or 0 after EOF
 * or close. */
static inline __attribute__((always_inline)) size_t es_room(const struct es_conn *c)
{
    if (c->flags & (ES__EOF | ES__ERR | ES__SHUT))
        return 0;
    return c->cap - rb_len(&c->pending) - c->held;
}

/* Bytes waiting to be sent from the ring (held bytes are counted by es_held()). */
static inline size_t es_pending(const struct es_conn *c) { return rb_len(&c->pending); }

/* Bytes waiting to be sent from the glue's own holding place. */
static inline size_t es_held(const struct es_conn *c) { return c->held; }

/* Whether storage is attached. */
static inline int es_has_storage(const struct es_conn *c) { return c->pending.buf != NULL; }

/* Attaches storage[0..size) for pending bytes; size must be at least the cap. Returns 0,
 * EH_ERR_INVAL (NULL or too small, checked first) or EH_ERR_STATE (already attached). The caller keeps
 * ownership and gets it back from es_detach(). */
int es_attach(struct es_conn *c, uint8_t *storage, size_t size);

/* Returns the attached storage and detaches it when nothing is pending (and NULL
 * otherwise), so the glue can return it to its pool as soon as a connection is drained. */
uint8_t *es_detach(struct es_conn *c);

/* Fast path. The glue read p[0..n) (n <= es_room()) into its own area and already wrote
 * p[0..sent) back to the socket; the rest is queued. Allowed only while nothing is pending
 * or held (or bytes would be reordered). Returns 0; EH_ERR_STATE when bytes are pending or
 * held, or after EOF; EH_ERR_INVAL when sent > n; EH_ERR_NOSPACE when n > es_room(); EH_ERR_NOSTORAGE when
 * sent < n and no storage is attached. Nothing changes on error. */
int es_passthrough(struct es_conn *c, const uint8_t *p, size_t n, size_t sent);

/* Zero-copy read path (storage attached): the free space the glue may read into, limited to
 * es_room(). Returns the total; *count is 0, 1 or 2. Spans borrow the storage. */
size_t es_read_spans(const struct es_conn *c, struct rb_span sp[2], size_t *count);

/* The glue read n bytes into the spans of es_read_spans(). Returns 0, EH_ERR_NOSPACE
 * (n > es_room(), or more than the attached storage holds, e.g. none) or EH_ERR_STATE
 * (after EOF, or while bytes are held). */
int es_on_read(struct es_conn *c, size_t n);

/* Held path: the glue moved n bytes (n <= es_room()) from the socket into its own holding
 * place, to be written from there after any bytes held before them. Allowed only while the
 * ring holds nothing. Returns 0; EH_ERR_STATE when ring bytes are pending or after EOF or
 * close; EH_ERR_NOSPACE when n > es_room(). Nothing changes on error. */
int es_on_held(struct es_conn *c, size_t n);

/* The socket took the n oldest held bytes. Returns 0 or EH_ERR_NOSPACE (n > held). */
int es_on_held_written(struct es_conn *c, size_t n);

/* The pending bytes to write, oldest first. Returns the total; *count is 0, 1 or 2. */
size_t es_write_spans(const struct es_conn *c, struct rb_span sp[2], size_t *count);

/* The socket took n of the pending bytes. Returns 0 or EH_ERR_NOSPACE (n > pending). */
int es_on_written(struct es_conn *c, size_t n);

/* The peer shut down its write side (read returned 0). Idempotent. */
void es_on_eof(struct es_conn *c);

/* The glue did shutdown(SHUT_WR) after ES_WANT_SHUT_WR. Returns 0 or EH_ERR_STATE when
 * the machine had not asked for it. */
int es_on_shut_wr(struct es_conn *c);

/* The connection failed (reset, broken pipe, timeout): pending bytes are abandoned and the
 * machine wants only to close. Storage stays attached until es_detach(), which then works.
 * Held bytes stay counted (es_held()), so the glue knows its holding place is not empty
 * and must not be reused as it is. */
void es_on_error(struct es_conn *c);

/* Changes the cap. Never below what is pending or held (returns EH_ERR_NOSPACE then) and never
 * above the attached storage's size (EH_ERR_INVAL). 0 is EH_ERR_INVAL. */
int es_set_cap(struct es_conn *c, size_t cap);

/* Whether the machine reached its end (ES_WANT_CLOSE). */
static inline int es_done(const struct es_conn *c) { return (es_want(c) & ES_WANT_CLOSE) != 0; }

#endif
