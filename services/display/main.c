/* hall-display: a live view of one hall for its boards, kept by the Clone
 * pattern and served over HTTP.
 *
 * The common follower (hallbus/follow_sub.h) takes the hall's events from
 * hall-bus and asks hall-queue for a snapshot when the display starts,
 * after a gap and after a silence longer than the TTL; view.h keeps the
 * state, and takes the summaries each heartbeat carries.
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
#include "hallbus/daemon.h"
#include "hallbus/follow_sub.h"
#include "hallbus/log.h"
#include "hallbus/security.h"
#include "hallbus/signals.h"
#include "web.h"
#include "view_json.h"
#include "voice.h"

#define TICK_MS 100
#define PING_MS 5000
#define STATS_MS 60000
#define SUB_HWM 100000
#define SUB_BATCH_MAX 1024

typedef struct {
    uv_loop_t *loop;
    hb_config_t *config;
    const char *http_addr;
    void *ctx;
    hb_follow_sub_t *follow;
    dv_view_t *view;
    dv_web_t *http;
    dv_voice_t *voice; /* NULL unless display.voice_dir is set */
    uv_timer_t tick, ping, stats;
    hb_signals_t signals;
    uint64_t published_version;
    bool published_synced, published_once;
    bool stopping;
} display_t;

/* ── publishing to the browsers ── */

