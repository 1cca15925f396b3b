/*
 * fuzz_server.c - fuzzes the echo server in-process at the network level: the real glue
 * (net/loop, net/tcp, net/udp with the core behind them), set up once per process on
 * 127.0.0.1 ephemeral ports (or unix sockets, see below), driven by a script of client
 * actions over loopback sockets:
 * connect, write, read, shut down, reset, close, run the loop, send a datagram. The loop
 * runs with zero timeouts only, so an execution never sleeps unless the kernel is late.
 *
 * Oracle (RFC 862 over RFC 9293 and RFC 768): every byte a client reads equals the byte it
 * wrote at that offset; a served connection is never closed or reset by the server before
 * the client shuts down, and after that it gets every byte back, then EOF; a connection is
 * refused (closed at once, nothing echoed) exactly when every slot was taken or the access
 * check said no; the server never holds more than max_conns; a datagram's reply is the
 * same bytes, exactly once. At the end of each input every client is finished and the server
 * must release every connection, so no state leaks into the next input (AFL++ stability).
 *
 * Determinism (AFL++ stability): when it may, the target moves into a network namespace of
 * its own whose loopback acknowledges every segment at once (private_net()), so no delayed-
 * ACK or loss-probe timer fires mid-input, and no idle connection restarts slow start (its
 * congestion window would depend on how long the process was preempted); sockets use Reno,
 * which does not pace; one datagram echoed after each input resets the UDP server's batch
 * state. Segmentation offload
 * is off there in AFL++ builds (FUZZ_SERVER_NO_GSO=1 under libFuzzer; see loopback_quickack()).
 * Before each loop round, send and recv it waits until no segment is in flight
 * (kernel_quiet()): on a busy machine loopback delivers later. Over TCP a client's send
 * buffer (the header's choice) is a limit in bytes kept by the harness, the kernel's being
 * far larger, so how much a send() takes never depends on which of its segments were
 * acknowledged while it copied (do_write()). Likewise the server's own writes (sendmsg,
 * send, splice into a connection) are made in pieces, each once its socket's earlier segments
 * were acknowledged (write_pieces(), linked in with --wrap), and every datagram is in the
 * UDP server's queue before the next is sent (udp_send()), and a reply the server sent is
 * waited for instead of running the loop again (udp_reply()).
 * Where it may not (unprivileged containers, OSS-Fuzz, ClusterFuzzLite; FUZZ_SERVER_HOST_NET=1
 * forces it), TCP over the host's loopback runs whenever the machine lets its softirqs and
 * timers run, so the two stream servers listen on AF_UNIX stream sockets instead: the same
 * glue (accept, read, write, splice, half-close, shedding) with the same client actions, and
 * a unix socket has nothing that runs later (see unix_listener()); the UDP server stays on
 * 127.0.0.1. FUZZ_SERVER_HOST_TCP=1 keeps TCP on the host's loopback.
 *
 * Input: a 4-byte header (client receive buffer, client send buffer, a mask of connections
 * the access check refuses, 1 reserved byte), then 3-byte actions (op, arg hi, arg lo).
 * op & 7 is the action: 0 connect, 1 write arg bytes, 2 read (arg: at most; 0: all there
 * is), 3 shut down, 4 reset (RST), 5 close, 6 run arg % 17 loop rounds (0: until quiet;
 * bit 15: until quiet, out of descriptors), 7 send 1 + (op >> 4) datagrams of arg % 65508
 * bytes. Bits 4-5 of op pick one of N_CLIENTS clients.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz.h"
#include "net/loop.h"
#include "net/sock.h"
#include "net/tcp.h"
#include "net/udp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

#define N_CLIENTS 4 /* one more than a server's slots, so refusals happen */
#define N_SERVERS 2
#define MAX_CONNS 3u
#define POOL_MAX 2u
#define IDLE_MS 0u /* no idle timers: their heap order would depend on the clock */
#define MSS 1024   /* segment size both ways, see setup() */
#define MAX_ACTIONS 256u
#define MAX_CONNECTS 32u /* well under the listen backlog: no SYN is ever dropped */
#define BACKLOG 128
#define MAX_ROUNDS 100000      /* loop rounds before "the server never goes quiet" */
#define UDP_BURST_BYTES 98304u /* well inside any UDP socket buffer (rmem_default 208 KiB) */
#define SLOW_BUDGET_MS 3000    /* total time one input may wait for the kernel */
#define QUIET_TRIES 100        /* yields one wait on the kernel may take (quiet_turn()) */

/* Payload: a fixed pseudo-random table read cyclically from a seed-dependent start; its
 * period (a prime) is longer than any write, so a byte at a wrong offset shows. */
#define PERIOD 65521u
static uint8_t table[2 * PERIOD];

static const uint8_t *pattern_at(uint8_t seed, uint64_t off)
{
    return table + (off + (uint64_t)seed * 257u) % PERIOD;
}

/* Two TCP servers on one loop. Server 0 has a small cap and small socket buffers (the
 * kernel doubles them): backpressure after a few KiB, pooled storage. Server 1's cap and
 * buffers let one read fill 32 KiB, which puts a bulk stream on the splice path (pipes,
 * held bytes). */
static const struct {
    size_t cap;
    int sock_buf;
} srv_conf[N_SERVERS] = {{1024, 4096}, {32768, 65536}};

/* Client socket buffer sizes, picked by the input's header. */
static const int client_buf[4] = {4096, 8192, 32768, 131072};
/* Over TCP, the kernel's send buffer for every client: the largest limit above and the
 * largest write, with the kernel's overhead per buffer, fit many times over. */
#define CLIENT_SNDBUF (4 << 20)

struct server {
    struct nt_server tcp;
    struct sockaddr_in addr;
    struct sockaddr_un uaddr; /* with unix_streams: the listener's abstract name */
    socklen_t ulen;
    uint32_t n_pending; /* connects it has not taken yet */
    /* With unix_streams, the accept hook cannot tell connections apart by address: the
     * connect numbers, in the order the listener queued them (connect order). */
    uint32_t queue[MAX_CONNECTS], q_head, q_tail;
};

enum verdict { V_UNKNOWN = 0, V_SERVED, V_REFUSED };

struct client {
    int fd;        /* -1: no socket */
    uint16_t port; /* local port, to match the server's accept */
    uint8_t srv;   /* which server it connected to */
    uint8_t seed;
    uint8_t verdict; /* enum verdict, from the accept hook */
    uint32_t seq;    /* connect number within the input */
    uint64_t sent, rcvd;
    size_t send_limit; /* over TCP: bytes it may have unacknowledged, see do_write() */
    int shut;          /* the client shut down its write side */
    int done;          /* EOF or reset seen: nothing more to read */
};

