/*
 * fuzz_stream.c - drives the TCP echo state machine (core/stream) with an operation script
 * and checks it against the echo oracle: every byte it emits equals the byte fed at the
 * same offset, pending (ring plus held) never exceeds the cap, es_want is never 0 and
 * agrees with room and pending, and after EOF and drain the output equals the input and the
 * machine asks to shut down, then to close. With the extended op set (header byte 4, bit 0)
 * the script also moves bytes through the glue's own holding place (es_on_held, the splice
 * path), fails the connection (es_on_error: then only CLOSE is wanted, nothing more is read,
 * the storage comes back) and breaks each call's contract on purpose: every refusal must be
 * the status stream.h names and change nothing.
 *
 * Input: an 8-byte header (cap: 2 bytes, seed, path flags, op set, 3 reserved bytes so
 * corpora stay valid as the format grows), then 3-byte operations (op, arg hi, arg lo).
 * Payload bytes come from a pattern of (seed, offset), so the oracle needs no shadow buffer
 * and every byte value, NUL included, occurs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pattern.h"
#include "core/err.h"
#include "core/stream.h"

#define MAX_CAP 70000u
#define MAX_OPS 48u /* enough to reach every state; more only costs run time */

static uint8_t storage[MAX_CAP];
static uint8_t scratch[MAX_CAP];

/* The payload is a fixed pseudo-random table read cyclically from a seed-dependent start.
 * Its period (a prime) is longer than any cap, so a byte delivered at the wrong offset
 * differs from the expected one; memcpy/memcmp over it keep executions cheap. */
#define PERIOD 65521u
static uint8_t table[2 * PERIOD];

static const uint8_t *pattern_at(uint8_t seed, uint64_t off)
{
    return table + (off + (uint64_t)seed * 257u) % PERIOD;
}

static uint8_t pattern(uint8_t seed, uint64_t off)
{
    return *pattern_at(seed, off);
}

/* Copies pattern bytes [off, off + n) to out. */
FUZZ_ORACLE static void fill(uint8_t seed, uint64_t off, uint8_t *out, size_t n)
{
    while (n) {
        size_t k = n < PERIOD ? n : PERIOD;
        memcpy(out, pattern_at(seed, off), k);
        out += k, off += k, n -= k;
    }
}

/* Returns the index of the first byte of p[0..n) that differs from pattern [off, ...), or n. */
FUZZ_ORACLE static size_t first_diff(uint8_t seed, uint64_t off, const uint8_t *p, size_t n)
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
    uint8_t failed;   /* es_on_error was called: the connection is over */
    uint8_t eof;      /* es_on_eof was called: the peer sends nothing more */
    uint64_t in, out; /* bytes fed to the machine, bytes it emitted */
    uint64_t held;    /* of those in - out, how many sit in the glue's holding place */
};

FUZZ_ORACLE static void fail(const char *what, const struct model *m, uint64_t off, unsigned want, unsigned got)
{
    fprintf(stderr, "fuzz_stream: %s at offset %llu: expected %u, got %u (in=%llu out=%llu)\n",
            what, (unsigned long long)off, want, got, (unsigned long long)m->in,
            (unsigned long long)m->out);
    abort();
}

FUZZ_ORACLE static void check_invariants(const struct model *m)
{
    unsigned w = es_want(&m->c);
    size_t waiting = es_pending(&m->c) + es_held(&m->c);
    if (w == 0)
        fail("es_want is 0", m, m->out, 1, 0);
    if (es_held(&m->c) != m->held)
        fail("held differs from the bytes the glue holds", m, m->out, (unsigned)m->held,
             (unsigned)es_held(&m->c));
    if (m->failed) {
        /* A failed connection only wants to close; its ring bytes were abandoned. */
        if (w != ES_WANT_CLOSE || es_room(&m->c) || es_pending(&m->c))
            fail("failed connection wants more than close", m, m->out, ES_WANT_CLOSE, w);
        return;
    }
    if (!(w & ES_WANT_READ) != !es_room(&m->c))
        fail("want-read disagrees with room", m, m->out, (unsigned)es_room(&m->c), w);
    if (!(w & ES_WANT_WRITE) != !waiting)
        fail("want-write disagrees with pending", m, m->out, (unsigned)waiting, w);
    if (waiting > m->c.cap)
        fail("pending above cap", m, m->out, m->c.cap, (unsigned)waiting);
    if (es_pending(&m->c) && es_held(&m->c))
        fail("ring bytes and held bytes both waiting", m, m->out, 0, (unsigned)es_held(&m->c));
    if (waiting != m->in - m->out)
        fail("pending differs from in - out", m, m->out, (unsigned)(m->in - m->out),
             (unsigned)waiting);
}

