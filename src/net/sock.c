/*
 * sock.c - socket verbs: address conversion, resolution, listen, accept, connect with a
 * timeout. Every socket is made non-blocking and close-on-exec in the same system call
 * (SOCK_NONBLOCK | SOCK_CLOEXEC), so no descriptor leaks into a child between calls.
 * Errors come back as -errno captured right after the failing call.
 */
#define _GNU_SOURCE
#include "net/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *ns_strerror(int rc)
{
    if (rc >= 0)
        return "success";
    if (rc <= -NS_GAI_BASE)
        return gai_strerror(NS_GAI_BASE + rc);
    return strerror(-rc);
}

int ns_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct ea_addr *out)
{
    if (!sa || !out || len < (socklen_t)sizeof(sa_family_t))
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;
        if (len < (socklen_t)sizeof sin)
            return -EINVAL;
        memcpy(&sin, sa, sizeof sin); /* sa may be unaligned for the cast */
        out->family = EA_INET;
        out->port = ntohs(sin.sin_port);
        memcpy(out->ip, &sin.sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        if (len < (socklen_t)sizeof sin6)
            return -EINVAL;
        memcpy(&sin6, sa, sizeof sin6);
        out->family = EA_INET6;
        out->port = ntohs(sin6.sin6_port);
        out->scope = sin6.sin6_scope_id;
        memcpy(out->ip, &sin6.sin6_addr, 16);
        return 0;
    }
    return -EAFNOSUPPORT;
}

int ns_addr_to_sockaddr(const struct ea_addr *a, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (a->family == EA_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(a->port);
        memcpy(&sin->sin_addr, a->ip, 4);
        *len = sizeof *sin;
        return 0;
    }
    if (a->family == EA_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(a->port);
        sin6->sin6_scope_id = a->scope;
        memcpy(&sin6->sin6_addr, a->ip, 16);
        *len = sizeof *sin6;
        return 0;
    }
    return -EAFNOSUPPORT;
}

const char *ns_format(const struct ea_addr *a, char *buf, size_t size)
{
    size_t len;

    if (size == 0)
        return buf;
    if (ea_format(a, buf, size, &len) != 0) {
        buf[0] = '?';
        if (size > 1)
            buf[1] = '\0';
        else
            buf[0] = '\0';
    }
    return buf;
}

static int family_ok(int family, int want)
{
    return want == NS_FAMILY_ANY || family == want;
}

/* Appends a unless it is already in out[0..*count) or out is full. */
static void add_unique(struct ea_addr *out, size_t max, size_t *count, const struct ea_addr *a)
{
    for (size_t i = 0; i < *count; i++)
        if (ea_equal(&out[i], a) && out[i].scope == a->scope)
            return;
    if (*count < max)
        out[(*count)++] = *a;
}

int ns_resolve(const struct ea_endpoint *ep, int family, int socktype, int passive,
               struct ea_addr *out, size_t max, size_t *count)
{
    struct addrinfo hints, *res = NULL, *ai;
    struct ea_addr a;
    int rc;

