/* CURVE and roles, from the outside: a client, a subscriber and a
 * publisher with no key, or with a key of the wrong role, get nothing and
 * change nothing; a key revoked with hallctl stops working without a
 * restart. Each test also shows the allowed case working, so that it
 * cannot pass by everything being broken. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <zmq.h>

#include "audit_ask.h"
#include "fixture.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "sse_client.h"

#define OK HALLBUS__STATUS_CODE__OK
#define DENIED HALLBUS__STATUS_CODE__PERMISSION_DENIED

static hb_fixture_t fx;

/* hall-counter, hall-audit and hall-display when a test starts them */
static pid_t counter, audit, display;
static char counter_ep[64], audit_ep[64], board[64];

static Hallbus__Reply *status_with(hb_rpc_t *rpc);

/* A fresh connection with the kiosk key is answered. */
static bool kiosk_answered(void *arg)
{
    hb_rpc_t *rpc = hb_fixture_rpc(&fx, fx.cmd_ep, "hall-queue", "kiosk-1", 250);
    Hallbus__Reply *r = rpc ? status_with(rpc) : NULL;
    hb_rpc_destroy(&rpc);
    if (r)
        hallbus__reply__free_unpacked(r, NULL);
    return r != NULL;
}

/* The hall, then a kiosk key added while it runs (hallctl keys new): the
 * daemons take it up without a restart. */
static void start(void)
{
    cr_assert_eq(hb_fixture_start(&fx, NULL), 0, "the hall did not start");
    cr_assert_eq(hb_fixture_key_new(&fx, "kiosk-1", "kiosk"), 0);
    cr_assert(hb_wait_until(kiosk_answered, NULL, 5000), "a key added is let in, no restart");
}

/* Each daemon a test started must exit 0 on SIGTERM (no crash, no leak). */
static void stop_daemon(pid_t *pid, const char *name)
{
    if (*pid <= 0)
        return;
    int status = hb_fixture_kill(pid, SIGTERM);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exited with status %d", name,
              status);
}

static void cleanup(void)
{
    stop_daemon(&counter, "hall-counter");
    stop_daemon(&audit, "hall-audit");
    stop_daemon(&display, "hall-display");
    hb_fixture_stop(&fx);
}

static bool counter_answers(void *arg)
{
    hb_rpc_t *rpc = hb_fixture_rpc(&fx, counter_ep, "hall-counter", NULL, 250);
    Hallbus__Reply *r = rpc ? status_with(rpc) : NULL;
    bool ok = r && r->code == OK;
    if (r)
        hallbus__reply__free_unpacked(r, NULL);
    hb_rpc_destroy(&rpc);
    return ok;
}

static bool audit_answers(void *arg)
{
    audit_stats_t s;
    return audit_stats(&fx, audit_ep, &s);
}

static json_t *board_state(void)
{
    char url[128];
    snprintf(url, sizeof url, "%s/api/state", board);
    return http_get_json(url);
}

static bool board_answers(void *arg)
{
    json_t *s = board_state();
    bool ok = s && json_is_true(json_object_get(s, "synced"));
    json_decref(s);
    return ok;
}

/* The hall with a hall-counter (c1: windows 1-2), a hall-audit and a
 * hall-display beside it, each answering. */
