/*
 * test_net.c - Check suite for the socket glue's own logic (src/net): the loop's timer heap
 * (order, cancel, re-arm, capacity) against a simple reference, stepping the loop one
 * round at a time, its bounded busy polling, its timerfd (or timed waits without one)
 * ending endless waits, the TCP server's storage pool, and the socket verbs' address
 * conversions, resolution and error texts. It needs loopback only and runs with the
 * integration label because it makes system calls (epoll, sockets, getaddrinfo).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/loop.h"
#include "net/sock.h"
#include "net/tcp.h"
#include "../suite_main.h"

/* --- timers ---------------------------------------------------------------------------- */

#define NT 1000

struct tt {
    struct nl_timer t;
    int id;
};

static struct tt timers[NT];
static int fired[NT], n_fired, want_live;

static void on_fire(struct nl_loop *l, struct nl_timer *t)
{
    struct tt *x = (struct tt *)(void *)t;

    fired[n_fired++] = x->id;
    if (n_fired == want_live)
        nl_stop(l);
}

static unsigned rnd_state = 12345;
static unsigned rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

START_TEST(timers_fire_in_order)
{
    struct nl_loop l;
    int live[NT];
    int64_t base;

    ck_assert_int_eq(nl_init(&l, NT), 0);
    base = nl_now(&l) - 100000000; /* all due in the past: they fire on the first turn */
    for (int i = 0; i < NT; i++) {
        nl_timer_init(&timers[i].t, on_fire);
        timers[i].id = i;
        /* distinct dues: order is fully determined */
        ck_assert_int_eq(nl_timer_arm(&l, &timers[i].t, base + (int64_t)(rnd() % 10000) * NT + i),
                         0);
        live[i] = 1;
    }
    for (int k = 0; k < 300; k++) {
        int i = (int)(rnd() % NT);
        nl_timer_cancel(&l, &timers[i].t);
        live[i] = 0;
        ck_assert(!nl_timer_armed(&timers[i].t));
    }
    for (int k = 0; k < 300; k++) {
        int i = (int)(rnd() % NT);
        ck_assert_int_eq(nl_timer_arm(&l, &timers[i].t, base + (int64_t)(rnd() % 10000) * NT + i),
                         0);
        live[i] = 1;
    }
    want_live = 0;
    for (int i = 0; i < NT; i++)
        want_live += live[i];
    n_fired = 0;
    ck_assert_int_eq(nl_run(&l), 0);
    ck_assert_int_eq(n_fired, want_live);
    for (int k = 0; k < n_fired; k++) {
        ck_assert(live[fired[k]]);
        if (k)
            ck_assert(timers[fired[k - 1]].t.due_ms < timers[fired[k]].t.due_ms);
    }
    ck_assert_uint_eq(l.n_timers, 0);
    nl_fini(&l);
}
END_TEST

START_TEST(timers_capacity)
{
    struct nl_loop l;
    struct nl_timer a, b;

    ck_assert_int_eq(nl_init(&l, 1), 0);
    nl_timer_init(&a, on_fire);
    nl_timer_init(&b, on_fire);
    ck_assert_int_eq(nl_timer_arm(&l, &a, 5), 0);
    ck_assert_int_eq(nl_timer_arm(&l, &a, 7), 0); /* moving an armed timer needs no room */
    ck_assert_int_eq(nl_timer_arm(&l, &b, 5), -ENOSPC);
    nl_timer_cancel(&l, &a);
    nl_timer_cancel(&l, &a); /* idempotent */
    ck_assert_int_eq(nl_timer_arm(&l, &b, 5), 0);
    nl_fini(&l);
    nl_fini(&l); /* safe twice */
}
END_TEST

/* --- socket verbs ---------------------------------------------------------------------- */

