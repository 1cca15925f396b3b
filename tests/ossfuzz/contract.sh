#!/bin/bash
# OSS-Fuzz / ClusterFuzzLite build contract, proven without Docker (label "fuzz-build"):
#   bash contract.sh ENGINE SANITIZER      ENGINE: libfuzzer | afl; SANITIZER: address | undefined
# Runs .clusterfuzzlite/build.sh with the variables OSS-Fuzz's `compile` sets for that engine
# and sanitizer (set by hand: clang or afl-clang-fast, $CFLAGS as OSS-Fuzz builds them,
# $LIB_FUZZING_ENGINE=-fsanitize=fuzzer or the path of AFL++'s libAFLDriver.a) into a
# temporary $OUT and $WORK, then checks, for every fuzz/fuzz_*.c:
#   - $OUT holds exactly one executable per target, plus its .dict/.options when fuzz/ has them;
#   - <target>_seed_corpus.zip holds exactly the files of corpus/<target>/;
#   - the target's oracle functions (FUZZ_ORACLE) have no coverage instrumentation, under
#     libFuzzer and AFL++ alike, and its LLVMFuzzerTestOneInput has (x86-64, objdump);
#   - regression: the target runs every seed of the unzipped archive and exits 0;
#   - libfuzzer: then, in the same run, a short smoke run (SMOKE_SECONDS, default 3 s, at
#     most 2M runs) with the target's .dict and .options: no crash, no oracle failure;
#   - afl: the binary carries AFL++'s persistent-mode signature, and a 1-second afl-fuzz run
#     reports "Persistent mode binary detected" and "SHARED MEMORY FUZZING" and finds no crash,
#     and every target but fuzz_server (the kernel's TCP) at 100.00 % stability.
# Exits 77 (CTest SKIP_RETURN_CODE) only when the compiler or AFL++ is not installed
# (tools/install-deps.sh installs both). Everything lives in one mktemp directory, removed
# on exit; every run is bounded by timeout(1). It compiles with one job (EH_BUILD_JOBS), so
# under `ctest -j2` each test keeps to the one core CTest gives it.
set -euo pipefail

ENGINE=${1:?usage: contract.sh libfuzzer|afl address|undefined}
SAN=${2:?usage: contract.sh libfuzzer|afl address|undefined}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SMOKE_SECONDS=${SMOKE_SECONDS:-3}
TAG="ossfuzz-$ENGINE-$SAN"

note() { echo "[$TAG] $*"; }
fail() {
    echo "FAIL [$TAG] $*" >&2
    exit 1
}
skip() {
    echo "SKIP [$TAG] $*"
    exit 77
}

for tool in zip unzip timeout; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (tools/install-deps.sh installs it)"
done
case "$ENGINE" in
    libfuzzer)
        command -v clang >/dev/null 2>&1 && command -v clang++ >/dev/null 2>&1 ||
            skip "clang/clang++ not installed (tools/install-deps.sh installs clang)"
        CC=clang CXX=clang++ LIB_FUZZING_ENGINE=-fsanitize=fuzzer
        coverage_flags=-fsanitize=fuzzer-no-link ;;
    afl)
        command -v afl-clang-fast >/dev/null 2>&1 && command -v afl-fuzz >/dev/null 2>&1 ||
            skip "afl-clang-fast/afl-fuzz not installed (tools/install-deps.sh installs afl++)"
        driver=""
        for cand in ${AFL_DRIVER:-} /usr/lib/afl/libAFLDriver.a /usr/local/lib/afl/libAFLDriver.a; do
            [ -f "$cand" ] && { driver=$cand; break; }
        done
        [ -n "$driver" ] || skip "AFL++'s libAFLDriver.a not found (set AFL_DRIVER)"
        # OSS-Fuzz's compile_afl: CC is afl-clang-fast, LIB_FUZZING_ENGINE is the driver
        # archive, and no coverage flags (AFL++ instruments by itself).
        CC=afl-clang-fast CXX=afl-clang-fast++ LIB_FUZZING_ENGINE=$driver
        coverage_flags=""
        export AFL_QUIET=1 ;;
    *) fail "unknown engine $ENGINE" ;;
