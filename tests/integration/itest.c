/*
 * itest.c - a small test client (and two misbehaving servers) for echod's integration
 * tests. Each subcommand drives loopback sockets with poll(), checks every byte against a
 * per-connection pattern, prints one "ok ..." line and exits 0, or prints one "FAIL ..."
 * line and exits 1. Every wait has a timeout, so a broken server fails a test instead of
 * hanging it. Assertions are about bytes and connection states, never about speed.
 *
 *   itest rounds PORT N                 N round trips of growing size on one connection
 *   itest stream PORT BYTES [CONNS]     CONNS connections (default 1) each send BYTES of
 *                                       their own pattern while reading; then half-close and
 *                                       expect every byte back and then EOF (no cross-talk)
 *   itest writefirst PORT BYTES         write as much as the server takes before reading
 *                                       anything, then read everything: nothing lost
 *   itest halfclose PORT BYTES          write BYTES, shut down the write side, then read
 *   itest udp PORT SIZE [SRCPORT]       one datagram of SIZE bytes, expect the same back
 *   itest udp-none PORT SIZE SRCPORT    one datagram from SRCPORT, expect no answer in 1 s
 *   itest udp-from ADDR:PORT            one datagram to ADDR:PORT (numeric); the echo must
 *                                       come from ADDR:PORT, also on a connected socket
 *   itest freeport                      print a port free for TCP and UDP
 *   itest maxconns PORT MAX EXTRA       MAX served connections, EXTRA closed at once, then
 *                                       one released slot serves a new connection
 *   itest emfile PORT EXTRA SECONDS     one live connection keeps echoing while EXTRA more
 *                                       connections wait or are shed, for SECONDS
 *   itest reset PORT                    peers reset or close with echoes pending; others
 *                                       are still served
 *   itest closed PORT                   the server closes a new connection without a byte
 *   itest idle PORT SECONDS             a silent connection is closed by the server in time
 *   itest noread PORT CONNS BYTES SECS  CONNS connections write up to BYTES each and never
 *                                       read: the server must stop taking bytes first
 *                                       (prints "filled ..."); another connection is still
 *                                       served; then the stuck ones must be closed by the
 *                                       server within SECS (its idle timeout)
 *   itest serve MODE                    a broken echo server on 127.0.0.1 port 0 (prints
 *                                       "listening tcp|udp ADDR"): mute (never answers),
 *                                       flip (answers with the first byte changed)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/sock.h"

#define TIMEOUT_MS 10000
#define CHUNK 65536

static uint8_t pattern(uint32_t conn, uint64_t off)
{
    uint64_t x = (off + 1) * 0x9E3779B97F4A7C15ull + (uint64_t)conn * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return (uint8_t)(x ^ (x >> 17));
}

__attribute__((format(printf, 1, 2))) static int failf(const char *fmt, ...)
{
    va_list ap;

    fputs("FAIL ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    return 1;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct ea_addr loopback(unsigned port)
{
    struct ea_addr a;

    memset(&a, 0, sizeof a);
    a.family = EA_INET;
    a.ip[0] = 127, a.ip[3] = 1;
    a.port = (uint16_t)port;
    return a;
}

static int tcp_connect(unsigned port, int *fd)
{
    struct ea_addr a = loopback(port);
    int rc = ns_connect(&a, SOCK_STREAM, NULL, TIMEOUT_MS, fd);

    if (rc)
        return failf("connect to port %u: %s", port, ns_strerror(rc));
    return 0;
}

/* One echo stream under test: sends total bytes of its pattern and checks what returns. */
struct st {
    int fd;
    uint32_t id;
    uint64_t total, sent, recvd;
    int shut, eof, bad;
};

static uint8_t buf[CHUNK];

