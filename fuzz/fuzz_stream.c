/*
 * fuzz_stream.c - drives the TCP echo state machine (core/stream) with an operation script
 * and checks it against the echo oracle: every byte it emits equals the byte fed at the
 * same offset, pending never exceeds the cap, es_want is never 0, and after EOF and drain
 * the output equals the input and the machine asks to shut down, then to close.
 *
 * Input: an 8-byte header (cap: 2 bytes, seed, path flags, 4 reserved bytes so corpora stay
 * valid as the format grows), then 3-byte operations (op, arg hi, arg lo). Payload bytes
 * come from a pattern of (seed, offset), so the oracle needs no shadow buffer and every
 * byte value, NUL included, occurs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/stream.h"

#define MAX_CAP 70000u
#define MAX_OPS 1024u

static uint8_t storage[MAX_CAP];
static uint8_t scratch[MAX_CAP];

/* The payload is a fixed pseudo-random table read cyclically from a seed-dependent start.
 * Its period (a prime) is longer than any cap, so a byte delivered at the wrong offset
 * differs from the expected one; memcpy/memcmp over it keep executions cheap. */
#define PERIOD 65521u
static uint8_t table[2 * PERIOD];

static void table_init(void)
{
    uint32_t x = 2463534242u;
    if (table[0] | table[1] | table[2])
        return;
    for (size_t i = 0; i < PERIOD; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        table[i] = table[i + PERIOD] = (uint8_t)(x >> 24);
    }
}

static const uint8_t *pattern_at(uint8_t seed, uint64_t off)
{
    return table + (off + (uint64_t)seed * 257u) % PERIOD;
}

static uint8_t pattern(uint8_t seed, uint64_t off)
{
    return *pattern_at(seed, off);
}

/* Copies pattern bytes [off, off + n) to out. */
static void fill(uint8_t seed, uint64_t off, uint8_t *out, size_t n)
{
    while (n) {
        size_t k = n < PERIOD ? n : PERIOD;
        memcpy(out, pattern_at(seed, off), k);
        out += k, off += k, n -= k;
    }
}

/* Returns the index of the first byte of p[0..n) that differs from pattern [off, ...), or n. */
static size_t first_diff(uint8_t seed, uint64_t off, const uint8_t *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < PERIOD ? n - done : PERIOD;
        if (memcmp(p + done, pattern_at(seed, off + done), k) != 0) {
            const uint8_t *want = pattern_at(seed, off + done);
            for (size_t i = 0; i < k; i++)
                if (p[done + i] != want[i])
                    return done + i;
        }
        done += k;
    }
    return n;
}

struct model {
    struct es_conn c;
    uint8_t seed;
    uint64_t in, out; /* bytes fed to the machine, bytes it emitted */
};

static void fail(const char *what, const struct model *m, uint64_t off, unsigned want, unsigned got)
{
    fprintf(stderr, "fuzz_stream: %s at offset %llu: expected %u, got %u (in=%llu out=%llu)\n",
            what, (unsigned long long)off, want, got, (unsigned long long)m->in,
            (unsigned long long)m->out);
    abort();
}

static void check_invariants(const struct model *m)
{
    unsigned w = es_want(&m->c);
    if (w == 0)
        fail("es_want is 0", m, m->out, 1, 0);
    if (!(w & ES_WANT_READ) != !es_room(&m->c))
        fail("want-read disagrees with room", m, m->out, (unsigned)es_room(&m->c), w);
    if (!(w & ES_WANT_WRITE) != !es_pending(&m->c))
        fail("want-write disagrees with pending", m, m->out, (unsigned)es_pending(&m->c), w);
    if (es_pending(&m->c) > m->c.cap)
        fail("pending above cap", m, m->out, m->c.cap, (unsigned)es_pending(&m->c));
    if (es_pending(&m->c) != m->in - m->out)
        fail("pending differs from in - out", m, m->out, (unsigned)(m->in - m->out),
             (unsigned)es_pending(&m->c));
}

