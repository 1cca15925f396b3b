# Deliberately broken echo servers (tests/fixtures/<name>.c, one defect each, libc only) and
# the tests that check which echo-conform case catches each one (label "conform"). The
# expectations live in one table, tests/fixtures/README.md, read here and by the driver, so the
# docs and the tests cannot drift: a fixture without a row, or a row without a fixture, stops
# the configure step.
set(eh_fx_dir "${CMAKE_CURRENT_LIST_DIR}/fixtures")

# The common part (CLI, binding, lifetime, the correct poll() engine) is a small static library
# of its own: fixtures must not link eh_core or eh_net, so a project bug cannot mask a defect.
add_library(eh_fixture STATIC "${eh_fx_dir}/fixture.c")
target_include_directories(eh_fixture PUBLIC "${eh_fx_dir}")
target_compile_definitions(eh_fixture PUBLIC _POSIX_C_SOURCE=200809L)
target_link_libraries(eh_fixture PUBLIC eh_options)

file(GLOB eh_fx_sources CONFIGURE_DEPENDS "${eh_fx_dir}/*.c")
list(REMOVE_ITEM eh_fx_sources "${eh_fx_dir}/fixture.c")
set(eh_fx_names "")
foreach(src IN LISTS eh_fx_sources)
    get_filename_component(name "${src}" NAME_WE)
    list(APPEND eh_fx_names "${name}")
    # Targets are fixture_<name> so generic names (banner, correct) cannot clash; the
    # programs are <build>/fixtures/<name>.
    add_executable(fixture_${name} "${src}")
    target_link_libraries(fixture_${name} PRIVATE eh_fixture)
    set_target_properties(fixture_${name} PROPERTIES
        OUTPUT_NAME "${name}" RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/fixtures")
endforeach()
list(TRANSFORM eh_fx_names PREPEND fixture_ OUTPUT_VARIABLE eh_fx_targets)
add_custom_target(fixtures DEPENDS ${eh_fx_targets})

# Rows of the manifest look like "| `name` | ...": the first cell names the fixture.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${eh_fx_dir}/README.md")
file(STRINGS "${eh_fx_dir}/README.md" eh_fx_rows REGEX "^\\| `[a-z0-9_]+` \\|")
set(eh_fx_rows_named "")
foreach(row IN LISTS eh_fx_rows)
    string(REGEX REPLACE "^\\| `([a-z0-9_]+)` \\|.*" "\\1" name "${row}")
    list(APPEND eh_fx_rows_named "${name}")
endforeach()
foreach(name IN LISTS eh_fx_names)
    if(NOT name IN_LIST eh_fx_rows_named)
        message(FATAL_ERROR "tests/fixtures/${name}.c has no row in tests/fixtures/README.md")
    endif()
endforeach()
foreach(name IN LISTS eh_fx_rows_named)
    if(NOT name IN_LIST eh_fx_names)
        message(FATAL_ERROR "tests/fixtures/README.md lists ${name}, which has no ${name}.c")
    endif()
endforeach()

if(TARGET echo-conform)
    set(eh_conform_bin "$<TARGET_FILE:echo-conform>")
else()
    # Not built yet: the driver sees no program and reports SKIP (77), not a pass.
    set(eh_conform_bin "${CMAKE_BINARY_DIR}/bin/echo-conform")
endif()

foreach(name IN LISTS eh_fx_names)
    add_test(NAME conform.fixture.${name}
             COMMAND sh "${eh_fx_dir}/run-fixture.sh" "${eh_conform_bin}"
                     "$<TARGET_FILE:fixture_${name}>" "${eh_fx_dir}/README.md")
    set_tests_properties(conform.fixture.${name} PROPERTIES
        LABELS conform SKIP_RETURN_CODE 77 TIMEOUT 120)
endforeach()

# The driver checks itself: against a manifest that promises the wrong verdicts for the
# correct fixture, it must name each broken promise (the output is matched, not the status).
add_test(NAME conform.fixture.selftest
         COMMAND sh "${eh_fx_dir}/run-fixture.sh" "${eh_conform_bin}"
                 "$<TARGET_FILE:fixture_correct>" "${eh_fx_dir}/selftest-manifest.md")
set_tests_properties(conform.fixture.selftest PROPERTIES
    LABELS conform SKIP_RETURN_CODE 77 TIMEOUT 60
    PASS_REGULAR_EXPRESSION "exit status 0, want 1.*tcp.roundtrip.single: passed, want not ok.*tcp.bytes.all256: no TAP line")
