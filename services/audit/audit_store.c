/* The audit store itself: open and close, appending records to each hall's
 * chain in a group-committed transaction, the outbox of committed records,
 * anchors, retention. */
#include "audit_store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_store_internal.h"
#include "hallbus/clock.h"
#include "hallbus/db.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS records("
    " id INTEGER PRIMARY KEY,"
    " hall TEXT NOT NULL, seq INTEGER NOT NULL, seq_to INTEGER NOT NULL,"
    " type INTEGER NOT NULL, received_at INTEGER NOT NULL, kind TEXT NOT NULL,"
    " envelope BLOB NOT NULL, reason TEXT NOT NULL,"
    " prev_hash BLOB NOT NULL, hash BLOB NOT NULL,"
    /* index columns, derived from the envelope for queries; verify checks them */
    " bdate TEXT NOT NULL, ticket TEXT NOT NULL, win INTEGER NOT NULL, staff TEXT NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS records_event ON records(hall, seq) WHERE type = 0;"
    "CREATE INDEX IF NOT EXISTS records_day ON records(hall, bdate);"
    /* no index on the ticket: queries name the hall and the day, and an index
     * of ticket numbers takes inserts all over the file (4x slower ingest) */
    "CREATE TABLE IF NOT EXISTS anchors(hall TEXT PRIMARY KEY, prev_hash BLOB NOT NULL,"
    " first_id INTEGER NOT NULL, note TEXT NOT NULL);"
    /* append-only: an update is refused (dropping the trigger is possible, and
     * verify finds what was done after that) */
    "CREATE TRIGGER IF NOT EXISTS records_append_only BEFORE UPDATE ON records"
    " BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;";

static const char INSERT[] =
    "INSERT INTO records(id, hall, seq, seq_to, type, received_at, kind, envelope, reason,"
    " prev_hash, hash, bdate, ticket, win, staff) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

audit_store_t *audit_store_open(const char *path, uint32_t rollover_minute, bool readonly,
                                char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium did not initialise");
        return NULL;
    }
    audit_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->rollover = rollover_minute;
    self->pending_tail = &self->pending_head;
    self->ready_tail = &self->ready_head;
    if (readonly) {
        if (sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s: %s", path,
                     self->db ? sqlite3_errmsg(self->db) : "cannot open");
            goto fail;
        }
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(self->db, "SELECT 1 FROM records LIMIT 1", -1, &st, NULL) !=
            SQLITE_OK) {
            snprintf(err, errlen, "%s: not an audit store (%s)", path, sqlite3_errmsg(self->db));
            goto fail;
        }
        sqlite3_finalize(st);
    } else {
        self->db = hb_db_open(path, err, errlen);
        if (!self->db)
            goto fail;
        if (sqlite3_exec(self->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(self->db));
            goto fail;
        }
        self->insert = hb_db_prepare(self->db, INSERT);
        if (!self->insert) {
            snprintf(err, errlen, "%s: cannot prepare the insert", path);
            goto fail;
        }
    }
    if (audit_chain_load(self) != 0) {
        snprintf(err, errlen, "%s: cannot read the chains", path);
        goto fail;
    }
    return self;
fail:
    audit_store_destroy(&self);
    return NULL;
}

void audit_out_free(audit_out_t *list)
{
    while (list) {
        audit_out_t *next = list->next;
        free(list);
        list = next;
    }
}

void audit_store_destroy(audit_store_t **pself)
{
    if (!pself || !*pself)
        return;
    audit_store_t *self = *pself;
    *pself = NULL;
    audit_store_commit(self);
    sqlite3_finalize(self->insert);
    sqlite3_close(self->db);
    audit_out_free(self->pending_head);
    audit_out_free(self->ready_head);
    free(self->chains);
    free(self);
}

void audit_store_set_outbox(audit_store_t *self, bool on)
{
    self->outbox_on = on;
}

/* ── appending ── */

static void abandon(audit_store_t *self);

