/*
 * echod - an RFC 862 echo server over TCP and UDP on the same port.
 *
 * This file holds options, wiring and messages only: the echo machine and the UDP policy
 * are in src/core, the event loop and socket glue in src/net. It binds 127.0.0.1:7007 unless
 * told otherwise; with port 0 it prints the ports it got ("listening tcp 127.0.0.1:40123"),
 * one line per socket, so scripts and tests can find it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/congestion.h"
#include "core/addr.h"
#include "core/dgram.h"
#include "core/err.h"
#include "net/loop.h"
#include "net/sock.h"
#include "net/tcp.h"
#include "net/udp.h"

#ifndef EH_VERSION
#define EH_VERSION "0"
#endif

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_LISTEN = 3 };

#define DEFAULT_PORT 7007
#define DEFAULT_MAX_CONNS 4096
#define DEFAULT_IDLE_S 300
#define MAX_LISTEN 8
#define MAX_ADDRS 4 /* addresses kept per resolved --listen name */
#define PORT0_RETRIES 8
#define MAX_WORKERS 256
#define MAX_BUSY_US 100000  /* --busy-poll: a tenth of a second at most */
#define DEFAULT_BUSY_US 200 /* --busy-poll: KVM's halt-polling cap on x86 */

static const char *prog = "echod";

struct opts {
    const char *listen[MAX_LISTEN];
    int n_listen;
    long port; /* -1: not given */
    size_t cap;
    uint32_t max_conns;
    uint32_t idle_s;
    uint32_t workers;
    uint32_t busy_us; /* --busy-poll: the polling cap in microseconds, 0: never poll */
    int tcp, udp, quiet, no_splice;
    const char *cc; /* --congestion NAME, "system", or NULL: the default rule */
    struct ed_policy pol;
    int deny_given;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: echod [options]\n"
            "An RFC 862 echo server: TCP and UDP on the same port, IPv4 and IPv6.\n"
            "\n"
            "  -l, --listen ADDR[:PORT]  listen on ADDR (repeatable; default 127.0.0.1;\n"
            "                            '*' means 0.0.0.0 and [::]; names are resolved)\n"
            "  -p, --port PORT           port for --listen without one (default %d;\n"
            "                            0 picks a free port, printed as\n"
            "                            'listening tcp 127.0.0.1:40123' on stdout)\n"
            "  -b, --buffer BYTES        per-connection buffer cap (default 65536)\n"
            "  -m, --max-conns N         connections served at once by each worker (default\n"
            "                            %d); more are accepted and closed at once\n"
            "  -t, --idle-timeout SECS   close connections idle this long (default %d, 0: never)\n"
            "      --deny-port PORT      never answer UDP from this source port (repeatable;\n"
            "                            replaces the default set 7,9,13,19,37; 0 is always\n"
            "                            refused)\n"
            "      --allow NET           serve only clients in these networks, over TCP and\n"
            "                            UDP (repeatable, e.g. 127.0.0.0/8, ::1)\n"
            "  -w, --workers N           event loops, one thread each (default 1, at most %d);\n"
            "                            with more than one, each has its own SO_REUSEPORT\n"
            "                            sockets, --max-conns slots and buffers, and the\n"
            "                            kernel spreads clients across them\n"
            "      --no-splice           echo bulk TCP streams by copying through user space\n"
            "                            instead of splice(2) through a pipe (to compare)\n"
            "      --congestion NAME     TCP congestion control of the connections served\n"
            "                            (default: reno on loopback addresses, where pacing\n"
            "                            has nothing to pace, the system's elsewhere;\n"
            "                            'system': the system's everywhere)\n"
            "      --busy-poll USEC      when out of work, poll up to USEC microseconds (at\n"
            "                            most %d) before sleeping; the window adapts: it\n"
            "                            opens while events come less than USEC apart and\n"
            "                            closes when they come further apart, and polling\n"
            "                            stops when another task wants the CPU (default\n"
            "                            %d; 0: never poll, always sleep)\n"
            "      --tcp-only            serve TCP only\n"
            "      --udp-only            serve UDP only\n"
            "  -q, --quiet               no listening lines (unless the port is 0) and no\n"
            "                            summary on exit\n"
            "  -h, --help                show this help\n"
            "  -V, --version             show the version\n"
            "\n"
            "SIGINT or SIGTERM stop the server; it then prints a summary to stderr (with\n"
            "--workers, a line per worker first, then the totals).\n"
            "\n"
            "Exit status:\n"
            "  0  stopped by SIGINT or SIGTERM\n"
            "  1  runtime error\n"
            "  2  usage error (bad option or value)\n"
            "  3  cannot listen (bind failed or a name did not resolve)\n",
            DEFAULT_PORT, DEFAULT_MAX_CONNS, DEFAULT_IDLE_S, MAX_WORKERS, MAX_BUSY_US,
            DEFAULT_BUSY_US);
}

