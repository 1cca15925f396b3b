/*
 * quirk.c - echo servers with one subtle defect each, for echo-conform's own tests
 * (tests/conform-echod/run.sh): defects that only show with large datagrams, late, or on an
 * idle connection, which the fixtures in tests/fixtures/ do not cover. It reuses their
 * correct poll() engine (fixture.h, read-only) and overrides one hook per mode. Not an RFC
 * 862 server by design: each mode breaks RFC 862 (or RFC 768 / RFC 1122 for the reply's
 * source) once.
 *
 * usage: quirk MODE [--port N] [--lifetime SECONDS], MODE one of:
 *   udp-dup-big      answers datagrams of more than 1024 bytes twice
 *   udp-dup-late     answers every datagram, and again 600 ms later
 *   udp-port-big     answers datagrams of more than 1024 bytes from a second socket (port)
 *   udp-addr-other   also takes datagrams on 127.0.0.2 (same port) and answers them from
 *                    127.0.0.1, the right port but another address (RFC 1122 3.3.4.2)
 *   tcp-idle-talk    sends 14 bytes of its own on a connection idle for 1 s (once)
 *   tcp-idle-deaf    stops echoing on a connection once it has been idle for 1 s
 *   tcp-halfclose-rst  after the client's FIN, echoes everything, then resets (RST), no FIN
 *   tcp-rst-4k       echoes the first 4096 bytes of a connection, then resets it
 *   tcp-flip-20      flips the byte at offset 20 of every connection's echo
 *   tcp-reset-7th    resets the 7th connection it accepts at once (the 1st is the preflight)
 */
#include "fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

enum { IDLE_MS = 1000, LATE_MS = 600, MAX_FD = 1024, LATE_Q = 16 };

static unsigned char flag[MAX_FD]; /* per connection fd: the mode's one-off has happened */

static int reset_7th;

static void tcp_open(struct fx_conn *c)
{
    static unsigned accepted;

    if (c->fd >= 0 && c->fd < MAX_FD)
        flag[c->fd] = 0;
    if (++accepted == 7 && reset_7th) {
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        c->closing = 1;
    }
}

static void flip_data(struct fx_conn *c, const uint8_t *p, size_t n)
{
    uint8_t b[FX_READ_MAX];

    memcpy(b, p, n);
    if (c->nread <= 20 && c->nread + n > 20)
        b[20 - c->nread] ^= 1;
    fx_put(c, b, n);
}

static int idle_now(const struct fx_conn *c, int64_t now_ms)
{
    return c->fd >= 0 && c->fd < MAX_FD && !flag[c->fd] && c->nwritten > 0 &&
           fx_pending(c) == 0 && now_ms - c->last_ms > IDLE_MS;
}

static void talk_tick(struct fx_conn *c, int64_t now_ms)
{
    if (idle_now(c, now_ms)) {
        flag[c->fd] = 1;
        fx_put(c, "idle\x01" "chatter\r\n", 14);
    }
}

static void deaf_tick(struct fx_conn *c, int64_t now_ms)
{
    if (idle_now(c, now_ms))
        flag[c->fd] = 1;
}

static void deaf_data(struct fx_conn *c, const uint8_t *p, size_t n)
{
    if (!(c->fd >= 0 && c->fd < MAX_FD && flag[c->fd]))
        fx_put(c, p, n);
}

