/*
 * fuzz_selftest.c - a fuzz target with a planted bug, built only by the fuzz-tools test so
 * it can prove that tools/fuzz-run.sh finds and reports a crash and that
 * tools/fuzz-triage.sh reruns it and prints the oracle's message. It echoes the input
 * through a buffer and checks the copy; inputs starting with "EH" get a corrupted echo.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t out[64];
    size_t n = size < sizeof out ? size : sizeof out;

    memcpy(out, data, n);
    if (n >= 2 && data[0] == 'E' && data[1] == 'H')
        out[1] ^= 0x20; /* the planted bug */
    for (size_t i = 0; i < n; i++) {
        if (out[i] != data[i]) {
            fprintf(stderr, "fuzz_selftest: echo differs at offset %zu: expected %u, got %u\n", i,
                    data[i], out[i]);
            abort();
        }
    }
    return 0;
}
