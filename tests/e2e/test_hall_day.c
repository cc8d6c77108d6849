/* A simulated hall day through real daemons: 12 windows with different
 * policies, 5 services, 2,000 citizens (5% green channel, 10% by
 * appointment), 5% no-shows of which half come back, a few transfers. At
 * the end every ticket is in exactly one final state and the counts per
 * window, per the queue's store, its status and its event stream, agree
 * with what the windows did.
 *
 * Citizens leave contacts, ratings with comments and complaints, and book
 * appointments; a subscriber to everything on the bus finds none of their
 * words, contacts, appointment codes or tickets' tokens in the raw bytes of
 * any envelope, nor in the snapshot any display may fetch. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "fixture.h"

#define OK HALLBUS__STATUS_CODE__OK
#define CITIZENS 2000
#define WINDOWS 12

static hb_fixture_t fx;

/* What the citizens gave or were given that must never be on the bus. */
static char **secrets;
static size_t secrets_count, secrets_cap;

static void keep_secret(const char *text)
{
    cr_assert(text && strlen(text) >= 6, "a secret long enough not to occur by chance");
    if (secrets_count == secrets_cap) {
        secrets_cap = secrets_cap ? secrets_cap * 2 : 256;
        secrets = realloc(secrets, secrets_cap * sizeof *secrets);
    }
    secrets[secrets_count++] = strdup(text);
}

/* The first secret found in DATA, or NULL. */
static const char *secret_in(const void *data, size_t len)
{
    for (size_t i = 0; i < secrets_count; i++)
        if (memmem(data, len, secrets[i], strlen(secrets[i])))
            return secrets[i];
    return NULL;
}

/* The next event's envelope as raw bytes (caller frees), or NULL at the
 * deadline. */
static uint8_t *next_raw(void *sub, int timeout_ms, size_t *len)
{
    zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
    while (zmq_poll(&item, 1, timeout_ms) > 0) {
        zmq_msg_t topic, body;
        zmq_msg_init(&topic);
        zmq_msg_init(&body);
        zmq_msg_recv(&topic, sub, 0);
        bool more = zmq_msg_more(&topic);
        zmq_msg_close(&topic);
        if (!more)
            continue;
        zmq_msg_recv(&body, sub, 0);
        *len = zmq_msg_size(&body);
        uint8_t *copy = malloc(*len ? *len : 1);
        memcpy(copy, zmq_msg_data(&body), *len);
        zmq_msg_close(&body);
        return copy;
    }
    return NULL;
}

static const char DAY_HALL[] =
    "services:\n"
    "  - {prefix: A, name: Social security}\n"
    "  - {prefix: B, name: Medical insurance}\n"
    "  - {prefix: C, name: Household registration, appointments: {slot_minutes: 5,"
    " capacity: 1000, checkin_before_minutes: 240, checkin_after_minutes: 240}}\n"
    "  - {prefix: D, name: Real estate}\n"
    "  - {prefix: E, name: Enquiries}\n"
    "windows:\n"
    "  - {number: 1, services: [A]}\n"
    "  - {number: 2, services: [A, B], policy: ordered}\n"
    "  - {number: 3, services: [A, B], policy: weighted, weights: [\"A:3\", \"B:1\"]}\n"
    "  - {number: 4, services: [B]}\n"
    "  - {number: 5, services: [B, A], policy: ordered}\n"
    "  - {number: 6, services: [C]}\n"
    "  - {number: 7, services: [C, E], policy: ordered}\n"
    "  - {number: 8, services: [D]}\n"
    "  - {number: 9, services: [D, C]}\n"
    "  - {number: 10, services: [E]}\n"
    "  - {number: 11, services: [E, A, B, C, D]}\n"
    "  - {number: 12, services: [A, B, C, D, E], policy: weighted,"
    " weights: [\"A:2\", \"B:2\", \"C:1\", \"D:1\", \"E:1\"]}\n";

/* criterion ignores assertions in .fini: the test ends with an asserted
 * stop; this only tidies up after a failure */
static void cleanup(void)
{
    hb_fixture_stop(&fx);
}

static Hallbus__Reply *send(Hallbus__Request *req)
{
    Hallbus__Reply *r = hb_fixture_call(&fx, req);
    cr_assert_not_null(r, "hall-queue answered");
    return r;
}

static int simple(Hallbus__Request *req)
{
    Hallbus__Reply *r = send(req);
    int code = r->code; /* the callers assert what they expect */
    hallbus__reply__free_unpacked(r, NULL);
    return code;
}

