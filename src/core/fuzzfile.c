/*
 * fuzzfile.c - parse and format echo-conform's reproducer files (see fuzzfile.h). The parser
 * walks the text once, line by line, without copying it; it never reads past n, and it
 * refuses rather than guesses: the first problem stops it with the line number and a code.
 */
#include "core/fuzzfile.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

#define MAX_WORDS 4

struct word {
    const char *p;
    size_t n;
};

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int word_is(const struct word *w, const char *s)
{
    size_t n = strlen(s);
    return w->n == n && memcmp(w->p, s, n) == 0;
}

/* Parses a decimal number, or hexadecimal after "0x" when hex_ok, into *v. Returns 0 or -1
 * (empty, a stray character, overflow). */
static int parse_u64(const struct word *w, int hex_ok, uint64_t *v)
{
    size_t i = 0;
    uint64_t x = 0;
    int base = 10;

    if (hex_ok && w->n > 2 && w->p[0] == '0' && (w->p[1] == 'x' || w->p[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == w->n)
        return -1;
    for (; i < w->n; i++) {
        char c = w->p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        if (x > (UINT64_MAX - d) / (uint64_t)base)
            return -1;
        x = x * (uint64_t)base + d;
    }
    *v = x;
    return 0;
}

/* The keywords that take a slot and/or a size. */
struct kw {
    const char *name;
    uint8_t op;
    uint8_t has_slot, has_n;
    uint8_t udp;    /* slot is a UDP slot */
    uint32_t max_n; /* largest n */
};

static const struct kw keywords[] = {
    {"connect", FQ_CONNECT, 1, 0, 0, 0},
    {"write", FQ_WRITE, 1, 1, 0, FQ_MAX_WRITE},
    {"shut", FQ_SHUT, 1, 0, 0, 0},
    {"close", FQ_CLOSE, 1, 0, 0, 0},
    {"reset", FQ_RESET, 1, 0, 0, 0},
    {"pause", FQ_PAUSE, 0, 1, 0, FQ_MAX_PAUSE},
    {"send", FQ_SEND, 1, 1, 1, FQ_MAX_DGRAM},
};

static int action_line(const struct word *w, size_t nw, struct fq_action *a)
{
    const struct kw *k = NULL;
    size_t want, i = 1;
    uint64_t v;

    for (size_t j = 0; j < sizeof keywords / sizeof keywords[0]; j++)
        if (word_is(&w[0], keywords[j].name))
            k = &keywords[j];
    if (!k)
        return FF_E_KEYWORD;
    want = 1u + k->has_slot + k->has_n;
    if (nw != want)
        return FF_E_ARGS;
    memset(a, 0, sizeof *a);
    a->op = k->op;
    if (k->has_slot) {
        if (parse_u64(&w[i], 0, &v) < 0)
            return FF_E_NUMBER;
        if (v >= (k->udp ? FQ_UDP_SLOTS : FQ_TCP_SLOTS))
            return FF_E_SLOT;
        a->slot = (uint8_t)v;
        i++;
    }
    if (k->has_n) {
        if (parse_u64(&w[i], 0, &v) < 0)
            return FF_E_NUMBER;
        if (v > k->max_n)
            return FF_E_SIZE;
        a->n = (uint32_t)v;
    }
    return FF_OK;
}

int ff_parse(const char *text, size_t n, struct fq_seq *s, struct ff_error *err)
{
    enum { WANT_HEADER, WANT_SEED, BODY, ENDED } state = WANT_HEADER;
    size_t pos = 0;
    unsigned line = 0;
    int code = FF_OK;

    memset(s, 0, sizeof *s);
    err->line = 0;
    err->code = FF_OK;
    while (pos < n && code == FF_OK) {
        size_t start = pos, end, len;
        struct word w[MAX_WORDS + 1];
        size_t nw = 0, i;

        line++;
        while (pos < n && text[pos] != '\n')
            pos++;
        end = pos;
        if (pos < n)
            pos++; /* the LF */
        if (end > start && text[end - 1] == '\r')
            end--;
        len = end - start;
        if (len > FF_MAX_LINE) {
            code = FF_E_LONG_LINE;
            break;
        }
        for (i = start; i < end; i++) {
            unsigned char c = (unsigned char)text[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                code = FF_E_BINARY;
                break;
            }
        }
        if (code != FF_OK)
            break;
        /* Split into words; a line that starts with '#' (after blanks) is a comment. */
        i = start;
        while (i < end) {
            while (i < end && is_space(text[i]))
                i++;
            if (i == end)
                break;
            if (nw == 0 && text[i] == '#')
                break;
            if (nw == MAX_WORDS + 1) {
                nw++; /* too many: reported below */
                break;
            }
            w[nw].p = text + i;
            while (i < end && !is_space(text[i]))
                i++;
            w[nw].n = (size_t)(text + i - w[nw].p);
            nw++;
        }
        if (nw == 0)
            continue;
        if (state == ENDED) {
            code = FF_E_AFTER_END;
            break;
        }
        if (nw > MAX_WORDS) {
            code = state == WANT_HEADER ? FF_E_HEADER : FF_E_ARGS;
            break;
        }
        if (state == WANT_HEADER) {
            uint64_t v;
            if (!word_is(&w[0], "echofuzz") || nw != 2)
                code = FF_E_HEADER;
            else if (parse_u64(&w[1], 0, &v) < 0 || v != FF_VERSION)
                code = FF_E_VERSION;
            else
                state = WANT_SEED;
        } else if (word_is(&w[0], "seed")) {
            if (state != WANT_SEED)
                code = FF_E_SEED;
            else if (nw != 2)
                code = FF_E_ARGS;
            else if (parse_u64(&w[1], 1, &s->seed) < 0)
                code = FF_E_NUMBER;
            else
                state = BODY;
        } else if (word_is(&w[0], "end")) {
            if (state != BODY)
                code = FF_E_SEED;
            else if (nw != 1)
                code = FF_E_ARGS;
            else
                state = ENDED;
        } else {
            struct fq_action a;
            code = action_line(w, nw, &a);
            if (code == FF_OK && state != BODY)
                code = FF_E_SEED;
            else if (code == FF_OK && s->count == FQ_MAX_ACTIONS)
                code = FF_E_TOO_MANY;
            else if (code == FF_OK)
                s->a[s->count++] = a;
        }
    }
    if (code == FF_OK && state != ENDED) {
        /* Name the line where "end" (or the header, or the seed) was due. */
        code = state == WANT_HEADER ? FF_E_HEADER : state == WANT_SEED ? FF_E_SEED : FF_E_NO_END;
        line++;
    }
    if (code != FF_OK) {
        err->line = line;
        err->code = code;
        return EH_ERR_INVAL;
    }
    return 0;
}

int ff_format(const struct fq_seq *s, char *buf, size_t size, size_t *len)
{
    size_t off = 0;
    int k;

    if (s->count > FQ_MAX_ACTIONS)
        return EH_ERR_INVAL;
    if (size == 0)
        return EH_ERR_NOSPACE;
    k = snprintf(buf, size, "echofuzz %d\nseed 0x%016llx\n", FF_VERSION,
                 (unsigned long long)s->seed);
    if (k < 0 || (size_t)k >= size)
        return EH_ERR_NOSPACE;
    off = (size_t)k;
    for (size_t i = 0; i < s->count; i++) {
        const struct fq_action *a = &s->a[i];
        const char *name = fq_op_name(a->op);

        switch (a->op) {
        case FQ_CONNECT:
        case FQ_SHUT:
        case FQ_CLOSE:
        case FQ_RESET:
            /* A size the line cannot hold would be lost silently: refuse it. */
            if (a->slot >= FQ_TCP_SLOTS || a->n != 0)
                return EH_ERR_INVAL;
            k = snprintf(buf + off, size - off, "%s %u\n", name, a->slot);
            break;
        case FQ_WRITE:
            if (a->slot >= FQ_TCP_SLOTS || a->n > FQ_MAX_WRITE)
                return EH_ERR_INVAL;
            k = snprintf(buf + off, size - off, "%s %u %lu\n", name, a->slot,
                         (unsigned long)a->n);
            break;
        case FQ_SEND:
            if (a->slot >= FQ_UDP_SLOTS || a->n > FQ_MAX_DGRAM)
                return EH_ERR_INVAL;
            k = snprintf(buf + off, size - off, "%s %u %lu\n", name, a->slot,
                         (unsigned long)a->n);
            break;
        case FQ_PAUSE:
            if (a->n > FQ_MAX_PAUSE || a->slot != 0) /* the line has no slot */
                return EH_ERR_INVAL;
            k = snprintf(buf + off, size - off, "%s %lu\n", name, (unsigned long)a->n);
            break;
        default: return EH_ERR_INVAL;
        }
        if (k < 0 || (size_t)k >= size - off)
            return EH_ERR_NOSPACE;
        off += (size_t)k;
    }
    k = snprintf(buf + off, size - off, "end\n");
    if (k < 0 || (size_t)k >= size - off)
        return EH_ERR_NOSPACE;
    off += (size_t)k;
    if (len)
        *len = off;
    return 0;
}

const char *ff_strerror(int code)
{
    static const char *const msgs[FF__E_COUNT] = {
        [FF_OK] = "no error",
        [FF_E_HEADER] = "expected 'echofuzz 1' as the first line",
        [FF_E_VERSION] = "unsupported format version (this program reads 1)",
        [FF_E_SEED] = "expected one 'seed N' line after the header and before the actions",
        [FF_E_KEYWORD] = "unknown keyword (connect, write, shut, close, reset, pause, send, end)",
        [FF_E_ARGS] = "wrong number of words for this keyword",
        [FF_E_NUMBER] = "not a number",
        [FF_E_SLOT] = "slot out of range (TCP 0..3, UDP 0..1)",
        [FF_E_SIZE] = "size out of range (write <= 16777216, send <= 65507, pause <= 10000)",
        [FF_E_TOO_MANY] = "more than 256 actions",
        [FF_E_NO_END] = "missing 'end' line (file cut off?)",
        [FF_E_AFTER_END] = "text after 'end'",
        [FF_E_LONG_LINE] = "line longer than 200 bytes",
        [FF_E_BINARY] = "control character or NUL: not a text file",
    };

    return code >= 0 && code < FF__E_COUNT ? msgs[code] : "unknown error";
}
