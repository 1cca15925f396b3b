/*
 * fuzz_addr.c - drives the endpoint and network parsers (core/addr) with arbitrary text.
 * Oracles: every rejection is a known EH_ERR_ADDR_* code with a description; an accepted
 * numeric endpoint formats, and the formatted text parses back to the same address and
 * port (parse -> format -> parse is stable); an accepted network contains its own address,
 * an address with its prefix and any host bits, and no address with a prefix bit flipped
 * (checked with this target's own bit compare);
 * and the parser never reads past n (the input is not NUL-terminated; ASan's redzone right
 * after libFuzzer's buffer catches an over-read). Also: ea_format into short buffers follows
 * snprintf's rules; networks hold the same addresses written in the other family (IPv4-mapped
 * IPv6); NULL arguments and unknown families are refused; eh_strerror knows exactly the
 * enum's codes; ea_is_loopback agrees with a reading of the RFCs' definitions here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/addr.h"
#include "core/err.h"

FUZZ_ORACLE static void fail(const char *what, const uint8_t *data, size_t size, int rc)
{
    fprintf(stderr, "fuzz_addr: %s (rc %d: %s) for input \"%.*s\"\n", what, rc, eh_strerror(rc),
            (int)size, data ? (const char *)data : "");
    abort();
}

/* Every code of core/err.h, listed here independently of err.c's switch. */
static const int known_codes[] = {
    EH_OK, EH_ERR_INVAL, EH_ERR_STATE, EH_ERR_NOSPACE, EH_ERR_NOSTORAGE, EH_ERR_TOO_BIG,
    EH_ERR_ADDR_EMPTY, EH_ERR_ADDR_TOO_LONG, EH_ERR_ADDR_NO_PORT, EH_ERR_ADDR_BAD_PORT,
    EH_ERR_ADDR_PORT_RANGE, EH_ERR_ADDR_BRACKET, EH_ERR_ADDR_BAD_V6, EH_ERR_ADDR_BARE_V6,
    EH_ERR_ADDR_BAD_HOST, EH_ERR_ADDR_BAD_V4, EH_ERR_ADDR_BAD_PREFIX, EH_ERR_ADDR_BAD_SCOPE,
    EH_ERR_ADDR_NO_HOST,
};

FUZZ_ORACLE static void check_code(int rc, const uint8_t *data, size_t size)
{
    if (rc > 0 || (rc < 0 && strcmp(eh_strerror(rc), "unknown error") == 0) ||
        (rc == 0 && strcmp(eh_strerror(rc), "success") != 0))
        fail("rejection without a known code", data, size, rc);
}

/* eh_strerror: a known code has a text of its own (not its neighbour's), any other value
 * "unknown error", never NULL. */
FUZZ_ORACLE static void check_strerror(int code)
{
    const char *text = eh_strerror(code);
    int known = 0;

    if (!text)
        fail("eh_strerror returned NULL", NULL, 0, code);
    for (size_t i = 0; i < sizeof known_codes / sizeof known_codes[0]; i++)
        known |= known_codes[i] == code;
    if (known != (strcmp(text, "unknown error") != 0))
        fail("eh_strerror knows a code the enum does not, or the reverse", NULL, 0, code);
    if (known && strcmp(text, eh_strerror(code - 1)) == 0)
        fail("two codes share a description", NULL, 0, code);
}

/* ea_format into a buffer of size bytes: snprintf's rules (a NUL-terminated prefix, *len
 * the length written, EH_ERR_NOSPACE exactly when the whole text does not fit). */
FUZZ_ORACLE static void check_format_cut(const struct ea_addr *a, const char *full,
                                         size_t flen, size_t size)
{
    char buf[EA_FORMAT_MAX];
    size_t len = 99;
    int rc = ea_format(a, buf, size, &len), want = flen < size ? 0 : EH_ERR_NOSPACE;
    size_t k = size == 0 ? 0 : flen < size ? flen : size - 1;

    if (rc != want || len != k || (size && (buf[k] != '\0' || memcmp(buf, full, k) != 0)))
        fail("formatting into a short buffer", NULL, 0, rc);
}

