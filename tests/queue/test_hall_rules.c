/* The hall's rules: calling policies, business hours, appointments,
 * requeue placement, complaints and staff checks, with an explicit clock. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "hall.h"
#include "hall_fixture.h"
#include "hall_hours.h"

#define OK HALLBUS__STATUS_CODE__OK
#define SEC 1000000LL
#define MIN (60 * SEC)
/* Monday 2026-11-23, local time = UTC in these tests */
#define MON_0900 (1795424400LL * SEC)
#define MON_0000 (MON_0900 - 9 * 60 * MIN)
#define AT(day, h, m) (MON_0000 + (int64_t)(day)*24 * 60 * MIN + ((h)*60 + (m)) * MIN)

static hall_fixture_t fx;
static hb_config_t *config;
static hall_t *hall;
static int64_t now;

static const char RULES_YAML[] =
    "hall: {id: r1, name: Rules hall, address: \"1 Riverside Road\"}\n"
    "services:\n"
    "  - {prefix: A, name: General}\n"
    "  - {prefix: B, name: Licences}\n"
    "  - {prefix: C, name: Permits, appointments: {slot_minutes: 30, capacity: 2,"
    " checkin_before_minutes: 30, checkin_after_minutes: 15}}\n"
    "windows:\n"
    "  - {number: 1, services: [A, B, C]}\n"
    "  - {number: 2, services: [B, A], policy: ordered}\n"
    "  - {number: 3, services: [A, B], policy: weighted, weights: [\"A:3\", \"B:1\"]}\n"
    "  - {number: 4, services: [C, A]}\n"
    "endpoints: {command: \"tcp://127.0.0.1:1\", bus_pub: \"tcp://127.0.0.1:2\","
    " bus_sub: \"tcp://127.0.0.1:3\"}\n"
    "queue: {requeue_minutes: 20, requeue_after: 2}\n"
    "hours:\n"
    "  mon: [\"08:30-12:00\", \"14:00-17:30\"]\n"
    "  tue: [\"08:30-12:00\", \"14:00-17:30\"]\n"
    "  wed: [\"08:30-12:00\", \"14:00-17:30\"]\n"
    "  thu: [\"08:30-12:00\", \"14:00-17:30\"]\n"
    "  fri: [\"08:30-12:00\", \"14:00-17:30\"]\n"
    "  sat: [\"09:00-12:00\"]\n"
    "  holidays: [\"2026-11-25\"]\n"
    "  workdays: [\"2026-11-29\"]\n";

static void setup(void)
{
    hall_fixture_start(&fx, "hall-rules", RULES_YAML);
    config = fx.config;
    now = MON_0900;
    hall = hall_fixture_open(&fx, now);
}

static void teardown(void)
{
    hall_fixture_stop(&fx, &hall);
}

TestSuite(rules, .init = setup, .fini = teardown);

static ticket_t *take_kind(const char *service, bool green)
{
    hall_take_t in = {service, green ? HALLBUS__PRIORITY__GREEN : HALLBUS__PRIORITY__NORMAL,
                      green ? HALLBUS__GREEN_REASON__PREGNANT : 0, NULL, NULL};
    ticket_t *t = NULL;
    hall_err_t err;
    now += SEC;
    cr_assert_eq(hall_take_ticket(hall, &in, now, &t, &err), OK, "take %s: %s", service, err.msg);
    return t;
}

static ticket_t *take(const char *service)
{
    return take_kind(service, false);
}

static void open_window(uint32_t w)
{
    window_t *out;
    hall_err_t err;
    char staff[16];
    snprintf(staff, sizeof staff, "s%u", w);
    cr_assert_eq(hall_open_window(hall, w, staff, NULL, 0, now, &out, &err), OK, "%s", err.msg);
}

static ticket_t *call(uint32_t w)
{
    ticket_t *t = NULL;
    hall_err_t err;
    cr_assert_eq(hall_call_next(hall, w, now, &t, &err), OK, "call %u: %s", w, err.msg);
    return t;
}

static void finish(uint32_t w)
{
    ticket_t *t;
    hall_err_t err;
    cr_assert_eq(hall_start(hall, w, now, &t, &err), OK, "%s", err.msg);
    hall_finish_t f = {HALLBUS__RESULT__COMPLETED, NULL, NULL, 0, NULL};
    cr_assert_eq(hall_finish(hall, w, &f, now, &t, &err), OK, "%s", err.msg);
}

/* ── policies ── */

