/*
 * report.c - writes echo-conform's reports. Every format carries the same facts per case:
 * id, level, RFC reference, status, duration, and for a failure the message, what was
 * expected, what was seen and where. JSON also carries the failed cases' wire logs. Strings
 * are escaped by hand (JSON and XML), so no library is needed.
 */
#define _GNU_SOURCE
#include "conform/report.h"

#include <string.h>

#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN "\033[36m"
#define C_BOLD "\033[1m"
#define C_OFF "\033[0m"

int cr_case_fails(const struct cr_run *r, const struct ct_ctx *x)
{
    if (x->status != CT_FAIL)
        return 0;
    return x->c->level == CC_MUST || (x->c->level == CC_SHOULD && r->strict);
}

const char *cr_status_name(int status)
{
    switch (status) {
    case CT_PASS: return "pass";
    case CT_FAIL: return "fail";
    case CT_SKIP: return "skip";
    case CT_XFAIL: return "xfail";
    case CT_XPASS: return "xpass";
    default: return "?";
    }
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void xml_str(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if (*p < 0x20 && *p != '\n' && *p != '\t')
                fputc('?', f); /* not allowed in XML 1.0 */
            else
                fputc(*p, f);
        }
    }
}

/* ---- Text ----------------------------------------------------------------------------- */

static const char *status_label(int st)
{
    switch (st) {
    case CT_PASS: return "PASS ";
    case CT_FAIL: return "FAIL ";
    case CT_SKIP: return "SKIP ";
    case CT_XFAIL: return "XFAIL";
    case CT_XPASS: return "XPASS";
    default: return "?    ";
    }
}

static const char *status_color(int st)
{
    switch (st) {
    case CT_PASS: return C_GREEN;
    case CT_FAIL: return C_RED;
    case CT_SKIP: return C_CYAN;
    default: return C_YELLOW;
    }
}

static void wire_text(const struct ct_wire_entry *e, void *arg)
{
    FILE *f = arg;
    char q[CT_WIRE_BYTES * 4 + 8];

    if (e->dir == CT_EVENT) {
        fprintf(f, "          %6u ms  #%u  %s\n", e->t_ms, e->conn, e->what);
        return;
    }
    ct_quote(e->head, e->keep, CT_WIRE_BYTES, q, sizeof q);
    fprintf(f, "          %6u ms  #%u  %s %u bytes \"%s%s\"\n", e->t_ms, e->conn,
            e->dir == CT_SENT ? "sent" : "recv", e->len, q, e->len > e->keep ? "..." : "");
}

static void text_case(struct cr_run *r, const struct ct_ctx *x)
{
    FILE *f = r->out;
    int st = x->status;
    int show = st == CT_FAIL || st == CT_XFAIL || st == CT_XPASS || st == CT_SKIP ||
               x->c->level == CC_INFO || r->verbose;
    const char *lvl = cc_level_name(x->c->level);

    if (r->quiet && st != CT_FAIL && st != CT_XPASS)
        return;
    if (r->color)
        fprintf(f, "  %s%s%s", status_color(st), status_label(st), C_OFF);
    else
        fprintf(f, "  %s", status_label(st));
    fprintf(f, "  %-26s %-6s %6.2fs", x->c->id, lvl, x->duration_ms / 1000.0);
    if (st == CT_FAIL && x->c->level != CC_MUST && !(x->c->level == CC_SHOULD && r->strict))
        fprintf(f, "  (%s: does not fail the run)", lvl);
    if (st == CT_XFAIL)
        fputs("  (known failure)", f);
    if (st == CT_XPASS)
        fputs("  (listed as a known failure, passes now: remove it from --expect)", f);
    fputc('\n', f);
    if (show && x->message[0])
        fprintf(f, "         %s\n", x->message);
    if (st == CT_FAIL || st == CT_XFAIL) {
        if (x->expected[0])
            fprintf(f, "         expected: %s\n", x->expected);
        if (x->seen[0])
            fprintf(f, "         seen:     %s\n", x->seen);
        if (x->where[0])
            fprintf(f, "         where:    %s\n", x->where);
        if (st == CT_FAIL)
            fprintf(f, "         (%s; %s)\n", x->c->rfc, x->c->desc);
        if (r->verbose && x->wire.total) {
            size_t om = 0;
            fputs("         wire log:\n", f);
            ct_wire_each(&x->wire, wire_text, f, &om);
            if (om)
                fprintf(f, "          (%zu entries omitted in the middle)\n", om);
        }
    }
}