static void publish(display_t *d)
{
    if (!d->http)
        return;
    bool synced = d->follow && hb_follow_sub_synced(d->follow);
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

/* ── the follower's callbacks ── */

static void on_load(void *arg, const Hallbus__Snapshot *snap)
{
    display_t *d = arg;
    dv_view_load(d->view, snap, DV_ANNOUNCE_MAX_AGE_US);
    hb_info("synchronised at seq %llu (%zu active ticket(s), %zu recent call(s))",
            (unsigned long long)snap->seq, snap->n_tickets, snap->n_recent_calls);
}

static int on_apply(void *arg, const Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                    int64_t received_at)
{
    display_t *d = arg;
    dv_view_apply(d->view, env);
    return 0;
}

/* a heartbeat at the view's seq: its per-service summaries are current */
static void on_heartbeat(void *arg, const Hallbus__Envelope *env)
{
    display_t *d = arg;
    dv_view_apply(d->view, env);
}

static void on_batch(void *arg)
{
    publish(arg);
}

static void on_synced(void *arg, bool synced)
{
    publish(arg);
}

/* ── timers ── */

static void on_tick(uv_timer_t *t)
{
    publish(t->data); /* "synced" turns false on silence between messages */
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
    hb_follow_sub_counters_t fc = hb_follow_sub_counters(d->follow);
    const hb_follow_counters_t *c = &fc.follower;
    return json_pack("{s:s,s:I,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "hall",
                     d->config->hall.id, "seq", (json_int_t)d->view->seq, "synced",
                     hb_follow_sub_synced(d->follow), "snapshots", (json_int_t)c->snapshots,
                     "resyncs", (json_int_t)(c->snapshot_requests ? c->snapshot_requests - 1 : 0),
                     "gaps", (json_int_t)c->gaps, "silences", (json_int_t)c->silences, "stale",
                     (json_int_t)c->stale, "applied", (json_int_t)c->applied, "malformed",
                     (json_int_t)fc.malformed, "foreign", (json_int_t)c->foreign,
                     "snapshot_requests", (json_int_t)fc.requests, "bad_replies",
                     (json_int_t)fc.bad_replies, "voice_rendered",
                     (json_int_t)(d->voice ? dv_voice_rendered(d->voice) : 0), "voice_failed",
                     (json_int_t)(d->voice ? dv_voice_failed(d->voice) : 0));
}

static void on_stats(uv_timer_t *t)
{
    display_t *d = t->data;
    hb_follow_sub_counters_t fc = hb_follow_sub_counters(d->follow);
    const hb_follow_counters_t *c = &fc.follower;
    hb_info("seq %llu; applied %lu event(s), %lu snapshot(s), %lu gap(s), %lu silence(s), %lu "
            "malformed; %u browser stream(s)",
            (unsigned long long)d->view->seq, c->applied, c->snapshots, c->gaps, c->silences,
            fc.malformed, d->http ? dv_web_streams(d->http) : 0);
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
    hb_follow_sub_close(&d->follow);
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
    hb_daemon_spec_t spec = {"hall-display", USAGE, extra, "", on_option, &d.http_addr, 0, NULL};
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

    d.loop = uv_default_loop();
    d.http = dv_web_new(d.loop, d.http_addr, d.config->display.max_clients,
                        d.config->display.max_per_client, stats_json, &d, err, sizeof err);
    d.ctx = zmq_ctx_new();
    /* a CURVE client of hall-bus and hall-queue with its key, hall-display */
    char kerr[HB_KEYS_ERR_MAX];
    hb_security_t *security =
        hb_security_start(d.ctx, &d.config->security, "hall-display", false, kerr);
    if (!security)
        hb_error("cannot start: %s (make the hall's keys: hallctl keys init)", kerr);
    hb_follow_sub_config_t fc = {.hall = d.config->hall.id,
                                 .security = security,
                                 .bus_sub = d.config->endpoints.bus_sub,
                                 .command = d.config->endpoints.command,
                                 .actor = "hall-display",
                                 .mode = HB_FOLLOW_CLONE,
                                 .ttl_us = (int64_t)d.config->display.resync_ttl_ms * 1000,
                                 .snapshot_timeout_us =
                                     (int64_t)d.config->display.snapshot_timeout_ms * 1000,
                                 .sub_hwm = SUB_HWM,
                                 .batch_max = SUB_BATCH_MAX,
                                 .cb = {.load = on_load,
                                        .apply = on_apply,
                                        .heartbeat = on_heartbeat,
                                        .synced = on_synced,
                                        .batch = on_batch,
                                        .arg = &d}};
    if (security && d.http && dv_web_listening(d.http))
        d.follow = hb_follow_sub_new(d.loop, d.ctx, &fc, 0);
    if (!d.http || !dv_web_listening(d.http) || !d.follow) {
        if (d.http && !dv_web_listening(d.http))
            hb_error("%s", err);
        d.stopping = true;
        hb_follow_sub_close(&d.follow);
        if (d.http) {
            dv_web_shutdown(d.http, on_http_done, &d);
            uv_run(d.loop, UV_RUN_DEFAULT);
            dv_web_destroy(&d.http);
        }
        uv_run(d.loop, UV_RUN_DEFAULT);
        hb_security_stop(&security);
        zmq_ctx_term(d.ctx);
        uv_loop_close(d.loop);
        dv_view_destroy(&d.view);
        hb_config_destroy(&d.config);
        return 1;
    }
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
    hb_signals_on_reload(&d.signals, hb_security_on_sighup, security);

    /* subscribed first; then the snapshot (Clone pattern) */
    hb_follow_sub_start(d.follow);
    publish(&d); /* /api/state answers at once, "synced": false until the snapshot */
    hb_info("hall %s: boards on http://%s/ (window screens /window/N, voice /voice); events from "
            "%s, snapshots from %s; resync after %u ms of silence",
            d.config->hall.id, d.http_addr, d.config->endpoints.bus_sub,
            d.config->endpoints.command, d.config->display.resync_ttl_ms);

    uv_run(d.loop, UV_RUN_DEFAULT); /* until on_http_done stops it */
    dv_web_destroy(&d.http);
    uv_run(d.loop, UV_RUN_DEFAULT); /* the handles closed last */

    hb_security_stop(&security);
    zmq_ctx_term(d.ctx);
    int rc = uv_loop_close(d.loop);
    if (rc != 0)
        hb_error("loop closed with handles still open: %s", uv_strerror(rc));
    dv_view_destroy(&d.view);
    hb_config_destroy(&d.config);
    hb_info("stopped");
    return rc == 0 ? 0 : 1;
}