Test(rules, a_weighted_window_serves_three_to_one_over_a_long_run)
{
    open_window(3);
    for (int i = 0; i < 200; i++) {
        take("A");
        take("B");
    }
    int a = 0, b = 0;
    for (int i = 0; i < 200; i++) {
        ticket_t *t = call(3);
        *(t->service->prefix[0] == 'A' ? &a : &b) += 1;
        finish(3);
    }
    cr_assert_eq(a, 150, "A served %d of 200", a);
    cr_assert_eq(b, 50, "B served %d of 200", b);
}

Test(rules, a_weighted_window_interleaves_rather_than_serving_in_blocks)
{
    open_window(3);
    for (int i = 0; i < 8; i++) {
        take("A");
        take("B");
    }
    char order[9] = "";
    for (int i = 0; i < 8; i++) {
        order[i] = call(3)->service->prefix[0];
        finish(3);
    }
    cr_assert_str_eq(order, "AABAAABA", "smooth round robin: %s", order);
}

Test(rules, an_ordered_window_serves_its_first_service_while_it_has_tickets)
{
    open_window(2);
    ticket_t *a1 = take("A");
    ticket_t *b1 = take("B");
    ticket_t *b2 = take("B");
    cr_assert_eq(call(2), b1, "B is first in window 2's order, though A came earlier");
    finish(2);
    cr_assert_eq(call(2), b2);
    finish(2);
    cr_assert_eq(call(2), a1);
}

Test(rules, a_longest_wait_window_serves_the_oldest_ticket_across_services)
{
    open_window(1);
    ticket_t *b1 = take("B");
    ticket_t *a1 = take("A");
    cr_assert_eq(call(1), b1);
    finish(1);
    cr_assert_eq(call(1), a1);
}

Test(rules, green_tickets_go_first_under_every_policy)
{
    for (uint32_t w = 1; w <= 3; w++) {
        open_window(w);
        take("A");
        take("B");
        ticket_t *g = take_kind("A", true);
        cr_assert_eq(call(w), g, "window %u (%s) calls the green ticket first", w,
                     w == 1   ? "longest-wait"
                     : w == 2 ? "ordered"
                              : "weighted");
        finish(w);
    }
}

Test(rules, a_ticket_called_out_of_order_is_recorded_as_such)
{
    open_window(1);
    take("A");
    ticket_t *b = take("B");
    ticket_t *t;
    hall_err_t err;
    cr_assert_eq(hall_call_ticket(hall, 1, "B001", now, &t, &err), OK, "%s", err.msg);
    cr_assert_eq(t, b);
    hall_commit(hall);
    outbox_item_t *items = hall_outbox_take(hall), *last = items;
    while (last->next)
        last = last->next;
    Hallbus__Envelope *env = hallbus__envelope__unpack(NULL, last->len, last->data);
    cr_assert_eq(env->event_case, HALLBUS__ENVELOPE__EVENT_TICKET_CALLED);
    cr_assert(env->ticket_called->out_of_order);
    hallbus__envelope__free_unpacked(env, NULL);
    hall_outbox_free(items);
    finish(1);
    cr_assert_eq(hall_call_ticket(hall, 2, "A001", now, &t, &err),
                 HALLBUS__STATUS_CODE__INVALID_STATE, "window 2 is closed");
    open_window(4);
    take("B");
    cr_assert_eq(hall_call_ticket(hall, 4, "B002", now, &t, &err),
                 HALLBUS__STATUS_CODE__INVALID_STATE);
    cr_assert(strstr(err.msg, "does not serve"), "%s", err.msg);
}

/* ── requeue ── */

Test(rules, a_no_show_requeues_behind_the_configured_number_of_tickets)
{
    open_window(1);
    ticket_t *first = take("A");
    ticket_t *t;
    hall_err_t err;
    call(1);
    ticket_t *a2 = take("A");
    ticket_t *a3 = take("A");
    ticket_t *a4 = take("A");
    cr_assert_eq(hall_no_show(hall, 1, now, &t, &err), OK);
    cr_assert_eq(hall_requeue(hall, "A001", now, &t, &err), OK, "%s", err.msg);
    cr_assert_eq(first->prev, a3, "behind two tickets (requeue_after: 2)");
    cr_assert_eq(first->next, a4);
    cr_assert_eq(hall_ahead(hall, first), 2);
    (void)a2;
}

