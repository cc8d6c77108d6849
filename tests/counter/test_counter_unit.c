/* hall-counter's pure parts: the routing table (which commands a counter
 * forwards, and its refusals) and the service timers' decisions, with an
 * injected clock. (Requests in flight to hall-queue, their ids and
 * time-outs are the shared client's: tests/common/test_client_server.c.) */
#include <criterion/criterion.h>

#include <string.h>

#include "overtime.h"
#include "route.h"

#define OK HALLBUS__STATUS_CODE__OK

/* ── a hall of windows 1-4 and 7: counter c1 serves 1-3, c2 serves 7 ── */

static hb_window_conf_t hall_windows[] = {
    {.number = 1}, {.number = 2}, {.number = 3}, {.number = 4}, {.number = 7}};
static uint32_t c1_windows[] = {1, 2, 3};
static uint32_t c2_windows[] = {7};
static hb_counter_instance_t instances[] = {
    {.id = "c1", .endpoint = "tcp://127.0.0.1:5560", .windows = c1_windows, .windows_count = 3},
    {.id = "c2", .endpoint = "tcp://127.0.0.1:5561", .windows = c2_windows, .windows_count = 1},
};
static hb_config_t hall = {
    .hall = {.id = "h1"},
    .windows = hall_windows,
    .windows_count = 5,
    .endpoints = {.command = "tcp://127.0.0.1:5550"},
    .counter = {.instances = instances, .instances_count = 2},
};
static const route_table_t c1 = {.config = &hall, .self = &instances[0]};

static char msg[512];

static Hallbus__StatusCode check_call(uint32_t window, const char *staff)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__CallNext cn = HALLBUS__CALL_NEXT__INIT;
    cn.window = window;
    req.command_case = HALLBUS__REQUEST__COMMAND_CALL_NEXT;
    req.call_next = &cn;
    req.staff = (char *)staff;
    return route_check(&c1, &req, msg, sizeof msg);
}

Test(route, a_window_command_for_a_served_window_with_staff_is_forwarded)
{
    cr_assert_eq(check_call(2, "s1"), OK, "%s", msg);
}

Test(route, a_window_of_another_counter_is_refused_naming_who_serves_it)
{
    cr_assert_eq(check_call(7, "s1"), HALLBUS__STATUS_CODE__INVALID_STATE);
    cr_assert(strstr(msg, "window 7 is not served by this counter (c1 serves 1-3)"), "%s", msg);
    cr_assert(strstr(msg, "counter c2 at tcp://127.0.0.1:5561 serves it"), "%s", msg);
}

Test(route, a_window_no_counter_serves_is_refused)
{
    cr_assert_eq(check_call(4, "s1"), HALLBUS__STATUS_CODE__INVALID_STATE);
    cr_assert(strstr(msg, "no counter serves it"), "%s", msg);
}

Test(route, a_window_the_hall_does_not_have_is_not_found)
{
    cr_assert_eq(check_call(99, "s1"), HALLBUS__STATUS_CODE__NOT_FOUND);
    cr_assert(strstr(msg, "there is no window 99 in hall h1"), "%s", msg);
}

/* who acts is the session's (signon.c): the routing does not look at Request.staff */
Test(route, a_window_command_is_routed_whatever_its_staff_field_says)
{
    cr_assert_eq(check_call(1, ""), OK, "%s", msg);
}

Test(route, a_sign_on_is_routed_by_its_window_like_a_window_command)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__SignOn so = HALLBUS__SIGN_ON__INIT;
    so.window = 2;
    req.command_case = HALLBUS__REQUEST__COMMAND_SIGN_ON;
    req.sign_on = &so;
    uint32_t w = 0;
    cr_assert(route_window_command(&req, &w));
    cr_assert_eq(w, 2);
    cr_assert_eq(route_check(&c1, &req, msg, sizeof msg), OK, "%s", msg);
    so.window = 7;
    cr_assert_eq(route_check(&c1, &req, msg, sizeof msg), HALLBUS__STATUS_CODE__INVALID_STATE);
    cr_assert(strstr(msg, "counter c2"), "%s", msg);
}

Test(route, window_zero_is_refused)
{
    cr_assert_eq(check_call(0, "s1"), HALLBUS__STATUS_CODE__INVALID_ARGUMENT);
}

