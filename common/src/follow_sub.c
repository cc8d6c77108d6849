/* The follower's sockets: SUB on the bus, requests to hall-queue through
 * hb_client, a tick timer. See follow_sub.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "hallbus/alloc.h"
#include "hallbus/client.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "hallbus/follow_sub.h"
#include "hallbus/log.h"
#include "hallbus/socket.h"
#include "hallbus/zsock_uv.h"

#define SUB_HWM_DEFAULT 100000
#define FETCH_TIMEOUT_DEFAULT_MS 2000
#define SNAPSHOT_DEADLINE_DEFAULT_MS 5000

struct hb_follow_sub_s {
    uv_loop_t *loop;
    hb_follow_sub_config_t config;
    char *bus_sub, *command, *actor;
    hb_follower_t follower;
    hb_zsock_t *sub;
    hb_client_t *client;
    uv_timer_t tick;     /* its close_cb frees the whole */
    uv_timer_t retry;    /* journal: a refused or not-yet-reached fetch is asked again */
    uint64_t asked_id;   /* the request whose answer is awaited */
    bool asked_snapshot; /* ...a GetSnapshot (else a FetchEvents) */
    bool was_synced, closing, started;
    unsigned long malformed, requests, unsent, bad_replies, heartbeats;
};

static void batch(hb_follow_sub_t *fs);

/* ── the follower's sink ── */

static int sink_apply(void *arg, const Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                      int64_t received_at)
{
    hb_follow_sub_t *fs = arg;
    return fs->config.cb.apply
               ? fs->config.cb.apply(fs->config.cb.arg, env, bytes, len, received_at)
               : 0;
}

static void sink_load(void *arg, const void *snapshot)
{
    hb_follow_sub_t *fs = arg;
    if (fs->config.cb.load)
        fs->config.cb.load(fs->config.cb.arg, snapshot);
}

static int sink_gap(void *arg, uint64_t from, uint64_t to, const char *reason)
{
    hb_follow_sub_t *fs = arg;
    return fs->config.cb.gap ? fs->config.cb.gap(fs->config.cb.arg, from, to, reason) : 0;
}

static int sink_reject(void *arg, const uint8_t *bytes, size_t len, const char *reason)
{
    hb_follow_sub_t *fs = arg;
    return fs->config.cb.reject ? fs->config.cb.reject(fs->config.cb.arg, bytes, len, reason) : 0;
}

static void on_reply(hb_client_t *client, hb_client_outcome_t outcome, ProtobufCMessage *msg,
                     void *arg);

/* hall-queue said no: counted, logged, and the owner told. */
static void refused(hb_follow_sub_t *fs, const char *what, const Hallbus__Reply *r)
{
    const char *message = r->message ? r->message : "";
    fs->bad_replies++;
    hb_warn("hall %s: %s refused: %s: %s", fs->follower.hall, what, hb_status_name(r->code),
            message);
    if (fs->config.cb.refused && r->code != HALLBUS__STATUS_CODE__OK)
        fs->config.cb.refused(fs->config.cb.arg, r->code, message);
}

/* The id sent, or 0 (counted, logged) when the client could not send. */
static uint64_t send_request(hb_follow_sub_t *fs, Hallbus__Request *req, uint32_t timeout_ms,
                             const char *what)
{
    req->hall_id = fs->follower.hall;
    req->actor = fs->actor;
    fs->requests++;
    fs->asked_snapshot = req->command_case == HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT;
    fs->asked_id = hb_client_send(fs->client, &req->base, timeout_ms, on_reply, fs);
    if (fs->asked_id == 0) {
        fs->unsent++;
        hb_debug("hall %s: %s not sent: %s", fs->follower.hall, what, strerror(errno));
    }
    return fs->asked_id;
}

/* With a snapshot time-out the follower's tick asks again first (the
 * deadline is a second later); without one the deadline does. */
static uint32_t snapshot_deadline_ms(const hb_follow_sub_t *fs)
{
    int64_t t = fs->config.snapshot_timeout_us / 1000;
    return t > 0 ? (uint32_t)t + 1000 : SNAPSHOT_DEADLINE_DEFAULT_MS;
}

