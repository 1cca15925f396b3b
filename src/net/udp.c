/*
 * udp.c - UDP glue: recvmmsg a batch, ask ed_handle() about each datagram, sendmmsg the
 * replies it decided (the same buffer, to the same source address, and on a wildcard-bound
 * socket from the request's destination address). Buffers are allocated once at init;
 * nothing is allocated per datagram.
 */
#define _GNU_SOURCE
#include "net/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sock.h"

#define BATCHES_PER_EVENT 8 /* fairness: then let other descriptors run */

/* Room for one packet-info control message (in6_pktinfo is the larger of the two), aligned
 * as struct cmsghdr needs (size_t cmsg_len is its widest member, as CMSG_ALIGN assumes; the
 * struct itself ends in a flexible array, so it cannot be a member here). A request brings
 * one in; its reply takes one out. */
union ctl {
    size_t align;
    uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

struct nu_batch {
    struct mmsghdr in[NU_BATCH];
    struct iovec in_iov[NU_BATCH];
    struct sockaddr_storage from[NU_BATCH];
    union ctl in_ctl[NU_BATCH];
    struct mmsghdr out[NU_BATCH];
    union ctl out_ctl[NU_BATCH];
    struct iovec out_iov[NU_BATCH];
    int ready;      /* -1: receive headers not set up; else the pktinfo they are set up for */
    unsigned dirty; /* headers [0, dirty) were filled in by the last recvmmsg */
    uint8_t buf[NU_BATCH][NU_BUF_SIZE];
};

/* Writes into *out the control message that sends a reply from the address the request in
 * mh was sent to, read from the request's packet info. Returns the control length, or 0 when
 * there is none to use (the kernel then chooses the source, as for a bound socket). The v4
 * ipi_spec_dst is that address for unicast (a local address of the interface for broadcast);
 * an IPv6 multicast destination cannot be a source, so it gets no control message. */
static size_t reply_ctl(struct msghdr *mh, union ctl *out)
{
    struct cmsghdr *o = (struct cmsghdr *)(void *)out->buf;

    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
            struct in_pktinfo pi;

            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            pi.ipi_ifindex = 0; /* route as usual; only the source address is fixed */
            pi.ipi_addr.s_addr = 0;
            memset(out, 0, sizeof *out);
            o->cmsg_level = IPPROTO_IP;
            o->cmsg_type = IP_PKTINFO;
            o->cmsg_len = CMSG_LEN(sizeof pi);
            memcpy(CMSG_DATA(o), &pi, sizeof pi);
            return CMSG_SPACE(sizeof pi);
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
            struct in6_pktinfo pi;

            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            if (IN6_IS_ADDR_MULTICAST(&pi.ipi6_addr))
                return 0;
            if (!IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
                pi.ipi6_ifindex = 0; /* a link-local source keeps its interface */
            memset(out, 0, sizeof *out);
            o->cmsg_level = IPPROTO_IPV6;
            o->cmsg_type = IPV6_PKTINFO;
            o->cmsg_len = CMSG_LEN(sizeof pi);
            memcpy(CMSG_DATA(o), &pi, sizeof pi);
            return CMSG_SPACE(sizeof pi);
        }
    }
    return 0;
}

