/* Signing on at a window: the password checked off the loop, the lockout,
 * the record at hall-queue, the session.
 *
 * A SignOn never leaves the counter: its password is copied into a check
 * job (hallbus/accounts.h) run on libuv's thread pool, and wiped there; the
 * request's copy is wiped at once. hall-queue hears only the outcome
 * (RecordSignOn), and the terminal gets its session token only once that
 * outcome is on the record. Each ended session (signed off, replaced,
 * expired, idle, account disabled) is recorded too, as staff.signed_off. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "hallbus/clock.h"
#include "hallbus/log.h"

#define CHECKS_MAX 4            /* password checks at once: 64 MiB each */
#define RELOAD_EVERY_US 1000000 /* the accounts file is looked at this often, at most */
#define RECORD_STAFF_MAX 64     /* as hall-queue's limit on the id as typed */

/* One sign-on on its way: in the thread pool, then at hall-queue. */
typedef struct {
    uv_work_t work;
    counter_t *c;
    hb_route_t route;
    uint64_t request_id;
    char staff[RECORD_STAFF_MAX + 1]; /* as typed */
    uint32_t window;
    char terminal[SESSION_TERMINAL_MAX];
    hb_signon_outcome_t prepared;
    hb_password_check_t job; /* holds the password until the worker wipes it */
    Hallbus__SignOnOutcome outcome;
    char why[HB_LOCKOUT_WHY_MAX + 64]; /* for the terminal and the record; "" when OK */
} signon_t;

/* A session ending on its way to the record. */
typedef struct {
    counter_t *c;
    session_ended_t ended;
} signoff_record_t;

static void signon_free(signon_t *s)
{
    sodium_memzero(s, sizeof *s);
    free(s);
}

/* The terminal, as the lockout and the session know it: the routing
 * identity of its connection (hex), until keys name terminals. */
/* Which terminal asked: its key's name in the allow-list (a terminal keeps
 * it across reconnects); with CURVE off, its connection's routing id. */
static void terminal_of(const hb_route_t *route, char *out, size_t len)
{
    out[0] = '\0';
    if (route->key_name[0]) {
        snprintf(out, len, "%s", route->key_name);
        return;
    }
    if (route->nframes == 0)
        return;
    size_t n = route->len[0] < 16 ? route->len[0] : 16;
    sodium_bin2hex(out, len < 2 * n + 1 ? len : 2 * n + 1, route->data, n);
}

static Hallbus__SignOnOutcome wire_outcome(hb_signon_outcome_t o)
{
    switch (o) {
    case HB_SIGNON_OK:
        return HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_OK;
    case HB_SIGNON_WRONG_PASSWORD:
        return HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_WRONG_PASSWORD;
    case HB_SIGNON_LOCKED:
        return HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_LOCKED;
    case HB_SIGNON_DISABLED:
        return HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_DISABLED;
    default:
        return HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_UNKNOWN;
    }
}

/* ── the record ─────────────────────────────────────────────────────────── */

static int record(counter_t *c, const char *staff, uint32_t window, Hallbus__SignOnOutcome outcome,
                  const char *reason, hb_client_cb cb, void *arg, char *why, size_t whylen)
{
    Hallbus__RecordSignOn r = HALLBUS__RECORD_SIGN_ON__INIT;
    r.staff = (char *)staff;
    r.window = window;
    r.outcome = outcome;
    r.reason = (char *)reason;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_RECORD_SIGN_ON;
    req.record_sign_on = &r;
    return forward_send(c, &req, cb, arg, why, whylen);
}

static void on_signoff_recorded(hb_client_t *client, hb_client_outcome_t outcome,
                                ProtobufCMessage *msg, void *arg)
{
    signoff_record_t *r = arg;
    const Hallbus__Reply *reply = (const Hallbus__Reply *)msg;
    if (outcome != HB_CLIENT_REPLY || reply->code != HALLBUS__STATUS_CODE__OK)
        hb_warn("the end of %s's session at window %u (%s) is not on the record: %s",
                r->ended.staff, r->ended.window, r->ended.why,
                outcome == HB_CLIENT_REPLY ? reply->message : "hall-queue did not answer");
    free(r);
}

/* Puts ENDED on the record (staff.signed_off); the terminal is not waiting. */
static void record_ended(counter_t *c, const session_ended_t *ended)
{
    hb_info("session of %s at window %u ended: %s", ended->staff, ended->window, ended->why);
    signoff_record_t *r = malloc(sizeof *r);
    char why[256];
    if (!r)
        return;
    *r = (signoff_record_t){.c = c, .ended = *ended};
    if (record(c, ended->staff, ended->window, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_SIGNED_OFF,
               ended->why, on_signoff_recorded, r, why, sizeof why) != 0) {
        hb_warn("the end of %s's session at window %u is not on the record: %s", ended->staff,
                ended->window, why);
        free(r);
    }
}

