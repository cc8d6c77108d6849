/* Citizens' data stays private, with an explicit clock: events carry no
 * complaint words, evaluation comment, contact or appointment code; a
 * ticket's own view needs its token; contacts go after their retention;
 * the table of which roles run each command. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command_roles.h"
#include "commands.h"
#include "hall.h"
#include "hall_fixture.h"

#define OK HALLBUS__STATUS_CODE__OK
#define SEC 1000000LL
#define DAY (86400 * SEC)
/* Monday 2026-11-23 09:00, local time = UTC in these tests */
#define MON_0900 (1795424400LL * SEC)

static hall_fixture_t fx;
static hb_config_t *config;
static hall_t *hall;
static int64_t now;

static const char YAML[] =
    "hall: {id: p1, name: Privacy hall}\n"
    "services:\n"
    "  - {prefix: A, name: General}\n"
    "  - {prefix: C, name: Permits, appointments: {slot_minutes: 30, capacity: 2,"
    " checkin_before_minutes: 60, checkin_after_minutes: 15}}\n"
    "windows:\n"
    "  - {number: 1, services: [A, C]}\n"
    "endpoints: {command: \"tcp://127.0.0.1:1\", bus_pub: \"tcp://127.0.0.1:2\","
    " bus_sub: \"tcp://127.0.0.1:3\"}\n"
    "queue: {contact_retention_days: 10, contact_secret: \"0123456789abcdef\"}\n";

static void setup(void)
{
    hall_fixture_start(&fx, "hall-privacy", YAML);
    config = fx.config;
    now = MON_0900;
    hall = hall_fixture_open(&fx, now);
}

static void teardown(void)
{
    hall_fixture_stop(&fx, &hall);
}

TestSuite(privacy, .init = setup, .fini = teardown);

/* Sends REQ through the command handler; the caller frees the reply. */
static Hallbus__Reply *run(Hallbus__Request *req)
{
    size_t len = hallbus__request__get_packed_size(req);
    uint8_t *buf = malloc(len + 1), *out;
    hallbus__request__pack(req, buf);
    size_t outlen;
    queue_counters_t counters = {0};
    queue_handle(hall, buf, len, now, &counters, &out, &outlen);
    free(buf);
    hall_commit(hall);
    Hallbus__Reply *r = hallbus__reply__unpack(NULL, outlen, out);
    free(out);
    cr_assert_not_null(r);
    return r;
}

static Hallbus__Reply *take(const char *service, const char *contact)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__TakeTicket t = HALLBUS__TAKE_TICKET__INIT;
    t.service = (char *)service;
    t.contact = (char *)contact;
    req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
    req.take_ticket = &t;
    Hallbus__Reply *r = run(&req);
    cr_assert_eq(r->code, OK, "%s", r->message);
    return r;
}

static Hallbus__Reply *my_ticket(const char *token)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetMyTicket g = HALLBUS__GET_MY_TICKET__INIT;
    g.token = (char *)token;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_MY_TICKET;
    req.get_my_ticket = &g;
    return run(&req);
}

static int resolve(const char *ref)
{
    char *contact = NULL, *number = NULL, *date = NULL;
    int rc = hall_store_resolve_contact(hall->store, ref, &contact, &number, &date);
    free(contact);
    free(number);
    free(date);
    return rc;
}

/* Whether NEEDLE occurs in any event published since the last call. */
static bool on_the_bus(const char *const *needles, size_t count, char *which, size_t whichlen)
{
    outbox_item_t *items = hall_outbox_take(hall);
    bool found = false;
    for (outbox_item_t *i = items; i && !found; i = i->next)
        for (size_t k = 0; k < count && !found; k++)
            if (memmem(i->data, i->len, needles[k], strlen(needles[k]))) {
                snprintf(which, whichlen, "\"%s\" in event #%llu (%s)", needles[k],
                         (unsigned long long)i->seq, i->topic);
                found = true;
            }
    hall_outbox_free(items);
    return found;
}