static void sink_ask_snapshot(void *arg, const char *reason)
{
    hb_follow_sub_t *fs = arg;
    if (fs->closing)
        return;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetSnapshot gs = HALLBUS__GET_SNAPSHOT__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT;
    req.get_snapshot = &gs;
    if (fs->requests == 0 || fs->requests % 10 == 0 || strcmp(reason, "no answer") != 0)
        hb_info("hall %s: asking %s for a snapshot (%s)", fs->follower.hall, fs->command, reason);
    /* not sent: the follower asks again at its snapshot time-out */
    send_request(fs, &req, snapshot_deadline_ms(fs), "snapshot request");
}

static void on_retry(uv_timer_t *t);

static void sink_fetch(void *arg, uint64_t from)
{
    hb_follow_sub_t *fs = arg;
    if (fs->closing)
        return;
    uv_timer_stop(&fs->retry);
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__FetchEvents fe = HALLBUS__FETCH_EVENTS__INIT;
    fe.from_seq = from;
    fe.max_events = fs->config.fetch_max;
    req.command_case = HALLBUS__REQUEST__COMMAND_FETCH_EVENTS;
    req.fetch_events = &fe;
    hb_debug("hall %s: fetching from #%" PRIu64, fs->follower.hall, from);
    if (send_request(fs, &req, fs->config.fetch_timeout_ms, "FetchEvents") == 0)
        uv_timer_start(&fs->retry, on_retry, fs->config.fetch_timeout_ms, 0); /* as a silence */
}

/* ── hall-queue's answers ── */

static void on_retry(uv_timer_t *t)
{
    hb_follow_sub_t *fs = t->data;
    if (hb_follower_fetching(&fs->follower))
        hb_follower_fetch_failed(&fs->follower, "asked again", hb_now_us(), hb_mono_us());
    batch(fs);
}

static void snapshot_answer(hb_follow_sub_t *fs, const Hallbus__Reply *r, int64_t now)
{
    if (r->code != HALLBUS__STATUS_CODE__OK || r->result_case != HALLBUS__REPLY__RESULT_SNAPSHOT ||
        !r->snapshot) {
        refused(fs, "snapshot", r);
        hb_follower_snapshot_failed(&fs->follower, now);
        return;
    }
    if (hb_follower_snapshot(&fs->follower, r->snapshot, r->snapshot->seq, now))
        hb_info("hall %s: synchronised at seq %" PRIu64 " (%zu active ticket(s))",
                fs->follower.hall, r->snapshot->seq, r->snapshot->n_tickets);
}

static void fetch_answer(hb_follow_sub_t *fs, const Hallbus__Reply *r, int64_t now)
{
    if (!hb_follower_fetching(&fs->follower))
        return;
    if (r->code == HALLBUS__STATUS_CODE__OK && r->result_case == HALLBUS__REPLY__RESULT_EVENTS &&
        r->events) {
        hb_follower_fetched(&fs->follower, r->events->envelopes, r->events->n_envelopes,
                            r->events->last_seq, hb_now_us(), now);
        if (hb_follower_waiting(&fs->follower)) /* the hall is not there yet: ask again later */
            uv_timer_start(&fs->retry, on_retry, fs->config.fetch_timeout_ms, 0);
    } else if (r->code == HALLBUS__STATUS_CODE__GONE) {
        hb_follower_gone(&fs->follower, r->oldest_seq, r->message ? r->message : "gone",
                         hb_now_us(), now);
    } else {
        /* a refusal is retried like a silence */
        refused(fs, "FetchEvents", r);
        uv_timer_start(&fs->retry, on_retry, fs->config.fetch_timeout_ms, 0);
    }
}

static void on_reply(hb_client_t *client, hb_client_outcome_t outcome, ProtobufCMessage *msg,
                     void *arg)
{
    hb_follow_sub_t *fs = arg;
    if (fs->closing || outcome == HB_CLIENT_CANCELLED)
        return;
    int64_t now = hb_mono_us();
    bool snapshot = fs->asked_snapshot; /* what the last request asked */
    const Hallbus__Reply *r = (const Hallbus__Reply *)msg;
    if (outcome == HB_CLIENT_MALFORMED)
        fs->bad_replies++;
    if (outcome == HB_CLIENT_REPLY && r->request_id != fs->asked_id)
        return; /* an answer to a request given up on */
    if (outcome == HB_CLIENT_REPLY) {
        fs->asked_id = 0;
        if (snapshot)
            snapshot_answer(fs, r, now);
        else
            fetch_answer(fs, r, now);
    } else if (hb_client_pending(client) == 0) { /* else a later request is still awaited */
        /* a time-out, or an answer that does not decode: as no answer */
        fs->asked_id = 0;
        if (snapshot && fs->follower.state == HB_FOLLOW_WAITING) {
            hb_follower_snapshot_failed(&fs->follower, now); /* asked again when allowed */
        } else if (!snapshot && hb_follower_fetching(&fs->follower)) {
            char why[160];
            snprintf(why, sizeof why, "no answer from %s within %u ms", fs->command,
                     fs->config.fetch_timeout_ms);
            hb_follower_fetch_failed(&fs->follower, why, hb_now_us(), now);
        }
    }
    batch(fs);
}

