#!/bin/sh
# shellcheck disable=SC3045 # dash, bash and busybox sh all have ulimit -n and -H
# tools/bench/run.sh - the echo server benchmark: servers x workloads, medians and ratios.
#
# Builds everything (preset "default") and the reference server from the peers folder, then
# runs every workload against every server that is installed: each server started fresh on
# a fresh loopback port, pinned to CPU 0 (taskset -c 0), measured by echo-bench pinned to
# CPU 1, and stopped by its PID (and its children's PIDs); half-way through each run the CPU
# affinity of the server and every process it forked is read (the per-run details say
# "cpus=0 procs=N"; any other CPU is warned about). Servers are interleaved within
# each repetition. It prints a markdown table of medians, each with the median of the
# per-repetition ratios to the reference server, and a table of CPU time per message of
# echo-bench and of the server. Loopback only; every run is bounded by timeout(1).
#
#   tools/bench/run.sh [--smoke] [options]      (see --help)
#
# Exit status: 0 done and every echo-bench run against echod and the reference verified;
# 1 a verification failed or a run of those two did not finish; 2 usage; 3 cannot build or
# start echod.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tools/bench"
. "$HERE/procs.sh" # descendants
PEERS="$ROOT/../shared/peers"
BIN=""
BUILD=1
REPS=3
DUR=3
WARM=1
IDLE=10000
IDLE_FORK=1000
IDLE_FORK_GIVEN=0
HOLD=3
SERVERS="echod ref socat ncat xinetd node python"
WORKLOADS="a b c d e1 e16 f"
SMOKE=0
SERVERS_GIVEN=0
OUT=""

usage() {
    cat <<EOF
usage: tools/bench/run.sh [options]
Runs echo-bench against echod, the reference server and the echo servers installed here.

  --smoke            seconds-long run: 1 repetition, -d 0.3 -w 0.1, echod and the
                     reference only (unless --servers), (f) with 500 connections; a
                     run that measured nothing (and found nothing wrong) runs once more
  --reps N           repetitions (default $REPS)
  -d SEC             measured seconds per run (default $DUR)
  -w SEC             warm-up seconds per run (default $WARM)
  --servers LIST     among: echod ref socat ncat xinetd node python (default: all),
                     and echod-sleep (echod --busy-poll 0: never polls; only when named)
  --workloads LIST   among: a b c d e1 e16 f (default: all)
  --idle N           connections held in (f) (default $IDLE)
  --idle-fork N      the same for servers that fork per connection (default $IDLE_FORK,
                     or --idle N when that is smaller)
  --peers DIR        where ref_epoll_echo.c is (default ../shared/peers of the repo)
  --bin DIR          use echod and echo-bench from DIR; do not build
  --out FILE         also write the tables to FILE (and every run's figures to FILE.tsv)
  -h, --help         this text

Workloads: (a) TCP 1 connection, 64 B, 1 in flight; (b) 100 connections; (c) 1,000;
(d) streaming, 1 connection, 64 KiB writes, 1 MiB in flight; (e1) UDP 64 B, 1 socket;
(e16) 16 sockets; (f) idle connections: the server's user memory per connection (RSS
growth; Pss summed over its processes when it forks) and whether all of them still echo.
EOF
}

die() {
    echo "bench: $*" >&2
    exit "${EXIT:-2}"
}

while [ $# -gt 0 ]; do
    case $1 in
    --smoke) SMOKE=1 ;;
    --reps) REPS=${2:?}; shift ;;
    -d) DUR=${2:?}; shift ;;
    -w) WARM=${2:?}; shift ;;
    --servers) SERVERS=${2:?}; SERVERS_GIVEN=1; shift ;;
    --workloads) WORKLOADS=${2:?}; shift ;;
    --idle) IDLE=${2:?}; shift ;;
    --idle-fork) IDLE_FORK=${2:?}; IDLE_FORK_GIVEN=1; shift ;;
    --peers) PEERS=${2:?}; shift ;;
    --bin) BIN=${2:?}; BUILD=0; shift ;;
    --out) OUT=${2:?}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done
