/* hall-display's view behind the common Clone follower (follower.h, whose
 * own rules are tested in tests/common/test_follower.c), driven directly:
 * snapshot, events in order, stale and duplicate events, gaps, silence,
 * resync, announcements, as a board sees them. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/follower.h"
#include "view.h"
#include "view_json.h"

static hb_config_t config;
static dv_view_t *view;
static hb_follower_t fol;

/* the display's sink, as hall-display's main.c wires it to follow_sub */
static void sink_load(void *arg, const void *snap)
{
    dv_view_load(view, snap, DV_ANNOUNCE_MAX_AGE_US);
}

static int sink_apply(void *arg, const Hallbus__Envelope *env, const uint8_t *b, size_t n,
                      int64_t at)
{
    dv_view_apply(view, env);
    return 0;
}

/* what a call did, as the board sees it */
enum { NOTHING = 0, CHANGED, RESYNC };

static int ev(Hallbus__Envelope *env, int64_t now)
{
    bool live = fol.state == HB_FOLLOW_LIVE;
    uint64_t version = view->version;
    hb_follower_event(&fol, env, NULL, 0, 0, now);
    if (live && fol.state == HB_FOLLOW_WAITING)
        return RESYNC;
    return view->version != version ? CHANGED : NOTHING;
}

static int snapshot(const Hallbus__Snapshot *snap, int64_t now)
{
    hb_follower_snapshot(&fol, snap, snap->seq, now);
    return fol.state == HB_FOLLOW_WAITING ? RESYNC : CHANGED;
}

static void begin(const char *reason, int64_t now)
{
    hb_follower_resync(&fol, reason, now);
}

static int tick(int64_t now)
{
    bool live = fol.state == HB_FOLLOW_LIVE;
    hb_follower_tick(&fol, now);
    return live && fol.state == HB_FOLLOW_WAITING ? RESYNC : NOTHING;
}

#define SEC 1000000LL
#define T0 (1700000000LL * SEC)

static void setup(void)
{
    memset(&config, 0, sizeof config);
    config.hall.id = "t1";
    config.hall.name = "测试大厅";
    config.hall.name_en = "Test hall";
    view = dv_view_new(&config);
    cr_assert_not_null(view);
    hb_follower_config_t c = {.hall = "t1",
                              .mode = HB_FOLLOW_CLONE,
                              .ttl_us = 3000000,
                              .sink = {.load = sink_load, .apply = sink_apply}};
    cr_assert_eq(hb_follower_init(&fol, &c, 0), 0);
}

static void teardown(void)
{
    hb_follower_dispose(&fol);
    dv_view_destroy(&view);
    cr_assert_null(view);
}

/* ── building messages ── */

typedef struct {
    Hallbus__Ticket t;
} ticket_buf_t;

static void ticket(Hallbus__Ticket *t, const char *number, Hallbus__TicketState state,
                   uint32_t window, int64_t called_at, bool green)
{
    hallbus__ticket__init(t);
    t->number = (char *)number;
    static char services[64][2];
    static int next;
    char *svc = services[next++ % 64];
    svc[0] = number[0];
    svc[1] = '\0';
    t->service = svc;
    t->state = state;
    t->window = window;
    t->called_at = called_at;
    t->priority = green ? HALLBUS__PRIORITY__GREEN : HALLBUS__PRIORITY__NORMAL;
    t->contact_ref = "ref-secret-123";
}

/* Packs and unpacks ENV so that the result is owned, as off the wire. */
static Hallbus__Envelope *owned(Hallbus__Envelope *env)
{
    size_t len = hallbus__envelope__get_packed_size(env);
    uint8_t *buf = malloc(len);
    hallbus__envelope__pack(env, buf);
    Hallbus__Envelope *out = hallbus__envelope__unpack(NULL, len, buf);
    free(buf);
    cr_assert_not_null(out);
    return out;
}

/* The summary of service A that the next event carries, as hall-queue
 * attaches one to each event that changes a service (Envelope.lines). */
static Hallbus__ServiceSummary next_line, *next_line_ptr[1];
static bool next_line_set;

