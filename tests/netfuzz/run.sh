#!/bin/sh
# Checks echo-conform --fuzz / --replay for CTest (label "netfuzz"). usage:
#   run.sh BIN_DIR FIXTURE_DIR CHECK
# BIN_DIR holds echo-conform and echod, FIXTURE_DIR the broken servers of tests/fixtures/.
# CHECK is one of:
#   echod        a bounded fuzz run against the built-in echod passes (exit 0)
#   seed         the same seed prints the same sequences (--dry-run), another seed others
#   rate         --rate N: a sequence of k actions takes at least (k - 1) / N seconds
#   badinput     malformed or missing replay files exit 3 naming file, line and problem;
#                bad options exit 2
#   json         --format json: a passing run against echod, and a failure found in
#                tcp_byteflip with its shrunk reproducer (checked with jq)
#   correct      no false alarm: fuzz runs against the correct fixtures `correct` and
#                `udp_slow_correct` (every reply 300-450 ms late, overtaking each other) pass
#   repeat       two runs with the same seed against tcp_byteflip fail in the same sequence
#                and save the same reproducer (actions and seed)
#   allowloss    --allow-loss: udp_ignore_empty's unanswered empty datagrams are counted, not
#                failed (exit 0); udp_trunc1024's truncated replies still fail (exit 1)
#   fx:NAME:MAX[:TRANSPORT[:TIMEOUT]]
#                against fixture NAME the fuzzer finds a failure, shrinks it to at most MAX
#                actions and saves it; --replay of the file fails against NAME (exit 1; within
#                5 runs, for timing-dependent defects) and passes 3 runs against echod (exit 0)
# Exit 0 when the check holds, 1 otherwise (output shows why), 77 when a program is missing.
# Loopback only; servers are stopped by PID; every run is bounded by timeout(1).
set -u
bin=$1 fxdir=$2 check=$3
conform="$bin/echo-conform"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eh-netfuzz.XXXXXX") || exit 1
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "FAIL: $check: $*"
    # A refused connection or an ICMP port unreachable points at the fixture: say whether it
    # was still running, and show what it printed.
    if [ -n "$pid" ]; then
        if kill -0 "$pid" 2>/dev/null; then
            echo "fixture (pid $pid) is still running"
        else
            wait "$pid" 2>/dev/null
            echo "fixture (pid $pid) is gone: exit status $?"
            pid=
        fi
    fi
    for f in "$tmp"/out "$tmp"/err "$tmp"/repro.txt "$tmp"/replay.out "$tmp"/replay.err \
        "$tmp"/fx.out "$tmp"/fx.err; do
        [ -s "$f" ] && { echo "--- $f"; cat "$f"; }
    done
    exit 1
}

[ -x "$conform" ] || { echo "SKIP: $conform is not built"; exit 77; }

# Runs echo-conform with a hard cap; sets rc.
run() {
    timeout -k 5 50 "$conform" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

# Starts fixture $1 on an ephemeral port; sets pid and port.
start_fixture() {
    [ -x "$fxdir/$1" ] || { echo "SKIP: fixture $1 is not built"; exit 77; }
    # Emptied here, before the fixture starts: its own redirection truncates the file only
    # once it runs, and until then the loop below would read the port of the fixture this
    # check started before (checks correct and allowloss start two): a refused connection
    # or an ICMP port unreachable under load.
    : >"$tmp/fx.out"
    "$fxdir/$1" --port 0 --lifetime 100 >"$tmp/fx.out" 2>"$tmp/fx.err" &
    pid=$!
    i=0
    while [ "$i" -lt 100 ]; do
        port=$(sed -n 's/^listening [a-z]* 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/fx.out" |
            head -n 1)
        [ -n "$port" ] && return 0
        sleep 0.05
        i=$((i + 1))
    done
    fail "$1 printed no listening line"
}

# The actions of a reproducer: the lines between "seed" and "end".
actions() {
    sed -n '/^seed /,/^end$/p' "$1" | grep -v -e '^seed ' -e '^end$'
}

case $check in
echod)
    run --fuzz --seed 7 --count 15 --rate 0 --max-time 30 --timeout 2
    [ "$rc" -eq 0 ] || fail "exit $rc, want 0"
    grep -q '^15 sequences run, 15 passed, none failed' "$tmp/out" || fail "no pass summary"
    ;;
