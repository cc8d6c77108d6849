/* The counter's sessions (services/counter/sessions.c): one per window, one
 * window per person, bound to their window, ended by time, idleness, a
 * substitute, a sign-off, or a disabled account; with clear refusals. */
#include <criterion/criterion.h>
#include <string.h>

#include "sessions.h"

#define S 1000000LL
#define T0 (1700000000LL * S)
#define DENIED HALLBUS__STATUS_CODE__PERMISSION_DENIED
#define OK HALLBUS__STATUS_CODE__OK

static sessions_t ss;
static const uint32_t windows[] = {1, 2, 3};
static char msg[256];
static session_ended_t ended[2];
static unsigned nended;

static void setup(void)
{
    cr_assert_eq(sessions_init(&ss, windows, 3, 0, 0), 0);
}

static void teardown(void)
{
    sessions_free(&ss);
}

TestSuite(sessions, .init = setup, .fini = teardown);

static session_t open_at(const char *staff, uint32_t window, int64_t now)
{
    session_t s;
    cr_assert_eq(sessions_open(&ss, staff, window, "t1", now, &s, ended, &nended), 0);
    return s;
}

static Hallbus__StatusCode check(const char *token, uint32_t window, int64_t now)
{
    const session_t *s;
    session_ended_t e;
    unsigned n;
    return sessions_check(&ss, token, window, now, &s, &e, &n, msg, sizeof msg);
}

Test(sessions, a_token_is_43_random_url_safe_characters)
{
    session_t a = open_at("s1", 1, T0), b = open_at("s2", 2, T0);
    cr_assert_eq(strlen(a.token), 43);
    cr_assert_eq(
        strspn(a.token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
    cr_assert_str_neq(a.token, b.token);
    cr_assert_eq(a.expires, T0 + SESSIONS_TTL_US);
}

Test(sessions, a_session_acts_at_its_own_window_only)
{
    session_t a = open_at("s1", 2, T0);
    const session_t *s;
    session_ended_t e;
    unsigned n;
    cr_assert_eq(sessions_check(&ss, a.token, 2, T0 + S, &s, &e, &n, msg, sizeof msg), OK);
    cr_assert_str_eq(s->staff, "s1");
    cr_assert_eq(check(a.token, 3, T0 + S), DENIED);
    cr_assert(strstr(msg, "this session is for window 2"), "%s", msg);
    cr_assert_eq(check("", 3, T0), DENIED);
    cr_assert(strstr(msg, "sign on at window 3 first"), "%s", msg);
    cr_assert_eq(check("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 2, T0), DENIED);
    cr_assert_eq(check(a.token + 1, 2, T0), DENIED, "a prefix is not the token");
}

Test(sessions, a_substitute_ends_the_session_at_the_window)
{
    session_t a = open_at("s1", 1, T0);
    session_t b = open_at("s2", 1, T0 + S);
    cr_assert_eq(nended, 1);
    cr_assert_str_eq(ended[0].staff, "s1");
    cr_assert_eq(ended[0].window, 1);
    cr_assert_eq(check(a.token, 1, T0 + 2 * S), DENIED);
    cr_assert(strstr(msg, "ended (s2 signed on at window 1)"), "%s", msg);
    cr_assert_eq(check(b.token, 1, T0 + 2 * S), OK);
}

Test(sessions, one_person_one_window)
{
    session_t a = open_at("s1", 1, T0);
    open_at("s1", 3, T0 + S);
    cr_assert_eq(nended, 1);
    cr_assert_eq(ended[0].window, 1);
    cr_assert_null(sessions_at(&ss, 1));
    cr_assert_eq(check(a.token, 1, T0 + 2 * S), DENIED);
}

Test(sessions, sessions_expire_and_fall_idle)
{
    session_t a = open_at("s1", 1, T0);
    /* used every 20 minutes: never idle, but over after 12 hours */
    int64_t t = T0;
    for (; t + 20 * 60 * S < T0 + SESSIONS_TTL_US; t += 20 * 60 * S)
        cr_assert_eq(check(a.token, 1, t), OK, "at +%lld s: %s", (long long)((t - T0) / S), msg);
    cr_assert_eq(check(a.token, 1, T0 + SESSIONS_TTL_US), DENIED);
    cr_assert(strstr(msg, "session expired; sign on again"), "%s", msg);

    session_t b = open_at("s2", 2, T0);
    cr_assert_eq(sessions_sweep(&ss, T0 + SESSIONS_IDLE_US - S, NULL, NULL, ended, 2), 0);
    cr_assert_eq(sessions_sweep(&ss, T0 + SESSIONS_IDLE_US, NULL, NULL, ended, 2), 1);
    cr_assert(strstr(ended[0].why, "idle"), "%s", ended[0].why);
    cr_assert_eq(check(b.token, 2, T0 + SESSIONS_IDLE_US), DENIED);
    cr_assert(strstr(msg, "idle"), "%s", msg);
}

static bool only_s2(const char *staff, void *arg)
{
    return strcmp(staff, "s2") == 0;
}

Test(sessions, a_disabled_account_s_session_ends)
{
    session_t a = open_at("s1", 1, T0);
    open_at("s2", 2, T0);
    cr_assert_eq(sessions_sweep(&ss, T0 + S, only_s2, NULL, ended, 2), 1);
    cr_assert_str_eq(ended[0].staff, "s1");
    cr_assert_eq(check(a.token, 1, T0 + S), DENIED);
    cr_assert_not_null(sessions_at(&ss, 2));
}

Test(sessions, sign_off_needs_the_session_s_own_token)
{
    session_t a = open_at("s1", 1, T0);
    session_ended_t e;
    cr_assert_eq(sessions_close(&ss, "nope", 1, "signed off", &e, msg, sizeof msg), -1);
    cr_assert_eq(sessions_close(&ss, a.token, 2, "signed off", &e, msg, sizeof msg), -1);
    cr_assert_eq(sessions_close(&ss, a.token, 1, "signed off", &e, msg, sizeof msg), 0);
    cr_assert_str_eq(e.staff, "s1");
    cr_assert_eq(check(a.token, 1, T0 + S), DENIED);
    cr_assert(strstr(msg, "signed off"), "%s", msg);
}
