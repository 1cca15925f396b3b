/*
 * test_verdict.c - Check suite for core/verdict and core/catalog: the pattern generator
 * (deterministic, offset-addressable), the stream verifier fed whole, in chunks and byte by
 * byte (which must agree), with mismatches, extra and short echoes, and the datagram matcher
 * on every reply kind. Received chunks sit just before a guard page, so an over-read crashes.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "core/err.h"
#include "core/verdict.h"
#include "guard.h"

Suite *cv_suite(void);

static struct guard g_in;
static uint8_t big[1 << 17];

static void guard_setup(void)
{
    ck_assert_int_eq(guard_init(&g_in, sizeof big), 0);
}

static void guard_teardown(void)
{
    guard_free(&g_in);
}

/* ---- pattern -------------------------------------------------------------------------- */

START_TEST(pattern_deterministic)
{
    uint8_t a[1000], b[1000];

    cv_pattern_fill(42, 0, a, sizeof a);
    cv_pattern_fill(42, 0, b, sizeof b);
    ck_assert_mem_eq(a, b, sizeof a);
    cv_pattern_fill(43, 0, b, sizeof b);
    ck_assert_int_ne(memcmp(a, b, sizeof a), 0);
}
END_TEST

START_TEST(pattern_offsets_agree)
{
    /* Any offset and length gives the same bytes as the whole stream (heads, blocks, tails). */
    uint8_t whole[300], part[300];

    cv_pattern_fill(7, 0, whole, sizeof whole);
    for (size_t off = 0; off < 40; off++)
        for (size_t n = 0; off + n <= 100; n += 7) {
            cv_pattern_fill(7, off, part, n);
            ck_assert_mem_eq(part, whole + off, n);
            if (n)
                ck_assert_uint_eq(cv_pattern_byte(7, off + n - 1), whole[off + n - 1]);
        }
}
END_TEST

START_TEST(pattern_all_byte_values)
{
    int seen[256] = {0};

    cv_pattern_fill(1, 0, big, 65536);
    for (size_t i = 0; i < 65536; i++)
        seen[big[i]] = 1;
    for (int v = 0; v < 256; v++)
        ck_assert_msg(seen[v], "byte value %d never generated", v);
    ck_assert_uint_ne(cv_seed_derive(1, 0), cv_seed_derive(1, 1));
    ck_assert_uint_eq(cv_seed_derive(9, 5), cv_seed_derive(9, 5));
}
END_TEST

/* ---- stream verifier ------------------------------------------------------------------ */

/* Feeds the n bytes of p to v in chunks of `chunk` bytes, each placed before the guard page. */
static int feed_chunks(struct cv_stream *v, const uint8_t *p, size_t n, size_t chunk)
{
    int st = v->status;

    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        st = cv_stream_feed(v, guard_place(&g_in, p + off, k), k);
    }
    return st;
}

static const struct {
    const char *name;
    size_t total; /* expected length */
    size_t sent;  /* bytes received (pattern, then extra bytes past total) */
    long flip;    /* offset of a corrupted byte, or -1 */
    int status;
} streams[] = {
    {"empty_done", 0, 0, -1, CV_DONE},
    {"one_byte", 1, 1, -1, CV_DONE},
    {"exact_1024", 1024, 1024, -1, CV_DONE},
    {"short", 1024, 1000, -1, CV_MORE},
    {"nothing_yet", 1024, 0, -1, CV_MORE},
    {"extra_one", 1024, 1025, -1, CV_EXTRA},
    {"extra_after_empty", 0, 3, -1, CV_EXTRA},
    {"flip_first", 4096, 4096, 0, CV_MISMATCH},
    {"flip_last", 4096, 4096, 4095, CV_MISMATCH},
    {"flip_block_edge", 4096, 4096, 511, CV_MISMATCH},
    {"flip_block_edge2", 4096, 4096, 512, CV_MISMATCH},
    {"flip_then_extra", 100, 120, 50, CV_MISMATCH},
    {"large", 70000, 70000, -1, CV_DONE},
    {"large_flip", 70000, 70000, 69999, CV_MISMATCH},
};

