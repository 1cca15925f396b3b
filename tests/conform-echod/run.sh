#!/bin/sh
# Runs echo-conform against echod (and checks its command line contract) for CTest, label
# "conform". usage: run.sh BIN_DIR CHECK [SOURCE_DIR [QUIRK]], where BIN_DIR holds echo-conform
# and echod, QUIRK is tests/conform-echod/quirk.c built, and CHECK is one of: default tap json
# junit expect unreachable usage list matrix ipv6 docs dupbig duplate portbig addrother
# idletalk idledeaf concurrent maxtime reset loopsilent orphan.
# Exit 0 when the check holds, 1 otherwise (with the output that shows why). Talks only to
# loopback; every server it starts is stopped by its PID; every run is bounded by timeout(1).
set -u
bin=$1 check=$2 src=${3:-} quirk=${4:-}
conform="$bin/echo-conform"
echod="$bin/echod"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eh-conform.XXXXXX") || exit 1
pids=
cleanup() {
    for p in $pids; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "FAIL: $check: $*"
    for f in "$tmp"/out "$tmp"/err; do
        [ -s "$f" ] && { echo "--- $f"; cat "$f"; }
    done
    exit 1
}

# Starts echod --port 0 and sets $port (TCP and UDP may differ: tport, uport).
start_echod() {
    n=$1
    "$echod" --port 0 >"$tmp/echod$n.out" 2>"$tmp/echod$n.err" &
    pids="$pids $!"
    i=0
    while [ "$i" -lt 100 ]; do
        tport=$(sed -n 's/^listening tcp 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/echod$n.out")
        uport=$(sed -n 's/^listening udp 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/echod$n.out")
        [ -n "$tport" ] && [ -n "$uport" ] && return 0
        sleep 0.05
        i=$((i + 1))
    done
    fail "echod printed no listening lines"
}

# Starts quirk MODE --port 0 and sets $port (TCP and UDP share it).
start_quirk() {
    [ -x "$quirk" ] || fail "no quirk server given"
    # Emptied here, before the server starts: the loop below must not read the port of a
    # quirk server started earlier in the same check from a file the new one has not yet
    # truncated.
    : >"$tmp/quirk.out"
    "$quirk" "$1" --port 0 --lifetime 100 >"$tmp/quirk.out" 2>"$tmp/quirk.err" &
    pids="$pids $!"
    i=0
    while [ "$i" -lt 100 ]; do
        port=$(sed -n 's/^listening [a-z]* 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/quirk.out" |
            head -n 1)
        [ -n "$port" ] && return 0
        sleep 0.05
        i=$((i + 1))
    done
    fail "quirk $1 printed no listening line"
}

# want_tap ID ok|fail: the TAP line of case ID in $tmp/out says so.
want_tap() {
    l=$(grep -E "^(not )?ok [0-9]+ - $1( #.*)?\$" "$tmp/out" | head -n 1)
    case $2:$l in
    ok:"ok "*"# SKIP"*) fail "$1 skipped, want ok" ;;
    ok:"ok "*) ;;
    fail:"not ok "*) ;;
    *) fail "$1: '$l', want $2" ;;
    esac
}

run() { # run echo-conform with a time bound; sets rc
    timeout -k 5 60 "$conform" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

ncases=$("$conform" --list | wc -l)
[ "$ncases" -ge 53 ] || fail "--list prints $ncases cases, want at least 53"

case $check in
orphan)
    # echo-conform killed with SIGKILL while its built-in echod runs: echod must not outlive it.
    "$conform" --seed 3 >"$tmp/out" 2>"$tmp/err" &
    cpid=$!
    pids="$pids $cpid"
    i=0 epid=
    while [ "$i" -lt 100 ] && [ -z "$epid" ]; do
        epid=$(cat "/proc/$cpid/task/$cpid/children" 2>/dev/null | awk '{print $1}')
        [ -n "$epid" ] && [ "$(cat "/proc/$epid/comm" 2>/dev/null)" != echod ] && epid=
        [ -z "$epid" ] && sleep 0.05
        i=$((i + 1))
    done
    [ -n "$epid" ] || fail "no built-in echod seen under echo-conform"
    pids="$pids $epid"
    kill -KILL "$cpid"
    wait "$cpid" 2>/dev/null
    i=0
    while [ "$i" -lt 60 ] && kill -0 "$epid" 2>/dev/null; do
        sleep 0.05
        i=$((i + 1))
    done
    # A zombie (reaped by init later) is gone as a server; a live echod is not.
    state=$(awk '{print $3}' "/proc/$epid/stat" 2>/dev/null)
    case $state in
    "" | Z) echo "built-in echod $epid ended with its killed parent" ;;
    *) fail "built-in echod $epid still running (state $state) after echo-conform was killed" ;;
    esac
    ;;
