/* hall-display with real hall-bus and hall-queue on loopback, checked the
 * way a browser sees it: /api/state, the /events and /voice streams. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "fixture.h"
#include "hallbus/clock.h"
#include "sse_client.h"

#define OK HALLBUS__STATUS_CODE__OK

static hb_fixture_t fx;
static pid_t display;
static char base[64];

static void start_hall_with(const char *more)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int port = hb_free_port();
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    static char extra[512];
    snprintf(extra, sizeof extra,
             "display:\n  http: \"127.0.0.1:%d\"\n  recent_calls: 10\n  resync_ttl_ms: 600\n"
             "  snapshot_timeout_ms: 300\n%s",
             port, more);
    hb_fixture_opts_t opts = {.extra_yaml = extra};
    cr_assert_eq(hb_fixture_start(&fx, &opts), 0, "the hall did not start");
    display = 0;
}

static void start_hall(void)
{
    start_hall_with("");
}

static char voice_dir[64];

static void start_hall_with_voice(void)
{
    snprintf(voice_dir, sizeof voice_dir, "/tmp/hallbus-voice-XXXXXX");
    cr_assert_not_null(mkdtemp(voice_dir));
    char more[128];
    snprintf(more, sizeof more, "  voice_dir: \"%s/wav\"\n", voice_dir);
    start_hall_with(more);
}

static void start_display(void)
{
    const char *args[] = {"-c", fx.config, NULL};
    display = hb_fixture_spawn(&fx, "hall-display", args);
    cr_assert_gt(display, 0);
}

/* Every test ends here: each daemon must exit 0 (no sanitizer report, no
 * leak, its loop closed). */
static void stop(void)
{
    int status = hb_fixture_kill(&display, SIGTERM);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "tail -n 60 '%s/hall-display.log' >&2", fx.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log)\n");
    }
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hall-display stopped cleanly");
    cr_assert_eq(hb_fixture_stop(&fx), 0, "the daemons stopped cleanly");
    curl_global_cleanup();
}

static void cleanup(void)
{
    hb_fixture_kill(&display, SIGKILL);
    hb_fixture_stop(&fx);
}

static void cleanup_voice(void)
{
    cleanup();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", voice_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", voice_dir);
}

static json_t *state(void)
{
    char url[128];
    snprintf(url, sizeof url, "%s/api/state", base);
    return http_get_json(url);
}

static json_t *stats(void)
{
    char url[128];
    snprintf(url, sizeof url, "%s/api/stats", base);
    return http_get_json(url);
}

static Hallbus__Reply *request(Hallbus__Request *req)
{
    Hallbus__Reply *r = hb_fixture_call(&fx, req);
    cr_assert_not_null(r);
    cr_assert_eq(r->code, OK);
    return r;
}

static Hallbus__Reply *status_reply(void)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetStatus gs = HALLBUS__GET_STATUS__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &gs;
    return request(&req);
}

static Hallbus__Reply *snapshot_reply(void)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetSnapshot gs = HALLBUS__GET_SNAPSHOT__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT;
    req.get_snapshot = &gs;
    return request(&req);
}

/* The board is live and shows the hall at sequence SEQ. */
static uint64_t want_seq;
static bool board_at_seq(void *arg)
{
    json_t *s = state();
    bool ok = s && json_is_true(json_object_get(s, "synced")) &&
              (uint64_t)json_integer_value(json_object_get(s, "seq")) == want_seq;
    json_decref(s);
    return ok;
}

static void wait_board_caught_up(int timeout_ms)
{
    Hallbus__Reply *r = status_reply();
    want_seq = r->status->seq;
    hallbus__reply__free_unpacked(r, NULL);
    cr_assert(hb_wait_until(board_at_seq, NULL, timeout_ms),
              "the board is live at seq %llu within %d ms", (unsigned long long)want_seq,
              timeout_ms);
}

static json_t *find_by(json_t *array, const char *key, const char *text, json_int_t number)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
    {
        json_t *k = json_object_get(v, key);
        if (text ? json_is_string(k) && strcmp(json_string_value(k), text) == 0
                 : json_integer_value(k) == number)
            return v;
    }
    return NULL;
}

