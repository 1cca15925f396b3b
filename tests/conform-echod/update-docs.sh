#!/bin/sh
# Rewrites the catalog table of README.md (between <!-- catalog:begin --> and
# <!-- catalog:end -->) from `echo-conform --list --format markdown`, after a change to
# src/core/catalog.c. The CTest check conform.echod.docs fails until this has been run.
# usage: tests/conform-echod/update-docs.sh path/to/echo-conform [README.md]
set -eu
conform=$1
doc=${2:-$(dirname "$0")/../../README.md}
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.table"' EXIT
"$conform" --list --format markdown >"$tmp.table"
awk -v table="$tmp.table" '
    /^<!-- catalog:end -->$/ { skip = 0 }
    !skip { print }
    /^<!-- catalog:begin -->$/ { while ((getline l < table) > 0) print l; skip = 1 }
' "$doc" >"$tmp"
cat "$tmp" >"$doc"
