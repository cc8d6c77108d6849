/* The follower's sockets (follow_sub.h) against a real PUB (the bus) and a
 * real ROUTER answering GetSnapshot (hall-queue), over ipc:// in a
 * temporary directory, on one libuv loop: a late join takes the snapshot
 * then the live events; a gap resyncs; a forged burst of heartbeats ahead
 * costs hall-queue only a bounded number of snapshots; malformed messages
 * are counted; a heartbeat at the view's seq hands its summaries over. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "hallbus/follow_sub.h"
#include "hallbus/server.h"
#include "hallbus/socket.h"
#include "hallbus/zsock_uv.h"

#define HALL "H1"

static uv_loop_t loop;
static void *ctx, *pub;
static char dir[64], bus_ep[128], cmd_ep[128];
static hb_server_t *server;
static hb_follow_sub_t *fs;
static uint64_t hall_seq; /* what the fake hall-queue's snapshot says */
static int snapshot_requests;
static Hallbus__StatusCode refuse_with; /* OK: the fake hall-queue answers */

/* what the owner was told */
static int loads, synced_changes, heartbeats_current, batches;
static uint64_t loaded_seq, applied[64];
static int napplied;
static bool synced_now;
static int refusals;
static Hallbus__StatusCode refused_code;
static char refused_message[64];
static uint32_t summary_waiting;

static int fetch_requests;
static uint64_t fetched_from, applied_at_load;

/* FetchEvents: the journal is events 1..hall_seq (window.opened each). */
static void answer_fetch(hb_server_t *s, const hb_route_t *route, const Hallbus__Request *req)
{
    fetch_requests++;
    fetched_from = req->fetch_events->from_seq;
    Hallbus__Reply r = HALLBUS__REPLY__INIT;
    Hallbus__EventBatch b = HALLBUS__EVENT_BATCH__INIT;
    ProtobufCBinaryData data[16];
    uint8_t bufs[16][128];
    size_t n = 0;
    for (uint64_t seq = fetched_from; seq <= hall_seq && n < 16; seq++, n++) {
        Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
        Hallbus__WindowOpened wo = HALLBUS__WINDOW_OPENED__INIT;
        env.hall_id = HALL;
        env.seq = seq;
        env.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_OPENED;
        env.window_opened = &wo;
        data[n].len = hallbus__envelope__pack(&env, bufs[n]);
        data[n].data = bufs[n];
    }
    b.envelopes = data;
    b.n_envelopes = n;
    b.last_seq = hall_seq;
    r.request_id = req->request_id;
    r.result_case = HALLBUS__REPLY__RESULT_EVENTS;
    r.events = &b;
    hb_server_reply(s, route, &r.base);
}

static void on_request(hb_server_t *s, const hb_route_t *route, ProtobufCMessage *msg, void *arg)
{
    Hallbus__Request *req = (Hallbus__Request *)msg;
    if (req->command_case == HALLBUS__REQUEST__COMMAND_FETCH_EVENTS) {
        answer_fetch(s, route, req);
        return;
    }
    cr_assert_eq(req->command_case, HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT);
    cr_assert_str_eq(req->hall_id, HALL);
    snapshot_requests++;
    Hallbus__Reply r = HALLBUS__REPLY__INIT;
    if (refuse_with != HALLBUS__STATUS_CODE__OK) {
        r.request_id = req->request_id;
        r.code = refuse_with;
        r.message = "no such hall";
        hb_server_reply(s, route, &r.base);
        return;
    }
    Hallbus__Snapshot snap = HALLBUS__SNAPSHOT__INIT;
    snap.seq = hall_seq;
    r.request_id = req->request_id;
    r.seq = hall_seq;
    r.result_case = HALLBUS__REPLY__RESULT_SNAPSHOT;
    r.snapshot = &snap;
    hb_server_reply(s, route, &r.base);
}

static void cb_load(void *arg, const Hallbus__Snapshot *snap)
{
    loads++;
    loaded_seq = snap->seq;
    applied_at_load = (uint64_t)napplied;
}

static int cb_apply(void *arg, const Hallbus__Envelope *env, const uint8_t *b, size_t n, int64_t t)
{
    cr_assert_eq(env->event_case, HALLBUS__ENVELOPE__EVENT_WINDOW_OPENED);
    if (napplied < 64)
        applied[napplied++] = env->seq;
    return 0;
}