if [ $SMOKE -eq 1 ]; then
    REPS=1 DUR=0.3 WARM=0.1 IDLE=500 IDLE_FORK=100 HOLD=0.5
    [ $SERVERS_GIVEN -eq 1 ] || SERVERS="echod ref"
fi
for v in "$IDLE" "$IDLE_FORK"; do
    case $v in '' | *[!0-9]*) die "bad connection count '$v'" ;; esac
done
# A smaller --idle holds no more connections on a forking server either (unless told).
[ $IDLE_FORK_GIVEN -eq 1 ] || [ "$IDLE_FORK" -le "$IDLE" ] || IDLE_FORK=$IDLE
case $REPS in '' | *[!0-9]*) die "bad --reps '$REPS'" ;; esac
[ "$REPS" -ge 1 ] || die "bad --reps '$REPS'"
for v in "$DUR" "$WARM"; do
    case $v in '' | *[!0-9.]*) die "bad duration '$v'" ;; esac
done
for s in $SERVERS; do
    case $s in echod | echod-sleep | ref | socat | ncat | xinetd | node | python) ;; *) die "unknown server '$s'" ;; esac
done
for w in $WORKLOADS; do
    case $w in a | b | c | d | e1 | e16 | f) ;; *) die "unknown workload '$w'" ;; esac
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/eh-bench.XXXXXX")
PIDS=""
# On any exit, what is still running goes, by PID: each started process and everything
# below it (the children a forking server made, the echo-bench that timeout(1) runs), all
# listed first, so none escapes by being re-parented when its parent goes.
cleanup() {
    left=""
    for p in $PIDS; do
        left="$left $(descendants "$p")"
    done
    for p in $left; do
        kill -KILL "$p" 2>/dev/null || :
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

log() { echo "bench: $*" >&2; }

# --- build --------------------------------------------------------------------------------
if [ $BUILD -eq 1 ]; then
    log "building (cmake --preset default)"
    (cd "$ROOT" && cmake --preset default >"$TMP/build.log" 2>&1 &&
        cmake --build --preset default >>"$TMP/build.log" 2>&1) ||
        { tail -n 30 "$TMP/build.log" >&2; EXIT=3 die "build failed"; }
    BIN="$ROOT/build/bin"
fi
ECHOD="$BIN/echod"
BENCH="$BIN/echo-bench"
[ -x "$ECHOD" ] || EXIT=3 die "no echod in $BIN"
[ -x "$BENCH" ] || EXIT=3 die "no echo-bench in $BIN"

REF=""
if [ -f "$PEERS/ref_epoll_echo.c" ]; then
    if ${CC:-cc} -O2 -pthread -o "$TMP/ref_epoll_echo" "$PEERS/ref_epoll_echo.c" 2>"$TMP/ref.log"; then
        REF="$TMP/ref_epoll_echo"
    else
        log "cannot build $PEERS/ref_epoll_echo.c: $(head -n 1 "$TMP/ref.log"); no reference"
    fi
else
    log "no ref_epoll_echo.c in $PEERS: the reference server is skipped (no ratios)"
fi

# Only what is installed runs.
have() { command -v "$1" >/dev/null 2>&1; }
RUN_SERVERS=""
for s in $SERVERS; do
    case $s in
    echod | echod-sleep) ok=1 ;;
    ref) [ -n "$REF" ] && ok=1 || ok=0 ;;
    socat | ncat | xinetd | node) have "$s" && ok=1 || ok=0 ;;
    python) have python3 && ok=1 || ok=0 ;;
    esac
    if [ "$ok" -eq 1 ]; then
        RUN_SERVERS="$RUN_SERVERS $s"
    else
        log "$s is not installed: skipped"
    fi
done

have jq || EXIT=3 die "jq is needed to read echo-bench --json (tools/install-deps.sh installs it)"

