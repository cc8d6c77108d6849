/* hall-notifier as a real process beside a real hall-bus and hall-queue,
 * sending to a real HTTP receiver on loopback (receiver.c). */
#include <criterion/criterion.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <zmq.h>

#include "fixture.h"
#include "hallbus/clock.h"
#include "receiver.h"
#include "small_disk.h"

#define OK HALLBUS__STATUS_CODE__OK
#define SECRET "hook-secret-0123456789"
#define SMS_SECRET "sms-secret-0123456789ab"
#define PHONE "13812348000"

static hb_fixture_t fx;
static rx_t rx;
static pid_t notifier;
static const char *webhook_extra = "";
static void *all_sub; /* a test's subscription to the whole bus */
static bool all_sent(void *arg);
static char notifier_yaml[2048];

static void cleanup(void)
{
    if (all_sub) {
        zmq_close(all_sub);
        all_sub = NULL;
    }
    webhook_extra = "";
    if (notifier > 0)
        hb_fixture_kill(&notifier, SIGKILL);
    hb_fixture_stop(&fx);
    rx_free(&rx);
}

/* The notifier must stop cleanly (exit 0: no sanitizer report, no leak). */
static void stop_all(void)
{
    int status = hb_fixture_kill(&notifier, SIGTERM);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "tail -n 40 '%s/hall-notifier.log' >&2", fx.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log)\n");
    }
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hall-notifier stopped cleanly");
    cr_assert_eq(hb_fixture_stop(&fx), 0, "the daemons stopped cleanly");
    rx_free(&rx);
}

static void write_notifier_yaml(const char *extra)
{
    snprintf(notifier_yaml, sizeof notifier_yaml,
             "notifier:\n"
             "  db: \"%s\"\n"
             "  query: \"ipc://@DIR@/notifier-query\"\n"
             "  scan_ms: 50\n"
             "  attempt_timeout_ms: 400\n"
             "  webhook: {allow: \"http://127.0.0.1:%d/\", secret: \"" SECRET "\"%s}\n"
             "  sms: {url: \"http://127.0.0.1:%d/sms\", secret: \"" SMS_SECRET "\"}\n"
             "%s",
             "@DIR@/notifier.db", rx.port, webhook_extra, rx.port, extra ? extra : "");
}

static char db_path[400];

/* Starts the receiver and the hall; "@DIR@" in the notifier's section
 * becomes the fixture's directory once it exists (hall-queue has read the
 * file by then and has no use for that section). */
static void start_hall(const char *extra)
{
    cr_assert_eq(rx_start(&rx, 0), 0, "the receiver listens");
    write_notifier_yaml(extra);
    hb_fixture_opts_t opts = {.queue_yaml = "  contact_secret: \"contact-secret-0123456789\"\n",
                              .extra_yaml = notifier_yaml};
    cr_assert_eq(hb_fixture_start(&fx, &opts), 0, "the hall started");
    snprintf(db_path, sizeof db_path, "%s/notifier.db", fx.dir);
    FILE *f = fopen(fx.config, "r");
    cr_assert_not_null(f);
    static char text[8192], out[9000];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    out[0] = '\0';
    const char *p = text, *hole;
    while ((hole = strstr(p, "@DIR@"))) {
        strncat(out, p, (size_t)(hole - p));
        strcat(out, fx.dir);
        p = hole + 5;
    }
    strcat(out, p);
    f = fopen(fx.config, "w");
    fputs(out, f);
    fclose(f);
}

static bool log_has(const char *needle)
{
    char path[400];
    snprintf(path, sizeof path, "%s/hall-notifier.log", fx.dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, needle) != NULL;
}

static bool notifier_in_step(void *arg)
{
    return log_has("in step with hall");
}

static void start_notifier(void)
{
    const char *args[] = {"-c", fx.config, "--log-level", "debug", NULL};
    notifier = hb_fixture_spawn(&fx, "hall-notifier", args);
    cr_assert(notifier > 0);
    cr_assert(hb_wait_until(notifier_in_step, NULL, 10000), "the notifier got in step");
}

static int take_with(const char *service, const char *contact, char *number)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__TakeTicket c = HALLBUS__TAKE_TICKET__INIT;
    c.service = (char *)service;
    c.contact = (char *)contact;
    req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
    req.take_ticket = &c;
    Hallbus__Reply *r = hb_fixture_call(&fx, &req);
    if (!r)
        return -1;
    int code = r->code;
    if (number && r->result_case == HALLBUS__REPLY__RESULT_TICKET)
        snprintf(number, 16, "%s", r->ticket->number);
    hallbus__reply__free_unpacked(r, NULL);
    return code;
}