START_TEST(stream_table)
{
    static const size_t chunks[] = {1, 3, 7, 512, 513, 4096, 1 << 17};
    uint8_t expect_byte = 0;

    cv_pattern_fill(99, 0, big, streams[_i].sent);
    if (streams[_i].flip >= 0) {
        expect_byte = big[streams[_i].flip];
        big[streams[_i].flip] ^= 0x01;
    }
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        struct cv_stream v;
        int st;
        cv_stream_init_pattern(&v, 99, streams[_i].total);
        st = feed_chunks(&v, big, streams[_i].sent, chunks[c]);
        ck_assert_msg(st == streams[_i].status, "%s chunk %zu: status %d, want %d",
                      streams[_i].name, chunks[c], st, streams[_i].status);
        if (st == CV_MISMATCH) {
            ck_assert_uint_eq(v.bad_off, (uint64_t)streams[_i].flip);
            ck_assert_uint_eq(v.bad_want, expect_byte);
            ck_assert_uint_eq(v.bad_got, expect_byte ^ 1);
            ck_assert_uint_eq(v.got, (uint64_t)streams[_i].flip);
        } else if (st == CV_EXTRA) {
            ck_assert_uint_eq(v.extra, streams[_i].sent - streams[_i].total);
            ck_assert_uint_eq(v.extra_first, big[streams[_i].total]);
        } else {
            ck_assert_uint_eq(v.got, streams[_i].sent);
        }
    }
}
END_TEST

START_TEST(stream_buffer_source)
{
    uint8_t all[512];
    struct cv_stream v;
    char d[160];

    for (int i = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
        all[256 + i] = (uint8_t)(255 - i);
    }
    cv_stream_init_buf(&v, all, sizeof all);
    ck_assert_int_eq(feed_chunks(&v, all, sizeof all, 5), CV_DONE);
    ck_assert_str_eq(cv_stream_describe(&v, d, sizeof d), "all 512 bytes echoed");

    /* A C-string server stops at NUL: the echo is short, then whatever follows differs. */
    cv_stream_init_buf(&v, all, sizeof all);
    ck_assert_int_eq(cv_stream_feed(&v, all + 1, 10), CV_MISMATCH);
    ck_assert_uint_eq(v.bad_off, 0);
    ck_assert_uint_eq(v.bad_want, 0);
    ck_assert_uint_eq(v.bad_got, 1);
    ck_assert_str_eq(cv_stream_describe(&v, d, sizeof d),
                     "byte 0 of 512 differs: expected 0x00, got 0x01");
    /* Once a mismatch is seen, later bytes change nothing. */
    ck_assert_int_eq(cv_stream_feed(&v, all, 512), CV_MISMATCH);
    ck_assert_uint_eq(v.bad_off, 0);
}
END_TEST

START_TEST(stream_describe)
{
    struct cv_stream v;
    char d[160];
    uint8_t p[8];

    cv_pattern_fill(5, 0, p, sizeof p);
    cv_stream_init_pattern(&v, 5, 8);
    cv_stream_feed(&v, p, 6);
    ck_assert_str_eq(cv_stream_describe(&v, d, sizeof d), "short: 6 of 8 bytes echoed");
    cv_stream_feed(&v, p + 6, 2);
    cv_stream_feed(&v, (const uint8_t *)"\n", 1);
    ck_assert_str_eq(cv_stream_describe(&v, d, sizeof d),
                     "1 byte beyond the 8 expected, the first 0x0a");
    ck_assert_str_eq(cv_stream_describe(&v, d, 5), "1 by");
    ck_assert_int_eq(cv_stream_feed(&v, NULL, 0), CV_EXTRA);
}
END_TEST

/* ---- datagram matcher ----------------------------------------------------------------- */

static uint8_t d0[100], d1[100], d2[2000];

