#!/bin/sh
# tools/bench/poll-cost.sh - what echod's adaptive busy polling (its default) costs and what
# it gives, against echod --busy-poll 0 (never polls), the two interleaved in every
# repetition, each started fresh on a fresh loopback port and stopped by its PID:
#   1. open loop, one TCP connection, 64 B (echo-bench --rate R, on CPU 1; the server on
#      CPU 0): the server's CPU (% of one CPU, and µs per message, from /proc/PID/stat) and
#      echo-bench's latency p50 and p99 (from each message's intended send time);
#   2. closed loop (a) and (e1) with the server and echo-bench sharing CPU 0: msgs/s.
# Prints markdown tables of medians. Loopback only; every run is bounded by timeout(1).
#
#   tools/bench/poll-cost.sh --bin DIR [--reps N] [--rates "R ..."] [-d SEC] [--smoke]
#
# Exit status: 0 done, every echo verified; 1 a run failed or did not verify; 2 usage.
# shellcheck disable=SC2016 # awk expressions ($5 ...) are passed in single quotes on purpose
set -eu

BIN=""
REPS=3
DUR=3
RATES="1000 2000 4000 6000 8000 12000"
SMOKE=0

die() {
    echo "poll-cost: $*" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --bin) BIN=${2:?}; shift ;;
    --reps) REPS=${2:?}; shift ;;
    --rates) RATES=${2:?}; shift ;;
    -d) DUR=${2:?}; shift ;;
    --smoke) SMOKE=1 ;;
    -h | --help)
        sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done
[ -n "$BIN" ] || die "--bin DIR is required (echod and echo-bench)"
if [ ! -x "$BIN/echod" ] || [ ! -x "$BIN/echo-bench" ]; then
    die "no echod or echo-bench in '$BIN'"
fi
[ $SMOKE -eq 0 ] || { REPS=1 DUR=0.3 RATES="2000"; }
case $REPS in '' | *[!0-9]* | 0) die "bad --reps '$REPS'" ;; esac
case $DUR in '' | *[!0-9.]*) die "bad -d '$DUR'" ;; esac
for r in $RATES; do
    case $r in *[!0-9]* | 0) die "bad rate '$r'" ;; esac