static int finish_with(unsigned window, Hallbus__Result result, const char *missing,
                       const char *promised)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__FinishService f = HALLBUS__FINISH_SERVICE__INIT;
    char *items[1] = {(char *)missing};
    f.window = window;
    f.result = result;
    if (missing) {
        f.n_missing_materials = 1;
        f.missing_materials = items;
    }
    f.promised_date = (char *)promised;
    req.command_case = HALLBUS__REQUEST__COMMAND_FINISH_SERVICE;
    req.finish_service = &f;
    Hallbus__Reply *r = hb_fixture_call(&fx, &req);
    if (!r)
        return -1;
    int code = r->code;
    hallbus__reply__free_unpacked(r, NULL);
    return code;
}

static int requeue(const char *number)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__Requeue q = HALLBUS__REQUEUE__INIT;
    q.number = (char *)number;
    req.command_case = HALLBUS__REQUEST__COMMAND_REQUEUE;
    req.requeue = &q;
    Hallbus__Reply *r = hb_fixture_call(&fx, &req);
    if (!r)
        return -1;
    int code = r->code;
    hallbus__reply__free_unpacked(r, NULL);
    return code;
}

/* call, start and finish (completed) at window W: one ticket served */
static void serve_one(unsigned w)
{
    cr_assert_eq(hb_fx_act(&fx, "call", w, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "start", w, NULL), OK);
    cr_assert_eq(hb_fx_finish(&fx, w), OK);
}

typedef struct {
    int want;
} count_arg_t;

static bool delivered_at_least(void *arg)
{
    int distinct;
    rx_delivered(&rx, &distinct);
    return distinct >= ((count_arg_t *)arg)->want;
}

static bool signature_ok(const rx_request_t *r, const char *secret)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    if (strncmp(r->signature, "sha256=", 7) != 0 || strlen(r->signature) != 7 + 64)
        return false;
    if (sodium_hex2bin(mac, sizeof mac, r->signature + 7, 64, NULL, NULL, NULL) != 0)
        return false;
    return crypto_auth_hmacsha256_verify(mac, (const unsigned char *)r->body, strlen(r->body),
                                         (const unsigned char *)secret) == 0 ||
           /* libsodium's verify wants a 32-byte key; check by hand otherwise */
           false;
}

static bool signature_valid(const rx_request_t *r, const char *secret)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES], want[crypto_auth_hmacsha256_BYTES];
    if (strncmp(r->signature, "sha256=", 7) != 0 || strlen(r->signature) != 7 + 64 ||
        sodium_hex2bin(mac, sizeof mac, r->signature + 7, 64, NULL, NULL, NULL) != 0)
        return false;
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)r->body, strlen(r->body));
    crypto_auth_hmacsha256_final(&st, want);
    (void)signature_ok;
    return sodium_memcmp(mac, want, sizeof mac) == 0;
}

/* "kind":"called" out of a body */
static void body_field(const char *body, const char *name, char *out, size_t outlen)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", name);
    out[0] = '\0';
    const char *p = strstr(body, pat);
    if (!p)
        return;
    p += strlen(pat);
    if (*p == '"')
        p++;
    size_t len = strcspn(p, "\",}");
    if (len >= outlen)
        len = outlen - 1;
    memcpy(out, p, len);
    out[len] = '\0';
}

static int outbox_count(const char *where)
{
    sqlite3 *db;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 2000);
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM outbox WHERE %s", where);
    sqlite3_stmt *st;
    int n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* ── a ticket's life ── */

