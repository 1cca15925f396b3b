/*
 * fuzz_verdict.c - drives echo-conform's verdict logic (core/verdict) and its case catalog
 * (core/catalog) with random replies, and checks every classification against a small
 * reference written here from the rules in verdict.h:
 *  - stream verifier (caller buffer or seed pattern): the status, bytes matched, first bad
 *    byte, extra count and first extra byte equal a direct comparison of the expected and
 *    received streams, whether the reply is fed whole, byte by byte (where the outcome is
 *    decided: first and last bytes, around the alteration) or in random chunks
 *    (one of them per run);
 *    its description truncates like snprintf and always ends in NUL;
 *  - pattern: any window of cv_pattern_fill equals cv_pattern_byte at each offset;
 *  - datagram matcher: each reply's kind, slot, offsets and the counters (per kind,
 *    unanswered, excess) equal the reference's; every kind also satisfies its definition
 *    (a truncated reply is a proper prefix of its slot, a split piece lies inside it, ...);
 *  - reply source, wording (article, plural, names) and catalog lookups equal references.
 *
 * Input: an 8-byte header (mode, chunk seed, alteration, offset: 2 bytes, alteration byte,
 * parameter, 1 reserved byte so corpora stay valid as the format grows), then a body whose
 * meaning depends on the mode (0: stream over a buffer, 1: stream over a pattern, 2:
 * datagram matcher, 3: source, wording and catalog).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/catalog.h"
#include "core/err.h"
#include "core/verdict.h"

#define MAX_STREAM 1024u /* two of the verifier's 512-byte compare blocks */
#define MAX_SLOTS 8u
#define MAX_REPLIES 8u /* replies per run: the kinds need few; more only cost time */

static uint8_t want_buf[MAX_STREAM + 64]; /* a reply may run 32 bytes past MAX_STREAM */
static uint8_t reply[MAX_STREAM + 64];

FUZZ_ORACLE static void fail(const char *what, size_t at, unsigned long long want,
                             unsigned long long got)
{
    fprintf(stderr, "fuzz_verdict: %s (at %zu): expected %llu, got %llu\n", what, at, want, got);
    abort();
}

/* Builds a reply from w[0..wn): faithful, one byte changed, cut, extended, one byte lost or
 * inserted, or the raw bytes given. Returns its length. */
FUZZ_ORACLE static size_t alter(uint8_t *out, const uint8_t *w, size_t wn, int how, size_t at,
                                uint8_t b, const uint8_t *raw, size_t rawn)
{
    size_t n = wn;

    at = at % (wn + 1);
    memcpy(out, w, wn);
    switch (how % 7) {
    case 1:
        if (at < wn)
            out[at] ^= (uint8_t)(b | 1);
        break;
    case 2:
        n = at;
        break;
    case 3:
        memset(out + wn, b, 1 + b % 32);
        n = wn + 1 + b % 32;
        break;
    case 4:
        if (at < wn) {
            memmove(out + at, out + at + 1, wn - at - 1);
            n = wn - 1;
        }
        break;
    case 5:
        memmove(out + at + 1, out + at, wn - at);
        out[at] = b;
        n = wn + 1;
        break;
    case 6:
        n = rawn < MAX_STREAM ? rawn : MAX_STREAM;
        memcpy(out, raw, n);
        break;
    default:
        break;
    }
    return n;
}

/* ---- Description text ----------------------------------------------------------------- */

/* A description cut to size bytes must be the full one's prefix, NUL-terminated. */
FUZZ_ORACLE static void check_truncation(const char *full, const char *cut, size_t size)
{
    size_t fl = strlen(full), k = fl < size - 1 ? fl : size - 1;
    if (memchr(cut, '\0', size) == NULL || strlen(cut) != k || memcmp(cut, full, k) != 0)
        fail("description cut to size is not the full text's prefix", size, k, strlen(cut));
}

/* ---- Stream verifier ------------------------------------------------------------------ */

