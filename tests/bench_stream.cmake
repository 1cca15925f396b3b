# echo-bench's stream sends (label "bench"; after bench.cmake, whose eh_bench_test it uses):
# the send pipe's unit suite (src/app/bench/sendpipe: every byte out of the pipe is the
# stream's, tee or vmsplice) and short runs that check both fills end to end, every echoed
# byte verified. About 3 s in all.
if(TARGET eh_bench)
    add_executable(test_sendpipe "${CMAKE_CURRENT_SOURCE_DIR}/test_sendpipe.c")
    target_include_directories(test_sendpipe PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
    target_link_libraries(test_sendpipe PRIVATE eh_bench PkgConfig::CHECK)
    set_target_properties(test_sendpipe PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
    add_test(NAME unit.sendpipe COMMAND test_sendpipe)
    set_tests_properties(unit.sendpipe PROPERTIES LABELS "unit;bench" TIMEOUT 60)
endif()

# The stream pipe filled by tee (the default) over many periods (a 0.5 s run moves some
# 10,000 periods of 131071 bytes), and by vmsplice (EH_BENCH_NO_TEE=1), each echo checked.
eh_bench_test(tcp.stream.tee 0 embedded
    "${eh_bench_sane} and .tee and .stalls == 0 and .bytes > 10 * 131071 and .spliced_bytes > .bytes"
    ${eh_bench_short} --stream --engine epoll)
add_test(NAME bench.tcp.stream.no_tee
    COMMAND ${CMAKE_COMMAND} -E env EH_BENCH_NO_TEE=1 ${eh_bench_run} 0 embedded
    "${eh_bench_sane} and (.tee | not) and .stalls == 0 and .bytes > 10 * 131071 and .spliced_bytes > .bytes"
    ${eh_bench_short} --stream --engine epoll)
set_tests_properties(bench.tcp.stream.no_tee PROPERTIES LABELS bench TIMEOUT 120
    SKIP_RETURN_CODE 77)
# Stream writes go out in rounds, once a quarter of the window is free (here 131 writes of
# 1000 bytes in a 512 KiB window, corked): every byte still leaves, nothing stalls.
eh_bench_test(tcp.stream.rounds 0 embedded
    "${eh_bench_sane} and .stalls == 0 and .bytes > 1048576 and .msgs > 1000"
    ${eh_bench_short} --stream --engine epoll -s 1000 --window 524288)
