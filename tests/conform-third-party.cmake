# echo-conform against third-party echo servers (socat, ncat, xinetd's internal echo), label
# "conform". The rows of tests/third-party/README.md are the tests: each names the server's
# start commands, the echo-conform options and the results recorded for it, so the findings and
# the assertions cannot drift. tests/third-party/run-server.sh starts the server on a free
# loopback port and exits 77 (SKIP) when the server program or echo-conform is missing.
set(eh_3p_dir "${CMAKE_CURRENT_LIST_DIR}/third-party")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${eh_3p_dir}/README.md")
file(STRINGS "${eh_3p_dir}/README.md" eh_3p_rows REGEX "^\\| `[a-z0-9_-]+` \\|")

if(TARGET echo-conform)
    set(eh_3p_conform "$<TARGET_FILE:echo-conform>")
else()
    set(eh_3p_conform "${CMAKE_BINARY_DIR}/bin/echo-conform")
endif()

foreach(row IN LISTS eh_3p_rows)
    string(REGEX REPLACE "^\\| `([a-z0-9_-]+)` \\|.*" "\\1" server "${row}")
    add_test(NAME conform.third-party.${server}
             COMMAND sh "${eh_3p_dir}/run-server.sh" "${server}" "${eh_3p_conform}"
                     "${eh_3p_dir}/README.md")
    set_tests_properties(conform.third-party.${server} PROPERTIES
        LABELS conform SKIP_RETURN_CODE 77 TIMEOUT 200)
endforeach()
