/* The durable outbox: every notification is a row, committed before the
 * first attempt, and moves pending -> sent | failed | expired. With it, the
 * cursor: the last hall event whose notifications are in the outbox, so that
 * a restart picks up exactly where the last commit left off.
 *
 * Writes collect in one transaction that nt_outbox_commit() ends (group
 * commit: one fsync per loop turn, not per row). Only the opaque contact
 * reference is stored; the contact itself never is. */
#ifndef NOTIFIER_OUTBOX_H
#define NOTIFIER_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "retry.h"

typedef struct nt_outbox_s nt_outbox_t;

/* Opens (creating) PATH. NULL with ERR on failure. */
nt_outbox_t *nt_outbox_open(const char *path, char *err, size_t errlen);
/* Commits what is pending. NULL-safe; sets *SELF to NULL. */
void nt_outbox_close(nt_outbox_t **self);

/* Ends the open transaction, if any. 0, or -1 (logged): the transaction
 * is rolled back, so nothing written since the last commit is stored (the
 * cursor included: read it again with nt_outbox_cursor). */
int nt_outbox_commit(nt_outbox_t *self);
/* Abandons the open transaction, if any (after a write that failed). */
void nt_outbox_rollback(nt_outbox_t *self);
bool nt_outbox_dirty(const nt_outbox_t *self);
/* SQLite's words for the last error ("database or disk is full"). */
const char *nt_outbox_error(nt_outbox_t *self);

typedef struct {
    const char *key; /* idempotency key, unique */
    const char *hall;
    uint64_t seq;
    int kind; /* hb_note_kind_t */
    const char *ticket;
    const char *business_date;
    const char *contact_ref;
    const char *text_zh, *text_en;
    const char *fields_json; /* {"number":"A001",...} */
    int64_t event_ts, created_at, deadline;
    int64_t not_before; /* first attempt not before this (0: at once) */
} nt_new_msg_t;

/* 1 added (pending, or expired if its deadline is already past), 0 a row
 * with that key exists (nothing changed), -1 error. */
int nt_outbox_add(nt_outbox_t *self, const nt_new_msg_t *msg);

uint64_t nt_outbox_cursor(nt_outbox_t *self, const char *hall);
int nt_outbox_set_cursor(nt_outbox_t *self, const char *hall, uint64_t seq);

/* A row as the sender needs it; strings are owned (nt_msg_free). */
typedef struct {
    int64_t id;
    char *key, *hall, *ticket, *business_date, *contact_ref, *text_zh, *text_en, *fields_json;
    uint64_t seq;
    int kind;
    uint32_t attempts;
    int64_t event_ts, deadline;
} nt_msg_t;

void nt_msg_free(nt_msg_t *msg);

/* Marks pending rows whose deadline is past as expired; returns how many. */
int nt_outbox_expire(nt_outbox_t *self, int64_t now_us);

/* Up to MAX pending rows due at NOW, oldest first, skipping the ids for
 * which SKIP(arg, id) is true (attempts in flight). Returns how many. */
int nt_outbox_due(nt_outbox_t *self, int64_t now_us, nt_msg_t *out, int max,
                  bool (*skip)(void *arg, int64_t id), void *arg);

/* Records an attempt's end: the new state, attempts so far, next attempt
 * (for pending), the channel tried and the error (NULL on success). */
int nt_outbox_record(nt_outbox_t *self, int64_t id, nt_state_t state, uint32_t attempts,
                     int64_t next_at, const char *channel, const char *error, int64_t now_us);

/* A pending message that is no longer wanted (an appointment cancelled
 * before its reminder): marked failed with WHY. 1 if one was, else 0. */
int nt_outbox_withdraw(nt_outbox_t *self, const char *key, const char *why, int64_t now_us);

/* Deletes settled rows (sent, failed, expired) last changed before BEFORE;
 * returns how many. */
int nt_outbox_prune(nt_outbox_t *self, int64_t before_us);

/* Counts per state. */
int nt_outbox_counts(nt_outbox_t *self, unsigned counts[4]);

/* The state of row ID, or -1 if there is none. */
int nt_outbox_state(nt_outbox_t *self, int64_t id);

/* One row as the query endpoint shows it; strings owned (nt_entry_free). */
typedef struct {
    int64_t id;
    char *key, *ticket, *channel, *last_error;
    int kind;
    nt_state_t state;
    uint32_t attempts;
    int64_t event_ts, next_at, deadline, sent_at;
} nt_entry_t;

void nt_entry_free(nt_entry_t *e);

/* Up to MAX rows into OUT, newest first: all of them with ALL, else all
 * but the sent ones. Returns how many, or -1. */
int nt_outbox_list(nt_outbox_t *self, bool all, int max, nt_entry_t *out);

/* Ids of up to MAX failed or expired rows into OUT; returns how many. */
int nt_outbox_unsettled_ids(nt_outbox_t *self, int64_t *out, int max);

/* Makes row ID pending again, due at NOW, its deadline at least NOW plus
 * DEADLINE_S[kind] (KINDS entries). Only a failed or expired row changes.
 * Returns the state it had (NT_PENDING or NT_SENT: unchanged), -1 if there
 * is no such row, -2 on a store error. In the open transaction. */
int nt_outbox_retry(nt_outbox_t *self, int64_t id, int64_t now_us, const uint32_t *deadline_s,
                    int kinds);

#endif
