/*
 * ring.c - byte ring over caller storage. Invariants: len <= cap, head < cap whenever
 * cap > 0, and head == 0 whenever len == 0 (resetting on empty keeps the common
 * fill-then-drain cycle in one span, so readv/writev see a single iovec).
 */
#include "core/ring.h"

#include <string.h>

#include "core/err.h"

void rb_init(struct rb *r, uint8_t *storage, size_t cap)
{
    r->buf = storage;
    r->cap = storage ? cap : 0;
    r->head = 0;
    r->len = 0;
}

int rb_attach(struct rb *r, uint8_t *storage, size_t cap)
{
    if (!storage || cap == 0)
        return EH_ERR_INVAL;
    if (r->buf)
        return EH_ERR_STATE;
    rb_init(r, storage, cap);
    return 0;
}

uint8_t *rb_detach(struct rb *r)
{
    uint8_t *s = r->buf;
    if (!s || r->len)
        return NULL;
    rb_init(r, NULL, 0);
    return s;
}

/* Index one past the newest byte, i.e. where the next byte goes. */
static size_t tail_of(const struct rb *r)
{
    size_t t = r->head + r->len;
    return t >= r->cap ? t - r->cap : t;
}

size_t rb_write_spans(const struct rb *r, struct rb_span sp[2], size_t *count)
{
    size_t free_n = r->cap - r->len;
    size_t tail = free_n ? tail_of(r) : 0;
    size_t first = free_n;

    sp[0].p = NULL, sp[0].n = 0;
    sp[1].p = NULL, sp[1].n = 0;
    *count = 0;
    if (!free_n)
        return 0;
    /* Free space runs from tail to the end of storage, then wraps up to head. */
    if (tail + first > r->cap)
        first = r->cap - tail;
    sp[0].p = r->buf + tail, sp[0].n = first;
    *count = 1;
    if (first < free_n) {
        sp[1].p = r->buf, sp[1].n = free_n - first;
        *count = 2;
    }
    return free_n;
}

int rb_commit(struct rb *r, size_t n)
{
    if (n > r->cap - r->len)
        return EH_ERR_NOSPACE;
    r->len += n;
    return 0;
}

size_t rb_read_spans(const struct rb *r, struct rb_span sp[2], size_t *count)
{
    size_t first = r->len;

    sp[0].p = NULL, sp[0].n = 0;
    sp[1].p = NULL, sp[1].n = 0;
    *count = 0;
    if (!r->len)
        return 0;
    if (r->head + first > r->cap)
        first = r->cap - r->head;
    sp[0].p = r->buf + r->head, sp[0].n = first;
    *count = 1;
    if (first < r->len) {
        sp[1].p = r->buf, sp[1].n = r->len - first;
        *count = 2;
    }
    return r->len;
}

int rb_consume(struct rb *r, size_t n)
{
    if (n > r->len)
        return EH_ERR_NOSPACE;
    r->len -= n;
    if (!r->len) {
        r->head = 0;
        return 0;
    }
    r->head += n;
    if (r->head >= r->cap)
        r->head -= r->cap;
    return 0;
}

void rb_push(struct rb *r, const uint8_t *p, size_t n, size_t *done)
{
    struct rb_span sp[2];
    size_t count, total = 0;

    rb_write_spans(r, sp, &count);
    for (size_t i = 0; i < count && total < n; i++) {
        size_t k = n - total < sp[i].n ? n - total : sp[i].n;
        memcpy(sp[i].p, p + total, k);
        total += k;
    }
    r->len += total;
    *done = total;
}

void rb_pop(struct rb *r, uint8_t *out, size_t n, size_t *done)
{
    struct rb_span sp[2];
    size_t count, total = 0;

    rb_read_spans(r, sp, &count);
    for (size_t i = 0; i < count && total < n; i++) {
        size_t k = n - total < sp[i].n ? n - total : sp[i].n;
        memcpy(out + total, sp[i].p, k);
        total += k;
    }
    (void)rb_consume(r, total);
    *done = total;
}