Test(rules, a_no_show_cannot_be_requeued_after_the_time_limit)
{
    open_window(1);
    take("A");
    ticket_t *t;
    hall_err_t err;
    call(1);
    cr_assert_eq(hall_no_show(hall, 1, now, &t, &err), OK);
    now += 21 * MIN;
    cr_assert_eq(hall_requeue(hall, "A001", now, &t, &err), HALLBUS__STATUS_CODE__REFUSED);
    cr_assert(strstr(err.msg, "more than 20 minutes ago"), "%s", err.msg);
}

/* ── business hours ── */

static const char *closed_at(int64_t at)
{
    static char why[256];
    return hall_hours_open(&config->hours, at, why, sizeof why) ? NULL : why;
}

Test(rules, the_hall_is_open_in_its_sessions_only)
{
    cr_assert_null(closed_at(AT(0, 8, 30)), "opening minute");
    cr_assert_null(closed_at(AT(0, 11, 59)));
    cr_assert_null(closed_at(AT(0, 14, 0)));
    cr_assert_not_null(closed_at(AT(0, 8, 29)));
    cr_assert_not_null(closed_at(AT(0, 17, 30)), "closing minute is closed");
}

Test(rules, at_lunch_a_ticket_is_refused_with_when_the_hall_opens_again)
{
    now = AT(0, 12, 30);
    hall_take_t in = {"A", HALLBUS__PRIORITY__NORMAL, 0, NULL, NULL};
    ticket_t *t;
    hall_err_t err;
    cr_assert_eq(hall_take_ticket(hall, &in, now, &t, &err), HALLBUS__STATUS_CODE__REFUSED);
    cr_assert(strstr(err.msg, "lunch break"), "%s", err.msg);
    cr_assert(strstr(err.msg, "today at 14:00"), "%s", err.msg);
}

Test(rules, on_a_sunday_the_next_opening_is_monday_morning)
{
    const char *why = closed_at(AT(6, 10, 0)); /* Sunday 2026-11-29 is a workday: see below */
    cr_assert_null(why, "the extra working day keeps Monday's hours");
    why = closed_at(AT(-1, 10, 0)); /* Sunday 2026-11-22 */
    cr_assert_not_null(why);
    cr_assert(strstr(why, "Monday 2026-11-23 at 08:30"), "%s", why);
}

Test(rules, on_a_saturday_afternoon_the_next_opening_skips_the_weekend)
{
    const char *why = closed_at(AT(-2, 13, 0)); /* Saturday 2026-11-21, after its session */
    cr_assert_not_null(why);
    cr_assert(strstr(why, "Monday 2026-11-23 at 08:30"), "%s", why);
    cr_assert_null(closed_at(AT(-2, 9, 30)), "Saturday morning is open");
}

Test(rules, a_holiday_is_closed_all_day_and_says_so)
{
    const char *why = closed_at(AT(2, 10, 0)); /* Wednesday 2026-11-25 */
    cr_assert_not_null(why);
    cr_assert(strstr(why, "for a holiday"), "%s", why);
    cr_assert(strstr(why, "Thursday 2026-11-26 at 08:30"), "%s", why);
}

/* ── appointments ── */

static int book(const char *date, const char *slot, Hallbus__Appointment **a, hall_err_t *err)
{
    return hall_book(hall, "C", date, slot, "+8613800138000", now, a, err);
}

Test(rules, a_slot_takes_its_capacity_and_then_refuses_with_free_slots)
{
    Hallbus__Appointment *a = NULL, *b = NULL, *c = NULL;
    hall_err_t err;
    cr_assert_eq(book("2026-11-24", "09:30", &a, &err), OK, "%s", err.msg);
    cr_assert_eq(book("2026-11-24", "09:30", &b, &err), OK, "%s", err.msg);
    cr_assert_eq(book("2026-11-24", "09:30", &c, &err), HALLBUS__STATUS_CODE__REFUSED);
    cr_assert(strstr(err.msg, "full (2 of 2)"), "%s", err.msg);
    cr_assert(strstr(err.msg, "free: 08:30, 09:00, 10:00"), "%s", err.msg);
    cr_assert_str_neq(a->code, b->code);
    cr_assert_eq(strlen(a->code), 6);
    hall_store_free_appointment(a);
    hall_store_free_appointment(b);
}