default)
    # The README's main command: no target, so the built-in echod is started and tested.
    start=$(date +%s)
    run --seed 1
    end=$(date +%s)
    [ "$rc" -eq 0 ] || fail "exit $rc, want 0 against echod"
    grep -q "^conformant: every MUST case passed" "$tmp/out" || fail "no conformant line"
    grep -q "FAIL" "$tmp/out" && fail "a case failed against echod"
    echo "default suite against echod: $((end - start)) s"
    ;;
tap)
    run --format tap --seed 2
    [ "$rc" -eq 0 ] || fail "exit $rc, want 0"
    head -n 1 "$tmp/out" | grep -qx "TAP version 13" || fail "no TAP version line"
    grep -q "^# target echod$" "$tmp/out" || fail "no '# target' comment"
    oks=$(grep -c "^ok [0-9][0-9]* - [a-z0-9.]*\( # .*\)\{0,1\}$" "$tmp/out")
    [ "$oks" -eq "$ncases" ] || fail "$oks ok lines, want $ncases"
    grep -q "^not ok" "$tmp/out" && fail "a not ok line against echod"
    grep -qx "1\.\.$ncases" "$tmp/out" || fail "no plan 1..$ncases"
    ;;
json)
    run --format json --seed 3 --only 'tcp.size.1*' --only 'udp.size.*' --output "$tmp/report.json"
    [ "$rc" -eq 0 ] || fail "exit $rc, want 0"
    [ ! -s "$tmp/out" ] || fail "--output must leave stdout empty"
    # jq (Debian package, installed by tools/install-deps.sh) checks the documented schema.
    jq -e '.tool == "echo-conform" and .seed == 3 and .exit_status == 0
        and (.targets[0] | .target == "echod" and .error == null and .summary.fail == 0
            and ([.cases[].id] | index("tcp.size.1m") != null and index("udp.size.max") != null
                 and index("tcp.connect") == null)
            and all(.cases[]; .status == "pass" and (.level | IN("MUST", "SHOULD", "INFO"))))' \
        "$tmp/report.json" >/dev/null || fail "JSON report does not hold what the README says"
    ;;
junit)
    run --format junit --seed 4 --transport udp
    [ "$rc" -eq 0 ] || fail "exit $rc, want 0"
    grep -q '<testsuite name="echod"' "$tmp/out" || fail "no testsuite for the target"
    grep -q '<testcase classname="udp" name="udp.single"' "$tmp/out" || fail "no udp.single testcase"
    grep -q '<failure' "$tmp/out" && fail "a failure against echod"
    grep -q 'classname="tcp"' "$tmp/out" && fail "--transport udp ran TCP cases"
    ;;
expect)
    # A known failure that passes is reported (XPASS) without failing the run.
    printf '# known failures\n\ntcp.connect\nudp.size.* 127.0.0.1:1\n' >"$tmp/expect"
    run --format tap --expect "$tmp/expect" --only tcp.connect --only udp.size.1
    [ "$rc" -eq 0 ] || fail "exit $rc, want 0"
    grep -q "^ok 1 - tcp.connect # TODO known failure passes now$" "$tmp/out" ||
        fail "tcp.connect not reported as a known failure that passes"
    grep -q "^ok 2 - udp.size.1$" "$tmp/out" || fail "an entry for another target applied"
    printf 'tcp.connect too many fields\n' >"$tmp/expect"
    run --expect "$tmp/expect"
    [ "$rc" -eq 2 ] || fail "a bad --expect line gives exit $rc, want 2"
    ;;
