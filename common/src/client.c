#include "hallbus/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <zmq.h>

#include "hallbus/clock.h"
#include "hallbus/log.h"
#include "hallbus/socket.h"
#include "hallbus/zsock_uv.h"
#include "request_id.h"

typedef struct {
    uint64_t id;
    int64_t deadline_us; /* monotonic */
    hb_client_cb cb;
    void *arg;
    UT_hash_handle hh;
} pending_t;

struct hb_client_s {
    uv_loop_t *loop;
    void *ctx;
    char *endpoint;
    char *server; /* the server's key name, or NULL */
    hb_client_config_t config;
    const ProtobufCFieldDescriptor *reply_id;
    hb_zsock_t *zs;
    uv_timer_t timer; /* at the earliest deadline */
    pending_t *pending;
    uint64_t next_id;
    hb_client_counters_t counters;
    bool closing;
};

static void on_msg(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg);
static void on_turn(hb_zsock_t *zs, void *arg);

static int open_socket(hb_client_t *c)
{
    hb_socket_opts_t opts = {.hwm = c->config.hwm,
                             .linger = 0,
                             .max_message = (int64_t)c->config.reply_max + 4096,
                             .queue_while_disconnected = !c->config.immediate,
                             .security = c->config.security,
                             .server = c->server};
    void *s = hb_socket_open_opts(c->ctx, ZMQ_DEALER, c->endpoint, 0, &opts);
    if (!s)
        return -1;
    c->zs = hb_zsock_new(c->loop, s, on_msg, on_turn, c);
    if (!c->zs) {
        zmq_close(s);
        return -1;
    }
    return 0;
}

hb_client_t *hb_client_new(uv_loop_t *loop, void *ctx, const hb_client_config_t *config)
{
    const ProtobufCFieldDescriptor *reply_id = hb_request_id_field(config->reply_desc);
    if (!reply_id) {
        hb_error("client of %s: the reply type has no uint64 request_id", config->endpoint);
        return NULL;
    }
    hb_client_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->loop = loop;
    c->ctx = ctx;
    c->config = *config;
    if (!c->config.reply_max)
        c->config.reply_max = HB_CLIENT_REPLY_MAX;
    if (!c->config.pending_max)
        c->config.pending_max = HB_CLIENT_PENDING_MAX;
    if (!c->config.hwm)
        c->config.hwm = 1000;
    c->reply_id = reply_id;
    c->next_id = hb_request_id_first(c);
    c->endpoint = strdup(config->endpoint);
    c->server = config->server ? strdup(config->server) : NULL;
    if (!c->endpoint || (config->server && !c->server) || open_socket(c) != 0) {
        free(c->endpoint);
        free(c->server);
        free(c);
        return NULL;
    }
    c->config.endpoint = c->endpoint;
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    return c;
}

static void on_deadline(uv_timer_t *t);

/* The timer at the earliest deadline still pending. */
static void arm(hb_client_t *c)
{
    if (c->closing)
        return;
    int64_t first = INT64_MAX;
    for (pending_t *p = c->pending; p; p = p->hh.next)
        if (p->deadline_us < first)
            first = p->deadline_us;
    if (first == INT64_MAX) {
        uv_timer_stop(&c->timer);
        return;
    }
    int64_t wait_us = first - hb_mono_us();
    uv_timer_start(&c->timer, on_deadline, wait_us > 0 ? (uint64_t)(wait_us + 999) / 1000 : 0, 0);
}

/* Takes P out of the table and runs its callback once. */
static void finish(hb_client_t *c, pending_t *p, hb_client_outcome_t outcome,
                   ProtobufCMessage *reply)
{
    HASH_DEL(c->pending, p);
    hb_client_cb cb = p->cb;
    void *arg = p->arg;
    free(p);
    cb(c, outcome, reply, arg);
}

static void on_deadline(uv_timer_t *t)
{
    hb_client_t *c = t->data;
    int64_t now = hb_mono_us();
    bool expired = false;
    /* one at a time from the start: a callback may change the table */
    for (;;) {
        pending_t *due = NULL;
        for (pending_t *p = c->pending; p && !due; p = p->hh.next)
            if (p->deadline_us <= now)
                due = p;
        if (!due || c->closing)
            break;
        c->counters.timeouts++;
        expired = true;
        finish(c, due, HB_CLIENT_TIMEOUT, NULL);
    }
    if (c->closing)
        return;
    if (expired && c->config.fresh_socket_after_timeout)
        hb_client_reset(c);
    arm(c);
}

