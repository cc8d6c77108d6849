/* hall-counter as a real process beside real hall-bus and hall-queue: two
 * counters serving different windows of one hall, driven over the wire as
 * a window terminal drives them, watched on the bus. */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "fixture.h"
#include "hallbus/accounts.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"

#define OK HALLBUS__STATUS_CODE__OK

/* the window notice of the last reply act() received */
static char last_notice[512];

static hb_fixture_t fx;
static pid_t counters[2];
static char c1_ep[64], c2_ep[64];
static hb_rpc_t *c1, *c2; /* terminals of counter c1 (windows 1-2) and c2 (3-4) */

/* A: 1-minute target, and one "minute" is 1000 ms here: level 1 after
 * 1 s of service, level 2 after 2 s. */
/* The staff accounts of the hall, each with the password "pw-<id>-ok". */
#define STAFF_COUNT 4
static const char *const STAFF[STAFF_COUNT] = {"s1", "s2", "s3", "s4"};
static const char *password_of(const char *staff)
{
    static char pw[4][32];
    static int next;
    char *p = pw[next++ % 4];
    snprintf(p, 32, "pw-%s-ok", staff);
    return p;
}

/* The session each person holds (the test's terminals' memory): staff,
 * window, token. */
static struct {
    char staff[16];
    unsigned window;
    char token[64];
} sessions[8];

static const char *session_of(const char *staff)
{
    for (int i = 0; i < 8; i++)
        if (sessions[i].staff[0] && strcmp(sessions[i].staff, staff) == 0)
            return sessions[i].token;
    return NULL;
}

static bool window_has_session(unsigned window)
{
    for (int i = 0; i < 8; i++)
        if (sessions[i].staff[0] && sessions[i].window == window)
            return true;
    return false;
}

static const char HALL[] = "services:\n"
                           "  - {prefix: A, name: General, target_minutes: 1}\n"
                           "  - {prefix: B, name: Licences, target_minutes: 30}\n"
                           "windows:\n"
                           "  - {number: 1, services: [A, B]}\n"
                           "  - {number: 2, services: [A, B]}\n"
                           "  - {number: 3, services: [A, B]}\n"
                           "  - {number: 4, services: [B]}\n";

static Hallbus__Reply *status_via(hb_rpc_t *rpc)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetStatus gs = HALLBUS__GET_STATUS__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &gs;
    char err[128];
    return hb_rpc_call(rpc, &req, err, sizeof err);
}

/* The key of the counter at EP: c1 is the first instance (hall-counter),
 * c2 the second (hall-counter-c2). */
static const char *counter_key(const char *ep)
{
    return strcmp(ep, c2_ep) == 0 ? "hall-counter-c2" : "hall-counter";
}

/* The counter answers, through hall-queue: it is up and connected. */
static bool counter_ready(void *arg)
{
    const char *ep = arg;
    hb_rpc_t *probe = hb_fixture_rpc(&fx, ep, counter_key(ep), NULL, 200);
    Hallbus__Reply *r = probe ? status_via(probe) : NULL;
    bool ok = r && r->code == OK;
    if (r)
        hallbus__reply__free_unpacked(r, NULL);
    hb_rpc_destroy(&probe);
    return ok;
}

static void start_hall(unsigned request_timeout_ms)
{
    snprintf(c1_ep, sizeof c1_ep, "tcp://127.0.0.1:%d", hb_free_port());
    snprintf(c2_ep, sizeof c2_ep, "tcp://127.0.0.1:%d", hb_free_port());
    char extra[640];
    snprintf(extra, sizeof extra,
             "counter:\n"
             "  overtime_unit_ms: 1000\n"
             "  request_timeout_ms: %u\n"
             "  instances:\n"
             "    - {id: c1, endpoint: \"%s\", windows: [1-2]}\n"
             "    - {id: c2, endpoint: \"%s\", windows: [3, 4]}\n",
             request_timeout_ms, c1_ep, c2_ep);
    hb_fixture_opts_t opts = {.services_windows_yaml = HALL, .extra_yaml = extra};
    cr_assert_eq(hb_fixture_start(&fx, &opts), 0, "the hall did not start");
    memset(sessions, 0, sizeof sessions);
    for (int i = 0; i < STAFF_COUNT; i++)
        cr_assert_eq(hb_fixture_add_staff(&fx, STAFF[i], password_of(STAFF[i])), 0);
    const char *a1[] = {"-c", fx.config, "--id", "c1", NULL};
    const char *a2[] = {"-c", fx.config, "--id", "c2", NULL};
    counters[0] = hb_fixture_spawn(&fx, "hall-counter", a1);
    counters[1] = hb_fixture_spawn(&fx, "hall-counter", a2);
    cr_assert_gt(counters[0], 0);
    cr_assert_gt(counters[1], 0);
    cr_assert(hb_wait_until(counter_ready, c1_ep, 10000), "counter c1 did not answer");
    cr_assert(hb_wait_until(counter_ready, c2_ep, 10000), "counter c2 did not answer");
    c1 = hb_fixture_rpc(&fx, c1_ep, "hall-counter", NULL, 5000);
    c2 = hb_fixture_rpc(&fx, c2_ep, "hall-counter-c2", NULL, 5000);
}

