/*
 * echo-conform - the conformance tester for RFC 862 echo servers, over TCP (RFC 9293) and
 * UDP (RFC 768). It runs the catalog (core/catalog.c) against each target and reports in
 * text, TAP, JUnit or JSON; with no target it starts the built-in echod on an ephemeral
 * loopback port and tests that. This file holds options, target setup and the run loop;
 * the cases are in conform/cases_*.c, the verdicts in core/verdict.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conform/cases.h"
#include "common/embedded.h"
#include "conform/expect.h"
#include "conform/fuzz.h"
#include "conform/report.h"
#include "core/addr.h"
#include "core/catalog.h"
#include "core/err.h"
#include "net/sock.h"

#ifndef EH_VERSION
#define EH_VERSION "0"
#endif

#define MAX_GLOBS 64
#define MAX_TARGETS 32

static const char *prog = "echo-conform";

struct opts {
    int tcp, udp, family;
    int list, strict, quiet, verbose, format, color;
    const char *only[MAX_GLOBS], *skip[MAX_GLOBS];
    size_t n_only, n_skip;
    int timeout_ms;
    long long max_time_ms;
    uint64_t seed;
    int have_seed;
    const char *output, *expect, *echod;
    int fuzz, have_max_time, have_count; /* --fuzz / --replay: see conform/fuzz.h */
    struct cz_opts z;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: echo-conform [options] [TARGET...]\n"
            "Tests RFC 862 echo servers over TCP and UDP. TARGET is HOST:PORT, [V6ADDR]:PORT\n"
            "or NAME:PORT; without one the built-in echod is started on a loopback port.\n"
            "\n"
            "  -t, --transport tcp|udp|both  what to test (default both)\n"
            "  -4, -6                        resolve targets to IPv4 / IPv6 only\n"
            "  -l, --list                    print the catalog (with --format markdown|json)\n"
            "      --only GLOB               run only cases whose id matches (repeatable)\n"
            "      --skip GLOB               skip cases whose id matches (repeatable)\n"
            "      --timeout SECONDS         longest wait without progress per case (default 3)\n"
            "      --max-time SECONDS        cap on the whole run (default 1200); cases it\n"
            "                                cuts off are 'not run', not failures\n"
            "      --strict                  SHOULD failures fail the run too\n"
            "      --seed N                  payload seed (default: from the clock; printed)\n"
            "  -f, --format FMT              text|tap|junit|json (default text)\n"
            "  -o, --output FILE             write the report to FILE\n"
            "      --expect FILE             known failures: '<id-glob> [target]' per line\n"
            "      --echod PATH              the server to start when no target is given\n"
            "                                (default: echod next to this program)\n"
            "      --color / --no-color      force colour on or off (default: on a terminal)\n"
            "  -q, --quiet                   report failures only\n"
            "  -v, --verbose                 every case's note, wire logs of failures\n"
            "\n"
            "Fuzzing (--fuzz, --replay): random client actions against one target, every\n"
            "echo checked; the first failure is shrunk and saved as a reproducer.\n"
            "      --fuzz                    fuzz instead of running the catalog\n"
            "      --replay FILE             run a saved reproducer once\n"
            "      --count N                 sequences to run (default 100); with --replay,\n"
            "                                runs until the first failure (default 1)\n"
            "      --actions N               most actions per sequence, 1..256 (default 40)\n"
            "      --max-write BYTES         largest TCP write (default 131072)\n"
            "      --rate N                  at most N actions per second (default 500;\n"
            "                                0: no limit), shrinking included\n"
            "      --udp-retries N           resends before a datagram counts as\n"
            "                                unanswered (default 3; waits add up to --timeout)\n"
            "      --allow-loss              count unanswered datagrams, do not fail on them\n"
            "                                (a lossy path; wrong replies still fail)\n"
            "      --shrink-time SECONDS     time for shrinking (default 60)\n"
            "      --shrink-runs N           most runs while shrinking (default 500; 0: none)\n"
            "      --save FILE               reproducer path (default echofuzz-SEED.txt)\n"
            "      --dry-run                 print the sequences, send nothing\n"
            "      (--max-time defaults to 60 s; --timeout and --seed apply)\n"
            "\n"
            "  -h, --help                    show this help\n"
            "  -V, --version                 show the version\n"
            "\n"
            "Exit status: 1 if a case that counts (MUST; SHOULD with --strict) failed on\n"
            "any target, even when the run is also incomplete; else 2 if a target could\n"
            "not be tested or --max-time cut the run short (cases reported 'not run'), or\n"
            "on a usage error; else 0: every case that counts passed.\n"
            "With --fuzz/--replay: 0 no failure, 1 a failure found (or replayed), 2 usage\n"
            "error or target not testable, 3 replay file unreadable or malformed.\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "echo-conform: <message> (see --help)" and returns the usage exit status. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see --help)\n");
    return 2;
}

