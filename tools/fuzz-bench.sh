#!/usr/bin/env bash
# fuzz-bench.sh - exec/s of every fuzz target as ratios to two peer targets measured in the
# same run: ../shared/peers/fuzz_ring.c (a minimal echo-like target) and fuzz_empty.c (the
# engine's ceiling). The peers are compiled with exactly the flags the build used for the
# targets (read from compile_commands.json), every binary runs alone for the same time with
# the same input-length limit, repetitions are interleaved, and the figure is the median of
# the per-repetition ratios. libFuzzer first, then AFL++ persistent mode with shared-memory
# test cases (afl-fuzz -V, execs_per_sec from fuzzer_stats). Prints a markdown table.
set -u
# The whole script is one block, parsed before it runs: editing the file while it runs
# (a long campaign) cannot change what the running copy does.
{

usage() {
    cat <<'EOF'
usage: tools/fuzz-bench.sh [options] [TARGET...]
  -t SECONDS   time per run (default 10)
  -r REPS      interleaved repetitions (default 3)
  -m BYTES     input-length limit for every binary: libFuzzer -max_len, afl-fuzz -G (default 4096)
  -p DIR       peers folder holding fuzz_ring.c and fuzz_empty.c (default ../shared/peers
               relative to the repository)
  -e ENGINES   libfuzzer,afl (default both)
  -w DIR       work folder (default fuzz-work/bench)
  -a PRESET    AFL++ build preset (default afl-asan: ASan + UBSan like the libFuzzer build;
               afl is the plain one); without it, fuzz-work/build-afl with afl-clang-fast
  --no-build   use the binaries already in build-fuzz/ and the AFL++ build folder
  --paired     run the ring peer before the first target and after every target of a
               repetition (P T1 P T2 ... Tn P, then the empty peer): each ratio to fuzz_ring
               is the target's exec/s over the mean of the two peer runs around it, taken
               per pair, so a swing of the machine's speed between repetitions cancels;
               adds a column with every pair's ratio. Costs n + 1 ring runs a repetition.
  -h, --help   this text
Runs one binary at a time: on a shared machine, run nothing else heavy meanwhile.
EOF
}
die() { echo "fuzz-bench: $*" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
secs=10 reps=3 maxlen=4096 engines=libfuzzer,afl build=1 afl_preset=afl-asan paired=0
peers="$root/../shared/peers"
work="$root/fuzz-work/bench"
want=()
while [ $# -gt 0 ]; do
    case "$1" in
    -t) [ $# -ge 2 ] || die "-t needs seconds"; secs=$2; shift 2 ;;
    -r) [ $# -ge 2 ] || die "-r needs a count"; reps=$2; shift 2 ;;
    -m) [ $# -ge 2 ] || die "-m needs bytes"; maxlen=$2; shift 2 ;;
    -p) [ $# -ge 2 ] || die "-p needs a folder"; peers=$2; shift 2 ;;
    -e) [ $# -ge 2 ] || die "-e needs engines"; engines=$2; shift 2 ;;
    -w) [ $# -ge 2 ] || die "-w needs a folder"; work=$2; shift 2 ;;
    -a) [ $# -ge 2 ] || die "-a needs a preset"; afl_preset=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --paired) paired=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) want+=("$1"); shift ;;
    esac
done
for v in "$secs" "$reps" "$maxlen"; do
    case "$v" in '' | *[!0-9]* | 0) die "-t, -r and -m want whole numbers > 0, not '$v'" ;; esac
done
# Every engine named before anything is built or run (a bad one used to come after the peers
# warning, or after a whole libFuzzer build and run with -e libfuzzer,bad).
IFS=, read -r -a elist <<<"$engines"
[ ${#elist[@]} -gt 0 ] || die "-e wants libfuzzer, afl or both, comma-separated"
for e in "${elist[@]}"; do
    case "$e" in libfuzzer | afl) ;; *) die "unknown engine '$e' (libfuzzer, afl)" ;; esac
done
mkdir -p "$work" || die "cannot create $work"
work=$(cd "$work" && pwd)

targets=()
if [ ${#want[@]} -eq 0 ]; then
    for src in "$root"/fuzz/fuzz_*.c; do [ -e "$src" ] && targets+=("$(basename "$src" .c)"); done
else
    for w in "${want[@]}"; do
        t=fuzz_${w#fuzz_}
        [ -e "$root/fuzz/$t.c" ] || die "no target '$w'"
        targets+=("$t")
    done
fi
[ ${#targets[@]} -gt 0 ] || die "no fuzz/fuzz_*.c targets"

have_peers=1
for p in fuzz_ring fuzz_empty; do
    if [ ! -f "$peers/$p.c" ]; then
        echo "fuzz-bench: no $peers/$p.c (give the peers folder with -p): running the targets without peers, so no ratios" >&2
        have_peers=0
        break
    fi
done
peer_names=()
[ "$have_peers" = 1 ] && peer_names=(peer_ring peer_empty)

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; exit 130' INT TERM HUP

# The compiler and flags the build used for a target, minus outputs, includes, warnings
# and dependency files: what the peers are compiled with. A target file built without some
# coverage instrumentation (fuzz/CMakeLists.txt: -fno-sanitize-coverage=...) does not pass
# that on: the peers always get the preset's full instrumentation.
flags_of() { # build-dir target
    jq -r --arg f "/fuzz/$2.c" '.[] | select(.file | endswith($f)) | .command' "$1/compile_commands.json" | head -1 |
        awk '{ for (i = 1; i <= NF; i++) {
                 if ($i == "-o" || $i == "-c" || $i == "-MT" || $i == "-MF") { i++; continue }
                 if ($i ~ /^-(I|W|M)/ || $i ~ /\.c$/ || $i ~ /^-fno-sanitize-coverage=/) continue
                 printf "%s ", $i } }'
}

build_peers() { # engine build-dir
    local e=$1 b=$2 cmd
    cmd=$(flags_of "$b" "${targets[0]}")
    [ -n "$cmd" ] || { echo "fuzz-bench: no compile command for ${targets[0]} in $b/compile_commands.json" >&2; exit 3; }
    mkdir -p "$work/$e"
    echo "fuzz-bench: $e peers built with: $cmd" >&2
    echo "$cmd" >"$work/$e/flags"
    # shellcheck disable=SC2086 # the command is a word list on purpose
    $cmd "$peers/fuzz_ring.c" -o "$work/$e/peer_ring" &&
        $cmd "$peers/fuzz_empty.c" -o "$work/$e/peer_empty" || { echo "fuzz-bench: building the $e peers failed" >&2; exit 3; }
}

bin_of() { # engine name
    case "$2" in peer_*) echo "$work/$1/$2" ;; *) if [ "$1" = libfuzzer ]; then echo "$lf_build/fuzz/$2"; else echo "$afl_build/fuzz/$2"; fi ;; esac
}

# One run, printing exec/s.
# Repetition r runs every binary with -seed=r: each repetition compares the same mutation
# sequences, not whichever inputs a time-seeded start happened to grow (the ring peer alone
# swung from 150 k to 280 k exec/s between unseeded runs, by the lengths it explored).
run_libfuzzer() { # bin repetition
    "$1" -max_total_time="$secs" -max_len="$maxlen" -seed="$2" -print_final_stats=1 -timeout=10 \
        -artifact_prefix="$work/libfuzzer/" >"$work/libfuzzer/last.log" 2>&1 &
    pids=($!)
    wait "${pids[0]}"
    awk '/^stat::average_exec_per_sec:/ { print $2 }' "$work/libfuzzer/last.log"
}

run_afl() { # bin repetition (unused: afl-fuzz's queue comes from the same input each time)
    local out="$work/afl/out"
    rm -rf "$out"
    AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_TRY_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
        AFL_SUPPRESS_ERRORS=1 afl-fuzz -i "$work/afl/in" -o "$out" -V "$secs" -G "$maxlen" -- "$1" \
        >"$work/afl/last.log" 2>&1 &
    pids=($!)
    wait "${pids[0]}"
    awk -F' *: *' '$1 == "execs_per_sec" { print $2 }' "$out/default/fuzzer_stats" 2>/dev/null
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Results: one line per run, "repetition binary exec/s position" (position: the run's place
# in its repetition, which the paired ratios use to find the peer runs around a target).
bench() { # engine
    local e=$1 r n x seq
    local names=("${targets[@]}" "${peer_names[@]}")
    local order
    rm -f "$work/$e/results"
    for ((r = 1; r <= reps; r++)); do
        # Rotate the order each repetition so no binary always runs first or last.
        order=()
        for ((n = 0; n < ${#names[@]}; n++)); do
            x=${names[$(((n + r - 1) % ${#names[@]}))]}
            if [ "$paired" = 1 ]; then
                # The ring peer goes around every target instead (below); the empty one last.
                case "$x" in peer_*) continue ;; esac
                order+=(peer_ring "$x")
            else
                order+=("$x")
            fi
        done
        [ "$paired" = 1 ] && order+=(peer_ring peer_empty)
        seq=0
        for x in "${order[@]}"; do
            seq=$((seq + 1))
            [ -t 2 ] && printf '\r\033[Kfuzz-bench: %s rep %d/%d: %s' "$e" "$r" "$reps" "$x" >&2
            echo "$r $x $(run_$e "$(bin_of "$e" "$x")" "$r") $seq" >>"$work/$e/results"
        done
    done
    [ -t 2 ] && printf '\r\033[K' >&2
    for x in "${names[@]}"; do
        local rate ring empty pairs=""
        rate=$(awk -v x="$x" '$2 == x { print $3 }' "$work/$e/results" | median)
        ring=- empty=-
        if [ "$have_peers" = 1 ] && [ "$paired" = 1 ] && [ "${x#peer_}" = "$x" ]; then
            # Each run of x over the mean of the ring peer's runs just before and after it.
            pairs=$(awk -v x="$x" '{ k = $1 " " $4; v[k] = $3; b[k] = $2 }
                $2 == x { t[++m] = $1 " " $4 }
                END { for (i = 1; i <= m; i++) { split(t[i], a, " ")
                        p = a[1] " " (a[2] - 1); q = a[1] " " (a[2] + 1)
                        if (b[p] == "peer_ring" && b[q] == "peer_ring" && v[p] + v[q] > 0)
                            printf "%.3f\n", v[t[i]] / ((v[p] + v[q]) / 2) } }' "$work/$e/results")
            ring=$(printf '%s\n' "$pairs" | grep . | median)
            empty=$(awk -v x="$x" '$2 == x { a[$1] = $3 } $2 == "peer_empty" { b[$1] = $3 }
                END { for (r in a) if (b[r] > 0) printf "%.3f\n", a[r] / b[r] }' "$work/$e/results" | median)
            pairs=$(printf '%s\n' "$pairs" | grep . | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }')
        elif [ "$have_peers" = 1 ]; then
            # Ratio per repetition (same minute, same machine load), then the median.
            ring=$(awk -v x="$x" '$2 == x { a[$1] = $3 } $2 == "peer_ring" { b[$1] = $3 }
                END { for (r in a) if (b[r] > 0) printf "%.3f\n", a[r] / b[r] }' "$work/$e/results" | median)
            empty=$(awk -v x="$x" '$2 == x { a[$1] = $3 } $2 == "peer_empty" { b[$1] = $3 }
                END { for (r in a) if (b[r] > 0) printf "%.3f\n", a[r] / b[r] }' "$work/$e/results" | median)
        fi
        local kind=core
        case "$x" in peer_*) kind=peer ;; *) grep -q '#include "net/' "$root/fuzz/$x.c" && kind="net glue" ;; esac
        [ "$ring" = - ] || ring=$(printf '%.2f×' "$ring")
        [ "$empty" = - ] || empty=$(printf '%.2f×' "$empty")
        if [ "$paired" = 1 ]; then
            printf '| %s | %s | %s | %.0f | %s | %s | %s |\n' "$e" "${x/peer_/peers\/fuzz_}" "$kind" "$rate" "$ring" "$empty" "${pairs:--}"
        else
            printf '| %s | %s | %s | %.0f | %s | %s |\n' "$e" "${x/peer_/peers\/fuzz_}" "$kind" "$rate" "$ring" "$empty"
        fi
    done
}

lf_build="$root/build-fuzz"
afl_build=""
table=()
IFS=, read -r -a elist <<<"$engines"
for e in "${elist[@]}"; do
    case "$e" in
    libfuzzer)
        if [ "$build" = 1 ]; then
            (cd "$root" && cmake --preset fuzz && cmake --build --preset fuzz --target "${targets[@]}") >"$work/build-fuzz.log" 2>&1 ||
                { tail -20 "$work/build-fuzz.log" >&2; echo "fuzz-bench: libFuzzer build failed" >&2; exit 3; }
        fi
        ;;
    afl)
        command -v afl-fuzz >/dev/null || { echo "fuzz-bench: afl-fuzz missing: skipping AFL++" >&2; continue; }
        if (cd "$root" && cmake --list-presets=configure 2>/dev/null | grep -q "\"$afl_preset\""); then
            afl_build="$root/build-$afl_preset"
            [ "$build" = 1 ] && { (cd "$root" && cmake --preset "$afl_preset" && cmake --build --preset "$afl_preset" --target "${targets[@]}") >"$work/build-afl.log" 2>&1 ||
                { tail -20 "$work/build-afl.log" >&2; echo "fuzz-bench: AFL++ build failed" >&2; exit 3; }; }
        else
            # Same fallback as tools/fuzz-run.sh: the fuzz preset's flags with afl-clang-fast.
            afl_build="$root/fuzz-work/build-afl"
            [ "$build" = 1 ] && { { cmake -S "$root" -B "$afl_build" -G Ninja -DCMAKE_C_COMPILER=afl-clang-fast \
                -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEH_SANITIZE=address,undefined -DEH_FUZZ_ENGINE=afl \
                -DEH_BUILD_TESTS=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON &&
                cmake --build "$afl_build" --target "${targets[@]}"; } >"$work/build-afl.log" 2>&1 ||
                { tail -20 "$work/build-afl.log" >&2; echo "fuzz-bench: AFL++ build failed" >&2; exit 3; }; }
        fi
        mkdir -p "$work/afl/in" && printf '\0' >"$work/afl/in/zero"
        ;;
    *) die "unknown engine '$e' (libfuzzer, afl)" ;;
    esac
    b=$lf_build
    [ "$e" = afl ] && b=$afl_build
    [ "$have_peers" = 1 ] && build_peers "$e" "$b"
    mkdir -p "$work/$e"
    mapfile -t rows < <(bench "$e")
    table+=("${rows[@]}")
done

echo
if [ "$paired" = 1 ]; then
    echo "exec/s: median of $reps interleaved ${secs}-second runs per binary, one at a time, input length ≤ $maxlen bytes, the ring peer run before and after every target; ÷ fuzz_ring: median of the per-pair ratios (each target run over the mean of the two ring runs around it), listed in the last column; ÷ fuzz_empty: median of the per-repetition ratios."
    echo
    echo "| engine | target | kind | exec/s | ÷ fuzz_ring | ÷ fuzz_empty | pair ratios |"
    echo "|---|---|---|---:|---:|---:|---|"
else
    echo "exec/s: median of $reps interleaved ${secs}-second runs per binary, one at a time, input length ≤ $maxlen bytes; ratios: median of the per-repetition ratios."
    echo
    echo "| engine | target | kind | exec/s | ÷ fuzz_ring | ÷ fuzz_empty |"
    echo "|---|---|---|---:|---:|---:|"
fi
printf '%s\n' "${table[@]}"

exit
}