static void on_msg(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    hb_client_t *c = arg;
    if (c->closing)
        return;
    /* [empty][reply] */
    if (n != 2 || overflow || zmq_msg_size(&frames[0]) != 0) {
        c->counters.late++;
        return;
    }
    const uint8_t *data = zmq_msg_data(&frames[1]);
    size_t len = zmq_msg_size(&frames[1]);
    ProtobufCMessage *reply = NULL;
    uint64_t id = 0;
    if (len <= c->config.reply_max)
        reply = protobuf_c_message_unpack(c->config.reply_desc, NULL, len, data);
    if (reply)
        id = hb_request_id_get(reply, c->reply_id);
    else if (!hb_request_id_scan(data, len, c->reply_id->id, &id))
        id = 0;
    pending_t *p = NULL;
    if (id)
        HASH_FIND(hh, c->pending, &id, sizeof id, p);
    if (!p) {
        c->counters.late++;
        if (reply)
            protobuf_c_message_free_unpacked(reply, NULL);
        return;
    }
    if (reply) {
        c->counters.replied++;
        finish(c, p, HB_CLIENT_REPLY, reply);
        protobuf_c_message_free_unpacked(reply, NULL);
    } else {
        c->counters.malformed++;
        if (c->counters.malformed == 1 || c->counters.malformed % 1000 == 0)
            hb_warn("%lu malformed or oversized repl(ies) from %s; latest %zu bytes",
                    c->counters.malformed, c->endpoint, len);
        finish(c, p, HB_CLIENT_MALFORMED, NULL);
    }
    arm(c);
}

static void on_turn(hb_zsock_t *zs, void *arg)
{
    hb_client_t *c = arg;
    if (!c->closing && c->config.on_batch)
        c->config.on_batch(c, c->config.arg);
}

uint64_t hb_client_send(hb_client_t *c, ProtobufCMessage *request, uint32_t timeout_ms,
                        hb_client_cb cb, void *arg)
{
    const ProtobufCFieldDescriptor *field = hb_request_id_field(request->descriptor);
    if (!field || c->closing) {
        errno = EINVAL;
        return 0;
    }
    if (!c->zs) {
        c->counters.unsent++;
        errno = EAGAIN;
        return 0;
    }
    if (HASH_COUNT(c->pending) >= c->config.pending_max) {
        c->counters.unsent++;
        errno = ENOBUFS;
        return 0;
    }
    pending_t *p = calloc(1, sizeof *p);
    if (!p) {
        errno = ENOMEM;
        return 0;
    }
    if (++c->next_id == 0) /* 0 is "could not read the request" */
        ++c->next_id;
    uint64_t old = hb_request_id_get(request, field);
    hb_request_id_set(request, field, c->next_id);
    size_t len = protobuf_c_message_get_packed_size(request);
    uint8_t stackbuf[4096];
    uint8_t *buf = len <= sizeof stackbuf ? stackbuf : malloc(len);
    int rc = -1, e = ENOMEM;
    if (buf) {
        protobuf_c_message_pack(request, buf);
        const void *bufs[2] = {"", buf};
        size_t lens[2] = {0, len};
        rc = hb_zsock_sendv(hb_zsock_socket(c->zs), bufs, lens, 2);
        e = errno;
        if (buf != stackbuf)
            free(buf);
    }
    hb_request_id_set(request, field, old);
    if (rc != 0) {
        free(p);
        c->counters.unsent++;
        errno = e;
        return 0;
    }
    p->id = c->next_id;
    p->deadline_us = hb_mono_us() + (int64_t)timeout_ms * 1000;
    p->cb = cb;
    p->arg = arg;
    HASH_ADD(hh, c->pending, id, sizeof p->id, p);
    c->counters.sent++;
    /* the new deadline is the earliest unless the timer is due sooner */
    uint64_t due = uv_timer_get_due_in(&c->timer);
    if (!uv_is_active((uv_handle_t *)&c->timer) || due > timeout_ms)
        uv_timer_start(&c->timer, on_deadline, timeout_ms, 0);
    return p->id;
}

int hb_client_reset(hb_client_t *c)
{
    if (c->closing)
        return -1;
    hb_zsock_close(&c->zs);
    c->counters.resets++;
    return open_socket(c);
}

size_t hb_client_pending(const hb_client_t *c)
{
    return HASH_COUNT(c->pending);
}

const hb_client_counters_t *hb_client_counters(const hb_client_t *c)
{
    return &c->counters;
}

static void on_timer_closed(uv_handle_t *h)
{
    hb_client_t *c = h->data;
    free(c->endpoint);
    free(c->server);
    free(c);
}

void hb_client_close(hb_client_t **pc)
{
    if (!pc || !*pc)
        return;
    hb_client_t *c = *pc;
    *pc = NULL;
    if (c->closing)
        return;
    /* closing first, so that a callback's send fails rather than loops */
    c->closing = true;
    while (c->pending)
        finish(c, c->pending, HB_CLIENT_CANCELLED, NULL);
    hb_zsock_close(&c->zs);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}