static struct {
    int ready;
    int verbose;      /* FUZZ_SERVER_VERBOSE set: one line per input on stderr */
    int private_net;  /* in a network namespace of its own, see private_net() */
    int unix_streams; /* the TCP servers listen on AF_UNIX stream sockets, see setup() */
    struct nl_loop loop;
    struct server srv[N_SERVERS];
    struct nu_server udp;
    struct sockaddr_in udp_addr;
    int ufd; /* the clients' UDP socket */
    /* Per input: */
    struct client cl[N_CLIENTS];
    uint32_t n_connects;
    uint8_t deny_mask;
    uint8_t rcvbuf, sndbuf; /* header choices for client sockets */
    uint64_t echoed;        /* bytes the clients read back */
    uint64_t pred_served, pred_refused;
    int64_t slow_ms;
    uint32_t quiet_yields, quiet_giveups; /* quiet_turn(): for FUZZ_SERVER_VERBOSE */
    int shedding; /* starve_settle(): the listeners' queues empty unseen by the accept hook */
    uint8_t buf[65536];
} g;

/* The harness itself is left uninstrumented (FUZZ_ORACLE): how often its loops turn
 * depends on the kernel's timing, and the fuzzer should steer by the server's code. */
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

FUZZ_ORACLE static void fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("fuzz_server: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* The access check sees every accepted connection, in accept order, before the server
 * decides: it predicts the decision (refused when the mask says so or every slot is taken)
 * and pins it on the client with that port. */
FUZZ_ORACLE static int allow_hook(void *ctx, const struct ea_addr *peer)
{
    struct server *sv = ctx;
    int allow = 1, full = sv->tcp.n_live >= sv->tcp.cfg.max_conns;
    uint32_t seq = UINT32_MAX; /* with unix_streams: the connect this accept is */

    if (g.unix_streams && sv->q_head < sv->q_tail)
        seq = sv->queue[sv->q_head++];
    for (int i = 0; i < N_CLIENTS; i++) {
        struct client *c = &g.cl[i];
        if (c->fd < 0 || c->verdict != V_UNKNOWN || &g.srv[c->srv] != sv ||
            (g.unix_streams ? c->seq != seq : c->port != peer->port))
            continue;
        allow = !(c->seq < 8 && (g.deny_mask >> c->seq) & 1);
        c->verdict = !allow || full ? V_REFUSED : V_SERVED;
        break;
    }
    /* A client that already closed its socket is counted too; the server decides anyway. */
    if (sv->n_pending)
        sv->n_pending--;
    if (!allow || full)
        g.pred_refused++;
    else
        g.pred_served++;
    return allow;
}

static void warm_up(void);

/* Congestion control without pacing: BBR (a common default) paces segments out with a
 * timer of its own, so when a send goes out would depend on the clock. Reno is built into
 * every Linux kernel and allowed without privilege; the socket keeps its default if refused.
 * Accepted sockets inherit the listener's choice. */
FUZZ_ORACLE static void no_pacing(int fd)
{
    static const char reno[] = "reno";

    (void)setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, reno, sizeof reno - 1);
}

/* Appends attribute type with len bytes of data to the netlink message at nh. */
FUZZ_ORACLE static void nl_attr(struct nlmsghdr *nh, unsigned short type, const void *data,
                                unsigned short len)
{
    struct rtattr *ra = (struct rtattr *)(void *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

    ra->rta_type = type;
    ra->rta_len = (unsigned short)RTA_LENGTH(len);
    memcpy(RTA_DATA(ra), data, len);
    nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(ra->rta_len);
}

/* Segmentation offload off on the private loopback? See loopback_quickack(). */
FUZZ_ORACLE static bool want_no_gso(void)
{
#ifdef __AFL_COMPILER
    return getenv("FUZZ_SERVER_GSO") == NULL;
#else
    return getenv("FUZZ_SERVER_NO_GSO") != NULL;
#endif
}

/* Brings up loopback and replaces its 127.0.0.1 route with one that has the quickack metric
 * (what `ip route replace local 127.0.0.1 dev lo table local ... quickack 1` does): every
 * segment is acknowledged at once, so neither the delayed-ACK timer nor the loss probe it
 * provokes can change, mid-input, how much a socket takes. Returns 0 or -errno. */
FUZZ_ORACLE static int loopback_quickack(void)
{
    struct {
        struct nlmsghdr nh;
        struct rtmsg rt;
        char attrs[128];
    } req;
    struct {
        struct nlmsghdr nh;
        struct nlmsgerr err;
        char more[256];
    } ack;
    struct {
        struct rtattr ra;
        uint32_t v;
    } metric = {{RTA_LENGTH(sizeof(uint32_t)), RTAX_QUICKACK}, 1};
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    const struct timeval ack_wait = {.tv_sec = 2};
    struct ifreq ifr;
    uint32_t lo_addr = htonl(INADDR_LOOPBACK);
    int ifindex, fd, rc = 0;
    ssize_t n;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0 ||
        (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) != 0))
        rc = -errno;
    /* No segmentation offload: TCP never sizes or defers a multi-segment send by its RTT and
     * clock (steadier, about half as fast). The default in AFL++ builds, whose calibration
     * counts every varying edge (FUZZ_SERVER_GSO=1 keeps offload); FUZZ_SERVER_NO_GSO=1
     * asks for it under libFuzzer too. */
    if (!rc && want_no_gso()) {
        struct ethtool_value tso = {ETHTOOL_STSO, 0}, gso = {ETHTOOL_SGSO, 0};
        if ((ifr.ifr_data = (char *)&tso, ioctl(fd, SIOCETHTOOL, &ifr) != 0) ||
            (ifr.ifr_data = (char *)&gso, ioctl(fd, SIOCETHTOOL, &ifr) != 0))
            rc = -errno;
    }
    close(fd);
    ifindex = (int)if_nametoindex("lo");
    if (rc || !ifindex)
        return rc ? rc : -ENODEV;

    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.rt);
    req.nh.nlmsg_type = RTM_NEWROUTE;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
    req.rt.rtm_family = AF_INET;
    req.rt.rtm_dst_len = 32;
    req.rt.rtm_table = RT_TABLE_LOCAL;
    req.rt.rtm_protocol = RTPROT_KERNEL;
    req.rt.rtm_scope = RT_SCOPE_HOST;
    req.rt.rtm_type = RTN_LOCAL;
    nl_attr(&req.nh, RTA_DST, &lo_addr, sizeof lo_addr);
    nl_attr(&req.nh, RTA_PREFSRC, &lo_addr, sizeof lo_addr);
    nl_attr(&req.nh, RTA_OIF, &ifindex, sizeof ifindex);
    nl_attr(&req.nh, RTA_METRICS, &metric, sizeof metric);
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -errno;
    /* The kernel acknowledges at once; the timeout only keeps this wait bounded too. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &ack_wait, sizeof ack_wait) < 0 ||
        sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0 ||
        (n = recv(fd, &ack, sizeof ack, 0)) < 0)
        rc = -errno;
    else if (n < (ssize_t)NLMSG_LENGTH(sizeof ack.err) || ack.nh.nlmsg_type != NLMSG_ERROR)
        rc = -EPROTO;
    else
        rc = ack.err.error;
    close(fd);
    return rc;
}

/* Maps id to itself in the new user namespace (file is uid_map or gid_map). */
FUZZ_ORACLE static int write_map(const char *file, unsigned id)
{
    char text[64];
    int fd = open(file, O_WRONLY | O_CLOEXEC), ok;

    if (fd < 0)
        return -1;
    snprintf(text, sizeof text, "%u %u 1\n", id, id);
    ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    close(fd);
    return ok ? 0 : -1;
}

