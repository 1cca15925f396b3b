#!/bin/sh
# check-core-symbols.sh - enforces the pure core (STYLE.md 1): the eh_core archive may call
# only pure libc helpers and must hold no writable data (no globals).
#
# Usage: check-core-symbols.sh path/to/libeh_core.a [nm] [objdump]
# Undefined symbols (nm -u) must be on the allowlist below, their _FORTIFY_SOURCE "__*_chk"
# forms, symbols another member of the archive defines, or sanitizer/coverage
# instrumentation. Defined data symbols of type D/d/B/b/C (writable) are refused, except
# compiler-generated names starting with "." or "__", and const tables that nm shows as "d"
# only because position-independent code puts them in .data.rel.ro (read-only once
# relocated; objdump -t tells the section). Prints each offender with its object file and
# exits 1; exits 2 when it cannot run.
set -u

lib=${1:-}
nm=${2:-nm}
[ -n "$nm" ] || nm=nm
objdump=${3:-objdump}
[ -n "$objdump" ] || objdump=objdump

if [ -z "$lib" ] || [ ! -f "$lib" ]; then
    echo "check-core-symbols: usage: $0 libeh_core.a [nm] (got '${lib}')" >&2
    exit 2
fi

# bcmp: clang at -O2 turns memcmp(...) == 0 into a bcmp call, the same pure comparison.
allow="memcpy memmove memset memcmp memchr strlen strchr strncmp strcmp snprintf inet_pton inet_ntop bcmp"

tmp=${TMPDIR:-/tmp}/check-core-symbols.$$
trap 'rm -f "$tmp.u" "$tmp.d" "$tmp.r"' EXIT INT TERM

# -A prefixes every line with "archive:member:", so each offender names its object.
if ! "$nm" -A -u "$lib" >"$tmp.u" 2>&1; then
    echo "check-core-symbols: $nm -u $lib failed:" >&2
    cat "$tmp.u" >&2
    exit 2
fi
if ! "$nm" -A --defined-only "$lib" >"$tmp.d" 2>&1; then
    echo "check-core-symbols: $nm --defined-only $lib failed:" >&2
    cat "$tmp.d" >&2
    exit 2
fi

# Symbols in .data.rel.ro*, as "object symbol" lines. Without objdump the list stays empty
# and the check is only stricter.
: >"$tmp.r"
if command -v "$objdump" >/dev/null 2>&1; then
    "$objdump" -t "$lib" 2>/dev/null | awk '
        # GNU: "x.c.o:     file format ..."; LLVM: "lib.a(x.c.o):	file format ...".
        /file format/ {
            obj = $1; sub(/:$/, "", obj)
            if (obj ~ /\)$/) { sub(/^.*\(/, "", obj); sub(/\)$/, "", obj) }
            next
        }
        NF >= 4 {
            name = $NF; size_i = NF - 1
            if ($(NF - 1) == ".hidden") size_i = NF - 2
            if ($(size_i - 1) ~ /^\.data\.rel\.ro/) print obj, name
        }' >"$tmp.r"
fi

awk -v allow="$allow" '
BEGIN {
    n = split(allow, a, " ")
    for (i = 1; i <= n; i++) {
        ok[a[i]] = 1
        ok["__" a[i] "_chk"] = 1
    }
    bad = 0
}
# Object name from the first field: "lib.a:x.c.o:" (undefined) or "lib.a:x.c.o:00ab" (defined).
function object(f) { sub(/:[0-9a-fA-F]*$/, "", f); sub(/^.*\.a:/, "", f); return f }
FILENAME ~ /\.r$/ {
    relro[$1 SUBSEP $2] = 1
    next
}
FILENAME ~ /\.d$/ {
    # Defined symbols: remember globals (to allow calls between members) and check data.
    if (NF < 3)
        next
    type = $(NF - 1); sym = $NF
    if (type ~ /^[A-Z]$/)
        defined[sym] = 1
    if (type ~ /^[DdBbC]$/ && sym !~ /^\./ && sym !~ /^__/ && !((object($1) SUBSEP sym) in relro)) {
        printf "check-core-symbols: writable data symbol %s (type %s) in %s\n", sym, type, object($1)
        bad = 1
    }
    next
}
{
    if (NF < 2 || $(NF - 1) != "U")
        next
    sym = $NF
    undef[sym] = undef[sym] " " object($1)
}
END {
    for (sym in undef) {
        if (sym in ok || sym in defined)
            continue
        if (sym ~ /^(__asan_|__ubsan_|__sanitizer_|__sancov|__llvm_|__gcov_|__tsan_|__msan_)/)
            continue
        if (sym == "__stack_chk_fail" || sym == "__stack_chk_fail_local" ||
            sym == "_GLOBAL_OFFSET_TABLE_")
            continue
        printf "check-core-symbols: impure call %s from%s\n", sym, undef[sym]
        bad = 1
    }
    exit bad
}
' "$tmp.r" "$tmp.d" "$tmp.u"
rc=$?
if [ "$rc" -eq 0 ]; then
    echo "check-core-symbols: $lib: only allowed libc calls, no writable data"
fi
exit "$rc"
