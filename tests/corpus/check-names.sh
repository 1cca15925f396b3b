#!/bin/sh
# check-names.sh - every corpus file is named by the SHA-1 of its content (the name
# tools/fuzz-run.sh and libFuzzer's -merge=1 give it, so the same input is never kept twice
# under two names), or is a regression case kept by hand as crash-<what> (STYLE.md §5), and
# every corpus/<target>/ has its fuzz/<target>.c. Prints one line per offending file.
# Usage: check-names.sh [REPO_ROOT]. Exit status: 0 all named right, 1 some are not.
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || { echo "check-names: cannot enter $root"; exit 1; }
bad=0
for dir in corpus/*/; do
    t=$(basename "$dir")
    [ -f "fuzz/$t.c" ] && continue
    echo "check-names: corpus/$t/ has no fuzz/$t.c"
    bad=1
done
# One sha1sum over every file (a fork per file took seconds on a busy machine); corpus
# file names hold no spaces or newlines, or they are misnamed anyway.
find corpus -mindepth 2 -maxdepth 2 -type f -print0 | xargs -0 -r sha1sum | awk -v bad="$bad" '
    {
        sum = $1; path = $2; n = split(path, part, "/"); name = part[n]; files++
        if (name ~ /^crash-[a-z0-9-]+$/) next
        if (name ~ /^crash-/) {
            print "check-names: " path ": a regression case is named crash-<what>, <what> in [a-z0-9-]"
            bad++; next
        }
        if (name != sum) { print "check-names: " path ": not its SHA-1 (" sum ")"; bad++ }
    }
    END {
        if (files == 0) { print "check-names: no corpus files"; exit 1 }
        if (bad) { print "check-names: misnamed corpus files or folders (" files " files)"; exit 1 }
        print "check-names: " files " corpus files, each named by its SHA-1 or crash-<what>"
    }'
