/* The audit store: an append-only SQLite table of records, one hash chain
 * per hall.
 *
 * Each record is an event exactly as received, a gap (events that could not
 * be recovered, recorded as such), or rejected bytes with the reason. Its
 * hash is SHA-256 (libsodium) over the previous record's hash of the same
 * hall, the record's fields in a fixed layout, and the bytes:
 *
 *   hash = SHA-256( prev_hash[32] || "hallbus-audit-v1" 0x00
 *                   || hall 0x00 || u64be seq || u64be seq_to || u8 type
 *                   || i64be received_at || kind 0x00 || reason 0x00
 *                   || u64be len || envelope[len] )
 *
 * The first record of a hall has 32 zero bytes as prev_hash, unless the
 * store holds an anchor for the hall (retention pruned the older records,
 * or the file is an export of a range): then the anchor's hash.
 *
 * Appends go into a transaction begun on the first append; audit_store_commit
 * makes them durable (synchronous=FULL) in one fsync: group commit. */
#ifndef HALLBUS_AUDIT_STORE_H
#define HALLBUS_AUDIT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.pb-c.h"
#include "audit_chain.h"
#include "audit_index.h"
#include "hallbus.pb-c.h"

#define AUDIT_HALL_MAX 33
#define AUDIT_HISTORY_MAX 5000

typedef struct audit_store_s audit_store_t;

/* Opens (creating) the store at PATH. ROLLOVER_MINUTE places the business
 * date of records that carry none (window events, gaps): see hb_business_date.
 * READONLY: for verifying a file; no schema is created. NULL with ERR. */
audit_store_t *audit_store_open(const char *path, uint32_t rollover_minute, bool readonly,
                                char *err, size_t errlen);
/* NULL-safe; commits what is pending; sets *self to NULL. */
void audit_store_destroy(audit_store_t **self);

/* When on, every append also packs its AuditRecord into an outbox that
 * audit_store_take_outbox hands out once committed (for the recorded stream). */
void audit_store_set_outbox(audit_store_t *self, bool on);

/* Appends; 0, or -1 on a storage error (logged). ENV is BYTES decoded. */
int audit_store_append_event(audit_store_t *self, const Hallbus__Envelope *env,
                             const uint8_t *bytes, size_t len, int64_t received_at);
int audit_store_append_gap(audit_store_t *self, const char *hall, uint64_t from, uint64_t to,
                           const char *reason, int64_t received_at);
/* HALL may be NULL for bytes whose hall is unknown ("?"). */
int audit_store_append_rejected(audit_store_t *self, const char *hall, const uint8_t *bytes,
                                size_t len, const char *reason, int64_t received_at);
/* Copies REC verbatim (id and hashes included): for writing an export. */
int audit_store_import(audit_store_t *self, const Hallbus__AuditRecord *rec);
/* Sets the hash the chain of HALL starts from, and the id of its first record. */
int audit_store_set_anchor(audit_store_t *self, const char *hall, const uint8_t *prev_hash,
                           uint64_t first_id, const char *note);

/* Commits the open transaction, if any. 0 or -1. */
int audit_store_commit(audit_store_t *self);

/* A failed append or commit (a full disk, most often) abandons the whole open
 * transaction: none of its records is stored or handed out, and the heads
 * (audit_store_last_seq, _last_id) are the file's again. These say why the
 * last write failed (a static string owned by SELF) and whether for want of
 * space. */
const char *audit_store_error(const audit_store_t *self);
bool audit_store_full(const audit_store_t *self);

/* One committed record, packed, with its topic ("audit.<hall>.<kind>"). */
typedef struct audit_out_s {
    struct audit_out_s *next;
    char topic[96];
    size_t len;
    uint8_t data[];
} audit_out_t;
/* The records committed since the last call, in id order; caller frees with
 * audit_out_free. */
audit_out_t *audit_store_take_outbox(audit_store_t *self);
void audit_out_free(audit_out_t *list);

/* The last seq stored for HALL (event or gap end); 0 when none. */
uint64_t audit_store_last_seq(audit_store_t *self, const char *hall);
uint64_t audit_store_last_id(audit_store_t *self);

/* Deletes records received before BEFORE_US, keeping each hall's chain
 * checkable (an anchor holds the hash the rest starts from) and its latest
 * record. Returns the number deleted, or -1. */
long audit_store_prune(audit_store_t *self, int64_t before_us);

/* Counters since open. */
typedef struct {
    uint64_t events, gaps, rejected;
} audit_counts_t;
audit_counts_t audit_store_counts(const audit_store_t *self);

/* Reading (audit_read.c) and verifying (audit_verify.c) a store. */
#include "audit_read.h"
#include "audit_verify.h"

#endif
