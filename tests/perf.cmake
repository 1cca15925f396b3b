# The benchmark matrix (tools/bench/run.sh, label "bench") once in its seconds-long --smoke
# mode: echod, and the reference server when ../shared/peers has it, over every workload.
# It proves the script builds its table and that every echo verified; it never asserts a
# speed (figures belong in the README's Performance section, from a full run).
if(NOT TARGET echod OR NOT TARGET echo-bench)
    return()
endif()
add_test(NAME bench.matrix.smoke
         COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/perf-smoke.sh"
                 "${CMAKE_SOURCE_DIR}/tools/bench/run.sh" "$<TARGET_FILE_DIR:echod>")
set_tests_properties(bench.matrix.smoke PROPERTIES LABELS bench TIMEOUT 120
                     RESOURCE_LOCK eh_loopback_flood)
# echod --busy-poll 0 as the matrix's "echod-sleep" server (echod as it was before polling
# became the default), on the two workloads where default echod polls between messages (a
# few seconds): every echo verified, a figure in both cells.
add_test(NAME bench.matrix.sleep
         COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/perf-smoke.sh"
                 "${CMAKE_SOURCE_DIR}/tools/bench/run.sh" "$<TARGET_FILE_DIR:echod>" echod-sleep "a e1")
set_tests_properties(bench.matrix.sleep PROPERTIES LABELS bench TIMEOUT 120
                     RESOURCE_LOCK eh_loopback_flood)
# tools/bench/poll-cost.sh (what echod's default polling costs against --busy-poll 0) once in
# its --smoke mode: it exits 0 only when every echo verified, and its tables have figures.
add_test(NAME bench.poll-cost.smoke
         COMMAND sh -c "sh \"$0\" --smoke --bin \"$1\" >\"$2\" && grep -q '^| 2000/s | [0-9]' \"$2\" && grep -q '^| udp | [0-9]' \"$2\" || { cat \"$2\"; exit 1; }"
                 "${CMAKE_SOURCE_DIR}/tools/bench/poll-cost.sh" "$<TARGET_FILE_DIR:echod>"
                 "${CMAKE_CURRENT_BINARY_DIR}/poll-cost-smoke.md")
set_tests_properties(bench.poll-cost.smoke PROPERTIES LABELS bench TIMEOUT 120)
# tools/bench/run.sh's own behaviour (tests/perf-matrix.sh; a few seconds each): stopped by
# SIGTERM it leaves no server, child or echo-bench running; --idle N below the forking
# servers' default holds N connections on socat too (skipped without socat); in --smoke mode
# a run that measured nothing runs once more, one that found a wrong byte does not.
foreach(eh_case IN ITEMS interrupt idle-fork smoke-retry)
    add_test(NAME bench.matrix.${eh_case}
             COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/perf-matrix.sh"
                     "${CMAKE_SOURCE_DIR}/tools/bench/run.sh" "$<TARGET_FILE_DIR:echod>" ${eh_case})
    set_tests_properties(bench.matrix.${eh_case} PROPERTIES LABELS bench TIMEOUT 120
                         SKIP_RETURN_CODE 77)
endforeach()
