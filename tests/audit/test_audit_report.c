/* The performance review's arithmetic against a day computed by hand. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit_report.h"
#include "fixture.h"

static hb_config_t *config;
static audit_report_t *rep;
static Hallbus__AuditReport out;
static char dir[64];

static void setup(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    snprintf(dir, sizeof dir, "/tmp/hallbus-report-XXXXXX");
    char path[128];
    cr_assert_eq(hb_temp_file(dir, "hall.yaml",
                              "hall: {id: h1, name: Hall}\n"
                              "services:\n"
                              "  - {prefix: A, name: General, target_minutes: 10}\n"
                              "  - {prefix: B, name: Licences, target_minutes: 5}\n"
                              "windows:\n  - {number: 1, services: [A, B]}\n"
                              "  - {number: 2, services: [A, B]}\n"
                              "endpoints: {command: 'tcp://127.0.0.1:1', bus_pub: "
                              "'tcp://127.0.0.1:2', bus_sub: 'tcp://127.0.0.1:3'}\n",
                              path, sizeof path),
                 0);
    char err[HB_CONFIG_ERR_MAX];
    config = hb_config_load(path, err);
    cr_assert_not_null(config, "%s", err);
    rep = audit_report_new(config);
}

static void teardown(void)
{
    audit_report_clear(&out);
    audit_report_destroy(&rep);
    hb_config_destroy(&config);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

TestSuite(audit_report, .init = setup, .fini = teardown);

/* 2026-11-20 at H:M UTC, in µs */
static int64_t at(int h, int m)
{
    return (1795132800LL + h * 3600 + m * 60) * 1000000;
}

static Hallbus__Ticket ticket(const char *number, uint32_t window, const char *staff,
                              int64_t issued)
{
    Hallbus__Ticket t = HALLBUS__TICKET__INIT;
    t.number = (char *)number;
    t.service = (char *)(number[0] == 'A' ? "A" : "B");
    t.window = window;
    t.staff = (char *)staff;
    t.issued_at = issued;
    t.business_date = "2026-11-20";
    return t;
}

static Hallbus__Envelope envelope(void)
{
    Hallbus__Envelope e = HALLBUS__ENVELOPE__INIT;
    e.hall_id = "h1";
    e.seq = 1;
    return e;
}

static void finished(const char *number, uint32_t window, const char *staff, int64_t issued,
                     uint32_t wait, uint32_t service)
{
    Hallbus__Ticket t = ticket(number, window, staff, issued);
    Hallbus__ServiceFinished f = HALLBUS__SERVICE_FINISHED__INIT;
    f.ticket = &t;
    f.window = window;
    f.staff = (char *)staff;
    f.wait_seconds = wait;
    f.service_seconds = service;
    f.result = HALLBUS__RESULT__COMPLETED;
    Hallbus__Envelope e = envelope();
    e.event_case = HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED;
    e.service_finished = &f;
    audit_report_add(rep, &e);
}

static void no_show(const char *number, uint32_t window, const char *staff)
{
    Hallbus__Ticket t = ticket(number, window, staff, at(9, 0));
    Hallbus__TicketNoShow n = HALLBUS__TICKET_NO_SHOW__INIT;
    n.ticket = &t;
    n.window = window;
    Hallbus__Envelope e = envelope();
    e.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW;
    e.ticket_no_show = &n;
    audit_report_add(rep, &e);
}

static void transferred(const char *number, uint32_t window, const char *staff, const char *from,
                        const char *to)
{
    Hallbus__Ticket t = ticket(number, window, staff, at(9, 0));
    t.service = (char *)to;
    Hallbus__TicketTransferred x = HALLBUS__TICKET_TRANSFERRED__INIT;
    x.ticket = &t;
    x.from_service = (char *)from;
    x.to_service = (char *)to;
    x.from_window = window;
    Hallbus__Envelope e = envelope();
    e.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED;
    e.ticket_transferred = &x;
    audit_report_add(rep, &e);
}

static void evaluated(const char *number, uint32_t window, const char *staff, uint32_t rating)
{
    Hallbus__Ticket t = ticket(number, window, staff, at(9, 0));
    Hallbus__TicketEvaluated v = HALLBUS__TICKET_EVALUATED__INIT;
    v.ticket = &t;
    v.rating = rating;
    Hallbus__Envelope e = envelope();
    e.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_EVALUATED;
    e.ticket_evaluated = &v;
    audit_report_add(rep, &e);
}

