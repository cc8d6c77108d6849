/* Forwarding to hall-queue: one DEALER on the loop, many requests in
 * flight, replies matched by the counter's own request ids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"

int forward_request(counter_t *c, Hallbus__Request *req, const inflight_t *entry, char *why,
                    size_t whylen)
{
    if (!c->queue || c->stopping) {
        snprintf(why, whylen, "hall-counter %s is stopping", c->self.id);
        return -1;
    }
    uint64_t id =
        inflight_add(&c->inflight, entry, hb_mono_us(), c->config->counter.request_timeout_ms);
    if (id == 0) {
        snprintf(why, whylen, "hall-counter %s has too many commands waiting for hall-queue",
                 c->self.id);
        return -1;
    }
    /* borrowed for the packing only: REQ may be a decoded message that
     * frees its own strings */
    char *actor = req->actor;
    if (!actor || !*actor)
        req->actor = c->actor;
    req->request_id = id;
    size_t len = hallbus__request__get_packed_size(req);
    uint8_t stackbuf[4096];
    uint8_t *buf = len <= sizeof stackbuf ? stackbuf : malloc(len);
    int rc = -1;
    if (buf) {
        hallbus__request__pack(req, buf);
        const void *bufs[2] = {"", buf};
        size_t lens[2] = {0, len};
        rc = hb_zsock_sendv(hb_zsock_socket(c->queue), bufs, lens, 2);
        if (buf != stackbuf)
            free(buf);
    }
    req->actor = actor;
    if (rc != 0) {
        int e = errno;
        inflight_take(&c->inflight, id, NULL);
        /* ZMQ_IMMEDIATE: EAGAIN means no connection to hall-queue right now */
        snprintf(why, whylen, "hall-queue is not reachable at %s (%s)",
                 c->config->endpoints.command, e == EAGAIN ? "no connection" : zmq_strerror(e));
        return -1;
    }
    return 0;
}

/* A terminal's reply: its own request id back, what it tells about the
 * window learnt, and a pending overtime notice in window_notice. */
static void relay(counter_t *c, const inflight_t *entry, Hallbus__Reply *reply)
{
    uint64_t queue_id = reply->request_id;
    char *notice = reply->window_notice;
    char text[COUNTER_NOTICE_MAX];
    reply->request_id = entry->client_id;
    if (reply->code == HALLBUS__STATUS_CODE__OK) {
        if (reply->result_case == HALLBUS__REPLY__RESULT_WINDOW)
            watch_learn_window(c, reply->window);
        counter_window_t *w = entry->window ? counter_window(c, entry->window) : NULL;
        if (w && w->notice[0]) {
            snprintf(text, sizeof text, "%s", w->notice);
            reply->window_notice = text;
            w->notice[0] = '\0';
        }
    }
    terminals_send(c, entry->identity, entry->identity_len, reply);
    c->stats.answered++;
    reply->request_id = queue_id;
    reply->window_notice = notice;
}

void forward_on_msg(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    counter_t *c = arg;
    /* [empty][reply] */
    if (n != 2 || overflow || zmq_msg_size(&frames[0]) != 0) {
        hb_warn("hall-queue sent %d frame(s) where [empty][Reply] was expected; ignored", n);
        return;
    }
    Hallbus__Reply *reply =
        hallbus__reply__unpack(NULL, zmq_msg_size(&frames[1]), zmq_msg_data(&frames[1]));
    if (!reply) {
        hb_warn("hall-queue sent a reply that is not a protobuf Reply (%zu bytes); ignored",
                zmq_msg_size(&frames[1]));
        return;
    }
    inflight_t entry;
    if (!inflight_take(&c->inflight, reply->request_id, &entry)) {
        c->stats.late++;
        hb_debug("a reply from hall-queue came after its timeout (id %llu); dropped",
                 (unsigned long long)reply->request_id);
        hallbus__reply__free_unpacked(reply, NULL);
        return;
    }
    switch (entry.kind) {
    case INFLIGHT_TERMINAL:
        relay(c, &entry, reply);
        break;
    case INFLIGHT_OVERTIME:
        if (reply->code != HALLBUS__STATUS_CODE__OK)
            hb_warn("hall-queue refused the overtime report of window %u: %s (%s)", entry.window,
                    reply->message, hb_status_name(reply->code));
        break;
    case INFLIGHT_SNAPSHOT:
        watch_on_snapshot(c, reply);
        break;
    }
    hallbus__reply__free_unpacked(reply, NULL);
}

static void answer_terminal(counter_t *c, const inflight_t *entry, const char *msg)
{
    terminals_refuse(c, entry->identity, entry->identity_len, entry->client_id,
                     HALLBUS__STATUS_CODE__INTERNAL, msg);
}

void forward_expire(counter_t *c, int64_t now_mono_us)
{
    inflight_t entry;
    while (inflight_expire_one(&c->inflight, now_mono_us, &entry)) {
        c->stats.timeouts++;
        char msg[256];
        switch (entry.kind) {
        case INFLIGHT_TERMINAL:
            snprintf(msg, sizeof msg,
                     "hall-queue did not answer within %u ms; the command may or may not have "
                     "been applied: look at the window before trying again",
                     c->config->counter.request_timeout_ms);
            answer_terminal(c, &entry, msg);
            if (c->stats.timeouts == 1 || c->stats.timeouts % 1000 == 0)
                hb_warn("%lu command(s) not answered by hall-queue at %s in time",
                        c->stats.timeouts, c->config->endpoints.command);
            break;
        case INFLIGHT_OVERTIME:
            hb_warn("hall-queue did not answer the overtime report of window %u", entry.window);
            break;
        case INFLIGHT_SNAPSHOT:
            watch_snapshot_failed(c);
            break;
        }
    }
}

void forward_abandon(counter_t *c, const char *why)
{
    inflight_t entry;
    while (inflight_pop(&c->inflight, &entry))
        if (entry.kind == INFLIGHT_TERMINAL)
            answer_terminal(c, &entry, why);
}
