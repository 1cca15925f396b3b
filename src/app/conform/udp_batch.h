/*
 * udp_batch.h - many datagrams in flight at once on one or two UDP sockets, for the UDP cases
 * that send bursts: every reply is classified by the core matcher (one per socket), datagrams
 * still unanswered are sent again, and the first reply that is not an exact answer (or is
 * one answer too many: more replies than sends, retries counted) is kept for the report. Loss alone is never a failure here; the cases decide what is.
 */
#ifndef EH_APP_CONFORM_UDP_BATCH_H
#define EH_APP_CONFORM_UDP_BATCH_H

#include "conform/harness.h"

#define CB_MAXD 200      /* most datagrams per socket */
#define CB_DGRAM_MAX 1400 /* most bytes per batch datagram */

struct cb_batch {
    int fd[2];
    size_t nsock;
    struct cv_dslot slots[2][CB_MAXD];
    struct cv_dmatch m[2];
    struct cv_dresult first_bad;   /* the first reply that is not an exact answer */
    int have_bad, bad_sock;         /* whether first_bad is set, and on which socket */
    int crosstalk;                  /* first_bad is exactly another socket's datagram */
    uint32_t replies;               /* every datagram received */
    uint32_t reordered;             /* exact replies that came after one to a later datagram */
    uint32_t max_index;             /* 1 + the highest datagram index answered so far */
    uint32_t any_match;             /* some exact reply arrived */
};

/* Starts an empty batch over nsock (1 or 2) sockets, none open yet. Cannot fail. */
void cb_init(struct cb_batch *c, size_t nsock);

/* Opens the sockets (unconnected, ephemeral ports). Returns 0, or fails the case and -1. */
int cb_open(struct ct_ctx *x, struct cb_batch *c);

/* Closes what cb_open opened. */
void cb_close(struct cb_batch *c);

/* Generates datagram i of socket k (n <= CB_DGRAM_MAX bytes, its own pattern) and registers
 * it as sent once. Returns its bytes (owned by the batch) for the caller to send. */
const uint8_t *cb_add(struct ct_ctx *x, struct cb_batch *c, size_t k, size_t i, size_t n);

/* Datagrams of every socket with no exact reply yet. */
size_t cb_unanswered(const struct cb_batch *c);

/* Receives for up to wait_ms (returns early once nothing is owed unless full_wait). Returns 0
 * or -errno from poll. */
int cb_wait(struct ct_ctx *x, struct cb_batch *c, int wait_ms, int full_wait);

/* Sends every unanswered datagram once more. Returns 0 or -errno. */
int cb_resend(struct ct_ctx *x, struct cb_batch *c);

/* Waits 300, 600, 1200 ... ms, resending what is unanswered between waits, for at most
 * rounds waits within the timeout. Returns 0 or -errno. */
int cb_settle(struct ct_ctx *x, struct cb_batch *c, int rounds);

/* Fails the case with the first reply that was not an exact answer (a duplicate, or
 * cross-talk). */
void cb_report_bad(struct ct_ctx *x, struct cb_batch *c);

/* Fails the case and returns 1 when more than a quarter of total datagrams stayed unanswered
 * after tries sends each; 0 otherwise. */
int cb_too_few(struct ct_ctx *x, struct cb_batch *c, size_t total, int tries);

/* Fails the case with a diagnosis (ct_udp_silence) and returns 1 when no reply came at all. */
int cb_silent(struct ct_ctx *x, struct cb_batch *c, const char *what, int tries, long long t0);

#endif
