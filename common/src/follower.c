#include "hallbus/follower.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/envelope.h"
#include "hallbus/log.h"

int hb_follower_init(hb_follower_t *f, const hb_follower_config_t *config, uint64_t last)
{
    memset(f, 0, sizeof *f);
    if (!config->hall || strlen(config->hall) >= sizeof f->hall)
        return -1;
    f->config = *config;
    snprintf(f->hall, sizeof f->hall, "%s", config->hall);
    f->config.hall = f->hall;
    if (!f->config.resync_min_us)
        f->config.resync_min_us = HB_FOLLOW_RESYNC_MIN_US;
    if (!f->config.resync_max_us)
        f->config.resync_max_us = HB_FOLLOW_RESYNC_MAX_US;
    if (f->config.resync_max_us < f->config.resync_min_us)
        f->config.resync_max_us = f->config.resync_min_us;
    if (f->config.mode == HB_FOLLOW_JOURNAL)
        f->config.keep_bytes = true;
    f->last = f->known_head = last;
    if (f->config.mode == HB_FOLLOW_CLONE)
        f->config.snapshot = false; /* clone mode always starts from one */
    f->state = f->config.mode == HB_FOLLOW_JOURNAL && !f->config.snapshot ? HB_FOLLOW_LIVE
                                                                          : HB_FOLLOW_WAITING;
    f->last_reason = "start";
    return 0;
}

static void held_free(hb_follow_held_t *h)
{
    hallbus__envelope__free_unpacked(h->env, NULL);
    free(h->bytes);
}

static void drop_held(hb_follower_t *f)
{
    for (size_t i = 0; i < f->nheld; i++)
        held_free(&f->held[i]);
    f->nheld = 0;
}

void hb_follower_dispose(hb_follower_t *f)
{
    drop_held(f);
    free(f->held);
    f->held = NULL;
    f->capheld = 0;
}

static int apply(hb_follower_t *f, const Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                 int64_t received_at)
{
    if (!f->config.sink.apply)
        return 0;
    return f->config.sink.apply(f->config.sink.arg, env, bytes, len, received_at);
}

/* Inserts at AT a copy of what is held; false when full or out of memory
 * (ENV is then freed). */
static bool hold_at(hb_follower_t *f, size_t at, Hallbus__Envelope *env, const uint8_t *bytes,
                    size_t len, int64_t received_at)
{
    uint8_t *copy = NULL;
    if (f->nheld >= HB_FOLLOW_BUFFER_MAX)
        goto fail;
    if (f->config.keep_bytes && bytes) {
        copy = malloc(len ? len : 1);
        if (!copy)
            goto fail;
        memcpy(copy, bytes, len);
    }
    if (f->nheld == f->capheld) {
        size_t cap = f->capheld ? f->capheld * 2 : 64;
        hb_follow_held_t *p = realloc(f->held, cap * sizeof *p);
        if (!p)
            goto fail;
        f->held = p;
        f->capheld = cap;
    }
    memmove(f->held + at + 1, f->held + at, (f->nheld - at) * sizeof *f->held);
    f->held[at] = (hb_follow_held_t){env->seq, received_at, env, copy, copy ? len : 0};
    f->nheld++;
    return true;
fail:
    free(copy);
    hallbus__envelope__free_unpacked(env, NULL);
    return false;
}

/* ── clone mode ── */

/* Sends the snapshot request owed, if the rate bound allows it now. */
static void try_ask(hb_follower_t *f, int64_t now)
{
    if (!f->snapshot_owed || f->state != HB_FOLLOW_WAITING)
        return;
    if (f->counters.snapshot_requests > 0 && now < f->next_ask_at)
        return; /* the tick asks when it is time */
    f->snapshot_owed = false;
    f->asked_at = now;
    f->next_ask_at = now + f->interval_us;
    f->counters.snapshot_requests++;
    if (f->config.sink.ask_snapshot)
        f->config.sink.ask_snapshot(f->config.sink.arg, f->last_reason);
}

