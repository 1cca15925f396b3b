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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/ddmin.h"
#include "core/fuzzfile.h"
#include "core/verdict.h"
#include "net/sock.h"

#define MAX_FILE (1 << 20) /* a reproducer is a few KiB; refuse anything absurd */

static const char *prog = "echo-conform";

/* What the run found, for the reports. */
struct found {
    unsigned long seq_no;
    uint64_t seed;
    int kind;
    char msg[700];
    size_t from_count, runs;
    long long shrink_ms;
    struct fq_seq best;
    int again_kind;   /* the reproducer run once more */
    char again_msg[700];
    char path[300];
    int saved;
};

/* A report line for text and TAP (as a "# " comment); JSON collects instead. */
static void say(const struct cz_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const struct cz_opts *o, const char *fmt, ...)
{
    va_list ap;

    if (o->format == CZ_JSON)
        return;
    if (o->format == CZ_TAP)
        fputs("# ", o->out);
    va_start(ap, fmt);
    vfprintf(o->out, fmt, ap);
    va_end(ap);
    fflush(o->out);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_actions(FILE *f, const struct fq_seq *s)
{
    char a[64];

    fputc('[', f);
    for (size_t i = 0; i < s->count; i++) {
        fputs(i ? ", " : "", f);
        json_str(f, cz_action_text(&s->a[i], a, sizeof a));
    }
    fputc(']', f);
}

static void json_target(FILE *f, const struct ct_target *t)
{
    char a[EA_FORMAT_MAX], b[EA_FORMAT_MAX];

    fputs("{\"name\": ", f);
    json_str(f, t->name);
    fputs(", \"tcp\": ", f);
    json_str(f, t->tcp.family ? ns_format(&t->tcp, a, sizeof a) : "");
    fputs(", \"udp\": ", f);
    json_str(f, t->udp.family ? ns_format(&t->udp, b, sizeof b) : "");
    fputc('}', f);
}

static void target_line(const struct cz_opts *o, const struct ct_target *t)
{
    char a[EA_FORMAT_MAX], b[EA_FORMAT_MAX];

    say(o, "target %s (tcp %s, udp %s)\n", t->name,
        t->tcp.family ? ns_format(&t->tcp, a, sizeof a) : "-",
        t->udp.family ? ns_format(&t->udp, b, sizeof b) : "-");
}

/* "connection 0: ... (during action 3 of 12: write 0 1500)" */
static void failure_line(const struct fq_seq *s, const struct cz_result *r, char *buf,
                         size_t size)
{
    char a[64];

    if (r->action < s->count)
        snprintf(buf, size, "%s (during action %zu of %zu: %s)", r->msg, r->action + 1,
                 s->count, cz_action_text(&s->a[r->action], a, sizeof a));
    else
        snprintf(buf, size, "%s (at the end, after %zu action%s)", r->msg, s->count,
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

int cz_load(const char *path, struct fq_seq *s)
{
    struct ff_error e;
    char *text = NULL;
    size_t n = 0;
    int rc = read_file(path, &text, &n);

    if (rc < 0) {
        fprintf(stderr, "%s: cannot read %s: %s\n", prog, path,
                rc == -EFBIG ? "larger than 1 MiB: not a reproducer" : strerror(-rc));
        return CZ_EXIT_BADFILE;
    }
    rc = ff_parse(text, n, s, &e);
    free(text);
    if (rc < 0) {
        fprintf(stderr, "%s: %s:%u: %s\n", prog, path, e.line, ff_strerror(e.code));
        return CZ_EXIT_BADFILE;
    }
    return 0;
}

/* The symptom family of a kind: which failures count as "the same way" when shrinking. Wrong
 * bytes are one family whether they replace echoed bytes or come first (a greeting before a
 * write is extra, after one a mismatch); an early end is one whether FIN or RST (a server
 * that closes with unread bytes resets). */
static int family(int kind)
{
    switch (kind) {
    case CZ_EXTRA: return CZ_MISMATCH;
    case CZ_SHORT_EOF:
    case CZ_RESET: return CZ_CLOSED;
    default: return kind;
    }
}

static int same_failure(int a, int b)
{
    return a != CZ_PASS && family(a) == family(b);
}

/* Writes "# " + text as comment lines of at most ~100 bytes, broken at spaces, so every line
 * stays far below the parser's FF_MAX_LINE however long the message is. */
static void comment(FILE *fp, const char *text)
{
    const char *p = text;

    while (*p) {
        size_t n = strlen(p), cut = n;
        if (n > 96) {
            cut = 96;
            while (cut > 40 && p[cut] != ' ')
                cut--;
        }
        fprintf(fp, "%s%.*s\n", p == text ? "# " : "#   ", (int)cut, p);
        p += cut;
        while (*p == ' ')
            p++;
    }
}

static int save_file(const struct cz_opts *o, const struct ct_target *t, const struct found *f)
{
    char body[FF_FORMAT_MAX];
    size_t len;
    FILE *fp;

    if (ff_format(&f->best, body, sizeof body, &len) < 0)
        return -EINVAL;
    fp = fopen(f->path, "w");
    if (!fp)
        return -errno;
    fprintf(fp, "# echo-conform --fuzz reproducer (echo-conform %s). Replay with\n", o->version);
    {
        char line[800];
        snprintf(line, sizeof line, "  echo-conform --replay %s [TARGET]", f->path);
        comment(fp, line);
        snprintf(line, sizeof line, "found against %s: run seed 0x%016llx, sequence %lu "
                 "(seed 0x%016llx)", t->name, (unsigned long long)o->seed, f->seq_no,
                 (unsigned long long)f->seed);
        comment(fp, line);
    }
    {
        char line[800];
        snprintf(line, sizeof line, "failure (%s): %s", cz_kind_name(f->kind), f->msg);
        comment(fp, line);
    }
    fprintf(fp, "# shrunk from %zu to %zu actions in %zu runs; run again: %s\n", f->from_count,
            f->best.count, f->runs,
            same_failure(f->again_kind, f->kind) ? "failed the same way"
                                                 : cz_kind_name(f->again_kind));
    fwrite(body, 1, len, fp);
    if (fclose(fp) != 0)
        return -errno;
    return 0;
}

/* Shrinks s (which failed with kind) against t into f->best, bounded by --shrink-runs and
 * --shrink-time. */
static void shrink(const struct cz_opts *o, const struct ct_target *t, struct cz_limits *l,
                   const struct fq_seq *s, struct found *f)
{
    struct dd_state *d = malloc(sizeof *d);
    long long start = ct_now_ms(), end = start + o->shrink_ms;
    const struct fq_seq *c;

    f->best = *s;
    f->runs = 0;
    if (!d || o->shrink_runs == 0) {
        free(d);
        return;
    }
    dd_init(d, s);
    l->deadline_ms = end;
    while (f->runs < o->shrink_runs && ct_now_ms() < end && (c = dd_next(d)) != NULL) {
        struct cz_result r;
        cz_exec(t, c, l, &r);
        f->runs++;
        if (same_failure(r.kind, f->kind) && f->runs < o->shrink_runs) {
            /* Kept only when a second run fails the same way too: a silence can be the
             * load's doing (or a backlog an earlier run left in the server), and a race in
             * the server (tcp_reset_all resetting a connection accepted just before or after
             * another one's RST) can fail once and pass next time. A minimum that fails one
             * run in two is no reproducer. */
            cz_exec(t, c, l, &r);
            f->runs++;
        }
        if (r.kind == CZ_CUT)
            break;
        if (o->verbose)
            say(o, "  shrink run %zu: %zu action%s: %s\n", f->runs, c->count,
                cv_plural(c->count),
                same_failure(r.kind, f->kind) ? "fails the same way, kept"
                                              : cz_kind_name(r.kind));
        dd_result(d, same_failure(r.kind, f->kind));
    }
    f->best = *dd_best(d);
    f->shrink_ms = ct_now_ms() - start;
    free(d);
}

/* The failure found: shrink, run the result once more, save, report. */
static void on_failure(const struct cz_opts *o, const struct ct_target *t, struct cz_limits *l,
                       const struct fq_seq *s, struct found *f)
{
    struct cz_result again;
    char a[64];
    int rc;

    f->from_count = s->count;
    shrink(o, t, l, s, f);
    say(o, "shrunk: %zu actions -> %zu in %zu run%s, %.1f s\n", s->count, f->best.count,
        f->runs, cv_plural(f->runs), f->shrink_ms / 1000.0);
    /* The reproducer is run once more as saved: a flaky failure says so. */
    l->deadline_ms = ct_now_ms() + (long long)o->timeout_ms * 4 + 10000;
    cz_exec(t, &f->best, l, &again);
    f->again_kind = again.kind;
    failure_line(&f->best, &again, f->again_msg, sizeof f->again_msg);
    say(o, "minimal reproducer (%s):\n",
        cz_kind_name(same_failure(again.kind, f->kind) ? again.kind : f->kind));
    for (size_t i = 0; i < f->best.count; i++)
        say(o, "  %s\n", cz_action_text(&f->best.a[i], a, sizeof a));
    if (same_failure(again.kind, f->kind))
        say(o, "run again: %s\n", f->again_msg);
    else
        say(o, "run again it gave '%s' (the failure is flaky)%s%s\n", cz_kind_name(again.kind),
            again.kind == CZ_PASS ? "" : ": ", again.kind == CZ_PASS ? "" : f->again_msg);
    if (o->save)
        snprintf(f->path, sizeof f->path, "%s", o->save);
    else
        snprintf(f->path, sizeof f->path, "echofuzz-%016llx.txt",
                 (unsigned long long)f->best.seed);
    rc = save_file(o, t, f);
    f->saved = rc == 0;
    if (rc < 0)
        fprintf(stderr, "%s: cannot write %s: %s\n", prog, f->path, strerror(-rc));
    else
        say(o, "saved: %s (replay: echo-conform --replay %s%s%s)\n", f->path, f->path,
            strcmp(t->name, "echod") == 0 ? "" : " ",
            strcmp(t->name, "echod") == 0 ? "" : t->name);
}

static int replay(const struct cz_opts *o, const struct ct_target *t, struct cz_limits *l)
{
    const struct fq_seq *sq = o->replay_seq;
    struct cz_result r;
    char line[700];
    unsigned long k, runs = 0;
    int status;

    if (o->format == CZ_TAP)
        fprintf(o->out, "TAP version 13\n");
    target_line(o, t);
    /* A timing-dependent defect may need several runs: stop at the first failure. */
    for (k = 0; k < o->count; k++) {
        cz_exec(t, sq, l, &r);
        if (r.kind == CZ_LOCAL || r.kind == CZ_CUT) {
            if (r.kind == CZ_CUT && runs > 0)
                break; /* --max-time ended the repeats: what ran, passed */
            fprintf(stderr, "%s: %s: %s\n", prog, o->replay, r.msg);
            return CZ_EXIT_USAGE;
        }
        runs++;
        if (o->format == CZ_TAP)
            fprintf(o->out, "%s %lu - replay %s (seed 0x%016llx, %zu actions)%s%s\n",
                    r.kind == CZ_PASS ? "ok" : "not ok", runs, o->replay,
                    (unsigned long long)sq->seed, sq->count, r.kind == CZ_PASS ? "" : ": ",
                    r.kind == CZ_PASS ? "" : cz_kind_name(r.kind));
        if (r.kind != CZ_PASS)
            break;
    }
    if (o->format == CZ_TAP)
        fprintf(o->out, "1..%lu\n", runs);
    status = r.kind == CZ_PASS ? CZ_EXIT_PASS : CZ_EXIT_FAIL;
    failure_line(sq, &r, line, sizeof line);
    if (o->format == CZ_JSON) {
        fputs("{\"mode\": \"replay\", \"version\": ", o->out);
        json_str(o->out, o->version);
        fputs(", \"file\": ", o->out);
        json_str(o->out, o->replay);
        fputs(", \"target\": ", o->out);
        json_target(o->out, t);
        fprintf(o->out, ", \"seed\": \"0x%016llx\", \"actions\": ", (unsigned long long)sq->seed);
        json_actions(o->out, sq);
        fprintf(o->out, ",\n \"runs\": %lu, \"result\": \"%s\", \"kind\": \"%s\", \"message\": ",
                runs, status ? "fail" : "pass", cz_kind_name(r.kind));
        json_str(o->out, status ? line : "");
        fprintf(o->out, ", \"tcp_bytes\": %llu, \"datagrams\": %llu, \"lost\": %llu, "
                "\"seconds\": %.3f, \"exit\": %d}\n", (unsigned long long)r.tcp_bytes,
                (unsigned long long)r.dgrams, (unsigned long long)r.lost, r.ms / 1000.0,
                status);
        return status;
    }
    if (status == CZ_EXIT_PASS)
        say(o, "PASS replay %s: %zu actions%s, %llu bytes echoed, %llu datagram%s answered%s, "
            "%.1f s\n", o->replay, sq->count, runs > 1 ? " (every run)" : "",
            (unsigned long long)r.tcp_bytes, (unsigned long long)r.dgrams, cv_plural(r.dgrams),
            r.lost ? " (some unanswered: --allow-loss)" : "", r.ms / 1000.0);
    else {
        char nth[40] = "";
        if (runs > 1)
            snprintf(nth, sizeof nth, " in run %lu of %lu", runs, o->count);
        say(o, "FAIL replay %s (%s)%s: %s\n", o->replay, cz_kind_name(r.kind), nth, line);
    }
    return status;
}

static void dry_run(const struct cz_opts *o)
{
    static struct fq_seq s;
    char body[FF_FORMAT_MAX];

    for (unsigned long i = 0; i < o->count; i++) {
        fq_generate(&s, cv_seed_derive(o->seed, i), &o->gen);
        ff_format(&s, body, sizeof body, NULL);
        fprintf(o->out, "# sequence %lu of run seed 0x%016llx\n%s", i + 1,
                (unsigned long long)o->seed, body);
    }
}

int cz_run(const struct cz_opts *o, const struct ct_target *t)
{
    static struct fq_seq s;
    static struct found f;
    struct cz_pacer pacer = {o->rate, 0};
    struct cz_limits l = {o->timeout_ms, o->udp_retries, 0, o->allow_loss, &pacer};
    long long start = ct_now_ms(), end = start + o->max_time_ms, next_note = start + 10000;
    unsigned long i, passed = 0, run = 0;
    unsigned long long actions = 0, bytes = 0, dgrams = 0, lost = 0;
    int status = CZ_EXIT_PASS, failed = 0;
    char rate[64];

    if (o->dry_run) {
        dry_run(o);
        return CZ_EXIT_PASS;
    }
    l.deadline_ms = end;
    if (o->replay_seq)
        return replay(o, t, &l);
    if (o->format == CZ_TAP)
        fprintf(o->out, "TAP version 13\n");
    else if (o->format == CZ_TEXT)
        fprintf(o->out, "echo-conform %s --fuzz\n", o->version);
    target_line(o, t);
    if (o->rate > 0)
        snprintf(rate, sizeof rate, "at most %g actions/s", o->rate);
    else
        snprintf(rate, sizeof rate, "no rate limit");
    say(o, "seed 0x%016llx: up to %lu sequence%s of up to %zu actions in %g s, %s, "
        "timeout %g s, %d UDP retr%s%s\n", (unsigned long long)o->seed, o->count,
        cv_plural(o->count), o->gen.max_actions, o->max_time_ms / 1000.0, rate,
        o->timeout_ms / 1000.0,
        o->udp_retries, o->udp_retries == 1 ? "y" : "ies",
        o->allow_loss ? ", unanswered datagrams allowed" : "");
    for (i = 0; i < o->count && !failed; i++) {
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
        run++;
        actions += r.done;
        bytes += r.tcp_bytes;
        dgrams += r.dgrams;
        lost += r.lost;
        if (r.kind == CZ_PASS) {
            passed++;
            if (o->format == CZ_TAP)
                fprintf(o->out, "ok %lu - sequence %lu seed 0x%016llx (%zu actions)\n", run,
                        i + 1, (unsigned long long)seed, s.count);
            else if (o->verbose)
                say(o, "pass sequence %lu seed 0x%016llx: %zu actions, %llu bytes echoed, "
                    "%llu datagram%s, %.2f s\n", i + 1, (unsigned long long)seed, s.count,
                    (unsigned long long)r.tcp_bytes, (unsigned long long)r.dgrams,
                    cv_plural(r.dgrams), r.ms / 1000.0);
            else if (o->format == CZ_TEXT && !o->quiet && ct_now_ms() >= next_note) {
                /* A sign of life on long runs, every 10 s. */
                say(o, "... %lu sequences passed, %.0f s\n", passed,
                    (ct_now_ms() - start) / 1000.0);
                next_note = ct_now_ms() + 10000;
            }
            continue;
        }
        failed = 1;
        status = CZ_EXIT_FAIL;
        failure_line(&s, &r, line, sizeof line);
        memset(&f, 0, sizeof f);
        f.seq_no = i + 1;
        f.seed = seed;
        f.kind = r.kind;
        snprintf(f.msg, sizeof f.msg, "%s", line);
        if (o->format == CZ_TAP)
            fprintf(o->out, "not ok %lu - sequence %lu seed 0x%016llx (%s)\n", run, i + 1,
                    (unsigned long long)seed, cz_kind_name(r.kind));
        say(o, "FAIL sequence %lu seed 0x%016llx (%s): %s\n", i + 1, (unsigned long long)seed,
            cz_kind_name(r.kind), line);
        on_failure(o, t, &l, &s, &f);
    }
    if (status == CZ_EXIT_PASS && run == 0) {
        fprintf(stderr, "%s: no sequence completed within --max-time\n", prog);
        status = CZ_EXIT_USAGE;
    }
    if (o->format == CZ_TAP)
        fprintf(o->out, "1..%lu\n", run);
    if (o->format == CZ_JSON) {
        fputs("{\"mode\": \"fuzz\", \"version\": ", o->out);
        json_str(o->out, o->version);
        fputs(", \"target\": ", o->out);
        json_target(o->out, t);
        fprintf(o->out, ", \"seed\": \"0x%016llx\",\n \"sequences\": %lu, \"passed\": %lu, "
                "\"failed\": %d, \"actions\": %llu, \"tcp_bytes\": %llu, \"datagrams\": %llu, "
                "\"lost\": %llu, \"seconds\": %.3f, \"exit\": %d, \"failure\": ",
                (unsigned long long)o->seed, run, passed, failed, actions, bytes, dgrams, lost,
                (ct_now_ms() - start) / 1000.0, status);
        if (!failed) {
            fputs("null}\n", o->out);
        } else {
            fprintf(o->out, "{\n  \"sequence\": %lu, \"seed\": \"0x%016llx\", \"kind\": \"%s\", "
                    "\"message\": ", f.seq_no, (unsigned long long)f.seed,
                    cz_kind_name(f.kind));
            json_str(o->out, f.msg);
            fprintf(o->out, ",\n  \"shrunk_from\": %zu, \"shrink_runs\": %zu, "
                    "\"shrink_seconds\": %.3f, \"reproducer\": ", f.from_count, f.runs,
                    f.shrink_ms / 1000.0);
            json_actions(o->out, &f.best);
            fprintf(o->out, ",\n  \"confirmed\": %s, \"confirm_message\": ",
                    same_failure(f.again_kind, f.kind) ? "true" : "false");
            json_str(o->out, f.again_kind == CZ_PASS ? "" : f.again_msg);
            fputs(", \"file\": ", o->out);
            if (f.saved)
                json_str(o->out, f.path);
            else
                fputs("null", o->out);
            fputs("}}\n", o->out);
        }
        return status;
    }
    say(o, "%lu sequence%s run, %lu passed, %s; %llu actions, %llu bytes echoed, %llu "
        "datagram%s answered, %.1f s\n", run, cv_plural(run), passed,
        failed ? "1 failed" : "none failed", actions, bytes, dgrams, cv_plural(dgrams),
        (ct_now_ms() - start) / 1000.0);
    if (lost)
        say(o, "%llu datagram%s got no reply after every retry: not counted as failures "
            "(--allow-loss)\n", lost, cv_plural(lost));
    return status;
}