struct sref {
    int status;
    uint64_t got, extra, bad_off;
    uint8_t bad_want, bad_got, extra_first;
};

/* The reference: the first difference between w[0..total) (only wn of it materialized;
 * the rest is never reached) and r[0..rn) decides everything. */
FUZZ_ORACLE static void stream_ref(const uint8_t *w, uint64_t total, const uint8_t *r, size_t rn,
                                   struct sref *o)
{
    uint64_t lim = total < rn ? total : rn, d = 0;

    memset(o, 0, sizeof *o);
    while (d < lim && w[d] == r[d])
        d++;
    o->got = d;
    if (d < lim) {
        o->status = CV_MISMATCH;
        o->bad_off = d, o->bad_want = w[d], o->bad_got = r[d];
    } else if (rn < total) {
        o->status = CV_MORE;
    } else if (rn == total) {
        o->status = CV_DONE;
    } else {
        o->status = CV_EXTRA;
        o->extra = rn - total, o->extra_first = r[total];
    }
}

static uint32_t xorshift(uint32_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 17, *x ^= *x << 5;
    return *x;
}

FUZZ_ORACLE static void stream_check(const struct cv_stream *v, const struct sref *o,
                                     const char *how)
{
    int bad = v->status != o->status || v->got != o->got;

    if (o->status == CV_MISMATCH)
        bad |= v->bad_off != o->bad_off || v->bad_want != o->bad_want || v->bad_got != o->bad_got;
    if (o->status == CV_EXTRA)
        bad |= v->extra != o->extra || v->extra_first != o->extra_first;
    if (bad) {
        fprintf(stderr,
                "fuzz_verdict: stream fed %s: status %d got %llu bad_off %llu (0x%02x/0x%02x) "
                "extra %llu (0x%02x); reference: status %d got %llu bad_off %llu "
                "(0x%02x/0x%02x) extra %llu (0x%02x)\n",
                how, v->status, (unsigned long long)v->got, (unsigned long long)v->bad_off,
                v->bad_want, v->bad_got, (unsigned long long)v->extra, v->extra_first, o->status,
                (unsigned long long)o->got, (unsigned long long)o->bad_off, o->bad_want, o->bad_got,
                (unsigned long long)o->extra, o->extra_first);
        abort();
    }
}

/* Byte by byte where the outcome is decided: the first bytes, around the altered offset and
 * the last bytes (end of the expected stream, extra bytes); one piece between (a thousand
 * one-byte feeds cost a run ten times the minimal echo target's). */
FUZZ_ORACLE static size_t by_byte(size_t pos, size_t rn, size_t at)
{
    size_t lo = at > 16 ? at - 16 : 0, tail = rn > 48 ? rn - 48 : 0;

    if (pos < 48 || pos >= tail || (pos >= lo && pos < at + 16))
        return 1;
    return (pos < lo && lo < tail ? lo : tail) - pos;
}

/* The three drivers below are uninstrumented like the oracle helpers: their branches pick
 * an event kind or a way of feeding by input bits and otherwise only decide "fail or not",
 * and what they drive, core/verdict and core/catalog, keeps its edge counters (a corpus grown
 * without the drivers' edges reaches the same core edges: README, Fuzzing), and every edge
 * hit in a run costs libFuzzer work after it. */