Test(privacy, a_tickets_own_view_needs_its_token_which_no_event_carries)
{
    Hallbus__Reply *r = take("A", NULL);
    cr_assert_eq(strlen(r->ticket_token), 43, "32 random bytes in URL-safe base64");
    char token[64];
    snprintf(token, sizeof token, "%s", r->ticket_token);
    hallbus__reply__free_unpacked(r, NULL);
    Hallbus__Reply *other = take("A", NULL);
    cr_assert_str_neq(other->ticket_token, token, "each ticket its own token");
    hallbus__reply__free_unpacked(other, NULL);

    Hallbus__Reply *mine = my_ticket(token);
    cr_assert_eq(mine->code, OK, "%s", mine->message);
    cr_assert_str_eq(mine->ticket->number, "A001");
    cr_assert_eq(mine->ticket->state, HALLBUS__TICKET_STATE__WAITING);
    cr_assert_eq(mine->ticket->place, 0);
    cr_assert_str_eq(mine->ticket->staff, "", "the holder's view names no staff");
    hallbus__reply__free_unpacked(mine, NULL);

    Hallbus__Reply *none = my_ticket("A001");
    cr_assert_eq(none->code, HALLBUS__STATUS_CODE__NOT_FOUND, "its number is no token");
    cr_assert(strstr(none->message, "no ticket has this token"), "%s", none->message);
    hallbus__reply__free_unpacked(none, NULL);

    /* the snapshot and the events carry none of it */
    char which[128];
    const char *secrets[] = {token};
    cr_assert_not(on_the_bus(secrets, 1, which, sizeof which), "%s", which);
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetSnapshot gs = HALLBUS__GET_SNAPSHOT__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT;
    req.get_snapshot = &gs;
    Hallbus__Reply *snap = run(&req);
    uint8_t packed[65536];
    size_t n = hallbus__reply__pack(snap, packed);
    cr_assert_null(memmem(packed, n, token, strlen(token)), "the snapshot has no token");
    hallbus__reply__free_unpacked(snap, NULL);

    /* the token survives a restart, and is of its day only */
    hall_destroy(&hall);
    char err[256];
    hall_store_t *store = hall_store_open(fx.db_path, err, sizeof err);
    hall = hall_new(config, store, now, err, sizeof err);
    cr_assert_not_null(hall, "%s", err);
    mine = my_ticket(token);
    cr_assert_eq(mine->code, OK, "after a restart: %s", mine->message);
    hallbus__reply__free_unpacked(mine, NULL);
    now += DAY;
    hall_rollover(hall, now);
    hall_commit(hall);
    Hallbus__Reply *old = my_ticket(token);
    cr_assert_eq(old->code, HALLBUS__STATUS_CODE__NOT_FOUND);
    cr_assert(strstr(old->message, "2026-11-23"), "says which day: %s", old->message);
    hallbus__reply__free_unpacked(old, NULL);
}

