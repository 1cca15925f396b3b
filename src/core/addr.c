/*
 * addr.c - endpoint and network parsing and formatting, without resolving names. It reads
 * "host:port", "[v6]:port" (numeric "%scope" allowed in the brackets) and, when the caller
 * allows it, a bare port; names follow RFC 1123 host syntax and are left to the glue to
 * resolve. It does no I/O and keeps no state: the text s[0..n) is copied into a local,
 * NUL-terminated buffer before inet_pton sees it, because the caller's text need not end in
 * NUL and must never be read past n.
 */
#include "core/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

#define LABEL_MAX 63
#define SCOPE_DIGITS_MAX 10 /* UINT32_MAX has 10 digits */
#define V6_TEXT_MAX 45      /* INET6_ADDRSTRLEN - 1 */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return 0;
    return n > 0;
}

/* Counts occurrences of c in s[0..n). */
static size_t count_of(const char *s, size_t n, char c)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == c;
    return k;
}

/* Parses the decimal port s[0..n). The value is capped while accumulating so an overlong
 * digit string cannot overflow. */
static int parse_port(const char *s, size_t n, unsigned flags, uint16_t *port)
{
    unsigned long v = 0;

    if (n == 0)
        return EH_ERR_ADDR_NO_PORT;
    if (!all_digits(s, n))
        return EH_ERR_ADDR_BAD_PORT;
    for (size_t i = 0; i < n; i++) {
        v = v * 10 + (unsigned long)(s[i] - '0');
        if (v > 65535)
            return EH_ERR_ADDR_PORT_RANGE;
    }
    if (v == 0 && !(flags & EA_ALLOW_PORT0))
        return EH_ERR_ADDR_PORT_RANGE;
    *port = (uint16_t)v;
    return 0;
}

/* Whether s[0..n) is a host name: labels of letters, digits and '-', joined by single dots,
 * no label longer than 63 or starting or ending with '-'. */
static int valid_name(const char *s, size_t n)
{
    size_t label = 0;

    if (n == 0 || n > EA_HOST_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!is_alpha(c) && !is_digit(c) && c != '-')
            return 0;
        if (c == '-' && label == 0)
            return 0;
        if (++label > LABEL_MAX)
            return 0;
    }
    return label > 0 && s[n - 1] != '-';
}

/* Classifies the unbracketed host s[0..n) (n >= 1, no NUL inside) into out. */
static int parse_host(const char *s, size_t n, struct ea_endpoint *out)
{
    char tmp[EA_HOST_MAX + 1];
    int all_num = 1;

    if (n > EA_HOST_MAX)
        return EH_ERR_ADDR_TOO_LONG;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]) && s[i] != '.')
            all_num = 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (all_num) {
        /* Digits and dots only: an IPv4 literal or nothing. glibc's inet_pton takes exactly
         * four decimal parts of 0..255 without leading zeros. */
        if (inet_pton(AF_INET, tmp, out->addr.ip) != 1)
            return EH_ERR_ADDR_BAD_V4;
        out->kind = EA_KIND_V4;
        out->addr.family = EA_INET;
    } else {
        if (!valid_name(s, n))
            return EH_ERR_ADDR_BAD_HOST;
        out->kind = EA_KIND_NAME;
    }
    memcpy(out->host, tmp, n + 1);
    return 0;
}

/* Parses the text between brackets, s[0..n): an IPv6 literal and an optional numeric
 * "%scope". */