esac
# The flags OSS-Fuzz's base-builder puts in CFLAGS for each sanitizer.
case "$SAN" in
    address) san_flags="-fsanitize=address -fsanitize-address-use-after-scope" ;;
    undefined)
        checks=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unsigned-integer-overflow,unreachable,vla-bound,vptr
        norecover=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr
        san_flags="-fsanitize=$checks -fno-sanitize-recover=$norecover"
        # As on ClusterFuzz: unsigned wrap-around is defined behaviour, report it silently.
        export UBSAN_OPTIONS="silence_unsigned_overflow=1:print_stacktrace=1:halt_on_error=1" ;;
    *) fail "unknown sanitizer $SAN" ;;
esac
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:symbolize=1"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/eh-ossfuzz.XXXXXX")
# Kept on failure, so the log, the build and any crashing input can be inspected (removed
# when the run is interrupted: a CTest timeout or ^C is not a finding).
interrupted=0
cleanup() {
    local rc=$?
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] || [ "$interrupted" = 1 ]; then
        rm -rf "$TMP"
    else
        echo "[$TAG] kept $TMP" >&2
    fi
}
trap cleanup EXIT
trap 'interrupted=1; exit 1' INT TERM
mkdir -p "$TMP/src" "$TMP/work" "$TMP/out"

CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION $san_flags $coverage_flags"
start=$(date +%s)
if ! env SRC="$TMP/src" WORK="$TMP/work" OUT="$TMP/out" CC="$CC" CXX="$CXX" \
        CFLAGS="$CFLAGS" CXXFLAGS="$CFLAGS" LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
        FUZZING_ENGINE="$ENGINE" SANITIZER="$SAN" ARCHITECTURE=x86_64 FUZZING_LANGUAGE=c \
        EH_BUILD_JOBS="${EH_BUILD_JOBS:-1}" \
        timeout 240 bash "$ROOT/.clusterfuzzlite/build.sh" >"$TMP/build.log" 2>&1; then
    tail -n 40 "$TMP/build.log" >&2
    fail "build.sh failed"
fi
note "build.sh: $(tail -n 1 "$TMP/build.log") in $(($(date +%s) - start)) s"

# Exactly one executable in $OUT per fuzz/fuzz_*.c, and nothing else executable.
expected=$(find "$ROOT/fuzz" -maxdepth 1 -name 'fuzz_*.c' -exec basename {} .c \; | sort)
produced=$(cd "$TMP/out" && find . -maxdepth 1 -type f -perm -u+x | sed 's|^\./||' | sort)
[ -n "$expected" ] || fail "no fuzz/fuzz_*.c found"
[ "$expected" = "$produced" ] ||
    fail "targets in \$OUT differ from fuzz/fuzz_*.c: expected [$(echo "$expected" | tr '\n' ' ')] got [$(echo "$produced" | tr '\n' ' ')]"
ntargets=$(echo "$expected" | wc -l)

# options_args TARGET: the [libfuzzer] section of $OUT/TARGET.options as -key=value flags.
options_args() {
    local f="$TMP/out/$1.options" in=0 line key val
    [ -f "$f" ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%%#*}
        case "$line" in
            \[libfuzzer\]*) in=1; continue ;;
            \[*) in=0; continue ;;
        esac
        [ "$in" = 1 ] && [[ "$line" == *=* ]] || continue
        key=$(echo "${line%%=*}" | tr -d ' \t')
        val=$(echo "${line#*=}" | sed 's/^[ \t]*//; s/[ \t]*$//')
        [ "$key" = dict ] && val="$TMP/out/$val"
        echo "-$key=$val"
    done <"$f"
}

# sites OBJ: "function count" for every function of OBJ with coverage instrumentation
# (relocations to AFL++'s pc-guards or libFuzzer's inline 8-bit counters).
sites() {
    objdump -dr --no-show-raw-insn "$1" | awk '
        /^[0-9a-f]+ <.*>:$/ { f = $2; sub(/^</, "", f); sub(/>:$/, "", f); next }
        /R_X86_64/ && /__sancov_guards|__sancov_cntrs|__sancov_gen_/ { n[f]++ }
        END { for (k in n) print k, n[k] }'
}