# CPUs: server on 0, echo-bench on 1 (both on 0 with a single CPU; unpinned without taskset).
NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
PIN_S="" PIN_B="" PIN_CPU=""
if have taskset; then
    PIN_S="taskset -c 0" PIN_CPU=0
    if [ "$NCPU" -ge 2 ]; then PIN_B="taskset -c 1"; else PIN_B="taskset -c 0"; fi
else
    log "no taskset: nothing is pinned"
fi

# Descriptors for 10,000 connections on both sides (root may raise the hard limit).
want_fd=$((IDLE + 4096))
cur=$(ulimit -n)
if [ "$cur" != unlimited ] && [ "$cur" -lt "$want_fd" ]; then
    ulimit -n "$want_fd" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || :
    log "descriptor limit $(ulimit -n)"
fi

# --- servers ------------------------------------------------------------------------------
# free_port: a port below the ephemeral range that no TCP or UDP socket uses now.
free_port() {
    while :; do
        p=$(($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000 + 20000))
        hex=$(printf ':%04X ' "$p")
        cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null |
            grep -q "$hex" || { echo "$p"; return; }
    done
}

# listening PORT PROTO: whether a socket is listening on (tcp) or bound to (udp) PORT.
listening() {
    hex=$(printf '%04X' "$1")
    if [ "$2" = tcp ]; then
        awk -v h="$hex" '$2 ~ ":"h"$" && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6
    else
        awk -v h="$hex" '$2 ~ ":"h"$" { f = 1 } END { exit !f }' /proc/net/udp /proc/net/udp6
    fi
}

forks() { case $1 in socat | ncat | xinetd) return 0 ;; esac; return 1; }

# start_server NAME PROTO PORT: starts it pinned to CPU 0; sets SPID. Servers that can serve
# TCP and UDP together do (as a user would run them); socat and ncat serve PROTO.
start_server() {
    name=$1 proto=$2 port=$3
    case $name in
    echod | echod-sleep)
        set -- "$ECHOD" --port "$port" --quiet --max-conns $((IDLE + 1000))
        [ "$name" = echod ] || set -- "$@" --busy-poll 0
        ;;
    ref) set -- "$REF" -H 127.0.0.1 -p "$port" -u ;;
    socat)
        if [ "$proto" = tcp ]; then
            set -- socat "TCP4-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,backlog=4096" PIPE
        else
            set -- socat -T 10 "UDP4-RECVFROM:$port,bind=127.0.0.1,reuseaddr,fork" PIPE
        fi
        ;;
    ncat)
        if [ "$proto" = tcp ]; then
            set -- ncat -l 127.0.0.1 "$port" -k -m $((IDLE + 1000)) --exec /bin/cat
        else
            set -- ncat -u -l 127.0.0.1 "$port" -k --exec /bin/cat
        fi
        ;;
    xinetd)
        # Internal services are found by name and id; 'user' only matters for root.
        XUSER=""
        [ "$(id -u)" -ne 0 ] || XUSER="    user = root"
        cat >"$TMP/xinetd.conf" <<EOF
defaults
{
    instances = UNLIMITED
    per_source = UNLIMITED
    cps = 100000 1
}
service echo
{
    type = INTERNAL UNLISTED
    id = echo-stream
    socket_type = stream
    protocol = tcp
    wait = no
$XUSER
    bind = 127.0.0.1
    port = $port
}
service echo
{
    type = INTERNAL UNLISTED
    id = echo-dgram
    socket_type = dgram
    protocol = udp
    wait = yes
$XUSER
    bind = 127.0.0.1
    port = $port
}
EOF
        set -- xinetd -dontfork -filelog "$TMP/xinetd.log" -f "$TMP/xinetd.conf" \
            -pidfile "$TMP/xinetd.pid"
        ;;
    node) set -- node "$HERE/echo.js" "$port" ;;
    python) set -- python3 "$HERE/echo.py" "$port" ;;
    esac
    # shellcheck disable=SC2086 # PIN_S is a command prefix
    $PIN_S "$@" >"$TMP/server.out" 2>"$TMP/server.err" </dev/null &
    SPID=$!
    PIDS="$PIDS $SPID"
    i=0
    while ! listening "$port" "$proto"; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$SPID" 2>/dev/null; then
            log "$name did not start on port $port: $(head -n 3 "$TMP/server.err")"
            stop_server
            return 1
        fi
        sleep 0.05
    done
    return 0
}

