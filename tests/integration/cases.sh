#!/bin/sh
# Integration cases for echod and echo-client (label "integration"); one per CTest test:
#   sh cases.sh CASE     with ECHOD, ECHO_CLIENT and ITEST naming the programs.
# Every case starts its own `echod --port 0`, reads the "listening" lines for the port, talks
# to it over loopback only, bounds every wait (timeout(1) or itest's own), and stops what it
# started by PID (trap on exit). Assertions are about bytes, exit statuses and counters.
set -eu

: "${ECHOD:?set ECHOD}" "${ECHO_CLIENT:?set ECHO_CLIENT}" "${ITEST:?set ITEST}"
CASE=${1:?usage: cases.sh CASE}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/eh-it.XXXXXX")
PIDS=""

cleanup() {
    for p in $PIDS; do
        kill "$p" 2>/dev/null || :
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL [$CASE] $*" >&2
    for f in "$TMP"/*.err; do
        [ -s "$f" ] && { echo "--- $f:" >&2; head -n 20 "$f" >&2; }
    done
    exit 1
}

note() { echo "[$CASE] $*"; }

# wait_listening OUT PID: waits (5 s at most) for "listening" lines from PID in OUT and sets
# PORT from the first of them.
wait_listening() {
    i=0
    while ! grep -q '^listening ' "$1" 2>/dev/null; do
        kill -0 "$2" 2>/dev/null || fail "server $2 exited before listening"
        i=$((i + 1))
        [ $i -le 100 ] || fail "server $2 printed no listening line within 5 s"
        sleep 0.05
    done
    sleep 0.05 # the second line (udp) follows the first at once
    PORT=$(sed -n 's/^listening [a-z]* .*:\([0-9][0-9]*\)$/\1/p' "$1" | head -n 1)
    [ -n "$PORT" ] || fail "cannot parse a port from: $(cat "$1")"
}

# start_echod [ARGS...]: runs echod --port 0 ARGS in the background; sets EPID and PORT.
start_echod() {
    : >"$TMP/echod.out" # emptied first: never read the port of the last echod
    "$ECHOD" --port 0 "$@" >"$TMP/echod.out" 2>"$TMP/echod.err" &
    EPID=$!
    PIDS="$PIDS $EPID"
    wait_listening "$TMP/echod.out" "$EPID"
}

# stop_pid PID: SIGTERM, then waits (5 s at most); sets STATUS to its exit status.
stop_pid() {
    kill -TERM "$1" 2>/dev/null || :
    i=0
    while kill -0 "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le 100 ] || { kill -KILL "$1" 2>/dev/null; fail "pid $1 ignored SIGTERM"; }
        sleep 0.05
    done
    STATUS=0
    wait "$1" || STATUS=$?
}

# stop_echod: stops echod and checks it exits 0 with a one-line summary in SUMMARY.
stop_echod() {
    stop_pid "$EPID"
    [ "$STATUS" -eq 0 ] || fail "echod exited with status $STATUS"
    SUMMARY=$(tail -n 1 "$TMP/echod.err")
    case $SUMMARY in
    "echod: stopped by SIGTERM: "*) ;;
    *) fail "no summary line from echod: $SUMMARY" ;;
    esac
}

# counter NAME: the value of NAME=... in the part ("tcp" or "udp") of SUMMARY given by $2.
counter() {
    part=$(printf '%s\n' "$SUMMARY" | sed -n "s/.*$2 \(.*\)/\1/p" | sed 's/;.*//')
    printf '%s\n' "$part" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

expect_counter() { # PART NAME OP VALUE
    v=$(counter "$2" "$1")
    [ -n "$v" ] || fail "no counter $1 $2 in: $SUMMARY"
    case $3 in
    -eq) [ "$v" -eq "$4" ] ;;
    -ge) [ "$v" -ge "$4" ] ;;
    -gt) [ "$v" -gt "$4" ] ;;
    *) false ;;
    esac || fail "counter $1 $2=$v, expected $3 $4 ($SUMMARY)"
}

itest() { timeout 50 "$ITEST" "$@" || fail "itest $* failed"; }

# echod_cpu_ms: the CPU time (user + system) the running echod has used so far, in ms.
echod_cpu_ms() {
    awk -v tck="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / tck) }' "/proc/$EPID/stat"
}