Test(rules, booking_is_refused_outside_slots_in_the_past_and_for_services_without_them)
{
    Hallbus__Appointment *a;
    hall_err_t err;
    cr_assert_eq(book("2026-11-24", "12:30", &a, &err), HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                 "lunch is not a slot");
    cr_assert_eq(book("2026-11-24", "09:15", &a, &err), HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                 "slots are on the half hour");
    cr_assert_eq(book("2026-11-23", "08:30", &a, &err), HALLBUS__STATUS_CODE__REFUSED,
                 "already begun");
    cr_assert_eq(book("2026-11-25", "09:00", &a, &err), HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                 "a holiday has no slots");
    cr_assert_eq(hall_book(hall, "A", "2026-11-24", "09:00", NULL, now, &a, &err),
                 HALLBUS__STATUS_CODE__REFUSED);
    cr_assert(strstr(err.msg, "does not take appointments"), "%s", err.msg);
}

Test(rules, check_in_works_only_within_its_window_around_the_slot)
{
    Hallbus__Appointment *a, *in;
    ticket_t *t;
    hall_err_t err;
    cr_assert_eq(book("2026-11-23", "10:30", &a, &err), OK, "%s", err.msg);
    now = AT(0, 9, 59);
    cr_assert_eq(hall_check_in(hall, a->code, now, &in, &t, &err), HALLBUS__STATUS_CODE__REFUSED);
    cr_assert(strstr(err.msg, "opens at 10:00"), "%s", err.msg);
    now = AT(0, 10, 0);
    cr_assert_eq(hall_check_in(hall, a->code, now, &in, &t, &err), OK, "%s", err.msg);
    cr_assert_str_eq(t->channel, "appointment");
    cr_assert_str_eq(t->appointment_code, a->code);
    cr_assert_str_eq(in->ticket_number, t->number);
    hall_store_free_appointment(in);
    cr_assert_eq(hall_check_in(hall, a->code, now, &in, &t, &err),
                 HALLBUS__STATUS_CODE__INVALID_STATE, "only once");
    hall_store_free_appointment(a);
}

Test(rules, a_checked_in_ticket_goes_before_walk_ins_once_its_slot_begins)
{
    Hallbus__Appointment *a, *in;
    ticket_t *t;
    hall_err_t err;
    cr_assert_eq(book("2026-11-23", "10:00", &a, &err), OK, "%s", err.msg);
    open_window(4);
    now = AT(0, 9, 40);
    take("C");
    take("C");
    cr_assert_eq(hall_check_in(hall, a->code, now, &in, &t, &err), OK, "%s", err.msg);
    ticket_t *walk_in = call(4);
    cr_assert_neq(walk_in, t, "before its slot, walk-ins first");
    finish(4);
    now = AT(0, 10, 0);
    cr_assert_eq(call(4), t, "from 10:00 the appointment goes ahead of the other walk-in");
    hall_store_free_appointment(a);
    hall_store_free_appointment(in);
}

Test(rules, an_appointment_nobody_checks_in_for_lapses_after_its_window)
{
    Hallbus__Appointment *a;
    hall_err_t err;
    cr_assert_eq(book("2026-11-23", "10:00", &a, &err), OK, "%s", err.msg);
    cr_assert_eq(hall_lapse_appointments(hall, AT(0, 10, 15)), 0, "still within check-in");
    cr_assert_eq(hall_lapse_appointments(hall, AT(0, 10, 16)), 1);
    Hallbus__Appointment *again = hall_store_load_appointment(hall->store, a->code);
    cr_assert_eq(again->state, HALLBUS__APPOINTMENT_STATE__LAPSED);
    Hallbus__Appointment *in;
    ticket_t *t;
    cr_assert_eq(hall_check_in(hall, a->code, AT(0, 10, 16), &in, &t, &err),
                 HALLBUS__STATUS_CODE__INVALID_STATE);
    cr_assert(strstr(err.msg, "lapsed"), "%s", err.msg);
    hall_store_free_appointment(a);
    hall_store_free_appointment(again);
}

Test(rules, a_cancelled_appointment_frees_its_place)
{
    Hallbus__Appointment *a, *b, *c, *cancelled;
    hall_err_t err;
    cr_assert_eq(book("2026-11-24", "09:30", &a, &err), OK);
    cr_assert_eq(book("2026-11-24", "09:30", &b, &err), OK);
    cr_assert_eq(hall_cancel_appointment(hall, a->code, now, &cancelled, &err), OK);
    hall_store_free_appointment(cancelled);
    cr_assert_eq(book("2026-11-24", "09:30", &c, &err), OK, "%s", err.msg);
    cr_assert_eq(hall_cancel_appointment(hall, a->code, now, &cancelled, &err),
                 HALLBUS__STATUS_CODE__INVALID_STATE);
    hall_store_free_appointment(a);
    hall_store_free_appointment(b);
    hall_store_free_appointment(c);
}

