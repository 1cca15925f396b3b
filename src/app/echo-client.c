/*
 * echo-client - sends lines to an RFC 862 echo server and checks that each comes back.
 *
 * Interactive like the tutorial client (prompt, "q" quits, lines trimmed, a blank line
 * skipped over TCP but sent as an empty datagram with -u), but a TCP echo is reassembled
 * across any number of reads (cf_expect) instead of trusting one recv(). When stdin is not
 * a terminal it prints no prompt and its exit status says whether every echo came back
 * whole and equal. Framing and comparison live in src/core/frame.c; this file does I/O.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/frame.h"
#include "net/sock.h"

#ifndef EH_VERSION
#define EH_VERSION "0"
#endif

enum {
    EXIT_OK = 0,
    EXIT_CONN = 1, /* cannot resolve or connect, connection lost, port unreachable */
    EXIT_USAGE = 2,
    EXIT_TIMEOUT = 3,  /* no (whole) echo or no connection within --timeout */
    EXIT_MISMATCH = 4, /* an echo differs from what was sent, or extra bytes came */
    EXIT_LOCAL = 5     /* reading stdin or writing stdout failed */
};

#define MAX_ADDRS 8
#define RECV_SIZE 65536u
#define DGRAM_MAX 65507u /* largest UDP payload over IPv4 */

static const char *prog = "echo-client";

struct client {
    int fd;
    int udp;
    int interactive;
    int timeout_ms;
    unsigned timeout_s;
    char peer[EA_FORMAT_MAX];
    uint8_t rbuf[RECV_SIZE];
    size_t carry_off, carry_len; /* received TCP bytes not yet matched to a line */
};

static void usage(FILE *f)
{
    fprintf(f, "usage: echo-client [options] [HOST:]PORT\n"
               "Sends each input line to an echo server and prints its echo. HOST defaults to\n"
               "127.0.0.1; names are resolved; IPv6 literals go in brackets: [::1]:7007.\n"
               "\n"
               "  -u, --udp              use UDP (a blank line is sent as an empty datagram)\n"
               "  -t, --timeout SECONDS  longest wait for a connection or an echo (default 5)\n"
               "  -4, --ipv4             resolve HOST to IPv4 only\n"
               "  -6, --ipv6             resolve HOST to IPv6 only\n"
               "  -h, --help             show this help\n"
               "  -V, --version          show the version\n"
               "\n"
               "Lines are trimmed; a line 'q' quits; over TCP blank lines are skipped. On a\n"
               "terminal a prompt is shown; otherwise every line is checked silently.\n"
               "\n"
               "Exit status:\n"
               "  0  every echo came back whole and equal\n"
               "  1  cannot resolve or connect, connection lost, UDP port unreachable\n"
               "  2  usage error\n"
               "  3  timeout: no connection or no echo within --timeout\n"
               "  4  an echo differed from what was sent (or extra bytes came back)\n"
               "  5  local I/O error (stdin, stdout)\n");
}

