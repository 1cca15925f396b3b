# OSS-Fuzz / ClusterFuzzLite build contract (label "fuzz-build"; the libFuzzer ones also
# "fuzz-smoke"): tests/ossfuzz/contract.sh runs .clusterfuzzlite/build.sh with the variables
# OSS-Fuzz sets, into a temporary $OUT, then runs every produced target over its unzipped
# seed corpus, plus a 3-second libFuzzer smoke run per target (libfuzzer; 1 s with UBSan)
# or a 1-second afl-fuzz run that must report persistent mode and shared-memory test cases.
# It builds its own clang/AFL++ binaries, independent of this build's compiler, and skips
# (77) only when clang or AFL++ is not installed.
find_program(EH_BASH bash)
if(NOT EH_BASH)
    return()
endif()
foreach(variant libfuzzer-address libfuzzer-undefined afl-address)
    string(REPLACE "-" ";" eh_args "${variant}")
    add_test(NAME fuzz-build.ossfuzz-${variant}
             COMMAND "${EH_BASH}" "${CMAKE_CURRENT_SOURCE_DIR}/ossfuzz/contract.sh" ${eh_args})
    set(eh_labels fuzz-build)
    if(variant MATCHES "^libfuzzer")
        list(APPEND eh_labels fuzz-smoke)
    endif()
    set_tests_properties(fuzz-build.ossfuzz-${variant} PROPERTIES
        LABELS "${eh_labels}" TIMEOUT 300 SKIP_RETURN_CODE 77
        # One at a time: each keeps one core busy, and the other CTest slot runs the rest.
        RESOURCE_LOCK eh_ossfuzz_contract)
    # The UBSan build gets a 1-second smoke run per target: the 3-second ones run under ASan.
    if(variant STREQUAL "libfuzzer-undefined")
        set_tests_properties(fuzz-build.ossfuzz-${variant} PROPERTIES ENVIRONMENT SMOKE_SECONDS=1)
    endif()
endforeach()
