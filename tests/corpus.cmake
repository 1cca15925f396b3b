# Corpus hygiene: every corpus/<target>/ file is named by its content's SHA-1 (or kept as
# crash-<what>), and every corpus folder has its target. Shell and sha1sum only: < 1 s.
add_test(NAME fuzz-regress.corpus-names
         COMMAND sh "${PROJECT_SOURCE_DIR}/tests/corpus/check-names.sh" "${PROJECT_SOURCE_DIR}")
set_tests_properties(fuzz-regress.corpus-names PROPERTIES LABELS fuzz-regress TIMEOUT 60)
