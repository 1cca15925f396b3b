/*
 * fuzz.h - echo-conform's network fuzzer: runs action sequences (core/fuzzseq.h) against a
 * live echo server over real sockets and checks every echo with the conformance oracle
 * (core/verdict.h: byte-exact and in order per TCP connection; each datagram answered by
 * exactly one equal datagram from the service's port), then shrinks a failing sequence
 * (core/ddmin.h) and saves it as a reproducer file (core/fuzzfile.h).
 *
 * The pure parts (generator, file format, shrinker) are in the core; this is the socket
 * glue and the run loop. Every wait is a poll() bounded by the progress timeout and the run's
 * deadline; a pacer keeps the actions under the rate the user set, shrinking included.
 */
#ifndef EH_APP_CONFORM_FUZZ_H
#define EH_APP_CONFORM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conform/harness.h"
#include "core/fuzzseq.h"

/* How a sequence ended. The kinds say what the server did wrong, so the shrinker can keep
 * only candidates that fail the same way. */
enum cz_kind {
    CZ_PASS = 0,
    CZ_CONNECT,     /* a connection was refused or timed out */
    CZ_MISMATCH,    /* an echoed byte differs from the one sent */
    CZ_EXTRA,       /* bytes beyond those sent (or before they were sent) */
    CZ_CLOSED,      /* the server closed (FIN) a connection the client kept open */
    CZ_SHORT_EOF,   /* after the client's half-close, EOF before the whole echo */
    CZ_RESET,       /* the server reset a connection (RST) or a socket error broke it */
    CZ_STALL,       /* the echo stopped short (or writes stalled) for the whole timeout */
    CZ_NO_EOF,      /* after the client's half-close and the whole echo, no EOF in time */
    CZ_UDP_WRONG,   /* a reply that is not exactly one sent datagram, or one too many */
    CZ_UDP_SOURCE,  /* a reply from another port than the service's */
    CZ_UDP_MISSING, /* a datagram unanswered after every retry (lost, or ignored) */
    CZ_CUT,         /* the run's deadline cut the sequence short (not a verdict) */
    CZ_LOCAL,       /* a local error (socket(), out of memory): not the server's doing */
    CZ__KIND_COUNT
};

/* Keeps actions at least 1/rate seconds apart (rate 0: no limit), across sequences. */
struct cz_pacer {
    double rate;
    long long next_us; /* monotonic time the next action may start */
};

struct cz_limits {
    int timeout_ms;         /* longest wait without progress */
    int udp_retries;        /* resends of an unanswered datagram before it counts missing */
    long long deadline_ms;  /* monotonic: no wait goes past it (the sequence is then CUT) */
    int allow_loss;         /* unanswered datagrams are counted (lost), not a failure */
    struct cz_pacer *pace;
};

struct cz_result {
    int kind;            /* enum cz_kind */
    size_t action;       /* index of the action being run when it failed (count: at the end) */
    char msg[480];       /* one line: what went wrong */
    size_t done;         /* actions run */
    uint64_t tcp_bytes;  /* bytes echoed back over TCP */
    uint64_t dgrams;     /* datagrams answered */
    uint64_t lost;       /* datagrams unanswered after every retry (allow_loss only) */
    long long ms;
};

/* Runs s against t (its tcp and/or udp address, as the actions need). Returns 0 with *r
 * filled (r->kind says pass, failure, cut or local error). */
int cz_exec(const struct ct_target *t, const struct fq_seq *s, const struct cz_limits *l,
            struct cz_result *r);

/* A short name of a kind ("echo differs", "closed early", ...). Static string. */
const char *cz_kind_name(int kind);

/* One action as its reproducer line ("write 0 1500"), into buf. Returns buf. */
const char *cz_action_text(const struct fq_action *a, char *buf, size_t size);

/* ---- The run -------------------------------------------------------------------------- */

enum cz_format { CZ_TEXT = 0, CZ_TAP, CZ_JSON };

struct cz_opts {
    const char *replay;     /* replay this file instead of fuzzing ... */
    const struct fq_seq *replay_seq; /* ... loaded with cz_load() */
    const char *save;       /* where to write the reproducer (NULL: echofuzz-SEED.txt) */
    int dry_run;            /* print the generated sequences, touch no socket */
    uint64_t seed;
    unsigned long count;    /* sequences */
    long long max_time_ms;  /* the fuzzing part of the run */
    long long shrink_ms;    /* time for shrinking */
    unsigned shrink_runs;   /* most candidate runs when shrinking */
    double rate;            /* actions per second, 0: no limit */
    int timeout_ms, udp_retries;
    int allow_loss;         /* --allow-loss: see struct cz_limits */
    struct fq_gen gen;
    int format;             /* enum cz_format */
    int verbose, quiet;
    FILE *out;
    const char *version;
};

/* Exit statuses of fuzz and replay runs. */
enum { CZ_EXIT_PASS = 0, CZ_EXIT_FAIL = 1, CZ_EXIT_USAGE = 2, CZ_EXIT_BADFILE = 3 };

/* Reads and parses reproducer file path into *s. Returns 0, or CZ_EXIT_BADFILE after one
 * line on stderr ("echo-conform: FILE:LINE: what is wrong"). */
int cz_load(const char *path, struct fq_seq *s);

/* Fuzzes (or replays o->replay_seq against, or prints sequences for) target t. Returns the exit
 * status; one-line errors go to stderr. */
int cz_run(const struct cz_opts *o, const struct ct_target *t);

#endif
