/* Sign-ons on the record: hall-queue turns a RecordSignOn into
 * staff.signed_on or staff.sign_on_failed, in the journal and on the bus,
 * and refuses what is not a sign-on. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "hall.h"
#include "hallbus/envelope.h"

#define NOW (1795424400LL * 1000000) /* 2026-11-23 09:00 UTC */

static char dir[] = "/tmp/hall-sign-on-XXXXXX";
static hb_config_t *config;
static hall_t *hall;
static queue_counters_t counters;

static void setup(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    cr_assert_not_null(mkdtemp(dir));
    char path[128], db[128], err[HB_CONFIG_ERR_MAX];
    snprintf(path, sizeof path, "%s/hall.yaml", dir);
    snprintf(db, sizeof db, "%s/q.db", dir);
    FILE *f = fopen(path, "w");
    fputs("hall: {id: h1, name: Test hall}\n"
          "services: [{prefix: A, name: General}]\n"
          "windows: [{number: 1, services: [A]}, {number: 2, services: [A]}]\n"
          "endpoints: {command: \"tcp://127.0.0.1:1\", bus_pub: \"tcp://127.0.0.1:2\", "
          "bus_sub: \"tcp://127.0.0.1:3\"}\n",
          f);
    fclose(f);
    config = hb_config_load(path, err);
    cr_assert_not_null(config, "%s", err);
    hall_store_t *store = hall_store_open(db, err, sizeof err);
    cr_assert_not_null(store, "%s", err);
    hall = hall_new(config, store, NOW, err, sizeof err);
    cr_assert_not_null(hall, "%s", err);
    hall_outbox_free(hall_outbox_take(hall));
}