seed)
    run --fuzz --dry-run --seed 0x5eed --count 3
    [ "$rc" -eq 0 ] || fail "dry run: exit $rc"
    cp "$tmp/out" "$tmp/a"
    run --fuzz --dry-run --seed 0x5eed --count 3
    cmp -s "$tmp/a" "$tmp/out" || fail "the same seed printed different sequences"
    [ "$(grep -c '^echofuzz 1$' "$tmp/a")" -eq 3 ] || fail "not 3 sequences"
    run --fuzz --dry-run --seed 0x5eee --count 3
    grep -v '^#' "$tmp/a" >"$tmp/a2"
    grep -v '^#' "$tmp/out" >"$tmp/b2"
    cmp -s "$tmp/a2" "$tmp/b2" && fail "another seed printed the same sequences"
    # A generated sequence replays as its own file: the first one, run against echod.
    sed -n '1,/^end$/p' "$tmp/a" >"$tmp/repro.txt"
    run --replay "$tmp/repro.txt" --timeout 2
    [ "$rc" -eq 0 ] || fail "replay of a generated sequence against echod: exit $rc"
    ;;
rate)
    run --fuzz --dry-run --seed 3 --count 1 --actions 12 -t tcp
    k=$(grep -c -v -e '^#' -e '^echofuzz' -e '^seed' -e '^end' "$tmp/out")
    start=$(date +%s%N)
    run --fuzz --seed 3 --count 1 --actions 12 -t tcp --rate 25
    end=$(date +%s%N)
    [ "$rc" -eq 0 ] || fail "exit $rc"
    ms=$(((end - start) / 1000000))
    min=$(((k - 1) * 1000 / 25))
    [ "$ms" -ge "$min" ] || fail "$k actions at --rate 25 took $ms ms, less than $min ms"
    ;;
badinput)
    printf 'echofuzz 1\nseed 1\nconnect 0\nwrite 0 lots\nend\n' >"$tmp/bad.txt"
    run --replay "$tmp/bad.txt"
    [ "$rc" -eq 3 ] || fail "malformed file: exit $rc, want 3"
    grep -q "bad.txt:4: not a number" "$tmp/err" || fail "no 'FILE:4: not a number' message"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "not one line"
    printf 'echofuzz 1\nseed 1\nconnect 0\n' >"$tmp/cut.txt"
    run --replay "$tmp/cut.txt"
    [ "$rc" -eq 3 ] || fail "cut-off file: exit $rc, want 3"
    grep -q "cut.txt:4: missing 'end' line" "$tmp/err" || fail "no missing-end message"
    run --replay "$tmp/none.txt"
    [ "$rc" -eq 3 ] || fail "missing file: exit $rc, want 3"
    grep -q "cannot read .*none.txt: No such file" "$tmp/err" || fail "no cannot-read message"
    run --fuzz --rate fast
    [ "$rc" -eq 2 ] || fail "--rate fast: exit $rc, want 2"
    grep -q "bad --rate 'fast'" "$tmp/err" || fail "no --rate message"
    run --fuzz --actions 257
    [ "$rc" -eq 2 ] || fail "--actions 257: exit $rc, want 2"
    run --fuzz --replay "$tmp/bad.txt"
    [ "$rc" -eq 2 ] || fail "--fuzz with --replay: exit $rc, want 2"
    run --fuzz --format junit
    [ "$rc" -eq 2 ] || fail "--fuzz --format junit: exit $rc, want 2"
    ;;
json)
    command -v jq >/dev/null 2>&1 || { echo "SKIP: no jq (tools/install-deps.sh)"; exit 77; }
    run --fuzz --format json --seed 7 --count 3 --rate 0
    [ "$rc" -eq 0 ] || fail "against echod: exit $rc, want 0"
    jq -e '.mode == "fuzz" and .exit == 0 and .sequences == 3 and .passed == 3 and
           .failure == null and .target.name == "echod" and .seed == "0x0000000000000007"' \
        "$tmp/out" >/dev/null || fail "JSON of a passing run"
    start_fixture tcp_byteflip
    run --fuzz --format json --seed 1 --count 10 --rate 0 --timeout 0.3 -t tcp \
        --save "$tmp/repro.txt" "127.0.0.1:$port"
    [ "$rc" -eq 1 ] || fail "against tcp_byteflip: exit $rc, want 1"
    jq -e --arg f "$tmp/repro.txt" '.exit == 1 and .failed == 1 and
           .failure.kind == "echo differs" and .failure.confirmed == true and
           .failure.file == $f and (.failure.reproducer | length) <= 2 and
           (.failure.message | test("byte 70000"))' "$tmp/out" >/dev/null ||
        fail "JSON of a failing run"
    timeout -k 5 30 "$conform" --replay "$tmp/repro.txt" --format json "127.0.0.1:$port" \
        >"$tmp/replay.out" 2>"$tmp/replay.err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "JSON replay: exit $rc, want 1"
    jq -e '.mode == "replay" and .result == "fail" and .kind == "echo differs"' \
        "$tmp/replay.out" >/dev/null || fail "JSON of a failing replay"
    ;;
