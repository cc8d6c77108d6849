/* hall-notifier: tells citizens what the hall's events mean for them.
 *
 * It follows one hall's events on the bus with the Clone pattern: a
 * snapshot from hall-queue builds the model of the waiting lines, then the
 * events keep it; a gap in the sequence (or a heartbeat ahead of us) is
 * filled from hall-queue's journal (FetchEvents), so no call is silently
 * missed. Each decision becomes a row of the durable outbox, committed
 * (with the sequence it came from) before any attempt; sender.c does the
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
#include "hallbus/envelope.h"
#include "hallbus/daemon.h"
#include "hallbus/log.h"
#include "hallbus/signals.h"
#include "notifier.h"

#define FETCH_MAX 1000
#define SYNC_TIMEOUT_MS 3000

/* ── the outbox's failures ── */

#define STORE_RETRY_MS 1000

/* A write to the outbox failed (a full disk, most likely). What this turn
 * wrote is rolled back, the cursor is read again from the store, and no
 * event is taken until a resync from there (as a restart would: snapshot,
 * then the journal from the stored cursor) has been committed; it is tried
 * again every STORE_RETRY_MS. Nothing is acknowledged that is not stored. */
static void store_failed(notifier_t *n, const char *what)
{
    nt_outbox_rollback(n->outbox);
    n->count.store_failures++;
    n->turn_failed = true;
    n->live = false;
    n->fetching = false;
    n->snapshot_asked = false;
    n->sync_epoch++;
    n->last = nt_outbox_cursor(n->outbox, n->config->hall.id);
    n->resync_after_us = hb_mono_us() + (int64_t)STORE_RETRY_MS * 1000;
    if (!n->store_down)
        hb_error("the outbox cannot be written (%s: %s): nothing after hall event %llu is "
                 "stored; taking no events until it can be, trying again every %d ms",
                 what, nt_outbox_error(n->outbox), (unsigned long long)n->last, STORE_RETRY_MS);
    else
        hb_debug("the outbox still cannot be written (%s: %s)", what, nt_outbox_error(n->outbox));
    n->store_down = true;
}

int nt_commit(notifier_t *n)
{
    if (nt_outbox_commit(n->outbox) == 0)
        return 0;
    store_failed(n, "commit");
    return -1;
}

/* ── requests to hall-queue (hb_client) ── */

typedef struct {
    notifier_t *n;
    unsigned epoch;
} sync_ctx_t;

static void on_snapshot(notifier_t *n, const Hallbus__Reply *r);
static void on_fetched(notifier_t *n, const Hallbus__Reply *r);

static bool sync_send(notifier_t *n, Hallbus__Request *req, hb_client_cb cb)
{
    sync_ctx_t *ctx = malloc(sizeof *ctx);
    if (!ctx)
        return false;
    *ctx = (sync_ctx_t){n, n->sync_epoch};
    req->hall_id = n->config->hall.id;
    req->actor = "hall-notifier";
    if (hb_client_send(n->queue, &req->base, SYNC_TIMEOUT_MS, cb, ctx) != 0)
        return true;
    free(ctx);
    return false;
}

/* The context of a reply, or NULL if it is stale or there is none. */
static notifier_t *sync_reply(hb_client_outcome_t outcome, void *arg, const char *what)
{
    sync_ctx_t ctx = *(sync_ctx_t *)arg;
    free(arg);
    if (outcome == HB_CLIENT_CANCELLED || ctx.epoch != ctx.n->sync_epoch)
        return NULL;
    if (outcome != HB_CLIENT_REPLY) {
        hb_debug("%s: %s", what,
                 outcome == HB_CLIENT_TIMEOUT ? "no answer in time" : "an undecodable reply");
        return NULL;
    }
    return ctx.n;
}

static void on_snapshot_reply(hb_client_t *c, hb_client_outcome_t outcome, ProtobufCMessage *reply,
                              void *arg)
{
    notifier_t *n = ((sync_ctx_t *)arg)->n;
    bool current = ((sync_ctx_t *)arg)->epoch == n->sync_epoch;
    if (current)
        n->snapshot_asked = false; /* asked again at the next scan, if need be */
    n = sync_reply(outcome, arg, "snapshot");
    if (n && !n->live)
        on_snapshot(n, (const Hallbus__Reply *)reply);
}