struct tally {
    size_t pass, fail, fail_run, skip, xfail, xpass;
};

static void count(const struct cr_run *r, const struct cr_target *t, struct tally *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < t->n; i++) {
        const struct ct_ctx *x = &t->cases[i];
        switch (x->status) {
        case CT_PASS: c->pass++; break;
        case CT_FAIL:
            c->fail++;
            if (cr_case_fails(r, x))
                c->fail_run++;
            break;
        case CT_SKIP: c->skip++; break;
        case CT_XFAIL: c->xfail++; break;
        case CT_XPASS: c->xpass++; break;
        }
    }
}

/* ---- TAP ------------------------------------------------------------------------------ */

static void yaml_str(FILE *f, const char *key, const char *v)
{
    if (!v[0])
        return;
    fprintf(f, "  %s: ", key);
    json_str(f, v); /* a JSON string is a valid YAML double-quoted scalar */
    fputc('\n', f);
}

static void tap_case(struct cr_run *r, const struct ct_ctx *x)
{
    FILE *f = r->out;
    size_t n = ++r->tap_number;
    int st = x->status;

    switch (st) {
    case CT_PASS:
        fprintf(f, "ok %zu - %s", n, x->c->id);
        if (x->c->level == CC_INFO && x->message[0])
            fprintf(f, " # %s", x->message);
        fputc('\n', f);
        return;
    case CT_SKIP: fprintf(f, "ok %zu - %s # SKIP %s\n", n, x->c->id, x->message); return;
    case CT_XPASS: fprintf(f, "ok %zu - %s # TODO known failure passes now\n", n, x->c->id); return;
    case CT_XFAIL: fprintf(f, "not ok %zu - %s # TODO known failure\n", n, x->c->id); break;
    default:
        if (cr_case_fails(r, x))
            fprintf(f, "not ok %zu - %s\n", n, x->c->id);
        else
            fprintf(f, "not ok %zu - %s # TODO %s does not fail the run\n", n, x->c->id,
                    cc_level_name(x->c->level));
        break;
    }
    fputs("  ---\n", f);
    yaml_str(f, "message", x->message);
    yaml_str(f, "level", cc_level_name(x->c->level));
    yaml_str(f, "rfc", x->c->rfc);
    yaml_str(f, "expected", x->expected);
    yaml_str(f, "seen", x->seen);
    yaml_str(f, "where", x->where);
    fprintf(f, "  duration_ms: %lld\n", x->duration_ms);
    fputs("  ...\n", f);
}

/* ---- JSON ----------------------------------------------------------------------------- */

struct wire_json {
    FILE *f;
    int first;
};

static void wire_json(const struct ct_wire_entry *e, void *arg)
{
    struct wire_json *w = arg;
    static const char *const dirs[] = {"sent", "recv", "event"};

    fprintf(w->f, "%s\n          {\"t_ms\": %u, \"dir\": \"%s\", \"conn\": %u", w->first ? "" : ",",
            e->t_ms, dirs[e->dir], e->conn);
    w->first = 0;
    if (e->dir == CT_EVENT) {
        fputs(", \"event\": ", w->f);
        json_str(w->f, e->what);
    } else {
        fprintf(w->f, ", \"len\": %u, \"hex\": \"", e->len);
        for (unsigned i = 0; i < e->keep; i++)
            fprintf(w->f, "%02x", e->head[i]);
        fprintf(w->f, "\", \"truncated\": %s", e->len > e->keep ? "true" : "false");
    }
    fputc('}', w->f);
}

