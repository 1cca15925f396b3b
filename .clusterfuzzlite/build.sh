#!/bin/bash -eu
# The one OSS-Fuzz / ClusterFuzzLite build script of echoharness (tools/oss-fuzz/build.sh
# calls this file). It follows the OSS-Fuzz build contract: compile with $CC $CFLAGS, link
# with $CXX $CXXFLAGS and $LIB_FUZZING_ENGINE (-fsanitize=fuzzer for libFuzzer, the path of
# AFL++'s libAFLDriver.a for afl, ...), keep intermediate files in $WORK and write to $OUT,
# for every fuzz/fuzz_<name>.c:
#   $OUT/fuzz_<name>                  the target
#   $OUT/fuzz_<name>_seed_corpus.zip  corpus/fuzz_<name>/ (flat), when it has files
#   $OUT/fuzz_<name>.dict, .options   copied from fuzz/ when they exist
# $SANITIZER and $FUZZING_ENGINE only reach the build through the flags above; they are
# printed and checked for consistency. No CMake here on purpose: the OSS-Fuzz base-builder
# image has no CMake >= 3.25, and this is a handful of C files. The sources are found the way
# the CMake build finds them (src/core/*.c, src/net/*.c, fuzz/fuzz_*.c), so a new target
# or module needs no edit here. No network, no pip, no Docker; needs bash, ar and zip.
# With LIB_FUZZING_ENGINE empty and FUZZING_ENGINE=none (or unset) the targets link the
# project's replay driver (fuzz/replay_main.c) instead, as OSS-Fuzz's "none" engine expects
# a standalone binary.
set -euo pipefail

say() { echo "eh-build: $*"; }
die() { echo "eh-build: error: $*" >&2; exit 1; }

: "${OUT:?eh-build: OUT must name the output directory}"
: "${WORK:?eh-build: WORK must name a directory for intermediate files}"
: "${CC:?eh-build: CC must name the C compiler}"
CFLAGS=${CFLAGS-}
CXX=${CXX-}
CXXFLAGS=${CXXFLAGS-}
LIB_FUZZING_ENGINE=${LIB_FUZZING_ENGINE-}
FUZZING_ENGINE=${FUZZING_ENGINE-}
SANITIZER=${SANITIZER-}

# The source tree: this script's parent when run from a checkout, else the working directory
# (OSS-Fuzz copies build.sh to $SRC and runs it from the WORKDIR), else $SRC/echoharness.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=""
for cand in "$here/.." "$PWD" "${SRC:-/src}/echoharness"; do
    if [ -f "$cand/fuzz/fuzz.h" ] && [ -d "$cand/src/core" ]; then
        root=$(cd "$cand" && pwd)
        break
    fi
done
[ -n "$root" ] || die "cannot find the echoharness sources (tried $here/.., $PWD, ${SRC:-/src}/echoharness)"

case "$FUZZING_ENGINE" in
    "" | none)
        [ -n "$LIB_FUZZING_ENGINE" ] || say "no LIB_FUZZING_ENGINE: linking fuzz/replay_main.c (standalone replay)" ;;
    libfuzzer | afl | honggfuzz | centipede)
        [ -n "$LIB_FUZZING_ENGINE" ] || die "FUZZING_ENGINE=$FUZZING_ENGINE but LIB_FUZZING_ENGINE is empty" ;;
    *) say "unknown FUZZING_ENGINE '$FUZZING_ENGINE': linking LIB_FUZZING_ENGINE as given" ;;
esac
if [ "$FUZZING_ENGINE" = libfuzzer ] && [ "$SANITIZER" != coverage ] && [[ "$CFLAGS" != *fuzzer-no-link* ]]; then
    say "warning: libfuzzer without -fsanitize=fuzzer-no-link in CFLAGS: the core is not instrumented"
fi
command -v zip >/dev/null 2>&1 || die "zip is missing (apt-get install zip)"

# Link with the C++ driver when there is one, as the contract asks (libFuzzer is C++).
if [ -n "$CXX" ]; then
    LD=$CXX
    LDFLAGS_ENGINE=$CXXFLAGS
else
    LD=$CC
    LDFLAGS_ENGINE=$CFLAGS