/* Parses a whole decimal number in [min, max]. Returns 0 or -1. */
static int parse_num(const char *s, unsigned long long min, unsigned long long max,
                     unsigned long long *out)
{
    unsigned long long v = 0;

    if (!*s)
        return -1;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (v > (max - (unsigned)(*p - '0')) / 10)
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v < min)
        return -1;
    *out = v;
    return 0;
}

static int bad(const char *opt, const char *arg, const char *why)
{
    fprintf(stderr, "%s: bad %s '%s': %s\n", prog, opt, arg, why);
    return -1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"port", required_argument, NULL, 'p'},
        {"buffer", required_argument, NULL, 'b'},
        {"max-conns", required_argument, NULL, 'm'},
        {"idle-timeout", required_argument, NULL, 't'},
        {"workers", required_argument, NULL, 'w'},
        {"no-splice", no_argument, NULL, 'S'},
        {"congestion", required_argument, NULL, 'C'},
        {"busy-poll", required_argument, NULL, 'B'},
        {"deny-port", required_argument, NULL, 'D'},
        {"allow", required_argument, NULL, 'A'},
        {"tcp-only", no_argument, NULL, 'T'},
        {"udp-only", no_argument, NULL, 'U'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    unsigned long long v;
    struct ea_net net;
    int c, rc;

    o->port = -1;
    o->cap = ES_DEFAULT_CAP;
    o->max_conns = DEFAULT_MAX_CONNS;
    o->idle_s = DEFAULT_IDLE_S;
    o->workers = 1;
    o->busy_us = DEFAULT_BUSY_US;
    o->tcp = o->udp = 1;
    ed_policy_default(&o->pol);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:p:b:m:t:w:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (o->n_listen >= MAX_LISTEN)
                return bad("--listen", optarg, "too many (at most 8)");
            o->listen[o->n_listen++] = optarg;
            break;
        case 'p':
            if (parse_num(optarg, 0, 65535, &v))
                return bad("--port", optarg, "not a port number (0..65535)");
            o->port = (long)v;
            break;
        case 'b':
            if (parse_num(optarg, 1, (unsigned long long)1 << 30, &v))
                return bad("--buffer", optarg, "not a size in bytes (1..1073741824)");
            o->cap = (size_t)v;
            break;
        case 'm':
            if (parse_num(optarg, 1, 1000000, &v))
                return bad("--max-conns", optarg, "not a count (1..1000000)");
            o->max_conns = (uint32_t)v;
            break;
        case 't':
            /* 30 days at most, so the milliseconds fit the loop's 32-bit field. */
            if (parse_num(optarg, 0, 30 * 86400, &v))
                return bad("--idle-timeout", optarg, "not a number of seconds (0..2592000)");
            o->idle_s = (uint32_t)v;
            break;
        case 'w':
            if (parse_num(optarg, 1, MAX_WORKERS, &v))
                return bad("--workers", optarg, "not a count (1..256)");
            o->workers = (uint32_t)v;
            break;
        case 'D':
            if (parse_num(optarg, 0, 65535, &v))
                return bad("--deny-port", optarg, "not a port number (0..65535)");
            if (!o->deny_given) {
                ed_policy_clear_deny(&o->pol);
                o->deny_given = 1;
            }
            if (ed_policy_deny(&o->pol, (uint16_t)v) != 0)
                return bad("--deny-port", optarg, "too many denied ports (at most 32)");
            break;
        case 'A':
            rc = ea_parse_net(optarg, strlen(optarg), &net);
            if (rc)
                return bad("--allow", optarg, eh_strerror(rc));
            if (ed_policy_allow(&o->pol, &net) != 0)
                return bad("--allow", optarg, "too many networks (at most 16)");
            break;
        case 'S':
            o->no_splice = 1;
            break;
        case 'C':
            if (!cg_name_ok(optarg))
                return bad("--congestion", optarg, "not a congestion control name");
            o->cc = optarg;
            break;
        case 'B':
            if (parse_num(optarg, 0, MAX_BUSY_US, &v))
                return bad("--busy-poll", optarg, "not a number of microseconds (0..100000)");
            o->busy_us = (uint32_t)v;
            break;
        case 'T':
            o->udp = 0;
            break;
        case 'U':
            o->tcp = 0;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_OK);
        case 'V':
            printf("echod %s\n", EH_VERSION);
            exit(EXIT_OK);
        case ':':
            fprintf(stderr, "%s: option '%s' needs an argument (see --help)\n", prog,
                    argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", prog, argv[optind]);
        return -1;
    }
    if (!o->tcp && !o->udp) {
        fprintf(stderr, "%s: --tcp-only and --udp-only exclude each other\n", prog);
        return -1;
    }
    return 0;
}

