/* hall-audit's daemon state, shared by main.c (ingest) and query.c. */
#ifndef HALLBUS_AUDIT_H
#define HALLBUS_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "audit_follow.h"
#include "audit_store.h"
#include "hallbus/config.h"
#include "hallbus/db.h"
#include "hallbus/signals.h"
#include "hallbus/socket.h"
#include "hallbus/zsock_uv.h"

typedef struct audit_s audit_t;

typedef struct {
    audit_t *audit;
    const char *id;            /* belongs to the config */
    const char *command;       /* its hall-queue */
    char prefix[HB_TOPIC_MAX]; /* "hall.<id>." */
    hb_zsock_t *dealer;        /* FetchEvents to its hall-queue */
    uv_timer_t fetch_timer;
    uint64_t fetch_id;
    bool warned;
    audit_follow_t follow;
} audit_hall_t;

struct audit_s {
    uv_loop_t *loop;
    hb_config_t *config;
    audit_store_t *store;
    void *ctx;
    hb_zsock_t *sub;
    hb_zsock_t *router;
    void *pub;
    audit_hall_t *halls;
    size_t nhalls;
    uv_timer_t heartbeat, retention, stats;
    /* the store refused a write (a full disk): ingest pauses, and is retried
     * on STORE_RETRY from what the store holds; queries go on */
    bool store_paused;
    uv_timer_t store_retry;
    unsigned long store_retries, rejected_unstored;
    uint64_t last_committed_id;
    hb_checkpointer_t checkpointer;
    hb_signals_t signals;
    uint64_t next_request_id;
    unsigned long rejected, queries, bad_queries, publish_dropped;
};

/* Commits the open transaction and publishes what it made durable. */
void audit_flush(audit_t *a);
void audit_on_fetch_timeout(uv_timer_t *t);
/* The ROUTER's message callback (query.c). */
void audit_on_query(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg);

#endif