Test(notifier_e2e, a_ticket_life_brings_the_right_messages_in_order_signed_and_once,
     .fini = cleanup, .timeout = 90)
{
    cr_assert_eq(sodium_init() >= 0, 1);
    start_hall("  near_ahead: 2\n");
    void *all = all_sub = hb_fixture_subscribe(&fx, "");
    cr_assert_not_null(all);
    start_notifier();

    char hook[128], x[16], y[16], z[16];
    snprintf(hook, sizeof hook, "http://127.0.0.1:%d/hook/citizen-x", rx.port);
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "s1"), OK);
    cr_assert_eq(hb_fx_window(&fx, "open", 3, "s3"), OK);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK);
    cr_assert_eq(take_with("A", hook, x), OK);  /* 4 ahead */
    cr_assert_eq(take_with("A", PHONE, y), OK); /* 5 ahead */
    cr_assert_eq(take_with("C", hook, z), OK);  /* C: nobody ahead */

    /* two served: x has 2 ahead and hears it once */
    serve_one(1);
    serve_one(3);
    serve_one(1);
    serve_one(3);
    /* x is called, recalled, does not come, requeues (now behind y) */
    cr_assert_eq(hb_fx_act(&fx, "call", 1, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "recall", 1, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "no-show", 1, NULL), OK);
    cr_assert_eq(requeue(x), OK);
    /* y is called at window 3 and finishes with a promised date */
    cr_assert_eq(hb_fx_act(&fx, "call", 3, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "start", 3, NULL), OK);
    cr_assert_eq(finish_with(3, HALLBUS__RESULT__ACCEPTED, NULL, "2099-12-31"), OK);
    /* x again, at window 1, and a material is missing; z is called at 3 */
    cr_assert_eq(hb_fx_act(&fx, "call", 1, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "start", 1, NULL), OK);
    cr_assert_eq(finish_with(1, HALLBUS__RESULT__MATERIALS_MISSING, "户口本", NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 3, NULL), OK);

    /* x: near, called, recalled, no_show, near (back in line), called, materials = 7
     * y: near (when x's no-show left it 2nd... it was within 2 after x went), called,
     *    accepted; z: near (on issue), called */
    const char *want_x[] = {"near", "called", "recalled", "no_show", "near", "called", "materials"};
    const char *want_z[] = {"near", "called"};
    count_arg_t want = {7 + 3 + 2};
    cr_assert(hb_wait_until(delivered_at_least, &want, 20000), "every message arrived (%d seen)",
              rx_seen(&rx));

    int nx = 0, ny = 0, nz = 0;
    char kind[32], ticket[16], to[32], id[128];
    for (int i = 0; i < rx.count; i++) {
        rx_request_t *r = &rx.req[i];
        cr_assert_eq(r->answered, 200);
        body_field(r->body, "kind", kind, sizeof kind);
        body_field(r->body, "ticket", ticket, sizeof ticket);
        body_field(r->body, "id", id, sizeof id);
        cr_assert_str_eq(r->id, id, "the header carries the body's idempotency key");
        cr_assert_str_eq(r->idem, id);
        for (int j = 0; j < i; j++)
            cr_assert_str_neq(rx.req[j].id, r->id, "%s arrived twice", r->id);
        if (strcmp(ticket, y) == 0) {
            cr_assert_str_eq(r->path, "/sms", "a phone number goes to the SMS gateway");
            cr_assert(signature_valid(r, SMS_SECRET), "the SMS body is signed: %s", r->body);
            body_field(r->body, "to", to, sizeof to);
            cr_assert_str_eq(to, PHONE, "the gateway is told the number");
            const char *want_y[] = {"near", "called", "accepted"};
            cr_assert(ny < 3);
            cr_assert_str_eq(kind, want_y[ny], "y's message %d", ny);
            ny++;
        } else {
            cr_assert_str_eq(r->path, "/hook/citizen-x");
            cr_assert(signature_valid(r, SECRET), "the webhook body is signed: %s", r->body);
            cr_assert(strstr(r->body, "\"to\"") == NULL, "a webhook is not told its own URL");
            if (strcmp(ticket, x) == 0) {
                cr_assert(nx < 7, "too many for x: %s", r->body);
                cr_assert_str_eq(kind, want_x[nx], "x's message %d: %s", nx, r->body);
                nx++;
            } else {
                cr_assert_str_eq(ticket, z);
                cr_assert(nz < 2);
                cr_assert_str_eq(kind, want_z[nz]);
                nz++;
            }
        }
        if (strcmp(kind, "called") == 0)
            cr_assert(strstr(r->body, "please go to window") != NULL &&
                          strstr(r->body, "号窗口办理") != NULL,
                      "the call says where, in both languages: %s", r->body);
        if (strcmp(kind, "materials") == 0)
            cr_assert(strstr(r->body, "户口本") != NULL, "the notice lists the material");
        if (strcmp(kind, "accepted") == 0)
            cr_assert(strstr(r->body, "2099-12-31") != NULL);
    }
    cr_assert_eq(nx, 7);
    cr_assert_eq(ny, 3);
    cr_assert_eq(nz, 2);
    cr_assert(hb_wait_until(all_sent, (void *)(intptr_t)12, 5000),
              "the outbox has them all as sent");

    /* the contacts never crossed the bus, and the log shows the phone masked */
    int frames = 0;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, all, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        frames++;
        const char *data = zmq_msg_data(&m);
        size_t len = zmq_msg_size(&m);
        cr_assert(memmem(data, len, PHONE, strlen(PHONE)) == NULL, "a phone number on the bus");
        cr_assert(memmem(data, len, "citizen-x", 9) == NULL, "a webhook URL on the bus");
        zmq_msg_close(&m);
    }
    cr_assert_gt(frames, 40, "the bus was watched (%d frames)", frames);
    zmq_close(all);
    all_sub = NULL;
    cr_assert(log_has("138****8000"), "the log names the phone masked");
    cr_assert(!log_has(PHONE), "the log never shows the full phone number");
    cr_assert(!log_has("citizen-x"), "the log never shows the full webhook URL");
    stop_all();
}