# tree_cpu PID: CPU seconds of PID (with its reaped children) and its live descendants.
tree_cpu() {
    tck=$(getconf CLK_TCK)
    for p in $(descendants "$1"); do
        if [ "$p" = "$1" ]; then
            sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }'
        else
            sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }'
        fi
    done | awk -v t="$tck" '{ s += $1 } END { printf "%.3f\n", s / t }'
}

# tree_pin PID: "cpus=LIST procs=N": the CPU affinity lists found over PID and its
# descendants (distinct ones, comma-joined; a forked child inherits its parent's) and their count.
tree_pin() {
    for p in $(descendants "$1"); do
        awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$p/status" 2>/dev/null
    done | awk '{ n++; if (!($1 in seen)) { seen[$1] = 1; l = l (l == "" ? "" : ",") $1 } }
        END { printf "cpus=%s procs=%d\n", l, n }'
}

# tree_mem NAME PID: user memory in kB: VmRSS of a server that does not fork, the sum of
# Pss over PID and its descendants for one that does (shared pages counted once).
tree_mem() {
    if ! forks "$1"; then
        awk '/^VmRSS:/ { print $2 }' "/proc/$2/status"
    else
        # shellcheck disable=SC2046 # one PID per word
        set -- $(descendants "$2")
        for p in "$@"; do
            cat "/proc/$p/smaps_rollup" 2>/dev/null
        done | awk '/^Pss:/ { s += $2 } END { print s + 0 }'
    fi
}

stop_server() {
    kids=$(descendants "$SPID" | grep -vx "$SPID" || :)
    kill -TERM "$SPID" 2>/dev/null || :
    i=0
    while kill -0 "$SPID" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le 60 ] || { kill -KILL "$SPID" 2>/dev/null || :; break; }
        sleep 0.05
    done
    wait "$SPID" 2>/dev/null || :
    # Children still serving (socat, ncat and cat per connection) go too, by PID.
    for k in $kids; do kill -KILL "$k" 2>/dev/null || :; done
    # shellcheck disable=SC2086 # one PID per word
    PIDS=$(printf '%s\n' $PIDS | grep -vx "$SPID" | tr '\n' ' ')
}

# --- workloads ----------------------------------------------------------------------------
bench_args() {
    case $1 in
    a) echo "-c 1 -s 64 -P 1" ;;
    b) echo "-c 100 -s 64 -P 1" ;;
    c) echo "-c 1000 -s 64 -P 1" ;;
    d) echo "--stream -c 1 -s 65536 --window 1048576" ;;
    e1) echo "-u -c 1 -s 64 -P 1" ;;
    e16) echo "-u -c 16 -s 64 -P 1" ;;
    esac
}

RES="$TMP/results.tsv" # rep wl server value ok srv_cpu bench_cpu msgs extra
: >"$RES"
RETRIED=0 # run_load is running a smoke run once more
BENCH_T=$(awk -v d="$DUR" -v w="$WARM" 'BEGIN { printf "%d\n", d + w + 60 }')