static int parse_v6(const char *s, size_t n, struct ea_addr *a)
{
    char tmp[V6_TEXT_MAX + 1];
    const char *pct = memchr(s, '%', n);
    size_t alen = pct ? (size_t)(pct - s) : n;

    if (alen == 0 || alen > V6_TEXT_MAX)
        return EH_ERR_ADDR_BAD_V6;
    memcpy(tmp, s, alen);
    tmp[alen] = '\0';
    if (inet_pton(AF_INET6, tmp, a->ip) != 1)
        return EH_ERR_ADDR_BAD_V6;
    a->family = EA_INET6;
    a->scope = 0;
    if (pct) {
        const char *d = pct + 1;
        size_t dn = n - alen - 1;
        unsigned long long v = 0;

        if (dn == 0 || dn > SCOPE_DIGITS_MAX || !all_digits(d, dn))
            return EH_ERR_ADDR_BAD_SCOPE;
        for (size_t i = 0; i < dn; i++)
            v = v * 10 + (unsigned long long)(d[i] - '0');
        if (v > UINT32_MAX)
            return EH_ERR_ADDR_BAD_SCOPE;
        a->scope = (uint32_t)v;
    }
    return 0;
}

/* The checks every parser runs first on its text s[0..n). */
static int check_text(const char *s, size_t n)
{
    if (!s && n)
        return EH_ERR_INVAL;
    if (n == 0)
        return EH_ERR_ADDR_EMPTY;
    if (n > EA_TEXT_MAX)
        return EH_ERR_ADDR_TOO_LONG;
    /* A NUL would end the text early for inet_pton; it is never part of a host. */
    if (memchr(s, '\0', n))
        return EH_ERR_ADDR_BAD_HOST;
    return 0;
}

int ea_parse(const char *s, size_t n, unsigned flags, struct ea_endpoint *out)
{
    const char *colon;
    size_t colons;
    int rc;

    if (!out)
        return EH_ERR_INVAL;
    if ((rc = check_text(s, n)) != 0)
        return rc;
    memset(out, 0, sizeof *out);

    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        size_t in_n, rest;

        if (!close || memchr(s + 1, '[', (size_t)(close - s) - 1))
            return EH_ERR_ADDR_BRACKET;
        in_n = (size_t)(close - s) - 1;
        rest = n - in_n - 2;
        rc = parse_v6(s + 1, in_n, &out->addr);
        if (rc)
            return rc;
        if (rest == 0)
            return EH_ERR_ADDR_NO_PORT;
        if (close[1] != ':')
            return EH_ERR_ADDR_BRACKET;
        rc = parse_port(close + 2, rest - 1, flags, &out->port);
        if (rc)
            return rc;
        out->kind = EA_KIND_V6;
        out->addr.port = out->port;
        memcpy(out->host, s + 1, in_n); /* in_n <= 45 + 11, far below EA_HOST_MAX */
        out->host[in_n] = '\0';
        return 0;
    }
    if (memchr(s, '[', n) || memchr(s, ']', n))
        return EH_ERR_ADDR_BRACKET;

    colons = count_of(s, n, ':');
    if (colons > 1) {
        /* Several colons without brackets. An IPv6 literal, alone or followed by ":port",
         * gets the hint about brackets; other IPv6-looking text is a bad IPv6 address, and
         * anything else a bad host. */
        struct ea_addr probe;
        const char *last = s + n - 1;

        for (size_t i = 0; i < n; i++)
            if (!is_hex(s[i]) && s[i] != ':' && s[i] != '.' && s[i] != '%')
                return EH_ERR_ADDR_BAD_HOST;
        while (*last != ':')
            last--;
        if (parse_v6(s, n, &probe) == 0 || parse_v6(s, (size_t)(last - s), &probe) == 0)
            return EH_ERR_ADDR_BARE_V6;
        return EH_ERR_ADDR_BAD_V6;
    }
    if (colons == 0) {
        if (all_digits(s, n)) {
            if (!(flags & EA_ALLOW_BARE_PORT))
                return EH_ERR_ADDR_NO_HOST;
            rc = parse_port(s, n, flags, &out->port);
            if (rc)
                return rc;
            out->kind = EA_KIND_PORT;
            return 0;
        }
        /* A signed number is a bad port where a bare port may stand, not a bad host. */
        if ((flags & EA_ALLOW_BARE_PORT) && (s[0] == '+' || s[0] == '-') &&
            all_digits(s + 1, n - 1))
            return EH_ERR_ADDR_BAD_PORT;
        /* Report what is wrong with the host first; a good host still lacks its port. */
        rc = parse_host(s, n, out);
        return rc ? rc : EH_ERR_ADDR_NO_PORT;
    }

    colon = memchr(s, ':', n);
    if (colon == s)
        return EH_ERR_ADDR_NO_HOST;
    rc = parse_host(s, (size_t)(colon - s), out);
    if (rc)
        return rc;
    rc = parse_port(colon + 1, n - (size_t)(colon - s) - 1, flags, &out->port);
    if (rc)
        return rc;
    out->addr.port = out->port;
    return 0;
}

