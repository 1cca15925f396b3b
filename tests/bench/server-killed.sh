#!/bin/sh
# server-killed.sh ECHO_BENCH: a server that dies mid-run (SIGKILL: the kernel resets its
# connections) is reported by echo-bench, never fatal to it. echo-bench's streaming sends
# splice(2) into the socket, which cannot take MSG_NOSIGNAL, so a send after the reset
# raised SIGPIPE and killed it (status 141, no report) in about one run of six.
#   1. echo-bench ignores SIGPIPE (SigIgn in /proc/PID/status, while it runs);
#   2. five times: echod (next to echo-bench) streamed to, then killed 0.3 s in: echo-bench
#      must exit 1 with its JSON line saying not ok.
# Loopback only; every wait is bounded; what this starts it stops by PID.
set -u
bench=${1:?usage: server-killed.sh ECHO_BENCH}
echod=$(dirname "$bench")/echod
if [ ! -x "$bench" ] || [ ! -x "$echod" ]; then
    echo "SKIP: echo-bench or echod is not built"
    exit 77
fi
if ! command -v jq >/dev/null 2>&1; then
    echo "SKIP: jq is not installed (tools/install-deps.sh)"
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eh-server-killed.XXXXXX") || exit 1
pids=""
cleanup() {
    for p in $pids; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() {
    echo "FAIL: $*"
    exit 1
}

# 1. The disposition, read while echo-bench runs (the embedded echod, idle connections).
timeout 20 "$bench" --idle 2 --hold 0.5 --json >"$tmp/idle.out" 2>"$tmp/idle.err" &
b=$!
pids="$pids $b"
# timeout(1) runs echo-bench as its child. The child is timeout itself until it execs, and
# echo-bench sets its signals only in main, so the mask is read until SIGPIPE shows as
# ignored or the run ends: one early read proves nothing either way.
# SIGPIPE is signal 13: bit 12 of the mask, the 4th hex digit from the right.
ignores_pipe() {
    case $(printf '%s\n' "$1" | awk '{ print substr($1, length($1) - 3, 1) }') in
    1 | 3 | 5 | 7 | 9 | b | d | f) return 0 ;;
    esac
    return 1
}
mask=""
seen=0
i=0
while [ $seen -eq 0 ] && [ $i -lt 200 ] && kill -0 "$b" 2>/dev/null; do
    kids=$(cat "/proc/$b/task/$b/children" 2>/dev/null)
    for c in $kids; do
        [ "$(cat "/proc/$c/comm" 2>/dev/null)" = echo-bench ] || continue
        mask=$(awk '/^SigIgn:/ { print $2 }' "/proc/$c/status" 2>/dev/null)
        if [ -n "$mask" ] && ignores_pipe "$mask"; then seen=1; fi
    done
    i=$((i + 1))
    [ $seen -eq 1 ] || sleep 0.02
done
wait "$b" || fail "echo-bench --idle 2 exited $?: $(cat "$tmp/idle.err")"
[ -n "$mask" ] || fail "could not read echo-bench's SigIgn while it ran"
[ $seen -eq 1 ] || fail "echo-bench does not ignore SIGPIPE (SigIgn $mask, last read)"
echo "ok: echo-bench ignores SIGPIPE (SigIgn $mask)"

# sockets PID: how many sockets the process holds.
sockets() {
    ls -l "/proc/$1/fd" 2>/dev/null | grep -c 'socket:'
}

# 2. The behaviour: the server killed under a stream, five times.
n=1
while [ $n -le 5 ]; do
    : >"$tmp/echod.out"
    "$echod" --port 0 --tcp-only >"$tmp/echod.out" 2>"$tmp/echod.err" &
    e=$!
    pids="$pids $e"
    port=""
    i=0
    while [ -z "$port" ] && [ $i -lt 100 ]; do
        port=$(sed -n 's/^listening tcp 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/echod.out")
        [ -n "$port" ] || sleep 0.05
        i=$((i + 1))
    done
    [ -n "$port" ] || fail "echod printed no listening line: $(cat "$tmp/echod.err")"
    base=$(sockets "$e")
    timeout 20 "$bench" --stream --engine epoll -d 1 -w 0 --timeout 3 --json "127.0.0.1:$port" \
        >"$tmp/b.out" 2>"$tmp/b.err" &
    b=$!
    pids="$pids $b"
    # Killed once it has accepted echo-bench's connection (and a moment of streaming), not
    # after a fixed time: on a loaded machine echo-bench may not have connected yet.
    i=0
    while [ "$(sockets "$e")" -le "$base" ] && [ $i -lt 200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    [ $i -lt 200 ] || fail "run $n: echod accepted no connection within 10 s"
    sleep 0.2
    kill -KILL "$e"
    wait "$e" 2>/dev/null
    st=0
    wait "$b" || st=$?
    [ "$st" -eq 1 ] || fail "run $n: echo-bench exited $st when its server was killed: $(cat "$tmp/b.err")"
    jq -e '.ok == false' "$tmp/b.out" >/dev/null 2>&1 ||
        fail "run $n: no JSON line saying not ok: $(cat "$tmp/b.out")"
    echo "ok: run $n: $(head -n 1 "$tmp/b.err")"
    n=$((n + 1))
done
