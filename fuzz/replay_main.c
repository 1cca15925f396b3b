/*
 * replay_main.c - runs a fuzz target over files and directories without a fuzzing engine,
 * so a plain gcc build replays every corpus under CTest (label fuzz-regress). Each input is
 * read whole into a buffer of exactly its size, so ASan catches a one-byte over-read.
 * Exit status: 0 when every input ran, 2 when a path could not be read, 3 when there was
 * nothing to run (no argument, or only empty or missing directories): an emptied corpus must
 * not pass as a replayed one. When an input fails (the oracle's abort(), or a sanitizer's
 * report), the driver names it on stderr ("replay: failed on PATH") before the process dies,
 * so a red fuzz-regress test says which corpus file to give tools/fuzz-triage.sh.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

/* The input being run, for the failure note; set only around LLVMFuzzerTestOneInput. */
static const char *current;

/* Sanitizer builds report through their own death path, not abort(): their runtime calls
 * this hook when it has one. Weak, so a build without sanitizers links without it. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

/* Writes "replay: failed on PATH" with write(2) only: it runs in a signal handler. */
static void note_failure(void)
{
    static const char head[] = "replay: failed on ";
    size_t n = 0;

    if (!current)
        return;
    while (current[n])
        n++;
    if (write(STDERR_FILENO, head, sizeof head - 1) < 0 || write(STDERR_FILENO, current, n) < 0 ||
        write(STDERR_FILENO, "\n", 1) < 0)
        return;
}

/* SIGABRT (an oracle's abort()) and the crash signals: name the input, then die of the same
 * signal with the default action, so the exit status and any core dump stay the same. */
static void on_fatal(int sig)
{
    note_failure();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (!f) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: cannot size %s\n", path);
        fclose(f);
        return -1;
    }
    buf = malloc(n ? (size_t)n : 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    current = path;
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    current = NULL;
    free(buf);
    return 0;
}

static int run_path(const char *path, size_t *count)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    int rc = 0;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: cannot stat %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    d = opendir(path);
    if (!d) {
        fprintf(stderr, "replay: cannot open directory %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char sub[4096];
        if (de->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= sizeof sub)
            continue;
        if (run_path(sub, count) != 0)
            rc = -1;
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    static const int fatal[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    size_t count = 0;
    int rc = 0;

    /* Under a sanitizer its runtime owns the crash signals (ASan's SIGSEGV report) and calls
     * the death callback; abort() is left to us in every build. */
    signal(SIGABRT, on_fatal);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(note_failure);
    else
        for (size_t i = 1; i < sizeof fatal / sizeof fatal[0]; i++)
            signal(fatal[i], on_fatal);
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i], &count) != 0)
            rc = 2;
    if (rc == 0 && count == 0) {
        fprintf(stderr, "replay: no input to run (empty corpus?)\n");
        return 3;
    }
    printf("replay: %zu input(s) ran\n", count);
    return rc;
}