static void line_a(uint32_t waiting, uint32_t green, uint32_t estimated_s, uint32_t open)
{
    hallbus__service_summary__init(&next_line);
    next_line.prefix = "A";
    next_line.waiting = waiting;
    next_line.waiting_green = green;
    next_line.estimated_wait_s = estimated_s;
    next_line.open_windows = open;
    next_line_set = true;
}

static Hallbus__Envelope *env_base(Hallbus__Envelope *e, uint64_t seq, const char *hall)
{
    hallbus__envelope__init(e);
    if (next_line_set) {
        next_line_ptr[0] = &next_line;
        e->lines = next_line_ptr;
        e->n_lines = 1;
        next_line_set = false;
    }
    e->hall_id = (char *)hall;
    e->seq = seq;
    e->source = "hall-queue";
    e->ts = T0 + (int64_t)seq * SEC;
    return e;
}

static Hallbus__Envelope *ev_issued(uint64_t seq, const char *number, bool green)
{
    Hallbus__Envelope e;
    env_base(&e, seq, "t1");
    Hallbus__TicketIssued ti = HALLBUS__TICKET_ISSUED__INIT;
    Hallbus__Ticket t;
    ticket(&t, number, HALLBUS__TICKET_STATE__WAITING, 0, 0, green);
    ti.ticket = &t;
    e.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED;
    e.ticket_issued = &ti;
    return owned(&e);
}

static Hallbus__Envelope *ev_called_g(uint64_t seq, const char *number, uint32_t window,
                                      bool recall, bool green)
{
    Hallbus__Envelope e;
    env_base(&e, seq, "t1");
    Hallbus__Ticket t;
    ticket(&t, number, HALLBUS__TICKET_STATE__CALLED, window, e.ts, green);
    Hallbus__TicketCalled tc = HALLBUS__TICKET_CALLED__INIT;
    Hallbus__TicketRecalled tr = HALLBUS__TICKET_RECALLED__INIT;
    if (recall) {
        tr.ticket = &t;
        tr.window = window;
        tr.recall = 1;
        e.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_RECALLED;
        e.ticket_recalled = &tr;
    } else {
        tc.ticket = &t;
        tc.window = window;
        e.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_CALLED;
        e.ticket_called = &tc;
    }
    return owned(&e);
}

static Hallbus__Envelope *ev_called(uint64_t seq, const char *number, uint32_t window, bool recall)
{
    return ev_called_g(seq, number, window, recall, false);
}

static Hallbus__Envelope *ev_finished(uint64_t seq, const char *number, uint32_t window)
{
    Hallbus__Envelope e;
    env_base(&e, seq, "t1");
    Hallbus__Ticket t;
    ticket(&t, number, HALLBUS__TICKET_STATE__FINISHED, window, 0, false);
    Hallbus__ServiceFinished sf = HALLBUS__SERVICE_FINISHED__INIT;
    sf.ticket = &t;
    sf.window = window;
    e.event_case = HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED;
    e.service_finished = &sf;
    return owned(&e);
}

static Hallbus__Envelope *ev_paused(uint64_t seq, uint32_t window, const char *reason)
{
    Hallbus__Envelope e;
    env_base(&e, seq, "t1");
    Hallbus__Window w = HALLBUS__WINDOW__INIT;
    w.number = window;
    w.state = HALLBUS__WINDOW_STATE__PAUSED;
    w.staff = "li";
    w.pause_reason = (char *)reason;
    char *svcs[] = {"A"};
    w.services = svcs;
    w.n_services = 1;
    Hallbus__WindowPaused wp = HALLBUS__WINDOW_PAUSED__INIT;
    wp.window = &w;
    wp.reason = (char *)reason;
    e.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_PAUSED;
    e.window_paused = &wp;
    return owned(&e);
}

