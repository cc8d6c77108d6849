/* hall-bus and hall-queue as real processes on loopback, driven only over
 * the wire and through hallctl. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <zmq.h>

#include "fixture.h"
#include "hallbus/envelope.h"

#define OK HALLBUS__STATUS_CODE__OK

static hb_fixture_t fx;

static void start_default(void)
{
    cr_assert_eq(hb_fixture_start(&fx, NULL), 0, "the hall did not start");
}

/* criterion does not fail a test for an assertion in .fini, so each test
 * ends with stop(), which asserts; cleanup() only tidies after a failure */
static void stop(void)
{
    cr_assert_eq(hb_fixture_stop(&fx), 0, "the daemons stopped cleanly");
}

static void cleanup(void)
{
    hb_fixture_stop(&fx);
}

/* ── concurrency: 20 windows at once ── */

#define WINDOWS 20
#define TICKETS 400

static const char TWENTY_WINDOWS[] =
    "services:\n  - {prefix: A, name: General}\n  - {prefix: G, name: Green only}\n"
    "windows:\n"
    "  - {number: 1, services: [A]}\n  - {number: 2, services: [A]}\n"
    "  - {number: 3, services: [A]}\n  - {number: 4, services: [A]}\n"
    "  - {number: 5, services: [A]}\n  - {number: 6, services: [A]}\n"
    "  - {number: 7, services: [A]}\n  - {number: 8, services: [A]}\n"
    "  - {number: 9, services: [A]}\n  - {number: 10, services: [A]}\n"
    "  - {number: 11, services: [A]}\n  - {number: 12, services: [A]}\n"
    "  - {number: 13, services: [A]}\n  - {number: 14, services: [A]}\n"
    "  - {number: 15, services: [A]}\n  - {number: 16, services: [A]}\n"
    "  - {number: 17, services: [A]}\n  - {number: 18, services: [A]}\n"
    "  - {number: 19, services: [A]}\n  - {number: 20, services: [A]}\n";

typedef struct {
    unsigned window;
    char numbers[TICKETS][16];
    int count;
    int errors;
} caller_t;

static void *caller_thread(void *arg)
{
    caller_t *c = arg;
    hb_rpc_t *rpc = hb_fixture_rpc(&fx, fx.cmd_ep, "hall-queue", NULL, 10000);
    for (;;) {
        Hallbus__Request req = HALLBUS__REQUEST__INIT;
        Hallbus__CallNext cn = HALLBUS__CALL_NEXT__INIT;
        cn.window = c->window;
        req.command_case = HALLBUS__REQUEST__COMMAND_CALL_NEXT;
        req.call_next = &cn;
        char err[128];
        Hallbus__Reply *r = hb_rpc_call(rpc, &req, err, sizeof err);
        if (!r) {
            c->errors++;
            break;
        }
        int code = r->code;
        if (code == OK)
            snprintf(c->numbers[c->count++], 16, "%s", r->ticket->number);
        hallbus__reply__free_unpacked(r, NULL);
        if (code != OK)
            break; /* REFUSED: nothing left to call */
        Hallbus__Request s = HALLBUS__REQUEST__INIT;
        Hallbus__StartService ss = HALLBUS__START_SERVICE__INIT;
        ss.window = c->window;
        s.command_case = HALLBUS__REQUEST__COMMAND_START_SERVICE;
        s.start_service = &ss;
        Hallbus__Reply *r2 = hb_rpc_call(rpc, &s, err, sizeof err);
        Hallbus__Request f = HALLBUS__REQUEST__INIT;
        Hallbus__FinishService fs = HALLBUS__FINISH_SERVICE__INIT;
        fs.window = c->window;
        fs.result = HALLBUS__RESULT__COMPLETED;
        f.command_case = HALLBUS__REQUEST__COMMAND_FINISH_SERVICE;
        f.finish_service = &fs;
        Hallbus__Reply *r3 = hb_rpc_call(rpc, &f, err, sizeof err);
        if (!r2 || !r3 || r2->code != OK || r3->code != OK)
            c->errors++;
        if (r2)
            hallbus__reply__free_unpacked(r2, NULL);
        if (r3)
            hallbus__reply__free_unpacked(r3, NULL);
    }
    hb_rpc_destroy(&rpc);
    return NULL;
}