static const char *window_state_name(Hallbus__WindowState s)
{
    return s == HALLBUS__WINDOW_STATE__OPEN     ? "open"
           : s == HALLBUS__WINDOW_STATE__PAUSED ? "paused"
                                                : "closed";
}

/* Says how the board differs from what `status` (and the snapshot's recent
 * calls) say, in WHY; false when it does not differ. */
#define MISMATCH(...)                                                                              \
    do {                                                                                           \
        snprintf(why, whylen, __VA_ARGS__);                                                        \
        goto out;                                                                                  \
    } while (0)

static bool board_differs(char *why, size_t whylen)
{
    json_t *board = state();
    Hallbus__Reply *r = snapshot_reply();
    const Hallbus__Snapshot *snap = r->snapshot;
    const Hallbus__HallStatus *st = snap->status;
    why[0] = '\0';
    if (!board)
        MISMATCH("no /api/state");
    if (!json_is_true(json_object_get(board, "synced")))
        MISMATCH("the board is not live");
    if ((uint64_t)json_integer_value(json_object_get(board, "seq")) != snap->seq)
        MISMATCH("seq %lld, the hall's %llu",
                 (long long)json_integer_value(json_object_get(board, "seq")),
                 (unsigned long long)snap->seq);
    json_t *services = json_object_get(board, "services");
    if (json_array_size(services) != st->n_services)
        MISMATCH("%zu services, the hall has %zu", json_array_size(services), st->n_services);
    for (size_t i = 0; i < st->n_services; i++) {
        const Hallbus__ServiceSummary *s = st->services[i];
        json_t *b = find_by(services, "prefix", s->prefix, 0);
        if (!b)
            MISMATCH("service %s is not on the board", s->prefix);
        if (json_integer_value(json_object_get(b, "waiting")) != s->waiting ||
            json_integer_value(json_object_get(b, "waiting_green")) != s->waiting_green ||
            json_integer_value(json_object_get(b, "open_windows")) != s->open_windows ||
            json_integer_value(json_object_get(b, "estimated_wait_s")) != s->estimated_wait_s)
            MISMATCH("service %s: waiting %lld/%u green %lld/%u windows %lld/%u wait %lld/%u",
                     s->prefix, (long long)json_integer_value(json_object_get(b, "waiting")),
                     s->waiting, (long long)json_integer_value(json_object_get(b, "waiting_green")),
                     s->waiting_green,
                     (long long)json_integer_value(json_object_get(b, "open_windows")),
                     s->open_windows,
                     (long long)json_integer_value(json_object_get(b, "estimated_wait_s")),
                     s->estimated_wait_s);
    }
    json_t *windows = json_object_get(board, "windows");
    if (json_array_size(windows) != st->n_windows)
        MISMATCH("%zu windows, the hall has %zu", json_array_size(windows), st->n_windows);
    for (size_t i = 0; i < st->n_windows; i++) {
        const Hallbus__Window *w = st->windows[i];
        json_t *b = find_by(windows, "number", NULL, w->number);
        if (!b || strcmp(json_string_value(json_object_get(b, "serving")), w->serving_number) ||
            strcmp(json_string_value(json_object_get(b, "state")), window_state_name(w->state)) ||
            strcmp(json_string_value(json_object_get(b, "staff")), w->staff))
            MISMATCH("window %u: serving %s, %s, staff %s on the hall", w->number,
                     w->serving_number, window_state_name(w->state), w->staff);
    }
    /* the recent calls, newest first, each ticket once */
    json_t *calls = json_object_get(board, "calls");
    size_t k = 0;
    for (size_t i = 0; i < snap->n_recent_calls; i++) {
        const Hallbus__Ticket *t = snap->recent_calls[i];
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen = seen || strcmp(snap->recent_calls[j]->number, t->number) == 0;
        if (seen)
            continue;
        json_t *c = json_array_get(calls, k++);
        if (!c || strcmp(json_string_value(json_object_get(c, "number")), t->number) ||
            json_integer_value(json_object_get(c, "window")) != t->window)
            MISMATCH("call %zu: %s at window %u on the hall", k, t->number, t->window);
    }
    if (json_array_size(calls) != k)
        MISMATCH("%zu calls on the board, %zu on the hall", json_array_size(calls), k);
out:
    hallbus__reply__free_unpacked(r, NULL);
    json_decref(board);
    return why[0] != '\0';
}

