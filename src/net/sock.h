/*
 * sock.h - socket verbs shared by every echoharness program: converting between struct
 * sockaddr and the core's struct ea_addr, resolving a struct ea_endpoint with getaddrinfo,
 * listening (TCP or UDP), accepting, and connecting with a timeout.
 *
 * Every socket these helpers make is non-blocking and close-on-exec. Every function returns
 * 0 or a negative errno value (never relies on errno surviving); name resolution failures
 * are encoded as NS_ERR_GAI(eai) so ns_strerror() can describe both kinds. The caller names
 * the failing step in its message ("cannot listen on 127.0.0.1:80: Permission denied").
 * Nothing here knows about echo; it is plain BSD sockets on Linux.
 */
#ifndef EH_NET_SOCK_H
#define EH_NET_SOCK_H

#include <stddef.h>
#include <sys/socket.h>

#include "core/addr.h"

/* Family preference for ns_resolve(): any, IPv4 only, or IPv6 only. */
enum ns_family { NS_FAMILY_ANY = 0, NS_FAMILY_V4 = 4, NS_FAMILY_V6 = 6 };

/* getaddrinfo() failures travel as negative values below -NS_GAI_BASE, out of errno's range.
 * NS_ERR_GAI(EAI_NONAME) is such a value; ns_strerror() maps it back to gai_strerror(). */
#define NS_GAI_BASE 100000
#define NS_ERR_GAI(eai) (-(NS_GAI_BASE - (eai))) /* EAI_* values are negative on glibc */

/* Describes a value returned by any ns_/nl_/nt_/nu_ function: strerror(-rc) for -errno,
 * gai_strerror() for NS_ERR_GAI values. Returns a static string; never NULL. */
const char *ns_strerror(int rc);

/* Converts a socket address (AF_INET or AF_INET6, len bytes) to *out (IPv6 scope id kept;
 * an IPv4-mapped IPv6 address stays IPv6). Returns 0, or -EAFNOSUPPORT for another family,
 * or -EINVAL when len is too short or an argument is NULL. */
int ns_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct ea_addr *out);

/* Converts *a to a socket address in *ss and sets *len to its size. Returns 0, or
 * -EAFNOSUPPORT when a->family is neither EA_INET nor EA_INET6. */
int ns_addr_to_sockaddr(const struct ea_addr *a, struct sockaddr_storage *ss, socklen_t *len);

/* Formats a socket address as ea_format() does ("127.0.0.1:7", "[::1]:7") into buf[0..size),
 * NUL-terminated; on failure writes "?" (when size > 0). Returns buf, for use in messages. */
const char *ns_format(const struct ea_addr *a, char *buf, size_t size);

/* Resolves ep into at most max addresses out[0..*count), in getaddrinfo's order, with ep's
 * port, duplicates removed. Numeric endpoints (EA_KIND_V4/V6) are copied without a lookup,
 * but still filtered by family. An empty host (EA_KIND_PORT) resolves to the loopback
 * address (127.0.0.1, or ::1 when family is NS_FAMILY_V6) unless passive is set, which gives
 * the wildcard address (0.0.0.0 / ::). socktype is SOCK_STREAM or SOCK_DGRAM (0 for either).
 * Returns 0 with *count >= 1; NS_ERR_GAI(eai) when the name does not resolve;
 * -EAFNOSUPPORT when no address of the wanted family exists; -EINVAL for bad arguments. */
int ns_resolve(const struct ea_endpoint *ep, int family, int socktype, int passive,
               struct ea_addr *out, size_t max, size_t *count);

/* Creates a socket of socktype (SOCK_STREAM or SOCK_DGRAM) bound to *a with SO_REUSEADDR
 * (and IPV6_V6ONLY for IPv6, so "0.0.0.0" and "[::]" can both be bound on one port). Stream
 * sockets also listen(backlog; <= 0 means SOMAXCONN). The socket is non-blocking and
 * close-on-exec; *fd gets it. Returns 0 or -errno of the failing step (socket, setsockopt,
 * bind, listen); nothing is left open on failure. */
int ns_listen(const struct ea_addr *a, int socktype, int backlog, int *fd);

/* As ns_listen, and with SO_REUSEPORT, so several sockets (one per event loop or process of
 * the same user) can be bound to the same address; the kernel spreads new connections and
 * datagrams across them by a hash of the peer's address and port. Every socket sharing the
 * address must be made this way. Returns what ns_listen returns (-errno from setsockopt for
 * a kernel without SO_REUSEPORT). */