/* Something is wrong: the interval between snapshot requests doubles,
 * unless the follower had been quiet for resync_max. */
static void trouble(hb_follower_t *f, int64_t now)
{
    static const int64_t never = INT64_MIN / 2;
    int64_t quiet_since = f->counters.snapshot_requests ? f->asked_at : never;
    if (f->interval_us == 0 || now - quiet_since >= f->config.resync_max_us)
        f->interval_us = f->config.resync_min_us;
    else if (f->interval_us < f->config.resync_max_us)
        f->interval_us = f->interval_us * 2 < f->config.resync_max_us ? f->interval_us * 2
                                                                      : f->config.resync_max_us;
    if (f->counters.snapshot_requests > 0) {
        int64_t next = f->asked_at + f->interval_us;
        if (next > f->next_ask_at)
            f->next_ask_at = next;
    }
}

void hb_follower_resync(hb_follower_t *f, const char *reason, int64_t now)
{
    assert(f->config.mode == HB_FOLLOW_CLONE || f->config.snapshot);
    bool again = f->state == HB_FOLLOW_WAITING && f->snapshot_owed;
    if (f->config.mode == HB_FOLLOW_CLONE) {
        drop_held(f);
    } else {
        /* held events are applied after the journal has caught up; what is
         * in flight is forgotten (its answer finds nothing fetching) */
        f->fetching = f->waiting = false;
        f->missing_since = 0;
    }
    f->state = HB_FOLLOW_WAITING;
    f->last_reason = reason;
    if (again)
        return; /* one request owed already */
    trouble(f, now);
    f->snapshot_owed = true;
    if (f->counters.snapshot_requests > 0 && now < f->next_ask_at)
        f->counters.resyncs_deferred++;
    try_ask(f, now);
}

/* LIVE: one event or heartbeat in order. Returns false after a resync. */
static bool live_event(hb_follower_t *f, const Hallbus__Envelope *env, const uint8_t *bytes,
                       size_t len, int64_t received_at, int64_t now)
{
    if (env->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT) {
        if (env->seq > f->last) {
            f->counters.gaps++;
            hb_follower_resync(f, "gap at the tail (heartbeat ahead)", now);
            return false;
        }
        if (env->seq < f->last) {
            hb_follower_resync(f, "the hall's sequence went back", now);
            return false;
        }
        return true;
    }
    if (env->seq <= f->last) {
        f->counters.stale++;
        return true;
    }
    if (env->seq != f->last + 1) {
        f->counters.gaps++;
        hb_follower_resync(f, "gap", now);
        return false;
    }
    apply(f, env, bytes, len, received_at);
    f->last = env->seq;
    f->counters.applied++;
    return f->state == HB_FOLLOW_LIVE; /* the owner may have resynced */
}

static void clone_event(hb_follower_t *f, Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                        int64_t received_at, int64_t now)
{
    if (f->state == HB_FOLLOW_WAITING) {
        if (env->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT) {
            hallbus__envelope__free_unpacked(env, NULL);
            return;
        }
        if (!hold_at(f, f->nheld, env, bytes, len, received_at)) {
            f->counters.overflows++;
            f->snapshot_owed = false; /* what is in flight will not do: ask again */
            hb_follower_resync(f, "buffer overflow while waiting for a snapshot", now);
        }
        return;
    }
    live_event(f, env, bytes, len, received_at, now);
    hallbus__envelope__free_unpacked(env, NULL);
}

static void journal_loaded(hb_follower_t *f, const void *snapshot, uint64_t seq, int64_t now);

