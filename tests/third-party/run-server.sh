#!/bin/sh
# Starts a third-party echo server on a free 127.0.0.1 port, runs echo-conform against it and
# checks the verdicts its row in tests/third-party/README.md records: the exit status, `not ok`
# for every known deviation ("must fail"; timing-dependent ones are "may fail") and for no
# other case, a plain `ok` for the "must pass" cases. The row's start
# commands run as written, with $PORT and $DIR (a private temporary folder) filled in; a
# template tests/third-party/<server>.conf is copied to $DIR/<server>.conf with @PORT@ filled in.
# usage: run-server.sh SERVER ECHO_CONFORM MANIFEST
# Exit: 0 as recorded, 1 not as recorded (TAP and server logs printed), 77 the server program,
# setsid or echo-conform is missing (CTest shows SKIP). Only loopback; every wait is bounded;
# each server runs in its own process group, which is stopped by its ID.
set -u
set -f # case ids and --only globs are words, never file names

server=$1 conform=$2 manifest=$3
LIFETIME=${EH_3P_LIFETIME:-240} # seconds a started server may live at most
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../fixtures/verdicts.sh"

manifest_row "$server" "$manifest" || exit 1
version_cmd=$(manifest_cell 2)
starts=$(printf '%s\n' "$row" | awk -F'|' '{ print $4 }' | grep -o '`[^`]*`' | tr -d '`')
select=$(manifest_cell 4)
want_rc=$(manifest_cell 5 | tr -d ' ')
must_fail=$(manifest_cell 6)
may_fail=$(manifest_cell 7)
must_pass=$(manifest_cell 8)

for prog in setsid timeout $(printf '%s\n' "$starts" | awk '{ print $1 }'); do
    if ! command -v "$prog" >/dev/null 2>&1; then
        echo "SKIP: $prog is not installed (tools/install-deps.sh installs it)"
        exit 77
    fi
done
if [ ! -x "$conform" ]; then
    echo "SKIP: $conform is not built"
    exit 77
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/eh-3p-$server.XXXXXX") || exit 1
groups=
stop_all() {
    for g in $groups; do
        kill -TERM "-$g" 2>/dev/null
    done
    for g in $groups; do
        wait "$g" 2>/dev/null
    done
    groups=
}
cleanup() {
    stop_all
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# A port no socket on this host uses, TCP or UDP, any address (from /proc/net: no probing).
pick_port() {
    while :; do
        p=$(($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 + 30000))
        hex=$(printf '%04X' "$p")
        if ! cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null |
            grep -q ":$hex "; then
            echo "$p"
            return
        fi
    done
}

# bound PORT: a TCP listener (state 0A) and a UDP socket (07) on 127.0.0.1:PORT exist.
bound() {
    hex=$(printf '%04X' "$1")
    grep -q " 0100007F:$hex 00000000:0000 0A " /proc/net/tcp &&
        grep -q " 0100007F:$hex 00000000:0000 07 " /proc/net/udp
}

echo "# $server: $($version_cmd 2>&1 | grep -m 1 -i -E 'version|[0-9]+\.[0-9]+')"
port=
for attempt in 1 2 3 4 5; do
    port=$(pick_port)
    if [ -f "$here/$server.conf" ]; then
        sed "s/@PORT@/$port/g" "$here/$server.conf" >"$dir/$server.conf"
    fi
    n=0
    while IFS= read -r cmd; do
        [ -n "$cmd" ] || continue
        cmd=$(printf '%s\n' "$cmd" | sed "s|\\\$PORT|$port|g; s|\\\$DIR|$dir|g")
        n=$((n + 1))
        echo "# start: $cmd"
        # Each command leads its own process group, so servers that fork (socat, ncat) are
        # stopped with all their children. timeout(1) leads that group and ends it after
        # LIFETIME seconds (longer than CTest's 200 s for this test): a server outlives
        # this script only that long when the script is killed before its trap runs (one
        # xinetd did outlive a killed test run by hours before this).
        setsid timeout -k 5 "$LIFETIME" sh -c "exec $cmd" >"$dir/server$n.out" \
            2>"$dir/server$n.err" </dev/null &
        groups="$groups $!"
    done <<LIST
$starts
LIST
    i=0
    up=0
    while [ "$i" -lt 50 ]; do
        if bound "$port"; then
            up=1
            break
        fi
        sleep 0.1
        i=$((i + 1))
    done
    alive=1
    for g in $groups; do
        kill -0 "$g" 2>/dev/null || alive=0
    done
    [ "$up" -eq 1 ] && [ "$alive" -eq 1 ] && break
    echo "# port $port: not up within 5 s (taken meanwhile?), trying another"
    stop_all
    port=
done
if [ -z "$port" ]; then
    echo "FAIL: $server did not come up on any of 5 ports"
    set +f
    tail -n 5 "$dir"/server*.err "$dir"/*.log 2>/dev/null
    exit 1
fi

# The known deviations become an --expect file, as a CI job would keep one: listed failures
# are XFAIL and leave the exit status 0, anything else fails the run.
expect=
if [ -n "$must_fail$may_fail" ]; then
    printf '%s\n' $must_fail $may_fail >"$dir/expect"
    expect="--expect $dir/expect"
fi
echo "# $conform --format tap $select $expect 127.0.0.1:$port"
# shellcheck disable=SC2086 # select and expect are lists of words on purpose
timeout -k 5 150 "$conform" --format tap $select $expect "127.0.0.1:$port" >"$dir/tap" 2>"$dir/err"
rc=$?
cat "$dir/tap"

if ! check_verdicts "$dir/tap" "$rc" "$want_rc" "$must_fail" "$must_pass" "$may_fail" \
    >"$dir/problems"; then
    echo "FAIL: $server differs from its recorded results (tests/third-party/README.md):"
    cat "$dir/problems"
    echo "--- echo-conform stderr"
    cat "$dir/err"
    set +f
    for f in "$dir"/server*.err "$dir"/*.log; do
        [ -s "$f" ] && echo "--- $f" && tail -n 20 "$f"
    done
    exit 1
fi
echo "PASS: $server as recorded (exit $rc; known deviations: ${must_fail:-none}; may fail: ${may_fail:-none})"
exit 0
