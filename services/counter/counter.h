/* hall-counter: what its files share.
 *
 * One counter serves a set of windows of one hall. Its loop watches three
 * sockets: a ROUTER where window terminals send commands (terminals.c), a
 * DEALER to hall-queue where it forwards them and sends its own requests
 * (forward.c), and a SUB on the bus for the hall's events, from which it
 * learns who is signed on at its windows and when their services started
 * (watch.c). A timer turns services past their target time into warnings
 * (timers.c). The counter keeps no copy of the waiting lines: hall-queue
 * stays the single writer of the hall's state. */
#ifndef HALLBUS_COUNTER_H
#define HALLBUS_COUNTER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "hallbus.pb-c.h"
#include "hallbus/config.h"
#include "hallbus/signals.h"
#include "hallbus/socket.h"
#include "hallbus/zsock_uv.h"
#include "inflight.h"
#include "overtime.h"
#include "route.h"

#define COUNTER_NOTICE_MAX 200
#define COUNTER_BUFFER_MAX 10000 /* events held while a snapshot is awaited */

/* What the counter knows of one of its windows, from the hall's events. */
typedef struct {
    uint32_t number;
    Hallbus__WindowState state; /* WINDOW_STATE_UNSPECIFIED until learnt */
    char staff[ROUTE_STAFF_MAX + 1];
    char notice[COUNTER_NOTICE_MAX]; /* for the next reply to this window's terminal */
} counter_window_t;

typedef struct {
    unsigned long forwarded;  /* terminal commands sent on to hall-queue */
    unsigned long answered;   /* replies relayed back */
    unsigned long refused;    /* refused by the counter itself */
    unsigned long malformed;  /* bytes that were not a Request, or too large */
    unsigned long bad_frames; /* not [empty][Request] */
    unsigned long unknown;    /* commands a counter does not take */
    unsigned long timeouts;   /* hall-queue did not answer in time */
    unsigned long late;       /* replies after their timeout, dropped */
    unsigned long overtime;   /* warnings given */
    unsigned long resyncs;    /* snapshots taken */
    unsigned long bad_events; /* undecodable events */
} counter_stats_t;

typedef struct {
    uv_loop_t *loop;
    hb_config_t *config;
    hb_counter_instance_t self; /* this counter: id, endpoint, windows (owned copy) */
    route_table_t route;
    char actor[64];           /* "hall-counter/c1" */
    char topic[HB_TOPIC_MAX]; /* "hall.<id>." */

    void *ctx;
    hb_zsock_t *terminals; /* ROUTER */
    hb_zsock_t *queue;     /* DEALER */
    hb_zsock_t *events;    /* SUB */
    uv_timer_t tick;
    uv_timer_t stats_timer;
    hb_signals_t signals;
    bool stopping;

    inflight_table_t inflight;
    ot_table_t overtime;
    counter_window_t *windows; /* one per served window, ascending */

    /* the Clone pattern: synced once a snapshot is applied */
    bool synced;
    bool snapshot_pending;
    int64_t snapshot_asked_us; /* monotonic */
    uint64_t last_seq;
    Hallbus__Envelope **buffer; /* events received while syncing, in order */
    unsigned buffered;
    bool buffer_overflow;

    counter_stats_t stats;
} counter_t;

counter_window_t *counter_window(counter_t *c, uint32_t number);

/* terminals.c: the ROUTER side. */
void terminals_on_msg(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg);
/* Sends REPLY to the terminal IDENTITY. */
void terminals_send(counter_t *c, const uint8_t *identity, size_t identity_len,
                    const Hallbus__Reply *reply);
void terminals_refuse(counter_t *c, const uint8_t *identity, size_t identity_len,
                      uint64_t request_id, Hallbus__StatusCode code, const char *msg);

/* forward.c: the DEALER to hall-queue. */
/* Sends REQ (its request_id replaced by the counter's own) and records
 * ENTRY in flight. Returns 0; or -1 with WHY when it cannot be sent. */
int forward_request(counter_t *c, Hallbus__Request *req, const inflight_t *entry, char *why,
                    size_t whylen);
void forward_on_msg(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg);
/* Answers requests that waited too long. */
void forward_expire(counter_t *c, int64_t now_mono_us);
/* Answers every terminal still waiting (at shutdown). */
void forward_abandon(counter_t *c, const char *why);

/* watch.c: the hall's events and snapshots. */
void watch_on_msg(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg);
/* Asks for a snapshot when not synced and none is awaited. */
void watch_tick(counter_t *c, int64_t now_mono_us);
void watch_on_snapshot(counter_t *c, const Hallbus__Reply *reply);
void watch_snapshot_failed(counter_t *c);
/* A window as hall-queue just answered it (open, pause, ...): learn it now
 * rather than when its event arrives. */
void watch_learn_window(counter_t *c, const Hallbus__Window *w);
void watch_free(counter_t *c);

/* timers.c: service timers. */
void timers_check(counter_t *c, int64_t now_us);

#endif
