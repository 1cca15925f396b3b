/*
 * run.h - one echo-bench run: resolves the target (or starts the built-in echod), opens the
 * connections through the worker threads, steps them through warm-up, measurement (or the
 * idle hold and check) and stop, prints the live progress line and the report.
 */
#ifndef EH_APP_BENCH_RUN_H
#define EH_APP_BENCH_RUN_H

#include "bench/opts.h"

/* Runs the benchmark a describes. Returns the exit status (BO_EXIT_*). */
int br_run(struct bo_args *a);

#endif
