/*
 * udp.c - UDP glue: recvmmsg a batch, ask ed_handle() about each datagram, sendmmsg the
 * replies it decided (the same buffer, to the same source address). Buffers are allocated
 * once at init; nothing is allocated per datagram.
 */
#define _GNU_SOURCE
#include "net/udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sock.h"

#define BATCHES_PER_EVENT 8 /* fairness: then let other descriptors run */

struct nu_batch {
    struct mmsghdr in[NU_BATCH];
    struct iovec in_iov[NU_BATCH];
    struct sockaddr_storage from[NU_BATCH];
    struct mmsghdr out[NU_BATCH];
    struct iovec out_iov[NU_BATCH];
    uint8_t buf[NU_BATCH][NU_BUF_SIZE];
};

/* Handles one batch; returns how many datagrams were read (0: none waiting). */
static int one_batch(struct nu_server *u, int fd)
{
    struct nu_batch *b = u->b;
    unsigned n_out = 0;
    int n, sent = 0;

    for (int i = 0; i < NU_BATCH; i++) {
        b->in_iov[i].iov_base = b->buf[i];
        b->in_iov[i].iov_len = NU_BUF_SIZE;
        memset(&b->in[i], 0, sizeof b->in[i]);
        b->in[i].msg_hdr.msg_name = &b->from[i];
        b->in[i].msg_hdr.msg_namelen = sizeof b->from[i];
        b->in[i].msg_hdr.msg_iov = &b->in_iov[i];
        b->in[i].msg_hdr.msg_iovlen = 1;
    }
    do
        n = recvmmsg(fd, b->in, NU_BATCH, MSG_DONTWAIT, NULL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
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

    for (int i = 0; i < BATCHES_PER_EVENT; i++)
        if (one_batch(us->srv, io->fd) <= 0)
            break;
}

int nu_init(struct nu_server *u, struct nl_loop *l, const struct ed_policy *pol)
{
    memset(u, 0, sizeof *u);
    u->loop = l;
    u->pol = *pol;
    u->b = malloc(sizeof *u->b);
    return u->b ? 0 : -ENOMEM;
}

int nu_add_socket(struct nu_server *u, int fd)
{
    struct nu_sock *us;
    int rc;

    if (u->n_socks >= NU_MAX_SOCKS)
        return -ENOSPC;
    us = &u->socks[u->n_socks];
    us->srv = u;
    /* Best effort: room for bursts of large datagrams both ways (capped by the kernel's
     * rmem_max / wmem_max), so fewer are dropped for want of buffer space. */
    (void)ns_set_int(fd, SOL_SOCKET, SO_RCVBUF, NU_SOCK_BUF);
    (void)ns_set_int(fd, SOL_SOCKET, SO_SNDBUF, NU_SOCK_BUF);
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
