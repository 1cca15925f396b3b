/*
 * envflag.h - echo-bench's environment switches (EH_BENCH_NO_URING, EH_BENCH_NO_TEE, ...):
 * a switch is on when the variable is set to anything but "" or "0".
 */
#ifndef EH_APP_BENCH_ENVFLAG_H
#define EH_APP_BENCH_ENVFLAG_H

#include <stdlib.h>
#include <string.h>

static inline int bb_env_on(const char *name)
{
    const char *v = getenv(name);

    return v && *v && strcmp(v, "0") != 0;
}

#endif
