# echo-conform against echod over loopback, and its command line contract (exit statuses,
# report formats, --expect, --list): label "conform". tests/conform-echod/run.sh does the work;
# each check is its own CTest test.
# conform-echod/quirk.c is a server with one subtle defect per mode (large or late duplicate
# datagrams, replies from another port or address, misbehaviour on an idle connection, resets),
# built on the fixtures' engine (eh_fixture, tests/fixtures.cmake), for the checks that need one.
if(TARGET echo-conform AND TARGET echod)
    add_executable(conform_quirk "${CMAKE_CURRENT_SOURCE_DIR}/conform-echod/quirk.c")
    target_link_libraries(conform_quirk PRIVATE eh_fixture)
    set_target_properties(conform_quirk PROPERTIES OUTPUT_NAME quirk
        RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/fixtures")
    foreach(check IN ITEMS default tap json junit expect unreachable usage list matrix ipv6 docs
                           dupbig duplate portbig addrother idletalk idledeaf concurrent maxtime
                           reset loopsilent orphan)
        add_test(NAME conform.echod.${check}
                 COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/conform-echod/run.sh"
                         "$<TARGET_FILE_DIR:echo-conform>" ${check} "${PROJECT_SOURCE_DIR}"
                         "$<TARGET_FILE:conform_quirk>")
        set_tests_properties(conform.echod.${check} PROPERTIES LABELS conform TIMEOUT 120 SKIP_RETURN_CODE 77)
    endforeach()
endif()