/* The peer sends n bytes; direct selects the scratch fast path when it is allowed. */
FUZZ_ORACLE static void op_send(struct model *m, size_t n, size_t sent_hint, int direct)
{
    size_t room = es_room(&m->c);

    if (n > room)
        n = room;
    if (!n)
        return;
    if (m->held) {
        /* Bytes wait in the holding place: new ones must follow them there. */
        if (es_on_held(&m->c, n) != 0)
            fail("on_held refused", m, m->in, 0, 1);
        m->in += n, m->held += n;
        return;
    }
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

/* The glue moves up to n bytes into its holding place (the splice path). Allowed only
 * while the ring is empty and the peer has not finished; otherwise the exact refusal. */
FUZZ_ORACLE static void op_hold(struct model *m, size_t n)
{
    size_t room = es_room(&m->c);
    int want = m->failed || m->eof || es_pending(&m->c) ? EH_ERR_STATE : 0;
    int rc;

    if (want == 0 && n > room)
        want = EH_ERR_NOSPACE;
    rc = es_on_held(&m->c, n);
    if (rc != want)
        fail("on_held status", m, m->in, (unsigned)-want, (unsigned)-rc);
    if (rc == 0)
        m->in += n, m->held += n;
}

/* The socket accepts up to n pending bytes; check each against the oracle. Held bytes go
 * first (the ring is empty while any are held); their bytes never pass through the machine,
 * so only their count is checked. */
FUZZ_ORACLE static void op_write(struct model *m, size_t n)
{
    struct rb_span sp[2];
    size_t count, total, k = 0;

    if (m->failed)
        return; /* a failed connection writes nothing more */
    if (m->held) {
        size_t h = n < m->held ? n : (size_t)m->held;
        if (es_on_held_written(&m->c, h) != 0)
            fail("on_held_written refused", m, m->out, 0, 1);
        m->held -= h, m->out += h;
        return;
    }
    total = es_write_spans(&m->c, sp, &count);

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

/* Breaks one call's contract on purpose (kind picks which); the call must refuse with the
 * status stream.h names and change nothing, which check_invariants confirms after. */
FUZZ_ORACLE static void op_abuse(struct model *m, unsigned kind, size_t x)
{
    unsigned flags_done = m->failed || m->eof;
    size_t room = es_room(&m->c);
    int rc, want;

    switch (kind % 8) {
    case 0: /* the connection fails: reset, broken pipe, timeout */
        es_on_error(&m->c);
        m->failed = 1;
        return;
    case 1:
        rc = es_on_read(&m->c, room + 1 + x);
        want = flags_done || m->held ? EH_ERR_STATE : EH_ERR_NOSPACE;
        break;
    case 2:
        rc = es_passthrough(&m->c, scratch, x % 64, x % 64 + 1);
        want = flags_done || m->held || es_pending(&m->c) ? EH_ERR_STATE : EH_ERR_INVAL;
        break;
    case 3:
        rc = es_on_written(&m->c, es_pending(&m->c) + 1 + x);
        want = EH_ERR_NOSPACE;
        break;
    case 4:
        rc = es_on_held_written(&m->c, (size_t)m->held + 1 + x);
        want = EH_ERR_NOSPACE;
        break;
    case 5: { /* cap 0; or a cap above the attached storage (allowed while none is) */
        uint32_t old = m->c.cap;
        size_t big = sizeof storage + 1 + x;
        want = x & 1 || es_has_storage(&m->c) ? EH_ERR_INVAL : 0;
        rc = es_set_cap(&m->c, x & 1 ? 0 : big);
        if (rc == 0 && (m->c.cap != big || es_set_cap(&m->c, old) != 0))
            fail("cap above the storage size not applied or not undone", m, m->out, 0, 1);
        break;
    }
    case 6: /* attach NULL or too small storage; attach twice */
        if (x & 1) {
            want = EH_ERR_INVAL;
            rc = es_attach(&m->c, x & 2 ? NULL : storage, x & 2 ? sizeof storage : m->c.cap - 1);
        } else {
            want = es_has_storage(&m->c) ? EH_ERR_STATE : 0;
            rc = es_attach(&m->c, storage, sizeof storage);
            /* Attached while nothing waits: hand it back as the glue's pool would. */
            if (rc == 0 && es_pending(&m->c) == 0 && es_detach(&m->c) != storage)
                fail("detach of an empty ring", m, m->out, 1, 0);
        }
        break;
    default:
        if (es_want(&m->c) & ES_WANT_SHUT_WR)
            return;
        rc = es_on_shut_wr(&m->c);
        want = EH_ERR_STATE;
        break;
    }
    if (rc != want)
        fail("contract refusal", m, kind % 8, (unsigned)-want, (unsigned)-rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct model m;
    size_t cap;
    int direct_bias, extended;

    if (size < 8)
        return 0;
    fuzz_pattern_init(table, PERIOD);
    cap = 1 + (((size_t)data[0] << 8 | data[1]) * 37u) % MAX_CAP;
    memset(&m, 0, sizeof m);
    m.seed = data[2];
    direct_bias = data[3] & 1;
    extended = data[4] & 1;
    /* es_init clamps: 0 is the default cap, anything above UINT32_MAX is UINT32_MAX. */
    es_init(&m.c, 0);
    if (m.c.cap != ES_DEFAULT_CAP)
        fail("cap 0 not the default", &m, 0, (unsigned)ES_DEFAULT_CAP, m.c.cap);
    es_init(&m.c, (size_t)-1);
    if (m.c.cap != UINT32_MAX)
        fail("cap not clamped", &m, 0, UINT32_MAX, m.c.cap);
    es_init(&m.c, cap);
    data += 8, size -= 8;

    for (unsigned ops = 0; size >= 3 && ops < MAX_OPS; ops++, data += 3, size -= 3) {
        /* Sizes stay small (cheap executions) unless the op asks for a large one, which
         * reaches the 64 KiB edges and the cap. */
        size_t arg = (size_t)data[1] << 8 | data[2];
        size_t len = (data[0] & 0x40) ? arg * 2 + (data[0] >> 7) : arg & 0x3ff;
        switch (extended ? data[0] % 8 : data[0] % 5) {
        case 0: op_send(&m, len, data[0] >> 3, direct_bias ^ (data[0] >> 7)); break;
        case 1: op_write(&m, len); break;
        case 2:
            if (data[0] & 0x80)
                es_on_eof(&m.c), m.eof = 1;
            else
                op_write(&m, 1);
            break;
        case 3: {
            /* Storage is MAX_CAP long, so a cap change is refused exactly when below pending. */
            size_t ncap = 1 + (arg * 41u) % MAX_CAP;
            int rc = es_set_cap(&m.c, ncap);
            if (rc == 0 && m.c.cap != ncap)
                fail("cap not applied", &m, m.out, (unsigned)ncap, m.c.cap);
            if ((rc != 0) != (ncap < es_pending(&m.c) + m.held))
                fail("cap decision", &m, m.out, (unsigned)ncap, (unsigned)es_pending(&m.c));
            break;
        }
        case 5: op_hold(&m, len); break;
        case 6: op_abuse(&m, data[1], data[2]); break;
        case 7: op_write(&m, len); break;
        default: op_send(&m, data[2] & 7, data[1], 1); break;
        }
        check_invariants(&m);
    }

    if (m.failed) {
        /* A failed connection: no shutdown, only close; the storage comes back. */
        if (es_on_shut_wr(&m.c) != EH_ERR_STATE || es_want(&m.c) != ES_WANT_CLOSE)
            fail("failed connection shuts down", &m, m.out, ES_WANT_CLOSE, es_want(&m.c));
        if (es_has_storage(&m.c) && es_detach(&m.c) != storage)
            fail("storage of a failed connection not returned", &m, m.out, 1, 0);
        return 0;
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