/* Writes val to a sysctl file (of this network namespace under /proc/sys/net). */
FUZZ_ORACLE static int write_sysctl(const char *file, const char *val)
{
    int fd = open(file, O_WRONLY | O_CLOEXEC), rc = 0;
    size_t n = strlen(val);
    ssize_t m;

    if (fd < 0)
        return -errno;
    m = write(fd, val, n);
    if (m != (ssize_t)n)
        rc = m < 0 ? -errno : -EIO;
    close(fd);
    return rc;
}

/* Moves the process into a network namespace of its own, best effort (FUZZ_SERVER_HOST_NET
 * set: never): its loopback carries nothing but this target's traffic and acknowledges every
 * segment at once (loopback_quickack). Without the privilege (CAP_SYS_ADMIN, or unprivileged
 * user namespaces) the target runs on the host's loopback, only less stable under AFL++. */
FUZZ_ORACLE static void private_net(void)
{
    unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();
    int rc;

    if (getenv("FUZZ_SERVER_HOST_NET"))
        return;
    if (unshare(CLONE_NEWNET) != 0) {
        int fd;

        if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
            return;
        fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            (void)!write(fd, "deny", 4);
            close(fd);
        }
        if (write_map("/proc/self/uid_map", uid) != 0 || write_map("/proc/self/gid_map", gid) != 0)
            fail("user namespace: cannot map uid %u / gid %u", uid, gid);
    }
    g.private_net = 1;
    if ((rc = loopback_quickack()) != 0)
        fail("private network namespace: loopback set-up: %s", strerror(-rc));
    /* A connection idle for longer than its RTO (200 ms; an input may be preempted that long
     * on a busy machine) would restart slow start and decay its congestion window: how much
     * of a later write goes out at once, and so how much send() takes, would depend on the
     * clock. The namespace's own setting, the host's is untouched; best effort (a user
     * namespace on an older kernel may not own it). */
    if ((rc = write_sysctl("/proc/sys/net/ipv4/tcp_slow_start_after_idle", "0")) != 0 &&
        getenv("FUZZ_SERVER_VERBOSE"))
        fprintf(stderr, "fuzz_server: tcp_slow_start_after_idle stays on: %s\n", strerror(-rc));
}

/* The fallback stream transport (unix_streams): a listening AF_UNIX stream socket under an
 * abstract name of this process's own (nothing in the file system; AFL++'s children share
 * it with the forkserver). A unix socket has no acknowledgements, timers or softirq: a send
 * is in the peer's queue when it returns, so the same input takes the same path. */
FUZZ_ORACLE static int unix_listener(struct server *sv, int k)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), n;

    if (fd < 0)
        fail("socket unix: %s", strerror(errno));
    memset(&sv->uaddr, 0, sizeof sv->uaddr);
    sv->uaddr.sun_family = AF_UNIX;
    n = snprintf(sv->uaddr.sun_path + 1, sizeof sv->uaddr.sun_path - 1,
                 "echoharness-fuzz_server-%ld-%d", (long)getpid(), k);
    sv->ulen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    if (bind(fd, (struct sockaddr *)&sv->uaddr, sv->ulen) != 0 || listen(fd, BACKLOG) != 0)
        fail("listen unix: %s", strerror(errno));
    return fd;
}

FUZZ_ORACLE static void setup(void)
{
    struct nt_config tc;
    struct ed_policy pol;
    struct ea_addr a;
    socklen_t len;
    int ufd, rc;
    uint32_t x = 2463534242u;

    for (size_t i = 0; i < PERIOD; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        table[i] = table[i + PERIOD] = (uint8_t)(x >> 24);
    }
    for (int i = 0; i < N_CLIENTS; i++)
        g.cl[i].fd = -1;
    private_net();
    /* Without a namespace of its own, TCP over the host's loopback varies with the machine's
     * load (when softirqs and delayed-ACK timers run), so the TCP servers listen on AF_UNIX
     * stream sockets instead (same glue: accept, read, write, splice, half-close; UDP stays
     * on 127.0.0.1). FUZZ_SERVER_HOST_TCP=1 keeps TCP on the host's loopback. */
    g.unix_streams = !g.private_net && getenv("FUZZ_SERVER_HOST_TCP") == NULL;
    g.verbose = getenv("FUZZ_SERVER_VERBOSE") != NULL;
    if (g.verbose)
        fprintf(stderr, "fuzz_server: %s\n",
                g.private_net    ? "a network namespace of its own: TCP over its loopback"
                : g.unix_streams ? "the host's network: stream servers on AF_UNIX sockets"
                                 : "the host's network: TCP over its loopback");
    /* The splice path cannot ask for MSG_NOSIGNAL: a program serving TCP ignores SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    if ((rc = nl_init(&g.loop, N_SERVERS * (MAX_CONNS + 1) + 2)) != 0)
        fail("nl_init: %s", ns_strerror(rc));
    ed_policy_default(&pol);
    if ((rc = nu_init(&g.udp, &g.loop, &pol)) != 0)
        fail("nu_init: %s", ns_strerror(rc));

    memset(&a, 0, sizeof a);
    a.family = EA_INET;
    a.ip[0] = 127, a.ip[3] = 1;
    for (int k = 0; k < N_SERVERS; k++) {
        struct server *sv = &g.srv[k];
        int tfd;

        memset(&tc, 0, sizeof tc);
        tc.cap = srv_conf[k].cap;
        tc.max_conns = MAX_CONNS;
        tc.idle_timeout_ms = IDLE_MS;
        tc.pool_max = POOL_MAX;
        tc.allow = allow_hook;
        tc.allow_ctx = sv;
        if ((rc = nt_init(&sv->tcp, &g.loop, &tc)) != 0)
            fail("nt_init: %s", ns_strerror(rc));
        if (g.unix_streams) {
            tfd = unix_listener(sv, k);
        } else {
            if ((rc = ns_listen(&a, SOCK_STREAM, BACKLOG, &tfd)) != 0)
                fail("listen tcp: %s", ns_strerror(rc));
            /* Accepted sockets inherit fixed buffers: no autotuning that would make one run
             * differ from the next. The segment size is clamped (here and on the clients) as on
             * a real network: with loopback's 64 KiB MSS every small window is "less than one
             * segment", and the sender would wait for its zero-window probe timer (hundreds of
             * ms) instead of sending at once. */
            (void)ns_set_int(tfd, SOL_SOCKET, SO_RCVBUF, srv_conf[k].sock_buf);
            (void)ns_set_int(tfd, SOL_SOCKET, SO_SNDBUF, srv_conf[k].sock_buf);
            (void)ns_set_int(tfd, IPPROTO_TCP, TCP_MAXSEG, MSS);
            no_pacing(tfd);
            len = sizeof sv->addr;
            if (getsockname(tfd, (struct sockaddr *)&sv->addr, &len) != 0)
                fail("getsockname: %s", strerror(errno));
        }
        if ((rc = nt_add_listener(&sv->tcp, tfd)) != 0)
            fail("nt_add_listener: %s", ns_strerror(rc));
    }
    if ((rc = ns_listen(&a, SOCK_DGRAM, 0, &ufd)) != 0)
        fail("listen udp: %s", ns_strerror(rc));
    if ((rc = nu_add_socket(&g.udp, ufd)) != 0)
        fail("nu_add_socket: %s", ns_strerror(rc));
    len = sizeof g.udp_addr;
    if (getsockname(ufd, (struct sockaddr *)&g.udp_addr, &len) != 0)
        fail("getsockname: %s", strerror(errno));

    g.ufd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (g.ufd < 0)
        fail("socket udp: %s", strerror(errno));
    (void)ns_set_int(g.ufd, SOL_SOCKET, SO_RCVBUF, 1 << 20);
    (void)ns_set_int(g.ufd, SOL_SOCKET, SO_SNDBUF, 1 << 20);
    g.ready = 1;
    warm_up();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (!g.ready)
        setup();
    return 0;
}

