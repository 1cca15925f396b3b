# tools/fuzz-run.sh and tools/fuzz-triage.sh on a minimal libFuzzer build (clang, no
# sanitizers) of one target plus a target with a planted bug: ~20 s. Label fuzz-tools.
add_test(NAME fuzz-tools.run-and-triage
         COMMAND "${PROJECT_SOURCE_DIR}/tests/fuzz-tools/check-fuzz-tools.sh")
set_tests_properties(fuzz-tools.run-and-triage PROPERTIES
    LABELS fuzz-tools TIMEOUT 120 SKIP_RETURN_CODE 77)

# tools/fuzz-bench.sh refuses a bad engine with one line and status 2 before it builds or
# runs anything (-e libfuzzer,bad used to build and run libFuzzer first). < 1 s.
add_test(NAME fuzz-tools.bench-bad-engine
         COMMAND sh "${PROJECT_SOURCE_DIR}/tests/fuzz-tools/check-bench-usage.sh")
set_tests_properties(fuzz-tools.bench-bad-engine PROPERTIES LABELS fuzz-tools TIMEOUT 30)