static Hallbus__Envelope *ev_heartbeat(uint64_t seq, const char *hall)
{
    Hallbus__Envelope e;
    env_base(&e, seq, hall);
    Hallbus__Heartbeat hb = HALLBUS__HEARTBEAT__INIT;
    e.event_case = HALLBUS__ENVELOPE__EVENT_HEARTBEAT;
    e.heartbeat = &hb;
    return owned(&e);
}

/* A snapshot at SEQ: services A (2 waiting, 600 s) and B; windows 1 (open,
 * A, serving A001) and 2 (open, B); tickets A001 called, A002 A003 waiting;
 * recent calls as given (newest first), each "NUMBER@WINDOW@SECONDS". */
typedef struct {
    Hallbus__Snapshot snap;
    Hallbus__HallStatus st;
    Hallbus__ServiceSummary sa, sb, *svcs[2];
    Hallbus__Window w1, w2, *wins[2];
    Hallbus__Ticket t[3], *tickets[3];
    Hallbus__Ticket r[8], *recent[8];
    char *a_only[1], *b_only[1];
} snap_t;

static Hallbus__Snapshot *make_snapshot(snap_t *s, uint64_t seq, int64_t now,
                                        const char *const *recent, size_t nrecent)
{
    memset(s, 0, sizeof *s);
    hallbus__snapshot__init(&s->snap);
    hallbus__hall_status__init(&s->st);
    s->st.hall_id = "t1";
    s->st.hall_name = "测试大厅";
    s->st.business_date = "2026-11-23";
    s->st.seq = seq;
    s->st.now = now;
    hallbus__service_summary__init(&s->sa);
    s->sa.prefix = "A";
    s->sa.name = "社保";
    s->sa.waiting = 2;
    s->sa.estimated_wait_s = 600;
    s->sa.open_windows = 1;
    s->sa.target_minutes = 5;
    hallbus__service_summary__init(&s->sb);
    s->sb.prefix = "B";
    s->sb.name = "医保";
    s->sb.target_minutes = 10;
    s->sb.open_windows = 1;
    s->svcs[0] = &s->sa;
    s->svcs[1] = &s->sb;
    s->st.services = s->svcs;
    s->st.n_services = 2;
    s->a_only[0] = "A";
    s->b_only[0] = "B";
    hallbus__window__init(&s->w1);
    s->w1.number = 1;
    s->w1.state = HALLBUS__WINDOW_STATE__OPEN;
    s->w1.staff = "li";
    s->w1.services = s->a_only;
    s->w1.n_services = 1;
    s->w1.serving_number = "A001";
    hallbus__window__init(&s->w2);
    s->w2.number = 2;
    s->w2.state = HALLBUS__WINDOW_STATE__OPEN;
    s->w2.staff = "wang";
    s->w2.services = s->b_only;
    s->w2.n_services = 1;
    s->wins[0] = &s->w1;
    s->wins[1] = &s->w2;
    s->st.windows = s->wins;
    s->st.n_windows = 2;
    ticket(&s->t[0], "A001", HALLBUS__TICKET_STATE__CALLED, 1, T0, false);
    ticket(&s->t[1], "A002", HALLBUS__TICKET_STATE__WAITING, 0, 0, false);
    ticket(&s->t[2], "A003", HALLBUS__TICKET_STATE__WAITING, 0, 0, false);
    for (int i = 0; i < 3; i++)
        s->tickets[i] = &s->t[i];
    s->snap.tickets = s->tickets;
    s->snap.n_tickets = 3;
    static char numbers[8][16];
    for (size_t i = 0; i < nrecent; i++) {
        unsigned w, sec;
        sscanf(recent[i], "%15[^@]@%u@%u", numbers[i], &w, &sec);
        ticket(&s->r[i], numbers[i], HALLBUS__TICKET_STATE__CALLED, w, T0 + sec * SEC, false);
        s->recent[i] = &s->r[i];
    }
    s->snap.recent_calls = s->recent;
    s->snap.n_recent_calls = nrecent;
    s->snap.seq = seq;
    s->snap.status = &s->st;
    return &s->snap;
}