static char mismatch[256];
static bool board_matches(void *arg)
{
    return !board_differs(mismatch, sizeof mismatch);
}

/* The board comes to equal the hall within TIMEOUT_MS. */
static void assert_board_equals_status(int timeout_ms)
{
    cr_assert(hb_wait_until(board_matches, NULL, timeout_ms), "the board equals status: %s",
              mismatch);
}

static void busy_hall(void)
{
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "li"), OK);
    cr_assert_eq(hb_fx_window(&fx, "open", 3, "wang"), OK);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(hb_fx_take(&fx, i % 3 == 0 ? "C" : "A", i == 5, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 1, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "start", 1, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 3, NULL), OK);
}

/* ── conditions the tests wait for ── */

static char want_number[16];
static size_t want;

static bool got_view(void *arg)
{
    return sse_count(arg, "view") >= 1;
}

static bool shows_call(void *arg)
{
    json_t *v = sse_last(arg, "view");
    json_t *top = json_array_get(json_object_get(v, "calls"), 0);
    bool ok = top && strcmp(json_string_value(json_object_get(top, "number")), want_number) == 0;
    json_decref(v);
    return ok && sse_count(arg, "announce") == 1;
}

static bool has_text(void *arg)
{
    sse_client_t *c = arg;
    pthread_mutex_lock(&c->lock);
    bool ok = c->textlen > 0;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

static bool all(void *arg)
{
    return sse_count(arg, "announce") >= want;
}

static bool lines(void *arg)
{
    sse_client_t *c = arg;
    pthread_mutex_lock(&c->lock);
    size_t k = 0;
    for (size_t i = 0; i < c->textlen; i++)
        k += c->text[i] == '\n';
    pthread_mutex_unlock(&c->lock);
    return k >= want;
}

static bool answers(void *arg)
{
    json_t *s = state();
    bool ok = s != NULL;
    json_decref(s);
    return ok;
}

static bool not_live(void *arg)
{
    json_t *j = state();
    bool ok = j && json_is_false(json_object_get(j, "synced"));
    json_decref(j);
    return ok;
}

static bool counted(void *arg)
{
    /* a publisher's first messages are lost until its connection is up: repeat */
    static const char junk[] = "\xff\xff\xff not an envelope";
    zmq_send(arg, "hall.t1.ticket.called", 21, ZMQ_SNDMORE);
    zmq_send(arg, junk, sizeof junk - 1, 0);
    zmq_send(arg, "hall.t1.ticket.called", 21, 0); /* one frame only */
    json_t *s = stats();
    bool ok = s && json_integer_value(json_object_get(s, "malformed")) >= 2;
    json_decref(s);
    return ok;
}

/* ── tests ── */

Test(display_e2e, a_late_board_equals_status_and_stays_equal, .init = start_hall, .fini = cleanup,
     .timeout = 60)
{
    busy_hall();
    start_display();
    wait_board_caught_up(5000);
    assert_board_equals_status(3000);

    /* more happens: the board follows, event by event */
    cr_assert_eq(hb_fx_finish(&fx, 1), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 1, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "recall", 3, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "no-show", 3, NULL), OK);
    cr_assert_eq(hb_fx_window(&fx, "pause", 3, NULL), OK);
    cr_assert_eq(hb_fx_take(&fx, "B", false, NULL), OK);
    wait_board_caught_up(5000);
    assert_board_equals_status(3000);
    json_t *s = stats();
    cr_assert_eq(json_integer_value(json_object_get(s, "snapshots")), 1,
                 "one snapshot, then events only");
    json_decref(s);

    /* the terminal board shows the same hall */
    static char out[8192];
    const char *args[] = {"board", "--once", "--calls", "10", NULL};
    cr_assert_eq(hb_fixture_hallctl(&fx, out, sizeof out, args), 0, "hallctl board: %s", out);
    Hallbus__Reply *r = snapshot_reply();
    const Hallbus__Snapshot *snap = r->snapshot;
    cr_assert_gt(snap->n_recent_calls, 0);
    char line[64];
    snprintf(line, sizeof line, "> %-6s -> window %-3u", snap->recent_calls[0]->number,
             snap->recent_calls[0]->window);
    cr_assert_not_null(strstr(out, line), "the newest call first: '%s' in\n%s", line, out);
    snprintf(line, sizeof line, "event #%llu", (unsigned long long)snap->seq);
    cr_assert_not_null(strstr(out, line), "%s", out);
    cr_assert_not_null(strstr(out, "paused"), "window 3 is paused:\n%s", out);
    hallbus__reply__free_unpacked(r, NULL);
    stop();
}

