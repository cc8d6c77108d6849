/* What a counter makes of the hall's events and snapshots (watch.c): who
 * is signed on at its windows, and a timer for each service in progress.
 * Applied directly, and through the shared follower (hallbus/follower.h,
 * no sockets) wired to the counter's load and apply as follow_sub wires
 * them: events held while a snapshot is awaited, those it already reflects
 * dropped, a gap asking for a new one. The follower's own rules are tested
 * in tests/common/test_follower.c. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "hallbus/follower.h"

/* ── a stub for what watch.c uses from the rest of the daemon ── */

counter_window_t *counter_window(counter_t *c, uint32_t number)
{
    for (unsigned i = 0; i < c->self.windows_count; i++)
        if (c->windows[i].number == number)
            return &c->windows[i];
    return NULL;
}

/* ── a counter of hall t1 serving windows 1 and 2; service A has a 1-minute target ── */

#define S 1000000LL
#define T0 (1700000000LL * S)

static hb_service_conf_t services[] = {{.prefix = "A", .target_minutes = 1}};
static hb_config_t hall = {.hall = {.id = "t1"}, .services = services, .services_count = 1};
static uint32_t served[] = {1, 2};
static counter_window_t windows[2];
static counter_t c;

/* the shared follower, its sink the counter's watch_load / watch_apply */
static hb_follower_t follower;
static unsigned snapshots_asked;
static int64_t now_us;

static void sink_load(void *arg, const void *snapshot)
{
    watch_load(arg, snapshot);
}

static int sink_apply(void *arg, const Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                      int64_t received_at)
{
    watch_apply(arg, env);
    return 0;
}

static void sink_ask(void *arg, const char *reason)
{
    snapshots_asked++;
}

static void setup(void)
{
    memset(&c, 0, sizeof c);
    memset(windows, 0, sizeof windows);
    windows[0].number = 1;
    windows[1].number = 2;
    c.config = &hall;
    c.self = (hb_counter_instance_t){.id = "c1", .windows = served, .windows_count = 2};
    c.windows = windows;
    cr_assert_eq(ot_init(&c.overtime, served, 2, 1000), 0);
    snapshots_asked = 0;
    now_us = 10 * S;
    hb_follower_config_t fc = {
        .hall = "t1",
        .mode = HB_FOLLOW_CLONE,
        .sink = {.load = sink_load, .apply = sink_apply, .ask_snapshot = sink_ask, .arg = &c}};
    cr_assert_eq(hb_follower_init(&follower, &fc, 0), 0);
}

static void teardown(void)
{
    hb_follower_dispose(&follower);
    ot_free(&c.overtime);
}

TestSuite(watch, .init = setup, .fini = teardown);

/* ENV as the bus brings it: to the follower, which owns a decoded copy. */
static void deliver(Hallbus__Envelope *env)
{
    now_us += S / 10;
    if (env->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT) {
        hb_follower_heartbeat(&follower, env->seq, now_us);
        return;
    }
    size_t len = hallbus__envelope__get_packed_size(env);
    uint8_t *buf = malloc(len);
    hallbus__envelope__pack(env, buf);
    Hallbus__Envelope *copy = hallbus__envelope__unpack(NULL, len, buf);
    cr_assert_not_null(copy);
    hb_follower_event(&follower, copy, buf, len, now_us, now_us);
    free(buf);
}

static Hallbus__Ticket serving_ticket(const char *number, int64_t started_at, uint32_t window)
{
    Hallbus__Ticket t = HALLBUS__TICKET__INIT;
    t.number = (char *)number;
    t.service = "A";
    t.state = HALLBUS__TICKET_STATE__SERVING;
    t.started_at = started_at;
    t.window = window;
    return t;
}

static void started(uint64_t seq, uint32_t window, const char *number, int64_t at)
{
    Hallbus__Ticket t = serving_ticket(number, at, window);
    Hallbus__ServiceStarted e = HALLBUS__SERVICE_STARTED__INIT;
    e.ticket = &t;
    e.window = window;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.hall_id = "t1";
    env.seq = seq;
    env.event_case = HALLBUS__ENVELOPE__EVENT_SERVICE_STARTED;
    env.service_started = &e;
    deliver(&env);
}

