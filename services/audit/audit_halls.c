/* The halls hall-audit follows. What is the audit's own is here; the rules
 * are the common follower's (hallbus/follower.h, HB_FOLLOW_JOURNAL: seq
 * order, events ahead held back, the missing ones fetched from hall-queue's
 * journal, GONE or silence past the gap timeout recorded as a gap) and the
 * fetches go through the common async client (hallbus/client.h, replies
 * decoded with a size bound).
 *
 * The audit's part: several halls, each with its own hall-queue; the store
 * as every follower's sink (events, gap records, rejected records); a store
 * that refuses a write pauses ingest (audit_stored in main.c) and each hall
 * then follows on from what the store holds (hb_follower_rewind). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "hallbus/alloc.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"

#define FETCH_MAX 10000 /* events asked per page: hall-queue's own limit */

/* ── the store as the follower's sink ── */

static int sink_apply(void *arg, const Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                      int64_t received_at)
{
    audit_hall_t *h = arg;
    audit_t *a = h->audit;
    if (a->store_paused)
        return -1;
    return audit_stored(a, audit_store_append_event(a->store, env, bytes, len, received_at));
}

static int sink_gap(void *arg, uint64_t from, uint64_t to, const char *reason)
{
    audit_hall_t *h = arg;
    audit_t *a = h->audit;
    if (a->store_paused)
        return -1;
    return audit_stored(a, audit_store_append_gap(a->store, h->id, from, to, reason, hb_now_us()));
}

static int sink_reject(void *arg, const uint8_t *bytes, size_t len, const char *reason)
{
    audit_hall_t *h = arg;
    audit_t *a = h->audit;
    a->rejected++;
    if (a->store_paused) {
        a->rejected_unstored++;
        return -1;
    }
    return audit_stored(
        a, audit_store_append_rejected(a->store, h->id, bytes, len, reason, hb_now_us()));
}

/* ── fetches from hall-queue's journal ── */

/* One fetch sent: its answer counts only if the follower still waits for it
 * (a rewind forgets the fetch in flight). Freed by its callback. */
typedef struct {
    audit_hall_t *hall;
    uint64_t id;
} fetch_t;

static void on_retry(uv_timer_t *t);

static void retry_later(audit_hall_t *h)
{
    uv_timer_start(&h->retry, on_retry, h->audit->config->audit.fetch_timeout_ms, 0);
}

/* The fetch got no usable answer: the follower asks again, or records the
 * gap once the gap timeout has passed. */
static void fetch_failed(audit_hall_t *h, const char *why)
{
    audit_t *a = h->audit;
    if (h->follow.missing_since && !h->warned) {
        hb_warn("hall %s: %s; retrying (missing events become a gap after %u ms)", h->id, why,
                a->config->audit.gap_timeout_ms);
        h->warned = true;
    }
    hb_follower_fetch_failed(&h->follow, why, hb_now_us(), hb_mono_us());
    if (!hb_follower_fetching(&h->follow))
        h->warned = false;
    audit_flush(a);
}

static void on_retry(uv_timer_t *t)
{
    audit_hall_t *h = t->data;
    if (!hb_follower_fetching(&h->follow) || h->fetch_id || h->audit->store_paused)
        return;
    char why[160];
    snprintf(why, sizeof why, "no answer from %s within %u ms", h->command,
             h->audit->config->audit.fetch_timeout_ms);
    fetch_failed(h, why);
}

static void on_fetched(hb_client_t *c, hb_client_outcome_t outcome, ProtobufCMessage *msg,
                       void *arg)
{
    fetch_t *fetch = arg;
    audit_hall_t *h = fetch->hall;
    bool current = fetch->id == h->fetch_id;
    free(fetch);
    audit_t *a = h->audit;
    if (outcome == HB_CLIENT_CANCELLED || !current || a->store_paused)
        return; /* closing, or a late answer to a fetch forgotten */
    h->fetch_id = 0;
    if (outcome != HB_CLIENT_REPLY) {
        /* too large, perhaps (ZeroMQ drops a frame over the client's bound, so
         * that shows as silence too): smaller pages until one is answered */
        h->page = h->page > 8 ? h->page / 8 : 1;
        char why[160];
        if (outcome == HB_CLIENT_MALFORMED) {
            snprintf(why, sizeof why, "an unreadable or oversized answer from %s", h->command);
        } else {
            snprintf(why, sizeof why, "no answer from %s within %u ms", h->command,
                     a->config->audit.fetch_timeout_ms);
        }
        fetch_failed(h, why);
        return;
    }
    const Hallbus__Reply *r = (const Hallbus__Reply *)msg;
    int64_t now = hb_mono_us();
    if (r->code == HALLBUS__STATUS_CODE__OK && r->result_case == HALLBUS__REPLY__RESULT_EVENTS) {
        if (h->page < FETCH_MAX)
            h->page = h->page * 2 < FETCH_MAX ? h->page * 2 : FETCH_MAX;
        hb_follower_fetched(&h->follow, r->events->envelopes, r->events->n_envelopes,
                            r->events->last_seq, hb_now_us(), now);
        if (hb_follower_waiting(&h->follow)) /* the hall is not there yet: ask again later */
            retry_later(h);
    } else if (r->code == HALLBUS__STATUS_CODE__GONE) {
        hb_follower_gone(&h->follow, r->oldest_seq, r->message, hb_now_us(), now);
    } else {
        /* a refusal is retried like a silence */
        hb_warn("hall %s: FetchEvents refused: %s: %s", h->id, hb_status_name(r->code), r->message);
        retry_later(h);
    }
    audit_flush(a);
}