static int parse_seconds(const char *s, long long *ms)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || v <= 0 || v > 86400)
        return -1;
    *ms = (long long)(v * 1000.0 + 0.5);
    if (*ms < 1)
        *ms = 1;
    return 0;
}

static int parse_format(const char *s)
{
    static const char *const names[] = {"text", "tap", "junit", "json", "markdown"};

    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    if (strcmp(s, "md") == 0)
        return CR_MARKDOWN;
    return -1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    enum { O_ONLY = 256, O_SKIP, O_TIMEOUT, O_MAXTIME, O_STRICT, O_SEED, O_EXPECT, O_ECHOD,
           O_COLOR, O_NOCOLOR, O_FUZZ, O_REPLAY, O_COUNT, O_ACTIONS, O_MAXWRITE, O_RATE,
           O_RETRIES, O_SHRINKT, O_SHRINKR, O_SAVE, O_DRY, O_LOSS };
    static const struct option lo[] = {
        {"transport", required_argument, NULL, 't'}, {"list", no_argument, NULL, 'l'},
        {"only", required_argument, NULL, O_ONLY},   {"skip", required_argument, NULL, O_SKIP},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"max-time", required_argument, NULL, O_MAXTIME},
        {"strict", no_argument, NULL, O_STRICT},     {"seed", required_argument, NULL, O_SEED},
        {"format", required_argument, NULL, 'f'},    {"output", required_argument, NULL, 'o'},
        {"expect", required_argument, NULL, O_EXPECT},
        {"echod", required_argument, NULL, O_ECHOD}, {"color", no_argument, NULL, O_COLOR},
        {"colour", no_argument, NULL, O_COLOR},      {"no-color", no_argument, NULL, O_NOCOLOR},
        {"quiet", no_argument, NULL, 'q'},           {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},            {"version", no_argument, NULL, 'V'},
        {"fuzz", no_argument, NULL, O_FUZZ},         {"replay", required_argument, NULL, O_REPLAY},
        {"count", required_argument, NULL, O_COUNT}, {"actions", required_argument, NULL, O_ACTIONS},
        {"max-write", required_argument, NULL, O_MAXWRITE},
        {"rate", required_argument, NULL, O_RATE},
        {"udp-retries", required_argument, NULL, O_RETRIES},
        {"shrink-time", required_argument, NULL, O_SHRINKT},
        {"shrink-runs", required_argument, NULL, O_SHRINKR},
        {"save", required_argument, NULL, O_SAVE},   {"dry-run", no_argument, NULL, O_DRY},
        {"allow-loss", no_argument, NULL, O_LOSS},
        {NULL, 0, NULL, 0},
    };
    long long ms;
    int c;

    memset(o, 0, sizeof *o);
    o->tcp = o->udp = 1;
    o->timeout_ms = 3000;
    o->max_time_ms = 1200000;
    o->color = -1;
    o->z.count = 100;
    o->z.rate = 500;
    o->z.udp_retries = 3;
    o->z.shrink_ms = 60000;
    o->z.shrink_runs = 500;
    fq_gen_default(&o->z.gen);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:46lf:o:qvhV", lo, NULL)) != -1) {
        switch (c) {
        case 't':
            if (strcmp(optarg, "tcp") == 0)
                o->tcp = 1, o->udp = 0;
            else if (strcmp(optarg, "udp") == 0)
                o->tcp = 0, o->udp = 1;
            else if (strcmp(optarg, "both") == 0)
                o->tcp = o->udp = 1;
            else
                return usage_error("bad --transport '%s': tcp, udp or both", optarg);
            break;
        case '4': o->family = NS_FAMILY_V4; break;
        case '6': o->family = NS_FAMILY_V6; break;
        case 'l': o->list = 1; break;
        case O_ONLY:
        case O_SKIP:
            if ((c == O_ONLY ? o->n_only : o->n_skip) == MAX_GLOBS)
                return usage_error("too many --only/--skip globs");
            if (c == O_ONLY)
                o->only[o->n_only++] = optarg;
            else
                o->skip[o->n_skip++] = optarg;
            break;
        case O_TIMEOUT:
            if (parse_seconds(optarg, &ms) < 0 || ms > INT_MAX / 20)
                return usage_error("bad --timeout '%s': a number of seconds", optarg);
            o->timeout_ms = (int)ms;
            break;
        case O_MAXTIME:
            if (parse_seconds(optarg, &ms) < 0)
                return usage_error("bad --max-time '%s': a number of seconds", optarg);
            o->max_time_ms = ms;
            o->have_max_time = 1;
            break;
        case O_STRICT: o->strict = 1; break;
        case O_SEED: {
            char *end;
            errno = 0;
            o->seed = strtoull(optarg, &end, 0);
            if (errno || end == optarg || *end || optarg[0] == '-')
                return usage_error("bad --seed '%s': a number", optarg);
            o->have_seed = 1;
            break;
        }
        case 'f':
            o->format = parse_format(optarg);
            if (o->format < 0)
                return usage_error("bad --format '%s': text, tap, junit, json or markdown",
                                   optarg);
            break;
        case 'o': o->output = optarg; break;
        case O_EXPECT: o->expect = optarg; break;
        case O_ECHOD: o->echod = optarg; break;
        case O_FUZZ: o->fuzz = 1; break;
        case O_REPLAY: o->z.replay = optarg; break;
        case O_SAVE: o->z.save = optarg; break;
        case O_DRY: o->z.dry_run = 1; break;
        case O_LOSS: o->z.allow_loss = 1; break;
        case O_COUNT:
        case O_ACTIONS:
        case O_MAXWRITE:
        case O_RETRIES:
        case O_SHRINKR: {
            static const struct { int opt; const char *name; unsigned long lo, hi; } lim[] = {
                {O_COUNT, "--count", 1, 100000000}, {O_ACTIONS, "--actions", 1, FQ_MAX_ACTIONS},
                {O_MAXWRITE, "--max-write", 1, FQ_MAX_WRITE}, {O_RETRIES, "--udp-retries", 0, 10},
                {O_SHRINKR, "--shrink-runs", 0, 1000000}};
            unsigned long v;
            char *end;
            size_t k = 0;
            while (lim[k].opt != c)
                k++;
            errno = 0;
            v = strtoul(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-' || v < lim[k].lo ||
                v > lim[k].hi)
                return usage_error("bad %s '%s': a whole number from %lu to %lu", lim[k].name,
                                   optarg, lim[k].lo, lim[k].hi);
            if (c == O_COUNT)
                o->z.count = v, o->have_count = 1;
            else if (c == O_ACTIONS)
                o->z.gen.max_actions = v;
            else if (c == O_MAXWRITE)
                o->z.gen.max_write = (uint32_t)v;
            else if (c == O_RETRIES)
                o->z.udp_retries = (int)v;
            else
                o->z.shrink_runs = (unsigned)v;
            break;
        }
        case O_RATE: {
            char *end;
            errno = 0;
            o->z.rate = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(o->z.rate >= 0) || o->z.rate > 1e6)
                return usage_error("bad --rate '%s': actions per second, 0 for no limit",
                                   optarg);
            break;
        }
        case O_SHRINKT:
            if (parse_seconds(optarg, &ms) < 0)
                return usage_error("bad --shrink-time '%s': a number of seconds", optarg);
            o->z.shrink_ms = ms;
            break;
        case O_COLOR: o->color = 1; break;
        case O_NOCOLOR: o->color = 0; break;
        case 'q': o->quiet = 1; break;
        case 'v': o->verbose = 1; break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf("echo-conform %s\n", EH_VERSION); exit(0);
        case ':': return usage_error("option '%s' needs an argument", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (o->format == CR_MARKDOWN && !o->list)
        return usage_error("--format markdown is for --list only");
    if (o->fuzz && o->z.replay)
        return usage_error("--fuzz and --replay exclude each other");
    if ((o->fuzz || o->z.replay) && o->format == CR_JUNIT)
        return usage_error("--fuzz and --replay report as text, tap or json");
    if (!o->fuzz && !o->z.replay && (o->z.dry_run || o->z.save || o->z.allow_loss))
        return usage_error("--dry-run, --save and --allow-loss go with --fuzz or --replay");
    return 0;
}