static void json_case(FILE *f, const struct cr_run *r, const struct ct_ctx *x, int last)
{
    fputs("        {\"id\": ", f);
    json_str(f, x->c->id);
    fprintf(f, ", \"transport\": \"%s\", \"level\": \"%s\", \"rfc\": ",
            cc_transport_name(x->c->transport), cc_level_name(x->c->level));
    json_str(f, x->c->rfc);
    fputs(", \"description\": ", f);
    json_str(f, x->c->desc);
    fprintf(f, ",\n         \"status\": \"%s\", \"fails_run\": %s, \"duration_ms\": %lld",
            cr_status_name(x->status), cr_case_fails(r, x) ? "true" : "false", x->duration_ms);
    fputs(", \"message\": ", f);
    json_str(f, x->message);
    if (x->status == CT_FAIL || x->status == CT_XFAIL) {
        size_t om = 0;
        struct wire_json w = {f, 1};
        fputs(",\n         \"expected\": ", f);
        json_str(f, x->expected);
        fputs(", \"seen\": ", f);
        json_str(f, x->seen);
        fputs(", \"where\": ", f);
        json_str(f, x->where);
        fputs(",\n         \"wire\": [", f);
        ct_wire_each(&x->wire, wire_json, &w, &om);
        fprintf(f, "\n         ], \"wire_total\": %zu, \"wire_omitted\": %zu", x->wire.total, om);
    }
    fprintf(f, "}%s\n", last ? "" : ",");
}

static void json_doc(struct cr_run *r, const struct cr_target *ts, size_t n, int exit_status)
{
    FILE *f = r->out;
    char a[EA_FORMAT_MAX];
    size_t ea;

    fprintf(f, "{\n  \"tool\": \"echo-conform\", \"version\": \"%s\", \"schema\": 1,\n",
            r->version);
    fprintf(f, "  \"seed\": %llu, \"strict\": %s, \"timeout_s\": %g, \"exit_status\": %d,\n",
            (unsigned long long)r->seed, r->strict ? "true" : "false", r->timeout_ms / 1000.0,
            exit_status);
    fputs("  \"targets\": [\n", f);
    for (size_t i = 0; i < n; i++) {
        const struct cr_target *t = &ts[i];
        struct tally c;
        count(r, t, &c);
        fputs("    {\"target\": ", f);
        json_str(f, t->t.name);
        fputs(", \"tcp\": ", f);
        if (t->t.tcp.family && ea_format(&t->t.tcp, a, sizeof a, &ea) == 0)
            json_str(f, a);
        else
            fputs("null", f);
        fputs(", \"udp\": ", f);
        if (t->t.udp.family && ea_format(&t->t.udp, a, sizeof a, &ea) == 0)
            json_str(f, a);
        else
            fputs("null", f);
        fputs(", \"error\": ", f);
        if (t->error[0])
            json_str(f, t->error);
        else
            fputs("null", f);
        fprintf(f, ",\n      \"summary\": {\"pass\": %zu, \"fail\": %zu, \"fails_run\": %zu, "
                   "\"skip\": %zu, \"xfail\": %zu, \"xpass\": %zu},\n",
                c.pass, c.fail, c.fail_run, c.skip, c.xfail, c.xpass);
        fputs("      \"cases\": [\n", f);
        for (size_t k = 0; k < t->n; k++)
            json_case(f, r, &t->cases[k], k + 1 == t->n);
        fprintf(f, "      ]}%s\n", i + 1 == n ? "" : ",");
    }
    fputs("  ]\n}\n", f);
}

/* ---- JUnit ---------------------------------------------------------------------------- */