Test(route, every_window_command_names_its_window)
{
    Hallbus__OpenWindow o = HALLBUS__OPEN_WINDOW__INIT;
    Hallbus__PauseWindow p = HALLBUS__PAUSE_WINDOW__INIT;
    Hallbus__ResumeWindow r = HALLBUS__RESUME_WINDOW__INIT;
    Hallbus__CloseWindow cl = HALLBUS__CLOSE_WINDOW__INIT;
    Hallbus__CallTicket ct = HALLBUS__CALL_TICKET__INIT;
    Hallbus__Recall rc = HALLBUS__RECALL__INIT;
    Hallbus__MarkNoShow ns = HALLBUS__MARK_NO_SHOW__INIT;
    Hallbus__Transfer tr = HALLBUS__TRANSFER__INIT;
    Hallbus__StartService st = HALLBUS__START_SERVICE__INIT;
    Hallbus__FinishService fi = HALLBUS__FINISH_SERVICE__INIT;
    o.window = 1, p.window = 2, r.window = 3, cl.window = 4, ct.window = 5, rc.window = 6;
    ns.window = 7, tr.window = 8, st.window = 9, fi.window = 10;
    Hallbus__Request reqs[10];
    for (int i = 0; i < 10; i++)
        hallbus__request__init(&reqs[i]);
    reqs[0].command_case = HALLBUS__REQUEST__COMMAND_OPEN_WINDOW, reqs[0].open_window = &o;
    reqs[1].command_case = HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW, reqs[1].pause_window = &p;
    reqs[2].command_case = HALLBUS__REQUEST__COMMAND_RESUME_WINDOW, reqs[2].resume_window = &r;
    reqs[3].command_case = HALLBUS__REQUEST__COMMAND_CLOSE_WINDOW, reqs[3].close_window = &cl;
    reqs[4].command_case = HALLBUS__REQUEST__COMMAND_CALL_TICKET, reqs[4].call_ticket = &ct;
    reqs[5].command_case = HALLBUS__REQUEST__COMMAND_RECALL, reqs[5].recall = &rc;
    reqs[6].command_case = HALLBUS__REQUEST__COMMAND_NO_SHOW, reqs[6].no_show = &ns;
    reqs[7].command_case = HALLBUS__REQUEST__COMMAND_TRANSFER, reqs[7].transfer = &tr;
    reqs[8].command_case = HALLBUS__REQUEST__COMMAND_START_SERVICE, reqs[8].start_service = &st;
    reqs[9].command_case = HALLBUS__REQUEST__COMMAND_FINISH_SERVICE, reqs[9].finish_service = &fi;
    for (uint32_t i = 0; i < 10; i++) {
        uint32_t w = 0;
        cr_assert(route_window_command(&reqs[i], &w), "request %u", i);
        cr_assert_eq(w, i + 1, "request %u names window %u", i, w);
    }
}

Test(route, reads_are_forwarded_without_staff)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetStatus gs = HALLBUS__GET_STATUS__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &gs;
    cr_assert_eq(route_check(&c1, &req, msg, sizeof msg), OK, "%s", msg);
}

Test(route, other_commands_are_refused_saying_where_they_belong)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__TakeTicket tt = HALLBUS__TAKE_TICKET__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
    req.take_ticket = &tt;
    req.staff = "s1";
    cr_assert_eq(route_check(&c1, &req, msg, sizeof msg), HALLBUS__STATUS_CODE__UNKNOWN_COMMAND);
    cr_assert(strstr(msg, "send take to hall-queue at tcp://127.0.0.1:5550"), "%s", msg);

    Hallbus__Request none = HALLBUS__REQUEST__INIT;
    cr_assert_eq(route_check(&c1, &none, msg, sizeof msg), HALLBUS__STATUS_CODE__UNKNOWN_COMMAND);
}

Test(route, a_terminal_may_not_report_overtime)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__ReportOvertime ro = HALLBUS__REPORT_OVERTIME__INIT;
    ro.window = 1;
    req.command_case = HALLBUS__REQUEST__COMMAND_REPORT_OVERTIME;
    req.report_overtime = &ro;
    req.staff = "s1";
    cr_assert_eq(route_check(&c1, &req, msg, sizeof msg), HALLBUS__STATUS_CODE__PERMISSION_DENIED);
}

/* ── service timers: one "minute" is 1000 ms here ── */

#define S 1000000LL /* one second in µs */
#define T0 (1700000000LL * S)

static ot_table_t ot;
static const uint32_t windows[] = {1, 2, 5};

static void ot_setup(void)
{
    cr_assert_eq(ot_init(&ot, windows, 3, 1000), 0);
}

static void ot_teardown(void)
{
    ot_free(&ot);
}

TestSuite(overtime, .init = ot_setup, .fini = ot_teardown);