Test(display_e2e, a_browser_gets_the_whole_view_then_each_change_and_the_announcement,
     .init = start_hall, .fini = cleanup, .timeout = 60)
{
    busy_hall();
    start_display();
    wait_board_caught_up(5000);
    char url[128];
    snprintf(url, sizeof url, "%s/events", base);
    static sse_client_t c;
    cr_assert_eq(sse_start(&c, url, NULL), 0);
    cr_assert(hb_wait_until(got_view, &c, 5000), "a view on connect");
    char first[32];
    sse_first_name(&c, first);
    cr_assert_str_eq(first, "view", "the first thing a browser gets is the whole view");
    cr_assert_eq(sse_count(&c, "announce"), 0, "no old call is announced to a new browser");

    char number[16];
    cr_assert_eq(hb_fx_finish(&fx, 1), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 1, number), OK);
    snprintf(want_number, sizeof want_number, "%s", number);
    cr_assert(hb_wait_until(shows_call, &c, 5000), "the call %s is pushed", want_number);
    json_t *a = sse_get(&c, "announce", 0);
    char zh[64];
    snprintf(zh, sizeof zh, "请 %s 号到 1 号窗口办理", want_number);
    cr_assert_str_eq(json_string_value(json_object_get(a, "zh")), zh);
    json_decref(a);
    json_t *v = sse_last(&c, "view");
    cr_assert(json_is_true(json_object_get(v, "synced")));
    json_decref(v);
    sse_stop(&c);

    /* a window screen is served, and the board page */
    long status;
    snprintf(url, sizeof url, "%s/window/1", base);
    char *page = http_get(url, &status);
    cr_assert_eq(status, 200);
    cr_assert_not_null(strstr(page, "class=\"window-screen"));
    free(page);
    snprintf(url, sizeof url, "%s/", base);
    page = http_get(url, &status);
    cr_assert_eq(status, 200);
    cr_assert_not_null(strstr(page, "class=\"board"));
    free(page);
    stop();
}

/* The bus dies while the hall goes on calling, and comes back. Whether the
 * calls made meanwhile are lost on the wire or delivered late, the display
 * hears nothing for longer than its TTL (it resyncs from a snapshot), then
 * shows every call once, in order, and ends equal to the hall. */
static bool display_fell_silent(void *arg)
{
    json_t *s = stats();
    bool ok = s && json_integer_value(json_object_get(s, "silences")) > 0;
    json_decref(s);
    return ok;
}

Test(display_e2e, the_bus_restarting_leaves_no_call_missing_or_shown_twice, .init = start_hall,
     .fini = cleanup, .timeout = 90)
{
    busy_hall();
    start_display();
    wait_board_caught_up(5000);
    json_t *s0 = stats();
    json_int_t snapshots0 = json_integer_value(json_object_get(s0, "snapshots"));
    json_decref(s0);

    hb_fixture_kill(&fx.bus, SIGKILL);
    char called[3][16];
    cr_assert_eq(hb_fx_finish(&fx, 1), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 1, called[0]), OK);
    cr_assert_eq(hb_fx_act(&fx, "start", 1, NULL), OK);
    cr_assert_eq(hb_fx_finish(&fx, 1), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 1, called[1]), OK);
    cr_assert_eq(hb_fx_act(&fx, "no-show", 3, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 3, called[2]), OK);
    cr_assert(hb_wait_until(display_fell_silent, NULL, 5000), "the display noticed the silence");
    cr_assert_eq(hb_fixture_start_bus(&fx), 0);

    wait_board_caught_up(10000);
    assert_board_equals_status(3000);
    json_t *b = state();
    json_t *calls = json_object_get(b, "calls");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(calls, 0), "number")),
                     called[2]);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(calls, 1), "number")),
                     called[1]);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(calls, 2), "number")),
                     called[0]);
    for (size_t i = 0; i < json_array_size(calls); i++)
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(
                json_string_value(json_object_get(json_array_get(calls, i), "number")),
                json_string_value(json_object_get(json_array_get(calls, j), "number")),
                "a call is shown once");
    json_decref(b);
    json_t *s = stats();
    cr_assert_gt(json_integer_value(json_object_get(s, "snapshots")), snapshots0,
                 "the display resynchronised");
    json_decref(s);
    stop();
}