/* Whether the first bits of x and y agree, bit by bit. */
FUZZ_ORACLE static int ref_prefix(const uint8_t *x, const uint8_t *y, unsigned bits)
{
    for (unsigned i = 0; i < bits; i++)
        if (((x[i / 8] >> (7 - i % 8)) ^ (y[i / 8] >> (7 - i % 8))) & 1)
            return 0;
    return 1;
}

/* A network against the same addresses written in the other family: an IPv4 net holds
 * ::ffff:a.b.c.d; an IPv6 net holds a.b.c.d exactly when it holds ::ffff:a.b.c.d. Then the
 * contract's refusals: NULL arguments and unknown families. */
FUZZ_ORACLE static void check_net_families(const struct ea_net *net)
{
    static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
    struct ea_addr a = {.family = EA_INET6, .port = 7}, b = a;
    struct ea_endpoint ep;
    char text[EA_FORMAT_MAX];
    size_t len;

    if (net->addr.family == EA_INET) {
        memcpy(a.ip, mapped, 12);
        memcpy(a.ip + 12, net->addr.ip, 4);
        if (!ea_net_contains(net, &a))
            fail("IPv4 network does not hold its mapped IPv6 address", NULL, 0, 0);
    } else {
        uint8_t m[16];
        memcpy(m, mapped, 12);
        memcpy(m + 12, net->addr.ip + 12, 4);
        a.family = EA_INET;
        memcpy(a.ip, net->addr.ip + 12, 4);
        if (ea_net_contains(net, &a) != ref_prefix(net->addr.ip, m, net->prefix))
            fail("IPv6 network and an IPv4 address", NULL, 0, 0);
    }
    b.family = EA_NONE;
    if (ea_net_contains(NULL, &a) || ea_net_contains(net, NULL) || ea_net_contains(net, &b) ||
        !ea_equal(&b, &b) || ea_equal(&a, &b) || ea_equal(NULL, &a) ||
        ea_format(&b, text, sizeof text, &len) != EH_ERR_INVAL ||
        ea_format(NULL, text, 1, &len) != EH_ERR_INVAL ||
        ea_parse("7", 1, 0, NULL) != EH_ERR_INVAL || ea_parse(NULL, 1, 0, &ep) != EH_ERR_INVAL ||
        ea_parse_net("::", 2, NULL) != EH_ERR_INVAL)
        fail("a contract violation was accepted", NULL, 0, 0);
    b = a;
    b.port++;
    if (!ea_equal(&a, &a) || ea_equal(&a, &b))
        fail("address equality", NULL, 0, 0);
}

/* Containment of an accepted network: an address with the network's prefix and host bits
 * drawn from the input is inside (and so is its IPv4-mapped form for an IPv4 network); the
 * same address with one prefix bit flipped is outside; an address of drawn bits is inside
 * exactly when ref_prefix says so. */