# poll_stat CAP NAME: a figure from echod's busy-poll summary line ("polls", "polling-ms").
poll_stat() {
    line=$(grep "^echod: busy-poll $1 us: " "$TMP/echod.err") ||
        fail "no busy-poll $1 us summary line: $(cat "$TMP/echod.err")"
    printf '%s\n' "$line" | sed -n "s/.* $2=\([0-9.]*\).*/\1/p"
}

# one_line_error STATUS WANT CMD...: runs CMD, expects exit STATUS and one stderr line
# matching the glob WANT.
one_line_error() {
    want_status=$1 want=$2
    shift 2
    st=0
    timeout 20 "$@" </dev/null >"$TMP/cmd.out" 2>"$TMP/cmd.stderr" || st=$?
    [ "$st" -eq "$want_status" ] || fail "'$*' exited $st, expected $want_status: $(cat "$TMP/cmd.stderr")"
    [ "$(wc -l <"$TMP/cmd.stderr")" -eq 1 ] || fail "'$*' printed not one line: $(cat "$TMP/cmd.stderr")"
    line=$(cat "$TMP/cmd.stderr")
    # shellcheck disable=SC2254 # WANT is a glob on purpose
    case $line in
    $want) ;;
    *) fail "'$*' printed '$line', expected '$want'" ;;
    esac
    note "ok: $* -> $st: $line"
}

case_rounds() {
    start_echod
    itest rounds "$PORT" 50
    stop_echod
    expect_counter tcp accepted -eq 1
    expect_counter tcp errors -eq 0
}

case_bulk_8m() {
    start_echod
    itest stream "$PORT" 8388608 1
    stop_echod
}

# The client writes megabytes before reading: full 64 KiB reads start the splice path
# (socket -> pipe -> socket); --no-splice copies everything through user space instead.
case_write_first() {
    start_echod --buffer 65536
    itest writefirst "$PORT" 8388608
    itest halfclose "$PORT" 4194304
    stop_echod
    expect_counter tcp errors -eq 0
    expect_counter tcp spliced -gt 0
    start_echod --no-splice
    itest writefirst "$PORT" 8388608
    stop_echod
    expect_counter tcp errors -eq 0
    expect_counter tcp spliced -eq 0
}

case_half_close() {
    start_echod
    itest halfclose "$PORT" 262144
    itest halfclose "$PORT" 1
    stop_echod
}

case_reset() {
    start_echod
    itest reset "$PORT"
    # SIGINT stops it as gracefully as SIGTERM.
    kill -INT "$EPID"
    i=0
    while kill -0 "$EPID" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le 100 ] || fail "echod ignored SIGINT"
        sleep 0.05
    done
    st=0
    wait "$EPID" || st=$?
    [ "$st" -eq 0 ] || fail "echod exited $st after SIGINT"
    grep -q '^echod: stopped by SIGINT: tcp accepted=22 ' "$TMP/echod.err" ||
        fail "summary: $(cat "$TMP/echod.err")"
}

case_small_buffer() {
    # A 7-byte cap: the pending ring wraps constantly and backpressure starts at once.
    start_echod --buffer 7
    itest stream "$PORT" 100000 3
    itest writefirst "$PORT" 300000
    itest halfclose "$PORT" 50000
    stop_echod
    expect_counter tcp errors -eq 0
}

case_concurrent_100() {
    start_echod
    itest stream "$PORT" 65536 100
    stop_echod
    expect_counter tcp accepted -eq 100
    expect_counter tcp closed -eq 100
}

case_udp_empty() {
    start_echod
    itest udp "$PORT" 0
    stop_echod
    expect_counter udp received -eq 1
    expect_counter udp sent -eq 1
}

case_udp_max() {
    start_echod
    itest udp "$PORT" 65507
    itest udp "$PORT" 1
    stop_echod
    expect_counter udp truncated -eq 0
}

case_udp_denied() {
    src=$(timeout 10 "$ITEST" freeport) || fail "no free port"
    start_echod --deny-port "$src" --deny-port 9
    itest udp-none "$PORT" 10 "$src"
    itest udp "$PORT" 10 # from another port: answered
    stop_echod
    expect_counter udp denied-port -eq 1
    expect_counter udp reply -eq 1
}

