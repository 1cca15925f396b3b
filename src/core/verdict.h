/*
 * verdict.h - the conformance verdicts of echo-conform: a stream verifier for TCP echoes and a
 * datagram matcher for UDP replies, plus the deterministic payload pattern both check against.
 *
 * RFC 862 gives a perfect oracle: over TCP every byte sent comes back in order until the
 * client ends the connection (RFC 9293 carries it as one ordered stream, in pieces of any
 * size); over UDP each datagram's data comes back in one answering datagram (RFC 768 keeps
 * datagram boundaries). The verifier consumes received chunks of any size and reports the
 * first wrong byte, extra bytes or a short echo; the matcher classifies each reply against
 * the datagrams sent. Neither does I/O, keeps time or allocates: the caller owns all memory.
 */
#ifndef EH_CORE_VERDICT_H
#define EH_CORE_VERDICT_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

/* ---- Payload pattern ------------------------------------------------------------------ */

/* The byte at offset off of the pattern stream for seed: a counter-based generator
 * (splitmix64 of seed and off / 8), so any offset is computed without keeping a buffer and a
 * run with the same seed sends the same bytes. */
uint8_t cv_pattern_byte(uint64_t seed, uint64_t off);

/* Writes pattern bytes [off, off + n) of seed into out[0..n). */
void cv_pattern_fill(uint64_t seed, uint64_t off, uint8_t *out, size_t n);

/* Derives an independent seed for sub-stream k (a client, a datagram) from seed. */
uint64_t cv_seed_derive(uint64_t seed, uint64_t k);

/* ---- Wording -------------------------------------------------------------------------- */

/* "" for 1, "s" otherwise: "1 byte", "2 bytes". Static string. */
const char *cv_plural(uint64_t n);

/* The indefinite article for the number n as English reads it: "an" for 8, 11, 18, 80-89,
 * 800-899 and their thousands (an 8193-byte datagram), "a" otherwise. Static string. */
const char *cv_article(uint64_t n);

/* ---- Stream verifier ------------------------------------------------------------------ */

enum cv_status {
    CV_MORE = 0,  /* consistent so far, more bytes expected */
    CV_DONE,      /* exactly the expected bytes arrived (extra bytes would turn it CV_EXTRA) */
    CV_MISMATCH,  /* a byte differs from the expected one: see bad_off, want, got */
    CV_EXTRA      /* all expected bytes arrived and more followed: see extra, extra_first */
};

/* Verifies one echoed byte stream. The expected bytes are either the pattern stream of a seed
 * or a caller buffer (borrowed until the verifier is no longer used). */
struct cv_stream {
    const uint8_t *want; /* NULL: the pattern of seed */
    uint64_t seed;
    uint64_t total;      /* expected length */
    uint64_t got;        /* bytes matched so far */
    uint64_t extra;      /* bytes received beyond total */
    uint64_t bad_off;    /* offset of the first wrong byte (CV_MISMATCH) */
    uint8_t bad_want, bad_got;
    uint8_t extra_first; /* first extra byte (CV_EXTRA) */
    uint8_t status;      /* enum cv_status */
};

/* Expects total bytes of the pattern of seed. Cannot fail; total 0 is CV_DONE at once. */
void cv_stream_init_pattern(struct cv_stream *v, uint64_t seed, uint64_t total);

/* Expects want[0..n) (borrowed). Cannot fail. */
void cv_stream_init_buf(struct cv_stream *v, const uint8_t *want, size_t n);

/* Expects n more bytes at the end of the stream (a pattern stream continues at its next
 * offset; a buffer stream must have been given room for them): the caller sent them. A DONE
 * stream becomes MORE again; MISMATCH and EXTRA stay (bytes that came before they were sent
 * were extra when they came). Cannot fail. */
void cv_stream_extend(struct cv_stream *v, uint64_t n);

/* Feeds received bytes p[0..n) (p may be NULL when n is 0). Every byte is accounted for:
 * matched, counted as extra past the end, or stopping at the first mismatch (bytes after a
 * mismatch are ignored). Returns the status after feeding (enum cv_status). */
int cv_stream_feed(struct cv_stream *v, const uint8_t *p, size_t n);

/* The status when the stream ended (EOF or the wait was given up): CV_MORE then means short.
 * Returns v->status. */
static inline int cv_stream_status(const struct cv_stream *v) { return v->status; }

/* Describes the verifier's state in one line for a report ("all 1024 bytes echoed",
 * "byte 1023 differs: expected 0x41, got 0x00", "short: 1000 of 1024 bytes, then nothing",
 * "4 bytes beyond the 1024 expected, the first 0x0a") into buf[0..size), always
 * NUL-terminated when size > 0. Returns buf. */
const char *cv_stream_describe(const struct cv_stream *v, char *buf, size_t size);

/* ---- Datagram matcher ----------------------------------------------------------------- */

