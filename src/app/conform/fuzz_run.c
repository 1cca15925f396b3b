/*
 * fuzz_run.c - echo-conform --fuzz and --replay: the run loop over generated sequences, the
 * shrinking of the first failing one (core/ddmin.h driven against the live server, bounded in
 * runs and time), the reproducer file (core/fuzzfile.h) and the reports.
 *
 * The run stops at the first failure: it is shrunk, confirmed once more and saved. A shrunk
 * candidate counts as failing only when it fails the same way (the same enum cz_kind), so
 * shrinking cannot drift from one defect to another (a missing reply, say, to a timeout).
 */
#define _GNU_SOURCE
#include "conform/fuzz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/ddmin.h"
#include "core/fuzzfile.h"
#include "core/verdict.h"
#include "net/sock.h"

#define MAX_FILE (1 << 20) /* a reproducer is a few KiB; refuse anything absurd */

static const char *prog = "echo-conform";

static void print_seq(FILE *f, const struct fq_seq *s, const char *indent)
{
    char a[64];

    for (size_t i = 0; i < s->count; i++)
        fprintf(f, "%s%s\n", indent, cz_action_text(&s->a[i], a, sizeof a));
}

static void target_line(const struct cz_opts *o, const struct ct_target *t)
{
    char a[EA_FORMAT_MAX], b[EA_FORMAT_MAX];

    fprintf(o->out, "%starget %s (tcp %s, udp %s)\n", o->format == CZ_TAP ? "# " : "", t->name,
            t->tcp.family ? ns_format(&t->tcp, a, sizeof a) : "-",
            t->udp.family ? ns_format(&t->udp, b, sizeof b) : "-");
}

/* "connection 0: ... (action 3 of 12: write 0 1500)" */
static void failure_line(const char *pre, const struct fq_seq *s, const struct cz_result *r,
                         char *buf, size_t size)
{
    char a[64];

    if (r->action < s->count)
        snprintf(buf, size, "%s%s (during action %zu of %zu: %s)", pre, r->msg, r->action + 1,
                 s->count, cz_action_text(&s->a[r->action], a, sizeof a));
    else
        snprintf(buf, size, "%s%s (at the end, after %zu action%s)", pre, r->msg, s->count,
                 cv_plural(s->count));
}

/* Reads a whole (small) file. Returns 0, or -errno (-EFBIG when over MAX_FILE). */
static int read_file(const char *path, char **text, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t got;

    if (!f)
        return -errno;
    buf = malloc(MAX_FILE + 1);
    if (!buf) {
        fclose(f);
        return -ENOMEM;
    }
    got = fread(buf, 1, MAX_FILE + 1, f);
    if (ferror(f)) {
        int e = errno ? -errno : -EIO;
        fclose(f);
        free(buf);
        return e;
    }
    fclose(f);
    if (got > MAX_FILE) {
        free(buf);
        return -EFBIG;
    }
    *text = buf;
    *n = got;
    return 0;
}

static int save_file(const char *path, const struct fq_seq *s, const char *why,
                     const struct cz_opts *o, const struct ct_target *t, unsigned long seq_no,
                     size_t from_count, const char *confirm)
{
    char body[FF_FORMAT_MAX];
    size_t len;
    FILE *f;
    int rc = ff_format(s, body, sizeof body, &len);

    if (rc < 0)
        return -EINVAL;
    f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f, "# echo-conform --fuzz reproducer (echo-conform %s). Replay with\n", o->version);
    fprintf(f, "#   echo-conform --replay %s [TARGET]\n", path);
    fprintf(f, "# found against %s, run seed 0x%016llx, sequence %lu\n", t->name,
            (unsigned long long)o->seed, seq_no);
    fprintf(f, "# failure: %s\n", why);
    fprintf(f, "# shrunk from %zu to %zu actions; %s\n", from_count, s->count, confirm);
    fwrite(body, 1, len, f);
    if (fclose(f) != 0)
        return -errno;
    return 0;
}

/* Shrinks s (which failed with kind) against t. Returns the number of runs; *best gets the
 * result. */
static size_t shrink(const struct cz_opts *o, const struct ct_target *t, struct cz_limits *l,
                     const struct fq_seq *s, int kind, struct fq_seq *best, long long *ms)
{
    struct dd_state *d = malloc(sizeof *d);
    long long start = ct_now_ms(), end = start + o->shrink_ms;
    const struct fq_seq *c;
    size_t runs = 0;

    if (!d) {
        *best = *s;
        *ms = 0;
        return 0;
    }
    dd_init(d, s);
    l->deadline_ms = end;
    while (runs < o->shrink_runs && ct_now_ms() < end && (c = dd_next(d)) != NULL) {
        struct cz_result r;
        cz_exec(t, c, l, &r);
        runs++;
        if (r.kind == CZ_CUT)
            break;
        if (o->verbose)
            fprintf(o->out, "%s  shrink run %zu: %zu actions: %s\n",
                    o->format == CZ_TAP ? "#" : "", runs, c->count,
                    r.kind == kind ? "fails the same way, kept" : cz_kind_name(r.kind));
        dd_result(d, r.kind == kind);
    }
    *best = *dd_best(d);
    *ms = ct_now_ms() - start;
    free(d);
    return runs;
}