bool hb_follower_snapshot(hb_follower_t *f, const void *snapshot, uint64_t seq, int64_t now)
{
    assert(f->config.mode == HB_FOLLOW_CLONE || f->config.snapshot);
    if (f->state != HB_FOLLOW_WAITING)
        return false; /* a late answer to a request already served */
    f->snapshot_seq = seq;
    if (f->config.mode == HB_FOLLOW_JOURNAL) {
        journal_loaded(f, snapshot, seq, now);
        return true;
    }
    if (f->config.sink.load)
        f->config.sink.load(f->config.sink.arg, snapshot);
    f->counters.snapshots++;
    f->state = HB_FOLLOW_LIVE;
    f->snapshot_owed = false;
    f->last = seq;
    f->last_heard_us = now;
    /* the buffered events: drop those the snapshot has, apply the rest */
    size_t n = f->nheld;
    hb_follow_held_t *buf = f->held;
    f->held = NULL; /* ours now: a resync below must not free them under us */
    f->nheld = f->capheld = 0;
    size_t i = 0;
    bool live = true;
    for (; i < n && live; i++) {
        live = live_event(f, buf[i].env, buf[i].bytes, buf[i].len, buf[i].received_at, now);
        held_free(&buf[i]);
    }
    for (; i < n; i++)
        held_free(&buf[i]);
    free(buf);
    return true;
}

void hb_follower_snapshot_failed(hb_follower_t *f, int64_t now)
{
    if ((f->config.mode != HB_FOLLOW_CLONE && !f->config.snapshot) || f->state != HB_FOLLOW_WAITING)
        return;
    trouble(f, now);
    f->snapshot_owed = true;
    try_ask(f, now);
}

/* ── journal mode (the audit: every event, in order, or a gap record) ── */

static bool journal_behind(const hb_follower_t *f)
{
    return f->nheld > 0 || f->known_head > f->last;
}

static void fetch(hb_follower_t *f, int64_t now)
{
    if (f->fetching || f->state != HB_FOLLOW_LIVE)
        return; /* (waiting for a snapshot: the journal comes after it) */
    if (!f->missing_since)
        f->missing_since = now ? now : 1;
    f->fetching = true;
    if (f->config.sink.fetch)
        f->config.sink.fetch(f->config.sink.arg, f->last + 1);
}

/* Applies held events that are now next in line; drops those at or below. */
static void drain(hb_follower_t *f)
{
    size_t i = 0;
    for (; i < f->nheld && f->state == HB_FOLLOW_LIVE; i++) {
        hb_follow_held_t *h = &f->held[i];
        if (h->seq > f->last + 1)
            break;
        if (h->seq == f->last + 1 && apply(f, h->env, h->bytes, h->len, h->received_at) == 0) {
            f->last = h->seq;
            f->counters.applied++;
        } else if (h->seq > f->last) {
            break; /* could not be applied: keep it for the next turn */
        } else {
            f->counters.stale++;
        }
        held_free(h);
    }
    if (i) {
        memmove(f->held, f->held + i, (f->nheld - i) * sizeof *f->held);
        f->nheld -= i;
    }
    if (!journal_behind(f))
        f->missing_since = 0;
}

/* Records FROM..TO as a gap, loudly, and goes on after it. */
static void gap(hb_follower_t *f, uint64_t from, uint64_t to, const char *why, int64_t now)
{
    if (to < from)
        return;
    hb_error("hall %s: events #%llu..#%llu are lost (%s); recorded as a gap", f->hall,
             (unsigned long long)from, (unsigned long long)to, why);
    if (!f->config.sink.gap || f->config.sink.gap(f->config.sink.arg, from, to, why) == 0) {
        f->last = to;
        f->counters.gaps++;
        /* the owner's model lacks them: it starts again from a snapshot */
        if (f->config.snapshot && f->state == HB_FOLLOW_LIVE)
            hb_follower_resync(f, "events lost from the journal", now);
    }
}

/* The end of the range missing now: before the first held event, or the head. */
static uint64_t missing_to(const hb_follower_t *f)
{
    return f->nheld ? f->held[0].seq - 1 : f->known_head;
}