FUZZ_ORACLE static void run_stream(const uint8_t *h, const uint8_t *body, size_t bn, int pattern)
{
    struct cv_stream v;
    struct sref o;
    uint64_t seed = 0, total;
    size_t wn, rn, at = (size_t)h[3] << 8 | h[4];
    uint32_t x = 0x9E3779B9u ^ h[1];
    char full[160], cut[160];

    if (pattern) {
        /* The pattern of a seed from the body; a huge total is never finished. */
        for (size_t i = 0; i < 8 && i < bn; i++)
            seed = seed << 8 | body[i];
        total = at % MAX_STREAM;
        if (h[6] & 0x80)
            total += (uint64_t)1 << 33;
        wn = total < MAX_STREAM ? (size_t)total : MAX_STREAM;
        cv_pattern_fill(seed, 0, want_buf,
                        total < sizeof want_buf ? (size_t)total : sizeof want_buf);
        /* Any window of the fill is the byte-at-a-time pattern: heads, blocks, tails. */
        {
            uint64_t off = seed >> 40;
            size_t n = h[5] % 40;
            uint8_t win[40];
            cv_pattern_fill(seed, off, win, n);
            for (size_t i = 0; i < n; i++)
                if (win[i] != cv_pattern_byte(seed, off + i))
                    fail("pattern fill differs from pattern byte", i,
                         cv_pattern_byte(seed, off + i), win[i]);
        }
    } else {
        wn = bn < MAX_STREAM ? bn : MAX_STREAM;
        memcpy(want_buf, body, wn);
        total = wn;
    }
    rn = alter(reply, want_buf, wn, h[2], at, h[5], body, bn);
    stream_ref(want_buf, total, reply, rn, &o);

    /* One way of feeding per run (the chunk seed picks it): each must give the reference's
     * outcome, so whole, byte by byte and in chunks agree with each other. */
    {
        int how = h[1] % 3;
        size_t pos = 0;
        if (pattern)
            cv_stream_init_pattern(&v, seed, total);
        else
            cv_stream_init_buf(&v, want_buf, wn);
        if (v.status != (total ? CV_MORE : CV_DONE))
            fail("fresh verifier status", 0, total ? CV_MORE : CV_DONE, v.status);
        cv_stream_feed(&v, NULL, 0);
        while (pos < rn) {
            size_t k = how == 0 ? rn - pos : how == 1 ? by_byte(pos, rn, at % (wn + 1))
                                                     : 1 + xorshift(&x) % 700;
            if (k > rn - pos)
                k = rn - pos;
            if (cv_stream_feed(&v, reply + pos, k) != v.status)
                fail("feed returns another status than it keeps", pos, v.status, 0);
            pos += k;
        }
        stream_check(&v, &o, how == 0 ? "whole" : how == 1 ? "byte by byte" : "in chunks");
    }
    if (cv_stream_status(&v) != v.status)
        fail("cv_stream_status", 0, v.status, cv_stream_status(&v));
    cv_stream_describe(&v, full, sizeof full);
    cv_stream_describe(&v, cut, 1 + h[1] % sizeof cut);
    check_truncation(full, cut, 1 + h[1] % sizeof cut);
    cut[0] = 'x';
    if (cv_stream_describe(&v, cut, 0) != cut || cut[0] != 'x')
        fail("describe into 0 bytes wrote", 0, 'x', (unsigned char)cut[0]);
}

/* ---- Datagram matcher ------------------------------------------------------------------ */

struct dref {
    uint32_t sends, replies;
    uint8_t expired;
};

/* A loop, not memcmp: libFuzzer's memcmp hook would record every comparison the reference
 * makes (one per offset in occurs_at), which teaches it nothing and cost a tenth of a run. */
FUZZ_ORACLE static int eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* Lowest offset >= 1 where piece q[0..qn) (qn >= 1) occurs in s[0..sn), or 0 if none. */
FUZZ_ORACLE static size_t occurs_at(const uint8_t *s, size_t sn, const uint8_t *q, size_t qn)
{
    for (size_t off = 1; off + qn <= sn; off++)
        if (eq(s + off, q, qn))
            return off;
    return 0;
}

/* The reference classification, rule by rule in the order verdict.h gives them; each rule
 * picks the lowest slot it applies to. */
