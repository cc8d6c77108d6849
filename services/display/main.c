/* hall-display: a live view of one hall for its boards, kept by the Clone
 * pattern and served over HTTP.
 *
 * A SUB socket on hall-bus takes the hall's events; a DEALER socket asks
 * hall-queue for a snapshot when the display starts, after a gap and after
 * a silence longer than the TTL (sync.h decides, view.h keeps the state).
 * After each turn that changed the view, its JSON is made once and handed
 * to every browser (web.h), with the announcements of the calls. Nothing
 * is durable: a restarted display is right again after one snapshot. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>
#include <zmq.h>

#include "hallbus/clock.h"
#include "hallbus/config.h"
#include "hallbus/envelope.h"
#include "hallbus/daemon.h"
#include "hallbus/log.h"
#include "hallbus/signals.h"
#include "hallbus/zsock_uv.h"
#include "web.h"
#include "sync.h"
#include "view_json.h"
#include "voice.h"

#define TICK_MS 100
#define PING_MS 5000
#define STATS_MS 60000
#define SUB_HWM 100000
#define REPLY_MAX (64u << 20) /* a snapshot of a very busy day is still far below */

typedef struct {
    uv_loop_t *loop;
    hb_config_t *config;
    const char *http_addr;
    void *ctx;
    hb_zsock_t *sub;
    hb_zsock_t *dealer;
    dv_view_t *view;
    dv_sync_t sync;
    dv_web_t *http;
    dv_voice_t *voice; /* NULL unless display.voice_dir is set */
    uv_timer_t tick, ping, stats;
    hb_signals_t signals;
    uint64_t request_id; /* the snapshot asked for */
    uint64_t next_request_id;
    int64_t requested_at;
    uint64_t published_version;
    bool published_synced, published_once;
    unsigned long malformed, bad_replies, requests, resyncs;
    bool stopping;
} display_t;

static void request_snapshot(display_t *d, const char *why);

/* ── publishing to the browsers ── */

static void publish(display_t *d)
{
    if (!d->http)
        return;
    bool synced = dv_sync_synced(&d->sync, hb_mono_us());
    if (!d->published_once || d->view->version != d->published_version ||
        synced != d->published_synced) {
        json_t *j = dv_view_json(d->view, synced, d->config->display.recent_calls,
                                 d->config->display.language);
        char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (text) {
            dv_web_publish_view(d->http, text, strlen(text));
            free(text);
        }
        d->published_version = d->view->version;
        d->published_synced = synced;
        d->published_once = true;
    }
    size_t n;
    const dv_announce_t *a = dv_view_take_pending(d->view, &n);
    for (size_t i = 0; i < n; i++) {
        hb_info("announce #%llu: %s / %s", (unsigned long long)a[i].seq, a[i].zh, a[i].en);
        dv_web_publish_announce(d->http, &a[i]);
        if (d->voice)
            dv_voice_add(d->voice, &a[i]);
    }
}

static void act(display_t *d, dv_sync_action_t a)
{
    if (a == DV_SYNC_RESYNC) {
        d->resyncs++;
        request_snapshot(d, d->sync.last_reason);
    }
}

/* ── events from the bus ── */

static void on_event(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    display_t *d = arg;
    Hallbus__Envelope *env = NULL;
    const char *why = "an event is two frames, topic and envelope";
    if (n == 2 && !overflow &&
        hb_envelope_decode(zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1]), &env, &why) ==
            HB_DECODE_OK) {
        act(d, dv_sync_event(&d->sync, env, hb_mono_us()));
        return;
    }
    d->malformed++;
    if (d->malformed == 1 || d->malformed % 1000 == 0)
        hb_warn("dropped %lu malformed event(s): %s", d->malformed, why);
}

static void on_turn(hb_zsock_t *zs, void *arg)
{
    publish(arg);
}

/* ── snapshots from the queue ── */

static void on_reply(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    display_t *d = arg;
    if (n != 2 || overflow || zmq_msg_size(&frames[0]) != 0 ||
        zmq_msg_size(&frames[1]) > REPLY_MAX) {
        d->bad_replies++;
        return;
    }
    Hallbus__Reply *r =
        hallbus__reply__unpack(NULL, zmq_msg_size(&frames[1]), zmq_msg_data(&frames[1]));
    if (!r) {
        d->bad_replies++;
        hb_warn("undecodable reply from %s", d->config->endpoints.command);
        return;
    }
    if (r->request_id != d->request_id) {
        /* an answer to a request given up on */
    } else if (r->code != HALLBUS__STATUS_CODE__OK ||
               r->result_case != HALLBUS__REPLY__RESULT_SNAPSHOT) {
        d->bad_replies++;
        hb_warn("snapshot refused: %s %s", hb_status_name(r->code), r->message ? r->message : "");
    } else {
        d->request_id = 0; /* answered: a copy of it later is not taken again */
        dv_sync_action_t a = dv_sync_snapshot(&d->sync, r->snapshot, hb_mono_us());
        hb_info("synchronised at seq %llu (%zu active ticket(s), %zu recent call(s))",
                (unsigned long long)r->snapshot->seq, r->snapshot->n_tickets,
                r->snapshot->n_recent_calls);
        act(d, a);
        publish(d); /* this socket may be closing (a resync): its turn's end is not called */
    }
    hallbus__reply__free_unpacked(r, NULL);
}