/* Checks what the server may never do, whatever the clients did. */
FUZZ_ORACLE static void check_server(void)
{
    for (int k = 0; k < N_SERVERS; k++) {
        const struct nt_server *t = &g.srv[k].tcp;
        if (t->n_live > t->cfg.max_conns)
            fail("server %d: %u live connections, more than max_conns %u", k, t->n_live,
                 t->cfg.max_conns);
        if (t->n_pool > t->cfg.pool_max)
            fail("server %d: %u pooled buffers, more than pool_max %u", k, t->n_pool,
                 t->cfg.pool_max);
    }
}

FUZZ_ORACLE static uint32_t live_conns(void)
{
    uint32_t n = 0;

    for (int k = 0; k < N_SERVERS; k++)
        n += g.srv[k].tcp.n_live;
    return n;
}

/* The servers' counters added up. */
FUZZ_ORACLE static struct nt_stats total_stats(void)
{
    struct nt_stats t;

    memset(&t, 0, sizeof t);
    for (int k = 0; k < N_SERVERS; k++) {
        const struct nt_stats *x = &g.srv[k].tcp.st;
        t.accepted += x->accepted;
        t.refused_full += x->refused_full;
        t.shed += x->shed;
        t.not_allowed += x->not_allowed;
        t.closed += x->closed;
        t.errors += x->errors;
        t.bytes += x->bytes;
        t.spliced += x->spliced;
        t.buf_allocs += x->buf_allocs;
    }
    return t;
}

/* On the host's loopback (no private_net()): sends every delayed ACK now, on both ends of
 * every connection (TCP_QUICKACK also leaves "interactive" mode, whose choice depends on the
 * clock), so fewer segments are left unacknowledged while the process may be preempted:
 * otherwise the delayed-ACK or loss-probe timer may fire in between, and how much a socket
 * takes next would depend on when that happened. */
FUZZ_ORACLE static void quick_acks(void)
{
    for (int i = 0; i < N_CLIENTS; i++)
        if (g.cl[i].fd >= 0)
            (void)ns_set_int(g.cl[i].fd, IPPROTO_TCP, TCP_QUICKACK, 1);
    for (int k = 0; k < N_SERVERS; k++) {
        const struct nt_server *t = &g.srv[k].tcp;
        for (uint32_t j = 0; j < t->n_fresh; j++)
            if (t->slots[j].io.fd >= 0)
                (void)ns_set_int(t->slots[j].io.fd, IPPROTO_TCP, TCP_QUICKACK, 1);
    }
}

/* With unix_streams: an accepted unix socket does not inherit the listener's buffer sizes,
 * and a unix stream holds at most the sender's send buffer in flight, so each server
 * connection gets what TCP would hold (its server's send buffer and the client's receive
 * buffer) before the server first runs it (its first events come in the round after the
 * accept). */
FUZZ_ORACLE static void server_bufs(void)
{
    for (int k = 0; k < N_SERVERS; k++) {
        const struct nt_server *t = &g.srv[k].tcp;
        for (uint32_t j = 0; j < t->n_fresh; j++)
            if (t->slots[j].io.fd >= 0)
                (void)ns_set_int(t->slots[j].io.fd, SOL_SOCKET, SO_SNDBUF,
                                 srv_conf[k].sock_buf + client_buf[g.rcvbuf & 3]);
    }
}

/* 1 when fd's TCP connection has a segment of its own in flight (data, SYN or FIN sent and
 * not yet acknowledged), or when fd listens and has fewer than want connections queued. */
FUZZ_ORACLE static int in_flight(int fd, uint32_t want)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;

    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return 0;
    if (ti.tcpi_state == TCP_LISTEN)
        return ti.tcpi_unacked < want; /* a listener's accept queue */
    return ti.tcpi_state == TCP_SYN_SENT || ti.tcpi_unacked != 0;
}

/* One turn of a bounded wait for the kernel (loopback delivers in a softirq, which on a busy
 * machine runs later): while *tries is under QUIET_TRIES, yields and returns 1; then counts a
 * give-up and returns 0. Every wait of the harness on the kernel goes through it. */
FUZZ_ORACLE static int quiet_turn(int *tries)
{
    if (*tries >= QUIET_TRIES) {
        g.quiet_giveups++;
        return 0;
    }
    ++*tries;
    g.quiet_yields++;
    sched_yield();
    return 1;
}

/* In the private namespace (every segment acknowledged at once): waits until every segment
 * the clients and the servers sent has been delivered and acknowledged, so what the next
 * recv, send or accept sees depends on the input alone. Loopback delivers through a softirq,
 * which on a busy machine runs later (in ksoftirqd, maybe on the other core). Bounded: a
 * segment the kernel only resends on a timer (a receive queue was full) is not waited for. */
FUZZ_ORACLE static void kernel_quiet(void)
{
    int tries = 0;

    if (!g.private_net)
        return;
    do {
        int busy = 0;

        for (int i = 0; i < N_CLIENTS && !busy; i++)
            if (g.cl[i].fd >= 0)
                busy = in_flight(g.cl[i].fd, 0);
        for (int k = 0; k < N_SERVERS && !busy; k++) {
            const struct nt_server *t = &g.srv[k].tcp;
            busy = !g.shedding && in_flight(t->lis[0].io.fd, g.srv[k].n_pending);
            for (uint32_t j = 0; j < t->n_fresh && !busy; j++)
                if (t->slots[j].io.fd >= 0)
                    busy = in_flight(t->slots[j].io.fd, 0);
        }
        if (!busy)
            return;
    } while (quiet_turn(&tries));
}

#ifdef FUZZ_SERVER_WRAP
/* The server's own writes, wrapped: the build links fuzz_server with
 * -Wl,--wrap=send,--wrap=sendmsg,--wrap=splice (fuzz/CMakeLists.txt; the glue is not
 * changed). kernel_quiet() before each loop round is not enough: within one round the server
 * writes, reads and writes again, and how much a write takes depends on how much of its
 * socket's send buffer the acknowledgements of its earlier segments have freed, which
 * loopback delivers either inline or later in ksoftirqd. So in the private namespace a write
 * on a server connection is made in pieces of at most WRAP_CHUNK bytes, each started with
 * nothing of that socket's in flight: a send() builds a segment per MSS here (no offload),
 * and from its 16th on it processes the acknowledgements that came in meanwhile, or not, if
 * they come later. The server sees one call that took what the pieces took together.
 * Elsewhere (and the clients' own calls) the calls go straight through. */