/* The failure found in sequence seq_no: shrink, confirm, save, report. */
static void on_failure(const struct cz_opts *o, const struct ct_target *t, struct cz_limits *l,
                       const struct fq_seq *s, const struct cz_result *r, unsigned long seq_no)
{
    static struct fq_seq best;
    struct cz_result again;
    char line[700], path[300], confirm[120];
    const char *pre = o->format == CZ_TAP ? "# " : "";
    long long ms = 0;
    size_t runs = 0;
    int rc;

    best = *s;
    if (o->shrink_runs > 0)
        runs = shrink(o, t, l, s, r->kind, &best, &ms);
    fprintf(o->out, "%sshrunk: %zu actions -> %zu in %zu run%s, %.1f s\n", pre, s->count,
            best.count, runs, cv_plural(runs), ms / 1000.0);
    /* The reproducer is run once more as saved: a flaky failure says so. */
    l->deadline_ms = ct_now_ms() + (long long)o->timeout_ms * 4 + 10000;
    cz_exec(t, &best, l, &again);
    if (again.kind == r->kind)
        snprintf(confirm, sizeof confirm, "it failed the same way when run again");
    else
        snprintf(confirm, sizeof confirm, "run again it gave '%s': the failure is flaky",
                 cz_kind_name(again.kind));
    fprintf(o->out, "%sminimal reproducer (%s):\n", pre, cz_kind_name(r->kind));
    print_seq(o->out, &best, o->format == CZ_TAP ? "#   " : "  ");
    if (again.kind != CZ_PASS) {
        failure_line("", &best, &again, line, sizeof line);
        fprintf(o->out, "%s  -> %s\n", pre, line);
    }
    fprintf(o->out, "%sconfirm: %s\n", pre, confirm);
    if (o->save)
        snprintf(path, sizeof path, "%s", o->save);
    else
        snprintf(path, sizeof path, "echofuzz-%016llx.txt", (unsigned long long)best.seed);
    failure_line("", s, r, line, sizeof line);
    rc = save_file(path, &best, line, o, t, seq_no, s->count, confirm);
    if (rc < 0)
        fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(-rc));
    else
        fprintf(o->out, "%ssaved: %s (replay: echo-conform --replay %s%s%s)\n", pre, path,
                path, strcmp(t->name, "echod") == 0 ? "" : " ", strcmp(t->name, "echod") == 0
                ? "" : t->name);
}

static int replay(const struct cz_opts *o, const struct ct_target *t, struct cz_limits *l)
{
    static struct fq_seq s;
    struct ff_error e;
    struct cz_result r;
    char *text = NULL, line[700];
    size_t n = 0;
    int rc = read_file(o->replay, &text, &n);

    if (rc < 0) {
        fprintf(stderr, "%s: cannot read %s: %s\n", prog, o->replay,
                rc == -EFBIG ? "larger than 1 MiB: not a reproducer" : strerror(-rc));
        return CZ_EXIT_BADFILE;
    }
    rc = ff_parse(text, n, &s, &e);
    free(text);
    if (rc < 0) {
        fprintf(stderr, "%s: %s:%u: %s\n", prog, o->replay, e.line, ff_strerror(e.code));
        return CZ_EXIT_BADFILE;
    }
    if (o->format == CZ_TAP)
        fprintf(o->out, "TAP version 13\n1..1\n");
    target_line(o, t);
    cz_exec(t, &s, l, &r);
    if (r.kind == CZ_LOCAL || r.kind == CZ_CUT) {
        fprintf(stderr, "%s: %s: %s\n", prog, o->replay, r.msg);
        return CZ_EXIT_USAGE;
    }
    failure_line("", &s, &r, line, sizeof line);
    if (o->format == CZ_TAP)
        fprintf(o->out, "%s 1 - replay %s (seed 0x%016llx, %zu actions)\n",
                r.kind == CZ_PASS ? "ok" : "not ok", o->replay, (unsigned long long)s.seed,
                s.count);
    if (r.kind == CZ_PASS) {
        if (o->format == CZ_TEXT)
            fprintf(o->out, "PASS replay %s: %zu actions, %llu bytes echoed, %llu datagram%s "
                    "answered, %.1f s\n", o->replay, s.count, (unsigned long long)r.tcp_bytes,
                    (unsigned long long)r.dgrams, cv_plural(r.dgrams), r.ms / 1000.0);
        return CZ_EXIT_PASS;
    }
    fprintf(o->out, "%sFAIL replay %s (%s): %s\n", o->format == CZ_TAP ? "# " : "", o->replay,
            cz_kind_name(r.kind), line);
    return CZ_EXIT_FAIL;
}

