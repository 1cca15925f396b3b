/*
 * fuzz_frame.c - drives echo-client's input framing (cf_line) and echo reassembly
 * (cf_expect) the way the client does: the input text is cut into lines at '\n', each line
 * is framed, the lines to send are concatenated, and a reply stream (the sent stream, or
 * that stream altered at a fuzzer-chosen offset, or the raw text) is fed to one cf_expect per
 * line, with the bytes a finished line did not use carried over to the next one.
 *
 * Oracles: cf_line agrees with a reference trimmer, and a line framed with or without its
 * "\n" gives the same result (one line per run, the one holding the header's offset); the
 * reassembly's outcome (which line fails, at which offset, which bytes, or how short the echo
 * is, or how many bytes are extra) equals a reference that compares the two streams directly,
 * whether the reply is fed whole, byte by byte (where the outcome is decided) or in random
 * chunks (the chunk seed picks one per run, so all three agree with each other).
 *
 * Input: a 6-byte header (flags, chunk seed, offset: 2 bytes, alteration byte, 1 reserved),
 * then the text (at most MAX_TEXT bytes of it are used).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/err.h"
#include "core/frame.h"

#define MAX_TEXT 512u /* longer text adds run time, not behaviour */
#define MAX_LINES 64u

struct msg {
    size_t off, n; /* the message is text[off..off + n) */
};

enum { OUT_DONE, OUT_SHORT, OUT_MISMATCH };

/* What reassembly of a whole reply stream concludes. */
struct outcome {
    int kind;
    size_t line; /* the failing message (OUT_SHORT, OUT_MISMATCH) */
    size_t off;  /* bytes matched in it (OUT_SHORT) or first bad offset (OUT_MISMATCH) */
    unsigned want, got;
    size_t extra; /* bytes beyond the last message (OUT_DONE) */
};

static struct msg msgs[MAX_LINES];
static uint8_t sent[MAX_TEXT];
static uint8_t reply[MAX_TEXT + 64];

FUZZ_ORACLE static void fail(const char *what, size_t at, size_t want, size_t got)
{
    fprintf(stderr, "fuzz_frame: %s at %zu: expected %zu, got %zu\n", what, at, want, got);
    abort();
}

/* ---- Framing ------------------------------------------------------------------------- */

/* Inlined into ref_line (a call per byte cost more than the test). */
FUZZ_ORACLE_INLINE static inline int ref_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* The reference: trim both ends, then q quits, empty skips over TCP, anything else sends. */
FUZZ_ORACLE static void ref_line(const uint8_t *p, size_t n, int transport, int *act, size_t *off,
                                 size_t *len)
{
    size_t b = 0, e = n;
    while (b < n && ref_space(p[b]))
        b++;
    while (e > b && ref_space(p[e - 1]))
        e--;
    *off = b, *len = e - b;
    *act = *len == 1 && p[b] == 'q'           ? CF_QUIT
           : *len == 0 && transport == CF_TCP ? CF_SKIP
                                              : CF_SEND;
}

FUZZ_ORACLE static int frame_line(const uint8_t *p, size_t n, int transport, size_t at, int twice,
                                  size_t *off, size_t *len)
{
    int act, ract, act2;
    size_t roff, rlen, off2, len2;

    if (cf_line(p, n, transport, &act, off, len) != 0)
        fail("cf_line refused a line", at, 0, 1);
    ref_line(p, n, transport, &ract, &roff, &rlen);
    if (act != ract || *off != roff || *len != rlen)
        fail(act != ract    ? "line action"
             : *off != roff ? "line offset"
                            : "line length",
             at,
             act != ract    ? (size_t)ract
             : *off != roff ? roff
                            : rlen,
             act != ract    ? (size_t)act
             : *off != roff ? *off
                            : *len);
    /* The same line with its "\n" cut off frames the same (one line per run: framing it
     * again cost a third of a run). */
    if (twice && n && p[n - 1] == '\n') {
        if (cf_line(p, n - 1, transport, &act2, &off2, &len2) != 0 || act2 != act || len2 != *len ||
            (*len && off2 != *off))
            fail("line without its newline frames differently", at, *len, len2);
    }
    return act;
}