static void sync_at(uint64_t seq)
{
    snap_t s;
    const char *recent[] = {"A001@1@0"};
    begin("test", 0);
    cr_assert_eq(snapshot(make_snapshot(&s, seq, T0, recent, 1), 0), CHANGED);
    size_t n;
    dv_view_take_pending(view, &n); /* a first sync says nothing */
    cr_assert_eq(n, 0, "the first snapshot announces nothing");
}

/* ── tests ── */

TestSuite(display_view, .init = setup, .fini = teardown);

Test(display_view, a_snapshot_gives_services_windows_and_calls)
{
    sync_at(10);
    cr_assert_eq(view->seq, 10);
    cr_assert(view->loaded);
    const dv_service_t *a = dv_view_service(view, "A");
    cr_assert_not_null(a);
    cr_assert_eq(a->waiting, 2);
    cr_assert_eq(a->estimated_wait_s, 600);
    cr_assert_eq(a->open_windows, 1);
    const dv_window_t *w1 = dv_view_window(view, 1);
    cr_assert_str_eq(w1->serving, "A001");
    cr_assert_str_eq(w1->staff, "li");
    cr_assert_eq(view->ncalls, 1);
    cr_assert_str_eq(view->calls[0].number, "A001");
    cr_assert(hb_follower_synced(&fol, 0));
}

Test(display_view, events_in_order_update_waiting_windows_and_calls)
{
    sync_at(10);
    line_a(3, 1, 900, 1);
    cr_assert_eq(ev(ev_issued(11, "A004", true), 1), CHANGED);
    cr_assert_eq(dv_view_service(view, "A")->waiting, 3);
    cr_assert_eq(dv_view_service(view, "A")->waiting_green, 1);
    cr_assert_eq(dv_view_service(view, "A")->estimated_wait_s, 900, "3 × 300 s / 1 window");
    cr_assert_eq(ev(ev_finished(12, "A001", 1), 2), CHANGED);
    cr_assert_str_eq(dv_view_window(view, 1)->serving, "");
    cr_assert_eq(dv_view_service(view, "A")->waiting, 3, "an event with no summary changes none");
    line_a(2, 0, 600, 1);
    cr_assert_eq(ev(ev_called_g(13, "A004", 1, false, true), 3), CHANGED);
    cr_assert_eq(dv_view_service(view, "A")->waiting, 2);
    cr_assert_eq(dv_view_service(view, "A")->waiting_green, 0);
    cr_assert_str_eq(dv_view_window(view, 1)->serving, "A004");
    cr_assert(dv_view_window(view, 1)->serving_green, "the green ticket is marked");
    cr_assert_str_eq(view->calls[0].number, "A004");
    cr_assert_str_eq(view->calls[1].number, "A001");
    size_t n;
    const dv_announce_t *a = dv_view_take_pending(view, &n);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(a[0].zh, "请 A004 号到 1 号窗口办理");
    cr_assert_str_eq(a[0].en, "Ticket A004, please go to window 1");
    cr_assert_eq(a[0].seq, 13);
    cr_assert_eq(view->seq, 13);
}

Test(display_view, a_recall_moves_the_ticket_to_the_top_once_and_is_announced_again)
{
    sync_at(10);
    ev(ev_called(11, "A002", 2, false), 1);
    ev(ev_called(12, "A001", 1, true), 2);
    cr_assert_eq(view->ncalls, 2, "each ticket appears once");
    cr_assert_str_eq(view->calls[0].number, "A001");
    cr_assert_eq(view->calls[0].recalls, 1);
    cr_assert_str_eq(view->calls[1].number, "A002");
    size_t n;
    const dv_announce_t *a = dv_view_take_pending(view, &n);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(a[0].number, "A002");
    cr_assert_str_eq(a[1].number, "A001");
    cr_assert(a[0].id < a[1].id, "ids follow call order");
}

Test(display_view, a_paused_window_shows_its_reason)
{
    sync_at(10);
    line_a(2, 0, 600, 0);
    cr_assert_eq(ev(ev_paused(11, 1, "lunch"), 1), CHANGED);
    const dv_window_t *w = dv_view_window(view, 1);
    cr_assert_eq(w->state, HALLBUS__WINDOW_STATE__PAUSED);
    cr_assert_str_eq(w->pause_reason, "lunch");
    cr_assert_eq(dv_view_service(view, "A")->open_windows, 0);
}

