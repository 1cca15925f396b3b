#!/bin/sh
# check-bench-usage.sh - tools/fuzz-bench.sh refuses a bad engine (-e) with one line naming
# it and exit status 2, before it builds, benchmarks or writes anything.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for e in bad libfuzzer,bad afl,bad; do
    "$root/tools/fuzz-bench.sh" --no-build -w "$tmp/work" -e "$e" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 2 ] || { echo "check-bench-usage: -e $e: exit status $rc, expected 2"; cat "$tmp/err"; exit 1; }
    [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "unknown engine 'bad'" "$tmp/err" ||
        { echo "check-bench-usage: -e $e: not one line naming the engine:"; cat "$tmp/err"; exit 1; }
    [ ! -s "$tmp/out" ] || { echo "check-bench-usage: -e $e: printed on stdout"; exit 1; }
done
echo "check-bench-usage: bad engines refused with one line, exit status 2"