/* Snapshots of a busy day are large; a fresh DEALER sends at once, before
 * its connection is up (the request waits for it). */
static void *open_socket(display_t *d, int type, const char *endpoint, int hwm)
{
    hb_socket_opts_t opts = {
        .hwm = hwm, .linger = 0, .max_message = REPLY_MAX + 1024, .queue_while_disconnected = true};
    return hb_socket_open_opts(d->ctx, type, endpoint, 0, &opts);
}

/* A fresh DEALER for each request (the lazy pirate's way): a request stuck
 * on a queue that died goes with the old socket. */
static void request_snapshot(display_t *d, const char *why)
{
    if (d->stopping)
        return;
    hb_zsock_close(&d->dealer);
    void *s = open_socket(d, ZMQ_DEALER, d->config->endpoints.command, 1000);
    if (s) {
        d->dealer = hb_zsock_new(d->loop, s, on_reply, on_turn, d);
        if (!d->dealer)
            zmq_close(s);
    }
    d->requested_at = hb_mono_us();
    if (!d->dealer)
        return;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetSnapshot gs = HALLBUS__GET_SNAPSHOT__INIT;
    req.request_id = d->request_id = ++d->next_request_id;
    req.hall_id = d->config->hall.id;
    req.actor = "hall-display";
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT;
    req.get_snapshot = &gs;
    uint8_t buf[256];
    size_t len = hallbus__request__pack(&req, buf);
    const void *bufs[2] = {"", buf};
    size_t lens[2] = {0, len};
    if (hb_zsock_sendv(hb_zsock_socket(d->dealer), bufs, lens, 2) != 0)
        hb_debug("snapshot request not sent: %s", zmq_strerror(errno));
    d->requests++;
    if (d->requests == 1 || d->requests % 10 == 0 || strcmp(why, "no answer") != 0)
        hb_info("asking %s for a snapshot (%s)", d->config->endpoints.command, why);
}

/* ── timers ── */

static void on_tick(uv_timer_t *t)
{
    display_t *d = t->data;
    int64_t now = hb_mono_us();
    act(d, dv_sync_tick(&d->sync, now));
    if (d->sync.state == DV_SYNC_WAITING &&
        now - d->requested_at > (int64_t)d->config->display.snapshot_timeout_ms * 1000)
        request_snapshot(d, "no answer");
    publish(d);
}

static void on_ping(uv_timer_t *t)
{
    display_t *d = t->data;
    if (d->http)
        dv_web_ping(d->http);
}

/* /api/stats; json_pack gives NULL rather than a wrong object if this and
 * its arguments ever disagree (http.c then says "stats_error"). */
static json_t *stats_json(void *arg)
{
    display_t *d = arg;
    const dv_sync_counters_t *c = &d->sync.counters;
    return json_pack("{s:s,s:I,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "hall",
                     d->config->hall.id, "seq", (json_int_t)d->view->seq, "synced",
                     dv_sync_synced(&d->sync, hb_mono_us()), "snapshots", (json_int_t)c->snapshots,
                     "resyncs", (json_int_t)d->resyncs, "gaps", (json_int_t)c->gaps, "silences",
                     (json_int_t)c->silences, "stale", (json_int_t)c->stale, "applied",
                     (json_int_t)c->applied, "malformed", (json_int_t)d->malformed, "foreign",
                     (json_int_t)c->foreign, "snapshot_requests", (json_int_t)d->requests,
                     "bad_replies", (json_int_t)d->bad_replies, "voice_rendered",
                     (json_int_t)(d->voice ? dv_voice_rendered(d->voice) : 0), "voice_failed",
                     (json_int_t)(d->voice ? dv_voice_failed(d->voice) : 0));
}

static void on_stats(uv_timer_t *t)
{
    display_t *d = t->data;
    const dv_sync_counters_t *c = &d->sync.counters;
    hb_info("seq %llu; applied %lu event(s), %lu snapshot(s), %lu gap(s), %lu silence(s), %lu "
            "malformed; %u browser stream(s)",
            (unsigned long long)d->view->seq, c->applied, c->snapshots, c->gaps, c->silences,
            d->malformed, d->http ? dv_web_streams(d->http) : 0);
}

/* h2o keeps a handle of its own open until it is destroyed, which it does
 * by running the loop: so stop the loop, destroy it outside, then finish. */
static void on_http_done(void *arg)
{
    display_t *d = arg;
    uv_stop(d->loop);
}

static void on_stop(void *arg)
{
    display_t *d = arg;
    d->stopping = true;
    hb_zsock_close(&d->sub);
    hb_zsock_close(&d->dealer);
    uv_close((uv_handle_t *)&d->tick, NULL);
    uv_close((uv_handle_t *)&d->ping, NULL);
    uv_close((uv_handle_t *)&d->stats, NULL);
    hb_signals_close(&d->signals);
    dv_voice_close(&d->voice);
    dv_web_shutdown(d->http, on_http_done, d);
}

