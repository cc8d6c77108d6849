#include "audit_follow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/envelope.h"
#include "hallbus/log.h"

void audit_follow_init(audit_follow_t *f, const char *hall, uint64_t last_stored,
                       uint64_t gap_timeout_us, const audit_sink_t *sink)
{
    memset(f, 0, sizeof *f);
    snprintf(f->hall, sizeof f->hall, "%s", hall);
    f->last = f->known_head = last_stored;
    f->gap_timeout_us = gap_timeout_us;
    f->sink = *sink;
}

static void held_free(audit_held_t *h)
{
    hallbus__envelope__free_unpacked(h->env, NULL);
    free(h->bytes);
}

void audit_follow_clear(audit_follow_t *f)
{
    for (size_t i = 0; i < f->nheld; i++)
        held_free(&f->held[i]);
    free(f->held);
    f->held = NULL;
    f->nheld = f->capheld = 0;
}

bool audit_follow_behind(const audit_follow_t *f)
{
    return f->nheld > 0 || f->known_head > f->last;
}

static void fetch(audit_follow_t *f, int64_t now)
{
    if (f->fetching)
        return;
    if (!f->missing_since)
        f->missing_since = now ? now : 1;
    f->fetching = true;
    f->sink.fetch(f->sink.arg, f, f->last + 1);
}

/* Stores held events that are now next in line; drops those at or below. */
static void drain(audit_follow_t *f)
{
    size_t i = 0;
    for (; i < f->nheld; i++) {
        audit_held_t *h = &f->held[i];
        if (h->seq > f->last + 1)
            break;
        if (h->seq == f->last + 1 &&
            f->sink.store_event(f->sink.arg, h->env, h->bytes, h->len, h->received_at) == 0)
            f->last = h->seq;
        else if (h->seq > f->last)
            break; /* a storage error: keep it for the next turn */
        else
            f->duplicates++;
        held_free(h);
    }
    if (i) {
        memmove(f->held, f->held + i, (f->nheld - i) * sizeof *f->held);
        f->nheld -= i;
    }
    if (!audit_follow_behind(f))
        f->missing_since = 0;
}

/* Stores FROM..TO as a gap, loudly, and goes on after it. */
static void gap(audit_follow_t *f, uint64_t from, uint64_t to, const char *why)
{
    if (to < from)
        return;
    hb_error("hall %s: events #%llu..#%llu are lost (%s); recorded as a gap", f->hall,
             (unsigned long long)from, (unsigned long long)to, why);
    if (f->sink.store_gap(f->sink.arg, f->hall, from, to, why) == 0) {
        f->last = to;
        f->gaps++;
    }
}

/* The end of the range missing now: before the first held event, or the head. */
static uint64_t missing_to(const audit_follow_t *f)
{
    if (f->nheld)
        return f->held[0].seq - 1;
    return f->known_head;
}

void audit_follow_start(audit_follow_t *f, int64_t now)
{
    fetch(f, now);
}

static void hold(audit_follow_t *f, Hallbus__Envelope *env, const uint8_t *data, size_t len,
                 int64_t received_at)
{
    uint8_t *bytes = malloc(len ? len : 1);
    if (!bytes) {
        hallbus__envelope__free_unpacked(env, NULL);
        return;
    }
    memcpy(bytes, data, len);
    /* ascending by seq; most arrive in order, so search from the end */
    size_t at = f->nheld;
    while (at > 0 && f->held[at - 1].seq > env->seq)
        at--;
    if ((at > 0 && f->held[at - 1].seq == env->seq) || f->nheld >= AUDIT_PENDING_MAX) {
        f->duplicates += at > 0 && f->held[at - 1].seq == env->seq;
        hallbus__envelope__free_unpacked(env, NULL);
        free(bytes);
        return;
    }
    if (f->nheld == f->capheld) {
        size_t cap = f->capheld ? f->capheld * 2 : 64;
        audit_held_t *p = realloc(f->held, cap * sizeof *p);
        if (!p) {
            hallbus__envelope__free_unpacked(env, NULL);
            free(bytes);
            return;
        }
        f->held = p;
        f->capheld = cap;
    }
    memmove(f->held + at + 1, f->held + at, (f->nheld - at) * sizeof *f->held);
    f->held[at] = (audit_held_t){env->seq, received_at, env, bytes, len};
    f->nheld++;
}

int audit_follow_event(audit_follow_t *f, Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                       int64_t received_at, int64_t now)
{
    uint64_t seq = env->seq;
    if (seq <= f->last) {
        f->duplicates++;
        hallbus__envelope__free_unpacked(env, NULL);
        return 1;
    }
    if (seq > f->known_head)
        f->known_head = seq;
    if (seq == f->last + 1 && f->nheld == 0) {
        if (f->sink.store_event(f->sink.arg, env, bytes, len, received_at) == 0) {
            f->last = seq;
            hallbus__envelope__free_unpacked(env, NULL);
            if (!audit_follow_behind(f))
                f->missing_since = 0;
            return 0;
        }
    }
    hold(f, env, bytes, len, received_at);
    if (f->nheld >= AUDIT_PENDING_MAX) {
        gap(f, f->last + 1, missing_to(f), "too many events held back while waiting");
        drain(f);
        return 0;
    }
    if (f->nheld && f->held[0].seq > f->last + 1)
        fetch(f, now);
    else
        drain(f);
    return 0;
}

