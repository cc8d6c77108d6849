/* The wrong-password policy, walked through with an explicit clock. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hallbus/lockout.h"

#define S 1000000LL
#define MIN (60 * S)

static hb_lockout_t *lo;
/* 2026-03-02 10:30:00 UTC: the texts say local times, and the test sets TZ */
static const int64_t T0 = 1772447400LL * S;

static void setup(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    lo = hb_lockout_new(NULL);
    cr_assert_not_null(lo);
}

static void teardown(void)
{
    hb_lockout_destroy(&lo);
    cr_assert_null(lo);
    hb_lockout_destroy(&lo); /* NULL-safe */
}

TestSuite(lockout, .init = setup, .fini = teardown);

static hb_lockout_verdict_t fail_at(const char *key, int64_t now, hb_lockout_answer_t *a)
{
    return hb_lockout_failed(lo, key, now, a);
}

Test(lockout, an_unknown_key_may_try_with_every_attempt_left)
{
    hb_lockout_answer_t a;
    cr_assert_eq(hb_lockout_check(lo, "S023", T0, &a), HB_LOCKOUT_ALLOW);
    cr_assert_eq(a.left, 5);
    cr_assert_eq(a.failures, 0);
    cr_assert_eq(hb_lockout_size(lo), 0, "checking remembers nothing");
}

Test(lockout, the_first_two_failures_cost_nothing_and_say_what_is_left)
{
    hb_lockout_answer_t a;
    cr_assert_eq(fail_at("S023", T0, &a), HB_LOCKOUT_ALLOW);
    cr_assert_str_eq(a.why, "wrong password; 4 attempts left before the account is locked for "
                            "15 minutes");
    cr_assert_eq(fail_at("S023", T0, &a), HB_LOCKOUT_ALLOW);
    cr_assert_eq(a.left, 3);
    cr_assert_eq(hb_lockout_check(lo, "S023", T0, &a), HB_LOCKOUT_ALLOW,
                 "no delay before the third failure");
}

Test(lockout, from_the_third_failure_each_attempt_waits_twice_as_long)
{
    hb_lockout_answer_t a;
    fail_at("S023", T0, &a);
    fail_at("S023", T0, &a);
    cr_assert_eq(fail_at("S023", T0, &a), HB_LOCKOUT_WAIT);
    cr_assert_str_eq(a.why, "wrong password; 2 attempts left before the account is locked for "
                            "15 minutes; wait 1 s before the next attempt");
    cr_assert_eq(a.until, T0 + S);

    cr_assert_eq(hb_lockout_check(lo, "S023", T0 + S - 1, &a), HB_LOCKOUT_WAIT);
    cr_assert_str_eq(a.why, "3 wrong passwords: wait 1 s before the next attempt");
    cr_assert_eq(hb_lockout_check(lo, "S023", T0 + S, &a), HB_LOCKOUT_ALLOW);

    cr_assert_eq(fail_at("S023", T0 + S, &a), HB_LOCKOUT_WAIT);
    cr_assert_eq(a.until, T0 + 3 * S, "the fourth failure waits 2 s");
    cr_assert_eq(a.left, 1);
    cr_assert(strstr(a.why, "1 attempt left") && strstr(a.why, "wait 2 s"), "%s", a.why);
    cr_assert_eq(hb_lockout_check(lo, "S023", T0 + 2 * S, &a), HB_LOCKOUT_WAIT);
}

Test(lockout, delays_double_with_a_later_lock)
{
    hb_lockout_policy_t p = {.lock_failures = 8};
    hb_lockout_t *l = hb_lockout_new(&p);
    hb_lockout_answer_t a;
    int64_t now = T0;
    int64_t want[] = {0, 0, 1, 2, 4, 8, 16};
    for (int i = 0; i < 7; i++) {
        hb_lockout_failed(l, "S1", now, &a);
        cr_assert_eq(a.until ? (a.until - now) / S : 0, want[i], "failure %d", i + 1);
        now = a.until ? a.until : now;
    }
    hb_lockout_destroy(&l);
}

Test(lockout, an_attempt_during_the_wait_is_refused_and_not_counted)
{
    hb_lockout_answer_t a;
    for (int i = 0; i < 3; i++)
        fail_at("S023", T0, &a);
    cr_assert_eq(fail_at("S023", T0 + S / 2, &a), HB_LOCKOUT_WAIT);
    cr_assert_eq(a.failures, 3, "a failure the caller should not have tried is not counted");
    cr_assert_str_eq(a.why, "3 wrong passwords: wait 1 s before the next attempt");
}

