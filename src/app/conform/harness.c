/*
 * harness.c - case context, verdict bookkeeping and the bounded wire log. The log keeps the
 * first and the last entries of a case (and the first bytes of each chunk), so a failed
 * 16 MiB case still fits in a report; it never grows with the transfer.
 */
#define _GNU_SOURCE
#include "conform/harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

long long ct_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long ct_now_ms(void)
{
    return ct_now_us() / 1000;
}

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: the seed of a case depends on its id only */

    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

void ct_begin(struct ct_ctx *x, const struct ct_target *t, const struct cc_case *c,
              struct ct_session *s, uint64_t run_seed, int timeout_ms)
{
    long long cap;

    memset(x, 0, sizeof *x);
    x->t = t;
    x->c = c;
    x->s = s;
    x->seed = cv_seed_derive(run_seed, hash_id(c->id));
    x->timeout_ms = timeout_ms;
    x->start_ms = ct_now_ms();
    /* The timeout bounds each wait without progress; a case as a whole may take longer (a
     * correct server echoing 16 MiB one byte per write is slow), but never more than this. */
    cap = (long long)timeout_ms * 60;
    if (cap < 300000)
        cap = 300000;
    x->hard_ms = x->start_ms + cap;
    if (s && s->run_deadline_ms && x->hard_ms > s->run_deadline_ms)
        x->hard_ms = s->run_deadline_ms;
    x->status = CT_PASS;
}

void ct_end(struct ct_ctx *x)
{
    x->duration_ms = ct_now_ms() - x->start_ms;
}

int ct_hard_left(const struct ct_ctx *x)
{
    long long left = x->hard_ms - ct_now_ms();
    return left > 0 ? (int)left : 0;
}

void ct_fail(struct ct_ctx *x, const char *fmt, ...)
{
    va_list ap;

    if (x->status == CT_FAIL) {
        x->detail_open = 0; /* this failure is not reported: neither is its account */
        return;
    }
    x->status = CT_FAIL;
    x->detail_open = 1;
    x->fail_ms = ct_now_ms();
    va_start(ap, fmt);
    vsnprintf(x->message, sizeof x->message, fmt, ap);
    va_end(ap);
}

void ct_unfail(struct ct_ctx *x)
{
    x->status = CT_PASS;
    x->detail_open = 0;
    x->fail_ms = 0;
    x->message[0] = x->expected[0] = x->seen[0] = x->where[0] = '\0';
}

void ct_detail(struct ct_ctx *x, const char *expected, const char *seen, const char *where)
{
    if (!x->detail_open)
        return;
    if (expected)
        snprintf(x->expected, sizeof x->expected, "%s", expected);
    if (seen)
        snprintf(x->seen, sizeof x->seen, "%s", seen);
    if (where)
        snprintf(x->where, sizeof x->where, "%s", where);
}

void ct_note(struct ct_ctx *x, const char *fmt, ...)
{
    va_list ap;

    if (x->status == CT_FAIL)
        return;
    va_start(ap, fmt);
    vsnprintf(x->message, sizeof x->message, fmt, ap);
    va_end(ap);
}

void ct_skip(struct ct_ctx *x, const char *fmt, ...)
{
    va_list ap;

    x->status = CT_SKIP;
    va_start(ap, fmt);
    vsnprintf(x->message, sizeof x->message, fmt, ap);
    va_end(ap);
}

static struct ct_wire_entry *wire_slot(struct ct_wire *w)
{
    struct ct_wire_entry *e;

    if (w->n_first < CT_WIRE_HEAD)
        e = &w->first[w->n_first++];
    else
        e = &w->last[(w->total - CT_WIRE_HEAD) % CT_WIRE_TAIL];
    w->total++;
    memset(e, 0, sizeof *e);
    return e;
}

void ct_log(struct ct_ctx *x, int dir, unsigned conn, const uint8_t *p, size_t n)
{
    struct ct_wire_entry *e = wire_slot(&x->wire);

    e->t_ms = (uint32_t)(ct_now_ms() - x->start_ms);
    e->dir = (uint8_t)dir;
    e->conn = (uint16_t)conn;
    e->len = (uint32_t)n;
    e->keep = (uint8_t)(n < CT_WIRE_BYTES ? n : CT_WIRE_BYTES);
    if (e->keep)
        memcpy(e->head, p, e->keep);
}

void ct_log_event(struct ct_ctx *x, unsigned conn, const char *what)
{
    struct ct_wire_entry *e = wire_slot(&x->wire);

    e->t_ms = (uint32_t)(ct_now_ms() - x->start_ms);
    e->dir = CT_EVENT;
    e->conn = (uint16_t)conn;
    snprintf(e->what, sizeof e->what, "%s", what);
}

void ct_wire_each(const struct ct_wire *w, ct_wire_fn f, void *arg, size_t *omitted)
{
    size_t rest = w->total - w->n_first, kept = rest < CT_WIRE_TAIL ? rest : CT_WIRE_TAIL;

    for (size_t i = 0; i < w->n_first; i++)
        f(&w->first[i], arg);
    if (omitted)
        *omitted = rest - kept;
    for (size_t i = rest - kept; i < rest; i++)
        f(&w->last[i % CT_WIRE_TAIL], arg);
}

const char *ct_quote(const uint8_t *p, size_t n, size_t max, char *buf, size_t size)
{
    size_t o = 0;

    if (size == 0)
        return buf;
    for (size_t i = 0; i < n && i < max && o + 8 < size; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '"')
            buf[o++] = (char)p[i];
        else
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", p[i]);
    }
    if (n > max && o + 4 < size) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o < size ? o : size - 1] = '\0';
    return buf;
}