static void start_with_daemons(void)
{
    snprintf(counter_ep, sizeof counter_ep, "tcp://127.0.0.1:%d", hb_free_port());
    snprintf(audit_ep, sizeof audit_ep, "tcp://127.0.0.1:%d", hb_free_port());
    int http = hb_free_port();
    snprintf(board, sizeof board, "http://127.0.0.1:%d", http);
    static char extra[768];
    snprintf(extra, sizeof extra,
             "counter:\n  instances:\n    - {id: c1, endpoint: \"%s\", windows: [1-2]}\n"
             "audit:\n  query: \"%s\"\n  publish: \"tcp://127.0.0.1:%d\"\n"
             "  heartbeat_ms: 100\n"
             "display:\n  http: \"127.0.0.1:%d\"\n",
             counter_ep, audit_ep, hb_free_port(), http);
    hb_fixture_opts_t opts = {.extra_yaml = extra};
    cr_assert_eq(hb_fixture_start(&fx, &opts), 0, "the hall did not start");
    cr_assert_eq(hb_fixture_key_new(&fx, "kiosk-1", "kiosk"), 0);
    char db[400];
    snprintf(db, sizeof db, "%s/audit.db", fx.dir);
    const char *ca[] = {"-c", fx.config, "--id", "c1", NULL};
    const char *aa[] = {"-c", fx.config, "--db", db, NULL};
    const char *da[] = {"-c", fx.config, NULL};
    counter = hb_fixture_spawn(&fx, "hall-counter", ca);
    audit = hb_fixture_spawn(&fx, "hall-audit", aa);
    display = hb_fixture_spawn(&fx, "hall-display", da);
    cr_assert(counter > 0 && audit > 0 && display > 0);
    cr_assert(hb_wait_until(counter_answers, NULL, 10000), "hall-counter answers a keyed client");
    cr_assert(hb_wait_until(audit_answers, NULL, 10000), "hall-audit answers a keyed client");
    cr_assert(hb_wait_until(board_answers, NULL, 10000), "hall-display is live");
}

static Hallbus__Reply *status_with(hb_rpc_t *rpc)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetStatus gs = HALLBUS__GET_STATUS__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &gs;
    char err[160];
    return hb_rpc_call(rpc, &req, err, sizeof err);
}

/* The code of REQ's reply through RPC, -1 for none; MSG gets its text. */
static int code_of(hb_rpc_t *rpc, Hallbus__Request *req, char *msg, size_t len)
{
    char err[160];
    Hallbus__Reply *r = hb_rpc_call(rpc, req, err, sizeof err);
    if (!r)
        return -1;
    int code = r->code;
    snprintf(msg, len, "%s", r->message ? r->message : "");
    hallbus__reply__free_unpacked(r, NULL);
    return code;
}

Test(security_e2e, a_keyless_client_gets_no_reply_at_all, .fini = cleanup, .timeout = 60)
{
    start();
    hb_rpc_t *plain = hb_rpc_new(fx.ctx, fx.cmd_ep, 1000);
    cr_assert_not_null(plain);
    Hallbus__Reply *r = status_with(plain);
    cr_assert_null(r, "hall-queue answered a client with no key");
    hb_rpc_destroy(&plain);
    /* with a key it does */
    hb_rpc_t *keyed = hb_fixture_rpc(&fx, fx.cmd_ep, "hall-queue", "kiosk-1", 3000);
    r = status_with(keyed);
    cr_assert_not_null(r);
    cr_assert_eq(r->code, OK);
    hallbus__reply__free_unpacked(r, NULL);
    hb_rpc_destroy(&keyed);
}

Test(security_e2e, a_keyless_client_gets_no_reply_from_the_counter_nor_the_audit, .fini = cleanup,
     .timeout = 90)
{
    start_with_daemons(); /* each answered a keyed client: the test can fail */
    hb_rpc_t *plain = hb_rpc_new(fx.ctx, counter_ep, 1000);
    cr_assert_not_null(plain);
    Hallbus__Reply *r = status_with(plain);
    cr_assert_null(r, "hall-counter's terminals endpoint answered a client with no key");
    hb_rpc_destroy(&plain);

    plain = hb_rpc_new(fx.ctx, audit_ep, 1000);
    cr_assert_not_null(plain);
    Hallbus__AuditRequest req = HALLBUS__AUDIT_REQUEST__INIT;
    Hallbus__AuditStatsQuery q = HALLBUS__AUDIT_STATS_QUERY__INIT;
    req.query_case = HALLBUS__AUDIT_REQUEST__QUERY_STATS;
    req.stats = &q;
    char err[160];
    ProtobufCMessage *ar =
        hb_rpc_call_msg(plain, &req.base, &hallbus__audit_reply__descriptor, err, sizeof err);
    cr_assert_null(ar, "hall-audit's query endpoint answered a client with no key");
    hb_rpc_destroy(&plain);
}