# run_load SERVER WL REP
run_load() {
    s=$1 wl=$2 rep=$3
    proto=tcp
    case $wl in e*) proto=udp ;; esac
    port=$(free_port)
    if ! start_server "$s" "$proto" "$port"; then
        printf '%s\t%s\t%s\tNA\tstart\tNA\tNA\tNA\t-\n' "$rep" "$wl" "$s" >>"$RES"
        return
    fi
    c0=$(tree_cpu "$SPID")
    st=0
    # shellcheck disable=SC2046,SC2086 # word splitting of the argument lists is wanted
    timeout "$BENCH_T" $PIN_B "$BENCH" $(bench_args "$wl") -d "$DUR" -w "$WARM" -q --json \
        "127.0.0.1:$port" >"$TMP/b.json" 2>"$TMP/b.err" &
    bpid=$!
    PIDS="$PIDS $bpid"
    # Half-way through the measured interval: the CPUs the server and every process it
    # forked may run on (all must be CPU 0's set), and how many processes it has.
    sleep "$(awk -v d="$DUR" -v w="$WARM" 'BEGIN { print w + d / 2 }')"
    pin=$(tree_pin "$SPID")
    wait "$bpid" || st=$?
    # shellcheck disable=SC2086 # one PID per word
    PIDS=$(printf '%s\n' $PIDS | grep -vx "$bpid" | tr '\n' ' ')
    c1=$(tree_cpu "$SPID")
    case $pin in
    "cpus=$PIN_CPU "*) ;;
    *) [ -z "$PIN_CPU" ] || log "($wl) $s rep $rep: not confined to CPU $PIN_CPU: $pin" ;;
    esac
    stop_server
    if ! jq -e . "$TMP/b.json" >/dev/null 2>&1; then
        log "($wl) $s rep $rep: echo-bench exited $st without a report: $(head -n 2 "$TMP/b.err")"
        printf '%s\t%s\t%s\tNA\texit%s\tNA\tNA\tNA\t-\n' "$rep" "$wl" "$s" "$st" >>"$RES"
        return
    fi
    # Smoke mode proves the script works, not that the machine is quick: a run in which
    # nothing at all was measured (no echo completed in its tenths of a second, or no worker
    # reached the measured interval: a starved CPU), with nothing wrong either, runs once
    # more. A wrong byte, a close or a stall is never run again.
    if [ "$SMOKE" -eq 1 ] && [ "$RETRIED" -eq 0 ] && [ "$st" -ne 0 ] &&
        jq -e '.msgs == 0 and .mismatches == 0 and .early_closes == 0 and .stalls == 0 and
            .connect_errors == 0 and .udp.wrong == 0 and .udp.dup == 0' "$TMP/b.json" >/dev/null 2>&1; then
        log "($wl) $s rep $rep: nothing measured ($(head -n 1 "$TMP/b.err")); smoke mode: once more"
        RETRIED=1
        run_load "$s" "$wl" "$rep"
        RETRIED=0
        return
    fi
    [ "$st" -eq 0 ] || log "($wl) $s rep $rep: echo-bench exited $st: $(head -n 2 "$TMP/b.err")"
    key=msgs_per_s
    [ "$wl" = d ] && key=mb_per_s
    jq -r --arg rep "$rep" --arg wl "$wl" --arg s "$s" --arg key "$key" --arg st "$st" --arg pin "$pin" \
        --arg scpu "$(awk -v a="$c0" -v b="$c1" 'BEGIN { if (b < a) print "NA"; else printf "%.3f", b - a }')" '
        [$rep, $wl, $s, .[$key],
         (if $st == "0" and .ok then "ok" else "fail" end),
         $scpu, (.cpu_total_s // (.cpu_user_s + .cpu_sys_s)), .msgs,
         "conn_err=\(.connect_errors) early=\(.early_closes) mism=\(.mismatches) fair_min=\(.fair.min) \($pin)"]
        | @tsv' "$TMP/b.json" >>"$RES"
}

