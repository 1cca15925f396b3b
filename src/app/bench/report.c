/*
 * report.c - sums the workers' figures and prints them (see report.h). Latencies are kept in
 * nanoseconds and printed in microseconds; throughput uses the measured interval, not the
 * requested one, so a run cut short by Ctrl-C still reports true rates.
 */
#include "bench/report.h"

#include <stdlib.h>
#include <string.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

int bp_collect(struct bp_result *r, const struct bb_cfg *cfg, struct bb_worker *w, uint32_t n,
               uint64_t *done, uint64_t conns)
{
    struct bb_stats *s = &r->sum;
    double dur = 0;
    uint32_t timed = 0;
    uint64_t *sorted;

    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    hg_init(&s->hist);
    for (uint32_t i = 0; i < n; i++) {
        const struct bb_stats *t = &w[i].st;
        s->msgs += t->msgs;
        s->bytes += t->bytes;
        s->connect_errors += t->connect_errors;
        s->early_closes += t->early_closes;
        s->mismatches += t->mismatches;
        s->stalls += t->stalls;
        s->udp_sent += t->udp_sent;
        s->udp_received += t->udp_received;
        s->udp_lost += t->udp_lost;
        s->udp_late += t->udp_late;
        s->udp_wrong += t->udp_wrong;
        s->udp_dup += t->udp_dup;
        s->idle_held += t->idle_held;
        s->idle_answered += t->idle_answered;
        s->connected += t->connected;
        s->spliced += t->spliced;
        s->teeing |= t->teeing;
        s->multishot += t->multishot;
        if (!s->congestion[0])
            memcpy(s->congestion, t->congestion, sizeof s->congestion);
        hg_merge(&s->hist, &t->hist);
        if (!s->first_error[0] && t->first_error[0])
            memcpy(s->first_error, t->first_error, sizeof s->first_error);
        if (!s->first_unechoed[0] && t->first_unechoed[0])
            memcpy(s->first_unechoed, t->first_unechoed, sizeof s->first_unechoed);
        if (!s->first_connect_error[0] && t->first_connect_error[0])
            memcpy(s->first_connect_error, t->first_connect_error, sizeof s->first_connect_error);
        if (t->t_end_ns > t->t_begin_ns && t->t_begin_ns) {
            dur += (double)(t->t_end_ns - t->t_begin_ns) / 1e9;
            timed++;
        }
    }
    r->duration_s = timed ? dur / timed : 0;
    if (!conns)
        return 0;
    sorted = malloc(conns * sizeof *sorted);
    if (!sorted)
        return -1;
    memcpy(sorted, done, conns * sizeof *sorted);
    qsort(sorted, conns, sizeof *sorted, cmp_u64);
    r->fair_min = sorted[0];
    r->fair_median = sorted[conns / 2];
    r->fair_max = sorted[conns - 1];
    free(sorted);
    return 0;
}

static const char *mode_name(int m)
{
    switch (m) {
    case BB_STREAM:
        return "stream";
    case BB_RATE:
        return "rate";
    case BB_IDLE:
        return "idle";
    default:
        return "closed";
    }
}

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