int ns_listen_shared(const struct ea_addr *a, int socktype, int backlog, int *fd);

/* The local address of a socket (for an ephemeral port after binding to port 0). Returns 0
 * or -errno from getsockname (-EAFNOSUPPORT for a non-IP socket). */
int ns_local_addr(int fd, struct ea_addr *out);

/* The peer address of a connected socket. Returns 0 or -errno from getpeername. */
int ns_peer_addr(int fd, struct ea_addr *out);

/* Accepts one connection from listening socket lfd: *fd gets a non-blocking, close-on-exec
 * socket and *peer (when not NULL) its address. Retries EINTR. Returns 0 or -errno from
 * accept4 (-EAGAIN when none is waiting; -EMFILE/-ENFILE/-ENOBUFS/-ENOMEM when out of
 * resources: the connection stays queued, so do not retry at once). */
int ns_accept(int lfd, int *fd, struct ea_addr *peer);

/* Connects a new socket of socktype to *a, waiting at most timeout_ms (< 0: no limit) with
 * poll(). When local is not NULL the socket is first bound to it (SO_REUSEADDR set), e.g. to
 * choose the source port. For SOCK_DGRAM this only fixes the peer (no packet is sent), so
 * a later send or recv may fail with -ECONNREFUSED after an ICMP port unreachable. *fd gets
 * a connected, non-blocking, close-on-exec socket. Returns 0, -ETIMEDOUT when the time ran
 * out, or -errno of the failing step (-ECONNREFUSED, -ENETUNREACH, -EHOSTUNREACH, ...);
 * nothing is left open on failure. */
int ns_connect(const struct ea_addr *a, int socktype, const struct ea_addr *local, int timeout_ms,
               int *fd);

/* Starts connecting a new non-blocking, close-on-exec socket of socktype to *a without
 * waiting (for programs that open thousands at once from an event loop). Returns 0 when
 * already connected, -EINPROGRESS while in progress (wait for EPOLLOUT, then ask
 * ns_connect_result), both with *fd set; or -errno of the failing step, nothing left open. */
int ns_connect_start(const struct ea_addr *a, int socktype, int *fd);

/* ns_connect_start for a TCP socket whose congestion control (TCP_CONGESTION) is set to cc
 * before connecting, so the connection never starts with the system's (NULL: it does).
 * Best effort: a kernel that refuses cc leaves the system's. */
int ns_connect_start_cc(const struct ea_addr *a, const char *cc, int *fd);

/* Sets fd's TCP congestion control to name (on a listening socket: for the connections it
 * will accept). Returns 0 or -errno from setsockopt. */
int ns_set_congestion(int fd, const char *name);

/* Whether this kernel lets this process use congestion control name (tries it on a new TCP
 * socket). Returns 0 or -errno (ENOENT: unknown, EPERM: not allowed to this user). */
int ns_check_congestion(const char *name);

/* The outcome of a connect started by ns_connect_start once fd is writable: 0 connected, or
 * -errno (SO_ERROR: -ECONNREFUSED, -ETIMEDOUT, ...). */
int ns_connect_result(int fd);

/* Sets or clears O_NONBLOCK on fd. Returns 0 or -errno from fcntl. */
int ns_set_nonblock(int fd, int on);

/* Sets an int socket option. Returns 0 or -errno from setsockopt. */
int ns_set_int(int fd, int level, int name, int value);

/* Asks for the destination address of each datagram received on UDP socket fd of family
 * (EA_INET: IP_PKTINFO; EA_INET6: IPV6_RECVPKTINFO), delivered as a control message, so a
 * reply can be sent from that address (RFC 1122 3.3.4.2). Only a wildcard-bound socket
 * needs it. Returns 0, -EAFNOSUPPORT for another family, or -errno from setsockopt. */
int ns_set_pktinfo(int fd, int family);

/* Waits until fd is ready for events (POLLIN, POLLOUT) or timeout_ms passes (< 0: no limit),
 * retrying EINTR with the time left (CLOCK_MONOTONIC). Returns the revents (> 0), 0 on
 * timeout, or -errno from poll. */
int ns_wait(int fd, short events, int timeout_ms);

#endif