static int begin(audit_store_t *self)
{
    if (self->in_txn)
        return 0;
    if (hb_db_exec(self->db, "BEGIN") != 0) {
        abandon(self);
        return -1;
    }
    self->in_txn = true;
    return 0;
}

/* Notes why the last write failed, before a ROLLBACK replaces the message. */
static void note_error(audit_store_t *self)
{
    snprintf(self->error, sizeof self->error, "%s", sqlite3_errmsg(self->db));
    self->full = (sqlite3_extended_errcode(self->db) & 0xff) == SQLITE_FULL;
}

/* The open transaction could not be completed (a full disk, most often):
 * nothing of it is stored, so the heads in memory go back to the file's and
 * the records appended in it are not handed out. */
static void abandon(audit_store_t *self)
{
    note_error(self);
    if (!sqlite3_get_autocommit(self->db))
        sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
    self->in_txn = false;
    audit_chain_load(self);
    audit_out_free(self->pending_head);
    self->pending_head = NULL;
    self->pending_tail = &self->pending_head;
}

int audit_store_commit(audit_store_t *self)
{
    if (!self->in_txn)
        return 0;
    if (hb_db_exec(self->db, "COMMIT") != 0) {
        abandon(self);
        return -1;
    }
    self->in_txn = false;
    if (self->pending_head) {
        *self->ready_tail = self->pending_head;
        self->ready_tail = self->pending_tail;
        self->pending_head = NULL;
        self->pending_tail = &self->pending_head;
    }
    return 0;
}

const char *audit_store_error(const audit_store_t *self)
{
    return self->error[0] ? self->error : "no error";
}

bool audit_store_full(const audit_store_t *self)
{
    return self->full;
}

audit_out_t *audit_store_take_outbox(audit_store_t *self)
{
    audit_out_t *list = self->ready_head;
    self->ready_head = NULL;
    self->ready_tail = &self->ready_head;
    return list;
}

typedef struct {
    uint64_t id;
    const char *hall;
    uint64_t seq, seq_to;
    int type;
    int64_t received_at;
    const char *kind;
    const uint8_t *bytes;
    size_t len;
    const char *reason;
    const uint8_t *prev_hash, *hash;
    const audit_index_t *index;
} row_t;

static void to_record(const row_t *r, Hallbus__AuditRecord *rec)
{
    rec->id = r->id;
    rec->hall_id = (char *)r->hall;
    rec->seq = r->seq;
    rec->seq_to = r->seq_to;
    rec->type = (Hallbus__AuditRecordType)r->type;
    rec->received_at = r->received_at;
    rec->kind = (char *)r->kind;
    rec->envelope.data = (uint8_t *)r->bytes;
    rec->envelope.len = r->len;
    rec->reason = (char *)(r->reason ? r->reason : "");
    rec->prev_hash.data = (uint8_t *)r->prev_hash;
    rec->prev_hash.len = AUDIT_HASH_LEN;
    rec->hash.data = (uint8_t *)r->hash;
    rec->hash.len = AUDIT_HASH_LEN;
}

static void outbox_add(audit_store_t *self, const row_t *r)
{
    Hallbus__AuditRecord rec = HALLBUS__AUDIT_RECORD__INIT;
    to_record(r, &rec);
    size_t len = hallbus__audit_record__get_packed_size(&rec);
    audit_out_t *o = malloc(sizeof *o + len);
    if (!o)
        return;
    o->next = NULL;
    snprintf(o->topic, sizeof o->topic, "audit.%s.%s", r->hall, r->kind);
    o->len = hallbus__audit_record__pack(&rec, o->data);
    *self->pending_tail = o;
    self->pending_tail = &o->next;
}