/* The contract's refusals: a bad transport, missing out-params, NULL text with a length. */
FUZZ_ORACLE static void check_refusals(const uint8_t *p, size_t n)
{
    int act;
    size_t off, len;

    if (cf_line(p, n, 2, &act, &off, &len) != EH_ERR_INVAL ||
        cf_line(p, n, CF_TCP, NULL, &off, &len) != EH_ERR_INVAL ||
        cf_line(p, n, CF_UDP, &act, NULL, &len) != EH_ERR_INVAL ||
        cf_line(p, n, CF_TCP, &act, &off, NULL) != EH_ERR_INVAL ||
        cf_line(NULL, 1, CF_TCP, &act, &off, &len) != EH_ERR_INVAL)
        fail("cf_line accepted a contract violation", 0, 1, 0);
    if (cf_line(NULL, 0, CF_UDP, &act, &off, &len) != 0 || act != CF_SEND || len != 0)
        fail("cf_line of nothing over UDP", 0, 0, len);
}

/* ---- Reassembly ---------------------------------------------------------------------- */

/* The reference: compare the sent stream s[0..sn) with the reply r[0..rn) directly. */
FUZZ_ORACLE static void ref_outcome(const struct msg *m, size_t count, const uint8_t *s, size_t sn,
                                    const uint8_t *r, size_t rn, struct outcome *o)
{
    size_t d = 0, lim = sn < rn ? sn : rn, base = 0, i;

    memset(o, 0, sizeof *o);
    while (d < lim && s[d] == r[d])
        d++;
    if (d == sn) {
        o->kind = OUT_DONE;
        o->extra = rn - sn;
        return;
    }
    /* d is the first sent byte that did not come back right: a mismatch, or the end. */
    for (i = 0; i < count && base + m[i].n <= d; i++)
        base += m[i].n;
    o->line = i;
    o->off = d - base;
    if (d < rn) {
        o->kind = OUT_MISMATCH;
        o->want = s[d], o->got = r[d];
    } else {
        o->kind = OUT_SHORT;
    }
}

/* Chunk sizes: 0 feeds whole, 1 byte by byte where the outcome is decided (a message's
 * first and last bytes, so every carry-over, and around the altered offset) and whole
 * between (hundreds of one-byte feeds made a run several times the minimal echo target's),
 * otherwise a xorshift of the seed. */
struct chunker {
    int mode;
    uint32_t x;
    size_t at; /* the reply offset of the alteration */
};

#define NEAR 16u /* bytes fed one by one at each end of a message and around the alteration */

FUZZ_ORACLE static size_t next_chunk(struct chunker *c, size_t pos, size_t left, size_t got,
                                     size_t need)
{
    size_t k;
    if (c->mode == 0)
        return left;
    if (c->mode == 1) {
        if (got < NEAR || need <= NEAR || (pos + NEAR >= c->at && pos < c->at + NEAR))
            return 1;
        k = need - NEAR; /* up to the message's last bytes, or the alteration's */
        if (pos + NEAR < c->at && c->at - NEAR - pos < k)
            k = c->at - NEAR - pos;
        return k < left ? k : left;
    }
    c->x ^= c->x << 13, c->x ^= c->x >> 17, c->x ^= c->x << 5;
    k = 1 + (c->x >> 8) % ((c->x & 0x80) ? 9 : 300);
    return k < left ? k : left;
}

/* Feeds r[0..rn) through one cf_expect per message the way echo-client does. */
FUZZ_ORACLE static void reassemble(const struct msg *m, size_t count, const uint8_t *s,
                                   const uint8_t *r, size_t rn, struct chunker *ch,
                                   struct outcome *o)
{
    size_t pos = 0, carry_off = 0, carry_len = 0, base = 0, used;
    struct cf_expect e;

    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < count; base += m[i].n, i++) {
        cf_expect_init(&e, s + base, m[i].n);
        if ((e.status == CF_DONE) != (m[i].n == 0))
            fail("fresh expect status", i, m[i].n == 0, e.status);
        if (carry_len) {
            int st = cf_expect_feed(&e, r + carry_off, carry_len, &used);
            if (used > carry_len || st != e.status)
                fail("carry feed", i, carry_len, used);
            carry_off += used, carry_len -= used;
        }
        while (e.status == CF_MORE) {
            size_t k, before = e.got;
            if (pos == rn) {
                o->kind = OUT_SHORT, o->line = i, o->off = e.got;
                return;
            }
            k = next_chunk(ch, pos, rn - pos, e.got, e.n - e.got);
            cf_expect_feed(&e, r + pos, k, &used);
            /* Every byte up to the end of the message or the first bad one is consumed. */
            if (used > k || e.got != before + used || e.got > e.n ||
                (e.status == CF_MORE && used != k) || (e.status == CF_DONE && e.got != e.n))
                fail("feed accounting", i, k, used);
            carry_off = pos + used, carry_len = k - used;
            pos += k;
        }
        if (e.status == CF_MISMATCH) {
            if (cf_expect_feed(&e, r, rn, &used) != CF_MISMATCH || used != 0)
                fail("feed after a mismatch consumed", i, 0, used);
            if (e.bad_off != e.got)
                fail("mismatch offset differs from bytes matched", i, e.got, e.bad_off);
            o->kind = OUT_MISMATCH, o->line = i, o->off = e.bad_off;
            o->want = e.bad_want, o->got = e.bad_got;
            return;
        }
        if (cf_expect_feed(&e, r, rn, &used) != CF_DONE || used != 0)
            fail("feed after done consumed", i, 0, used);
    }
    o->kind = OUT_DONE;
    o->extra = carry_len + (rn - pos);
}