unreachable)
    # A port nobody listens on: take a free one from echod, then stop it.
    start_echod 1
    for p in $pids; do kill "$p"; wait "$p" 2>/dev/null; done
    pids=
    run --transport tcp "127.0.0.1:$tport"
    [ "$rc" -eq 2 ] || fail "exit $rc, want 2 for a refused connection"
    grep -qx "echo-conform: cannot connect to 127.0.0.1:$tport: Connection refused" "$tmp/err" ||
        fail "no one-line 'cannot connect' message"
    run --transport udp "127.0.0.1:$uport"
    [ "$rc" -eq 2 ] || fail "exit $rc, want 2 for UDP answered by ICMP port unreachable"
    grep -q "no UDP echo service at 127.0.0.1:$uport" "$tmp/err" || fail "no ICMP message"
    # TAP: an untested target is an error a consumer must see ("Bail out!"), not "1..0".
    run --format tap --transport tcp "127.0.0.1:$tport"
    [ "$rc" -eq 2 ] || fail "TAP: exit $rc, want 2"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "TAP: more than one line on stderr"
    grep -qx "Bail out! 127.0.0.1:$tport not tested: cannot connect to 127.0.0.1:$tport: Connection refused" \
        "$tmp/out" || fail "TAP: no Bail out! line"
    grep -q "^1\.\." "$tmp/out" && fail "TAP: a plan although nothing ran"
    ;;
usage)
    for args in "--format nope" "--transport sctp" "--timeout 0" "--timeout x" "--bogus" \
        "nohost" "[::1:7" "--format markdown"; do
        # shellcheck disable=SC2086 # word splitting wanted
        run $args
        [ "$rc" -eq 2 ] || fail "'$args' gives exit $rc, want 2"
        [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "'$args' prints more than one line"
    done
    ;;
list)
    "$conform" --list --format markdown >"$tmp/out" 2>"$tmp/err" || fail "--list failed"
    rows=$(grep -c '^| `[a-z0-9.]*` | \(MUST\|SHOULD\|INFO\) |' "$tmp/out")
    [ "$rows" -eq "$ncases" ] || fail "$rows Markdown rows, want $ncases"
    grep -q '^| `tcp.idle.pause` | SHOULD |' "$tmp/out" || fail "tcp.idle.pause is not SHOULD"
    grep -q '^| `tcp.unsolicited.idle` | MUST |' "$tmp/out" || fail "tcp.unsolicited.idle is not MUST"
    ;;
matrix)
    start_echod 1
    t1=$tport
    start_echod 2
    run --transport tcp --only 'tcp.size.4*' --timeout 2.5 "127.0.0.1:$t1" "127.0.0.1:$tport"
    [ "$rc" -eq 0 ] || fail "exit $rc, want 0"
    grep -q "^matrix (case x target):" "$tmp/out" || fail "no matrix after several targets"
    grep -q "^  tcp.size.4096 *ok *ok *$" "$tmp/out" || fail "no row for tcp.size.4096"
    ;;
ipv6)
    # The built-in echod on [::1]: the largest IPv6 datagram is 65527 bytes.
    grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null || {
        echo "SKIP: no IPv6 loopback"
        exit 77
    }
    run -6 --format tap --only 'tcp.size.1*' --only udp.size.max --only udp.source.match -v
    [ "$rc" -eq 0 ] || fail "exit $rc, want 0 over IPv6"
    grep -q "^ok [0-9]* - udp.size.max$" "$tmp/out" || fail "udp.size.max did not pass"
    ;;
