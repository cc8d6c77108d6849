/* hall-audit: the append-only, hash-chained record of every event of one
 * hall or many.
 *
 * Events come in on a SUB socket (one connection per bus, one prefix per
 * hall), go through each hall's follower (audit_halls.c: the common
 * follower in journal mode, seq order, no gaps, backfill from hall-queue's
 * journal through the common async client), into the store (audit_store.c;
 * the chain, index, reading and verify are audit_chain.c, audit_index.c,
 * audit_read.c, audit_verify.c)
 * inside one transaction per loop turn (group commit); once committed, each
 * record is published on audit.publish for live tails. Queries (history,
 * verify, report, export) are answered on the common REQ-framed server
 * (query.c). */
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
#define STORE_RETRY_MS 1000

/* ── storing and publishing ── */

static void on_store_retry(uv_timer_t *t);

/* The store refused a write, and abandoned its open transaction: each hall
 * follows on from what the store holds, and ingest pauses (the events of the
 * bus are not taken meanwhile) so that nothing is taken as lost for want of
 * space. The retry fetches what is missing from hall-queue's journal. */
static void store_failed(audit_t *a)
{
    audit_halls_pause(a);
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
    audit_halls_start(a);
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

int audit_stored(audit_t *a, int rc)
{
    if (rc != 0)
        store_failed(a);
    return rc;
}

/* ── the bus ── */

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
        audit_stored(a, audit_store_append_rejected(a->store, h ? h->id : NULL, data, len, why,
                                                    hb_now_us()));
}

static void on_event(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    audit_t *a = arg;
    const char *topic = zmq_msg_data(&frames[0]);
    size_t tlen = zmq_msg_size(&frames[0]);
    audit_hall_t *h = audit_hall_of_topic(a, topic, tlen);
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
    hb_follower_event(&h->follow, env, data, len, hb_now_us(), hb_mono_us());
}

static void on_event_batch(hb_zsock_t *zs, void *arg)
{
    audit_flush(arg);
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
        dup += hb_follower_counters(&a->halls[i].follow)->stale;
        fetched += hb_follower_counters(&a->halls[i].follow)->fetched;
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
    hb_server_close(&a->server);
    audit_halls_close(a);
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
        hb_socket_opts_t so = {.hwm = SUB_HWM, .security = a->security, .server = "hall-bus"};
        *sub = hb_socket_open_opts(a->ctx, ZMQ_SUB, bus, 0, &so);
        return *sub ? 0 : -1;
    }
    if (zmq_connect(*sub, bus) != 0) {
        hb_error("cannot connect to %s: %s", bus, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* The bus: one SUB, connected to each hall's bus once, subscribed to each
 * hall's prefix. */
static int open_bus(audit_t *a)
{
    const hb_config_t *c = a->config;
    const hb_audit_conf_t *ac = &c->audit;
    void *sub = NULL;
    const char *buses[256];
    size_t nbuses = 0;
    for (size_t i = 0; i < a->nhalls; i++) {
        audit_hall_t *h = &a->halls[i];
        const hb_audit_hall_conf_t *hc = ac->halls_count ? &ac->halls[i] : NULL;
        const char *bus = hc && hc->bus_sub ? hc->bus_sub : c->endpoints.bus_sub;
        bool known = false;
        for (size_t b = 0; b < nbuses; b++)
            known |= strcmp(buses[b], bus) == 0;
        if (!known && nbuses < 256) {
            buses[nbuses++] = bus;
            if (connect_bus(a, &sub, bus) != 0) {
                if (sub)
                    zmq_close(sub);
                return -1;
            }
        }
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, h->prefix, strlen(h->prefix));
    }
    a->sub = hb_zsock_new(a->loop, sub, on_event, on_event_batch, a);
    if (!a->sub) {
        zmq_close(sub);
        return -1;
    }
    hb_zsock_set_batch_max(a->sub, EVENT_BATCH_MAX);
    return 0;
}

static const char USAGE[] =
    "usage: hall-audit -c HALL.yaml [--db PATH] [--log-level debug|info|warn|error]\n"
    "  Records every event of the halls in the audit: section (or of this file's hall)\n"
    "  in an append-only, hash-chained store; answers queries on audit.query.\n";

int main(int argc, char **argv)
{
    const char *db_path = NULL;
    hb_daemon_spec_t spec = {.name = "hall-audit", .usage = USAGE, .db = &db_path};
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
    int rc = 1;
    char kerr[HB_KEYS_ERR_MAX];
    a.security = hb_security_start(a.ctx, &a.config->security, "hall-audit", true, kerr);
    if (!a.security) {
        hb_error("refusing to start: %s (make the hall's keys: hallctl keys init)", kerr);
        rc = 2;
        goto out;
    }
    /* its records name staff: subscribers need a key too (ZAP domain audit) */
    hb_socket_opts_t po = {.hwm = SUB_HWM, .security = a.security, .zap_domain = "audit"};
    a.pub = hb_socket_open_opts(a.ctx, ZMQ_PUB, a.config->audit.publish, 1, &po);
    if (!a.pub || audit_query_open(&a) != 0 || audit_halls_open(&a) != 0 || open_bus(&a) != 0) {
        hb_zsock_close(&a.sub);
        hb_server_close(&a.server);
        audit_halls_close(&a);
        uv_run(a.loop, UV_RUN_DEFAULT); /* the handles close */
        goto out;
    }

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
    hb_signals_on_reload(&a.signals, hb_security_on_sighup, a.security);

    for (size_t i = 0; i < a.nhalls; i++)
        hb_info("hall %s: %" PRIu64 " event(s) stored; catching up from #%" PRIu64 " via %s",
                a.halls[i].id, hb_follower_last(&a.halls[i].follow),
                hb_follower_last(&a.halls[i].follow) + 1, a.halls[i].command);
    audit_halls_start(&a);
    hb_info("ready: %zu hall(s), store %s (last record #%" PRIu64 "), queries on %s, records on %s",
            a.nhalls, db_path, audit_store_last_id(a.store), a.config->audit.query,
            a.config->audit.publish);

    uv_run(a.loop, UV_RUN_DEFAULT);
    audit_flush(&a);
    on_stats(&a.stats);
    rc = 0;
out:
    audit_halls_free(&a);
    if (a.pub)
        zmq_close(a.pub);
    hb_security_stop(&a.security);
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
