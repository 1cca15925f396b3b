/*
 * fuzzfile.h - the reproducer file of echo-conform's network fuzzer: a versioned, line-based
 * text that people can read and edit, holding one action sequence (core/fuzzseq.h).
 *
 *     # comments and blank lines are ignored anywhere
 *     echofuzz 1                  the format and its version: the first line that counts
 *     seed 0x00000000075bcd15     payload seed (decimal or 0x hex), exactly once, before actions
 *     connect 0                   one action per line: connect|shut|close|reset SLOT,
 *     write 0 1500                write SLOT BYTES, send SLOT BYTES, pause MS
 *     pause 20
 *     send 1 0
 *     end                         required: a cut-off file is refused, not half replayed
 *
 * Words are separated by spaces or tabs; a line ends with LF (CRLF is accepted). Formatting
 * writes the canonical form (one space, lower-case hex seed, no comments), and parse ->
 * format -> parse gives the same sequence. No I/O, no allocation: the caller passes the text
 * and the buffers.
 */
#ifndef EH_CORE_FUZZFILE_H
#define EH_CORE_FUZZFILE_H

#include <stddef.h>

#include "core/fuzzseq.h"

#define FF_VERSION 1
#define FF_MAX_LINE 200 /* longest line accepted (bytes, without the line end) */
/* Room for any formatted sequence: header, seed, FQ_MAX_ACTIONS lines of at most 24 bytes,
 * end. */
#define FF_FORMAT_MAX (64 + FQ_MAX_ACTIONS * 24 + 8)

/* Why a file was refused. */
enum ff_perr {
    FF_OK = 0,
    FF_E_HEADER,    /* the first line that counts is not "echofuzz VERSION" */
    FF_E_VERSION,   /* a version this program does not read */
    FF_E_SEED,      /* "seed" missing before the first action, or given twice */
    FF_E_KEYWORD,   /* a line starts with an unknown word */
    FF_E_ARGS,      /* too few or too many words for the keyword */
    FF_E_NUMBER,    /* a word that should be a number is not one (or overflows) */
    FF_E_SLOT,      /* slot out of range: TCP 0..3, UDP 0..1 */
    FF_E_SIZE,      /* bytes or ms out of range */
    FF_E_TOO_MANY,  /* more than FQ_MAX_ACTIONS actions */
    FF_E_NO_END,    /* the text ends before "end" */
    FF_E_AFTER_END, /* something other than comments after "end" */
    FF_E_LONG_LINE, /* a line longer than FF_MAX_LINE */
    FF_E_BINARY,    /* a NUL or another control character: not a text file */
    FF__E_COUNT
};

/* Where and why parsing stopped. */
struct ff_error {
    unsigned line; /* 1-based line number (the last line + 1 for FF_E_NO_END...) */
    int code;      /* enum ff_perr */
};

/* Parses text[0..n) (not NUL-terminated; may hold any bytes) into *s. Returns 0, or
 * EH_ERR_INVAL with *err naming the line and the problem (err->code != FF_OK then). *s is
 * unspecified after a failure. */
int ff_parse(const char *text, size_t n, struct fq_seq *s, struct ff_error *err);

/* Writes the canonical text of s into buf[0..size) with a terminating NUL; *len (when not
 * NULL) gets its length without the NUL. Returns 0, EH_ERR_NOSPACE when size is too small
 * (FF_FORMAT_MAX always suffices), or EH_ERR_INVAL for an action out of range or one the
 * text cannot hold (a pause with a slot other than 0, a size on connect, shut, close or
 * reset): formatting never drops a field, so parse(format(s)) equals s. */
int ff_format(const struct fq_seq *s, char *buf, size_t size, size_t *len);

/* Describes a parse error code in a few words ("unknown keyword", ...). Static string;
 * "unknown error" for a code out of range. */
const char *ff_strerror(int code);

#endif