void audit_follow_heartbeat(audit_follow_t *f, uint64_t seq, int64_t now)
{
    if (seq > f->known_head)
        f->known_head = seq;
    if (seq > f->last)
        fetch(f, now);
}

void audit_follow_fetched(audit_follow_t *f, const ProtobufCBinaryData *envelopes, size_t n,
                          uint64_t hall_seq, int64_t received_at, int64_t now)
{
    f->fetching = false;
    f->waiting = false;
    f->hall_head = hall_seq;
    f->hall_answered = true;
    bool progress = false;
    for (size_t i = 0; i < n; i++) {
        Hallbus__Envelope *env = NULL;
        const char *why = NULL;
        if (hb_envelope_decode(envelopes[i].data, envelopes[i].len, &env, &why) != HB_DECODE_OK) {
            gap(f, f->last + 1, f->last + 1, "the journal's entry does not decode");
            progress = true;
            continue;
        }
        if (strcmp(env->hall_id, f->hall) != 0 || env->seq <= f->last) {
            hallbus__envelope__free_unpacked(env, NULL);
            continue;
        }
        if (env->seq > f->last + 1)
            gap(f, f->last + 1, env->seq - 1, "the journal skips them");
        if (env->seq == f->last + 1 && f->sink.store_event(f->sink.arg, env, envelopes[i].data,
                                                           envelopes[i].len, received_at) == 0) {
            f->last = env->seq;
            f->fetched++;
            progress = true;
        }
        hallbus__envelope__free_unpacked(env, NULL);
    }
    if (hall_seq > f->known_head)
        f->known_head = hall_seq;
    /* the hall's head is what it says now: a heartbeat ahead of it was ours
     * to misread; but what we hold is real */
    if (hall_seq >= f->last && f->known_head > hall_seq && f->nheld == 0)
        f->known_head = hall_seq;
    drain(f);
    if (!audit_follow_behind(f))
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
    gap(f, f->last + 1, missing_to(f), "hall-queue's journal does not have them");
    drain(f);
    if (audit_follow_behind(f))
        fetch(f, now);
}

void audit_follow_gone(audit_follow_t *f, uint64_t oldest, const char *why, int64_t received_at,
                       int64_t now)
{
    f->fetching = false;
    uint64_t to = oldest > f->last + 1 ? oldest - 1 : missing_to(f);
    gap(f, f->last + 1, to, why && *why ? why : "gone from hall-queue's journal");
    drain(f);
    if (audit_follow_behind(f))
        fetch(f, now);
}

/* Held events whose seq the hall never reached: stored as rejected. */
static void reject_ahead(audit_follow_t *f)
{
    size_t keep = 0;
    for (size_t i = 0; i < f->nheld; i++) {
        audit_held_t *h = &f->held[i];
        if (h->seq <= f->hall_head + 1) {
            f->held[keep++] = *h;
            continue;
        }
        char reason[160];
        snprintf(reason, sizeof reason,
                 "seq #%llu is ahead of the hall's own sequence (#%llu) for the whole gap timeout",
                 (unsigned long long)h->seq, (unsigned long long)f->hall_head);
        hb_error("hall %s: %s; stored as rejected", f->hall, reason);
        f->sink.store_rejected(f->sink.arg, f->hall, h->bytes, h->len, reason);
        held_free(h);
    }
    f->nheld = keep;
    if (f->known_head > f->hall_head)
        f->known_head = f->hall_head > f->last ? f->hall_head : f->last;
}

void audit_follow_failed(audit_follow_t *f, const char *why, int64_t received_at, int64_t now)
{
    bool waited = f->waiting;
    f->fetching = false;
    f->waiting = false;
    if (!audit_follow_behind(f)) {
        f->missing_since = 0;
        return;
    }
    if (f->missing_since && (uint64_t)(now - f->missing_since) >= f->gap_timeout_us && waited &&
        f->hall_answered) {
        /* hall-queue answers, and has not reached what we hold */
        reject_ahead(f);
        drain(f);
        if (audit_follow_behind(f))
            fetch(f, now);
        else
            f->missing_since = 0;
        return;
    }
    if (f->missing_since && (uint64_t)(now - f->missing_since) >= f->gap_timeout_us) {
        char reason[256];
        snprintf(reason, sizeof reason, "hall-queue did not give them within the gap timeout: %s",
                 why);
        gap(f, f->last + 1, missing_to(f), reason);
        drain(f);
        f->missing_since = audit_follow_behind(f) ? now : 0;
        if (audit_follow_behind(f))
            fetch(f, now);
        return;
    }
    if (f->missing_since == 0)
        f->missing_since = now;
    fetch(f, now);
}
