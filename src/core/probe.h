/*
 * probe.h - echo-bench's UDP datagrams: each one of at least PB_HEADER bytes carries its
 * socket's number and a sequence number (little-endian), then the pattern table's bytes at a
 * position fixed by both, so every reply can be matched to the datagram it answers and checked
 * byte by byte: a reply from another socket's stream, a truncated or extended one, or one with
 * a changed byte is wrong, with the offset of the first bad byte. Shorter datagrams (down to
 * 0 bytes, as RFC 768 allows) hold just the socket's first table bytes and are matched in
 * order.
 *
 * Pure: the caller owns every buffer; the table is core/ptable's.
 */
#ifndef EH_CORE_PROBE_H
#define EH_CORE_PROBE_H

#include <stddef.h>
#include <stdint.h>

#define PB_HEADER 12u /* u32 socket, u64 sequence */

enum pb_verdict {
    PB_OK = 0,     /* the datagram of (id, *seq), intact */
    PB_LENGTH,     /* not the datagram's length (truncated, extended, merged) */
    PB_FOREIGN,    /* carries another socket's number */
    PB_CHANGED     /* right length and socket, a byte differs at *bad */
};

/* Where datagram seq of the stream starting at table position start takes its body. */
uint32_t pb_pos(uint32_t start, uint64_t seq, size_t size);

/* Writes datagram seq of socket id (size bytes) into out[0..size). */
void pb_encode(uint8_t *out, size_t size, const uint8_t *table, uint32_t start, uint32_t id,
               uint64_t seq);

/* Reads the header of datagram p[0..n): the socket number into *id and the sequence number
 * into *seq. Returns 0, or -1 when n < PB_HEADER (short datagrams carry none). */
int pb_header(const uint8_t *p, size_t n, uint32_t *id, uint64_t *seq);

/* Checks reply p[0..n) against socket id's datagrams of size bytes. *seq gets the sequence
 * number it carries: for PB_OK and PB_CHANGED, and for PB_LENGTH when both the reply and the
 * datagrams are at least PB_HEADER bytes and the socket number is id's; 0 otherwise (short
 * datagrams carry none). *bad gets the offset of the first differing byte for PB_CHANGED.
 * Returns an enum pb_verdict. */
int pb_check(const uint8_t *p, size_t n, size_t size, const uint8_t *table, uint32_t start,
             uint32_t id, uint64_t *seq, size_t *bad);

#endif
