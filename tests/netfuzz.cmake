# echo-conform --fuzz / --replay (the network fuzzer, src/app/conform/fuzz_*.c) against
# echod and the broken fixtures of tests/fixtures/ (label "netfuzz"; also "conform").
# tests/netfuzz/run.sh does the work; each check is its own CTest test so ctest -j runs them
# side by side; --timeout is 1 s (less where the defect is a silence, which every failing
# shrink candidate waits out, twice). Each fixture check: the fuzzer finds the defect, shrinks it to at most MAX
# actions, and the saved reproducer fails against the fixture and passes against echod.
if(TARGET echo-conform AND TARGET echod AND TARGET fixtures)
    set(eh_nf_checks echod seed rate badinput json correct repeat allowloss
        fx:tcp_byteflip:2:tcp fx:tutorial_recv1024:3:tcp fx:one_client:4:tcp:0.5
        fx:halfclose_drop:3:tcp fx:udp_ignore_empty:1:udp:0.3 fx:udp_trunc1024:1:udp
        fx:banner:1:tcp)
    foreach(check IN LISTS eh_nf_checks)
        string(REGEX REPLACE ":.*" "" what "${check}")
        if(what STREQUAL "fx")
            string(REGEX REPLACE "^fx:([a-z0-9_]+):.*" "\\1" what "${check}")
        endif()
        add_test(NAME netfuzz.${what}
                 COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/netfuzz/run.sh"
                         "$<TARGET_FILE_DIR:echo-conform>" "${CMAKE_BINARY_DIR}/fixtures"
                         "${check}")
        set_tests_properties(netfuzz.${what} PROPERTIES
            LABELS "netfuzz;conform" TIMEOUT 120 SKIP_RETURN_CODE 77)
    endforeach()
endif()