Test(privacy, no_event_carries_a_complaints_words_a_comment_a_contact_or_an_appointment_code)
{
    const char *contact = "+86 139 0000 1234";
    Hallbus__Reply *t = take("A", contact);
    hallbus__reply__free_unpacked(t, NULL);
    ticket_t *served;
    hall_err_t err;
    cr_assert_eq(hall_open_window(hall, 1, "clerk-1", NULL, 0, now, &(window_t *){0}, &err), OK);
    cr_assert_eq(hall_call_next(hall, 1, now, &served, &err), OK, "%s", err.msg);
    cr_assert_eq(hall_start(hall, 1, now, &served, &err), OK);
    hall_finish_t fin = {HALLBUS__RESULT__COMPLETED, NULL, NULL, 0, NULL};
    cr_assert_eq(hall_finish(hall, 1, &fin, now, &served, &err), OK, "%s", err.msg);
    const char *comment = "the clerk read my ID 110101199001011234 aloud";
    cr_assert_eq(hall_evaluate(hall, "A001", 4, comment, now, &served, &err), OK, "%s", err.msg);

    const char *words = "my phone 13800138000 was written on the board";
    hall_complaint_t in = {"A001", 0, NULL, words, "complainer@example.org"};
    Hallbus__Complaint *c;
    cr_assert_eq(hall_file_complaint(hall, &in, now, &c, &err), OK, "%s", err.msg);
    uint64_t id = c->id;
    hallbus__complaint__free_unpacked(c, NULL);
    const char *note = "called the citizen at 13800138000";
    const char *answer = "apologised to Ms Wang of 12 Elm Street";
    cr_assert_eq(hall_update_complaint(hall, id, HALLBUS__COMPLAINT_STATE__COMPLAINT_IN_PROGRESS,
                                       "sup-1", note, NULL, now, &c, &err),
                 OK);
    hallbus__complaint__free_unpacked(c, NULL);
    cr_assert_eq(hall_update_complaint(hall, id, HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED,
                                       "sup-1", NULL, answer, now, &c, &err),
                 OK);
    hallbus__complaint__free_unpacked(c, NULL);

    Hallbus__Appointment *a;
    cr_assert_eq(hall_book(hall, "C", "2026-11-23", "10:00", "booker@example.org", now, &a, &err),
                 OK, "%s", err.msg);
    char code[16];
    snprintf(code, sizeof code, "%s", a->code);
    cr_assert_gt(a->id, 0, "an appointment has an id");
    hallbus__appointment__free_unpacked(a, NULL);
    ticket_t *checked;
    cr_assert_eq(hall_check_in(hall, code, now, &a, &checked, &err), OK, "%s", err.msg);
    hallbus__appointment__free_unpacked(a, NULL);
    hall_commit(hall);

    char which[160];
    const char *secrets[] = {contact, comment, words, note, answer, code, "complainer@", "booker@"};
    cr_assert_not(on_the_bus(secrets, sizeof secrets / sizeof secrets[0], which, sizeof which),
                  "%s", which);

    /* and the authorised commands still read them */
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetComplaint gc = HALLBUS__GET_COMPLAINT__INIT;
    gc.id = id;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_COMPLAINT;
    req.get_complaint = &gc;
    Hallbus__Reply *r = run(&req);
    cr_assert_eq(r->code, OK, "%s", r->message);
    cr_assert_str_eq(r->complaint->text, words);
    cr_assert_str_eq(r->complaint->reply, answer);
    hallbus__reply__free_unpacked(r, NULL);
    gc.id = id + 100;
    r = run(&req);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__NOT_FOUND);
    hallbus__reply__free_unpacked(r, NULL);

    Hallbus__Request lreq = HALLBUS__REQUEST__INIT;
    Hallbus__ListEvaluations le = HALLBUS__LIST_EVALUATIONS__INIT;
    le.commented_only = true;
    lreq.command_case = HALLBUS__REQUEST__COMMAND_LIST_EVALUATIONS;
    lreq.list_evaluations = &le;
    r = run(&lreq);
    cr_assert_eq(r->code, OK, "%s", r->message);
    cr_assert_eq(r->evaluations->n_evaluations, 1);
    cr_assert_str_eq(r->evaluations->evaluations[0]->comment, comment);
    cr_assert_str_eq(r->evaluations->evaluations[0]->ticket_number, "A001");
    cr_assert_eq(r->evaluations->evaluations[0]->rating, 4);
    hallbus__reply__free_unpacked(r, NULL);
}