static void cb_heartbeat(void *arg, const Hallbus__Envelope *env)
{
    heartbeats_current++;
    if (env->heartbeat->n_services)
        summary_waiting = env->heartbeat->services[0]->waiting;
}

static void cb_synced(void *arg, bool synced)
{
    synced_changes++;
    synced_now = synced;
}

static void cb_refused(void *arg, Hallbus__StatusCode code, const char *message)
{
    refusals++;
    refused_code = code;
    snprintf(refused_message, sizeof refused_message, "%s", message);
}

static void cb_batch(void *arg)
{
    batches++;
}

static void publish_env(Hallbus__Envelope *env, const char *hall)
{
    env->hall_id = (char *)hall;
    uint8_t buf[512];
    size_t len = hallbus__envelope__pack(env, buf);
    char topic[HB_TOPIC_MAX];
    hb_topic(hall, hb_event_kind(env), topic);
    const void *bufs[2] = {topic, buf};
    size_t lens[2] = {strlen(topic), len};
    cr_assert_eq(hb_zsock_sendv(pub, bufs, lens, 2), 0);
}

static void publish_event(uint64_t seq)
{
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    Hallbus__WindowOpened wo = HALLBUS__WINDOW_OPENED__INIT;
    env.seq = seq;
    env.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_OPENED;
    env.window_opened = &wo;
    publish_env(&env, HALL);
}

static void publish_heartbeat(uint64_t seq, uint32_t waiting)
{
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    Hallbus__Heartbeat hb = HALLBUS__HEARTBEAT__INIT;
    Hallbus__ServiceSummary sum = HALLBUS__SERVICE_SUMMARY__INIT, *sums[1] = {&sum};
    sum.waiting = waiting;
    hb.services = sums;
    hb.n_services = 1;
    env.seq = seq;
    env.event_case = HALLBUS__ENVELOPE__EVENT_HEARTBEAT;
    env.heartbeat = &hb;
    publish_env(&env, HALL);
}

/* Runs the loop until COND holds or MS pass; returns COND. */
#define RUN_UNTIL(cond, ms)                                                                        \
    ({                                                                                             \
        int64_t deadline_ = hb_mono_us() + (int64_t)(ms)*1000;                                     \
        while (!(cond) && hb_mono_us() < deadline_)                                                \
            uv_run(&loop, UV_RUN_ONCE);                                                            \
        (cond);                                                                                    \
    })

static void on_wake(uv_timer_t *t)
{
}

/* The loop for MS, woken on time (the tick alone would wake it at 100 ms). */
static void run_for(int ms)
{
    uv_timer_t wake;
    uv_timer_init(&loop, &wake);
    uv_timer_start(&wake, on_wake, ms, 0);
    int64_t deadline = hb_mono_us() + (int64_t)ms * 1000;
    while (hb_mono_us() < deadline)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&wake, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
}

