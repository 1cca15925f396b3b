/*
 * ring.h - a byte ring over caller-owned storage, with a zero-copy span API.
 *
 * The glue reads straight into the ring's free space (rb_write_spans + rb_commit) and writes
 * straight from its filled space (rb_read_spans + rb_consume); either may be two spans when
 * the data wraps. The ring never allocates: storage is attached and detached by the caller,
 * so an idle connection need not hold a buffer. Any capacity >= 1 works (no power of two).
 */
#ifndef EH_CORE_RING_H
#define EH_CORE_RING_H

#include <stddef.h>
#include <stdint.h>

/* One contiguous piece of the ring. The pointer borrows from the ring's storage and stays
 * valid until the next mutating call (commit, consume, push, pop, attach, detach). */
struct rb_span {
    uint8_t *p;
    size_t n;
};

struct rb {
    uint8_t *buf; /* caller's storage, NULL when detached */
    size_t cap;   /* size of buf */
    size_t head;  /* index of the oldest byte */
    size_t len;   /* number of bytes held */
};

/* Starts an empty ring over storage[0..cap). storage may be NULL with cap 0 (a detached
 * ring: no free space, nothing held). The ring does not own storage. Cannot fail. */
void rb_init(struct rb *r, uint8_t *storage, size_t cap);

/* Gives the ring storage[0..cap) to use. Returns 0, or EH_ERR_STATE when storage is still
 * attached, or EH_ERR_INVAL when storage is NULL or cap is 0. */
int rb_attach(struct rb *r, uint8_t *storage, size_t cap);

/* Takes the storage back when the ring is empty: returns it and leaves the ring detached.
 * Returns NULL (and keeps the storage) when bytes are still held or nothing is attached. */
uint8_t *rb_detach(struct rb *r);

static inline size_t rb_len(const struct rb *r) { return r->len; }
static inline size_t rb_cap(const struct rb *r) { return r->cap; }
static inline size_t rb_free(const struct rb *r) { return r->cap - r->len; }

/* Fills sp[0..1] with the free space in write order and sets *count to 0, 1 or 2; spans
 * past *count have n == 0. Returns the total free bytes. */
size_t rb_write_spans(const struct rb *r, struct rb_span sp[2], size_t *count);

/* Marks n bytes, just written into the free spans, as held. Returns 0, or EH_ERR_NOSPACE
 * when n exceeds the free space (nothing changes then). */
int rb_commit(struct rb *r, size_t n);

/* Fills sp[0..1] with the held bytes, oldest first, and sets *count to 0, 1 or 2. Returns
 * the total held bytes. The spans are writable only so they map onto struct iovec. */
size_t rb_read_spans(const struct rb *r, struct rb_span sp[2], size_t *count);

/* Drops the n oldest bytes. Returns 0, or EH_ERR_NOSPACE when n exceeds what is held. When
 * the ring becomes empty its head returns to 0, so the next fill is one span. */
int rb_consume(struct rb *r, size_t n);

/* Copies up to n bytes from p into the ring; *done gets how many fit (possibly 0). */
void rb_push(struct rb *r, const uint8_t *p, size_t n, size_t *done);

/* Copies up to n of the oldest bytes into out and consumes them; *done gets how many. */
void rb_pop(struct rb *r, uint8_t *out, size_t n, size_t *done);

#endif
