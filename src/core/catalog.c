/*
 * catalog.c - the case table. Each row is one case; its runner has the same id in
 * src/app/conform/cases_tcp.c or cases_udp.c, and `echo-conform --list --format markdown`
 * prints this table for the documentation, so the two cannot drift. Rows are in run order:
 * cases that may wear a server down (resets, hundreds of connections, which trip xinetd's
 * rate limit; an empty datagram, which wedges socat) run last in their transport, so they
 * cannot hide the results of the others.
 */
#include "core/catalog.h"

#include <string.h>

#define T CC_TCP
#define U CC_UDP
#define MUST CC_MUST
#define SHOULD CC_SHOULD
#define INFO CC_INFO

static const struct cc_case cases[] = {
    {"tcp.connect", T, MUST, "RFC 862; RFC 9293 3.5", "a TCP connection to the port is accepted"},
    {"tcp.unsolicited.banner", T, MUST, "RFC 862",
     "nothing arrives before the client sends its first byte (no banner)"},
    {"tcp.roundtrip.single", T, MUST, "RFC 862", "one short message comes back unchanged"},
    {"tcp.unsolicited.trailing", T, MUST, "RFC 862",
     "no byte beyond the echo: exactly the data then EOF, nothing extra after a round trip"},
    {"tcp.bytes.all256", T, MUST, "RFC 862; RFC 9293 3.1",
     "all 256 byte values, NUL included, come back unchanged"},
    {"tcp.bytes.utf8", T, MUST, "RFC 862", "multi-byte UTF-8 text comes back unchanged"},
    {"tcp.size.1", T, MUST, "RFC 862", "a 1-byte message comes back"},
    {"tcp.size.1023", T, MUST, "RFC 862", "a 1023-byte message comes back whole"},
    {"tcp.size.1024", T, MUST, "RFC 862", "a 1024-byte message comes back whole"},
    {"tcp.size.1025", T, MUST, "RFC 862", "a 1025-byte message comes back whole"},
    {"tcp.size.4095", T, MUST, "RFC 862", "a 4095-byte message comes back whole"},
    {"tcp.size.4096", T, MUST, "RFC 862", "a 4096-byte message comes back whole"},
    {"tcp.size.4097", T, MUST, "RFC 862", "a 4097-byte message comes back whole"},
    {"tcp.size.65535", T, MUST, "RFC 862", "a 65535-byte message comes back whole"},
    {"tcp.size.65536", T, MUST, "RFC 862", "a 65536-byte message comes back whole"},
    {"tcp.size.65537", T, MUST, "RFC 862", "a 65537-byte message comes back whole"},
    {"tcp.size.1m", T, MUST, "RFC 862", "a 1 MiB message comes back whole"},
    {"tcp.roundtrip.multi", T, MUST, "RFC 862",
     "20 round trips of different sizes on one connection"},
    {"tcp.pipeline", T, MUST, "RFC 862; RFC 9293 3.1",
     "64 messages written without waiting come back in order"},
    {"tcp.nodelay.bytewise", T, MUST, "RFC 862; RFC 9293 3.7.4",
     "256 one-byte writes with TCP_NODELAY come back in order"},
    {"tcp.large.16m", T, MUST, "RFC 862", "16 MiB streamed both ways, checked byte by byte"},
    {"tcp.halfclose.flush", T, MUST, "RFC 862; RFC 9293 3.6",
     "after data and SHUT_WR all data comes back, then EOF"},
    {"tcp.slowreader.8m", T, MUST, "RFC 862; RFC 9293 3.8.6",
     "8 MiB written in bursts while not reading: held back, never dropped or reordered"},
    {"tcp.unsolicited.idle", T, MUST, "RFC 862",
     "nothing arrives during a 1.5 s idle pause, and the connection, if still open, echoes "
     "after it"},
    {"tcp.idle.pause", T, SHOULD, "RFC 862 (idle timeouts are left open)",
     "the server does not close or reset a connection idle for 1.5 s (the pause of "
     "tcp.unsolicited.idle)"},
    {"tcp.perf.rtt", T, INFO, "-", "round-trip time of 32-byte messages (median, p99)"},
    {"tcp.perf.throughput", T, INFO, "-", "echo throughput of an 8 MiB stream"},
    {"tcp.reset.isolation", T, MUST, "RFC 862; RFC 9293 3.5.2",
     "a client that resets mid-transfer does not disturb another one or later ones"},
    {"tcp.concurrent.100", T, MUST, "RFC 862",
     "100 concurrent clients, interleaved, each gets only its own bytes"},
    {"tcp.sequential.200", T, MUST, "RFC 862", "200 clients one after another each get their echo"},

    {"udp.single", U, MUST, "RFC 862; RFC 768", "one datagram comes back as one equal datagram"},
    {"udp.bytes.all256", U, MUST, "RFC 862; RFC 768",
     "a datagram of all 256 byte values, NUL included, comes back unchanged"},
    {"udp.size.1", U, MUST, "RFC 862; RFC 768", "a 1-byte datagram comes back exactly"},
    {"udp.size.512", U, MUST, "RFC 862; RFC 768", "a 512-byte datagram comes back exactly"},
    {"udp.size.1024", U, MUST, "RFC 862; RFC 768", "a 1024-byte datagram comes back exactly"},
    {"udp.size.1025", U, MUST, "RFC 862; RFC 768", "a 1025-byte datagram comes back exactly"},
    {"udp.size.1472", U, MUST, "RFC 862; RFC 768",
     "a 1472-byte datagram (Ethernet MTU payload) comes back exactly"},
    {"udp.size.1473", U, MUST, "RFC 862; RFC 768",
     "a 1473-byte datagram (one past the MTU payload) comes back exactly"},
    {"udp.size.2048", U, MUST, "RFC 862; RFC 768", "a 2048-byte datagram comes back exactly"},
    {"udp.size.2049", U, MUST, "RFC 862; RFC 768", "a 2049-byte datagram comes back exactly"},
    {"udp.size.4096", U, MUST, "RFC 862; RFC 768", "a 4096-byte datagram comes back exactly"},
    {"udp.size.4097", U, MUST, "RFC 862; RFC 768", "a 4097-byte datagram comes back exactly"},
    {"udp.size.8192", U, MUST, "RFC 862; RFC 768", "an 8192-byte datagram comes back exactly"},
    {"udp.size.8193", U, MUST, "RFC 862; RFC 768", "an 8193-byte datagram comes back exactly"},
    {"udp.size.max", U, MUST, "RFC 862; RFC 768",
     "the largest datagram (65507 bytes on IPv4, 65527 on IPv6) comes back exactly"},
    {"udp.source.match", U, MUST, "RFC 862; RFC 768",
     "replies to datagrams of 29 to 8193 bytes come from the port the requests went to (every "
     "UDP case checks every reply's source port too)"},
    {"udp.source.addr", U, SHOULD, "RFC 1122 3.3.4.2",
     "every reply comes from the address its request went to, not another address of the "
     "server (replies seen by the UDP cases so far, and datagrams of 29 to 8193 bytes)"},
    {"udp.burst", U, MUST, "RFC 862; RFC 768",
     "64 distinct datagrams sent at once: every reply is exactly one request"},
    {"udp.interleave.2sockets", U, MUST, "RFC 862; RFC 768",
     "two client sockets interleaved each get only their own replies"},
    {"udp.duplicate", U, MUST, "RFC 862",
     "datagrams of 1 byte to the largest, one at a time, are each answered once (watched 1 s "
     "for late copies)"},
    {"udp.perf.loss", U, INFO, "RFC 768 (UDP may lose)",
     "loss and reordering of 200 datagrams sent back to back, no retries"},
    {"udp.loop.port7", U, SHOULD, "RFC 862 (loop protection left open); CVE-1999-0103",
     "a datagram from source port 7 gets no reply (needs privilege)"},
    {"udp.empty", U, MUST, "RFC 862; RFC 768",
     "an empty datagram gets exactly one empty datagram back"},
};

const struct cc_case *cc_catalog(size_t *count)
{
    *count = sizeof cases / sizeof cases[0];
    return cases;
}

const struct cc_case *cc_find(const char *id)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (strcmp(cases[i].id, id) == 0)
            return &cases[i];
    return NULL;
}

const char *cc_level_name(int level)
{
    switch (level) {
    case CC_MUST: return "MUST";
    case CC_SHOULD: return "SHOULD";
    case CC_INFO: return "INFO";
    default: return "?";
    }
}

const char *cc_transport_name(int transport)
{
    return transport == CC_TCP ? "tcp" : transport == CC_UDP ? "udp" : "?";
}
