/*
 * bench.h - what echo-bench's parts share: the run's configuration (from the command line),
 * the phases every worker thread follows, and the figures each worker collects. A worker owns
 * one epoll loop (net/loop) and a share of the connections or sockets; it touches nothing of
 * another worker's, and the main thread reads only the few counters published for the live
 * progress line (relaxed atomics) until the workers are joined.
 */
#ifndef EH_APP_BENCH_BENCH_H
#define EH_APP_BENCH_BENCH_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/hist.h"

enum bb_mode { BB_CLOSED = 0, BB_STREAM, BB_RATE, BB_IDLE };

/* How workers wait and move bytes: epoll (every mode) or io_uring (closed loop, stream). */
enum bb_engine { BB_EPOLL = 0, BB_URING };

struct bb_cfg {
    int udp;
    int mode;               /* enum bb_mode */
    uint32_t conns, threads, pipeline;
    uint64_t size, window;  /* bytes */
    uint64_t duration_ns, warmup_ns, hold_ns, timeout_ns;
    double rate;            /* messages per second in total (BB_RATE) */
    uint64_t seed;
    int json, quiet, progress;
    int engine;             /* enum bb_engine: what the run uses */
    int engine_set;         /* --engine given */
    int no_splice;          /* --no-splice: stream sends copy with send() */
    const char *cc;         /* --congestion as given (NULL: not given) */
    const char *conn_cc;    /* what connections set before connecting (NULL: the system's) */
    char target[EA_FORMAT_MAX];
    struct ea_addr addr;    /* resolved target */
};

/* Phases, published by the main thread (shared.phase) and followed by every worker. */
enum bb_phase {
    BB_CONNECT = 0, /* open the connections (traffic may start as each one connects) */
    BB_RUN,         /* warm-up until measure_ns, then measured until end_ns */
    BB_CHECK,       /* idle mode: every connection sends one message and waits for its echo */
    BB_STOP         /* finish now (end of run, Ctrl-C, a fatal error) */
};

struct bb_shared {
    int phase;             /* enum bb_phase, atomic */
    uint64_t measure_ns;   /* monotonic ns: warm-up ends (atomic; UINT64_MAX until known) */
    uint64_t end_ns;       /* monotonic ns: measurement ends (atomic) */
    uint32_t connecting;   /* workers still opening connections (atomic) */
    uint32_t checking;     /* idle mode: workers still checking (atomic) */
};

/* What one worker counted; the measured ones only between measure_ns and end_ns. */
struct bb_stats {
    uint64_t msgs, bytes;                    /* measured completions and echoed bytes */
    uint64_t t_begin_ns, t_end_ns;           /* this worker's measured interval */
    uint64_t connect_errors, early_closes, mismatches, stalls;
    uint64_t udp_sent, udp_received, udp_lost, udp_late, udp_wrong, udp_dup;
    uint64_t idle_held, idle_answered;
    uint64_t connected;
    uint64_t spliced;                        /* stream bytes sent by splice from a pipe */
    int teeing;                              /* a stream pipe was filled by tee */
    uint64_t multishot;                      /* io_uring: receives from multishot receives */
    char congestion[16];                     /* stream: a connection's congestion control */
    struct hg_hist hist;                     /* latencies, ns */
    char first_error[400];                   /* the first failure, with its offset */
    char first_connect_error[200];
    char first_unechoed[120];                /* TCP: a connection still owed echo at the end */
};

struct bb_worker {
    const struct bb_cfg *cfg;
    struct bb_shared *sh;
    const uint8_t *table;   /* core/ptable, PT_SIZE bytes, shared read-only */
    uint32_t index;
    uint32_t first, count;  /* its connections: global numbers first .. first+count-1 */
    uint64_t *done;         /* measured completions per connection, done[0..count) */
    pthread_t thread;
    int fatal;              /* the worker could not run (message in stats.first_error) */
    uint64_t live_msgs;     /* all completions so far, for the progress line (atomic) */
    uint64_t live_bytes;
    struct bb_stats st;
};

/* Monotonic nanoseconds. */
uint64_t bb_now_ns(void);

/* Records the first failure of a worker (printf format); later ones only count. */
void bb_fail(struct bb_stats *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Worker bodies (pthread start routines taking a struct bb_worker *). */
void *bb_tcp_worker(void *arg);
void *bb_udp_worker(void *arg);

#endif
