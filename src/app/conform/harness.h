/*
 * harness.h - what every echo-conform case runner shares: the case context (target, seed,
 * deadlines, result, wire log), the TCP transfer engine and the UDP exchange helpers.
 *
 * A runner gets a context, talks to the target through these helpers and leaves a verdict in
 * it (pass, fail with expected / seen / where, skip, or INFO figures). Every wait is a poll()
 * bounded by the case's deadlines, so a dead or slow server fails its case and the run goes
 * on. The verdict logic itself (what counts as a correct echo) is in core/verdict.h.
 */
#ifndef EH_APP_CONFORM_HARNESS_H
#define EH_APP_CONFORM_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/catalog.h"
#include "core/verdict.h"

enum ct_status { CT_PASS = 0, CT_FAIL, CT_SKIP, CT_XFAIL, CT_XPASS };

#define CT_WIRE_HEAD 20 /* first entries kept */
#define CT_WIRE_TAIL 20 /* last entries kept */
#define CT_WIRE_BYTES 32 /* bytes of each chunk kept */

enum ct_dir { CT_SENT = 0, CT_RECV, CT_EVENT };

struct ct_wire_entry {
    uint32_t t_ms;   /* since the case started */
    uint8_t dir;     /* enum ct_dir */
    uint16_t conn;   /* client connection or socket index within the case */
    uint32_t len;    /* chunk length (event: 0) */
    uint8_t keep;    /* bytes kept in head */
    uint8_t head[CT_WIRE_BYTES];
    char what[24];   /* event text ("EOF", "SHUT_WR", "RST", "ECONNREFUSED") */
};

struct ct_wire {
    struct ct_wire_entry first[CT_WIRE_HEAD], last[CT_WIRE_TAIL];
    size_t n_first, total; /* last[] is a ring of the entries after first[] */
};

/* A target: the addresses its TCP and UDP echo services are at. */
struct ct_target {
    char name[300];     /* as the user gave it, or the address when none was given */
    struct ea_addr tcp; /* family EA_NONE when not tested over TCP */
    struct ea_addr udp;
    int reachable;      /* preflight result */
};

/* What one target's run learned so far, so later cases explain a silent server better. */
struct ct_session {
    int tcp_dead;       /* tcp.roundtrip.single got no echo at all */
    int udp_dead;       /* udp.single got no reply at all */
    int udp_answered;   /* some UDP datagram was answered */
    char udp_why[400];  /* the diagnosis when udp_dead */
    const char *udp_last_ok; /* id of the last case in which a datagram was answered */
    long long run_deadline_ms; /* the whole run's cap */
    int cut_short;      /* a case was cut off or not run because the run's cap ran out */
    /* The idle pause, watched once per target by tcp.unsolicited.idle (MUST: unsolicited bytes,
     * no echo after it) and judged again by tcp.idle.pause (SHOULD: closed or reset). */
    int idle_done;      /* the pause was watched (the connection got that far) */
    int idle_closed;    /* the server closed or reset the idle connection: account below */
    char idle_msg[400], idle_expected[200], idle_seen[300], idle_where[200];
    /* The first reply from the right port but another address (RFC 1122 3.3.4.2, SHOULD),
     * seen by any UDP case: its bytes still count as the echo there; udp.source.addr judges
     * it, with this account. */
    int udp_other_addr;
    char addr_msg[400], addr_expected[200], addr_seen[300], addr_where[200];
};

/* One case's context and result. */
struct ct_ctx {
    const struct ct_target *t;
    const struct cc_case *c;
    struct ct_session *s;
    uint64_t seed;         /* this case's seed (derived from the run's seed and the id) */
    int timeout_ms;        /* --timeout: longest wait without progress */
    int verbose;
    long long start_ms;    /* monotonic */
    long long hard_ms;     /* absolute cap for this case */
    long long duration_ms;
    int status;            /* enum ct_status */
    char message[400];     /* one line: what went wrong, or the figures of an INFO case */
    char expected[200], seen[300], where[200];
    int detail_open;       /* the failure being described is the first one (ct_detail writes) */
    long long fail_ms;     /* monotonic time of the first failure (0: none) */
    struct ct_wire wire;
};

/* Monotonic milliseconds and microseconds. */
long long ct_now_ms(void);
long long ct_now_us(void);

/* Starts a context for case c on target t: clears the result, sets deadlines. */
void ct_begin(struct ct_ctx *x, const struct ct_target *t, const struct cc_case *c,
              struct ct_session *s, uint64_t run_seed, int timeout_ms);

/* Ends the case: computes the duration. */
void ct_end(struct ct_ctx *x);

/* Milliseconds left before the case's hard cap (>= 0). */
int ct_hard_left(const struct ct_ctx *x);

/* Sets the result to fail with a message (printf format) unless it already failed; the
 * first failure is the one reported. */
