/*
 * fuzz.h - the entry point every fuzz target defines, shared by the targets and by the
 * replay driver (replay_main.c). libFuzzer, AFL++'s driver and OSS-Fuzz call the same one.
 */
#ifndef EH_FUZZ_FUZZ_H
#define EH_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Marks a target's oracle helpers: their branches and comparisons only ever decide "fail
 * or not", so coverage instrumentation there (edge counters, comparison tracing) would cost
 * every run time and teach the fuzzer nothing. The code under test stays instrumented.
 * noinline: coverage is added after inlining, so an inlined helper would be instrumented. */
#if defined(__clang__)
#define FUZZ_ORACLE __attribute__((no_sanitize("coverage"), noinline))
#else
#define FUZZ_ORACLE
#endif

/* An oracle helper called per action from other FUZZ_ORACLE functions only: inlined into
 * them (a call per action cost more than the check), and uninstrumented there as they are. */
#if defined(__clang__)
#define FUZZ_ORACLE_INLINE __attribute__((no_sanitize("coverage"), always_inline))
#else
#define FUZZ_ORACLE_INLINE
#endif

/* Added after FUZZ_ORACLE or FUZZ_ORACLE_INLINE on an oracle helper that runs per candidate
 * or per action and reads only fixed-size structs of the target's own or of the core whose
 * counts it checks against their arrays' size itself (fuzzseq_check.h: fzq_check_count): no
 * ASan or UBSan checks in it. They checked the oracle's own loads (a quarter of fuzz_ddmin's
 * CPU per run went to them), not the code under test, which stays fully sanitized; a count
 * past the array fails by the explicit check, where ASan saw only a read past the whole object.
 * An unsanitized helper inlines only into unsanitized callers: keep them together. */
#if defined(__clang__)
#define FUZZ_UNSANITIZED __attribute__((no_sanitize("address", "undefined")))
#else
#define FUZZ_UNSANITIZED
#endif

#endif