static void complained(const char *number, uint32_t window, const char *staff)
{
    Hallbus__Complaint c = HALLBUS__COMPLAINT__INIT;
    c.ticket_number = (char *)number;
    c.window = window;
    c.staff = (char *)staff;
    Hallbus__ComplaintFiled cf = HALLBUS__COMPLAINT_FILED__INIT;
    cf.complaint = &c;
    Hallbus__Envelope e = envelope();
    e.event_case = HALLBUS__ENVELOPE__EVENT_COMPLAINT_FILED;
    e.complaint_filed = &cf;
    audit_report_add(rep, &e);
}

static const Hallbus__AuditReportRow *row(const char *group, const char *key)
{
    for (size_t i = 0; i < out.n_rows; i++)
        if (strcmp(out.rows[i]->group, group) == 0 && strcmp(out.rows[i]->key, key) == 0)
            return out.rows[i];
    cr_assert_fail("no %s row %s", group, key);
    return NULL;
}

static void assert_row(const char *group, const char *key, uint32_t served, double avg_wait,
                       uint32_t p90_wait, double avg_service, uint32_t p90_service,
                       uint32_t no_shows, uint32_t transfers, const uint32_t ratings[4],
                       uint32_t within, uint32_t known, uint32_t complaints)
{
    const Hallbus__AuditReportRow *r = row(group, key);
    cr_assert_eq(r->served, served, "%s %s served", group, key);
    cr_assert_float_eq(r->avg_wait_s, avg_wait, 0.01, "%s %s avg wait %f", group, key,
                       r->avg_wait_s);
    cr_assert_eq(r->p90_wait_s, p90_wait, "%s %s p90 wait %u", group, key, r->p90_wait_s);
    cr_assert_float_eq(r->avg_service_s, avg_service, 0.01, "%s %s avg service %f", group, key,
                       r->avg_service_s);
    cr_assert_eq(r->p90_service_s, p90_service, "%s %s p90 service", group, key);
    cr_assert_eq(r->no_shows, no_shows, "%s %s no-shows", group, key);
    cr_assert_eq(r->transfers, transfers, "%s %s transfers", group, key);
    cr_assert_eq(r->n_ratings, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(r->ratings[i], ratings[i], "%s %s rating %d", group, key, i + 1);
    cr_assert_eq(r->within_target, within, "%s %s within target", group, key);
    cr_assert_eq(r->target_known, known, "%s %s target known", group, key);
    cr_assert_eq(r->complaints, complaints, "%s %s complaints", group, key);
}

/* The day, by hand:
 *   A001 w1 li    issued 09:10  wait  60  service 300  (A target 600: within)
 *   A002 w1 li    issued 09:40  wait 120  service 700  (beyond)
 *   B001 w2 wang  issued 10:05  wait  30  service 200  (B target 300: within)
 *   A003 w2 wang  issued 10:30  wait 300  service 100  (within)
 *   A004 no-show at w1 (li); A005 transferred A → B at w2 (wang)
 *   ratings: A001 1, A002 4, B001 2; a complaint about A002 at w1 (li) */
static void the_day(void)
{
    finished("A001", 1, "li", at(9, 10), 60, 300);
    finished("A002", 1, "li", at(9, 40), 120, 700);
    finished("B001", 2, "wang", at(10, 5), 30, 200);
    finished("A003", 2, "wang", at(10, 30), 300, 100);
    no_show("A004", 1, "li");
    transferred("A005", 2, "wang", "A", "B");
    evaluated("A001", 1, "li", 1);
    evaluated("A002", 1, "li", 4);
    evaluated("B001", 2, "wang", 2);
    evaluated("B001", 2, "wang", 9); /* out of range: not counted */
    complained("A002", 1, "li");
    cr_assert_eq(audit_report_finish(rep, &out), 0);
}

Test(audit_report, the_hall_row_matches_the_day_computed_by_hand)
{
    the_day();
    /* waits 30 60 120 300: avg 127.5, p90 rank ceil(3.6) = 4 → 300;
     * services 100 200 300 700: avg 325, p90 700; within 3 of 4 */
    assert_row("hall", "h1", 4, 127.5, 300, 325, 700, 1, 1, (uint32_t[]){1, 1, 0, 1}, 3, 4, 1);
}

Test(audit_report, each_service_has_its_own_figures_and_target)
{
    the_day();
    /* A: waits 60 120 300 avg 160 p90 rank 3 → 300; services 300 700 100 avg 366.67 */
    assert_row("service", "A", 3, 160, 300, 366.667, 700, 1, 1, (uint32_t[]){1, 0, 0, 1}, 2, 3, 1);
    assert_row("service", "B", 1, 30, 30, 200, 200, 0, 0, (uint32_t[]){0, 1, 0, 0}, 1, 1, 0);
    cr_assert_str_eq(row("service", "A")->name, "General");
}

Test(audit_report, each_window_and_staff_member_has_their_own_figures)
{
    the_day();
    /* w1: waits 60 120 avg 90 p90 rank 2 → 120; services 300 700 avg 500 */
    assert_row("window", "1", 2, 90, 120, 500, 700, 1, 0, (uint32_t[]){1, 0, 0, 1}, 1, 2, 1);
    assert_row("window", "2", 2, 165, 300, 150, 200, 0, 1, (uint32_t[]){0, 1, 0, 0}, 2, 2, 0);
    assert_row("staff", "li", 2, 90, 120, 500, 700, 1, 0, (uint32_t[]){1, 0, 0, 1}, 1, 2, 1);
    assert_row("staff", "wang", 2, 165, 300, 150, 200, 0, 1, (uint32_t[]){0, 1, 0, 0}, 2, 2, 0);
}

Test(audit_report, rows_come_hall_first_then_services_windows_and_staff_in_order)
{
    the_day();
    const char *want[][2] = {{"hall", "h1"},  {"service", "A"}, {"service", "B"}, {"window", "1"},
                             {"window", "2"}, {"staff", "li"},  {"staff", "wang"}};
    cr_assert_eq(out.n_rows, 7);
    for (size_t i = 0; i < 7; i++) {
        cr_assert_str_eq(out.rows[i]->group, want[i][0]);
        cr_assert_str_eq(out.rows[i]->key, want[i][1]);
    }
}

Test(audit_report, served_tickets_are_placed_at_the_hour_they_were_issued)
{
    the_day();
    cr_assert_eq(out.n_hours, 24);
    cr_assert_eq(out.hours[9]->served, 2);
    cr_assert_float_eq(out.hours[9]->avg_wait_s, 90, 0.01);
    cr_assert_eq(out.hours[10]->served, 2);
    cr_assert_float_eq(out.hours[10]->avg_wait_s, 165, 0.01);
    cr_assert_eq(out.hours[11]->served, 0);
    cr_assert_eq(out.events, 11);
}

Test(audit_report, p90_is_the_nearest_rank)
{
    uint32_t ten[] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    cr_assert_eq(audit_p90(ten, 10), 9);
    uint32_t one[] = {42};
    cr_assert_eq(audit_p90(one, 1), 42);
    uint32_t eleven[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    cr_assert_eq(audit_p90(eleven, 11), 10); /* rank ceil(9.9) = 10 */
    cr_assert_eq(audit_p90(NULL, 0), 0);
    cr_assert_eq(audit_report_finish(rep, &out), 0);
}

Test(audit_report, a_service_the_hall_file_does_not_know_is_left_out_of_the_target_share)
{
    Hallbus__Ticket t = ticket("Z001", 1, "li", at(9, 0));
    t.service = "Z";
    Hallbus__ServiceFinished f = HALLBUS__SERVICE_FINISHED__INIT;
    f.ticket = &t;
    f.window = 1;
    f.staff = "li";
    f.service_seconds = 10;
    Hallbus__Envelope e = envelope();
    e.event_case = HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED;
    e.service_finished = &f;
    audit_report_add(rep, &e);
    cr_assert_eq(audit_report_finish(rep, &out), 0);
    const Hallbus__AuditReportRow *r = row("hall", "h1");
    cr_assert_eq(r->served, 1);
    cr_assert_eq(r->target_known, 0);
    cr_assert_eq(r->within_target, 0);
}
