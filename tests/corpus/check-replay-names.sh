#!/bin/sh
# check-replay-names.sh REPLAY_BINARY - the replay driver (fuzz/replay_main.c), linked with
# tests/fuzz-tools/fuzz_selftest.c (inputs starting "EH" fail its oracle), replays a folder
# with a good and a failing input: it must die, print the oracle's message and name the
# failing file, and run the good file alone with status 0.
set -u
bin=$1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-replay-names: $*"; cat "$tmp/err"; exit 1; }
mkdir "$tmp/corpus"
printf 'echo me' >"$tmp/corpus/good"
printf 'EHLO' >"$tmp/corpus/bad-input"
"$bin" "$tmp/corpus/good" >/dev/null 2>"$tmp/err" || fail "a good input failed"
"$bin" "$tmp/corpus" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -ne 0 ] || fail "the failing input passed (exit status 0)"
grep -q '^fuzz_selftest: echo differs at offset 1' "$tmp/err" || fail "no oracle message"
grep -qx "replay: failed on $tmp/corpus/bad-input" "$tmp/err" || fail "the failing input is not named"
echo "check-replay-names: exit status $rc, failing input named"