static int insert_row(audit_store_t *self, const row_t *r)
{
    sqlite3_stmt *st = self->insert;
    static const audit_index_t none = {{0}, {0}, 0, {0}};
    const audit_index_t *ix = r->index ? r->index : &none;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->id);
    sqlite3_bind_text(st, 2, r->hall, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)r->seq);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)r->seq_to);
    sqlite3_bind_int(st, 5, r->type);
    sqlite3_bind_int64(st, 6, r->received_at);
    sqlite3_bind_text(st, 7, r->kind, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 8, r->len ? (const void *)r->bytes : "", (int)r->len, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, r->reason ? r->reason : "", -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 10, r->prev_hash, AUDIT_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 11, r->hash, AUDIT_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, ix->bdate, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, ix->ticket, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 14, ix->window);
    sqlite3_bind_text(st, 15, ix->staff, -1, SQLITE_STATIC);
    return hb_db_step_done(st);
}

static int append(audit_store_t *self, row_t *r)
{
    if (!self->insert || begin(self) != 0)
        return -1;
    chain_t *c = audit_chain_find(self, r->hall, true);
    if (!c)
        return -1;
    uint8_t hash[AUDIT_HASH_LEN], prev[AUDIT_HASH_LEN];
    memcpy(prev, c->last_hash, AUDIT_HASH_LEN);
    audit_record_hash(prev, r->hall, r->seq, r->seq_to, r->type, r->received_at, r->kind, r->reason,
                      r->bytes, r->len, hash);
    r->id = self->last_id + 1;
    r->prev_hash = prev;
    r->hash = hash;
    if (insert_row(self, r) != 0) {
        /* SQLite may have rolled back the whole transaction (SQLITE_FULL):
         * the records before this one in it are gone too */
        abandon(self);
        return -1;
    }
    self->last_id = r->id;
    memcpy(c->last_hash, hash, AUDIT_HASH_LEN);
    if (r->type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT && r->seq > c->last_seq)
        c->last_seq = r->seq;
    if (r->type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_GAP && r->seq_to > c->last_seq)
        c->last_seq = r->seq_to;
    if (self->outbox_on)
        outbox_add(self, r);
    return 0;
}

int audit_store_append_event(audit_store_t *self, const Hallbus__Envelope *env,
                             const uint8_t *bytes, size_t len, int64_t received_at)
{
    audit_index_t ix;
    audit_index_of(env, self->rollover, &ix);
    row_t r = {.hall = env->hall_id,
               .seq = env->seq,
               .type = HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT,
               .received_at = received_at,
               .kind = hb_event_kind(env),
               .bytes = bytes,
               .len = len,
               .index = &ix};
    if (append(self, &r) != 0)
        return -1;
    self->counts.events++;
    return 0;
}

int audit_store_append_gap(audit_store_t *self, const char *hall, uint64_t from, uint64_t to,
                           const char *reason, int64_t received_at)
{
    audit_index_t ix = {{0}, {0}, 0, {0}};
    hb_business_date(received_at, self->rollover, ix.bdate);
    row_t r = {.hall = hall,
               .seq = from,
               .seq_to = to,
               .type = HALLBUS__AUDIT_RECORD_TYPE__AUDIT_GAP,
               .received_at = received_at,
               .kind = "gap",
               .reason = reason,
               .index = &ix};
    if (append(self, &r) != 0)
        return -1;
    self->counts.gaps++;
    return 0;
}

int audit_store_append_rejected(audit_store_t *self, const char *hall, const uint8_t *bytes,
                                size_t len, const char *reason, int64_t received_at)
{
    audit_index_t ix = {{0}, {0}, 0, {0}};
    hb_business_date(received_at, self->rollover, ix.bdate);
    row_t r = {.hall = hall ? hall : "?",
               .type = HALLBUS__AUDIT_RECORD_TYPE__AUDIT_REJECTED,
               .received_at = received_at,
               .kind = "rejected",
               .bytes = bytes,
               .len = len,
               .reason = reason,
               .index = &ix};
    if (append(self, &r) != 0)
        return -1;
    self->counts.rejected++;
    return 0;
}

