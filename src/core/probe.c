/*
 * probe.c - encode and check echo-bench's UDP datagrams (see probe.h). The body of datagram
 * seq starts seq * size bytes into the socket's table stream, as if the datagrams were
 * consecutive pieces of one stream, so two datagrams of one socket differ in their bodies too.
 */
#include "core/probe.h"

#include <string.h>

#include "core/ptable.h"

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

uint32_t pb_pos(uint32_t start, uint64_t seq, size_t size)
{
    /* seq * size mod the period without overflow: both factors reduced first. */
    uint64_t s = seq % PT_PERIOD, z = (uint64_t)size % PT_PERIOD;

    return pt_advance(start, s * z);
}

void pb_encode(uint8_t *out, size_t size, const uint8_t *table, uint32_t start, uint32_t id,
               uint64_t seq)
{
    if (size < PB_HEADER) {
        pt_copy(table, start, out, size);
        return;
    }
    put32(out, id);
    put64(out + 4, seq);
    pt_copy(table, pb_pos(start, seq, size), out + PB_HEADER, size - PB_HEADER);
}

int pb_header(const uint8_t *p, size_t n, uint32_t *id, uint64_t *seq)
{
    if (n < PB_HEADER)
        return -1;
    *id = get32(p);
    *seq = get64(p + 4);
    return 0;
}

int pb_check(const uint8_t *p, size_t n, size_t size, const uint8_t *table, uint32_t start,
             uint32_t id, uint64_t *seq, size_t *bad)
{
    uint32_t pos;

    *seq = 0;
    if (n != size) {
        /* A cut or extended reply still tells which datagram it answers, when it can. */
        if (n >= PB_HEADER && size >= PB_HEADER && get32(p) == id)
            *seq = get64(p + 4);
        return PB_LENGTH;
    }
    if (size < PB_HEADER) {
        pos = start;
        if (pt_check(table, &pos, p, n, bad))
            return PB_CHANGED;
        return PB_OK;
    }
    if (get32(p) != id)
        return PB_FOREIGN;
    *seq = get64(p + 4);
    pos = pb_pos(start, *seq, size);
    if (pt_check(table, &pos, p + PB_HEADER, n - PB_HEADER, bad)) {
        *bad += PB_HEADER;
        return PB_CHANGED;
    }
    return PB_OK;
}