/* Handles one batch; returns how many datagrams were read (0: none waiting). */
static int one_batch(struct nu_server *u, int fd, int pktinfo)
{
    struct nu_batch *b = u->b;
    unsigned n_out = 0;
    int n, sent = 0;

    /* The receive headers are set up once; the kernel changes only the lengths and flags
     * of the ones it filled, so only those are reset (a datagram at a time, this is most of
     * the user-space work). */
    if (b->ready != pktinfo) {
        for (int i = 0; i < NU_BATCH; i++) {
            b->in_iov[i].iov_base = b->buf[i];
            b->in_iov[i].iov_len = NU_BUF_SIZE;
            memset(&b->in[i], 0, sizeof b->in[i]);
            b->in[i].msg_hdr.msg_name = &b->from[i];
            b->in[i].msg_hdr.msg_iov = &b->in_iov[i];
            b->in[i].msg_hdr.msg_iovlen = 1;
            if (pktinfo)
                b->in[i].msg_hdr.msg_control = b->in_ctl[i].buf;
        }
        b->ready = pktinfo;
        b->dirty = NU_BATCH;
    }
    for (unsigned i = 0; i < b->dirty; i++) {
        b->in[i].msg_hdr.msg_namelen = sizeof b->from[i];
        b->in[i].msg_hdr.msg_controllen = pktinfo ? sizeof b->in_ctl[i].buf : 0;
        b->in[i].msg_hdr.msg_flags = 0;
    }
    do
        n = recvmmsg(fd, b->in, NU_BATCH, MSG_DONTWAIT, NULL);
    while (n < 0 && errno == EINTR);
    b->dirty = n > 0 ? (unsigned)n : 0;
    if (n < 0) {
        b->ready = -1; /* be safe: set everything up again */
        /* A queued ICMP error (ECONNREFUSED...) is consumed by this call; go on. */
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            u->st.recv_errors++;
            return errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH ? 1 : 0;
        }
        return 0;
    }
    for (int i = 0; i < n; i++) {
        struct msghdr *mh = &b->in[i].msg_hdr;
        struct ed_reply r;
        struct ea_addr src;

        u->st.received++;
        if (mh->msg_flags & MSG_TRUNC) {
            u->st.truncated++;
            continue;
        }
        if (ns_addr_from_sockaddr(mh->msg_name, mh->msg_namelen, &src) != 0 ||
            ed_handle(&u->pol, &src, b->buf[i], b->in[i].msg_len, &r) != 0) {
            u->st.invalid++;
            continue;
        }
        u->st.verdict[r.verdict < ED__VERDICT_COUNT ? r.verdict : 0]++;
        if (r.verdict != ED_REPLY)
            continue;
        b->out_iov[n_out].iov_base = (void *)(uintptr_t)r.p;
        b->out_iov[n_out].iov_len = r.n;
        memset(&b->out[n_out], 0, sizeof b->out[n_out]);
        b->out[n_out].msg_hdr.msg_name = mh->msg_name;
        b->out[n_out].msg_hdr.msg_namelen = mh->msg_namelen;
        b->out[n_out].msg_hdr.msg_iov = &b->out_iov[n_out];
        b->out[n_out].msg_hdr.msg_iovlen = 1;
        if (pktinfo) {
            size_t clen = reply_ctl(mh, &b->out_ctl[n_out]);
            if (clen) {
                b->out[n_out].msg_hdr.msg_control = b->out_ctl[n_out].buf;
                b->out[n_out].msg_hdr.msg_controllen = clen;
            }
        }
        n_out++;
    }
    while ((unsigned)sent < n_out) {
        int s = sendmmsg(fd, b->out + sent, n_out - (unsigned)sent, MSG_DONTWAIT);
        if (s < 0 && errno == EINTR)
            continue;
        if (s <= 0) {
            /* EAGAIN or an error about this one destination: drop it, try the rest. */
            u->st.send_dropped++;
            sent++;
            continue;
        }
        for (int k = 0; k < s; k++) {
            u->st.sent++;
            u->st.bytes += b->out[sent + k].msg_len;
        }
        sent += s;
    }
    return n;
}

static void sock_io(struct nl_loop *l, struct nl_io *io, uint32_t revents)
{
    struct nu_sock *us = (struct nu_sock *)(void *)io;

    /* A short batch means the queue is empty: stop without the recvmmsg that would only
     * say EAGAIN (level-triggered epoll reports the next datagram). */
    for (int i = 0; i < BATCHES_PER_EVENT; i++)
        if (one_batch(us->srv, io->fd, us->pktinfo) < NU_BATCH)
            break;
}

static int is_wildcard(const struct ea_addr *a)
{
    size_t n = a->family == EA_INET ? 4 : 16;

    for (size_t i = 0; i < n; i++)
        if (a->ip[i])
            return 0;
    return 1;
}

int nu_init(struct nu_server *u, struct nl_loop *l, const struct ed_policy *pol)
{
    memset(u, 0, sizeof *u);
    u->loop = l;
    u->pol = *pol;
    u->b = malloc(sizeof *u->b);
    if (!u->b)
        return -ENOMEM;
    u->b->ready = -1;
    return 0;
}

int nu_add_socket(struct nu_server *u, int fd)
{
    struct nu_sock *us;
    struct ea_addr local;
    int rc;

    if (u->n_socks >= NU_MAX_SOCKS)
        return -ENOSPC;
    us = &u->socks[u->n_socks];
    us->srv = u;
    us->pktinfo = 0;
    /* Best effort: room for bursts of large datagrams both ways (capped by the kernel's
     * rmem_max / wmem_max), so fewer are dropped for want of buffer space. */
    (void)ns_set_int(fd, SOL_SOCKET, SO_RCVBUF, NU_SOCK_BUF);
    (void)ns_set_int(fd, SOL_SOCKET, SO_SNDBUF, NU_SOCK_BUF);
    /* Bound to 0.0.0.0 or ::, the socket answers for every local address: learn which one
     * each request was sent to and reply from it (RFC 1122 3.3.4.2). */
    if (ns_local_addr(fd, &local) == 0 && is_wildcard(&local) &&
        ns_set_pktinfo(fd, local.family) == 0)
        us->pktinfo = 1;
    rc = nl_add(u->loop, &us->io, fd, EPOLLIN, sock_io);
    if (rc)
        return rc;
    u->n_socks++;
    return 0;
}

void nu_fini(struct nu_server *u)
{
    for (uint32_t i = 0; i < u->n_socks; i++) {
        int fd = u->socks[i].io.fd;
        nl_del(u->loop, &u->socks[i].io);
        if (fd >= 0)
            close(fd);
    }
    u->n_socks = 0;
    free(u->b);
    u->b = NULL;
}