Test(queue_e2e, twenty_windows_calling_at_once_never_share_a_ticket_nor_skip_one, .fini = cleanup,
     .timeout = 120)
{
    hb_fixture_opts_t opts = {.services_windows_yaml = TWENTY_WINDOWS};
    cr_assert_eq(hb_fixture_start(&fx, &opts), 0);
    void *sub = hb_fixture_subscribe(&fx, "hall.t1.ticket.called");
    cr_assert_not_null(sub);
    for (unsigned w = 1; w <= WINDOWS; w++) {
        char staff[16];
        snprintf(staff, sizeof staff, "staff-%u", w);
        cr_assert_eq(hb_fx_window(&fx, "open", w, staff), OK);
    }
    for (int i = 0; i < TICKETS; i++)
        cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK);

    static caller_t callers[WINDOWS];
    pthread_t threads[WINDOWS];
    for (unsigned w = 0; w < WINDOWS; w++) {
        memset(&callers[w], 0, sizeof callers[w]);
        callers[w].window = w + 1;
        pthread_create(&threads[w], NULL, caller_thread, &callers[w]);
    }
    for (unsigned w = 0; w < WINDOWS; w++)
        pthread_join(threads[w], NULL);

    static char seen[TICKETS + 1];
    memset(seen, 0, sizeof seen);
    int total = 0, windows_that_called = 0;
    for (unsigned w = 0; w < WINDOWS; w++) {
        cr_assert_eq(callers[w].errors, 0, "window %u had errors", w + 1);
        windows_that_called += callers[w].count > 0;
        for (int i = 0; i < callers[w].count; i++) {
            int n = atoi(callers[w].numbers[i] + 1);
            cr_assert(n >= 1 && n <= TICKETS);
            cr_assert_eq(seen[n], 0, "%s was handed to two windows", callers[w].numbers[i]);
            seen[n] = 1;
            total++;
        }
    }
    cr_assert_eq(total, TICKETS, "every waiting ticket was called exactly once");
    cr_assert_gt(windows_that_called, 1, "the windows really competed");

    /* and in the order they were taken: the calls, in sequence, go A001, A002, ... */
    for (int i = 1; i <= TICKETS; i++) {
        Hallbus__Envelope *env = hb_fixture_next_event(sub, 5000, false);
        cr_assert_not_null(env, "call %d was not published", i);
        cr_assert_eq(env->ticket_called->ticket->daily_number, (uint32_t)i);
        hallbus__envelope__free_unpacked(env, NULL);
    }
    zmq_close(sub);
    stop();
}

/* ── kill -9 in the middle of a stream of tickets ── */

typedef struct {
    char acked[20000][16];
    int count;
    volatile int stop;
    uint64_t last_seq;
} taker_t;

static void *taker_thread(void *arg)
{
    taker_t *t = arg;
    hb_rpc_t *rpc = hb_fixture_rpc(&fx, fx.cmd_ep, "hall-queue", NULL, 500);
    while (!t->stop && t->count < 20000) {
        Hallbus__Request req = HALLBUS__REQUEST__INIT;
        Hallbus__TakeTicket tt = HALLBUS__TAKE_TICKET__INIT;
        tt.service = "A";
        req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
        req.take_ticket = &tt;
        char err[128];
        Hallbus__Reply *r = hb_rpc_call(rpc, &req, err, sizeof err);
        if (!r)
            break; /* the queue died: whatever was not acknowledged may be lost */
        if (r->code == OK) {
            snprintf(t->acked[t->count], 16, "%s", r->ticket->number);
            t->last_seq = r->seq;
            __atomic_add_fetch(&t->count, 1, __ATOMIC_SEQ_CST);
        }
        hallbus__reply__free_unpacked(r, NULL);
    }
    hb_rpc_destroy(&rpc);
    return NULL;
}

static bool enough_taken(void *arg)
{
    return __atomic_load_n(&((taker_t *)arg)->count, __ATOMIC_SEQ_CST) >= 300;
}

