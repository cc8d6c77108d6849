/* Repeated wrong passwords (hallbus/lockout.h): a table of keys, each with
 * the instants of its recent failures and the end of its lock. */
#include "hallbus/lockout.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

#define FAILURES_MAX 32
#define S 1000000LL

typedef struct {
    char key[HB_LOCKOUT_KEY_MAX];
    int64_t failed_at[FAILURES_MAX]; /* oldest first; those within the window */
    uint32_t failures;
    int64_t locked_until;  /* 0: not locked */
    uint32_t locked_after; /* failures that locked it, for the text */
    UT_hash_handle hh;
} entry_t;

struct hb_lockout_s {
    hb_lockout_policy_t policy;
    entry_t *entries;
};

hb_lockout_t *hb_lockout_new(const hb_lockout_policy_t *policy)
{
    hb_lockout_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    hb_lockout_policy_t p = policy ? *policy : (hb_lockout_policy_t){0};
    if (!p.noun)
        p.noun = "account";
    if (!p.free_failures)
        p.free_failures = 3;
    if (!p.lock_failures)
        p.lock_failures = 5;
    if (p.lock_failures > FAILURES_MAX)
        p.lock_failures = FAILURES_MAX;
    if (p.free_failures > p.lock_failures)
        p.free_failures = p.lock_failures;
    if (!p.window_us)
        p.window_us = 15 * 60 * S;
    if (!p.lock_us)
        p.lock_us = 15 * 60 * S;
    if (!p.first_delay_us)
        p.first_delay_us = S;
    if (!p.max_delay_us)
        p.max_delay_us = 5 * 60 * S;
    if (!p.max_keys)
        p.max_keys = 10000;
    self->policy = p;
    return self;
}

void hb_lockout_destroy(hb_lockout_t **self)
{
    if (!self || !*self)
        return;
    entry_t *e, *tmp;
    HASH_ITER(hh, (*self)->entries, e, tmp)
    {
        HASH_DEL((*self)->entries, e);
        free(e);
    }
    free(*self);
    *self = NULL;
}

size_t hb_lockout_size(const hb_lockout_t *self)
{
    assert(self);
    return HASH_COUNT(self->entries);
}

static entry_t *find(const hb_lockout_t *self, const char *key)
{
    char k[HB_LOCKOUT_KEY_MAX];
    snprintf(k, sizeof k, "%s", key ? key : "");
    entry_t *e = NULL;
    HASH_FIND_STR(self->entries, k, e);
    return e;
}

/* Forgets what NOW makes old: an ended lock (with the failures that made
 * it) and failures older than the window. */
static void age(const hb_lockout_t *self, entry_t *e, int64_t now)
{
    if (e->locked_until && e->locked_until <= now) {
        e->locked_until = 0;
        e->locked_after = 0;
        e->failures = 0;
    }
    uint32_t old = 0;
    while (old < e->failures && e->failed_at[old] <= now - self->policy.window_us)
        old++;
    if (old) {
        memmove(e->failed_at, e->failed_at + old, (e->failures - old) * sizeof e->failed_at[0]);
        e->failures -= old;
    }
}

static bool idle(const entry_t *e)
{
    return e->failures == 0 && e->locked_until == 0;
}

/* The wait after the N-th failure: none before free_failures, then the
 * first delay, doubled with each further failure, up to the maximum. */
static int64_t delay_after(const hb_lockout_policy_t *p, uint32_t n)
{
    if (n < p->free_failures)
        return 0;
    int64_t d = p->first_delay_us;
    for (uint32_t i = p->free_failures; i < n && d < p->max_delay_us; i++)
        d *= 2;
    return d < p->max_delay_us ? d : p->max_delay_us;
}

/* "15 minutes", "90 s" */
static void say_span(char *buf, size_t len, int64_t us)
{
    int64_t s = (us + S - 1) / S;
    if (s % 60 == 0)
        snprintf(buf, len, "%lld minute%s", (long long)(s / 60), s == 60 ? "" : "s");
    else
        snprintf(buf, len, "%lld s", (long long)s);
}

/* "10:45", local time, rounded up to the minute: no one is told a time at
 * which they would still be refused. */
static void say_clock(char *buf, size_t len, int64_t us)
{
    time_t t = (time_t)((us + 60 * S - 1) / (60 * S) * 60);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%H:%M", &tm);
}

static hb_lockout_verdict_t answer(hb_lockout_answer_t *out, hb_lockout_verdict_t v, int64_t until,
                                   uint32_t failures, uint32_t left)
{
    if (out) {
        out->verdict = v;
        out->until = until;
        out->failures = failures;
        out->left = left;
        out->why[0] = '\0';
    }
    return v;
}