static const char USAGE[] =
    "usage: hall-display -c HALL.yaml [--http HOST:PORT] [--log-level debug|info|warn|error]\n"
    "  Serves the hall's boards: http://HOST:PORT/ (hall board), /window/N (window\n"
    "  screen), /voice (announcements), /api/state (JSON). HOST:PORT defaults to\n"
    "  display.http in the hall file.\n";

static int on_option(int opt, const char *arg, void *ctx)
{
    *(const char **)ctx = arg; /* --http */
    return 0;
}

int main(int argc, char **argv)
{
    display_t d = {0};
    static const struct option extra[] = {{"http", required_argument, NULL, 'H'}, {0}};
    hb_daemon_spec_t spec = {"hall-display", USAGE, extra, "", on_option, &d.http_addr, 0};
    hb_daemon_start_t start = hb_daemon_start(&spec, argc, argv, &d.config);
    if (start != HB_DAEMON_RUN)
        return hb_daemon_exit_status(start);
    /* every browser is a descriptor: take all the system allows */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    char err[HB_CONFIG_ERR_MAX];
    if (!d.http_addr)
        d.http_addr = d.config->display.http;
    d.view = dv_view_new(d.config);
    if (!d.view) {
        hb_config_destroy(&d.config);
        return 1;
    }
    dv_sync_init(&d.sync, d.view, d.config->display.resync_ttl_ms);

    d.loop = uv_default_loop();
    d.http = dv_web_new(d.loop, d.http_addr, d.config->display.max_clients,
                        d.config->display.max_per_client, stats_json, &d, err, sizeof err);
    d.ctx = zmq_ctx_new();
    void *sub = d.http ? open_socket(&d, ZMQ_SUB, d.config->endpoints.bus_sub, SUB_HWM) : NULL;
    if (sub) {
        char prefix[HB_TOPIC_MAX];
        hb_topic_prefix(d.config->hall.id, prefix);
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
        d.sub = hb_zsock_new(d.loop, sub, on_event, on_turn, &d);
    }
    if (!d.http || !dv_web_listening(d.http) || !d.sub) {
        if (d.http && !dv_web_listening(d.http))
            hb_error("%s", err);
        if (sub && !d.sub)
            zmq_close(sub);
        d.stopping = true;
        hb_zsock_close(&d.sub);
        if (d.http) {
            dv_web_shutdown(d.http, on_http_done, &d);
            uv_run(d.loop, UV_RUN_DEFAULT);
            dv_web_destroy(&d.http);
        }
        uv_run(d.loop, UV_RUN_DEFAULT);
        zmq_ctx_term(d.ctx);
        uv_loop_close(d.loop);
        dv_sync_dispose(&d.sync);
        dv_view_destroy(&d.view);
        hb_config_destroy(&d.config);
        return 1;
    }
    hb_zsock_set_batch_max(d.sub, 1024);
    if (d.config->display.voice_dir)
        d.voice = dv_voice_new(d.loop, d.config->display.voice_dir, d.config->display.espeak,
                               d.config->display.language);

    uv_timer_init(d.loop, &d.tick);
    uv_timer_init(d.loop, &d.ping);
    uv_timer_init(d.loop, &d.stats);
    d.tick.data = d.ping.data = d.stats.data = &d;
    uv_timer_start(&d.tick, on_tick, TICK_MS, TICK_MS);
    uv_timer_start(&d.ping, on_ping, PING_MS, PING_MS);
    uv_timer_start(&d.stats, on_stats, STATS_MS, STATS_MS);
    hb_signals_start(&d.signals, d.loop, on_stop, &d);

    /* subscribed first; then the snapshot (Clone pattern) */
    dv_sync_begin(&d.sync, "start", hb_mono_us());
    request_snapshot(&d, "start");
    publish(&d); /* /api/state answers at once, "synced": false until the snapshot */
    hb_info("hall %s: boards on http://%s/ (window screens /window/N, voice /voice); events from "
            "%s, snapshots from %s; resync after %u ms of silence",
            d.config->hall.id, d.http_addr, d.config->endpoints.bus_sub,
            d.config->endpoints.command, d.config->display.resync_ttl_ms);

    uv_run(d.loop, UV_RUN_DEFAULT); /* until on_http_done stops it */
    dv_web_destroy(&d.http);
    uv_run(d.loop, UV_RUN_DEFAULT); /* the handles closed last */

    zmq_ctx_term(d.ctx);
    int rc = uv_loop_close(d.loop);
    if (rc != 0)
        hb_error("loop closed with handles still open: %s", uv_strerror(rc));
    dv_sync_dispose(&d.sync);
    dv_view_destroy(&d.view);
    hb_config_destroy(&d.config);
    hb_info("stopped");
    return rc == 0 ? 0 : 1;
}