/* An appointment for a slot a little later today, checked in at once. */
static void by_appointment(unsigned *count)
{
    time_t later = time(NULL) + 15 * 60;
    later -= later % 300; /* on a 5-minute slot */
    struct tm tm;
    localtime_r(&later, &tm);
    char date[16], slot[8];
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    strftime(slot, sizeof slot, "%H:%M", &tm);
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__BookAppointment b = HALLBUS__BOOK_APPOINTMENT__INIT;
    b.service = "C";
    b.date = date;
    b.slot = slot;
    char contact[48];
    snprintf(contact, sizeof contact, "booker-%04u@example.org", *count);
    b.contact = contact;
    keep_secret(contact);
    req.command_case = HALLBUS__REQUEST__COMMAND_BOOK_APPOINTMENT;
    req.book_appointment = &b;
    Hallbus__Reply *r = send(&req);
    cr_assert_eq(r->code, OK, "booking %s %s: %s", date, slot, r->message);
    keep_secret(r->appointment->code);
    Hallbus__Request ci = HALLBUS__REQUEST__INIT;
    Hallbus__CheckIn c = HALLBUS__CHECK_IN__INIT;
    c.code = r->appointment->code;
    ci.command_case = HALLBUS__REQUEST__COMMAND_CHECK_IN;
    ci.check_in = &c;
    Hallbus__Reply *r2 = send(&ci);
    cr_assert_eq(r2->code, OK, "check-in: %s", r2->message);
    cr_assert_not_null(r2->checked_in_ticket);
    keep_secret(r2->ticket_token);
    hallbus__reply__free_unpacked(r2, NULL);
    hallbus__reply__free_unpacked(r, NULL);
    (*count)++;
}

/* A walk-in who leaves a phone number for "your turn is near". */
static void take_with_contact(const char *service, int i)
{
    char contact[32];
    snprintf(contact, sizeof contact, "+86 139 %04d %04d", i / 10000, i % 10000);
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__TakeTicket t = HALLBUS__TAKE_TICKET__INIT;
    t.service = (char *)service;
    t.contact = contact;
    req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
    req.take_ticket = &t;
    Hallbus__Reply *r = send(&req);
    cr_assert_eq(r->code, OK, "%s", r->message);
    keep_secret(contact);
    keep_secret(r->ticket_token);
    hallbus__reply__free_unpacked(r, NULL);
}

/* The citizen of NUMBER rates it with words, and sometimes complains, with
 * a phone number in the text; the supervisor handles and answers. */
static void rate_and_complain(const char *number, unsigned k, unsigned *complaints)
{
    char comment[96];
    snprintf(comment, sizeof comment, "comment %u: the clerk read my ID 1101%06u aloud", k, k);
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__Evaluate ev = HALLBUS__EVALUATE__INIT;
    ev.number = (char *)number;
    ev.rating = 1 + k % 4;
    ev.comment = comment;
    req.command_case = HALLBUS__REQUEST__COMMAND_EVALUATE;
    req.evaluate = &ev;
    cr_assert_eq(simple(&req), OK, "rating %s", number);
    keep_secret(comment);
    if (k % 4 != 0)
        return;
    char text[96], contact[48], note[96], answer[96];
    snprintf(text, sizeof text, "complaint %u: call me on 1380013%04u", k, k);
    snprintf(contact, sizeof contact, "complainer-%u@example.org", k);
    snprintf(note, sizeof note, "note %u: phoned 1380013%04u back", k, k);
    snprintf(answer, sizeof answer, "answer %u: apologised to Ms Li of %u Elm St", k, k);
    Hallbus__Request fr = HALLBUS__REQUEST__INIT;
    Hallbus__FileComplaint fc = HALLBUS__FILE_COMPLAINT__INIT;
    fc.ticket_number = (char *)number;
    fc.text = text;
    fc.contact = contact;
    fr.command_case = HALLBUS__REQUEST__COMMAND_FILE_COMPLAINT;
    fr.file_complaint = &fc;
    Hallbus__Reply *r = send(&fr);
    cr_assert_eq(r->code, OK, "complaint: %s", r->message);
    uint64_t id = r->complaint->id;
    hallbus__reply__free_unpacked(r, NULL);
    keep_secret(text);
    keep_secret(contact);
    Hallbus__Request ur = HALLBUS__REQUEST__INIT;
    Hallbus__UpdateComplaint uc = HALLBUS__UPDATE_COMPLAINT__INIT;
    uc.id = id;
    uc.handler = "sup-1";
    uc.state = HALLBUS__COMPLAINT_STATE__COMPLAINT_IN_PROGRESS;
    uc.note = note;
    ur.command_case = HALLBUS__REQUEST__COMMAND_UPDATE_COMPLAINT;
    ur.update_complaint = &uc;
    cr_assert_eq(simple(&ur), OK);
    uc.state = HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED;
    uc.note = "";
    uc.reply = answer;
    cr_assert_eq(simple(&ur), OK);
    keep_secret(note);
    keep_secret(answer);
    (*complaints)++;
}