docs)
    # README.md holds the catalog table as the program prints it: no drift.
    "$conform" --list --format markdown >"$tmp/want" || fail "--list failed"
    sed -n '/^<!-- catalog:begin -->$/,/^<!-- catalog:end -->$/p' "$src/README.md" |
        sed '1d;$d' >"$tmp/have"
    diff -u "$tmp/have" "$tmp/want" >"$tmp/out" ||
        fail "README.md's catalog differs from 'echo-conform --list --format markdown'"
    ;;
loopsilent)
    # A server that has stopped answering new source ports (tests/fixtures/udp_one_client,
    # after the preflight probe became its one client) is silent towards port 7 too: that
    # silence is no proof of loop protection, so udp.loop.port7 is skipped, never passed.
    fixture="$(dirname "$quirk")/udp_one_client"
    [ -x "$fixture" ] || fail "no fixture $fixture"
    "$fixture" --port 0 --lifetime 100 >"$tmp/quirk.out" 2>"$tmp/quirk.err" &
    pids="$pids $!"
    i=0 port=
    while [ -z "$port" ] && [ "$i" -lt 100 ]; do
        port=$(sed -n 's/^listening udp 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/quirk.out")
        [ -n "$port" ] || sleep 0.05
        i=$((i + 1))
    done
    [ -n "$port" ] || fail "udp_one_client printed no listening line"
    run --format tap --seed 7 --transport udp --only udp.single --only udp.loop.port7 \
        "127.0.0.1:$port"
    want_tap udp.single fail
    grep -q "^ok [0-9]* - udp.loop.port7 # SKIP cannot judge" "$tmp/out" ||
        fail "udp.loop.port7 not skipped against a silent server"
    ;;
dupbig)
    # Datagrams over 1024 bytes answered twice, at once: the size cases see the second copy,
    # udp.duplicate (mixed sizes) too; small ones stay correct.
    start_quirk udp-dup-big
    run --format tap --seed 6 --transport udp --only udp.single --only 'udp.size.1*' \
        --only udp.duplicate --only udp.burst "127.0.0.1:$port"
    [ "$rc" -eq 1 ] || fail "exit $rc, want 1"
    want_tap udp.single ok
    want_tap udp.size.1024 ok
    want_tap udp.size.1025 fail
    want_tap udp.size.1473 fail
    want_tap udp.duplicate fail
    grep -q 'seen: "2 replies to 1 send"' "$tmp/out" || fail "no '2 replies to 1 send'"
    ;;
duplate)
    # Every datagram answered again 600 ms later: udp.duplicate watches long enough.
    start_quirk udp-dup-late
    run --format tap --seed 7 --transport udp --only udp.single --only udp.duplicate \
        "127.0.0.1:$port"
    [ "$rc" -eq 1 ] || fail "exit $rc, want 1"
    want_tap udp.single ok
    want_tap udp.duplicate fail
    ;;
portbig)
    # Replies to datagrams over 1024 bytes sent from a second socket: every UDP case checks the
    # source of every reply, udp.source.match covers several sizes.
    start_quirk udp-port-big
    run --format tap --seed 8 --transport udp --only udp.single --only udp.size.1024 \
        --only udp.size.1025 --only udp.size.max --only udp.source.match --only udp.duplicate \
        "127.0.0.1:$port"
    [ "$rc" -eq 1 ] || fail "exit $rc, want 1"
    want_tap udp.single ok
    want_tap udp.size.1024 ok
    want_tap udp.size.1025 fail
    want_tap udp.size.max fail
    want_tap udp.source.match fail
    want_tap udp.duplicate fail
    grep -q "expected: \"replies from 127.0.0.1:$port\"" "$tmp/out" || fail "no expected source"
    grep -q 'seen: "a reply from 127.0.0.1:[0-9]*"' "$tmp/out" || fail "no seen source"
    ;;