/* ── complaints ── */

Test(rules, a_complaint_is_filed_handled_and_answered_once)
{
    open_window(1);
    take("A");
    call(1);
    finish(1);
    hall_complaint_t in = {"A001", 0, NULL, "waited too long at the window", NULL};
    Hallbus__Complaint *c, *u;
    hall_err_t err;
    cr_assert_eq(hall_file_complaint(hall, &in, now, &c, &err), OK, "%s", err.msg);
    cr_assert_eq(c->window, 1, "the window that served the ticket");
    cr_assert_str_eq(c->staff, "s1");
    cr_assert_eq(hall_update_complaint(hall, c->id, HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED,
                                       "supervisor-wu", NULL, "", now, &u, &err),
                 HALLBUS__STATUS_CODE__INVALID_ARGUMENT, "a reply needs words");
    cr_assert_eq(hall_update_complaint(hall, c->id, HALLBUS__COMPLAINT_STATE__COMPLAINT_IN_PROGRESS,
                                       "supervisor-wu", "talking to the staff", NULL, now, &u,
                                       &err),
                 OK, "%s", err.msg);
    hallbus__complaint__free_unpacked(u, NULL);
    cr_assert_eq(hall_update_complaint(hall, c->id, HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED,
                                       "supervisor-wu", NULL, "apologised; extra window opened",
                                       now, &u, &err),
                 OK, "%s", err.msg);
    cr_assert_str_eq(u->reply, "apologised; extra window opened");
    cr_assert_str_eq(u->note, "talking to the staff", "the handling stays on record");
    hallbus__complaint__free_unpacked(u, NULL);
    cr_assert_eq(hall_update_complaint(hall, c->id, HALLBUS__COMPLAINT_STATE__COMPLAINT_REPLIED,
                                       "x", NULL, "again", now, &u, &err),
                 HALLBUS__STATUS_CODE__INVALID_STATE, "closed");
    hallbus__complaint__free_unpacked(c, NULL);
}

Test(rules, a_complaint_about_nothing_or_an_unknown_ticket_is_refused)
{
    Hallbus__Complaint *c;
    hall_err_t err;
    hall_complaint_t none = {NULL, 0, NULL, "bad", NULL};
    cr_assert_eq(hall_file_complaint(hall, &none, now, &c, &err),
                 HALLBUS__STATUS_CODE__INVALID_ARGUMENT);
    hall_complaint_t unknown = {"Z999", 0, NULL, "bad", NULL};
    cr_assert_eq(hall_file_complaint(hall, &unknown, now, &c, &err),
                 HALLBUS__STATUS_CODE__NOT_FOUND);
}

/* ── staff and overtime, through the command layer ── */

static Hallbus__Reply *handle(Hallbus__Request *req)
{
    queue_counters_t counters = {0};
    uint8_t buf[1024], *out;
    size_t len = hallbus__request__pack(req, buf), outlen;
    queue_handle(hall, buf, len, now, &counters, &out, &outlen);
    Hallbus__Reply *r = hallbus__reply__unpack(NULL, outlen, out);
    free(out);
    return r;
}

Test(rules, a_window_command_from_someone_not_signed_on_there_is_refused)
{
    open_window(1); /* s1 */
    take("A");
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__CallNext cn = HALLBUS__CALL_NEXT__INIT;
    cn.window = 1;
    req.command_case = HALLBUS__REQUEST__COMMAND_CALL_NEXT;
    req.call_next = &cn;
    req.staff = "s2";
    Hallbus__Reply *r = handle(&req);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__PERMISSION_DENIED);
    cr_assert(strstr(r->message, "s2 is not signed on at window 1; it is staffed by s1"), "%s",
              r->message);
    hallbus__reply__free_unpacked(r, NULL);
    req.staff = "s1";
    r = handle(&req);
    cr_assert_eq(r->code, OK, "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);
}

Test(rules, one_person_signs_on_at_one_window_only)
{
    open_window(1); /* s1 */
    window_t *w;
    hall_err_t err;
    cr_assert_eq(hall_open_window(hall, 2, "s1", NULL, 0, now, &w, &err),
                 HALLBUS__STATUS_CODE__INVALID_STATE);
    cr_assert(strstr(err.msg, "already signed on at window 1"), "%s", err.msg);
}