case_udp_allow() {
    start_echod --allow 10.0.0.0/8
    src=$(timeout 10 "$ITEST" freeport) || fail "no free port"
    itest udp-none "$PORT" 5 "$src"
    itest closed "$PORT" # a TCP client outside --allow is closed at once
    stop_echod
    expect_counter udp not-allowed -eq 1
    expect_counter tcp not-allowed -eq 1
    expect_counter tcp accepted -eq 0
    start_echod --allow 127.0.0.0/8 --allow ::1
    itest udp "$PORT" 5
    itest rounds "$PORT" 3
    stop_echod
    expect_counter tcp not-allowed -eq 0
}

# RFC 1122 3.3.4.2: echod bound to a wildcard address answers a UDP request from the address
# it was sent to, so a client whose connected socket points at 127.0.0.2 gets the reply.
case_udp_wildcard() {
    v6=1
    if ! [ -e /proc/net/if_inet6 ]; then
        v6=0
        note "IPv6 part skipped: no IPv6"
    fi
    if [ $v6 -eq 1 ]; then
        set -- --listen '[::]'
    else
        set --
    fi
    : >"$TMP/echod.out" # emptied first: never read the port of the last echod
    "$ECHOD" --port 0 --listen 0.0.0.0 "$@" >"$TMP/echod.out" 2>"$TMP/echod.err" &
    EPID=$!
    PIDS="$PIDS $EPID"
    wait_listening "$TMP/echod.out" "$EPID"
    i=0
    while [ "$(grep -c '^listening udp ' "$TMP/echod.out")" -lt $((1 + v6)) ]; do
        i=$((i + 1))
        [ $i -le 100 ] || fail "missing udp listening lines: $(cat "$TMP/echod.out")"
        sleep 0.05
    done
    p4=$(sed -n 's/^listening udp 0\.0\.0\.0:\([0-9][0-9]*\)$/\1/p' "$TMP/echod.out")
    [ -n "$p4" ] || fail "no udp 0.0.0.0 listener: $(cat "$TMP/echod.out")"
    itest udp-from "127.0.0.2:$p4"
    itest udp-from "127.0.0.1:$p4"
    sent=2
    if [ $v6 -eq 1 ]; then
        p6=$(sed -n 's/^listening udp \[::\]:\([0-9][0-9]*\)$/\1/p' "$TMP/echod.out")
        [ -n "$p6" ] || fail "no udp [::] listener: $(cat "$TMP/echod.out")"
        itest udp-from "[::1]:$p6"
        sent=3
    fi
    stop_echod
    expect_counter udp sent -eq $((2 * sent))
    expect_counter udp send-dropped -eq 0
}

case_max_conns() {
    start_echod --max-conns 5
    itest maxconns "$PORT" 5 3
    stop_echod
    expect_counter tcp refused-full -ge 3
}

case_emfile() {
    # Out of descriptors: 32 allows about 24 connections. The server must shed the rest
    # without spinning and keep serving the connection it has.
    # shellcheck disable=SC3045 # dash, bash and busybox sh all have ulimit -n
    : >"$TMP/echod.out" # emptied first: never read the port of the last echod
    (ulimit -n 32 && exec "$ECHOD" --port 0 --tcp-only) >"$TMP/echod.out" 2>"$TMP/echod.err" &
    EPID=$!
    PIDS="$PIDS $EPID"
    wait_listening "$TMP/echod.out" "$EPID"
    t0=$(echod_cpu_ms)
    itest emfile "$PORT" 60 2
    cpu_ms=$(($(echod_cpu_ms) - t0))
    note "echod CPU time while out of descriptors: ${cpu_ms} ms over ~2 s"
    [ "$cpu_ms" -lt 500 ] || fail "echod used ${cpu_ms} ms of CPU in ~2 s: it spins on accept"
    stop_echod
    shed=$(counter shed tcp)
    backoffs=$(counter backoffs tcp)
    [ $((shed + backoffs)) -gt 0 ] || fail "echod never ran out of descriptors: $SUMMARY"
    note "$SUMMARY"
}

