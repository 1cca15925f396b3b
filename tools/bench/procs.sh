# procs.sh - sourced by tools/bench/run.sh and tests/perf-matrix.sh: the process tree.
#
# descendants PID: PID and every process below it. cat goes on past processes that exit
# while it reads (an awk given the files itself may stop at the first missing one).
descendants() {
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
        {
            # pid (comm) state ppid ...; comm may hold spaces and parentheses.
            rest = $0; sub(/^.*\) /, "", rest); split(rest, f, " ")
            parent[$1] = f[2]
        }
        END {
            out[root] = 1; n = 1
            while (n) { n = 0; for (p in parent) if (!(p in out) && (parent[p] in out)) { out[p] = 1; n++ } }
            for (p in out) print p
        }'
}
