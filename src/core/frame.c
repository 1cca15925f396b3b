/*
 * frame.c - client line framing (the tutorial client's rules) and reassembly of a TCP echo
 * that may arrive in any number of pieces. Pure byte handling; the client program does
 * the reading and printing.
 */
#include "core/frame.h"

#include <string.h>

#include "core/err.h"

static int is_space(uint8_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r'); /* \t \n \v \f \r are 9..13 */
}

int cf_line(const uint8_t *p, size_t n, int transport, int *act, size_t *off, size_t *len)
{
    size_t b = 0, e = n;

    if ((!p && n) || !act || !off || !len || (transport != CF_TCP && transport != CF_UDP))
        return EH_ERR_INVAL;
    while (b < e && is_space(p[b]))
        b++;
    while (e > b && is_space(p[e - 1]))
        e--;
    *off = b;
    *len = e - b;
    if (*len == 1 && p[b] == 'q') {
        *act = CF_QUIT;
    } else if (*len == 0 && transport == CF_TCP) {
        /* TCP has no empty message: sending nothing would wait for an echo forever. */
        *act = CF_SKIP;
    } else {
        *act = CF_SEND;
    }
    return 0;
}

void cf_expect_init(struct cf_expect *e, const uint8_t *want, size_t n)
{
    memset(e, 0, sizeof *e);
    e->want = want;
    e->n = n;
    e->status = n ? CF_MORE : CF_DONE;
}

int cf_expect_feed(struct cf_expect *e, const uint8_t *p, size_t n, size_t *used)
{
    size_t k, i;

    *used = 0;
    if (e->status != CF_MORE)
        return e->status;
    k = e->n - e->got < n ? e->n - e->got : n;
    if (k && memcmp(e->want + e->got, p, k) != 0) {
        for (i = 0; e->want[e->got + i] == p[i]; i++)
            ;
        e->bad_off = e->got + i;
        e->bad_want = e->want[e->got + i];
        e->bad_got = p[i];
        e->got += i;
        *used = i;
        e->status = CF_MISMATCH;
        return e->status;
    }
    e->got += k;
    *used = k;
    if (e->got == e->n)
        e->status = CF_DONE;
    return e->status;
}