static int count_rows(const char *db_path, const char *sql, const char *arg)
{
    sqlite3 *db;
    sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

Test(queue_e2e, kill_9_mid_stream_loses_no_acknowledged_ticket, .fini = cleanup, .timeout = 120)
{
    start_default();
    void *sub = hb_fixture_subscribe(&fx, "hall.t1.ticket.");
    cr_assert_not_null(sub);
    static taker_t taker;
    memset(&taker, 0, sizeof taker);
    pthread_t th;
    pthread_create(&th, NULL, taker_thread, &taker);
    cr_assert(hb_wait_until(enough_taken, &taker, 30000));
    hb_fixture_kill(&fx.queue, SIGKILL);
    taker.stop = 1;
    pthread_join(th, NULL);
    int acked = taker.count;

    /* what the subscriber saw before the crash */
    uint64_t last_seen = 0;
    Hallbus__Envelope *env;
    while ((env = hb_fixture_next_event(sub, 300, false))) {
        cr_assert_eq(env->seq, last_seen + 1, "no gap before the crash");
        last_seen = env->seq;
        hallbus__envelope__free_unpacked(env, NULL);
    }

    cr_assert_eq(hb_fixture_start_queue(&fx), 0);
    cr_assert(hb_fixture_wait_ready(&fx, 10000));

    for (int i = 0; i < acked; i++) {
        int n = count_rows(fx.db, "SELECT COUNT(*) FROM tickets WHERE number = ?1", taker.acked[i]);
        cr_assert_eq(n, 1, "acknowledged ticket %s is there once (found %d)", taker.acked[i], n);
    }
    int rows = count_rows(fx.db, "SELECT COUNT(*) FROM tickets", NULL);
    cr_assert(rows >= acked && rows <= acked + 1024,
              "at most the batch in flight was committed without an answer");
    cr_assert_eq(count_rows(fx.db, "SELECT MAX(seq) - COUNT(*) FROM events", NULL), 0,
                 "the journal has no gap");

    char number[16];
    cr_assert_eq(hb_fx_take(&fx, "A", false, number), OK);
    cr_assert_eq(atoi(number + 1), rows + 1, "numbers continue without reuse");
    /* the sequence continues after the last committed event */
    env = hb_fixture_next_event(sub, 5000, false);
    cr_assert_not_null(env);
    cr_assert_gt(env->seq, last_seen, "no sequence number is reused");
    cr_assert_geq(env->seq, taker.last_seq + 1);
    cr_assert_eq(env->seq, (uint64_t)count_rows(fx.db, "SELECT MAX(seq) FROM events", NULL));
    hallbus__envelope__free_unpacked(env, NULL);
    zmq_close(sub);
    stop();
}

/* ── bad input ── */

static Hallbus__Reply *raw(const void *const *frames, const size_t *lens, int n)
{
    void *out = NULL;
    size_t outlen = 0;
    cr_assert_eq(hb_rpc_call_raw(fx.rpc, frames, lens, n, &out, &outlen), 0, "no reply");
    Hallbus__Reply *r = hallbus__reply__unpack(NULL, outlen, out);
    free(out);
    cr_assert_not_null(r, "the reply is a Reply");
    return r;
}

Test(queue_e2e, malformed_frames_get_clear_errors_and_the_daemon_goes_on, .init = start_default,
     .fini = cleanup, .timeout = 60)
{
    static const char junk[] = "\xff\xfe\xfd not protobuf";
    const void *garbage[] = {"", junk};
    size_t garbage_len[] = {0, sizeof junk - 1};
    Hallbus__Reply *r = raw(garbage, garbage_len, 2);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__MALFORMED);
    cr_assert(strstr(r->message, "not a protobuf Request"), "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);

    const void *no_delim[] = {"\x08\x01"};
    size_t no_delim_len[] = {2};
    r = raw(no_delim, no_delim_len, 1);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__MALFORMED);
    cr_assert(strstr(r->message, "empty delimiter"), "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);

    size_t big = 200 * 1024;
    char *huge = calloc(1, big);
    const void *oversized[] = {"", huge};
    size_t oversized_len[] = {0, big};
    r = raw(oversized, oversized_len, 2);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__TOO_LARGE);
    hallbus__reply__free_unpacked(r, NULL);
    free(huge);

    const uint8_t newer[] = {0x98, 0x06, 0x01}; /* a command field this build lacks */
    const void *unknown[] = {"", newer};
    size_t unknown_len[] = {0, sizeof newer};
    r = raw(unknown, unknown_len, 2);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__UNKNOWN_COMMAND);
    hallbus__reply__free_unpacked(r, NULL);

    const void *many[] = {"", "a", "b", "c", "d", "e", "f", "g", "h", "i"};
    size_t many_len[] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    r = raw(many, many_len, 10);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__MALFORMED);
    hallbus__reply__free_unpacked(r, NULL);

    /* still serving */
    char number[16];
    cr_assert_eq(hb_fx_take(&fx, "A", false, number), OK);
    cr_assert_str_eq(number, "A001");
    int status = 0;
    cr_assert_eq(waitpid(fx.queue, &status, WNOHANG), 0, "hall-queue is still running");
    stop();
}