    if (!ep || !out || !count || max == 0)
        return -EINVAL;
    if (family != NS_FAMILY_ANY && family != NS_FAMILY_V4 && family != NS_FAMILY_V6)
        return -EINVAL;
    *count = 0;
    if (ep->kind == EA_KIND_V4 || ep->kind == EA_KIND_V6) {
        if (!family_ok(ep->addr.family, family))
            return -EAFNOSUPPORT;
        out[0] = ep->addr;
        out[0].port = ep->port;
        *count = 1;
        return 0;
    }
    if (ep->kind == EA_KIND_PORT) {
        memset(&a, 0, sizeof a);
        a.port = ep->port;
        if (family == NS_FAMILY_V6) {
            a.family = EA_INET6;
            if (!passive)
                a.ip[15] = 1; /* ::1 */
        } else {
            a.family = EA_INET;
            if (!passive)
                a.ip[0] = 127, a.ip[3] = 1;
        }
        out[0] = a;
        *count = 1;
        return 0;
    }
    if (ep->kind != EA_KIND_NAME)
        return -EINVAL;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = family == NS_FAMILY_V4   ? AF_INET
                      : family == NS_FAMILY_V6 ? AF_INET6
                                               : AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    rc = getaddrinfo(ep->host, NULL, &hints, &res);
    if (rc == EAI_SYSTEM)
        return errno ? -errno : -EIO;
    if (rc != 0)
        return NS_ERR_GAI(rc);
    for (ai = res; ai; ai = ai->ai_next) {
        if (ns_addr_from_sockaddr(ai->ai_addr, ai->ai_addrlen, &a) != 0)
            continue;
        if (!family_ok(a.family, family))
            continue;
        a.port = ep->port;
        add_unique(out, max, count, &a);
    }
    freeaddrinfo(res);
    return *count ? 0 : -EAFNOSUPPORT;
}

int ns_set_int(int fd, int level, int name, int value)
{
    if (setsockopt(fd, level, name, &value, sizeof value) < 0)
        return -errno;
    return 0;
}

int ns_set_pktinfo(int fd, int family)
{
    if (family == EA_INET)
        return ns_set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
    if (family == EA_INET6)
        return ns_set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
    return -EAFNOSUPPORT;
}

int ns_set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0)
        return -errno;
    fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
    if (fcntl(fd, F_SETFL, fl) < 0)
        return -errno;
    return 0;
}

static int af_of(const struct ea_addr *a)
{
    return a->family == EA_INET6 ? AF_INET6 : AF_INET;
}

/* The first steps of ns_listen and ns_connect: check the arguments, convert the address and
 * open a non-blocking, close-on-exec socket of its family. Returns 0 or -errno. */