/* Parses one --listen text into *ep, applying the default port when none is given. A bare
 * number is a port on the default address. '*' stands for both wildcard addresses and is
 * expanded by the caller. */
static int parse_listen(const char *text, uint16_t port, struct ea_endpoint *ep)
{
    unsigned flags = EA_ALLOW_BARE_PORT | EA_ALLOW_PORT0;
    char buf[EA_TEXT_MAX + 16];
    int rc = ea_parse(text, strlen(text), flags, ep), rc2;

    if (rc != EH_ERR_ADDR_NO_PORT && rc != EH_ERR_ADDR_BARE_V6)
        return rc;
    /* No port: add the default one, in brackets for an IPv6 literal. */
    if (strchr(text, ':') && text[0] != '[')
        snprintf(buf, sizeof buf, "[%s]:%u", text, (unsigned)port);
    else
        snprintf(buf, sizeof buf, "%s:%u", text, (unsigned)port);
    rc2 = ea_parse(buf, strlen(buf), flags, ep);
    return rc2 ? rc : 0;
}

/* One event loop with its own sockets, connection slots and buffers. Worker 0 runs in the
 * main thread and catches the signals; the others run in threads of their own and stop
 * when the stop pipe (watched by stop_io) reaches EOF. Workers share nothing else. */
struct worker {
    struct nl_loop loop;
    struct nt_server tcp;
    struct nu_server udp;
    struct nl_io stop_io;
    pthread_t thread;
    int started; /* thread running (workers 1..N-1) */
    int run_rc;  /* what nl_run returned */
};

/* Several workers bind the same addresses, which needs SO_REUSEPORT on every socket. A TCP
 * listener gets its congestion control here (common/congestion.h); accepted connections
 * inherit it. Only a name the user gave must work. */
static int listen_sock(const struct opts *o, const struct ea_addr *a, int type, int *fd)
{
    const char *cc = type == SOCK_STREAM ? cg_choose(o->cc, a) : NULL;
    int rc = o->workers > 1 ? ns_listen_shared(a, type, 0, fd) : ns_listen(a, type, 0, fd);

    if (rc || !cc)
        return rc;
    rc = ns_set_congestion(*fd, cc);
    if (rc && o->cc) {
        close(*fd);
        *fd = -1;
        return rc;
    }
    return 0;
}

static void announce(const struct opts *o, const char *proto, int fd, int ephemeral)
{
    struct ea_addr a;
    char text[EA_FORMAT_MAX];

    if (o->quiet && !ephemeral)
        return;
    if (ns_local_addr(fd, &a) != 0)
        return;
    printf("listening %s %s\n", proto, ns_format(&a, text, sizeof text));
    fflush(stdout);
}

static int listen_fail(const struct ea_addr *a, int rc)
{
    char text[EA_FORMAT_MAX];

    fprintf(stderr, "%s: cannot listen on %s: %s\n", prog, ns_format(a, text, sizeof text),
            ns_strerror(rc));
    return -1;
}

