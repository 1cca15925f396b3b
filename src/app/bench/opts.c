/*
 * opts.c - echo-bench's options (see opts.h and the --help text below, which README.md
 * repeats). Numbers are checked whole: "5x", "-1", "" and out-of-range values are refused
 * with the accepted range in the message. Numbers are decimal, as echod's are ("010" is ten;
 * "0x40", "0x10" seconds, a leading blank or sign, "inf" are refused); only --seed also takes
 * hex, written 0x....
 */
#include "bench/opts.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/congestion.h"

#ifndef EH_VERSION
#define EH_VERSION "0"
#endif

#define DEFAULT_SEED 862u

static void usage(FILE *f)
{
    fprintf(f,
            "usage: echo-bench [options] [HOST:PORT]\n"
            "Load generator for RFC 862 echo servers that checks every echoed byte.\n"
            "With no target, starts the built-in echod on an ephemeral loopback port and\n"
            "measures it.\n"
            "\n"
            "  -u, --udp             UDP datagrams (default TCP); -c gives the sockets\n"
            "  -c, --conns N         connections or sockets (default 1)\n"
            "  -s, --size BYTES      message size (default 64; --stream: 65536; UDP 0..65507)\n"
            "  -P, --pipeline N      messages in flight per connection (default 1)\n"
            "  -d, --duration SEC    measured time (default 5; decimals allowed)\n"
            "  -w, --warmup SEC      warm-up, not counted (default 1; 0 allowed)\n"
            "  -t, --threads N       worker threads, each with its own epoll loop (default 1)\n"
            "      --stream          streaming: writes of --size bytes, --window in flight\n"
            "      --window BYTES    most unechoed bytes in flight when streaming (default\n"
            "                        1048576); writes go once a quarter of it is free\n"
            "      --no-splice       streaming on epoll: copy each write with send() instead of\n"
            "                        passing the pattern's pages by reference (tee+splice;\n"
            "                        EH_BENCH_NO_TEE=1: vmsplice+splice)\n"
            "      --congestion NAME streaming: the connections' TCP congestion control\n"
            "                        (default: reno to a loopback target, where pacing has\n"
            "                        nothing to pace, else the system's; 'system': the system's)\n"
            "      --idle N          open N connections, print \"ready N\", hold them silent\n"
            "                        for --hold SEC (default 5), then check each still echoes\n"
            "      --hold SEC\n"
            "      --rate R          open loop: R messages/s in total, latency from each\n"
            "                        message's intended send time (no coordinated omission)\n"
            "      --engine E        epoll or uring; uring serves the closed loop (TCP, UDP)\n"
            "                        and --stream, --rate and --idle use epoll. Default: uring\n"
            "                        (when built with liburing and the kernel allows io_uring),\n"
            "                        but epoll for --stream (its sends splice, uring's copy) and\n"
            "                        for a closed loop with one connection or socket per thread\n"
            "                        (cheaper there); EH_BENCH_NO_URING=1 forces epoll\n"
            "      --seed N          payload seed, decimal or 0x... (default %u: runs are\n"
            "                        reproducible)\n"
            "      --timeout SEC     longest wait for a connect or an echo (default 5)\n"
            "      --echod PATH      the built-in server to start (default: echod next to\n"
            "                        echo-bench)\n"
            "      --json            one JSON line on stdout at the end\n"
            "  -q, --quiet           no progress line, no report on stdout (only --json)\n"
            "  -h, --help            this text\n"
            "  -V, --version         the version\n"
            "\n"
            "Exit status: 0 every echo verified; 1 verification failure (a wrong byte, a\n"
            "wrong or duplicated datagram, an early close, a stall, an idle connection not\n"
            "answering, connect errors, nothing echoed or measured); 2 usage error; 3 target\n"
            "unreachable or the built-in echod could not be started.\n",
            DEFAULT_SEED);
}

static int bad(const char *opt, const char *val, const char *why)
{
    fprintf(stderr, "echo-bench: bad %s '%s': %s\n", opt, val, why);
    return BO_EXIT_USAGE;
}

/* Whether s is all characters of set, and not empty. */
static int all_of(const char *s, const char *set)
{
    return *s && strspn(s, set) == strlen(s);
}

/* A decimal count, or with hex_ok also 0x followed by hex digits. strtoull alone would take
 * leading blanks, a sign, and octal or hex where base 0 is asked. */
