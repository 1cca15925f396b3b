/*
 * fuzz.h - the entry point every fuzz target defines, shared by the targets and by the
 * replay driver (replay_main.c). libFuzzer, AFL++'s driver and OSS-Fuzz call the same one.
 */
#ifndef EH_FUZZ_FUZZ_H
#define EH_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