void signon_record_ended(counter_t *c, const session_ended_t *ended, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        record_ended(c, &ended[i]);
}

/* ── the answer ─────────────────────────────────────────────────────────── */

/* The outcome is on the record (or could not be put there): the terminal
 * hears it; a good sign-on becomes a session only now. */
static void on_signon_recorded(hb_client_t *client, hb_client_outcome_t outcome,
                               ProtobufCMessage *msg, void *arg)
{
    signon_t *s = arg;
    counter_t *c = s->c;
    const Hallbus__Reply *reply = (const Hallbus__Reply *)msg;
    bool recorded = outcome == HB_CLIENT_REPLY && reply->code == HALLBUS__STATUS_CODE__OK;
    if (s->outcome != HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_OK) {
        if (!recorded)
            hb_warn("a refused sign-on of %s at window %u is not on the record: %s", s->staff,
                    s->window, outcome == HB_CLIENT_REPLY ? reply->message : "no answer");
        terminals_refuse(c, &s->route, s->request_id, HALLBUS__STATUS_CODE__PERMISSION_DENIED,
                         s->why);
        signon_free(s);
        return;
    }
    if (!recorded) {
        char text[320];
        snprintf(text, sizeof text,
                 "the sign-on could not be put on the record at hall-queue (%s); try again",
                 outcome == HB_CLIENT_REPLY ? reply->message : "no answer in time");
        terminals_refuse(c, &s->route, s->request_id, HALLBUS__STATUS_CODE__INTERNAL, text);
        signon_free(s);
        return;
    }
    session_t session;
    session_ended_t ended[2];
    unsigned nended = 0;
    int64_t now = hb_now_us();
    if (sessions_open(&c->sessions, s->staff, s->window, s->terminal, now, &session, ended,
                      &nended) != 0) {
        terminals_refuse(c, &s->route, s->request_id, HALLBUS__STATUS_CODE__INTERNAL,
                         "the window is no longer this counter's");
        signon_free(s);
        return;
    }
    signon_record_ended(c, ended, nended);
    /* a window open under someone else is now the newcomer's (hall-queue
     * handed it over on the record) */
    counter_window_t *w = counter_window(c, s->window);
    if (w && (w->state == HALLBUS__WINDOW_STATE__OPEN || w->state == HALLBUS__WINDOW_STATE__PAUSED))
        snprintf(w->staff, sizeof w->staff, "%.63s", s->staff);
    hb_info("%s signed on at window %u", s->staff, s->window);

    Hallbus__Reply out = HALLBUS__REPLY__INIT;
    char text[160];
    snprintf(text, sizeof text, "%s signed on at window %u", s->staff, s->window);
    out.request_id = s->request_id;
    out.code = HALLBUS__STATUS_CODE__OK;
    out.message = text;
    out.seq = reply->seq;
    out.session = session.token;
    out.session_expires = session.expires;
    terminals_send(c, &s->route, &out);
    sodium_memzero(&session, sizeof session);
    signon_free(s);
}

/* Records S's outcome, then answers (on_signon_recorded). */
static void conclude(counter_t *c, signon_t *s)
{
    char why[256];
    if (record(c, s->staff, s->window, s->outcome, s->why, on_signon_recorded, s, why,
               sizeof why) != 0) {
        terminals_refuse(c, &s->route, s->request_id, HALLBUS__STATUS_CODE__INTERNAL, why);
        signon_free(s);
    }
}

/* ── the check ──────────────────────────────────────────────────────────── */

static void check_in_worker(uv_work_t *work)
{
    signon_t *s = work->data;
    hb_password_check_run(&s->job);
}

static void after_check(uv_work_t *work, int status)
{
    signon_t *s = work->data;
    counter_t *c = s->c;
    c->checks_running--;
    sodium_memzero(s->job.password, sizeof s->job.password);
    if (status != 0 || c->stopping) {
        terminals_refuse(c, &s->route, s->request_id, HALLBUS__STATUS_CODE__INTERNAL,
                         "hall-counter is stopping; sign on again");
        signon_free(s);
        return;
    }
    char err[HB_ACCOUNTS_ERR_MAX];
    err[0] = '\0';
    int64_t now = hb_now_us();
    hb_signon_outcome_t o =
        hb_accounts_finish_check(c->accounts, s->staff, s->prepared, &s->job, now, err, sizeof err);
    if (err[0])
        hb_warn("%s", err);
    s->outcome = wire_outcome(o);
    if (o == HB_SIGNON_OK) {
        hb_lockout_succeeded(c->lock_staff, s->staff);
        hb_lockout_succeeded(c->lock_terminal, s->terminal);
        s->why[0] = '\0';
    } else if (o == HB_SIGNON_DISABLED) {
        snprintf(s->why, sizeof s->why, "account %s is disabled: ask an operator", s->staff);
    } else {
        /* a wrong password and an unknown id look alike to the terminal */
        hb_lockout_answer_t a, t;
        hb_lockout_failed(c->lock_staff, s->staff, now, &a);
        hb_lockout_failed(c->lock_terminal, s->terminal, now, &t);
        const hb_lockout_answer_t *worse = t.verdict > a.verdict ? &t : &a;
        snprintf(s->why, sizeof s->why, "%s", worse->why);
    }
    conclude(c, s);
}