/* A counter asked to stop must exit 0: no crash, no sanitizer report, no leak. */
static int stop_counter(pid_t *pid, const char *name)
{
    if (*pid <= 0)
        return 0;
    int status = hb_fixture_kill(pid, SIGTERM);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    fprintf(stderr, "hall-counter %s did not stop cleanly (status %d); its log:\n", name, status);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "tail -n 60 '%s/hall-counter.log' >&2", fx.dir);
    if (system(cmd) != 0)
        fprintf(stderr, "(no log)\n");
    return -1;
}

static int stop_all(void)
{
    hb_rpc_destroy(&c1);
    hb_rpc_destroy(&c2);
    int rc = stop_counter(&counters[0], "c1");
    rc |= stop_counter(&counters[1], "c2");
    rc |= hb_fixture_stop(&fx);
    return rc;
}

/* criterion ignores assertions in .fini: each test ends with stop() */
static void stop(void)
{
    cr_assert_eq(stop_all(), 0, "the daemons stopped cleanly");
}

static void cleanup(void)
{
    stop_all();
}

TestSuite(counter_e2e, .fini = cleanup, .timeout = 120);

/* ── a terminal's commands ── */

/* Sends SignOn; the reply is the caller's. */
static Hallbus__Reply *sign_on_reply(hb_rpc_t *rpc, const char *staff, const char *password,
                                     unsigned window)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__SignOn so = HALLBUS__SIGN_ON__INIT;
    so.staff = (char *)staff;
    so.password = (char *)password;
    so.window = window;
    req.command_case = HALLBUS__REQUEST__COMMAND_SIGN_ON;
    req.sign_on = &so;
    char err[128];
    Hallbus__Reply *r = hb_rpc_call(rpc, &req, err, sizeof err);
    cr_assert_not_null(r, "sign-on: %s", err);
    return r;
}

/* STAFF signs on at WINDOW with the right password; the session is kept
 * (and replaces any other of theirs, as at the counter). Returns the code,
 * the message in MSG (512 bytes) if not NULL. */
static int sign_on(hb_rpc_t *rpc, const char *staff, unsigned window, char *msg)
{
    Hallbus__Reply *r = sign_on_reply(rpc, staff, password_of(staff), window);
    int code = r->code;
    if (msg)
        snprintf(msg, 512, "%s", r->message ? r->message : "");
    if (code == OK) {
        cr_assert_eq(strlen(r->session), 43, "a session token: %s", r->session);
        int slot = -1;
        for (int i = 0; i < 8; i++)
            if ((sessions[i].staff[0] && strcmp(sessions[i].staff, staff) == 0) ||
                (slot < 0 && !sessions[i].staff[0]))
                slot = i;
        /* the window's previous holder keeps their (now ended) token: the
         * test sends it on to see it refused */
        snprintf(sessions[slot].staff, sizeof sessions[slot].staff, "%s", staff);
        sessions[slot].window = window;
        snprintf(sessions[slot].token, sizeof sessions[slot].token, "%s", r->session);
    }
    hallbus__reply__free_unpacked(r, NULL);
    return code;
}

static Hallbus__Reply *send_window(hb_rpc_t *rpc, const char *verb, unsigned window,
                                   const char *staff, const char *arg)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__OpenWindow o = HALLBUS__OPEN_WINDOW__INIT;
    Hallbus__PauseWindow p = HALLBUS__PAUSE_WINDOW__INIT;
    Hallbus__ResumeWindow r = HALLBUS__RESUME_WINDOW__INIT;
    Hallbus__CloseWindow cl = HALLBUS__CLOSE_WINDOW__INIT;
    Hallbus__CallNext cn = HALLBUS__CALL_NEXT__INIT;
    Hallbus__CallTicket ct = HALLBUS__CALL_TICKET__INIT;
    Hallbus__StartService st = HALLBUS__START_SERVICE__INIT;
    Hallbus__FinishService fi = HALLBUS__FINISH_SERVICE__INIT;
    o.window = p.window = r.window = cl.window = cn.window = ct.window = st.window = fi.window =
        window;
    if (strcmp(verb, "open") == 0) {
        req.command_case = HALLBUS__REQUEST__COMMAND_OPEN_WINDOW;
        req.open_window = &o;
    } else if (strcmp(verb, "pause") == 0) {
        p.reason = (char *)arg;
        req.command_case = HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW;
        req.pause_window = &p;
    } else if (strcmp(verb, "resume") == 0) {
        req.command_case = HALLBUS__REQUEST__COMMAND_RESUME_WINDOW;
        req.resume_window = &r;
    } else if (strcmp(verb, "close") == 0) {
        req.command_case = HALLBUS__REQUEST__COMMAND_CLOSE_WINDOW;
        req.close_window = &cl;
    } else if (strcmp(verb, "call") == 0) {
        req.command_case = HALLBUS__REQUEST__COMMAND_CALL_NEXT;
        req.call_next = &cn;
    } else if (strcmp(verb, "call-ticket") == 0) {
        ct.number = (char *)arg;
        req.command_case = HALLBUS__REQUEST__COMMAND_CALL_TICKET;
        req.call_ticket = &ct;
    } else if (strcmp(verb, "start") == 0) {
        req.command_case = HALLBUS__REQUEST__COMMAND_START_SERVICE;
        req.start_service = &st;
    } else {
        fi.result = HALLBUS__RESULT__COMPLETED;
        req.command_case = HALLBUS__REQUEST__COMMAND_FINISH_SERVICE;
        req.finish_service = &fi;
    }
    /* a person with no session signs on first at a window no one holds,
     * as a terminal would; else the command carries their session, or none */
    if (staff && *staff && !session_of(staff) && !window_has_session(window))
        sign_on(rpc, staff, window, NULL);
    const char *token = staff ? session_of(staff) : NULL;
    req.session = (char *)(token ? token : "");
    req.staff = (char *)staff;
    req.actor = "test-terminal";
    char err[128];
    Hallbus__Reply *reply = hb_rpc_call(rpc, &req, err, sizeof err);
    cr_assert_not_null(reply, "%s %u via the counter: %s", verb, window, err);
    return reply;
}