static void set_rst(int fd)
{
    struct linger lg = {1, 0};

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

static int halfclose_eof(struct fx_conn *c)
{
    set_rst(c->fd); /* the engine flushes, then close() sends RST instead of FIN */
    return 0;
}

static void rst4k_data(struct fx_conn *c, const uint8_t *p, size_t n)
{
    if (c->nread < 4096)
        fx_put(c, p, n < 4096 - c->nread ? n : (size_t)(4096 - c->nread));
    if (c->nread + n >= 4096 && c->fd >= 0 && c->fd < MAX_FD)
        flag[c->fd] = 1;
}

static void rst4k_tick(struct fx_conn *c, int64_t now_ms)
{
    (void)now_ms;
    if (c->fd >= 0 && c->fd < MAX_FD && flag[c->fd] && fx_pending(c) == 0) {
        set_rst(c->fd);
        c->closing = 1;
    }
}

static void reply(int fd, const uint8_t *p, size_t n, const struct sockaddr_in *from)
{
    sendto(fd, p, n, 0, (const struct sockaddr *)from, sizeof *from);
}

static void dup_big(int fd, const uint8_t *p, size_t n, const struct sockaddr_in *from)
{
    reply(fd, p, n, from);
    if (n > 1024)
        reply(fd, p, n, from);
}

static void port_big(int fd, const uint8_t *p, size_t n, const struct sockaddr_in *from)
{
    static int other = -1;

    if (n <= 1024) {
        reply(fd, p, n, from);
        return;
    }
    if (other < 0)
        other = socket(AF_INET, SOCK_DGRAM, 0);
    reply(other, p, n, from);
}

/* udp-addr-other: datagrams to 127.0.0.2:PORT arrive here; the engine's socket, bound to
 * 127.0.0.1:PORT, answers them, so the reply's port is right and its address is not. UDP only;
 * the engine exits 2 when 127.0.0.1:PORT is taken (the caller retries). */
static int alt_fd = -1;

static void addr_tick(int fd, int64_t now_ms)
{
    uint8_t b[65536];
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t n;

    (void)now_ms;
    while ((n = recvfrom(alt_fd, b, sizeof b, 0, (struct sockaddr *)&from, &len)) >= 0) {
        reply(fd, b, (size_t)n, &from);
        len = sizeof from;
    }
}

/* Binds alt_fd to 127.0.0.2 on an ephemeral port and returns the port (0 on failure). */
static unsigned open_alt(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(0x7f000002);
    alt_fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (alt_fd < 0 || bind(alt_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        getsockname(alt_fd, (struct sockaddr *)&sa, &len) < 0 ||
        fcntl(alt_fd, F_SETFL, O_NONBLOCK) < 0)
        return 0;
    return ntohs(sa.sin_port);
}

static struct late {
    int64_t due;
    struct sockaddr_in to;
    size_t n;
    uint8_t p[65536];
} late[LATE_Q];

static void dup_late(int fd, const uint8_t *p, size_t n, const struct sockaddr_in *from)
{
    reply(fd, p, n, from);
    for (int i = 0; i < LATE_Q; i++)
        if (!late[i].due) {
            late[i].due = fx_now_ms() + LATE_MS;
            late[i].to = *from;
            late[i].n = n;
            memcpy(late[i].p, p, n);
            return;
        }
}

static void late_tick(int fd, int64_t now_ms)
{
    for (int i = 0; i < LATE_Q; i++)
        if (late[i].due && now_ms >= late[i].due) {
            reply(fd, late[i].p, late[i].n, &late[i].to);
            late[i].due = 0;
        }
}

int main(int argc, char **argv)
{
    struct fx_ops ops;
    const char *mode = argc > 1 ? argv[1] : "";

    memset(&ops, 0, sizeof ops);
    ops.transports = FX_TCP | FX_UDP;
    ops.tcp_open = tcp_open;
    if (strcmp(mode, "udp-dup-big") == 0)
        ops.udp_data = dup_big;
    else if (strcmp(mode, "udp-dup-late") == 0)
        ops.udp_data = dup_late, ops.udp_tick = late_tick;
    else if (strcmp(mode, "udp-port-big") == 0)
        ops.udp_data = port_big;
    else if (strcmp(mode, "udp-addr-other") == 0) {
        /* The engine binds 127.0.0.1 on the port 127.0.0.2 got: "--port N" is rewritten. */
        static char port[16];
        unsigned p = open_alt();
        if (!p) {
            fprintf(stderr, "quirk: cannot bind 127.0.0.2\n");
            return 3;
        }
        snprintf(port, sizeof port, "%u", p);
        for (int i = 2; i + 1 < argc; i++)
            if (strcmp(argv[i], "--port") == 0)
                argv[i + 1] = port;
        ops.udp_tick = addr_tick;
        ops.transports = FX_UDP; /* no TCP bind that a busy 127.0.0.1:N could refuse */
    }
    else if (strcmp(mode, "tcp-idle-talk") == 0)
        ops.tcp_tick = talk_tick;
    else if (strcmp(mode, "tcp-idle-deaf") == 0)
        ops.tcp_tick = deaf_tick, ops.tcp_data = deaf_data;
    else if (strcmp(mode, "tcp-halfclose-rst") == 0)
        ops.tcp_eof = halfclose_eof;
    else if (strcmp(mode, "tcp-rst-4k") == 0)
        ops.tcp_tick = rst4k_tick, ops.tcp_data = rst4k_data;
    else if (strcmp(mode, "tcp-flip-20") == 0)
        ops.tcp_data = flip_data;
    else if (strcmp(mode, "tcp-reset-7th") == 0)
        reset_7th = 1;
    else {
        fprintf(stderr, "quirk: unknown mode '%s'\n", mode);
        return 2;
    }
    /* argv + 1: the engine reads its own options after the mode, as if it were argv[0]. */
    return fx_serve(argc - 1, argv + 1, &ops);
}
