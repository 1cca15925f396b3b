/*
 * echo-bench - load generator for RFC 862 echo servers (TCP and UDP) that verifies every
 * echoed byte. The options are parsed in bench/opts.c, the run is stepped in bench/run.c,
 * the traffic is made by bench/tcp.c and bench/udp.c; see --help and README.md.
 */
#include <signal.h>

#include "bench/opts.h"
#include "bench/run.h"

int main(int argc, char **argv)
{
    struct bo_args a;
    int rc = bo_parse(argc, argv, &a);

    if (rc < 0)
        return BO_EXIT_OK;
    if (rc)
        return rc;
    /* A server that resets or vanishes mid-stream must be reported (an early close at its
     * offset, exit 1), not kill us: the streaming sends splice(2) into the socket, which
     * cannot take MSG_NOSIGNAL, so SIGPIPE is ignored for the whole run. */
    signal(SIGPIPE, SIG_IGN);
    return br_run(&a);
}
