/* hall-audit's daemon state, shared by main.c (ingest) and query.c. */
#ifndef HALLBUS_AUDIT_H
#define HALLBUS_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "audit_store.h"
#include "hallbus/client.h"
#include "hallbus/config.h"
#include "hallbus/follower.h"
#include "hallbus/db.h"
#include "hallbus/server.h"
#include "hallbus/signals.h"
#include "hallbus/socket.h"
#include "hallbus/zsock_uv.h"

typedef struct audit_s audit_t;

typedef struct {
    audit_t *audit;
    const char *id;            /* belongs to the config */
    const char *command;       /* its hall-queue */
    char prefix[HB_TOPIC_MAX]; /* "hall.<id>." */
    hb_follower_t follow;      /* journal mode; the store is its sink */
    hb_client_t *journal;      /* FetchEvents to its hall-queue */
    uv_timer_t retry;  /* a fetch to ask again: not sent, refused, or the hall not there yet */
    uint64_t fetch_id; /* the fetch the follower waits for; 0: none */
    uint32_t page;     /* events asked per fetch (fewer after an oversized answer) */
    bool warned;
} audit_hall_t;

struct audit_s {
    uv_loop_t *loop;
    hb_config_t *config;
    audit_store_t *store;
    void *ctx;
    hb_security_t *security; /* CURVE: its key (hall-audit), allow-list, ZAP */
    hb_zsock_t *sub;
    hb_server_t *server; /* queries (query.c) */
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
    unsigned long rejected, queries, publish_dropped;
};

/* main.c: commits the open transaction and publishes what it made durable. */
void audit_flush(audit_t *a);
/* main.c: the store refused a write (RC != 0): ingest pauses, and each hall
 * follows on from what the store holds once it takes writes again. Returns RC. */
int audit_stored(audit_t *a, int rc);

/* audit_halls.c: the halls of the config, each with its follower (journal
 * mode, the store as its sink) and its client of hall-queue's journal.
 * 0, or -1 (logged). */
int audit_halls_open(audit_t *a);
/* The hall whose topic prefix TOPIC starts with; NULL if none. */
audit_hall_t *audit_hall_of_topic(audit_t *a, const char *topic, size_t len);
/* Every hall catches up from what the store holds (start, and after a pause). */
void audit_halls_start(audit_t *a);
/* Every hall follows on from what the store holds, and asks nothing: the
 * store refused a write. */
void audit_halls_pause(audit_t *a);
/* On stop: clients cancelled, timers closed by the loop. */
void audit_halls_close(audit_t *a);
/* After the loop: the followers and the array. */
void audit_halls_free(audit_t *a);

/* query.c: binds the query endpoint. 0, or -1 (logged). */
int audit_query_open(audit_t *a);

#endif