/* The code of the reply; its message into MSG (if not NULL, 512 bytes). */
static int act(hb_rpc_t *rpc, const char *verb, unsigned window, const char *staff, const char *arg,
               char *msg)
{
    Hallbus__Reply *r = send_window(rpc, verb, window, staff, arg);
    int code = r->code;
    if (msg)
        snprintf(msg, 512, "%s", r->message ? r->message : "");
    snprintf(last_notice, sizeof last_notice, "%s", r->window_notice ? r->window_notice : "");
    hallbus__reply__free_unpacked(r, NULL);
    return code;
}

/* The reply to FRAMES sent as they are; the caller frees it. */
static Hallbus__Reply *raw_call(hb_rpc_t *rpc, const void *const *frames, const size_t *lens, int n)
{
    void *out = NULL;
    size_t outlen = 0;
    cr_assert_eq(hb_rpc_call_raw(rpc, frames, lens, n, &out, &outlen), 0);
    Hallbus__Reply *r = hallbus__reply__unpack(NULL, outlen, out);
    free(out);
    cr_assert_not_null(r, "the reply is a Reply");
    return r;
}

static Hallbus__TicketState ticket_state(const char *number)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetTicket gt = HALLBUS__GET_TICKET__INIT;
    gt.number = (char *)number;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_TICKET;
    req.get_ticket = &gt;
    Hallbus__Reply *r = hb_fixture_call(&fx, &req);
    cr_assert_not_null(r);
    cr_assert_eq(r->code, OK, "%s", r->message);
    Hallbus__TicketState s = r->ticket->state;
    hallbus__reply__free_unpacked(r, NULL);
    return s;
}

/* ── the tests ── */

