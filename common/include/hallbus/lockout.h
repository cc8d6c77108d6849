/* Repeated wrong passwords: slow down, then lock for a while.
 *
 * A pure policy: no I/O and no clock of its own (every call says what time
 * it is, in microseconds), so that a test walks it through a quarter of an
 * hour in a few lines. One tracker counts the failures of many keys; the
 * sign-on uses one tracker keyed by account ("S023") and one keyed by
 * source (the terminal), and refuses when either says no.
 *
 * With the defaults: the first 3 wrong passwords within 15 minutes cost
 * nothing; from then on each further attempt must wait 1 s, 2 s, 4 s ...
 * after the last failure; the 5th wrong password within 15 minutes locks
 * the key for 15 minutes. A success resets the key.
 *
 *   hb_lockout_answer_t a;
 *   if (hb_lockout_check(lo, id, now, &a) != HB_LOCKOUT_ALLOW)
 *       refuse(a.why);                     // the password is not even checked
 *   else if (password_ok)
 *       hb_lockout_succeeded(lo, id);
 *   else
 *       hb_lockout_failed(lo, id, now, &a), refuse(a.why);
 */
#ifndef HALLBUS_LOCKOUT_H
#define HALLBUS_LOCKOUT_H

#include <stddef.h>
#include <stdint.h>

#define HB_LOCKOUT_WHY_MAX 160
#define HB_LOCKOUT_KEY_MAX 64 /* longer keys are cut: they still count */

typedef struct {
    const char *noun;       /* what is locked, in the texts: "account" (default), "terminal" */
    uint32_t free_failures; /* failures before delays begin; default 3 */
    uint32_t lock_failures; /* failures within WINDOW_US that lock; default 5 (at most 32) */
    int64_t window_us;      /* default 15 minutes */
    int64_t lock_us;        /* how long a lock lasts; default 15 minutes */
    int64_t first_delay_us; /* the first delay, doubled each failure; default 1 s */
    int64_t max_delay_us;   /* the delay never exceeds this; default 5 minutes */
    size_t max_keys;        /* keys remembered at most (idle ones forgotten first); default 10000 */
} hb_lockout_policy_t;

typedef enum {
    HB_LOCKOUT_ALLOW = 0, /* may try now */
    HB_LOCKOUT_WAIT,      /* too soon after the last failure: retry at UNTIL */
    HB_LOCKOUT_LOCKED,    /* locked until UNTIL */
} hb_lockout_verdict_t;

typedef struct {
    hb_lockout_verdict_t verdict;
    int64_t until;     /* WAIT, LOCKED: the first instant the next attempt is allowed; else 0 */
    uint32_t failures; /* failures counted now (within the window) */
    uint32_t left;     /* wrong passwords left before the lock; 0 once locked */
    char why[HB_LOCKOUT_WHY_MAX]; /* for people: "wrong password; 2 attempts left before ..." */
} hb_lockout_answer_t;

typedef struct hb_lockout_s hb_lockout_t;

/* POLICY NULL, or any field 0/NULL: the defaults above. Caller owns the
 * tracker; NULL on out of memory. POLICY is copied (its noun is not:
 * it must outlive the tracker; a string literal does). */
hb_lockout_t *hb_lockout_new(const hb_lockout_policy_t *policy);
/* NULL-safe; sets *self to NULL. */
void hb_lockout_destroy(hb_lockout_t **self);

/* Before a password is checked: may KEY try at NOW? Fills OUT (may be
 * NULL) with the verdict and, when not ALLOW, why. Changes nothing but
 * forgetting an expired lock. */
hb_lockout_verdict_t hb_lockout_check(hb_lockout_t *self, const char *key, int64_t now,
                                      hb_lockout_answer_t *out);

/* A wrong password for KEY at NOW: counts it and says what follows (ALLOW
 * with attempts left, WAIT with the delay, or LOCKED) in OUT (may be
 * NULL), why beginning with "wrong password; ". Returns the verdict for
 * the next attempt. A failure reported while KEY is locked or must wait
 * (the caller did not check) changes nothing. */
hb_lockout_verdict_t hb_lockout_failed(hb_lockout_t *self, const char *key, int64_t now,
                                       hb_lockout_answer_t *out);

/* The right password for KEY: forgets its failures. */
void hb_lockout_succeeded(hb_lockout_t *self, const char *key);

/* How many keys the tracker remembers now (for tests and metrics). */
size_t hb_lockout_size(const hb_lockout_t *self);

#endif
