/* Service timers: when each window's current service started, and which
 * time-limit warnings (限时办结) are due.
 *
 * A service whose target is T minutes is warned about once at T (level 1)
 * and once at 2T (level 2). One "minute" is UNIT_MS milliseconds (60000 in
 * a hall, less in tests). A warning that falls due together with the next
 * one (a counter that learns of a service late) is given once, at the
 * higher level. The table is fed from the hall's events; it holds only the
 * service in progress at each of the counter's windows, never the waiting
 * lines. Pure: the caller passes the time (wall clock, µs since the epoch,
 * as ticket.started_at is). */
#ifndef HALLBUS_COUNTER_OVERTIME_H
#define HALLBUS_COUNTER_OVERTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "hallbus.pb-c.h"

#define OT_NUMBER_MAX 16

typedef struct {
    uint32_t window;
    char number[OT_NUMBER_MAX]; /* ticket in service; "" when none */
    int64_t started_at;         /* µs since the epoch */
    uint32_t target_minutes;
    unsigned level_done; /* 0, 1 or 2: highest level warned about (or seen warned) */
} ot_slot_t;

typedef struct {
    ot_slot_t *slots; /* one per window served, ascending */
    unsigned count;
    uint32_t unit_ms;
} ot_table_t;

typedef struct {
    uint32_t window;
    char number[OT_NUMBER_MAX];
    unsigned level;
    uint32_t elapsed_seconds;
    uint32_t target_minutes;
} ot_due_t;

/* WINDOWS (ascending) are the counter's. Returns 0, or -1 out of memory. */
int ot_init(ot_table_t *t, const uint32_t *windows, unsigned count, uint32_t unit_ms);
void ot_free(ot_table_t *t);

/* The slot of WINDOW, or NULL when the counter does not serve it. */
ot_slot_t *ot_slot(ot_table_t *t, uint32_t window);

/* Service of ticket NUMBER began at STARTED_AT at WINDOW. The same ticket
 * and start again (a resync) keeps the warnings already given. Ignored for
 * a window the counter does not serve, or a target of 0 (no limit). */
void ot_start(ot_table_t *t, uint32_t window, const char *number, int64_t started_at,
              uint32_t target_minutes);
/* The service at WINDOW ended: finished, transferred, no-show, closed. */
void ot_clear(ot_table_t *t, uint32_t window);
void ot_clear_all(ot_table_t *t);
/* A warning of LEVEL for NUMBER at WINDOW was given (seen on the bus). */
void ot_mark(ot_table_t *t, uint32_t window, const char *number, unsigned level);

/* The warnings due at NOW_US, at most MAX into OUT; each is marked given.
 * Returns how many. */
unsigned ot_collect(ot_table_t *t, int64_t now_us, ot_due_t *out, unsigned max);

/* When the next warning falls due (µs since the epoch); -1 if none is pending. */
int64_t ot_next_due(const ot_table_t *t);

/* ── ot_events.c: what the hall's events mean for the timers ── */

/* The target minutes of service PREFIX (0: none). */
typedef uint32_t (*ot_target_fn)(const char *prefix, void *arg);

/* Applies one event of the hall, in sequence: ticket.started starts the
 * timer of its window (from the ticket's started_at, else the event's
 * time); ticket.finished, ticket.transferred (from its window),
 * ticket.no_show, a new ticket.called and window.closed end it; day.reset
 * ends them all; ticket.overtime marks its level as given. Other events,
 * and windows the table does not have, change nothing. */
void ot_apply_event(ot_table_t *t, const Hallbus__Envelope *env, ot_target_fn target, void *arg);

#endif