static void dg_setup(struct cv_dmatch *m, struct cv_dslot *slots, size_t cap)
{
    cv_pattern_fill(11, 0, d0, sizeof d0);
    cv_pattern_fill(12, 0, d1, sizeof d1);
    cv_pattern_fill(13, 0, d2, sizeof d2);
    cv_dmatch_init(m, slots, cap);
    ck_assert_int_eq(cv_dmatch_add(m, d0, sizeof d0, NULL), 0);
    ck_assert_int_eq(cv_dmatch_add(m, d1, sizeof d1, NULL), 0);
    ck_assert_int_eq(cv_dmatch_add(m, d2, sizeof d2, NULL), 0);
}

static struct cv_dresult reply(struct cv_dmatch *m, const uint8_t *p, size_t n)
{
    struct cv_dresult r;

    ck_assert_int_eq(cv_dmatch_reply(m, n ? guard_place(&g_in, p, n) : NULL, n, &r), 0);
    return r;
}

START_TEST(dgram_match_and_duplicate)
{
    struct cv_dslot slots[4];
    struct cv_dmatch m;
    struct cv_dresult r;

    dg_setup(&m, slots, 4);
    ck_assert_uint_eq(cv_dmatch_unanswered(&m), 3);
    r = reply(&m, d1, sizeof d1);
    ck_assert_int_eq(r.kind, CV_D_MATCH);
    ck_assert_uint_eq(r.index, 1);
    r = reply(&m, d1, sizeof d1);
    ck_assert_int_eq(r.kind, CV_D_DUPLICATE);
    ck_assert_uint_eq(r.index, 1);
    /* A retry makes a second reply legitimate. */
    ck_assert_int_eq(cv_dmatch_resend(&m, 0), 0);
    ck_assert_int_eq(reply(&m, d0, sizeof d0).kind, CV_D_MATCH);
    ck_assert_int_eq(reply(&m, d0, sizeof d0).kind, CV_D_MATCH);
    ck_assert_int_eq(reply(&m, d0, sizeof d0).kind, CV_D_DUPLICATE);
    ck_assert_uint_eq(cv_dmatch_unanswered(&m), 1);
    ck_assert_uint_eq(m.kinds[CV_D_DUPLICATE], 2);
    ck_assert_int_eq(cv_dmatch_resend(&m, 9), EH_ERR_INVAL);
    ck_assert_int_eq(cv_dmatch_reply(&m, d0, 1, NULL), EH_ERR_INVAL);
}
END_TEST

/* Wording: "1 byte", "an 8193-byte datagram". */
static const struct {
    const char *name;
    uint64_t n;
    const char *article, *plural;
} words[] = {
    {"zero", 0, "a", "s"},        {"one", 1, "a", ""},          {"two", 2, "a", "s"},
    {"eight", 8, "an", "s"},      {"eleven", 11, "an", "s"},    {"eighteen", 18, "an", "s"},
    {"eighty", 80, "an", "s"},    {"eighty-nine", 89, "an", "s"}, {"ninety", 90, "a", "s"},
    {"one hundred", 100, "a", "s"}, {"eight hundred", 800, "an", "s"},
    {"one thousand", 1000, "a", "s"}, {"1800", 1800, "a", "s"}, {"8192", 8192, "an", "s"},
    {"8193", 8193, "an", "s"},    {"11000", 11000, "an", "s"},  {"18432", 18432, "an", "s"},
    {"65507", 65507, "a", "s"},   {"80000", 80000, "an", "s"},  {"8 million", 8000000, "an", "s"},
};

START_TEST(wording_table)
{
    ck_assert_msg(strcmp(cv_article(words[_i].n), words[_i].article) == 0, "%s: article %s",
                  words[_i].name, cv_article(words[_i].n));
    ck_assert_msg(strcmp(cv_plural(words[_i].n), words[_i].plural) == 0, "%s: plural",
                  words[_i].name);
}
END_TEST