/* An event whose seq jumps ahead (a lost event, as a subscriber sees it)
 * forces a resync: the event is not applied, a snapshot is, and the board
 * is right. Forged here on the bus so that the loss is certain. */
static void *forger;
static uint64_t forged_seq;
static bool resynced_after_gap(void *arg)
{
    Hallbus__Envelope e = HALLBUS__ENVELOPE__INIT;
    Hallbus__TicketIssued ti = HALLBUS__TICKET_ISSUED__INIT;
    Hallbus__Ticket t = HALLBUS__TICKET__INIT;
    t.number = "Z999";
    t.service = "A";
    t.state = HALLBUS__TICKET_STATE__WAITING;
    ti.ticket = &t;
    e.hall_id = "t1";
    e.seq = forged_seq;
    e.source = "forger";
    e.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED;
    e.ticket_issued = &ti;
    uint8_t buf[256];
    size_t len = hallbus__envelope__pack(&e, buf);
    /* a publisher's first messages go nowhere until it is connected: repeat */
    zmq_send(forger, "hall.t1.ticket.issued", 21, ZMQ_SNDMORE);
    zmq_send(forger, buf, len, 0);
    json_t *s = stats();
    bool ok = s && json_integer_value(json_object_get(s, "gaps")) > 0;
    json_decref(s);
    return ok;
}

static json_int_t snapshots_before;
static bool snapshot_taken(void *arg)
{
    json_t *s = stats();
    bool ok = s && json_integer_value(json_object_get(s, "snapshots")) > snapshots_before;
    json_decref(s);
    return ok;
}

Test(display_e2e, a_gap_forces_a_resync, .init = start_hall, .fini = cleanup, .timeout = 60)
{
    busy_hall();
    start_display();
    wait_board_caught_up(5000);
    json_t *s0 = stats();
    json_int_t snapshots0 = json_integer_value(json_object_get(s0, "snapshots"));
    json_decref(s0);
    Hallbus__Reply *r = status_reply();
    forged_seq = r->status->seq + 3; /* two events "lost" */
    hallbus__reply__free_unpacked(r, NULL);
    forger = zmq_socket(fx.ctx, ZMQ_PUB);
    /* as hall-queue would (its key): the bus lets only queue and counter keys publish */
    cr_assert_eq(hb_fixture_secure(&fx, forger, "hall-bus", "hall-queue"), 0);
    cr_assert_eq(zmq_connect(forger, fx.pub_ep), 0);
    cr_assert(hb_wait_until(resynced_after_gap, NULL, 5000), "the gap is seen");
    zmq_close(forger);
    snapshots_before = snapshots0;
    cr_assert(hb_wait_until(snapshot_taken, NULL, 5000), "a snapshot after the gap");
    cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK);
    assert_board_equals_status(5000);
    json_t *b = state();
    json_t *calls = json_object_get(b, "calls");
    for (size_t i = 0; i < json_array_size(calls); i++)
        cr_assert_str_neq(json_string_value(json_object_get(json_array_get(calls, i), "number")),
                          "Z999");
    char *text = json_dumps(b, 0);
    cr_assert_null(strstr(text, "Z999"), "the event after the gap was not applied");
    free(text);
    json_decref(b);
    stop();
}

/* While stopped, the display's socket keeps what arrives (under its
 * high-water mark): when it runs again it catches up without a resync,
 * and says it is not live for as long as it is not. */
