/*
 * embedded.h - the built-in server of echo-conform: with no target on the command line,
 * echod (next to echo-conform, or a given path) is started with --port 0 on loopback, its
 * "listening tcp|udp ADDR" lines give the target, and it is stopped by PID afterwards.
 */
#ifndef EH_APP_CONFORM_EMBEDDED_H
#define EH_APP_CONFORM_EMBEDDED_H

#include <sys/types.h>

#include "conform/harness.h"

struct ce_opts {
    const char *path; /* echod to run; NULL: "echod" in echo-conform's own directory */
    int v6;           /* listen on [::1] instead of 127.0.0.1 */
    int tcp, udp;     /* which listening lines to wait for */
    int verbose;      /* let echod's stderr through */
};

/* Starts echod and fills t (name "echod", addresses from its listening lines, waited for at
 * most 5 s). Returns 0 and *pid, or -1 after printing one line on stderr (nothing is left
 * running then). */
int ce_start(const struct ce_opts *o, struct ct_target *t, pid_t *pid);

/* Stops echod: SIGTERM, up to 2 s to exit, then SIGKILL; always reaps it. */
void ce_stop(pid_t pid);

#endif
