# Unit tests (label "unit"): one Check suite per core module, each its own executable and
# CTest test so `ctest -j` runs them in parallel and a failure names its module, plus the
# core purity check (tests/check-core-symbols.sh) on the eh_core archive.
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::CHECK)
    pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET check)
endif()

# The guard-page helper uses mmap, so it lives with the tests, never in the core.
add_library(eh_test_guard STATIC "${CMAKE_CURRENT_SOURCE_DIR}/guard.c")
target_include_directories(eh_test_guard PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}")
target_link_libraries(eh_test_guard PUBLIC eh_options)

foreach(eh_unit IN ITEMS ring stream dgram addr frame err fuzzseq fuzzfile ddmin pollgov)
    add_executable(test_${eh_unit} "${CMAKE_CURRENT_SOURCE_DIR}/test_${eh_unit}.c")
    target_link_libraries(test_${eh_unit} PRIVATE eh_core eh_test_guard PkgConfig::CHECK)
    # Keep bin/ for the programs; test binaries stay next to their CTest files.
    set_target_properties(test_${eh_unit} PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
    add_test(NAME unit.${eh_unit} COMMAND test_${eh_unit})
    set_tests_properties(unit.${eh_unit} PROPERTIES LABELS unit TIMEOUT 60)
endforeach()

add_test(NAME unit.core-symbols
         COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/check-core-symbols.sh" "$<TARGET_FILE:eh_core>"
                 "${CMAKE_NM}" "${CMAKE_OBJDUMP}")
set_tests_properties(unit.core-symbols PROPERTIES LABELS unit TIMEOUT 60)