static void on_fetch_reply(hb_client_t *c, hb_client_outcome_t outcome, ProtobufCMessage *reply,
                           void *arg)
{
    notifier_t *n = ((sync_ctx_t *)arg)->n;
    if (((sync_ctx_t *)arg)->epoch == n->sync_epoch)
        n->fetching = false; /* on a time-out, the next heartbeat asks again */
    n = sync_reply(outcome, arg, "FetchEvents");
    if (n && n->live)
        on_fetched(n, (const Hallbus__Reply *)reply);
}

static void request_snapshot(notifier_t *n)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetSnapshot gs = HALLBUS__GET_SNAPSHOT__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT;
    req.get_snapshot = &gs;
    n->count.snapshots++;
    n->turn_failed = false;
    if (sync_send(n, &req, on_snapshot_reply))
        n->snapshot_asked = true;
    else
        hb_debug("snapshot request not sent (hall-queue unreachable); will ask again");
}

static void request_fetch(notifier_t *n)
{
    if (n->fetching || !n->live)
        return;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__FetchEvents fe = HALLBUS__FETCH_EVENTS__INIT;
    fe.from_seq = n->last + 1;
    fe.max_events = FETCH_MAX;
    req.command_case = HALLBUS__REQUEST__COMMAND_FETCH_EVENTS;
    req.fetch_events = &fe;
    if (sync_send(n, &req, on_fetch_reply)) {
        n->fetching = true;
        n->count.fetches++;
    }
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

/* ── events ── */

/* Decides ENV's messages into the outbox. False if a write failed: the
 * turn is rolled back and no further event may be taken. */
static bool take_event(notifier_t *n, const Hallbus__Envelope *env)
{
    n->count.events++;
    int fits = nt_tracker_event(n->tracker, env, env->seq > n->model_seq);
    if (n->turn_failed)
        return false;
    if (nt_outbox_set_cursor(n->outbox, n->config->hall.id, env->seq) != 0) {
        store_failed(n, "cursor");
        return false;
    }
    n->last = env->seq;
    if (fits != 0) {
        /* the model of the lines is out of step with the hall's: its "N
         * ahead" would be wrong from now on. Start again from a snapshot;
         * the events after this one come from the journal. */
        n->count.resyncs++;
        n->live = false;
        n->fetching = false;
        n->sync_epoch++;
        request_snapshot(n);
        return false;
    }
    return true;
}

static void after_batch(notifier_t *n)
{
    if (nt_outbox_dirty(n->outbox) && nt_commit(n) == 0)
        nt_sender_scan(n); /* new messages go out now, not at the next scan */
}

static void on_sub_msg(hb_zsock_t *zs, zmq_msg_t *frames, int nframes, bool overflow, void *arg)
{
    notifier_t *n = arg;
    if (nframes != 2 || overflow) {
        if (n->count.malformed++ % 1000 == 0)
            hb_warn("ignored a bus message of %d frame(s) (%lu malformed so far)", nframes,
                    n->count.malformed);
        return;
    }
    Hallbus__Envelope *env = NULL;
    const char *why = NULL;
    if (hb_envelope_decode(zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1]), &env, &why) !=
        HB_DECODE_OK) {
        if (n->count.malformed++ % 1000 == 0)
            hb_warn("ignored a malformed event: %s (%lu malformed so far)", why ? why : "?",
                    n->count.malformed);
        return;
    }
    if (!env->hall_id || strcmp(env->hall_id, n->config->hall.id) != 0) {
        n->count.foreign++;
    } else if (!n->live) {
        /* syncing: the journal gives these again once the snapshot is in */
    } else if (env->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT) {
        n->count.heartbeats++;
        if (env->seq > n->last && !n->fetching) {
            n->count.gaps++;
            hb_info("heartbeat says the hall is at event %llu, we are at %llu: fetching the rest",
                    (unsigned long long)env->seq, (unsigned long long)n->last);
            request_fetch(n);
        }
    } else if (env->seq <= n->last) {
        /* already taken into account */
    } else if (env->seq == n->last + 1 && !n->fetching) {
        take_event(n, env);
    } else if (!n->fetching) {
        n->count.gaps++;
        hb_info("gap: event %llu after %llu; fetching the missing ones from hall-queue's journal",
                (unsigned long long)env->seq, (unsigned long long)n->last);
        request_fetch(n);
    }
    hallbus__envelope__free_unpacked(env, NULL);
}