Test(display_e2e, a_display_that_was_stopped_catches_up, .init = start_hall, .fini = cleanup,
     .timeout = 60)
{
    busy_hall();
    start_display();
    wait_board_caught_up(5000);
    kill(display, SIGSTOP);
    cr_assert_eq(hb_fx_finish(&fx, 1), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 1, NULL), OK);
    cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK);
    kill(display, SIGCONT);
    wait_board_caught_up(5000);
    assert_board_equals_status(3000);
    stop();
}

Test(display_e2e, the_voice_stream_keeps_call_order, .init = start_hall, .fini = cleanup,
     .timeout = 60)
{
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "li"), OK);
    cr_assert_eq(hb_fx_window(&fx, "open", 2, "wang"), OK);
    cr_assert_eq(hb_fx_window(&fx, "open", 3, "zhao"), OK);
    /* windows 1 [A,B] and 3 [A,B,C] call the A tickets, window 2 [B] the B ones */
    for (int i = 0; i < 10; i++)
        cr_assert_eq(hb_fx_take(&fx, i < 6 ? "A" : "B", false, NULL), OK);
    start_display();
    wait_board_caught_up(5000);
    char url[128];
    snprintf(url, sizeof url, "%s/voice", base);
    static sse_client_t voice;
    cr_assert_eq(sse_start(&voice, url, NULL), 0);
    snprintf(url, sizeof url, "%s/voice.txt", base);
    static sse_client_t text;
    cr_assert_eq(sse_start(&text, url, NULL), 0);
    cr_assert(hb_wait_until(has_text, &voice, 5000), "the voice stream is open");
    cr_assert(hb_wait_until(has_text, &text, 5000), "the text stream is open (its head line)");

    /* calls from three windows, then a recall: announced in this order */
    static char order[16][16];
    static unsigned windows[16];
    int n = 0;
    for (int round = 0; round < 3; round++)
        for (unsigned w = 1; w <= 3; w++) {
            if (round > 0) {
                cr_assert_eq(hb_fx_act(&fx, "start", w, NULL), OK);
                cr_assert_eq(hb_fx_finish(&fx, w), OK);
            }
            {
                int rc_ = hb_fx_act(&fx, "call", w, order[n]);
                cr_assert_eq(rc_, OK, "call %u: %d", w, rc_);
            }
            windows[n++] = w;
        }
    cr_assert_eq(hb_fx_act(&fx, "recall", 2, order[n]), OK);
    windows[n++] = 2;
    want = (size_t)n;
    cr_assert(hb_wait_until(all, &voice, 5000), "%d announcements", n);
    cr_assert_eq(sse_count(&voice, "announce"), (size_t)n, "none twice");
    json_int_t last_id = 0;
    for (int i = 0; i < n; i++) {
        json_t *a = sse_get(&voice, "announce", (size_t)i);
        cr_assert_str_eq(json_string_value(json_object_get(a, "number")), order[i],
                         "announcement %d", i);
        cr_assert_eq(json_integer_value(json_object_get(a, "window")), windows[i]);
        char en[64];
        snprintf(en, sizeof en, "Ticket %s, please go to window %u", order[i], windows[i]);
        cr_assert_str_eq(json_string_value(json_object_get(a, "en")), en);
        json_int_t id = json_integer_value(json_object_get(a, "id"));
        cr_assert_gt(id, last_id, "ids increase with call order");
        last_id = id;
        json_decref(a);
    }
    /* the text stream: one line per announcement, in the same order */
    cr_assert(hb_wait_until(lines, &text, 5000));
    pthread_mutex_lock(&text.lock);
    char *p = text.text;
    cr_assert_eq(p[0], '#', "a head line: %s", p);
    p = strchr(p, '\n') + 1;
    for (int i = 0; i < n; i++) {
        char *tab = strchr(p, '\t');
        cr_assert_not_null(tab);
        cr_assert_eq(strncmp(tab + 1, order[i], strlen(order[i])), 0, "line %d: %s", i, p);
        p = strchr(p, '\n') + 1;
    }
    pthread_mutex_unlock(&text.lock);
    sse_stop(&text);

    /* a client that reconnects with the last id it heard gets what followed */
    json_t *third = sse_get(&voice, "announce", 2);
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(third, "id")));
    json_decref(third);
    sse_stop(&voice);
    snprintf(url, sizeof url, "%s/voice", base);
    cr_assert_eq(sse_start(&voice, url, id), 0);
    want = (size_t)n - 3;
    cr_assert(hb_wait_until(all, &voice, 5000), "the missed announcements are replayed");
    json_t *a = sse_get(&voice, "announce", 0);
    cr_assert_str_eq(json_string_value(json_object_get(a, "number")), order[3]);
    json_decref(a);
    sse_stop(&voice);
    stop();
}