fi
jobs=${EH_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}
obj=$WORK/echoharness-obj
mkdir -p "$OUT" "$obj"
rm -f "$obj"/*.o "$obj"/*.denylist "$obj"/libeh.a

say "sources $root; engine '${FUZZING_ENGINE:-none}', sanitizer '${SANITIZER:-none}'"
say "CC=$CC CFLAGS=$CFLAGS"
say "link: $LD $LDFLAGS_ENGINE ... $LIB_FUZZING_ENGINE"

# compile SRC OBJ [FLAG...]: one translation unit, at most $jobs at a time (the caller waits).
running=0
failed=0
compile() {
    if [ "$running" -ge "$jobs" ]; then
        wait -n || failed=1
        running=$((running - 1))
    fi
    # shellcheck disable=SC2086 # CFLAGS is a list of words by contract
    $CC $CFLAGS "${@:3}" -I"$root/src" -I"$root/fuzz" -c "$1" -o "$2" &
    running=$((running + 1))
}
wait_all() {
    while [ "$running" -gt 0 ]; do
        wait -n || failed=1
        running=$((running - 1))
    done
    return $failed
}

lib_srcs=("$root"/src/core/*.c)
for f in "$root"/src/net/*.c; do
    [ -e "$f" ] && lib_srcs+=("$f")
done
# As fuzz/CMakeLists.txt does: the files fuzz/no-trace-cmp.txt lists (why: there) are
# compiled without comparison tracing where the flags trace compares. Edge coverage stays.
notrace=()
if [[ "$CFLAGS" == *fuzzer-no-link* || "$CFLAGS" == *trace-cmp* ]]; then
    notrace=(-fno-sanitize-coverage=trace-cmp)
fi
declare -A notrace_listed=()
while read -r path _; do
    case "$path" in '' | '#'*) continue ;; esac
    notrace_listed["$root/$path"]=1
done <"$root/fuzz/no-trace-cmp.txt"
# compile_src SRC OBJ [FLAG...]: compile, without comparison tracing when SRC is listed.
compile_src() {
    if [ -n "${notrace_listed[$1]-}" ]; then
        compile "$@" "${notrace[@]}"
    else
        compile "$@"
    fi
}
for f in "${lib_srcs[@]}"; do
    compile_src "$f" "$obj/lib_$(basename "$(dirname "$f")")_$(basename "$f" .c).o"
done
# AFL++ (afl-clang-fast) ignores the no_sanitize("coverage") that keeps the targets' oracle
# functions (FUZZ_ORACLE) out of libFuzzer's coverage; AFL_LLVM_DENYLIST does it for AFL++.
# One list per target, for the target's own file only (AFL++ matches a listed name as a
# suffix of any function's name): fuzz/afl-denylist.sh, as fuzz/CMakeLists.txt does. A list
# the caller set (AFL_LLVM_ALLOWLIST or _DENYLIST) is left alone: AFL++ takes one only.
afl_lists=0
if [[ "$FUZZING_ENGINE" == afl || "$(basename "${CC%% *}")" == afl-* ]]; then
    if [ -n "${AFL_LLVM_ALLOWLIST-}${AFL_LLVM_DENYLIST-}" ]; then
        say "warning: AFL_LLVM_ALLOWLIST/AFL_LLVM_DENYLIST set by the caller: the oracles stay instrumented"
    else
        afl_lists=1
    fi
fi
targets=()
for f in "$root"/fuzz/fuzz_*.c; do
    [ -e "$f" ] || continue
    t=$(basename "$f" .c)
    targets+=("$t")
    if [ "$afl_lists" = 1 ]; then
        sh "$root/fuzz/afl-denylist.sh" "$f" "$obj/$t.denylist"
        AFL_LLVM_DENYLIST=$obj/$t.denylist compile_src "$f" "$obj/$t.o"
    else
        compile_src "$f" "$obj/$t.o"
    fi
done
driver=""
if [ -z "$LIB_FUZZING_ENGINE" ]; then
    driver=$obj/replay_main.o
    compile "$root/fuzz/replay_main.c" "$driver"
fi
wait_all || die "compilation failed"
[ "${#targets[@]}" -gt 0 ] || die "no fuzz targets in $root/fuzz/fuzz_*.c"

# One archive of core and net: each target pulls only the objects it references.
"${AR:-ar}" rcs "$obj/libeh.a" "$obj"/lib_*.o

for t in "${targets[@]}"; do
    rm -f "$OUT/$t" "$OUT/${t}_seed_corpus.zip" "$OUT/$t.dict" "$OUT/$t.options"
    # shellcheck disable=SC2086 # flag lists are words by contract
    $LD $LDFLAGS_ENGINE "$obj/$t.o" $driver "$obj/libeh.a" $LIB_FUZZING_ENGINE -o "$OUT/$t" \
        || die "linking $t failed"
    extra=""
    nseeds=0
    [ -d "$root/corpus/$t" ] && nseeds=$(find "$root/corpus/$t" -type f | wc -l)
    if [ "$nseeds" -gt 0 ]; then
        (cd "$root/corpus/$t" && zip -q -X -r "$OUT/${t}_seed_corpus.zip" .)
        extra="$extra seed_corpus($nseeds)"
    fi
    for ext in dict options; do
        if [ -f "$root/fuzz/$t.$ext" ]; then
            cp "$root/fuzz/$t.$ext" "$OUT/$t.$ext"
            extra="$extra $ext"
        fi
    done
    say "$OUT/$t$extra"
done
say "${#targets[@]} target(s) built"
