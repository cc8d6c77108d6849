/* A follower's table of places in line, driven by hand-made changes. */
#include <criterion/criterion.h>

#include "hallbus/line_places.h"

static hb_line_places_t *lp;

static void setup(void)
{
    lp = hb_line_places_new();
}

static void teardown(void)
{
    hb_line_places_destroy(&lp);
    cr_assert_null(lp);
}

TestSuite(line_places, .init = setup, .fini = teardown);

static void expect_line(const char *service, const uint64_t *ids, size_t n)
{
    uint64_t got[64];
    cr_assert_eq(hb_line_places_first(lp, service, got, 64), n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(got[i], ids[i], "place %zu of %s", i, service);
        cr_assert_eq(hb_line_places_place(lp, ids[i]), (int64_t)i);
    }
}

Test(line_places, inserts_shift_those_behind_and_removals_close_the_gap)
{
    cr_assert_eq(hb_line_places_insert(lp, "A", 1, 0), 0);
    cr_assert_eq(hb_line_places_insert(lp, "A", 2, 1), 0);
    cr_assert_eq(hb_line_places_insert(lp, "A", 3, 2), 0);
    cr_assert_eq(hb_line_places_insert(lp, "A", 9, 1), 0, "a green ticket or a requeue");
    expect_line("A", (uint64_t[]){1, 9, 2, 3}, 4);
    cr_assert_eq(hb_line_places_remove(lp, 1), 0, "called");
    expect_line("A", (uint64_t[]){9, 2, 3}, 3);
    cr_assert_eq(hb_line_places_place(lp, 1), -1);
    cr_assert_eq(hb_line_places_count(lp, "A"), 3);
    cr_assert_eq(hb_line_places_insert(lp, "B", 1, 0), 0, "lines are per service");
    cr_assert_str_eq(hb_line_places_service(lp, 1), "B");
    cr_assert_eq(hb_line_places_total(lp), 4);
}

Test(line_places, a_change_that_does_not_fit_says_so)
{
    cr_assert_eq(hb_line_places_insert(lp, "A", 1, 3), -1, "a place past the end");
    cr_assert_eq(hb_line_places_place(lp, 1), 0, "kept at the end nonetheless");
    cr_assert_eq(hb_line_places_remove(lp, 42), -1, "a ticket it never heard of");
}

Test(line_places, an_envelope_applies_in_order_and_a_day_reset_empties_every_line)
{
    Hallbus__LineChange c1 = HALLBUS__LINE_CHANGE__INIT, c2 = HALLBUS__LINE_CHANGE__INIT,
                        c3 = HALLBUS__LINE_CHANGE__INIT;
    c1.service = c2.service = c3.service = "C";
    c1.ticket_id = 7; /* an appointment at the back... */
    c1.place = 0;
    c2.ticket_id = 7; /* ...whose slot begins: it leaves the back */
    c2.removed = true;
    c2.place = 0;
    c3.ticket_id = 7;
    c3.place = 0;
    Hallbus__LineChange *changes[] = {&c1, &c2, &c3};
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.line_changes = changes;
    env.n_line_changes = 3;
    cr_assert_eq(hb_line_places_apply(lp, &env), 0);
    cr_assert_eq(hb_line_places_place(lp, 7), 0);
    Hallbus__Envelope reset = HALLBUS__ENVELOPE__INIT;
    Hallbus__DailyReset r = HALLBUS__DAILY_RESET__INIT;
    reset.event_case = HALLBUS__ENVELOPE__EVENT_DAILY_RESET;
    reset.daily_reset = &r;
    cr_assert_eq(hb_line_places_apply(lp, &reset), 0);
    cr_assert_eq(hb_line_places_total(lp), 0);
}

Test(line_places, a_snapshot_gives_each_waiting_ticket_its_place)
{
    Hallbus__Ticket t[4];
    Hallbus__Ticket *ptrs[4];
    const char *svc[] = {"A", "A", "B", "A"};
    uint32_t place[] = {2, 0, 0, 1};
    for (int i = 0; i < 4; i++) {
        hallbus__ticket__init(&t[i]);
        t[i].id = (uint64_t)i + 1;
        t[i].service = (char *)svc[i];
        t[i].place = place[i];
        t[i].state = HALLBUS__TICKET_STATE__WAITING;
        ptrs[i] = &t[i];
    }
    Hallbus__Snapshot snap = HALLBUS__SNAPSHOT__INIT;
    snap.tickets = ptrs;
    snap.n_tickets = 4;
    cr_assert_eq(hb_line_places_load(lp, &snap), 0);
    expect_line("A", (uint64_t[]){2, 4, 1}, 3);
    expect_line("B", (uint64_t[]){3}, 1);
    t[1].state = HALLBUS__TICKET_STATE__CALLED; /* only waiting tickets have places */
    cr_assert_eq(hb_line_places_load(lp, &snap), -1, "A's line has a hole at 0");
}

Test(line_places, two_hundred_thousand_in_one_line_cost_nothing_per_change)
{
    for (uint64_t i = 0; i < 200000; i++)
        cr_assert_eq(hb_line_places_insert(lp, "A", i, (uint32_t)i), 0);
    for (uint64_t i = 0; i < 100000; i++)
        cr_assert_eq(hb_line_places_remove(lp, i), 0);
    cr_assert_eq(hb_line_places_place(lp, 100000), 0);
    cr_assert_eq(hb_line_places_place(lp, 199999), 99999);
}
