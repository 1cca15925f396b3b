/*
 * congestion.h - the TCP congestion control echod and echo-bench choose for a connection:
 * --congestion NAME as given, "system" for the system's, and by default reno when the
 * address is loopback (the default control, often BBR, paces every send with a
 * high-resolution timer, which on loopback only costs CPU; reno never paces and every
 * kernel lets any user pick it), else the system's.
 */
#ifndef EH_APP_COMMON_CONGESTION_H
#define EH_APP_COMMON_CONGESTION_H

#include "core/addr.h"

/* Whether NAME may be given as --congestion at all (non-empty, shorter than the kernel's
 * 16-byte TCP_CA_NAME_MAX). */
int cg_name_ok(const char *name);

/* The control to set for a connection to or on a, given --congestion opt (NULL: not
 * given): a name, or NULL for the system's. */
const char *cg_choose(const char *opt, const struct ea_addr *a);

/* 0 when this kernel lets us use opt ("system" always); else prints one line
 * "PROG: bad --congestion 'opt': why (see ...)" and returns -1. */
int cg_check(const char *prog, const char *opt);

#endif