static void on_sub_batch(hb_zsock_t *zs, void *arg)
{
    after_batch(arg);
}

static void on_snapshot(notifier_t *n, const Hallbus__Reply *r)
{
    if (r->code != HALLBUS__STATUS_CODE__OK || r->result_case != HALLBUS__REPLY__RESULT_SNAPSHOT) {
        hb_warn("hall-queue refused the snapshot: %s %s", hb_status_name(r->code),
                r->message ? r->message : "");
        return;
    }
    n->turn_failed = false;
    const Hallbus__Snapshot *snap = r->snapshot;
    uint64_t cursor = nt_outbox_cursor(n->outbox, n->config->hall.id);
    n->model_seq = snap->seq;
    nt_tracker_load(n->tracker, snap);
    if (cursor == 0 || n->skip_to_snapshot) {
        n->last = snap->seq;
    } else if (cursor > snap->seq) {
        hb_warn("the outbox has seen event %llu but the hall is at %llu (a new hall store?); "
                "following the hall from there",
                (unsigned long long)cursor, (unsigned long long)snap->seq);
        n->last = snap->seq;
    } else {
        n->last = cursor;
    }
    if (n->turn_failed || nt_outbox_set_cursor(n->outbox, n->config->hall.id, n->last) != 0 ||
        nt_commit(n) != 0) {
        if (!n->turn_failed)
            store_failed(n, "resync");
        return;
    }
    n->skip_to_snapshot = false;
    n->live = true;
    if (n->store_down) {
        n->store_down = false;
        hb_info("the outbox can be written again: resyncing from hall event %llu, as after a "
                "restart",
                (unsigned long long)n->last);
    }
    hb_info("in step with hall %s: snapshot at event %llu, %u waiting; taking events after %llu",
            n->config->hall.id, (unsigned long long)snap->seq, nt_tracker_waiting(n->tracker),
            (unsigned long long)n->last);
    if (n->last < snap->seq)
        request_fetch(n);
}

static void on_fetched(notifier_t *n, const Hallbus__Reply *r)
{
    if (r->code == HALLBUS__STATUS_CODE__GONE) {
        n->count.gone++;
        hb_error("events after %llu are gone from hall-queue's journal (%s): their messages are "
                 "lost; starting again from a snapshot",
                 (unsigned long long)n->last, r->message ? r->message : "");
        n->live = false;
        n->skip_to_snapshot = true;
        request_snapshot(n);
        return;
    }
    if (r->code != HALLBUS__STATUS_CODE__OK || r->result_case != HALLBUS__REPLY__RESULT_EVENTS) {
        hb_warn("hall-queue refused FetchEvents: %s %s; will ask again", hb_status_name(r->code),
                r->message ? r->message : "");
        return;
    }
    const Hallbus__EventBatch *b = r->events;
    for (size_t i = 0; i < b->n_envelopes; i++) {
        Hallbus__Envelope *env = NULL;
        if (hb_envelope_decode(b->envelopes[i].data, b->envelopes[i].len, &env, NULL) !=
            HB_DECODE_OK) {
            n->count.malformed++;
            hb_warn("event %llu in hall-queue's journal does not decode; asking again at the "
                    "next heartbeat",
                    (unsigned long long)n->last + 1);
            after_batch(n);
            return; /* no fetch right away: that would spin on the same bad entry */
        }
        bool ok = true;
        if (env->seq == n->last + 1) {
            n->count.fetched++;
            ok = take_event(n, env);
        }
        hallbus__envelope__free_unpacked(env, NULL);
        if (!ok)
            return;
    }
    if (b->last_seq > n->last && b->n_envelopes > 0)
        request_fetch(n);
    after_batch(n);
}

static void on_queue_batch(hb_client_t *c, void *arg)
{
    after_batch(arg);
}