START_TEST(addr_round_trip)
{
    struct ea_addr a, b;
    struct sockaddr_storage ss;
    socklen_t len;
    char text[EA_FORMAT_MAX];

    memset(&a, 0, sizeof a);
    a.family = EA_INET6;
    a.port = 7007;
    a.scope = 3;
    a.ip[15] = 1;
    ck_assert_int_eq(ns_addr_to_sockaddr(&a, &ss, &len), 0);
    ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
    ck_assert_int_eq(ns_addr_from_sockaddr((struct sockaddr *)&ss, len, &b), 0);
    ck_assert(ea_equal(&a, &b));
    ck_assert_uint_eq(b.scope, 3);
    ck_assert_str_eq(ns_format(&b, text, sizeof text), "[::1%3]:7007");

    memset(&a, 0, sizeof a);
    a.family = EA_INET;
    a.port = 9;
    a.ip[0] = 192, a.ip[1] = 0, a.ip[2] = 2, a.ip[3] = 1;
    ck_assert_int_eq(ns_addr_to_sockaddr(&a, &ss, &len), 0);
    ck_assert_int_eq(ns_addr_from_sockaddr((struct sockaddr *)&ss, len, &b), 0);
    ck_assert_str_eq(ns_format(&b, text, sizeof text), "192.0.2.1:9");
    /* Too short, unknown family */
    ck_assert_int_eq(ns_addr_from_sockaddr((struct sockaddr *)&ss, 4, &b), -EINVAL);
    ss.ss_family = AF_UNIX;
    ck_assert_int_eq(ns_addr_from_sockaddr((struct sockaddr *)&ss, sizeof ss, &b), -EAFNOSUPPORT);
    a.family = 0;
    ck_assert_int_eq(ns_addr_to_sockaddr(&a, &ss, &len), -EAFNOSUPPORT);
    ck_assert_str_eq(ns_format(&a, text, sizeof text), "?");
}
END_TEST

static const struct {
    const char *name, *text;
    int family, passive, rc;
    const char *first; /* first address formatted, or NULL */
} resolve_cases[] = {
    {"bare port, client", "7007", NS_FAMILY_ANY, 0, 0, "127.0.0.1:7007"},
    {"bare port, passive", "7007", NS_FAMILY_ANY, 1, 0, "0.0.0.0:7007"},
    {"bare port, v6", "7007", NS_FAMILY_V6, 0, 0, "[::1]:7007"},
    {"v4 literal", "192.0.2.1:7", NS_FAMILY_ANY, 0, 0, "192.0.2.1:7"},
    {"v4 literal, v6 wanted", "192.0.2.1:7", NS_FAMILY_V6, 0, -EAFNOSUPPORT, NULL},
    {"v6 literal", "[2001:db8::1]:7", NS_FAMILY_V6, 0, 0, "[2001:db8::1]:7"},
    {"localhost v4", "localhost:7", NS_FAMILY_V4, 0, 0, "127.0.0.1:7"},
    {"no such name", "nosuch.invalid:7", NS_FAMILY_ANY, 0, 1, NULL},
};

START_TEST(resolve_table)
{
    struct ea_endpoint ep;
    struct ea_addr out[4];
    size_t count = 99;
    char text[EA_FORMAT_MAX];
    int rc;

    ck_assert_msg(ea_parse(resolve_cases[_i].text, strlen(resolve_cases[_i].text),
                           EA_ALLOW_BARE_PORT, &ep) == 0,
                  "%s: parse", resolve_cases[_i].name);
    rc = ns_resolve(&ep, resolve_cases[_i].family, SOCK_STREAM, resolve_cases[_i].passive, out, 4,
                    &count);
    if (resolve_cases[_i].rc == 1) {
        /* A resolver error, encoded out of errno's range, with a text of its own. */
        ck_assert_msg(rc <= -NS_GAI_BASE, "%s: rc %d", resolve_cases[_i].name, rc);
        ck_assert_msg(strlen(ns_strerror(rc)) > 0, "%s", resolve_cases[_i].name);
        return;
    }
    ck_assert_msg(rc == resolve_cases[_i].rc, "%s: rc %d", resolve_cases[_i].name, rc);
    if (resolve_cases[_i].first) {
        ck_assert_uint_ge(count, 1);
        ck_assert_str_eq(ns_format(&out[0], text, sizeof text), resolve_cases[_i].first);
    }
}
END_TEST

START_TEST(strerror_kinds)
{
    ck_assert_str_eq(ns_strerror(-ECONNREFUSED), strerror(ECONNREFUSED));
    ck_assert_str_eq(ns_strerror(NS_ERR_GAI(EAI_NONAME)), gai_strerror(EAI_NONAME));
    ck_assert_str_eq(ns_strerror(0), "success");
}
END_TEST

