/*
 * udp_io.c - the UDP side of the harness. Sockets are unconnected and bound to an ephemeral
 * (unprivileged) port, so a reply from the wrong address or port is still seen and reported
 * instead of being filtered by the kernel (another port: MUST; another address: SHOULD). A silent server is diagnosed with a connected
 * socket, the only way an ICMP port unreachable surfaces (as ECONNREFUSED) on Linux.
 * UDP may lose datagrams (RFC 768): every wait retries before calling a datagram unanswered.
 */
#define _GNU_SOURCE
#include "conform/harness.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sock.h"

int ct_udp_socket(struct ct_ctx *x, uint16_t local_port, int *fd)
{
    struct ea_addr any;
    struct sockaddr_storage ss;
    socklen_t len;
    int s, af = x->t->udp.family == EA_INET6 ? AF_INET6 : AF_INET;

    memset(&any, 0, sizeof any);
    any.family = x->t->udp.family == EA_INET6 ? EA_INET6 : EA_INET;
    any.port = local_port;
    ns_addr_to_sockaddr(&any, &ss, &len);
    s = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    /* Room for a burst of the largest datagrams, so the tester itself does not lose them. */
    ns_set_int(s, SOL_SOCKET, SO_RCVBUF, 1 << 21);
    if (bind(s, (struct sockaddr *)&ss, len) < 0) {
        int e = -errno;
        close(s);
        return e;
    }
    *fd = s;
    return 0;
}

int ct_udp_send(struct ct_ctx *x, int fd, unsigned conn, const uint8_t *p, size_t n)
{
    struct sockaddr_storage ss;
    socklen_t len;

    ns_addr_to_sockaddr(&x->t->udp, &ss, &len);
    for (;;) {
        ssize_t w = sendto(fd, p, n, 0, (struct sockaddr *)&ss, len);
        if (w >= 0) {
            ct_log(x, CT_SENT, conn, p, n);
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == ENOBUFS) {
            /* The local queue is full: wait for it briefly, as a sender should. */
            if (ns_wait(fd, POLLOUT, 100) <= 0)
                return -errno;
            continue;
        }
        return -errno;
    }
}

/* RFC 862's service is at the port the request went to: a reply from another port is no
 * answer (a connected client drops it), a MUST failure of the case that saw it. A reply from
 * the right port but another address of the server (multi-homed, or wildcard-bound without
 * IP_PKTINFO) breaks only RFC 1122 3.3.4.2, a SHOULD: it still counts as the echo here, and
 * the first one is kept in the session for udp.source.addr. Checked on every reply of every
 * case; the target's address is where each request was sent. */
static void check_source(struct ct_ctx *x, unsigned conn, size_t n, const struct ea_addr *src)
{
    char a[EA_FORMAT_MAX], b[EA_FORMAT_MAX], e[EA_FORMAT_MAX + 40], s[EA_FORMAT_MAX + 40], w[64];
    int kind = cv_source_kind(&x->t->udp, src);

    if (kind == CV_SRC_SAME)
        return;
    ns_format(&x->t->udp, a, sizeof a);
    if (src->family)
        ns_format(src, b, sizeof b);
    else
        snprintf(b, sizeof b, "an unknown address");
    snprintf(e, sizeof e, "replies from %s", a);
    snprintf(s, sizeof s, "a reply from %s", b);
    snprintf(w, sizeof w, "%s %zu-byte reply on socket %u", cv_article(n), n, conn);
    if (kind == CV_SRC_OTHER_ADDR) {
        ct_log_event(x, conn, "other address");
        if (x->s && !x->s->udp_other_addr) {
            x->s->udp_other_addr = 1;
            snprintf(x->s->addr_msg, sizeof x->s->addr_msg,
                     "%s %zu-byte reply in %s came from %s, the right port but not the address "
                     "%s the request went to", cv_article(n), n, x->c->id, b, a);
            snprintf(x->s->addr_expected, sizeof x->s->addr_expected, "%s", e);
            snprintf(x->s->addr_seen, sizeof x->s->addr_seen, "%s", s);
            snprintf(x->s->addr_where, sizeof x->s->addr_where, "%s, %s", x->c->id, w);
        }
        return;
    }
    ct_log_event(x, conn, "wrong source");
    ct_fail(x, "%s %zu-byte reply came from %s, another port than %s where the request went",
            cv_article(n), n, b, a);
    ct_detail(x, e, s, w);
}