static int selected(const struct opts *o, const struct cc_case *c)
{
    int keep = o->n_only == 0;

    if ((c->transport == CC_TCP && !o->tcp) || (c->transport == CC_UDP && !o->udp))
        return 0;
    for (size_t i = 0; i < o->n_only; i++)
        if (fnmatch(o->only[i], c->id, 0) == 0)
            keep = 1;
    for (size_t i = 0; i < o->n_skip; i++)
        if (fnmatch(o->skip[i], c->id, 0) == 0)
            keep = 0;
    return keep;
}

/* ---- Targets -------------------------------------------------------------------------- */

/* Every address a target name resolved to, so the preflight can try each in turn. */
struct addrs {
    struct ea_addr a[8];
    size_t n;
};

static int resolve_target(const struct opts *o, const char *text, struct ct_target *t,
                          struct addrs *all)
{
    struct ea_endpoint ep;
    struct ea_addr *a = all->a;
    size_t n = 0;
    int rc = ea_parse(text, strlen(text), 0, &ep);

    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", text);
    if (rc < 0) {
        fprintf(stderr, "%s: bad target '%s': %s (HOST:PORT or [V6ADDR]:PORT)\n", prog, text,
                eh_strerror(rc));
        return -1;
    }
    rc = ns_resolve(&ep, o->family, 0, 0, a, 8, &n);
    all->n = rc == 0 ? n : 0;
    if (rc < 0) {
        fprintf(stderr, "%s: cannot resolve '%s': %s\n", prog, text,
                rc == -EAFNOSUPPORT ? "no address of the requested family" : ns_strerror(rc));
        return -1;
    }
    if (o->tcp)
        t->tcp = a[0];
    if (o->udp)
        t->udp = a[0];
    return 0;
}

