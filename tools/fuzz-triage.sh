#!/usr/bin/env bash
# fuzz-triage.sh - reruns failing fuzz inputs with one command: builds the target with the
# replay driver under ASan + UBSan (preset "asan"; the plain gcc build when clang is
# missing), runs it on each FILE and prints the oracle's message or the sanitizer report.
# Exit status: 0 every input passes now, 1 an input still fails (crash, oracle failure or
# hang), 2 bad usage, 3 the build failed.
set -u

usage() {
    cat <<'EOF'
usage: tools/fuzz-triage.sh [options] TARGET FILE...
Reruns each FILE through TARGET (fuzz_stream or stream, ...) built with the replay driver
under ASan + UBSan, and says whether it still fails and why.

  -B DIR        use the fuzz targets of this build folder (a replay or libFuzzer build)
  --no-build    do not (re)build; use what the build folder holds
  -T SECONDS    an input running longer than this is a hang (default 60)
  -q            print only the verdict line per file, not the full report
  -h, --help    this text

Exit status: 0 all inputs pass, 1 an input still fails, 2 bad usage, 3 build failed.
EOF
}

die() { echo "fuzz-triage: $*" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
bdir=""
build=1
limit=60
quiet=0
args=()
while [ $# -gt 0 ]; do
    case "$1" in
    -B) [ $# -ge 2 ] || die "-B needs a build folder"; bdir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -T) [ $# -ge 2 ] || die "-T needs seconds"; limit=$2; shift 2 ;;
    -q) quiet=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; args+=("$@"); break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) args+=("$1"); shift ;;
    esac
done
[ ${#args[@]} -ge 2 ] || { usage >&2; exit 2; }
case "$limit" in '' | *[!0-9]* | 0) die "-T wants a whole number of seconds > 0" ;; esac
t=${args[0]#fuzz_}
t=fuzz_$t
[ -e "$root/fuzz/$t.c" ] || { [ "$build" = 0 ] && [ -n "$bdir" ] && [ -x "$bdir/fuzz/$t" ]; } || die "no target '${args[0]}' (there are: $(cd "$root/fuzz" && ls fuzz_*.c | sed 's/\.c$//' | tr '\n' ' '))"
files=("${args[@]:1}")
for f in "${files[@]}"; do
    [ -f "$f" ] && [ -r "$f" ] || die "cannot read input file $f"
done

# The build: the asan preset (replay driver, ASan + UBSan, no recovery) by default.
preset=""
if [ -z "$bdir" ]; then
    if command -v clang >/dev/null; then preset=asan; else preset=default; fi
    case "$preset" in asan) bdir="$root/build-asan" ;; default) bdir="$root/build" ;; esac
fi
if [ "$build" = 1 ]; then
    log=$(mktemp "${TMPDIR:-/tmp}/fuzz-triage-build.XXXXXX")
    if [ -n "$preset" ]; then
        (cd "$root" && cmake --preset "$preset" && cmake --build --preset "$preset" --target "$t") >"$log" 2>&1
    else
        cmake --build "$bdir" --target "$t" >"$log" 2>&1
    fi || {
        tail -20 "$log" >&2
        echo "fuzz-triage: building $t in $bdir failed (full log: $log)" >&2
        exit 3
    }
    rm -f "$log"
fi
bin="$bdir/fuzz/$t"
[ -x "$bin" ] || { echo "fuzz-triage: $bin missing (build it, or drop --no-build)" >&2; exit 3; }
# A libFuzzer binary runs the files given as arguments once each, like the replay driver.

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:symbolize=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

signame() { kill -l "$1" 2>/dev/null || echo "$1"; }

fail=0
for f in "${files[@]}"; do
    out=$(mktemp "${TMPDIR:-/tmp}/fuzz-triage-out.XXXXXX")
    timeout -s KILL "$limit" "$bin" "$f" >"$out" 2>&1
    rc=$?
    # The first line that says why: the target's oracle message, or the sanitizer's.
    why=$(grep -a -m1 -E 'runtime error:|ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|^fuzz_[a-z_]+: ' "$out")
    if [ "$quiet" = 0 ] && [ "$rc" -ne 0 ]; then
        echo "---- $t $f (${bin#"$root"/})"
        cat "$out"
        echo "----"
    fi
    rm -f "$out"
    if [ "$rc" -eq 0 ]; then
        echo "fuzz-triage: $t passes on $f"
        continue
    fi
    fail=1
    if [ "$rc" -eq 137 ]; then
        echo "fuzz-triage: $t HANGS on $f (killed after ${limit}s)"
    elif [ "$rc" -gt 128 ]; then
        echo "fuzz-triage: $t still FAILS on $f: ${why:-killed by signal SIG$(signame $((rc - 128)))}"
    else
        echo "fuzz-triage: $t still FAILS on $f: ${why:-exit status $rc}"
    fi
done
exit "$fail"