Test(display_view, events_buffered_while_waiting_are_applied_after_the_snapshot_unless_stale)
{
    begin("start", 0);
    /* subscribed first: these arrive before the snapshot's answer */
    cr_assert_eq(ev(ev_issued(9, "A003", false), 1), NOTHING);
    cr_assert_eq(ev(ev_issued(10, "A009", false), 1), NOTHING);
    line_a(3, 0, 900, 1);
    cr_assert_eq(ev(ev_issued(11, "A004", false), 1), NOTHING);
    line_a(2, 0, 600, 1);
    cr_assert_eq(ev(ev_called(12, "A002", 2, false), 1), NOTHING);
    cr_assert_eq(view->seq, 0, "nothing applied while waiting");
    cr_assert_not(hb_follower_synced(&fol, 1));
    snap_t s;
    const char *recent[] = {"A001@1@0"};
    cr_assert_eq(snapshot(make_snapshot(&s, 10, T0, recent, 1), 2), CHANGED);
    cr_assert_eq(view->seq, 12);
    cr_assert_eq(fol.counters.stale, 2, "seq 9 and 10 are in the snapshot already");
    cr_assert_eq(fol.counters.applied, 2);
    cr_assert_eq(dv_view_service(view, "A")->waiting, 2, "2 + A004 - A002");
    cr_assert_null(dv_view_window(view, 3));
    cr_assert(hb_follower_synced(&fol, 2));
}

Test(display_view, a_gap_forces_a_resync_and_nothing_is_applied_past_it)
{
    sync_at(10);
    cr_assert_eq(ev(ev_issued(11, "A004", false), 1), CHANGED);
    cr_assert_eq(ev(ev_issued(13, "A006", false), 1), RESYNC);
    cr_assert_eq(fol.counters.gaps, 1);
    cr_assert_eq(view->seq, 11, "the event after the gap is not applied");
    cr_assert_not(hb_follower_synced(&fol, 1), "a board says it is not live while resyncing");
    /* the next snapshot heals it */
    cr_assert_eq(ev(ev_issued(14, "A007", false), 1), NOTHING);
    snap_t s;
    const char *recent[] = {"A001@1@0"};
    cr_assert_eq(snapshot(make_snapshot(&s, 13, T0, recent, 1), 2), CHANGED);
    cr_assert_eq(view->seq, 14);
    cr_assert(hb_follower_synced(&fol, 2));
}

Test(display_view, a_gap_inside_the_buffer_resyncs_again)
{
    begin("start", 0);
    ev(ev_issued(11, "A004", false), 1);
    ev(ev_issued(13, "A006", false), 1);
    ev(ev_issued(14, "A007", false), 1);
    snap_t s;
    const char *recent[] = {"A001@1@0"};
    cr_assert_eq(snapshot(make_snapshot(&s, 10, T0, recent, 1), 2), RESYNC);
    cr_assert_eq(view->seq, 11);
    cr_assert_eq(fol.state, HB_FOLLOW_WAITING);
    cr_assert_eq(fol.nheld, 0, "the buffer was emptied (and freed: ASan says so)");
}

Test(display_view, heartbeats_detect_loss_at_the_tail_and_a_hall_that_went_back)
{
    sync_at(10);
    cr_assert_eq(ev(ev_heartbeat(10, "t1"), 1), NOTHING);
    cr_assert_eq(view->seq, 10, "a heartbeat consumes no number");
    cr_assert_eq(ev(ev_heartbeat(12, "t1"), 1), RESYNC);
    sync_at(12);
    cr_assert_eq(ev(ev_heartbeat(3, "t1"), 1), RESYNC);
}

