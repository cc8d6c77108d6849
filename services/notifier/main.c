/* hall-notifier: tells citizens what the hall's events mean for them.
 *
 * It follows one hall's events with the common follower
 * (hallbus/follow_sub.h, journal mode with a snapshot first): a snapshot
 * from hall-queue builds the model of the waiting lines, the events from
 * the stored cursor up to it come from hall-queue's journal and then the
 * live ones keep the model; a gap (or a heartbeat ahead of us) is filled
 * from the journal, so no call is silently missed. Each decision becomes a row of the durable
 * outbox, committed (with the sequence it came from) before any attempt; sender.c does the
 * attempts. A restart resumes from the committed sequence: events it had
 * not taken into account are fetched from the journal and decided then. */
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hallbus/clock.h"
#include "hallbus/db.h"
#include "hallbus/daemon.h"
#include "hallbus/follow_sub.h"
#include "hallbus/log.h"
#include "hallbus/signals.h"
#include "notifier.h"

#define FETCH_MAX 1000
#define SYNC_TIMEOUT_MS 3000
/* events missing and hall-queue not giving them for this long: their
 * messages are counted lost (ERROR) and a fresh snapshot is taken; an event
 * ahead of the hall's own sequence that long is dropped */
#define GAP_TIMEOUT_S 600

/* ── the outbox's failures ── */

#define STORE_RETRY_MAX_MS 1000

static hb_follower_t *follower(notifier_t *n)
{
    return hb_follow_sub_follower(n->follow);
}

/* A write to the outbox failed (a full disk, most likely). What this turn
 * wrote is rolled back, the follower goes back to the cursor the store
 * holds, and no event is taken until a resync from there (as a restart
 * would: snapshot, then the journal from the stored cursor) has been
 * committed; the follower asks again, at most STORE_RETRY_MAX_MS apart.
 * Nothing is acknowledged that is not stored. May run inside the
 * follower's callbacks (follower.h allows rewind and resync there). */
static void store_failed(notifier_t *n, const char *what)
{
    nt_outbox_rollback(n->outbox);
    n->count.store_failures++;
    n->turn_failed = true;
    uint64_t cursor = nt_outbox_cursor(n->outbox, n->config->hall.id);
    if (n->follow && !n->stopping) {
        hb_follower_rewind(follower(n), cursor);
        hb_follower_resync(follower(n), "the outbox cannot be written", hb_mono_us());
    }
    if (!n->store_down)
        hb_error("the outbox cannot be written (%s: %s): nothing after hall event %llu is "
                 "stored; taking no events until it can be, trying again at most every %d ms",
                 what, nt_outbox_error(n->outbox), (unsigned long long)cursor, STORE_RETRY_MAX_MS);
    else
        hb_debug("the outbox still cannot be written (%s: %s)", what, nt_outbox_error(n->outbox));
    n->store_down = true;
}

int nt_commit(notifier_t *n)
{
    if (nt_outbox_commit(n->outbox) != 0) {
        store_failed(n, "commit");
        return -1;
    }
    if (n->store_down && !n->turn_failed) {
        n->store_down = false;
        hb_info("the outbox can be written again: following on from hall event %llu, as after "
                "a restart",
                (unsigned long long)nt_outbox_cursor(n->outbox, n->config->hall.id));
    }
    return 0;
}

/* ── decisions into the outbox ── */