START_TEST(wording_one_byte)
{
    /* regress: "all 1 bytes echoed", "datagram 0 (1 bytes)", "a 8193-byte piece". */
    static const uint8_t one[1] = {0x41};
    static uint8_t wide[8194];
    struct cv_stream v;
    struct cv_dslot slots[2];
    struct cv_dmatch m;
    struct cv_dresult r;
    char d[200];

    cv_pattern_fill(77, 0, wide, sizeof wide);
    wide[0] = 0x42;
    cv_stream_init_buf(&v, one, 1);
    ck_assert_str_eq(cv_stream_describe(&v, d, sizeof d), "short: 0 of 1 byte echoed");
    cv_stream_feed(&v, one, 1);
    ck_assert_str_eq(cv_stream_describe(&v, d, sizeof d), "all 1 byte echoed");
    cv_dmatch_init(&m, slots, 2);
    cv_dmatch_add(&m, one, 1, NULL);
    cv_dmatch_add(&m, wide, sizeof wide, NULL);
    ck_assert_int_eq(cv_dmatch_reply(&m, one, 1, &r), 0);
    ck_assert_str_eq(cv_dresult_describe(&m, &r, d, sizeof d),
                     "datagram 0 (1 byte) came back exactly");
    ck_assert_int_eq(cv_dmatch_reply(&m, wide, 1, &r), 0);
    ck_assert_str_eq(cv_dresult_describe(&m, &r, d, sizeof d),
                     "datagram 1 (8194 bytes) came back truncated to 1 byte");
    ck_assert_int_eq(cv_dmatch_reply(&m, wide + 1, 8193, &r), 0);
    ck_assert_str_eq(cv_dresult_describe(&m, &r, d, sizeof d),
                     "datagram 1 (8194 bytes) came back split over several datagrams: an "
                     "8193-byte piece from offset 1");
}
END_TEST

START_TEST(dgram_excess)
{
    /* Replies beyond the sends are excess wherever they are seen; replies to retries and
     * late replies to a datagram sent again are not. */
    struct cv_dslot slots[4];
    struct cv_dmatch m;
    size_t first = 99;

    dg_setup(&m, slots, 4);
    ck_assert_uint_eq(cv_dmatch_excess(&m, &first), 0);
    ck_assert_uint_eq(first, 99);
    ck_assert_int_eq(cv_dmatch_resend(&m, 2), 0);
    ck_assert_int_eq(reply(&m, d2, sizeof d2).kind, CV_D_MATCH);
    ck_assert_int_eq(cv_dmatch_expire(&m, 2), 0);
    ck_assert_int_eq(reply(&m, d2, sizeof d2).kind, CV_D_LATE);
    ck_assert_uint_eq(cv_dmatch_excess(&m, &first), 0);
    ck_assert_int_eq(reply(&m, d2, sizeof d2).kind, CV_D_DUPLICATE);
    ck_assert_int_eq(reply(&m, d1, sizeof d1).kind, CV_D_MATCH);
    ck_assert_int_eq(reply(&m, d1, sizeof d1).kind, CV_D_DUPLICATE);
    ck_assert_uint_eq(cv_dmatch_excess(&m, &first), 2);
    ck_assert_uint_eq(first, 1);
    ck_assert_uint_eq(cv_dmatch_excess(&m, NULL), 2);
    /* A truncated copy is not an exact reply: it is the size cases' finding, not excess. */
    ck_assert_int_eq(reply(&m, d0, sizeof d0 - 1).kind, CV_D_TRUNCATED);
    ck_assert_uint_eq(cv_dmatch_excess(&m, NULL), 2);
}
END_TEST

START_TEST(dgram_identical_payloads)
{
    /* Two equal datagrams sent: two replies are both matches, a third is a duplicate. */
    struct cv_dslot slots[2];
    struct cv_dmatch m;

    cv_dmatch_init(&m, slots, 2);
    cv_dmatch_add(&m, NULL, 0, NULL);
    cv_dmatch_add(&m, NULL, 0, NULL);
    ck_assert_int_eq(cv_dmatch_add(&m, NULL, 0, NULL), EH_ERR_NOSPACE);
    ck_assert_int_eq(reply(&m, NULL, 0).kind, CV_D_MATCH);
    ck_assert_int_eq(reply(&m, NULL, 0).kind, CV_D_MATCH);
    ck_assert_int_eq(reply(&m, NULL, 0).kind, CV_D_DUPLICATE);
}
END_TEST