static void setup(void)
{
    uv_loop_init(&loop);
    ctx = zmq_ctx_new();
    snprintf(dir, sizeof dir, "/tmp/hb_fs_XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(bus_ep, sizeof bus_ep, "ipc://%s/bus", dir);
    snprintf(cmd_ep, sizeof cmd_ep, "ipc://%s/cmd", dir);
    pub = hb_socket_open(ctx, ZMQ_PUB, bus_ep, 1, 100000, 0);
    cr_assert(pub);
    hb_server_config_t sc = {.endpoint = cmd_ep,
                             .request_desc = &hallbus__request__descriptor,
                             .on_request = on_request};
    server = hb_server_new(&loop, ctx, &sc);
    cr_assert(server);
    hall_seq = 0;
    snapshot_requests = loads = synced_changes = heartbeats_current = batches = napplied = 0;
    loaded_seq = 0;
    synced_now = false;
    summary_waiting = 0;
    refuse_with = HALLBUS__STATUS_CODE__OK;
    refusals = 0;
    refused_code = HALLBUS__STATUS_CODE__OK;
    refused_message[0] = '\0';
    fetch_requests = 0;
    fetched_from = applied_at_load = 0;
}

static void teardown(void)
{
    hb_follow_sub_close(&fs);
    hb_server_close(&server);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0, "every handle closed");
    zmq_close(pub);
    zmq_ctx_term(ctx);
    char path[160];
    snprintf(path, sizeof path, "%s/bus", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/cmd", dir);
    unlink(path);
    rmdir(dir);
}

TestSuite(follow_sub, .init = setup, .fini = teardown);

static void start_follower(int64_t ttl_us)
{
    hb_follow_sub_config_t c = {.hall = HALL,
                                .bus_sub = bus_ep,
                                .command = cmd_ep,
                                .actor = "test",
                                .mode = HB_FOLLOW_CLONE,
                                .ttl_us = ttl_us,
                                .snapshot_timeout_us = 1000000,
                                .cb = {.load = cb_load,
                                       .apply = cb_apply,
                                       .heartbeat = cb_heartbeat,
                                       .synced = cb_synced,
                                       .refused = cb_refused,
                                       .batch = cb_batch}};
    fs = hb_follow_sub_new(&loop, ctx, &c, 0);
    cr_assert(fs);
    hb_follow_sub_start(fs);
}

/* The subscription is up once a heartbeat gets through (the slow joiner). */
static void wait_subscribed(uint64_t seq)
{
    unsigned long before = hb_follow_sub_counters(fs).heartbeats;
    cr_assert(RUN_UNTIL(({
                            publish_heartbeat(seq, 0);
                            uv_run(&loop, UV_RUN_NOWAIT);
                            hb_follow_sub_counters(fs).heartbeats > before;
                        }),
                        5000),
              "the SUB never heard the bus");
}

Test(follow_sub, late_join_takes_the_snapshot_then_live_events)
{
    hall_seq = 5; /* events 1..5 happened before the follower came */
    start_follower(0);
    cr_assert(RUN_UNTIL(loads == 1, 5000), "the snapshot is loaded");
    cr_assert_eq(loaded_seq, 5);
    cr_assert(RUN_UNTIL(synced_now, 2000));
    cr_assert(hb_follow_sub_synced(fs));
    wait_subscribed(5);
    for (uint64_t s = 6; s <= 8; s++)
        publish_event(s);
    cr_assert(RUN_UNTIL(napplied == 3, 5000), "live events applied (%d)", napplied);
    cr_assert_eq(applied[0], 6);
    cr_assert_eq(applied[2], 8);
    cr_assert_eq(hb_follower_last(hb_follow_sub_follower(fs)), 8);

    /* a heartbeat at the view's seq hands over its summaries */
    int before = heartbeats_current;
    publish_heartbeat(8, 7);
    cr_assert(RUN_UNTIL(heartbeats_current > before, 5000));
    cr_assert_eq(summary_waiting, 7);

    /* garbage is counted, and changes nothing */
    const void *bufs[2] = {"hall." HALL ".ticket.issued", "\xff\xff\xff"};
    size_t lens[2] = {strlen(bufs[0]), 3};
    cr_assert_eq(hb_zsock_sendv(pub, bufs, lens, 2), 0);
    cr_assert(RUN_UNTIL(hb_follow_sub_counters(fs).malformed == 1, 5000));
    cr_assert_eq(snapshot_requests, 1);
    cr_assert_eq(loads, 1);
    cr_assert(batches > 0);
    hb_follow_sub_counters_t c = hb_follow_sub_counters(fs);
    cr_assert_eq(c.requests, 1);
    cr_assert_eq(c.follower.applied, 3);
}

Test(follow_sub, a_gap_resyncs)
{
    hall_seq = 3;
    start_follower(0);
    cr_assert(RUN_UNTIL(loads == 1 && synced_now, 5000));
    wait_subscribed(3);
    publish_event(4);
    cr_assert(RUN_UNTIL(napplied == 1, 5000));
    hall_seq = 6; /* event 5 is lost on the way */
    publish_event(6);
    cr_assert(RUN_UNTIL(loads == 2, 5000), "the gap made it ask for a snapshot");
    cr_assert_eq(loaded_seq, 6);
    cr_assert_eq(snapshot_requests, 2);
    cr_assert_eq(hb_follow_sub_counters(fs).follower.gaps, 1);
    cr_assert(RUN_UNTIL(synced_now, 2000));
    publish_event(7);
    cr_assert(RUN_UNTIL(napplied == 2, 5000));
    cr_assert_eq(applied[1], 7);
}

/* Each forged heartbeat ahead is a gap at the tail; hall-queue answers with
 * its real seq, so the next one is a gap again. Without the rate bound that
 * is a snapshot per heartbeat (about 150 here). */
Test(follow_sub, a_burst_of_forged_heartbeats_costs_a_bounded_number_of_snapshots)
{
    hall_seq = 10;
    start_follower(0);
    cr_assert(RUN_UNTIL(loads == 1 && synced_now, 5000));
    wait_subscribed(10);
    int before = snapshot_requests;
    int64_t t0 = hb_mono_us();
    for (int i = 0; i < 150; i++) {
        publish_heartbeat(1000000 + i, 0);
        run_for(10);
    }
    double seconds = (hb_mono_us() - t0) / 1e6;
    cr_assert(hb_follow_sub_counters(fs).heartbeats >= 100, "the burst was heard");
    int asked = snapshot_requests - before;
    /* 100 ms doubling: 0, 0.1, 0.3, 0.7, 1.5, 3.1 s ... */
    cr_assert(asked >= 1 && asked <= 7, "%d snapshot requests in %.1f s", asked, seconds);
    /* and the hall is followed again once the burst is over */
    cr_assert(RUN_UNTIL(synced_now && loaded_seq == 10, 8000));
}

/* A refused snapshot is told to the owner (hallctl board --once prints it),
 * nothing is loaded, and it is asked again until hall-queue answers. */
Test(follow_sub, a_refused_snapshot_is_told_and_asked_again)
{
    hall_seq = 4;
    refuse_with = HALLBUS__STATUS_CODE__NOT_FOUND;
    start_follower(0);
    cr_assert(RUN_UNTIL(refusals >= 1, 5000), "the refusal reaches the owner");
    cr_assert_eq(refused_code, HALLBUS__STATUS_CODE__NOT_FOUND);
    cr_assert_str_eq(refused_message, "no such hall");
    cr_assert_eq(loads, 0);
    cr_assert_not(hb_follow_sub_synced(fs));
    cr_assert_geq(hb_follow_sub_counters(fs).bad_replies, 1);
    refuse_with = HALLBUS__STATUS_CODE__OK;
    int refused_before = refusals;
    cr_assert(RUN_UNTIL(loads == 1, 5000), "asked again, and loaded once hall-queue answers");
    cr_assert_eq(loaded_seq, 4);
    cr_assert(RUN_UNTIL(synced_now, 2000));
    cr_assert_eq(refusals, refused_before, "an answer is not a refusal");
    cr_assert_geq(snapshot_requests, 2);
}

/* Journal with a snapshot (hall-notifier): the owner stored up to #2 and
 * the hall is at #5. The snapshot is loaded first, then #3..#5 come from
 * the journal, then the live events; a gap while live is fetched, not a
 * snapshot. */
Test(follow_sub, with_a_snapshot_the_journal_from_the_cursor_comes_before_live_events)
{
    hall_seq = 5;
    hb_follow_sub_config_t c = {.hall = HALL,
                                .bus_sub = bus_ep,
                                .command = cmd_ep,
                                .actor = "test",
                                .mode = HB_FOLLOW_JOURNAL,
                                .snapshot = true,
                                .gap_timeout_us = 5000000,
                                .snapshot_timeout_us = 1000000,
                                .cb = {.load = cb_load,
                                       .apply = cb_apply,
                                       .heartbeat = cb_heartbeat,
                                       .synced = cb_synced,
                                       .batch = cb_batch}};
    fs = hb_follow_sub_new(&loop, ctx, &c, 2);
    cr_assert(fs);
    hb_follow_sub_start(fs);
    cr_assert(RUN_UNTIL(loads == 1 && napplied == 3, 5000), "loaded, then the journal");
    cr_assert_eq(applied_at_load, 0, "nothing applied before the snapshot");
    cr_assert_eq(loaded_seq, 5);
    cr_assert_eq(fetched_from, 3);
    cr_assert_eq(applied[0], 3);
    cr_assert_eq(applied[2], 5);
    cr_assert(RUN_UNTIL(synced_now, 2000));
    wait_subscribed(5);
    hall_seq = 7;
    publish_event(6);
    cr_assert(RUN_UNTIL(napplied == 4, 5000));
    cr_assert_eq(applied[3], 6);
    hall_seq = 9; /* 7 and 8 lost on the way */
    publish_event(9);
    cr_assert(RUN_UNTIL(napplied == 7, 5000), "7 and 8 fetched, then 9 (%d)", napplied);
    cr_assert_eq(applied[4], 7);
    cr_assert_eq(applied[5], 8);
    cr_assert_eq(applied[6], 9);
    cr_assert_eq(fetch_requests, 2);
    cr_assert_eq(fetched_from, 7);
    cr_assert_eq(snapshot_requests, 1, "the model was never out of step: one snapshot");
    cr_assert_eq(loads, 1);
}