START_TEST(listen_connect_loopback)
{
    struct ea_addr a, got, peer;
    int lfd, ufd, cfd, afd;

    memset(&a, 0, sizeof a);
    a.family = EA_INET;
    a.ip[0] = 127, a.ip[3] = 1;
    ck_assert_int_eq(ns_listen(&a, SOCK_STREAM, 0, &lfd), 0);
    ck_assert_int_eq(ns_local_addr(lfd, &got), 0);
    ck_assert_uint_ne(got.port, 0);
    /* UDP on the same port number as TCP */
    ck_assert_int_eq(ns_listen(&got, SOCK_DGRAM, 0, &ufd), 0);
    ck_assert_int_eq(ns_accept(lfd, &afd, NULL), -EAGAIN); /* non-blocking */
    ck_assert_int_eq(ns_connect(&got, SOCK_STREAM, NULL, 2000, &cfd), 0);
    ck_assert_int_eq(ns_wait(lfd, POLLIN, 2000) > 0, 1);
    ck_assert_int_eq(ns_accept(lfd, &afd, &peer), 0);
    ck_assert_uint_eq(peer.family, EA_INET);
    ck_assert_int_eq(ns_peer_addr(cfd, &peer), 0);
    ck_assert(ea_equal(&peer, &got));
    close(afd);
    close(cfd);
    /* Bound TCP port: a second listener on it fails, with the errno kept. */
    ck_assert_int_eq(ns_listen(&got, SOCK_STREAM, 0, &afd), -EADDRINUSE);
    close(ufd);
    close(lfd);
    /* Nobody listens there any more. */
    ck_assert_int_eq(ns_connect(&got, SOCK_STREAM, NULL, 2000, &cfd), -ECONNREFUSED);
}
END_TEST

static void expect_cc(int fd, const char *want)
{
    char name[16] = "";
    socklen_t len = sizeof name;

    ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
    ck_assert_str_eq(name, want);
}

/* echod's loopback rule rests on this: a congestion control set on the listener is the one
 * of every connection it accepts; the client's is set before it connects. reno is built
 * into every kernel and allowed to every user. */
START_TEST(congestion_inherited)
{
    struct ea_addr a, got;
    int lfd, cfd, afd, rc;

    ck_assert_int_eq(ns_check_congestion("reno"), 0);
    ck_assert_int_eq(ns_check_congestion("no-such-cc"), -ENOENT);
    memset(&a, 0, sizeof a);
    a.family = EA_INET;
    a.ip[0] = 127, a.ip[3] = 1;
    ck_assert_int_eq(ns_listen(&a, SOCK_STREAM, 0, &lfd), 0);
    ck_assert_int_eq(ns_set_congestion(lfd, "reno"), 0);
    ck_assert_int_eq(ns_set_congestion(lfd, "no-such-cc"), -ENOENT);
    ck_assert_int_eq(ns_local_addr(lfd, &got), 0);
    rc = ns_connect_start_cc(&got, "reno", &cfd);
    ck_assert(rc == 0 || rc == -EINPROGRESS);
    ck_assert_int_eq(ns_wait(lfd, POLLIN, 2000) > 0, 1);
    ck_assert_int_eq(ns_accept(lfd, &afd, NULL), 0);
    expect_cc(afd, "reno");
    expect_cc(cfd, "reno");
    close(afd);
    close(cfd);
    close(lfd);
}
END_TEST

/* --- stepping the loop and the server (nl_run_once, nt_pool_trim) ------------------------ */

static int n_pipe_events, n_timer_fired;

static void on_pipe(struct nl_loop *l, struct nl_io *io, uint32_t revents)
{
    char c;

    ck_assert_int_eq((int)read(io->fd, &c, 1), 1);
    n_pipe_events++;
}

static void on_step_timer(struct nl_loop *l, struct nl_timer *t)
{
    n_timer_fired++;
}

/* A loop (with room for max_timers) watching the read end of a fresh pipe p; counters reset. */
static void pipe_loop_open(struct nl_loop *l, struct nl_io *io, int p[2], size_t max_timers)
{
    ck_assert_int_eq(nl_init(l, max_timers), 0);
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(nl_add(l, io, p[0], EPOLLIN, on_pipe), 0);
    n_pipe_events = n_timer_fired = 0;
}

static void pipe_loop_close(struct nl_loop *l, struct nl_io *io, int p[2])
{
    nl_del(l, io);
    close(p[0]);
    close(p[1]);
    nl_fini(l);
}

