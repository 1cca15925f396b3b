/*
 * fuzz_dgram.c - drives the UDP echo handler (core/dgram) with a policy, a source and a
 * datagram taken from the input. Oracle: the handler either replies with exactly the
 * request (same bytes, same length, empty included) or drops it, and a ten-line reference
 * policy written independently here must predict which (it tests allow-list membership with
 * its own prefix-bit compare, not with core/addr's).
 *
 * The policy's own limits and ed_handle's refusals are checked too: a deny set takes 32
 * distinct ports and refuses the 33rd, an allow-list 16 networks; a source of no known
 * family, a missing result and a datagram over 65535 bytes are refused with their codes;
 * every verdict has a name.
 *
 * Input: 24-byte header (family, port: 2, deny count, 16 address bytes, allow prefix,
 * limits flags, 2 reserved), then the datagram. Deny ports come from the first datagram
 * bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/dgram.h"
#include "core/err.h"

/* The reference: port 0, denied ports, multicast/broadcast/unspecified, then allow-list. */
FUZZ_ORACLE static void fail(const char *what, int want, int got)
{
    fprintf(stderr, "fuzz_dgram: %s: expected %d, got %d\n", what, want, got);
    abort();
}

/* The first bits bits of a and b agree: the reference's own network test, bit by bit (the
 * allow network here always has the source's family). */
FUZZ_ORACLE static int prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    for (unsigned i = 0; i < bits; i++)
        if ((a[i / 8] ^ b[i / 8]) & (0x80u >> (i % 8)))
            return 0;
    return 1;
}

FUZZ_ORACLE static int reference_drops(const struct ed_policy *pol, const struct ea_addr *a)
{
    const uint8_t *v4 = a->family == EA_INET ? a->ip : NULL;
    static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff}, zero[16];
    if (a->family == EA_INET6 && !memcmp(a->ip, mapped, 12))
        v4 = a->ip + 12;
    if (a->port == 0)
        return 1;
    for (int i = 0; i < pol->n_deny; i++)
        if (pol->deny[i] == a->port)
            return 1;
    if (v4 && ((v4[0] >= 224 && v4[0] < 240) || !memcmp(v4, zero, 4) ||
               (v4[0] & v4[1] & v4[2] & v4[3]) == 255))
        return 1;
    if (a->family == EA_INET6 && (a->ip[0] == 0xff || !memcmp(a->ip, zero, 16)))
        return 1;
    return pol->n_allow && !(pol->allow[0].addr.family == a->family &&
                             prefix_match(pol->allow[0].addr.ip, a->ip, pol->allow[0].prefix));
}

/* What ed_policy_deny must return for port: 0 when the set holds it or has room, else
 * EH_ERR_NOSPACE. An oracle helper: its compares with every port in the set (up to 32 for
 * each of up to 39 ports a run) were traced in the driver, beside the core's own. */
FUZZ_ORACLE static int deny_want(const struct ed_policy *pol, uint16_t port)
{
    int known = 0;

    for (int k = 0; k < pol->n_deny; k++)
        known |= pol->deny[k] == port;
    return known || pol->n_deny < ED_MAX_DENY ? 0 : EH_ERR_NOSPACE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ed_policy pol;
    struct ea_addr src;
    struct ed_reply r;
    size_t ndeny;

    if (size < 24)
        return 0;
    memset(&src, 0, sizeof src);
    src.family = (data[0] & 1) ? EA_INET6 : EA_INET;
    src.port = (uint16_t)(data[1] << 8 | data[2]);
    memcpy(src.ip, data + 4, 16);
    if (src.family == EA_INET)
        memset(src.ip + 4, 0, 12);
    ed_policy_default(&pol);
    if (data[0] & 2)
        ed_policy_clear_deny(&pol);
    /* Limits flag: up to 39 deny ports (the set holds 32), the allow network 17 times. */
    ndeny = data[21] & 1 ? data[3] % 40 : data[3] % 8;
    if (data[20] & 0x80) {
        /* An allow-list of one network: the source's own address under a prefix. */
        struct ea_net net = {.addr = src};
        net.prefix = (uint8_t)(data[20] % (src.family == EA_INET ? 33 : 129));
        if (data[0] & 4)
            net.addr.ip[0] ^= 0x80; /* sometimes a network the source is not in */
        for (int k = 0; k < (data[21] & 2 ? ED_MAX_ALLOW + 1 : 1); k++)
            if (ed_policy_allow(&pol, &net) != (k < ED_MAX_ALLOW ? 0 : EH_ERR_NOSPACE))
                fail("allow-list limit", k < ED_MAX_ALLOW ? 0 : EH_ERR_NOSPACE, k);
    }
    data += 24, size -= 24;
    for (size_t i = 0; i + 1 < size && i / 2 < ndeny; i += 2) {
        uint16_t port = (uint16_t)(data[i] << 8 | data[i + 1]);
        int want = deny_want(&pol, port), rc;
        rc = ed_policy_deny(&pol, port);
        if (rc != want)
            fail("deny set limit", want, rc);
    }
    if (size > ED_MAX_DGRAM)
        size = ED_MAX_DGRAM;

    /* Refusals come first and name their cause; ed_handle reads no byte then. */
    {
        struct ea_addr none = src;
        none.family = EA_NONE;
        if (ed_handle(&pol, &none, data, size, &r) != EH_ERR_INVAL ||
            ed_handle(&pol, &src, data, size, NULL) != EH_ERR_INVAL ||
            ed_handle(&pol, &src, NULL, 1, &r) != EH_ERR_INVAL ||
            ed_handle(&pol, &src, data, (size_t)ED_MAX_DGRAM + 1, &r) != EH_ERR_TOO_BIG)
            fail("a contract violation was not refused", EH_ERR_INVAL, 0);
    }

    if (ed_handle(&pol, &src, data, size, &r) != 0) {
        fprintf(stderr, "fuzz_dgram: ed_handle refused a valid datagram of %zu bytes\n", size);
        abort();
    }
    if (strcmp(ed_verdict_name(r.verdict), "unknown") == 0 ||
        strcmp(ed_verdict_name(ED__VERDICT_COUNT), "unknown") != 0)
        fail("verdict name", 1, 0);
    if ((r.verdict != ED_REPLY) != reference_drops(&pol, &src)) {
        fprintf(stderr, "fuzz_dgram: verdict %s, reference says %s (port %u)\n",
                ed_verdict_name(r.verdict), reference_drops(&pol, &src) ? "drop" : "reply",
                src.port);
        abort();
    }
    if (r.verdict == ED_REPLY && (r.n != size || (size && memcmp(r.p, data, size) != 0))) {
        fprintf(stderr, "fuzz_dgram: reply of %zu bytes differs from the %zu-byte request\n", r.n,
                size);
        abort();
    }
    return 0;
}
