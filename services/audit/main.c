/* hall-audit: the append-only, hash-chained record of every event of one
 * hall or many.
 *
 * Events come in on a SUB socket (one connection per bus, one prefix per
 * hall), go through each hall's follower (audit_follow.c: seq order, no
 * gaps, backfill from hall-queue's journal), into the store (audit_store.c;
 * the chain, index, reading and verify are audit_chain.c, audit_index.c,
 * audit_read.c, audit_verify.c)
 * inside one transaction per loop turn (group commit); once committed, each
 * record is published on audit.publish for live tails. Queries (history,
 * verify, report, export) are answered on a ROUTER (query.c). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <zmq.h>

#include "audit.h"
#include "hallbus/clock.h"
#include "hallbus/db.h"
#include "hallbus/envelope.h"
#include "hallbus/daemon.h"
#include "hallbus/log.h"
#include "hallbus/zsock_uv.h"

#define EVENT_BATCH_MAX 4096
#define SUB_HWM 1000000
#define FETCH_MAX 10000
#define STORE_RETRY_MS 1000

/* ── storing and publishing ── */

static void on_store_retry(uv_timer_t *t);

/* The store refused a write, and abandoned its open transaction: each hall
 * follows on from what the store holds, and ingest pauses (the events of the
 * bus are not taken meanwhile) so that nothing is taken as lost for want of
 * space. The retry fetches what is missing from hall-queue's journal. */
static void store_failed(audit_t *a)
{
    for (size_t i = 0; i < a->nhalls; i++) {
        audit_hall_t *h = &a->halls[i];
        h->follow.last = audit_store_last_seq(a->store, h->id);
        h->follow.fetching = h->follow.waiting = false;
        uv_timer_stop(&h->fetch_timer);
    }
    if (a->store_paused)
        return;
    a->store_paused = true;
    if (a->store_retries == 0 || a->store_retries % 60 == 0)
        hb_error("the audit %s: %s; ingest paused, retried every %u ms (what is missing is fetched "
                 "again from hall-queue's journal)",
                 audit_store_full(a->store) ? "store is full" : "store cannot be written",
                 audit_store_error(a->store), STORE_RETRY_MS);
    a->store_retries++;
    uv_timer_start(&a->store_retry, on_store_retry, STORE_RETRY_MS, 0);
}

/* Ingest goes on from what the store holds; a store still full pauses it
 * again at its first write. The gap timeout starts afresh: a full disk
 * loses no event. */
static void on_store_retry(uv_timer_t *t)
{
    audit_t *a = t->data;
    a->store_paused = false;
    int64_t now = hb_mono_us();
    for (size_t i = 0; i < a->nhalls; i++) {
        audit_hall_t *h = &a->halls[i];
        h->follow.missing_since = 0;
        h->follow.fetching = h->follow.waiting = false;
        h->warned = false;
        audit_follow_start(&h->follow, now);
    }
    audit_flush(a);
}

void audit_flush(audit_t *a)
{
    bool wrote = audit_store_last_id(a->store) > a->last_committed_id;
    if (audit_store_commit(a->store) != 0) {
        store_failed(a);
    } else if (wrote && a->store_retries) {
        hb_info("the audit store takes records again (last record #%" PRIu64 ")",
                audit_store_last_id(a->store));
        a->store_retries = 0;
    }
    a->last_committed_id = audit_store_last_id(a->store);
    audit_out_t *list = audit_store_take_outbox(a->store);
    for (audit_out_t *o = list; o; o = o->next) {
        const void *bufs[2] = {o->topic, o->data};
        size_t lens[2] = {strlen(o->topic), o->len};
        if (hb_zsock_sendv(a->pub, bufs, lens, 2) != 0)
            a->publish_dropped++;
    }
    audit_out_free(list);
}

/* Each write of the follower: refused while the store is paused, and a
 * refusal from the store pauses it. */
static int stored(audit_t *a, int rc)
{
    if (rc != 0)
        store_failed(a);
    return rc;
}

static int sink_event(void *arg, const Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                      int64_t received_at)
{
    audit_t *a = arg;
    if (a->store_paused)
        return -1;
    return stored(a, audit_store_append_event(a->store, env, bytes, len, received_at));
}

