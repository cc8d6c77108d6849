/* When to try again, and how fast a channel may go: pure functions of
 * their inputs (the clock and the randomness are arguments), so that they
 * are tested exactly. */
#ifndef NOTIFIER_RETRY_H
#define NOTIFIER_RETRY_H

#include <stdbool.h>
#include <stdint.h>

/* The delay before the next attempt after ATTEMPTS failed ones (>= 1):
 * FIRST_MS doubled per failure, capped at MAX_MS, then "equal jitter":
 * a uniform pick in [d/2, d] from RND in [0, 1), so that many messages that
 * failed together do not come back together. */
uint64_t nt_backoff_ms(uint32_t first_ms, uint32_t max_ms, uint32_t attempts, double rnd);

/* A token bucket: RATE tokens a second, at most BURST in hand. */
typedef struct {
    double tokens;
    double rate; /* per microsecond */
    double burst;
    int64_t last_us;
} nt_bucket_t;

void nt_bucket_init(nt_bucket_t *b, uint32_t rate_per_s, uint32_t burst, int64_t now_us);
/* Takes one token if there is one. */
bool nt_bucket_take(nt_bucket_t *b, int64_t now_us);
/* Microseconds until a token will be there (0 if one is). */
int64_t nt_bucket_wait_us(nt_bucket_t *b, int64_t now_us);

/* What an attempt came to, and where that leaves the message. */
typedef enum { NT_PENDING = 0, NT_SENT, NT_FAILED, NT_EXPIRED } nt_state_t;
typedef enum {
    NT_DELIVERED, /* the receiver confirmed (2xx, or the command exited 0) */
    NT_TRANSIENT, /* worth another try: down, slow, 5xx, 408/429, garbage, no contact answer */
    NT_PERMANENT  /* never worth another try: 4xx, unknown contact, no channel for it */
} nt_outcome_t;

const char *nt_state_name(nt_state_t s);

/* After an attempt with OUTCOME at NOW: the new state, and for NT_PENDING
 * the time of the next attempt in *NEXT_AT. A retry that would fall at or
 * after DEADLINE expires the message instead. */
nt_state_t nt_after_attempt(nt_outcome_t outcome, int64_t now_us, int64_t deadline_us,
                            uint32_t attempts, uint32_t first_ms, uint32_t max_ms, double rnd,
                            int64_t *next_at);

#endif
