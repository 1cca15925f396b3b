/*
 * report.h - echo-bench's results: the workers' figures summed and merged into one struct
 * bp_result, printed as a human report or one JSON line (the keys tools/bench.sh reads).
 */
#ifndef EH_APP_BENCH_REPORT_H
#define EH_APP_BENCH_REPORT_H

#include <stdio.h>

#include "bench/bench.h"

struct bp_result {
    const struct bb_cfg *cfg;
    struct bb_stats sum;      /* counters summed, histograms merged, first errors kept */
    double duration_s;        /* measured interval (mean of the workers') */
    uint64_t fair_min, fair_median, fair_max;
    double cpu_user_s, cpu_sys_s; /* during the measured interval (idle: hold and check) */
    double cpu_total_s;           /* user + system of the whole run (connects, warm-up) */
    int interrupted;          /* stopped by a signal */
    int ok;
};

/* Sums the workers into *r (allocates and frees a sorting buffer for the fairness figures;
 * returns -1 when that fails, figures then 0). */
int bp_collect(struct bp_result *r, const struct bb_cfg *cfg, struct bb_worker *w, uint32_t n,
               uint64_t *done, uint64_t conns);

/* The human report (several lines) on f. */
void bp_print(FILE *f, const struct bp_result *r);

/* One JSON line on f. */
void bp_json(FILE *f, const struct bp_result *r);

#endif