static void sink_fetch(void *arg, uint64_t from)
{
    audit_hall_t *h = arg;
    audit_t *a = h->audit;
    uv_timer_stop(&h->retry);
    h->fetch_id = 0;
    if (a->store_paused)
        return; /* the store's retry fetches */
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__FetchEvents fe = HALLBUS__FETCH_EVENTS__INIT;
    fe.from_seq = from;
    fe.max_events = h->page;
    req.hall_id = (char *)h->id;
    req.actor = "hall-audit";
    req.command_case = HALLBUS__REQUEST__COMMAND_FETCH_EVENTS;
    req.fetch_events = &fe;
    fetch_t *fetch = hb_xmalloc(sizeof *fetch, "a fetch");
    fetch->hall = h;
    fetch->id =
        hb_client_send(h->journal, &req.base, a->config->audit.fetch_timeout_ms, on_fetched, fetch);
    if (!fetch->id) {
        hb_debug("hall %s: fetch not sent: %s", h->id, strerror(errno));
        free(fetch);
        retry_later(h); /* like an unanswered one */
        return;
    }
    h->fetch_id = fetch->id;
    hb_debug("hall %s: fetching from #%" PRIu64, h->id, from);
}

/* ── the halls ── */

int audit_halls_open(audit_t *a)
{
    const hb_config_t *c = a->config;
    const hb_audit_conf_t *ac = &c->audit;
    size_t n = ac->halls_count ? ac->halls_count : 1;
    a->halls = hb_xcalloc(n, sizeof *a->halls, "the halls");
    for (size_t i = 0; i < n; i++) {
        audit_hall_t *h = &a->halls[i];
        const hb_audit_hall_conf_t *hc = ac->halls_count ? &ac->halls[i] : NULL;
        h->audit = a;
        h->id = hc ? hc->id : c->hall.id;
        h->command = hc && hc->command ? hc->command : c->endpoints.command;
        h->page = FETCH_MAX;
        hb_topic_prefix(h->id, h->prefix);
        hb_follower_config_t fc = {
            .hall = h->id,
            .mode = HB_FOLLOW_JOURNAL,
            .gap_timeout_us = (int64_t)ac->gap_timeout_ms * 1000,
            .sink = {.apply = sink_apply,
                     .fetch = sink_fetch,
                     .gap = sink_gap,
                     .reject = sink_reject,
                     .arg = h},
        };
        if (hb_follower_init(&h->follow, &fc, audit_store_last_seq(a->store, h->id)) != 0) {
            hb_error("hall '%s': not a hall id the audit can follow", h->id);
            a->nhalls = i;
            return -1;
        }
        a->nhalls = i + 1;
        uv_timer_init(a->loop, &h->retry);
        h->retry.data = h;
        hb_client_config_t cc = {.endpoint = h->command,
                                 .security = a->security,
                                 .server = "hall-queue",
                                 .reply_desc = &hallbus__reply__descriptor,
                                 .immediate = true};
        h->journal = hb_client_new(a->loop, a->ctx, &cc);
        if (!h->journal)
            return -1;
    }
    return 0;
}

audit_hall_t *audit_hall_of_topic(audit_t *a, const char *topic, size_t len)
{
    for (size_t i = 0; i < a->nhalls; i++) {
        audit_hall_t *h = &a->halls[i];
        size_t n = strlen(h->prefix);
        if (len > n && memcmp(topic, h->prefix, n) == 0)
            return h;
    }
    return NULL;
}

void audit_halls_start(audit_t *a)
{
    int64_t now = hb_mono_us();
    for (size_t i = 0; i < a->nhalls; i++) {
        audit_hall_t *h = &a->halls[i];
        h->warned = false;
        hb_follower_rewind(&h->follow, audit_store_last_seq(a->store, h->id));
        hb_follower_start(&h->follow, now);
    }
}

void audit_halls_pause(audit_t *a)
{
    for (size_t i = 0; i < a->nhalls; i++) {
        audit_hall_t *h = &a->halls[i];
        hb_follower_rewind(&h->follow, audit_store_last_seq(a->store, h->id));
        h->fetch_id = 0;
        uv_timer_stop(&h->retry);
    }
}

void audit_halls_close(audit_t *a)
{
    for (size_t i = 0; i < a->nhalls; i++) {
        hb_client_close(&a->halls[i].journal);
        if (!uv_is_closing((uv_handle_t *)&a->halls[i].retry))
            uv_close((uv_handle_t *)&a->halls[i].retry, NULL);
    }
}

void audit_halls_free(audit_t *a)
{
    for (size_t i = 0; i < a->nhalls; i++)
        hb_follower_dispose(&a->halls[i].follow);
    free(a->halls);
    a->halls = NULL;
    a->nhalls = 0;
}
