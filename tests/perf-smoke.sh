#!/bin/sh
# perf-smoke.sh RUN_SH BIN_DIR: runs the benchmark matrix in --smoke mode with the programs
# in BIN_DIR and checks its report: it exits 0 (every echod and reference run verified), and
# its table has an echod row with a figure in every workload column and no failed run.
set -eu
RUN=${1:?usage: perf-smoke.sh RUN_SH BIN_DIR}
BIN=${2:?usage: perf-smoke.sh RUN_SH BIN_DIR}
OUT=$(mktemp "${TMPDIR:-/tmp}/eh-perf-smoke.XXXXXX")
trap 'rm -f "$OUT"' EXIT

st=0
sh "$RUN" --smoke --bin "$BIN" >"$OUT" || st=$?
cat "$OUT"
[ "$st" -eq 0 ] || { echo "FAIL: tools/bench/run.sh --smoke exited $st" >&2; exit 1; }
row=$(grep '^| echod |' "$OUT" | head -n 1)
[ -n "$row" ] || { echo "FAIL: no echod row in the table" >&2; exit 1; }
# | echod | a | b | c | d | e1 | e16 | f |: seven cells, each starting with a number.
cells=$(printf '%s\n' "$row" | awk -F '|' '{ n = 0; for (i = 3; i < NF; i++) if ($i ~ /^ [0-9]/) n++; print n }')
[ "$cells" -eq 7 ] || { echo "FAIL: echod row has $cells figures of 7: $row" >&2; exit 1; }
case $row in *✗*) echo "FAIL: a failed echod run: $row" >&2; exit 1 ;; esac
grep -q '^verification: every echod and ref run passed' "$OUT" ||
    { echo "FAIL: no verification line" >&2; exit 1; }
echo "ok: bench matrix smoke table with all 7 echod figures, every run verified"