void bp_json(FILE *f, const struct bp_result *r)
{
    const struct bb_cfg *c = r->cfg;
    const struct bb_stats *s = &r->sum;
    const struct hg_hist *h = &s->hist;
    double d = r->duration_s > 0 ? r->duration_s : 0;

    fprintf(f, "{\"target\":");
    json_str(f, c->target);
    fprintf(f, ",\"engine\":\"%s\"", c->engine == BB_URING ? "uring" : "epoll");
    fprintf(f, ",\"proto\":\"%s\",\"mode\":\"%s\",\"conns\":%u,\"threads\":%u,\"size\":%llu,"
            "\"pipeline\":%u,\"window\":%llu,\"rate\":%.3f,\"seed\":%llu,\"duration_s\":%.6f,"
            "\"msgs\":%llu,\"msgs_per_s\":%.1f,\"bytes\":%llu,\"mb_per_s\":%.3f,"
            "\"gb_per_s\":%.4f,",
            c->udp ? "udp" : "tcp", mode_name(c->mode), c->conns, c->threads,
            (unsigned long long)c->size, c->pipeline, (unsigned long long)c->window, c->rate,
            (unsigned long long)c->seed, d, (unsigned long long)s->msgs,
            d > 0 ? (double)s->msgs / d : 0, (unsigned long long)s->bytes,
            d > 0 ? (double)s->bytes / d / 1e6 : 0, d > 0 ? (double)s->bytes / d / 1e9 : 0);
    fprintf(f, "\"lat_us\":{\"count\":%llu,\"min\":%.3f,\"mean\":%.3f,\"p50\":%.3f,\"p90\":%.3f,"
            "\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},",
            (unsigned long long)h->count, us(h->count ? h->min : 0), us(hg_mean(h)),
            us(hg_percentile(h, 50)), us(hg_percentile(h, 90)), us(hg_percentile(h, 99)),
            us(hg_percentile(h, 99.9)), us(h->max));
    fprintf(f, "\"fair\":{\"min\":%llu,\"median\":%llu,\"max\":%llu},",
            (unsigned long long)r->fair_min, (unsigned long long)r->fair_median,
            (unsigned long long)r->fair_max);
    fprintf(f, "\"connected\":%llu,\"connect_errors\":%llu,\"early_closes\":%llu,"
            "\"mismatches\":%llu,\"stalls\":%llu,",
            (unsigned long long)s->connected, (unsigned long long)s->connect_errors,
            (unsigned long long)s->early_closes, (unsigned long long)s->mismatches,
            (unsigned long long)s->stalls);
    fprintf(f, "\"udp\":{\"sent\":%llu,\"received\":%llu,\"lost\":%llu,\"late\":%llu,"
            "\"wrong\":%llu,\"dup\":%llu},",
            (unsigned long long)s->udp_sent, (unsigned long long)s->udp_received,
            (unsigned long long)s->udp_lost, (unsigned long long)s->udp_late,
            (unsigned long long)s->udp_wrong, (unsigned long long)s->udp_dup);
    fprintf(f, "\"idle\":{\"held\":%llu,\"answered\":%llu},",
            (unsigned long long)s->idle_held, (unsigned long long)s->idle_answered);
    fprintf(f, "\"spliced_bytes\":%llu,", (unsigned long long)s->spliced);
    fprintf(f, "\"tee\":%s,", s->teeing ? "true" : "false");
    fprintf(f, "\"multishot_recvs\":%llu,", (unsigned long long)s->multishot);
    fprintf(f, "\"congestion\":\"%s\",", s->congestion);
    fprintf(f, "\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"cpu_total_s\":%.3f,"
            "\"cpu_us_per_msg\":%.4f,",
            r->cpu_user_s, r->cpu_sys_s, r->cpu_total_s,
            s->msgs ? (r->cpu_user_s + r->cpu_sys_s) * 1e6 / (double)s->msgs : 0);
    fprintf(f, "\"interrupted\":%s,\"error\":", r->interrupted ? "true" : "false");
    json_str(f, s->first_error[0] ? s->first_error : s->first_connect_error);
    fprintf(f, ",\"ok\":%s}\n", r->ok ? "true" : "false");
    fflush(f);
}

static void human_rate(char *buf, size_t size, double v)
{
    if (v >= 1e6)
        snprintf(buf, size, "%.2f M", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, size, "%.1f k", v / 1e3);
    else
        snprintf(buf, size, "%.1f ", v);
}

