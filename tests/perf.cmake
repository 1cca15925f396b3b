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
set_tests_properties(bench.matrix.smoke PROPERTIES LABELS bench TIMEOUT 120)
# echod --busy-poll 0 as the matrix's "echod-sleep" server, on the two workloads where it
# would poll (a few seconds): every echo verified, a figure in both cells.
add_test(NAME bench.matrix.poll
         COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/perf-smoke.sh"
                 "${CMAKE_SOURCE_DIR}/tools/bench/run.sh" "$<TARGET_FILE_DIR:echod>" echod-sleep "a e1")
set_tests_properties(bench.matrix.poll PROPERTIES LABELS bench TIMEOUT 120)