/* Checks that the target can be tested at all. With TCP, a name that resolved to several
 * addresses is tested at the first one that accepts a connection. Returns 0, or fills err. */
static int preflight(const struct opts *o, struct cr_target *t, const struct addrs *all)
{
    char a[EA_FORMAT_MAX];
    int fd, rc;

    if (o->tcp) {
        rc = ns_connect(&t->t.tcp, SOCK_STREAM, NULL, o->timeout_ms, &fd);
        for (size_t i = 1; rc < 0 && all && i < all->n; i++) {
            if (ns_connect(&all->a[i], SOCK_STREAM, NULL, o->timeout_ms, &fd) == 0) {
                t->t.tcp = all->a[i];
                if (o->udp)
                    t->t.udp = all->a[i];
                rc = 0;
            }
        }
        if (rc < 0) {
            snprintf(t->error, sizeof t->error, "cannot connect to %s: %s",
                     ns_format(&t->t.tcp, a, sizeof a), ns_strerror(rc));
            return -1;
        }
        close(fd);
        return 0;
    }
    /* UDP only: an ICMP port unreachable means there is nothing to test. */
    rc = ns_connect(&t->t.udp, SOCK_DGRAM, NULL, o->timeout_ms, &fd);
    if (rc == 0) {
        static const char probe[] = "echo-conform preflight";
        char buf[64];
        for (int i = 0; i < 2 && rc == 0; i++) {
            if (send(fd, probe, sizeof probe - 1, 0) < 0 && errno == ECONNREFUSED)
                rc = -ECONNREFUSED;
            if (rc == 0 && ns_wait(fd, POLLIN, 200) > 0) {
                if (recv(fd, buf, sizeof buf, 0) < 0 && errno == ECONNREFUSED)
                    rc = -ECONNREFUSED;
                else {
                    t->udp_probe_answered = 1;
                    break;
                }
            }
        }
        close(fd);
    }
    if (rc < 0) {
        snprintf(t->error, sizeof t->error, "no UDP echo service at %s: %s",
                 ns_format(&t->t.udp, a, sizeof a),
                 rc == -ECONNREFUSED ? "ICMP port unreachable" : ns_strerror(rc));
        return -1;
    }
    return 0;
}