START_TEST(dgram_truncated_split_merged)
{
    struct cv_dslot slots[4];
    struct cv_dmatch m;
    struct cv_dresult r;
    uint8_t both[200];
    char d[200];

    dg_setup(&m, slots, 4);
    r = reply(&m, d2, 1024);
    ck_assert_int_eq(r.kind, CV_D_TRUNCATED);
    ck_assert_uint_eq(r.index, 2);
    ck_assert_uint_eq(r.n, 1024);
    ck_assert_str_eq(cv_dresult_describe(&m, &r, d, sizeof d),
                     "datagram 2 (2000 bytes) came back truncated to 1024 bytes");
    r = reply(&m, d2 + 1024, 976);
    ck_assert_int_eq(r.kind, CV_D_SPLIT);
    ck_assert_uint_eq(r.bad_off, 1024);
    memcpy(both, d0, 100);
    memcpy(both + 100, d1, 100);
    r = reply(&m, both, 200);
    ck_assert_int_eq(r.kind, CV_D_MERGED);
    ck_assert_uint_eq(r.index, 0);
    ck_assert_uint_eq(r.other, 1);
    ck_assert_uint_eq(cv_dmatch_unanswered(&m), 3);
}
END_TEST

START_TEST(dgram_altered_foreign_late)
{
    struct cv_dslot slots[4];
    struct cv_dmatch m;
    struct cv_dresult r;
    uint8_t x[100], nl[101];

    dg_setup(&m, slots, 4);
    memcpy(x, d1, 100);
    x[0] = d1[0] ^ 0xff;
    x[60] ^= 1;
    r = reply(&m, x, 100);
    ck_assert_int_eq(r.kind, CV_D_ALTERED);
    /* Same length as d0 and d1; the longest common prefix decides, both 0 here but the
     * first differing offset is reported. */
    ck_assert_uint_eq(r.n, 100);
    memcpy(x, d1, 100);
    x[60] ^= 1;
    r = reply(&m, x, 100);
    ck_assert_int_eq(r.kind, CV_D_ALTERED);
    ck_assert_uint_eq(r.index, 1);
    ck_assert_uint_eq(r.bad_off, 60);
    /* A datagram plus a trailing newline: altered at its end. */
    memcpy(nl, d0, 100);
    nl[100] = '\n';
    r = reply(&m, nl, 101);
    ck_assert_int_eq(r.kind, CV_D_ALTERED);
    ck_assert_uint_eq(r.index, 0);
    ck_assert_uint_eq(r.bad_off, 100);
    /* A header in front of the datagram: altered from offset 0, not foreign. */
    {
        uint8_t hdr[106];
        memcpy(hdr, "ECHO: ", 6);
        memcpy(hdr + 6, d1, 100);
        r = reply(&m, hdr, sizeof hdr);
        ck_assert_int_eq(r.kind, CV_D_ALTERED);
        ck_assert_uint_eq(r.index, 1);
        ck_assert_uint_eq(r.bad_off, 0);
    }
    r = reply(&m, (const uint8_t *)"banner", 6);
    ck_assert_int_eq(r.kind, CV_D_FOREIGN);
    ck_assert_int_eq(cv_dmatch_expire(&m, 0), 0);
    ck_assert_int_eq(reply(&m, d0, 100).kind, CV_D_LATE);
    ck_assert_int_eq(cv_dmatch_expire(&m, 7), EH_ERR_INVAL);
}
END_TEST

START_TEST(dgram_empty_reply)
{
    struct cv_dslot slots[1];
    struct cv_dmatch m;
    struct cv_dresult r;

    cv_dmatch_init(&m, slots, 1);
    cv_dmatch_add(&m, d0, 10, NULL);
    r = reply(&m, NULL, 0);
    ck_assert_int_eq(r.kind, CV_D_TRUNCATED);
    ck_assert_uint_eq(r.n, 0);
    ck_assert_int_eq(reply(&m, d0, 10).kind, CV_D_MATCH);
    /* With nothing owed, an empty reply is foreign. */
    ck_assert_int_eq(reply(&m, NULL, 0).kind, CV_D_FOREIGN);
}
END_TEST