done
command -v jq >/dev/null 2>&1 || die "jq is needed (tools/install-deps.sh installs it)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/eh-pollcost.XXXXXX")
SPID=""
cleanup() {
    [ -z "$SPID" ] || kill -KILL "$SPID" 2>/dev/null || :
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
RES="$TMP/res.tsv"
: >"$RES"
TICK=$(getconf CLK_TCK)
BENCH_T=$(awk -v d="$DUR" 'BEGIN { printf "%d", d + 30 }')
FAILED=0

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# start MODE: echod (MODE poll: its default; sleep: --busy-poll 0) on CPU 0, port 0; sets
# SPID and PORT.
start() {
    extra=""
    [ "$1" = poll ] || extra="--busy-poll 0"
    : >"$TMP/echod.out"
    # shellcheck disable=SC2086 # the option, when there is one, is two words
    taskset -c 0 "$BIN/echod" --port 0 $extra >"$TMP/echod.out" 2>"$TMP/echod.err" &
    SPID=$!
    i=0
    PORT=""
    while [ -z "$PORT" ] && [ $i -lt 100 ]; do
        sleep 0.05
        PORT=$(sed -n 's/^listening tcp 127.0.0.1:\([0-9]*\)$/\1/p' "$TMP/echod.out")
        i=$((i + 1))
    done
    [ -n "$PORT" ] || { echo "poll-cost: echod did not start" >&2; exit 1; }
}

stop() {
    kill -TERM "$SPID" 2>/dev/null || :
    wait "$SPID" 2>/dev/null || :
    SPID=""
}

# one KIND ARG MODE REP: KIND rate (ARG: msgs/s) or shared (ARG: tcp or udp).
one() {
    start "$3"
    c0=$(ticks "$SPID")
    st=0
    if [ "$1" = rate ]; then
        timeout "$BENCH_T" taskset -c 1 "$BIN/echo-bench" -c 1 -s 64 --rate "$2" -d "$DUR" \
            -w 0.5 -q --json "127.0.0.1:$PORT" >"$TMP/b.json" 2>"$TMP/b.err" || st=$?
    else
        u=""
        [ "$2" = tcp ] || u=-u
        # shellcheck disable=SC2086 # -u or nothing
        timeout "$BENCH_T" taskset -c 0 "$BIN/echo-bench" $u -c 1 -s 64 -P 1 -d "$DUR" \
            -w 0.5 -q --json "127.0.0.1:$PORT" >"$TMP/b.json" 2>"$TMP/b.err" || st=$?
    fi
    c1=$(ticks "$SPID")
    stop
    if [ $st -ne 0 ] || ! jq -e .ok "$TMP/b.json" >/dev/null 2>&1; then
        echo "poll-cost: $1 $2 $3 rep $4: echo-bench exited $st: $(head -n 2 "$TMP/b.err")" >&2
        FAILED=$((FAILED + 1))
        return
    fi
    # kind arg mode rep msgs/s cpu-s msgs p50 p99 wall-s
    jq -r --arg k "$1" --arg a "$2" --arg m "$3" --arg r "$4" \
        --arg cpu "$(awk -v a="$c0" -v b="$c1" -v t="$TICK" 'BEGIN { printf "%.3f", (b - a) / t }')" \
        '[$k, $a, $m, $r, .msgs_per_s, $cpu, .msgs, .lat_us.p50, .lat_us.p99, .duration_s] | @tsv' \
        "$TMP/b.json" >>"$RES"
}

for rep in $(seq "$REPS"); do
    for r in $RATES; do
        for m in poll sleep; do
            echo "poll-cost: rep $rep/$REPS: rate $r/s, $m" >&2
            one rate "$r" $m "$rep"
        done
    done
    for p in tcp udp; do
        for m in poll sleep; do
            echo "poll-cost: rep $rep/$REPS: $p sharing CPU 0, $m" >&2
            one shared $p $m "$rep"
        done
    done
done

# med KIND ARG MODE COLUMN-EXPRESSION: the median over the repetitions (awk expression of
# the TSV's fields: $5 msgs/s, $6 server CPU s, $7 msgs, $8 p50, $9 p99, $10 seconds).
med() {
    awk -F '\t' -v k="$1" -v a="$2" -v m="$3" '$1 == k && $2 == a && $3 == m { print '"$4"' }' "$RES" |
        sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "–"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "–") print v; else printf f, v }'; }

echo
echo "Open loop, 1 TCP connection, 64 B, medians of $REPS repetition(s) (-d $DUR): echod (adaptive"
echo "polling, the default) / echod --busy-poll 0; server CPU over the whole run (warm-up included)."
echo
echo "| rate | server CPU, % of one | server µs per message | latency p50, µs | latency p99, µs |"
echo "|---|---|---|---|---|"
for r in $RATES; do
    row="| $r/s"
    for col in '100 * $6 / ($10 + 0.5)' '1e6 * $6 / ($7 * ($10 + 0.5) / $10)' '$8' '$9'; do
        p=$(fmt "$(med rate "$r" poll "$col")" '%.1f')
        s=$(fmt "$(med rate "$r" sleep "$col")" '%.1f')
        row="$row | $p / $s"
    done
    echo "$row |"
done
echo
echo "Closed loop, 64 B, 1 in flight, server and echo-bench both on CPU 0: msgs/s, echod /"
echo "echod --busy-poll 0 (and the ratio of the medians)."
echo
echo "| workload | echod | echod --busy-poll 0 | ratio |"
echo "|---|---|---|---|"
for p in tcp udp; do
    a=$(med shared $p poll '$5')
    b=$(med shared $p sleep '$5')
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a == "–" || b == "–" || b == 0) print "–"; else printf "%.2f×", a / b }')
    echo "| $p | $(fmt "$a" '%.0f') | $(fmt "$b" '%.0f') | $ratio |"
done
if [ $FAILED -gt 0 ]; then
    echo "poll-cost: $FAILED run(s) failed" >&2
    exit 1
fi