int audit_store_import(audit_store_t *self, const Hallbus__AuditRecord *rec)
{
    if (!self->insert || begin(self) != 0 || rec->prev_hash.len != AUDIT_HASH_LEN ||
        rec->hash.len != AUDIT_HASH_LEN)
        return -1;
    audit_index_t ix = {{0}, {0}, 0, {0}};
    Hallbus__Envelope *env = NULL;
    if (rec->type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT &&
        hb_envelope_decode(rec->envelope.data, rec->envelope.len, &env, NULL) == HB_DECODE_OK) {
        audit_index_of(env, self->rollover, &ix);
        hallbus__envelope__free_unpacked(env, NULL);
    } else {
        hb_business_date(rec->received_at, self->rollover, ix.bdate);
    }
    row_t r = {.id = rec->id,
               .hall = rec->hall_id,
               .seq = rec->seq,
               .seq_to = rec->seq_to,
               .type = (int)rec->type,
               .received_at = rec->received_at,
               .kind = rec->kind,
               .bytes = rec->envelope.data,
               .len = rec->envelope.len,
               .reason = rec->reason,
               .prev_hash = rec->prev_hash.data,
               .hash = rec->hash.data,
               .index = &ix};
    if (insert_row(self, &r) != 0)
        return -1;
    if (rec->id > self->last_id)
        self->last_id = rec->id;
    return 0;
}

int audit_store_set_anchor(audit_store_t *self, const char *hall, const uint8_t *prev_hash,
                           uint64_t first_id, const char *note)
{
    if (begin(self) != 0)
        return -1;
    sqlite3_stmt *st = hb_db_prepare(
        self->db,
        "INSERT OR REPLACE INTO anchors(hall, prev_hash, first_id, note) VALUES(?,?,?,?)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, hall, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, prev_hash, AUDIT_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)first_id);
    sqlite3_bind_text(st, 4, note ? note : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

uint64_t audit_store_last_seq(audit_store_t *self, const char *hall)
{
    chain_t *c = audit_chain_find(self, hall, false);
    return c ? c->last_seq : 0;
}

uint64_t audit_store_last_id(audit_store_t *self)
{
    return self->last_id;
}

audit_counts_t audit_store_counts(const audit_store_t *self)
{
    return self->counts;
}

/* ── retention ── */

long audit_store_prune(audit_store_t *self, int64_t before_us)
{
    if (!self->insert || audit_store_commit(self) != 0 || begin(self) != 0)
        return -1;
    long deleted = 0;
    for (size_t i = 0; i < self->nchains; i++) {
        const char *hall = self->chains[i].hall;
        /* the first record to keep: the first received after BEFORE, or the latest */
        sqlite3_stmt *st = hb_db_prepare(
            self->db,
            "SELECT id, prev_hash FROM records WHERE hall = ?1 AND id >="
            " min(coalesce((SELECT min(id) FROM records WHERE hall = ?1 AND"
            " received_at >= ?2), 1 << 62), (SELECT max(id) FROM records WHERE hall = ?1))"
            " ORDER BY id LIMIT 1");
        if (!st)
            return -1;
        sqlite3_bind_text(st, 1, hall, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, before_us);
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_bytes(st, 1) != AUDIT_HASH_LEN) {
            sqlite3_finalize(st);
            continue;
        }
        uint64_t keep = (uint64_t)sqlite3_column_int64(st, 0);
        uint8_t prev[AUDIT_HASH_LEN];
        memcpy(prev, sqlite3_column_blob(st, 1), AUDIT_HASH_LEN);
        sqlite3_finalize(st);
        st = hb_db_prepare(self->db, "DELETE FROM records WHERE hall = ? AND id < ?");
        if (!st)
            return -1;
        sqlite3_bind_text(st, 1, hall, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)keep);
        sqlite3_step(st);
        long n = sqlite3_changes(self->db);
        sqlite3_finalize(st);
        if (n > 0) {
            char note[96];
            snprintf(note, sizeof note, "retention: %ld older record(s) deleted", n);
            audit_store_set_anchor(self, hall, prev, keep, note);
            deleted += n;
        }
    }
    if (audit_store_commit(self) != 0)
        return -1;
    return deleted;
}