/* ---- The run -------------------------------------------------------------------------- */

static void run_case(const struct opts *o, struct cr_run *r, struct cr_target *t,
                     struct ct_session *s, const struct cc_case *c, struct cx_list *ex,
                     struct ct_ctx *x)
{
    ct_run_fn fn = ct_runner(c->id);

    ct_begin(x, &t->t, c, s, r->seed, o->timeout_ms);
    x->verbose = o->verbose;
    if (ct_now_ms() >= s->run_deadline_ms) {
        s->cut_short = 1;
        ct_skip(x, "not run: the run's time limit (%g s) ran out", o->max_time_ms / 1000.0);
    } else if (!fn) {
        ct_fail(x, "internal: no runner for this case");
    } else if (c->transport == CC_TCP && s->tcp_dead && strcmp(c->id, "tcp.connect") != 0 &&
               strcmp(c->id, "tcp.unsolicited.banner") != 0) {
        ct_fail(x, "not attempted: the server echoed nothing in tcp.roundtrip.single");
    } else if (c->transport == CC_UDP && s->udp_dead && strcmp(c->id, "udp.loop.port7") != 0) {
        ct_fail(x, "not attempted: %s", s->udp_why);
    } else {
        fn(x);
        /* The run's cap ends every wait of a case still running: a failure first seen then is
         * the cap's doing, not the server's, and a pass may rest on shortened waits. Such a
         * case was not run to the end; only a failure seen before the cap stands. */
        if (ct_now_ms() >= s->run_deadline_ms && x->status != CT_SKIP &&
            !(x->status == CT_FAIL && x->fail_ms < s->run_deadline_ms)) {
            s->cut_short = 1;
            ct_skip(x, "not run: the run's time limit (%g s) ran out",
                    o->max_time_ms / 1000.0);
        }
    }
    ct_end(x);
    if (ex && cx_match(ex, c->id, &t->t)) {
        if (x->status == CT_FAIL)
            x->status = CT_XFAIL;
        else if (x->status == CT_PASS)
            x->status = CT_XPASS;
    }
}

/* --fuzz and --replay: one target (or the built-in echod), checked reachable, then
 * conform/fuzz_run.c does the run. */
