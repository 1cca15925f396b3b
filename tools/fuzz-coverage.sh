#!/bin/sh
# fuzz-coverage.sh - source-based coverage of src/ by the fuzz corpora. Builds every fuzz
# target's replay driver with clang -fprofile-instr-generate -fcoverage-mapping in its own
# build folder, runs each over corpus/<target>/, merges the profiles with llvm-profdata and
# prints llvm-cov's report (per file: regions, functions, lines, branches) for src/ and for
# src/core alone, then writes an HTML report. Installs llvm (llvm-profdata, llvm-cov) with
# apt-get only when missing. Nothing is fuzzed: the figures are those of the corpora.
#
# usage: tools/fuzz-coverage.sh [-B BUILD_DIR] [-o HTML_DIR] [TARGET...]
#   -B DIR   build folder (default build-coverage)
#   -o DIR   HTML report folder (default BUILD_DIR/html)
#   TARGET   fuzz_ring or ring ... (default: every fuzz/fuzz_*.c that has a corpus)
# Exit status: 0 done, 1 a target failed on its corpus, 2 bad usage, 3 build or tools failed.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-coverage"
html=""

while [ $# -gt 0 ]; do
    case "$1" in
    -B) [ $# -ge 2 ] || { echo "fuzz-coverage: -B needs a folder" >&2; exit 2; }; build=$2; shift 2 ;;
    -o) [ $# -ge 2 ] || { echo "fuzz-coverage: -o needs a folder" >&2; exit 2; }; html=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz-coverage: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
case "$build" in /*) ;; *) build="$(pwd)/$build" ;; esac
[ -n "$html" ] || html="$build/html"
case "$html" in /*) ;; *) html="$(pwd)/$html" ;; esac

# The llvm tools that match clang's major version (llvm-profdata-14 beside clang 14), or
# the unversioned ones; install the llvm package when neither is there.
find_tools() {
    major=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -n 1)
    for suffix in "-$major" ""; do
        if command -v "llvm-profdata$suffix" >/dev/null 2>&1 && command -v "llvm-cov$suffix" >/dev/null 2>&1; then
            profdata="llvm-profdata$suffix"
            cov="llvm-cov$suffix"
            return 0
        fi
    done
    return 1
}

command -v clang >/dev/null 2>&1 || { echo "fuzz-coverage: clang not found (tools/install-deps.sh installs it)" >&2; exit 3; }
if ! find_tools; then
    pkg=llvm
    [ -n "$major" ] && pkg="llvm-$major"
    echo "fuzz-coverage: installing $pkg (llvm-profdata, llvm-cov)"
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "$pkg" ||
        { echo "fuzz-coverage: cannot install $pkg" >&2; exit 3; }
    find_tools || { echo "fuzz-coverage: llvm-profdata/llvm-cov still missing after installing $pkg" >&2; exit 3; }
fi

# Targets: the ones named, or every fuzz/fuzz_*.c with a corpus.
targets=""
if [ $# -gt 0 ]; then
    for t in "$@"; do
        case "$t" in fuzz_*) ;; *) t="fuzz_$t" ;; esac
        [ -f "$root/fuzz/$t.c" ] || { echo "fuzz-coverage: no fuzz/$t.c" >&2; exit 2; }
        [ -d "$root/corpus/$t" ] || { echo "fuzz-coverage: no corpus/$t/" >&2; exit 2; }
        targets="$targets $t"
    done
else
    for src in "$root"/fuzz/fuzz_*.c; do
        t=$(basename "$src" .c)
        [ -d "$root/corpus/$t" ] && targets="$targets $t"
    done
fi
[ -n "$targets" ] || { echo "fuzz-coverage: no target with a corpus" >&2; exit 2; }

# The replay drivers only: no unit tests (no Check needed), no sanitizers, no optimization
# (so lines map one to one).
flags="-fprofile-instr-generate -fcoverage-mapping"
echo "fuzz-coverage: building$targets in $build"
mkdir -p "$build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" -DEH_BUILD_TESTS=OFF \
    -DEH_BUILD_FUZZERS=ON -DEH_FUZZ_ENGINE=replay >"$build/fuzz-coverage.cmake.log" 2>&1 ||
    { cat "$build/fuzz-coverage.cmake.log" >&2; echo "fuzz-coverage: configure failed" >&2; exit 3; }
# shellcheck disable=SC2086
cmake --build "$build" --target eh_core $targets >"$build/fuzz-coverage.build.log" 2>&1 ||
    { tail -n 30 "$build/fuzz-coverage.build.log" >&2; echo "fuzz-coverage: build failed" >&2; exit 3; }

prof="$build/profiles"
rm -rf "$prof"
mkdir -p "$prof"
status=0
objects=""
for t in $targets; do
    bin="$build/fuzz/$t"
    n=$(find "$root/corpus/$t" -type f ! -name '.*' | wc -l)
    if LLVM_PROFILE_FILE="$prof/$t-%p.profraw" "$bin" "$root/corpus/$t" >"$prof/$t.log" 2>&1; then
        echo "fuzz-coverage: $t: $n input(s) replayed"
    else
        echo "fuzz-coverage: $t FAILED on its corpus (see $prof/$t.log):" >&2
        tail -n 5 "$prof/$t.log" >&2
        status=1
    fi
    if [ -z "$objects" ]; then objects="$bin"; else objects="$objects -object $bin"; fi
done

"$profdata" merge -sparse -o "$prof/all.profdata" "$prof"/*.profraw
# The core's object files too: a module no target links shows up with 0% instead of being
# left out of the totals.
for o in "$build"/src/core/CMakeFiles/eh_core.dir/*.o; do
    [ -f "$o" ] && objects="$objects -object $o"
done

echo
echo "== src/ (lines and branches per file) =="
# shellcheck disable=SC2086
"$cov" report $objects -instr-profile="$prof/all.profdata" "$root/src"
echo
echo "== src/core =="
# shellcheck disable=SC2086
"$cov" report $objects -instr-profile="$prof/all.profdata" "$root/src/core" | tail -n 1 |
    awk '{ printf "src/core: lines %s of %s missed (%s covered), branches %s of %s missed (%s covered)\n", $9, $8, $10, $12, $11, $13 }'

rm -rf "$html"
# shellcheck disable=SC2086
"$cov" show $objects -instr-profile="$prof/all.profdata" -format=html -show-branches=count \
    -show-line-counts-or-regions -output-dir="$html" "$root/src"
echo
echo "fuzz-coverage: HTML report in $html/index.html"
exit $status