/* SignOn REQ (borrowed; its password is wiped) from ROUTE, at a window of
 * this counter's (route_check said so). Answers the terminal itself. */
void signon_start(counter_t *c, const hb_route_t *route, Hallbus__Request *req)
{
    Hallbus__SignOn *in = req->sign_on;
    const char *staff = in->staff ? in->staff : "";
    char *password = in->password ? in->password : "";
    size_t plen = strlen(password);
    char msg[320];
    Hallbus__StatusCode code = HALLBUS__STATUS_CODE__OK;
    if (!*staff || strlen(staff) > RECORD_STAFF_MAX) {
        code = HALLBUS__STATUS_CODE__INVALID_ARGUMENT;
        snprintf(msg, sizeof msg, "sign-on needs the staff id (1 to %d characters)",
                 RECORD_STAFF_MAX);
    } else if (plen == 0 || plen > HB_PASSWORD_MAX) {
        code = HALLBUS__STATUS_CODE__INVALID_ARGUMENT;
        snprintf(msg, sizeof msg, "sign-on needs the password (1 to %d bytes)", HB_PASSWORD_MAX);
    } else if (c->checks_running >= CHECKS_MAX) {
        code = HALLBUS__STATUS_CODE__REFUSED;
        snprintf(msg, sizeof msg, "hall-counter is checking %u sign-ons already; try again",
                 c->checks_running);
    }
    signon_t *s = code == HALLBUS__STATUS_CODE__OK ? calloc(1, sizeof *s) : NULL;
    if (code == HALLBUS__STATUS_CODE__OK && !s) {
        code = HALLBUS__STATUS_CODE__INTERNAL;
        snprintf(msg, sizeof msg, "out of memory");
    }
    if (code != HALLBUS__STATUS_CODE__OK) {
        sodium_memzero(password, plen);
        c->stats.refused++;
        terminals_refuse(c, route, req->request_id, code, msg);
        return;
    }
    s->work.data = s;
    s->c = c;
    s->route = *route;
    s->request_id = req->request_id;
    snprintf(s->staff, sizeof s->staff, "%s", staff);
    s->window = in->window;
    terminal_of(route, s->terminal, sizeof s->terminal);

    int64_t now = hb_now_us();
    signon_tick(c, now, true); /* the accounts as the file says them now */
    hb_lockout_answer_t a, t;
    hb_lockout_verdict_t va = hb_lockout_check(c->lock_staff, s->staff, now, &a);
    hb_lockout_verdict_t vt = hb_lockout_check(c->lock_terminal, s->terminal, now, &t);
    if (va != HB_LOCKOUT_ALLOW || vt != HB_LOCKOUT_ALLOW) {
        /* the password is not even checked */
        sodium_memzero(password, plen);
        s->outcome = HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_LOCKED;
        snprintf(s->why, sizeof s->why, "%s", va != HB_LOCKOUT_ALLOW ? a.why : t.why);
        conclude(c, s);
        return;
    }
    s->prepared = hb_accounts_prepare_check(c->accounts, s->staff, password, &s->job);
    sodium_memzero(password, plen);
    if (uv_queue_work(c->loop, &s->work, check_in_worker, after_check) != 0) {
        terminals_refuse(c, route, req->request_id, HALLBUS__STATUS_CODE__INTERNAL,
                         "cannot check the password now; try again");
        signon_free(s);
        return;
    }
    c->checks_running++;
}

/* SignOff REQ (borrowed) from ROUTE: ends the session it carries. */
void signon_off(counter_t *c, const hb_route_t *route, Hallbus__Request *req)
{
    session_ended_t ended;
    char msg[256];
    uint32_t window = req->sign_off->window;
    if (sessions_close(&c->sessions, req->session, window, "signed off", &ended, msg, sizeof msg) !=
        0) {
        c->stats.refused++;
        terminals_refuse(c, route, req->request_id, HALLBUS__STATUS_CODE__PERMISSION_DENIED, msg);
        return;
    }
    record_ended(c, &ended);
    snprintf(msg, sizeof msg, "%s signed off at window %u", ended.staff, window);
    terminals_refuse(c, route, req->request_id, HALLBUS__STATUS_CODE__OK, msg);
}