/* ── an accepted matter, later ready to collect ── */

Test(notifier_e2e, a_citizen_hears_when_an_accepted_matter_is_ready_to_collect, .fini = cleanup,
     .timeout = 60)
{
    start_hall("");
    start_notifier();
    char hook[128], number[16];
    snprintf(hook, sizeof hook, "http://127.0.0.1:%d/hook/citizen-r", rx.port);
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "s1"), OK);
    cr_assert_eq(take_with("A", hook, number), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 1, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "start", 1, NULL), OK);
    cr_assert_eq(finish_with(1, HALLBUS__RESULT__ACCEPTED, NULL, "2099-12-31"), OK);

    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__MarkReady mr = HALLBUS__MARK_READY__INIT;
    mr.number = number;
    req.command_case = HALLBUS__REQUEST__COMMAND_MARK_READY;
    req.mark_ready = &mr;
    Hallbus__Reply *r = hb_fixture_call(&fx, &req);
    cr_assert_not_null(r);
    cr_assert_eq(r->code, OK, "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);

    count_arg_t want = {4}; /* near, called, accepted, ready */
    cr_assert(hb_wait_until(delivered_at_least, &want, 15000), "%d seen", rx_seen(&rx));
    char kind[32], last[32] = "";
    bool ready = false;
    for (int i = 0; i < rx.count; i++) {
        body_field(rx.req[i].body, "kind", kind, sizeof kind);
        ready |= strcmp(kind, "ready") == 0;
        snprintf(last, sizeof last, "%s", kind);
    }
    cr_assert(ready, "the ready message arrived");
    cr_assert_str_eq(last, "ready", "and after the accepted one");
    stop_all();
}

/* ── a receiver that is down for a while ── */

static bool retried_twice(void *arg)
{
    /* the first of each ticket's messages holds back the rest */
    return outbox_count("attempts >= 2 AND state = 0") >= (int)(intptr_t)arg;
}

Test(notifier_e2e, a_receiver_down_for_a_while_gets_everything_once_it_is_back, .fini = cleanup,
     .timeout = 90)
{
    start_hall("  near_ahead: 0\n"
               "  messages:\n"
               "    - {kind: called, first_retry_ms: 100, max_retry_ms: 400, deadline_s: 60}\n");
    int port = rx.port;
    rx_stop(&rx); /* down: connections are refused */
    start_notifier();
    char hook[128];
    snprintf(hook, sizeof hook, "http://127.0.0.1:%d/hook/down", port);
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "s1"), OK);
    enum { N = 20 };
    for (int i = 0; i < N; i++)
        cr_assert_eq(take_with("A", hook, NULL), OK);
    for (int i = 0; i < N; i++)
        serve_one(1);
    /* every message has been tried, and failed, at least twice */
    cr_assert(hb_wait_until(retried_twice, (void *)(intptr_t)N, 20000),
              "every message was retried while the receiver was down");
    cr_assert_eq(rx_start(&rx, port), 0, "the receiver is back on its port");
    count_arg_t want = {N};
    cr_assert(hb_wait_until(delivered_at_least, &want, 20000), "all %d arrived", N);
    int distinct, total = rx_delivered(&rx, &distinct);
    cr_assert_eq(distinct, N);
    cr_assert_eq(total, N, "nothing arrived twice (%d deliveries)", total);
    cr_assert(hb_wait_until(all_sent, (void *)(intptr_t)N, 5000), "the outbox says sent");
    cr_assert(log_has("Could not connect") || log_has("Couldn't connect") ||
                  log_has("Connection refused"),
              "the log says why");
    stop_all();
}

/* ── kill -9 in the middle of a burst ── */

typedef struct {
    char keys[512][128];
    int count;
} keyset_t;