void bp_print(FILE *f, const struct bp_result *r)
{
    const struct bb_cfg *c = r->cfg;
    const struct bb_stats *s = &r->sum;
    const struct hg_hist *h = &s->hist;
    double d = r->duration_s;
    char rate[32];

    fprintf(f, "echo-bench: %s %s %s, %u %s, %u thread%s, %llu-byte messages", c->target,
            c->udp ? "udp" : "tcp", mode_name(c->mode), c->conns,
            c->udp ? (c->conns == 1 ? "socket" : "sockets")
                   : (c->conns == 1 ? "connection" : "connections"),
            c->threads, c->threads == 1 ? "" : "s", (unsigned long long)c->size);
    if (c->mode == BB_CLOSED)
        fprintf(f, ", %u in flight", c->pipeline);
    if (c->mode == BB_STREAM)
        fprintf(f, ", %llu-byte window", (unsigned long long)c->window);
    if (c->mode == BB_RATE)
        fprintf(f, ", %.0f msgs/s offered", c->rate);
    fprintf(f, ", %s engine", c->engine == BB_URING ? "io_uring" : "epoll");
    fprintf(f, "%s\n", r->interrupted ? " (interrupted)" : "");
    if (c->mode == BB_IDLE) {
        fprintf(f, "  idle:       %llu of %u connections held, %llu answered after the hold\n",
                (unsigned long long)s->idle_held, c->conns,
                (unsigned long long)s->idle_answered);
    } else if (c->mode == BB_STREAM) {
        fprintf(f, "  throughput: %.2f MB/s (%.3f GB/s: %llu bytes in %.2f s, %llu writes of %llu "
                "echoed)\n",
                d > 0 ? (double)s->bytes / d / 1e6 : 0, d > 0 ? (double)s->bytes / d / 1e9 : 0,
                (unsigned long long)s->bytes, d, (unsigned long long)s->msgs,
                (unsigned long long)c->size);
        fprintf(f, "  fairness:   per connection min %llu, median %llu, max %llu writes\n",
                (unsigned long long)r->fair_min, (unsigned long long)r->fair_median,
                (unsigned long long)r->fair_max);
    } else {
        human_rate(rate, sizeof rate, d > 0 ? (double)s->msgs / d : 0);
        fprintf(f, "  throughput: %smsgs/s, %.2f MB/s (%llu messages, %llu bytes in %.2f s)\n",
                rate, d > 0 ? (double)s->bytes / d / 1e6 : 0, (unsigned long long)s->msgs,
                (unsigned long long)s->bytes, d);
        if (h->count)
            fprintf(f, "  latency:    p50 %.1f us, p90 %.1f us, p99 %.1f us, p99.9 %.1f us, "
                    "max %.1f us\n",
                    us(hg_percentile(h, 50)), us(hg_percentile(h, 90)),
                    us(hg_percentile(h, 99)), us(hg_percentile(h, 99.9)), us(h->max));
        fprintf(f, "  fairness:   per connection min %llu, median %llu, max %llu messages\n",
                (unsigned long long)r->fair_min, (unsigned long long)r->fair_median,
                (unsigned long long)r->fair_max);
    }
    if (c->udp)
        fprintf(f, "  udp:        %llu sent, %llu received, %llu lost, %llu late, %llu wrong, "
                "%llu duplicated\n",
                (unsigned long long)s->udp_sent, (unsigned long long)s->udp_received,
                (unsigned long long)s->udp_lost, (unsigned long long)s->udp_late,
                (unsigned long long)s->udp_wrong, (unsigned long long)s->udp_dup);
    fprintf(f, "  errors:     %llu connect errors, %llu early closes, %llu mismatches, "
            "%llu stalls\n",
            (unsigned long long)s->connect_errors, (unsigned long long)s->early_closes,
            (unsigned long long)s->mismatches, (unsigned long long)s->stalls);
    fprintf(f, "  cpu:        %.2f s user, %.2f s system", r->cpu_user_s, r->cpu_sys_s);
    if (s->msgs)
        fprintf(f, " (%.3f us per message)",
                (r->cpu_user_s + r->cpu_sys_s) * 1e6 / (double)s->msgs);
    fprintf(f, "\n  verdict:    %s\n", r->ok ? "ok, every echo verified" : "FAILED");
}
