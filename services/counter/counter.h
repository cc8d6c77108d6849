/* hall-counter: what its files share.
 *
 * One counter serves a set of windows of one hall. Its loop watches three
 * sockets: the shared REQ-framed server (hb_server, hallbus/server.h) where
 * window terminals send commands (terminals.c), the shared async client
 * (hb_client, hallbus/client.h) to hall-queue, through which it forwards
 * them and sends its own requests (forward.c), and the shared follower
 * (hb_follow_sub, hallbus/follow_sub.h) of the hall's events, from which it
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
#include "hallbus/accounts.h"
#include "hallbus/client.h"
#include "hallbus/config.h"
#include "hallbus/follow_sub.h"
#include "hallbus/lockout.h"
#include "hallbus/security.h"
#include "hallbus/server.h"
#include "hallbus/signals.h"
#include "overtime.h"
#include "route.h"
#include "sessions.h"

#define COUNTER_NOTICE_MAX 200

/* What the counter knows of one of its windows, from the hall's events. */
typedef struct {
    uint32_t number;
    Hallbus__WindowState state; /* WINDOW_STATE_UNSPECIFIED until learnt */
    char staff[ROUTE_STAFF_MAX + 1];
    char notice[COUNTER_NOTICE_MAX]; /* for the next reply to this window's terminal */
} counter_window_t;

typedef struct {
    unsigned long forwarded; /* terminal commands sent on to hall-queue */
    unsigned long answered;  /* replies relayed back */
    unsigned long refused;   /* refused by the counter itself (bad bytes and framing are
                                counted by the server: hb_server_counters) */
    unsigned long unknown;   /* commands a counter does not take */
    unsigned long timeouts;  /* hall-queue did not answer in time (late replies are
                                dropped by the client: hb_client_counters) */
    unsigned long overtime;  /* warnings given (snapshots and bad events: the follower's
                                hb_follow_sub_counters) */
} counter_stats_t;

typedef struct {
    uv_loop_t *loop;
    hb_config_t *config;
    hb_counter_instance_t self; /* this counter: id, endpoint, windows (owned copy) */
    route_table_t route;
    char actor[64]; /* "hall-counter/c1" */

    void *ctx;
    hb_security_t *security; /* CURVE: its key (hall-counter[-ID]), allow-list, ZAP */
    hb_server_t *terminals;  /* the terminals' REQ-framed ROUTER */
    hb_client_t *queue;      /* requests to hall-queue */
    hb_follow_sub_t *follow; /* the hall's events, the Clone way */
    uv_timer_t tick;
    uv_timer_t stats_timer;
    hb_signals_t signals;
    bool stopping;

    ot_table_t overtime;
    counter_window_t *windows; /* one per served window, ascending */

    uint64_t last_seq; /* the hall's seq last applied (a snapshot's, then each event's) */

    /* who may sign on, and who has (signon.c) */
    hb_accounts_t *accounts;     /* security.accounts, re-read when it changes */
    int64_t accounts_checked;    /* when the file was last looked at */
    hb_lockout_t *lock_staff;    /* wrong passwords by staff id */
    hb_lockout_t *lock_terminal; /* and by terminal */
    sessions_t sessions;         /* one per window */
    unsigned checks_running;     /* password checks in the thread pool */

    counter_stats_t stats;
} counter_t;

counter_window_t *counter_window(counter_t *c, uint32_t number);

/* terminals.c: the terminals' side, on the shared server. */
/* Binds the terminals' endpoint (c->self.endpoint) into c->terminals. 0 or -1. */
int terminals_open(counter_t *c);
/* Sends REPLY (borrowed) to the terminal at ROUTE. */
void terminals_send(counter_t *c, const hb_route_t *route, const Hallbus__Reply *reply);
void terminals_refuse(counter_t *c, const hb_route_t *route, uint64_t request_id,
                      Hallbus__StatusCode code, const char *msg);

/* forward.c: requests to hall-queue, through the shared client. */
/* Connects c->queue to hall-queue's command endpoint. 0 or -1. */
int forward_open(counter_t *c);
/* Forwards a terminal's command REQ (borrowed) to hall-queue, due within
 * counter.request_timeout_ms; the reply, or the INTERNAL error that stands
 * for it (time-out, unreadable reply, shutdown), goes back to ROUTE with
 * the terminal's own request_id, and the overtime notice of WINDOW (0:
 * none) in its window_notice. 0; or -1 with WHY when it cannot be sent (no
 * callback then). */
int forward_command(counter_t *c, const hb_route_t *route, Hallbus__Request *req, uint32_t window,
                    char *why, size_t whylen);
/* Sends one of the counter's own requests (REQ borrowed), due within
 * counter.request_timeout_ms; CB(ARG) runs once with the outcome. 0; or -1
 * with WHY when it cannot be sent (no callback then). */
int forward_send(counter_t *c, Hallbus__Request *req, hb_client_cb cb, void *arg, char *why,
                 size_t whylen);

/* watch.c: the hall's events and snapshots, through the shared follower. */
/* Opens c->follow on the bus and hall-queue and asks for the first
 * snapshot. 0 or -1. */
int watch_open(counter_t *c);
/* What the counter makes of SNAPSHOT (borrowed): who is at its windows, and
 * a timer for each service in progress there; last_seq is its seq. */
void watch_load(counter_t *c, const Hallbus__Snapshot *snapshot);
/* What the counter makes of ENV (borrowed), the next event in sequence: its
 * services' timers, and who is at its windows; last_seq is its seq. */
void watch_apply(counter_t *c, const Hallbus__Envelope *env);
/* A window as hall-queue just answered it (open, pause, ...): learn it now
 * rather than when its event arrives. */
void watch_learn_window(counter_t *c, const Hallbus__Window *w);

/* signon.c: signing on and off, and the sessions' hold on window commands. */
/* Loads the staff accounts (security.accounts) and makes the lockouts and
 * the session table. 0, or -1 (out of memory). A file that cannot be read
 * is logged: no one signs on until it is fixed. */
int signon_open(counter_t *c);
void signon_close(counter_t *c);
/* A SignOn (REQ borrowed; its password is wiped at once): the password is
 * checked in the thread pool, the outcome recorded at hall-queue, the
 * terminal at ROUTE answered (with Reply.session on success). */
void signon_start(counter_t *c, const hb_route_t *route, Hallbus__Request *req);
/* A SignOff: ends the session REQ carries, on the record; answers ROUTE. */
void signon_off(counter_t *c, const hb_route_t *route, Hallbus__Request *req);
/* A window command REQ at WINDOW: OK when its Request.session may act
 * there, Request.staff (and OpenWindow.staff) then set from the session
 * and Request.session cleared; else the refusal with MSG. */
Hallbus__StatusCode signon_apply(counter_t *c, Hallbus__Request *req, uint32_t window, char *msg,
                                 size_t msglen);
/* Ends the sessions that expired, fell idle, or whose account is disabled
 * or gone (the accounts file is looked at every second, or now with
 * FORCE_RELOAD), and records each. */
void signon_tick(counter_t *c, int64_t now, bool force_reload);
/* Records N ended sessions (staff.signed_off). */
void signon_record_ended(counter_t *c, const session_ended_t *ended, unsigned n);

/* timers.c: service timers. */
void timers_check(counter_t *c, int64_t now_us);

#endif