case_emfile_accepts() {
    # Out of descriptors, every accept(2) either takes a connection or finds the queue empty
    # once per wake-up: shedding stops at the empty queue (it once went on for 64 rounds of
    # close, failing accept and open per event: 130 calls for 9 connections with 16
    # descriptors, 14 since). Counted with strace when it is installed.
    if ! command -v strace >/dev/null 2>&1; then
        note "skipped: strace is not installed"
        return 0
    fi
    # shellcheck disable=SC3045 # dash, bash and busybox sh all have ulimit -n
    : >"$TMP/echod.out" # emptied first: never read the port of the last echod
    (ulimit -n 16 && exec "$ECHOD" --port 0 --tcp-only) >"$TMP/echod.out" 2>"$TMP/echod.err" &
    EPID=$!
    PIDS="$PIDS $EPID"
    wait_listening "$TMP/echod.out" "$EPID"
    strace -f -qq -c -o "$TMP/strace" -e trace=accept,accept4 -p "$EPID" 2>"$TMP/strace.err" &
    SPID=$!
    PIDS="$PIDS $SPID"
    i=0 # wait until strace is attached (TracerPid set), at most 5 s
    while [ "$i" -lt 100 ] && [ "$(awk '/^TracerPid:/ {print $2}' "/proc/$EPID/status")" = 0 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    itest emfile "$PORT" 8 1
    kill -INT "$SPID" 2>/dev/null || :
    wait "$SPID" 2>/dev/null || : # strace's own status says nothing about echod
    stop_echod
    calls=$(awk '$NF ~ /^accept4?$/ {n += $4} END {print n + 0}' "$TMP/strace")
    conns=$(($(counter accepted tcp) + $(counter shed tcp) + $(counter refused-full tcp)))
    note "accept calls: $calls for $conns connections taken ($SUMMARY)"
    [ "$(counter shed tcp)" -gt 0 ] || fail "echod never ran out of descriptors: $SUMMARY"
    [ "$calls" -le $((3 * conns + 10)) ] ||
        fail "$calls accept calls for $conns connections: shedding does not stop at an empty queue"
}

case_idle_timeout() {
    start_echod --idle-timeout 1
    itest idle "$PORT" 10 # a silent connection is closed by the server (within 10 s)
    stop_echod
    expect_counter tcp idle-closed -eq 1
}

# echod_rss_kb: the running echod's resident memory (VmRSS), in kB.
echod_rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$EPID/status"
}

# wait_filled OUT PID WHAT: waits (30 s at most) until "itest noread", running as PID with
# its output in OUT, says its connections are filled; fails (WHAT first) if it ends first.
wait_filled() {
    i=0
    while ! grep -q '^filled ' "$1"; do
        kill -0 "$2" 2>/dev/null || fail "${3}itest noread: $(cat "$1")"
        i=$((i + 1))
        [ $i -le 600 ] || fail "${3}the connections were not filled within 30 s"
        sleep 0.05
    done
}

# Clients that send and never read: 8 connections offer 32 MiB each. echod must stop
# reading each at --buffer (64 KiB) and keep its memory within that (8 x 64 KiB, plus 1 MiB
# for the rest), serve another client meanwhile, and close the stuck ones at its idle
# timeout (nothing moves on them). Once as echod runs by default (a full bulk read whose
# echo all went out starts the splice path, the held bytes then waiting in a kernel pipe; how
# often that happens here depends on timing, so it is noted, not asserted) and once copying
# (--no-splice: they all wait in user space).
case_noread() {
    for mode in default copy; do
        set -- --buffer 65536 --idle-timeout 2
        [ $mode = default ] || set -- "$@" --no-splice
        start_echod "$@"
        rss0=$(echod_rss_kb)
        : >"$TMP/noread.out"
        timeout 50 "$ITEST" noread "$PORT" 8 33554432 10 >"$TMP/noread.out" 2>&1 &
        ipid=$!
        PIDS="$PIDS $ipid"
        wait_filled "$TMP/noread.out" "$ipid" "$mode: "
        rss1=$(echod_rss_kb)
        wait "$ipid" || fail "$mode: itest noread: $(cat "$TMP/noread.out")"
        stop_echod
        note "$mode: $(head -n 1 "$TMP/noread.out"); echod VmRSS ${rss0} kB -> ${rss1} kB;" \
            "spliced=$(counter spliced tcp)"
        [ $((rss1 - rss0)) -le $((8 * 64 + 1024)) ] ||
            fail "$mode: echod grew by $((rss1 - rss0)) kB for 8 stuck connections (cap 64 KiB each)"
        expect_counter tcp idle-closed -eq 8
        expect_counter tcp accepted -eq 9
        if [ $mode = copy ]; then expect_counter tcp spliced -eq 0; fi
    done
}