static int st_send(struct st *s, size_t max)
{
    size_t n = s->total - s->sent < max ? (size_t)(s->total - s->sent) : max;
    ssize_t k;

    if (n > sizeof buf)
        n = sizeof buf;
    for (size_t i = 0; i < n; i++)
        buf[i] = pattern(s->id, s->sent + i);
    k = send(s->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    s->sent += (uint64_t)k;
    return k > 0;
}

static int st_recv(struct st *s)
{
    ssize_t k = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);

    if (k == 0) {
        s->eof = 1;
        return 1;
    }
    if (k < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    for (ssize_t i = 0; i < k; i++) {
        if (s->recvd + (uint64_t)i >= s->total || buf[i] != pattern(s->id, s->recvd + i)) {
            s->bad = 1;
            failf("conn %u: byte %llu is wrong (got 0x%02x, want 0x%02x, total %llu)", s->id,
                  (unsigned long long)(s->recvd + (uint64_t)i), buf[i],
                  s->recvd + (uint64_t)i < s->total ? pattern(s->id, s->recvd + i) : 0,
                  (unsigned long long)s->total);
            return -EPROTO;
        }
    }
    s->recvd += (uint64_t)k;
    return 1;
}

/* Drives streams until each has all its bytes back and (with halfclose) saw EOF after
 * shutting down its write side. write_only: send, never read (until no progress). */
static int pump(struct st *ss, size_t n, int halfclose, int write_only, long long idle_ms)
{
    static struct pollfd pf[1024];
    long long last = now_ms();

    for (;;) {
        size_t live = 0;
        int moved = 0;

        for (size_t i = 0; i < n; i++) {
            struct st *s = &ss[i];
            int done = s->recvd == s->total && (!halfclose || s->eof);
            if (halfclose && s->sent == s->total && !s->shut) {
                shutdown(s->fd, SHUT_WR);
                s->shut = 1;
            }
            pf[i].fd = done ? -1 : s->fd;
            pf[i].events = (short)((write_only ? 0 : POLLIN) | (s->sent < s->total ? POLLOUT : 0));
            pf[i].revents = 0;
            if (write_only && s->sent == s->total)
                pf[i].fd = -1;
            live += pf[i].fd >= 0;
        }
        if (!live)
            return 0;
        if (poll(pf, n, 200) < 0 && errno != EINTR)
            return failf("poll: %s", strerror(errno));
        for (size_t i = 0; i < n; i++) {
            struct st *s = &ss[i];
            int r;
            if (pf[i].fd < 0 || !pf[i].revents)
                continue;
            if ((pf[i].revents & POLLOUT) && s->sent < s->total) {
                r = st_send(s, CHUNK);
                if (r < 0)
                    return failf("conn %u: send: %s", s->id, strerror(-r));
                moved |= r;
            }
            if (!write_only && (pf[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                r = st_recv(s);
                if (r < 0)
                    return r == -EPROTO ? 1 : failf("conn %u: recv: %s", s->id, strerror(-r));
                moved |= r;
                if (s->eof && s->recvd < s->total)
                    return failf("conn %u: EOF after %llu of %llu bytes", s->id,
                                 (unsigned long long)s->recvd, (unsigned long long)s->total);
            }
        }
        if (moved)
            last = now_ms();
        else if (now_ms() - last > idle_ms)
            return write_only ? 0 : failf("no progress for %lld ms", idle_ms);
    }
}

static unsigned long long num(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);

    if (!*s || *end) {
        fprintf(stderr, "itest: bad number '%s'\n", s);
        exit(2);
    }
    return v;
}

static int cmd_stream(unsigned port, uint64_t bytes, size_t conns)
{
    static struct st ss[1024];

    if (conns > 1024)
        return failf("too many connections");
    for (size_t i = 0; i < conns; i++) {
        memset(&ss[i], 0, sizeof ss[i]);
        ss[i].id = (uint32_t)i + 1;
        ss[i].total = bytes + i * 977; /* different lengths too */
        if (tcp_connect(port, &ss[i].fd))
            return 1;
    }
    if (pump(ss, conns, 1, 0, TIMEOUT_MS))
        return 1;
    for (size_t i = 0; i < conns; i++)
        close(ss[i].fd);
    printf("ok stream %zu connection(s), %llu+ bytes each, all echoed, then EOF\n", conns,
           (unsigned long long)bytes);
    return 0;
}

static int cmd_rounds(unsigned port, unsigned n)
{
    struct st s;

    memset(&s, 0, sizeof s);
    s.id = 7;
    if (tcp_connect(port, &s.fd))
        return 1;
    for (unsigned r = 0; r < n; r++) {
        /* One message at a time: each echo must be whole before the next goes out. */
        s.total += 1 + (uint64_t)r * r * 37 % 5000;
        if (pump(&s, 1, 0, 0, TIMEOUT_MS))
            return 1;
    }
    close(s.fd);
    printf("ok rounds %u round trips, %llu bytes\n", n, (unsigned long long)s.total);
    return 0;
}

/* Connects with small socket buffers (set before connect, so the window is small from the
 * start): then the kernel cannot hide megabytes in flight, and a client that does not read
 * makes the server's ring fill and the server stop reading. */
static int tcp_connect_small(unsigned port, int *fd)
{
    struct ea_addr a = loopback(port);
    struct sockaddr_storage ss;
    socklen_t len;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (s < 0)
        return failf("socket: %s", strerror(errno));
    (void)ns_set_int(s, SOL_SOCKET, SO_RCVBUF, 65536);
    (void)ns_set_int(s, SOL_SOCKET, SO_SNDBUF, 65536);
    ns_addr_to_sockaddr(&a, &ss, &len);
    if (connect(s, (struct sockaddr *)&ss, len) < 0 || ns_set_nonblock(s, 1) < 0) {
        close(s);
        return failf("connect to port %u: %s", port, strerror(errno));
    }
    *fd = s;
    return 0;
}

static int cmd_writefirst(unsigned port, uint64_t bytes)
{
    struct st s;
    uint64_t before;

    memset(&s, 0, sizeof s);
    s.id = 3;
    s.total = bytes;
    if (tcp_connect_small(port, &s.fd))
        return 1;
    /* Write until the server stops taking bytes (backpressure) or all are written. */
    if (pump(&s, 1, 0, 1, 500))
        return 1;
    before = s.sent;
    if (pump(&s, 1, 1, 0, TIMEOUT_MS))
        return 1;
    close(s.fd);
    printf("ok writefirst wrote %llu of %llu bytes before reading; all echoed\n",
           (unsigned long long)before, (unsigned long long)bytes);
    return 0;
}

static int cmd_halfclose(unsigned port, uint64_t bytes)
{
    struct st s;

    memset(&s, 0, sizeof s);
    s.id = 5;
    s.total = bytes;
    if (tcp_connect(port, &s.fd))
        return 1;
    /* Everything goes out and the write side is shut before a single byte is read. */
    while (s.sent < s.total) {
        int r = ns_wait(s.fd, POLLOUT, TIMEOUT_MS);
        if (r <= 0)
            return failf("cannot write %llu bytes before reading", (unsigned long long)bytes);
        if (st_send(&s, CHUNK) < 0)
            return failf("send: %s", strerror(errno));
    }
    shutdown(s.fd, SHUT_WR);
    s.shut = 1;
    if (pump(&s, 1, 1, 0, TIMEOUT_MS))
        return 1;
    close(s.fd);
    printf("ok halfclose %llu bytes flushed after the client's FIN, then EOF\n",
           (unsigned long long)bytes);
    return 0;
}

static int udp_socket(unsigned port, unsigned srcport, int *fd)
{
    struct ea_addr a = loopback(port), l = loopback(srcport);
    int rc = ns_connect(&a, SOCK_DGRAM, srcport ? &l : NULL, TIMEOUT_MS, fd);

    if (rc)
        return failf("udp socket to port %u from %u: %s", port, srcport, ns_strerror(rc));
    return 0;
}

static int cmd_udp(unsigned port, size_t size, unsigned srcport, int expect_none)
{
    static uint8_t out[65536], in[65537];
    ssize_t k;
    int fd, r;

    if (size > sizeof out)
        return failf("datagram too big");
    for (size_t i = 0; i < size; i++)
        out[i] = pattern(11, i);
    if (udp_socket(port, srcport, &fd))
        return 1;
    if (send(fd, out, size, 0) != (ssize_t)size)
        return failf("send %zu bytes: %s", size, strerror(errno));
    r = ns_wait(fd, POLLIN, expect_none ? 1000 : TIMEOUT_MS);
    if (r < 0)
        return failf("poll: %s", ns_strerror(r));
    if (r == 0) {
        close(fd);
        if (expect_none) {
            printf("ok udp-none no answer to a %zu-byte datagram from port %u\n", size, srcport);
            return 0;
        }
        return failf("no answer to a %zu-byte datagram", size);
    }
    k = recv(fd, in, sizeof in, MSG_TRUNC);
    close(fd);
    if (k < 0)
        return failf("recv: %s", strerror(errno));
    if (expect_none)
        return failf("got a %zd-byte answer from a denied source port %u", k, srcport);
    if ((size_t)k != size || memcmp(in, out, size) != 0)
        return failf("answer differs: %zd bytes for %zu", k, size);
    printf("ok udp %zu-byte datagram echoed whole\n", size);
    return 0;
}

/* Sends one datagram to the numeric endpoint text ("127.0.0.2:7", "[::1]:7") from an
 * unconnected socket and expects the echo to come from that very address and port (RFC 1122
 * 3.3.4.2: a server bound to a wildcard address replies from the request's destination),
 * then once more from a socket connected to it, which the kernel lets only such a reply in. */
static int cmd_udp_from(const char *text)
{
    static const uint8_t msg[] = "reply from where you were asked";
    struct ea_endpoint ep;
    struct ea_addr got;
    struct sockaddr_storage to, from;
    socklen_t tolen, fromlen = sizeof from;
    uint8_t in[sizeof msg + 1];
    char want_s[EA_HOST_MAX + 16], got_s[EA_HOST_MAX + 16];
    ssize_t k;
    int fd, r;

    if (ea_parse(text, strlen(text), 0, &ep) != 0 ||
        (ep.kind != EA_KIND_V4 && ep.kind != EA_KIND_V6))
        return failf("udp-from: not a numeric endpoint: %s", text);
    ep.addr.port = ep.port;
    if ((r = ns_addr_to_sockaddr(&ep.addr, &to, &tolen)) != 0)
        return failf("udp-from %s: %s", text, ns_strerror(r));
    ns_format(&ep.addr, want_s, sizeof want_s);

    fd = socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return failf("socket: %s", strerror(errno));
    if (sendto(fd, msg, sizeof msg, 0, (struct sockaddr *)&to, tolen) != (ssize_t)sizeof msg)
        return failf("sendto %s: %s", want_s, strerror(errno));
    r = ns_wait(fd, POLLIN, TIMEOUT_MS);
    if (r <= 0)
        return failf("no answer from %s: %s", want_s, r ? ns_strerror(r) : "timed out");
    k = recvfrom(fd, in, sizeof in, 0, (struct sockaddr *)&from, &fromlen);
    close(fd);
    if (k < 0)
        return failf("recvfrom: %s", strerror(errno));
    if ((size_t)k != sizeof msg || memcmp(in, msg, sizeof msg) != 0)
        return failf("answer from %s differs: %zd bytes for %zu", want_s, k, sizeof msg);
    if ((r = ns_addr_from_sockaddr((struct sockaddr *)&from, fromlen, &got)) != 0)
        return failf("answer from an odd address: %s", ns_strerror(r));
    if (!ea_equal(&got, &ep.addr))
        return failf("request to %s answered from %s", want_s,
                     ns_format(&got, got_s, sizeof got_s));

    if ((r = ns_connect(&ep.addr, SOCK_DGRAM, NULL, TIMEOUT_MS, &fd)) != 0)
        return failf("udp connect to %s: %s", want_s, ns_strerror(r));
    if (send(fd, msg, sizeof msg, 0) != (ssize_t)sizeof msg)
        return failf("send to %s: %s", want_s, strerror(errno));
    r = ns_wait(fd, POLLIN, TIMEOUT_MS);
    if (r <= 0)
        return failf("connected socket to %s got no answer: %s", want_s,
                     r ? ns_strerror(r) : "timed out");
    k = recv(fd, in, sizeof in, 0);
    close(fd);
    if ((size_t)k != sizeof msg || memcmp(in, msg, sizeof msg) != 0)
        return failf("connected socket to %s: bad answer (%zd bytes)", want_s, k);
    printf("ok udp-from %s answered from %s, also on a connected socket\n", want_s, want_s);
    return 0;
}

/* A port free for both TCP and UDP on 127.0.0.1 right now (both are bound, then closed). */
static int cmd_freeport(void)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        struct ea_addr a = loopback(0), got;
        int tfd, ufd, rc = ns_listen(&a, SOCK_STREAM, 0, &tfd);

        if (rc || (rc = ns_local_addr(tfd, &got)) != 0)
            return failf("freeport: %s", ns_strerror(rc));
        rc = ns_listen(&got, SOCK_DGRAM, 0, &ufd);
        close(tfd);
        if (rc == 0) {
            close(ufd);
            printf("%u\n", (unsigned)got.port);
            return 0;
        }
    }
    return failf("freeport: no port free for both TCP and UDP");
}