int ea_format(const struct ea_addr *a, char *buf, size_t size, size_t *len)
{
    char ip[INET6_ADDRSTRLEN];
    int r;

    if (len)
        *len = 0;
    if (size > 0 && buf)
        buf[0] = '\0';
    if (!a || (!buf && size))
        return EH_ERR_INVAL;
    if (a->family == EA_INET) {
        if (!inet_ntop(AF_INET, a->ip, ip, sizeof ip))
            return EH_ERR_INVAL;
        r = snprintf(buf, size, "%s:%u", ip, (unsigned)a->port);
    } else if (a->family == EA_INET6) {
        if (!inet_ntop(AF_INET6, a->ip, ip, sizeof ip))
            return EH_ERR_INVAL;
        if (a->scope)
            r = snprintf(buf, size, "[%s%%%lu]:%u", ip, (unsigned long)a->scope, (unsigned)a->port);
        else
            r = snprintf(buf, size, "[%s]:%u", ip, (unsigned)a->port);
    } else {
        return EH_ERR_INVAL;
    }
    if (r < 0)
        return EH_ERR_INVAL;
    if ((size_t)r >= size) {
        if (len)
            *len = size ? size - 1 : 0;
        return EH_ERR_NOSPACE;
    }
    if (len)
        *len = (size_t)r;
    return 0;
}

/* Zeroes every bit of ip[0..bytes) past the first prefix bits. */
static void mask_host_bits(uint8_t *ip, size_t bytes, unsigned prefix)
{
    for (size_t i = 0; i < bytes; i++) {
        unsigned lo = (unsigned)i * 8;
        if (prefix >= lo + 8)
            continue;
        ip[i] = prefix <= lo ? 0 : (uint8_t)(ip[i] & (0xffu << (8 - (prefix - lo))));
    }
}

int ea_parse_net(const char *s, size_t n, struct ea_net *out)
{
    char tmp[V6_TEXT_MAX + 1];
    const char *slash;
    size_t alen;
    unsigned max, prefix;
    int all_num = 1, rc;

    if (!out)
        return EH_ERR_INVAL;
    if ((rc = check_text(s, n)) != 0)
        return rc;
    memset(out, 0, sizeof *out);
    if (memchr(s, '[', n) || memchr(s, ']', n))
        return EH_ERR_ADDR_BRACKET;
    slash = memchr(s, '/', n);
    alen = slash ? (size_t)(slash - s) : n;
    if (alen == 0)
        return EH_ERR_ADDR_EMPTY;
    for (size_t i = 0; i < alen; i++)
        if (!is_digit(s[i]) && s[i] != '.')
            all_num = 0;

    if (memchr(s, ':', alen)) {
        if (alen > V6_TEXT_MAX)
            return EH_ERR_ADDR_BAD_V6;
        memcpy(tmp, s, alen);
        tmp[alen] = '\0';
        if (inet_pton(AF_INET6, tmp, out->addr.ip) != 1)
            return EH_ERR_ADDR_BAD_V6;
        out->addr.family = EA_INET6;
        max = 128;
    } else if (all_num) {
        if (alen > V6_TEXT_MAX)
            return EH_ERR_ADDR_BAD_V4;
        memcpy(tmp, s, alen);
        tmp[alen] = '\0';
        if (inet_pton(AF_INET, tmp, out->addr.ip) != 1)
            return EH_ERR_ADDR_BAD_V4;
        out->addr.family = EA_INET;
        max = 32;
    } else {
        /* Names cannot be networks: an allow-list must not depend on resolution. */
        return EH_ERR_ADDR_BAD_HOST;
    }

    prefix = max;
    if (slash) {
        const char *d = slash + 1;
        size_t dn = n - alen - 1;

        /* At most three digits keeps the value small; leading zeros are refused so that
         * each prefix has one spelling. */
        if (dn == 0 || dn > 3 || !all_digits(d, dn) || (dn > 1 && d[0] == '0'))
            return EH_ERR_ADDR_BAD_PREFIX;
        prefix = 0;
        for (size_t i = 0; i < dn; i++)
            prefix = prefix * 10 + (unsigned)(d[i] - '0');
        if (prefix > max)
            return EH_ERR_ADDR_BAD_PREFIX;
    }
    out->prefix = (uint8_t)prefix;
    /* Keep only the network part, so equal networks compare equal byte for byte. */
    mask_host_bits(out->addr.ip, max / 8, prefix);
    return 0;
}