static int sink_gap(void *arg, const char *hall, uint64_t from, uint64_t to, const char *reason)
{
    audit_t *a = arg;
    if (a->store_paused)
        return -1;
    return stored(a, audit_store_append_gap(a->store, hall, from, to, reason, hb_now_us()));
}

static int sink_rejected(void *arg, const char *hall, const uint8_t *bytes, size_t len,
                         const char *reason)
{
    audit_t *a = arg;
    a->rejected++;
    if (a->store_paused) {
        a->rejected_unstored++;
        return -1;
    }
    return stored(a, audit_store_append_rejected(a->store, hall, bytes, len, reason, hb_now_us()));
}

static void sink_fetch(void *arg, audit_follow_t *f, uint64_t from)
{
    audit_t *a = arg;
    audit_hall_t *h = f->user;
    if (a->store_paused)
        return; /* the retry fetches */
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__FetchEvents fe = HALLBUS__FETCH_EVENTS__INIT;
    fe.from_seq = from;
    fe.max_events = FETCH_MAX;
    req.request_id = ++a->next_request_id;
    req.hall_id = (char *)h->id;
    req.actor = "hall-audit";
    req.command_case = HALLBUS__REQUEST__COMMAND_FETCH_EVENTS;
    req.fetch_events = &fe;
    uint8_t buf[128];
    size_t len = hallbus__request__pack(&req, buf);
    const void *bufs[2] = {"", buf};
    size_t lens[2] = {0, len};
    h->fetch_id = req.request_id;
    if (hb_zsock_sendv(hb_zsock_socket(h->dealer), bufs, lens, 2) != 0)
        hb_debug("hall %s: fetch not sent: %s", h->id, zmq_strerror(errno));
    hb_debug("hall %s: fetching from #%" PRIu64, h->id, from);
    uv_timer_start(&h->fetch_timer, audit_on_fetch_timeout, a->config->audit.fetch_timeout_ms, 0);
}

/* ── the bus ── */

static audit_hall_t *hall_of_topic(audit_t *a, const char *topic, size_t len)
{
    for (size_t i = 0; i < a->nhalls; i++) {
        audit_hall_t *h = &a->halls[i];
        size_t n = strlen(h->prefix);
        if (len > n && memcmp(topic, h->prefix, n) == 0)
            return h;
    }
    return NULL;
}

static void reject(audit_t *a, audit_hall_t *h, const void *data, size_t len, const char *why)
{
    a->rejected++;
    if (a->rejected == 1 || a->rejected % 10000 == 0)
        hb_warn("stored %lu rejected message(s) as such; latest: %s (%zu bytes)", a->rejected, why,
                len);
    if (len > HB_ENVELOPE_MAX)
        len = HB_ENVELOPE_MAX; /* what is kept of an oversized one */
    if (a->store_paused)
        a->rejected_unstored++; /* bus noise: there is no journal to fetch it from */
    else
        stored(a, audit_store_append_rejected(a->store, h ? h->id : NULL, data, len, why,
                                              hb_now_us()));
}

static void on_event(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    audit_t *a = arg;
    const char *topic = zmq_msg_data(&frames[0]);
    size_t tlen = zmq_msg_size(&frames[0]);
    audit_hall_t *h = hall_of_topic(a, topic, tlen);
    if (n != 2 || overflow) {
        reject(a, h, zmq_msg_data(&frames[n - 1]), zmq_msg_size(&frames[n - 1]),
               "expected two frames, a topic and an Envelope");
        return;
    }
    const uint8_t *data = zmq_msg_data(&frames[1]);
    size_t len = zmq_msg_size(&frames[1]);
    Hallbus__Envelope *env = NULL;
    const char *why = NULL;
    if (hb_envelope_decode(data, len, &env, &why) != HB_DECODE_OK) {
        reject(a, h, data, len, why);
        return;
    }
    if (!h || strcmp(env->hall_id, h->id) != 0) {
        hallbus__envelope__free_unpacked(env, NULL);
        reject(a, h, data, len, "the envelope's hall is not the topic's");
        return;
    }
    if (a->store_paused) { /* fetched from the journal once the store takes writes */
        hallbus__envelope__free_unpacked(env, NULL);
        return;
    }
    int64_t now = hb_mono_us();
    if (env->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT) {
        audit_follow_heartbeat(&h->follow, env->seq, now);
        hallbus__envelope__free_unpacked(env, NULL);
        return;
    }
    audit_follow_event(&h->follow, env, data, len, hb_now_us(), now);
}