Test(security_e2e, a_kiosk_key_cannot_call_pause_nor_answer_complaints, .fini = cleanup,
     .timeout = 60)
{
    start();
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "s1"), OK); /* the operator's key */
    hb_rpc_t *kiosk = hb_fixture_rpc(&fx, fx.cmd_ep, "hall-queue", "kiosk-1", 3000);
    char msg[256];

    Hallbus__Request take = HALLBUS__REQUEST__INIT;
    Hallbus__TakeTicket tt = HALLBUS__TAKE_TICKET__INIT;
    tt.service = "A";
    take.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
    take.take_ticket = &tt;
    cr_assert_eq(code_of(kiosk, &take, msg, sizeof msg), OK, "a kiosk takes tickets: %s", msg);

    Hallbus__Request call = HALLBUS__REQUEST__INIT;
    Hallbus__CallNext cn = HALLBUS__CALL_NEXT__INIT;
    cn.window = 1;
    call.command_case = HALLBUS__REQUEST__COMMAND_CALL_NEXT;
    call.call_next = &cn;
    call.staff = "s1"; /* a field the client filled in: not believed */
    cr_assert_eq(code_of(kiosk, &call, msg, sizeof msg), DENIED, "%s", msg);
    cr_assert(strstr(msg, "counter"), "the message names the roles needed: %s", msg);
    cr_assert(strstr(msg, "kiosk"), "and the key's own: %s", msg);

    Hallbus__Request pause = HALLBUS__REQUEST__INIT;
    Hallbus__PauseWindow pw = HALLBUS__PAUSE_WINDOW__INIT;
    pw.window = 1;
    pw.reason = "lunch";
    pause.command_case = HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW;
    pause.pause_window = &pw;
    cr_assert_eq(code_of(kiosk, &pause, msg, sizeof msg), DENIED, "%s", msg);

    Hallbus__Request upd = HALLBUS__REQUEST__INIT;
    Hallbus__UpdateComplaint uc = HALLBUS__UPDATE_COMPLAINT__INIT;
    uc.id = 1;
    upd.command_case = HALLBUS__REQUEST__COMMAND_UPDATE_COMPLAINT;
    upd.update_complaint = &uc;
    cr_assert_eq(code_of(kiosk, &upd, msg, sizeof msg), DENIED, "%s", msg);
    hb_rpc_destroy(&kiosk);

    /* nothing changed: window 1 is open, nobody called */
    cr_assert_eq(hb_fx_act(&fx, "call", 1, NULL), OK, "the operator still calls");
}

/* Any message at all on SUB within MS? (topic in TOPIC) */
static bool receive_any(void *sub, int ms, char *topic, size_t len)
{
    int64_t deadline = hb_mono_us() + (int64_t)ms * 1000;
    for (;;) {
        long left = (long)((deadline - hb_mono_us()) / 1000);
        if (left <= 0)
            return false;
        zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, left) <= 0)
            continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, sub, 0);
        snprintf(topic, len, "%.*s", (int)zmq_msg_size(&m), (char *)zmq_msg_data(&m));
        bool more = zmq_msg_more(&m);
        zmq_msg_close(&m);
        while (more) {
            zmq_msg_init(&m);
            zmq_msg_recv(&m, sub, 0);
            more = zmq_msg_more(&m);
            zmq_msg_close(&m);
        }
        return true;
    }
}

static void *subscriber(const char *key, const char *prefix)
{
    void *sub = zmq_socket(fx.ctx, ZMQ_SUB);
    int linger = 0;
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
    if (key)
        cr_assert_eq(hb_fixture_secure(&fx, sub, "hall-bus", key), 0);
    cr_assert_eq(zmq_connect(sub, fx.sub_ep), 0);
    return sub;
}

Test(security_e2e, a_keyless_subscriber_receives_nothing, .fini = cleanup, .timeout = 60)
{
    start();
    void *keyless = subscriber(NULL, "");
    void *keyed = subscriber("kiosk-1", "");
    char topic[128];
    cr_assert(receive_any(keyed, 5000, topic, sizeof topic), "a keyed subscriber hears the hall");
    cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK);
    cr_assert_not(receive_any(keyless, 1500, topic, sizeof topic), "heard %s with no key", topic);
    zmq_close(keyless);
    zmq_close(keyed);
}

