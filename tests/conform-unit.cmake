# echo-conform's pure verdict code (core/verdict, core/catalog): one Check suite, label "unit".
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::CHECK)
    pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET check)
endif()
# guard.c is compiled in directly: eh_test_guard belongs to unit.cmake, included after this file.
add_executable(test_verdict "${CMAKE_CURRENT_SOURCE_DIR}/test_verdict.c"
                            "${CMAKE_CURRENT_SOURCE_DIR}/guard.c")
target_include_directories(test_verdict PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
target_link_libraries(test_verdict PRIVATE eh_core PkgConfig::CHECK)
set_target_properties(test_verdict PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
add_test(NAME unit.verdict COMMAND test_verdict)
set_tests_properties(unit.verdict PROPERTIES LABELS unit TIMEOUT 60)