#define WRAP_CHUNK ((size_t)8 * MSS)

ssize_t __real_send(int fd, const void *p, size_t n, int flags);
ssize_t __real_sendmsg(int fd, const struct msghdr *mh, int flags);
ssize_t __real_splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t n,
                      unsigned flags);
ssize_t __wrap_send(int fd, const void *p, size_t n, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags);
ssize_t __wrap_splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t n,
                      unsigned flags);

/* 1 when fd is one of the servers' TCP connections in the private namespace. */
FUZZ_ORACLE static int server_conn(int fd)
{
    if (!g.private_net || fd < 0)
        return 0;
    for (int k = 0; k < N_SERVERS; k++) {
        const struct nt_server *t = &g.srv[k].tcp;
        for (uint32_t j = 0; j < t->n_fresh; j++)
            if (t->slots[j].io.fd == fd)
                return 1;
    }
    return 0;
}

/* Waits (at most QUIET_TRIES yields) until fd has no segment of its own in flight: what its
 * send buffer holds is then what was not sent yet. Only fd: other connections' segments
 * change nothing a write on it sees, and checking every socket before every write (as
 * kernel_quiet() does) cost about a fifth more CPU per execution. */
FUZZ_ORACLE static void quiet_for(int fd)
{
    int tries = 0;

    while (in_flight(fd, 0) && quiet_turn(&tries))
        ;
}

/* A write in pieces (see above): kind 0 send, 1 sendmsg, 2 splice from pipe fd_in. */
FUZZ_ORACLE static ssize_t write_pieces(int kind, int fd, const void *p, const struct msghdr *mh,
                                        int fd_in, size_t n, int flags)
{
    size_t done = 0;

    if (kind == 1) {
        n = 0;
        for (size_t i = 0; i < mh->msg_iovlen; i++)
            n += mh->msg_iov[i].iov_len;
    }
    for (;;) {
        size_t k = n - done < WRAP_CHUNK ? n - done : WRAP_CHUNK;
        ssize_t m;

        quiet_for(fd);
        if (kind == 0) {
            m = __real_send(fd, (const uint8_t *)p + done, k, flags);
        } else if (kind == 2) {
            m = __real_splice(fd_in, NULL, fd, NULL, k, (unsigned)flags);
        } else {
            /* The iovecs from offset done, k bytes of them. */
            struct iovec iov[8];
            struct msghdr sub = *mh;
            size_t skip = done, left = k, c = 0;

            for (size_t i = 0; i < mh->msg_iovlen && left; i++) {
                size_t len = mh->msg_iov[i].iov_len;
                if (skip >= len) {
                    skip -= len;
                    continue;
                }
                if (c == sizeof iov / sizeof iov[0])
                    fail("wrapped sendmsg: more than %zu iovecs", c);
                iov[c].iov_base = (uint8_t *)mh->msg_iov[i].iov_base + skip;
                iov[c].iov_len = len - skip < left ? len - skip : left;
                left -= iov[c++].iov_len;
                skip = 0;
            }
            sub.msg_iov = iov;
            sub.msg_iovlen = c;
            m = __real_sendmsg(fd, &sub, flags);
        }
        if (m < 0)
            return done ? (ssize_t)done : m;
        done += (size_t)m;
        if ((size_t)m < k || done == n)
            return (ssize_t)done;
    }
}

FUZZ_ORACLE ssize_t __wrap_send(int fd, const void *p, size_t n, int flags)
{
    if (!server_conn(fd))
        return __real_send(fd, p, n, flags);
    return write_pieces(0, fd, p, NULL, -1, n, flags);
}

FUZZ_ORACLE ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags)
{
    if (!server_conn(fd))
        return __real_sendmsg(fd, mh, flags);
    return write_pieces(1, fd, NULL, mh, -1, 0, flags);
}

FUZZ_ORACLE ssize_t __wrap_splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out,
                                  size_t n, unsigned flags)
{
    if (!off_in && !off_out && server_conn(fd_out))
        return write_pieces(2, fd_out, NULL, NULL, fd_in, n, (int)flags);
    return __real_splice(fd_in, off_in, fd_out, off_out, n, flags);
}
#endif

FUZZ_ORACLE static int round_once(void)
{
    int n;

    if (g.unix_streams)
        server_bufs();
    else if (!g.private_net)
        quick_acks();
    kernel_quiet();
    n = nl_run_once(&g.loop, 0);

    if (n < 0)
        fail("nl_run_once: %s", ns_strerror(n));
    check_server();
    return n;
}

/* Runs the loop until a round finds nothing ready. Returns the callbacks that ran. */
FUZZ_ORACLE static int settle(void)
{
    int total = 0;

    for (int i = 0; i < MAX_ROUNDS; i++) {
        int n = round_once();
        if (n == 0)
            return total;
        total += n;
    }
    fail("the server loop never went quiet (%d rounds)", MAX_ROUNDS);
}

/* Nothing moved although something is still expected: the kernel may be late (a timer of
 * its own). Wait a little for any client or server descriptor, within the input's budget. */
FUZZ_ORACLE static void slow_wait(const char *what)
{
    struct pollfd p[N_CLIENTS + 2];
    int n = 0;
    int64_t t0 = nl_now(&g.loop);

    if (g.slow_ms >= SLOW_BUDGET_MS)
        fail("stalled: %s", what);
    p[n].fd = g.loop.epfd, p[n++].events = POLLIN;
    p[n].fd = g.ufd, p[n++].events = POLLIN;
    for (int i = 0; i < N_CLIENTS; i++)
        if (g.cl[i].fd >= 0 && !g.cl[i].done)
            p[n].fd = g.cl[i].fd, p[n++].events = POLLIN;
    if (g.verbose)
        fprintf(stderr, "fuzz_server: waiting: %s\n", what);
    (void)poll(p, (nfds_t)n, 5);
    g.slow_ms += nl_now(&g.loop) - t0 + 1;
}

FUZZ_ORACLE static void client_reset_state(struct client *c)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

