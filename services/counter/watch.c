/* The hall's events, for the counter's windows: who is signed on, and when
 * the service in progress started. Learnt the Clone way: subscribe first,
 * ask hall-queue for a snapshot, hold the events that arrive meanwhile,
 * apply the snapshot and then the held events newer than it; on a gap in
 * the sequence (an event or a heartbeat ahead of what was applied), do it
 * again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"

#define SNAPSHOT_RETRY_US 200000

static uint32_t target_of(counter_t *c, const char *service)
{
    const hb_service_conf_t *s = hb_config_service(c->config, service);
    return s ? s->target_minutes : 0;
}

static void set_window(counter_t *c, const Hallbus__Window *w)
{
    counter_window_t *cw = w ? counter_window(c, w->number) : NULL;
    if (!cw)
        return;
    cw->state = w->state;
    snprintf(cw->staff, sizeof cw->staff, "%s",
             w->state == HALLBUS__WINDOW_STATE__CLOSED || !w->staff ? "" : w->staff);
    if (w->state == HALLBUS__WINDOW_STATE__CLOSED) {
        ot_clear(&c->overtime, w->number);
        cw->notice[0] = '\0';
    }
}

void watch_learn_window(counter_t *c, const Hallbus__Window *w)
{
    set_window(c, w);
}

static uint32_t target_cb(const char *service, void *arg)
{
    return target_of(arg, service);
}

/* Applies one event in sequence: the timers, then who is at the windows. */
static void apply(counter_t *c, const Hallbus__Envelope *env)
{
    ot_apply_event(&c->overtime, env, target_cb, c);
    switch (env->event_case) {
    case HALLBUS__ENVELOPE__EVENT_WINDOW_OPENED:
        set_window(c, env->window_opened->window);
        break;
    case HALLBUS__ENVELOPE__EVENT_WINDOW_PAUSED:
        set_window(c, env->window_paused->window);
        break;
    case HALLBUS__ENVELOPE__EVENT_WINDOW_RESUMED:
        set_window(c, env->window_resumed->window);
        break;
    case HALLBUS__ENVELOPE__EVENT_WINDOW_CLOSED:
        set_window(c, env->window_closed->window);
        break;
    case HALLBUS__ENVELOPE__EVENT_DAILY_RESET:
        for (unsigned i = 0; i < c->self.windows_count; i++) {
            c->windows[i].state = HALLBUS__WINDOW_STATE__CLOSED;
            c->windows[i].staff[0] = c->windows[i].notice[0] = '\0';
        }
        break;
    default:
        break;
    }
}

static void drop_buffer(counter_t *c)
{
    for (unsigned i = 0; i < c->buffered; i++)
        hallbus__envelope__free_unpacked(c->buffer[i], NULL);
    c->buffered = 0;
    c->buffer_overflow = false;
}

void watch_free(counter_t *c)
{
    drop_buffer(c);
    free(c->buffer);
    c->buffer = NULL;
}

static void on_snapshot_reply(hb_client_t *client, hb_client_outcome_t outcome,
                              ProtobufCMessage *msg, void *arg)
{
    counter_t *c = arg;
    if (outcome == HB_CLIENT_REPLY)
        watch_on_snapshot(c, (const Hallbus__Reply *)msg);
    else if (outcome == HB_CLIENT_CANCELLED)
        c->snapshot_pending = false;
    else
        watch_snapshot_failed(c);
}

static void ask_snapshot(counter_t *c, int64_t now_mono_us)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetSnapshot get = HALLBUS__GET_SNAPSHOT__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT;
    req.get_snapshot = &get;
    req.hall_id = c->config->hall.id;
    char why[256];
    c->snapshot_asked_us = now_mono_us;
    if (forward_send(c, &req, on_snapshot_reply, c, why, sizeof why) != 0) {
        hb_debug("snapshot not asked: %s", why);
        return;
    }
    c->snapshot_pending = true;
    c->stats.resyncs++;
}

/* Lost events: forget what was synced and start over. */
static void resync(counter_t *c, const char *why)
{
    if (c->synced)
        hb_info("%s; taking a snapshot from hall-queue", why);
    c->synced = false;
    drop_buffer(c);
    if (!c->snapshot_pending)
        ask_snapshot(c, hb_mono_us());
}

void watch_tick(counter_t *c, int64_t now_mono_us)
{
    if (!c->synced && !c->snapshot_pending &&
        now_mono_us - c->snapshot_asked_us >= SNAPSHOT_RETRY_US)
        ask_snapshot(c, now_mono_us);
}

void watch_snapshot_failed(counter_t *c)
{
    c->snapshot_pending = false;
    hb_warn("hall-queue did not answer the snapshot request; asking again");
}