int cz_run(const struct cz_opts *o, const struct ct_target *t)
{
    static struct fq_seq s;
    struct cz_pacer pacer = {o->rate, 0};
    struct cz_limits l = {o->timeout_ms, o->udp_retries, 0, &pacer};
    long long start = ct_now_ms(), end = start + o->max_time_ms;
    unsigned long i, passed = 0;
    unsigned long long actions = 0, bytes = 0, dgrams = 0;
    const char *pre = o->format == CZ_TAP ? "# " : "";
    int status = CZ_EXIT_PASS;

    if (o->dry_run) {
        for (i = 0; i < o->count; i++) {
            char body[FF_FORMAT_MAX];
            if (fq_generate(&s, cv_seed_derive(o->seed, i), &o->gen) < 0 ||
                ff_format(&s, body, sizeof body, NULL) < 0) {
                fprintf(stderr, "%s: cannot generate sequence %lu\n", prog, i + 1);
                return CZ_EXIT_USAGE;
            }
            fprintf(o->out, "# sequence %lu of run seed 0x%016llx\n%s", i + 1,
                    (unsigned long long)o->seed, body);
        }
        return CZ_EXIT_PASS;
    }
    l.deadline_ms = end;
    if (o->replay)
        return replay(o, t, &l);
    if (o->format == CZ_TAP)
        fprintf(o->out, "TAP version 13\n");
    else
        fprintf(o->out, "echo-conform %s --fuzz\n", o->version);
    target_line(o, t);
    fprintf(o->out, "%sseed 0x%016llx, up to %lu sequence%s of up to %zu actions, %g s at "
            "most, ", pre, (unsigned long long)o->seed, o->count, cv_plural(o->count),
            o->gen.max_actions, o->max_time_ms / 1000.0);
    if (o->rate > 0)
        fprintf(o->out, "at most %g actions/s, ", o->rate);
    fprintf(o->out, "timeout %g s, %d UDP retr%s\n", o->timeout_ms / 1000.0, o->udp_retries,
            o->udp_retries == 1 ? "y" : "ies");
    fflush(o->out);
    for (i = 0; i < o->count; i++) {
        struct cz_result r;
        uint64_t seed = cv_seed_derive(o->seed, i);
        char line[700];

        if (ct_now_ms() >= end)
            break;
        fq_generate(&s, seed, &o->gen);
        cz_exec(t, &s, &l, &r);
        if (r.kind == CZ_CUT)
            break;
        if (r.kind == CZ_LOCAL) {
            fprintf(stderr, "%s: sequence %lu: %s\n", prog, i + 1, r.msg);
            status = CZ_EXIT_USAGE;
            break;
        }
        actions += r.done;
        bytes += r.tcp_bytes;
        dgrams += r.dgrams;
        if (r.kind == CZ_PASS) {
            passed++;
            if (o->format == CZ_TAP)
                fprintf(o->out, "ok %lu - sequence %lu seed 0x%016llx (%zu actions)\n", i + 1,
                        i + 1, (unsigned long long)seed, s.count);
            else if (o->verbose)
                fprintf(o->out, "pass sequence %lu seed 0x%016llx: %zu actions, %llu bytes "
                        "echoed, %llu datagram%s, %.2f s\n", i + 1, (unsigned long long)seed,
                        s.count, (unsigned long long)r.tcp_bytes, (unsigned long long)r.dgrams,
                        cv_plural(r.dgrams), r.ms / 1000.0);
            fflush(o->out);
            continue;
        }
        failure_line("", &s, &r, line, sizeof line);
        if (o->format == CZ_TAP)
            fprintf(o->out, "not ok %lu - sequence %lu seed 0x%016llx (%s)\n# %s\n", i + 1,
                    i + 1, (unsigned long long)seed, cz_kind_name(r.kind), line);
        else
            fprintf(o->out, "FAIL sequence %lu seed 0x%016llx (%s): %s\n", i + 1,
                    (unsigned long long)seed, cz_kind_name(r.kind), line);
        fflush(o->out);
        on_failure(o, t, &l, &s, &r, i + 1);
        status = CZ_EXIT_FAIL;
        i++;
        break;
    }
    if (o->format == CZ_TAP)
        fprintf(o->out, "1..%lu\n", status == CZ_EXIT_FAIL ? passed + 1 : passed);
    fprintf(o->out, "%s%lu sequence%s run, %lu passed, %s; %llu actions, %llu bytes echoed, "
            "%llu datagram%s answered, %.1f s\n", pre, passed + (status == CZ_EXIT_FAIL),
            cv_plural(passed + (status == CZ_EXIT_FAIL)), passed,
            status == CZ_EXIT_FAIL ? "1 failed" : "none failed", actions, bytes, dgrams,
            cv_plural(dgrams), (ct_now_ms() - start) / 1000.0);
    if (status == CZ_EXIT_PASS && passed == 0) {
        fprintf(stderr, "%s: no sequence completed within --max-time\n", prog);
        status = CZ_EXIT_USAGE;
    }
    return status;
}