int ct_udp_recv(struct ct_ctx *x, int fd, unsigned conn, int wait_ms, uint8_t *buf, size_t cap,
                size_t *n, struct ea_addr *from)
{
    long long end = ct_now_ms() + wait_ms;

    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        long long now = ct_now_ms();
        ssize_t r;
        int rc;

        /* MSG_TRUNC makes recvfrom return the real length of a datagram longer than cap. */
        r = recvfrom(fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&ss, &len);
        if (r >= 0) {
            struct ea_addr src;
            *n = (size_t)r;
            ct_log(x, CT_RECV, conn, buf, (size_t)r < cap ? (size_t)r : cap);
            if (ns_addr_from_sockaddr((struct sockaddr *)&ss, len, &src) != 0)
                memset(&src, 0, sizeof src);
            check_source(x, conn, (size_t)r, &src);
            if (from)
                *from = src;
            return 1;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -errno;
        if (now >= end)
            return 0;
        rc = ns_wait(fd, POLLIN, (int)(end - now));
        if (rc < 0)
            return rc;
        if (rc == 0)
            return 0;
    }
}

void ct_udp_answered(struct ct_ctx *x)
{
    if (x->s) {
        x->s->udp_answered = 1;
        x->s->udp_last_ok = x->c->id;
    }
}

int ct_udp_still_answers(struct ct_ctx *x)
{
    static const uint8_t probe[] = "echo-conform: still there?";
    uint8_t buf[64];
    size_t n;
    int fd, ok = 0;

    if (ct_udp_socket(x, 0, &fd) < 0)
        return 1; /* cannot tell: assume it does */
    for (int i = 0; i < 2 && !ok; i++) {
        if (ct_udp_send(x, fd, 9, probe, sizeof probe - 1) < 0)
            break;
        if (ct_udp_recv(x, fd, 9, 300, buf, sizeof buf, &n, NULL) == 1)
            ok = 1;
    }
    close(fd);
    return ok;
}

void ct_udp_silence(struct ct_ctx *x, const char *what, int tries, long long waited_ms)
{
    static const uint8_t probe[] = "echo-conform probe";
    char a[EA_FORMAT_MAX], buf[64];
    int fd, rc, refused = 0;

    ns_format(&x->t->udp, a, sizeof a);
    /* A connected socket learns of an ICMP port unreachable as ECONNREFUSED. */
    if (ns_connect(&x->t->udp, SOCK_DGRAM, NULL, 1000, &fd) == 0) {
        for (int i = 0; i < 2 && !refused; i++) {
            if (send(fd, probe, sizeof probe - 1, 0) < 0 && errno == ECONNREFUSED)
                refused = 1;
            rc = ns_wait(fd, POLLIN, 200);
            if (rc > 0 && recv(fd, buf, sizeof buf, 0) < 0 && errno == ECONNREFUSED)
                refused = 1;
        }
        close(fd);
    }
    if (refused && x->s && x->s->udp_answered) {
        ct_log_event(x, 0, "ICMP unreachable");
        ct_fail(x, "%s now answers a new source port with ICMP port unreachable, though it "
                "answered in %s: it serves one client (source port) only, or has stopped", a,
                x->s->udp_last_ok ? x->s->udp_last_ok : "an earlier case");
        ct_detail(x, "a reply datagram", "ICMP port unreachable (ECONNREFUSED)", NULL);
        x->s->udp_dead = 1;
        snprintf(x->s->udp_why, sizeof x->s->udp_why, "%s answers new source ports with ICMP "
                 "port unreachable since %s", a,
                 x->s->udp_last_ok ? x->s->udp_last_ok : "an earlier case");
    } else if (refused) {
        ct_log_event(x, 0, "ICMP unreachable");
        ct_fail(x, "no UDP echo service here: %s answers with ICMP port unreachable", a);
        ct_detail(x, "a reply datagram", "ICMP port unreachable (ECONNREFUSED)", NULL);
    } else if (x->s && x->s->udp_answered && ct_udp_still_answers(x)) {
        ct_fail(x, "no reply to %s after %d tries in %.3g s, though a short datagram is still "
                "answered (the server ignores or drops this one)", what, tries,
                waited_ms / 1000.0);
        ct_detail(x, "a reply datagram", "no reply at all", NULL);
    } else if (x->s && x->s->udp_answered) {
        ct_fail(x, "no reply to %s after %d tries in %.3g s: the server has stopped answering "
                "UDP altogether (it last answered in %s; what this case sent may have stopped "
                "it)", what, tries, waited_ms / 1000.0,
                x->s->udp_last_ok ? x->s->udp_last_ok : "an earlier case");
        ct_detail(x, "a reply datagram", "no reply at all, not even to a short datagram", NULL);
        x->s->udp_dead = 1;
        snprintf(x->s->udp_why, sizeof x->s->udp_why, "the server stopped answering UDP after %s",
                 x->s->udp_last_ok ? x->s->udp_last_ok : "an earlier case");
    } else {
        ct_fail(x, "no reply at all to %s after %d tries in %.3g s (possible source filtering, "
                "or no UDP service at %s)", what, tries, waited_ms / 1000.0, a);
        ct_detail(x, "a reply datagram", "no reply at all", NULL);
    }
    snprintf(buf, sizeof buf, "%.3g s waited, %d tries", waited_ms / 1000.0, tries);
    ct_detail(x, NULL, NULL, buf);
}