/* The serving ticket of WINDOW in the snapshot, if any. */
static const Hallbus__Ticket *serving_at(const Hallbus__Snapshot *s, uint32_t window)
{
    for (size_t i = 0; i < s->n_tickets; i++) {
        const Hallbus__Ticket *t = s->tickets[i];
        if (t->window == window && t->state == HALLBUS__TICKET_STATE__SERVING)
            return t;
    }
    return NULL;
}

void watch_on_snapshot(counter_t *c, const Hallbus__Reply *reply)
{
    c->snapshot_pending = false;
    if (reply->code != HALLBUS__STATUS_CODE__OK ||
        reply->result_case != HALLBUS__REPLY__RESULT_SNAPSHOT || !reply->snapshot->status) {
        hb_warn("hall-queue refused the snapshot: %s (%s)", reply->message,
                hb_status_name(reply->code));
        return;
    }
    if (c->buffer_overflow) {
        drop_buffer(c);
        ask_snapshot(c, hb_mono_us()); /* too much happened meanwhile: again */
        return;
    }
    const Hallbus__Snapshot *s = reply->snapshot;
    for (size_t i = 0; i < s->status->n_windows; i++)
        set_window(c, s->status->windows[i]);
    for (unsigned i = 0; i < c->self.windows_count; i++) {
        uint32_t w = c->windows[i].number;
        const Hallbus__Ticket *t = serving_at(s, w);
        if (t)
            ot_start(&c->overtime, w, t->number, t->started_at, target_of(c, t->service));
        else
            ot_clear(&c->overtime, w);
    }
    c->last_seq = s->seq;
    c->synced = true;
    hb_info("synced with hall %s at seq %llu", c->config->hall.id, (unsigned long long)s->seq);

    /* the events held meanwhile: drop what the snapshot has, apply the rest */
    unsigned held = c->buffered;
    Hallbus__Envelope **buffer = c->buffer;
    c->buffer = NULL;
    c->buffered = 0;
    bool gap = false;
    for (unsigned i = 0; i < held; i++) {
        Hallbus__Envelope *env = buffer[i];
        if (!gap && env->seq == c->last_seq + 1) {
            apply(c, env);
            c->last_seq = env->seq;
        } else if (env->seq > c->last_seq + 1) {
            gap = true;
        }
        hallbus__envelope__free_unpacked(env, NULL);
    }
    c->buffer = buffer;
    if (gap)
        resync(c, "events were lost while syncing");
}

static void hold(counter_t *c, Hallbus__Envelope *env)
{
    if (c->buffer_overflow || c->buffered >= COUNTER_BUFFER_MAX) {
        c->buffer_overflow = true;
        hallbus__envelope__free_unpacked(env, NULL);
        return;
    }
    if (!c->buffer) {
        c->buffer = calloc(COUNTER_BUFFER_MAX, sizeof *c->buffer);
        if (!c->buffer) {
            c->buffer_overflow = true;
            hallbus__envelope__free_unpacked(env, NULL);
            return;
        }
    }
    c->buffer[c->buffered++] = env;
}

void watch_on_msg(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    counter_t *c = arg;
    if (n != 2 || overflow) {
        c->stats.bad_events++;
        return;
    }
    Hallbus__Envelope *env = NULL;
    const char *why = NULL;
    if (hb_envelope_decode(zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1]), &env, &why) !=
        HB_DECODE_OK) {
        if (++c->stats.bad_events == 1 || c->stats.bad_events % 10000 == 0)
            hb_warn("ignored %lu undecodable event(s) on the bus; latest: %s", c->stats.bad_events,
                    why);
        return;
    }
    if (strcmp(env->hall_id, c->config->hall.id) != 0) {
        hallbus__envelope__free_unpacked(env, NULL); /* another hall with a prefix of ours */
        return;
    }
    bool heartbeat = env->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT;
    if (!c->synced) {
        if (heartbeat)
            hallbus__envelope__free_unpacked(env, NULL);
        else
            hold(c, env);
        return;
    }
    char why_gap[96];
    if (heartbeat ? env->seq > c->last_seq : env->seq > c->last_seq + 1) {
        snprintf(why_gap, sizeof why_gap, "sequence gap: had %llu, then %s %llu",
                 (unsigned long long)c->last_seq, heartbeat ? "heartbeat at" : "event",
                 (unsigned long long)env->seq);
        hallbus__envelope__free_unpacked(env, NULL);
        resync(c, why_gap);
        return;
    }
    if (!heartbeat && env->seq == c->last_seq + 1) {
        apply(c, env);
        c->last_seq = env->seq;
    }
    hallbus__envelope__free_unpacked(env, NULL);
}
