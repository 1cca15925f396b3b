# Integration tests (label "integration"): echod and echo-client over loopback. Each case is
# a function in tests/integration/cases.sh (POSIX sh) that starts `echod --port 0`, reads its
# "listening" lines, drives it with tests/integration/itest.c, echo-client, socat or ncat,
# times out every wait and stops what it started by PID. They assert behaviour, not speed.
if(NOT TARGET echod OR NOT TARGET echo-client)
    return()
endif()

add_executable(itest "${CMAKE_CURRENT_SOURCE_DIR}/integration/itest.c")
target_link_libraries(itest PRIVATE eh_net)
set_target_properties(itest PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")

set(eh_it_cases
    rounds bulk-8m write-first half-close reset small-buffer concurrent-100 udp-empty udp-max udp-denied
    udp-allow udp-wildcard max-conns emfile emfile-accepts idle-timeout ipv6 client-pipe client-fail echod-options socat
    workers noread term-loaded poll-shared-cpu)
foreach(case IN LISTS eh_it_cases)
    add_test(NAME integration.${case}
             COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/integration/cases.sh" "${case}")
    set_tests_properties(integration.${case} PROPERTIES
        LABELS integration TIMEOUT 60
        ENVIRONMENT "ECHOD=$<TARGET_FILE:echod>;ECHO_CLIENT=$<TARGET_FILE:echo-client>;ITEST=$<TARGET_FILE:itest>")
endforeach()

# The glue's own logic (timer heap, address conversion, resolution, socket verbs) as a Check
# suite; it makes system calls, so it runs with the integration tests.
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::CHECK)
    pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET check)
endif()
add_executable(test_net "${CMAKE_CURRENT_SOURCE_DIR}/integration/test_net.c")
target_link_libraries(test_net PRIVATE eh_net PkgConfig::CHECK)
set_target_properties(test_net PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
add_test(NAME integration.net COMMAND test_net)
set_tests_properties(integration.net PROPERTIES LABELS integration TIMEOUT 60)
# The two floods of loopback (megabytes per connection, flowing or stuck) and the busy loop
# that shares a CPU with echod never run beside
# the benchmark matrix's smoke runs, whose tenth-of-a-second UDP cells a starved CPU can
# empty (tests/perf.cmake takes the same lock).
set_tests_properties(integration.noread integration.term-loaded integration.poll-shared-cpu PROPERTIES
    RESOURCE_LOCK eh_loopback_flood)