static void on_decision(const nt_decision_t *d, void *arg)
{
    notifier_t *n = arg;
    const hb_note_kind_conf_t *k = &n->conf->kinds[d->kind];
    if (n->turn_failed)
        return; /* the event is taken again once the store can be written */
    if (d->withdraw) {
        int rc = nt_outbox_withdraw(n->outbox, d->key, d->withdraw, hb_now_us());
        if (rc == 1)
            hb_info("%s for %s withdrawn: %s", hb_note_kind_name(d->kind), d->ticket, d->withdraw);
        else if (rc < 0)
            store_failed(n, "withdraw");
        return;
    }
    n->count.decisions++;
    char *zh = nt_render(k->zh, d->fields);
    char *en = nt_render(k->en, d->fields);
    json_t *fields = json_object();
    for (size_t i = 0; i < d->fields->count; i++)
        json_object_set_new(
            fields, d->fields->items[i].name,
            json_string(d->fields->items[i].value ? d->fields->items[i].value : ""));
    char *fields_json = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(fields);
    int64_t now = hb_now_us();
    int64_t from = d->event_ts > 0 ? d->event_ts : now;
    nt_new_msg_t m = {.key = d->key,
                      .hall = d->hall,
                      .seq = d->seq,
                      .kind = d->kind,
                      .ticket = d->ticket ? d->ticket : "",
                      .business_date = d->business_date,
                      .contact_ref = d->contact_ref,
                      .text_zh = zh ? zh : "",
                      .text_en = en ? en : "",
                      .fields_json = fields_json ? fields_json : "{}",
                      .event_ts = from,
                      .created_at = now,
                      .deadline =
                          d->deadline ? d->deadline : from + (int64_t)k->deadline_s * 1000000,
                      .not_before = d->not_before};
    int rc = nt_outbox_add(n->outbox, &m);
    if (rc == 1 && m.deadline <= now) {
        n->count.born_expired++;
        hb_warn("%s for %s (event %llu) is already past its deadline: recorded as expired",
                hb_note_kind_name(d->kind), m.ticket, (unsigned long long)d->seq);
    } else if (rc == 1) {
        n->count.added++;
        hb_debug("queued %s for %s (event %llu, key %s)", hb_note_kind_name(d->kind), m.ticket,
                 (unsigned long long)d->seq, d->key);
    } else if (rc == 0) {
        n->count.duplicates++;
    } else {
        store_failed(n, "add");
    }
    free(zh);
    free(en);
    free(fields_json);
}

/* ── the hall's events (hallbus/follow_sub.h: a snapshot for the model of
 * the lines, then every event from the stored cursor, in order) ── */

/* The snapshot: the model of the lines is rebuilt from it; the follower
 * follows on from its last (the stored cursor, or the snapshot's seq on a
 * first start or a new hall store), which becomes the cursor. */
static void on_load(void *arg, const Hallbus__Snapshot *snap)
{
    notifier_t *n = arg;
    n->turn_failed = false;
    n->model_seq = snap->seq;
    nt_tracker_load(n->tracker, snap);
    if (n->turn_failed)
        return;
    uint64_t from = hb_follower_last(follower(n));
    if (nt_outbox_set_cursor(n->outbox, n->config->hall.id, from) != 0) {
        store_failed(n, "resync");
        return;
    }
    hb_info("in step with hall %s: snapshot at event %llu, %u waiting; taking events after %llu",
            n->config->hall.id, (unsigned long long)snap->seq, nt_tracker_waiting(n->tracker),
            (unsigned long long)from);
}

/* Decides ENV's messages into the outbox, with the cursor. Events at or
 * below the snapshot (from the journal) only decide their own messages:
 * the model has them. -1 if a write failed (the follower was sent back). */
static int on_event(void *arg, const Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                    int64_t received_at)
{
    notifier_t *n = arg;
    if (n->turn_failed)
        return -1;
    n->count.events++;
    int fits = nt_tracker_event(n->tracker, env, env->seq > n->model_seq);
    if (n->turn_failed)
        return -1;
    if (nt_outbox_set_cursor(n->outbox, n->config->hall.id, env->seq) != 0) {
        store_failed(n, "cursor");
        return -1;
    }
    if (fits != 0) {
        /* the model of the lines is out of step with the hall's: its "N
         * ahead" would be wrong from now on. Start again from a snapshot;
         * the events after this one come from the journal. */
        n->count.resyncs++;
        hb_follower_resync(follower(n), "the model of the lines is out of step", hb_mono_us());
    }
    return 0;
}

/* FROM..TO are gone from hall-queue's journal: their messages are lost
 * (the follower logged it and resyncs); the cursor passes them. */
static int on_gap(void *arg, uint64_t from, uint64_t to, const char *reason)
{
    notifier_t *n = arg;
    if (n->turn_failed)
        return -1;
    n->count.gone++;
    hb_error("the messages of hall events %llu..%llu are lost (%s); starting again from a "
             "snapshot",
             (unsigned long long)from, (unsigned long long)to, reason);
    if (nt_outbox_set_cursor(n->outbox, n->config->hall.id, to) != 0) {
        store_failed(n, "cursor");
        return -1;
    }
    return 0;
}

static void after_batch(notifier_t *n)
{
    if (nt_outbox_dirty(n->outbox) && nt_commit(n) == 0)
        nt_sender_scan(n); /* new messages go out now, not at the next scan */
}

static void on_follow_batch(void *arg)
{
    after_batch(arg);
}