/* Prints "echo-client: <message>" as one line and returns status. */
__attribute__((format(printf, 2, 3))) static int fail(int status, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

/* Reports a failed receive or send on the connection. */
static int io_error(struct client *c, int rc)
{
    if (c->udp && rc == -ECONNREFUSED)
        return fail(EXIT_CONN, "no echo from %s: port unreachable (%s)", c->peer, ns_strerror(rc));
    if (c->udp) /* an ICMP error other than port unreachable: host or network */
        return fail(EXIT_CONN, "no echo from %s: %s", c->peer, ns_strerror(rc));
    return fail(EXIT_CONN, "connection to %s failed: %s", c->peer, ns_strerror(rc));
}

static int timed_out(struct client *c)
{
    fprintf(stderr, "%s: no echo from %s within %u s\n", prog, c->peer, c->timeout_s);
    return EXIT_TIMEOUT;
}

static int mismatch(struct client *c, const struct cf_expect *e)
{
    fprintf(stderr, "%s: echo from %s differs at byte %zu: sent 0x%02x, got 0x%02x\n", prog,
            c->peer, e->bad_off, (unsigned)e->bad_want, (unsigned)e->bad_got);
    return EXIT_MISMATCH;
}

/* Feeds carried-over bytes to e. */
static void feed_carry(struct client *c, struct cf_expect *e)
{
    size_t used;

    if (!c->carry_len)
        return;
    cf_expect_feed(e, c->rbuf + c->carry_off, c->carry_len, &used);
    c->carry_off += used;
    c->carry_len -= used;
}

/* TCP: sends p[0..n) while reading its echo (so a long line cannot deadlock against the
 * server's backpressure) until the echo is complete or wrong. */
static int tcp_round(struct client *c, const uint8_t *p, size_t n)
{
    struct cf_expect e;
    size_t sent = 0;

    cf_expect_init(&e, p, n);
    feed_carry(c, &e);
    while (e.status == CF_MORE) {
        short events = POLLIN | (sent < n ? POLLOUT : 0);
        int r = ns_wait(c->fd, events, c->timeout_ms);

        if (r == 0)
            return timed_out(c);
        if (r < 0)
            return fail(EXIT_LOCAL, "poll: %s", ns_strerror(r));
        if (sent < n && (r & (POLLOUT | POLLERR))) {
            ssize_t k = send(c->fd, p + sent, n - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (k > 0)
                sent += (size_t)k;
            else if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return io_error(c, -errno);
        }
        if (r & (POLLIN | POLLERR | POLLHUP)) {
            ssize_t k = recv(c->fd, c->rbuf, sizeof c->rbuf, MSG_DONTWAIT);
            size_t used;
            if (k == 0) {
                fprintf(stderr, "%s: %s closed the connection after %zu of %zu echoed bytes\n",
                        prog, c->peer, e.got, n);
                return EXIT_CONN;
            }
            if (k < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    continue;
                return io_error(c, -errno);
            }
            cf_expect_feed(&e, c->rbuf, (size_t)k, &used);
            c->carry_off = used;
            c->carry_len = (size_t)k - used;
        }
    }
    if (e.status == CF_MISMATCH)
        return mismatch(c, &e);
    return EXIT_OK;
}

/* UDP: one datagram out, one datagram back, equal. */
static int udp_round(struct client *c, const uint8_t *p, size_t n)
{
    struct cf_expect e;
    ssize_t k;
    size_t used;

    if (n > DGRAM_MAX) {
        fprintf(stderr, "%s: line of %zu bytes is too long for a datagram (at most %u)\n", prog, n,
                DGRAM_MAX);
        return EXIT_USAGE;
    }
    do
        k = send(c->fd, p, n, MSG_NOSIGNAL);
    while (k < 0 && errno == EINTR);
    if (k < 0)
        return io_error(c, -errno);
    for (;;) {
        int r = ns_wait(c->fd, POLLIN, c->timeout_ms);
        if (r == 0)
            return timed_out(c);
        if (r < 0)
            return fail(EXIT_LOCAL, "poll: %s", ns_strerror(r));
        k = recv(c->fd, c->rbuf, sizeof c->rbuf, MSG_DONTWAIT | MSG_TRUNC);
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        if (k < 0)
            return io_error(c, -errno);
        break;
    }
    cf_expect_init(&e, p, n);
    cf_expect_feed(&e, c->rbuf, (size_t)k < sizeof c->rbuf ? (size_t)k : sizeof c->rbuf, &used);
    if (e.status == CF_MISMATCH)
        return mismatch(c, &e);
    if ((size_t)k != n) {
        fprintf(stderr, "%s: echo from %s has %zd bytes, sent %zu\n", prog, c->peer, k, n);
        return EXIT_MISMATCH;
    }
    return EXIT_OK;
}

/* After the last line over TCP: half-close and wait for the server's EOF; bytes that still
 * arrive were never sent. A server that does not close in time is not an error. */
static int tcp_finish(struct client *c)
{
    if (c->carry_len) {
        fprintf(stderr, "%s: %s sent %zu bytes more than it was sent\n", prog, c->peer,
                c->carry_len);
        return EXIT_MISMATCH;
    }
    if (shutdown(c->fd, SHUT_WR) < 0)
        return EXIT_OK;
    for (;;) {
        int r = ns_wait(c->fd, POLLIN, c->timeout_ms);
        ssize_t k;
        if (r <= 0)
            return EXIT_OK;
        k = recv(c->fd, c->rbuf, sizeof c->rbuf, MSG_DONTWAIT);
        if (k == 0)
            return EXIT_OK;
        if (k < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : EXIT_OK;
        fprintf(stderr, "%s: %s sent %zd bytes more than it was sent\n", prog, c->peer, k);
        return EXIT_MISMATCH;
    }
}

static int run(struct client *c)
{
    char *line = NULL;
    size_t cap = 0;
    int status = EXIT_OK;

    for (;;) {
        ssize_t n;
        int act;
        size_t off, len;

        if (c->interactive) {
            fputs(">> (q to quit) ", stdout);
            fflush(stdout);
        }
        errno = 0;
        n = getline(&line, &cap, stdin);
        if (n < 0) {
            if (errno) {
                fprintf(stderr, "%s: reading stdin: %s\n", prog, strerror(errno));
                status = EXIT_LOCAL;
            }
            break;
        }
        if (cf_line((const uint8_t *)line, (size_t)n, c->udp ? CF_UDP : CF_TCP, &act, &off, &len) !=
                0 ||
            act == CF_QUIT)
            break;
        if (act == CF_SKIP)
            continue;
        status = c->udp ? udp_round(c, (uint8_t *)line + off, len)
                        : tcp_round(c, (uint8_t *)line + off, len);
        if (status != EXIT_OK)
            break;
        if (fwrite(line + off, 1, len, stdout) != len || putchar('\n') == EOF ||
            fflush(stdout) == EOF) {
            fprintf(stderr, "%s: writing stdout: %s\n", prog, strerror(errno));
            status = EXIT_LOCAL;
            break;
        }
    }
    if (c->interactive && status == EXIT_OK && feof(stdin))
        putchar('\n');
    if (status == EXIT_OK && !c->udp)
        status = tcp_finish(c);
    free(line);
    return status;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"udp", no_argument, NULL, 'u'},
        {"timeout", required_argument, NULL, 't'},
        {"ipv4", no_argument, NULL, '4'},
        {"ipv6", no_argument, NULL, '6'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static struct client cl; /* large receive buffer: not on the stack */
    struct ea_endpoint ep;
    struct ea_addr addrs[MAX_ADDRS];
    size_t count = 0;
    int family = NS_FAMILY_ANY, opt, rc, status;
    unsigned long timeout_s = 5;
    char *end;

    cl.fd = -1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":ut:46hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u':
            cl.udp = 1;
            break;
        case 't':
            errno = 0;
            timeout_s = strtoul(optarg, &end, 10);
            if (errno || !*optarg || *end || optarg[0] == '-' || timeout_s < 1 || timeout_s > 86400)
                return fail(EXIT_USAGE, "bad --timeout '%s': %s", optarg,
                            "not a number of seconds (1..86400)");
            break;
        case '4':
            family = NS_FAMILY_V4;
            break;
        case '6':
            family = NS_FAMILY_V6;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 'V':
            printf("echo-client %s\n", EH_VERSION);
            return EXIT_OK;
        case ':':
            return fail(EXIT_USAGE, "option '%s' needs an argument (see --help)", argv[optind - 1]);
        default:
            return fail(EXIT_USAGE, "unknown option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return fail(EXIT_USAGE, "%s (see --help)",
                    optind >= argc ? "missing [HOST:]PORT" : "too many arguments");
    rc = ea_parse(argv[optind], strlen(argv[optind]), EA_ALLOW_BARE_PORT, &ep);
    if (rc)
        return fail(EXIT_USAGE, "bad address '%s': %s", argv[optind], eh_strerror(rc));
    cl.timeout_s = (unsigned)timeout_s;
    cl.timeout_ms = (int)(timeout_s * 1000);
    cl.interactive = isatty(STDIN_FILENO);
    signal(SIGPIPE, SIG_IGN);

    rc = ns_resolve(&ep, family, cl.udp ? SOCK_DGRAM : SOCK_STREAM, 0, addrs, MAX_ADDRS, &count);
    if (rc)
        return fail(EXIT_CONN, "cannot resolve '%s': %s", ep.host, ns_strerror(rc));
    /* Try each address in turn; report the last failure. */
    for (size_t i = 0; i < count; i++) {
        ns_format(&addrs[i], cl.peer, sizeof cl.peer);
        rc = ns_connect(&addrs[i], cl.udp ? SOCK_DGRAM : SOCK_STREAM, NULL, cl.timeout_ms, &cl.fd);
        if (!rc)
            break;
    }
    if (rc == -ETIMEDOUT)
        return fail(EXIT_TIMEOUT, "cannot connect to %s within %u s", cl.peer, cl.timeout_s);
    if (rc)
        return fail(EXIT_CONN, "cannot connect to %s: %s", cl.peer, ns_strerror(rc));
    status = run(&cl);
    close(cl.fd);
    return status;
}