# run_idle SERVER REP: (f).
run_idle() {
    s=$1 rep=$2
    n=$IDLE
    forks "$s" && n=$IDLE_FORK
    port=$(free_port)
    if ! start_server "$s" tcp "$port"; then
        printf '%s\tf\t%s\tNA\tstart\tNA\tNA\tNA\t-\n' "$rep" "$s" >>"$RES"
        return
    fi
    sleep 0.2
    m0=$(tree_mem "$s" "$SPID")
    # A fresh file: a "ready" line left by the last run must not be taken for this one's.
    rm -f "$TMP/i.out"
    : >"$TMP/i.out"
    # shellcheck disable=SC2086
    timeout "$(awk -v h="$HOLD" 'BEGIN { printf "%d\n", h + 120 }')" $PIN_B "$BENCH" --idle "$n" --hold "$HOLD" --json \
        "127.0.0.1:$port" >>"$TMP/i.out" 2>"$TMP/i.err" &
    bpid=$!
    PIDS="$PIDS $bpid"
    i=0
    while ! grep -q '^ready ' "$TMP/i.out" 2>/dev/null && kill -0 "$bpid" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le 1800 ] || break
        sleep 0.05
    done
    # The server may still be accepting what the kernel already completed: wait until its
    # memory stops growing (at most 3 s).
    m1=$(tree_mem "$s" "$SPID")
    i=0
    while [ $i -lt 15 ]; do
        sleep 0.2
        m2=$(tree_mem "$s" "$SPID")
        [ "$m2" -le "$m1" ] && break
        m1=$m2
        i=$((i + 1))
    done
    st=0
    wait "$bpid" || st=$?
    # shellcheck disable=SC2086 # one PID per word
    PIDS=$(printf '%s\n' $PIDS | grep -vx "$bpid" | tr '\n' ' ')
    stop_server
    json=$(grep '^{' "$TMP/i.out" | tail -n 1)
    if [ -z "$json" ]; then
        log "(f) $s rep $rep: echo-bench exited $st without a report: $(head -n 2 "$TMP/i.err")"
        printf '%s\tf\t%s\tNA\texit%s\tNA\tNA\tNA\t-\n' "$rep" "$s" "$st" >>"$RES"
        return
    fi
    [ "$st" -eq 0 ] || log "(f) $s rep $rep: echo-bench exited $st: $(head -n 2 "$TMP/i.err")"
    printf '%s\n' "$json" | jq -r --arg rep "$rep" --arg s "$s" --arg st "$st" \
        --arg per "$(awk -v a="$m0" -v b="$m1" -v n="$n" 'BEGIN { printf "%.1f", (b - a) * 1024 / n }')" '
        [$rep, "f", $s, $per,
         (if $st == "0" and .ok and .idle.answered == .idle.held then "ok" else "fail" end),
         "NA", "NA", "NA", "held=\(.idle.held) answered=\(.idle.answered)"] | @tsv' >>"$RES"
}

# --- the matrix ---------------------------------------------------------------------------
T0=$(date +%s)
log "servers:$RUN_SERVERS; workloads: $WORKLOADS; $REPS repetition(s), -d $DUR -w $WARM"
rep=1
while [ "$rep" -le "$REPS" ]; do
    # Rotate the order each repetition, so no server always runs right after another.
    # shellcheck disable=SC2086 # one server per word
    order=$(printf '%s\n' $RUN_SERVERS | awk -v r="$rep" '{ a[NR] = $0 } END { for (i = 0; i < NR; i++) print a[(i + r - 1) % NR + 1] }')
    for wl in $WORKLOADS; do
        for s in $order; do
            log "rep $rep/$REPS ($wl) $s"
            if [ "$wl" = f ]; then run_idle "$s" "$rep"; else run_load "$s" "$wl" "$rep"; fi
        done
    done
    rep=$((rep + 1))
done
T1=$(date +%s)

