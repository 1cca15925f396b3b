/*
 * expect.h - the --expect file of echo-conform: known failures, per case id and optionally
 * per target, so CI fails on new failures only.
 *
 * Format: one entry per line, "<case-id-glob> [target]"; "#" starts a comment; blank lines
 * are ignored. The glob is fnmatch(3) on case ids ("udp.size.8*"). Without a target the entry
 * holds for every target; a target is matched against the name given on the command line
 * (or "echod" for the built-in server) and against its TCP and UDP addresses.
 */
#ifndef EH_APP_CONFORM_EXPECT_H
#define EH_APP_CONFORM_EXPECT_H

#include <stddef.h>

#include "conform/harness.h"

#define CX_MAX 256

struct cx_entry {
    char glob[300];
    char target[300]; /* "" for every target */
    unsigned line;
    unsigned used;    /* how many cases it matched */
};

struct cx_list {
    struct cx_entry e[CX_MAX];
    size_t n;
};

/* Reads path into *l. Returns 0, or -errno when it cannot be read, or -EINVAL for a line
 * with more than two fields or too many entries (*bad_line gets its number). */
int cx_load(struct cx_list *l, const char *path, unsigned *bad_line);

/* Whether case id on target t is listed as a known failure. */
int cx_match(struct cx_list *l, const char *id, const struct ct_target *t);

#endif