static void on_event_batch(hb_zsock_t *zs, void *arg)
{
    audit_flush(arg);
}

/* ── hall-queue's answers to FetchEvents ── */

static void on_fetch_reply(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    audit_hall_t *h = arg;
    audit_t *a = h->audit;
    if (n != 2 || overflow)
        return;
    Hallbus__Reply *r =
        hallbus__reply__unpack(NULL, zmq_msg_size(&frames[1]), zmq_msg_data(&frames[1]));
    if (!r)
        return;
    if (r->request_id != h->fetch_id || !h->follow.fetching || a->store_paused) {
        hallbus__reply__free_unpacked(r, NULL); /* a late answer to an earlier try */
        return;
    }
    int64_t now = hb_mono_us();
    if (r->code == HALLBUS__STATUS_CODE__OK && r->result_case == HALLBUS__REPLY__RESULT_EVENTS) {
        uv_timer_stop(&h->fetch_timer);
        audit_follow_fetched(&h->follow, r->events->envelopes, r->events->n_envelopes,
                             r->events->last_seq, hb_now_us(), now);
        if (h->follow.waiting) /* the hall is not there yet: ask again later */
            uv_timer_start(&h->fetch_timer, audit_on_fetch_timeout,
                           a->config->audit.fetch_timeout_ms, 0);
    } else if (r->code == HALLBUS__STATUS_CODE__GONE) {
        uv_timer_stop(&h->fetch_timer);
        audit_follow_gone(&h->follow, r->oldest_seq, r->message, hb_now_us(), now);
    } else {
        /* the timer runs on: a refusal is retried like a silence */
        hb_warn("hall %s: FetchEvents refused: %s: %s", h->id, hb_status_name(r->code), r->message);
    }
    hallbus__reply__free_unpacked(r, NULL);
    audit_flush(a);
}

void audit_on_fetch_timeout(uv_timer_t *t)
{
    audit_hall_t *h = t->data;
    if (!h->follow.fetching || h->audit->store_paused)
        return;
    char why[160];
    snprintf(why, sizeof why, "no answer from %s within %u ms", h->command,
             h->audit->config->audit.fetch_timeout_ms);
    if (h->follow.missing_since && !h->warned) {
        hb_warn("hall %s: %s; retrying (missing events become a gap after %u ms)", h->id, why,
                h->audit->config->audit.gap_timeout_ms);
        h->warned = true;
    }
    audit_follow_failed(&h->follow, why, hb_now_us(), hb_mono_us());
    if (!h->follow.fetching)
        h->warned = false;
    audit_flush(h->audit);
}

/* ── timers ── */

static void on_heartbeat(uv_timer_t *t)
{
    audit_t *a = t->data;
    Hallbus__AuditRecord rec = HALLBUS__AUDIT_RECORD__INIT;
    rec.id = audit_store_last_id(a->store);
    rec.type = HALLBUS__AUDIT_RECORD_TYPE__AUDIT_HEARTBEAT;
    rec.received_at = hb_now_us();
    rec.kind = "heartbeat";
    uint8_t buf[64];
    size_t len = hallbus__audit_record__pack(&rec, buf);
    const void *bufs[2] = {"audit.heartbeat", buf};
    size_t lens[2] = {15, len};
    hb_zsock_sendv(a->pub, bufs, lens, 2);
}

static void on_retention(uv_timer_t *t)
{
    audit_t *a = t->data;
    uint32_t days = a->config->audit.retention_days;
    if (!days || a->store_paused)
        return;
    audit_flush(a);
    long n = audit_store_prune(a->store, hb_now_us() - (int64_t)days * 86400 * 1000000);
    if (n > 0)
        hb_info("retention: deleted %ld record(s) older than %u day(s)", n, days);
}