FUZZ_ORACLE static void do_connect(int i, int srv)
{
    struct client *c = &g.cl[i];
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    int fd;

    if (c->fd >= 0 || g.n_connects >= MAX_CONNECTS)
        return;
    fd = socket(g.unix_streams ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail("socket: %s", strerror(errno));
    (void)ns_set_int(fd, SOL_SOCKET, SO_RCVBUF, client_buf[g.rcvbuf & 3]);
    if (g.unix_streams) {
        /* A unix stream holds at most the sender's buffer in flight; TCP holds the sender's
         * and the receiver's. */
        (void)ns_set_int(fd, SOL_SOCKET, SO_SNDBUF,
                         client_buf[g.sndbuf & 3] + srv_conf[srv].sock_buf);
    } else if (ns_set_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, CLIENT_SNDBUF) != 0) {
        /* Over TCP the header's send buffer is a limit in bytes that do_write() keeps; the
         * kernel's own buffer is far larger, see there. Without CAP_NET_ADMIN, wmem_max caps
         * it (4 MiB on the machine this was measured on, 208 KiB by the kernel's default). */
        (void)ns_set_int(fd, SOL_SOCKET, SO_SNDBUF, CLIENT_SNDBUF);
    }
    if (g.unix_streams) {
        /* Queued at once (the backlog is far from full); accepted in this order. */
        if (connect(fd, (struct sockaddr *)&g.srv[srv].uaddr, g.srv[srv].ulen) != 0)
            fail("connect unix: %s", strerror(errno));
        me.sin_port = 0;
        g.srv[srv].queue[g.srv[srv].q_tail++] = g.n_connects;
    } else {
        (void)ns_set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
        (void)ns_set_int(fd, IPPROTO_TCP, TCP_MAXSEG, MSS);
        no_pacing(fd);
        if (connect(fd, (struct sockaddr *)&g.srv[srv].addr, sizeof g.srv[srv].addr) != 0 &&
            errno != EINPROGRESS)
            fail("connect: %s", strerror(errno));
        if (getsockname(fd, (struct sockaddr *)&me, &len) != 0)
            fail("getsockname: %s", strerror(errno));
    }
    client_reset_state(c);
    c->fd = fd;
    if (!g.unix_streams) {
        /* The header's buffer in bytes (the kernel doubles SO_SNDBUF for its overhead), and
         * never more than the kernel's buffer holds whole together with the largest write:
         * about 2 bytes of it per byte sent (a buffer per 1 KiB segment). */
        int got = 0;
        socklen_t glen = sizeof got;
        size_t whole;

        if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &glen) != 0)
            got = 0;
        whole = (size_t)got / 2 > PERIOD ? (size_t)got / 2 - PERIOD : 0;
        c->send_limit = 2 * (size_t)client_buf[g.sndbuf & 3];
        if (c->send_limit > whole)
            c->send_limit = whole;
    }
    c->port = ntohs(me.sin_port);
    c->srv = (uint8_t)srv;
    c->seq = g.n_connects++;
    g.srv[srv].n_pending++;
    c->seed = (uint8_t)(c->seq * 37u + (unsigned)i);
}

/* The server closed or reset the connection (how: for the message). */
FUZZ_ORACLE static void on_closed(int i, const char *how)
{
    struct client *c = &g.cl[i];

    if (c->verdict == V_UNKNOWN)
        fail("client %d: %s before the server accepted it", i, how);
    if (c->verdict == V_REFUSED) {
        if (c->rcvd)
            fail("client %d: refused, yet %llu bytes were echoed", i, (unsigned long long)c->rcvd);
    } else if (!c->shut) {
        fail("client %d: served connection got %s before the client shut down (%llu of %llu "
             "bytes echoed)",
             i, how, (unsigned long long)c->rcvd, (unsigned long long)c->sent);
    } else if (c->rcvd != c->sent || strcmp(how, "EOF") != 0) {
        fail("client %d: %s after %llu of %llu bytes echoed", i, how, (unsigned long long)c->rcvd,
             (unsigned long long)c->sent);
    }
    c->done = 1;
}

/* Reads at most max bytes (0: all there is) and checks them. Returns bytes read. */
FUZZ_ORACLE static size_t do_read(int i, size_t max)
{
    struct client *c = &g.cl[i];
    size_t total = 0;

    kernel_quiet();
    while (c->fd >= 0 && !c->done && (max == 0 || total < max)) {
        /* At most PERIOD bytes at once: pattern_at() is contiguous for that long only. */
        size_t want = PERIOD;
        ssize_t n;

        if (max && max - total < want)
            want = max - total;
        n = recv(c->fd, g.buf, want, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            if (errno == ECONNRESET || errno == EPIPE) {
                on_closed(i, "a reset");
                break;
            }
            fail("client %d: recv: %s", i, strerror(errno));
        }
        if (n == 0) {
            on_closed(i, "EOF");
            break;
        }
        if (c->verdict != V_SERVED)
            fail("client %d: %zd bytes from a connection the server did not serve", i, n);
        if (c->rcvd + (uint64_t)n > c->sent)
            fail("client %d: %llu bytes echoed, only %llu sent", i,
                 (unsigned long long)(c->rcvd + (uint64_t)n), (unsigned long long)c->sent);
        if (memcmp(g.buf, pattern_at(c->seed, c->rcvd), (size_t)n) != 0) {
            const uint8_t *want_p = pattern_at(c->seed, c->rcvd);
            size_t k = 0;
            while (g.buf[k] == want_p[k])
                k++;
            fail("client %d: byte %llu: expected 0x%02x, got 0x%02x", i,
                 (unsigned long long)(c->rcvd + k), want_p[k], g.buf[k]);
        }
        c->rcvd += (uint64_t)n;
        g.echoed += (uint64_t)n;
        total += (size_t)n;
    }
    return total;
}

FUZZ_ORACLE static void do_write(int i, size_t n)
{
    struct client *c = &g.cl[i];
    ssize_t m;

    if (c->fd < 0 || c->shut || c->done)
        return;
    kernel_quiet();
    /* Over TCP the client's send buffer is a limit in bytes (c->send_limit against SIOCOUTQ:
     * sent but not acknowledged, plus not sent), kept here, not by the kernel: the kernel's
     * limit counts each buffer's overhead too, and the buffers of one send() depend on which
     * of its segments were delivered and acknowledged while it still copied, so how much a
     * send took varied between runs of one input. With the kernel's buffer far larger
     * (do_connect()), a send() of what fits here is always taken whole. A send() of 0 bytes
     * still reports a reset. */
    if (!g.unix_streams) {
        int outq = 0;

        if (ioctl(c->fd, SIOCOUTQ, &outq) != 0)
            outq = 0;
        if (outq < 0 || (size_t)outq >= c->send_limit)
            n = 0;
        else if (n > c->send_limit - (size_t)outq)
            n = c->send_limit - (size_t)outq;
    }
    m = send(c->fd, pattern_at(c->seed, c->sent), n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (m < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        if (errno == ECONNRESET || errno == EPIPE) {
            on_closed(i, "a reset");
            return;
        }
        fail("client %d: send: %s", i, strerror(errno));
    }
    c->sent += (uint64_t)m;
}

FUZZ_ORACLE static void do_shut(int i)
{
    struct client *c = &g.cl[i];

    if (c->fd < 0 || c->shut)
        return;
    if (shutdown(c->fd, SHUT_WR) != 0 && errno != ENOTCONN)
        fail("client %d: shutdown: %s", i, strerror(errno));
    c->shut = 1;
}

/* Abortive close (RST) or plain close; the server must cope either way. */
FUZZ_ORACLE static void do_close(int i, int abortive)
{
    struct client *c = &g.cl[i];

    if (c->fd < 0)
        return;
    if (abortive) {
        struct linger lg = {1, 0};
        (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c->fd);
    client_reset_state(c);
}

/* Bytes (buffer sizes) in a socket's receive queue. */
FUZZ_ORACLE static uint32_t rmem_alloc(int fd)
{
    uint32_t mi[SK_MEMINFO_VARS];
    socklen_t len = sizeof mi;

    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len) != 0 ||
        len <= SK_MEMINFO_RMEM_ALLOC * sizeof mi[0])
        return 0;
    return mi[SK_MEMINFO_RMEM_ALLOC];
}