Test(queue_e2e, refusals_come_back_with_what_was_wrong, .init = start_default, .fini = cleanup,
     .timeout = 60)
{
    char out[4096];
    const char *call_closed[] = {"call", "1", NULL};
    cr_assert_eq(hb_fixture_hallctl(&fx, out, sizeof out, call_closed), 1);
    const char *json_call[] = {"--json", "call", "1", NULL};
    cr_assert_eq(hb_fixture_hallctl(&fx, out, sizeof out, json_call), 1);
    cr_assert(strstr(out, "INVALID_STATE"), "%s", out);
    cr_assert(strstr(out, "window 1 is closed"), "%s", out);
    const char *requeue_unknown[] = {"--json", "requeue", "A777", NULL};
    cr_assert_eq(hb_fixture_hallctl(&fx, out, sizeof out, requeue_unknown), 1);
    cr_assert(strstr(out, "NOT_FOUND"), "%s", out);
    const char *bad_window[] = {"call", "banana", NULL};
    cr_assert_eq(hb_fixture_hallctl(&fx, out, sizeof out, bad_window), 2);
    stop();
}

/* ── late joiner: snapshot + events equals status ── */

typedef struct {
    char number[16];
    char service[4];
    int state;
} mini_ticket_t;

typedef struct {
    mini_ticket_t tickets[256];
    int n;
    char serving[4][16]; /* by window */
    uint64_t seq;
} mini_view_t;

static mini_ticket_t *mini_find(mini_view_t *v, const char *number)
{
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->tickets[i].number, number) == 0)
            return &v->tickets[i];
    return &v->tickets[v->n++];
}

static void mini_put(mini_view_t *v, const Hallbus__Ticket *t)
{
    mini_ticket_t *m = mini_find(v, t->number);
    snprintf(m->number, sizeof m->number, "%s", t->number);
    snprintf(m->service, sizeof m->service, "%s", t->service);
    m->state = t->state;
}

static void mini_apply(mini_view_t *v, const Hallbus__Envelope *e)
{
    switch (e->event_case) {
    case HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED:
        mini_put(v, e->ticket_issued->ticket);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_CALLED:
        mini_put(v, e->ticket_called->ticket);
        snprintf(v->serving[e->ticket_called->window], 16, "%s", e->ticket_called->ticket->number);
        break;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_STARTED:
        mini_put(v, e->service_started->ticket);
        break;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED:
        mini_put(v, e->service_finished->ticket);
        v->serving[e->service_finished->window][0] = '\0';
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW:
        mini_put(v, e->ticket_no_show->ticket);
        v->serving[e->ticket_no_show->window][0] = '\0';
        break;
    default:
        break;
    }
    v->seq = e->seq;
}

static int mini_waiting(mini_view_t *v, const char *service)
{
    int n = 0;
    for (int i = 0; i < v->n; i++)
        n += strcmp(v->tickets[i].service, service) == 0 &&
             v->tickets[i].state == HALLBUS__TICKET_STATE__WAITING;
    return n;
}

static Hallbus__Reply *status_reply(void)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetStatus gs = HALLBUS__GET_STATUS__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &gs;
    Hallbus__Reply *r = hb_fixture_call(&fx, &req);
    cr_assert_not_null(r);
    return r;
}

static void assert_view_matches_status(mini_view_t *v)
{
    Hallbus__Reply *r = status_reply();
    cr_assert_eq(v->seq, r->status->seq, "the view reflects the same sequence");
    for (size_t i = 0; i < r->status->n_services; i++) {
        Hallbus__ServiceSummary *s = r->status->services[i];
        cr_assert_eq((uint32_t)mini_waiting(v, s->prefix), s->waiting, "service %s", s->prefix);
    }
    for (size_t i = 0; i < r->status->n_windows; i++) {
        Hallbus__Window *w = r->status->windows[i];
        cr_assert_str_eq(v->serving[w->number], w->serving_number, "window %u", w->number);
    }
    hallbus__reply__free_unpacked(r, NULL);
}

