/*
 * suite_main.h - the one main() every Check suite executable shares: run the suite in
 * Check's normal mode and turn its failure count into the exit status CTest reads; and
 * REQUIRE, a check with a formatted message that is cheap when it holds (for loops over many
 * cases, where ck_assert_msg would format every message).
 */
#ifndef EH_TESTS_SUITE_MAIN_H
#define EH_TESTS_SUITE_MAIN_H

#include <check.h>
#include <stdlib.h>

#define REQUIRE(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

static inline int eh_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