total_seeds=0
for t in $expected; do
    # The oracle functions (FUZZ_ORACLE) carry no coverage under either engine: libFuzzer by
    # their no_sanitize("coverage"), AFL++ by the denylist build.sh gives it; the entry
    # point does. AFL++ denies a listed name as a suffix of any name: none may collide.
    o="$TMP/work/echoharness-obj/$t.o"
    if [ "$(uname -m)" = x86_64 ] && command -v objdump >/dev/null 2>&1 && [ -f "$o" ]; then
        oracles=$(sh "$ROOT/fuzz/afl-denylist.sh" "$ROOT/fuzz/$t.c" | sed -n 's/^fun: //p')
        cov=$(sites "$o")
        grep -q '^LLVMFuzzerTestOneInput [1-9]' <<<"$cov" ||
            fail "$t: LLVMFuzzerTestOneInput has no coverage instrumentation"
        for f in $oracles; do
            ! grep -q "^$f " <<<"$cov" ||
                fail "$t: oracle function $f is instrumented ($(echo "$cov" | grep "^$f "))"
        done
        for d in $(nm --defined-only "$o" | awk '$2 ~ /^[tT]$/ {print $3}'); do
            grep -qx "$d" <<<"$oracles" && continue
            for f in $oracles; do
                [[ "$d" != *"$f" ]] ||
                    fail "$t: $d ends in the oracle's name $f: AFL++'s denylist would skip it too"
            done
        done
        note "$t: coverage in $(echo "$cov" | awk '{print $1}' | tr '\n' ' '); none in $(echo $oracles | wc -w) oracle function(s)"
    fi

    # Dictionary and options travel iff fuzz/ has them.
    for ext in dict options; do
        if [ -f "$ROOT/fuzz/$t.$ext" ]; then
            cmp -s "$ROOT/fuzz/$t.$ext" "$TMP/out/$t.$ext" || fail "$t.$ext missing or different in \$OUT"
        elif [ -e "$TMP/out/$t.$ext" ]; then
            fail "\$OUT has $t.$ext but fuzz/ has none"
        fi
    done

    # The seed archive holds exactly corpus/<target>/.
    seeds="$TMP/seeds/$t"
    mkdir -p "$seeds"
    n=0
    if [ -d "$ROOT/corpus/$t" ]; then
        n=$(find "$ROOT/corpus/$t" -type f | wc -l)
    fi
    if [ "$n" -gt 0 ]; then
        [ -f "$TMP/out/${t}_seed_corpus.zip" ] || fail "no ${t}_seed_corpus.zip for $n seed(s)"
        unzip -q "$TMP/out/${t}_seed_corpus.zip" -d "$seeds" || fail "${t}_seed_corpus.zip does not unzip"
        # Same names, same bytes, nothing more or less (one diff, not a process per file).
        diff -rq "$ROOT/corpus/$t" "$seeds" >"$TMP/$t.diff" 2>&1 ||
            { head -n 5 "$TMP/$t.diff" >&2; fail "${t}_seed_corpus.zip differs from corpus/$t"; }
    elif [ -e "$TMP/out/${t}_seed_corpus.zip" ]; then
        fail "${t}_seed_corpus.zip exists but corpus/$t is empty"
    fi
    total_seeds=$((total_seeds + n))

    dict_arg=()
    [ -f "$TMP/out/$t.dict" ] && dict_arg=("-dict=$TMP/out/$t.dict")
    mapfile -t opt_args < <(options_args "$t")
    log="$TMP/$t.log"

    case "$ENGINE" in
        libfuzzer)
            # One run does both: libFuzzer first executes every seed (regression; a crash
            # there comes before INITED), then fuzzes for SMOKE_SECONDS from them (smoke),
            # writing new inputs to a scratch corpus, never to the seeds.
            mkdir -p "$TMP/smoke/$t"
            if ! timeout $((SMOKE_SECONDS + 120)) "$TMP/out/$t" "${opt_args[@]}" "${dict_arg[@]}" \
                -max_total_time="$SMOKE_SECONDS" -runs=2000000 -timeout=10 -rss_limit_mb=2048 \
                -print_final_stats=1 -artifact_prefix="$TMP/smoke/$t-" "$TMP/smoke/$t" "$seeds" \
                >"$log" 2>&1; then
                tail -n 40 "$log" >&2
                grep -q 'INITED' "$log" || fail "$t failed on its seed corpus (above)"
                fail "$t: smoke run found a crash or oracle failure (above)"
            fi
            grep -q 'INITED' "$log" || { tail -n 20 "$log" >&2; fail "$t never finished loading its seeds"; }
            if [ "$n" -gt 0 ]; then
                grep -q "seed corpus: files: $n " "$log" ||
                    { tail -n 10 "$log" >&2; fail "$t did not run its $n seeds"; }
            fi
            execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
            rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
            [ -n "$execs" ] && [ "$execs" -gt "$n" ] || { tail -n 20 "$log" >&2; fail "$t: smoke run fuzzed nothing"; }
            note "$t: $n seed(s) replayed, then smoke ${SMOKE_SECONDS} s: $execs execs ($rate/s), no crash" ;;
        afl)
            # Regression: AFL++'s driver runs each file given as an argument.
            if [ "$n" -gt 0 ]; then
                timeout 120 "$TMP/out/$t" "$seeds"/* >"$log" 2>&1 ||
                    { tail -n 30 "$log" >&2; fail "$t failed on its seed corpus"; }
                ok=$(grep -c '^Execution successful' "$log" || :)
                [ "$ok" -eq "$n" ] || { tail -n 10 "$log" >&2; fail "$t ran $ok of $n seeds"; }
            else
                echo 0 >"$seeds/empty-seed"
            fi
            afl_dict=()
            [ -f "$TMP/out/$t.dict" ] && afl_dict=(-x "$TMP/out/$t.dict")
            grep -q '##SIG_AFL_PERSISTENT##' "$TMP/out/$t" || fail "$t lacks AFL++'s persistent-mode signature"
            # afl-fuzz itself must see persistent mode and shared-memory test cases.
            env AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_FAST_CAL=1 \
                AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
                ASAN_OPTIONS="abort_on_error=1:symbolize=0:detect_leaks=0" \
                timeout 90 afl-fuzz -m none -V 1 "${afl_dict[@]}" -i "$seeds" -o "$TMP/afl-$t" -- "$TMP/out/$t" \
                >"$TMP/afl-$t.log" 2>&1 ||
                { sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$TMP/afl-$t.log" | tail -n 30 >&2; fail "afl-fuzz on $t failed"; }
            grep -q 'Persistent mode binary detected' "$TMP/afl-$t.log" ||
                fail "afl-fuzz did not detect persistent mode in $t"
            grep -q 'SHARED MEMORY FUZZING' "$TMP/afl-$t.log" ||
                fail "afl-fuzz did not use shared-memory test cases for $t"
            stats="$TMP/afl-$t/default/fuzzer_stats"
            [ -f "$stats" ] || fail "afl-fuzz wrote no fuzzer_stats for $t"
            execs=$(sed -n 's/^execs_done *: *//p' "$stats")
            crashes=$(sed -n 's/^saved_crashes *: *//p' "$stats")
            stab=$(sed -n 's/^stability *: *//p' "$stats")
            [ "${crashes:-0}" -eq 0 ] || fail "afl-fuzz found $crashes crash(es) in $t (see $TMP/afl-$t)"
            [ "${execs:-0}" -gt 0 ] || fail "afl-fuzz executed nothing in $t"
            # A pure-core target is deterministic: any edge that varies between runs of one
            # input is a harness bug (once-per-process work inside an execution made
            # fuzz_stream, fuzz_probe and fuzz_fuzzseq 85-98 %). fuzz_server drives the
            # kernel's TCP, whose timing it can only narrow (fuzz/README.md).
            if [ "$t" != fuzz_server ] && [ "$stab" != "100.00%" ]; then
                fail "afl-fuzz measured stability $stab in $t, not 100.00% (see $TMP/afl-$t/default/queue/.state/variable_behavior)"
            fi
            note "$t: $n seed(s) replayed; afl-fuzz 1 s: persistent + shmem, $execs execs, stability $stab, no crash" ;;
    esac
done
note "ok: $ntargets target(s), $total_seeds seed(s), $(($(date +%s) - start)) s in all"