static int fuzz_main(struct opts *o, int argc, char **argv)
{
    struct cr_target t;
    struct addrs all;
    pid_t echod = -1;
    int rc;
    FILE *out = stdout;

    memset(&t, 0, sizeof t);
    memset(&all, 0, sizeof all);
    if (!o->have_seed)
        o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    o->z.seed = o->seed;
    o->z.timeout_ms = o->timeout_ms;
    o->z.max_time_ms = o->have_max_time ? o->max_time_ms : 60000;
    o->z.format = o->format == CR_TAP ? CZ_TAP : o->format == CR_JSON ? CZ_JSON : CZ_TEXT;
    o->z.verbose = o->verbose;
    o->z.quiet = o->quiet;
    o->z.version = EH_VERSION;
    o->z.gen.tcp = o->tcp;
    o->z.gen.udp = o->udp;
    if (o->z.replay) {
        /* The file says which transports it uses: only those need a server. */
        static struct fq_seq seq;
        rc = cz_load(o->z.replay, &seq);
        if (rc)
            return rc;
        o->z.replay_seq = &seq;
        if (!o->have_count)
            o->z.count = 1;
        o->tcp = o->udp = 0;
        for (size_t i = 0; i < seq.count; i++) {
            o->udp |= seq.a[i].op == FQ_SEND;
            o->tcp |= seq.a[i].op != FQ_SEND && seq.a[i].op != FQ_PAUSE;
        }
        if (!o->tcp && !o->udp)
            o->tcp = 1;
    }
    if (o->z.dry_run) {
        o->z.out = stdout;
        return cz_run(&o->z, &t.t);
    }
    if (argc - optind > 1)
        return usage_error("--fuzz and --replay take one target");
    if (optind == argc) {
        struct em_opts eo = {prog, o->echod, o->family == NS_FAMILY_V6, o->tcp, o->udp,
                             o->verbose, NULL};
        snprintf(t.t.name, sizeof t.t.name, "echod");
        if (em_start(&eo, &t.t.tcp, &t.t.udp, &echod) < 0)
            return 2;
    } else if (resolve_target(o, argv[optind], &t.t, &all) < 0) {
        return 2;
    }
    if (preflight(o, &t, echod > 0 ? NULL : &all) < 0) {
        fprintf(stderr, "%s: %s\n", prog, t.error);
        rc = 2;
        goto done;
    }
    if (o->output) {
        out = fopen(o->output, "w");
        if (!out) {
            fprintf(stderr, "%s: cannot write %s: %s\n", prog, o->output, strerror(errno));
            rc = 2;
            goto done;
        }
    }
    o->z.out = out;
    rc = cz_run(&o->z, &t.t);
    if (out != stdout)
        fclose(out);
done:
    if (echod > 0)
        em_stop(echod);
    return rc;
}

