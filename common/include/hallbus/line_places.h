/* Every waiting ticket's place in its service's line, as hall-queue says
 * it: a follower's table, kept with no knowledge of the calling rules.
 *
 * hall-queue owns the order of each service's line (proto: "Lines"). A
 * snapshot gives each waiting ticket's place (Ticket.place); each event
 * then carries the changes it made (Envelope.line_changes): "ticket T
 * entered service S's line at place P" (those at P and behind move back
 * one) or "T left place P" (those behind move up one). This module applies
 * them. It does no I/O and keeps no ticket data but ids: a follower keeps
 * what else it needs about a ticket itself.
 *
 * Costs: a change at either end of a line (a new ticket at the back, the
 * next one called from the front) is O(1); in general a change or a place
 * look-up costs the ticket's distance from the nearer end of its line. */
#ifndef HALLBUS_LINE_PLACES_H
#define HALLBUS_LINE_PLACES_H

#include <stddef.h>
#include <stdint.h>

#include "hallbus.pb-c.h"

typedef struct hb_line_places_s hb_line_places_t;

/* A table with every line empty. Never NULL (alloc.h's policy). */
hb_line_places_t *hb_line_places_new(void);
/* NULL-safe; sets *self to NULL. */
void hb_line_places_destroy(hb_line_places_t **self);

/* Empties every line. */
void hb_line_places_clear(hb_line_places_t *self);

/* Replaces the table with SNAP's WAITING tickets at their places. Returns
 * 0, or -1 when the places do not make whole lines (the table is still
 * filled, in the best order it can tell). */
int hb_line_places_load(hb_line_places_t *self, const Hallbus__Snapshot *snap);

/* Applies ENV's line changes in order; a day.reset empties every line
 * first. Returns 0, or -1 when a change does not fit the table (an unknown
 * ticket, a place past the end): the follower is out of step and should
 * take a snapshot. */
int hb_line_places_apply(hb_line_places_t *self, const Hallbus__Envelope *env);

/* One change each; 0 or -1 as above. SERVICE is copied. */
int hb_line_places_insert(hb_line_places_t *self, const char *service, uint64_t id, uint32_t place);
int hb_line_places_remove(hb_line_places_t *self, uint64_t id);

/* ID's place in its line (0 = next), or -1 when it is in no line. */
int64_t hb_line_places_place(const hb_line_places_t *self, uint64_t id);
/* The service whose line holds ID, or NULL; valid while ID is in it. */
const char *hb_line_places_service(const hb_line_places_t *self, uint64_t id);
/* Tickets in SERVICE's line (0 for a service never seen). */
uint32_t hb_line_places_count(const hb_line_places_t *self, const char *service);
/* The first at most MAX ids of SERVICE's line, in order, into OUT;
 * returns how many. */
size_t hb_line_places_first(const hb_line_places_t *self, const char *service, uint64_t *out,
                            size_t max);
/* Tickets in every line. */
size_t hb_line_places_total(const hb_line_places_t *self);

#endif
