/* The hall's events, for the counter's windows: who is signed on, and when
 * the service in progress started. Followed the Clone way by the shared
 * follower (hallbus/follow_sub.h: the SUB, decoding with a size bound, the
 * gap and heartbeat rules, the snapshots from hall-queue); what is here is
 * what the counter makes of a snapshot and of each event, in sequence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"

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

void watch_apply(counter_t *c, const Hallbus__Envelope *env)
{
    ot_apply_event(&c->overtime, env, target_cb, c);
    /* window.opened, paused, resumed, closed */
    set_window(c, hb_event_window(env));
    if (env->event_case == HALLBUS__ENVELOPE__EVENT_DAILY_RESET)
        for (unsigned i = 0; i < c->self.windows_count; i++) {
            c->windows[i].state = HALLBUS__WINDOW_STATE__CLOSED;
            c->windows[i].staff[0] = c->windows[i].notice[0] = '\0';
        }
    c->last_seq = env->seq;
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

void watch_load(counter_t *c, const Hallbus__Snapshot *s)
{
    if (s->status)
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
    hb_info("synced with hall %s at seq %llu", c->config->hall.id, (unsigned long long)s->seq);
}

static int on_apply(void *arg, const Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                    int64_t received_at)
{
    watch_apply(arg, env);
    return 0;
}

static void on_load(void *arg, const Hallbus__Snapshot *snapshot)
{
    watch_load(arg, snapshot);
}

int watch_open(counter_t *c)
{
    hb_follow_sub_config_t fc = {
        .hall = c->config->hall.id,
        .bus_sub = c->config->endpoints.bus_sub,
        .command = c->config->endpoints.command,
        .actor = c->actor,
        .security = c->security,
        .mode = HB_FOLLOW_CLONE,
        /* an unanswered snapshot is asked again, as a command would time out */
        .snapshot_timeout_us = (int64_t)c->config->counter.request_timeout_ms * 1000,
        .cb = {.load = on_load, .apply = on_apply, .arg = c},
    };
    c->follow = hb_follow_sub_new(c->loop, c->ctx, &fc, 0);
    if (!c->follow)
        return -1;
    hb_follow_sub_start(c->follow);
    return 0;
}