Test(privacy, contacts_older_than_the_retention_are_deleted_and_recent_ones_stay)
{
    cr_assert_eq(config->queue.contact_retention_days, 10);
    Hallbus__Reply *old = take("A", "old@example.org");
    char old_ref[32];
    snprintf(old_ref, sizeof old_ref, "%s", old->ticket->contact_ref);
    hallbus__reply__free_unpacked(old, NULL);

    now += 5 * DAY;
    hall_rollover(hall, now);
    hall_commit(hall);
    Hallbus__Reply *recent = take("A", "recent@example.org");
    char recent_ref[32];
    snprintf(recent_ref, sizeof recent_ref, "%s", recent->ticket->contact_ref);
    hallbus__reply__free_unpacked(recent, NULL);
    cr_assert_eq(hall_purge_contacts(hall, now, HALL_CONTACT_PURGE_BATCH), 0, "none is 10 days");
    hall_commit(hall);

    now += 5 * DAY + SEC; /* the first is 10 days and a second old, the other 5 days */
    cr_assert_eq(hall_purge_contacts(hall, now, HALL_CONTACT_PURGE_BATCH), 1);
    hall_commit(hall);
    cr_assert_eq(resolve(old_ref), -1, "the old contact is gone from the store");
    cr_assert_eq(resolve(recent_ref), 0, "the recent one stays");

    /* and ResolveContact says so */
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__ResolveContact rc = HALLBUS__RESOLVE_CONTACT__INIT;
    rc.contact_ref = old_ref;
    rc.secret = "0123456789abcdef";
    req.command_case = HALLBUS__REQUEST__COMMAND_RESOLVE_CONTACT;
    req.resolve_contact = &rc;
    Hallbus__Reply *r = run(&req);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__NOT_FOUND, "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);
}

Test(privacy, contacts_go_in_small_batches)
{
    char contact[32];
    for (int i = 0; i < 5; i++) {
        snprintf(contact, sizeof contact, "c%d@example.org", i);
        hallbus__reply__free_unpacked(take("A", contact), NULL);
    }
    now += 11 * DAY;
    cr_assert_eq(hall_purge_contacts(hall, now, 2), 2);
    cr_assert_eq(hall_purge_contacts(hall, now, 2), 2);
    cr_assert_eq(hall_purge_contacts(hall, now, 2), 1);
    cr_assert_eq(hall_purge_contacts(hall, now, 2), 0);
    hall_commit(hall);
}

Test(privacy, a_booked_appointments_contact_waits_for_the_appointment)
{
    Hallbus__Appointment *a;
    hall_err_t err;
    cr_assert_eq(hall_book(hall, "C", "2026-12-30", "10:00", "later@example.org", now, &a, &err),
                 OK, "%s", err.msg);
    char ref[32];
    snprintf(ref, sizeof ref, "%s", a->contact_ref);
    hallbus__appointment__free_unpacked(a, NULL);
    hall_commit(hall);
    cr_assert_eq(hall_purge_contacts(hall, now + 20 * DAY, HALL_CONTACT_PURGE_BATCH), 0);
    hall_commit(hall);
    cr_assert_eq(resolve(ref), 0);
}

/* ── the roles table ── */

Test(roles, every_command_of_the_protocol_has_a_row_and_the_operator_runs_all)
{
    const ProtobufCMessageDescriptor *d = &hallbus__request__descriptor;
    unsigned commands = 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        commands++;
        if (f->id == HALLBUS__REQUEST__COMMAND_SIGN_ON ||
            f->id == HALLBUS__REQUEST__COMMAND_SIGN_OFF) {
            /* hall-counter's alone: hall-queue takes a password from no one */
            cr_assert_not(queue_role_may("operator", (Hallbus__Request__CommandCase)f->id),
                          "%s is hall-counter's, never hall-queue's", f->name);
            continue;
        }
        cr_assert(queue_role_may("operator", (Hallbus__Request__CommandCase)f->id),
                  "%s has a row in the table", f->name);
    }
    cr_assert_geq(commands, 31);
}

