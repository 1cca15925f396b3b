#!/bin/sh
# Runs echo-bench once against a target and checks its exit status and its JSON line.
# usage: run.sh ECHO_BENCH WANT_RC TARGET JQ_CHECK [echo-bench options...]
#   TARGET: "embedded" (echo-bench starts its built-in echod), "dead:FIXTURE" (no server: the
#   port FIXTURE listened on until it was stopped a moment ago), or the path of a fixture
#   program from tests/fixtures/ (started here with --port 0, stopped by its PID), or
#   "stall:AFTER:FOR:FIXTURE": that fixture, frozen with SIGSTOP AFTER seconds into the run
#   for FOR seconds (then SIGCONT), to see how echo-bench accounts for a server that stalls.
#   "pause:AFTER:FOR:TARGET" freezes echo-bench itself instead (AFTER seconds after it
#   starts, for FOR seconds), as a suspended machine would, against TARGET (any of the above).
#   JQ_CHECK: a jq expression that must be true for the JSON line ("-" for none; then
#   --json is not added and stderr must hold exactly one line, for usage errors).
#   EH_BENCH_STDERR (environment), when set: an extended regular expression that some line
#   of echo-bench's stderr must match.
#   EH_BENCH_STDOUT1 (environment), when set: one that the first line of stdout must match.
# Exit 0 as promised, 1 otherwise (with echo-bench's output), 77 when not built.
# Loopback only; echo-bench bounds its own time, and timeout(1) bounds it again.
set -u
. "$(dirname "$0")/../fixtures/start.sh"

bench=$1 want_rc=$2 target=$3 check=$4
shift 4

if [ ! -x "$bench" ]; then
    echo "SKIP: $bench is not built"
    exit 77
fi
if [ "$check" != "-" ] && ! command -v jq >/dev/null 2>&1; then
    echo "SKIP: jq is not installed (tools/install-deps.sh)"
    exit 77
fi

fixture_workdir bench

addr=
stall=
pause=
case $target in
pause:*)
    rest=${target#pause:}
    pause_after=${rest%%:*} rest=${rest#*:}
    pause_for=${rest%%:*} target=${rest#*:}
    pause=1
    ;;
esac
case $target in
embedded) ;;
stall:*)
    rest=${target#stall:}
    after=${rest%%:*} rest=${rest#*:}
    for=${rest%%:*} target=${rest#*:}
    fixture_start "$target" "$tmp" 100 || exit 1
    addr=127.0.0.1:$port
    (sleep "$after" && kill -STOP "$pid" && sleep "$for"; kill -CONT "$pid") &
    stall=$!
    ;;
dead:*)
    fixture_start "${target#dead:}" "$tmp" 100 || exit 1
    kill "$pid"
    wait "$pid" 2>/dev/null
    pid=
    addr=127.0.0.1:$port
    ;;
*)
    fixture_start "$target" "$tmp" 100 || exit 1
    addr=127.0.0.1:$port
    ;;
esac

json=--json
[ "$check" = "-" ] && json=
echo "# $bench $json $* $addr"
# shellcheck disable=SC2086 # $json and $addr are one word or none
timeout -k 5 50 "$bench" $json "$@" $addr >"$tmp/out" 2>"$tmp/err" &
bpid=$!
if [ -n "$pause" ]; then
    # timeout(1) leads a process group of its own (it and echo-bench, and the built-in echod
    # echo-bench starts): freeze all of it, as a suspended machine would.
    (sleep "$pause_after" && kill -STOP -"$bpid" && sleep "$pause_for"; kill -CONT -"$bpid") \
        2>/dev/null &
    pause=$!
    # Stopped during the freeze, this script must not leave the group frozen for good
    # (timeout(1) cannot end what is stopped): thaw it and end it first.
    # (A group that has ended is left alone: after a normal run nothing of it is left.)
    bench_cleanup() {
        kill "$pause" 2>/dev/null
        if kill -0 -"$bpid" 2>/dev/null; then
            kill -CONT -"$bpid" 2>/dev/null
            kill -TERM -"$bpid" 2>/dev/null
        fi
        fixture_cleanup
    }
    trap bench_cleanup EXIT
fi
wait "$bpid"
rc=$?
[ -n "$pause" ] && wait "$pause"
[ -n "$stall" ] && wait "$stall"
cat "$tmp/out"
sed 's/^/stderr: /' "$tmp/err"

fail() {
    echo "FAIL: $*"
    exit 1
}
[ "$rc" = "$want_rc" ] || fail "exit status $rc, expected $want_rc"
if [ "$check" = "-" ]; then
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "expected exactly one line on stderr"
    [ -s "$tmp/out" ] && [ "$want_rc" != 0 ] && fail "expected nothing on stdout"
else
    line=$(grep '^{' "$tmp/out" | tail -n 1)
    [ -n "$line" ] || fail "no JSON line on stdout"
    printf '%s\n' "$line" | jq -e . >/dev/null || fail "the JSON line does not parse"
    printf '%s\n' "$line" | jq -e "$check" >/dev/null || fail "jq check failed: $check"
fi
if [ -n "${EH_BENCH_STDOUT1:-}" ]; then
    head -n 1 "$tmp/out" | grep -q -E -e "$EH_BENCH_STDOUT1" ||
        fail "the first line of stdout does not match: $EH_BENCH_STDOUT1"
fi
if [ -n "${EH_BENCH_STDERR:-}" ]; then
    grep -q -E -e "$EH_BENCH_STDERR" "$tmp/err" || fail "no line on stderr matches: $EH_BENCH_STDERR"
fi
echo "PASS (exit $rc)"
exit 0