static void heartbeat(uint64_t seq)
{
    Hallbus__Heartbeat h = HALLBUS__HEARTBEAT__INIT;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.hall_id = "t1";
    env.seq = seq;
    env.event_case = HALLBUS__ENVELOPE__EVENT_HEARTBEAT;
    env.heartbeat = &h;
    deliver(&env);
}

static void window_event(uint64_t seq, uint32_t number, Hallbus__WindowState state,
                         const char *staff)
{
    Hallbus__Window w = HALLBUS__WINDOW__INIT;
    w.number = number;
    w.state = state;
    w.staff = (char *)staff;
    Hallbus__WindowOpened opened = HALLBUS__WINDOW_OPENED__INIT;
    Hallbus__WindowClosed closed = HALLBUS__WINDOW_CLOSED__INIT;
    opened.window = closed.window = &w;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.hall_id = "t1";
    env.seq = seq;
    if (state == HALLBUS__WINDOW_STATE__CLOSED) {
        env.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_CLOSED;
        env.window_closed = &closed;
    } else {
        env.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_OPENED;
        env.window_opened = &opened;
    }
    deliver(&env);
}

/* A snapshot at SEQ; window 1 open by s1, serving TICKET (if not NULL). */
static void snapshot(uint64_t seq, Hallbus__Ticket *ticket)
{
    Hallbus__Window w1 = HALLBUS__WINDOW__INIT, w9 = HALLBUS__WINDOW__INIT;
    w1.number = 1;
    w1.state = HALLBUS__WINDOW_STATE__OPEN;
    w1.staff = "s1";
    w9.number = 9; /* not ours */
    w9.state = HALLBUS__WINDOW_STATE__OPEN;
    w9.staff = "s9";
    Hallbus__Window *wins[] = {&w1, &w9};
    Hallbus__HallStatus st = HALLBUS__HALL_STATUS__INIT;
    st.n_windows = 2;
    st.windows = wins;
    Hallbus__Snapshot snap = HALLBUS__SNAPSHOT__INIT;
    snap.seq = seq;
    snap.status = &st;
    Hallbus__Ticket *tickets[] = {ticket};
    snap.n_tickets = ticket ? 1 : 0;
    snap.tickets = tickets;
    now_us += S / 10;
    cr_assert(hb_follower_snapshot(&follower, &snap, seq, now_us), "the snapshot was awaited");
}

static void start_sync(void)
{
    hb_follower_start(&follower, now_us);
    cr_assert_eq(snapshots_asked, 1, "a snapshot is asked for at once");
    now_us += S;
    hb_follower_tick(&follower, now_us);
    cr_assert_eq(snapshots_asked, 1, "and not again while it is awaited");
}

/* Synced: live at the last seq. */
static bool synced(void)
{
    return follower.state == HB_FOLLOW_LIVE;
}

Test(watch, a_snapshot_starts_the_timers_of_the_services_it_shows)
{
    start_sync();
    Hallbus__Ticket t = serving_ticket("A001", T0, 1);
    snapshot(7, &t);
    cr_assert(synced());
    cr_assert_eq(c.last_seq, 7);
    cr_assert_eq(ot_next_due(&c.overtime), T0 + 1 * S, "timed from the ticket's started_at");
    cr_assert_eq(c.windows[0].state, HALLBUS__WINDOW_STATE__OPEN);
    cr_assert_str_eq(c.windows[0].staff, "s1");
}

Test(watch, a_snapshot_forgets_a_timer_whose_service_it_no_longer_shows)
{
    start_sync();
    Hallbus__Ticket t = serving_ticket("A001", T0, 1);
    snapshot(7, &t);
    hb_follower_resync(&follower, "test", now_us += S);
    snapshot(9, NULL);
    cr_assert_eq(ot_next_due(&c.overtime), -1, "A001 was finished meanwhile");
    cr_assert_eq(c.last_seq, 9);
}