static void on_queue_batch(hb_client_t *c, void *arg)
{
    after_batch(arg);
}

static void on_scan(uv_timer_t *t)
{
    notifier_t *n = t->data;
    nt_sender_scan(n);
}

#define COMMIT_DELAY_MS 10

static void on_commit(uv_timer_t *t)
{
    notifier_t *n = t->data;
    nt_commit(n);
}

void nt_commit_soon(notifier_t *n)
{
    if (!n->stopping && !uv_is_active((uv_handle_t *)&n->commit))
        uv_timer_start(&n->commit, on_commit, COMMIT_DELAY_MS, 0);
}

static void log_stats(notifier_t *n)
{
    nt_counters_t *c = &n->count;
    hb_follow_sub_counters_t fc = hb_follow_sub_counters(n->follow);
    unsigned long fetches = fc.requests - fc.follower.snapshot_requests;
    unsigned counts[4];
    nt_outbox_counts(n->outbox, counts);
    hb_info("events %lu (fetched %lu in %lu request(s), snapshots %lu, malformed %lu, lost to "
            "the journal %lu), "
            "decisions %lu (new %lu, repeats %lu); outbox write failures %lu; attempts %lu: sent "
            "%lu, retried %lu, failed "
            "%lu, expired %lu; contacts unresolved %lu; HTTP 5xx %lu, 4xx %lu, other %lu, "
            "timeouts %lu, unreachable %lu; command failures %lu; rate-delayed %lu; outbox: "
            "%u pending, %u sent, %u failed, %u expired; at event %llu",
            c->events, fc.follower.fetched, fetches, fc.follower.snapshots, fc.malformed, c->gone,
            c->decisions, c->added, c->duplicates, c->store_failures, c->attempts, c->sent,
            c->retried, c->failed, c->expired, c->resolve_failed, c->http_5xx, c->http_4xx,
            c->http_other, c->timeouts, c->unreachable, c->command_failed, c->rate_delayed,
            counts[0], counts[1], counts[2], counts[3],
            (unsigned long long)hb_follower_last(follower(n)));
}

static void on_stats(uv_timer_t *t)
{
    notifier_t *n = t->data;
    log_stats(n);
    /* once an hour: settled messages older than keep_days go */
    if (++n->stats_ticks % 60 == 1) {
        int64_t before = hb_now_us() - (int64_t)n->conf->keep_days * 86400 * 1000000;
        int gone = nt_outbox_prune(n->outbox, before);
        if (gone > 0)
            hb_info("removed %d settled message(s) older than %u day(s) from the outbox", gone,
                    n->conf->keep_days);
        nt_commit_soon(n);
    }
}

static void on_stop(void *arg)
{
    notifier_t *n = arg;
    n->stopping = true;
    log_stats(n); /* the follower's counters go with it */
    hb_follow_sub_close(&n->follow);
    hb_client_close(&n->queue);
    hb_server_close(&n->query);
    uv_close((uv_handle_t *)&n->scan, NULL);
    uv_close((uv_handle_t *)&n->stats, NULL);
    uv_close((uv_handle_t *)&n->commit, NULL);
    nt_http_destroy(&n->http);
    nt_sender_stop(n);
    nt_outbox_commit(n->outbox);
    hb_signals_close(&n->signals);
}

static const char USAGE[] =
    "usage: hall-notifier -c HALL.yaml [--db PATH] [--log-level debug|info|warn|error]\n"
    "  Follows the hall's events and sends citizens their messages (webhook, SMS\n"
    "  gateway, local command) from a durable outbox.\n";