FUZZ_ORACLE static void check_contains(const struct ea_net *net, const uint8_t *data, size_t size)
{
    unsigned width = net->addr.family == EA_INET ? 32 : 128, bit;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the input: the host bits */
    struct ea_addr in, out, any, mapped;

    if (net->prefix > width)
        fail("accepted network has a prefix longer than its address", data, size, 0);
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3ull;
    memset(&any, 0, sizeof any);
    any.family = net->addr.family;
    for (unsigned i = 0; i < width / 8; i++) {
        h = (h ^ i) * 0x100000001b3ull;
        any.ip[i] = (uint8_t)(h >> 56);
    }
    in = any;
    for (unsigned i = 0; i < net->prefix; i++) {
        uint8_t m = (uint8_t)(0x80u >> (i % 8));
        in.ip[i / 8] = (uint8_t)((in.ip[i / 8] & ~m) | (net->addr.ip[i / 8] & m));
    }
    if (!ref_prefix(in.ip, net->addr.ip, net->prefix) || !ea_net_contains(net, &in))
        fail("an address with the network's prefix is not contained", data, size, 0);
    if (net->prefix > 0) {
        out = in;
        bit = (unsigned)(h % net->prefix);
        out.ip[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
        if (ea_net_contains(net, &out))
            fail("an address with a prefix bit flipped is contained", data, size, 0);
    }
    if (ea_net_contains(net, &any) != ref_prefix(any.ip, net->addr.ip, net->prefix))
        fail("containment of an arbitrary address differs from the bit compare", data, size, 0);
    if (net->addr.family == EA_INET) {
        memset(&mapped, 0, sizeof mapped);
        mapped.family = EA_INET6;
        mapped.ip[10] = mapped.ip[11] = 0xff;
        memcpy(mapped.ip + 12, in.ip, 4);
        if (!ea_net_contains(net, &mapped))
            fail("the IPv4-mapped form of a contained address is not contained", data, size, 0);
    }
}

/* ea_is_loopback against this target's own reading of the definitions: IPv4 127.0.0.0/8
 * (RFC 1122 3.2.1.3), IPv6 ::1 (RFC 4291 2.5.3), and an IPv4-mapped ::ffff:127.x.y.z (RFC 4291
 * 2.5.5.2). Nothing else is loopback: not ::, not the deprecated IPv4-compatible ::127.0.0.1. */
FUZZ_ORACLE static void check_loopback(const struct ea_addr *a, const uint8_t *data, size_t size)
{
    int want = 0, zeros = 0;

    for (int i = 0; i < 10; i++)
        zeros += a->ip[i] == 0;
    if (a->family == EA_INET)
        want = a->ip[0] == 127;
    else if (zeros == 10 && a->ip[10] == 0 && a->ip[11] == 0 && a->ip[12] == 0 &&
             a->ip[13] == 0 && a->ip[14] == 0)
        want = a->ip[15] == 1;
    else if (zeros == 10 && a->ip[10] == 0xff && a->ip[11] == 0xff)
        want = a->ip[12] == 127;
    if (ea_is_loopback(a) != want)
        fail(want ? "a loopback address is not loopback" : "a non-loopback address is loopback",
             data, size, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned flag_sets[] = {0, EA_ALLOW_BARE_PORT, EA_ALLOW_PORT0,
                                         EA_ALLOW_BARE_PORT | EA_ALLOW_PORT0};
    const char *s = (const char *)data;

    for (size_t f = 0; f < sizeof flag_sets / sizeof flag_sets[0]; f++) {
        struct ea_endpoint ep, again;
        char text[EA_FORMAT_MAX];
        size_t len;
        int rc = ea_parse(s, size, flag_sets[f], &ep);

        check_code(rc, data, size);
        if (rc != 0 || (ep.kind != EA_KIND_V4 && ep.kind != EA_KIND_V6))
            continue;
        ep.addr.port = ep.port;
        rc = ea_format(&ep.addr, text, sizeof text, &len);
        if (rc != 0 || len != strlen(text))
            fail("accepted address does not format", data, size, rc);
        check_format_cut(&ep.addr, text, len, size % (len + 2));
        rc = ea_parse(text, len, flag_sets[f], &again);
        if (rc != 0)
            fail("formatted text does not parse back", data, size, rc);
        again.addr.port = again.port;
        if (again.kind != ep.kind || !ea_equal(&again.addr, &ep.addr) ||
            again.addr.scope != ep.addr.scope)
            fail("parse -> format -> parse changed the address", data, size, 0);
        check_loopback(&ep.addr, data, size);
    }

    struct ea_net net;
    int rc = ea_parse_net(s, size, &net);
    check_code(rc, data, size);
    check_strerror(1 - (int)(size % 102)); /* 1 .. -100: every code and the gaps between */
    if (rc == 0 && !ea_net_contains(&net, &net.addr))
        fail("network does not contain its own address", data, size, 0);
    if (rc == 0) {
        check_net_families(&net);
        check_contains(&net, data, size);
    }
    return 0;
}