correct)
    for fx in correct udp_slow_correct; do
        start_fixture "$fx"
        run --fuzz --seed 11 --count 8 --rate 0 --timeout 2 "127.0.0.1:$port"
        [ "$rc" -eq 0 ] || fail "against $fx: exit $rc, want 0"
        grep -q '^8 sequences run, 8 passed, none failed' "$tmp/out" || fail "$fx: no pass summary"
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        pid=
    done
    ;;
repeat)
    start_fixture tcp_byteflip
    for k in 1 2; do
        run --fuzz --seed 99 --count 20 --rate 0 --timeout 0.5 -t tcp --save "$tmp/r$k.txt" \
            "127.0.0.1:$port"
        [ "$rc" -eq 1 ] || fail "run $k: exit $rc, want 1"
        grep '^FAIL sequence' "$tmp/out" | sed 's/): .*/)/' >"$tmp/f$k"
        grep -v '^#' "$tmp/r$k.txt" >"$tmp/b$k"
    done
    cmp -s "$tmp/f1" "$tmp/f2" || fail "the same seed failed differently: $(cat "$tmp/f1" "$tmp/f2")"
    cmp -s "$tmp/b1" "$tmp/b2" || fail "the same seed saved different reproducers"
    ;;
allowloss)
    start_fixture udp_ignore_empty
    run --fuzz --seed 1 --count 6 --actions 12 --rate 0 --timeout 1 --udp-retries 1 -t udp \
        --allow-loss "127.0.0.1:$port"
    [ "$rc" -eq 0 ] || fail "udp_ignore_empty with --allow-loss: exit $rc, want 0"
    grep -q "datagrams\{0,1\} got no reply after every retry: not counted" "$tmp/out" ||
        fail "the unanswered datagrams are not reported"
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
    start_fixture udp_trunc1024
    run --fuzz --seed 1 --count 10 --actions 12 --rate 0 --timeout 1 --udp-retries 1 \
        -t udp --allow-loss --save "$tmp/repro.txt" "127.0.0.1:$port"
    [ "$rc" -eq 1 ] || fail "udp_trunc1024 with --allow-loss: exit $rc, want 1"
    grep -q "(wrong datagram)" "$tmp/out" || fail "no wrong-datagram failure"
    ;;
fx:*)
    name=$(echo "$check" | cut -d: -f2)
    max=$(echo "$check" | cut -d: -f3)
    transport=$(echo "$check" | cut -d: -f4)
    wait_s=$(echo "$check" | cut -d: -f5)
    wait_s=${wait_s:-1}
    start_fixture "$name"
    run --fuzz --seed 1 --count 30 --actions 16 --rate 0 --timeout "$wait_s" --udp-retries 1 \
        --max-time 20 --shrink-time 20 -t "${transport:-both}" --save "$tmp/repro.txt" \
        "127.0.0.1:$port"
    [ "$rc" -eq 1 ] || fail "fuzzing $name: exit $rc, want 1"
    [ -s "$tmp/repro.txt" ] || fail "no reproducer saved"
    grep -q "^saved: $tmp/repro.txt" "$tmp/out" || fail "no 'saved:' line"
    n=$(actions "$tmp/repro.txt" | wc -l)
    [ "$n" -ge 1 ] && [ "$n" -le "$max" ] || fail "reproducer has $n actions, want 1..$max"
    # A timing-dependent defect (halfclose_drop holds echoes 40 ms: under load it may flush
    # them before it sees the FIN) may take several runs: --count runs until the first failure.
    timeout -k 5 30 "$conform" --replay "$tmp/repro.txt" --count 5 --timeout "$wait_s" \
        --udp-retries 1 "127.0.0.1:$port" >"$tmp/replay.out" 2>"$tmp/replay.err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "replay against $name: exit $rc, want 1"
    grep -q "^FAIL replay" "$tmp/replay.out" || fail "replay printed no FAIL line"
    timeout -k 5 30 "$conform" --replay "$tmp/repro.txt" --count 3 >"$tmp/replay.out" \
        2>"$tmp/replay.err"
    rc=$?
    [ "$rc" -eq 0 ] || fail "replay against echod: exit $rc, want 0"
    grep -q "^PASS replay .* (every run)" "$tmp/replay.out" || fail "no PASS line for 3 runs"
    echo "reproducer ($n actions):"
    actions "$tmp/repro.txt"
    ;;
*)
    echo "run.sh: unknown check '$check'"
    exit 1
    ;;
esac
echo "PASS: $check"
exit 0
