/*
 * expect.c - parses and matches the --expect file (see expect.h for its format).
 */
#define _GNU_SOURCE
#include "conform/expect.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

int cx_load(struct cx_list *l, const char *path, unsigned *bad_line)
{
    char line[1024];
    unsigned no = 0;
    FILE *f = fopen(path, "r");

    l->n = 0;
    if (!f)
        return -errno;
    while (fgets(line, sizeof line, f)) {
        char a[300], b[300], c[8];
        char *hash = strchr(line, '#');
        int k;
        no++;
        if (hash)
            *hash = '\0';
        k = sscanf(line, "%299s %299s %7s", a, b, c);
        if (k <= 0)
            continue;
        if (k > 2 || l->n == CX_MAX || strlen(a) >= sizeof l->e[0].glob) {
            *bad_line = no;
            fclose(f);
            return -EINVAL;
        }
        snprintf(l->e[l->n].glob, sizeof l->e[0].glob, "%s", a);
        snprintf(l->e[l->n].target, sizeof l->e[0].target, "%s", k == 2 ? b : "");
        l->e[l->n].line = no;
        l->e[l->n].used = 0;
        l->n++;
    }
    fclose(f);
    return 0;
}

static int target_is(const char *want, const struct ct_target *t)
{
    char a[EA_FORMAT_MAX];
    size_t n;

    if (!want[0] || strcmp(want, t->name) == 0)
        return 1;
    if (t->tcp.family && ea_format(&t->tcp, a, sizeof a, &n) == 0 && strcmp(want, a) == 0)
        return 1;
    if (t->udp.family && ea_format(&t->udp, a, sizeof a, &n) == 0 && strcmp(want, a) == 0)
        return 1;
    return 0;
}

int cx_match(struct cx_list *l, const char *id, const struct ct_target *t)
{
    for (size_t i = 0; i < l->n; i++)
        if (fnmatch(l->e[i].glob, id, 0) == 0 && target_is(l->e[i].target, t)) {
            l->e[i].used++;
            return 1;
        }
    return 0;
}