int main(int argc, char **argv)
{
    const char *db_path = NULL;
    hb_daemon_spec_t spec = {.name = "hall-notifier", .usage = USAGE, .db = &db_path};
    static notifier_t n;
    hb_daemon_start_t start = hb_daemon_start(&spec, argc, argv, &n.config);
    if (start != HB_DAEMON_RUN)
        return hb_daemon_exit_status(start);
    const char *config_path = n.config->path;
    char err[HB_CONFIG_ERR_MAX];
    n.conf = &n.config->notifier;
    for (unsigned i = 0; i < n.conf->near_count; i++)
        if (!hb_config_service(n.config, n.conf->near[i].service))
            hb_warn("%s: notifier.near[%u]: the hall has no service %s", config_path, i,
                    n.conf->near[i].service);
    if (!db_path)
        db_path = n.conf->db;
    int lock = hb_db_lock(db_path, err, sizeof err);
    if (lock < 0) {
        hb_error("refusing to start: %s", err);
        hb_config_destroy(&n.config);
        return 1;
    }
    n.outbox = nt_outbox_open(db_path, err, sizeof err);
    if (!n.outbox || sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        hb_error("%s", n.outbox ? "cannot initialise libsodium or libcurl" : err);
        nt_outbox_close(&n.outbox);
        hb_config_destroy(&n.config);
        close(lock);
        return 1;
    }
    srand((unsigned)(hb_now_us() ^ getpid()));
    n.tracker = nt_tracker_new(n.config, on_decision, &n);

    n.loop = uv_default_loop();
    n.loop->data = &n;
    n.ctx = zmq_ctx_new();
    char kerr[HB_KEYS_ERR_MAX];
    n.security = hb_security_start(n.ctx, &n.config->security, "hall-notifier", true, kerr);
    if (!n.security) {
        hb_error("refusing to start: %s (make the hall's keys: hallctl keys init)", kerr);
        return 2;
    }
    hb_client_config_t cc = {.endpoint = n.config->endpoints.command,
                             .security = n.security,
                             .server = "hall-queue",
                             .reply_desc = &hallbus__reply__descriptor,
                             .hwm = 100000,
                             .on_batch = on_queue_batch,
                             .arg = &n};
    n.queue = hb_client_new(n.loop, n.ctx, &cc);
    hb_follow_sub_config_t fc = {.hall = n.config->hall.id,
                                 .security = n.security,
                                 .bus_sub = n.config->endpoints.bus_sub,
                                 .command = n.config->endpoints.command,
                                 .actor = "hall-notifier",
                                 .mode = HB_FOLLOW_JOURNAL,
                                 .snapshot = true,
                                 .snapshot_timeout_us = (int64_t)SYNC_TIMEOUT_MS * 1000,
                                 .gap_timeout_us = (int64_t)GAP_TIMEOUT_S * 1000000,
                                 .resync_max_us = (int64_t)STORE_RETRY_MAX_MS * 1000,
                                 .fetch_timeout_ms = SYNC_TIMEOUT_MS,
                                 .fetch_max = FETCH_MAX,
                                 .cb = {.load = on_load,
                                        .apply = on_event,
                                        .gap = on_gap,
                                        .batch = on_follow_batch,
                                        .arg = &n}};
    n.follow = hb_follow_sub_new(n.loop, n.ctx, &fc, nt_outbox_cursor(n.outbox, n.config->hall.id));
    if (!n.follow || !n.queue || nt_query_start(&n) != 0)
        return 1;
    n.http = nt_http_new(n.loop);
    nt_sender_init(&n);
    uv_timer_init(n.loop, &n.scan);
    uv_timer_init(n.loop, &n.stats);
    uv_timer_init(n.loop, &n.commit);
    n.scan.data = n.stats.data = n.commit.data = &n;
    uv_timer_start(&n.scan, on_scan, n.conf->scan_ms, n.conf->scan_ms);
    uv_timer_start(&n.stats, on_stats, 60000, 60000);
    hb_signals_start(&n.signals, n.loop, on_stop, &n);
    hb_signals_on_reload(&n.signals, hb_security_on_sighup, n.security);

    hb_follow_sub_start(n.follow);
    hb_info("hall %s: outbox %s (cursor at event %llu); events from %s, contacts from %s; "
            "queries on %s; channels: webhook %s, sms %s, command %s",
            n.config->hall.id, db_path,
            (unsigned long long)nt_outbox_cursor(n.outbox, n.config->hall.id),
            n.config->endpoints.bus_sub, n.config->endpoints.command, n.conf->query,
            n.conf->webhook.enabled ? "on" : "off", n.conf->sms.enabled ? "on" : "off",
            n.conf->command.enabled ? "on" : "off");

    uv_run(n.loop, UV_RUN_DEFAULT);

    hb_security_stop(&n.security);
    zmq_ctx_term(n.ctx);
    int rc = uv_loop_close(n.loop);
    if (rc != 0)
        hb_warn("loop closed with handles still open: %s", uv_strerror(rc));
    curl_global_cleanup();
    nt_tracker_destroy(&n.tracker);
    nt_outbox_close(&n.outbox);
    hb_config_destroy(&n.config);
    close(lock);
    hb_info("stopped");
    return rc == 0 ? 0 : 1;
}