typedef struct {
    unsigned finished, no_shows, transfers;
} tally_t;

static int db_count(const char *sql)
{
    sqlite3 *db;
    sqlite3_open_v2(fx.db, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

Test(hall_day, every_ticket_ends_in_one_final_state_and_the_counts_add_up, .fini = cleanup,
     .timeout = 600)
{
    hb_fixture_opts_t opts = {.services_windows_yaml = DAY_HALL,
                              .queue_yaml = "  requeue_after: 3\n"};
    cr_assert_eq(hb_fixture_start(&fx, &opts), 0);
    void *sub = hb_fixture_subscribe(&fx, ""); /* everything on the bus */
    cr_assert_not_null(sub);
    srand(20261123);

    /* the morning rush: everyone takes a ticket */
    unsigned green = 0, appointments = 0;
    const char *services[] = {"A", "B", "C", "D", "E"};
    for (int i = 0; i < CITIZENS; i++) {
        int roll = rand() % 100;
        if (roll < 10) {
            by_appointment(&appointments);
            continue;
        }
        bool is_green = roll < 15;
        green += is_green;
        if (!is_green && roll < 25)
            take_with_contact(services[rand() % 5], i);
        else
            cr_assert_eq(hb_fx_take(&fx, services[rand() % 5], is_green, NULL), OK);
    }

    char staff[WINDOWS + 1][16];
    for (unsigned w = 1; w <= WINDOWS; w++) {
        snprintf(staff[w], sizeof staff[w], "clerk-%02u", w);
        cr_assert_eq(hb_fx_window(&fx, "open", w, staff[w]), OK);
    }

    /* the windows work until nobody waits */
    tally_t per_window[WINDOWS + 1] = {{0}};
    unsigned requeued = 0, rated = 0, complaints = 0;
    bool idle[WINDOWS + 1] = {false};
    unsigned idle_count = 0;
    while (idle_count < WINDOWS) {
        for (unsigned w = 1; w <= WINDOWS; w++) {
            if (idle[w])
                continue;
            char number[16];
            int code = hb_fx_act(&fx, "call", w, number);
            if (code == HALLBUS__STATUS_CODE__REFUSED) {
                idle[w] = true;
                idle_count++;
                continue;
            }
            cr_assert_eq(code, OK, "window %u calls", w);
            int roll = rand() % 100;
            if (roll < 5) {
                cr_assert_eq(hb_fx_act(&fx, "recall", w, NULL), OK);
                cr_assert_eq(hb_fx_act(&fx, "no-show", w, NULL), OK);
                per_window[w].no_shows++;
                if (roll < 2 && number[0]) { /* some come back in time */
                    Hallbus__Request req = HALLBUS__REQUEST__INIT;
                    Hallbus__Requeue rq = HALLBUS__REQUEUE__INIT;
                    rq.number = number;
                    req.command_case = HALLBUS__REQUEST__COMMAND_REQUEUE;
                    req.requeue = &rq;
                    int rc = simple(&req);
                    cr_assert(rc == OK || rc == HALLBUS__STATUS_CODE__REFUSED);
                    requeued += rc == OK;
                    if (rc == OK && idle_count) { /* it may be for an idle window */
                        memset(idle, 0, sizeof idle);
                        idle_count = 0;
                    }
                }
                continue;
            }
            if (roll < 7) {
                Hallbus__Request req = HALLBUS__REQUEST__INIT;
                Hallbus__Transfer tr = HALLBUS__TRANSFER__INIT;
                tr.window = w;
                tr.to_service = (char *)services[rand() % 5];
                tr.reason = "belongs to another service";
                req.command_case = HALLBUS__REQUEST__COMMAND_TRANSFER;
                req.transfer = &tr;
                int rc = simple(&req);
                if (rc == OK) {
                    per_window[w].transfers++;
                    memset(idle, 0, sizeof idle);
                    idle_count = 0;
                    continue;
                }
                /* the same service: served here after all */
            }
            cr_assert_eq(hb_fx_act(&fx, "start", w, NULL), OK);
            cr_assert_eq(hb_fx_finish(&fx, w), OK);
            per_window[w].finished++;
            if (roll % 10 == 9 && number[0])
                rate_and_complain(number, ++rated, &complaints);
        }
    }

    /* every ticket is in exactly one final state */
    cr_assert_eq(db_count("SELECT COUNT(*) FROM tickets"), CITIZENS);
    cr_assert_eq(db_count("SELECT COUNT(DISTINCT number) FROM tickets"), CITIZENS);
    cr_assert_eq(db_count("SELECT COUNT(*) FROM tickets WHERE state NOT IN (4, 5)"), 0,
                 "none waiting, called or being served");
    unsigned finished = 0, no_shows = 0, transfers = 0;
    for (unsigned w = 1; w <= WINDOWS; w++) {
        finished += per_window[w].finished;
        no_shows += per_window[w].no_shows;
        transfers += per_window[w].transfers;
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM tickets WHERE state = 5 AND window = %u",
                 w);
        cr_assert_eq(db_count(sql), (int)per_window[w].finished, "window %u's finished tickets", w);
    }
    cr_assert_eq((unsigned)db_count("SELECT COUNT(*) FROM tickets WHERE state = 5"), finished);
    cr_assert_eq((unsigned)db_count("SELECT COUNT(*) FROM tickets WHERE state = 4"),
                 no_shows - requeued, "no-shows that did not come back");
    cr_assert_eq(finished + no_shows - requeued, CITIZENS);
    cr_assert_eq((unsigned)db_count("SELECT COUNT(*) FROM tickets WHERE priority = 1"), green);
    cr_assert_eq((unsigned)db_count("SELECT COUNT(*) FROM tickets WHERE appointment_code != ''"),
                 appointments);
    cr_assert_gt(transfers, 0, "a few transfers happened");
    cr_assert_gt(appointments, 100);
    cr_assert_gt(green, 50);
    cr_assert_gt(rated, 50, "citizens rated with words");
    cr_assert_gt(complaints, 10, "and complained");

    /* the hall's own status agrees */
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetStatus gs = HALLBUS__GET_STATUS__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &gs;
    Hallbus__Reply *st = send(&req);
    unsigned served = 0, waiting = 0;
    for (size_t i = 0; i < st->status->n_services; i++) {
        served += st->status->services[i]->served_today;
        waiting += st->status->services[i]->waiting;
    }
    cr_assert_eq(served, finished);
    cr_assert_eq(waiting, 0);
    uint64_t last_seq = st->status->seq;
    hallbus__reply__free_unpacked(st, NULL);

    /* the snapshot, which any display may fetch, carries none of it */
    Hallbus__Request sreq = HALLBUS__REQUEST__INIT;
    Hallbus__GetSnapshot gsn = HALLBUS__GET_SNAPSHOT__INIT;
    sreq.command_case = HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT;
    sreq.get_snapshot = &gsn;
    Hallbus__Reply *snap = send(&sreq);
    size_t snap_len = hallbus__reply__get_packed_size(snap);
    uint8_t *snap_bytes = malloc(snap_len);
    hallbus__reply__pack(snap, snap_bytes);
    const char *leak = secret_in(snap_bytes, snap_len);
    cr_assert_null(leak, "the snapshot carries \"%s\"", leak);
    free(snap_bytes);
    hallbus__reply__free_unpacked(snap, NULL);

    /* and so does the event stream, without a gap */
    unsigned issued_events = 0, finished_events = 0, finished_at[WINDOWS + 1] = {0};
    uint64_t seq = 0;
    unsigned envelopes = 0;
    while (seq < last_seq) {
        size_t len = 0;
        uint8_t *raw = next_raw(sub, 10000, &len);
        cr_assert_not_null(raw, "event after #%llu arrives", (unsigned long long)seq);
        envelopes++;
        leak = secret_in(raw, len);
        cr_assert_null(leak, "an envelope after #%llu on the bus carries \"%s\"",
                       (unsigned long long)seq, leak);
        Hallbus__Envelope *e = hallbus__envelope__unpack(NULL, len, raw);
        free(raw);
        cr_assert_not_null(e, "the envelope after #%llu decodes", (unsigned long long)seq);
        if (e->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT) {
            hallbus__envelope__free_unpacked(e, NULL);
            continue;
        }
        cr_assert_eq(e->seq, seq + 1, "no gap in the stream");
        seq = e->seq;
        if (e->event_case == HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED)
            issued_events++;
        if (e->event_case == HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED) {
            finished_events++;
            finished_at[e->service_finished->window]++;
        }
        hallbus__envelope__free_unpacked(e, NULL);
    }
    cr_assert_eq(issued_events, CITIZENS);
    cr_assert_eq(finished_events, finished);
    for (unsigned w = 1; w <= WINDOWS; w++)
        cr_assert_eq(finished_at[w], per_window[w].finished, "window %u in the events", w);
    cr_assert_geq(envelopes, last_seq, "every event was searched");
    zmq_close(sub);
    for (size_t i = 0; i < secrets_count; i++)
        free(secrets[i]);
    free(secrets);
    cr_assert_eq(hb_fixture_stop(&fx), 0, "the daemons stopped cleanly");
}