/* The peer sends n bytes; direct selects the scratch fast path when it is allowed. */
static void op_send(struct model *m, size_t n, size_t sent_hint, int direct)
{
    size_t room = es_room(&m->c);

    if (n > room)
        n = room;
    if (!n)
        return;
    if (direct && es_pending(&m->c) == 0) {
        size_t sent = sent_hint % (n + 1), bad;
        fill(m->seed, m->in, scratch, n);
        /* What the socket took goes straight to the peer: check it like any output. */
        if ((bad = first_diff(m->seed, m->out, scratch, sent)) < sent)
            fail("direct byte", m, m->out + bad, pattern(m->seed, m->out + bad), scratch[bad]);
        if (sent < n && !es_has_storage(&m->c) && es_attach(&m->c, storage, sizeof storage) != 0)
            fail("attach refused", m, m->out, 0, 1);
        if (es_passthrough(&m->c, scratch, n, sent) != 0)
            fail("passthrough refused", m, m->in, 0, 1);
        m->in += n;
        m->out += sent;
        return;
    }
    if (!es_has_storage(&m->c) && es_attach(&m->c, storage, sizeof storage) != 0)
        fail("attach refused", m, m->out, 0, 1);
    struct rb_span sp[2];
    size_t count, total = es_read_spans(&m->c, sp, &count), k = 0;
    if (total < n)
        fail("read spans smaller than room", m, m->in, (unsigned)n, (unsigned)total);
    for (size_t i = 0; i < count && k < n; i++) {
        size_t part = sp[i].n < n - k ? sp[i].n : n - k;
        fill(m->seed, m->in + k, sp[i].p, part);
        k += part;
    }
    if (es_on_read(&m->c, n) != 0)
        fail("on_read refused", m, m->in, 0, 1);
    m->in += n;
}

/* The socket accepts up to n pending bytes; check each against the oracle. */
static void op_write(struct model *m, size_t n)
{
    struct rb_span sp[2];
    size_t count, total = es_write_spans(&m->c, sp, &count), k = 0;

    if (total != es_pending(&m->c))
        fail("write spans differ from pending", m, m->out, (unsigned)es_pending(&m->c),
             (unsigned)total);
    if (n > total)
        n = total;
    for (size_t i = 0; i < count && k < n; i++) {
        size_t part = sp[i].n < n - k ? sp[i].n : n - k;
        size_t bad = first_diff(m->seed, m->out + k, sp[i].p, part);
        if (bad < part)
            fail("echoed byte", m, m->out + k + bad, pattern(m->seed, m->out + k + bad),
                 sp[i].p[bad]);
        k += part;
    }
    if (es_on_written(&m->c, n) != 0)
        fail("on_written refused", m, m->out, 0, 1);
    m->out += n;
    if (es_pending(&m->c) == 0 && es_has_storage(&m->c) && es_detach(&m->c) != storage)
        fail("detach of drained storage", m, m->out, 1, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct model m;
    size_t cap;
    int direct_bias;

    if (size < 8)
        return 0;
    table_init();
    cap = 1 + (((size_t)data[0] << 8 | data[1]) * 37u) % MAX_CAP;
    memset(&m, 0, sizeof m);
    m.seed = data[2];
    direct_bias = data[3] & 1;
    es_init(&m.c, cap);
    data += 8, size -= 8;

    for (unsigned ops = 0; size >= 3 && ops < MAX_OPS; ops++, data += 3, size -= 3) {
        /* Sizes stay small (cheap executions) unless the op asks for a large one, which
         * reaches the 64 KiB edges and the cap. */
        size_t arg = (size_t)data[1] << 8 | data[2];
        size_t len = (data[0] & 0x40) ? arg * 2 + (data[0] >> 7) : arg & 0x3ff;
        switch (data[0] % 5) {
        case 0: op_send(&m, len, data[0] >> 3, direct_bias ^ (data[0] >> 7)); break;
        case 1: op_write(&m, len); break;
        case 2:
            if (data[0] & 0x80)
                es_on_eof(&m.c);
            else
                op_write(&m, 1);
            break;
        case 3: {
            /* Storage is MAX_CAP long, so a cap change is refused exactly when below pending. */
            size_t ncap = 1 + (arg * 41u) % MAX_CAP;
            int rc = es_set_cap(&m.c, ncap);
            if (rc == 0 && m.c.cap != ncap)
                fail("cap not applied", &m, m.out, (unsigned)ncap, m.c.cap);
            if ((rc != 0) != (ncap < es_pending(&m.c)))
                fail("cap decision", &m, m.out, (unsigned)ncap, (unsigned)es_pending(&m.c));
            break;
        }
        default: op_send(&m, data[2] & 7, data[1], 1); break;
        }
        check_invariants(&m);
    }

    /* End of script: the peer finishes and the socket drains everything. */
    es_on_eof(&m.c);
    while (es_want(&m.c) & ES_WANT_WRITE) {
        op_write(&m, 65536);
        check_invariants(&m);
    }
    if (m.out != m.in)
        fail("output length after drain", &m, m.out, (unsigned)m.in, (unsigned)m.out);
    if (es_want(&m.c) != ES_WANT_SHUT_WR)
        fail("want after drain", &m, m.out, ES_WANT_SHUT_WR, es_want(&m.c));
    if (es_on_shut_wr(&m.c) != 0 || es_want(&m.c) != ES_WANT_CLOSE)
        fail("close after shutdown", &m, m.out, ES_WANT_CLOSE, es_want(&m.c));
    return 0;
}
