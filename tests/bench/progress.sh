#!/bin/sh
# Checks echo-bench's live progress line: shown once a second when stderr is a terminal (a
# pseudo-terminal from script(1) here), never when it is not (a file).
# usage: progress.sh ECHO_BENCH
# Exit 0 as promised, 1 otherwise, 77 when echo-bench is not built or no pseudo-terminal can
# be had. Loopback only (the built-in echod); every run is bounded by timeout(1).
set -u
bench=$1
if [ ! -x "$bench" ]; then
    echo "SKIP: $bench is not built"
    exit 77
fi
if ! command -v script >/dev/null 2>&1; then
    echo "SKIP: script(1) is not installed (util-linux)"
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eh-progress.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "FAIL: $*"
    exit 1
}
run="timeout -k 5 30 $bench -d 1.5 -w 0 --timeout 3"

# On a terminal: at least one "measuring S of D s: N msgs/s, M MB/s" line, each redrawn in
# place (carriage return, erase line), then the report.
if ! script -qec "$run" /dev/null </dev/null >"$tmp/tty" 2>&1; then
    if ! grep -q 'verdict' "$tmp/tty"; then
        echo "SKIP: script(1) could not run echo-bench on a pseudo-terminal:"
        cat "$tmp/tty"
        exit 77
    fi
    cat "$tmp/tty"
    fail "echo-bench failed on a terminal"
fi
tr '\r' '\n' <"$tmp/tty" | sed 's/^/tty: /'
printf '\r\033[Kmeasuring' >"$tmp/mark"
grep -q -F -f "$tmp/mark" "$tmp/tty" || fail "no progress line on the terminal"
tr '\r' '\n' <"$tmp/tty" | grep -q -E 'measuring [0-9]+ of 1\.5 s: [0-9]+ msgs/s, [0-9.]+ MB/s' ||
    fail "the progress line does not give the second of 1.5, msgs/s and MB/s"
grep -q 'verdict:    ok' "$tmp/tty" || fail "no ok verdict on the terminal"

# Not a terminal: the same run prints no progress line at all.
$run >"$tmp/out" 2>"$tmp/err" || fail "echo-bench failed without a terminal"
grep -q 'measuring' "$tmp/err" "$tmp/out" && fail "a progress line went to a file"
grep -q 'verdict:    ok' "$tmp/out" || fail "no ok verdict on stdout"
echo "PASS"
exit 0