/* Waits until fd is closed by the peer (EOF or reset). Returns 1 if closed in time. */
static int closed_by_peer(int fd, int ms)
{
    long long end = now_ms() + ms;

    for (;;) {
        long long left = end - now_ms();
        int r = ns_wait(fd, POLLIN, left > 0 ? (int)left : 0);
        char c;
        ssize_t k;
        if (r <= 0)
            return 0;
        k = recv(fd, &c, 1, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
            return 1;
    }
}

static int round_trip(int fd, uint32_t id, size_t n)
{
    struct st s;

    memset(&s, 0, sizeof s);
    s.fd = fd;
    s.id = id;
    s.total = n;
    return pump(&s, 1, 0, 0, TIMEOUT_MS);
}

static int cmd_maxconns(unsigned port, size_t max, size_t extra)
{
    static int fds[1024], xfds[1024];
    int fd;

    if (max > 1024 || extra > 1024)
        return failf("too many");
    for (size_t i = 0; i < max; i++) {
        if (tcp_connect(port, &fds[i]) || round_trip(fds[i], (uint32_t)i, 100))
            return failf("connection %zu of %zu was not served", i + 1, max);
    }
    for (size_t i = 0; i < extra; i++) {
        if (tcp_connect(port, &xfds[i]))
            return 1;
        if (!closed_by_peer(xfds[i], TIMEOUT_MS))
            return failf("connection %zu over the limit was not closed", i + 1);
        close(xfds[i]);
    }
    /* The first ones are still served. */
    for (size_t i = 0; i < max; i++)
        if (round_trip(fds[i], (uint32_t)i + 100, 10))
            return failf("connection %zu stopped being served", i + 1);
    /* Release one slot: a new connection gets it (the server may need a moment to see
     * the close, so a refused attempt is retried). */
    close(fds[0]);
    for (int attempt = 0;; attempt++) {
        if (tcp_connect(port, &fd))
            return 1;
        if (!closed_by_peer(fd, 100) && round_trip(fd, 999, 1000) == 0)
            break;
        close(fd);
        if (attempt > 50)
            return failf("a released slot was never reused");
    }
    close(fd);
    for (size_t i = 1; i < max; i++)
        close(fds[i]);
    printf("ok maxconns %zu served, %zu over the limit closed at once, released slot reused\n", max,
           extra);
    return 0;
}

static int cmd_idle(unsigned port, unsigned seconds)
{
    int fd;

    if (tcp_connect(port, &fd) || round_trip(fd, 1, 10))
        return failf("not served");
    if (!closed_by_peer(fd, (int)seconds * 1000))
        return failf("a silent connection was not closed within %u s", seconds);
    close(fd);
    printf("ok idle silent connection closed by the server\n");
    return 0;
}

/* Clients that send and never read (a flood, or a peer that stopped reading): each must hit
 * the server's backpressure long before BYTES, must not stall anyone else, and, since
 * nothing moves on them any more, must be closed by the server's idle timeout. The close is
 * seen without reading (reading would move bytes again): the server closes with our bytes
 * unread, so its kernel resets the connection (POLLERR/POLLHUP). */
static int cmd_noread(unsigned port, size_t conns, uint64_t bytes, unsigned seconds)
{
    static struct st ss[1024];
    static struct pollfd pf[1024];
    unsigned long long sent = 0;
    size_t closed = 0;
    long long end, last;
    int fd;

    if (conns > 1024)
        return failf("too many connections");
    for (size_t i = 0; i < conns; i++) {
        memset(&ss[i], 0, sizeof ss[i]);
        ss[i].id = 200 + (uint32_t)i;
        ss[i].total = bytes;
        if (tcp_connect_small(port, &ss[i].fd))
            return 1;
    }
    /* Write to all until none has taken a byte for 500 ms. One the server closes meanwhile
     * counts as closed, as below: on a slow machine its idle timeout can come first (a
     * connection stuck early moves nothing while the others still fill). */
    last = now_ms();
    while (now_ms() - last <= 500) {
        for (size_t i = 0; i < conns; i++) {
            pf[i].fd = ss[i].sent < ss[i].total ? ss[i].fd : -1;
            pf[i].events = POLLOUT;
            pf[i].revents = 0;
        }
        if (poll(pf, conns, 100) < 0 && errno != EINTR)
            return failf("poll: %s", strerror(errno));
        for (size_t i = 0; i < conns; i++) {
            int r = 0;
            if (pf[i].fd < 0 || !pf[i].revents)
                continue;
            if (!(pf[i].revents & (POLLERR | POLLHUP)))
                r = st_send(&ss[i], CHUNK);
            if (r == -ECONNRESET || r == -EPIPE || (pf[i].revents & (POLLERR | POLLHUP))) {
                close(ss[i].fd);
                ss[i].fd = -1;
                closed++;
            } else if (r < 0) {
                return failf("conn %u: send: %s", ss[i].id, strerror(-r));
            } else if (r > 0) {
                last = now_ms();
            }
        }
    }
    for (size_t i = 0; i < conns; i++) {
        if (ss[i].sent == bytes)
            return failf("connection %zu: the server took all %llu bytes with none of their "
                         "echo read: no backpressure",
                         i + 1, (unsigned long long)bytes);
        sent += ss[i].sent;
    }
    printf("filled %zu connections: %llu bytes written, none read (%zu closed meanwhile)\n", conns,
           sent, closed);
    if (tcp_connect(port, &fd) || round_trip(fd, 999, 100000))
        return failf("another client was not served while %zu connections were stuck", conns);
    close(fd);
    end = now_ms() + (long long)seconds * 1000;
    while (closed < conns) {
        if (now_ms() > end)
            return failf("%zu of %zu stuck connections were not closed by the server within %u s",
                         conns - closed, conns, seconds);
        for (size_t i = 0; i < conns; i++) {
            pf[i].fd = ss[i].fd;
            pf[i].events = 0;
            pf[i].revents = 0;
        }
        if (poll(pf, conns, 100) < 0 && errno != EINTR)
            return failf("poll: %s", strerror(errno));
        for (size_t i = 0; i < conns; i++) {
            if (ss[i].fd >= 0 && (pf[i].revents & (POLLERR | POLLHUP))) {
                close(ss[i].fd);
                ss[i].fd = -1;
                closed++;
            }
        }
    }
    printf("ok noread %zu connections stopped at %llu bytes in all (backpressure), another "
           "client served, all closed by the server\n",
           conns, sent);
    return 0;
}

static int cmd_closed(unsigned port)
{
    int fd;

    if (tcp_connect(port, &fd))
        return 1;
    if (!closed_by_peer(fd, TIMEOUT_MS))
        return failf("the connection was not closed by the server");
    close(fd);
    printf("ok closed the server closed the connection at once\n");
    return 0;
}

/* Peers that vanish: one resets while the server has bytes for it, one closes without
 * reading its echo. The server must survive both (no SIGPIPE) and keep serving. */
static int cmd_reset(unsigned port)
{
    struct linger lg = {1, 0};
    struct st s;
    int keep, fd;

    if (tcp_connect(port, &keep) || round_trip(keep, 1, 100))
        return failf("not served");
    for (int k = 0; k < 20; k++) {
        memset(&s, 0, sizeof s);
        s.id = 40;
        s.total = 1 << 20;
        if (tcp_connect(port, &fd))
            return 1;
        /* Write until the server stops taking bytes (its echoes pile up unread). */
        s.fd = fd;
        if (pump(&s, 1, 0, 1, 200))
            return 1;
        if (k % 2)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg); /* RST on close */
        close(fd);
    }
    if (round_trip(keep, 2, 100000))
        return failf("the other connection stopped being served");
    close(keep);
    if (tcp_connect(port, &fd) || round_trip(fd, 3, 1000))
        return failf("a new connection was not served");
    close(fd);
    printf("ok reset 20 vanished peers (10 reset); the server kept serving\n");
    return 0;
}