int main(int argc, char **argv)
{
    static struct cx_list expect;
    struct opts o;
    struct cr_run run;
    struct cr_target *ts = NULL;
    struct addrs *addrs = NULL;
    size_t nt = 0, ncat;
    const struct cc_case *cat = cc_catalog(&ncat);
    pid_t echod = -1;
    int rc, exit_status = 0, failed = 0, incomplete = 0;
    FILE *out = stdout;

    signal(SIGPIPE, SIG_IGN);
    rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc;
    if (o.list) {
        cr_list(stdout, o.format);
        return 0;
    }
    if (o.fuzz || o.z.replay)
        return fuzz_main(&o, argc, argv);
    {
        /* Test (and require) only the transports that selected cases use. */
        int tcp = 0, udp = 0;
        for (size_t k = 0; k < ncat; k++)
            if (selected(&o, &cat[k])) {
                tcp |= cat[k].transport == CC_TCP;
                udp |= cat[k].transport == CC_UDP;
            }
        if (!tcp && !udp) {
            fprintf(stderr, "%s: no case selected (see --list)\n", prog);
            return 2;
        }
        o.tcp = tcp;
        o.udp = udp;
    }
    if (o.expect) {
        unsigned bad = 0;
        rc = cx_load(&expect, o.expect, &bad);
        if (rc == -EINVAL) {
            fprintf(stderr, "%s: %s:%u: expected '<case-id-glob> [target]'\n", prog, o.expect,
                    bad);
            return 2;
        }
        if (rc < 0) {
            fprintf(stderr, "%s: cannot read %s: %s\n", prog, o.expect, strerror(-rc));
            return 2;
        }
    }
    if (argc - optind > MAX_TARGETS) {
        fprintf(stderr, "%s: too many targets (at most %d)\n", prog, MAX_TARGETS);
        return 2;
    }
    ts = calloc((size_t)(argc - optind > 0 ? argc - optind : 1), sizeof *ts);
    addrs = calloc((size_t)(argc - optind > 0 ? argc - optind : 1), sizeof *addrs);
    if (!ts || !addrs) {
        fprintf(stderr, "%s: out of memory\n", prog);
        free(ts);
        free(addrs);
        return 2;
    }
    if (optind == argc) {
        struct em_opts eo = {prog, o.echod, o.family == NS_FAMILY_V6, o.tcp, o.udp, o.verbose,
                             NULL};
        snprintf(ts[0].t.name, sizeof ts[0].t.name, "echod");
        if (em_start(&eo, &ts[0].t.tcp, &ts[0].t.udp, &echod) < 0) {
            free(ts);
            free(addrs);
            return 2;
        }
        nt = 1;
    }
    for (int i = optind; i < argc; i++, nt++)
        if (resolve_target(&o, argv[i], &ts[nt].t, &addrs[nt]) < 0) {
            free(ts);
            free(addrs);
            return 2;
        }
    if (!o.have_seed)
        o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    if (o.output) {
        out = fopen(o.output, "w");
        if (!out) {
            fprintf(stderr, "%s: cannot write %s: %s\n", prog, o.output, strerror(errno));
            exit_status = 2;
            goto done;
        }
    }
    memset(&run, 0, sizeof run);
    run.out = out;
    run.format = o.format;
    run.color = o.color >= 0 ? o.color
                             : (!o.output && o.format == CR_TEXT && isatty(1) && !getenv("NO_COLOR"));
    run.quiet = o.quiet;
    run.verbose = o.verbose;
    run.strict = o.strict;
    run.seed = o.seed;
    run.timeout_ms = o.timeout_ms;
    run.version = EH_VERSION;
    run.start_ms = ct_now_ms();
    cr_begin(&run);
    for (size_t i = 0; i < nt; i++) {
        struct cr_target *t = &ts[i];
        struct ct_session s;
        memset(&s, 0, sizeof s);
        s.run_deadline_ms = run.start_ms + o.max_time_ms;

        t->cases = calloc(ncat, sizeof *t->cases);
        if (!t->cases) {
            fprintf(stderr, "%s: out of memory\n", prog);
            exit_status = 2;
            goto done;
        }
        rc = preflight(&o, t, &addrs[i]);
        if (t->udp_probe_answered) {
            s.udp_answered = 1;
            s.udp_last_ok = "the preflight probe";
        }
        cr_target_begin(&run, t);
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", prog, t->error);
            incomplete = 1;
            cr_target_end(&run, t);
            continue;
        }
        for (size_t k = 0; k < ncat; k++) {
            struct ct_ctx *x = &t->cases[t->n];
            if (!selected(&o, &cat[k]))
                continue;
            run_case(&o, &run, t, &s, &cat[k], o.expect ? &expect : NULL, x);
            t->n++;
            cr_case(&run, t, x);
            if (cr_case_fails(&run, x))
                failed = 1;
        }
        if (s.cut_short)
            incomplete = 1;
        cr_target_end(&run, t);
    }
    /* A real failure outranks an incomplete run: what failed, failed, whatever was not run. */
    exit_status = failed ? 1 : incomplete ? 2 : 0;
    cr_end(&run, ts, nt, exit_status);
done:
    if (out && out != stdout)
        fclose(out);
    if (echod > 0)
        em_stop(echod);
    for (size_t i = 0; i < nt; i++)
        free(ts[i].cases);
    free(ts);
    free(addrs);
    return exit_status;
}