/* A PUB on the bus's publisher side with KEY (NULL: none) sending a forged
 * ticket.called for MS; whether LISTENER heard it. */
static bool forgery_heard(const char *key, void *listener, int ms)
{
    void *pub = zmq_socket(fx.ctx, ZMQ_PUB);
    int linger = 0;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    if (key)
        cr_assert_eq(hb_fixture_secure(&fx, pub, "hall-bus", key), 0);
    cr_assert_eq(zmq_connect(pub, fx.pub_ep), 0);
    const char topic[] = "hall.t1.ticket.called";
    bool heard = false;
    int64_t deadline = hb_mono_us() + (int64_t)ms * 1000;
    char got[128];
    while (!heard && hb_mono_us() < deadline) {
        zmq_send(pub, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send(pub, "forged", 6, ZMQ_DONTWAIT);
        heard = receive_any(listener, 50, got, sizeof got) && strcmp(got, topic) == 0;
    }
    zmq_close(pub);
    return heard;
}

Test(security_e2e, a_forged_publisher_reaches_no_subscriber, .fini = cleanup, .timeout = 60)
{
    start();
    void *sub = hb_fixture_subscribe(&fx, "hall.t1.ticket.");
    cr_assert_not_null(sub);
    cr_assert_not(forgery_heard(NULL, sub, 1500), "a publisher with no key reached the bus");
    cr_assert_not(forgery_heard("kiosk-1", sub, 1500), "a kiosk key published on the bus");
    /* the same forgery with hall-queue's key does arrive: the test can fail */
    cr_assert(forgery_heard("hall-queue", sub, 5000), "hall-queue's key publishes");
    zmq_close(sub);
}

Test(security_e2e, a_revoked_key_is_refused_without_a_restart, .fini = cleanup, .timeout = 60)
{
    start();
    hb_rpc_t *kiosk = hb_fixture_rpc(&fx, fx.cmd_ep, "hall-queue", "kiosk-1", 1000);
    Hallbus__Reply *r = status_with(kiosk);
    cr_assert_not_null(r, "the kiosk key works before");
    hallbus__reply__free_unpacked(r, NULL);
    char out[1024];
    const char *revoke[] = {"keys", "revoke", "kiosk-1", NULL};
    cr_assert_eq(hb_fixture_hallctl(&fx, out, sizeof out, revoke), 0, "%s", out);
    /* the connection already open: refused as soon as the daemon has seen
     * the allow-list change (it looks at most every 200 ms) */
    int64_t deadline = hb_mono_us() + 5000000;
    while ((r = status_with(kiosk)) != NULL && hb_mono_us() < deadline) {
        hallbus__reply__free_unpacked(r, NULL);
        r = NULL;
    }
    cr_assert_null(r, "a revoked key was still answered on its open connection after 5 s");
    hb_rpc_destroy(&kiosk);
    /* and a new connection with it gets nothing either */
    kiosk = hb_fixture_rpc(&fx, fx.cmd_ep, "hall-queue", "kiosk-1", 1000);
    r = status_with(kiosk);
    cr_assert_null(r, "a revoked key was let in again");
    hb_rpc_destroy(&kiosk);
    cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK, "the operator's key still works");
}

/* A well-formed ticket.called of hall t1 at SEQ: NUMBER called to WINDOW,
 * as hall-queue would publish it. Packed into OUT; its length. */