/* Sends one datagram of n bytes to the UDP server and waits (at most QUIET_TRIES yields)
 * until it is in the server's receive queue: loopback delivers in a softirq that on a busy
 * machine runs later, and how many datagrams one recvmmsg of the server's finds (its batch,
 * and so its path) would depend on that. *queued is the queue's size in the kernel's
 * accounting before (the caller reads it once per burst) and after; the server does not
 * run meanwhile, so the queue only grows. Returns what sendto() returned. */
FUZZ_ORACLE static ssize_t udp_send(const uint8_t *p, size_t n, uint32_t *queued)
{
    int sfd = g.udp.socks[0].io.fd;
    ssize_t m = sendto(g.ufd, p, n, MSG_DONTWAIT, (struct sockaddr *)&g.udp_addr, sizeof g.udp_addr);
    uint32_t now;
    int tries = 0;

    if (m < 0)
        return m;
    while ((now = rmem_alloc(sfd)) == *queued && quiet_turn(&tries))
        ;
    *queued = now;
    return m;
}

/* Receives the next reply on the clients' UDP socket (MSG_TRUNC: its full length). When the
 * server has sent it (its counter at least want) but it is not there yet, loopback delivers
 * it later: wait for it (at most QUIET_TRIES yields) instead of running the loop again, whose
 * empty rounds would count differently. Returns what recv() returned. */
FUZZ_ORACLE static ssize_t udp_reply(uint64_t want)
{
    ssize_t m = recv(g.ufd, g.buf, sizeof g.buf, MSG_DONTWAIT | MSG_TRUNC);
    int tries = 0;

    while (m < 0 && errno == EAGAIN && g.udp.st.sent >= want && quiet_turn(&tries))
        m = recv(g.ufd, g.buf, sizeof g.buf, MSG_DONTWAIT | MSG_TRUNC);
    return m;
}

/* Sends count datagrams of n bytes back to back (one recvmmsg batch for the server), then
 * expects each reply, in order, byte for byte, exactly once. The count is cut so the burst
 * fits the socket buffers: a datagram lost to a full buffer would be UDP's right, not a bug. */
FUZZ_ORACLE static void do_udp(size_t n, unsigned count, unsigned *seq)
{
    unsigned first = *seq;
    uint64_t sent0 = g.udp.st.sent;
    uint32_t queued = rmem_alloc(g.udp.socks[0].io.fd);

    if (count > 1 && (n + 1024) * count > UDP_BURST_BYTES)
        count = (unsigned)(UDP_BURST_BYTES / (n + 1024));
    if (count == 0)
        count = 1;
    for (unsigned k = 0; k < count; k++) {
        const uint8_t *p = pattern_at((uint8_t)(*seq)++, 0);
        ssize_t m = udp_send(p, n, &queued);
        if (m != (ssize_t)n)
            fail("udp sendto %zu bytes: %s", n, m < 0 ? strerror(errno) : "short");
    }
    for (unsigned k = 0; k < count; k++) {
        const uint8_t *p = pattern_at((uint8_t)(first + k), 0);
        ssize_t m;

        for (;;) {
            settle();
            m = udp_reply(sent0 + k + 1);
            if (m >= 0)
                break;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                fail("udp recv: %s", strerror(errno));
            slow_wait("no reply to a datagram");
        }
        if ((size_t)m != n)
            fail("udp: datagram %u of %u: sent %zu bytes, reply has %zd", k + 1, count, n, m);
        if (memcmp(g.buf, p, n) != 0)
            fail("udp: datagram %u of %u: the %zu-byte reply differs from the datagram", k + 1,
                 count, n);
    }
    if (recv(g.ufd, g.buf, sizeof g.buf, MSG_DONTWAIT) >= 0)
        fail("udp: more replies than the %u datagrams sent", count);
}

/* Runs the loop until it is quiet with the process out of descriptors (RLIMIT_NOFILE at the
 * lowest free one), so accept4 fails with EMFILE: the server must shed every waiting
 * connection through its reserve descriptor (accept and close at once), not spin or stall. */
FUZZ_ORACLE static void starve_settle(void)
{
    struct rlimit old, low;
    uint64_t shed0[N_SERVERS];
    int lowest;

    for (int k = 0; k < N_SERVERS; k++)
        shed0[k] = g.srv[k].tcp.st.shed;
    if (getrlimit(RLIMIT_NOFILE, &old) != 0)
        fail("getrlimit: %s", strerror(errno));
    lowest = fcntl(g.ufd, F_DUPFD_CLOEXEC, 0);
    if (lowest < 0)
        fail("fcntl F_DUPFD: %s", strerror(errno));
    close(lowest);
    low = old;
    low.rlim_cur = (rlim_t)lowest;
    /* Every connect queued first; then the server sheds them without the accept hook seeing
     * one, so while it does kernel_quiet() must not wait for the n_pending it expects. */
    kernel_quiet();
    if (setrlimit(RLIMIT_NOFILE, &low) != 0)
        fail("setrlimit: %s", strerror(errno));
    g.shedding = 1;
    settle();
    g.shedding = 0;
    if (setrlimit(RLIMIT_NOFILE, &old) != 0)
        fail("setrlimit: %s", strerror(errno));
    for (int k = 0; k < N_SERVERS; k++) {
        struct server *sv = &g.srv[k];
        if (sv->tcp.st.shed - shed0[k] != sv->n_pending)
            fail("server %d out of descriptors: %llu connections shed, %u were waiting", k,
                 (unsigned long long)(sv->tcp.st.shed - shed0[k]), sv->n_pending);
        g.pred_refused += sv->n_pending;
        sv->n_pending = 0;
        sv->q_head = sv->q_tail; /* shed unseen by the accept hook */
    }
    for (int i = 0; i < N_CLIENTS; i++)
        if (g.cl[i].fd >= 0 && g.cl[i].verdict == V_UNKNOWN)
            g.cl[i].verdict = V_REFUSED;
}

/* Finishes every client: served ones shut down and read until EOF (all echoed), refused
 * ones are closed; then the server must release every connection. */
FUZZ_ORACLE static void finish(void)
{
    for (;;) {
        int busy = 0, moved;

        moved = settle();
        for (int i = 0; i < N_CLIENTS; i++) {
            struct client *c = &g.cl[i];
            if (c->fd < 0 || c->done)
                continue;
            if (c->verdict == V_UNKNOWN)
                fail("client %d: the server never accepted it", i);
            if (c->verdict == V_REFUSED) {
                do_close(i, 1);
                moved++;
                continue;
            }
            if (!c->shut) {
                do_shut(i);
                moved++; /* the server has an EOF to see */
            }
            moved += (int)do_read(i, 0);
            busy |= !c->done;
        }
        if (!busy)
            break;
        if (!moved)
            slow_wait("a served connection did not get all its bytes back and EOF");
    }
    for (int i = 0; i < N_CLIENTS; i++)
        do_close(i, 1);
    while (live_conns()) {
        if (!settle())
            slow_wait("the server kept connections after every client left");
    }
}