static hb_lockout_verdict_t judge(const hb_lockout_t *self, entry_t *e, int64_t now,
                                  hb_lockout_answer_t *out)
{
    const hb_lockout_policy_t *p = &self->policy;
    if (!e)
        return answer(out, HB_LOCKOUT_ALLOW, 0, 0, p->lock_failures);
    age(self, e, now);
    if (e->locked_until) {
        answer(out, HB_LOCKOUT_LOCKED, e->locked_until, e->failures, 0);
        if (out) {
            char at[16];
            say_clock(at, sizeof at, e->locked_until);
            snprintf(out->why, sizeof out->why, "%s locked until %s after %u wrong passwords",
                     p->noun, at, e->locked_after);
        }
        return HB_LOCKOUT_LOCKED;
    }
    uint32_t n = e->failures;
    uint32_t left = p->lock_failures - n;
    int64_t until = n ? e->failed_at[n - 1] + delay_after(p, n) : 0;
    if (n && until > now) {
        answer(out, HB_LOCKOUT_WAIT, until, n, left);
        if (out) {
            char span[32];
            say_span(span, sizeof span, until - now);
            snprintf(out->why, sizeof out->why,
                     "%u wrong passwords: wait %s before the next attempt", n, span);
        }
        return HB_LOCKOUT_WAIT;
    }
    return answer(out, HB_LOCKOUT_ALLOW, 0, n, left);
}

hb_lockout_verdict_t hb_lockout_check(hb_lockout_t *self, const char *key, int64_t now,
                                      hb_lockout_answer_t *out)
{
    assert(self);
    entry_t *e = find(self, key);
    hb_lockout_verdict_t v = judge(self, e, now, out);
    if (e && idle(e)) {
        HASH_DEL(self->entries, e);
        free(e);
    }
    return v;
}

/* Which of A and B to forget first: one that is not locked, then the one
 * whose last failure is older. */
static bool sooner_forgotten(const entry_t *a, const entry_t *b)
{
    if ((a->locked_until != 0) != (b->locked_until != 0))
        return a->locked_until == 0;
    int64_t la = a->failures ? a->failed_at[a->failures - 1] : 0;
    int64_t lb = b->failures ? b->failed_at[b->failures - 1] : 0;
    return la < lb;
}

/* Room for one more key: forget idle keys, then (a flood of names) the
 * one sooner_forgotten picks; a lock goes last. */
static void make_room(hb_lockout_t *self, int64_t now)
{
    if (HASH_COUNT(self->entries) < self->policy.max_keys)
        return;
    entry_t *e, *tmp, *victim = NULL;
    HASH_ITER(hh, self->entries, e, tmp)
    {
        age(self, e, now);
        if (idle(e)) {
            HASH_DEL(self->entries, e);
            free(e);
        } else if (!victim || sooner_forgotten(e, victim)) {
            victim = e;
        }
    }
    if (HASH_COUNT(self->entries) >= self->policy.max_keys && victim) {
        HASH_DEL(self->entries, victim);
        free(victim);
    }
}

hb_lockout_verdict_t hb_lockout_failed(hb_lockout_t *self, const char *key, int64_t now,
                                       hb_lockout_answer_t *out)
{
    assert(self);
    const hb_lockout_policy_t *p = &self->policy;
    entry_t *e = find(self, key);
    hb_lockout_verdict_t v = judge(self, e, now, out);
    if (v != HB_LOCKOUT_ALLOW)
        return v;
    if (!e) {
        make_room(self, now);
        e = calloc(1, sizeof *e);
        if (!e) /* nothing remembered: the next attempt is as free as this one */
            return answer(out, HB_LOCKOUT_ALLOW, 0, 0, p->lock_failures);
        snprintf(e->key, sizeof e->key, "%s", key ? key : "");
        HASH_ADD_STR(self->entries, key, e);
    }
    e->failed_at[e->failures++] = now;
    uint32_t n = e->failures;
    char span[32];
    if (n >= p->lock_failures) {
        e->locked_until = now + p->lock_us;
        e->locked_after = n;
        char at[16];
        say_clock(at, sizeof at, e->locked_until);
        answer(out, HB_LOCKOUT_LOCKED, e->locked_until, n, 0);
        if (out)
            snprintf(out->why, sizeof out->why,
                     "wrong password; %s locked until %s after %u wrong passwords", p->noun, at, n);
        return HB_LOCKOUT_LOCKED;
    }
    uint32_t left = p->lock_failures - n;
    int64_t delay = delay_after(p, n);
    hb_lockout_verdict_t next = delay ? HB_LOCKOUT_WAIT : HB_LOCKOUT_ALLOW;
    answer(out, next, delay ? now + delay : 0, n, left);
    if (out) {
        char lock[32], wait[64] = "";
        say_span(lock, sizeof lock, p->lock_us);
        if (delay) {
            say_span(span, sizeof span, delay);
            snprintf(wait, sizeof wait, "; wait %s before the next attempt", span);
        }
        snprintf(out->why, sizeof out->why,
                 "wrong password; %u attempt%s left before the %s is locked for %s%s", left,
                 left == 1 ? "" : "s", p->noun, lock, wait);
    }
    return next;
}

void hb_lockout_succeeded(hb_lockout_t *self, const char *key)
{
    assert(self);
    entry_t *e = find(self, key);
    if (e) {
        HASH_DEL(self->entries, e);
        free(e);
    }
}