static void sent_keys(keyset_t *out)
{
    out->count = 0;
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT key FROM outbox WHERE state = 1", -1, &st, NULL),
                 SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW && out->count < 512)
        snprintf(out->keys[out->count++], 128, "%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static bool some_arrived(void *arg)
{
    return rx_delivered(&rx, NULL) >= (int)(intptr_t)arg;
}

Test(notifier_e2e, kill_9_in_a_burst_loses_nothing_and_resends_nothing_confirmed, .fini = cleanup,
     .timeout = 120)
{
    /* a slow channel (40 a second), so that the kill lands in the middle of the burst */
    webhook_extra = ", rate: 40, burst: 4";
    start_hall("  near_ahead: 0\n");
    start_notifier();
    char hook[128];
    snprintf(hook, sizeof hook, "http://127.0.0.1:%d/hook/burst", rx.port);
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "s1"), OK);
    enum { N = 80, LATER = 20 };
    for (int i = 0; i < N + LATER; i++)
        cr_assert_eq(take_with("A", hook, NULL), OK);
    for (int i = 0; i < N; i++)
        serve_one(1);
    cr_assert(hb_wait_until(some_arrived, (void *)(intptr_t)5, 20000), "the burst began");
    hb_fixture_kill(&notifier, SIGKILL);
    int at_kill = rx_seen(&rx);
    /* the channel's token bucket (40 a second, bursts of 4) held: by any time t after the
     * first delivery, at most 4 + 40 t more had arrived */
    for (int i = 1; i < at_kill; i++) {
        double t = (double)(rx.req[i].at_us - rx.req[0].at_us) / 1e6;
        cr_assert_leq(i, 4 + (int)(40 * t) + 1, "delivery %d came %.3f s after the first", i, t);
    }
    cr_assert_lt(rx_delivered(&rx, NULL), N, "the kill came in the middle of the burst");
    static keyset_t confirmed;
    sent_keys(&confirmed);
    cr_assert_gt(confirmed.count, 0);
    /* while it is down the hall goes on */
    for (int i = 0; i < LATER; i++)
        serve_one(1);
    start_notifier();
    count_arg_t want = {N + LATER};
    bool arrived = hb_wait_until(delivered_at_least, &want, 30000);
    int distinct;
    rx_delivered(&rx, &distinct);
    cr_assert(arrived, "every message arrived (%d distinct of %d; %d before the kill)", distinct,
              N + LATER, at_kill);
    /* what was confirmed before the kill was not sent again */
    for (int i = at_kill; i < rx.count; i++)
        for (int k = 0; k < confirmed.count; k++)
            cr_assert_str_neq(rx.req[i].id, confirmed.keys[k],
                              "%s was confirmed before the kill and sent again", rx.req[i].id);
    cr_assert(hb_wait_until(all_sent, (void *)(intptr_t)(N + LATER), 5000));
    stop_all();
}

/* ── receivers that fail in every way, contacts that cannot be resolved ── */

static bool tried_at_least(void *arg)
{
    return rx_seen(&rx) >= (int)(intptr_t)arg;
}

static void insert_bogus_row(void)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char sql[600];
    long long now = (long long)hb_now_us();
    snprintf(sql, sizeof sql,
             "INSERT INTO outbox(key, hall, seq, kind, ticket, contact_ref, text_zh, text_en,"
             " fields, event_ts, created_at, deadline, state, next_at)"
             " VALUES('t1-bogus', 't1', 0, 1, 'A999', 'ct-0000000000000000', 'x', 'x', '{}',"
             " %lld, %lld, %lld, 0, %lld)",
             now, now, now + 60000000LL, now);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static bool bogus_failed(void *arg)
{
    return outbox_count("key = 't1-bogus' AND state = 2") == 1;
}

static bool failed_404(void *arg)
{
    return outbox_count("state = 2 AND last_error LIKE '%HTTP 404%'") == 1;
}

static bool all_sent(void *arg)
{
    return outbox_count("state = 1") == (int)(intptr_t)arg;
}