/* ── the window commands ────────────────────────────────────────────────── */

static void replace_text(char **field, const char *text, bool *oom)
{
    char *copy = strdup(text);
    if (!copy) {
        *oom = true;
        return;
    }
    if (*field && *field != protobuf_c_empty_string)
        free(*field); /* decoded by protobuf-c with the system allocator */
    *field = copy;
}

Hallbus__StatusCode signon_apply(counter_t *c, Hallbus__Request *req, uint32_t window, char *msg,
                                 size_t msglen)
{
    const session_t *s = NULL;
    session_ended_t ended;
    unsigned nended = 0;
    Hallbus__StatusCode code = sessions_check(&c->sessions, req->session, window, hb_now_us(), &s,
                                              &ended, &nended, msg, msglen);
    signon_record_ended(c, &ended, nended);
    if (code != HALLBUS__STATUS_CODE__OK)
        return code;
    if (req->command_case == HALLBUS__REQUEST__COMMAND_OPEN_WINDOW) {
        const char *opener = req->open_window->staff;
        if (opener && *opener && strcmp(opener, s->staff) != 0) {
            snprintf(msg, msglen,
                     "the window is opened by %.63s but %s is signed on here: one person signs "
                     "on for themselves",
                     opener, s->staff);
            return HALLBUS__STATUS_CODE__INVALID_ARGUMENT;
        }
    }
    bool oom = false;
    replace_text(&req->staff, s->staff, &oom);
    if (req->command_case == HALLBUS__REQUEST__COMMAND_OPEN_WINDOW)
        replace_text(&req->open_window->staff, s->staff, &oom);
    /* the token stays here: hall-queue has no use for it */
    if (req->session && req->session != protobuf_c_empty_string) {
        sodium_memzero(req->session, strlen(req->session));
        free(req->session);
    }
    req->session = (char *)protobuf_c_empty_string;
    if (oom) {
        snprintf(msg, msglen, "out of memory");
        return HALLBUS__STATUS_CODE__INTERNAL;
    }
    return HALLBUS__STATUS_CODE__OK;
}

/* ── the accounts file and the clock ────────────────────────────────────── */

static bool account_may_stay(const char *staff, void *arg)
{
    const hb_staff_t *a = hb_accounts_find(arg, staff);
    return a && !a->disabled;
}

void signon_tick(counter_t *c, int64_t now, bool force_reload)
{
    bool reloaded = false;
    if (force_reload || now - c->accounts_checked >= RELOAD_EVERY_US) {
        char err[HB_ACCOUNTS_ERR_MAX];
        c->accounts_checked = now;
        int rc = hb_accounts_reload_if_changed(c->accounts, err, sizeof err);
        if (rc < 0)
            hb_error("staff accounts not reloaded (the last good ones stay): %s", err);
        else if (rc > 0)
            hb_info("staff accounts reloaded from %s: %zu account(s)",
                    hb_accounts_path(c->accounts), hb_accounts_count(c->accounts));
        reloaded = rc > 0;
    }
    session_ended_t ended[64];
    unsigned n;
    do {
        n = sessions_sweep(&c->sessions, now, reloaded ? account_may_stay : NULL, c->accounts,
                           ended, 64);
        signon_record_ended(c, ended, n);
    } while (n == 64);
}

int signon_open(counter_t *c)
{
    char err[HB_ACCOUNTS_ERR_MAX];
    static const hb_lockout_policy_t by_terminal = {.noun = "terminal"};
    c->accounts = hb_accounts_new(c->config->security.accounts);
    c->lock_staff = hb_lockout_new(NULL);
    c->lock_terminal = hb_lockout_new(&by_terminal);
    if (!c->accounts || !c->lock_staff || !c->lock_terminal ||
        sessions_init(&c->sessions, c->self.windows, c->self.windows_count, 0, 0) != 0) {
        hb_error("out of memory");
        return -1;
    }
    if (hb_accounts_load(c->accounts, err, sizeof err) != 0)
        hb_error("staff accounts not loaded (no one can sign on until the file is fixed): %s", err);
    else
        hb_info("staff accounts from %s: %zu account(s)", hb_accounts_path(c->accounts),
                hb_accounts_count(c->accounts));
    c->accounts_checked = hb_now_us();
    return 0;
}

void signon_close(counter_t *c)
{
    sessions_free(&c->sessions);
    hb_lockout_destroy(&c->lock_staff);
    hb_lockout_destroy(&c->lock_terminal);
    hb_accounts_destroy(&c->accounts);
}
