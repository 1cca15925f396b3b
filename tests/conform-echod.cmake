# echo-conform against echod over loopback, and its command line contract (exit statuses,
# report formats, --expect, --list): label "conform". tests/conform-echod/run.sh does the work;
# each check is its own CTest test.
if(TARGET echo-conform AND TARGET echod)
    foreach(check IN ITEMS default tap json junit expect unreachable usage list matrix ipv6 docs)
        add_test(NAME conform.echod.${check}
                 COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/conform-echod/run.sh"
                         "$<TARGET_FILE_DIR:echo-conform>" ${check} "${PROJECT_SOURCE_DIR}")
        set_tests_properties(conform.echod.${check} PROPERTIES LABELS conform TIMEOUT 120 SKIP_RETURN_CODE 77)
    endforeach()
endif()
