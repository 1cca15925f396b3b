/*
 * udp.h - UDP wiring: datagrams from sockets go through the core's ed_handle(), and the
 * decided replies go back with the same bytes to the source (RFC 862 over RFC 768).
 *
 * Receives in batches with recvmmsg into 65536-byte buffers (one more than the largest
 * datagram, so truncation is detected, never silent), answers with sendmmsg, and counts
 * every verdict. Whether to answer is decided by ed_handle() and its policy alone. A reply
 * the socket cannot take right now (EAGAIN) is dropped and counted, as UDP allows.
 *
 * On a wildcard-bound socket (0.0.0.0, ::) each request's destination address comes with it
 * (IP_PKTINFO / IPV6_RECVPKTINFO) and its reply is sent from that address (IP_PKTINFO /
 * IPV6_PKTINFO), as RFC 1122 3.3.4.2 asks, so a client with a connected socket to, say,
 * 127.0.0.2 accepts it. A socket bound to one address needs none of this.
 */
#ifndef EH_NET_UDP_H
#define EH_NET_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "core/dgram.h"
#include "net/loop.h"

#define NU_MAX_SOCKS 16
#define NU_BUF_SIZE 65536u
#define NU_BATCH 32 /* datagrams per recvmmsg / sendmmsg */
#define NU_SOCK_BUF (1 << 20) /* SO_RCVBUF / SO_SNDBUF asked for on each socket */

struct nu_stats {
    uint64_t received;                   /* datagrams read */
    uint64_t verdict[ED__VERDICT_COUNT]; /* per ed_verdict; [ED_REPLY] counts replies decided */
    uint64_t sent;                       /* replies the socket took */
    uint64_t send_dropped;               /* replies dropped: EAGAIN or a send error */
    uint64_t truncated;                  /* datagrams too long for the buffer (MSG_TRUNC) */
    uint64_t invalid;                    /* refused by ed_handle (e.g. unknown source family) */
    uint64_t recv_errors;                /* receive errors other than EAGAIN/EINTR */
    uint64_t bytes;                      /* payload bytes echoed */
};

struct nu_sock {
    struct nl_io io;
    struct nu_server *srv;
    int pktinfo; /* wildcard-bound: replies go from each request's destination address */
};

struct nu_batch; /* private: buffers and message headers */

struct nu_server {
    struct nl_loop *loop;
    struct ed_policy pol;
    struct nu_sock socks[NU_MAX_SOCKS];
    uint32_t n_socks;
    struct nu_batch *b;
    struct nu_stats st;
};

/* Prepares a UDP server on loop l with policy pol (copied) and allocates its batch buffers
 * (NU_BATCH x NU_BUF_SIZE bytes). Returns 0 or -ENOMEM. */
int nu_init(struct nu_server *u, struct nl_loop *l, const struct ed_policy *pol);

/* Serves datagrams from socket fd (non-blocking, bound; the server owns it from now on and
 * closes it in nu_fini). Asks for NU_SOCK_BUF socket buffers both ways (best effort), and,
 * when fd is bound to a wildcard address, for each datagram's destination address (best
 * effort: without it replies leave from the kernel's choice of source address). Returns 0,
 * -ENOSPC or -errno from epoll_ctl (fd not owned then). */
int nu_add_socket(struct nu_server *u, int fd);

/* Closes the sockets and frees the buffers. Safe after a failed init. */
void nu_fini(struct nu_server *u);

#endif