Test(overtime, level_one_at_the_target_and_level_two_at_twice_once_each)
{
    ot_due_t due[4];
    ot_start(&ot, 2, "A001", T0, 3); /* target: 3 "minutes" = 3 s */
    cr_assert_eq(ot_next_due(&ot), T0 + 3 * S);
    cr_assert_eq(ot_collect(&ot, T0 + 3 * S - 1, due, 4), 0, "not before the target");
    cr_assert_eq(ot_collect(&ot, T0 + 3 * S, due, 4), 1);
    cr_assert_eq(due[0].window, 2);
    cr_assert_str_eq(due[0].number, "A001");
    cr_assert_eq(due[0].level, 1);
    cr_assert_eq(due[0].elapsed_seconds, 3);
    cr_assert_eq(due[0].target_minutes, 3);
    cr_assert_eq(ot_collect(&ot, T0 + 4 * S, due, 4), 0, "level 1 once");
    cr_assert_eq(ot_next_due(&ot), T0 + 6 * S);
    cr_assert_eq(ot_collect(&ot, T0 + 6 * S, due, 4), 1);
    cr_assert_eq(due[0].level, 2);
    cr_assert_eq(due[0].elapsed_seconds, 6);
    cr_assert_eq(ot_collect(&ot, T0 + 60 * S, due, 4), 0, "level 2 once; nothing after");
    cr_assert_eq(ot_next_due(&ot), -1);
}

Test(overtime, a_service_learnt_late_is_warned_once_at_the_level_it_has_reached)
{
    ot_due_t due[4];
    ot_start(&ot, 1, "B002", T0, 1);
    cr_assert_eq(ot_collect(&ot, T0 + 5 * S, due, 4), 1);
    cr_assert_eq(due[0].level, 2);
    cr_assert_eq(ot_collect(&ot, T0 + 9 * S, due, 4), 0);
}

Test(overtime, finish_transfer_no_show_or_a_new_call_clear_the_timer)
{
    ot_due_t due[4];
    ot_start(&ot, 1, "A001", T0, 1);
    ot_start(&ot, 2, "A002", T0, 1);
    ot_start(&ot, 5, "A003", T0, 1);
    ot_clear(&ot, 1);
    ot_clear(&ot, 5);
    cr_assert_eq(ot_collect(&ot, T0 + 1 * S, due, 4), 1);
    cr_assert_eq(due[0].window, 2);
    ot_clear_all(&ot);
    cr_assert_eq(ot_collect(&ot, T0 + 10 * S, due, 4), 0);
    cr_assert_eq(ot_next_due(&ot), -1);
}

Test(overtime, a_new_service_at_the_window_starts_afresh)
{
    ot_due_t due[4];
    ot_start(&ot, 1, "A001", T0, 1);
    cr_assert_eq(ot_collect(&ot, T0 + 1 * S, due, 4), 1);
    ot_start(&ot, 1, "A004", T0 + 2 * S, 1);
    cr_assert_eq(ot_collect(&ot, T0 + 2 * S, due, 4), 0);
    cr_assert_eq(ot_collect(&ot, T0 + 3 * S, due, 4), 1);
    cr_assert_str_eq(due[0].number, "A004");
    cr_assert_eq(due[0].level, 1);
}

Test(overtime, the_same_service_learnt_again_keeps_the_warnings_given)
{
    ot_due_t due[4];
    ot_start(&ot, 1, "A001", T0, 1);
    cr_assert_eq(ot_collect(&ot, T0 + 1 * S, due, 4), 1);
    ot_start(&ot, 1, "A001", T0, 1); /* a resync */
    cr_assert_eq(ot_collect(&ot, T0 + 1 * S + 1, due, 4), 0);
}

Test(overtime, a_warning_seen_on_the_bus_is_not_given_again)
{
    ot_due_t due[4];
    ot_start(&ot, 1, "A001", T0, 1);
    ot_mark(&ot, 1, "A001", 1);
    ot_mark(&ot, 1, "Z999", 2); /* another ticket: ignored */
    cr_assert_eq(ot_collect(&ot, T0 + 1 * S, due, 4), 0);
    cr_assert_eq(ot_collect(&ot, T0 + 2 * S, due, 4), 1);
    cr_assert_eq(due[0].level, 2);
}

Test(overtime, windows_not_served_and_services_without_a_target_are_ignored)
{
    ot_due_t due[4];
    ot_start(&ot, 3, "A001", T0, 1);
    ot_start(&ot, 1, "A002", T0, 0);
    cr_assert_null(ot_slot(&ot, 3));
    cr_assert_eq(ot_collect(&ot, T0 + 100 * S, due, 4), 0);
}

Test(overtime, the_unit_scales_the_target)
{
    ot_table_t minutes;
    cr_assert_eq(ot_init(&minutes, windows, 3, 60000), 0);
    ot_due_t due[1];
    ot_start(&minutes, 5, "C010", T0, 15);
    cr_assert_eq(ot_collect(&minutes, T0 + 15 * 60 * S - 1, due, 1), 0);
    cr_assert_eq(ot_collect(&minutes, T0 + 15 * 60 * S, due, 1), 1);
    cr_assert_eq(due[0].elapsed_seconds, 900);
    ot_free(&minutes);
}