enum cv_dkind {
    CV_D_MATCH = 0,  /* exactly one sent datagram, answered no more often than it was sent */
    CV_D_DUPLICATE,  /* exactly a sent datagram, but more replies than sends */
    CV_D_TRUNCATED,  /* a proper prefix of a sent datagram: cut to n bytes */
    CV_D_SPLIT,      /* a piece of a sent datagram that is not its prefix */
    CV_D_MERGED,     /* a sent datagram followed by the start of another one */
    CV_D_ALTERED,    /* same length as a sent datagram, bytes differ (or it was extended) */
    CV_D_FOREIGN,    /* matches nothing that was sent */
    CV_D_LATE,       /* exactly a sent datagram the caller had already given up on */
    CV__D_COUNT
};

/* One datagram sent. p borrows the caller's payload for the matcher's lifetime. */
struct cv_dslot {
    const uint8_t *p;
    size_t n;
    uint32_t sends;   /* times sent (retries send the same bytes again) */
    uint32_t replies; /* exact replies seen */
    uint8_t expired;  /* the caller gave up waiting: a reply now is late */
};

struct cv_dmatch {
    struct cv_dslot *slots; /* caller storage */
    size_t cap, count;
    uint32_t kinds[CV__D_COUNT]; /* replies seen of each kind */
};

/* The classification of one reply. */
struct cv_dresult {
    uint8_t kind;   /* enum cv_dkind */
    size_t index;   /* the slot it belongs to (not for CV_D_FOREIGN) */
    size_t n;       /* reply length */
    size_t bad_off; /* CV_D_ALTERED: first differing byte; CV_D_SPLIT: offset of the piece */
    size_t other;   /* CV_D_MERGED: the slot whose start follows */
};

/* Starts a matcher over slots[0..cap) (caller-owned). Cannot fail. */
void cv_dmatch_init(struct cv_dmatch *m, struct cv_dslot *slots, size_t cap);

/* Registers a datagram p[0..n) (borrowed) as sent once; *index gets its slot. Returns 0 or
 * EH_ERR_NOSPACE when every slot is taken. */
int cv_dmatch_add(struct cv_dmatch *m, const uint8_t *p, size_t n, size_t *index);

/* Records that slot index was sent once more (a retry). Returns 0 or EH_ERR_INVAL. */
int cv_dmatch_resend(struct cv_dmatch *m, size_t index);

/* Marks slot index as given up on: a later exact reply is CV_D_LATE. Returns 0 or
 * EH_ERR_INVAL. */
int cv_dmatch_expire(struct cv_dmatch *m, size_t index);

/* Classifies reply p[0..n) (p may be NULL when n is 0) and counts it. An exact reply goes to
 * an unanswered slot with equal bytes first, so identical datagrams sent twice are not
 * duplicates. Fills *out; returns 0, or EH_ERR_INVAL for a NULL out. */
int cv_dmatch_reply(struct cv_dmatch *m, const uint8_t *p, size_t n, struct cv_dresult *out);

/* Number of slots with no exact reply yet. */
size_t cv_dmatch_unanswered(const struct cv_dmatch *m);

/* Number of slots answered more often than they were sent (RFC 862: one answering datagram
 * per datagram; replies to retries are not excess). *first (when not NULL) gets the lowest
 * such slot, untouched when there is none. */
size_t cv_dmatch_excess(const struct cv_dmatch *m, size_t *first);

/* A short name for a kind ("match", "duplicate", "truncated", "split", "merged", "altered",
 * "foreign", "late"); "?" for an unknown value. */
const char *cv_dkind_name(int kind);

/* Describes one reply in a sentence ("datagram 3 (1025 bytes) came back truncated to 1024
 * bytes") into buf[0..size), NUL-terminated when size > 0. Returns buf. */
const char *cv_dresult_describe(const struct cv_dmatch *m, const struct cv_dresult *r, char *buf,
                                size_t size);

/* ---- Reply source --------------------------------------------------------------------- */

/* Where a UDP reply came from, compared with where its request went. RFC 862's service is at
 * the port: a reply from another port is no answer (a connected client drops it), a MUST
 * failure. A reply from the right port but another local address (a multi-homed or
 * wildcard-bound server) breaks only RFC 1122 3.3.4.2, a SHOULD; its bytes are still the echo. */
enum cv_source {
    CV_SRC_SAME = 0,   /* the address and port the request went to */
    CV_SRC_OTHER_ADDR, /* the right port, another address (or address family) */
    CV_SRC_OTHER_PORT  /* another port, or an unknown source (family EA_NONE) */
};

/* Classifies reply source from against request destination to. An IPv6 scope id counts only
 * when both have one. */
int cv_source_kind(const struct ea_addr *to, const struct ea_addr *from);

/* "same", "other address", "other port" ("?" otherwise). Static string. */
const char *cv_source_name(int kind);

#endif
