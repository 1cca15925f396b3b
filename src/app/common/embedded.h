/*
 * embedded.h - the built-in server of echo-conform and echo-bench: with no target on the
 * command line, echod (next to the program, or a given path) is started with --port 0 on
 * loopback, its "listening tcp|udp ADDR" lines give the target, and it is stopped by PID
 * afterwards. It also dies with the thread that started it (PR_SET_PDEATHSIG), so a killed
 * program leaves no server behind: call em_start() from the main thread.
 */
#ifndef EH_APP_COMMON_EMBEDDED_H
#define EH_APP_COMMON_EMBEDDED_H

#include <sys/types.h>

#include "core/addr.h"

struct em_opts {
    const char *prog;         /* program name for messages ("echo-conform") */
    const char *path;         /* echod to run; NULL: "echod" in the program's own directory */
    int v6;                   /* listen on [::1] instead of 127.0.0.1 */
    int tcp, udp;             /* which listening lines to wait for */
    int verbose;              /* let echod's stderr through */
    const char *const *extra; /* more echod arguments, NULL-terminated (at most 8), or NULL */
};

/* Starts echod; *tcp and *udp (either may be NULL when not wanted) get the addresses from its
 * listening lines, waited for at most 5 s. Returns 0 and *pid, or -1 after printing one line
 * on stderr (nothing is left running then). */
int em_start(const struct em_opts *o, struct ea_addr *tcp, struct ea_addr *udp, pid_t *pid);

/* Stops echod: SIGTERM, up to 2 s to exit, then SIGKILL; always reaps it. */
void em_stop(pid_t pid);

#endif
