# Corpus hygiene: every corpus/<target>/ file is named by its content's SHA-1 (or kept as
# crash-<what>), and every corpus folder has its target. Shell and sha1sum only: < 1 s.
add_test(NAME fuzz-regress.corpus-names
         COMMAND sh "${PROJECT_SOURCE_DIR}/tests/corpus/check-names.sh" "${PROJECT_SOURCE_DIR}")
set_tests_properties(fuzz-regress.corpus-names PROPERTIES LABELS fuzz-regress TIMEOUT 60)

# The replay driver names the input that failed: a target with a planted bug
# (tests/fuzz-tools/fuzz_selftest.c: inputs starting "EH" fail its oracle) replays a folder
# holding one good and one failing input; the run must die and say which file failed.
if(EH_BUILD_FUZZERS AND EH_FUZZ_ENGINE STREQUAL "replay")
    add_executable(fuzz_selftest_replay "${PROJECT_SOURCE_DIR}/tests/fuzz-tools/fuzz_selftest.c"
                                        "${PROJECT_SOURCE_DIR}/fuzz/replay_main.c")
    target_include_directories(fuzz_selftest_replay PRIVATE "${PROJECT_SOURCE_DIR}/fuzz")
    target_link_libraries(fuzz_selftest_replay PRIVATE eh_options)
    add_test(NAME fuzz-regress.replay-names-failing-input
             COMMAND sh "${PROJECT_SOURCE_DIR}/tests/corpus/check-replay-names.sh"
                     "$<TARGET_FILE:fuzz_selftest_replay>")
    set_tests_properties(fuzz-regress.replay-names-failing-input PROPERTIES
        LABELS fuzz-regress TIMEOUT 60)
endif()
