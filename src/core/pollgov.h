/*
 * pollgov.h - when an event loop that has run out of work should poll before it sleeps: one
 * adaptive window, governed as KVM governs a virtual CPU's halt polling (halt_poll_ns in
 * virt/kvm/kvm_main.c).
 *
 * A loop that sleeps pays for the next event with a wake-up: in a VM tens of microseconds, as
 * much as the rest of a loopback round trip. Polling (asking the kernel without sleeping)
 * costs CPU instead, so the loop polls only while it has been idle for less than the window,
 * then sleeps; the window learns from how each idle period ended:
 *   - an event within the window: polling paid off, the window stays;
 *   - after the window, but within the cap: the window was too short, it grows
 *     (0 -> PG_START_NS or the cap if smaller, then doubling, up to the cap);
 *   - after more than the cap: no window could have caught it, it halves (below
 *     PG_START_NS it closes to 0).
 * So a loop whose events come further apart than the cap soon sleeps at once (the window
 * closes after about five such periods, having polled less than twice the cap in all), and
 * one that falls idle polls out its window once more. A burst of back-to-back events, whose
 * idle periods last about nothing, opens the window too: each burst's end then costs at
 * most one window of polling.
 *
 * Pure: no clock of its own; the caller passes the idle period's length in nanoseconds.
 */
#ifndef EH_CORE_POLLGOV_H
#define EH_CORE_POLLGOV_H

#include <stdint.h>

#define PG_START_NS 10000u /* the first window after a short idle period: 10 us */

struct pg_gov {
    uint32_t cap_ns; /* the largest window; 0: never poll */
    uint32_t win_ns; /* the current window, 0 .. cap_ns */
};

/* Sets the cap (0 turns polling off) and closes the window. Cannot fail. */
void pg_init(struct pg_gov *g, uint32_t cap_ns);

/* Whether a loop idle for idle_ns should poll (1) rather than sleep (0). */
static inline int pg_should_poll(const struct pg_gov *g, uint64_t idle_ns)
{
    return idle_ns < g->win_ns;
}

/* An event ended an idle period of idle_ns (from the moment the loop ran out of work,
 * polling and sleeping included): adapts the window as above. */
void pg_idle_ended(struct pg_gov *g, uint64_t idle_ns);

#endif