/* Binds TCP and/or UDP on address a. With port 0, TCP gets an ephemeral port first and
 * UDP takes the same number; if another program holds that UDP port, both are retried. */
static int listen_on(struct worker *sv, const struct opts *o, struct ea_addr a)
{
    int ephemeral = a.port == 0;
    int tfd = -1, ufd = -1, rc = 0;

    for (int attempt = 0; attempt < PORT0_RETRIES; attempt++) {
        struct ea_addr b = a;

        tfd = ufd = -1;
        if (o->tcp) {
            rc = listen_sock(o, &b, SOCK_STREAM, &tfd);
            if (rc)
                return listen_fail(&b, rc);
            if (ephemeral && (rc = ns_local_addr(tfd, &b)) != 0) {
                close(tfd);
                return listen_fail(&a, rc);
            }
        }
        if (o->udp) {
            rc = listen_sock(o, &b, SOCK_DGRAM, &ufd);
            if (rc == -EADDRINUSE && ephemeral && o->tcp) {
                close(tfd);
                continue;
            }
            if (rc) {
                if (tfd >= 0)
                    close(tfd);
                return listen_fail(&b, rc);
            }
        }
        break;
    }
    if (rc) {
        fprintf(stderr, "%s: cannot listen on a free port for both TCP and UDP: %s\n", prog,
                ns_strerror(rc));
        return -1;
    }
    if (tfd >= 0) {
        rc = nt_add_listener(&sv->tcp, tfd);
        if (rc) {
            close(tfd);
            if (ufd >= 0)
                close(ufd);
            fprintf(stderr, "%s: cannot watch a listener: %s\n", prog, ns_strerror(rc));
            return -1;
        }
        announce(o, "tcp", tfd, ephemeral);
    }
    if (ufd >= 0) {
        rc = nu_add_socket(&sv->udp, ufd);
        if (rc) {
            close(ufd);
            fprintf(stderr, "%s: cannot watch a UDP socket: %s\n", prog, ns_strerror(rc));
            return -1;
        }
        announce(o, "udp", ufd, ephemeral);
    }
    return 0;
}

static int listen_all(struct worker *sv, const struct opts *o)
{
    uint16_t port = o->port >= 0 ? (uint16_t)o->port : DEFAULT_PORT;
    static const char *const dflt[] = {"127.0.0.1"};
    const char *const *list = o->n_listen ? o->listen : dflt;
    int n = o->n_listen ? o->n_listen : 1;

    for (int i = 0; i < n; i++) {
        struct ea_endpoint ep;
        struct ea_addr addrs[MAX_ADDRS];
        size_t count = 0;
        const char *text = list[i];
        int rc, wild = 0;

        if (text[0] == '*' && (text[1] == '\0' || text[1] == ':')) {
            /* "*" or "*:PORT": both wildcard addresses on one port. */
            char buf[32];
            wild = 1;
            snprintf(buf, sizeof buf, "0.0.0.0%.8s", text + 1);
            rc = parse_listen(buf, port, &ep);
        } else {
            rc = parse_listen(text, port, &ep);
        }
        if (rc) {
            fprintf(stderr, "%s: bad --listen '%s': %s\n", prog, text, eh_strerror(rc));
            return EXIT_USAGE;
        }
        if (ep.kind == EA_KIND_PORT) {
            /* A bare port means the default address. */
            char buf[32];
            snprintf(buf, sizeof buf, "127.0.0.1:%u", (unsigned)ep.port);
            (void)parse_listen(buf, port, &ep);
        }
        rc = ns_resolve(&ep, NS_FAMILY_ANY, o->tcp ? SOCK_STREAM : SOCK_DGRAM, 1, addrs, MAX_ADDRS,
                        &count);
        if (rc) {
            fprintf(stderr, "%s: cannot resolve '%s': %s\n", prog, ep.host, ns_strerror(rc));
            return EXIT_LISTEN;
        }
        if (wild) {
            /* Add [::] on the port 0.0.0.0 gets (after its bind, for port 0). */
            if (listen_on(sv, o, addrs[0]) < 0)
                return EXIT_LISTEN;
            struct ea_addr six;
            memset(&six, 0, sizeof six);
            six.family = EA_INET6;
            six.port = addrs[0].port;
            if (six.port == 0) {
                struct ea_addr got;
                int fd = sv->tcp.n_lis ? sv->tcp.lis[sv->tcp.n_lis - 1].io.fd
                                       : sv->udp.socks[sv->udp.n_socks - 1].io.fd;
                if (ns_local_addr(fd, &got) == 0)
                    six.port = got.port;
            }
            if (listen_on(sv, o, six) < 0)
                return EXIT_LISTEN;
            continue;
        }
        for (size_t k = 0; k < count; k++)
            if (listen_on(sv, o, addrs[k]) < 0)
                return EXIT_LISTEN;
    }
    return EXIT_OK;
}

