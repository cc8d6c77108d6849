/* How a counter follows the hall (watch.c), with the sockets stubbed out:
 * the Clone pattern (events held while a snapshot is awaited, those it
 * already reflects dropped, a gap asking for a new one), and what the
 * events and the snapshot teach it about its windows. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "counter.h"

/* ── stubs for what watch.c uses from the rest of the daemon ── */

static unsigned snapshots_asked;

int forward_send(counter_t *c, Hallbus__Request *req, hb_client_cb cb, void *arg, char *why,
                 size_t whylen)
{
    cr_assert_eq(req->command_case, HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT);
    snapshots_asked++;
    return 0;
}

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
}

static void teardown(void)
{
    watch_free(&c);
    ot_free(&c.overtime);
}

TestSuite(watch, .init = setup, .fini = teardown);

static void deliver(Hallbus__Envelope *env)
{
    size_t len = hallbus__envelope__get_packed_size(env);
    zmq_msg_t frames[2];
    zmq_msg_init_size(&frames[0], 4);
    memcpy(zmq_msg_data(&frames[0]), "hall", 4);
    zmq_msg_init_size(&frames[1], len);
    hallbus__envelope__pack(env, zmq_msg_data(&frames[1]));
    watch_on_msg(NULL, frames, 2, false, &c);
    zmq_msg_close(&frames[0]);
    zmq_msg_close(&frames[1]);
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
    Hallbus__Reply reply = HALLBUS__REPLY__INIT;
    reply.result_case = HALLBUS__REPLY__RESULT_SNAPSHOT;
    reply.snapshot = &snap;
    watch_on_snapshot(&c, &reply);
}

static void start_sync(void)
{
    watch_tick(&c, 10 * S);
    cr_assert_eq(snapshots_asked, 1, "a snapshot is asked for at once");
    watch_tick(&c, 11 * S);
    cr_assert_eq(snapshots_asked, 1, "and not again while it is awaited");
}

Test(watch, a_snapshot_starts_the_timers_of_the_services_it_shows)
{
    start_sync();
    Hallbus__Ticket t = serving_ticket("A001", T0, 1);
    snapshot(7, &t);
    cr_assert(c.synced);
    cr_assert_eq(c.last_seq, 7);
    cr_assert_eq(ot_next_due(&c.overtime), T0 + 1 * S, "timed from the ticket's started_at");
    cr_assert_eq(c.windows[0].state, HALLBUS__WINDOW_STATE__OPEN);
    cr_assert_str_eq(c.windows[0].staff, "s1");
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

Test(watch, a_gap_among_the_held_events_asks_again)
{
    start_sync();
    started(7, 1, "A003", T0); /* 5 and 6 lost */
    snapshot(4, NULL);
    cr_assert_not(c.synced);
    cr_assert_eq(snapshots_asked, 2);
    cr_assert_eq(ot_next_due(&c.overtime), -1);
}

Test(watch, events_in_sequence_are_applied_and_a_gap_resyncs)
{
    start_sync();
    snapshot(4, NULL);
    started(5, 2, "A002", T0);
    cr_assert_eq(c.last_seq, 5);
    cr_assert_str_eq(ot_slot(&c.overtime, 2)->number, "A002");
    started(5, 1, "A009", T0); /* a duplicate: ignored */
    cr_assert_eq(ot_slot(&c.overtime, 1)->number[0], '\0');
    heartbeat(5);
    cr_assert(c.synced, "a heartbeat at the last seq is no gap");
    started(7, 1, "A003", T0);
    cr_assert_not(c.synced, "6 is missing");
    cr_assert_eq(snapshots_asked, 2);
    cr_assert_eq(ot_slot(&c.overtime, 1)->number[0], '\0', "7 is held, not applied");
}

Test(watch, a_heartbeat_ahead_of_the_last_event_resyncs)
{
    start_sync();
    snapshot(4, NULL);
    heartbeat(6);
    cr_assert_not(c.synced);
    cr_assert_eq(snapshots_asked, 2);
}

Test(watch, window_events_tell_who_is_signed_on)
{
    start_sync();
    snapshot(0, NULL);
    window_event(1, 2, HALLBUS__WINDOW_STATE__OPEN, "s2");
    cr_assert_eq(c.windows[1].state, HALLBUS__WINDOW_STATE__OPEN);
    cr_assert_str_eq(c.windows[1].staff, "s2");
    window_event(2, 2, HALLBUS__WINDOW_STATE__CLOSED, "s2");
    cr_assert_eq(c.windows[1].state, HALLBUS__WINDOW_STATE__CLOSED);
    cr_assert_str_eq(c.windows[1].staff, "");
}

Test(watch, another_halls_events_and_undecodable_bytes_are_ignored)
{
    start_sync();
    snapshot(4, NULL);
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.hall_id = "t10";
    env.seq = 99;
    env.event_case = HALLBUS__ENVELOPE__EVENT_HEARTBEAT;
    Hallbus__Heartbeat h = HALLBUS__HEARTBEAT__INIT;
    env.heartbeat = &h;
    deliver(&env);
    cr_assert(c.synced);
    zmq_msg_t frames[2];
    zmq_msg_init_size(&frames[0], 1);
    zmq_msg_init_size(&frames[1], 3);
    memcpy(zmq_msg_data(&frames[1]), "\xff\xff\xff", 3);
    watch_on_msg(NULL, frames, 2, false, &c);
    zmq_msg_close(&frames[0]);
    zmq_msg_close(&frames[1]);
    cr_assert(c.synced);
    cr_assert_eq(c.stats.bad_events, 1);
}

Test(watch, a_snapshot_unanswered_is_asked_for_again)
{
    start_sync();
    watch_snapshot_failed(&c);
    watch_tick(&c, 11 * S);
    cr_assert_eq(snapshots_asked, 2);
}
