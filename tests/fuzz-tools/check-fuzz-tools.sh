#!/usr/bin/env bash
# check-fuzz-tools.sh - proves tools/fuzz-run.sh and tools/fuzz-triage.sh work, in seconds:
# a minimal libFuzzer build (clang, no sanitizers, one real target found by glob) plus a
# target with a planted bug; fuzz-run.sh runs both for 2 s each and merges into a copy of
# the corpus, then fuzz-triage.sh reruns the crash it found and a corpus file.
# Exit 77 (skipped) when clang cannot build libFuzzer targets.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-tools-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' >"$tmp/probe.c"
clang -fsanitize=fuzzer "$tmp/probe.c" -o "$tmp/probe" 2>/dev/null || { echo "SKIP: clang cannot build libFuzzer targets"; exit 77; }

# One real target, the first by name: the tools must work on whatever fuzz/ holds.
target=$(cd "$root/fuzz" && ls fuzz_*.c | sort | head -1)
target=${target%.c}
b="$tmp/build"
cmake -S "$root" -B "$b" -G Ninja -DCMAKE_C_COMPILER=clang -DEH_FUZZ_ENGINE=libfuzzer \
    -DEH_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >"$tmp/build.log" 2>&1 &&
    cmake --build "$b" --target "$target" >>"$tmp/build.log" 2>&1 &&
    clang -fsanitize=fuzzer -g "$root/tests/fuzz-tools/fuzz_selftest.c" -o "$b/fuzz/fuzz_selftest" >>"$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log"; fail "minimal libFuzzer build"; }

mkdir -p "$tmp/corpus"
cp -r "$root/corpus/$target" "$tmp/corpus/" 2>/dev/null || mkdir -p "$tmp/corpus/$target"
n0=$(ls "$tmp/corpus/$target" | wc -l)
"$root/tools/fuzz-run.sh" -t 2 -j 1 --no-build -B "$b" -w "$tmp/work" -C "$tmp/corpus" \
    "$target" fuzz_selftest >"$tmp/run.out" 2>&1
rc=$?
cat "$tmp/run.out"
[ "$rc" -eq 1 ] || fail "fuzz-run.sh exit status $rc, expected 1 (the planted bug is a crash)"
grep -Eq "^$target +[0-9]+ +[0-9.]+[kMG]? +[0-9.]+[kMG]? +$n0 -> [0-9]+ +[0-9]+/[0-9]+ +-> [0-9]+/[0-9]+" "$tmp/run.out" ||
    fail "no summary line with execs, exec/s, corpus $n0 -> N and cov/ft for $target"
grep -q '^CRASHES (1):' "$tmp/run.out" || fail "the planted crash is not reported"
crash=$(grep -o "tools/fuzz-triage.sh fuzz_selftest [^ ]*" "$tmp/run.out" | awk '{ print $3 }')
[ -f "$crash" ] || fail "the triage command names no crash file ($crash)"
n1=$(ls "$tmp/corpus/$target" | wc -l)
[ "$n1" -ge "$n0" ] || fail "the merge lost corpus files ($n0 -> $n1)"
for f in "$tmp/corpus/$target"/*; do # new files are named by their SHA-1, old ones kept
    name=${f##*/}
    [ -e "$root/corpus/$target/$name" ] && continue
    [ "$(sha1sum <"$f" | cut -c1-40)" = "$name" ] || fail "merged file $name is not named by its SHA-1"
done
[ ! -e "$root/corpus/fuzz_selftest" ] || fail "fuzz-run.sh created corpus/fuzz_selftest in the repository"

"$root/tools/fuzz-triage.sh" -B "$b" --no-build fuzz_selftest "$crash" >"$tmp/triage.out" 2>&1
rc=$?
cat "$tmp/triage.out"
[ "$rc" -eq 1 ] || fail "fuzz-triage.sh exit status $rc on the crash, expected 1"
grep -q '^fuzz_selftest: echo differs at offset 1' "$tmp/triage.out" || fail "the oracle's message is not printed"
grep -q "still FAILS on $crash: fuzz_selftest: echo differs" "$tmp/triage.out" || fail "no verdict line naming the oracle's message"

good=$(ls "$tmp/corpus/$target"/* | head -1)
"$root/tools/fuzz-triage.sh" -B "$b" --no-build "$target" "$good" >"$tmp/triage2.out" 2>&1
rc=$?
cat "$tmp/triage2.out"
[ "$rc" -eq 0 ] || fail "fuzz-triage.sh exit status $rc on a passing corpus file, expected 0"
grep -q "$target passes on $good" "$tmp/triage2.out" || fail "no 'passes' verdict"
echo "PASS"
