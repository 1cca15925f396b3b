/*
 * opts.h - echo-bench's command line: parses argv into struct bb_cfg (the target stays text
 * until the caller resolves it) and prints --help. Every rejection is one line on stderr
 * naming the option and what is wrong.
 */
#ifndef EH_APP_BENCH_OPTS_H
#define EH_APP_BENCH_OPTS_H

#include "bench/bench.h"

enum { BO_EXIT_OK = 0, BO_EXIT_FAIL = 1, BO_EXIT_USAGE = 2, BO_EXIT_UNREACHABLE = 3 };

struct bo_args {
    struct bb_cfg cfg;
    const char *target;   /* HOST:PORT as given, or NULL: the built-in echod */
    const char *echod;    /* --echod PATH, or NULL: next to echo-bench */
};

/* Parses argv. Returns 0 to run, BO_EXIT_USAGE after printing the error line, or -1 after
 * printing --help or --version (exit 0). */
int bo_parse(int argc, char **argv, struct bo_args *a);

#endif