/* Fills every slot of both servers once, and has server 1 lend out all the pipes it can
 * at once (three bulk streams held up by clients that do not read), so that from the first
 * input on slots and pipes come from the free lists, as they will for every later input:
 * the first inputs would otherwise run branches the later runs of the same input do not
 * (AFL++ counts that as instability). */
/* Under AFL++ the forkserver's children share the listening and UDP sockets: a child that
 * died mid-input (an oracle failure) may leave connections in the accept queue and
 * datagrams in the sockets. Take them in and let them go before an input starts, so one
 * failure is reported once instead of making every later input fail too. */
FUZZ_ORACLE static void clean_slate(void)
{
    settle();
    while (recv(g.ufd, g.buf, sizeof g.buf, MSG_DONTWAIT) >= 0)
        ;
    while (live_conns())
        if (!settle())
            slow_wait("connections left by an earlier run did not go away");
}

/* The UDP server remembers how many receive headers its last batch used (it resets only
 * those), so an input's first batch would take a path that depends on the input before it.
 * One datagram echoed after every input (and after the warm-up) leaves that at 1. */
FUZZ_ORACLE static void udp_sync(void)
{
    static const uint8_t one = 0x5a;
    uint64_t want = g.udp.st.sent + 1;
    uint32_t queued = rmem_alloc(g.udp.socks[0].io.fd);

    if (udp_send(&one, 1, &queued) != 1)
        fail("udp sendto (end of input): %s", strerror(errno));
    for (;;) {
        settle();
        if (udp_reply(want) >= 0)
            break;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            fail("udp recv (end of input): %s", strerror(errno));
        slow_wait("no reply to the end-of-input datagram");
    }
}

FUZZ_ORACLE static void warm_up(void)
{
    for (int k = 0; k < N_SERVERS; k++) {
        g.rcvbuf = 0, g.sndbuf = 3; /* 4 KiB to read, 128 KiB to write */
        for (int i = 0; i < (int)MAX_CONNS; i++)
            do_connect(i, k);
        settle();
        for (int i = 0; i < (int)MAX_CONNS; i++)
            do_write(i, 60000);
        settle();
        finish();
        if (g.srv[k].tcp.n_fresh != MAX_CONNS)
            fail("warm-up: server %d used %u slots, %u expected", k, g.srv[k].tcp.n_fresh,
                 MAX_CONNS);
        nt_pool_trim(&g.srv[k].tcp);
    }
    if (g.srv[1].tcp.n_pipes != MAX_CONNS)
        fail("warm-up: server 1 opened %u pipes, %u expected", g.srv[1].tcp.n_pipes, MAX_CONNS);
    udp_sync();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nt_stats t0, t1;
    struct nu_stats u0;
    int aborted = 0;
    unsigned udp_seq = 0;
    uint64_t refused;

    if (!g.ready)
        setup();
    if (size < 4)
        return 0;
    g.slow_ms = 0;
    for (int k = 0; k < N_SERVERS; k++)
        g.srv[k].q_head = g.srv[k].q_tail = 0;
    clean_slate();
    g.rcvbuf = data[0], g.sndbuf = data[1];
    g.deny_mask = data[2];
    g.echoed = 0;
    g.n_connects = 0;
    for (int k = 0; k < N_SERVERS; k++)
        g.srv[k].n_pending = g.srv[k].q_head = g.srv[k].q_tail = 0;
    g.pred_served = g.pred_refused = 0;
    g.slow_ms = 0;
    g.quiet_yields = g.quiet_giveups = 0;
    t0 = total_stats();
    u0 = g.udp.st;
    {
        size_t nact = (size - 4) / 3;
        if (nact > MAX_ACTIONS)
            nact = MAX_ACTIONS;
        for (size_t k = 0; k < nact; k++) {
            const uint8_t *a = data + 4 + 3 * k;
            int i = (a[0] >> 4) & 3;
            unsigned arg = (unsigned)a[1] << 8 | a[2];

            switch (a[0] & 7) {
            case 0:
                do_connect(i, (a[0] >> 6) & 1);
                break;
            case 1:
                do_write(i, arg % PERIOD);
                break;
            case 2:
                (void)do_read(i, arg);
                break;
            case 3:
                do_shut(i);
                break;
            case 4:
            case 5:
                aborted |= g.cl[i].fd >= 0;
                do_close(i, (a[0] & 7) == 4);
                break;
            case 6:
                if (arg & 0x8000)
                    starve_settle();
                else if (arg % 17 == 0)
                    (void)settle();
                else
                    for (unsigned r = 0; r < arg % 17; r++)
                        (void)round_once();
                break;
            default:
                do_udp(arg % 65508, 1u + (a[0] >> 4), &udp_seq);
                break;
            }
        }
    }
    finish();
    for (int k = 0; k < N_SERVERS; k++)
        nt_pool_trim(&g.srv[k].tcp);
    t1 = total_stats();

    /* The counters must agree with what the clients saw. */
    if (t1.accepted - t0.accepted != g.pred_served)
        fail("%llu connections accepted, %llu expected",
             (unsigned long long)(t1.accepted - t0.accepted), (unsigned long long)g.pred_served);
    refused = (t1.refused_full - t0.refused_full) + (t1.not_allowed - t0.not_allowed) +
              (t1.shed - t0.shed);
    if (refused != g.pred_refused)
        fail("%llu connections refused, %llu expected", (unsigned long long)refused,
             (unsigned long long)g.pred_refused);
    if (t1.closed - t0.closed != g.pred_served)
        fail("%llu connections closed, %llu served", (unsigned long long)(t1.closed - t0.closed),
             (unsigned long long)g.pred_served);
    if (!aborted && t1.errors != t0.errors)
        fail("%llu connection errors although no client reset or closed early",
             (unsigned long long)(t1.errors - t0.errors));
    if (!aborted && t1.bytes - t0.bytes != g.echoed)
        fail("the servers count %llu bytes echoed, the clients read %llu",
             (unsigned long long)(t1.bytes - t0.bytes), (unsigned long long)g.echoed);
    if (g.udp.st.sent - u0.sent != udp_seq || g.udp.st.received - u0.received != udp_seq)
        fail("udp: %llu received, %llu sent for %u datagrams",
             (unsigned long long)(g.udp.st.received - u0.received),
             (unsigned long long)(g.udp.st.sent - u0.sent), udp_seq);
    if (g.verbose)
        fprintf(stderr,
                "fuzz_server: %u connects, %llu served, %llu refused, %llu bytes echoed, "
                "%llu spliced, %llu pending-storage allocations, %u datagrams, %lld ms waited, "
                "%u yields, %u give-ups\n",
                g.n_connects, (unsigned long long)g.pred_served, (unsigned long long)g.pred_refused,
                (unsigned long long)g.echoed, (unsigned long long)(t1.spliced - t0.spliced),
                (unsigned long long)(t1.buf_allocs - t0.buf_allocs), udp_seq, (long long)g.slow_ms,
                g.quiet_yields, g.quiet_giveups);
    udp_sync();
    return 0;
}