Test(counter_e2e, two_counters_each_forward_for_their_own_windows_and_refuse_the_others)
{
    start_hall(3000);
    char msg[512], number[16];
    cr_assert_eq(act(c1, "open", 1, "s1", NULL, msg), OK, "%s", msg);
    cr_assert_eq(act(c2, "open", 3, "s3", NULL, msg), OK, "%s", msg);

    cr_assert_eq(act(c1, "open", 3, "s9", NULL, msg), HALLBUS__STATUS_CODE__INVALID_STATE);
    cr_assert(strstr(msg, "window 3 is not served by this counter (c1 serves 1-2)"), "%s", msg);
    cr_assert(strstr(msg, "counter c2"), "names who serves it: %s", msg);
    cr_assert_eq(act(c2, "call", 1, "s1", NULL, msg), HALLBUS__STATUS_CODE__INVALID_STATE);
    cr_assert(strstr(msg, "(c2 serves 3-4)"), "%s", msg);
    cr_assert_eq(act(c1, "call", 9, "s1", NULL, msg), HALLBUS__STATUS_CODE__NOT_FOUND);

    cr_assert_eq(hb_fx_take(&fx, "A", false, number), OK);
    cr_assert_str_eq(number, "A001");
    cr_assert_eq(hb_fx_take(&fx, "A", false, number), OK);
    /* each counter calls for its own window; the replies find their terminals */
    Hallbus__Reply *r = send_window(c1, "call", 1, "s1", NULL);
    cr_assert_eq(r->code, OK, "%s", r->message);
    cr_assert_str_eq(r->ticket->number, "A001");
    cr_assert_eq(r->ticket->window, 1);
    cr_assert_str_eq(r->ticket->staff, "s1");
    hallbus__reply__free_unpacked(r, NULL);
    r = send_window(c2, "call", 3, "s3", NULL);
    cr_assert_eq(r->code, OK, "%s", r->message);
    cr_assert_str_eq(r->ticket->number, "A002");
    cr_assert_eq(r->ticket->window, 3);
    hallbus__reply__free_unpacked(r, NULL);
    cr_assert_eq(ticket_state("A001"), HALLBUS__TICKET_STATE__CALLED);

    /* a read is forwarded; a kiosk's command is not a window's */
    r = status_via(c1);
    cr_assert_not_null(r);
    cr_assert_eq(r->code, OK);
    cr_assert_eq(r->result_case, HALLBUS__REPLY__RESULT_STATUS);
    hallbus__reply__free_unpacked(r, NULL);
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__TakeTicket tt = HALLBUS__TAKE_TICKET__INIT;
    tt.service = "A";
    req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
    req.take_ticket = &tt;
    char err[128];
    r = hb_rpc_call(c1, &req, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__UNKNOWN_COMMAND);
    cr_assert(strstr(r->message, "send take to hall-queue"), "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);
    stop();
}

/* Sends call at WINDOW with TOKEN as it is; the code, the message in MSG. */
static int call_with(hb_rpc_t *rpc, unsigned window, const char *token, const char *staff,
                     char *msg)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__CallNext cn = HALLBUS__CALL_NEXT__INIT;
    cn.window = window;
    req.command_case = HALLBUS__REQUEST__COMMAND_CALL_NEXT;
    req.call_next = &cn;
    req.session = (char *)token;
    req.staff = (char *)staff;
    char err[128];
    Hallbus__Reply *r = hb_rpc_call(rpc, &req, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    int code = r->code;
    snprintf(msg, 512, "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);
    return code;
}

Test(counter_e2e, a_window_command_needs_a_session_for_that_window)
{
    start_hall(3000);
    char msg[512], number[16];
    cr_assert_eq(hb_fx_take(&fx, "A", false, number), OK);
    /* no session: refused, whatever Request.staff claims */
    cr_assert_eq(call_with(c1, 1, "", "s1", msg), HALLBUS__STATUS_CODE__PERMISSION_DENIED);
    cr_assert(strstr(msg, "sign on at window 1 first"), "%s", msg);

    cr_assert_eq(sign_on(c1, "s1", 1, msg), OK, "%s", msg);
    cr_assert_eq(act(c1, "open", 1, "s1", NULL, msg), OK, "%s", msg);
    /* s1's session at window 2: refused */
    cr_assert_eq(call_with(c1, 2, session_of("s1"), "s1", msg),
                 HALLBUS__STATUS_CODE__PERMISSION_DENIED);
    cr_assert(strstr(msg, "this session is for window 1"), "%s", msg);
    /* a made-up token */
    cr_assert_eq(call_with(c1, 1, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "s1", msg),
                 HALLBUS__STATUS_CODE__PERMISSION_DENIED);
    cr_assert_eq(ticket_state("A001"), HALLBUS__TICKET_STATE__WAITING, "nothing changed");

    /* the session's person acts, whoever Request.staff names */
    char token[64];
    snprintf(token, sizeof token, "%s", session_of("s1"));
    cr_assert_eq(call_with(c1, 1, token, "s2", msg), OK, "%s", msg);
    Hallbus__Reply *r = send_window(c1, "start", 1, "s1", NULL);
    cr_assert_eq(r->code, OK, "%s", r->message);
    cr_assert_str_eq(r->ticket->staff, "s1");
    hallbus__reply__free_unpacked(r, NULL);

    /* a substitute signs on at window 1: the window is theirs, s1's session is over */
    cr_assert_eq(sign_on(c1, "s2", 1, msg), OK, "%s", msg);
    cr_assert_eq(call_with(c1, 1, token, "s1", msg), HALLBUS__STATUS_CODE__PERMISSION_DENIED);
    cr_assert(strstr(msg, "s2 signed on at window 1"), "%s", msg);
    cr_assert_eq(act(c1, "finish", 1, "s2", NULL, msg), OK, "the substitute acts: %s", msg);

    /* sign-off ends it */
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__SignOff so = HALLBUS__SIGN_OFF__INIT;
    so.window = 1;
    req.command_case = HALLBUS__REQUEST__COMMAND_SIGN_OFF;
    req.sign_off = &so;
    req.session = (char *)session_of("s2");
    char err[128];
    r = hb_rpc_call(c1, &req, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(r->code, OK, "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);
    cr_assert_eq(call_with(c1, 1, session_of("s2"), "s2", msg),
                 HALLBUS__STATUS_CODE__PERMISSION_DENIED);
    cr_assert(strstr(msg, "signed off"), "%s", msg);
    stop();
}

/* Whether the LEN bytes at DATA hold NEEDLE. */
static bool holds(const uint8_t *data, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(data + i, needle, n) == 0)
            return true;
    return false;
}

Test(counter_e2e, a_wrong_password_is_refused_and_recorded_without_the_password)
{
    start_hall(3000);
    void *sub = hb_fixture_subscribe(&fx, "hall.t1.staff.");
    cr_assert_not_null(sub);
    Hallbus__Reply *r = sign_on_reply(c1, "s1", "pw-s1-WRONG-secret", 1);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__PERMISSION_DENIED);
    cr_assert(strstr(r->message, "wrong password; 4 attempts left"), "%s", r->message);
    cr_assert(!r->session || !*r->session, "no session");
    hallbus__reply__free_unpacked(r, NULL);

    zmq_msg_t topic, body;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &(int){10000}, sizeof(int));
    cr_assert_geq(zmq_msg_recv(&topic, sub, 0), 0, "staff.sign_on_failed on the bus");
    cr_assert_geq(zmq_msg_recv(&body, sub, 0), 0);
    cr_assert(holds(zmq_msg_data(&topic), zmq_msg_size(&topic), "staff.sign_on_failed"));
    const uint8_t *bytes = zmq_msg_data(&body);
    size_t len = zmq_msg_size(&body);
    cr_assert_not(holds(bytes, len, "pw-s1-WRONG-secret"), "the password is on the bus");
    cr_assert_not(holds(bytes, len, "WRONG-secret"));
    Hallbus__Envelope *env = hallbus__envelope__unpack(NULL, len, bytes);
    cr_assert_not_null(env);
    cr_assert_eq(env->event_case, HALLBUS__ENVELOPE__EVENT_STAFF_SIGN_ON_FAILED);
    cr_assert_str_eq(env->staff_sign_on_failed->staff, "s1");
    cr_assert_eq(env->staff_sign_on_failed->outcome,
                 HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_WRONG_PASSWORD);
    hallbus__envelope__free_unpacked(env, NULL);
    zmq_msg_close(&topic);
    zmq_msg_close(&body);

    /* the right one: staff.signed_on */
    char msg[512];
    cr_assert_eq(sign_on(c1, "s1", 1, msg), OK, "%s", msg);
    env = hb_fixture_next_event(sub, 10000, false);
    cr_assert_not_null(env);
    cr_assert_eq(env->event_case, HALLBUS__ENVELOPE__EVENT_STAFF_SIGNED_ON);
    hallbus__envelope__free_unpacked(env, NULL);
    zmq_close(sub);
    stop();
}

typedef struct {
    char msg[512];
    int code;
} attempt_t;

/* Tries a wrong password until the answer is no longer "wait". */
static bool not_waiting(void *arg)
{
    attempt_t *a = arg;
    Hallbus__Reply *r = sign_on_reply(c2, "s3", "not-the-password", 3);
    a->code = r->code;
    snprintf(a->msg, sizeof a->msg, "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);
    return !strstr(a->msg, "before the next attempt") || strstr(a->msg, "wrong password;");
}

Test(counter_e2e, repeated_wrong_passwords_slow_down_then_lock)
{
    start_hall(3000);
    attempt_t a;
    for (int i = 0; i < 3; i++)
        cr_assert(not_waiting(&a));
    cr_assert(strstr(a.msg, "wrong password; 2 attempts left"), "%s", a.msg);
    cr_assert(strstr(a.msg, "wait 1 s before the next attempt"), "%s", a.msg);
    /* at once: too soon, and the password is not even checked */
    cr_assert_not(not_waiting(&a));
    cr_assert(strstr(a.msg, "3 wrong passwords: wait"), "%s", a.msg);
    cr_assert(hb_wait_until(not_waiting, &a, 5000), "%s", a.msg);
    cr_assert(strstr(a.msg, "wrong password; 1 attempt left"), "%s", a.msg);
    cr_assert(hb_wait_until(not_waiting, &a, 8000), "%s", a.msg);
    cr_assert(strstr(a.msg, "account locked until"), "%s", a.msg);
    /* locked: even the right password is refused */
    char msg[512];
    cr_assert_eq(sign_on(c2, "s3", 3, msg), HALLBUS__STATUS_CODE__PERMISSION_DENIED);
    cr_assert(strstr(msg, "locked until"), "%s", msg);
    stop();
}

Test(counter_e2e, a_disabled_account_cannot_sign_on_and_its_session_ends)
{
    start_hall(3000);
    char msg[512], path[400], err[HB_ACCOUNTS_ERR_MAX];
    cr_assert_eq(sign_on(c1, "s1", 1, msg), OK, "%s", msg);
    snprintf(path, sizeof path, "%s/keys/staff.json", fx.dir);
    hb_accounts_t *acc = hb_accounts_new(path);
    cr_assert_eq(hb_accounts_load(acc, err, sizeof err), 0, "%s", err);
    cr_assert_eq(hb_accounts_set_disabled(acc, "s1", true, hb_now_us(), err, sizeof err), 0);
    cr_assert_eq(hb_accounts_save(acc, err, sizeof err), 0, "%s", err);
    hb_accounts_destroy(&acc);
    cr_assert_eq(sign_on(c1, "s1", 2, msg), HALLBUS__STATUS_CODE__PERMISSION_DENIED);
    cr_assert(strstr(msg, "disabled"), "%s", msg);
    cr_assert_eq(call_with(c1, 1, session_of("s1"), "s1", msg),
                 HALLBUS__STATUS_CODE__PERMISSION_DENIED);
    cr_assert(strstr(msg, "disabled"), "%s", msg);
    stop();
}

/* What hall-queue itself checks when Request.staff is set, whoever sends it. */
Test(counter_e2e, hall_queue_refuses_a_staff_id_not_signed_on_at_the_window)
{
    start_hall(3000);
    char number[16];
    cr_assert_eq(hb_fx_take(&fx, "A", false, number), OK);
    cr_assert_eq(hb_fx_window(&fx, "open", 2, "s1"), OK);
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__CallNext cn = HALLBUS__CALL_NEXT__INIT;
    cn.window = 2;
    req.command_case = HALLBUS__REQUEST__COMMAND_CALL_NEXT;
    req.call_next = &cn;
    req.staff = "s2";
    Hallbus__Reply *r = hb_fixture_call(&fx, &req);
    cr_assert_not_null(r);
    cr_assert_neq(r->code, OK, "hall-queue let s2 act at s1's window");
    hallbus__reply__free_unpacked(r, NULL);
    cr_assert_eq(ticket_state("A001"), HALLBUS__TICKET_STATE__WAITING);
    /* and a person signed on at one window cannot sign on at another */
    cr_assert_neq(hb_fx_window(&fx, "open", 3, "s1"), OK);
    stop();
}

static Hallbus__Envelope *next_of(void *sub, Hallbus__Envelope__EventCase kind)
{
    for (;;) {
        Hallbus__Envelope *env = hb_fixture_next_event(sub, 10000, false);
        cr_assert_not_null(env, "no %d event within 10 s", (int)kind);
        if (env->event_case == kind)
            return env;
        hallbus__envelope__free_unpacked(env, NULL);
    }
}

Test(counter_e2e, sign_on_pause_resume_and_sign_off_are_events_on_the_bus)
{
    start_hall(3000);
    void *sub = hb_fixture_subscribe(&fx, "hall.t1.window.");
    cr_assert_not_null(sub);
    char msg[512];
    cr_assert_eq(act(c2, "open", 4, "s4", NULL, msg), OK, "%s", msg);
    cr_assert_eq(act(c2, "pause", 4, "s4", "lunch", msg), OK, "%s", msg);
    cr_assert_neq(act(c2, "resume", 4, "s3", NULL, msg), OK, "only the one signed on");
    cr_assert_eq(act(c2, "resume", 4, "s4", NULL, msg), OK, "%s", msg);
    cr_assert_eq(act(c2, "close", 4, "s4", NULL, msg), OK, "%s", msg);

    Hallbus__Envelope *e = next_of(sub, HALLBUS__ENVELOPE__EVENT_WINDOW_OPENED);
    cr_assert_eq(e->window_opened->window->number, 4);
    cr_assert_str_eq(e->window_opened->window->staff, "s4");
    uint64_t seq = e->seq;
    hallbus__envelope__free_unpacked(e, NULL);
    e = next_of(sub, HALLBUS__ENVELOPE__EVENT_WINDOW_PAUSED);
    cr_assert_eq(e->seq, seq + 1, "nothing between: the refused resume changed nothing");
    cr_assert_str_eq(e->window_paused->reason, "lunch");
    hallbus__envelope__free_unpacked(e, NULL);
    e = next_of(sub, HALLBUS__ENVELOPE__EVENT_WINDOW_RESUMED);
    cr_assert_eq(e->seq, seq + 2);
    hallbus__envelope__free_unpacked(e, NULL);
    e = next_of(sub, HALLBUS__ENVELOPE__EVENT_WINDOW_CLOSED);
    cr_assert_eq(e->window_closed->window->number, 4);
    hallbus__envelope__free_unpacked(e, NULL);
    stop();
}

Test(counter_e2e, a_service_past_its_target_is_warned_at_once_and_at_twice_the_target)
{
    start_hall(3000);
    void *sub = hb_fixture_subscribe(&fx, "hall.t1.ticket.");
    cr_assert_not_null(sub);
    char msg[512], number[16];
    cr_assert_eq(hb_fx_take(&fx, "A", false, number), OK);
    cr_assert_eq(act(c1, "open", 2, "s2", NULL, msg), OK, "%s", msg);
    cr_assert_eq(act(c1, "call", 2, "s2", NULL, msg), OK, "%s", msg);
    int64_t started = hb_mono_us();
    cr_assert_eq(act(c1, "start", 2, "s2", NULL, msg), OK, "%s", msg);

    Hallbus__Envelope *e = next_of(sub, HALLBUS__ENVELOPE__EVENT_SERVICE_OVERTIME);
    int64_t first = hb_mono_us() - started;
    const Hallbus__ServiceOvertime *o = e->service_overtime;
    cr_assert_eq(o->level, 1);
    cr_assert_eq(o->window, 2);
    cr_assert_str_eq(o->ticket->number, "A001");
    cr_assert_geq(o->elapsed_seconds, 1);
    cr_assert_geq(first, 900000, "not before the 1-\"minute\" (1 s) target: %lld us",
                  (long long)first);
    hallbus__envelope__free_unpacked(e, NULL);

    e = next_of(sub, HALLBUS__ENVELOPE__EVENT_SERVICE_OVERTIME);
    cr_assert_eq(e->service_overtime->level, 2);
    cr_assert_geq(e->service_overtime->elapsed_seconds, 2);
    cr_assert_geq(hb_mono_us() - started, 1900000);
    hallbus__envelope__free_unpacked(e, NULL);

    /* the window's terminal hears of it with its next answer */
    cr_assert_eq(act(c1, "finish", 2, "s2", NULL, msg), OK, "%s", msg);
    cr_assert(strstr(last_notice, "overtime (level 2)"), "the finish reply's notice is \"%s\"",
              last_notice);
    cr_assert_str_eq(msg, "ok", "the notice has its own field, not the message");

    /* a service finished is no longer timed: the next event is the next call */
    cr_assert_eq(hb_fx_take(&fx, "A", false, number), OK);
    cr_assert_eq(act(c1, "call", 2, "s2", NULL, msg), OK, "%s", msg);
    e = hb_fixture_next_event(sub, 5000, false);
    while (e && e->event_case != HALLBUS__ENVELOPE__EVENT_TICKET_CALLED) {
        cr_assert_neq(e->event_case, HALLBUS__ENVELOPE__EVENT_SERVICE_OVERTIME,
                      "a third warning for a finished service");
        hallbus__envelope__free_unpacked(e, NULL);
        e = hb_fixture_next_event(sub, 5000, false);
    }
    cr_assert_not_null(e);
    hallbus__envelope__free_unpacked(e, NULL);
    stop();
}

Test(counter_e2e, a_command_hall_queue_does_not_answer_in_time_is_answered_internal)
{
    start_hall(600);
    char msg[512];
    cr_assert_eq(sign_on(c1, "s1", 1, msg), OK, "%s", msg);
    cr_assert_eq(kill(fx.queue, SIGSTOP), 0);
    int64_t t0 = hb_mono_us();
    int code = act(c1, "open", 1, "s1", NULL, msg);
    int64_t waited = hb_mono_us() - t0;
    kill(fx.queue, SIGCONT);
    cr_assert_eq(code, HALLBUS__STATUS_CODE__INTERNAL, "%s", msg);
    cr_assert(strstr(msg, "hall-queue did not answer within 600 ms"), "%s", msg);
    cr_assert_geq(waited, 550000);
    cr_assert_lt(waited, 4000000);
    /* the late answer is dropped; the next command gets its own */
    Hallbus__Reply *r = status_via(c1);
    cr_assert_not_null(r);
    cr_assert_eq(r->code, OK);
    cr_assert_eq(r->result_case, HALLBUS__REPLY__RESULT_STATUS);
    hallbus__reply__free_unpacked(r, NULL);

    /* with hall-queue gone, a terminal is told at once (once the counter has noticed) */
    int status = hb_fixture_kill(&fx.queue, SIGTERM);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hall-queue stopped cleanly");
    bool told = false;
    for (int i = 0; i < 50 && !told; i++) {
        cr_assert_eq(act(c1, "call", 1, "s1", NULL, msg), HALLBUS__STATUS_CODE__INTERNAL, "%s",
                     msg);
        told = strstr(msg, "hall-queue is not reachable") != NULL;
    }
    cr_assert(told, "last: %s", msg);
    stop();
}

Test(counter_e2e, bad_frames_and_bytes_get_clear_errors_and_the_counter_goes_on)
{
    start_hall(3000);
    const void *frames[3] = {"", "\xff\xff\xff garbage", "extra"};
    size_t lens[3] = {0, 12, 5};
    Hallbus__Reply *r = raw_call(c1, frames, lens, 2);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__MALFORMED);
    cr_assert(strstr(r->message, "not a protobuf Request"), "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);

    r = raw_call(c1, frames, lens, 3);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__MALFORMED);
    cr_assert(strstr(r->message, "empty delimiter frame then one Request frame"), "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);

    Hallbus__Request empty = HALLBUS__REQUEST__INIT;
    char err[128];
    r = hb_rpc_call(c1, &empty, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__UNKNOWN_COMMAND);
    hallbus__reply__free_unpacked(r, NULL);

    char msg[512];
    cr_assert_eq(act(c1, "open", 1, "s1", NULL, msg), OK, "still serving: %s", msg);
    stop();
}

/* A string a standard reader would refuse is answered INVALID_ARGUMENT by the
 * counter itself, naming the field, under the request's own id (the
 * server's on_invalid), and never reaches hall-queue. */
Test(counter_e2e, a_pause_reason_that_is_not_utf8_is_refused_by_the_counter_naming_the_field)
{
    start_hall(3000);
    char msg[512];
    cr_assert_eq(act(c1, "open", 1, "s1", NULL, msg), OK, "%s", msg);
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__PauseWindow p = HALLBUS__PAUSE_WINDOW__INIT;
    p.window = 1;
    p.reason = "lunch\xff\xfe";
    req.request_id = 41;
    req.staff = "s1";
    req.command_case = HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW;
    req.pause_window = &p;
    size_t len = hallbus__request__get_packed_size(&req);
    uint8_t buf[256];
    cr_assert_leq(len, sizeof buf);
    hallbus__request__pack(&req, buf);
    const void *frames[2] = {"", buf};
    size_t lens[2] = {0, len};
    Hallbus__Reply *r = raw_call(c1, frames, lens, 2);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "%s", r->message);
    cr_assert(strstr(r->message, "pause_window.reason: not valid UTF-8"), "%s", r->message);
    cr_assert_eq(r->request_id, 41, "the refusal answers the request it refuses");
    hallbus__reply__free_unpacked(r, NULL);
    /* not forwarded: the window is still open, so a pause now succeeds */
    cr_assert_eq(act(c1, "pause", 1, "s1", "lunch", msg), OK, "%s", msg);
    stop();
}

Test(counter_e2e, a_counter_started_during_a_service_learns_it_from_a_snapshot_and_warns)
{
    start_hall(3000);
    cr_assert_eq(stop_counter(&counters[0], "c1"), 0);
    void *sub = hb_fixture_subscribe(&fx, "hall.t1.ticket.");
    cr_assert_not_null(sub);
    char number[16];
    cr_assert_eq(hb_fx_take(&fx, "A", false, number), OK);
    /* straight to hall-queue, while no counter times window 1 */
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "s1"), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 1, number), OK);
    cr_assert_eq(hb_fx_act(&fx, "start", 1, number), OK);
    const char *a1[] = {"-c", fx.config, "--id", "c1", NULL};
    counters[0] = hb_fixture_spawn(&fx, "hall-counter", a1);
    cr_assert_gt(counters[0], 0);

    Hallbus__Envelope *e = next_of(sub, HALLBUS__ENVELOPE__EVENT_SERVICE_OVERTIME);
    cr_assert_eq(e->service_overtime->window, 1);
    cr_assert_str_eq(e->service_overtime->ticket->number, "A001");
    cr_assert_str_eq(e->service_overtime->staff, "s1");
    hallbus__envelope__free_unpacked(e, NULL);
    stop();
}