int ct_udp_roundtrip(struct ct_ctx *x, const uint8_t *p, size_t n, uint8_t *rbuf,
                     struct cv_dresult *r, int linger_ms, unsigned *extra_replies,
                     struct ea_addr *from)
{
    struct cv_dslot slot;
    struct cv_dmatch m;
    struct cv_dresult extra;
    long long start = ct_now_ms(), end = start + x->timeout_ms;
    int fd, rc, tries = 0, wait = 250, got = 0;
    size_t rn;
    char what[64];

    if (extra_replies)
        *extra_replies = 0;
    rc = ct_udp_socket(x, 0, &fd);
    if (rc < 0) {
        ct_fail(x, "cannot open a UDP socket: %s", strerror(-rc));
        return -1;
    }
    cv_dmatch_init(&m, &slot, 1);
    cv_dmatch_add(&m, p, n, NULL);
    slot.sends = 0;
    while (!got) {
        long long now = ct_now_ms(), until;
        if (now >= end || now >= x->hard_ms)
            break;
        rc = ct_udp_send(x, fd, 0, p, n);
        if (rc < 0) {
            ct_fail(x, "sendto: %s (%s %zu-byte datagram)", strerror(-rc), cv_article(n), n);
            close(fd);
            return -1;
        }
        slot.sends++;
        tries++;
        until = now + wait;
        if (until > end)
            until = end;
        rc = ct_udp_recv(x, fd, 0, (int)(until - now), rbuf, 65536, &rn, from);
        if (rc < 0 && rc != -ECONNREFUSED) {
            ct_fail(x, "recvfrom: %s", strerror(-rc));
            close(fd);
            return -1;
        }
        if (rc == 1) {
            cv_dmatch_reply(&m, rbuf, rn, r);
            got = 1;
        }
        wait *= 2;
    }
    if (!got && ct_now_ms() >= x->hard_ms) {
        /* The case's (or the run's) cap ran out: no diagnosis, the caller reports the cut. */
        close(fd);
        ct_fail(x, "no reply before the time cap (%d tries)", tries);
        return 0;
    }
    if (!got) {
        if (n)
            snprintf(what, sizeof what, "%s %zu-byte datagram", cv_article(n), n);
        else
            snprintf(what, sizeof what, "an empty datagram");
        close(fd);
        ct_udp_silence(x, what, tries, ct_now_ms() - start);
        return 0;
    }
    ct_udp_answered(x);
    /* A prefix may be the first piece of a datagram split over several replies: look for the
     * rest briefly, so the report says split rather than truncated. */
    if (r->kind == CV_D_TRUNCATED) {
        long long lend = ct_now_ms() + 200;
        while (ct_now_ms() < lend &&
               ct_udp_recv(x, fd, 0, (int)(lend - ct_now_ms()), rbuf, 65536, &rn, NULL) == 1) {
            cv_dmatch_reply(&m, rbuf, rn, &extra);
            if (extra.kind == CV_D_DUPLICATE && extra_replies)
                (*extra_replies)++;
            if (extra.kind == CV_D_SPLIT) {
                r->kind = CV_D_SPLIT;
                r->bad_off = 0;
            }
        }
    }
    /* Replies to earlier tries may still come: they are not duplicates (replies <= sends).
     * Only an exact reply beyond the sends is one too many; other odd replies are the
     * first reply's business (split pieces, say). */
    if (linger_ms > 0) {
        long long lend = ct_now_ms() + linger_ms;
        for (;;) {
            long long now = ct_now_ms();
            if (now >= lend)
                break;
            rc = ct_udp_recv(x, fd, 0, (int)(lend - now), rbuf + 0, 65536, &rn, NULL);
            if (rc != 1)
                break;
            cv_dmatch_reply(&m, rbuf, rn, &extra);
            if (extra.kind == CV_D_DUPLICATE && extra_replies)
                (*extra_replies)++;
        }
    }
    close(fd);
    return 1;
}