addrother)
    # Datagrams to 127.0.0.2:PORT answered from 127.0.0.1:PORT: the right port, another address.
    # The bytes are the echo (the MUST cases pass, udp.source.match too); only the SHOULD
    # udp.source.addr fails (RFC 1122 3.3.4.2), so the run is conformant (exit 0).
    # 127.0.0.1 on the port 127.0.0.2 got may be taken by another test: try a few ports.
    port= try=0
    while [ -z "$port" ] && [ "$try" -lt 5 ]; do
        try=$((try + 1))
        "$quirk" udp-addr-other --port 0 --lifetime 100 >"$tmp/quirk.out" 2>"$tmp/quirk.err" &
        qpid=$!
        pids="$pids $qpid"
        i=0
        while [ "$i" -lt 100 ]; do
            port=$(sed -n 's/^listening udp 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/quirk.out")
            [ -n "$port" ] && break
            grep -q "cannot bind 127.0.0.2" "$tmp/quirk.err" && {
                echo "SKIP: cannot bind 127.0.0.2"
                exit 77
            }
            grep -q "cannot listen" "$tmp/quirk.err" && break
            sleep 0.05
            i=$((i + 1))
        done
    done
    [ -n "$port" ] || fail "quirk udp-addr-other printed no listening line"
    run --format tap --seed 10 --transport udp --only udp.single --only udp.size.1025 \
        --only udp.size.max --only udp.source.match --only udp.source.addr "127.0.0.2:$port"
    [ "$rc" -eq 0 ] || fail "exit $rc, want 0 (a SHOULD failure only)"
    want_tap udp.single ok
    want_tap udp.size.1025 ok
    want_tap udp.size.max ok
    want_tap udp.source.match ok
    want_tap udp.source.addr fail
    grep -q "expected: \"replies from 127.0.0.2:$port\"" "$tmp/out" || fail "no expected source"
    grep -q "seen: \"a reply from 127.0.0.1:$port\"" "$tmp/out" || fail "no seen source"
    grep -q 'message: ".*in udp.single came from 127.0.0.1:.*RFC 1122 3.3.4.2' "$tmp/out" ||
        fail "the first reply from another address (udp.single's) is not the one reported"
    # Alone, it probes itself; JSON says SHOULD.
    run --format json --seed 10 --transport udp --only udp.source.addr "127.0.0.2:$port"
    [ "$rc" -eq 0 ] || fail "exit $rc, want 0 (udp.source.addr alone)"
    grep -q '"udp.source.addr"' "$tmp/out" || fail "no udp.source.addr in the JSON"
    grep -q '"SHOULD"' "$tmp/out" || fail "udp.source.addr is not SHOULD in the JSON"
    grep -q '"fail"' "$tmp/out" || fail "udp.source.addr did not fail alone"
    ;;
idletalk)
    # 14 bytes of its own on a connection idle for 1 s: a MUST failure (unsolicited), quoted;
    # the connection stays open, so tcp.idle.pause passes. One pause for both.
    start_quirk tcp-idle-talk
    run --format tap --seed 9 --transport tcp --only 'tcp.*idle*' "127.0.0.1:$port"
    [ "$rc" -eq 1 ] || fail "exit $rc, want 1"
    want_tap tcp.unsolicited.idle fail
    want_tap tcp.idle.pause ok
    grep -qF 'seen: "14 bytes: \"idle\\x01chatter\\x0d\\x0a\""' "$tmp/out" ||
        fail "the unsolicited bytes are not quoted"
    grep -q 'expected: "nothing while the client is idle' "$tmp/out" || fail "no expected"
    ;;
idledeaf)
    # Stops echoing once idle for 1 s, connection left open: a MUST failure.
    start_quirk tcp-idle-deaf
    run --format tap --seed 10 --timeout 1 --transport tcp --only 'tcp.*idle*' "127.0.0.1:$port"
    [ "$rc" -eq 1 ] || fail "exit $rc, want 1"
    want_tap tcp.unsolicited.idle fail
    want_tap tcp.idle.pause ok
    grep -q 'seen: "short: 0 of 64 bytes echoed, connection still open"' "$tmp/out" ||
        fail "no seen account"
    ;;
