/*
 * fuzz_fuzzfile.c - drives the reproducer parser of echo-conform's network fuzzer
 * (core/fuzzfile) with arbitrary bytes. Oracles: every rejection names a known reason and a
 * line inside the text (or the one after it); an accepted file formats, the formatted text
 * parses back to the same sequence and formats to the same bytes (parse -> format -> parse
 * is stable, the format is canonical); an accepted file cut before its "end" line is refused;
 * and the parser never reads past n (the input is not NUL-terminated).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/fuzzfile.h"

static void fail(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz_fuzzfile: %s for input \"%.*s\"\n", what, (int)size,
            (const char *)data);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fq_seq s1, s2;
    static char t1[FF_FORMAT_MAX], t2[FF_FORMAT_MAX];
    const char *text = (const char *)data;
    struct ff_error e;
    size_t n1, n2, lines = 1;
    int rc;

    if (size > 64 * 1024)
        return 0;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    rc = ff_parse(text, size, &s1, &e);
    if (rc != 0) {
        if (e.code <= FF_OK || e.code >= FF__E_COUNT ||
            strcmp(ff_strerror(e.code), "unknown error") == 0)
            fail("rejection without a known reason", data, size);
        if (e.line < 1 || e.line > lines + 1)
            fail("rejection names a line outside the text", data, size);
        return 0;
    }
    if (e.code != FF_OK || s1.count > FQ_MAX_ACTIONS)
        fail("accepted with an error set or too many actions", data, size);
    if (ff_format(&s1, t1, sizeof t1, &n1) != 0 || n1 != strlen(t1))
        fail("accepted file does not format", data, size);
    if (ff_parse(t1, n1, &s2, &e) != 0)
        fail("formatted text does not parse back", data, size);
    if (!fq_equal(&s1, &s2))
        fail("parse -> format -> parse changed the sequence", data, size);
    if (ff_format(&s2, t2, sizeof t2, &n2) != 0 || n1 != n2 || memcmp(t1, t2, n1) != 0)
        fail("formatting is not canonical", data, size);
    /* The canonical text without its "end\n" is a cut-off file: it must be refused. */
    if (ff_parse(t1, n1 - 4, &s2, &e) == 0 || e.code != FF_E_NO_END)
        fail("a file cut before 'end' was not refused as such", data, size);
    return 0;
}
