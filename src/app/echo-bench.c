/*
 * echo-bench - load generator for RFC 862 echo servers (TCP and UDP) that verifies every
 * echoed byte. The options are parsed in bench/opts.c, the run is stepped in bench/run.c,
 * the traffic is made by bench/tcp.c and bench/udp.c; see --help and README.md.
 */
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
    return br_run(&a);
}