Test(lockout, the_fifth_failure_within_15_minutes_locks_for_15_minutes)
{
    hb_lockout_answer_t a;
    fail_at("S023", T0, &a);
    fail_at("S023", T0 + 1 * MIN, &a);
    fail_at("S023", T0 + 2 * MIN, &a);
    fail_at("S023", T0 + 3 * MIN, &a);
    cr_assert_eq(fail_at("S023", T0 + 4 * MIN, &a), HB_LOCKOUT_LOCKED);
    cr_assert_str_eq(a.why, "wrong password; account locked until 10:49 after 5 wrong passwords");
    cr_assert_eq(a.until, T0 + 19 * MIN);
    cr_assert_eq(a.left, 0);

    cr_assert_eq(hb_lockout_check(lo, "S023", T0 + 10 * MIN, &a), HB_LOCKOUT_LOCKED);
    cr_assert_str_eq(a.why, "account locked until 10:49 after 5 wrong passwords");
    cr_assert_eq(hb_lockout_check(lo, "S023", T0 + 19 * MIN - 1, &a), HB_LOCKOUT_LOCKED);
    cr_assert_eq(fail_at("S023", T0 + 12 * MIN, &a), HB_LOCKOUT_LOCKED,
                 "a failure while locked does not extend the lock");
    cr_assert_eq(a.until, T0 + 19 * MIN);

    cr_assert_eq(hb_lockout_check(lo, "S023", T0 + 19 * MIN, &a), HB_LOCKOUT_ALLOW);
    cr_assert_eq(a.left, 5, "a lock that ended starts afresh");
}

Test(lockout, the_locked_until_time_is_rounded_up_to_the_minute)
{
    hb_lockout_answer_t a;
    int64_t t = T0 + 30 * S;
    for (int i = 0; i < 4; i++)
        fail_at("S023", t + i * MIN, &a);
    fail_at("S023", t + 4 * MIN, &a);
    cr_assert_str_eq(a.why, "wrong password; account locked until 10:50 after 5 wrong passwords",
                     "10:49:30 is said as 10:50");
}

Test(lockout, failures_older_than_the_window_no_longer_count)
{
    hb_lockout_answer_t a;
    fail_at("S023", T0, &a);
    fail_at("S023", T0 + 1 * MIN, &a);
    fail_at("S023", T0 + 2 * MIN, &a);
    fail_at("S023", T0 + 10 * MIN, &a);
    /* 15:30 after the first, it has left the window: 4 within it, no lock */
    cr_assert_neq(fail_at("S023", T0 + 15 * MIN + 30 * S, &a), HB_LOCKOUT_LOCKED);
    cr_assert_eq(a.failures, 4);
    cr_assert_eq(fail_at("S023", T0 + 15 * MIN + 45 * S, &a), HB_LOCKOUT_LOCKED);
}

Test(lockout, a_success_resets_the_count)
{
    hb_lockout_answer_t a;
    for (int i = 0; i < 4; i++)
        fail_at("S023", T0 + i * MIN, &a);
    hb_lockout_succeeded(lo, "S023");
    cr_assert_eq(hb_lockout_size(lo), 0);
    cr_assert_eq(hb_lockout_check(lo, "S023", T0 + 4 * MIN, &a), HB_LOCKOUT_ALLOW);
    cr_assert_eq(fail_at("S023", T0 + 4 * MIN, &a), HB_LOCKOUT_ALLOW);
    cr_assert_eq(a.left, 4);
}

Test(lockout, keys_are_counted_apart)
{
    hb_lockout_answer_t a;
    for (int i = 0; i < 5; i++)
        fail_at("S023", T0 + i * MIN, &a);
    cr_assert_eq(a.verdict, HB_LOCKOUT_LOCKED);
    cr_assert_eq(hb_lockout_check(lo, "S024", T0 + 5 * MIN, &a), HB_LOCKOUT_ALLOW);
}

Test(lockout, a_terminal_tracker_says_terminal)
{
    hb_lockout_policy_t p = {.noun = "terminal", .lock_us = 90 * S};
    hb_lockout_t *l = hb_lockout_new(&p);
    hb_lockout_answer_t a;
    hb_lockout_failed(l, "counter-1/w3", T0, &a);
    cr_assert_str_eq(a.why, "wrong password; 4 attempts left before the terminal is locked for "
                            "90 s");
    hb_lockout_destroy(&l);
}

Test(lockout, long_keys_are_cut_and_still_count)
{
    char key[200];
    memset(key, 'x', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    hb_lockout_answer_t a;
    for (int i = 0; i < 5; i++)
        fail_at(key, T0 + i * MIN, &a);
    cr_assert_eq(hb_lockout_check(lo, key, T0 + 5 * MIN, &a), HB_LOCKOUT_LOCKED);
}

Test(lockout, the_table_is_bounded_and_keeps_the_locked_before_the_idle)
{
    hb_lockout_policy_t p = {.max_keys = 4};
    hb_lockout_t *l = hb_lockout_new(&p);
    hb_lockout_answer_t a;
    for (int i = 0; i < 5; i++)
        hb_lockout_failed(l, "victim", T0 + i * MIN, &a);
    cr_assert_eq(a.verdict, HB_LOCKOUT_LOCKED);
    /* a flood of names, 20 minutes later: their single failures are old */
    char name[16];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "n%d", i);
        hb_lockout_failed(l, name, T0 + 5 * MIN, &a);
    }
    for (int i = 3; i < 100; i++) {
        snprintf(name, sizeof name, "n%d", i);
        hb_lockout_failed(l, name, T0 + 5 * MIN + i * S, &a);
        cr_assert_leq(hb_lockout_size(l), 4);
    }
    cr_assert_eq(hb_lockout_check(l, "victim", T0 + 6 * MIN, &a), HB_LOCKOUT_LOCKED,
                 "the lock outlives the flood of names");
    hb_lockout_destroy(&l);
}
