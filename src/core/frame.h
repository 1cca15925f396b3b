/*
 * frame.h - echo-client's input framing and echo reassembly.
 *
 * Lines follow the tutorial client's rules: surrounding whitespace is trimmed, "q" quits,
 * a blank line is skipped over TCP but sent as an empty datagram over UDP (RFC 768 allows
 * it). A TCP echo may arrive in any number of pieces (a single recv() is the tutorial's
 * bug), so cf_expect reassembles it against what was sent and reports the first wrong byte.
 */
#ifndef EH_CORE_FRAME_H
#define EH_CORE_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum cf_action {
    CF_SEND = 0, /* send line[*off .. *off + *len) */
    CF_SKIP,     /* nothing to send (blank line over TCP) */
    CF_QUIT      /* the user typed q */
};

enum cf_transport { CF_TCP = 0, CF_UDP = 1 };

/* Frames one input line p[0..n) (with or without its "\n"; binary safe). Trims ASCII
 * whitespace (space, \t, \r, \n, \v, \f) at both ends. Sets *act, and for CF_SEND the
 * trimmed part as *off and *len (len 0 only over UDP). Returns 0 or EH_ERR_INVAL. */
int cf_line(const uint8_t *p, size_t n, int transport, int *act, size_t *off, size_t *len);

enum cf_status {
    CF_MORE = 0,     /* consistent so far, more bytes expected */
    CF_DONE,         /* all expected bytes arrived, equal */
    CF_MISMATCH      /* a byte differs: see bad_off, want, got */
};

/* Reassembly of one expected echo. Borrows want[0..n) until done. */
struct cf_expect {
    const uint8_t *want;
    size_t n;
    size_t got;     /* bytes matched so far */
    size_t bad_off; /* offset of the first wrong byte (CF_MISMATCH) */
    uint8_t bad_want, bad_got;
    uint8_t status; /* enum cf_status */
};

/* Starts expecting want[0..n). Cannot fail. n == 0 is immediately CF_DONE. */
void cf_expect_init(struct cf_expect *e, const uint8_t *want, size_t n);

/* Feeds received bytes p[0..n). *used gets how many were consumed: bytes past the expected
 * end are not consumed (they belong to the next echo, or are extra). Returns the status
 * (enum cf_status) after feeding; once CF_DONE or CF_MISMATCH, feeding consumes nothing. */
int cf_expect_feed(struct cf_expect *e, const uint8_t *p, size_t n, size_t *used);

#endif
