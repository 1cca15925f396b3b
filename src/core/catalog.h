/*
 * catalog.h - the catalog of echo-conform cases: stable id, transport, level, the RFC section
 * each rests on, and a one-line description. Pure data, in run order.
 *
 * Levels follow the RFCs' own words: RFC 862 promises that all data comes back (TCP: until
 * the client ends the connection; UDP: each datagram's data in an answering datagram), so
 * lost, altered, truncated or extra bytes are MUST failures. What it leaves open (idle
 * timeouts, loop protection, performance) is SHOULD or INFO. Ids never change once published;
 * new cases are appended to their group. The runners live in src/app/conform/.
 */
#ifndef EH_CORE_CATALOG_H
#define EH_CORE_CATALOG_H

#include <stddef.h>

enum cc_level { CC_MUST = 0, CC_SHOULD, CC_INFO };
enum cc_transport { CC_TCP = 0, CC_UDP };

struct cc_case {
    const char *id;    /* "tcp.halfclose.flush" */
    unsigned char transport; /* enum cc_transport */
    unsigned char level;     /* enum cc_level */
    const char *rfc;   /* "RFC 862; RFC 9293 3.6" */
    const char *desc;  /* one line */
};

/* The catalog, *count entries, in run order. Static storage; never NULL. */
const struct cc_case *cc_catalog(size_t *count);

/* The case with this id, or NULL. */
const struct cc_case *cc_find(const char *id);

/* "MUST", "SHOULD", "INFO" ("?" otherwise). */
const char *cc_level_name(int level);

/* "tcp", "udp" ("?" otherwise). */
const char *cc_transport_name(int transport);

#endif