Test(watch, events_held_while_syncing_are_applied_only_when_newer_than_the_snapshot)
{
    start_sync();
    started(4, 2, "A002", T0);     /* the snapshot at 4 already has it: dropped */
    started(5, 1, "A003", T0 + S); /* newer: applied */
    snapshot(4, NULL);
    cr_assert_eq(c.last_seq, 5);
    cr_assert_eq(ot_slot(&c.overtime, 2)->number[0], '\0', "seq 4 was not applied again");
    cr_assert_str_eq(ot_slot(&c.overtime, 1)->number, "A003");
    cr_assert_eq(snapshots_asked, 1);
}

Test(watch, events_in_sequence_are_applied_and_a_gap_is_not)
{
    start_sync();
    snapshot(4, NULL);
    started(5, 2, "A002", T0);
    cr_assert_eq(c.last_seq, 5);
    cr_assert_str_eq(ot_slot(&c.overtime, 2)->number, "A002");
    started(5, 1, "A009", T0); /* a duplicate: ignored */
    cr_assert_eq(ot_slot(&c.overtime, 1)->number[0], '\0');
    heartbeat(5);
    cr_assert(synced(), "a heartbeat at the last seq is no gap");
    started(7, 1, "A003", T0);
    cr_assert_not(synced(), "6 is missing");
    cr_assert_eq(snapshots_asked, 2);
    cr_assert_eq(ot_slot(&c.overtime, 1)->number[0], '\0', "7 is held, not applied");
    cr_assert_eq(c.last_seq, 5);
}

Test(watch, window_events_tell_who_is_signed_on)
{
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    Hallbus__Window w = HALLBUS__WINDOW__INIT;
    Hallbus__WindowOpened opened = HALLBUS__WINDOW_OPENED__INIT;
    Hallbus__WindowClosed closed = HALLBUS__WINDOW_CLOSED__INIT;
    opened.window = closed.window = &w;
    w.number = 2;
    w.state = HALLBUS__WINDOW_STATE__OPEN;
    w.staff = "s2";
    env.seq = 1;
    env.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_OPENED;
    env.window_opened = &opened;
    watch_apply(&c, &env);
    cr_assert_eq(c.windows[1].state, HALLBUS__WINDOW_STATE__OPEN);
    cr_assert_str_eq(c.windows[1].staff, "s2");
    cr_assert_eq(c.last_seq, 1);

    snprintf(c.windows[1].notice, sizeof c.windows[1].notice, "overtime (level 1)");
    w.state = HALLBUS__WINDOW_STATE__CLOSED;
    env.seq = 2;
    env.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_CLOSED;
    env.window_closed = &closed;
    watch_apply(&c, &env);
    cr_assert_eq(c.windows[1].state, HALLBUS__WINDOW_STATE__CLOSED);
    cr_assert_str_eq(c.windows[1].staff, "");
    cr_assert_str_eq(c.windows[1].notice, "", "a closed window's notice is forgotten");

    w.number = 9; /* not ours: nothing to learn */
    w.state = HALLBUS__WINDOW_STATE__OPEN;
    env.seq = 3;
    env.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_OPENED;
    watch_apply(&c, &env);
    cr_assert_eq(c.windows[0].state, HALLBUS__WINDOW_STATE__WINDOW_STATE_UNSPECIFIED);
}

Test(watch, the_daily_reset_closes_every_window_and_drops_its_notices)
{
    start_sync();
    snapshot(0, NULL);
    window_event(1, 2, HALLBUS__WINDOW_STATE__OPEN, "s2");
    snprintf(c.windows[0].notice, sizeof c.windows[0].notice, "overtime (level 2)");
    Hallbus__DailyReset r = HALLBUS__DAILY_RESET__INIT;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.hall_id = "t1";
    env.seq = 2;
    env.event_case = HALLBUS__ENVELOPE__EVENT_DAILY_RESET;
    env.daily_reset = &r;
    deliver(&env);
    for (unsigned i = 0; i < 2; i++) {
        cr_assert_eq(c.windows[i].state, HALLBUS__WINDOW_STATE__CLOSED);
        cr_assert_str_eq(c.windows[i].staff, "");
        cr_assert_str_eq(c.windows[i].notice, "");
    }
}
