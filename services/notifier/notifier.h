/* hall-notifier's state, shared by its files: main.c (sockets, the Clone
 * pattern against hall-queue, decisions into the outbox, the outbox's
 * failures), sender.c (the attempts: contact, rate limit, channel, result)
 * and query.c (the query endpoint, notifier.query). */
#ifndef NOTIFIER_H
#define NOTIFIER_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>
#include <uv.h>

#include "hallbus.pb-c.h"
#include "hallbus/client.h"
#include "hallbus/config.h"
#include "hallbus/follow_sub.h"
#include "hallbus/server.h"
#include "hallbus/signals.h"
#include "hallbus/zsock_uv.h"
#include "delivery_http.h"
#include "outbox.h"
#include "payload.h"
#include "retry.h"
#include "tracker.h"

#define NT_INFLIGHT_MAX 256

typedef struct attempt_s attempt_t;

typedef struct {
    nt_bucket_t bucket;
    uv_timer_t timer;
    attempt_t *head, *tail; /* resolved, waiting for a token */
    unsigned queued;
} nt_chan_state_t;

typedef struct {
    unsigned long events, gone;
    unsigned long decisions, added, duplicates, born_expired;
    unsigned long store_failures; /* writes to the outbox that failed (a full disk) */
    unsigned long resyncs;        /* the model of the lines out of step: a fresh snapshot */
    unsigned long attempts, sent, retried, failed, expired, resolve_failed, rate_delayed;
    unsigned long http_5xx, http_4xx, http_other, timeouts, unreachable, command_failed;
} nt_counters_t;

typedef struct notifier_s {
    uv_loop_t *loop;
    hb_config_t *config;
    const hb_notifier_conf_t *conf;
    nt_outbox_t *outbox;
    nt_tracker_t *tracker;
    void *ctx;
    hb_security_t *security; /* CURVE: its key (hall-notifier), allow-list, ZAP */
    hb_client_t *queue;      /* ResolveContact to hall-queue (the follower has its own) */
    hb_server_t *query;      /* notifier.query */
    nt_http_t *http;
    uv_timer_t scan, stats;
    unsigned long stats_ticks;
    uv_timer_t commit; /* outcomes are committed together, a few ms after the first */
    hb_signals_t signals;
    bool stopping;

    /* the hall's events: the common follower, journal mode with a snapshot */
    hb_follow_sub_t *follow;
    uint64_t model_seq; /* the snapshot the model was built from */

    /* the outbox could not be written: no events are taken until a resync
     * from what the store holds (as after a restart) succeeds */
    bool store_down;
    bool turn_failed; /* a write failed: decide nothing more until the next snapshot */

    attempt_t *inflight; /* by outbox id */
    unsigned inflight_count;
    nt_chan_state_t chans[NT_CHANNELS];
    nt_counters_t count;
} notifier_t;

/* sender.c */
void nt_sender_init(notifier_t *n);
/* Expires what is past its deadline and starts attempts for what is due. */
void nt_sender_scan(notifier_t *n);
/* Drops every attempt (on stop): their messages stay pending. */
void nt_sender_stop(notifier_t *n);

/* main.c: commits the outcomes recorded lately within a few milliseconds
 * (one fsync for many deliveries); a "sent" lost to a crash in between is
 * sent again, and dropped by the receiver by its idempotency key. */
void nt_commit_soon(notifier_t *n);
/* main.c: commits the outbox now. 0, or -1: the write failed, everything
 * since the last commit is rolled back, and the notifier stops taking
 * events until it has resynced from what the store holds. */
int nt_commit(notifier_t *n);

/* query.c: binds notifier.query. 0 or -1 (logged). */
int nt_query_start(notifier_t *n);

#endif