START_TEST(dgram_names)
{
    ck_assert_str_eq(cv_dkind_name(CV_D_MATCH), "match");
    ck_assert_str_eq(cv_dkind_name(CV_D_LATE), "late");
    ck_assert_str_eq(cv_dkind_name(-1), "?");
    ck_assert_str_eq(cv_dkind_name(CV__D_COUNT), "?");
}
END_TEST

/* ---- reply source --------------------------------------------------------------------- */

static struct ea_addr v4(uint8_t last, uint16_t port)
{
    struct ea_addr a;

    memset(&a, 0, sizeof a);
    a.family = EA_INET;
    a.port = port;
    a.ip[0] = 127;
    a.ip[3] = last;
    return a;
}

START_TEST(source_kind)
{
    struct ea_addr to = v4(2, 7007), from, to6, from6;

    /* The address and port the request went to. */
    from = v4(2, 7007);
    ck_assert_int_eq(cv_source_kind(&to, &from), CV_SRC_SAME);
    /* The right port, another address: SHOULD (RFC 1122 3.3.4.2), the bytes still count. */
    from = v4(1, 7007);
    ck_assert_int_eq(cv_source_kind(&to, &from), CV_SRC_OTHER_ADDR);
    /* Another port: no answer (MUST), whatever the address. */
    from = v4(2, 7008);
    ck_assert_int_eq(cv_source_kind(&to, &from), CV_SRC_OTHER_PORT);
    from = v4(1, 7008);
    ck_assert_int_eq(cv_source_kind(&to, &from), CV_SRC_OTHER_PORT);
    /* An unknown source cannot be the service's port. */
    memset(&from, 0, sizeof from);
    from.port = 7007;
    ck_assert_int_eq(cv_source_kind(&to, &from), CV_SRC_OTHER_PORT);
    ck_assert_int_eq(cv_source_kind(&to, NULL), CV_SRC_OTHER_PORT);
    ck_assert_int_eq(cv_source_kind(NULL, &from), CV_SRC_OTHER_PORT);
    /* IPv6: another family on the right port is another address; a scope id counts only
     * when both have one. */
    memset(&to6, 0, sizeof to6);
    to6.family = EA_INET6;
    to6.port = 7007;
    to6.ip[15] = 1;
    from6 = to6;
    ck_assert_int_eq(cv_source_kind(&to6, &from6), CV_SRC_SAME);
    from6.scope = 3;
    ck_assert_int_eq(cv_source_kind(&to6, &from6), CV_SRC_SAME);
    to6.scope = 2;
    ck_assert_int_eq(cv_source_kind(&to6, &from6), CV_SRC_OTHER_ADDR);
    from = v4(1, 7007);
    ck_assert_int_eq(cv_source_kind(&to6, &from), CV_SRC_OTHER_ADDR);
    ck_assert_str_eq(cv_source_name(CV_SRC_SAME), "same");
    ck_assert_str_eq(cv_source_name(CV_SRC_OTHER_ADDR), "other address");
    ck_assert_str_eq(cv_source_name(CV_SRC_OTHER_PORT), "other port");
    ck_assert_str_eq(cv_source_name(9), "?");
}
END_TEST

/* ---- catalog -------------------------------------------------------------------------- */

