/*
 * addr.h - endpoint and network parsing and formatting, without resolving names.
 *
 * Accepts "host:port", "[v6addr]:port" and, where the caller allows it, a bare "port".
 * The host may be an IPv4 or IPv6 literal or a DNS name (letters, digits, '-', '.'; the
 * glue resolves names). Every rejection has its own EH_ERR_ADDR_* code. Formatting gives
 * "192.0.2.1:7" and "[2001:db8::1]:7", which ea_parse reads back to the same endpoint.
 */
#ifndef EH_CORE_ADDR_H
#define EH_CORE_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define EA_HOST_MAX 253       /* longest DNS name */
#define EA_TEXT_MAX 262       /* "[" + 45-char IPv6 + "%scope"... bounded: longest input */
#define EA_FORMAT_MAX 64      /* enough for "[v6]:65535" with scope id, NUL included */

enum ea_family { EA_NONE = 0, EA_INET = 4, EA_INET6 = 6 };

/* A numeric address in network byte order (ip[0..3] for IPv4). */
struct ea_addr {
    uint8_t family; /* enum ea_family */
    uint16_t port;  /* host byte order */
    uint32_t scope; /* IPv6 scope id, 0 if none */
    uint8_t ip[16];
};

enum ea_kind {
    EA_KIND_PORT = 0, /* bare port: host is empty, addr.family EA_NONE */
    EA_KIND_V4,       /* IPv4 literal: addr is set */
    EA_KIND_V6,       /* IPv6 literal in brackets: addr is set (scope "%N" numeric only) */
    EA_KIND_NAME      /* DNS name: host holds it, the glue resolves it */
};

struct ea_endpoint {
    uint8_t kind;                /* enum ea_kind */
    uint16_t port;               /* host byte order */
    char host[EA_HOST_MAX + 1];  /* the host text as given (no brackets), NUL-terminated */
    struct ea_addr addr;         /* valid for EA_KIND_V4 / EA_KIND_V6 */
};

enum ea_flags {
    EA_ALLOW_BARE_PORT = 1u << 0, /* "7007" alone is an endpoint with an empty host */
    EA_ALLOW_PORT0 = 1u << 1      /* port 0 is accepted (bind to an ephemeral port) */
};

/* Parses s[0..n) (no NUL needed; NUL inside is rejected as a bad host) into *out. Returns 0
 * or an EH_ERR_ADDR_* code; *out is unspecified on error. */
int ea_parse(const char *s, size_t n, unsigned flags, struct ea_endpoint *out);

/* Formats a numeric address as "a.b.c.d:port" or "[v6]:port" ("%scope" inside the brackets
 * when scope != 0) into buf[0..size), always NUL-terminated when size > 0. *len gets the
 * length without the NUL. Returns 0, or EH_ERR_NOSPACE when it does not fit (buf then holds
 * a truncated string), or EH_ERR_INVAL for an unknown family. */
int ea_format(const struct ea_addr *a, char *buf, size_t size, size_t *len);

/* A network for allow-lists: address plus prefix length. */
struct ea_net {
    struct ea_addr addr; /* port and scope ignored */
    uint8_t prefix;      /* 0..32 for IPv4, 0..128 for IPv6 */
};

/* Parses "192.0.2.0/24", "2001:db8::/32" (no brackets) or a single address (full-length
 * prefix). Returns 0 or an EH_ERR_ADDR_* code. */
int ea_parse_net(const char *s, size_t n, struct ea_net *out);

/* Whether a is inside net. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 nets. */
int ea_net_contains(const struct ea_net *net, const struct ea_addr *a);

/* Whether a is a loopback address: 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104. */
int ea_is_loopback(const struct ea_addr *a);

/* Whether two addresses are equal (family, ip, port; scope only when both are non-zero). */
int ea_equal(const struct ea_addr *a, const struct ea_addr *b);

#endif