static void journal_event(hb_follower_t *f, Hallbus__Envelope *env, const uint8_t *bytes,
                          size_t len, int64_t received_at, int64_t now)
{
    uint64_t seq = env->seq;
    if (seq <= f->last) {
        f->counters.stale++;
        hallbus__envelope__free_unpacked(env, NULL);
        return;
    }
    if (seq > f->known_head)
        f->known_head = seq;
    bool live = f->state == HB_FOLLOW_LIVE;
    if (live && seq == f->last + 1 && f->nheld == 0 &&
        apply(f, env, bytes, len, received_at) == 0) {
        f->last = seq;
        f->counters.applied++;
        hallbus__envelope__free_unpacked(env, NULL);
        if (!journal_behind(f))
            f->missing_since = 0;
        return;
    }
    /* ascending by seq; most arrive in order, so search from the end */
    size_t at = f->nheld;
    while (at > 0 && f->held[at - 1].seq > seq)
        at--;
    if (at > 0 && f->held[at - 1].seq == seq) {
        f->counters.stale++;
        hallbus__envelope__free_unpacked(env, NULL);
    } else if (!hold_at(f, at, env, bytes, len, received_at)) {
        f->counters.overflows++;
    }
    if (!live)
        return; /* held until the snapshot is in and the journal has caught up */
    if (f->nheld >= HB_FOLLOW_BUFFER_MAX) {
        gap(f, f->last + 1, missing_to(f), "too many events held back while waiting", now);
        drain(f);
        return;
    }
    if (f->nheld && f->held[0].seq > f->last + 1)
        fetch(f, now);
    else
        drain(f);
}

void hb_follower_fetched(hb_follower_t *f, const ProtobufCBinaryData *envelopes, size_t n,
                         uint64_t hall_seq, int64_t received_at, int64_t now)
{
    f->fetching = false;
    f->waiting = false;
    if (f->state != HB_FOLLOW_LIVE)
        return; /* an answer to a fetch a resync forgot */
    f->hall_head = hall_seq;
    f->hall_answered = true;
    bool progress = false;
    for (size_t i = 0; i < n && f->state == HB_FOLLOW_LIVE; i++) {
        Hallbus__Envelope *env = NULL;
        if (hb_envelope_decode(envelopes[i].data, envelopes[i].len, &env, NULL) != HB_DECODE_OK) {
            gap(f, f->last + 1, f->last + 1, "the journal's entry does not decode", now);
            progress = true;
            continue;
        }
        if (strcmp(env->hall_id, f->hall) != 0 || env->seq <= f->last) {
            hallbus__envelope__free_unpacked(env, NULL);
            continue;
        }
        if (env->seq > f->last + 1)
            gap(f, f->last + 1, env->seq - 1, "the journal skips them", now);
        if (env->seq == f->last + 1 && f->state == HB_FOLLOW_LIVE &&
            apply(f, env, envelopes[i].data, envelopes[i].len, received_at) == 0) {
            f->last = env->seq;
            f->counters.applied++;
            f->counters.fetched++;
            progress = true;
        }
        hallbus__envelope__free_unpacked(env, NULL);
    }
    if (hall_seq > f->known_head)
        f->known_head = hall_seq;
    if (f->state != HB_FOLLOW_LIVE)
        return; /* the owner resynced (or its store went back): nothing more now */
    /* the hall's head is what it says now: a heartbeat ahead of it was ours
     * to misread; but what we hold is real */
    if (hall_seq >= f->last && f->known_head > hall_seq && f->nheld == 0)
        f->known_head = hall_seq;
    drain(f);
    if (!journal_behind(f))
        return;
    if (progress) {
        fetch(f, now);
        return;
    }
    if (f->nheld && f->held[0].seq > hall_seq + 1) {
        /* the hall itself is not there yet: the events before the held ones
         * may not exist yet either; ask again later */
        f->waiting = true;
        f->fetching = true;
        return;
    }
    /* the hall has passed them and its journal does not have them: lost */
    gap(f, f->last + 1, missing_to(f), "hall-queue's journal does not have them", now);
    drain(f);
    if (journal_behind(f))
        fetch(f, now);
}