START_TEST(run_once_steps)
{
    struct nl_loop l;
    struct nl_io io;
    struct nl_timer t;
    int p[2];
    int64_t t0;

    pipe_loop_open(&l, &io, p, 1);
    ck_assert_int_eq(nl_run_once(&l, 0), 0); /* nothing ready: returns at once */
    ck_assert_int_eq((int)write(p[1], "x", 1), 1);
    ck_assert_int_eq(nl_run_once(&l, 0), 1);
    ck_assert_int_eq(n_pipe_events, 1);
    ck_assert_int_eq(nl_run_once(&l, 0), 0); /* the byte was read: quiet again */

    nl_timer_init(&t, on_step_timer);
    ck_assert_int_eq(nl_timer_arm(&l, &t, nl_now(&l) - 1), 0);
    ck_assert_int_eq(nl_run_once(&l, 0), 1); /* a due timer counts as a callback */
    ck_assert_int_eq(n_timer_fired, 1);
    ck_assert(!nl_timer_armed(&t));

    /* Asked to wait 20 s, the round wakes up for a timer due in 20 ms instead. */
    t0 = nl_now(&l);
    ck_assert_int_eq(nl_timer_arm(&l, &t, t0 + 20), 0);
    while (n_timer_fired < 2)
        ck_assert_int_ge(nl_run_once(&l, 20000), 0);
    ck_assert_int_lt(nl_now(&l) - t0, 10000);

    /* After nl_stop() a round dispatches nothing. */
    ck_assert_int_eq((int)write(p[1], "y", 1), 1);
    nl_stop(&l);
    ck_assert_int_eq(nl_run_once(&l, 0), 0);
    ck_assert_int_eq(n_pipe_events, 1);
    pipe_loop_close(&l, &io, p);
}
END_TEST

/* --busy-poll: the loop polls (a wait returns at once, counted in busy_polls) only while it
 * has been idle for less than core/pollgov's window, which opens after an idle period the cap
 * could have caught, stays while events come within it and halves after one longer than the
 * cap; off, and with the window closed, a wait sleeps as before (no poll counted). */