/* ── the hall's events, read for the timers ── */

static uint32_t targets(const char *prefix, void *arg)
{
    return prefix && strcmp(prefix, "A") == 0 ? 1 : 0; /* A: 1 "minute"; others: none */
}

static Hallbus__Ticket ticket_a1;

static Hallbus__Envelope started_at_window(uint32_t window, Hallbus__ServiceStarted *e)
{
    hallbus__ticket__init(&ticket_a1);
    ticket_a1.number = "A001";
    ticket_a1.service = "A";
    ticket_a1.started_at = T0;
    hallbus__service_started__init(e);
    e->ticket = &ticket_a1;
    e->window = window;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.event_case = HALLBUS__ENVELOPE__EVENT_SERVICE_STARTED;
    env.service_started = e;
    env.ts = T0 + 5 * S; /* the ticket's own started_at wins */
    return env;
}

/* Starts A001 at window 1, applies END, and says whether a warning is still due. */
static bool warned_after(Hallbus__Envelope *end)
{
    Hallbus__ServiceStarted st;
    Hallbus__Envelope start = started_at_window(1, &st);
    ot_apply_event(&ot, &start, targets, NULL);
    cr_assert_eq(ot_next_due(&ot), T0 + 1 * S, "timed from the ticket's started_at");
    if (end)
        ot_apply_event(&ot, end, targets, NULL);
    ot_due_t due[2];
    return ot_collect(&ot, T0 + 10 * S, due, 2) > 0;
}

Test(overtime, a_started_service_is_timed_and_warned)
{
    cr_assert(warned_after(NULL));
}

Test(overtime, finishing_ends_the_timer)
{
    Hallbus__ServiceFinished e = HALLBUS__SERVICE_FINISHED__INIT;
    e.window = 1;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.event_case = HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED;
    env.service_finished = &e;
    cr_assert_not(warned_after(&env));
}

/* Whether window 1 is still warned after a ticket is transferred away from
 * FROM_WINDOW. */
static bool warned_after_transfer_from(uint32_t from_window)
{
    Hallbus__TicketTransferred e = HALLBUS__TICKET_TRANSFERRED__INIT;
    e.from_window = from_window;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED;
    env.ticket_transferred = &e;
    return warned_after(&env);
}

Test(overtime, a_transfer_from_the_window_ends_the_timer)
{
    cr_assert_not(warned_after_transfer_from(1));
}

Test(overtime, a_transfer_from_another_window_does_not)
{
    cr_assert(warned_after_transfer_from(2));
}

Test(overtime, a_no_show_ends_the_timer)
{
    Hallbus__TicketNoShow e = HALLBUS__TICKET_NO_SHOW__INIT;
    e.window = 1;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW;
    env.ticket_no_show = &e;
    cr_assert_not(warned_after(&env));
}

Test(overtime, a_closed_window_or_a_new_day_ends_the_timer)
{
    Hallbus__Window w = HALLBUS__WINDOW__INIT;
    w.number = 1;
    Hallbus__WindowClosed e = HALLBUS__WINDOW_CLOSED__INIT;
    e.window = &w;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_CLOSED;
    env.window_closed = &e;
    cr_assert_not(warned_after(&env));

    Hallbus__DailyReset r = HALLBUS__DAILY_RESET__INIT;
    Hallbus__Envelope reset = HALLBUS__ENVELOPE__INIT;
    reset.event_case = HALLBUS__ENVELOPE__EVENT_DAILY_RESET;
    reset.daily_reset = &r;
    cr_assert_not(warned_after(&reset));
}

Test(overtime, a_warning_on_the_bus_counts_as_given)
{
    Hallbus__ServiceOvertime o = HALLBUS__SERVICE_OVERTIME__INIT;
    Hallbus__Ticket t = HALLBUS__TICKET__INIT;
    t.number = "A001";
    o.ticket = &t;
    o.window = 1;
    o.level = 2;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.event_case = HALLBUS__ENVELOPE__EVENT_SERVICE_OVERTIME;
    env.service_overtime = &o;
    cr_assert_not(warned_after(&env));
}

Test(overtime, a_service_at_a_window_of_another_counter_is_not_timed)
{
    Hallbus__ServiceStarted st;
    Hallbus__Envelope start = started_at_window(3, &st);
    ot_apply_event(&ot, &start, targets, NULL);
    cr_assert_eq(ot_next_due(&ot), -1);
}