/* The --allow list applied to TCP peers (UDP sources go through ed_handle's policy). */
static int allow_peer(void *ctx, const struct ea_addr *peer)
{
    const struct ed_policy *pol = ctx;

    for (uint8_t i = 0; i < pol->n_allow; i++)
        if (ea_net_contains(&pol->allow[i], peer))
            return 1;
    return 0;
}

/* Adds worker w's counters into *t and *u, for the one summary of all workers. */
static void add_stats(struct nt_stats *t, struct nu_stats *u, const struct worker *w)
{
    const struct nt_stats *a = &w->tcp.st;
    const struct nu_stats *b = &w->udp.st;

    t->accepted += a->accepted;
    t->refused_full += a->refused_full;
    t->shed += a->shed;
    t->not_allowed += a->not_allowed;
    t->backoffs += a->backoffs;
    t->closed += a->closed;
    t->errors += a->errors;
    t->idle_closed += a->idle_closed;
    t->bytes += a->bytes;
    t->spliced += a->spliced;
    t->buf_allocs += a->buf_allocs;
    u->received += b->received;
    for (int v = 0; v < ED__VERDICT_COUNT; v++)
        u->verdict[v] += b->verdict[v];
    u->sent += b->sent;
    u->send_dropped += b->send_dropped;
    u->truncated += b->truncated;
    u->invalid += b->invalid;
    u->recv_errors += b->recv_errors;
    u->bytes += b->bytes;
}

static void summary(const struct worker *ws, uint32_t n, int signo)
{
    struct nt_stats tcp;
    struct nu_stats udp;
    const struct nt_stats *t = &tcp;
    const struct nu_stats *u = &udp;

    memset(&tcp, 0, sizeof tcp);
    memset(&udp, 0, sizeof udp);
    for (uint32_t i = 0; i < n; i++) {
        add_stats(&tcp, &udp, &ws[i]);
        /* With several workers, one line each first: how the kernel spread the clients. */
        if (n > 1)
            fprintf(stderr,
                    "%s: worker %u of %u: tcp accepted=%llu closed=%llu bytes=%llu; udp "
                    "received=%llu sent=%llu bytes=%llu\n",
                    prog, i + 1, n, (unsigned long long)ws[i].tcp.st.accepted,
                    (unsigned long long)ws[i].tcp.st.closed,
                    (unsigned long long)ws[i].tcp.st.bytes,
                    (unsigned long long)ws[i].udp.st.received,
                    (unsigned long long)ws[i].udp.st.sent,
                    (unsigned long long)ws[i].udp.st.bytes);
    }

    /* Before the summary, which stays the last line. */
    if (n && ws[0].loop.gov.cap_ns) {
        unsigned long long polls = 0, ns = 0, yielded = 0;

        for (uint32_t i = 0; i < n; i++) {
            polls += ws[i].loop.busy_polls;
            ns += ws[i].loop.polled_ns;
            yielded += ws[i].loop.yielded;
        }
        fprintf(stderr,
                "%s: busy-poll %lu us: polls=%llu polling-ms=%llu.%03llu "
                "yielded-to-others=%llu\n",
                prog, (unsigned long)(ws[0].loop.gov.cap_ns / 1000), polls, ns / 1000000,
                ns / 1000 % 1000, yielded);
    }
    fprintf(
        stderr,
        "%s: stopped by %s: tcp accepted=%llu refused-full=%llu not-allowed=%llu shed=%llu "
        "backoffs=%llu "
        "closed=%llu errors=%llu idle-closed=%llu bytes=%llu spliced=%llu; udp received=%llu "
        "%s=%llu %s=%llu %s=%llu %s=%llu %s=%llu sent=%llu send-dropped=%llu "
        "truncated=%llu bytes=%llu\n",
        prog,
        signo == SIGINT    ? "SIGINT"
        : signo == SIGTERM ? "SIGTERM"
                           : "request",
        (unsigned long long)t->accepted, (unsigned long long)t->refused_full,
        (unsigned long long)t->not_allowed, (unsigned long long)t->shed,
        (unsigned long long)t->backoffs, (unsigned long long)t->closed,
        (unsigned long long)t->errors, (unsigned long long)t->idle_closed,
        (unsigned long long)t->bytes, (unsigned long long)t->spliced,
        (unsigned long long)u->received, ed_verdict_name(ED_REPLY),
        (unsigned long long)u->verdict[ED_REPLY], ed_verdict_name(ED_DROP_PORT0),
        (unsigned long long)u->verdict[ED_DROP_PORT0], ed_verdict_name(ED_DROP_DENIED_PORT),
        (unsigned long long)u->verdict[ED_DROP_DENIED_PORT], ed_verdict_name(ED_DROP_BAD_SOURCE),
        (unsigned long long)u->verdict[ED_DROP_BAD_SOURCE], ed_verdict_name(ED_DROP_NOT_ALLOWED),
        (unsigned long long)u->verdict[ED_DROP_NOT_ALLOWED], (unsigned long long)u->sent,
        (unsigned long long)u->send_dropped, (unsigned long long)u->truncated,
        (unsigned long long)u->bytes);
}

