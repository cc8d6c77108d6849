/* hall-queue: the single writer of one hall's state.
 *
 * Commands arrive on a ROUTER socket. Each loop turn reads up to a batch of
 * them, applies them to the hall inside one SQLite transaction, commits it
 * (one fsync for the whole batch: group commit), and only then sends the
 * replies and publishes the events, in sequence order, to hall-bus. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <zmq.h>

#include "commands.h"
#include "hall.h"
#include "hall_view.h"
#include "hallbus/alloc.h"
#include "hallbus/clock.h"
#include "hallbus/config.h"
#include "hallbus/daemon.h"
#include "hallbus/db.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"
#include "hallbus/server.h"
#include "hallbus/security.h"
#include "hallbus/signals.h"
#include "hallbus/zsock_uv.h"

#define BATCH_MAX 1024

typedef struct {
    hb_route_t route;
    uint8_t *reply;
    size_t len;
    bool wrote;            /* the command asked the store to write */
    uint64_t commits_seen; /* the hall's commits once it was handled */
} pending_reply_t;

typedef struct {
    uv_loop_t *loop;
    hb_config_t *config;
    hall_t *hall;
    void *ctx;
    hb_security_t *security; /* CURVE: own key, allow-list, ZAP */
    hb_server_t *server;     /* commands: REQ framing on a ROUTER */
    void *pub;
    uv_timer_t heartbeat;
    uv_timer_t rollover;
    uv_timer_t stats;
    hb_checkpointer_t checkpointer;
    hb_signals_t signals;
    pending_reply_t pending[BATCH_MAX];
    int npending;
    queue_counters_t counters;
    unsigned long published;
    unsigned long unstored; /* commands refused because the store failed */
} queue_t;

static void publish_outbox(queue_t *q)
{
    outbox_item_t *items = hall_outbox_take(q->hall);
    for (outbox_item_t *it = items; it; it = it->next) {
        const void *bufs[2] = {it->topic, it->data};
        size_t lens[2] = {strlen(it->topic), it->len};
        if (hb_zsock_sendv(q->pub, bufs, lens, 2) != 0)
            hb_warn("event %llu not published: %s (subscribers will see the gap and resync)",
                    (unsigned long long)it->seq, zmq_strerror(errno));
        else
            q->published++;
    }
    hall_outbox_free(items);
}

/* Replies wait for the batch's commit: nothing is acknowledged before it
 * is durable. WROTE: the command asked the store to write. */
static void queue_reply(queue_t *q, const hb_route_t *route, uint8_t *reply, size_t len, bool wrote)
{
    pending_reply_t *p = &q->pending[q->npending++];
    p->route = *route;
    p->reply = reply;
    p->len = len;
    p->wrote = wrote;
    p->commits_seen = q->hall->commits;
}

/* Replaces a pending reply with a refusal that answers the same request. */
static void refuse_pending(queue_t *q, pending_reply_t *p, const char *msg)
{
    Hallbus__Reply *was = hallbus__reply__unpack(NULL, p->len, p->reply);
    Hallbus__Reply reply = HALLBUS__REPLY__INIT;
    reply.request_id = was ? was->request_id : 0;
    reply.code = HALLBUS__STATUS_CODE__INTERNAL;
    reply.message = (char *)msg;
    reply.seq = q->hall->seq;
    hallbus__reply__free_unpacked(was, NULL);
    free(p->reply);
    p->len = hallbus__reply__get_packed_size(&reply);
    p->reply = malloc(p->len ? p->len : 1);
    hallbus__reply__pack(&reply, p->reply);
}

/* The batch's transaction could not be committed (a full disk, most often):
 * what it changed is not stored, so it is not acknowledged and its events
 * are not published; answers given after the first lost change may describe
 * it, so they are withdrawn too. The hall goes back to what the store holds,
 * and the next batch tries the disk again. */
static void refuse_unstored(queue_t *q)
{
    hall_t *h = q->hall;
    char lost[HALL_MSG_MAX + 96], withdrawn[HALL_MSG_MAX + 96];
    const char *what = h->store_full ? "is full" : "failed";
    snprintf(lost, sizeof lost, "the hall's store %s: %s; this was not done, try again later", what,
             h->store_error);
    snprintf(withdrawn, sizeof withdrawn,
             "the hall's store %s: %s; this answer was withdrawn, ask again", what, h->store_error);
    bool after_lost = false;
    for (int i = 0; i < q->npending; i++) {
        pending_reply_t *p = &q->pending[i];
        /* durable if a commit succeeded after it, mid-batch */
        bool is_lost = p->wrote && p->commits_seen == h->commits;
        if (is_lost)
            q->unstored++;
        if (is_lost || after_lost)
            refuse_pending(q, p, is_lost ? lost : withdrawn);
        after_lost |= is_lost;
    }
    if (hall_reload(h) != 0) {
        hb_error("cannot reload the hall from its store after a failed commit; stopping");
        exit(1);
    }
}

static int decode_request(const void *data, size_t len, ProtobufCMessage **out, const char **why)
{
    return hb_request_decode(data, len, (Hallbus__Request **)out, why);
}