static size_t forged_call(uint64_t seq, const char *number, uint32_t window, uint8_t *out,
                          size_t cap)
{
    Hallbus__Ticket t = HALLBUS__TICKET__INIT;
    t.number = (char *)number;
    t.service = "A";
    t.daily_number = 999;
    t.state = HALLBUS__TICKET_STATE__CALLED;
    t.window = window;
    t.called_at = hb_now_us();
    Hallbus__TicketCalled tc = HALLBUS__TICKET_CALLED__INIT;
    tc.ticket = &t;
    tc.window = window;
    Hallbus__Envelope e = HALLBUS__ENVELOPE__INIT;
    e.hall_id = "t1";
    e.seq = seq;
    e.source = "hall-queue";
    e.ts = t.called_at;
    e.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_CALLED;
    e.ticket_called = &tc;
    size_t len = hallbus__envelope__get_packed_size(&e);
    cr_assert_leq(len, cap);
    return hallbus__envelope__pack(&e, out);
}

/* Sends the forgery BODY on the bus's publisher side with KEY (NULL: none)
 * for MS, again and again (a PUB drops what it sends before it is
 * connected; a refused one never connects). */
static void publish_for(const char *key, const uint8_t *body, size_t len, int ms)
{
    void *pub = zmq_socket(fx.ctx, ZMQ_PUB);
    int linger = 0;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    if (key)
        cr_assert_eq(hb_fixture_secure(&fx, pub, "hall-bus", key), 0);
    cr_assert_eq(zmq_connect(pub, fx.pub_ep), 0);
    const char topic[] = "hall.t1.ticket.called";
    int64_t deadline = hb_mono_us() + (int64_t)ms * 1000;
    while (hb_mono_us() < deadline) {
        zmq_send(pub, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send(pub, body, len, ZMQ_DONTWAIT);
        zmq_poll(NULL, 0, 20);
    }
    zmq_close(pub);
}

/* Whether the board's recent calls show NUMBER. */
static bool board_shows(const char *number)
{
    json_t *s = board_state();
    json_t *calls = json_object_get(s, "calls");
    bool found = false;
    for (size_t i = 0; i < json_array_size(calls) && !found; i++) {
        const char *n = json_string_value(json_object_get(json_array_get(calls, i), "number"));
        found = n && strcmp(n, number) == 0;
    }
    json_decref(s);
    return found;
}

/* Whether hall-audit stored a ticket.called of NUMBER for hall t1. */
static bool audit_stored_call(const char *number)
{
    bool found = false;
    uint64_t after = 0;
    for (;;) {
        Hallbus__AuditReply *r = audit_history(&fx, audit_ep, "t1", after, 500);
        cr_assert_not_null(r, "hall-audit answers history");
        size_t n = r->n_records;
        for (size_t i = 0; i < n; i++) {
            Hallbus__AuditRecord *rec = r->records[i];
            after = rec->id;
            Hallbus__Envelope *e = NULL;
            if (rec->type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT &&
                hb_envelope_decode(rec->envelope.data, rec->envelope.len, &e, NULL) ==
                    HB_DECODE_OK) {
                if (e->event_case == HALLBUS__ENVELOPE__EVENT_TICKET_CALLED &&
                    e->ticket_called->ticket &&
                    strcmp(e->ticket_called->ticket->number, number) == 0)
                    found = true;
                hallbus__envelope__free_unpacked(e, NULL);
            }
        }
        hallbus__audit_reply__free_unpacked(r, NULL);
        if (n == 0)
            return found;
    }
}

static char real_number[16];
static uint64_t real_seq;

/* The real call is on the board and in the audit. */
static bool real_call_arrived(void *arg)
{
    audit_stats_t s;
    return board_shows(real_number) && audit_stats(&fx, audit_ep, &s) && s.last_seq >= real_seq;
}

Test(security_e2e, a_forged_ticket_called_reaches_neither_the_board_nor_the_audit, .fini = cleanup,
     .timeout = 120)
{
    start_with_daemons();
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "s1"), OK);
    cr_assert_eq(hb_fx_take(&fx, "A", false, real_number), OK);
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetStatus gs = HALLBUS__GET_STATUS__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &gs;
    Hallbus__Reply *r = hb_fixture_call(&fx, &req);
    cr_assert_not_null(r);
    real_seq = r->status->seq + 1; /* the next event: the call below */
    hallbus__reply__free_unpacked(r, NULL);

    /* the forgery takes the very seq the real call will have, so a
     * follower that took it would show it, and store it in its place */
    uint8_t body[512];
    size_t len = forged_call(real_seq, "A999", 1, body, sizeof body);
    publish_for(NULL, body, len, 1500);
    publish_for("kiosk-1", body, len, 1500);
    cr_assert_not(board_shows("A999"), "the forged call is on the board");

    char called[16];
    cr_assert_eq(hb_fx_act(&fx, "call", 1, called), OK);
    cr_assert_str_eq(called, real_number);
    bool arrived = hb_wait_until(real_call_arrived, NULL, 10000);
    cr_assert_not(board_shows("A999"), "the forged call is on the board");
    cr_assert_not(audit_stored_call("A999"), "hall-audit stored the forged call");
    /* the real one did reach both: the test cannot pass by everything
     * being broken */
    cr_assert(arrived, "the real call %s reached the board and the audit", real_number);
    cr_assert(audit_stored_call(real_number));
}