FUZZ_ORACLE static void dmatch_ref(const struct cv_dslot *s, struct dref *st, size_t count,
                                   const uint8_t *p, size_t n, struct cv_dresult *r)
{
    size_t i, j, exact = count, best = count, best_k = 0;

    memset(r, 0, sizeof *r);
    r->n = n;
    /* Rule 1: equal bytes. An owed slot first, else the first equal slot is a duplicate. */
    for (i = count; i-- > 0;)
        if (s[i].n == n && eq(s[i].p, p, n)) {
            exact = i;
            if (st[i].replies < st[i].sends)
                best = i;
        }
    if (exact < count) {
        r->index = best < count ? best : exact;
        r->kind = best < count ? (st[best].expired ? CV_D_LATE : CV_D_MATCH) : CV_D_DUPLICATE;
        st[r->index].replies++;
        return;
    }
    /* Rule 2: a proper prefix (an empty reply only for a slot with no reply yet). */
    for (i = 0; i < count; i++)
        if (n < s[i].n && eq(s[i].p, p, n) && (n > 0 || st[i].replies == 0)) {
            r->index = i, r->kind = CV_D_TRUNCATED;
            return;
        }
    /* Rule 3: a whole slot, then more: merged when the rest and a slot agree as far as both
     * go, altered at the end of the slot otherwise. */
    for (i = 0; i < count; i++) {
        if (s[i].n == 0 || s[i].n >= n || !eq(p, s[i].p, s[i].n))
            continue;
        r->index = i;
        for (j = 0; j < count; j++) {
            size_t rest = n - s[i].n, k = s[j].n < rest ? s[j].n : rest;
            if (s[j].n > 0 && eq(p + s[i].n, s[j].p, k)) {
                r->kind = CV_D_MERGED, r->other = j;
                return;
            }
        }
        r->kind = CV_D_ALTERED, r->bad_off = s[i].n;
        return;
    }
    /* Rule 4: a piece from inside a longer slot. */
    for (i = 0; n > 0 && i < count; i++) {
        size_t off = s[i].n > n ? occurs_at(s[i].p, s[i].n, p, n) : 0;
        if (off) {
            r->index = i, r->kind = CV_D_SPLIT, r->bad_off = off;
            return;
        }
    }
    /* Rule 5: a whole slot inside a longer reply, after something added in front. */
    for (i = 0; i < count; i++)
        if (s[i].n > 0 && n > s[i].n && occurs_at(p, n, s[i].p, s[i].n)) {
            r->index = i, r->kind = CV_D_ALTERED, r->bad_off = 0;
            return;
        }
    /* Rule 6: same length, other bytes: the slot sharing the longest prefix. */
    for (i = 0; n > 0 && i < count; i++) {
        size_t k = 0;
        if (s[i].n != n)
            continue;
        while (k < n && s[i].p[k] == p[k])
            k++;
        if (best == count || k > best_k)
            best = i, best_k = k;
    }
    if (best < count) {
        r->index = best, r->kind = CV_D_ALTERED, r->bad_off = best_k;
        return;
    }
    r->kind = CV_D_FOREIGN;
}

/* What each kind means, checked on the implementation's answer alone. */
FUZZ_ORACLE static void check_kind_meaning(const struct cv_dslot *s, size_t count, const uint8_t *p,
                                           size_t n, const struct cv_dresult *r)
{
    const struct cv_dslot *a = r->kind != CV_D_FOREIGN && r->index < count ? &s[r->index] : NULL;
    int ok = 1;

    if (r->kind != CV_D_FOREIGN && !a)
        fail("classified reply names no slot", r->index, count, r->index);
    switch (r->kind) {
    case CV_D_MATCH:
    case CV_D_DUPLICATE:
    case CV_D_LATE:
        ok = a->n == n && eq(a->p, p, n);
        break;
    case CV_D_TRUNCATED:
        ok = n < a->n && eq(a->p, p, n);
        break;
    case CV_D_SPLIT:
        ok = r->bad_off >= 1 && r->bad_off + n <= a->n && eq(a->p + r->bad_off, p, n);
        break;
    case CV_D_MERGED:
        ok = a->n < n && eq(p, a->p, a->n) && r->other < count;
        break;
    case CV_D_ALTERED:
        ok = (a->n == n && r->bad_off < n && eq(a->p, p, r->bad_off) &&
              a->p[r->bad_off] != p[r->bad_off]) ||
             (a->n < n && (r->bad_off == 0 || r->bad_off == a->n));
        break;
    case CV_D_FOREIGN:
        for (size_t i = 0; i < count; i++)
            if (s[i].n == n && eq(s[i].p, p, n))
                ok = 0;
        break;
    default:
        ok = 0;
    }
    if (!ok)
        fail("reply does not fit the definition of its kind", r->index, r->kind, n);
}