START_TEST(busy_poll_window)
{
    struct nl_loop l;
    struct nl_io io;
    int p[2];
    uint64_t polls;
    int tries;

    pipe_loop_open(&l, &io, p, 0);

    /* Off (a new loop's default): an event opens no window; a timed wait sleeps it out. */
    ck_assert_int_eq((int)write(p[1], "a", 1), 1);
    ck_assert_int_eq(nl_run_once(&l, -1), 1);
    ck_assert_int_eq(nl_run_once(&l, 20), 0);
    ck_assert_uint_eq(l.busy_polls, 0);
    ck_assert_uint_eq(l.gov.win_ns, 0);

    /* A 60 s cap, clamped to what 32-bit nanoseconds hold (4.29 s): the window starts
     * closed, so a wait still sleeps; an event after an idle period shorter than the cap
     * opens it at its first step. */
    nl_set_busy_poll(&l, 60000000u);
    l.yield_slow_ns = INT64_MAX; /* a loaded machine's slow yields must not end the polling */
    ck_assert_uint_eq(l.gov.cap_ns, UINT32_MAX);
    ck_assert_int_eq(nl_run_once(&l, 20), 0);
    ck_assert_uint_eq(l.busy_polls, 0);
    ck_assert_int_eq((int)write(p[1], "b", 1), 1);
    ck_assert_int_eq(nl_run_once(&l, -1), 1);
    ck_assert_int_eq(n_pipe_events, 2);
    ck_assert_uint_eq(l.gov.win_ns, PG_START_NS);

    /* A window grown to 3 s: waits of 30 s return at once, polled; a poll still sees what
     * arrives, which keeps the window; a wait of 0 is a poll anyway (not counted). (Were the
     * thread stalled past the window, a wait would sleep its 30 s and the test fail.) */
    l.gov.win_ns = 3000000000u;
    ck_assert_int_eq(nl_run_once(&l, 30000), 0);
    ck_assert_int_eq(nl_run_once(&l, 30000), 0);
    ck_assert_uint_eq(l.busy_polls, 2);
    ck_assert_int_eq((int)write(p[1], "c", 1), 1);
    ck_assert_int_eq(nl_run_once(&l, 30000), 1);
    ck_assert_uint_eq(l.busy_polls, 3);
    ck_assert_uint_eq(l.gov.win_ns, 3000000000u);
    ck_assert_int_eq(nl_run_once(&l, 0), 0);
    ck_assert_uint_eq(l.busy_polls, 3);

    /* A 1 ms window: the loop polls until it has been idle that long, then sleeps; the
     * event after that idle period, longer than the 1 ms cap, halves the window. */
    nl_set_busy_poll(&l, 1000u);
    l.yield_slow_ns = INT64_MAX;
    l.gov.win_ns = 1000000u;
    ck_assert_int_eq((int)write(p[1], "d", 1), 1);
    ck_assert_int_eq(nl_run_once(&l, -1), 1);
    for (tries = 0; tries < 1000000; tries++) {
        polls = l.busy_polls;
        ck_assert_int_eq(nl_run_once(&l, 20), 0);
        if (l.busy_polls == polls)
            break; /* slept */
    }
    ck_assert_int_gt(tries, 0);
    ck_assert_int_lt(tries, 1000000);
    ck_assert_int_ge(l.now_ns - l.idle_since_ns, 1000000);
    ck_assert_uint_ge(l.polled_ns, 1000000);
    ck_assert_int_eq((int)write(p[1], "e", 1), 1);
    ck_assert_int_eq(nl_run_once(&l, 20), 1);
    ck_assert_uint_eq(l.gov.win_ns, 500000u);

    /* Another task ran during the yield after an empty poll (every yield counts as slow
     * here): this idle period polls no more, the next wait sleeps. */
    nl_set_busy_poll(&l, 60000000u);
    l.gov.win_ns = 3000000000u;
    l.yield_slow_ns = -1;
    polls = l.busy_polls;
    ck_assert_int_eq(nl_run_once(&l, 20), 0);
    ck_assert_uint_eq(l.busy_polls, polls + 1);
    ck_assert_uint_eq(l.yielded, 1);
    ck_assert_int_eq(nl_run_once(&l, 20), 0);
    ck_assert_uint_eq(l.busy_polls, polls + 1);
    ck_assert_int_eq(l.idle_polling, 0);

    /* Turned off again: no window after an event. */
    nl_set_busy_poll(&l, 0);
    polls = l.busy_polls;
    ck_assert_int_eq((int)write(p[1], "f", 1), 1);
    ck_assert_int_eq(nl_run_once(&l, -1), 1);
    ck_assert_int_eq(nl_run_once(&l, 20), 0);
    ck_assert_uint_eq(l.busy_polls, polls);
    ck_assert_int_eq(n_pipe_events, 6);
    pipe_loop_close(&l, &io, p);
}
END_TEST

/* A yield after which another task had held the CPU for a time slice means the CPU is
 * shared with a busy task: no idle period polls for a back-off time, even with the window
 * wide open (a poller stays runnable, so the event it waits for cannot preempt the busy task,
 * and each message waited out its slice: default echod sharing its CPU with a busy loop ran
 * 0.06-0.14x as fast as echod --busy-poll 0). The back-off starts at NL_CONTENDED_YIELD_NS,
 * doubles while polling meets the busy task again, stops at NL_CONTENDED_NS, and ends when a
 * poll catches an event. (Every yield counts as slow and contended here; the back-off's end
 * is set by hand, as time passing would.) */