# echod sharing its CPU with a busy task (a shell loop pinned to the same CPU), the client on
# another: a poll between messages meets the busy task, and yielding to it on every message
# made each message wait out the task's time slice (0.06-0.14x the messages of --busy-poll
# 0). echod must back off instead. Counted, not timed: "yielded-to-others" in its summary (a
# yield after which another task had run) came once per message without the back-off (about
# 300 for 600 round trips), a few times with it (7).
case_poll_shared_cpu() {
    if ! command -v taskset >/dev/null 2>&1 || [ "$(getconf _NPROCESSORS_ONLN)" -lt 2 ]; then
        note "skipped: needs taskset and two CPUs"
        return 0
    fi
    # Two CPUs this test may use: the first for echod and the busy loop, the second for the
    # client.
    cpus=$(taskset -pc $$ | sed 's/.*: //' | tr ',' '\n' | awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2); c++) print c }' | head -n 2)
    cpu=$(echo "$cpus" | sed -n 1p) other=$(echo "$cpus" | sed -n 2p)
    [ -n "$other" ] || { note "skipped: one CPU allowed"; return 0; }
    timeout 40 taskset -c "$cpu" sh -c 'while :; do :; done' &
    hog=$!
    PIDS="$PIDS $hog"
    : >"$TMP/echod.out"
    taskset -c "$cpu" "$ECHOD" --port 0 >"$TMP/echod.out" 2>"$TMP/echod.err" &
    EPID=$!
    PIDS="$PIDS $EPID"
    wait_listening "$TMP/echod.out" "$EPID"
    timeout 50 taskset -c "$other" "$ITEST" rounds "$PORT" 600 || fail "itest rounds failed"
    kill "$hog" 2>/dev/null || :
    stop_echod
    y=$(poll_stat 200 yielded-to-others)
    note "CPU $cpu shared with a busy loop: 600 round trips, $y yields to another task ($(poll_stat 200 polls) polls)"
    [ "$y" -lt 60 ] || fail "echod yielded to the busy task $y times in 600 round trips: no back-off"
}

# SIGTERM while loaded: 8 streams flowing and 8 stuck writers with bytes pending, over two
# workers. echod must stop at once (5 s at most), exit 0 and print its summary; its clients
# see their connections end (they fail, and must not hang).
case_term_loaded() {
    start_echod --workers 2
    timeout 50 "$ITEST" stream "$PORT" 4294967296 8 >"$TMP/load.out" 2>&1 &
    lpid=$!
    timeout 50 "$ITEST" noread "$PORT" 8 33554432 30 >"$TMP/stuck.out" 2>&1 &
    spid=$!
    PIDS="$PIDS $lpid $spid"
    wait_filled "$TMP/stuck.out" "$spid" ""
    kill -0 "$lpid" 2>/dev/null || fail "the load ended before SIGTERM: $(cat "$TMP/load.out")"
    stop_echod
    note "$SUMMARY"
    expect_counter tcp accepted -ge 16
    for p in $lpid $spid; do
        i=0
        while kill -0 "$p" 2>/dev/null; do
            i=$((i + 1))
            [ $i -le 200 ] || fail "a client of the stopped echod still runs after 10 s"
            sleep 0.05
        done
    done
    st=0
    wait "$lpid" || st=$?
    [ "$st" -eq 1 ] || fail "the streams exited $st, not 1 (a failed echo): $(cat "$TMP/load.out")"
}

case_ipv6() {
    if ! timeout 5 "$ITEST" freeport >/dev/null || ! [ -e /proc/net/if_inet6 ]; then
        note "skipped: no IPv6"
        return 0
    fi
    : >"$TMP/echod.out" # emptied first: never read the port of the last echod
    "$ECHOD" --port 0 --listen '[::1]' --listen 127.0.0.1 >"$TMP/echod.out" 2>"$TMP/echod.err" &
    EPID=$!
    PIDS="$PIDS $EPID"
    wait_listening "$TMP/echod.out" "$EPID"
    sleep 0.1
    grep -q '^listening tcp \[::1\]:' "$TMP/echod.out" || fail "no [::1] listener: $(cat "$TMP/echod.out")"
    p6=$(sed -n 's/^listening tcp \[::1\]:\([0-9]*\)$/\1/p' "$TMP/echod.out")
    [ "$(printf 'six\n' | timeout 10 "$ECHO_CLIENT" "[::1]:$p6")" = six ] || fail "no TCP echo over IPv6"
    [ "$(printf 'six\n' | timeout 10 "$ECHO_CLIENT" -u "[::1]:$p6")" = six ] || fail "no UDP echo over IPv6"
    stop_echod
}