FUZZ_ORACLE static void run_dmatch(const uint8_t *h, const uint8_t *body, size_t bn)
{
    struct cv_dslot slots[MAX_SLOTS], ref_slots[MAX_SLOTS];
    struct dref st[MAX_SLOTS];
    struct cv_dmatch m;
    struct cv_dresult got, ref, last;
    uint32_t kinds[CV__D_COUNT] = {0};
    size_t cap = 1 + h[6] % MAX_SLOTS, count = 0, pos = 0, idx, replies = 0;
    char full[200], cut[200];

    cv_dmatch_init(&m, slots, cap);
    /* The datagrams sent: a length byte (0..47) and that many body bytes each. */
    while (count < cap && pos < bn) {
        size_t n = body[pos++] % 48;
        if (n > bn - pos)
            n = bn - pos;
        if (cv_dmatch_add(&m, body + pos, n, &idx) != 0 || idx != count)
            fail("add refused or misnumbered", count, count, idx);
        ref_slots[count] = (struct cv_dslot){.p = body + pos, .n = n};
        st[count] = (struct dref){.sends = 1};
        count++, pos += n;
    }
    if (count == cap && cv_dmatch_add(&m, body, 0, NULL) != EH_ERR_NOSPACE)
        fail("add beyond cap accepted", cap, 1, 0);
    if (cv_dmatch_resend(&m, count) != EH_ERR_INVAL || cv_dmatch_expire(&m, count) != EH_ERR_INVAL)
        fail("resend or expire of a slot never added accepted", count, 1, 0);
    if (cv_dmatch_reply(&m, body, 0, NULL) != EH_ERR_INVAL)
        fail("reply without a result accepted", 0, 1, 0);

    /* Then 3-byte events: a reply made from the slots, a retry, or giving up on one. */
    for (; pos + 3 <= bn && replies < MAX_REPLIES; pos += 3) {
        const uint8_t *e = body + pos;
        size_t a = count ? e[1] % count : 0, b = count ? e[2] % count : 0, n = 0, unans = 0,
               excess = 0, first = 0, efirst = (size_t)-1;
        const struct cv_dslot *sa = count ? &ref_slots[a] : NULL,
                              *sb = count ? &ref_slots[b] : NULL;

        if (count && (e[0] & 7) == 6) {
            cv_dmatch_resend(&m, a);
            st[a].sends++;
            continue;
        }
        if (count && (e[0] & 7) == 7) {
            cv_dmatch_expire(&m, a);
            st[a].expired = 1;
            continue;
        }
        if (!count || (e[0] & 7) == 0) {
            n = (e[0] >> 3) % 4; /* a short foreign reply: the event's own bytes */
            memcpy(reply, e, n);
        } else {
            size_t cut_at = sa->n ? e[2] % (sa->n + 1) : 0;
            n = alter(reply, sa->p, sa->n, e[0] >> 3, cut_at, e[2], e, 3);
            if ((e[0] & 7) == 2 && n + sb->n <= sizeof reply) { /* followed by another */
                memcpy(reply + n, sb->p, sb->n / (1 + (e[0] >> 6)));
                n += sb->n / (1 + (e[0] >> 6));
            } else if ((e[0] & 7) == 3 && cut_at < sa->n) { /* a piece from inside */
                size_t k = 1 + e[1] % (sa->n - cut_at);
                memcpy(reply, sa->p + cut_at, k);
                n = k;
            } else if ((e[0] & 7) == 4) { /* something in front */
                memmove(reply + 1 + e[1] % 4, reply, n);
                memset(reply, e[1], 1 + e[1] % 4);
                n += 1 + e[1] % 4;
            }
        }
        dmatch_ref(ref_slots, st, count, reply, n, &ref);
        cv_dmatch_reply(&m, n ? reply : NULL, n, &got);
        replies++;
        if (got.kind != ref.kind || got.n != ref.n ||
            (ref.kind != CV_D_FOREIGN && got.index != ref.index) ||
            ((ref.kind == CV_D_SPLIT || ref.kind == CV_D_ALTERED) && got.bad_off != ref.bad_off) ||
            (ref.kind == CV_D_MERGED && got.other != ref.other)) {
            fprintf(stderr,
                    "fuzz_verdict: reply %zu (%zu bytes): %s slot %zu off %zu other %zu; "
                    "reference: %s slot %zu off %zu other %zu\n",
                    replies, n, cv_dkind_name(got.kind), got.index, got.bad_off, got.other,
                    cv_dkind_name(ref.kind), ref.index, ref.bad_off, ref.other);
            abort();
        }
        check_kind_meaning(ref_slots, count, reply, n, &got);
        kinds[ref.kind]++;
        for (size_t i = 0; i < count; i++) {
            unans += st[i].replies == 0;
            if (st[i].replies > st[i].sends && excess++ == 0)
                efirst = i;
        }
        if (cv_dmatch_unanswered(&m) != unans)
            fail("unanswered count", replies, unans, cv_dmatch_unanswered(&m));
        first = (size_t)-1;
        if (cv_dmatch_excess(&m, &first) != excess || first != efirst)
            fail("excess count or first slot", replies, excess, cv_dmatch_excess(&m, NULL));
        if (memcmp(kinds, m.kinds, sizeof kinds) != 0)
            fail("per-kind counters", replies, kinds[ref.kind], m.kinds[ref.kind]);
        last = got;
    }
    /* Describing costs a few snprintf()s: the last reply only, whole and cut. */
    if (replies) {
        cv_dresult_describe(&m, &last, full, sizeof full);
        cv_dresult_describe(&m, &last, cut, 1 + h[5] % sizeof cut);
        check_truncation(full, cut, 1 + h[5] % sizeof cut);
    }
}