static int open_for(const struct ea_addr *a, int socktype, struct sockaddr_storage *ss,
                    socklen_t *len, int *s)
{
    int rc;

    if (!a || (socktype != SOCK_STREAM && socktype != SOCK_DGRAM))
        return -EINVAL;
    rc = ns_addr_to_sockaddr(a, ss, len);
    if (rc)
        return rc;
    *s = socket(af_of(a), socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return *s < 0 ? -errno : 0;
}

/* ns_listen and ns_listen_shared: the same steps, SO_REUSEPORT (before bind) or not. */
static int listen_with(const struct ea_addr *a, int socktype, int backlog, int reuseport, int *fd)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int s, rc;

    if (!fd || (rc = open_for(a, socktype, &ss, &len, &s)) != 0)
        return fd ? rc : -EINVAL;
    rc = ns_set_int(s, SOL_SOCKET, SO_REUSEADDR, 1);
    if (!rc && reuseport)
        rc = ns_set_int(s, SOL_SOCKET, SO_REUSEPORT, 1);
    if (!rc && a->family == EA_INET6)
        rc = ns_set_int(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    if (!rc && bind(s, (struct sockaddr *)&ss, len) < 0)
        rc = -errno;
    if (!rc && socktype == SOCK_STREAM && listen(s, backlog > 0 ? backlog : SOMAXCONN) < 0)
        rc = -errno;
    if (rc) {
        close(s);
        return rc;
    }
    *fd = s;
    return 0;
}

int ns_listen(const struct ea_addr *a, int socktype, int backlog, int *fd)
{
    return listen_with(a, socktype, backlog, 0, fd);
}

int ns_listen_shared(const struct ea_addr *a, int socktype, int backlog, int *fd)
{
    return listen_with(a, socktype, backlog, 1, fd);
}

int ns_local_addr(int fd, struct ea_addr *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    return ns_addr_from_sockaddr((struct sockaddr *)&ss, len, out);
}

int ns_peer_addr(int fd, struct ea_addr *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    return ns_addr_from_sockaddr((struct sockaddr *)&ss, len, out);
}

int ns_accept(int lfd, int *fd, struct ea_addr *peer)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int s;

    do {
        len = sizeof ss;
        s = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (s < 0 && errno == EINTR);
    if (s < 0)
        return -errno;
    if (peer && ns_addr_from_sockaddr((struct sockaddr *)&ss, len, peer) != 0)
        memset(peer, 0, sizeof *peer);
    *fd = s;
    return 0;
}

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ns_wait(int fd, short events, int timeout_ms)
{
    long long deadline = timeout_ms >= 0 ? mono_ms() + timeout_ms : 0;
    struct pollfd p;
    int left = timeout_ms, n;

    for (;;) {
        p.fd = fd;
        p.events = events;
        p.revents = 0;
        n = poll(&p, 1, left);
        if (n > 0)
            return p.revents ? p.revents : events;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -errno;
        if (timeout_ms >= 0) {
            long long rest = deadline - mono_ms();
            left = rest > 0 ? (int)rest : 0;
        }
    }
}

int ns_connect(const struct ea_addr *a, int socktype, const struct ea_addr *local, int timeout_ms,
               int *fd)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int s, rc = 0, soerr = 0;
    socklen_t slen = sizeof soerr;

    if (!fd || (rc = open_for(a, socktype, &ss, &len, &s)) != 0)
        return fd ? rc : -EINVAL;
    if (local) {
        struct sockaddr_storage ls;
        socklen_t llen;
        rc = ns_addr_to_sockaddr(local, &ls, &llen);
        if (!rc)
            rc = ns_set_int(s, SOL_SOCKET, SO_REUSEADDR, 1);
        if (!rc && bind(s, (struct sockaddr *)&ls, llen) < 0)
            rc = -errno;
        if (rc)
            goto fail;
    }
    if (connect(s, (struct sockaddr *)&ss, len) == 0)
        goto done;
    /* A signal during a non-blocking connect leaves it in progress, like EINPROGRESS. */
    if (errno != EINPROGRESS && errno != EINTR) {
        rc = -errno;
        goto fail;
    }
    rc = ns_wait(s, POLLOUT, timeout_ms);
    if (rc == 0) {
        rc = -ETIMEDOUT;
        goto fail;
    }
    if (rc < 0)
        goto fail;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0) {
        rc = -errno;
        goto fail;
    }
    if (soerr) {
        rc = -soerr;
        goto fail;
    }
done:
    *fd = s;
    return 0;
fail:
    close(s);
    return rc;
}

static int connect_start(const struct ea_addr *a, int socktype, const char *cc, int *fd)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int s, rc;

    if (!fd || (rc = open_for(a, socktype, &ss, &len, &s)) != 0)
        return fd ? rc : -EINVAL;
    if (cc)
        (void)ns_set_congestion(s, cc);
    if (connect(s, (struct sockaddr *)&ss, len) == 0) {
        *fd = s;
        return 0;
    }
    rc = -errno;
    if (rc == -EINPROGRESS || rc == -EINTR) {
        *fd = s;
        return -EINPROGRESS;
    }
    close(s);
    return rc;
}

int ns_connect_start(const struct ea_addr *a, int socktype, int *fd)
{
    return connect_start(a, socktype, NULL, fd);
}

int ns_connect_start_cc(const struct ea_addr *a, const char *cc, int *fd)
{
    return connect_start(a, SOCK_STREAM, cc, fd);
}

int ns_set_congestion(int fd, const char *name)
{
    if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, (socklen_t)strlen(name)) < 0)
        return -errno;
    return 0;
}

int ns_check_congestion(const char *name)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

    if (fd < 0)
        return -errno;
    rc = ns_set_congestion(fd, name);
    close(fd);
    return rc;
}

int ns_connect_result(int fd)
{
    int soerr = 0;
    socklen_t slen = sizeof soerr;

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0)
        return -errno;
    return -soerr;
}