case_client_pipe() {
    start_echod
    printf '  hello  \n\nworld\n\tbinary\001 and NUL-free\n' >"$TMP/in"
    printf 'hello\nworld\nbinary\001 and NUL-free\n' >"$TMP/want"
    timeout 20 "$ECHO_CLIENT" "$PORT" <"$TMP/in" >"$TMP/got" 2>"$TMP/client.err" ||
        fail "echo-client exited $?"
    cmp -s "$TMP/got" "$TMP/want" || fail "TCP output differs: $(cat "$TMP/got")"
    # UDP: the blank line is an empty datagram, echoed as an empty line.
    printf 'hello\n\nworld\nbinary\001 and NUL-free\n' >"$TMP/want"
    timeout 20 "$ECHO_CLIENT" -u "127.0.0.1:$PORT" <"$TMP/in" >"$TMP/got" 2>"$TMP/client.err" ||
        fail "echo-client -u exited $?"
    cmp -s "$TMP/got" "$TMP/want" || fail "UDP output differs: $(cat "$TMP/got")"
    # "q" quits; nothing after it is sent.
    [ "$(printf 'a\nq\nb\n' | timeout 20 "$ECHO_CLIENT" "localhost:$PORT")" = a ] || fail "q did not quit"
    # A 1 MiB line comes back reassembled from many reads.
    head -c 1048576 /dev/zero | tr '\0' 'x' >"$TMP/long"
    echo >>"$TMP/long"
    timeout 20 "$ECHO_CLIENT" "$PORT" <"$TMP/long" >"$TMP/got" || fail "long line failed"
    cmp -s "$TMP/got" "$TMP/long" || fail "long line differs"
    stop_echod
    expect_counter udp sent -eq 4
}

case_client_fail() {
    free=$(timeout 10 "$ITEST" freeport) || fail "no free port"
    one_line_error 1 "echo-client: cannot connect to 127.0.0.1:$free: Connection refused" \
        "$ECHO_CLIENT" "$free"
    printf 'x\n' >"$TMP/x"
    st=0
    timeout 20 "$ECHO_CLIENT" -u "$free" <"$TMP/x" 2>"$TMP/cmd.stderr" >/dev/null || st=$?
    [ "$st" -eq 1 ] || fail "UDP to a closed port exited $st"
    grep -q "echo-client: no echo from 127.0.0.1:$free: port unreachable" "$TMP/cmd.stderr" ||
        fail "UDP port unreachable not reported: $(cat "$TMP/cmd.stderr")"
    one_line_error 2 "echo-client: unknown option '--bogus' (see --help)" "$ECHO_CLIENT" --bogus 7
    one_line_error 2 "echo-client: missing*" "$ECHO_CLIENT"
    one_line_error 2 "echo-client: bad address*" "$ECHO_CLIENT" "1.2.3.4:99999"
    one_line_error 2 "echo-client: bad --timeout*" "$ECHO_CLIENT" -t x 7

    # Servers that break the echo: one never answers, one changes a byte.
    for mode in mute flip; do
        timeout 50 "$ITEST" serve "$mode" >"$TMP/$mode.out" 2>"$TMP/$mode.err" &
        spid=$!
        PIDS="$PIDS $spid"
        wait_listening "$TMP/$mode.out" "$spid"
        case $mode in
        mute) port_mute=$PORT ;;
        flip) port_flip=$PORT ;;
        esac
    done
    for t in "" -u; do
        st=0
        timeout 20 "$ECHO_CLIENT" $t -t 1 "$port_mute" <"$TMP/x" >/dev/null 2>"$TMP/cmd.stderr" || st=$?
        [ "$st" -eq 3 ] || fail "mute server ($t): status $st, expected 3"
        grep -qx "echo-client: no echo from 127.0.0.1:$port_mute within 1 s" "$TMP/cmd.stderr" ||
            fail "mute server ($t): $(cat "$TMP/cmd.stderr")"
        st=0
        timeout 20 "$ECHO_CLIENT" $t -t 5 "$port_flip" <"$TMP/x" >/dev/null 2>"$TMP/cmd.stderr" || st=$?
        [ "$st" -eq 4 ] || fail "flipping server ($t): status $st, expected 4"
        grep -q "echo-client: echo from 127.0.0.1:$port_flip differs at byte 0" "$TMP/cmd.stderr" ||
            fail "flipping server ($t): $(cat "$TMP/cmd.stderr")"
    done
    note "ok: refused 1, unreachable 1, usage 2, timeout 3, mismatch 4"
}