static void on_stats(uv_timer_t *t)
{
    audit_t *a = t->data;
    audit_counts_t c = audit_store_counts(a->store);
    unsigned long dup = 0, fetched = 0;
    for (size_t i = 0; i < a->nhalls; i++) {
        dup += a->halls[i].follow.duplicates;
        fetched += a->halls[i].follow.fetched;
    }
    hb_info("stored %" PRIu64 " event(s) (%lu backfilled), %" PRIu64 " gap(s), %" PRIu64
            " rejected (%lu not stored: the store was full); %lu duplicate(s) dropped; %lu "
            "quer(ies); last record #%" PRIu64,
            c.events, fetched, c.gaps, c.rejected, a->rejected_unstored, dup, a->queries,
            audit_store_last_id(a->store));
}

static void on_stop(void *arg)
{
    audit_t *a = arg;
    hb_zsock_close(&a->sub);
    hb_zsock_close(&a->router);
    for (size_t i = 0; i < a->nhalls; i++) {
        hb_zsock_close(&a->halls[i].dealer);
        uv_close((uv_handle_t *)&a->halls[i].fetch_timer, NULL);
    }
    uv_close((uv_handle_t *)&a->heartbeat, NULL);
    uv_close((uv_handle_t *)&a->retention, NULL);
    uv_close((uv_handle_t *)&a->stats, NULL);
    uv_close((uv_handle_t *)&a->store_retry, NULL);
    hb_checkpointer_stop(&a->checkpointer);
    hb_signals_close(&a->signals);
}

/* ── start ── */

/* One SUB for every bus: the first hall's bus opens it, the others are
 * connected to as well. */