START_TEST(busy_poll_backs_off_when_contended)
{
    struct nl_loop l;
    struct nl_io io;
    int p[2];
    uint64_t polls;

    pipe_loop_open(&l, &io, p, 0);
    nl_set_busy_poll(&l, 60000000u);
    ck_assert_int_eq(l.poll_again_ns, 0);
    ck_assert_int_eq(l.backoff_ns, 0);
    ck_assert_int_eq(l.yield_contended_ns, NL_CONTENDED_YIELD_NS);
    l.gov.win_ns = 3000000000u;
    l.yield_slow_ns = l.yield_contended_ns = -1;
    ck_assert_int_eq(nl_run_once(&l, 20), 0);
    ck_assert_uint_eq(l.busy_polls, 1);
    ck_assert_uint_eq(l.yielded, 1);
    ck_assert_int_eq(l.backoff_ns, NL_CONTENDED_YIELD_NS);
    ck_assert_int_eq(l.poll_again_ns, l.now_ns + NL_CONTENDED_YIELD_NS);

    /* Within the back-off a new idle period sleeps, the window open as it is. */
    l.poll_again_ns = l.now_ns + 60 * (int64_t)1000000000;
    ck_assert_int_eq((int)write(p[1], "a", 1), 1);
    ck_assert_int_eq(nl_run_once(&l, -1), 1);
    l.gov.win_ns = 3000000000u;
    polls = l.busy_polls;
    ck_assert_int_eq(nl_run_once(&l, 20), 0);
    ck_assert_uint_eq(l.busy_polls, polls);
    ck_assert_int_eq(l.backoff_ns, NL_CONTENDED_YIELD_NS);

    /* Over, the next idle period polls, meets the busy task again: twice as long. */
    l.poll_again_ns = l.now_ns;
    l.idle_since_ns = -1;
    ck_assert_int_eq(nl_run_once(&l, 20), 0);
    ck_assert_uint_eq(l.busy_polls, polls + 1);
    ck_assert_int_eq(l.backoff_ns, 2 * NL_CONTENDED_YIELD_NS);
    /* ... up to NL_CONTENDED_NS. */
    l.backoff_ns = NL_CONTENDED_NS;
    l.poll_again_ns = l.now_ns;
    l.idle_since_ns = -1;
    ck_assert_int_eq(nl_run_once(&l, 20), 0);
    ck_assert_uint_eq(l.busy_polls, polls + 2);
    ck_assert_int_eq(l.backoff_ns, NL_CONTENDED_NS);
    ck_assert_int_eq(l.poll_again_ns, l.now_ns + NL_CONTENDED_NS);

    /* The busy task gone, a poll that catches an event ends the back-off. */
    l.yield_slow_ns = l.yield_contended_ns = INT64_MAX;
    l.poll_again_ns = l.now_ns;
    l.idle_since_ns = -1;
    l.gov.win_ns = 3000000000u;
    ck_assert_int_eq((int)write(p[1], "b", 1), 1);
    ck_assert_int_eq(nl_run_once(&l, 30000), 1);
    ck_assert_uint_eq(l.busy_polls, polls + 3);
    ck_assert_int_eq(l.backoff_ns, 0);
    ck_assert_uint_eq(l.yielded, 3);
    ck_assert_int_eq(n_pipe_events, 2);
    pipe_loop_close(&l, &io, p);
}
END_TEST

/* The loop's own timerfd is not traffic: a timer that fires while the loop polls neither ends
 * the idle period nor teaches the governor anything; the next descriptor event does. */
START_TEST(busy_poll_timer_is_not_traffic)
{
    struct nl_loop l;
    struct nl_io io;
    struct nl_timer t;
    int p[2], tries;
    int64_t since;

    pipe_loop_open(&l, &io, p, 4);
    ck_assert_int_ge(l.tfd, 0);
    nl_set_busy_poll(&l, 4000000u);
    l.yield_slow_ns = INT64_MAX;
    l.gov.win_ns = 4000000000u;
    nl_timer_init(&t, on_step_timer);
    ck_assert_int_eq(nl_timer_arm(&l, &t, nl_now(&l) + 2), 0);
    ck_assert_int_eq(nl_run_once(&l, 30000), 0);
    since = l.idle_since_ns;
    ck_assert_int_ge(since, 0);
    for (tries = 0; n_timer_fired == 0 && tries < 10000000; tries++)
        ck_assert_int_ge(nl_run_once(&l, 30000), 0);
    ck_assert_int_eq(n_timer_fired, 1);
    ck_assert_int_eq(l.idle_since_ns, since);
    ck_assert_uint_eq(l.gov.win_ns, 4000000000u);
    ck_assert_int_eq(l.idle_polling, 1);
    ck_assert_uint_eq(l.yielded, 0);
    /* A pipe byte ends it: caught while polling, so the window stays. */
    ck_assert_int_eq((int)write(p[1], "x", 1), 1);
    ck_assert_int_eq(nl_run_once(&l, 30000), 1);
    ck_assert_int_eq(l.idle_since_ns, -1);
    ck_assert_uint_eq(l.gov.win_ns, 4000000000u);
    ck_assert_int_eq(n_pipe_events, 1);
    pipe_loop_close(&l, &io, p);
}
END_TEST