void hb_follower_gone(hb_follower_t *f, uint64_t oldest, const char *why, int64_t received_at,
                      int64_t now)
{
    f->fetching = false;
    if (f->state != HB_FOLLOW_LIVE)
        return;
    uint64_t to = oldest > f->last + 1 ? oldest - 1 : missing_to(f);
    gap(f, f->last + 1, to, why && *why ? why : "gone from hall-queue's journal", now);
    drain(f);
    if (journal_behind(f))
        fetch(f, now);
}

/* With a snapshot: SNAPSHOT at SEQ is in; the journal from last + 1. */
static void journal_loaded(hb_follower_t *f, const void *snapshot, uint64_t seq, int64_t now)
{
    if (f->last > seq)
        hb_warn("hall %s: its follower has seen event %llu but the hall is at %llu (a new hall "
                "store?); following the hall from there",
                f->hall, (unsigned long long)f->last, (unsigned long long)seq);
    if (f->last == 0 || f->last > seq)
        f->last = f->known_head = seq; /* a first start does not replay the day */
    if (f->known_head < seq)
        f->known_head = seq;
    f->state = HB_FOLLOW_LIVE;
    f->snapshot_owed = false;
    f->last_heard_us = now;
    f->counters.snapshots++;
    if (f->config.sink.load)
        f->config.sink.load(f->config.sink.arg, snapshot);
    if (f->state != HB_FOLLOW_LIVE)
        return; /* the owner resynced from inside load */
    drain(f);   /* what is held and next in line; stale ones go */
    if (journal_behind(f))
        fetch(f, now);
}

/* Held events whose seq the hall never reached: rejected. */
static void reject_ahead(hb_follower_t *f)
{
    size_t keep = 0;
    for (size_t i = 0; i < f->nheld; i++) {
        hb_follow_held_t *h = &f->held[i];
        if (h->seq <= f->hall_head + 1) {
            f->held[keep++] = *h;
            continue;
        }
        char reason[160];
        snprintf(reason, sizeof reason,
                 "seq #%llu is ahead of the hall's own sequence (#%llu) for the whole gap timeout",
                 (unsigned long long)h->seq, (unsigned long long)f->hall_head);
        hb_error("hall %s: %s; stored as rejected", f->hall, reason);
        f->counters.rejected++;
        if (f->config.sink.reject)
            f->config.sink.reject(f->config.sink.arg, h->bytes, h->len, reason);
        held_free(h);
    }
    f->nheld = keep;
    if (f->known_head > f->hall_head)
        f->known_head = f->hall_head > f->last ? f->hall_head : f->last;
}

void hb_follower_fetch_failed(hb_follower_t *f, const char *why, int64_t received_at, int64_t now)
{
    bool waited = f->waiting;
    f->fetching = false;
    f->waiting = false;
    if (f->state != HB_FOLLOW_LIVE)
        return;
    if (!journal_behind(f)) {
        f->missing_since = 0;
        return;
    }
    bool timed_out = f->missing_since && now - f->missing_since >= f->config.gap_timeout_us;
    if (timed_out && waited && f->hall_answered) {
        /* hall-queue answers, and has not reached what we hold */
        reject_ahead(f);
        drain(f);
        if (journal_behind(f))
            fetch(f, now);
        else
            f->missing_since = 0;
        return;
    }
    if (timed_out) {
        char reason[256];
        snprintf(reason, sizeof reason, "hall-queue did not give them within the gap timeout: %s",
                 why);
        gap(f, f->last + 1, missing_to(f), reason, now);
        drain(f);
        f->missing_since = journal_behind(f) && f->state == HB_FOLLOW_LIVE ? now : 0;
        if (journal_behind(f))
            fetch(f, now);
        return;
    }
    if (f->missing_since == 0)
        f->missing_since = now;
    fetch(f, now);
}