case_echod_options() {
    one_line_error 2 "echod: unknown option '--bogus' (see --help)" "$ECHOD" --bogus
    one_line_error 2 "echod: bad --port '99999': *" "$ECHOD" --port 99999
    one_line_error 2 "echod: bad --buffer '0': *" "$ECHOD" --buffer 0
    one_line_error 2 "echod: bad --max-conns 'x': *" "$ECHOD" --max-conns x
    one_line_error 2 "echod: bad --idle-timeout '2592001': *" "$ECHOD" --idle-timeout 2592001
    one_line_error 2 "echod: bad --deny-port '-1': *" "$ECHOD" --deny-port -1
    one_line_error 2 "echod: unexpected argument 'extra' (see --help)" "$ECHOD" extra
    one_line_error 2 "echod: bad --listen '127.0.0.1:abc': *" "$ECHOD" --listen 127.0.0.1:abc
    one_line_error 2 "echod: bad --allow '10.0.0.0/99': *" "$ECHOD" --allow 10.0.0.0/99
    one_line_error 2 "echod: option '--port' needs an argument (see --help)" "$ECHOD" --port
    one_line_error 2 "echod: --tcp-only and --udp-only exclude each other" "$ECHOD" --tcp-only --udp-only
    one_line_error 2 "echod: bad --congestion 'no-such-cc': No such file or directory (see *)" \
        "$ECHOD" --congestion no-such-cc
    one_line_error 3 "echod: cannot listen on 192.0.2.1:7007: Cannot assign requested address" \
        "$ECHOD" --listen 192.0.2.1
    start_echod
    one_line_error 3 "echod: cannot listen on 127.0.0.1:$PORT: Address already in use" \
        "$ECHOD" --port "$PORT"
    stop_echod
    one_line_error 2 "echod: bad --busy-poll '100001': *" "$ECHOD" --busy-poll 100001
    one_line_error 2 "echod: bad --busy-poll '-5': *" "$ECHOD" --busy-poll -5
    # --busy-poll serves TCP and UDP alike, and its waits are really polls (summary line;
    # a 100 ms cap, so that even a loaded machine's gaps open the window).
    start_echod --busy-poll 100000 --workers 2
    itest stream "$PORT" 1048576 4
    itest udp "$PORT" 100
    stop_echod
    expect_counter udp sent -eq 1
    [ "$(poll_stat 100000 polls)" -gt 0 ] || fail "busy-poll: nothing polled: $(cat "$TMP/echod.err")"
    # By default echod polls (adaptively, 200 us at most) once a burst of events has opened
    # the window, yet once the traffic stops it sleeps: over an idle second it uses (almost)
    # no CPU. A loop that kept polling would use most of that second.
    start_echod
    itest stream "$PORT" 1048576 2
    itest udp "$PORT" 100
    sleep 0.2
    t0=$(echod_cpu_ms)
    sleep 1
    cpu_ms=$(($(echod_cpu_ms) - t0))
    stop_echod
    [ "$(poll_stat 200 polls)" -gt 0 ] || fail "default echod polled nothing: $(cat "$TMP/echod.err")"
    [ "$cpu_ms" -le 50 ] || fail "idle echod used ${cpu_ms} ms of CPU in 1 s"
    # Sparse traffic (datagrams 20 ms apart, far beyond the 200 us cap) never opens the
    # window: (almost) no time spent polling.
    start_echod
    for i in 1 2 3 4 5 6 7 8 9 10; do
        itest udp "$PORT" 64
        sleep 0.02
    done
    stop_echod
    expect_counter udp sent -eq 10
    ms=$(poll_stat 200 polling-ms)
    [ "${ms%%.*}" -lt 1 ] || fail "sparse traffic: ${ms} ms spent polling: $(cat "$TMP/echod.err")"
    # Any congestion control the kernel allows serves, as does the system's.
    for cc in system reno; do
        start_echod --congestion "$cc" --workers 2
        itest stream "$PORT" 1048576 1
        stop_echod
    done
    timeout 5 "$ECHOD" --help >"$TMP/help" || fail "--help failed"
    grep -q '^  3  cannot listen' "$TMP/help" ||
        fail "--help lists no exit statuses"
    timeout 5 "$ECHOD" --version | grep -q '^echod ' || fail "--version"
    timeout 5 "$ECHO_CLIENT" --help | grep -q '^  3  timeout' || fail "client --help"
}