static void on_command(hb_server_t *s, const hb_route_t *route, ProtobufCMessage *req, void *arg)
{
    queue_t *q = arg;
    uint8_t *reply;
    size_t len;
    uint64_t writes = q->hall->writes;
    queue_handle_request(q->hall, (Hallbus__Request *)req, NULL, route->role, hb_now_us(),
                         &q->counters, &reply, &len);
    queue_reply(q, route, reply, len, q->hall->writes != writes);
}

/* A request whose strings a standard reader would refuse: answered
 * INVALID_ARGUMENT with its own request_id, and nothing done. */
static void on_invalid(hb_server_t *s, const hb_route_t *route, ProtobufCMessage *req,
                       const char *why, void *arg)
{
    queue_t *q = arg;
    uint8_t *reply;
    size_t len;
    queue_handle_request(q->hall, (Hallbus__Request *)req, why, route->role, hb_now_us(),
                         &q->counters, &reply, &len);
    queue_reply(q, route, reply, len, false);
}

/* What could not be read: answered with request_id 0 (its id is unknown). */
static void on_refused(hb_server_t *s, const hb_route_t *route, hb_server_refusal_t kind,
                       const char *why, size_t len, void *arg)
{
    queue_t *q = arg;
    uint8_t *reply;
    size_t rlen;
    if (kind == HB_SERVER_BAD_FRAMING) {
        unsigned long bad = hb_server_counters(s)->bad_framing;
        if (bad == 1 || bad % 10000 == 0)
            hb_warn("refused %lu badly framed command(s): %s", bad, why);
        queue_error_reply(q->hall, HALLBUS__STATUS_CODE__MALFORMED, why, &reply, &rlen);
    } else {
        queue_refuse_undecodable(
            q->hall, kind == HB_SERVER_TOO_LARGE ? HB_DECODE_TOO_LARGE : HB_DECODE_MALFORMED, why,
            len, &q->counters, &reply, &rlen);
    }
    queue_reply(q, route, reply, rlen, false);
}

/* The batch is applied: make it durable, then tell the bus (boards and
 * announcements wait on it), then the senders. */
static void on_batch_end(hb_server_t *s, void *arg)
{
    queue_t *q = arg;
    if (hall_commit(q->hall) != 0)
        refuse_unstored(q);
    publish_outbox(q);
    for (int i = 0; i < q->npending; i++) {
        pending_reply_t *p = &q->pending[i];
        if (hb_server_reply_packed(q->server, &p->route, p->reply, p->len) != 0)
            hb_debug("reply not delivered: %s", zmq_strerror(errno));
        free(p->reply);
    }
    q->npending = 0;
}

static void on_heartbeat(uv_timer_t *t)
{
    queue_t *q = t->data;
    hall_t *h = q->hall;
    hall_view_t view;
    hall_view_heartbeat(h, hb_now_us(), &view);
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.hall_id = (char *)q->config->hall.id;
    env.seq = h->seq; /* a heartbeat repeats the last number: it consumes none */
    env.source = "hall-queue";
    env.ts = hb_now_us();
    env.event_case = HALLBUS__ENVELOPE__EVENT_HEARTBEAT;
    env.heartbeat = &view.heartbeat;
    size_t len = hallbus__envelope__get_packed_size(&env);
    uint8_t *buf = hb_xmalloc(len, "a heartbeat");
    hallbus__envelope__pack(&env, buf);
    hall_view_free(&view);
    char topic[HB_TOPIC_MAX];
    hb_topic(q->config->hall.id, "heartbeat", topic);
    const void *bufs[2] = {topic, buf};
    size_t lens[2] = {strlen(topic), len};
    hb_zsock_sendv(q->pub, bufs, lens, 2);
    free(buf);
}

/* Once a second: a new business day, appointments nobody checked in for,
 * contacts kept past their retention. */
static void on_tick(uv_timer_t *t)
{
    queue_t *q = t->data;
    int64_t now = hb_now_us();
    bool changed = hall_rollover(q->hall, now);
    changed |= hall_lapse_appointments(q->hall, now) > 0;
    changed |= hall_lines_tick(q->hall, now) > 0;
    changed |= hall_purge_contacts(q->hall, now, HALL_CONTACT_PURGE_BATCH) > 0;
    if (!changed)
        return;
    if (hall_commit(q->hall) != 0 && hall_reload(q->hall) != 0) {
        hb_error("cannot reload the hall from its store after a failed commit; stopping");
        exit(1);
    }
    publish_outbox(q); /* nothing when the commit failed: the next tick tries again */
}

static void on_stats(uv_timer_t *t)
{
    queue_t *q = t->data;
    hb_info("handled %lu command(s), refused %lu, malformed %lu, unknown %lu, badly framed %lu, "
            "not stored %lu; published %lu event(s); seq %llu",
            q->counters.handled, q->counters.refused, q->counters.malformed, q->counters.unknown,
            hb_server_counters(q->server)->bad_framing, q->unstored, q->published,
            (unsigned long long)q->hall->seq);
}