/* Whether the first bits of x and y agree. */
static int prefix_equal(const uint8_t *x, const uint8_t *y, unsigned bits)
{
    size_t whole = bits / 8;
    unsigned rest = bits % 8;

    if (memcmp(x, y, whole) != 0)
        return 0;
    if (rest) {
        uint8_t m = (uint8_t)(0xffu << (8 - rest));
        if ((x[whole] & m) != (y[whole] & m))
            return 0;
    }
    return 1;
}

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int ea_net_contains(const struct ea_net *net, const struct ea_addr *a)
{
    uint8_t mapped[16];

    if (!net || !a)
        return 0;
    if (net->addr.family == EA_INET) {
        if (net->prefix > 32)
            return 0;
        if (a->family == EA_INET)
            return prefix_equal(net->addr.ip, a->ip, net->prefix);
        if (a->family == EA_INET6 && memcmp(a->ip, v4_mapped_prefix, 12) == 0)
            return prefix_equal(net->addr.ip, a->ip + 12, net->prefix);
        return 0;
    }
    if (net->addr.family == EA_INET6) {
        if (net->prefix > 128)
            return 0;
        if (a->family == EA_INET6)
            return prefix_equal(net->addr.ip, a->ip, net->prefix);
        if (a->family == EA_INET) {
            /* An IPv4 source matches a ::ffff:0:0/96-style net as its mapped form would. */
            memcpy(mapped, v4_mapped_prefix, 12);
            memcpy(mapped + 12, a->ip, 4);
            return prefix_equal(net->addr.ip, mapped, net->prefix);
        }
    }
    return 0;
}

int ea_is_loopback(const struct ea_addr *a)
{
    static const uint8_t v6_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

    if (!a)
        return 0;
    if (a->family == EA_INET)
        return a->ip[0] == 127;
    if (a->family == EA_INET6)
        return memcmp(a->ip, v6_loopback, 16) == 0 ||
               (memcmp(a->ip, v4_mapped_prefix, 12) == 0 && a->ip[12] == 127);
    return 0;
}

int ea_equal(const struct ea_addr *a, const struct ea_addr *b)
{
    if (!a || !b)
        return 0;
    if (a->family != b->family || a->port != b->port)
        return 0;
    if (a->family == EA_INET)
        return memcmp(a->ip, b->ip, 4) == 0;
    if (a->family == EA_INET6) {
        if (a->scope && b->scope && a->scope != b->scope)
            return 0;
        return memcmp(a->ip, b->ip, 16) == 0;
    }
    /* EA_NONE (a bare port) has no address to compare. */
    return a->family == EA_NONE;
}