static int cmd_emfile(unsigned port, size_t extra, unsigned seconds)
{
    static int xfds[4096];
    size_t shed = 0, rounds = 0;
    long long end;
    int live;

    if (extra > 4096)
        return failf("too many");
    if (tcp_connect(port, &live) || round_trip(live, 1, 100))
        return failf("the first connection was not served");
    for (size_t i = 0; i < extra; i++) {
        /* The kernel completes these handshakes from the backlog even when the server
         * cannot accept; some may time out once the backlog is full: that is fine. */
        struct ea_addr a = loopback(port);
        if (ns_connect(&a, SOCK_STREAM, NULL, 1000, &xfds[i]) != 0)
            xfds[i] = -1;
    }
    end = now_ms() + (long long)seconds * 1000;
    while (now_ms() < end) {
        if (round_trip(live, (uint32_t)(2 + rounds), 1000))
            return failf("the live connection stopped echoing while out of descriptors");
        rounds++;
        usleep(100000);
    }
    for (size_t i = 0; i < extra; i++) {
        if (xfds[i] >= 0 && closed_by_peer(xfds[i], 0))
            shed++;
        if (xfds[i] >= 0)
            close(xfds[i]);
    }
    close(live);
    printf("ok emfile live connection echoed %zu times; %zu of %zu extra connections were "
           "closed by the server\n",
           rounds, shed, extra);
    return 0;
}