/* CallNext at window 1 with the key KEY (a counter's), naming STAFF ("" for
 * nobody); the reply's code, its text in MSG. */
static int counter_call(hb_rpc_t *rpc, const char *staff, char *msg, size_t len)
{
    Hallbus__Request call = HALLBUS__REQUEST__INIT;
    Hallbus__CallNext cn = HALLBUS__CALL_NEXT__INIT;
    cn.window = 1;
    call.command_case = HALLBUS__REQUEST__COMMAND_CALL_NEXT;
    call.call_next = &cn;
    call.staff = (char *)staff;
    return code_of(rpc, &call, msg, len);
}

Test(security_e2e, a_counter_key_cannot_act_for_someone_not_signed_on_at_that_window,
     .fini = cleanup, .timeout = 60)
{
    start();
    cr_assert_eq(hb_fixture_key_new(&fx, "counter-x", "counter"), 0);
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "s2"), OK); /* Y opened window 1 */
    cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK);
    hb_rpc_t *counter_key = NULL;
    int64_t deadline = hb_mono_us() + 5000000;
    Hallbus__Reply *r = NULL;
    while (!r && hb_mono_us() < deadline) { /* the new key is taken up without a restart */
        hb_rpc_destroy(&counter_key);
        counter_key = hb_fixture_rpc(&fx, fx.cmd_ep, "hall-queue", "counter-x", 250);
        r = counter_key ? status_with(counter_key) : NULL;
    }
    cr_assert_not_null(r, "the counter key is let in");
    hallbus__reply__free_unpacked(r, NULL);
    char msg[256];
    cr_assert_eq(counter_call(counter_key, "s1", msg, sizeof msg), DENIED,
                 "X acted at Y's window: %s", msg);
    cr_assert(strstr(msg, "s1") && strstr(msg, "window 1"), "the refusal says why: %s", msg);
    cr_assert_eq(counter_call(counter_key, "", msg, sizeof msg), DENIED,
                 "a counter key naming nobody acted at window 1: %s", msg);
    /* the one signed on there may: the refusals were about the person */
    cr_assert_eq(counter_call(counter_key, "s2", msg, sizeof msg), OK, "%s", msg);
    hb_rpc_destroy(&counter_key);
}

/* hall-queue's log says it took a SIGHUP. */
static bool log_says_sighup(void *arg)
{
    char path[400], line[512];
    snprintf(path, sizeof path, "%s/hall-queue.log", fx.dir);
    FILE *f = fopen(path, "r");
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, "SIGHUP: allow-list") != NULL;
    if (f)
        fclose(f);
    return found;
}

Test(security_e2e, sighup_rereads_the_allow_list_and_the_queue_keeps_answering, .fini = cleanup,
     .timeout = 60)
{
    start();
    cr_assert_eq(kill(fx.queue, SIGHUP), 0);
    cr_assert(hb_wait_until(log_says_sighup, NULL, 5000), "hall-queue logs what SIGHUP did");
    cr_assert_eq(waitpid(fx.queue, NULL, WNOHANG), 0, "hall-queue died of SIGHUP");
    cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK, "hall-queue answers after SIGHUP");
    cr_assert(kiosk_answered(NULL), "and the kiosk key still counts");
}