Test(display_e2e, a_display_started_before_the_queue_syncs_when_it_appears, .init = start_hall,
     .fini = cleanup, .timeout = 60)
{
    busy_hall();
    hb_fixture_kill(&fx.queue, SIGTERM);
    start_display();
    cr_assert(hb_wait_until(answers, NULL, 5000), "the display serves before the hall is there");
    json_t *s = state();
    cr_assert(json_is_false(json_object_get(s, "synced")), "and says it is not live");
    json_decref(s);
    cr_assert_eq(hb_fixture_start_queue(&fx), 0);
    cr_assert(hb_fixture_wait_ready(&fx, 10000));
    wait_board_caught_up(10000);
    assert_board_equals_status(3000);

    /* the queue dies and comes back: the board says so, then is right again */
    hb_fixture_kill(&fx.queue, SIGKILL);
    cr_assert(hb_wait_until(not_live, NULL, 5000), "a silent hall is shown as not live");
    cr_assert_eq(hb_fixture_start_queue(&fx), 0);
    cr_assert(hb_fixture_wait_ready(&fx, 10000));
    cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK);
    wait_board_caught_up(10000);
    assert_board_equals_status(3000);
    stop();
}

Test(display_e2e, malformed_events_are_dropped_and_counted, .init = start_hall, .fini = cleanup,
     .timeout = 60)
{
    start_display();
    wait_board_caught_up(5000);
    void *pub = zmq_socket(fx.ctx, ZMQ_PUB);
    /* as hall-queue would (its key): the bus lets only queue and counter keys publish */
    cr_assert_eq(hb_fixture_secure(&fx, pub, "hall-bus", "hall-queue"), 0);
    cr_assert_eq(zmq_connect(pub, fx.pub_ep), 0);
    cr_assert(hb_wait_until(counted, pub, 5000), "malformed events are counted");
    zmq_close(pub);
    cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK);
    wait_board_caught_up(5000);
    stop();
}

/* With display.voice_dir, espeak-ng renders each announcement to WAV files,
 * one after another in call order. */
static char wav_paths[6][160];
static bool wavs_ready(void *arg)
{
    for (int i = 0; i < 6; i++)
        if (access(wav_paths[i], R_OK) != 0)
            return false;
    return true;
}

Test(display_e2e, announcements_are_rendered_to_audio_files_in_order, .init = start_hall_with_voice,
     .fini = cleanup_voice, .timeout = 60)
{
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "li"), OK);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK);
    start_display();
    wait_board_caught_up(5000);
    char url[128];
    snprintf(url, sizeof url, "%s/voice", base);
    static sse_client_t voice;
    cr_assert_eq(sse_start(&voice, url, NULL), 0);
    cr_assert(hb_wait_until(has_text, &voice, 5000));
    cr_assert_eq(hb_fx_act(&fx, "call", 1, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "recall", 1, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "no-show", 1, NULL), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 1, NULL), OK);
    want = 3;
    cr_assert(hb_wait_until(all, &voice, 5000));
    for (int i = 0; i < 3; i++) {
        json_t *a = sse_get(&voice, "announce", (size_t)i);
        long long id = (long long)json_integer_value(json_object_get(a, "id"));
        snprintf(wav_paths[2 * i], sizeof wav_paths[0], "%s/wav/%lld-zh.wav", voice_dir, id);
        snprintf(wav_paths[2 * i + 1], sizeof wav_paths[0], "%s/wav/%lld-en.wav", voice_dir, id);
        json_decref(a);
    }
    sse_stop(&voice);
    cr_assert(hb_wait_until(wavs_ready, NULL, 20000), "the audio files are made: %s", wav_paths[5]);
    struct timespec last = {0, 0};
    for (int i = 0; i < 6; i++) {
        FILE *f = fopen(wav_paths[i], "rb");
        char riff[4] = {0};
        cr_assert_eq(fread(riff, 1, 4, f), 4);
        fclose(f);
        cr_assert_eq(memcmp(riff, "RIFF", 4), 0, "%s is a WAV file", wav_paths[i]);
        struct stat st;
        cr_assert_eq(stat(wav_paths[i], &st), 0);
        cr_assert_gt(st.st_size, 1000);
        bool later = st.st_mtim.tv_sec > last.tv_sec ||
                     (st.st_mtim.tv_sec == last.tv_sec && st.st_mtim.tv_nsec >= last.tv_nsec);
        cr_assert(later, "%s is made after the one before", wav_paths[i]);
        last = st.st_mtim;
    }
    json_t *s = stats();
    cr_assert_eq(json_integer_value(json_object_get(s, "voice_rendered")), 6);
    cr_assert_eq(json_integer_value(json_object_get(s, "voice_failed")), 0);
    json_decref(s);
    stop();
}

