/*
 * tcp.h - TCP wiring: listening sockets and connections between file descriptors and the
 * core's echo stream machine (es_, RFC 862 over RFC 9293 with half-close).
 *
 * Connections live in a fixed array of small slots sized by max_conns (an idle connection is
 * one slot: descriptor, machine, idle timer; no buffer). Bytes are read into one per-server
 * scratch area and written straight back; only what the socket did not take goes into
 * cap-sized storage from a bounded pool, attached while bytes wait and returned when they
 * are drained. Accept never spins on EMFILE/ENFILE/ENOBUFS: a reserve descriptor lets the
 * server accept-and-close, and otherwise the listeners are disarmed for a short back-off.
 * Bulk transfers go through the kernel instead: once a read fills the scratch area, the
 * connection borrows a pipe from a small per-server pool and moves bytes socket -> pipe ->
 * socket with splice(2), so they are never copied to user space; the pipe's bytes are the
 * machine's held bytes (es_on_held), so caps, backpressure and half-close work the same.
 * The pipe goes back to the pool when the stream slows down. Echo rules (what to read,
 * write, shut down, close) come from es_want(); nothing here decides them.
 */
#ifndef EH_NET_TCP_H
#define EH_NET_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/stream.h"
#include "net/loop.h"

#define NT_MAX_LISTEN 16
#define NT_SCRATCH_SIZE ((size_t)64 * 1024)
#define NT_BACKOFF_MS 100
#define NT_MAX_PIPES 64 /* splice pipes per server, two descriptors each */

struct nt_config {
    size_t cap;               /* per-connection pending cap (0: ES_DEFAULT_CAP) */
    uint32_t max_conns;       /* slots; further connections are accepted and closed */
    uint32_t idle_timeout_ms; /* 0: connections never time out */
    uint32_t pool_max;        /* most free buffers kept for reuse (0: about 4 MiB worth,
                                 1..64 buffers) */
    /* Access check on each accepted peer (NULL: everyone is served). Returns non-zero to
     * serve it; a refused connection is closed at once and counted as not_allowed. */
    int (*allow)(void *ctx, const struct ea_addr *peer);
    void *allow_ctx;
    int no_splice; /* copy through user space only (for comparisons) */
};

struct nt_stats {
    uint64_t accepted;     /* connections given a slot */
    uint64_t refused_full; /* accepted and closed at once: every slot was taken */
    uint64_t shed;         /* accepted and closed at once: out of descriptors */
    uint64_t not_allowed;  /* accepted and closed at once: cfg.allow refused the peer */
    uint64_t backoffs;     /* times the listeners were paused after an accept error */
    uint64_t closed;       /* connections finished (any way) */
    uint64_t errors;       /* of those, failed (reset, broken pipe, ...) */
    uint64_t idle_closed;  /* of those, closed by the idle timeout */
    uint64_t bytes;        /* bytes echoed */
    uint64_t spliced;      /* of those, moved by splice(2) through a pipe */
    uint64_t buf_allocs;   /* storage buffers allocated (pool misses) */
};

struct nt_server;

/* One connection slot. Kept small on purpose: see nt_slot_size(). */
struct nt_conn {
    struct nl_io io;      /* fd -1 when the slot is free */
    struct es_conn es;    /* the echo machine; storage attached only while bytes wait */
    struct nl_timer idle; /* idle timeout, re-armed lazily from last_ms */
    int64_t last_ms;      /* last time bytes moved */
    struct nt_server *srv;
    uint32_t pipe; /* 1 + index into srv->pipes while the connection splices, else 0 */
};

struct nt_pipe {
    int r, w;      /* -1 when not open */
    uint32_t size; /* its capacity in bytes (F_GETPIPE_SZ) */
    uint32_t mss;  /* the borrowing connection's segment size (TCP_MAXSEG), 0 if unknown */
};

struct nt_listener {
    struct nl_io io;
    struct nt_server *srv;
};

struct nt_server {
    struct nl_loop *loop;
    struct nt_config cfg;
    struct nt_conn *slots;
    uint32_t *free_slots; /* stack of free slot indexes below n_fresh */
    uint32_t n_free, n_fresh, n_live;
    uint8_t *scratch;
    uint8_t **pool;
    uint32_t n_pool;
    struct nt_listener lis[NT_MAX_LISTEN];
    uint32_t n_lis;
    struct nt_pipe pipes[NT_MAX_PIPES];
    uint32_t pipe_free[NT_MAX_PIPES]; /* stack of pipe indexes not lent to a connection */
    uint32_t n_pipe_free, n_pipes;    /* n_pipes: indexes used so far */
    int reserve_fd; /* /dev/null, given up to accept-and-close when out of descriptors */
    int paused;
    struct nl_timer backoff;
    struct nt_stats st;
};

/* Prepares a server on loop l (which must have room for max_conns + 1 timers) and
 * allocates its slot array, scratch area and pool table; connection storage is allocated
 * only under backpressure. cfg is copied. Returns 0, -EINVAL (max_conns 0) or -ENOMEM. */
int nt_init(struct nt_server *s, struct nl_loop *l, const struct nt_config *cfg);

/* Serves connections from listening socket fd (non-blocking; the server owns it from now
 * on and closes it in nt_fini). Returns 0, -ENOSPC (NT_MAX_LISTEN reached) or -errno from
 * epoll_ctl (fd is then not owned). */
int nt_add_listener(struct nt_server *s, int fd);

/* Closes every connection and listener and frees all memory. Safe after a failed init. */
void nt_fini(struct nt_server *s);

/* Frees the storage buffers and closes the splice pipes kept for reuse (connections keep
 * theirs), so a quiet server gives back the memory and descriptors of a past burst, and a
 * test or fuzz target can start each run from the same state. Cannot fail. */
void nt_pool_trim(struct nt_server *s);

/* Bytes of user memory one connection costs while idle: its slot, its timer heap entry
 * and its free-list entry. */
size_t nt_slot_size(void);

#endif
