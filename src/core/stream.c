/*
 * stream.c - TCP echo stream state machine. The whole state is the pending ring, the cap
 * the count of bytes held by the glue and three flags; es_want() derives everything else, so
 * there is no state that can disagree with the bytes held. Invariants: pending + held <=
 * cap; pending > 0 implies storage; pending > 0 and held > 0 never together; after ES__ERR
 * or ES__SHUT the only want is ES_WANT_CLOSE.
 */
#include "core/stream.h"


#include "core/err.h"

void es_init(struct es_conn *c, size_t cap)
{
    rb_init(&c->pending, NULL, 0);
    if (cap == 0)
        cap = ES_DEFAULT_CAP;
    if (cap > UINT32_MAX)
        cap = UINT32_MAX;
    c->cap = (uint32_t)cap;
    c->held = 0;
    c->flags = 0;
}

int es_attach(struct es_conn *c, uint8_t *storage, size_t size)
{
    if (!storage || size < c->cap)
        return EH_ERR_INVAL;
    return rb_attach(&c->pending, storage, size);
}

uint8_t *es_detach(struct es_conn *c)
{
    return rb_detach(&c->pending);
}

int es_passthrough(struct es_conn *c, const uint8_t *p, size_t n, size_t sent)
{
    size_t done;

    if (c->flags & (ES__EOF | ES__ERR | ES__SHUT) || rb_len(&c->pending) || c->held)
        return EH_ERR_STATE;
    if (sent > n)
        return EH_ERR_INVAL;
    if (n > es_room(c))
        return EH_ERR_NOSPACE;
    if (sent == n)
        return 0;
    if (!es_has_storage(c))
        return EH_ERR_NOSTORAGE;
    /* The ring is empty and at least cap bytes long, so the rest always fits. */
    rb_push(&c->pending, p + sent, n - sent, &done);
    return 0;
}

size_t es_read_spans(const struct es_conn *c, struct rb_span sp[2], size_t *count)
{
    size_t room = es_room(c), total;

    total = rb_write_spans(&c->pending, sp, count);
    if (total <= room)
        return total;
    /* Storage may be larger than the cap: never offer more than the cap allows. */
    if (sp[0].n >= room) {
        sp[0].n = room;
        sp[1].p = NULL, sp[1].n = 0;
        *count = room ? 1 : 0;
    } else {
        sp[1].n = room - sp[0].n;
    }
    return room;
}

int es_on_read(struct es_conn *c, size_t n)
{
    if (c->flags & (ES__EOF | ES__ERR | ES__SHUT) || c->held)
        return EH_ERR_STATE;
    if (n > es_room(c))
        return EH_ERR_NOSPACE;
    return rb_commit(&c->pending, n);
}

int es_on_held(struct es_conn *c, size_t n)
{
    if (c->flags & (ES__EOF | ES__ERR | ES__SHUT) || rb_len(&c->pending))
        return EH_ERR_STATE;
    if (n > es_room(c))
        return EH_ERR_NOSPACE;
    /* es_room() <= cap <= UINT32_MAX, so the sum fits. */
    c->held += (uint32_t)n;
    return 0;
}

int es_on_held_written(struct es_conn *c, size_t n)
{
    if (n > c->held)
        return EH_ERR_NOSPACE;
    c->held -= (uint32_t)n;
    return 0;
}

size_t es_write_spans(const struct es_conn *c, struct rb_span sp[2], size_t *count)
{
    return rb_read_spans(&c->pending, sp, count);
}

int es_on_written(struct es_conn *c, size_t n)
{
    return rb_consume(&c->pending, n);
}

void es_on_eof(struct es_conn *c)
{
    c->flags |= ES__EOF;
}

int es_on_shut_wr(struct es_conn *c)
{
    if (!(es_want(c) & ES_WANT_SHUT_WR))
        return EH_ERR_STATE;
    c->flags |= ES__SHUT;
    return 0;
}

void es_on_error(struct es_conn *c)
{
    c->flags |= ES__ERR;
    /* Abandon what was pending so the storage can go back to the pool. */
    (void)rb_consume(&c->pending, rb_len(&c->pending));
}

int es_set_cap(struct es_conn *c, size_t cap)
{
    if (cap == 0 || cap > UINT32_MAX)
        return EH_ERR_INVAL;
    if (es_has_storage(c) && cap > rb_cap(&c->pending))
        return EH_ERR_INVAL;
    if (cap < rb_len(&c->pending) + c->held)
        return EH_ERR_NOSPACE;
    c->cap = (uint32_t)cap;
    return 0;
}