/* Any number of displays serve one hall: a second one, started late on
 * another port, shows the same board as the first. */
static char base2[64];
static bool second_equals_first(void *arg)
{
    char url[128];
    snprintf(url, sizeof url, "%s/api/state", base2);
    json_t *a = state(), *b = http_get_json(url);
    bool ok = a && b && json_is_true(json_object_get(b, "synced")) && json_equal(a, b);
    json_decref(a);
    json_decref(b);
    return ok;
}

Test(display_e2e, two_displays_of_one_hall_show_the_same_board, .init = start_hall, .fini = cleanup,
     .timeout = 60)
{
    busy_hall();
    start_display();
    wait_board_caught_up(5000);
    int port = hb_free_port();
    snprintf(base2, sizeof base2, "http://127.0.0.1:%d", port);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    const char *args[] = {"-c", fx.config, "--http", addr, NULL};
    pid_t second = hb_fixture_spawn(&fx, "hall-display", args);
    cr_assert_gt(second, 0);
    cr_assert_eq(hb_fx_act(&fx, "recall", 3, NULL), OK);
    wait_board_caught_up(5000);
    bool same = hb_wait_until(second_equals_first, NULL, 5000);
    int status = hb_fixture_kill(&second, SIGTERM);
    cr_assert(same, "the second display shows what the first does");
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the second stopped cleanly");
    stop();
}

/* display.max_clients bounds the live streams: one more is told to come
 * back later (503), and gets in once a place is free. */
static void start_hall_one_stream(void)
{
    start_hall_with("  max_clients: 1\n");
}

static bool stream_refused(void *arg)
{
    char url[128];
    snprintf(url, sizeof url, "%s/events", base);
    long status = 0;
    char *body = http_get(url, &status);
    free(body);
    return status == 503;
}

static bool one_stream(void *arg)
{
    json_t *s = stats();
    bool ok = s && json_integer_value(json_object_get(s, "http_streams")) == *(int *)arg;
    json_decref(s);
    return ok;
}

Test(display_e2e, streams_beyond_max_clients_are_refused, .init = start_hall_one_stream,
     .fini = cleanup, .timeout = 90)
{
    start_display();
    wait_board_caught_up(5000);
    char url[128];
    snprintf(url, sizeof url, "%s/events", base);
    static sse_client_t c;
    cr_assert_eq(sse_start(&c, url, NULL), 0);
    cr_assert(hb_wait_until(got_view, &c, 5000));
    cr_assert(stream_refused(NULL), "a second stream is refused");
    json_t *s = stats();
    cr_assert_geq(json_integer_value(json_object_get(s, "http_refused_streams")), 1);
    json_decref(s);
    sse_stop(&c);
    static int none = 0;
    /* a client that left is noticed when its stream is next written to: the
     * view of a change, or the ping every 5 s */
    cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK);
    cr_assert(hb_wait_until(one_stream, &none, 12000), "the first stream is gone");
    static sse_client_t d;
    cr_assert_eq(sse_start(&d, url, NULL), 0);
    cr_assert(hb_wait_until(got_view, &d, 5000), "a stream gets in again");
    sse_stop(&d);
    stop();
}