static int connect_bus(audit_t *a, void **sub, const char *bus)
{
    if (!*sub) {
        *sub = hb_socket_open(a->ctx, ZMQ_SUB, bus, 0, SUB_HWM, 0);
        return *sub ? 0 : -1;
    }
    if (zmq_connect(*sub, bus) != 0) {
        hb_error("cannot connect to %s: %s", bus, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

static int setup_halls(audit_t *a)
{
    const hb_config_t *c = a->config;
    const hb_audit_conf_t *ac = &c->audit;
    size_t n = ac->halls_count ? ac->halls_count : 1;
    a->halls = calloc(n, sizeof *a->halls);
    if (!a->halls)
        return -1;
    a->nhalls = n;
    void *sub = NULL;
    const char *buses[256];
    size_t nbuses = 0;
    audit_sink_t sink = {sink_event, sink_gap, sink_rejected, sink_fetch, a};
    for (size_t i = 0; i < n; i++) {
        audit_hall_t *h = &a->halls[i];
        const hb_audit_hall_conf_t *hc = ac->halls_count ? &ac->halls[i] : NULL;
        h->audit = a;
        h->id = hc ? hc->id : c->hall.id;
        h->command = hc && hc->command ? hc->command : c->endpoints.command;
        const char *bus = hc && hc->bus_sub ? hc->bus_sub : c->endpoints.bus_sub;
        hb_topic_prefix(h->id, h->prefix);
        bool known = false;
        for (size_t b = 0; b < nbuses; b++)
            known |= strcmp(buses[b], bus) == 0;
        if (!known && nbuses < 256) {
            buses[nbuses++] = bus;
            if (connect_bus(a, &sub, bus) != 0) {
                zmq_close(sub);
                return -1;
            }
        }
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, h->prefix, strlen(h->prefix));
        void *dealer = hb_socket_open(a->ctx, ZMQ_DEALER, h->command, 0, 1000, 0);
        if (!dealer) {
            zmq_close(sub);
            return -1;
        }
        h->dealer = hb_zsock_new(a->loop, dealer, on_fetch_reply, NULL, h);
        uv_timer_init(a->loop, &h->fetch_timer);
        h->fetch_timer.data = h;
        audit_follow_init(&h->follow, h->id, audit_store_last_seq(a->store, h->id),
                          (uint64_t)ac->gap_timeout_ms * 1000, &sink);
        h->follow.user = h;
    }
    a->sub = hb_zsock_new(a->loop, sub, on_event, on_event_batch, a);
    hb_zsock_set_batch_max(a->sub, EVENT_BATCH_MAX);
    return 0;
}

static const char USAGE[] =
    "usage: hall-audit -c HALL.yaml [--db PATH] [--log-level debug|info|warn|error]\n"
    "  Records every event of the halls in the audit: section (or of this file's hall)\n"
    "  in an append-only, hash-chained store; answers queries on audit.query.\n";

static int on_option(int opt, const char *arg, void *ctx)
{
    *(const char **)ctx = arg; /* --db */
    return 0;
}

int main(int argc, char **argv)
{
    const char *db_path = NULL;
    static const struct option extra[] = {{"db", required_argument, NULL, 'd'}, {0}};
    hb_daemon_spec_t spec = {"hall-audit", USAGE, extra, "d:", on_option, &db_path, 0};
    audit_t a = {0};
    hb_daemon_start_t start = hb_daemon_start(&spec, argc, argv, &a.config);
    if (start != HB_DAEMON_RUN)
        return hb_daemon_exit_status(start);
    char err[HB_CONFIG_ERR_MAX];
    if (!db_path)
        db_path = a.config->audit.db;
    int lock = hb_db_lock(db_path, err, sizeof err);
    if (lock < 0) {
        hb_error("refusing to start: %s", err);
        hb_config_destroy(&a.config);
        return 1;
    }
    a.store = audit_store_open(db_path, a.config->hall.rollover_minute, false, err, sizeof err);
    if (!a.store) {
        hb_error("%s", err);
        hb_config_destroy(&a.config);
        return 1;
    }
    audit_store_set_outbox(a.store, true);

    a.loop = uv_default_loop();
    a.ctx = zmq_ctx_new();
    a.pub = hb_socket_open(a.ctx, ZMQ_PUB, a.config->audit.publish, 1, SUB_HWM, 0);
    void *router = hb_socket_open(a.ctx, ZMQ_ROUTER, a.config->audit.query, 1, 10000, 0);
    int rc = 1;
    if (!a.pub || !router || setup_halls(&a) != 0) {
        if (router)
            zmq_close(router);
        goto out;
    }
    a.router = hb_zsock_new(a.loop, router, audit_on_query, NULL, &a);

    uv_timer_init(a.loop, &a.heartbeat);
    uv_timer_init(a.loop, &a.retention);
    uv_timer_init(a.loop, &a.stats);
    uv_timer_init(a.loop, &a.store_retry);
    a.heartbeat.data = a.retention.data = a.stats.data = a.store_retry.data = &a;
    a.last_committed_id = audit_store_last_id(a.store);
    uv_timer_start(&a.heartbeat, on_heartbeat, 0, a.config->audit.heartbeat_ms);
    uv_timer_start(&a.retention, on_retention, 1000, 3600 * 1000);
    uv_timer_start(&a.stats, on_stats, 60000, 60000);
    hb_checkpointer_start(&a.checkpointer, a.loop, db_path, 1000);
    hb_signals_start(&a.signals, a.loop, on_stop, &a);

    int64_t now = hb_mono_us();
    for (size_t i = 0; i < a.nhalls; i++) {
        hb_info("hall %s: %" PRIu64 " event(s) stored; catching up from #%" PRIu64 " via %s",
                a.halls[i].id, a.halls[i].follow.last, a.halls[i].follow.last + 1,
                a.halls[i].command);
        audit_follow_start(&a.halls[i].follow, now);
    }
    hb_info("ready: %zu hall(s), store %s (last record #%" PRIu64 "), queries on %s, records on %s",
            a.nhalls, db_path, audit_store_last_id(a.store), a.config->audit.query,
            a.config->audit.publish);

    uv_run(a.loop, UV_RUN_DEFAULT);
    audit_flush(&a);
    on_stats(&a.stats);
    rc = 0;
out:
    for (size_t i = 0; i < a.nhalls; i++)
        audit_follow_clear(&a.halls[i].follow);
    free(a.halls);
    if (a.pub)
        zmq_close(a.pub);
    zmq_ctx_term(a.ctx);
    int lrc = uv_loop_close(a.loop);
    if (lrc != 0) {
        hb_warn("loop closed with handles still open: %s", uv_strerror(lrc));
        rc = 1;
    }
    audit_store_destroy(&a.store);
    hb_config_destroy(&a.config);
    hb_info("stopped");
    return rc;
}