static void junit_doc(struct cr_run *r, const struct cr_target *ts, size_t n)
{
    FILE *f = r->out;

    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"echo-conform\">\n", f);
    for (size_t i = 0; i < n; i++) {
        const struct cr_target *t = &ts[i];
        struct tally c;
        long long ms = 0;
        count(r, t, &c);
        for (size_t k = 0; k < t->n; k++)
            ms += t->cases[k].duration_ms;
        fputs("  <testsuite name=\"", f);
        xml_str(f, t->t.name);
        fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%d\" skipped=\"%zu\" "
                   "time=\"%.3f\">\n",
                t->n, c.fail_run, t->error[0] ? 1 : 0, c.skip, ms / 1000.0);
        fprintf(f, "    <properties><property name=\"seed\" value=\"%llu\"/></properties>\n",
                (unsigned long long)r->seed);
        if (t->error[0]) {
            fputs("    <testcase classname=\"echo-conform\" name=\"reachable\"><error message=\"",
                  f);
            xml_str(f, t->error);
            fputs("\"/></testcase>\n", f);
        }
        for (size_t k = 0; k < t->n; k++) {
            const struct ct_ctx *x = &t->cases[k];
            fprintf(f, "    <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\"",
                    cc_transport_name(x->c->transport), x->c->id, x->duration_ms / 1000.0);
            if (x->status == CT_SKIP) {
                fputs("><skipped message=\"", f);
                xml_str(f, x->message);
                fputs("\"/></testcase>\n", f);
            } else if (cr_case_fails(r, x)) {
                fputs("><failure message=\"", f);
                xml_str(f, x->message);
                fprintf(f, "\" type=\"%s\">", cc_level_name(x->c->level));
                fprintf(f, "level: %s\nrfc: ", cc_level_name(x->c->level));
                xml_str(f, x->c->rfc);
                fputs("\nexpected: ", f);
                xml_str(f, x->expected);
                fputs("\nseen: ", f);
                xml_str(f, x->seen);
                fputs("\nwhere: ", f);
                xml_str(f, x->where);
                fputs("</failure></testcase>\n", f);
            } else if (x->message[0]) {
                fputs("><system-out>", f);
                fprintf(f, "%s: ", cr_status_name(x->status));
                xml_str(f, x->message);
                fputs("</system-out></testcase>\n", f);
            } else {
                fputs("/>\n", f);
            }
        }
        fputs("  </testsuite>\n", f);
    }
    fputs("</testsuites>\n", f);
}

/* ---- Driver --------------------------------------------------------------------------- */

void cr_begin(struct cr_run *r)
{
    if (r->format == CR_TAP)
        fputs("TAP version 13\n", r->out);
    else if (r->format == CR_TEXT && !r->quiet)
        fprintf(r->out, "echo-conform %s: seed %llu, timeout %g s%s\n", r->version,
                (unsigned long long)r->seed, r->timeout_ms / 1000.0,
                r->strict ? ", strict" : "");
}

void cr_target_begin(struct cr_run *r, const struct cr_target *t)
{
    char a[EA_FORMAT_MAX], b[EA_FORMAT_MAX];
    size_t l;

    if (r->format == CR_TAP) {
        fprintf(r->out, "# target %s\n", t->t.name);
    } else if (r->format == CR_TEXT) {
        a[0] = b[0] = '\0';
        if (t->t.tcp.family)
            ea_format(&t->t.tcp, a, sizeof a, &l);
        if (t->t.udp.family)
            ea_format(&t->t.udp, b, sizeof b, &l);
        fprintf(r->out, "%s%s%s", r->color ? C_BOLD : "", t->t.name, r->color ? C_OFF : "");
        if (a[0])
            fprintf(r->out, "  tcp %s", a);
        if (b[0])
            fprintf(r->out, "  udp %s", b);
        fputc('\n', r->out);
    }
    fflush(r->out);
}

void cr_case(struct cr_run *r, const struct cr_target *t, const struct ct_ctx *x)
{
    (void)t;
    if (r->format == CR_TEXT)
        text_case(r, x);
    else if (r->format == CR_TAP)
        tap_case(r, x);
    fflush(r->out);
}

void cr_target_end(struct cr_run *r, const struct cr_target *t)
{
    struct tally c;

    if (t->error[0] && r->format == CR_TAP)
        fprintf(r->out, "# not tested: %s\n", t->error);
    if (r->format != CR_TEXT)
        return;
    if (t->error[0]) {
        fprintf(r->out, "  not tested: %s\n", t->error);
        return;
    }
    count(r, t, &c);
    fprintf(r->out, "%s: %zu passed, %zu failed (%zu fail the run), %zu skipped", t->t.name,
            c.pass, c.fail, c.fail_run, c.skip);
    if (c.xfail || c.xpass)
        fprintf(r->out, ", %zu known failures, %zu known failures now passing", c.xfail, c.xpass);
    fputc('\n', r->out);
}

