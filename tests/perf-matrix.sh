#!/bin/sh
# perf-matrix.sh RUN_SH BIN_DIR CASE: checks of tools/bench/run.sh's own behaviour (not of
# any figure), with the programs in BIN_DIR and no reference server:
#   interrupt  run.sh stopped by SIGTERM in the middle of a run leaves nothing running: the
#              server, every child it forked and echo-bench (run by timeout(1)) are gone
#              once run.sh has exited (on (f) with echod, where echo-bench holds its
#              connections silent for seconds).
#   idle-fork  --idle N smaller than the forking servers' default (1000) holds N
#              connections on socat too, not 1000 (needs socat; exit 77 without it).
#   smoke-retry  in --smoke mode a run that measured nothing and found nothing wrong (what a
#              starved CPU gives) runs once more and the smoke passes; a run that found a
#              wrong byte is not run again and the smoke fails. echo-bench is wrapped so
#              that its first run reports one or the other, the later ones are real.
# Loopback only; every wait is bounded; what this starts it stops by PID.
set -eu
RUN=${1:?usage: perf-matrix.sh RUN_SH BIN_DIR CASE}
BIN=${2:?usage: perf-matrix.sh RUN_SH BIN_DIR CASE}
CASE=${3:?usage: perf-matrix.sh RUN_SH BIN_DIR CASE}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/eh-perf-matrix.XXXXXX")
RPID=""
# On any exit, a run.sh still running is stopped with all below it: SIGKILL would skip its
# own clean-up, so the processes below it are listed first and killed by PID too.
cleanup() {
    if [ -n "$RPID" ]; then
        left=$(below "$RPID")
        kill -TERM "$RPID" 2>/dev/null || :
        sleep 0.2
        # shellcheck disable=SC2086 # one PID per word
        kill -KILL $left "$RPID" 2>/dev/null || :
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
    echo "FAIL [$CASE] $*" >&2
    for f in "$TMP"/run.err "$TMP"/run.out; do
        [ -s "$f" ] && { echo "--- $f:" >&2; tail -n 20 "$f" >&2; }
    done
    exit 1
}

. "$(dirname "$RUN")/procs.sh" # descendants PID: PID and all below it

# below PID: the processes below PID (not PID itself), one per line.
below() {
    descendants "$1" | grep -vx "$1" || :
}

# alive PID: the process exists and is not a zombie (a zombie runs nothing).
alive() {
    [ -r "/proc/$1/stat" ] || return 1
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d ' ' -f 1) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

comm_of() { cat "/proc/$1/comm" 2>/dev/null || :; }

case_interrupt() {
    # (f) with 50 connections on echod: echo-bench holds them silent for 3 s before it
    # checks them, so an echo-bench left behind would outlive run.sh by seconds.
    sh "$RUN" --bin "$BIN" --peers "$TMP/no-peers" --reps 1 --servers echod --workloads f \
        --idle 50 >"$TMP/run.out" 2>"$TMP/run.err" &
    RPID=$!
    # Wait (15 s at most) until echo-bench runs, then a moment for its connections.
    i=0
    while :; do
        nb=0
        for k in $(below "$RPID"); do
            [ "$(comm_of "$k")" != echo-bench ] || nb=$((nb + 1))
        done
        [ $nb -eq 0 ] || break
        i=$((i + 1))
        [ $i -le 300 ] || fail "no echo-bench running under run.sh within 15 s"
        kill -0 "$RPID" 2>/dev/null || fail "run.sh exited early"
        sleep 0.05
    done
    sleep 0.5
    kids=$(below "$RPID")
    # shellcheck disable=SC2086 # one PID per word
    echo "[$CASE] under run.sh: $(printf "%s\n" $kids | grep -c .) processes: $(for k in $kids; do comm_of "$k"; done | sort | tr '\n' ' ')"
    kill -TERM "$RPID"
    i=0
    while kill -0 "$RPID" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le 200 ] || fail "run.sh did not exit within 10 s of SIGTERM"
        sleep 0.05
    done
    wait "$RPID" 2>/dev/null || :
    RPID=""
    # A second at most for the kernel to finish the kills (an echo-bench left behind would
    # hold its connections for 2.5 s more); then nothing may be left running.
    i=0
    while :; do
        left=""
        for k in $kids; do
            if alive "$k"; then left="$left $k($(comm_of "$k"))"; fi
        done
        [ -n "$left" ] || break
        i=$((i + 1))
        if [ $i -gt 20 ]; then
            for k in $kids; do kill -KILL "$k" 2>/dev/null || :; done
            fail "still running after run.sh exited:$left"
        fi
        sleep 0.05
    done
    echo "[$CASE] ok: run.sh stopped by SIGTERM left nothing running"
}