Test(display_view, silence_longer_than_the_ttl_forces_a_resync)
{
    sync_at(10);
    cr_assert_eq(ev(ev_heartbeat(10, "t1"), 1 * SEC), NOTHING);
    cr_assert_eq(tick(3 * SEC), NOTHING);
    cr_assert(hb_follower_synced(&fol, 3 * SEC));
    cr_assert_not(hb_follower_synced(&fol, 4 * SEC + 1), "not live past the TTL");
    cr_assert_eq(tick(4 * SEC + 1), RESYNC);
    cr_assert_eq(fol.counters.silences, 1);
    cr_assert_eq(tick(9 * SEC), NOTHING, "waiting: the caller retries");
}

Test(display_view, stale_and_duplicate_events_are_dropped)
{
    sync_at(10);
    cr_assert_eq(ev(ev_called(11, "A002", 2, false), 1), CHANGED);
    cr_assert_eq(ev(ev_called(11, "A002", 2, false), 1), NOTHING);
    cr_assert_eq(ev(ev_issued(5, "A001", false), 1), NOTHING);
    cr_assert_eq(fol.counters.stale, 2);
    size_t n;
    dv_view_take_pending(view, &n);
    cr_assert_eq(n, 1, "a duplicate is not announced twice");
}

Test(display_view, another_halls_events_are_ignored)
{
    sync_at(10);
    cr_assert_eq(ev(ev_heartbeat(99, "h02"), 1), NOTHING);
    cr_assert_eq(fol.counters.foreign, 1);
    cr_assert_eq(view->seq, 10);
}

Test(display_view, a_resync_announces_the_calls_the_gap_hid_once_and_in_order)
{
    sync_at(10);
    ev(ev_called(11, "A002", 2, false), 1); /* at T0 + 11 s */
    size_t n;
    dv_view_take_pending(view, &n);
    cr_assert_eq(n, 1);
    /* lost: two calls; the snapshot lists them newest first, and A002 (known) */
    begin("gap", 2);
    snap_t s;
    const char *recent[] = {"A004@1@14", "A003@2@13", "A002@2@11", "A001@1@0"};
    snapshot(make_snapshot(&s, 14, T0 + 20 * SEC, recent, 4), 3);
    const dv_announce_t *a = dv_view_take_pending(view, &n);
    cr_assert_eq(n, 2, "only the calls not seen before");
    cr_assert_str_eq(a[0].number, "A003");
    cr_assert_str_eq(a[1].number, "A004");
    cr_assert_eq(view->ncalls, 4);
    cr_assert_str_eq(view->calls[0].number, "A004");
    /* the same snapshot again announces nothing */
    begin("again", 4);
    snapshot(make_snapshot(&s, 14, T0 + 21 * SEC, recent, 4), 5);
    dv_view_take_pending(view, &n);
    cr_assert_eq(n, 0, "never announced twice");
}

Test(display_view, announcements_after_an_id_are_kept_for_reconnecting_clients)
{
    sync_at(10);
    for (uint64_t i = 0; i < 5; i++) {
        char number[8];
        snprintf(number, sizeof number, "A%03u", (unsigned)(i + 2));
        ev(ev_called(11 + i, number, 1, false), 1);
    }
    const dv_announce_t *out[DV_ANNOUNCE_RING];
    size_t n = dv_view_announcements_after(view, T0 + 13 * SEC, out, DV_ANNOUNCE_RING);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(out[0]->number, "A005");
    cr_assert_str_eq(out[1]->number, "A006");
}

Test(display_view, the_json_shows_numbers_only_never_contacts)
{
    sync_at(10);
    ev(ev_called(11, "A002", 2, false), 1);
    json_t *j = dv_view_json(view, true, 6, HB_DISPLAY_LANG_BOTH);
    char *text = json_dumps(j, JSON_COMPACT);
    cr_assert_not_null(text);
    cr_assert_null(strstr(text, "ref-secret"), "%s", text);
    cr_assert_null(strstr(text, "contact"), "%s", text);
    cr_assert_not_null(strstr(text, "\"synced\":true"));
    cr_assert_eq(json_array_size(json_object_get(j, "calls")), 2);
    free(text);
    json_decref(j);
    j = dv_view_json(view, true, 1, HB_DISPLAY_LANG_ZH);
    cr_assert_eq(json_array_size(json_object_get(j, "calls")), 1, "only N calls are shown");
    cr_assert_str_eq(json_string_value(json_object_get(j, "language")), "zh");
    json_decref(j);
}