concurrent)
    # Every connection's byte 20 (byte 4 after the 16-byte hello) is wrong: the account names
    # one client throughout.
    start_quirk tcp-flip-20
    run --seed 11 --transport tcp --only tcp.concurrent.100 "127.0.0.1:$port"
    [ "$rc" -eq 1 ] || fail "exit $rc, want 1"
    who=$(sed -n 's/^         \(client [0-9]*\): echo differs.*/\1/p' "$tmp/out")
    [ -n "$who" ] || fail "no 'client N: echo differs' message"
    grep -q "^         where: *$who: offset 4 of 2048\$" "$tmp/out" ||
        fail "the where line is not $who's"
    # The 7th connection (client 6 after the preflight) is reset: clients are numbered 1..100.
    start_quirk tcp-reset-7th
    run --seed 11 --transport tcp --only tcp.concurrent.100 "127.0.0.1:$port"
    [ "$rc" -eq 1 ] || fail "exit $rc, want 1"
    # (The reset may come before connect() returns: then "client 6 of 100: cannot connect".)
    grep -Eq "(clients 5-8 of 100, while 4 earlier ones stay connected: client 6: |client 6 of 100: )" \
        "$tmp/out" || fail "client 6 (of 5-8) not named"
    ;;
maxtime)
    # --max-time cuts a correct server's run short: the cut-off case and the later ones are
    # "not run" (SKIP), not failures, and the run is incomplete (2), not NOT conformant (1).
    run --seed 12 --max-time 1.5
    [ "$rc" -eq 2 ] || fail "exit $rc, want 2 for a run cut short"
    grep -q "^  FAIL" "$tmp/out" && fail "a case cut off by --max-time failed"
    grep -q "not run: the run's time limit (1.5 s) ran out" "$tmp/out" || fail "no 'not run'"
    grep -q "^incomplete: " "$tmp/out" || fail "no 'incomplete' line"
    run --format tap --seed 12 --max-time 1.5
    [ "$rc" -eq 2 ] || fail "TAP: exit $rc, want 2"
    grep -q "^ok [0-9]* - udp.single # SKIP not run: the run's time limit" "$tmp/out" ||
        fail "TAP: no SKIP line"
    # A real failure outranks the cut (1), and an untestable target too.
    start_quirk tcp-flip-20
    run --seed 12 --max-time 1.5 --transport tcp "127.0.0.1:$port" 127.0.0.1:1
    [ "$rc" -eq 1 ] || fail "exit $rc, want 1: a MUST failure and a cut run"
    ;;
reset)
    # Everything echoed after SHUT_WR, then RST instead of FIN: tcp.halfclose.flush says so;
    # tcp.unsolicited.trailing saw no extra byte and passes.
    start_quirk tcp-halfclose-rst
    run --format tap --seed 13 --transport tcp --only tcp.halfclose.flush \
        --only tcp.unsolicited.trailing "127.0.0.1:$port"
    [ "$rc" -eq 1 ] || fail "exit $rc, want 1"
    want_tap tcp.halfclose.flush fail
    want_tap tcp.unsolicited.trailing ok
    grep -q 'expected: "100 bytes, then EOF (FIN)"' "$tmp/out" || fail "no expected FIN"
    grep -q 'seen: "100 bytes, then a reset (RST)"' "$tmp/out" || fail "no seen RST"
    # 4096 bytes echoed, then RST: the account counts them (and says expected / seen).
    start_quirk tcp-rst-4k
    run --format tap --seed 13 --transport tcp --only tcp.size.1m --only tcp.large.16m \
        "127.0.0.1:$port"
    [ "$rc" -eq 1 ] || fail "exit $rc, want 1"
    want_tap tcp.size.1m fail
    want_tap tcp.large.16m fail
    [ "$(grep -c 'seen: "4096 bytes, then a reset (RST)"' "$tmp/out")" -eq 2 ] ||
        fail "not two '4096 bytes, then a reset' accounts"
    [ "$(grep -c 'message: ".*(4096 echoed)"' "$tmp/out")" -eq 2 ] || fail "not '(4096 echoed)'"
    ;;
*)
    fail "unknown check"
    ;;
esac
echo "PASS: $check"