Test(notifier_e2e, a_failing_receiver_and_an_unknown_contact_are_survived_and_counted,
     .fini = cleanup, .timeout = 120)
{
    start_hall("  near_ahead: 0\n"
               "  messages:\n"
               "    - {kind: called, first_retry_ms: 50, max_retry_ms: 200, deadline_s: 60}\n");
    start_notifier();
    char hook[128];
    snprintf(hook, sizeof hook, "http://127.0.0.1:%d/hook/faults", rx.port);
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "s1"), OK);
    /* garbage bytes on the bus are ignored */
    void *pub = zmq_socket(fx.ctx, ZMQ_PUB);
    int linger = 0;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    /* as hall-queue would (its key): the bus lets only queue and counter keys publish */
    cr_assert_eq(hb_fixture_secure(&fx, pub, "hall-bus", "hall-queue"), 0);
    zmq_connect(pub, fx.pub_ep);

    rx_mode_t modes[] = {RX_500, RX_GARBAGE, RX_STALL};
    const char *says[] = {"HTTP 500", "curl", "curl 28"};
    int delivered = 0;
    for (int m = 0; m < 3; m++) {
        rx.mode = modes[m];
        int before = rx_seen(&rx);
        cr_assert_eq(take_with("A", hook, NULL), OK);
        serve_one(1);
        for (int i = 0; i < 20; i++)
            zmq_send(pub, "hall.t1.ticket.called", 21, ZMQ_SNDMORE),
                zmq_send(pub, "\xff\x01", 2, 0);
        cr_assert(hb_wait_until(tried_at_least, (void *)(intptr_t)(before + 2), 20000),
                  "mode %d: tried twice", m);
        rx.mode = RX_OK;
        delivered++;
        cr_assert(hb_wait_until(all_sent, (void *)(intptr_t)delivered, 20000),
                  "mode %d: delivered once the receiver is well", m);
        cr_assert(log_has(says[m]), "the log says what went wrong (%s)", says[m]);
    }
    zmq_close(pub);
    /* hallbus/follow_sub.h: "dropped N malformed event(s): why" */
    cr_assert(log_has("malformed event"), "malformed events are logged");

    /* a contact hall-queue does not know: failed for good, and the daemon goes on */
    insert_bogus_row();
    cr_assert(hb_wait_until(bogus_failed, NULL, 10000), "an unknown contact fails for good");
    cr_assert(log_has("cannot resolve contact ct-0000000000000000"));

    /* a 404 fails for good, and `hallctl notify retry` sends it again by hand */
    rx.mode = RX_404;
    cr_assert_eq(take_with("A", hook, NULL), OK);
    serve_one(1);
    cr_assert(hb_wait_until(failed_404, NULL, 10000), "a 404 fails for good");
    char out[8192];
    const char *status[] = {"notify", "status", NULL};
    cr_assert_eq(hb_fixture_hallctl(&fx, out, sizeof out, status), 0, "%s", out);
    cr_assert(strstr(out, "failed") != NULL, "%s", out);
    rx.mode = RX_OK;
    sqlite3 *db;
    sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT id FROM outbox WHERE last_error LIKE '%HTTP 404%'", -1, &st,
                       NULL);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    const char *retry[] = {"notify", "retry", id, NULL};
    cr_assert_eq(hb_fixture_hallctl(&fx, out, sizeof out, retry), 0, "%s", out);
    cr_assert(hb_wait_until(all_sent, (void *)(intptr_t)(delivered + 1), 10000),
              "the retried message is delivered");
    cr_assert_eq(hb_fixture_hallctl(&fx, out, sizeof out, retry), 1,
                 "a delivered message is not retried: %s", out);
    stop_all();
}

/* ── the local command, for contacts that are neither URLs nor phones ── */

static bool command_done(void *arg)
{
    return outbox_count("state = 1 AND channel = 'command'") == 1;
}

Test(notifier_e2e, other_contacts_go_to_the_local_command_which_is_retried_until_it_succeeds,
     .fini = cleanup, .timeout = 60)
{
    start_hall("  near_ahead: 0\n"
               "  command: {run: \"@DIR@/notify.sh\"}\n"
               "  messages:\n"
               "    - {kind: called, first_retry_ms: 50, max_retry_ms: 100}\n");
    char script[400], out_path[400];
    snprintf(script, sizeof script, "%s/notify.sh", fx.dir);
    snprintf(out_path, sizeof out_path, "%s/command.out", fx.dir);
    FILE *f = fopen(script, "w");
    /* fails the first time, then records what it was given */
    fprintf(f,
            "#!/bin/sh\n"
            "if [ ! -e %s/failed-once ]; then touch %s/failed-once; exit 3; fi\n"
            "{ echo \"contact=$HALLBUS_CONTACT id=$HALLBUS_MESSAGE_ID kind=$HALLBUS_KIND\"; cat; "
            "echo; } >> %s\n",
            fx.dir, fx.dir, out_path);
    fclose(f);
    chmod(script, 0755);
    start_notifier();
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "s1"), OK);
    cr_assert_eq(take_with("A", "wechat:o6_bmjrPTlm6", NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 1, NULL), OK);
    cr_assert(hb_wait_until(command_done, NULL, 10000), "the command confirmed the message");
    f = fopen(out_path, "r");
    cr_assert_not_null(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    cr_assert(strstr(text, "contact=wechat:o6_bmjrPTlm6 id=t1-") && strstr(text, "kind=called"),
              "%s", text);
    cr_assert(strstr(text, "\"kind\":\"called\"") && strstr(text, "\"attempt\":2"),
              "the body came on stdin, at the second attempt: %s", text);
    cr_assert(log_has("the command exited with status 3"), "the failure is logged");
    cr_assert(!log_has("o6_bmjrPTlm6"), "the contact is masked in the log");
    stop_all();
}

