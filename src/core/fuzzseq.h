/*
 * fuzzseq.h - the action sequences of echo-conform's network fuzzer: what a client does to an
 * echo server (connect, write n bytes, half-close, close, reset, pause, send a datagram), a
 * generator that derives a whole sequence from one 64-bit seed, and a normalizer that drops
 * actions which would do nothing (a write on a slot that is not connected, say).
 *
 * Every action is meaningful in any state: the executor (src/app/conform/fuzz_exec.c) treats
 * an action that does not fit the slot's state as a no-op, so any subsequence of a sequence is
 * itself a sequence, which is what the shrinker (core/ddmin.h) needs. The payload bytes are
 * not stored: connection slot s sends the pattern stream of fq_tcp_seed(seed, s) from offset
 * 0, UDP socket slot u the pattern of fq_udp_seed(seed, u) at its running offset (see
 * core/verdict.h), so a sequence is a few bytes per action and replays the same bytes. No I/O,
 * no clock, no allocation.
 */
#ifndef EH_CORE_FUZZSEQ_H
#define EH_CORE_FUZZSEQ_H

#include <stddef.h>
#include <stdint.h>

#define FQ_MAX_ACTIONS 256 /* actions in one sequence */
#define FQ_TCP_SLOTS 4     /* TCP connections open at once: slots 0..3 */
#define FQ_UDP_SLOTS 2     /* UDP sockets: slots 0..1 */
#define FQ_MAX_WRITE (16u << 20) /* largest write (bytes) */
#define FQ_MAX_DGRAM 65507u      /* largest datagram: IPv4's UDP payload limit */
#define FQ_MAX_PAUSE 10000u      /* longest pause (ms) */

enum fq_op {
    FQ_CONNECT = 0, /* open TCP connection slot (no-op when the slot is in use) */
    FQ_WRITE,       /* write n bytes on an open connection (its echo is read meanwhile) */
    FQ_SHUT,        /* half-close (SHUT_WR): the server must echo the rest, then close */
    FQ_CLOSE,       /* wait for the whole echo (and EOF after SHUT), then close() */
    FQ_RESET,       /* abortive close (RST); bytes still in flight are not checked */
    FQ_PAUSE,       /* n ms without sending; echoes are read and checked meanwhile */
    FQ_SEND,        /* one datagram of n bytes (0 allowed) on UDP socket slot */
    FQ__OP_COUNT
};

struct fq_action {
    uint8_t op;   /* enum fq_op */
    uint8_t slot; /* TCP slot (< FQ_TCP_SLOTS) or UDP slot (< FQ_UDP_SLOTS); 0 for PAUSE */
    uint32_t n;   /* bytes (WRITE, SEND) or ms (PAUSE); 0 for the others */
};

/* A sequence: plain data the caller embeds (about 2 KiB). */
struct fq_seq {
    uint64_t seed; /* the payload seed (and, for a generated sequence, its generator seed) */
    size_t count;
    struct fq_action a[FQ_MAX_ACTIONS];
};

/* What the generator may produce. */
struct fq_gen {
    int tcp, udp;          /* which kinds of action (at least one) */
    size_t max_actions;    /* 1..FQ_MAX_ACTIONS: a sequence has max/4 + 1 .. max actions */
    uint32_t max_write;    /* largest write, 1..FQ_MAX_WRITE */
    uint32_t max_dgram;    /* largest datagram, 0..FQ_MAX_DGRAM */
    uint32_t max_pause_ms; /* longest pause, 0..FQ_MAX_PAUSE */
};

/* Sensible defaults: both transports, 40 actions, writes up to 128 KiB, datagrams up to
 * 65507 bytes, pauses up to 50 ms. */
void fq_gen_default(struct fq_gen *g);

/* Fills s with the sequence of seed under g: the same seed and g always give the same
 * sequence. Sizes are skewed small (most writes under 1500 bytes, some up to max_write; a
 * tenth of the datagrams are empty) and actions follow a model of the slots' states, so most
 * of them do something. Returns 0, or EH_ERR_INVAL when g is out of range. */
int fq_generate(struct fq_seq *s, uint64_t seed, const struct fq_gen *g);

/* Removes the actions the executor would treat as no-ops (connect on a slot in use; write,
 * shut on a slot not open; close, reset on a closed slot; shut twice; writes of 0 bytes;
 * pauses of 0 ms), keeping the order of the rest. Idempotent. */
void fq_normalize(struct fq_seq *s);

/* For core/ddmin only: appends to dst the actions of src[0..n) that fq_normalize keeps,
 * starting from the slots' states given (0: all closed), so a sequence can be normalized in
 * pieces while it is copied. dst may be src (in place) or any array that does not overlap
 * src past dst. Returns the actions written and the slots' states after them (returned, not
 * written through a pointer, so a caller's state stays in a register and not in a
 * sanitizer-checked stack frame). */
struct fq__norm {
    size_t count;
    unsigned state;
};
struct fq__norm fq__normalize_into(struct fq_action *dst, const struct fq_action *src, size_t n,
                                   unsigned state);

/* Whether a and b hold the same seed and actions. */
int fq_equal(const struct fq_seq *a, const struct fq_seq *b);

/* The keyword of an op in reproducer files and messages ("connect", "write", "shut", "close",
 * "reset", "pause", "send"); "?" for an unknown value. Static string. */
const char *fq_op_name(int op);

/* The pattern seed of TCP slot s (every connection in the slot starts at offset 0) and of
 * UDP slot u (datagrams continue the stream). */
uint64_t fq_tcp_seed(uint64_t seed, unsigned s);
uint64_t fq_udp_seed(uint64_t seed, unsigned u);

#endif
