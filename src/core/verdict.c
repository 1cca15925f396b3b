/*
 * verdict.c - stream verifier and datagram matcher for echo-conform (RFC 862 over RFC 9293
 * and RFC 768). The verifier never buffers the expected stream: the pattern is computed from
 * the seed at each offset, so a 16 MiB echo is checked in constant memory. The matcher works
 * on the caller's slots and does no allocation; a classification is a handful of memcmp()s.
 */
#include "core/verdict.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t cv_seed_derive(uint64_t seed, uint64_t k)
{
    return splitmix64(seed ^ splitmix64(k + 0x5851F42D4C957F2Dull));
}

static uint64_t block(uint64_t seed, uint64_t b)
{
    return splitmix64(seed * 0xD1342543DE82EF95ull + b);
}

uint8_t cv_pattern_byte(uint64_t seed, uint64_t off)
{
    return (uint8_t)(block(seed, off >> 3) >> (8 * (off & 7)));
}

void cv_pattern_fill(uint64_t seed, uint64_t off, uint8_t *out, size_t n)
{
    size_t i = 0;

    /* Head up to an 8-byte boundary, whole blocks, then the tail: one hash per 8 bytes. */
    while (i < n && ((off + i) & 7) != 0) {
        out[i] = cv_pattern_byte(seed, off + i);
        i++;
    }
    while (n - i >= 8) {
        uint64_t v = block(seed, (off + i) >> 3);
        uint8_t b[8]; /* bytes built locally, stored at once: one bounds/overflow check per
                       * block in sanitizer builds, not one per byte */

        for (int k = 0; k < 8; k++)
            b[k] = (uint8_t)(v >> (8 * k));
        memcpy(out + i, b, sizeof b);
        i += 8;
    }
    while (i < n) {
        out[i] = cv_pattern_byte(seed, off + i);
        i++;
    }
}

const char *cv_plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

const char *cv_article(uint64_t n)
{
    /* English reads a number by its leading group of three digits: "an" for eight, eleven,
     * eighteen, eighty-, eight hundred (8, 8193, 11000, 18432, 80, 800), "a" otherwise. */
    while (n >= 1000)
        n /= 1000;
    return n == 8 || n == 11 || n == 18 || (n >= 80 && n <= 89) || (n >= 800 && n <= 899) ? "an"
                                                                                            : "a";
}

/* ---- Stream verifier ------------------------------------------------------------------ */

void cv_stream_init_pattern(struct cv_stream *v, uint64_t seed, uint64_t total)
{
    memset(v, 0, sizeof *v);
    v->seed = seed;
    v->total = total;
    v->status = total == 0 ? CV_DONE : CV_MORE;
}

void cv_stream_init_buf(struct cv_stream *v, const uint8_t *want, size_t n)
{
    memset(v, 0, sizeof *v);
    v->want = want;
    v->total = n;
    v->status = n == 0 ? CV_DONE : CV_MORE;
}

/* Compares p[0..n) with the expected bytes at v->got; returns how many match (< n at the
 * first difference). Pattern bytes are produced in blocks on the stack, not kept. */
static size_t match_len(const struct cv_stream *v, const uint8_t *p, size_t n)
{
    uint8_t tmp[512];
    size_t i = 0;

    if (v->want) {
        /* memcmp first, a byte loop only up to a difference: one call per feed, not a
         * bounds-checked (and, in fuzzing builds, traced) compare per byte. */
        const uint8_t *w = v->want + v->got;
        if (n == 0 || memcmp(w, p, n) == 0)
            return n;
        while (w[i] == p[i])
            i++;
        return i;
    }
    while (i < n) {
        size_t k = n - i < sizeof tmp ? n - i : sizeof tmp;
        cv_pattern_fill(v->seed, v->got + i, tmp, k);
        if (memcmp(tmp, p + i, k) != 0) {
            size_t j = 0;
            while (tmp[j] == p[i + j])
                j++;
            return i + j;
        }
        i += k;
    }
    return i;
}

void cv_stream_extend(struct cv_stream *v, uint64_t n)
{
    v->total += n;
    if (n > 0 && v->status == CV_DONE)
        v->status = CV_MORE;
}

static uint8_t want_at(const struct cv_stream *v, uint64_t off)
{
    return v->want ? v->want[off] : cv_pattern_byte(v->seed, off);
}

int cv_stream_feed(struct cv_stream *v, const uint8_t *p, size_t n)
{
    if (n == 0 || v->status == CV_MISMATCH)
        return v->status;
    if (v->status == CV_MORE) {
        uint64_t left = v->total - v->got;
        size_t k = left < n ? (size_t)left : n;
        size_t ok = match_len(v, p, k);
        if (ok < k) {
            v->bad_off = v->got + ok;
            v->bad_want = want_at(v, v->bad_off);
            v->bad_got = p[ok];
            v->got += ok;
            v->status = CV_MISMATCH;
            return v->status;
        }
        v->got += k;
        p += k;
        n -= k;
        if (v->got == v->total)
            v->status = CV_DONE;
    }
    if (n > 0) {
        if (v->extra == 0)
            v->extra_first = p[0];
        v->extra += n;
        v->status = CV_EXTRA;
    }
    return v->status;
}

