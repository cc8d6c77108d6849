/* The hall as its boards show it: services with waiting counts and
 * estimated waits, windows with the ticket they serve, the last calls, and
 * the announcements to speak. Built from a Snapshot, then kept current by
 * applying events in sequence order. No I/O: hall-display's sockets feed it
 * (sync.h decides what to apply), and unit tests drive it directly.
 *
 * Boards show ticket numbers only: nothing here keeps a contact. */
#ifndef DISPLAY_VIEW_H
#define DISPLAY_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "hallbus.pb-c.h"
#include "hallbus/config.h"

#define DV_NUMBER_MAX 16
#define DV_CALLS_MAX 10     /* as many as a Snapshot's recent_calls */
#define DV_ANNOUNCE_RING 64 /* announcements kept for clients that reconnect */
#define DV_TEXT_MAX 128

typedef struct {
    char number[DV_NUMBER_MAX];
    uint32_t window;
    int64_t at; /* when it was (last) called, µs since the epoch */
    bool green;
    uint32_t recalls;
} dv_call_t;

typedef struct {
    char prefix[8];
    char *name;
    char *name_en;
    uint32_t waiting;
    uint32_t waiting_green;
    uint32_t estimated_wait_s;
    uint32_t open_windows;
} dv_service_t;

typedef struct {
    uint32_t number;
    Hallbus__WindowState state;
    char *staff;
    char *pause_reason;
    char serving[DV_NUMBER_MAX]; /* "" if none */
    bool serving_green;
    char **services; /* prefixes */
    size_t nservices;
} dv_window_t;

typedef struct dv_ticket_s {
    char number[DV_NUMBER_MAX];
    char service[8];
    Hallbus__TicketState state;
    bool green;
    UT_hash_handle hh;
} dv_ticket_t;

/* One announcement: "请 A012 号到 3 号窗口办理" / "Ticket A012, please go to window 3".
 * ID is the call's instant (µs), unique and increasing within a hall, so
 * that a client reconnecting with the last id it heard gets what followed,
 * even from another hall-display. */
typedef struct {
    int64_t id;
    uint64_t seq; /* the event's; 0 when learnt from a snapshot after a gap */
    char number[DV_NUMBER_MAX];
    uint32_t window;
    uint32_t recall; /* 0 for the first call */
    bool green;
    char zh[DV_TEXT_MAX];
    char en[DV_TEXT_MAX];
} dv_announce_t;

typedef struct {
    char *hall_id;
    char *hall_name;
    char *hall_name_en;
    char business_date[16];
    uint64_t seq;
    bool loaded; /* a snapshot has been applied */
    dv_service_t *services;
    size_t nservices;
    dv_window_t *windows;
    size_t nwindows;
    dv_ticket_t *tickets;          /* today's tickets that are not final, by number */
    dv_call_t calls[DV_CALLS_MAX]; /* newest first, one per ticket */
    size_t ncalls;
    dv_announce_t ring[DV_ANNOUNCE_RING]; /* the last announcements, oldest first from ring_start */
    size_t ring_start, ring_count;
    dv_announce_t *pending; /* made since the last dv_view_take_pending */
    size_t npending, cap_pending;
    uint64_t version; /* bumped on every change a board would show */
    const hb_config_t *config;
} dv_view_t;

/* CONFIG gives the hall's names and the services' English names; it must
 * outlive the view. Never NULL (out of memory stops the daemon: alloc.h). */
dv_view_t *dv_view_new(const hb_config_t *config);
/* NULL-safe; sets *self to NULL. */
void dv_view_destroy(dv_view_t **self);

#define DV_ANNOUNCE_MAX_AGE_US (120 * 1000000LL) /* calls missed in a gap: still worth saying */

/* Replaces the whole state with SNAP (not kept). When the view was loaded
 * before (a resync), calls in SNAP that it had not seen, made at most
 * ANNOUNCE_MAX_AGE_US (DV_ANNOUNCE_MAX_AGE_US) before SNAP's time, are announced too, oldest first,
 * so that a gap loses no announcement. */
void dv_view_load(dv_view_t *self, const Hallbus__Snapshot *snap, int64_t announce_max_age_us);

/* Applies one event of this hall that follows the view's seq (the caller
 * checks the order: see sync.h), with the service summaries it carries. A
 * heartbeat of the view's seq refreshes every service's summary. */
void dv_view_apply(dv_view_t *self, const Hallbus__Envelope *env);

/* Announcements made since the last call; valid until the next
 * dv_view_apply/dv_view_load. Empties the list. */
const dv_announce_t *dv_view_take_pending(dv_view_t *self, size_t *n);

/* The kept announcements with id > AFTER, oldest first, into OUT (at most
 * MAX); returns how many. */
size_t dv_view_announcements_after(const dv_view_t *self, int64_t after, const dv_announce_t **out,
                                   size_t max);

/* The announcement texts for a call of NUMBER to WINDOW. */
void dv_announce_texts(const char *number, uint32_t window, char zh[DV_TEXT_MAX],
                       char en[DV_TEXT_MAX]);

const dv_window_t *dv_view_window(const dv_view_t *self, uint32_t number);
const dv_service_t *dv_view_service(const dv_view_t *self, const char *prefix);

#endif