/* ── the bus goes away; a heartbeat says we are behind ── */

static bool gap_logged(void *arg)
{
    return log_has("heartbeat says the hall is at event 1000");
}

static void publish_heartbeat(void *pub, uint64_t seq)
{
    Hallbus__Heartbeat hb = HALLBUS__HEARTBEAT__INIT;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.hall_id = "t1";
    env.seq = seq;
    env.source = "test";
    env.event_case = HALLBUS__ENVELOPE__EVENT_HEARTBEAT;
    env.heartbeat = &hb;
    uint8_t buf[128];
    size_t len = hallbus__envelope__pack(&env, buf);
    zmq_send(pub, "hall.t1.heartbeat", 17, ZMQ_SNDMORE);
    zmq_send(pub, buf, len, 0);
}

Test(notifier_e2e, calls_made_while_the_bus_is_down_and_after_a_false_gap_reach_the_citizen_once,
     .fini = cleanup, .timeout = 60)
{
    start_hall("  near_ahead: 0\n");
    start_notifier();
    char hook[128];
    snprintf(hook, sizeof hook, "http://127.0.0.1:%d/hook/gap", rx.port);
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "s1"), OK);
    cr_assert_eq(hb_fx_window(&fx, "open", 2, "s2"), OK);
    cr_assert_eq(hb_fx_window(&fx, "open", 3, "s3"), OK);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(take_with("A", hook, NULL), OK);
    /* the bus goes away while windows call */
    int status = hb_fixture_kill(&fx.bus, SIGTERM);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert_eq(hb_fx_act(&fx, "call", 1, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 3, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "recall", 3, NULL), OK);
    cr_assert_eq(rx_seen(&rx), 0);
    cr_assert_eq(hb_fixture_start_bus(&fx), 0);
    count_arg_t want = {3};
    cr_assert(hb_wait_until(delivered_at_least, &want, 10000), "called, called, recalled arrive");

    /* a heartbeat far ahead (a forged one here: a real one after lost events looks the
     * same) makes the notifier fetch from the journal; nothing is sent twice */
    void *pub = zmq_socket(fx.ctx, ZMQ_PUB);
    int linger = 0;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    /* as hall-queue would (its key): the bus lets only queue and counter keys publish */
    cr_assert_eq(hb_fixture_secure(&fx, pub, "hall-bus", "hall-queue"), 0);
    zmq_connect(pub, fx.pub_ep);
    int64_t until = hb_mono_us() + 10000000;
    while (!gap_logged(NULL) && hb_mono_us() < until) {
        publish_heartbeat(pub, 1000);
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL); /* pacing a publisher whose subscription is still on its way */
    }
    zmq_close(pub);
    cr_assert(gap_logged(NULL), "the notifier saw it was behind and asked the journal");
    cr_assert_eq(hb_fx_act(&fx, "start", 1, NULL), OK);
    cr_assert_eq(hb_fx_finish(&fx, 1), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 1, NULL), OK);
    want.want = 4;
    cr_assert(hb_wait_until(delivered_at_least, &want, 10000), "the next call arrives too");
    int distinct, total = rx_delivered(&rx, &distinct);
    cr_assert_eq(total, 4);
    cr_assert_eq(distinct, 4);
    char kind[32];
    int called = 0, recalled = 0;
    for (int i = 0; i < rx.count; i++) {
        body_field(rx.req[i].body, "kind", kind, sizeof kind);
        called += strcmp(kind, "called") == 0;
        recalled += strcmp(kind, "recalled") == 0;
    }
    cr_assert_eq(called, 3);
    cr_assert_eq(recalled, 1);
    stop_all();
}

/* ── a bad hall file ── */