# --workers N: N event loops, each with its own SO_REUSEPORT sockets on the one port. 100
# TCP connections and 64 UDP sockets (each from its own source port) are spread by the
# kernel's hash; every one must be echoed, and each worker must have served TCP clients (a
# worker left without any of 100 has odds of 4 x 0.75^100, about 1e-12).
case_workers() {
    one_line_error 2 "echod: bad --workers '0': not a count (1..256)" "$ECHOD" --workers 0
    one_line_error 2 "echod: bad --workers '257': *" "$ECHOD" --workers 257
    one_line_error 2 "echod: bad --workers '-1': *" "$ECHOD" -w -1
    one_line_error 2 "echod: bad --workers 'two': *" "$ECHOD" --workers two
    start_echod --workers 4
    [ "$(grep -c '^listening ' "$TMP/echod.out")" -eq 2 ] ||
        fail "expected one tcp and one udp listening line: $(cat "$TMP/echod.out")"
    itest stream "$PORT" 65536 100
    i=0
    while [ $i -lt 64 ]; do
        itest udp "$PORT" 100
        i=$((i + 1))
    done
    stop_echod
    expect_counter tcp accepted -eq 100
    expect_counter tcp errors -eq 0
    expect_counter udp sent -eq 64
    [ "$(grep -c '^echod: worker [1-4] of 4: ' "$TMP/echod.err")" -eq 4 ] ||
        fail "expected 4 worker lines: $(cat "$TMP/echod.err")"
    for w in 1 2 3 4; do
        line=$(grep "^echod: worker $w of 4: " "$TMP/echod.err")
        acc=$(printf '%s\n' "$line" | sed -n 's/.* tcp accepted=\([0-9]*\) .*/\1/p')
        [ -n "$acc" ] && [ "$acc" -gt 0 ] || fail "worker $w served no TCP client: $line"
    done
    note "$(grep '^echod: worker ' "$TMP/echod.err" | tr '\n' '|')"
}

case_socat() {
    command -v socat >/dev/null || fail "socat is not installed"
    start_echod
    # TCP: 3 MB, then socat half-closes; echod must flush everything, then close.
    head -c 3145728 /dev/urandom >"$TMP/blob"
    timeout 30 socat -t 10 - "TCP:127.0.0.1:$PORT" <"$TMP/blob" >"$TMP/blob.out" 2>"$TMP/socat.err" ||
        fail "socat TCP failed"
    cmp -s "$TMP/blob" "$TMP/blob.out" || fail "socat TCP: echo differs ($(wc -c <"$TMP/blob.out") bytes)"
    # UDP: a 65507-byte datagram (read whole from a file, one write, one datagram back).
    head -c 65507 /dev/urandom >"$TMP/dgram"
    timeout 30 socat -T 5 -b 65536 - "UDP:127.0.0.1:$PORT" <"$TMP/dgram" >"$TMP/dgram.out" 2>"$TMP/socat.err" ||
        fail "socat UDP failed"
    cmp -s "$TMP/dgram" "$TMP/dgram.out" || fail "socat UDP: echo differs ($(wc -c <"$TMP/dgram.out") bytes)"
    # An empty datagram is not tested here: socat 1.7 reads an empty stdin as EOF and skips
    # empty datagrams on its sockets, so it cannot carry one (udp-empty and client-pipe
    # cover it with itest and echo-client -u).
    stop_echod
    note "$SUMMARY"
    expect_counter udp reply -eq 1
    expect_counter tcp errors -eq 0
}

fn=case_$(printf '%s' "$CASE" | tr '-' '_')
command -v "$fn" >/dev/null 2>&1 || fail "unknown case"
"$fn"
note "passed"
