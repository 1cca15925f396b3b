/*
 * dgram.h - the UDP echo handler and its reply policy (RFC 862 over RFC 768).
 *
 * A datagram (0 to 65535 bytes) and its source come in; a decision goes out: reply with
 * exactly the same bytes to the source (an empty datagram gets one empty datagram back), or
 * drop it, with the reason. Policy is loop protection (CVE-1999-0103: never answer source
 * port 0 or the classic small services, whose answers would bounce forever), refusing
 * broadcast, multicast and unspecified sources, and an optional allow-list of networks.
 */
#ifndef EH_CORE_DGRAM_H
#define EH_CORE_DGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

#define ED_MAX_DGRAM 65535u
#define ED_MAX_DENY 32
#define ED_MAX_ALLOW 16

enum ed_verdict {
    ED_REPLY = 0,           /* send the same bytes back to the source */
    ED_DROP_PORT0,          /* source port 0: cannot be answered, often spoofed */
    ED_DROP_DENIED_PORT,    /* source port in the deny set (a small service: loop risk) */
    ED_DROP_BAD_SOURCE,     /* broadcast, multicast or unspecified source address */
    ED_DROP_NOT_ALLOWED,    /* an allow-list is set and the source is not in it */
    ED__VERDICT_COUNT
};

struct ed_policy {
    uint16_t deny[ED_MAX_DENY]; /* source ports never answered (besides 0) */
    uint8_t n_deny;
    struct ea_net allow[ED_MAX_ALLOW]; /* empty: every source allowed */
    uint8_t n_allow;
};

/* The reply decided for one datagram. p borrows the request's bytes. */
struct ed_reply {
    const uint8_t *p;
    size_t n;
    uint8_t verdict; /* enum ed_verdict */
};

/* Sets the default policy: deny source ports 7, 9, 13, 19 and 37 (echo, discard, daytime,
 * chargen, time), no allow-list. Cannot fail. */
void ed_policy_default(struct ed_policy *pol);

/* Adds a denied source port. Returns 0 (also when already there) or EH_ERR_NOSPACE. */
int ed_policy_deny(struct ed_policy *pol, uint16_t port);

/* Empties the deny set (port 0 stays refused: it cannot be answered). */
void ed_policy_clear_deny(struct ed_policy *pol);

/* Adds a network to the allow-list. Returns 0 or EH_ERR_NOSPACE. */
int ed_policy_allow(struct ed_policy *pol, const struct ea_net *net);

/* Decides what to do with datagram p[0..n) from src. p may be NULL when n == 0. Returns 0
 * and fills *out, or EH_ERR_TOO_BIG (n > 65535) or EH_ERR_INVAL (NULL src or out, or a
 * source family that is neither EA_INET nor EA_INET6). */
int ed_handle(const struct ed_policy *pol, const struct ea_addr *src, const uint8_t *p, size_t n,
              struct ed_reply *out);

/* A short name for a verdict ("reply", "port0", "denied-port", "bad-source",
 * "not-allowed"), for counters and logs. */
const char *ed_verdict_name(int verdict);

#endif