/* The loop keeps its earliest timer in a timerfd and waits without a timeout: a wait that
 * is asked to last forever still ends for every timer, a timer moved later costs one early
 * wake-up that runs nothing, and a timer armed earlier than the timerfd re-arms it. */
static int n_early_fired;

static void on_early_timer(struct nl_loop *l, struct nl_timer *t)
{
    n_early_fired++;
}

START_TEST(timerfd_ends_endless_waits)
{
    struct nl_loop l;
    struct nl_timer t, u;
    int64_t t0, due;

    ck_assert_int_eq(nl_init(&l, 2), 0);
    ck_assert_int_ge(l.tfd, 0);
    nl_timer_init(&t, on_step_timer);
    nl_timer_init(&u, on_early_timer);
    n_timer_fired = n_early_fired = 0;

    /* An endless wait ends for a timer due in 20 ms. */
    t0 = nl_now(&l);
    ck_assert_int_eq(nl_timer_arm(&l, &t, t0 + 20), 0);
    while (n_timer_fired < 1)
        ck_assert_int_ge(nl_run_once(&l, -1), 0);
    ck_assert_int_ge(l.now_ms, t0 + 20);

    /* Moved later after the timerfd was set: the early wake-up runs nothing and is not
     * counted as a callback; the timer fires at its new time, not before. */
    t0 = nl_now(&l);
    ck_assert_int_eq(nl_timer_arm(&l, &t, t0 + 20), 0);
    ck_assert_int_eq(nl_run_once(&l, 0), 0); /* sets the timerfd to t0 + 20 */
    due = t0 + 80;
    ck_assert_int_eq(nl_timer_arm(&l, &t, due), 0);
    while (n_timer_fired < 2) {
        int ran = nl_run_once(&l, -1);
        ck_assert_int_ge(ran, 0);
        if (n_timer_fired < 2)
            ck_assert_int_eq(ran, 0);
    }
    ck_assert_int_ge(l.now_ms, due);

    /* A timer armed earlier than the timerfd's time fires first: u in 20 ms while t (30 s
     * away) is still armed. */
    t0 = nl_now(&l);
    ck_assert_int_eq(nl_timer_arm(&l, &t, t0 + 30000), 0);
    ck_assert_int_eq(nl_run_once(&l, 0), 0); /* sets the timerfd to t0 + 30 s */
    ck_assert_int_eq(nl_timer_arm(&l, &u, t0 + 20), 0);
    while (n_early_fired < 1)
        ck_assert_int_ge(nl_run_once(&l, -1), 0);
    ck_assert(nl_timer_armed(&t));
    ck_assert_int_eq(n_timer_fired, 2);
    nl_timer_cancel(&l, &t);
    nl_fini(&l);
}
END_TEST

/* Without a timerfd (here: no descriptor left for it) nl_init still succeeds and the waits
 * are timed instead, so an endless wait still ends for a timer. */
START_TEST(no_timerfd_times_waits)
{
    struct nl_loop l;
    struct nl_timer t;
    struct rlimit old, low;
    int64_t t0;
    int fd = dup(0);

    /* dup() takes the lowest free descriptor, so with the limit just above it the epoll
     * instance gets that one and timerfd_create finds none. */
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = (rlim_t)fd + 1;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    ck_assert_int_eq(nl_init(&l, 1), 0);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    ck_assert_int_eq(l.epfd, fd);
    ck_assert_int_eq(l.tfd, -1);

    nl_timer_init(&t, on_step_timer);
    n_timer_fired = 0;
    t0 = nl_now(&l);
    ck_assert_int_eq(nl_timer_arm(&l, &t, t0 + 20), 0);
    while (n_timer_fired < 1)
        ck_assert_int_ge(nl_run_once(&l, -1), 0);
    ck_assert_int_ge(l.now_ms, t0 + 20);
    nl_fini(&l);
}
END_TEST

/* Small buffers and segments both ways, so a few KiB the client does not read make the
 * server queue bytes in pooled storage. */
static void small_socket(int fd)
{
    ck_assert_int_eq(ns_set_int(fd, SOL_SOCKET, SO_RCVBUF, 4096), 0);
    ck_assert_int_eq(ns_set_int(fd, SOL_SOCKET, SO_SNDBUF, 4096), 0);
    ck_assert_int_eq(ns_set_int(fd, IPPROTO_TCP, TCP_MAXSEG, 1024), 0);
}

