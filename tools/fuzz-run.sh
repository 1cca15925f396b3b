#!/usr/bin/env bash
# fuzz-run.sh - runs the fuzz targets for a bounded time with libFuzzer or AFL++, merges the
# inputs that add coverage into corpus/<target>/ (named by SHA-1, like the seeds), and
# prints per target: executions, exec/s, corpus size before and after, coverage, crashes.
# Targets are found by glob (fuzz/fuzz_*.c); everything it writes goes under the work
# folder (fuzz-work/, git-ignored) except the merged corpus files. It stops by itself and
# only ever signals the processes it started, by PID.
set -u
# The whole script is one block, parsed before it runs: editing the file while it runs
# (a long campaign) cannot change what the running copy does.
{

usage() {
    cat <<'EOF'
usage: tools/fuzz-run.sh [options] [TARGET...]
Runs each TARGET (default: every fuzz/fuzz_*.c) for SECONDS with all jobs on it, then
merges the new inputs that add coverage into corpus/<target>/.

  -t SECONDS     fuzzing time per target (default 60)
  -e ENGINE      libfuzzer (default) or afl
  -j JOBS        fuzzing processes per target (default: nproc). libFuzzer: JOBS workers
                 sharing one work corpus; AFL++: one main (-M) and JOBS-1 secondaries (-S)
  -w DIR         work folder (default fuzz-work/ in the repository)
  -B DIR         libFuzzer build folder (default build-fuzz, preset "fuzz")
  -C DIR         corpus root: merge into DIR/<target>/ (default corpus/ in the repository)
  -a PRESET      AFL++ build preset (default afl; afl-asan adds ASan + UBSan)
  -A DIR         AFL++ build folder (default build-PRESET, or, without that preset,
                 fuzz-work/build-afl configured with afl-clang-fast, ASan + UBSan)
  --no-build     use the binaries already in the build folders
  --no-merge     leave corpus/ alone (the new inputs stay in the work folder)
  --merge-by X   edges (default): an input joins the corpus only if it reaches an edge the
                 corpus does not (-use_counters=0: keeps git corpora small); features: also
                 new hit-count buckets (libFuzzer's plain -merge=1, many more files)
  -h, --help     this text

TARGET is a name like fuzz_stream or stream. Run it under `nice -n 19` on a shared machine.
Exit status: 0 no crash, 1 a target crashed or an oracle failed (each one is listed with
the command that reruns it), 2 bad usage, 3 a build failed.
EOF
}

die() { echo "fuzz-run: $*" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
secs=60
engine=libfuzzer
jobs=$(nproc 2>/dev/null || echo 1)
work="$root/fuzz-work"
lf_build="$root/build-fuzz"
afl_build=""
afl_preset_name=afl
corpora="$root/corpus"
build=1
merge=1
merge_by=edges
want=()

while [ $# -gt 0 ]; do
    case "$1" in
    -t) [ $# -ge 2 ] || die "-t needs a number of seconds"; secs=$2; shift 2 ;;
    -e) [ $# -ge 2 ] || die "-e needs libfuzzer or afl"; engine=$2; shift 2 ;;
    -j) [ $# -ge 2 ] || die "-j needs a number of jobs"; jobs=$2; shift 2 ;;
    -w) [ $# -ge 2 ] || die "-w needs a folder"; work=$2; shift 2 ;;
    -B) [ $# -ge 2 ] || die "-B needs a folder"; lf_build=$2; shift 2 ;;
    -C) [ $# -ge 2 ] || die "-C needs a folder"; corpora=$2; shift 2 ;;
    -A) [ $# -ge 2 ] || die "-A needs a folder"; afl_build=$2; shift 2 ;;
    -a) [ $# -ge 2 ] || die "-a needs a preset"; afl_preset_name=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --no-merge) merge=0; shift ;;
    --merge-by) [ $# -ge 2 ] || die "--merge-by needs edges or features"; merge_by=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; want+=("$@"); break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) want+=("$1"); shift ;;
    esac
done
case "$secs" in '' | *[!0-9]* | 0) die "-t wants a whole number of seconds > 0, not '$secs'" ;; esac
case "$jobs" in '' | *[!0-9]* | 0) die "-j wants a whole number > 0, not '$jobs'" ;; esac
case "$engine" in libfuzzer | afl) ;; *) die "-e wants libfuzzer or afl, not '$engine'" ;; esac
case "$merge_by" in edges) merge_flags=(-use_counters=0) ;; features) merge_flags=() ;; *) die "--merge-by wants edges or features, not '$merge_by'" ;; esac
mkdir -p "$work" || die "cannot create work folder $work"
work=$(cd "$work" && pwd)
lf_build=$(realpath -m "$lf_build")
corpora=$(realpath -m "$corpora")
has_preset() { cmake --list-presets=configure 2>/dev/null | grep -q "^ *\"$1\""; }
afl_preset=0
if [ -z "$afl_build" ]; then
    if (cd "$root" && has_preset "$afl_preset_name"); then
        afl_preset=1; afl_build="$root/build-$afl_preset_name"
    else
        afl_build="$root/fuzz-work/build-afl"
    fi
