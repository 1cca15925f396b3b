#!/bin/sh
# perf-smoke.sh RUN_SH BIN_DIR [SERVER WORKLOADS]: runs the benchmark matrix in --smoke mode
# with the programs in BIN_DIR and checks its report: it exits 0 (every echod and reference
# run verified), and its table has an echod row with a figure in every workload column and
# no failed run. With SERVER (echod or echod-sleep) and WORKLOADS (a list), only those, with
# the reference, and SERVER's row is checked.
set -eu
RUN=${1:?usage: perf-smoke.sh RUN_SH BIN_DIR}
BIN=${2:?usage: perf-smoke.sh RUN_SH BIN_DIR}
SERVER=${3:-echod}
WORKLOADS=${4:-}
OUT=$(mktemp "${TMPDIR:-/tmp}/eh-perf-smoke.XXXXXX")
trap 'rm -f "$OUT"' EXIT

st=0
if [ -n "$WORKLOADS" ]; then
    sh "$RUN" --smoke --bin "$BIN" --servers "$SERVER ref" --workloads "$WORKLOADS" >"$OUT" || st=$?
    want=$(printf '%s\n' $WORKLOADS | grep -c .)
else
    sh "$RUN" --smoke --bin "$BIN" >"$OUT" || st=$?
    want=7
fi
cat "$OUT"
[ "$st" -eq 0 ] || { echo "FAIL: tools/bench/run.sh --smoke exited $st" >&2; exit 1; }
row=$(grep "^| $SERVER |" "$OUT" | head -n 1)
[ -n "$row" ] || { echo "FAIL: no $SERVER row in the table" >&2; exit 1; }
# | echod | a | b | c | d | e1 | e16 | f |: a cell per workload, each starting with a number.
cells=$(printf '%s\n' "$row" | awk -F '|' '{ n = 0; for (i = 3; i < NF; i++) if ($i ~ /^ [0-9]/) n++; print n }')
[ "$cells" -eq "$want" ] || { echo "FAIL: $SERVER row has $cells figures of $want: $row" >&2; exit 1; }
case $row in *✗*) echo "FAIL: a failed $SERVER run: $row" >&2; exit 1 ;; esac
grep -q '^verification: every echod and ref run passed' "$OUT" ||
    { echo "FAIL: no verification line" >&2; exit 1; }
echo "ok: bench matrix smoke table with all $want $SERVER figures, every run verified"