/* Sends until the server has to store bytes (a pool miss), then reads everything back. */
static void backpressure_round(struct nl_loop *l, struct nt_server *s, int cfd)
{
    static uint8_t buf[65536];
    uint64_t allocs = s->st.buf_allocs, sent = 0, got = 0;

    memset(buf, 'a', sizeof buf);
    while (s->st.buf_allocs == allocs) {
        ssize_t n = send(cfd, buf, sizeof buf, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0)
            sent += (uint64_t)n;
        ck_assert_int_ge(nl_run_once(l, 10), 0);
    }
    while (got < sent) {
        ssize_t n = recv(cfd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0)
            got += (uint64_t)n;
        ck_assert_int_ge(nl_run_once(l, 10), 0);
    }
    ck_assert_uint_eq(got, sent);
}

START_TEST(pool_trim_frees_idle_buffers)
{
    struct nl_loop l;
    struct nt_server s;
    struct nt_config cfg;
    struct ea_addr a;
    int lfd, cfd;

    memset(&cfg, 0, sizeof cfg);
    cfg.cap = 1024;
    cfg.max_conns = 2;
    cfg.pool_max = 2;
    ck_assert_int_eq(nl_init(&l, 4), 0);
    ck_assert_int_eq(nt_init(&s, &l, &cfg), 0);
    memset(&a, 0, sizeof a);
    a.family = EA_INET;
    a.ip[0] = 127, a.ip[3] = 1;
    ck_assert_int_eq(ns_listen(&a, SOCK_STREAM, 0, &lfd), 0);
    small_socket(lfd);
    ck_assert_int_eq(ns_local_addr(lfd, &a), 0);
    ck_assert_int_eq(nt_add_listener(&s, lfd), 0);
    cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(cfd, 0);
    small_socket(cfd);
    {
        struct sockaddr_storage ss;
        socklen_t len;
        ck_assert_int_eq(ns_addr_to_sockaddr(&a, &ss, &len), 0);
        ck_assert_int_eq(connect(cfd, (struct sockaddr *)&ss, len), 0);
    }
    while (s.n_live == 0)
        ck_assert_int_ge(nl_run_once(&l, 10), 0);

    backpressure_round(&l, &s, cfd);
    ck_assert_uint_eq(s.st.buf_allocs, 1);
    ck_assert_uint_eq(s.n_pool, 1); /* drained: the buffer went back to the pool */
    nt_pool_trim(&s);
    ck_assert_uint_eq(s.n_pool, 0);
    nt_pool_trim(&s); /* nothing left: harmless */
    ck_assert_uint_eq(s.n_pool, 0);
    backpressure_round(&l, &s, cfd);
    ck_assert_uint_eq(s.st.buf_allocs, 2); /* trimmed, so the next need allocates */
    ck_assert_uint_eq(s.n_pool, 1);

    close(cfd);
    while (s.n_live)
        ck_assert_int_ge(nl_run_once(&l, 10), 0);
    nt_fini(&s);
    nl_fini(&l);
}
END_TEST

START_TEST(slot_is_small)
{
    /* The benchmark issue's budget: <= 256 bytes of user memory per idle connection. */
    ck_assert_uint_le(nt_slot_size(), 256);
}
END_TEST

static Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("basic");

    tcase_add_test(tc, timers_fire_in_order);
    tcase_add_test(tc, timers_capacity);
    tcase_add_test(tc, addr_round_trip);
    tcase_add_loop_test(tc, resolve_table, 0,
                        (int)(sizeof resolve_cases / sizeof resolve_cases[0]));
    tcase_add_test(tc, strerror_kinds);
    tcase_add_test(tc, listen_connect_loopback);
    tcase_add_test(tc, congestion_inherited);
    tcase_add_test(tc, slot_is_small);
    tcase_add_test(tc, run_once_steps);
    tcase_add_test(tc, busy_poll_window);
    tcase_add_test(tc, busy_poll_backs_off_when_contended);
    tcase_add_test(tc, busy_poll_timer_is_not_traffic);
    tcase_add_test(tc, timerfd_ends_endless_waits);
    tcase_add_test(tc, no_timerfd_times_waits);
    tcase_add_test(tc, pool_trim_frees_idle_buffers);
    tcase_set_timeout(tc, 20);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return eh_run_suite(net_suite());
}