# --- tables -------------------------------------------------------------------------------
report() {
    awk -F '\t' -v servers="$RUN_SERVERS" -v wls="$WORKLOADS" -v reps="$REPS" \
        -v dur="$DUR" -v warm="$WARM" -v idle="$IDLE" -v idlef="$IDLE_FORK" -v secs=$((T1 - T0)) '
    function median(list,    a, n, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
        if (n == 0) return ""
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function human(v, wl) {
        if (v == "") return "–"
        if (wl == "f") return sprintf("%.0f B", v)
        if (wl == "d") return sprintf("%.0f MB/s", v)
        if (v >= 1e6) return sprintf("%.2fM/s", v / 1e6)
        if (v >= 1e4) return sprintf("%.1fk/s", v / 1e3)
        return sprintf("%.0f/s", v)
    }
    {
        rep = $1; wl = $2; s = $3
        k = wl SUBSEP s
        runs[k]++
        if ($5 != "ok") bad[k]++
        if ($4 != "NA") { val[k] = val[k] " " $4; v[rep, wl, s] = $4 }
        if ($7 != "NA" && $8 > 0) {
            scale = (dur + warm) / dur  # CPU covers warm-up too: count its messages
            if ($6 != "NA") scpu[k] = scpu[k] " " ($6 * 1e6 / ($8 * scale))
            bcpu[k] = bcpu[k] " " ($7 * 1e6 / ($8 * scale))
        }
    }
    END {
        ns = split(servers, S, " "); nw = split(wls, W, " ")
        name["a"] = "(a) TCP 1 conn"; name["b"] = "(b) 100 conns"; name["c"] = "(c) 1,000 conns"
        name["d"] = "(d) stream"; name["e1"] = "(e1) UDP 1"; name["e16"] = "(e16) UDP 16"
        name["f"] = "(f) idle B/conn"
        printf "Medians of %d repetition(s) (-d %s -w %s), each cell: median (median of the per-repetition ratios to ref). %d s.\n\n", reps, dur, warm, secs
        line = "| server |"; sep = "|---|"
        for (j = 1; j <= nw; j++) { line = line " " name[W[j]] " |"; sep = sep "---|" }
        print line; print sep
        for (i = 1; i <= ns; i++) {
            s = S[i]; line = "| " s " |"
            for (j = 1; j <= nw; j++) {
                wl = W[j]; k = wl SUBSEP s
                m = median(val[k]); cell = human(m, wl)
                rl = ""
                for (r = 1; r <= reps; r++)
                    if (((r, wl, s) in v) && ((r, wl, "ref") in v) && v[r, wl, "ref"] > 0)
                        rl = rl " " (v[r, wl, s] / v[r, wl, "ref"])
                if (rl != "" && s != "ref") cell = cell sprintf(" (%.2f×)", median(rl))
                if (bad[k]) cell = cell sprintf(" ✗%d/%d", bad[k], runs[k])
                line = line " " cell " |"
            }
            print line
        }
        printf "\n(f): %d connections held (%d for servers that fork per connection); ✗n/m: n of m runs failed verification, did not answer or did not start.\n\n", idle, idlef
        if (wls == "f") exit
        printf "CPU time per message, µs, median (server / echo-bench):\n\n"
        line = "| server |"; sep = "|---|"
        for (j = 1; j <= nw; j++) if (W[j] != "f") { line = line " " name[W[j]] " |"; sep = sep "---|" }
        print line; print sep
        for (i = 1; i <= ns; i++) {
            s = S[i]; line = "| " s " |"
            for (j = 1; j <= nw; j++) {
                wl = W[j]; if (wl == "f") continue
                k = wl SUBSEP s
                if (bcpu[k] == "") { line = line " – |"; continue }
                if (scpu[k] == "") line = line sprintf(" – / %.2f |", median(bcpu[k]))
                else line = line sprintf(" %.2f / %.2f |", median(scpu[k]), median(bcpu[k]))
            }
            print line
        }
    }' "$RES"
}
report >"$TMP/report.md"
cat "$TMP/report.md"
if [ -n "$OUT" ]; then
    cp "$TMP/report.md" "$OUT"
    cp "$RES" "$OUT.tsv" # one row per run: rep workload server value verdict cpu... details
fi

# Verification: echod (polling or not) and the reference must pass every run;
# the others are reported only.
MUST='^(echod|echod-sleep|ref)$'
fails=$(awk -F '\t' -v must="$MUST" '$3 ~ must && $5 != "ok" { n++ } END { print n + 0 }' "$RES")
others=$(awk -F '\t' -v must="$MUST" '$3 !~ must && $5 != "ok" { n++ } END { print n + 0 }' "$RES")
if [ "$fails" -gt 0 ]; then
    echo
    echo "verification: $fails run(s) of echod or ref FAILED"
    awk -F '\t' '$5 != "ok" { print "  rep " $1 " (" $2 ") " $3 ": " $5 " " $9 }' "$RES"
    exit 1
fi
echo
echo "verification: every echod and ref run passed ($others failed run(s) of other servers)"
