/*
 * guard.c - input placed just before a PROT_NONE page (see guard.h). Over-reads fault
 * with SIGSEGV, which Check's fork mode reports as a failed test naming the case.
 */
#define _DEFAULT_SOURCE
#include "guard.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int guard_init(struct guard *g, size_t max)
{
    long ps = sysconf(_SC_PAGESIZE);
    size_t page = ps > 0 ? (size_t)ps : 4096;
    size_t usable = (max + page - 1) / page * page;
    void *m;

    if (usable == 0)
        usable = page;
    memset(g, 0, sizeof *g);
    m = mmap(NULL, usable + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -errno;
    if (mprotect((uint8_t *)m + usable, page, PROT_NONE) != 0) {
        int e = errno;
        munmap(m, usable + page);
        return -e;
    }
    g->base = m;
    g->usable = usable;
    g->total = usable + page;
    return 0;
}

uint8_t *guard_place(struct guard *g, const void *p, size_t n)
{
    uint8_t *at;

    if (!g->base || n > g->usable)
        return NULL;
    at = g->base + g->usable - n;
    if (n)
        memcpy(at, p, n);
    return at;
}

void guard_free(struct guard *g)
{
    if (g->base)
        munmap(g->base, g->total);
    memset(g, 0, sizeof *g);
}