static void on_scan(uv_timer_t *t)
{
    notifier_t *n = t->data;
    if (!n->live && !n->snapshot_asked && hb_mono_us() >= n->resync_after_us)
        request_snapshot(n);
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
    unsigned counts[4];
    nt_outbox_counts(n->outbox, counts);
    hb_info("events %lu (fetched %lu, gaps %lu, malformed %lu, lost to the journal %lu), "
            "decisions %lu (new %lu, repeats %lu); outbox write failures %lu; attempts %lu: sent "
            "%lu, retried %lu, failed "
            "%lu, expired %lu; contacts unresolved %lu; HTTP 5xx %lu, 4xx %lu, other %lu, "
            "timeouts %lu, unreachable %lu; command failures %lu; rate-delayed %lu; outbox: "
            "%u pending, %u sent, %u failed, %u expired; at event %llu",
            c->events, c->fetched, c->gaps, c->malformed, c->gone, c->decisions, c->added,
            c->duplicates, c->store_failures, c->attempts, c->sent, c->retried, c->failed,
            c->expired, c->resolve_failed, c->http_5xx, c->http_4xx, c->http_other, c->timeouts,
            c->unreachable, c->command_failed, c->rate_delayed, counts[0], counts[1], counts[2],
            counts[3], (unsigned long long)n->last);
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
    hb_zsock_close(&n->sub);
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

static int on_option(int opt, const char *arg, void *ctx)
{
    *(const char **)ctx = arg; /* --db */
    return 0;
}

int main(int argc, char **argv)
{
    const char *db_path = NULL;
    static const struct option extra[] = {{"db", required_argument, NULL, 'd'}, {0}};
    hb_daemon_spec_t spec = {"hall-notifier", USAGE, extra, "d:", on_option, &db_path, 0};
    static notifier_t n;
    hb_daemon_start_t start = hb_daemon_start(&spec, argc, argv, &n.config);
    if (start != HB_DAEMON_RUN)
        return hb_daemon_exit_status(start);
    const char *config_path = n.config->path;
    char err[HB_CONFIG_ERR_MAX];
    n.conf = &n.config->notifier;
    if (!n.config->queue.contact_secret) {
        hb_error("%s: queue.contact_secret is not set, so hall-queue resolves no contacts and "
                 "there is no one to notify",
                 config_path);
        hb_config_destroy(&n.config);
        return 2;
    }
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
    hb_socket_opts_t so = {.hwm = 100000, .security = n.security, .server = "hall-bus"};
    void *sub = hb_socket_open_opts(n.ctx, ZMQ_SUB, n.config->endpoints.bus_sub, 0, &so);
    hb_client_config_t cc = {.endpoint = n.config->endpoints.command,
                             .security = n.security,
                             .server = "hall-queue",
                             .reply_desc = &hallbus__reply__descriptor,
                             .hwm = 100000,
                             .on_batch = on_queue_batch,
                             .arg = &n};
    n.queue = hb_client_new(n.loop, n.ctx, &cc);
    if (!sub || !n.queue || nt_query_start(&n) != 0)
        return 1;
    char prefix[HB_TOPIC_MAX];
    hb_topic_prefix(n.config->hall.id, prefix);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
    n.sub = hb_zsock_new(n.loop, sub, on_sub_msg, on_sub_batch, &n);
    n.http = nt_http_new(n.loop);
    nt_sender_init(&n);
    uv_timer_init(n.loop, &n.scan);
    uv_timer_init(n.loop, &n.stats);
    uv_timer_init(n.loop, &n.commit);
    n.scan.data = n.stats.data = n.commit.data = &n;
    uv_timer_start(&n.scan, on_scan, n.conf->scan_ms, n.conf->scan_ms);
    uv_timer_start(&n.stats, on_stats, 60000, 60000);
    hb_signals_start(&n.signals, n.loop, on_stop, &n);

    request_snapshot(&n);
    hb_info("hall %s: outbox %s (cursor at event %llu); events from %s, contacts from %s; "
            "queries on %s; channels: webhook %s, sms %s, command %s",
            n.config->hall.id, db_path,
            (unsigned long long)nt_outbox_cursor(n.outbox, n.config->hall.id),
            n.config->endpoints.bus_sub, n.config->endpoints.command, n.conf->query,
            n.conf->webhook.enabled ? "on" : "off", n.conf->sms.enabled ? "on" : "off",
            n.conf->command.enabled ? "on" : "off");

    uv_run(n.loop, UV_RUN_DEFAULT);

    log_stats(&n);
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