static void matrix(struct cr_run *r, const struct cr_target *ts, size_t n)
{
    static const char *const cells[] = {"ok", "FAIL", "skip", "xf", "xp"};
    FILE *f = r->out;
    size_t ncat;
    const struct cc_case *cat = cc_catalog(&ncat);

    fputs("\nmatrix (case x target):\n", f);
    fprintf(f, "  %-26s", "");
    for (size_t j = 0; j < n; j++)
        fprintf(f, " %-4zu", j + 1);
    fputc('\n', f);
    for (size_t i = 0; i < ncat; i++) {
        const char *row[64];
        int any = 0;
        for (size_t j = 0; j < n && j < 64; j++) {
            row[j] = ".";
            for (size_t k = 0; k < ts[j].n; k++)
                if (ts[j].cases[k].c == &cat[i]) {
                    int st = ts[j].cases[k].status;
                    row[j] = st == CT_FAIL && !cr_case_fails(r, &ts[j].cases[k]) ? "fi"
                                                                                  : cells[st];
                    any = 1;
                }
        }
        if (!any)
            continue;
        fprintf(f, "  %-26s", cat[i].id);
        for (size_t j = 0; j < n && j < 64; j++)
            fprintf(f, " %-4s", row[j]);
        fputc('\n', f);
    }
    for (size_t j = 0; j < n; j++)
        fprintf(f, "  %zu = %s%s\n", j + 1, ts[j].t.name, ts[j].error[0] ? " (not tested)" : "");
    fputs("  ok pass, FAIL fails the run, fi failed (SHOULD/INFO), xf known failure, "
          "xp known failure passing, . not run\n", f);
}

void cr_end(struct cr_run *r, const struct cr_target *ts, size_t n, int exit_status)
{
    switch (r->format) {
    case CR_TAP:
        /* A target that could not be tested is an error, not a pass: after the plan of the
         * cases that ran (none: no plan), "Bail out!" makes any TAP consumer fail the run,
         * where "1..0 # SKIP" would count as success. The results before it still stand. */
        if (r->tap_number > 0)
            fprintf(r->out, "1..%zu\n", r->tap_number);
        for (size_t i = 0; i < n; i++)
            if (ts[i].error[0]) {
                fprintf(r->out, "Bail out! %s not tested: %s\n", ts[i].t.name, ts[i].error);
                break;
            }
        break;
    case CR_JSON: json_doc(r, ts, n, exit_status); break;
    case CR_JUNIT: junit_doc(r, ts, n); break;
    default:
        if (n > 1)
            matrix(r, ts, n);
        fprintf(r->out, "%s (seed %llu, %.2f s)\n",
                exit_status == 0 ? "conformant: every MUST case passed"
                : exit_status == 1 ? "NOT conformant: a case that fails the run failed"
                                   : "incomplete: a target could not be tested, or the "
                                     "run's time limit ran out",
                (unsigned long long)r->seed, (ct_now_ms() - r->start_ms) / 1000.0);
        break;
    }
    fflush(r->out);
}

void cr_list(FILE *out, int format)
{
    size_t n;
    const struct cc_case *c = cc_catalog(&n);

    if (format == CR_MARKDOWN) {
        fputs("| id | level | RFC | checks |\n|---|---|---|---|\n", out);
        for (size_t i = 0; i < n; i++)
            fprintf(out, "| `%s` | %s | %s | %s |\n", c[i].id, cc_level_name(c[i].level),
                    c[i].rfc, c[i].desc);
        return;
    }
    if (format == CR_JSON) {
        fputs("[\n", out);
        for (size_t i = 0; i < n; i++) {
            fputs("  {\"id\": ", out);
            json_str(out, c[i].id);
            fprintf(out, ", \"transport\": \"%s\", \"level\": \"%s\", \"rfc\": ",
                    cc_transport_name(c[i].transport), cc_level_name(c[i].level));
            json_str(out, c[i].rfc);
            fputs(", \"description\": ", out);
            json_str(out, c[i].desc);
            fprintf(out, "}%s\n", i + 1 == n ? "" : ",");
        }
        fputs("]\n", out);
        return;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%-26s %-6s %-40s %s\n", c[i].id, cc_level_name(c[i].level), c[i].rfc,
                c[i].desc);
}