static void teardown(void)
{
    hall_destroy(&hall);
    hb_config_destroy(&config);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(sign_on, .init = setup, .fini = teardown);

/* Sends RecordSignOn through the command path (bytes in, bytes out), as
 * hall-counter will; returns the reply's code, its message in MSG. */
static int record(const char *staff, uint32_t window, Hallbus__SignOnOutcome outcome,
                  const char *reason, char *msg, size_t msglen)
{
    Hallbus__RecordSignOn c = HALLBUS__RECORD_SIGN_ON__INIT;
    c.staff = (char *)staff;
    c.window = window;
    c.outcome = outcome;
    c.reason = (char *)reason;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.actor = "hall-counter-c1";
    req.command_case = HALLBUS__REQUEST__COMMAND_RECORD_SIGN_ON;
    req.record_sign_on = &c;
    size_t len = hallbus__request__get_packed_size(&req);
    uint8_t *buf = malloc(len);
    hallbus__request__pack(&req, buf);
    uint8_t *out;
    size_t outlen;
    queue_handle(hall, buf, len, NOW, &counters, &out, &outlen);
    free(buf);
    cr_assert_eq(hall_commit(hall), 0);
    Hallbus__Reply *r = hallbus__reply__unpack(NULL, outlen, out);
    free(out);
    cr_assert_not_null(r);
    int code = r->code;
    if (msg)
        snprintf(msg, msglen, "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);
    return code;
}

/* The one event published since the last call (its topic in TOPIC). */
static Hallbus__Envelope *only_event(char *topic, size_t len)
{
    outbox_item_t *items = hall_outbox_take(hall);
    cr_assert_not_null(items, "an event was published");
    cr_assert_null(items->next, "one event only");
    snprintf(topic, len, "%s", items->topic);
    Hallbus__Envelope *env = NULL;
    cr_assert_eq(hb_envelope_decode(items->data, items->len, &env, NULL), HB_DECODE_OK);
    hall_outbox_free(items);
    return env;
}

Test(sign_on, a_good_sign_on_is_staff_signed_on)
{
    cr_assert_eq(record("S023", 1, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_OK, "", NULL, 0),
                 HALLBUS__STATUS_CODE__OK);
    char topic[96];
    Hallbus__Envelope *env = only_event(topic, sizeof topic);
    cr_assert_str_eq(topic, "hall.h1.staff.signed_on");
    cr_assert_eq(env->event_case, HALLBUS__ENVELOPE__EVENT_STAFF_SIGNED_ON);
    cr_assert_str_eq(env->staff_signed_on->staff, "S023");
    cr_assert_eq(env->staff_signed_on->window, 1);
    cr_assert_str_eq(env->staff_signed_on->source, "hall-counter-c1");
    cr_assert_eq(env->seq, hall->seq);
    hallbus__envelope__free_unpacked(env, NULL);
    cr_assert_str_eq(hall_window(hall, 1)->staff, "", "recording opens no window");
}

Test(sign_on, a_refused_sign_on_is_staff_sign_on_failed_with_why)
{
    cr_assert_eq(record("S023", 2, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_LOCKED,
                        "account locked until 10:45 after 5 wrong passwords", NULL, 0),
                 HALLBUS__STATUS_CODE__OK);
    char topic[96];
    Hallbus__Envelope *env = only_event(topic, sizeof topic);
    cr_assert_str_eq(topic, "hall.h1.staff.sign_on_failed");
    const Hallbus__StaffSignOnFailed *e = env->staff_sign_on_failed;
    cr_assert_str_eq(e->staff, "S023");
    cr_assert_eq(e->window, 2);
    cr_assert_eq(e->outcome, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_LOCKED);
    cr_assert_str_eq(e->reason, "account locked until 10:45 after 5 wrong passwords");
    hallbus__envelope__free_unpacked(env, NULL);
}

Test(sign_on, sign_ons_are_in_the_journal)
{
    record("S023", 1, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_WRONG_PASSWORD, "wrong password", NULL, 0);
    record("S023", 1, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_OK, "", NULL, 0);
    hall_outbox_free(hall_outbox_take(hall));
    uint8_t **data = NULL;
    size_t *lens = NULL;
    uint64_t oldest = 0;
    int n = hall_store_fetch_events(hall->store, 1, 10, &data, &lens, &oldest);
    cr_assert_eq(n, 2);
    const char *kinds[] = {"staff.sign_on_failed", "staff.signed_on"};
    for (int i = 0; i < n; i++) {
        Hallbus__Envelope *env = NULL;
        cr_assert_eq(hb_envelope_decode(data[i], lens[i], &env, NULL), HB_DECODE_OK);
        cr_assert_str_eq(hb_event_kind(env), kinds[i]);
        hallbus__envelope__free_unpacked(env, NULL);
        free(data[i]);
    }
    free(data);
    free(lens);
}

Test(sign_on, what_is_not_a_sign_on_is_refused_and_not_recorded)
{
    char msg[256];
    cr_assert_eq(record("", 1, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_OK, "", msg, sizeof msg),
                 HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "%s", msg);
    cr_assert_eq(record("S023", 9, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_OK, "", msg, sizeof msg),
                 HALLBUS__STATUS_CODE__NOT_FOUND);
    cr_assert_str_eq(msg, "there is no window 9");
    cr_assert_eq(record("S023", 1, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_OUTCOME_UNSPECIFIED, "", msg,
                        sizeof msg),
                 HALLBUS__STATUS_CODE__INVALID_ARGUMENT);
    cr_assert_eq(record("S023", 1, (Hallbus__SignOnOutcome)42, "", msg, sizeof msg),
                 HALLBUS__STATUS_CODE__INVALID_ARGUMENT);
    char long_id[80];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    cr_assert_eq(record(long_id, 1, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_OK, "", msg, sizeof msg),
                 HALLBUS__STATUS_CODE__INVALID_ARGUMENT);
    cr_assert_null(hall_outbox_take(hall), "nothing published");
    cr_assert_eq(hall->seq, 0);
}

Test(sign_on, a_session_that_ends_is_staff_signed_off)
{
    cr_assert_eq(
        record("S023", 1, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_SIGNED_OFF, "signed off", NULL, 0),
        HALLBUS__STATUS_CODE__OK);
    char topic[96];
    Hallbus__Envelope *env = only_event(topic, sizeof topic);
    cr_assert_str_eq(topic, "hall.h1.staff.signed_off");
    cr_assert_str_eq(env->staff_signed_off->staff, "S023");
    cr_assert_eq(env->staff_signed_off->window, 1);
    cr_assert_str_eq(env->staff_signed_off->reason, "signed off");
    hallbus__envelope__free_unpacked(env, NULL);
}

Test(sign_on, a_substitute_s_sign_on_hands_the_open_window_over)
{
    window_t *w;
    hall_err_t err;
    cr_assert_eq(hall_open_window(hall, 1, "S001", NULL, 0, NOW, &w, &err),
                 HALLBUS__STATUS_CODE__OK);
    hall_outbox_free(hall_outbox_take(hall));
    cr_assert_eq(record("S002", 1, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_OK, "", NULL, 0),
                 HALLBUS__STATUS_CODE__OK);
    char topic[96];
    Hallbus__Envelope *env = only_event(topic, sizeof topic);
    cr_assert_str_eq(env->staff_signed_on->replaced, "S001");
    hallbus__envelope__free_unpacked(env, NULL);
    cr_assert_str_eq(hall_window(hall, 1)->staff, "S002");
    /* a refused one hands nothing over */
    record("S003", 1, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_WRONG_PASSWORD, "wrong password", NULL, 0);
    cr_assert_str_eq(hall_window(hall, 1)->staff, "S002");
}

Test(sign_on, hall_queue_refuses_a_sign_on_with_a_password)
{
    Hallbus__SignOn so = HALLBUS__SIGN_ON__INIT;
    so.staff = "S023";
    so.password = "correct horse";
    so.window = 1;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_SIGN_ON;
    req.sign_on = &so;
    size_t len = hallbus__request__get_packed_size(&req);
    uint8_t *buf = malloc(len);
    hallbus__request__pack(&req, buf);
    uint8_t *out;
    size_t outlen;
    queue_handle(hall, buf, len, NOW, &counters, &out, &outlen);
    free(buf);
    Hallbus__Reply *r = hallbus__reply__unpack(NULL, outlen, out);
    free(out);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__PERMISSION_DENIED, "%s", r->message);
    cr_assert(strstr(r->message, "hall-counter"), "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);
    cr_assert_null(hall_outbox_take(hall), "nothing recorded");
}
