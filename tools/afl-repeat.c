/*
 * afl-repeat.c - finds the coverage edges of an AFL++-instrumented fuzz target that vary
 * between runs of one input (what afl-fuzz counts as instability), and where they are.
 * It runs INPUT N times in one process, as AFL++'s persistent mode does (optionally after a
 * different PREFIX input before each run, to see state one input leaves to the next), and
 * prints every coverage-map entry whose AFL++-bucketed hit count differs between the runs,
 * with its guard's offset in __sancov_guards, which objdump and addr2line map to a line.
 * A diagnostic, not part of the build. Build it against a target's objects of the afl preset
 * (compiled uninstrumented, linked by afl-clang-fast for AFL++'s runtime), e.g.:
 *
 *   clang -O1 -c tools/afl-repeat.c -o build-afl/afl-repeat.o
 *   (cd build-afl && afl-clang-fast -g -o afl-repeat afl-repeat.o \
 *       fuzz/CMakeFiles/fuzz_server.dir/fuzz_server.c.o src/net/libeh_net.a src/core/libeh_core.a \
 *       -Wl,--wrap=send,--wrap=sendmsg,--wrap=splice)   # fuzz_server's link options
 *   build-afl/afl-repeat INPUT 20 [PREFIX...]
 *   # an offset OFF printed: the instruction that uses that guard, and its source line
 *   g=$(nm build-afl/afl-repeat | awk '/__start___sancov_guards/ {print $1}')
 *   a=$(printf '%x' $((0x$g + OFF)))
 *   objdump -d build-afl/afl-repeat | grep -m1 "# $a <"   # then addr2line -f -i -e ... ADDR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern uint8_t *__afl_area_ptr;
extern uint32_t __afl_map_size;
extern uint32_t __start___sancov_guards[], __stop___sancov_guards[];
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static uint8_t in[1 << 20], pre[1 << 20];

/* AFL++'s hit-count buckets: a count that moves inside one bucket is not instability. */
static uint8_t bucket(uint8_t v)
{
    return v == 0     ? 0
           : v == 1   ? 1
           : v == 2   ? 2
           : v == 3   ? 4
           : v <= 7   ? 8
           : v <= 15  ? 16
           : v <= 31  ? 32
           : v <= 127 ? 64
                      : 128;
}

static size_t load(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f) {
        perror(path);
        exit(2);
    }
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    int runs = argc > 2 ? atoi(argv[2]) : 0, varying = 0;
    size_t n, size;
    uint8_t *maps;

    if (argc < 3 || runs < 2) {
        fprintf(stderr, "usage: afl-repeat INPUT RUNS(>=2) [PREFIX...]\n");
        return 2;
    }
    n = load(argv[1], in, sizeof in);
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    size = __afl_map_size ? __afl_map_size : 65536;
    maps = calloc((size_t)runs, size);
    if (!maps)
        return 2;
    for (int r = 0; r < runs; r++) {
        if (argc > 3)
            LLVMFuzzerTestOneInput(pre, load(argv[3 + r % (argc - 3)], pre, sizeof pre));
        memset(__afl_area_ptr, 0, size);
        LLVMFuzzerTestOneInput(in, n);
        for (size_t k = 0; k < size; k++)
            maps[(size_t)r * size + k] = bucket(__afl_area_ptr[k]);
    }
    for (size_t k = 0; k < size; k++) {
        long off = -1;
        int var = 0;

        for (int r = 1; r < runs && !var; r++)
            var = maps[(size_t)r * size + k] != maps[k];
        if (!var)
            continue;
        for (uint32_t *g = __start___sancov_guards; g < __stop___sancov_guards; g++)
            if (*g == k)
                off = (long)((char *)g - (char *)__start___sancov_guards);
        printf("edge %zu guard offset 0x%lx buckets:", k, off);
        for (int r = 0; r < runs; r++)
            printf(" %u", maps[(size_t)r * size + k]);
        printf("\n");
        varying++;
    }
    printf("%d edge(s) varied in %d runs\n", varying, runs);
    return varying ? 1 : 0;
}