fi
afl_build=$(realpath -m "$afl_build")

# Every target is a fuzz/fuzz_<name>.c file: no list to keep up to date.
all=()
for src in "$root"/fuzz/fuzz_*.c; do
    [ -e "$src" ] && all+=("$(basename "$src" .c)")
done
[ ${#all[@]} -gt 0 ] || die "no fuzz/fuzz_*.c targets found"
targets=()
if [ ${#want[@]} -eq 0 ]; then
    targets=("${all[@]}")
else
    for w in "${want[@]}"; do
        t=${w#fuzz_}
        t=fuzz_$t
        # A target outside fuzz/ (a test's own) is fine when its binary is already built.
        [ -e "$root/fuzz/$t.c" ] || { [ "$build" = 0 ] && [ -x "$lf_build/fuzz/$t" ]; } ||
            die "no target '$w' (there are: ${all[*]})"
        targets+=("$t")
    done
fi

# ---- processes we started, and nothing else ----------------------------------------------
pids=()
stop_all() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 1
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    pids=()
}
on_signal() {
    [ -t 2 ] && printf '\r\033[K' >&2
    echo "fuzz-run: interrupted, stopping the fuzzers it started" >&2
    stop_all
    exit 130
}
trap on_signal INT TERM HUP

alive() {
    local p
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done
    return 1
}

# ---- builds --------------------------------------------------------------------------------

build_with_preset() { # preset dir log targets...
    local preset=$1 dir=$2 log=$3
    shift 3
    echo "fuzz-run: building $* ($preset → ${dir#"$root"/}; log in ${log#"$root"/})" >&2
    if ! { (cd "$root" && cmake --preset "$preset" && cmake --build --preset "$preset" --target "$@"); } >"$log" 2>&1; then
        tail -20 "$log" >&2
        echo "fuzz-run: build with preset $preset failed (log: $log)" >&2
        exit 3
    fi
}

build_afl() {
    local log="$work/build-afl.log"
    command -v afl-fuzz >/dev/null || { echo "fuzz-run: afl-fuzz not found (tools/install-deps.sh installs afl++)" >&2; exit 3; }
    if [ "$afl_preset" = 1 ]; then
        build_with_preset "$afl_preset_name" "$afl_build" "$log" "${targets[@]}"
        return
    fi
    # No afl preset (or another folder asked for): the same flags by hand.
    echo "fuzz-run: building ${targets[*]} with afl-clang-fast → $afl_build" >&2
    if ! { cmake -S "$root" -B "$afl_build" -G Ninja -DCMAKE_C_COMPILER=afl-clang-fast \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEH_SANITIZE=address,undefined \
        -DEH_FUZZ_ENGINE=afl -DEH_BUILD_TESTS=OFF &&
        cmake --build "$afl_build" --target "${targets[@]}"; } >"$log" 2>&1; then
        tail -20 "$log" >&2
        echo "fuzz-run: AFL++ build failed (log: $log)" >&2
        exit 3
    fi
}

# The libFuzzer build measures coverage and merges, for both engines.
if [ "$build" = 1 ]; then
    if [ "$lf_build" = "$root/build-fuzz" ]; then
        build_with_preset fuzz "$lf_build" "$work/build-fuzz.log" "${targets[@]}"
    else
        [ -f "$lf_build/CMakeCache.txt" ] || die "$lf_build is not a configured build folder"
        cmake --build "$lf_build" --target "${targets[@]}" >"$work/build-fuzz.log" 2>&1 ||
            { tail -20 "$work/build-fuzz.log" >&2; echo "fuzz-run: build failed" >&2; exit 3; }
    fi
    [ "$engine" = afl ] && build_afl
fi
for t in "${targets[@]}"; do
    [ -x "$lf_build/fuzz/$t" ] || { echo "fuzz-run: $lf_build/fuzz/$t missing (build it, or drop --no-build)" >&2; exit 3; }
    if [ "$engine" = afl ]; then
        [ -x "$afl_build/fuzz/$t" ] || { echo "fuzz-run: $afl_build/fuzz/$t missing (build it, or drop --no-build)" >&2; exit 3; }
    fi
done

# ---- helpers -------------------------------------------------------------------------------
count_files() { if [ -n "$1" ]; then find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; else echo 0; fi; }

# libFuzzer's INITED line over a corpus: "cov ft" of that corpus.
corpus_cov() { # bin dir
    local line
    [ -n "$2" ] || { echo "- -"; return; }
    line=$("$1" -runs=0 "$2" 2>&1 | grep -m1 'INITED cov:')
    awk '{for (i = 1; i < NF; i++) { if ($i == "cov:") c = $(i+1); if ($i == "ft:") f = $(i+1) }} END {print (c == "" ? "?" : c), (f == "" ? "?" : f)}' <<<"$line"
}

# Flags from fuzz/<target>.options ([libfuzzer] key = value) and fuzz/<target>.dict.
libfuzzer_flags() { # target
    local t=$1 opt="$root/fuzz/$1.options" have_dict=0
    if [ -f "$opt" ]; then
        while IFS= read -r kv; do
            case "$kv" in dict=*) have_dict=1; kv="dict=$root/fuzz/${kv#dict=}" ;; esac
            printf -- '-%s\n' "$kv"
        done < <(awk '/^\[/ { sec = $0; next } sec == "[libfuzzer]" && /=/ { gsub(/[ \t]/, ""); print }' "$opt")
    fi
    if [ "$have_dict" = 0 ] && [ -f "$root/fuzz/$t.dict" ]; then
        printf -- '-dict=%s\n' "$root/fuzz/$t.dict"
    fi
}

human() { awk -v n="$1" 'BEGIN { if (n >= 1e9) printf "%.1fG", n/1e9; else if (n >= 1e6) printf "%.1fM", n/1e6; else if (n >= 1e4) printf "%.1fk", n/1e3; else printf "%d", n }'; }

progress() { [ -t 2 ] && printf '\r\033[K%s' "$1" >&2; }
progress_done() { [ -t 2 ] && printf '\r\033[K' >&2; }

# Wait for the fuzzers, with a progress line; a fuzzer still running well past its time is
# stopped (it may be stuck in one input).
wait_fuzzers() { # target stats-function
    local t=$1 fn=$2 start now el
    start=$(date +%s)
    while alive; do
        now=$(date +%s)
        el=$((now - start))
        progress "$(printf '%-14s %4d/%d s  %s' "$t" "$el" "$secs" "$($fn)")"
        if [ "$el" -gt $((secs + 60)) ]; then
            progress_done
            echo "fuzz-run: $t still running ${el}s after start; stopping it" >&2
            break
        fi
        sleep 1
    done
    progress_done
    stop_all
}

summary=()
crashes=()
cpu_total=0

# CPU seconds (user + sys) of the children this shell has reaped so far: the fuzzers (and,
# through them, AFL++'s forked targets). Taken around each run, it counts the fuzzing only.
# `times` must run in this shell, not in a $(...) subshell: the caller reads "$work/.cpu".
children_cpu() {
    times >"$work/.times"
    awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } printf "%.1f\n", t }' "$work/.times" >"$work/.cpu"
}

# ---- libFuzzer -----------------------------------------------------------------------------
lf_live() { # current numbers from the worker logs
    local f execs=0 rate=0 cov=0 ft=0 line
    for f in "$d"/logs/w*.log; do
        line=$(grep -a '^#[0-9]' "$f" 2>/dev/null | tail -1)
        [ -n "$line" ] || continue
        read -r e r c x < <(awk '{ e = substr($1, 2); for (i = 1; i < NF; i++) { if ($i == "exec/s:") r = $(i+1); if ($i == "cov:") c = $(i+1); if ($i == "ft:") x = $(i+1) } } END { print e+0, r+0, c+0, x+0 }' <<<"$line")
        execs=$((execs + e)); rate=$((rate + r))
        [ "$c" -gt "$cov" ] && cov=$c
        [ "$x" -gt "$ft" ] && ft=$x
    done
    printf 'execs %s  %s exec/s  cov %s ft %s  new %s  crashes %s' "$(human $execs)" "$(human $rate)" \
        "$cov" "$ft" "$(count_files "$d/queue")" "$(count_files "$d/artifacts")"
}

run_libfuzzer() { # target
    local t=$1 bin="$lf_build/fuzz/$1" corpus="$corpora/$1" i flags=() cpu0 cpu
    d="$work/libfuzzer/$t"
    rm -rf "$d"
    mkdir -p "$d/queue" "$d/artifacts" "$d/logs"
    [ "$merge" = 1 ] && mkdir -p "$corpus"
    [ -d "$corpus" ] || corpus=""
    mapfile -t flags < <(libfuzzer_flags "$t")
    local n0 cov0
    n0=$(count_files "$corpus")
    cov0=$(corpus_cov "$bin" "$corpus")
    children_cpu
    cpu0=$(cat "$work/.cpu")
    for ((i = 1; i <= jobs; i++)); do
        # New inputs go to the first folder (the work queue); corpus/ is only read.
        "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -reload=1 \
            -artifact_prefix="$d/artifacts/" "${flags[@]}" "$d/queue" ${corpus:+"$corpus"} \
            >"$d/logs/w$i.log" 2>&1 &
        pids+=($!)
    done
    wait_fuzzers "$t" lf_live
    children_cpu
    cpu=$(awk -v a="$(cat "$work/.cpu")" -v b="$cpu0" 'BEGIN { printf "%.0f", a - b }')

    local execs=0 rate=0 f e r
    for f in "$d"/logs/w*.log; do
        e=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$f")
        r=$(awk '/^stat::average_exec_per_sec:/ { print $2 }' "$f")
        if [ -z "$e" ]; then # crashed or stopped early: the last status line
            e=$(grep -a '^#[0-9]' "$f" | tail -1 | awk '{ print substr($1, 2) + 0 }')
            r=$(grep -a '^#[0-9]' "$f" | tail -1 | awk '{ for (i = 1; i < NF; i++) if ($i == "exec/s:") print $(i+1) + 0 }')
        fi
        execs=$((execs + ${e:-0})); rate=$((rate + ${r:-0}))
    done
    finish_target "$t" "$bin" "$corpus" "$d/queue" "$n0" "$cov0" "$execs" "$rate" "" "$cpu"
    for f in "$d"/artifacts/*; do
        [ -f "$f" ] && crash "$t" "$f" "$(grep -a -h -m1 -E 'ERROR: |runtime error:|^fuzz_|^[a-z_]+: .*(mismatch|expected|oracle)' "$d"/logs/w*.log | head -1)"
    done
}

# ---- AFL++ ---------------------------------------------------------------------------------
afl_stat() { # file key
    awk -F' *: *' -v k="$2" '$1 == k { print $2 }' "$1" 2>/dev/null
}

afl_live() {
    local f execs=0 rate=0 edges="?" total="?" found=0 crashes=0 e r timed=0
    for f in "$d"/out/*/fuzzer_stats; do
        [ -f "$f" ] || continue
        e=$(afl_stat "$f" execs_done)
        execs=$((execs + ${e:-0}))
        # execs_done / run_time, not AFL++'s execs_per_sec: the stats file it writes at start-up
        # divides by the milliseconds since start (541 executions showed as 2.1G exec/s), and
        # the next write comes a minute later. Under a second of run time counts as no rate yet.
        r=$(afl_stat "$f" run_time)
        [ "${r:-0}" -gt 0 ] 2>/dev/null && rate=$((rate + ${e:-0} / r)) && timed=1
    done
    if [ -f "$d/out/main/fuzzer_stats" ]; then
        edges=$(afl_stat "$d/out/main/fuzzer_stats" edges_found)
        total=$(afl_stat "$d/out/main/fuzzer_stats" total_edges)
    fi
    found=$(find "$d"/out/*/queue -maxdepth 1 -type f -name 'id:*' 2>/dev/null | wc -l)
    crashes=$(find "$d"/out/*/crashes -type f -name 'id:*' 2>/dev/null | wc -l)
    [ "$timed" = 1 ] && rate=$(human $rate) || rate="?"
    printf 'execs %s  %s exec/s  edges %s/%s  queue %s  crashes %s' "$(human $execs)" "$rate" \
        "$edges" "$total" "$found" "$crashes"
}

run_afl() { # target
    local t=$1 bin="$afl_build/fuzz/$1" lfbin="$lf_build/fuzz/$1" corpus="$corpora/$1" i xdict=() cpu0 cpu
    d="$work/afl/$t"
    rm -rf "$d"
    mkdir -p "$d/logs" "$d/queue"
    [ "$merge" = 1 ] && mkdir -p "$corpus"
    [ -d "$corpus" ] || corpus=""
    local n0 cov0 in="$corpus"
    n0=$(count_files "$corpus")
    cov0=$(corpus_cov "$lfbin" "$corpus")
    if [ "$n0" -eq 0 ]; then # afl-fuzz needs one input to start from
        mkdir -p "$d/in" && printf '\0' >"$d/in/zero"
        in="$d/in"
    fi
    [ -f "$root/fuzz/$t.dict" ] && xdict=(-x "$root/fuzz/$t.dict")
    children_cpu
    cpu0=$(cat "$work/.cpu")
    for ((i = 0; i < jobs; i++)); do
        local role=(-M main)
        [ "$i" -gt 0 ] && role=(-S "s$i")
        # Persistent mode with shared-memory test cases comes from AFL++'s libFuzzer driver.
        AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_TRY_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
            AFL_SUPPRESS_ERRORS=1 \
            afl-fuzz "${role[@]}" -i "$in" -o "$d/out" -V "$secs" "${xdict[@]}" -- "$bin" \
            >"$d/logs/${role[1]}.log" 2>&1 &
        pids+=($!)
    done
    wait_fuzzers "$t" afl_live
    children_cpu
    cpu=$(awk -v a="$(cat "$work/.cpu")" -v b="$cpu0" 'BEGIN { printf "%.0f", a - b }')

    local execs=0 rate=0 f
    for f in "$d"/out/*/fuzzer_stats; do
        [ -f "$f" ] || continue
        execs=$((execs + $(afl_stat "$f" execs_done)))
        rate=$(awk -v a="$rate" -v b="$(afl_stat "$f" execs_per_sec)" 'BEGIN { printf "%d", a + b }')
    done
    local extra="edges ?"
    if [ -f "$d/out/main/fuzzer_stats" ]; then
        extra="edges $(afl_stat "$d/out/main/fuzzer_stats" edges_found)/$(afl_stat "$d/out/main/fuzzer_stats" total_edges) bitmap $(afl_stat "$d/out/main/fuzzer_stats" bitmap_cvg)"
    else
        echo "fuzz-run: afl-fuzz wrote no stats for $t; its log:" >&2
        tail -15 "$d/logs/main.log" >&2
    fi
    # The queues, flat (no .state links), for the libFuzzer merge.
    for f in "$d"/out/*/queue/id:*; do
        [ -f "$f" ] || continue
        i=${f#"$d"/out/}
        cp "$f" "$d/queue/${i%%/*}-${f##*/}"
    done
    finish_target "$t" "$lfbin" "$corpus" "$d/queue" "$n0" "$cov0" "$execs" "$rate" "$extra" "$cpu"
    for f in "$d"/out/*/crashes/id:* "$d"/out/*/hangs/id:*; do
        [ -f "$f" ] && crash "$t" "$f" "${f#"$d"/out/}"
    done
}

# ---- reporting -----------------------------------------------------------------------------
crash() { # target file what
    crashes+=("$1: $2${3:+
    $3}
    rerun: tools/fuzz-triage.sh $1 $2")
}

finish_target() { # target lfbin corpus newdir n0 cov0 execs rate extra cpu
    local t=$1 bin=$2 corpus=$3 new=$4 n0=$5 cov0=$6 execs=$7 rate=$8 extra=$9 cpu=${10} n1 cov1 added=""
    if [ "$merge" = 1 ] && [ "$(count_files "$new")" -gt 0 ]; then
        progress "$(printf '%-14s merging %s new inputs into %s' "$t" "$(count_files "$new")" "$corpus")"
        # -merge=1 copies into corpus/ only the inputs that add coverage, named by SHA-1.
        "$bin" -merge=1 "${merge_flags[@]}" -timeout=10 -artifact_prefix="$d/merge-" "$corpus" "$new" >"$d/logs/merge.log" 2>&1 ||
            echo "fuzz-run: merge for $t failed (log: $d/logs/merge.log)" >&2
        added=$(grep -a -m1 'MERGE-OUTER: [0-9]* new files' "$d/logs/merge.log" | awk '{ print $2 }')
        progress_done
    fi
    n1=$(count_files "$corpus")
    cov1=$(corpus_cov "$bin" "$corpus")
    [ "$merge" = 1 ] || cov1="$cov1 (not merged: $(count_files "$new") new in ${new#"$root"/})"
    cpu_total=$((cpu_total + cpu))
    summary+=("$(printf '%-14s %6s %10s %9s %5s -> %-5s %-9s -> %-22s %s' "$t" "$cpu" "$(human "$execs")" "$(human "$rate")" \
        "$n0" "$n1" "${cov0/ //}" "${cov1/ //}" "$extra")")
    echo "fuzz-run: done: ${summary[${#summary[@]}-1]}" >&2
}

# ---- run -----------------------------------------------------------------------------------
echo "fuzz-run: $engine, ${secs}s per target, $jobs job(s), targets: ${targets[*]}" >&2
for t in "${targets[@]}"; do
    if [ "$engine" = libfuzzer ]; then run_libfuzzer "$t"; else run_afl "$t"; fi
done

printf '\n%-14s %6s %10s %9s %-14s %-22s\n' target "cpu s" execs "exec/s" " corpus files" "cov/ft of the corpus"
for line in "${summary[@]}"; do echo "$line"; done
echo "fuzzing CPU time: ${cpu_total} s (user + sys of the fuzzing processes)"
if [ ${#crashes[@]} -gt 0 ]; then
    echo
    echo "CRASHES (${#crashes[@]}):"
    for c in "${crashes[@]}"; do echo "  $c"; done
    exit 1
fi
echo
echo "no crash, no oracle failure"
exit 0

exit
}
