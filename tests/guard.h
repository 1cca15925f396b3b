/*
 * guard.h - test helper that places input right before an inaccessible page, so a parser
 * that reads even one byte past the end of its input crashes at once, with or without a
 * sanitizer (the picohttpparser test.c technique). Test-only: it uses mmap, which the core
 * may not.
 */
#ifndef EH_TESTS_GUARD_H
#define EH_TESTS_GUARD_H

#include <stddef.h>
#include <stdint.h>

struct guard {
    uint8_t *base; /* start of the mapping: usable pages, then one PROT_NONE page */
    size_t usable; /* bytes before the guard page */
    size_t total;  /* whole mapping, guard page included */
};

/* Maps at least max usable bytes followed by a PROT_NONE page. Returns 0 or -errno. */
int guard_init(struct guard *g, size_t max);

/* Copies p[0..n) so that its last byte sits just before the guard page and returns where
 * it starts (for n == 0: the guard page itself, which must not be read). The bytes stay
 * valid until the next guard_place or guard_free. n must be <= g->usable; p may be NULL
 * when n == 0. */
uint8_t *guard_place(struct guard *g, const void *p, size_t n);

/* Unmaps everything. Safe on a zeroed struct. */
void guard_free(struct guard *g);

#endif