/* ── the bus ── */

static void on_message(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    hb_follow_sub_t *fs = arg;
    Hallbus__Envelope *env = NULL;
    const char *why = "an event is two frames, topic and envelope";
    if (n != 2 || overflow ||
        hb_envelope_decode(zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1]), &env, &why) !=
            HB_DECODE_OK) {
        fs->malformed++;
        if (fs->malformed == 1 || fs->malformed % 1000 == 0)
            hb_warn("hall %s: dropped %lu malformed event(s): %s", fs->follower.hall, fs->malformed,
                    why);
        return;
    }
    int64_t now = hb_mono_us();
    if (env->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT && env->hall_id &&
        strcmp(env->hall_id, fs->follower.hall) == 0) {
        fs->heartbeats++;
        hb_follower_heartbeat(&fs->follower, env->seq, now);
        bool current = env->seq == hb_follower_last(&fs->follower) &&
                       fs->follower.state == HB_FOLLOW_LIVE; /* (journal mode: always) */
        if (current && fs->config.cb.heartbeat)
            fs->config.cb.heartbeat(fs->config.cb.arg, env);
        hallbus__envelope__free_unpacked(env, NULL);
        return;
    }
    hb_follower_event(&fs->follower, env, zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1]),
                      hb_now_us(), now);
}

static void on_turn(hb_zsock_t *zs, void *arg)
{
    batch(arg);
}

/* ── time ── */

static void check_synced(hb_follow_sub_t *fs)
{
    bool synced = hb_follower_synced(&fs->follower, hb_mono_us());
    if (synced != fs->was_synced) {
        fs->was_synced = synced;
        if (fs->config.cb.synced)
            fs->config.cb.synced(fs->config.cb.arg, synced);
    }
}

static void batch(hb_follow_sub_t *fs)
{
    if (fs->closing)
        return;
    check_synced(fs);
    if (fs->config.cb.batch)
        fs->config.cb.batch(fs->config.cb.arg);
}

static void on_tick(uv_timer_t *t)
{
    hb_follow_sub_t *fs = t->data;
    if (!fs->started)
        return;
    hb_follower_tick(&fs->follower, hb_mono_us());
    check_synced(fs);
}

/* ── life ── */

static void free_all(hb_follow_sub_t *fs)
{
    hb_follower_dispose(&fs->follower);
    free(fs->bus_sub);
    free(fs->command);
    free(fs->actor);
    free(fs);
}

static void on_retry_closed(uv_handle_t *h)
{
    free_all(h->data);
}

static void on_tick_closed(uv_handle_t *h)
{
    hb_follow_sub_t *fs = h->data;
    uv_close((uv_handle_t *)&fs->retry, on_retry_closed);
}

static int open_sub(hb_follow_sub_t *fs, void *ctx)
{
    hb_socket_opts_t opts = {.hwm = fs->config.sub_hwm,
                             .linger = 0,
                             .security = fs->config.security,
                             .server = "hall-bus"};
    void *s = hb_socket_open_opts(ctx, ZMQ_SUB, fs->bus_sub, 0, &opts);
    if (!s)
        return -1;
    char prefix[HB_TOPIC_MAX];
    if (hb_topic_prefix(fs->follower.hall, prefix) < 0 ||
        zmq_setsockopt(s, ZMQ_SUBSCRIBE, prefix, strlen(prefix)) != 0 ||
        !(fs->sub = hb_zsock_new(fs->loop, s, on_message, on_turn, fs))) {
        hb_error("hall %s: cannot subscribe on %s", fs->follower.hall, fs->bus_sub);
        zmq_close(s);
        return -1;
    }
    if (fs->config.batch_max > 0)
        hb_zsock_set_batch_max(fs->sub, fs->config.batch_max);
    return 0;
}