const char *cv_stream_describe(const struct cv_stream *v, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    switch (v->status) {
    case CV_DONE:
        snprintf(buf, size, "all %llu byte%s echoed", (unsigned long long)v->total,
                 cv_plural(v->total));
        break;
    case CV_MISMATCH:
        snprintf(buf, size, "byte %llu of %llu differs: expected 0x%02x, got 0x%02x",
                 (unsigned long long)v->bad_off, (unsigned long long)v->total, v->bad_want,
                 v->bad_got);
        break;
    case CV_EXTRA:
        snprintf(buf, size, "%llu byte%s beyond the %llu expected, the first 0x%02x",
                 (unsigned long long)v->extra, v->extra == 1 ? "" : "s",
                 (unsigned long long)v->total, v->extra_first);
        break;
    default:
        snprintf(buf, size, "short: %llu of %llu byte%s echoed", (unsigned long long)v->got,
                 (unsigned long long)v->total, cv_plural(v->total));
        break;
    }
    return buf;
}

/* ---- Datagram matcher ----------------------------------------------------------------- */

void cv_dmatch_init(struct cv_dmatch *m, struct cv_dslot *slots, size_t cap)
{
    memset(m, 0, sizeof *m);
    m->slots = slots;
    m->cap = cap;
}

int cv_dmatch_add(struct cv_dmatch *m, const uint8_t *p, size_t n, size_t *index)
{
    struct cv_dslot *s;

    if (m->count >= m->cap)
        return EH_ERR_NOSPACE;
    s = &m->slots[m->count];
    memset(s, 0, sizeof *s);
    s->p = p;
    s->n = n;
    s->sends = 1;
    if (index)
        *index = m->count;
    m->count++;
    return 0;
}

int cv_dmatch_resend(struct cv_dmatch *m, size_t index)
{
    if (index >= m->count)
        return EH_ERR_INVAL;
    m->slots[index].sends++;
    return 0;
}

int cv_dmatch_expire(struct cv_dmatch *m, size_t index)
{
    if (index >= m->count)
        return EH_ERR_INVAL;
    m->slots[index].expired = 1;
    return 0;
}

size_t cv_dmatch_unanswered(const struct cv_dmatch *m)
{
    size_t k = 0;

    for (size_t i = 0; i < m->count; i++)
        if (m->slots[i].replies == 0)
            k++;
    return k;
}

size_t cv_dmatch_excess(const struct cv_dmatch *m, size_t *first)
{
    size_t k = 0;

    for (size_t i = 0; i < m->count; i++)
        if (m->slots[i].replies > m->slots[i].sends) {
            if (k++ == 0 && first)
                *first = i;
        }
    return k;
}

static int starts_with(const uint8_t *p, size_t n, const uint8_t *q, size_t k)
{
    return k <= n && (k == 0 || memcmp(p, q, k) == 0);
}

/* Offset of piece p[0..n) (n >= 1) inside s[1..sn), or sn when absent. The first byte is
 * checked before memcmp, which keeps random payloads cheap to search. */
static size_t find_piece(const uint8_t *s, size_t sn, const uint8_t *p, size_t n)
{
    for (size_t off = 1; off + n <= sn; off++)
        if (s[off] == p[0] && memcmp(s + off, p, n) == 0)
            return off;
    return sn;
}