/* ---- Reply source, wording, catalog ----------------------------------------------------- */

FUZZ_ORACLE static void read_addr(const uint8_t *b, struct ea_addr *a)
{
    static const uint8_t fam[4] = {EA_NONE, EA_INET, EA_INET6, 5};
    memset(a, 0, sizeof *a);
    a->family = fam[b[0] & 3];
    a->port = (uint16_t)(b[1] << 8 | b[2]);
    a->scope = b[3] & 3;
    memcpy(a->ip, b + 4, a->family == EA_INET ? 4 : 16);
}

FUZZ_ORACLE static int source_ref(const struct ea_addr *to, const struct ea_addr *from)
{
    if (!to || !from || from->family == EA_NONE || from->port != to->port)
        return CV_SRC_OTHER_PORT;
    if (from->family != to->family || (to->family != EA_INET && to->family != EA_INET6))
        return to->family == from->family && to->family == EA_NONE ? CV_SRC_SAME
                                                                   : CV_SRC_OTHER_ADDR;
    if (to->family == EA_INET6 && to->scope && from->scope && to->scope != from->scope)
        return CV_SRC_OTHER_ADDR;
    return memcmp(to->ip, from->ip, to->family == EA_INET ? 4 : 16) ? CV_SRC_OTHER_ADDR
                                                                    : CV_SRC_SAME;
}

/* "an" exactly when the number, read in English, starts with "eight", "eleven" or
 * "eighteen": its leading group of up to three digits starts with 8 or is 11 or 18. */
