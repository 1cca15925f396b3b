/*
 * run.c - the main thread of an echo-bench run (see run.h). Signals are blocked before the
 * workers start, so only this thread sees SIGINT and SIGTERM (sigtimedwait doubles as its
 * sleep); a signal moves every worker to BB_STOP and the report still comes out. Every wait
 * here is bounded: connecting by the workers' own --timeout, the measurement by its end time.
 */
#define _GNU_SOURCE
#include "bench/run.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/report.h"
#include "bench/uring.h"
#include "common/congestion.h"
#include "common/embedded.h"
#include "core/err.h"
#include "core/probe.h"
#include "core/ptable.h"
#include "net/sock.h"

uint64_t bb_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bb_fail(struct bb_stats *st, const char *fmt, ...)
{
    va_list ap;

    if (st->first_error[0])
        return;
    va_start(ap, fmt);
    vsnprintf(st->first_error, sizeof st->first_error, fmt, ap);
    va_end(ap);
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Raises the soft descriptor limit to the hard one, so 10,000 connections fit. */
static void raise_nofile(uint64_t conns)
{
    uint64_t want = conns + 64; /* and the worker's own: epoll, timers, pipes, stdio */
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t cur = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = cur;
    }
    /* Also when the limit was already at its ceiling: the connect errors to come need a
     * reason. */
    if (rl.rlim_cur < want)
        fprintf(stderr, "echo-bench: warning: %llu connections need about %llu descriptors, more "
                "than the limit of %llu\n", (unsigned long long)conns, (unsigned long long)want,
                (unsigned long long)rl.rlim_cur);
}

/* Sleeps until deadline (monotonic ns) or a blocked signal in set arrives. Returns the
 * signal, or 0. */
static int sleep_until(const sigset_t *set, uint64_t deadline)
{
    uint64_t now = bb_now_ns();
    struct timespec ts;
    int sig;

    if (now >= deadline)
        return 0;
    ts.tv_sec = (time_t)((deadline - now) / 1000000000u);
    ts.tv_nsec = (long)((deadline - now) % 1000000000u);
    sig = sigtimedwait(set, NULL, &ts);
    return sig > 0 ? sig : 0;
}

static uint64_t live_msgs(struct bb_worker *w, uint32_t n, uint64_t *bytes)
{
    uint64_t m = 0, b = 0;

    for (uint32_t i = 0; i < n; i++) {
        m += __atomic_load_n(&w[i].live_msgs, __ATOMIC_RELAXED);
        b += __atomic_load_n(&w[i].live_bytes, __ATOMIC_RELAXED);
    }
    *bytes = b;
    return m;
}

/* Resolves the target into cfg->addr; 0 or the exit status. */
static int resolve(struct bo_args *a, pid_t *echod)
{
    struct bb_cfg *c = &a->cfg;
    struct ea_endpoint ep;
    size_t count = 0;
    int rc;

    if (!a->target) {
        struct em_opts eo = {"echo-bench", a->echod, 0, !c->udp, c->udp, 0, NULL};
        static const char *const many[] = {"--max-conns", "1000000", NULL};
        /* The built-in server must hold what it is asked to hold. */
        if (c->conns > 4000)
            eo.extra = many;
        if (em_start(&eo, &c->addr, &c->addr, echod) < 0)
            return BO_EXIT_UNREACHABLE;
        ns_format(&c->addr, c->target, sizeof c->target);
        return 0;
    }
    rc = ea_parse(a->target, strlen(a->target), 0, &ep);
    if (rc) {
        fprintf(stderr, "echo-bench: bad target '%s': %s (HOST:PORT or [V6ADDR]:PORT)\n",
                a->target, eh_strerror(rc));
        return BO_EXIT_USAGE;
    }
    rc = ns_resolve(&ep, NS_FAMILY_ANY, c->udp ? SOCK_DGRAM : SOCK_STREAM, 0, &c->addr, 1,
                    &count);
    if (rc) {
        fprintf(stderr, "echo-bench: cannot resolve '%s': %s\n", a->target, ns_strerror(rc));
        return BO_EXIT_UNREACHABLE;
    }
    ns_format(&c->addr, c->target, sizeof c->target);
    return 0;
}

/* UDP: one datagram (of a socket number no worker uses) must come back within --timeout;
 * an ICMP port unreachable or silence is exit 3, not a run full of losses. */
