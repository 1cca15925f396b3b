/*
 * report.h - echo-conform's reports: text (with a case x target matrix), TAP 13, JUnit XML,
 * JSON (with the wire log of failed cases), and the catalog as text, Markdown or JSON.
 *
 * Text and TAP lines are written as each case ends, so a long run shows progress; JUnit and
 * JSON are written whole at the end. Colour is the caller's decision (a terminal, no
 * --output). The formats are documented in the README.
 */
#ifndef EH_APP_CONFORM_REPORT_H
#define EH_APP_CONFORM_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "conform/harness.h"

enum cr_format { CR_TEXT = 0, CR_TAP, CR_JUNIT, CR_JSON, CR_MARKDOWN };

/* One target's results. */
struct cr_target {
    struct ct_target t;
    struct ct_ctx *cases; /* results in run order */
    size_t n;
    char error[300];      /* why it could not be tested ("" when it was) */
    int udp_probe_answered; /* the UDP preflight probe got a reply */
};

struct cr_run {
    FILE *out;
    int format;           /* enum cr_format */
    int color, quiet, verbose, strict;
    uint64_t seed;
    int timeout_ms;
    const char *version;
    size_t tap_number;    /* TAP counter across targets */
    long long start_ms;
};

/* Whether a finished case fails the run (MUST failures; SHOULD ones with --strict). */
int cr_case_fails(const struct cr_run *r, const struct ct_ctx *x);

/* Status names: "pass", "fail", "skip", "xfail", "xpass". */
const char *cr_status_name(int status);

/* Writes the report's head: "TAP version 13", or the text header with seed and timeout. */
void cr_begin(struct cr_run *r);

/* Before a target's cases: "# target NAME" (TAP), the name and addresses (text). */
void cr_target_begin(struct cr_run *r, const struct cr_target *t);

/* One finished case: a text block or a TAP line (with a YAML block for failures). JUnit and
 * JSON write nothing here. x must stay valid until cr_end (its wire log is read there). */
void cr_case(struct cr_run *r, const struct cr_target *t, const struct ct_ctx *x);

/* After a target: its summary line (text), or why it was not tested. */
void cr_target_end(struct cr_run *r, const struct cr_target *t);
/* Writes what is written at the end: the matrix (text), the plan (TAP; then "Bail out!" when
 * a target could not be tested), the whole JUnit or JSON document. exit_status is the run's
 * exit status, recorded in JSON. */
void cr_end(struct cr_run *r, const struct cr_target *ts, size_t n, int exit_status);

/* Prints the catalog in format (CR_TEXT, CR_MARKDOWN, CR_JSON; others print text). */
void cr_list(FILE *out, int format);

#endif