case_idle_fork() {
    if ! command -v socat >/dev/null 2>&1; then
        echo "SKIP: socat is not installed"
        exit 77
    fi
    timeout 100 sh "$RUN" --bin "$BIN" --peers "$TMP/no-peers" --reps 1 --servers socat \
        --workloads f --idle 30 --out "$TMP/report.md" >"$TMP/run.out" 2>"$TMP/run.err" ||
        fail "run.sh exited $?"
    row=$(awk -F '\t' '$2 == "f" && $3 == "socat"' "$TMP/report.md.tsv")
    case $row in
    *"held=30 answered=30"*) ;;
    *) fail "(f) on socat did not hold 30 connections: $row" ;;
    esac
    grep -q '^(f): 30 connections held (30 for servers that fork' "$TMP/report.md" ||
        fail "the note under the table does not say 30 and 30: $(grep '^(f)' "$TMP/report.md")"
    echo "[$CASE] ok: --idle 30 held 30 socat connections"
}

# fake_bin DIR MODE: DIR holds echod and an echo-bench whose first run reports MODE
# (silent: no echo measured, nothing wrong; wrong: a mismatch) and exits 1.
fake_bin() {
    mkdir -p "$1"
    real=$(cd "$BIN" && pwd)
    ln -sf "$real/echod" "$1/echod"
    case $2 in
    silent) j='{"msgs":0,"msgs_per_s":0,"mismatches":0,"error":"no echo completed"}' ;;
    wrong) j='{"msgs":9,"msgs_per_s":30,"mismatches":1,"error":"byte 70 of the echo differs"}' ;;
    esac
    {
        echo '#!/bin/sh'
        echo "n=\$(cat '$1/runs' 2>/dev/null || echo 0)"
        echo "echo \$((n + 1)) >'$1/runs'"
        echo "if [ \"\$n\" -eq 0 ]; then"
        echo "    echo '$j' | jq -c '. + {early_closes: 0, stalls: 0, connect_errors: 0, ok: false, udp: {wrong: 0, dup: 0}, fair: {min: 0}, cpu_total_s: 0.01}'"
        echo "    echo 'echo-bench: first run, made up' >&2"
        echo "    exit 1"
        echo "fi"
        echo "exec '$real/echo-bench' \"\$@\""
    } >"$1/echo-bench"
    chmod +x "$1/echo-bench"
}

case_smoke_retry() {
    fake_bin "$TMP/silent" silent
    sh "$RUN" --smoke --bin "$TMP/silent" --peers "$TMP/no-peers" --servers echod \
        --workloads e1 >"$TMP/run.out" 2>"$TMP/run.err" || fail "smoke with one silent run exited $?"
    grep -q 'nothing measured .*smoke mode: once more' "$TMP/run.err" || fail "no retry was logged"
    [ "$(cat "$TMP/silent/runs")" -eq 2 ] || fail "echo-bench ran $(cat "$TMP/silent/runs") times, not 2"
    grep -q '^| echod | [0-9]' "$TMP/run.out" || fail "no figure for echod"
    echo "[$CASE] ok: a run that measured nothing ran once more, and the smoke passed"
    fake_bin "$TMP/wrong" wrong
    st=0
    sh "$RUN" --smoke --bin "$TMP/wrong" --peers "$TMP/no-peers" --servers echod \
        --workloads e1 >"$TMP/run.out" 2>"$TMP/run.err" || st=$?
    [ "$st" -eq 1 ] || fail "smoke with a wrong byte exited $st, not 1"
    [ "$(cat "$TMP/wrong/runs")" -eq 1 ] || fail "a run with a wrong byte was run again"
    echo "[$CASE] ok: a run with a wrong byte was not run again, and the smoke failed"
}

fn=case_$(printf '%s' "$CASE" | tr '-' '_')
command -v "$fn" >/dev/null 2>&1 || fail "unknown case"
"$fn"