hb_follow_sub_t *hb_follow_sub_new(uv_loop_t *loop, void *ctx, const hb_follow_sub_config_t *config,
                                   uint64_t last)
{
    hb_follow_sub_t *fs = hb_xcalloc(1, sizeof *fs, "follower");
    fs->loop = loop;
    fs->config = *config;
    fs->bus_sub = hb_xstrdup(config->bus_sub, "follower");
    fs->command = hb_xstrdup(config->command, "follower");
    fs->actor = hb_xstrdup(config->actor ? config->actor : "follower", "follower");
    if (!fs->config.sub_hwm)
        fs->config.sub_hwm = SUB_HWM_DEFAULT;
    if (!fs->config.fetch_timeout_ms)
        fs->config.fetch_timeout_ms = FETCH_TIMEOUT_DEFAULT_MS;
    if (!fs->config.fetch_max)
        fs->config.fetch_max = HB_FOLLOW_SUB_FETCH_MAX;
    if (!fs->config.reply_max)
        fs->config.reply_max = HB_FOLLOW_SUB_REPLY_MAX;
    fs->config.hall = fs->config.bus_sub = fs->config.command = fs->config.actor = NULL;

    hb_follower_config_t fc = {
        .hall = config->hall,
        .mode = config->mode,
        .ttl_us = config->ttl_us,
        .snapshot_timeout_us = config->snapshot_timeout_us,
        .gap_timeout_us = config->gap_timeout_us,
        .resync_min_us = config->resync_min_us,
        .resync_max_us = config->resync_max_us,
        .keep_bytes = config->keep_bytes,
        .snapshot = config->snapshot,
        .sink = {.apply = sink_apply,
                 .load = sink_load,
                 .ask_snapshot = sink_ask_snapshot,
                 .fetch = sink_fetch,
                 .gap = sink_gap,
                 .reject = sink_reject,
                 .arg = fs},
    };
    if (hb_follower_init(&fs->follower, &fc, last) != 0) {
        hb_error("cannot follow hall %s", config->hall ? config->hall : "(none)");
        free(fs->bus_sub), free(fs->command), free(fs->actor), free(fs);
        return NULL;
    }
    hb_client_config_t cc = {.endpoint = fs->command,
                             .security = config->security,
                             .server = "hall-queue",
                             .reply_desc = &hallbus__reply__descriptor,
                             .reply_max = fs->config.reply_max,
                             .fresh_socket_after_timeout = true};
    uv_timer_init(loop, &fs->tick);
    uv_timer_init(loop, &fs->retry);
    fs->tick.data = fs->retry.data = fs;
    if (open_sub(fs, ctx) != 0 || !(fs->client = hb_client_new(loop, ctx, &cc))) {
        hb_follow_sub_close(&fs);
        return NULL;
    }
    uv_timer_start(&fs->tick, on_tick, HB_FOLLOW_SUB_TICK_MS, HB_FOLLOW_SUB_TICK_MS);
    return fs;
}

void hb_follow_sub_start(hb_follow_sub_t *fs)
{
    fs->started = true;
    hb_follower_start(&fs->follower, hb_mono_us());
    check_synced(fs);
}

bool hb_follow_sub_synced(const hb_follow_sub_t *fs)
{
    return hb_follower_synced(&fs->follower, hb_mono_us());
}

hb_follower_t *hb_follow_sub_follower(hb_follow_sub_t *fs)
{
    return &fs->follower;
}

hb_follow_sub_counters_t hb_follow_sub_counters(const hb_follow_sub_t *fs)
{
    hb_follow_sub_counters_t c = {.follower = *hb_follower_counters(&fs->follower),
                                  .malformed = fs->malformed,
                                  .requests = fs->requests,
                                  .unsent = fs->unsent,
                                  .bad_replies = fs->bad_replies,
                                  .heartbeats = fs->heartbeats};
    return c;
}

void hb_follow_sub_close(hb_follow_sub_t **pfs)
{
    hb_follow_sub_t *fs = pfs ? *pfs : NULL;
    if (!fs)
        return;
    *pfs = NULL;
    fs->closing = true;
    hb_zsock_close(&fs->sub);
    hb_client_close(&fs->client); /* CANCELLED callbacks: ignored while closing */
    uv_timer_stop(&fs->retry);
    uv_close((uv_handle_t *)&fs->tick, on_tick_closed);
}