/* Broken servers for echo-client's failure tests. */
static int cmd_serve(const char *mode)
{
    struct ea_addr a = loopback(0), got;
    int lfd, ufd, flip = strcmp(mode, "flip") == 0;
    int conns[64];
    size_t nconn = 0;
    char text[EA_FORMAT_MAX];

    if (!flip && strcmp(mode, "mute") != 0)
        return failf("unknown serve mode '%s'", mode);
    if (ns_listen(&a, SOCK_STREAM, 0, &lfd) || ns_local_addr(lfd, &got))
        return failf("listen: %s", strerror(errno));
    if (ns_listen(&got, SOCK_DGRAM, 0, &ufd))
        return failf("udp listen: %s", strerror(errno));
    printf("listening tcp %s\nlistening udp %s\n", ns_format(&got, text, sizeof text), text);
    fflush(stdout);
    for (;;) {
        struct pollfd pf[66];
        size_t n = 0;
        pf[n].fd = lfd, pf[n++].events = POLLIN;
        pf[n].fd = ufd, pf[n++].events = POLLIN;
        for (size_t i = 0; i < nconn; i++)
            pf[n].fd = conns[i], pf[n++].events = POLLIN;
        if (poll(pf, n, -1) < 0)
            continue;
        if ((pf[0].revents & POLLIN) && nconn < 64) {
            int fd;
            if (ns_accept(lfd, &fd, NULL) == 0)
                conns[nconn++] = fd;
        }
        if (pf[1].revents & POLLIN) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            ssize_t k = recvfrom(ufd, buf, sizeof buf, 0, (struct sockaddr *)&ss, &sl);
            if (k > 0 && flip) {
                buf[0] ^= 0x20;
                sendto(ufd, buf, (size_t)k, 0, (struct sockaddr *)&ss, sl);
            }
        }
        for (size_t i = 0; i < nconn; i++) {
            if (!(pf[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t k = recv(conns[i], buf, sizeof buf, MSG_DONTWAIT);
            if (k == 0 || (k < 0 && errno != EAGAIN)) {
                close(conns[i]);
                conns[i] = conns[--nconn];
                break;
            }
            if (k > 0 && flip) {
                buf[0] ^= 0x20;
                send(conns[i], buf, (size_t)k, MSG_NOSIGNAL);
            }
        }
    }
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    unsigned port =
        argc > 2 && strcmp(cmd, "serve") && strcmp(cmd, "udp-from") ? (unsigned)num(argv[2]) : 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(cmd, "rounds") && argc == 4)
        return cmd_rounds(port, (unsigned)num(argv[3]));
    if (!strcmp(cmd, "stream") && (argc == 4 || argc == 5))
        return cmd_stream(port, num(argv[3]), argc == 5 ? (size_t)num(argv[4]) : 1);
    if (!strcmp(cmd, "writefirst") && argc == 4)
        return cmd_writefirst(port, num(argv[3]));
    if (!strcmp(cmd, "halfclose") && argc == 4)
        return cmd_halfclose(port, num(argv[3]));
    if (!strcmp(cmd, "udp") && (argc == 4 || argc == 5))
        return cmd_udp(port, (size_t)num(argv[3]), argc == 5 ? (unsigned)num(argv[4]) : 0, 0);
    if (!strcmp(cmd, "udp-none") && argc == 5)
        return cmd_udp(port, (size_t)num(argv[3]), (unsigned)num(argv[4]), 1);
    if (!strcmp(cmd, "udp-from") && argc == 3)
        return cmd_udp_from(argv[2]);
    if (!strcmp(cmd, "freeport") && argc == 2)
        return cmd_freeport();
    if (!strcmp(cmd, "maxconns") && argc == 5)
        return cmd_maxconns(port, (size_t)num(argv[3]), (size_t)num(argv[4]));
    if (!strcmp(cmd, "emfile") && argc == 5)
        return cmd_emfile(port, (size_t)num(argv[3]), (unsigned)num(argv[4]));
    if (!strcmp(cmd, "reset") && argc == 3)
        return cmd_reset(port);
    if (!strcmp(cmd, "closed") && argc == 3)
        return cmd_closed(port);
    if (!strcmp(cmd, "idle") && argc == 4)
        return cmd_idle(port, (unsigned)num(argv[3]));
    if (!strcmp(cmd, "noread") && argc == 6)
        return cmd_noread(port, (size_t)num(argv[3]), num(argv[4]), (unsigned)num(argv[5]));
    if (!strcmp(cmd, "serve") && argc == 3)
        return cmd_serve(argv[2]);
    fprintf(stderr,
            "usage: itest rounds|stream|writefirst|halfclose|udp|udp-none|udp-from|freeport|"
            "maxconns|emfile|idle|noread|serve ... (see itest.c)\n");
    return 2;
}