/* Raises the soft descriptor limit toward what the connections need (never above the hard
 * one). */
static void raise_nofile(uint64_t conns)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)conns + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
}

/* Prepares worker w's loop and servers. Returns 0, or -errno with the failing step named in
 * *what and nothing left allocated. */
static int worker_init(struct worker *w, struct opts *o, const char **what)
{
    struct nt_config tc;
    int rc;

    w->stop_io.fd = -1;
    rc = nl_init(&w->loop, (size_t)o->max_conns + 4);
    if (rc) {
        *what = "start the event loop";
        return rc;
    }
    nl_set_busy_poll(&w->loop, o->busy_us);
    memset(&tc, 0, sizeof tc);
    tc.cap = o->cap;
    tc.max_conns = o->max_conns;
    tc.idle_timeout_ms = o->idle_s * 1000u;
    tc.no_splice = o->no_splice;
    if (o->pol.n_allow) {
        tc.allow = allow_peer;
        tc.allow_ctx = &o->pol;
    }
    rc = nt_init(&w->tcp, &w->loop, &tc);
    if (!rc)
        rc = nu_init(&w->udp, &w->loop, &o->pol);
    if (rc) {
        *what = "allocate the server";
        nu_fini(&w->udp);
        nt_fini(&w->tcp);
        nl_fini(&w->loop);
    }
    return rc;
}

static void worker_fini(struct worker *w)
{
    nl_del(&w->loop, &w->stop_io);
    nu_fini(&w->udp);
    nt_fini(&w->tcp);
    nl_fini(&w->loop);
}

/* Gives worker w (1..N-1) sockets on the addresses worker 0 is bound to (ports resolved,
 * so port 0 became the same port for all). Returns 0 or -1 after printing the error. */
static int replicate(struct worker *w, const struct worker *w0, const struct opts *o)
{
    for (uint32_t i = 0; i < w0->tcp.n_lis + w0->udp.n_socks; i++) {
        int tcp = i < w0->tcp.n_lis;
        int fd0 = tcp ? w0->tcp.lis[i].io.fd : w0->udp.socks[i - w0->tcp.n_lis].io.fd;
        struct ea_addr a;
        int fd, rc = ns_local_addr(fd0, &a);

        if (!rc)
            rc = listen_sock(o, &a, tcp ? SOCK_STREAM : SOCK_DGRAM, &fd);
        if (rc)
            return listen_fail(&a, rc);
        rc = tcp ? nt_add_listener(&w->tcp, fd) : nu_add_socket(&w->udp, fd);
        if (rc) {
            close(fd);
            fprintf(stderr, "%s: cannot watch a socket: %s\n", prog, ns_strerror(rc));
            return -1;
        }
    }
    return 0;
}