static int run_counter(const char *const *args)
{
    pid_t pid = hb_fixture_spawn(&fx, "hall-counter", args);
    cr_assert_gt(pid, 0);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Test(counter_e2e, a_counter_that_is_not_clearly_one_of_the_halls_refuses_to_start)
{
    start_hall(3000);
    const char *no_id[] = {"-c", fx.config, NULL};
    cr_assert_eq(run_counter(no_id), 2, "two counters listed: --id is needed");
    const char *unknown[] = {"-c", fx.config, "--id", "c9", NULL};
    cr_assert_eq(run_counter(unknown), 2);
    const char *taken[] = {"-c", fx.config, "--id", "c1", "--windows", "1-3", NULL};
    cr_assert_eq(run_counter(taken), 2, "window 3 belongs to c2");
    const char *missing[] = {"-c", fx.config, "--id", "c1", "--windows", "1,8", NULL};
    cr_assert_eq(run_counter(missing), 2, "the hall has no window 8");

    /* --windows and --endpoint narrow a counter down */
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", hb_free_port());
    const char *narrow[] = {"-c", fx.config,    "--id", "c1", "--windows",
                            "1",  "--endpoint", ep,     NULL};
    pid_t pid = hb_fixture_spawn(&fx, "hall-counter", narrow);
    cr_assert_gt(pid, 0);
    cr_assert(hb_wait_until(counter_ready, ep, 10000), "the narrowed counter did not answer");
    hb_rpc_t *term = hb_fixture_rpc(&fx, ep, "hall-counter", NULL, 5000);
    char msg[512];
    cr_assert_eq(act(term, "open", 2, "s2", NULL, msg), HALLBUS__STATUS_CODE__INVALID_STATE);
    cr_assert(strstr(msg, "(c1 serves 1)"), "%s", msg);
    cr_assert_eq(act(term, "open", 1, "s1", NULL, msg), OK, "%s", msg);
    hb_rpc_destroy(&term);
    cr_assert_eq(stop_counter(&pid, "narrowed c1"), 0);
    stop();
}

static int hallctl(char *out, const char *const *args)
{
    return hb_fixture_hallctl(&fx, out, 4096, args);
}

/* hallctl with TEXT on its standard input (the test's own, for the while). */
static int hallctl_stdin(char *out, const char *const *args, const char *text)
{
    char path[400];
    snprintf(path, sizeof path, "%s/stdin.txt", fx.dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    int saved = dup(STDIN_FILENO);
    int fd = open(path, O_RDONLY);
    cr_assert(saved >= 0 && fd >= 0);
    dup2(fd, STDIN_FILENO);
    close(fd);
    int rc = hallctl(out, args);
    dup2(saved, STDIN_FILENO);
    close(saved);
    return rc;
}

Test(counter_e2e, hallctl_sends_a_windows_commands_to_the_counter_serving_it)
{
    start_hall(3000);
    char out[4096], number[16], dir[400];
    snprintf(dir, sizeof dir, "%s/sessions", fx.dir);
    setenv("HALLBUS_SESSIONS", dir, 1);
    cr_assert_eq(hb_fx_take(&fx, "A", false, number), OK);
    const char *no_session[] = {"call", "3", "--staff", "s3", NULL};
    cr_assert_eq(hallctl(out, no_session), 2, "a counter needs a sign-on first");
    const char *signon3[] = {"signon", "3", "--staff", "s3", "--password-stdin", NULL};
    cr_assert_eq(hallctl_stdin(out, signon3, "pw-s3-bad\n"), 1, "a wrong password: %s", out);
    cr_assert_eq(hallctl_stdin(out, signon3, "pw-s3-ok\n"), 0, "%s", out);
    char path[500];
    struct stat st;
    snprintf(path, sizeof path, "%s/t1-w3.session", dir);
    cr_assert_eq(stat(path, &st), 0, "the session is kept in %s", path);
    cr_assert_eq(st.st_mode & 0777, 0600);
    const char *open3[] = {"window", "open", "3", "--staff", "s3", NULL};
    cr_assert_eq(hallctl(out, open3), 0, "%s", out);
    /* whoever --staff names, the counter acts as the one signed on */
    const char *call3[] = {"call", "3", "--staff", "s1", NULL};
    cr_assert_eq(hallctl(out, call3), 0, "%s", out);
    cr_assert(strstr(out, "A001"), "%s", out);
    cr_assert_eq(ticket_state("A001"), HALLBUS__TICKET_STATE__CALLED);

    /* with counter c1 gone, window 1's commands have nowhere to go; window 3's still work */
    const char *signon1[] = {"signon", "1", "--staff", "s1", "--password-stdin", NULL};
    cr_assert_eq(hallctl_stdin(out, signon1, "pw-s1-ok\n"), 0, "%s", out);
    cr_assert_eq(stop_counter(&counters[0], "c1"), 0);
    const char *open1[] = {"--timeout", "500", "window", "open", "1", "--staff", "s1", NULL};
    cr_assert_eq(hallctl(out, open1), 3, "went to counter c1, which is stopped");
    void *sub = hb_fixture_subscribe(&fx, "hall.t1.ticket.overtime");
    cr_assert_not_null(sub);
    const char *start3[] = {"--staff", "s3", "start", "3", NULL};
    cr_assert_eq(hallctl(out, start3), 0, "%s", out);

    /* the warning is printed with the window's next answer */
    Hallbus__Envelope *e = next_of(sub, HALLBUS__ENVELOPE__EVENT_SERVICE_OVERTIME);
    hallbus__envelope__free_unpacked(e, NULL);
    const char *finish3[] = {"--staff", "s3", "finish", "3", "--result", "completed", NULL};
    cr_assert_eq(hallctl(out, finish3), 0, "%s", out);
    cr_assert(strstr(out, "overtime (level"), "hallctl printed: %s", out);
    stop();
}
