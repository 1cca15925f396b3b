/*
 * pollgov.c - the adaptive polling window (see pollgov.h).
 */
#include "core/pollgov.h"

void pg_init(struct pg_gov *g, uint32_t cap_ns)
{
    g->cap_ns = cap_ns;
    g->win_ns = 0;
}

void pg_idle_ended(struct pg_gov *g, uint64_t idle_ns)
{
    if (idle_ns < g->win_ns)
        return; /* caught while polling */
    if (idle_ns > g->cap_ns) {
        /* Longer than any window: polling only burnt CPU. */
        g->win_ns = g->win_ns / 2 < PG_START_NS ? 0 : g->win_ns / 2;
        return;
    }
    /* Would have been caught by a longer window. */
    if (g->win_ns == 0)
        g->win_ns = g->cap_ns < PG_START_NS ? g->cap_ns : PG_START_NS;
    else
        g->win_ns = g->win_ns > g->cap_ns / 2 ? g->cap_ns : g->win_ns * 2;
}