START_TEST(catalog_contract)
{
    /* The ids other tests and CI expectation files rely on. */
    static const char *const ids[] = {
        "tcp.connect", "tcp.roundtrip.single", "tcp.bytes.all256", "tcp.bytes.utf8",
        "tcp.size.1", "tcp.size.1023", "tcp.size.1024", "tcp.size.1025", "tcp.size.4095",
        "tcp.size.4096", "tcp.size.4097", "tcp.size.65535", "tcp.size.65536", "tcp.size.65537",
        "tcp.size.1m", "tcp.roundtrip.multi", "tcp.pipeline", "tcp.nodelay.bytewise",
        "tcp.large.16m", "tcp.halfclose.flush", "tcp.slowreader.8m", "tcp.concurrent.100",
        "tcp.sequential.200", "tcp.reset.isolation", "tcp.unsolicited.banner",
        "tcp.unsolicited.trailing", "tcp.unsolicited.idle", "tcp.idle.pause", "tcp.perf.rtt",
        "tcp.perf.throughput",
        "udp.single", "udp.empty", "udp.bytes.all256", "udp.size.1", "udp.size.512",
        "udp.size.1024", "udp.size.1025", "udp.size.1472", "udp.size.1473", "udp.size.2048",
        "udp.size.2049", "udp.size.4096", "udp.size.4097", "udp.size.8192", "udp.size.8193",
        "udp.size.max", "udp.burst", "udp.duplicate", "udp.source.match", "udp.source.addr",
        "udp.interleave.2sockets", "udp.loop.port7", "udp.perf.loss",
    };
    size_t n;
    const struct cc_case *c = cc_catalog(&n);

    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        ck_assert_msg(cc_find(ids[i]) != NULL, "%s missing from the catalog", ids[i]);
    ck_assert_int_eq(cc_find("tcp.idle.pause")->level, CC_SHOULD);
    ck_assert_int_eq(cc_find("tcp.unsolicited.idle")->level, CC_MUST);
    /* tcp.idle.pause reuses the pause tcp.unsolicited.idle watched: it must run right after. */
    ck_assert_ptr_eq(cc_find("tcp.unsolicited.idle") + 1, cc_find("tcp.idle.pause"));
    ck_assert_int_eq(cc_find("udp.loop.port7")->level, CC_SHOULD);
    /* The reply's port is RFC 862's (MUST); its address only RFC 1122 3.3.4.2's (SHOULD). */
    ck_assert_int_eq(cc_find("udp.source.match")->level, CC_MUST);
    ck_assert_int_eq(cc_find("udp.source.addr")->level, CC_SHOULD);
    ck_assert_int_eq(cc_find("tcp.perf.rtt")->level, CC_INFO);
    ck_assert_int_eq(cc_find("udp.perf.loss")->level, CC_INFO);
    ck_assert_ptr_null(cc_find("tcp.nope"));
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(strncmp(c[i].id, c[i].transport == CC_TCP ? "tcp." : "udp.", 4) == 0,
                      "%s: id and transport disagree", c[i].id);
        ck_assert_msg(c[i].rfc[0] && c[i].desc[0], "%s: no RFC or description", c[i].id);
        for (size_t j = i + 1; j < n; j++)
            ck_assert_msg(strcmp(c[i].id, c[j].id) != 0, "%s listed twice", c[i].id);
    }
    ck_assert_str_eq(cc_level_name(CC_MUST), "MUST");
    ck_assert_str_eq(cc_transport_name(CC_UDP), "udp");
    ck_assert_str_eq(cc_level_name(9), "?");
}
END_TEST

Suite *cv_suite(void)
{
    Suite *s = suite_create("verdict");
    TCase *basic = tcase_create("basic");
    TCase *limits = tcase_create("limits");
    TCase *errors = tcase_create("errors");

    tcase_add_checked_fixture(basic, guard_setup, guard_teardown);
    tcase_add_checked_fixture(limits, guard_setup, guard_teardown);
    tcase_add_checked_fixture(errors, guard_setup, guard_teardown);
    tcase_add_test(basic, pattern_deterministic);
    tcase_add_test(basic, pattern_offsets_agree);
    tcase_add_test(basic, stream_buffer_source);
    tcase_add_test(basic, source_kind);
    tcase_add_test(basic, dgram_match_and_duplicate);
    tcase_add_test(basic, dgram_excess);
    tcase_add_test(basic, dgram_names);
    tcase_add_test(basic, catalog_contract);
    tcase_add_test(limits, pattern_all_byte_values);
    tcase_add_loop_test(limits, stream_table, 0, sizeof streams / sizeof streams[0]);
    tcase_add_test(limits, dgram_identical_payloads);
    tcase_add_test(limits, dgram_empty_reply);
    tcase_add_test(errors, stream_describe);
    tcase_add_loop_test(basic, wording_table, 0, sizeof words / sizeof words[0]);
    tcase_add_test(errors, wording_one_byte);
    tcase_add_test(errors, dgram_truncated_split_merged);
    tcase_add_test(errors, dgram_altered_foreign_late);
    suite_add_tcase(s, basic);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cv_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
