/*
 * congestion.c - see congestion.h.
 */
#include "common/congestion.h"

#include <stdio.h>
#include <string.h>

#include "net/sock.h"

int cg_name_ok(const char *name)
{
    return name && *name && strlen(name) < 16;
}

const char *cg_choose(const char *opt, const struct ea_addr *a)
{
    if (opt)
        return strcmp(opt, "system") == 0 ? NULL : opt;
    return ea_is_loopback(a) ? "reno" : NULL;
}

int cg_check(const char *prog, const char *opt)
{
    int rc;

    if (strcmp(opt, "system") == 0 || (rc = ns_check_congestion(opt)) == 0)
        return 0;
    fprintf(stderr, "%s: bad --congestion '%s': %s (see "
            "/proc/sys/net/ipv4/tcp_allowed_congestion_control)\n", prog, opt, ns_strerror(rc));
    return -1;
}