void hb_follower_rewind(hb_follower_t *f, uint64_t last)
{
    f->last = last;
    if (f->known_head < last)
        f->known_head = last;
    f->fetching = f->waiting = false;
    f->missing_since = 0;
}

/* ── both ── */

void hb_follower_start(hb_follower_t *f, int64_t now)
{
    if (f->config.mode == HB_FOLLOW_JOURNAL && !f->config.snapshot)
        fetch(f, now);
    else
        hb_follower_resync(f, "start", now);
}

void hb_follower_heartbeat(hb_follower_t *f, uint64_t seq, int64_t now)
{
    f->last_heard_us = now;
    if (f->config.mode == HB_FOLLOW_JOURNAL) {
        if (seq > f->known_head)
            f->known_head = seq;
        if (seq > f->last && !f->fetching && f->state == HB_FOLLOW_LIVE) {
            hb_info("hall %s: heartbeat says the hall is at event %llu, we are at %llu: fetching "
                    "the rest",
                    f->hall, (unsigned long long)seq, (unsigned long long)f->last);
            fetch(f, now);
        }
        return;
    }
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.seq = seq;
    env.event_case = HALLBUS__ENVELOPE__EVENT_HEARTBEAT;
    if (f->state == HB_FOLLOW_LIVE)
        live_event(f, &env, NULL, 0, 0, now);
}

void hb_follower_event(hb_follower_t *f, Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                       int64_t received_at, int64_t now)
{
    if (!env->hall_id || strcmp(env->hall_id, f->hall) != 0) {
        f->counters.foreign++;
        hallbus__envelope__free_unpacked(env, NULL);
        return;
    }
    f->last_heard_us = now;
    if (f->config.mode == HB_FOLLOW_JOURNAL) {
        if (env->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT) {
            hb_follower_heartbeat(f, env->seq, now);
            hallbus__envelope__free_unpacked(env, NULL);
            return;
        }
        journal_event(f, env, bytes, len, received_at, now);
        return;
    }
    clone_event(f, env, bytes, len, received_at, now);
}

void hb_follower_tick(hb_follower_t *f, int64_t now)
{
    if (f->config.mode != HB_FOLLOW_CLONE && (!f->config.snapshot || f->state == HB_FOLLOW_LIVE))
        return;
    if (f->state == HB_FOLLOW_LIVE) {
        if (f->config.ttl_us && now - f->last_heard_us > f->config.ttl_us) {
            f->counters.silences++;
            hb_follower_resync(f, "no heartbeat within the TTL", now);
        }
        return;
    }
    if (!f->snapshot_owed && f->config.snapshot_timeout_us &&
        now - f->asked_at > f->config.snapshot_timeout_us) {
        f->last_reason = "no answer";
        hb_follower_snapshot_failed(f, now);
        return;
    }
    try_ask(f, now);
}

bool hb_follower_synced(const hb_follower_t *f, int64_t now)
{
    if (f->config.mode == HB_FOLLOW_JOURNAL)
        return f->state == HB_FOLLOW_LIVE && !journal_behind(f);
    return f->state == HB_FOLLOW_LIVE &&
           (!f->config.ttl_us || now - f->last_heard_us <= f->config.ttl_us);
}

bool hb_follower_behind(const hb_follower_t *f)
{
    return journal_behind(f);
}

bool hb_follower_fetching(const hb_follower_t *f)
{
    return f->fetching;
}

bool hb_follower_waiting(const hb_follower_t *f)
{
    return f->waiting;
}

uint64_t hb_follower_last(const hb_follower_t *f)
{
    return f->last;
}

uint64_t hb_follower_snapshot_seq(const hb_follower_t *f)
{
    return f->snapshot_seq;
}

const hb_follow_counters_t *hb_follower_counters(const hb_follower_t *f)
{
    return &f->counters;
}