void ct_fail(struct ct_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets expected / seen / where (any may be NULL to leave it) of the failure just reported by
 * ct_fail(). After a ct_fail() that was ignored (the case had failed already) it does nothing,
 * so a later problem (another client's, say) never mixes into the first one's account. */
void ct_detail(struct ct_ctx *x, const char *expected, const char *seen, const char *where);
/* Takes a failure back: status pass, message and account empty (a case that decides the
 * problem belongs to another case). */
void ct_unfail(struct ct_ctx *x);
/* Sets the INFO figures or a pass note (keeps the status). */
void ct_note(struct ct_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ct_skip(struct ct_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records a chunk or an event in the wire log. */
void ct_log(struct ct_ctx *x, int dir, unsigned conn, const uint8_t *p, size_t n);
void ct_log_event(struct ct_ctx *x, unsigned conn, const char *what);

/* Calls f for each kept wire entry in order; *omitted gets how many were dropped between
 * the first and the last ones. */
typedef void (*ct_wire_fn)(const struct ct_wire_entry *e, void *arg);
void ct_wire_each(const struct ct_wire *w, ct_wire_fn f, void *arg, size_t *omitted);

/* Formats p[0..n) for a message: printable ASCII as is, others as \xNN, at most max input
 * bytes then "...". Returns buf. */
const char *ct_quote(const uint8_t *p, size_t n, size_t max, char *buf, size_t size);

/* ---- TCP ------------------------------------------------------------------------------ */

/* Connects to the target's TCP address within the timeout. Returns 0 and *fd (non-blocking),
 * or fails the case ("cannot connect to ...: Connection refused") and returns -errno. */
int ct_tcp_connect(struct ct_ctx *x, int *fd);

enum ct_after {
    CT_AFTER_NONE = 0, /* done when every byte is back */
    CT_AFTER_LINGER,   /* then watch linger_ms for bytes that should not come */
    CT_AFTER_EOF       /* then the server must close: EOF within the timeout */
};

/* One connection's transfer: write total bytes (from buf, or the pattern of seed), read the
 * echo concurrently and verify it. */
struct ct_xfer {
    int fd;
    const uint8_t *buf;  /* NULL: pattern of seed */
    uint64_t seed, total;
    size_t wchunk;       /* most bytes per write (0: 64 KiB) */
    int shut_wr;         /* shutdown(SHUT_WR) once everything is written */
    int after;           /* enum ct_after */
    int linger_ms;
    int stall_ms;        /* > 0: slow reader; do not read until writes stall this long */
    unsigned id;         /* number in messages ("client 7"); 0: position in the run + 1 */
    /* results */
    struct cv_stream v;
    uint64_t sent;
    int eof, err;        /* err: -errno of a failed read/write */
    int done;            /* finished (successfully or not) */
    uint64_t max_unread; /* most bytes written and not yet echoed back, at any moment */
    long long t_first_us, t_done_us;
};

/* Prepares x for fd. */
void ct_xfer_init(struct ct_xfer *t, int fd, const uint8_t *buf, uint64_t seed, uint64_t total);

/* Runs n transfers at once (interleaved by poll) until all are done or a wait without
 * progress exceeds the timeout. Fails the case on the first problem with a full account
 * (label names the connection in messages, e.g. "client"). Returns 0 when every transfer
 * verified, -1 otherwise. */
int ct_xfer_run(struct ct_ctx *x, struct ct_xfer *t, size_t n, const char *label);

/* Reads whatever arrives on fd within wait_ms (and the case's cap) into buf (up to cap).
 * Returns bytes (>= 0), with *eof set on EOF; -errno on error. */
long ct_tcp_peek(struct ct_ctx *x, int fd, int wait_ms, uint8_t *buf, size_t cap, int *eof);

/* Writes all of p[0..n) within the case's deadlines (non-blocking fd). Returns 0, -ETIMEDOUT
 * or -errno. */
int ct_tcp_write_all(struct ct_ctx *x, int fd, unsigned conn, const uint8_t *p, size_t n);

/* ---- UDP ------------------------------------------------------------------------------ */

/* An unconnected UDP socket of the target's family bound to an ephemeral port (or to
 * local_port when non-zero). Returns 0 and *fd, or -errno. */
int ct_udp_socket(struct ct_ctx *x, uint16_t local_port, int *fd);

/* Sends p[0..n) to the target. Returns 0 or -errno. */
int ct_udp_send(struct ct_ctx *x, int fd, unsigned conn, const uint8_t *p, size_t n);

/* Waits up to wait_ms for one datagram: 1 and *n (true length, even past cap), *from;
 * 0 on timeout; -errno. buf must hold 65536 bytes to see every datagram whole. A datagram
 * from another port than the target's UDP port fails the case (MUST; expected and seen
 * source in the account); one from the right port but another address is logged and kept in
 * the session for udp.source.addr (SHOULD). Either is still returned, so its bytes are
 * judged. */
int ct_udp_recv(struct ct_ctx *x, int fd, unsigned conn, int wait_ms, uint8_t *buf, size_t cap,
                size_t *n, struct ea_addr *from);

/* Sends datagram p[0..n) from a fresh socket and waits for the reply, resending after
 * 250, 500, 1000 ... ms within the timeout. The first reply is classified by a one-slot
 * matcher into *r (its bytes land in rbuf, 65536 bytes); linger_ms > 0 then watches for
 * more replies; exact replies beyond the tries (duplicates) are counted in *extra_replies
 * (rbuf is reused).
 * *from (when not NULL) gets the first reply's source. Returns 1 when a reply came, 0 when
 * none did (the case is failed with a diagnosis), -1 on a socket error (failed too). */
int ct_udp_roundtrip(struct ct_ctx *x, const uint8_t *p, size_t n, uint8_t *rbuf,
                     struct cv_dresult *r, int linger_ms, unsigned *extra_replies,
                     struct ea_addr *from);

/* Records that the target answered a datagram in this case. */
void ct_udp_answered(struct ct_ctx *x);

/* Whether a small datagram from a fresh ephemeral-port socket is still answered (two tries
 * of 300 ms); 1 when it cannot tell. Lets a case tell "refused on purpose" from "silent". */
int ct_udp_still_answers(struct ct_ctx *x);

/* Fails the case for a UDP exchange that got no reply at all, saying what can be told: an
 * ICMP port unreachable ("no UDP echo service here"), or silence (source filtering, or no
 * service), or that only this datagram is ignored when others were answered. */
void ct_udp_silence(struct ct_ctx *x, const char *what, int tries, long long waited_ms);

#endif