static void classify(struct cv_dmatch *m, const uint8_t *p, size_t n, struct cv_dresult *r)
{
    size_t i, best = m->count, best_len = 0;

    /* Exact: prefer a slot still owed a reply, so equal payloads sent twice both match. */
    for (i = 0; i < m->count; i++) {
        struct cv_dslot *s = &m->slots[i];
        if (s->n == n && starts_with(p, n, s->p, n)) {
            if (s->replies < s->sends) {
                r->index = i;
                r->kind = s->expired ? CV_D_LATE : CV_D_MATCH;
                s->replies++;
                return;
            }
            if (best == m->count)
                best = i;
        }
    }
    if (best < m->count) {
        r->index = best;
        r->kind = CV_D_DUPLICATE;
        m->slots[best].replies++;
        return;
    }
    /* A proper prefix: truncated. An empty reply is a prefix of every slot; it goes to the
     * first one still owed a reply. */
    for (i = 0; i < m->count; i++) {
        struct cv_dslot *s = &m->slots[i];
        if (s->n > n && starts_with(s->p, s->n, p, n) && (n > 0 || s->replies == 0)) {
            r->index = i;
            r->kind = CV_D_TRUNCATED;
            return;
        }
    }
    /* A whole datagram followed by more: merged with the start of another, or altered. */
    for (i = 0; i < m->count; i++) {
        struct cv_dslot *s = &m->slots[i];
        if (s->n > 0 && s->n < n && starts_with(p, n, s->p, s->n)) {
            r->index = i;
            for (size_t j = 0; j < m->count; j++) {
                const struct cv_dslot *o = &m->slots[j];
                size_t rest = n - s->n, k = o->n < rest ? o->n : rest;
                if (o->n > 0 && starts_with(p + s->n, rest, o->p, k)) {
                    r->kind = CV_D_MERGED;
                    r->other = j;
                    return;
                }
            }
            r->kind = CV_D_ALTERED;
            r->bad_off = s->n;
            return;
        }
    }
    /* A piece from inside a datagram: split. */
    if (n > 0) {
        for (i = 0; i < m->count; i++) {
            struct cv_dslot *s = &m->slots[i];
            size_t off;
            if (s->n > n && (off = find_piece(s->p, s->n, p, n)) < s->n) {
                r->index = i;
                r->kind = CV_D_SPLIT;
                r->bad_off = off;
                return;
            }
        }
    }
    /* A whole datagram inside a longer reply (a header or prefix added): altered at 0. */
    for (i = 0; i < m->count; i++) {
        struct cv_dslot *s = &m->slots[i];
        if (s->n > 0 && n > s->n && find_piece(p, n, s->p, s->n) < n) {
            r->index = i;
            r->kind = CV_D_ALTERED;
            r->bad_off = 0;
            return;
        }
    }
    /* Same length with other bytes: altered, blamed on the longest common prefix. */
    for (i = 0; i < m->count; i++) {
        struct cv_dslot *s = &m->slots[i];
        size_t k = 0;
        if (s->n != n || n == 0)
            continue;
        while (k < n && s->p[k] == p[k])
            k++;
        if (best == m->count || k > best_len) {
            best = i;
            best_len = k;
        }
    }
    if (best < m->count) {
        r->index = best;
        r->kind = CV_D_ALTERED;
        r->bad_off = best_len;
        return;
    }
    r->kind = CV_D_FOREIGN;
}

int cv_dmatch_reply(struct cv_dmatch *m, const uint8_t *p, size_t n, struct cv_dresult *out)
{
    if (!out)
        return EH_ERR_INVAL;
    memset(out, 0, sizeof *out);
    out->n = n;
    classify(m, p, n, out);
    m->kinds[out->kind]++;
    return 0;
}

const char *cv_dkind_name(int kind)
{
    static const char *const names[CV__D_COUNT] = {
        "match", "duplicate", "truncated", "split", "merged", "altered", "foreign", "late",
    };
    return kind >= 0 && kind < CV__D_COUNT ? names[kind] : "?";
}

const char *cv_dresult_describe(const struct cv_dmatch *m, const struct cv_dresult *r, char *buf,
                                size_t size)
{
    const struct cv_dslot *s = r->kind != CV_D_FOREIGN && r->index < m->count
                                   ? &m->slots[r->index]
                                   : NULL;
    size_t sn = s ? s->n : 0, i = r->index;
    const char *pl = cv_plural(sn);

    /* Every text starts with the same head; each case spells it out in its own format, so
     * a description is one snprintf(), not a head formatted first and then copied. */
#define HEAD "datagram %zu (%zu byte%s)"
    if (size == 0)
        return buf;
    switch (r->kind) {
    case CV_D_MATCH:
        snprintf(buf, size, HEAD " came back exactly", i, sn, pl);
        break;
    case CV_D_DUPLICATE:
        snprintf(buf, size, HEAD " came back more often than it was sent", i, sn, pl);
        break;
    case CV_D_TRUNCATED:
        snprintf(buf, size, HEAD " came back truncated to %zu byte%s", i, sn, pl, r->n,
                 cv_plural(r->n));
        break;
    case CV_D_SPLIT:
        snprintf(buf, size, HEAD " came back split over several datagrams: %s %zu-byte piece "
                 "from offset %zu", i, sn, pl, cv_article(r->n), r->n, r->bad_off);
        break;
    case CV_D_MERGED:
        snprintf(buf, size, HEAD " came back merged with datagram %zu in one %zu-byte reply", i,
                 sn, pl, r->other, r->n);
        break;
    case CV_D_ALTERED:
        snprintf(buf, size, HEAD " came back altered: %zu byte%s, first difference at offset %zu",
                 i, sn, pl, r->n, cv_plural(r->n), r->bad_off);
        break;
    case CV_D_LATE:
        snprintf(buf, size, HEAD " came back after it was given up on", i, sn, pl);
        break;
    default:
        snprintf(buf, size, "%s %zu-byte reply matches nothing that was sent", cv_article(r->n),
                 r->n);
        break;
    }
#undef HEAD
    return buf;
}

/* ---- Reply source --------------------------------------------------------------------- */

int cv_source_kind(const struct ea_addr *to, const struct ea_addr *from)
{
    if (!to || !from || from->family == EA_NONE || from->port != to->port)
        return CV_SRC_OTHER_PORT;
    return ea_equal(to, from) ? CV_SRC_SAME : CV_SRC_OTHER_ADDR;
}

const char *cv_source_name(int kind)
{
    switch (kind) {
    case CV_SRC_SAME: return "same";
    case CV_SRC_OTHER_ADDR: return "other address";
    case CV_SRC_OTHER_PORT: return "other port";
    default: return "?";
    }
}