Test(queue_e2e, late_subscriber_with_snapshot_sees_exactly_what_status_reports,
     .init = start_default, .fini = cleanup, .timeout = 60)
{
    /* the hall is busy before the subscriber arrives */
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "li"), OK);
    cr_assert_eq(hb_fx_window(&fx, "open", 3, "wang"), OK);
    for (int i = 0; i < 6; i++)
        hb_fx_take(&fx, i % 3 == 0 ? "C" : "A", false, NULL);
    hb_fx_act(&fx, "call", 1, NULL);
    hb_fx_act(&fx, "start", 1, NULL);
    hb_fx_act(&fx, "call", 3, NULL);

    /* Clone pattern: subscribe, then snapshot, then apply what is newer */
    void *sub = hb_fixture_subscribe(&fx, "hall.t1.");
    cr_assert_not_null(sub);
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetSnapshot gs = HALLBUS__GET_SNAPSHOT__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT;
    req.get_snapshot = &gs;
    Hallbus__Reply *snap = hb_fixture_call(&fx, &req);
    cr_assert_eq(snap->code, OK);
    static mini_view_t view;
    memset(&view, 0, sizeof view);
    for (size_t i = 0; i < snap->snapshot->n_tickets; i++)
        mini_put(&view, snap->snapshot->tickets[i]);
    for (size_t i = 0; i < snap->snapshot->status->n_windows; i++) {
        Hallbus__Window *w = snap->snapshot->status->windows[i];
        snprintf(view.serving[w->number], 16, "%s", w->serving_number);
    }
    view.seq = snap->snapshot->seq;
    hallbus__reply__free_unpacked(snap, NULL);
    assert_view_matches_status(&view);

    /* more happens; the subscriber applies only what is newer than the snapshot */
    hb_fx_finish(&fx, 1);
    hb_fx_take(&fx, "A", false, NULL);
    hb_fx_act(&fx, "no-show", 3, NULL);
    hb_fx_act(&fx, "call", 1, NULL);
    Hallbus__Reply *now = status_reply();
    uint64_t target = now->status->seq;
    hallbus__reply__free_unpacked(now, NULL);
    while (view.seq < target) {
        Hallbus__Envelope *e = hb_fixture_next_event(sub, 5000, false);
        cr_assert_not_null(e, "events up to %llu arrive", (unsigned long long)target);
        if (e->seq > view.seq) {
            cr_assert_eq(e->seq, view.seq + 1, "no gap");
            mini_apply(&view, e);
        }
        hallbus__envelope__free_unpacked(e, NULL);
    }
    assert_view_matches_status(&view);
    zmq_close(sub);
    stop();
}

/* ── restarting the bus ── */

Test(queue_e2e, events_flow_again_after_the_bus_restarts, .init = start_default, .fini = cleanup,
     .timeout = 60)
{
    hb_fixture_kill(&fx.bus, SIGKILL);
    cr_assert_eq(hb_fixture_start_bus(&fx), 0);
    void *sub = hb_fixture_subscribe(&fx, "hall.t1.ticket.");
    cr_assert_not_null(sub, "heartbeats come through the new bus");
    cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK);
    Hallbus__Envelope *e = hb_fixture_next_event(sub, 5000, false);
    cr_assert_not_null(e);
    cr_assert_eq(e->event_case, HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED);
    hallbus__envelope__free_unpacked(e, NULL);
    zmq_close(sub);
    stop();
}

/* ── start-up refusals ── */

static int run_queue(const char *config, char *log, size_t loglen)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/hall-queue -c %s 2>&1", getenv("HALLBUS_BIN"), config);
    FILE *p = popen(cmd, "r");
    size_t n = fread(log, 1, loglen - 1, p);
    log[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(queue_e2e, a_second_queue_on_the_same_store_is_refused, .init = start_default, .fini = cleanup,
     .timeout = 60)
{
    char log[2048];
    int rc = run_queue(fx.config, log, sizeof log);
    cr_assert_neq(rc, 0);
    cr_assert(strstr(log, "in use by another process"), "%s", log);
    stop();
}

Test(queue_e2e, a_bad_config_is_refused_with_file_line_and_reason, .timeout = 60)
{
    char dir[] = "/tmp/hallbus-badcfg-XXXXXX";
    char path[128];
    cr_assert_eq(hb_temp_file(dir, "bad.yaml",
                              "hall: {id: x, name: X}\n"
                              "services:\n"
                              "  - {prefix: A, name: One}\n"
                              "windows:\n"
                              "  - {number: 1, services: [A, Q]}\n"
                              "endpoints: {command: \"tcp://127.0.0.1:1\", bus_pub: "
                              "\"tcp://127.0.0.1:2\", bus_sub: \"tcp://127.0.0.1:3\"}\n",
                              path, sizeof path),
                 0);
    char log[2048];
    cr_assert_eq(run_queue(path, log, sizeof log), 2);
    cr_assert(strstr(log, "bad.yaml:5:"), "%s", log);
    cr_assert(strstr(log, "unknown service"), "%s", log);
    unlink(path);
    rmdir(dir);
}