static int preflight_udp(const struct bb_cfg *c, const uint8_t *table)
{
    uint8_t out[PB_HEADER], in[64];
    int fd = -1, rc, ms = (int)(c->timeout_ns / 1000000u ? c->timeout_ns / 1000000u : 1);
    uint64_t end = bb_now_ns() + c->timeout_ns, seq;
    size_t bad;

    rc = ns_connect(&c->addr, SOCK_DGRAM, NULL, ms, &fd);
    if (rc) {
        fprintf(stderr, "echo-bench: cannot open a UDP socket to %s: %s\n", c->target,
                ns_strerror(rc));
        return BO_EXIT_UNREACHABLE;
    }
    pb_encode(out, sizeof out, table, 0, UINT32_MAX, 0);
    for (int tries = 0; tries < 3; tries++) {
        uint64_t until = bb_now_ns() + c->timeout_ns / 3, now;
        if (send(fd, out, sizeof out, 0) < 0 && errno != ECONNREFUSED && errno != EAGAIN)
            break;
        while ((now = bb_now_ns()) < until && now < end) {
            ssize_t n;
            if (ns_wait(fd, POLLIN, (int)((until - now) / 1000000u) + 1) <= 0)
                continue;
            n = recv(fd, in, sizeof in, MSG_DONTWAIT);
            if (n < 0 && errno == ECONNREFUSED) {
                fprintf(stderr, "echo-bench: %s refused UDP datagrams (ICMP port unreachable)\n",
                        c->target);
                close(fd);
                return BO_EXIT_UNREACHABLE;
            }
            /* Any reply proves a server: whether it is right is the run's to judge. */
            if (n >= 0) {
                (void)pb_check(in, (size_t)n, sizeof out, table, 0, UINT32_MAX, &seq, &bad);
                close(fd);
                return 0;
            }
        }
    }
    close(fd);
    fprintf(stderr, "echo-bench: no reply from %s to a UDP datagram within %.1f s\n", c->target,
            (double)c->timeout_ns / 1e9);
    return BO_EXIT_UNREACHABLE;
}

/* One connection first, so an unreachable target is exit 3 and not thousands of errors. */
static int preflight(const struct bb_cfg *c, const uint8_t *table)
{
    int fd = -1, rc;

    if (c->udp)
        return preflight_udp(c, table);
    rc = ns_connect(&c->addr, SOCK_STREAM, NULL,
                    (int)(c->timeout_ns / 1000000u ? c->timeout_ns / 1000000u : 1), &fd);
    if (rc) {
        fprintf(stderr, "echo-bench: cannot connect to %s: %s\n", c->target, ns_strerror(rc));
        return BO_EXIT_UNREACHABLE;
    }
    close(fd);
    return 0;
}

static void progress(const struct bb_cfg *c, struct bb_worker *w, uint32_t n, uint64_t *last_m,
                     uint64_t *last_b, uint64_t *last_t, uint64_t m_ns, uint64_t e_ns)
{
    uint64_t b, m = live_msgs(w, n, &b), now = bb_now_ns();
    double dt = (double)(now - *last_t) / 1e9;

    if (dt <= 0)
        return;
    if (now < m_ns)
        fprintf(stderr, "\r\033[Kwarm-up %.0f s left:", (double)(m_ns - now) / 1e9);
    else
        fprintf(stderr, "\r\033[Kmeasuring %.0f of %g s:",
                (double)(now - m_ns) / 1e9, (double)(e_ns - m_ns) / 1e9);
    fprintf(stderr, " %.0f msgs/s, %.2f MB/s", (double)(m - *last_m) / dt,
            (double)(b - *last_b) / dt / 1e6);
    fflush(stderr);
    *last_m = m;
    *last_b = b;
    *last_t = now;
}

