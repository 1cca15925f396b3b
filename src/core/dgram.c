/*
 * dgram.c - UDP echo decisions. The reply is always the request itself (same pointer, same
 * length), so nothing is copied and an empty datagram is answered by an empty one. Checks
 * run cheapest first; the first refusal wins so each drop has exactly one reason.
 */
#include "core/dgram.h"

#include <string.h>

#include "core/err.h"

/* The small services whose replies would bounce between two echo-like servers forever. */
static const uint16_t default_deny[] = {7, 9, 13, 19, 37};

void ed_policy_default(struct ed_policy *pol)
{
    memset(pol, 0, sizeof *pol);
    for (size_t i = 0; i < sizeof default_deny / sizeof default_deny[0]; i++)
        pol->deny[pol->n_deny++] = default_deny[i];
}

int ed_policy_deny(struct ed_policy *pol, uint16_t port)
{
    for (size_t i = 0; i < pol->n_deny; i++)
        if (pol->deny[i] == port)
            return 0;
    if (pol->n_deny >= ED_MAX_DENY)
        return EH_ERR_NOSPACE;
    pol->deny[pol->n_deny++] = port;
    return 0;
}

void ed_policy_clear_deny(struct ed_policy *pol)
{
    pol->n_deny = 0;
}

int ed_policy_allow(struct ed_policy *pol, const struct ea_net *net)
{
    if (pol->n_allow >= ED_MAX_ALLOW)
        return EH_ERR_NOSPACE;
    pol->allow[pol->n_allow++] = *net;
    return 0;
}

/* Broadcast, multicast and unspecified sources: a reply would go to many hosts or nowhere
 * (the inetd dg_badinput rule). Directed broadcasts cannot be known without the interface
 * table, so only the limited broadcast 255.255.255.255 is refused here. */
static int bad_source(const struct ea_addr *a)
{
    static const uint8_t zero[16];
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const uint8_t *v4 = NULL;

    if (a->family == EA_INET) {
        v4 = a->ip;
    } else {
        if (a->ip[0] == 0xff || memcmp(a->ip, zero, 16) == 0)
            return 1;
        if (memcmp(a->ip, v4mapped, 12) == 0)
            v4 = a->ip + 12;
    }
    if (!v4)
        return 0;
    if (v4[0] == 0 && v4[1] == 0 && v4[2] == 0 && v4[3] == 0)
        return 1;
    if (v4[0] >= 224 && v4[0] <= 239)
        return 1;
    return v4[0] == 255 && v4[1] == 255 && v4[2] == 255 && v4[3] == 255;
}

int ed_handle(const struct ed_policy *pol, const struct ea_addr *src, const uint8_t *p, size_t n,
              struct ed_reply *out)
{
    if (!pol || !src || !out || (!p && n))
        return EH_ERR_INVAL;
    if (src->family != EA_INET && src->family != EA_INET6)
        return EH_ERR_INVAL;
    if (n > ED_MAX_DGRAM)
        return EH_ERR_TOO_BIG;

    out->p = p;
    out->n = n;
    out->verdict = ED_REPLY;
    if (src->port == 0) {
        out->verdict = ED_DROP_PORT0;
    } else if (bad_source(src)) {
        out->verdict = ED_DROP_BAD_SOURCE;
    } else {
        for (size_t i = 0; i < pol->n_deny; i++) {
            if (pol->deny[i] == src->port) {
                out->verdict = ED_DROP_DENIED_PORT;
                break;
            }
        }
    }
    if (out->verdict == ED_REPLY && pol->n_allow) {
        int ok = 0;
        for (size_t i = 0; i < pol->n_allow && !ok; i++)
            ok = ea_net_contains(&pol->allow[i], src);
        if (!ok)
            out->verdict = ED_DROP_NOT_ALLOWED;
    }
    if (out->verdict != ED_REPLY) {
        out->p = NULL;
        out->n = 0;
    }
    return 0;
}

const char *ed_verdict_name(int verdict)
{
    switch (verdict) {
    case ED_REPLY: return "reply";
    case ED_DROP_PORT0: return "port0";
    case ED_DROP_DENIED_PORT: return "denied-port";
    case ED_DROP_BAD_SOURCE: return "bad-source";
    case ED_DROP_NOT_ALLOWED: return "not-allowed";
    default: return "unknown";
    }
}