static void on_stop_pipe(struct nl_loop *l, struct nl_io *io, uint32_t revents)
{
    nl_stop(l);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    w->run_rc = nl_run(&w->loop);
    return NULL;
}

int main(int argc, char **argv)
{
    static const int stop_sigs[] = {SIGINT, SIGTERM};
    struct worker *ws = NULL;
    struct opts o;
    const char *what = "";
    int stop_pipe[2] = {-1, -1};
    uint32_t n_init = 0;
    int rc, status = EXIT_RUNTIME;

    memset(&o, 0, sizeof o);
    if (parse_opts(argc, argv, &o) < 0)
        return EXIT_USAGE;
    if (o.cc && cg_check(prog, o.cc) < 0)
        return EXIT_USAGE;
    signal(SIGPIPE, SIG_IGN);
    /* Each worker: its connections, and the pipes of its splicing connections. */
    raise_nofile(((uint64_t)o.max_conns + 2 * NT_MAX_PIPES) * o.workers);

    ws = calloc(o.workers, sizeof *ws);
    if (!ws) {
        fprintf(stderr, "%s: cannot allocate the server: %s\n", prog, ns_strerror(-ENOMEM));
        return EXIT_RUNTIME;
    }
    for (; n_init < o.workers; n_init++) {
        rc = worker_init(&ws[n_init], &o, &what);
        if (rc) {
            fprintf(stderr, "%s: cannot %s: %s\n", prog, what, ns_strerror(rc));
            goto fail;
        }
    }
    /* Block the stop signals before any thread starts, so only worker 0's signalfd sees
     * them (threads inherit the mask). */
    rc = nl_stop_on_signals(&ws[0].loop, stop_sigs, 2);
    if (rc) {
        fprintf(stderr, "%s: cannot catch signals: %s\n", prog, ns_strerror(rc));
        goto fail;
    }
    status = listen_all(&ws[0], &o);
    if (status != EXIT_OK)
        goto fail;
    status = EXIT_RUNTIME;
    if (o.workers > 1 && pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        fprintf(stderr, "%s: pipe2: %s\n", prog, strerror(errno));
        goto fail;
    }
    for (uint32_t i = 1; i < o.workers; i++) {
        if (replicate(&ws[i], &ws[0], &o) < 0) {
            status = EXIT_LISTEN;
            goto fail;
        }
        rc = nl_add(&ws[i].loop, &ws[i].stop_io, stop_pipe[0], EPOLLIN, on_stop_pipe);
        if (rc) {
            fprintf(stderr, "%s: cannot watch the stop pipe: %s\n", prog, ns_strerror(rc));
            goto fail;
        }
    }
    for (uint32_t i = 1; i < o.workers; i++) {
        rc = pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]);
        if (rc) {
            fprintf(stderr, "%s: cannot start worker %u: %s\n", prog, i, strerror(rc));
            goto fail;
        }
        ws[i].started = 1;
    }
    status = EXIT_OK;
    worker_main(&ws[0]);

fail:
    /* EOF on the stop pipe stops every other worker; then their state is ours again. */
    if (stop_pipe[1] >= 0)
        close(stop_pipe[1]);
    for (uint32_t i = 1; i < n_init; i++)
        if (ws[i].started)
            pthread_join(ws[i].thread, NULL);
    for (uint32_t i = 0; status == EXIT_OK && i < n_init; i++) {
        if (ws[i].run_rc) {
            fprintf(stderr, "%s: epoll_wait: %s\n", prog, ns_strerror(ws[i].run_rc));
            status = EXIT_RUNTIME;
        }
    }
    if (status == EXIT_OK && !o.quiet)
        summary(ws, n_init, ws[0].loop.signo);
    for (uint32_t i = 0; i < n_init; i++)
        worker_fini(&ws[i]);
    if (stop_pipe[0] >= 0)
        close(stop_pipe[0]);
    free(ws);
    return status;
}