static void on_stop(void *arg)
{
    queue_t *q = arg;
    on_stats(&q->stats); /* while the server's counters are there */
    hb_server_close(&q->server);
    uv_close((uv_handle_t *)&q->heartbeat, NULL);
    uv_close((uv_handle_t *)&q->rollover, NULL);
    uv_close((uv_handle_t *)&q->stats, NULL);
    hb_checkpointer_stop(&q->checkpointer);
    hb_signals_close(&q->signals);
}

static const char USAGE[] =
    "usage: hall-queue -c HALL.yaml [--db PATH] [--log-level debug|info|warn|error]\n"
    "  The single writer of one hall's state: commands on the configured command\n"
    "  endpoint, events to hall-bus.\n";

int main(int argc, char **argv)
{
    const char *db_path = NULL;
    hb_daemon_spec_t spec = {.name = "hall-queue", .usage = USAGE, .db = &db_path};
    static queue_t q; /* large (a batch of reply routes): off the stack */
    hb_daemon_start_t start = hb_daemon_start(&spec, argc, argv, &q.config);
    if (start != HB_DAEMON_RUN)
        return hb_daemon_exit_status(start);
    char err[HB_CONFIG_ERR_MAX];
    if (!db_path)
        db_path = q.config->queue.queue_db;
    if (hb_db_lock(db_path, err, sizeof err) < 0) {
        hb_error("refusing to start: %s", err);
        hb_config_destroy(&q.config);
        return 1;
    }
    hall_store_t *store = hall_store_open(db_path, err, sizeof err);
    if (!store) {
        hb_error("%s", err);
        hb_config_destroy(&q.config);
        return 1;
    }
    q.hall = hall_new(q.config, store, hb_now_us(), err, sizeof err);
    if (!q.hall) {
        hb_error("%s: %s", db_path, err);
        hb_config_destroy(&q.config);
        return 1;
    }

    q.ctx = zmq_ctx_new();
    char kerr[HB_KEYS_ERR_MAX];
    q.security = hb_security_start(q.ctx, &q.config->security, "hall-queue", true, kerr);
    if (!q.security) {
        hb_error("refusing to start: %s (make the hall's keys: hallctl keys init)", kerr);
        zmq_ctx_term(q.ctx);
        hall_destroy(&q.hall);
        hb_config_destroy(&q.config);
        return 2;
    }
    int hwm = (int)q.config->queue.pub_hwm;
    /* on a clean stop, give the last events a second to leave */
    q.loop = uv_default_loop();
    hb_server_config_t sc = {.endpoint = q.config->endpoints.command,
                             .security = q.security,
                             .zap_domain = "queue",
                             .request_desc = &hallbus__request__descriptor,
                             .request_max = HB_REQUEST_MAX,
                             .decode = decode_request,
                             .hwm = hwm,
                             .linger = 1000,
                             .batch_max = BATCH_MAX,
                             .on_request = on_command,
                             .on_refused = on_refused,
                             .on_invalid = on_invalid,
                             .on_batch = on_batch_end,
                             .arg = &q};
    q.server = hb_server_new(q.loop, q.ctx, &sc);
    hb_socket_opts_t po = {
        .hwm = hwm, .linger = 1000, .security = q.security, .server = "hall-bus"};
    q.pub = hb_socket_open_opts(q.ctx, ZMQ_PUB, q.config->endpoints.bus_pub, 0, &po);
    if (!q.server || !q.pub)
        return 1;
    uv_timer_init(q.loop, &q.heartbeat);
    uv_timer_init(q.loop, &q.rollover);
    uv_timer_init(q.loop, &q.stats);
    q.heartbeat.data = q.rollover.data = q.stats.data = &q;
    uv_timer_start(&q.heartbeat, on_heartbeat, 0, q.config->queue.heartbeat_ms);
    uv_timer_start(&q.rollover, on_tick, 1000, 1000);
    uv_timer_start(&q.stats, on_stats, 60000, 60000);
    hb_checkpointer_start(&q.checkpointer, q.loop, db_path, 1000);
    hb_signals_start(&q.signals, q.loop, on_stop, &q);
    hb_signals_on_reload(&q.signals, hb_security_on_sighup, q.security);

    publish_outbox(&q); /* a rollover done while loading */
    hb_info("hall %s (%s) ready: business day %s, seq %llu, %u waiting; commands on %s, events to "
            "%s",
            q.config->hall.id, q.config->hall.name, q.hall->business_date,
            (unsigned long long)q.hall->seq, hall_waiting_total(q.hall),
            q.config->endpoints.command, q.config->endpoints.bus_pub);

    uv_run(q.loop, UV_RUN_DEFAULT);

    zmq_close(q.pub);
    hb_security_stop(&q.security);
    zmq_ctx_term(q.ctx);
    int rc = uv_loop_close(q.loop);
    if (rc != 0)
        hb_warn("loop closed with handles still open: %s", uv_strerror(rc));
    hall_destroy(&q.hall);
    hb_config_destroy(&q.config);
    hb_info("stopped");
    return 0;
}
