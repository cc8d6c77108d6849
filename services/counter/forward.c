/* Forwarding to hall-queue through the shared async client (hb_client,
 * hallbus/client.h): it keeps the requests in flight, gives each an id of
 * its own (terminals' ids may clash: every REQ terminal may send 0), times
 * them out and decodes replies with a size bound. What is the counter's own
 * is here: where a reply goes (the terminal's route, with the terminal's
 * request_id again), the overtime notice it carries, and what a terminal is
 * told when hall-queue does not answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "counter.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"

/* One terminal's command in flight: where its answer goes. */
typedef struct {
    counter_t *c;
    hb_route_t route;
    uint64_t client_id; /* the terminal's request_id, restored in its reply */
    uint32_t window;    /* 0: not a window command */
} forwarded_t;

int forward_open(counter_t *c)
{
    hb_client_config_t cc = {.endpoint = c->config->endpoints.command,
                             .security = c->security,
                             .server = "hall-queue",
                             .reply_desc = &hallbus__reply__descriptor,
                             .hwm = 100000,
                             /* a command is refused at once while hall-queue is not
                              * connected, rather than run late when it comes back */
                             .immediate = true};
    c->queue = hb_client_new(c->loop, c->ctx, &cc);
    return c->queue ? 0 : -1;
}

int forward_send(counter_t *c, Hallbus__Request *req, hb_client_cb cb, void *arg, char *why,
                 size_t whylen)
{
    if (!c->queue || c->stopping) {
        snprintf(why, whylen, "hall-counter %s is stopping", c->self.id);
        return -1;
    }
    /* borrowed for the sending only: REQ may be a decoded message that
     * frees its own strings */
    char *actor = req->actor;
    if (!actor || !*actor)
        req->actor = c->actor;
    uint64_t id =
        hb_client_send(c->queue, &req->base, c->config->counter.request_timeout_ms, cb, arg);
    int e = errno;
    req->actor = actor;
    if (id != 0)
        return 0;
    if (e == ENOBUFS)
        snprintf(why, whylen, "hall-counter %s has too many commands waiting for hall-queue",
                 c->self.id);
    else /* EAGAIN: no connection to hall-queue right now (immediate) */
        snprintf(why, whylen, "hall-queue is not reachable at %s (%s)",
                 c->config->endpoints.command, e == EAGAIN ? "no connection" : zmq_strerror(e));
    return -1;
}

/* A terminal's reply: its own request id back, what it tells about the
 * window learnt, and a pending overtime notice in window_notice. */
static void relay(counter_t *c, const forwarded_t *f, Hallbus__Reply *reply)
{
    char *notice = reply->window_notice; /* the client frees the reply: put it back after */
    char text[COUNTER_NOTICE_MAX];
    reply->request_id = f->client_id;
    if (reply->code == HALLBUS__STATUS_CODE__OK) {
        if (reply->result_case == HALLBUS__REPLY__RESULT_WINDOW)
            watch_learn_window(c, reply->window);
        counter_window_t *w = f->window ? counter_window(c, f->window) : NULL;
        if (w && w->notice[0]) {
            snprintf(text, sizeof text, "%s", w->notice);
            reply->window_notice = text;
            w->notice[0] = '\0';
        }
    }
    terminals_send(c, &f->route, reply);
    c->stats.answered++;
    reply->window_notice = notice;
}

static void on_command_reply(hb_client_t *client, hb_client_outcome_t outcome,
                             ProtobufCMessage *msg, void *arg)
{
    forwarded_t *f = arg;
    counter_t *c = f->c;
    char text[256];
    switch (outcome) {
    case HB_CLIENT_REPLY:
        relay(c, f, (Hallbus__Reply *)msg);
        break;
    case HB_CLIENT_TIMEOUT:
        c->stats.timeouts++;
        snprintf(text, sizeof text,
                 "hall-queue did not answer within %u ms; the command may or may not have "
                 "been applied: look at the window before trying again",
                 c->config->counter.request_timeout_ms);
        terminals_refuse(c, &f->route, f->client_id, HALLBUS__STATUS_CODE__INTERNAL, text);
        if (c->stats.timeouts == 1 || c->stats.timeouts % 1000 == 0)
            hb_warn("%lu command(s) not answered by hall-queue at %s in time", c->stats.timeouts,
                    c->config->endpoints.command);
        break;
    case HB_CLIENT_MALFORMED:
        terminals_refuse(c, &f->route, f->client_id, HALLBUS__STATUS_CODE__INTERNAL,
                         "hall-queue's answer could not be read; the command may or may not "
                         "have been applied: look at the window before trying again");
        break;
    case HB_CLIENT_CANCELLED:
        terminals_refuse(c, &f->route, f->client_id, HALLBUS__STATUS_CODE__INTERNAL,
                         "hall-counter is stopping; the command may or may not have been "
                         "applied");
        break;
    }
    free(f);
}

int forward_command(counter_t *c, const hb_route_t *route, Hallbus__Request *req, uint32_t window,
                    char *why, size_t whylen)
{
    forwarded_t *f = malloc(sizeof *f);
    if (!f) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    *f = (forwarded_t){.c = c, .route = *route, .client_id = req->request_id, .window = window};
    if (forward_send(c, req, on_command_reply, f, why, whylen) != 0) {
        free(f);
        return -1;
    }
    return 0;
}
