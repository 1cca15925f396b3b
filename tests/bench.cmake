# echo-bench (label "bench"): unit suites for its pure parts (core/hist, core/ptable with
# core/probe, label "unit") and short runs of the program over loopback, against its built-in
# echod and against broken fixtures (tests/fixtures/), each checked through its exit status and
# its --json line (tests/bench/run.sh, jq). Every run measures 0.5 s or less; the whole label
# takes about 20 s of wall time.
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::CHECK)
    pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET check)
endif()
foreach(eh_unit IN ITEMS hist ptable)
    add_executable(test_${eh_unit} "${CMAKE_CURRENT_SOURCE_DIR}/test_${eh_unit}.c")
    target_include_directories(test_${eh_unit} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
    target_link_libraries(test_${eh_unit} PRIVATE eh_core PkgConfig::CHECK)
    set_target_properties(test_${eh_unit} PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
    add_test(NAME unit.${eh_unit} COMMAND test_${eh_unit})
    set_tests_properties(unit.${eh_unit} PROPERTIES LABELS "unit;bench" TIMEOUT 60)
endforeach()

if(TARGET echo-bench)
    set(eh_bench_bin "$<TARGET_FILE:echo-bench>")
else()
    set(eh_bench_bin "${CMAKE_BINARY_DIR}/bin/echo-bench")
endif()
set(eh_bench_run sh "${CMAKE_CURRENT_SOURCE_DIR}/bench/run.sh" "${eh_bench_bin}")
set(eh_bench_fx "${CMAKE_BINARY_DIR}/fixtures")
set(eh_bench_short -d 0.5 -w 0.1 --timeout 3)
set(eh_bench_sane ".ok and .mismatches == 0 and .early_closes == 0 and .connect_errors == 0")

# name, expected exit, target, jq check, options...
function(eh_bench_test name rc target check)
    add_test(NAME bench.${name} COMMAND ${eh_bench_run} ${rc} ${target} ${check} ${ARGN})
    set_tests_properties(bench.${name} PROPERTIES LABELS bench TIMEOUT 120 SKIP_RETURN_CODE 77)
endfunction()

# Against the built-in echod: every mode, sane figures.
eh_bench_test(tcp.closed 0 embedded
    "${eh_bench_sane} and .proto == \"tcp\" and .mode == \"closed\" and .msgs > 0 and .lat_us.p50 > 0 and .lat_us.p50 <= .lat_us.p99 and .lat_us.p99 <= .lat_us.max and .fair.min > 0 and ((.bytes - .msgs * 64) as $d | $d >= -64 and $d <= 64)"
    ${eh_bench_short})
eh_bench_test(tcp.pipeline.threads 0 embedded
    "${eh_bench_sane} and .conns == 20 and .threads == 2 and .pipeline == 16 and .msgs > 0 and .fair.min > 0 and .fair.min <= .fair.median and .fair.median <= .fair.max"
    ${eh_bench_short} -c 20 -P 16 -t 2 -s 100)
eh_bench_test(tcp.stream 0 embedded
    "${eh_bench_sane} and .mode == \"stream\" and .size == 65536 and .bytes > 1048576 and .mb_per_s > 0"
    ${eh_bench_short} --stream)
# Streaming sends the pattern's pages by reference (vmsplice into a pipe, splice into the
# socket) unless --no-splice; the echo is still checked byte by byte either way.
eh_bench_test(tcp.stream.splice 0 embedded
    "${eh_bench_sane} and .engine == \"epoll\" and .mode == \"stream\" and .bytes > 1048576 and .spliced_bytes > .bytes and .congestion == \"reno\""
    ${eh_bench_short} --stream --engine epoll)
# Spliced sends go through a corked socket (whole segments, the part segment waiting for the
# next write) when the window holds a write and two segments more: with the tightest such
# window (3 x 64 KiB, loopback segments of 65483 bytes), with a window of one write
# (uncorked) and with a few small writes, every byte must still leave and be echoed.
eh_bench_test(tcp.stream.window3 0 embedded
    "${eh_bench_sane} and .stalls == 0 and .bytes > 1048576 and .spliced_bytes > .bytes"
    ${eh_bench_short} --stream --engine epoll --window 196608)
eh_bench_test(tcp.stream.window1 0 embedded
    "${eh_bench_sane} and .stalls == 0 and .bytes > 1048576 and .spliced_bytes > .bytes"
    ${eh_bench_short} --stream --engine epoll --window 65536)
eh_bench_test(tcp.stream.small 0 embedded
    "${eh_bench_sane} and .stalls == 0 and .bytes > 100000 and .spliced_bytes > 0"
    ${eh_bench_short} --stream --engine epoll -s 1000 --window 3000)
# --congestion system: the connections keep the system's congestion control.
eh_bench_test(tcp.stream.system_cc 0 embedded
    "${eh_bench_sane} and .bytes > 1048576 and (.congestion | length) > 0"
    ${eh_bench_short} --stream --congestion system)
eh_bench_test(tcp.stream.nosplice 0 embedded
    "${eh_bench_sane} and .engine == \"epoll\" and .mode == \"stream\" and .bytes > 1048576 and .spliced_bytes == 0"
    ${eh_bench_short} --stream --engine epoll --no-splice)
eh_bench_test(tcp.rate 0 embedded
    "${eh_bench_sane} and .mode == \"rate\" and .msgs > 100 and .msgs < 800 and .lat_us.count == .msgs"
    ${eh_bench_short} --rate 1000 -c 4)
# Idle: "ready N" first on stdout (before the report: printed when all are held), then every
# connection still echoes after the hold.
add_test(NAME bench.tcp.idle
    COMMAND ${CMAKE_COMMAND} -E env "EH_BENCH_STDOUT1=^ready 200$" ${eh_bench_run} 0 embedded
    "${eh_bench_sane} and .mode == \"idle\" and .idle.held == 200 and .idle.answered == 200"
    --idle 200 --hold 0.5 --timeout 3)
set_tests_properties(bench.tcp.idle PROPERTIES LABELS bench TIMEOUT 120 SKIP_RETURN_CODE 77)
eh_bench_test(udp.closed 0 embedded
    "${eh_bench_sane} and .proto == \"udp\" and .msgs > 0 and .udp.received > 0 and .udp.wrong == 0 and .udp.dup == 0 and .udp.sent >= .udp.received"
    ${eh_bench_short} -u -c 4 -P 4)
eh_bench_test(udp.empty 0 embedded
    "${eh_bench_sane} and .size == 0 and .udp.received > 0 and .udp.wrong == 0"
    ${eh_bench_short} -u -s 0)
eh_bench_test(udp.rate 0 embedded
    "${eh_bench_sane} and .mode == \"rate\" and .udp.received > 100 and .udp.wrong == 0"
    ${eh_bench_short} -u --rate 1000 -c 2 -s 1400)
# A rate far beyond what one socket can send: the datagrams in flight are capped (the
# latencies show the wait), and the run still ends on time instead of sending, in one go,
# every datagram due (it ran for minutes past -d and ignored SIGTERM).
eh_bench_test(udp.rate.flood 0 embedded
    "${eh_bench_sane} and .mode == \"rate\" and .msgs > 0 and .duration_s < 2 and .udp.wrong == 0 and .udp.dup == 0"
    -u --rate 1e9 -d 0.3 -w 0.1 --timeout 3)

# Against broken servers: the defect is caught and named.
eh_bench_test(fixture.tcp_byteflip 1 "${eh_bench_fx}/tcp_byteflip"
    "(.ok | not) and .mismatches == 1 and (.error | test(\"byte 70000 of the echo differs\"))"
    ${eh_bench_short} -s 1000 -P 4)
eh_bench_test(fixture.tcp_byteflip.stream 1 "${eh_bench_fx}/tcp_byteflip"
    "(.ok | not) and .mismatches == 1 and .spliced_bytes >= 70000 and (.error | test(\"byte 70000 of the echo differs\"))"
    ${eh_bench_short} --stream --engine epoll)
eh_bench_test(fixture.udp_dup 1 "${eh_bench_fx}/udp_dup"
    "(.ok | not) and .udp.dup > 0 and (.error | test(\"answered twice\"))"
    ${eh_bench_short} -u)
# A byte changed inside the datagram: named by datagram, offset and both values.
# Cross-talk: the first connection's bytes are echoed on the second (the connection the
# server accepted last); the second's check catches the foreign bytes at their offset.
eh_bench_test(fixture.tcp_last_client 1 "${eh_bench_fx}/tcp_last_client"
    "(.ok | not) and .mismatches >= 1 and (.error | test(\"^connection 1: (byte [0-9]+ of the echo differs|[0-9]+ bytes arrived beyond)\"))"
    ${eh_bench_short} -c 2 -s 100 --engine epoll)
# UDP cross-talk: replies go to the client whose datagram came before; the socket names whose
# datagram it got instead.
eh_bench_test(fixture.udp_last_client 1 "${eh_bench_fx}/udp_last_client"
    "(.ok | not) and .udp.wrong > 0 and (.error | test(\"^socket [01]: a reply carrying socket [01]'s datagram [0-9]+ [(]cross-talk[)]$\"))"
    ${eh_bench_short} -u -c 2 --engine epoll)
eh_bench_test(fixture.udp_byteflip 1 "${eh_bench_fx}/udp_byteflip"
    "(.ok | not) and .udp.wrong > 0 and .udp.dup == 0 and (.error | test(\"datagram [0-9]+ came back with byte 1000 changed: expected 0x[0-9a-f]{2}, got 0x[0-9a-f]{2}$\"))"
    ${eh_bench_short} -u -s 2000 --engine epoll)
eh_bench_test(fixture.udp_trunc1024 1 "${eh_bench_fx}/udp_trunc1024"
    "(.ok | not) and .udp.wrong > 0 and (.error | test(\"came back as 1024 bytes\"))"
    ${eh_bench_short} -u -s 2000)
eh_bench_test(fixture.tcp_idle_close 1 "${eh_bench_fx}/tcp_idle_close"
    "(.ok | not) and .idle.held == 20 and .idle.answered == 0 and .early_closes == 20"
    --idle 20 --hold 1.5 --timeout 3)
eh_bench_test(fixture.udp_ignore_empty 1 "${eh_bench_fx}/udp_ignore_empty"
    "(.ok | not) and .msgs == 0 and .udp.sent > 0 and (.error | test(\"no echo completed\"))"
    -d 0.5 -w 0 -u -s 0 --timeout 0.3)
# A UDP server that answers, then freezes before the measured interval for longer than it:
# the datagram in flight is not yet counted lost (1 s), so nothing is sent or echoed while
# measuring. Silence all the same: it must not pass as "ok" with 0 messages.
eh_bench_test(udp.silent 1 "stall:0.3:1.5:${eh_bench_fx}/correct"
    "(.ok | not) and .msgs == 0 and .udp.sent == 0 and (.error | test(\"no echo completed\"))"
    -u -d 0.5 -w 0.5 --timeout 3)
# A correct server whose replies overtake each other (300 or 450 ms late, alternately): UDP
# promises no order, so every reply matches its datagram by sequence number, none is wrong,
# duplicated, late or lost.
eh_bench_test(fixture.udp_reorder 0 "${eh_bench_fx}/udp_slow_correct"
    "${eh_bench_sane} and .udp.received > 5 and .udp.wrong == 0 and .udp.dup == 0 and .udp.late == 0 and .udp.lost == 0"
    -u -P 8 -d 1.5 -w 0.5 --timeout 3 --engine epoll)
# The same over TCP: the report says how far the echo of a connection got.
eh_bench_test(tcp.silent 1 "stall:0.3:2:${eh_bench_fx}/correct"
    "(.ok | not) and .msgs == 0 and (.error | test(\"no echo completed during the [0-9.]+ s measured [(]connection 0: [0-9]+ of [0-9]+ bytes echoed[)]$\"))"
    -d 0.5 -w 1 --timeout 3 --engine epoll)
eh_bench_test(fixture.one_client 1 "${eh_bench_fx}/one_client"
    "(.ok | not) and .stalls >= 2 and .msgs > 0 and (.error | test(\"no echo for 0.3 s\"))"
    -d 1 -w 0 -c 3 --timeout 0.3)
eh_bench_test(fixture.tutorial_recv1024 1 "${eh_bench_fx}/tutorial_recv1024"
    "(.ok | not) and .early_closes == 1 and (.error | test(\"closed by the server\"))"
    ${eh_bench_short})
# A server frozen for 0.6 s: in --rate mode every message due in the stall is late by the
# time it waited to be sent as well (no coordinated omission), so about a quarter of 400
# latencies exceed 100 ms, not just the one message that was in flight.
eh_bench_test(rate.stall 0 "stall:0.5:0.6:${eh_bench_fx}/correct"
    "${eh_bench_sane} and .mode == \"rate\" and .lat_us.max >= 500000 and .lat_us.p90 >= 100000"
    -d 2 -w 0 --timeout 3 --rate 200)
# A UDP server frozen for 1.5 s: the datagram in flight is counted lost after 1 s and its reply,
# when the server resumes, late; neither is a wrong reply or a failure.
eh_bench_test(udp.stall 0 "stall:0.3:1.5:${eh_bench_fx}/correct"
    "${eh_bench_sane} and .udp.lost > 0 and .udp.late > 0 and .udp.wrong == 0 and .udp.dup == 0"
    -u -d 2.5 -w 0 --timeout 3)
# The same server frozen for longer than --timeout: a UDP socket that hears nothing for that
# long, and whose retry after a loss is lost too, stalls (exit 1), as a TCP connection does;
# in the closed loop and in --rate mode. The run outlasts the stall by more than 2 s, so a
# freeze that comes late on a loaded machine is still seen.
eh_bench_test(udp.stall.long 1 "stall:0.5:2.5:${eh_bench_fx}/correct"
    "(.ok | not) and .stalls == 2 and .udp.wrong == 0 and (.error | test(\"no reply for [0-9.]+ s\"))"
    -u -c 2 -d 3 -w 0 --timeout 0.3 --engine epoll)
eh_bench_test(udp.stall.long.rate 1 "stall:0.5:2.5:${eh_bench_fx}/correct"
    "(.ok | not) and .stalls == 1 and .udp.lost > 0 and (.error | test(\"no reply for\"))"
    -u --rate 200 -d 3 -w 0 --timeout 0.3)
# echo-bench itself frozen (SIGSTOP, as a suspended machine) from before the measured
# interval until after its end: no worker measured anything, so no figure exists and the run
# must not pass as "ok" with 0 messages.
eh_bench_test(pause.unmeasured 1 "pause:0.5:5:embedded"
    "(.ok | not) and .msgs == 0 and .duration_s == 0 and (.error | test(\"nothing was measured\"))"
    -w 3 -d 0.2 --timeout 3)
eh_bench_test(fixture.correct 0 "${eh_bench_fx}/correct"
    "${eh_bench_sane} and .msgs > 0" ${eh_bench_short} -c 3 -P 2)
# Connect errors: with 40 descriptors, most of 100 connections cannot even get a socket; each
# failure is counted (connected + connect_errors == 100) and fails the run, and a warning
# names the limit up front.
add_test(NAME bench.connect_errors
    COMMAND ${CMAKE_COMMAND} -E env
    "EH_BENCH_STDERR=^echo-bench: warning: 100 connections need about 164 descriptors, more than the limit of 40$"
    sh -c "ulimit -n 40 && exec \"$@\"" sh ${eh_bench_run} 1 "${eh_bench_fx}/correct"
    "(.ok | not) and .connect_errors > 0 and .connected > 0 and .connected + .connect_errors == 100 and (.error | test(\"cannot connect\"))"
    -c 100 -d 0.3 -w 0.1 --timeout 3 --engine epoll)
set_tests_properties(bench.connect_errors PROPERTIES LABELS bench TIMEOUT 120
    SKIP_RETURN_CODE 77)
# The live progress line: on a terminal (script(1)'s pseudo-terminal), never in a file.
add_test(NAME bench.progress COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/bench/progress.sh"
    "${eh_bench_bin}")
set_tests_properties(bench.progress PROPERTIES LABELS bench TIMEOUT 120 SKIP_RETURN_CODE 77)

# A server killed under a stream (its connections reset): echo-bench reports it and exits 1,
# and SIGPIPE (from a splice into the reset socket) cannot kill it (tests/bench/server-killed.sh,
# about 6 s of streaming, so never beside the matrix smoke runs).
add_test(NAME bench.server-killed
         COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/bench/server-killed.sh" "${eh_bench_bin}")
set_tests_properties(bench.server-killed PROPERTIES LABELS bench TIMEOUT 120
                     SKIP_RETURN_CODE 77 RESOURCE_LOCK eh_loopback_flood)

# Usage errors: exit 2 and one line; unreachable: exit 3.
eh_bench_test(usage.size 2 embedded - -s 70000 -u)
eh_bench_test(usage.unknown 2 embedded - --bogus)
eh_bench_test(usage.modes 2 embedded - --stream --rate 5)
eh_bench_test(usage.no_splice 2 embedded - --no-splice)
eh_bench_test(usage.congestion 2 embedded - --congestion reno)
eh_bench_test(usage.congestion_name 2 embedded - --stream --congestion no-such-cc)
eh_bench_test(usage.duration 2 embedded - -d 0)
eh_bench_test(usage.target 2 embedded - "not a target")
# Counts and sizes are decimal, as echod's: "0x40" is refused, "010" is ten (not eight).
eh_bench_test(usage.hex 2 embedded - -s 0x40)
eh_bench_test(usage.rate_sign 2 embedded - --rate +5)
# Decimal only where a number is decimal: strtod/strtoull alone take a leading blank or tab,
# hex floats ("0x10" seconds), "inf"; --seed's hex is 0x... and "010" is ten, not octal.
eh_bench_test(usage.tab 2 embedded - -c "\t5")
eh_bench_test(usage.hexfloat 2 embedded - -d 0x10)
eh_bench_test(usage.rate_inf 2 embedded - --rate inf)
eh_bench_test(tcp.seed_decimal 0 embedded "${eh_bench_sane} and .seed == 10"
    --seed 010 -d 0.2 -w 0 --timeout 3 --engine epoll)
eh_bench_test(tcp.seed_hex 0 embedded "${eh_bench_sane} and .seed == 31"
    --seed 0x1f -d 0.2 -w 0 --timeout 3 --engine epoll)
eh_bench_test(tcp.decimal 0 embedded "${eh_bench_sane} and .conns == 10"
    -c 010 -d 0.2 -w 0 --timeout 3 --engine epoll)
eh_bench_test(unreachable.tcp 3 "dead:${eh_bench_fx}/correct" - -d 0.2)
eh_bench_test(unreachable.udp 3 "dead:${eh_bench_fx}/correct" - -d 0.2 -u --timeout 1)

# The io_uring engine (--engine uring; skipped where echo-bench was built without liburing or
# the kernel refuses io_uring: the JSON then says "epoll" and the check fails, so these tests
# are only added when liburing was found). Its verification is proven against the same broken
# fixtures; EH_BENCH_NO_URING=1 must fall back to epoll with a note.
pkg_check_modules(LIBURING QUIET liburing)
if(LIBURING_FOUND)
    eh_bench_test(uring.tcp.conns 0 embedded
        "${eh_bench_sane} and .engine == \"uring\" and .conns == 50 and .msgs > 0 and .fair.min > 0 and .multishot_recvs > 0 and ((.bytes - .msgs * 64) as $d | $d >= -3200 and $d <= 3200)"
        ${eh_bench_short} --engine uring -c 50 -P 2)
    eh_bench_test(uring.tcp.one 0 embedded
        "${eh_bench_sane} and .engine == \"uring\" and .msgs > 0 and .lat_us.count == .msgs"
        ${eh_bench_short} --engine uring)
    eh_bench_test(uring.tcp.stream 0 embedded
        "${eh_bench_sane} and .engine == \"uring\" and .mode == \"stream\" and .bytes > 1048576"
        ${eh_bench_short} --engine uring --stream)
    eh_bench_test(uring.udp.closed 0 embedded
        "${eh_bench_sane} and .engine == \"uring\" and .udp.received > 0 and .udp.wrong == 0 and .udp.dup == 0 and .udp.sent >= .udp.received and .multishot_recvs > 0"
        ${eh_bench_short} --engine uring -u -c 4 -P 4)
    eh_bench_test(uring.fixture.tcp_byteflip 1 "${eh_bench_fx}/tcp_byteflip"
        "(.ok | not) and .engine == \"uring\" and .mismatches == 1 and (.error | test(\"byte 70000 of the echo differs\"))"
        ${eh_bench_short} --engine uring -s 1000 -P 4)
    eh_bench_test(uring.fixture.udp_dup 1 "${eh_bench_fx}/udp_dup"
        "(.ok | not) and .engine == \"uring\" and .udp.dup > 0 and (.error | test(\"answered twice\"))"
        ${eh_bench_short} --engine uring -u)
    eh_bench_test(uring.udp.silent 1 "stall:0.3:1.5:${eh_bench_fx}/correct"
        "(.ok | not) and .engine == \"uring\" and .msgs == 0 and .udp.sent == 0 and (.error | test(\"no echo completed\"))"
        -u -d 0.5 -w 0.5 --timeout 3 --engine uring -c 4)
    eh_bench_test(uring.udp.stall.long 1 "stall:0.5:2.5:${eh_bench_fx}/correct"
        "(.ok | not) and .engine == \"uring\" and .stalls == 2 and (.error | test(\"no reply for\"))"
        -u -c 2 -d 3 -w 0 --timeout 0.3 --engine uring)
    eh_bench_test(uring.fixture.udp_byteflip 1 "${eh_bench_fx}/udp_byteflip"
        "(.ok | not) and .engine == \"uring\" and .udp.wrong > 0 and (.error | test(\"came back with byte 1000 changed\"))"
        ${eh_bench_short} --engine uring -u -s 2000 -c 2)
    eh_bench_test(uring.fixture.udp_trunc1024 1 "${eh_bench_fx}/udp_trunc1024"
        "(.ok | not) and .engine == \"uring\" and .udp.wrong > 0 and (.error | test(\"came back as 1024 bytes\"))"
        ${eh_bench_short} --engine uring -u -s 2000)
    # Receives are multishot into a ring of provided buffers (.multishot_recvs counts them),
    # sockets fixed files. With one or two buffers for many connections receives run out
    # (-ENOBUFS) and are armed again: nothing may be lost or reordered. With
    # EH_BENCH_NO_MULTISHOT and EH_BENCH_NO_FIXED_FILES (what a kernel that refuses them
    # gives) the ring keeps one receive per message into each connection's own buffer.
    foreach(eh_u IN ITEMS tcp udp)
        if(eh_u STREQUAL "udp")
            set(eh_uopt -u -c 8 -P 4 -s 200)
        else()
            set(eh_uopt -c 40 -P 4 -s 100)
        endif()
        add_test(NAME bench.uring.${eh_u}.nobufs
            COMMAND ${CMAKE_COMMAND} -E env EH_BENCH_URING_BUFS=2 ${eh_bench_run} 0 embedded
            "${eh_bench_sane} and .engine == \"uring\" and .msgs > 0 and .fair.min > 0 and .multishot_recvs > 0 and .udp.wrong == 0 and .udp.dup == 0 and .udp.lost == 0 and .stalls == 0"
            ${eh_bench_short} --engine uring ${eh_uopt})
        add_test(NAME bench.uring.${eh_u}.single
            COMMAND ${CMAKE_COMMAND} -E env EH_BENCH_NO_MULTISHOT=1 EH_BENCH_NO_FIXED_FILES=1
            ${eh_bench_run} 0 embedded
            "${eh_bench_sane} and .engine == \"uring\" and .msgs > 0 and .fair.min > 0 and .multishot_recvs == 0 and .udp.wrong == 0 and .udp.dup == 0 and .stalls == 0"
            ${eh_bench_short} --engine uring ${eh_uopt})
        set_tests_properties(bench.uring.${eh_u}.nobufs bench.uring.${eh_u}.single PROPERTIES
            LABELS bench TIMEOUT 120 SKIP_RETURN_CODE 77)
    endforeach()
    # A connection the server closes, through the ring with fixed files: reported as before.
    eh_bench_test(uring.fixture.tutorial_recv1024 1 "${eh_bench_fx}/tutorial_recv1024"
        "(.ok | not) and .engine == \"uring\" and .early_closes == 1 and (.error | test(\"closed by the server\"))"
        ${eh_bench_short} --engine uring)
    add_test(NAME bench.uring.fallback
        COMMAND ${CMAKE_COMMAND} -E env EH_BENCH_NO_URING=1 ${eh_bench_run} 0 embedded
        "${eh_bench_sane} and .engine == \"epoll\" and .msgs > 0"
        -d 0.3 -w 0.1 --timeout 3 --engine uring -c 4)
    set_tests_properties(bench.uring.fallback PROPERTIES LABELS bench TIMEOUT 120
        SKIP_RETURN_CODE 77)
endif()