Test(rules, overtime_is_published_for_the_ticket_being_served)
{
    open_window(1);
    take("A");
    ticket_t *t = call(1);
    hall_err_t err;
    ticket_t *out;
    cr_assert_eq(hall_report_overtime(hall, 1, t->number, 1, 900, now, &out, &err),
                 HALLBUS__STATUS_CODE__INVALID_STATE, "not started yet");
    cr_assert_eq(hall_start(hall, 1, now, &out, &err), OK);
    cr_assert_eq(hall_report_overtime(hall, 1, "A999", 1, 900, now, &out, &err),
                 HALLBUS__STATUS_CODE__INVALID_STATE);
    cr_assert_eq(hall_report_overtime(hall, 1, t->number, 3, 900, now, &out, &err),
                 HALLBUS__STATUS_CODE__INVALID_ARGUMENT);
    uint64_t seq = hall->seq;
    cr_assert_eq(hall_report_overtime(hall, 1, t->number, 2, 1800, now, &out, &err), OK, "%s",
                 err.msg);
    cr_assert_eq(hall->seq, seq + 1);
}

/* ── the one definition of waiting and of a place in line ── */

#include "hall_view.h"
#include "hallbus/line_places.h"

/* Every event published so far, applied to a follower's table of places:
 * the places it learns must be hall-queue's own, ticket by ticket. */
static void expect_follower_agrees(hb_line_places_t *lp)
{
    hall_commit(hall);
    for (outbox_item_t *it = hall_outbox_take(hall), *next; it; it = next) {
        next = it->next;
        Hallbus__Envelope *env = hallbus__envelope__unpack(NULL, it->len, it->data);
        cr_assert_not_null(env);
        cr_assert_eq(hb_line_places_apply(lp, env), 0, "event #%llu fits",
                     (unsigned long long)env->seq);
        hallbus__envelope__free_unpacked(env, NULL);
        it->next = NULL;
        hall_outbox_free(it);
    }
    size_t waiting = 0;
    for (ticket_t *t = hall->by_id; t; t = t->hh_id.next) {
        if (t->state != HALLBUS__TICKET_STATE__WAITING)
            continue;
        waiting++;
        cr_assert_eq(hb_line_places_place(lp, t->id), (int64_t)hall_place(t), "%s", t->number);
    }
    cr_assert_eq(hb_line_places_total(lp), waiting);
}

Test(rules, a_checked_in_appointment_is_waiting_and_every_place_agrees)
{
    Hallbus__Appointment *a, *in;
    ticket_t *appt;
    hall_err_t err;
    hb_line_places_t *lp = hb_line_places_new();
    hall_outbox_free(hall_outbox_take(hall));
    cr_assert_eq(book("2026-11-23", "10:00", &a, &err), OK, "%s", err.msg);
    open_window(4);
    now = AT(0, 9, 40);
    ticket_t *w1 = take("C");
    take("C");
    cr_assert_eq(hall_check_in(hall, a->code, now, &in, &appt, &err), OK, "%s", err.msg);
    ticket_t *w3 = take("C");

    hall_view_t v;
    hall_view_status(hall, now, &v);
    const Hallbus__ServiceSummary *c = NULL;
    for (size_t i = 0; i < v.status.n_services; i++)
        if (strcmp(v.status.services[i]->prefix, "C") == 0)
            c = v.status.services[i];
    cr_assert_eq(c->waiting, 4, "the checked-in appointment waits too");
    cr_assert_eq(hall_place(appt), 3, "before its slot it comes after the walk-ins");
    cr_assert_eq(hall_place(w3), 2);
    cr_assert_eq(c->estimated_wait_s, hall_estimated_wait(hall, appt->service, 4));
    hall_view_free(&v);
    expect_follower_agrees(lp);

    now = AT(0, 10, 0);
    cr_assert_eq(hall_lines_tick(hall, now), 1, "its slot begins");
    cr_assert_eq(hall_place(appt), 0);
    cr_assert_eq(hall_place(w1), 1);
    expect_follower_agrees(lp);
    cr_assert_eq(call(4), appt);
    cr_assert_eq(hall_place(w3), 2);
    expect_follower_agrees(lp);
    finish(4);
    cr_assert_eq(call(4), w1);
    expect_follower_agrees(lp);
    hb_line_places_destroy(&lp);
    hall_store_free_appointment(a);
    hall_store_free_appointment(in);
}
