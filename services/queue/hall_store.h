/* hall-queue's SQLite store: the tickets and windows as they are now, the
 * contacts (which never leave this store except to an authorised resolver),
 * and the journal of every event published, for readers that missed some. */
#ifndef HALLBUS_HALL_STORE_H
#define HALLBUS_HALL_STORE_H

#include <sqlite3.h>
#include <stdbool.h>

#include "hallbus.pb-c.h"
#include <stddef.h>
#include <stdint.h>

struct ticket_s;
struct window_s;
struct hall_s;

typedef struct hall_store_s hall_store_t;

/* Opens or creates the store at PATH (":memory:" for tests). */
hall_store_t *hall_store_open(const char *path, char *err, size_t errlen);
void hall_store_close(hall_store_t **self);

int hall_store_begin(hall_store_t *self);
int hall_store_commit(hall_store_t *self);
/* Rolls back the open transaction, if SQLite still has one open (after a
 * full disk it may have rolled it back itself). */
void hall_store_rollback(hall_store_t *self);
/* The last error, in words; and whether it was a full disk. */
const char *hall_store_errmsg(hall_store_t *self);
bool hall_store_full(hall_store_t *self);

int hall_store_save_ticket(hall_store_t *self, const struct ticket_s *t, const char *business_date);
/* CREATED_AT: when the citizen gave it; the retention counts from then. */
int hall_store_save_contact(hall_store_t *self, const char *ref, uint64_t ticket_id,
                            const char *contact, int64_t created_at);
int hall_store_save_window(hall_store_t *self, const struct window_s *w);
int hall_store_append_event(hall_store_t *self, uint64_t seq, int64_t ts, const char *kind,
                            const void *data, size_t len);
int hall_store_set_meta(hall_store_t *self, const char *key, const char *value);
/* Copies the value into OUT; returns 0, or -1 if absent. */
int hall_store_get_meta(hall_store_t *self, const char *key, char *out, size_t outlen);

/* Loads the tickets of BUSINESS_DATE, the windows and the counters into HALL. */
int hall_store_load(hall_store_t *self, struct hall_s *hall);

/* Journal entries with seq >= FROM_SEQ, at most MAX, in order: each is a
 * malloc'd copy in DATA[i]/LENS[i] (caller frees each and the arrays).
 * Returns how many, or -1. *OLDEST is the oldest seq the journal keeps (0
 * when it is empty). */
int hall_store_fetch_events(hall_store_t *self, uint64_t from_seq, unsigned max, uint8_t ***data,
                            size_t **lens, uint64_t *oldest);

/* The contact behind REF, with its ticket: 0, or -1 if none. Caller frees
 * *CONTACT, *NUMBER and *DATE. */
int hall_store_resolve_contact(hall_store_t *self, const char *ref, char **contact, char **number,
                               char **date);

/* Appointments and complaints, as the messages that describe them; what is
 * returned is the caller's (the matching __free_unpacked with a NULL
 * allocator). */
Hallbus__Appointment *hall_store_load_appointment(hall_store_t *self, const char *code);
void hall_store_free_appointment(Hallbus__Appointment *a);
int hall_store_save_appointment(hall_store_t *self, const Hallbus__Appointment *a);
/* Booked or checked-in appointments of one slot. */
unsigned hall_store_count_booked(hall_store_t *self, const char *service, const char *date,
                                 const char *slot);
/* Booked appointments whose slot began before NOW. */
Hallbus__AppointmentList *hall_store_booked_before(hall_store_t *self, int64_t now);
Hallbus__AppointmentList *hall_store_list_appointments(hall_store_t *self, const char *date,
                                                       const char *service);
/* With ID, that one complaint; else all (or the open ones). */
Hallbus__ComplaintList *hall_store_list_complaints(hall_store_t *self, bool open_only, uint64_t id);
/* Inserts (ID 0: gives it its id) or replaces. */
int hall_store_save_complaint(hall_store_t *self, Hallbus__Complaint *c);

/* Ticket NUMBER of DATE, any day, as a ticket_t in no line; the caller
 * frees it with hall_ticket_free. NULL if there is none. */
struct ticket_s *hall_store_load_ticket(hall_store_t *self, struct hall_s *hall, const char *date,
                                        const char *number);

/* When the accepted matter of ticket TICKET_ID was marked ready (0: not yet). */
int64_t hall_store_ready_at(hall_store_t *self, uint64_t ticket_id);
int hall_store_set_ready(hall_store_t *self, uint64_t ticket_id, int64_t at);

/* Privacy (hall_store_privacy.c). */
/* The id for a new appointment: one more than any so far. */
uint64_t hall_store_next_appointment_id(hall_store_t *self);
/* Deletes at most BATCH contacts created before BEFORE (none of an
 * appointment still booked). Returns how many, or -1. */
int hall_store_purge_contacts(hall_store_t *self, int64_t before, unsigned batch);
/* The evaluations of DATE (with a comment only, if COMMENTED_ONLY), in
 * ticket order; the caller's (hallbus__evaluation_list__free_unpacked). */
Hallbus__EvaluationList *hall_store_list_evaluations(hall_store_t *self, const char *date,
                                                     bool commented_only);

/* Drops journal entries older than BEFORE_TS, always keeping the newest. */
int hall_store_prune_events(hall_store_t *self, int64_t before_ts);

#endif