Test(roles, a_kiosk_takes_books_rates_and_sees_its_own_ticket_but_runs_no_window)
{
    Hallbus__Request__CommandCase yes[] = {
        HALLBUS__REQUEST__COMMAND_TAKE_TICKET,        HALLBUS__REQUEST__COMMAND_BOOK_APPOINTMENT,
        HALLBUS__REQUEST__COMMAND_CANCEL_APPOINTMENT, HALLBUS__REQUEST__COMMAND_CHECK_IN,
        HALLBUS__REQUEST__COMMAND_EVALUATE,           HALLBUS__REQUEST__COMMAND_GET_MY_TICKET};
    Hallbus__Request__CommandCase no[] = {
        HALLBUS__REQUEST__COMMAND_CALL_NEXT,        HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW,
        HALLBUS__REQUEST__COMMAND_UPDATE_COMPLAINT, HALLBUS__REQUEST__COMMAND_GET_TICKET,
        HALLBUS__REQUEST__COMMAND_LIST_COMPLAINTS,  HALLBUS__REQUEST__COMMAND_GET_COMPLAINT,
        HALLBUS__REQUEST__COMMAND_LIST_EVALUATIONS, HALLBUS__REQUEST__COMMAND_RESOLVE_CONTACT,
        HALLBUS__REQUEST__COMMAND_FETCH_EVENTS,     HALLBUS__REQUEST__COMMAND_LIST_APPOINTMENTS};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        cr_assert(queue_role_may("kiosk", yes[i]), "command %d", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        cr_assert_not(queue_role_may("kiosk", no[i]), "command %d", no[i]);
}

Test(roles, each_role_runs_its_own_commands_only)
{
    cr_assert(queue_role_may("counter", HALLBUS__REQUEST__COMMAND_CALL_NEXT));
    cr_assert(queue_role_may("counter", HALLBUS__REQUEST__COMMAND_GET_TICKET));
    cr_assert(queue_role_may("counter", HALLBUS__REQUEST__COMMAND_REPORT_OVERTIME));
    cr_assert_not(queue_role_may("counter", HALLBUS__REQUEST__COMMAND_UPDATE_COMPLAINT));
    cr_assert_not(queue_role_may("counter", HALLBUS__REQUEST__COMMAND_RESOLVE_CONTACT));
    cr_assert(queue_role_may("supervisor", HALLBUS__REQUEST__COMMAND_UPDATE_COMPLAINT));
    cr_assert(queue_role_may("supervisor", HALLBUS__REQUEST__COMMAND_LIST_EVALUATIONS));
    cr_assert(queue_role_may("supervisor", HALLBUS__REQUEST__COMMAND_MARK_READY));
    cr_assert(queue_role_may("supervisor", HALLBUS__REQUEST__COMMAND_GET_TICKET));
    cr_assert_not(queue_role_may("supervisor", HALLBUS__REQUEST__COMMAND_CALL_NEXT));
    cr_assert(queue_role_may("display", HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT));
    cr_assert(queue_role_may("audit", HALLBUS__REQUEST__COMMAND_FETCH_EVENTS));
    cr_assert_not(queue_role_may("display", HALLBUS__REQUEST__COMMAND_GET_TICKET));
    cr_assert_not(queue_role_may("display", HALLBUS__REQUEST__COMMAND_RESOLVE_CONTACT));
    cr_assert_not(queue_role_may("audit", HALLBUS__REQUEST__COMMAND_GET_COMPLAINT));
    cr_assert(queue_role_may("notifier", HALLBUS__REQUEST__COMMAND_RESOLVE_CONTACT));
    cr_assert_not(queue_role_may("notifier", HALLBUS__REQUEST__COMMAND_TAKE_TICKET));
    /* daemons' own keys, unknown roles and none run nothing */
    cr_assert_not(queue_role_may("queue", HALLBUS__REQUEST__COMMAND_GET_STATUS));
    cr_assert_not(queue_role_may("bus", HALLBUS__REQUEST__COMMAND_GET_STATUS));
    cr_assert_not(queue_role_may("root", HALLBUS__REQUEST__COMMAND_GET_STATUS));
    cr_assert_not(queue_role_may(NULL, HALLBUS__REQUEST__COMMAND_GET_STATUS));
    cr_assert_not(queue_role_may("operator", (Hallbus__Request__CommandCase)999));
}

Test(roles, the_refusal_names_the_roles_needed)
{
    char out[128];
    cr_assert_str_eq(
        queue_command_roles(HALLBUS__REQUEST__COMMAND_UPDATE_COMPLAINT, out, sizeof out),
        "supervisor, operator");
    cr_assert_str_eq(queue_command_roles(HALLBUS__REQUEST__COMMAND_GET_TICKET, out, sizeof out),
                     "counter, supervisor, operator");
}
