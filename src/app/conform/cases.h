/*
 * cases.h - the case runners, found by id. Each catalog row (core/catalog.c) has a runner of
 * the same id in cases_tcp.c or cases_udp.c; ct_runner() looks it up.
 */
#ifndef EH_APP_CONFORM_CASES_H
#define EH_APP_CONFORM_CASES_H

#include "conform/harness.h"

typedef void (*ct_run_fn)(struct ct_ctx *x);

struct ct_runner {
    const char *id;
    ct_run_fn run;
};

/* The runner tables, terminated by a row with id NULL. */
extern const struct ct_runner ct_tcp_runners[];
extern const struct ct_runner ct_udp_runners[];

/* The runner of case id, or NULL. */
ct_run_fn ct_runner(const char *id);

#endif