FUZZ_ORACLE static const char *article_ref(uint64_t v)
{
    char d[24];
    int len = 0, lead;
    do /* the decimal digits, least significant first */
        d[len++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    lead = (len - 1) % 3 + 1;
    if (d[len - 1] == '8' ||
        (lead == 2 && d[len - 1] == '1' && (d[len - 2] == '1' || d[len - 2] == '8')))
        return "an";
    return "a";
}

/* strcmp(a, b) == 0 as a loop: libFuzzer's strcmp hook would record each of the reference's
 * comparisons with every catalog row (cc_find's own are what it should learn from). */
FUZZ_ORACLE static int same_str(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

FUZZ_ORACLE static void run_misc(const uint8_t *h, const uint8_t *body, size_t bn)
{
    uint8_t tmp[40] = {0};
    struct ea_addr to, from;
    uint64_t v = 0;
    size_t count, k;
    const struct cc_case *cat = cc_catalog(&count);
    char id[64];
    int kind;

    memcpy(tmp, body, bn < sizeof tmp ? bn : sizeof tmp);
    read_addr(tmp, &to);
    read_addr(tmp + 20, &from);
    /* Often the same endpoint, or one field changed, as real replies are. */
    if (h[2] & 1)
        from = to;
    if (h[2] & 2)
        from.ip[h[5] % 16] ^= 1;
    if (h[2] & 4)
        from.scope = h[5] & 3;
    kind = cv_source_kind(h[2] & 8 ? NULL : &to, &from);
    if (kind != source_ref(h[2] & 8 ? NULL : &to, &from))
        fail("reply source kind", 0, (unsigned)source_ref(&to, &from), (unsigned)kind);
    if (strcmp(cv_source_name(kind), "?") == 0 ||
        (strcmp(cv_source_name(h[6] % 8), "?") == 0) != (h[6] % 8 > 2))
        fail("source name", (size_t)kind, 1, 0);

    for (size_t i = 0; i < 8; i++)
        v = v << 8 | tmp[i];
    v >>= h[5] % 64;
    if (strcmp(cv_article(v), article_ref(v)) != 0)
        fail("article", 0, v, 0);
    if (strcmp(cv_plural(v), v == 1 ? "" : "s") != 0)
        fail("plural", 0, v, 0);
    kind = (int)(h[6] % 12) - 2;
    if ((strcmp(cv_dkind_name(kind), "?") == 0) != (kind < 0 || kind >= CV__D_COUNT))
        fail("kind name", 0, (unsigned)kind, 0);
    if ((strcmp(cc_level_name(kind), "?") == 0) != (kind < 0 || kind > CC_INFO) ||
        (strcmp(cc_transport_name(kind), "?") == 0) != (kind < 0 || kind > CC_UDP))
        fail("level or transport name", 0, (unsigned)kind, 0);

    /* Catalog lookup: the body as an id (up to its first NUL) finds exactly the row with
     * that id; and every row is found by its own id. */
    k = bn < sizeof id - 1 ? bn : sizeof id - 1;
    memcpy(id, body, k);
    id[k] = '\0';
    {
        const struct cc_case *want = NULL, *row;
        for (size_t i = 0; i < count; i++)
            if (same_str(cat[i].id, id))
                want = &cat[i];
        if (cc_find(id) != want)
            fail("catalog lookup", 0, want != NULL, cc_find(id) != NULL);
        row = &cat[h[1] % count];
        if (cc_find(row->id) != row ||
            strncmp(row->id, cc_transport_name(row->transport), 3) != 0 ||
            strcmp(cc_level_name(row->level), "?") == 0 || !row->rfc[0] || !row->desc[0])
            fail("catalog row", h[1] % count, 1, 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    switch (data[0] % 4) {
    case 0:
        run_stream(data, data + 8, size - 8, 0);
        break;
    case 1:
        run_stream(data, data + 8, size - 8, 1);
        break;
    case 2:
        run_dmatch(data, data + 8, size - 8);
        break;
    default:
        run_misc(data, data + 8, size - 8);
        break;
    }
    return 0;
}
