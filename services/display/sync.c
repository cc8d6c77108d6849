#include "sync.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define ANNOUNCE_MAX_AGE_US (120 * 1000000LL) /* calls missed in a gap: still worth saying */

void dv_sync_init(dv_sync_t *self, dv_view_t *view, uint32_t ttl_ms)
{
    memset(self, 0, sizeof *self);
    self->view = view;
    self->ttl_us = (int64_t)ttl_ms * 1000;
    self->announce_max_age_us = ANNOUNCE_MAX_AGE_US;
    self->state = DV_SYNC_WAITING;
    self->last_reason = "start";
}

static void drop_buffer(dv_sync_t *self)
{
    for (size_t i = 0; i < self->nbuf; i++)
        hallbus__envelope__free_unpacked(self->buffer[i], NULL);
    self->nbuf = 0;
}

void dv_sync_dispose(dv_sync_t *self)
{
    drop_buffer(self);
    free(self->buffer);
    self->buffer = NULL;
    self->capbuf = 0;
}

void dv_sync_begin(dv_sync_t *self, const char *reason, int64_t now_mono_us)
{
    drop_buffer(self);
    self->state = DV_SYNC_WAITING;
    self->last_reason = reason;
    (void)now_mono_us;
}

static dv_sync_action_t resync(dv_sync_t *self, const char *reason, int64_t now)
{
    dv_sync_begin(self, reason, now);
    return DV_SYNC_RESYNC;
}

static bool buffer_push(dv_sync_t *self, Hallbus__Envelope *env)
{
    if (self->nbuf == DV_SYNC_BUFFER_MAX)
        return false;
    if (self->nbuf == self->capbuf) {
        size_t cap = self->capbuf ? self->capbuf * 2 : 64;
        Hallbus__Envelope **grown = realloc(self->buffer, cap * sizeof *grown);
        if (!grown)
            return false;
        self->buffer = grown;
        self->capbuf = cap;
    }
    self->buffer[self->nbuf++] = env;
    return true;
}

/* LIVE: one event or heartbeat in order. */
static dv_sync_action_t live_event(dv_sync_t *self, const Hallbus__Envelope *env, int64_t now)
{
    uint64_t last = self->view->seq;
    if (env->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT) {
        if (env->seq > last) {
            self->counters.gaps++;
            return resync(self, "gap at the tail (heartbeat ahead)", now);
        }
        if (env->seq < last)
            return resync(self, "the hall's sequence went back", now);
        return DV_SYNC_NOTHING;
    }
    if (env->seq <= last) {
        self->counters.stale++;
        return DV_SYNC_NOTHING;
    }
    if (env->seq != last + 1) {
        self->counters.gaps++;
        return resync(self, "gap", now);
    }
    dv_view_apply(self->view, env);
    self->counters.applied++;
    return DV_SYNC_CHANGED;
}

dv_sync_action_t dv_sync_event(dv_sync_t *self, Hallbus__Envelope *env, int64_t now_mono_us)
{
    if (!env->hall_id || strcmp(env->hall_id, self->view->hall_id) != 0) {
        self->counters.foreign++;
        hallbus__envelope__free_unpacked(env, NULL);
        return DV_SYNC_NOTHING;
    }
    self->last_heard_us = now_mono_us;
    if (self->state == DV_SYNC_WAITING) {
        if (env->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT) {
            hallbus__envelope__free_unpacked(env, NULL);
            return DV_SYNC_NOTHING;
        }
        if (!buffer_push(self, env)) {
            self->counters.overflows++;
            hallbus__envelope__free_unpacked(env, NULL);
            return resync(self, "buffer overflow while waiting for a snapshot", now_mono_us);
        }
        return DV_SYNC_NOTHING;
    }
    dv_sync_action_t a = live_event(self, env, now_mono_us);
    hallbus__envelope__free_unpacked(env, NULL);
    return a;
}

dv_sync_action_t dv_sync_snapshot(dv_sync_t *self, const Hallbus__Snapshot *snap,
                                  int64_t now_mono_us)
{
    if (self->state != DV_SYNC_WAITING)
        return DV_SYNC_NOTHING; /* a late answer to a request already served */
    dv_view_load(self->view, snap, self->announce_max_age_us);
    self->counters.snapshots++;
    self->state = DV_SYNC_LIVE;
    self->last_heard_us = now_mono_us;
    /* the buffered events: drop those the snapshot has, apply the rest */
    size_t n = self->nbuf;
    Hallbus__Envelope **buf = self->buffer;
    self->nbuf = 0; /* ours now: a resync below must not free them under us */
    dv_sync_action_t result = DV_SYNC_CHANGED;
    size_t i = 0;
    for (; i < n; i++) {
        dv_sync_action_t a = live_event(self, buf[i], now_mono_us);
        hallbus__envelope__free_unpacked(buf[i], NULL);
        buf[i] = NULL;
        if (a == DV_SYNC_RESYNC) {
            result = DV_SYNC_RESYNC;
            i++;
            break;
        }
    }
    for (; i < n; i++)
        hallbus__envelope__free_unpacked(buf[i], NULL);
    return result;
}

dv_sync_action_t dv_sync_tick(dv_sync_t *self, int64_t now_mono_us)
{
    if (self->state == DV_SYNC_LIVE && now_mono_us - self->last_heard_us > self->ttl_us) {
        self->counters.silences++;
        return resync(self, "no heartbeat within the TTL", now_mono_us);
    }
    return DV_SYNC_NOTHING;
}

bool dv_sync_synced(const dv_sync_t *self, int64_t now_mono_us)
{
    return self->state == DV_SYNC_LIVE && now_mono_us - self->last_heard_us <= self->ttl_us;
}