static int parse_u64(const char *s, uint64_t lo, uint64_t hi, int hex_ok, uint64_t *out)
{
    char *end;
    unsigned long long v;
    int base = 10;

    if (hex_ok && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        base = 16;
        if (!all_of(s, "0123456789abcdefABCDEF"))
            return -1;
    } else if (!all_of(s, "0123456789")) {
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, base);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* A decimal number, a digit or a point first (strtod alone would take leading blanks, a
 * sign, hex floats such as 0x10, "inf" and "nan"). */
static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    if (!(isdigit((unsigned char)s[0]) || (s[0] == '.' && isdigit((unsigned char)s[1]))) ||
        !all_of(s, "0123456789.eE+-"))
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_sec(const char *s, double lo, double hi, uint64_t *ns)
{
    double v;

    if (parse_double(s, lo, hi, &v))
        return -1;
    *ns = (uint64_t)(v * 1e9 + 0.5);
    return 0;
}

int bo_parse(int argc, char **argv, struct bo_args *a)
{
    enum { O_STREAM = 256, O_WINDOW, O_IDLE, O_HOLD, O_RATE, O_SEED, O_TIMEOUT, O_JSON, O_ECHOD, O_ENGINE,
           O_NO_SPLICE, O_CONGESTION };
    static const struct option longopts[] = {
        {"udp", no_argument, NULL, 'u'},
        {"conns", required_argument, NULL, 'c'},
        {"size", required_argument, NULL, 's'},
        {"pipeline", required_argument, NULL, 'P'},
        {"duration", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, 'w'},
        {"threads", required_argument, NULL, 't'},
        {"stream", no_argument, NULL, O_STREAM},
        {"window", required_argument, NULL, O_WINDOW},
        {"no-splice", no_argument, NULL, O_NO_SPLICE},
        {"congestion", required_argument, NULL, O_CONGESTION},
        {"idle", required_argument, NULL, O_IDLE},
        {"hold", required_argument, NULL, O_HOLD},
        {"rate", required_argument, NULL, O_RATE},
        {"seed", required_argument, NULL, O_SEED},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"echod", required_argument, NULL, O_ECHOD},
        {"json", no_argument, NULL, O_JSON},
        {"engine", required_argument, NULL, O_ENGINE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct bb_cfg *c = &a->cfg;
    int opt, size_set = 0, conns_set = 0, pipeline_set = 0, window_set = 0, hold_set = 0;
    int stream = 0, idle = 0, rate = 0, no_splice = 0;
    uint64_t v;

    memset(a, 0, sizeof *a);
    c->conns = 1;
    c->threads = 1;
    c->pipeline = 1;
    c->size = 64;
    c->window = 1u << 20;
    c->duration_ns = 5000000000ull;
    c->warmup_ns = 1000000000ull;
    c->hold_ns = 5000000000ull;
    c->timeout_ns = 5000000000ull;
    c->seed = DEFAULT_SEED;
    c->engine = BB_URING;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":uc:s:P:d:w:t:qhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u':
            c->udp = 1;
            break;
        case 'c':
            if (parse_u64(optarg, 1, 1000000, 0, &v))
                return bad("--conns", optarg, "not a count (1..1000000)");
            c->conns = (uint32_t)v;
            conns_set = 1;
            break;
        case 's':
            if (parse_u64(optarg, 0, 64u << 20, 0, &v))
                return bad("--size", optarg, "not a size in bytes (0..67108864)");
            c->size = v;
            size_set = 1;
            break;
        case 'P':
            if (parse_u64(optarg, 1, 65536, 0, &v))
                return bad("--pipeline", optarg, "not a count (1..65536)");
            c->pipeline = (uint32_t)v;
            pipeline_set = 1;
            break;
        case 'd':
            if (parse_sec(optarg, 0.01, 86400, &c->duration_ns))
                return bad("--duration", optarg, "not a number of seconds (0.01..86400)");
            break;
        case 'w':
            if (parse_sec(optarg, 0, 3600, &c->warmup_ns))
                return bad("--warmup", optarg, "not a number of seconds (0..3600)");
            break;
        case 't':
            if (parse_u64(optarg, 1, 256, 0, &v))
                return bad("--threads", optarg, "not a count (1..256)");
            c->threads = (uint32_t)v;
            break;
        case O_STREAM:
            stream = 1;
            break;
        case O_WINDOW:
            if (parse_u64(optarg, 1, 1u << 30, 0, &v))
                return bad("--window", optarg, "not a size in bytes (1..1073741824)");
            c->window = v;
            window_set = 1;
            break;
        case O_NO_SPLICE:
            c->no_splice = 1;
            no_splice = 1;
            break;
        case O_CONGESTION:
            if (!cg_name_ok(optarg))
                return bad("--congestion", optarg, "not a congestion control name");
            c->cc = optarg;
            break;
        case O_IDLE:
            if (parse_u64(optarg, 1, 1000000, 0, &v))
                return bad("--idle", optarg, "not a count of connections (1..1000000)");
            c->conns = (uint32_t)v;
            idle = 1;
            break;
        case O_HOLD:
            if (parse_sec(optarg, 0, 86400, &c->hold_ns))
                return bad("--hold", optarg, "not a number of seconds (0..86400)");
            hold_set = 1;
            break;
        case O_RATE:
            if (parse_double(optarg, 0.001, 1e9, &c->rate))
                return bad("--rate", optarg, "not a rate in messages per second (0.001..1e9)");
            rate = 1;
            break;
        case O_SEED:
            if (parse_u64(optarg, 0, UINT64_MAX, 1, &v))
                return bad("--seed", optarg, "not an unsigned 64-bit number");
            c->seed = v;
            break;
        case O_TIMEOUT:
            if (parse_sec(optarg, 0.001, 3600, &c->timeout_ns))
                return bad("--timeout", optarg, "not a number of seconds (0.001..3600)");
            break;
        case O_ECHOD:
            a->echod = optarg;
            break;
        case O_ENGINE:
            if (strcmp(optarg, "epoll") == 0)
                c->engine = BB_EPOLL;
            else if (strcmp(optarg, "uring") == 0)
                c->engine = BB_URING;
            else
                return bad("--engine", optarg, "not an engine (epoll or uring)");
            c->engine_set = 1;
            break;
        case O_JSON:
            c->json = 1;
            break;
        case 'q':
            c->quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return -1;
        case 'V':
            printf("echo-bench %s\n", EH_VERSION);
            return -1;
        case ':':
            fprintf(stderr, "echo-bench: option '%s' needs an argument (see --help)\n",
                    argv[optind - 1]);
            return BO_EXIT_USAGE;
        default:
            fprintf(stderr, "echo-bench: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return BO_EXIT_USAGE;
        }
    }
    if (optind < argc - 1) {
        fprintf(stderr, "echo-bench: more than one target ('%s' and '%s'); give at most one "
                "HOST:PORT\n", argv[optind], argv[optind + 1]);
        return BO_EXIT_USAGE;
    }
    if (optind == argc - 1)
        a->target = argv[optind];
    if (stream + idle + rate > 1) {
        fprintf(stderr, "echo-bench: --stream, --idle and --rate are different modes; give one\n");
        return BO_EXIT_USAGE;
    }
    c->mode = stream ? BB_STREAM : idle ? BB_IDLE : rate ? BB_RATE : BB_CLOSED;
    if (c->udp && (stream || idle)) {
        fprintf(stderr, "echo-bench: --%s is for TCP only (not with --udp)\n",
                stream ? "stream" : "idle");
        return BO_EXIT_USAGE;
    }
    if (idle && conns_set) {
        fprintf(stderr, "echo-bench: --idle N gives the connections; leave out --conns\n");
        return BO_EXIT_USAGE;
    }
    if (window_set && !stream) {
        fprintf(stderr, "echo-bench: --window is for --stream only\n");
        return BO_EXIT_USAGE;
    }
    if (no_splice && !stream) {
        fprintf(stderr, "echo-bench: --no-splice is for --stream only\n");
        return BO_EXIT_USAGE;
    }
    if (c->cc && !stream) {
        fprintf(stderr, "echo-bench: --congestion is for --stream only\n");
        return BO_EXIT_USAGE;
    }
    if (hold_set && !idle) {
        fprintf(stderr, "echo-bench: --hold is for --idle only\n");
        return BO_EXIT_USAGE;
    }
    if (pipeline_set && c->mode != BB_CLOSED) {
        fprintf(stderr, "echo-bench: --pipeline is for the closed loop only (not with --stream, "
                "--idle or --rate)\n");
        return BO_EXIT_USAGE;
    }
    if (stream && !size_set)
        c->size = 65536;
    if (c->udp && c->size > 65507) {
        char b[32];
        snprintf(b, sizeof b, "%llu", (unsigned long long)c->size);
        return bad("--size", b, "a UDP datagram holds at most 65507 bytes");
    }
    if (!c->udp && c->size == 0) {
        return bad("--size", "0", "a TCP message needs at least 1 byte (0 is for UDP)");
    }
    if (c->mode == BB_CLOSED && c->size * c->pipeline > (64u << 20)) {
        char b[64];
        snprintf(b, sizeof b, "%llu x %u", (unsigned long long)c->size, c->pipeline);
        return bad("--size x --pipeline", b, "more than 64 MiB in flight per connection");
    }
    if (c->udp && c->pipeline > 1024) {
        char b[32];
        snprintf(b, sizeof b, "%u", c->pipeline);
        return bad("--pipeline", b, "UDP keeps at most 1024 datagrams in flight per socket");
    }
    if (c->threads > c->conns)
        c->threads = c->conns;
    c->progress = 0;
    return 0;
}