FUZZ_ORACLE static void compare(const struct outcome *want, const struct outcome *got,
                                const char *how)
{
    if (want->kind != got->kind || want->line != got->line || want->off != got->off ||
        want->want != got->want || want->got != got->got || want->extra != got->extra) {
        fprintf(stderr,
                "fuzz_frame: fed %s: kind %d line %zu off %zu want 0x%02x got 0x%02x extra %zu;"
                " reference: kind %d line %zu off %zu want 0x%02x got 0x%02x extra %zu\n",
                how, got->kind, got->line, got->off, got->want, got->got, got->extra, want->kind,
                want->line, want->off, want->want, want->got, want->extra);
        abort();
    }
}

/* Builds the reply: the sent stream, altered by mode at offset at, or the raw text. */
FUZZ_ORACLE static size_t make_reply(int mode, size_t at, uint8_t alt, const uint8_t *s, size_t sn,
                                     const uint8_t *text, size_t tn)
{
    size_t rn = sn;

    at = sn ? at % (sn + 1) : 0;
    memcpy(reply, s, sn);
    switch (mode) {
    case 1: /* one byte changed */
        if (at < sn)
            reply[at] ^= (uint8_t)(alt | 1);
        break;
    case 2: /* cut short */
        rn = at;
        break;
    case 3: /* extra bytes after the echo */
        memset(reply + sn, alt, 1 + alt % 32);
        rn = sn + 1 + alt % 32;
        break;
    case 4: /* one byte lost */
        if (at < sn) {
            memmove(reply + at, reply + at + 1, sn - at - 1);
            rn = sn - 1;
        }
        break;
    case 5: /* one byte inserted */
        memmove(reply + at + 1, reply + at, sn - at);
        reply[at] = alt;
        rn = sn + 1;
        break;
    case 6: /* the raw text, whitespace and all */
        memcpy(reply, text, tn);
        rn = tn;
        break;
    default: /* a faithful echo */
        break;
    }
    return rn;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *text;
    size_t tn, count = 0, sn = 0, rn, start = 0, at;
    int transport, mode;
    struct outcome ref, got;
    struct chunker ch;

    if (size < 6)
        return 0;
    transport = data[0] & 1 ? CF_UDP : CF_TCP;
    mode = (data[0] >> 1) & 7;
    text = data + 6;
    tn = size - 6 < MAX_TEXT ? size - 6 : MAX_TEXT;
    check_refusals(text, tn);
    /* The line holding this text offset is also framed without its newline. */
    at = tn ? ((size_t)data[2] << 8 | data[3]) % tn : 0;

    /* Cut the text into lines as getline does: each ends after its '\n', the last may not. */
    while (start < tn && count < MAX_LINES) {
        const uint8_t *nl = memchr(text + start, '\n', tn - start);
        size_t n = nl ? (size_t)(nl - (text + start)) + 1 : tn - start, off, len;
        int act = frame_line(text + start, n, transport, start, at - start < n, &off, &len);
        if (act == CF_QUIT)
            break;
        if (act == CF_SEND) {
            msgs[count].off = start + off, msgs[count].n = len;
            memcpy(sent + sn, text + start + off, len);
            sn += len;
            count++;
        }
        start += n;
    }

    rn = make_reply(mode, (size_t)data[2] << 8 | data[3], data[4], sent, sn, text, tn);
    ref_outcome(msgs, count, sent, sn, reply, rn, &ref);

    /* One way of feeding per run (the header picks it): each must give the reference's
     * outcome, so all ways agree with each other, at a third of the cost per run. */
    ch.mode = data[1] % 3;
    ch.x = 0x9E3779B9u ^ data[1] ^ (uint32_t)size << 8;
    ch.at = sn ? ((size_t)data[2] << 8 | data[3]) % (sn + 1) : 0;
    reassemble(msgs, count, sent, reply, rn, &ch, &got);
    compare(&ref, &got, ch.mode == 0 ? "whole" : ch.mode == 1 ? "byte by byte" : "in chunks");
    return 0;
}
