/* What the files of the audit store share and nobody else sees: the store's
 * state and each hall's chain head. Owned by audit_store.c (open, destroy);
 * audit_chain.c keeps the heads, audit_read.c and audit_verify.c only read
 * through the connection. */
#ifndef HALLBUS_AUDIT_STORE_INTERNAL_H
#define HALLBUS_AUDIT_STORE_INTERNAL_H

#include <sqlite3.h>

#include "audit_store.h"

/* The columns of a record, in the order record_from_row and verify read them. */
#define AUDIT_COLUMNS                                                                              \
    "id, hall, seq, seq_to, type, received_at, kind, envelope, reason,"                            \
    " prev_hash, hash, bdate, ticket, win, staff"

/* A hall's head: where its next record chains from. */
typedef struct {
    char hall[AUDIT_HALL_MAX];
    uint8_t last_hash[AUDIT_HASH_LEN];
    uint64_t last_seq; /* last event seq or gap end */
} chain_t;

struct audit_store_s {
    sqlite3 *db;
    uint32_t rollover;
    bool in_txn;
    bool outbox_on;
    uint64_t last_id;
    chain_t *chains;
    size_t nchains, capchains;
    sqlite3_stmt *insert;
    audit_out_t *pending_head, **pending_tail; /* appended, not yet committed */
    audit_out_t *ready_head, **ready_tail;     /* committed, not yet taken */
    audit_counts_t counts;
    char error[256]; /* the last failed write, for the daemon's log */
    bool full;       /* ... and it failed for want of space */
};

/* HALL's head, read from the store (or its anchor) the first time; NULL when
 * CREATE is false and the hall has none, or out of memory. Owned by SELF. */
chain_t *audit_chain_find(audit_store_t *self, const char *hall, bool create);
/* Forgets the heads in memory and reads each hall's head and the last id
 * from the file. 0 or -1. */
int audit_chain_load(audit_store_t *self);

#endif