Test(display_view, at_most_ten_calls_are_kept_newest_first)
{
    sync_at(10);
    for (uint64_t i = 0; i < 15; i++) {
        char number[8];
        snprintf(number, sizeof number, "B%03u", (unsigned)i);
        ev(ev_called(11 + i, number, 2, false), 1);
    }
    cr_assert_eq(view->ncalls, DV_CALLS_MAX);
    cr_assert_str_eq(view->calls[0].number, "B014");
    cr_assert_str_eq(view->calls[DV_CALLS_MAX - 1].number, "B005");
}

Test(display_view, a_new_business_day_clears_calls_tickets_and_windows)
{
    sync_at(10);
    ev(ev_called(11, "A002", 1, false), 1);
    Hallbus__Envelope e;
    env_base(&e, 12, "t1");
    Hallbus__DailyReset r = HALLBUS__DAILY_RESET__INIT;
    r.previous_date = "2026-11-23";
    r.business_date = "2026-11-24";
    e.event_case = HALLBUS__ENVELOPE__EVENT_DAILY_RESET;
    e.daily_reset = &r;
    Hallbus__ServiceSummary a = HALLBUS__SERVICE_SUMMARY__INIT, *lines[] = {&a};
    a.prefix = "A"; /* every service, empty, as hall-queue sends a day.reset */
    e.lines = lines;
    e.n_lines = 1;
    cr_assert_eq(ev(owned(&e), 2), CHANGED);
    cr_assert_str_eq(view->business_date, "2026-11-24");
    cr_assert_eq(view->ncalls, 0);
    cr_assert_eq(HASH_COUNT(view->tickets), 0);
    cr_assert_eq(dv_view_service(view, "A")->waiting, 0);
    cr_assert_eq(dv_view_window(view, 1)->state, HALLBUS__WINDOW_STATE__CLOSED);
    cr_assert_str_eq(dv_view_window(view, 1)->serving, "");
    cr_assert_eq(dv_view_service(view, "A")->open_windows, 0);
}

Test(display_view, figures_come_from_hall_queue_not_from_counting)
{
    sync_at(10);
    /* hall-queue counts a checked-in appointment as waiting; a board that
     * counted tickets itself would not know which lines they are in */
    line_a(5, 0, 1500, 1);
    ev(ev_issued(11, "A004", false), 1);
    cr_assert_eq(dv_view_service(view, "A")->waiting, 5);
    cr_assert_eq(dv_view_service(view, "A")->estimated_wait_s, 1500);
    /* a heartbeat of the view's sequence refreshes every service */
    Hallbus__Envelope e;
    env_base(&e, 11, "t1");
    Hallbus__Heartbeat hb = HALLBUS__HEARTBEAT__INIT;
    Hallbus__ServiceSummary a = HALLBUS__SERVICE_SUMMARY__INIT, *svcs[] = {&a};
    a.prefix = "A";
    a.waiting = 4;
    a.estimated_wait_s = 240;
    a.open_windows = 2;
    hb.services = svcs;
    hb.n_services = 1;
    e.event_case = HALLBUS__ENVELOPE__EVENT_HEARTBEAT;
    e.heartbeat = &hb;
    uint64_t version = view->version;
    dv_view_apply(view, &e);
    cr_assert_eq(dv_view_service(view, "A")->waiting, 4);
    cr_assert_eq(dv_view_service(view, "A")->estimated_wait_s, 240);
    cr_assert_eq(dv_view_service(view, "A")->open_windows, 2);
    cr_assert_gt(view->version, version, "the boards are told");
    /* one of another sequence is not the view's state: ignored */
    e.seq = 9;
    a.waiting = 1;
    dv_view_apply(view, &e);
    cr_assert_eq(dv_view_service(view, "A")->waiting, 4);
}