Test(notifier_e2e, a_template_naming_a_missing_field_stops_the_start_with_file_and_line)
{
    char dir[] = "/tmp/hallbus-notifier-bad-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128], log[160], cmd[600];
    snprintf(path, sizeof path, "%s/hall.yaml", dir);
    snprintf(log, sizeof log, "%s/err.txt", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "hall: {id: t1, name: T}\n"
               "services: [{prefix: A, name: General}]\n"
               "windows: [{number: 1, services: [A]}]\n"
               "endpoints: {command: \"tcp://127.0.0.1:1\", bus_pub: \"tcp://127.0.0.1:2\","
               " bus_sub: \"tcp://127.0.0.1:3\"}\n"
               "queue:\n  contact_secret: \"contact-secret-0123456789\"\n"
               "notifier:\n"
               "  messages:\n"
               "    - kind: no_show\n"
               "      zh: \"{number}号已过号，请于{until}前重新排队\"\n"
               "      en: \"Ticket {number}: go to window {windw}\"\n");
    fclose(f);
    const char *bin = getenv("HALLBUS_BIN");
    snprintf(cmd, sizeof cmd, "'%s/hall-notifier' -c '%s' 2> '%s'", bin ? bin : "build/bin", path,
             log);
    int status = system(cmd);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "refused with status 2");
    f = fopen(log, "r");
    char text[1024];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    char want[200];
    snprintf(want, sizeof want, "%s:11: notifier.messages[0].en: names field \"windw\"", path);
    cr_assert(strstr(text, want), "%s", text);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* ── a full disk under the outbox ── */

static hb_small_disk_t disk;

static void cleanup_disk(void)
{
    if (notifier > 0)
        hb_fixture_kill(&notifier, SIGKILL);
    hb_small_disk_umount(&disk);
    cleanup();
}

static bool says_unwritable(void *arg)
{
    return log_has("the outbox cannot be written");
}

static bool resynced(void *arg)
{
    return log_has("the outbox can be written again");
}

/* Messages decided while the outbox cannot be written are not lost: the
 * events are taken again from what the store holds once there is room. */
Test(notifier_e2e, a_full_disk_under_the_outbox_loses_no_message_and_recovers_by_itself,
     .fini = cleanup_disk, .timeout = 240)
{
    start_hall("  near_ahead: 0\n");
    char why[160];
    if (hb_small_disk_mount(&disk, fx.dir, "2m", why, sizeof why) != 0)
        cr_skip_test("%s", why);
    snprintf(db_path, sizeof db_path, "%.300s/notifier.db", disk.path);
    const char *args[] = {"-c", fx.config, "--db", db_path, "--log-level", "debug", NULL};
    notifier = hb_fixture_spawn(&fx, "hall-notifier", args);
    cr_assert(notifier > 0);
    cr_assert(hb_wait_until(notifier_in_step, NULL, 10000), "the notifier got in step");
    char hook[128];
    snprintf(hook, sizeof hook, "http://127.0.0.1:%d/hook/disk", rx.port);
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "s1"), OK);
    int served = 0;
    for (; served < 3; served++) {
        cr_assert_eq(take_with("A", hook, NULL), OK);
        serve_one(1);
    }
    cr_assert(hb_wait_until(all_sent, (void *)(intptr_t)served, 10000), "delivered before");

    cr_assert_eq(hb_small_disk_fill(&disk), 0, "filled to the last byte");
    /* every served ticket is a "called" message to decide into the outbox */
    for (int round = 0; round < 100 && !says_unwritable(NULL); round++) {
        for (int i = 0; i < 10; i++, served++) {
            cr_assert_eq(take_with("A", hook, NULL), OK);
            serve_one(1);
        }
        hb_wait_until(says_unwritable, NULL, 200);
    }
    cr_assert(says_unwritable(NULL), "the log says the outbox cannot be written");
    /* more events while it cannot be: taken later, from the journal */
    for (int i = 0; i < 5; i++, served++) {
        cr_assert_eq(take_with("A", hook, NULL), OK);
        serve_one(1);
    }
    cr_assert_eq(hb_small_disk_unfill(&disk), 0);
    cr_assert(hb_wait_until(resynced, NULL, 20000), "the log says the outbox recovered");
    cr_assert(hb_wait_until(all_sent, (void *)(intptr_t)served, 30000),
              "every message delivered: %d of %d", outbox_count("state = 1"), served);
    int distinct = 0;
    rx_delivered(&rx, &distinct);
    cr_assert_eq(distinct, served, "each message reached the receiver, none twice by its key");
    cr_assert_eq(outbox_count("state != 1"), 0, "nothing is left pending or failed");
    int status = hb_fixture_kill(&notifier, SIGTERM);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hall-notifier stopped cleanly");
    hb_small_disk_umount(&disk);
    cr_assert_eq(hb_fixture_stop(&fx), 0, "the daemons stopped cleanly");
    rx_free(&rx);
}