int br_run(struct bo_args *a)
{
    struct bb_cfg *c = &a->cfg;
    struct bb_shared sh;
    struct bb_worker *w = NULL;
    uint64_t *done = NULL;
    uint8_t *table = NULL;
    struct bp_result res;
    struct rusage ru0, ru1;
    sigset_t set;
    pid_t echod = 0;
    int status, sig = 0, started = 0, progress_on;
    uint32_t n = c->threads;

    /* io_uring serves the closed loop and the stream; rate and idle always run on epoll. */
    if (c->engine == BB_URING && (c->mode == BB_RATE || c->mode == BB_IDLE))
        c->engine = BB_EPOLL;
    /* The default: a closed loop where every worker has a single connection or socket runs
     * cheaper on epoll's blocking path (a send and a blocking receive per message) than on a
     * ring; everything else on the ring. */
    if (c->engine == BB_URING && !c->engine_set && c->mode == BB_CLOSED &&
        c->threads == c->conns)
        c->engine = BB_EPOLL;
    /* Streaming: epoll, which sends the table's pages by reference (vmsplice + splice, see
     * tcp.c) where the ring's sends copy them. */
    if (c->engine == BB_URING && !c->engine_set && c->mode == BB_STREAM)
        c->engine = BB_EPOLL;
#ifndef EH_HAVE_URING
    if (c->engine == BB_URING && !c->engine_set)
        c->engine = BB_EPOLL; /* built without liburing: epoll is the default */
#endif
    if (c->engine == BB_URING) {
        char why[128];
        if (bu_usable(why, sizeof why) != 0) {
            fprintf(stderr, "echo-bench: note: io_uring engine unavailable (%s), using epoll\n",
                    why);
            c->engine = BB_EPOLL;
        }
    }
    if (c->cc && cg_check("echo-bench", c->cc) < 0)
        return BO_EXIT_USAGE;
    status = resolve(a, &echod);
    if (status)
        return status;
    /* Streaming: reno to a loopback target, as echod does there (common/congestion.h). */
    if (c->mode == BB_STREAM && !c->udp)
        c->conn_cc = cg_choose(c->cc, &c->addr);
    table = malloc(PT_SIZE);
    w = calloc(n, sizeof *w);
    done = calloc(c->conns, sizeof *done);
    if (!table || !w || !done) {
        fprintf(stderr, "echo-bench: out of memory\n");
        status = BO_EXIT_FAIL;
        goto out;
    }
    pt_fill(table, c->seed);
    status = preflight(c, table);
    if (status)
        goto out;
    raise_nofile(c->conns);
    progress_on = !c->quiet && isatty(2);

    memset(&sh, 0, sizeof sh);
    sh.phase = BB_CONNECT;
    sh.measure_ns = sh.end_ns = UINT64_MAX;
    sh.connecting = n;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    memset(&ru0, 0, sizeof ru0);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t lo = (uint64_t)c->conns * i / n, hi = (uint64_t)c->conns * (i + 1) / n;
        w[i].cfg = c;
        w[i].sh = &sh;
        w[i].table = table;
        w[i].index = i;
        w[i].first = (uint32_t)lo;
        w[i].count = (uint32_t)(hi - lo);
        w[i].done = done + lo;
        hg_init(&w[i].st.hist);
        if (pthread_create(&w[i].thread, NULL, c->udp ? bb_udp_worker : bb_tcp_worker, &w[i])) {
            fprintf(stderr, "echo-bench: cannot start worker thread %u\n", i);
            __atomic_store_n(&sh.phase, BB_STOP, __ATOMIC_RELEASE);
            __atomic_fetch_sub(&sh.connecting, n - i, __ATOMIC_RELEASE);
            status = BO_EXIT_FAIL;
            break;
        }
        started++;
    }

    /* Connecting: the workers give up on each connection after --timeout. */
    while (!sig && __atomic_load_n(&sh.connecting, __ATOMIC_ACQUIRE) > 0)
        sig = sleep_until(&set, bb_now_ns() + 10000000u);

    if (!sig && c->mode == BB_IDLE) {
        uint64_t held = 0;
        for (uint32_t i = 0; i < n; i++)
            held += w[i].st.connected;
        printf("ready %llu\n", (unsigned long long)held);
        fflush(stdout);
        getrusage(RUSAGE_SELF, &ru0);
        sig = sleep_until(&set, bb_now_ns() + c->hold_ns);
        if (!sig) {
            __atomic_store_n(&sh.phase, BB_CHECK, __ATOMIC_RELEASE);
        }
    } else if (!sig && status == 0) {
        uint64_t t0 = bb_now_ns(), lm = 0, lb = 0, lt = t0, next;
        uint64_t m = t0 + c->warmup_ns, e = m + c->duration_ns;
        int measuring = 0;
        __atomic_store_n(&sh.measure_ns, m, __ATOMIC_RELEASE);
        __atomic_store_n(&sh.end_ns, e, __ATOMIC_RELEASE);
        __atomic_store_n(&sh.phase, BB_RUN, __ATOMIC_RELEASE);
        next = t0 + 1000000000u;
        for (;;) {
            uint64_t now = bb_now_ns(), until = e;
            if (!measuring && now >= m) {
                getrusage(RUSAGE_SELF, &ru0);
                measuring = 1;
            }
            if (now >= e)
                break;
            if (!measuring && m < until)
                until = m;
            if (progress_on && next < until)
                until = next;
            sig = sleep_until(&set, until);
            if (sig)
                break;
            if (progress_on && bb_now_ns() >= next) {
                progress(c, w, n, &lm, &lb, &lt, m, e);
                next += 1000000000u;
            }
        }
        if (!measuring)
            getrusage(RUSAGE_SELF, &ru0);
        if (progress_on)
            fprintf(stderr, "\r\033[K");
    }
    getrusage(RUSAGE_SELF, &ru1);
    if (sig || c->mode != BB_IDLE)
        __atomic_store_n(&sh.phase, BB_STOP, __ATOMIC_RELEASE);
    /* Idle check: the workers stop by themselves when every connection answered or failed
     * (each wait bounded by --timeout); a signal meanwhile stops them at once. */
    if (c->mode == BB_IDLE && !sig) {
        uint64_t deadline = bb_now_ns() + c->timeout_ns + 2000000000u;
        for (;;) {
            int alive = 0;
            for (int i = 0; i < started; i++)
                if (pthread_tryjoin_np(w[i].thread, NULL) == EBUSY)
                    alive = 1;
                else
                    w[i].thread = 0;
            if (!alive)
                break;
            sig = sleep_until(&set, bb_now_ns() + 10000000u);
            if (sig || bb_now_ns() > deadline) {
                __atomic_store_n(&sh.phase, BB_STOP, __ATOMIC_RELEASE);
                break;
            }
        }
        getrusage(RUSAGE_SELF, &ru1);
    }
    for (int i = 0; i < started; i++)
        if (w[i].thread)
            pthread_join(w[i].thread, NULL);

    bp_collect(&res, c, w, n, done, c->conns);
    res.interrupted = sig != 0;
    res.cpu_user_s = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime);
    res.cpu_sys_s = tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
    getrusage(RUSAGE_SELF, &ru1);
    res.cpu_total_s = tv_s(ru1.ru_utime) + tv_s(ru1.ru_stime);
    res.ok = status == 0 && !res.sum.mismatches && !res.sum.early_closes && !res.sum.stalls &&
             !res.sum.connect_errors && !res.sum.udp_wrong && !res.sum.udp_dup &&
             (c->mode != BB_IDLE || (res.sum.idle_answered == c->conns && !sig));
    for (uint32_t i = 0; i < n; i++)
        if (w[i].fatal)
            res.ok = 0;
    if (res.ok && c->mode != BB_IDLE && res.duration_s <= 0 && !sig) {
        /* No worker saw the measured interval: it began and ended while every worker was
         * busy elsewhere or the process was not running (stopped, a suspended machine). No
         * figure was measured, so the run proves nothing; it must not pass as "ok". */
        res.ok = 0;
        snprintf(res.sum.first_error, sizeof res.sum.first_error,
                 "nothing was measured: no worker got to the %.2f s measured interval before "
                 "it ended", (double)c->duration_ns / 1e9);
    }
    if (res.ok && c->mode != BB_IDLE && res.duration_s > 0 && !res.sum.msgs &&
        (c->udp ? res.sum.udp_sent > 0 || (c->mode == BB_CLOSED && res.sum.connected > 0)
                : c->mode != BB_RATE || c->rate * res.duration_s >= 2)) {
        /* Silence is no result: a server that echoes nothing must not pass. A UDP closed loop
         * whose datagrams all went unanswered sends nothing more until they count as lost
         * (min(--timeout, 1 s)), so a shorter measured interval sent nothing either: still
         * silence. */
        res.ok = 0;
        snprintf(res.sum.first_error, sizeof res.sum.first_error,
                 "no echo completed during the %.2f s measured%s%s%s", res.duration_s,
                 res.sum.first_unechoed[0] ? " (" : "", res.sum.first_unechoed,
                 res.sum.first_unechoed[0] ? ")" : "");
    }
    if (res.sum.first_error[0])
        fprintf(stderr, "echo-bench: %s\n", res.sum.first_error);
    if (res.sum.first_connect_error[0])
        fprintf(stderr, "echo-bench: %s (%llu connect errors)\n", res.sum.first_connect_error,
                (unsigned long long)res.sum.connect_errors);
    if (!c->quiet)
        bp_print(c->json ? stderr : stdout, &res);
    if (c->json)
        bp_json(stdout, &res);
    if (status == 0)
        status = res.ok ? BO_EXIT_OK : BO_EXIT_FAIL;
out:
    if (echod > 0)
        em_stop(echod);
    free(table);
    free(w);
    free(done);
    return status;
}
