#include "audit_store.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/clock.h"
#include "hallbus/db.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"

#define HASH_DOMAIN "hallbus-audit-v1"

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
};

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

static const char COLUMNS[] = "id, hall, seq, seq_to, type, received_at, kind, envelope, reason,"
                              " prev_hash, hash, bdate, ticket, win, staff";

/* ── the hash ── */

static void put_u64(crypto_hash_sha256_state *st, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    crypto_hash_sha256_update(st, b, 8);
}

static void put_str(crypto_hash_sha256_state *st, const char *s)
{
    crypto_hash_sha256_update(st, (const uint8_t *)s, strlen(s) + 1);
}

void audit_record_hash(const uint8_t prev[AUDIT_HASH_LEN], const char *hall, uint64_t seq,
                       uint64_t seq_to, int type, int64_t received_at, const char *kind,
                       const char *reason, const uint8_t *bytes, size_t len,
                       uint8_t out[AUDIT_HASH_LEN])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, prev, AUDIT_HASH_LEN);
    put_str(&st, HASH_DOMAIN);
    put_str(&st, hall);
    put_u64(&st, seq);
    put_u64(&st, seq_to);
    uint8_t t = (uint8_t)type;
    crypto_hash_sha256_update(&st, &t, 1);
    put_u64(&st, (uint64_t)received_at);
    put_str(&st, kind);
    put_str(&st, reason ? reason : "");
    put_u64(&st, len);
    if (len)
        crypto_hash_sha256_update(&st, bytes, len);
    crypto_hash_sha256_final(&st, out);
}

/* ── index columns ── */

static const Hallbus__Ticket *ticket_of(const Hallbus__Envelope *env)
{
    switch (env->event_case) {
    case HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED:
        return env->ticket_issued->ticket;
    case HALLBUS__ENVELOPE__EVENT_TICKET_CALLED:
        return env->ticket_called->ticket;
    case HALLBUS__ENVELOPE__EVENT_TICKET_RECALLED:
        return env->ticket_recalled->ticket;
    case HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW:
        return env->ticket_no_show->ticket;
    case HALLBUS__ENVELOPE__EVENT_TICKET_REQUEUED:
        return env->ticket_requeued->ticket;
    case HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED:
        return env->ticket_transferred->ticket;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_STARTED:
        return env->service_started->ticket;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED:
        return env->service_finished->ticket;
    case HALLBUS__ENVELOPE__EVENT_TICKET_EVALUATED:
        return env->ticket_evaluated->ticket;
    default:
        return NULL;
    }
}

static const Hallbus__Window *window_of(const Hallbus__Envelope *env)
{
    switch (env->event_case) {
    case HALLBUS__ENVELOPE__EVENT_WINDOW_OPENED:
        return env->window_opened->window;
    case HALLBUS__ENVELOPE__EVENT_WINDOW_PAUSED:
        return env->window_paused->window;
    case HALLBUS__ENVELOPE__EVENT_WINDOW_RESUMED:
        return env->window_resumed->window;
    case HALLBUS__ENVELOPE__EVENT_WINDOW_CLOSED:
        return env->window_closed->window;
    default:
        return NULL;
    }
}

/* "YYYY-MM-DD" by its shape: cheap, where hb_date_valid's mktime would
 * stat the time zone file for every event */
static bool date_shaped(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    return true;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

void audit_index_of(const Hallbus__Envelope *env, uint32_t rollover_minute, audit_index_t *out)
{
    memset(out, 0, sizeof *out);
    const Hallbus__Ticket *t = ticket_of(env);
    const Hallbus__Window *w = window_of(env);
    if (t) {
        copy(out->ticket, sizeof out->ticket, t->number);
        if (date_shaped(t->business_date))
            copy(out->bdate, sizeof out->bdate, t->business_date);
        out->window = t->window;
        copy(out->staff, sizeof out->staff, t->staff);
    }
    switch (env->event_case) { /* the event's own window and staff win over the ticket's */
    case HALLBUS__ENVELOPE__EVENT_TICKET_CALLED:
        out->window = env->ticket_called->window;
        copy(out->staff, sizeof out->staff, env->ticket_called->staff);
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_RECALLED:
        out->window = env->ticket_recalled->window;
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW:
        out->window = env->ticket_no_show->window;
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED:
        out->window = env->ticket_transferred->from_window;
        break;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_STARTED:
        out->window = env->service_started->window;
        copy(out->staff, sizeof out->staff, env->service_started->staff);
        break;
    case HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED:
        out->window = env->service_finished->window;
        copy(out->staff, sizeof out->staff, env->service_finished->staff);
        break;
    case HALLBUS__ENVELOPE__EVENT_COMPLAINT_FILED:
    case HALLBUS__ENVELOPE__EVENT_COMPLAINT_UPDATED: {
        const Hallbus__Complaint *cp = env->event_case == HALLBUS__ENVELOPE__EVENT_COMPLAINT_FILED
                                           ? env->complaint_filed->complaint
                                           : env->complaint_updated->complaint;
        if (cp) {
            copy(out->ticket, sizeof out->ticket, cp->ticket_number);
            if (date_shaped(cp->business_date))
                copy(out->bdate, sizeof out->bdate, cp->business_date);
            out->window = cp->window;
            copy(out->staff, sizeof out->staff, cp->staff);
        }
        break;
    }
    case HALLBUS__ENVELOPE__EVENT_DAILY_RESET:
        if (date_shaped(env->daily_reset->business_date))
            copy(out->bdate, sizeof out->bdate, env->daily_reset->business_date);
        break;
    default:
        break;
    }
    if (w) {
        out->window = w->number;
        copy(out->staff, sizeof out->staff, w->staff);
    }
    if (!out->bdate[0])
        hb_business_date(env->ts, rollover_minute, out->bdate);
}

/* ── open / close ── */

static chain_t *chain_find(audit_store_t *self, const char *hall, bool create)
{
    for (size_t i = 0; i < self->nchains; i++)
        if (strcmp(self->chains[i].hall, hall) == 0)
            return &self->chains[i];
    if (!create)
        return NULL;
    if (self->nchains == self->capchains) {
        size_t cap = self->capchains ? self->capchains * 2 : 8;
        chain_t *c = realloc(self->chains, cap * sizeof *c);
        if (!c)
            return NULL;
        self->chains = c;
        self->capchains = cap;
    }
    chain_t *c = &self->chains[self->nchains++];
    memset(c, 0, sizeof *c);
    copy(c->hall, sizeof c->hall, hall);
    /* an anchor, if retention or an export left one */
    sqlite3_stmt *st = hb_db_prepare(self->db, "SELECT prev_hash FROM anchors WHERE hall = ?");
    if (st) {
        sqlite3_bind_text(st, 1, hall, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == AUDIT_HASH_LEN)
            memcpy(c->last_hash, sqlite3_column_blob(st, 0), AUDIT_HASH_LEN);
        sqlite3_finalize(st);
    }
    return c;
}

/* Each hall's head: the hash of its latest record and the seq it covers. */
static int load_chains(audit_store_t *self)
{
    sqlite3_stmt *st = hb_db_prepare(
        self->db, "SELECT r.hall, r.hash, r.type, r.seq, r.seq_to FROM records r"
                  " JOIN (SELECT hall, max(id) AS id FROM records GROUP BY hall) m ON r.id = m.id");
    if (!st)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        chain_t *c = chain_find(self, hb_db_column_text(st, 0), true);
        if (!c)
            break;
        if (sqlite3_column_bytes(st, 1) == AUDIT_HASH_LEN)
            memcpy(c->last_hash, sqlite3_column_blob(st, 1), AUDIT_HASH_LEN);
    }
    sqlite3_finalize(st);
    /* the seq covered: the highest event seq or gap end */
    st = hb_db_prepare(self->db, "SELECT hall, max(CASE type WHEN 1 THEN seq_to ELSE seq END)"
                                 " FROM records WHERE type IN (0, 1) GROUP BY hall");
    if (!st)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        chain_t *c = chain_find(self, hb_db_column_text(st, 0), true);
        if (c)
            c->last_seq = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    st = hb_db_prepare(self->db, "SELECT coalesce(max(id), 0) FROM records");
    if (!st)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        self->last_id = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

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
    if (load_chains(self) != 0) {
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

static int begin(audit_store_t *self)
{
    if (self->in_txn)
        return 0;
    if (hb_db_exec(self->db, "BEGIN") != 0)
        return -1;
    self->in_txn = true;
    return 0;
}

int audit_store_commit(audit_store_t *self)
{
    if (!self->in_txn)
        return 0;
    self->in_txn = false;
    if (hb_db_exec(self->db, "COMMIT") != 0) {
        hb_db_exec(self->db, "ROLLBACK");
        /* the heads in memory no longer match the file: reload them */
        self->nchains = 0;
        load_chains(self);
        audit_out_free(self->pending_head);
        self->pending_head = NULL;
        self->pending_tail = &self->pending_head;
        return -1;
    }
    if (self->pending_head) {
        *self->ready_tail = self->pending_head;
        self->ready_tail = self->pending_tail;
        self->pending_head = NULL;
        self->pending_tail = &self->pending_head;
    }
    return 0;
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
    chain_t *c = chain_find(self, r->hall, true);
    if (!c)
        return -1;
    uint8_t hash[AUDIT_HASH_LEN], prev[AUDIT_HASH_LEN];
    memcpy(prev, c->last_hash, AUDIT_HASH_LEN);
    audit_record_hash(prev, r->hall, r->seq, r->seq_to, r->type, r->received_at, r->kind, r->reason,
                      r->bytes, r->len, hash);
    r->id = self->last_id + 1;
    r->prev_hash = prev;
    r->hash = hash;
    if (insert_row(self, r) != 0)
        return -1;
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
    chain_t *c = chain_find(self, hall, false);
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

/* ── reading ── */

static char *dup_text(sqlite3_stmt *st, int col)
{
    return strdup(hb_db_column_text(st, col));
}

static void dup_blob(sqlite3_stmt *st, int col, ProtobufCBinaryData *out)
{
    int n = sqlite3_column_bytes(st, col);
    out->len = (size_t)n;
    out->data = malloc(n > 0 ? (size_t)n : 1);
    if (out->data && n > 0)
        memcpy(out->data, sqlite3_column_blob(st, col), (size_t)n);
}

static Hallbus__AuditRecord *record_from_row(sqlite3_stmt *st)
{
    Hallbus__AuditRecord *rec = malloc(sizeof *rec);
    if (!rec)
        return NULL;
    hallbus__audit_record__init(rec);
    rec->id = (uint64_t)sqlite3_column_int64(st, 0);
    rec->hall_id = dup_text(st, 1);
    rec->seq = (uint64_t)sqlite3_column_int64(st, 2);
    rec->seq_to = (uint64_t)sqlite3_column_int64(st, 3);
    rec->type = (Hallbus__AuditRecordType)sqlite3_column_int(st, 4);
    rec->received_at = sqlite3_column_int64(st, 5);
    rec->kind = dup_text(st, 6);
    dup_blob(st, 7, &rec->envelope);
    rec->reason = dup_text(st, 8);
    dup_blob(st, 9, &rec->prev_hash);
    dup_blob(st, 10, &rec->hash);
    return rec;
}

void audit_records_free(Hallbus__AuditRecord **recs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        Hallbus__AuditRecord *r = recs[i];
        free(r->hall_id);
        free(r->kind);
        free(r->reason);
        free(r->envelope.data);
        free(r->prev_hash.data);
        free(r->hash.data);
        free(r);
    }
    free(recs);
}

#define KINDS_MAX 16

int audit_store_history(audit_store_t *self, const Hallbus__AuditHistory *q,
                        Hallbus__AuditRecord ***out, size_t *n, bool *more)
{
    *out = NULL;
    *n = 0;
    *more = false;
    char sql[2048];
    size_t used =
        (size_t)snprintf(sql, sizeof sql, "SELECT %s FROM records WHERE id > ?1", COLUMNS);
#define ADD(...) used += (size_t)snprintf(sql + used, sizeof sql - used, __VA_ARGS__)
    if (q->up_to_id)
        ADD(" AND id <= ?2");
    if (q->hall_id && *q->hall_id)
        ADD(" AND hall = ?3");
    if (q->window)
        ADD(" AND win = ?4");
    if (q->staff && *q->staff)
        ADD(" AND staff = ?5");
    if (q->since)
        ADD(" AND received_at >= ?6");
    if (q->ticket && *q->ticket)
        ADD(" AND ticket = ?7");
    if (q->date && *q->date)
        ADD(" AND bdate = ?8");
    size_t nkinds = q->n_kinds < KINDS_MAX ? q->n_kinds : KINDS_MAX;
    if (nkinds) {
        ADD(" AND (");
        for (size_t i = 0; i < nkinds; i++)
            ADD("%ssubstr(kind, 1, length(?%zu)) = ?%zu", i ? " OR " : "", 20 + i, 20 + i);
        ADD(")");
    }
    ADD(" ORDER BY id LIMIT ?9");
#undef ADD
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK) {
        hb_error("history query: %s", sqlite3_errmsg(self->db));
        return -1;
    }
    uint32_t max = q->max ? q->max : 1000;
    if (max > AUDIT_HISTORY_MAX)
        max = AUDIT_HISTORY_MAX;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)q->after_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)q->up_to_id);
    sqlite3_bind_text(st, 3, q->hall_id ? q->hall_id : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, q->window);
    sqlite3_bind_text(st, 5, q->staff ? q->staff : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, q->since);
    sqlite3_bind_text(st, 7, q->ticket ? q->ticket : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, q->date ? q->date : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)max + 1);
    for (size_t i = 0; i < nkinds; i++)
        sqlite3_bind_text(st, (int)(20 + i), q->kinds[i], -1, SQLITE_STATIC);
    Hallbus__AuditRecord **recs = calloc(max + 1, sizeof *recs);
    if (!recs) {
        sqlite3_finalize(st);
        return -1;
    }
    size_t count = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == max) {
            *more = true;
            break;
        }
        Hallbus__AuditRecord *r = record_from_row(st);
        if (!r)
            break;
        recs[count++] = r;
    }
    sqlite3_finalize(st);
    *out = recs;
    *n = count;
    return 0;
}

int audit_store_day_range(audit_store_t *self, const char *hall, const char *from, const char *to,
                          uint64_t *first, uint64_t *last)
{
    *first = *last = 0;
    sqlite3_stmt *st =
        hb_db_prepare(self->db, "SELECT coalesce(min(id), 0), coalesce(max(id), 0)"
                                " FROM records WHERE hall = ? AND bdate BETWEEN ? AND ?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, hall, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *first = (uint64_t)sqlite3_column_int64(st, 0);
        *last = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return 0;
}

int audit_store_each_event(audit_store_t *self, const char *hall, const char *from, const char *to,
                           audit_event_fn fn, void *arg, uint64_t *gaps)
{
    *gaps = 0;
    sqlite3_stmt *st = hb_db_prepare(
        self->db, "SELECT type, envelope FROM records WHERE hall = ? AND type IN (0, 1)"
                  " AND bdate BETWEEN ? AND ? ORDER BY id");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, hall, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_int(st, 0) == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_GAP) {
            (*gaps)++;
            continue;
        }
        Hallbus__Envelope *env = NULL;
        if (hb_envelope_decode(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                               &env, NULL) == HB_DECODE_OK) {
            fn(env, arg);
            hallbus__envelope__free_unpacked(env, NULL);
        }
    }
    sqlite3_finalize(st);
    return 0;
}

/* ── verification ── */

static int fail_at(Hallbus__AuditVerifyResult *out, uint64_t id, char *problem, size_t plen,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail_at(Hallbus__AuditVerifyResult *out, uint64_t id, char *problem, size_t plen,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, plen, fmt, ap);
    va_end(ap);
    out->intact = false;
    out->bad_id = id;
    out->problem = problem;
    return 1;
}

/* The id of HALL's event SEQ stored after AFTER_ID, or 0. */
static uint64_t later_with_seq(audit_store_t *self, const char *hall, uint64_t seq,
                               uint64_t after_id)
{
    sqlite3_stmt *st = hb_db_prepare(
        self->db, "SELECT id FROM records WHERE hall = ? AND seq = ? AND type = 0 AND id > ?");
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, hall, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)after_id);
    uint64_t id = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return id;
}

static int verify_hall(audit_store_t *self, const char *hall, Hallbus__AuditVerifyResult *out,
                       char *problem, size_t plen)
{
    uint8_t prev[AUDIT_HASH_LEN] = {0};
    uint64_t anchor_first = 0;
    sqlite3_stmt *a =
        hb_db_prepare(self->db, "SELECT prev_hash, first_id FROM anchors WHERE hall = ?");
    if (a) {
        sqlite3_bind_text(a, 1, hall, -1, SQLITE_STATIC);
        if (sqlite3_step(a) == SQLITE_ROW && sqlite3_column_bytes(a, 0) == AUDIT_HASH_LEN) {
            memcpy(prev, sqlite3_column_blob(a, 0), AUDIT_HASH_LEN);
            anchor_first = (uint64_t)sqlite3_column_int64(a, 1);
        }
        sqlite3_finalize(a);
    }
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s FROM records WHERE hall = ? ORDER BY id", COLUMNS);
    sqlite3_stmt *st = hb_db_prepare(self->db, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, hall, -1, SQLITE_STATIC);
    uint64_t covered = 0, prev_id = 0, prev_seq = 0;
    bool first = true, seq_known = false;
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        uint64_t id = (uint64_t)sqlite3_column_int64(st, 0);
        uint64_t seq = (uint64_t)sqlite3_column_int64(st, 2);
        uint64_t seq_to = (uint64_t)sqlite3_column_int64(st, 3);
        int type = sqlite3_column_int(st, 4);
        int64_t received_at = sqlite3_column_int64(st, 5);
        const char *kind = hb_db_column_text(st, 6);
        const uint8_t *bytes = sqlite3_column_blob(st, 7);
        size_t len = (size_t)sqlite3_column_bytes(st, 7);
        const char *reason = hb_db_column_text(st, 8);
        const uint8_t *prev_hash = sqlite3_column_blob(st, 9);
        int prev_len = sqlite3_column_bytes(st, 9);
        const uint8_t *hash = sqlite3_column_blob(st, 10);
        uint64_t later = 0;
        int hash_len = sqlite3_column_bytes(st, 10);
        out->records++;
        if (first && anchor_first && id != anchor_first) {
            rc = fail_at(out, id, problem, plen,
                         "hall %s: its first record is #%llu but the chain starts at #%llu: "
                         "records removed at the start",
                         hall, (unsigned long long)id, (unsigned long long)anchor_first);
            break;
        }
        uint8_t want[AUDIT_HASH_LEN];
        audit_record_hash(prev_len == AUDIT_HASH_LEN ? prev_hash : prev, hall, seq, seq_to, type,
                          received_at, kind, reason, bytes, len, want);
        if (hash_len != AUDIT_HASH_LEN || memcmp(want, hash, AUDIT_HASH_LEN) != 0) {
            rc = fail_at(out, id, problem, plen,
                         "record #%llu (hall %s, seq %llu, %s) was changed: its content does not "
                         "match its hash",
                         (unsigned long long)id, hall, (unsigned long long)seq, kind);
            break;
        }
        if (prev_len != AUDIT_HASH_LEN || memcmp(prev_hash, prev, AUDIT_HASH_LEN) != 0) {
            if (type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT && seq_known && seq <= prev_seq)
                rc = fail_at(out, id, problem, plen,
                             "record #%llu (hall %s, seq %llu) is out of place: reordered "
                             "(it follows #%llu, seq %llu)",
                             (unsigned long long)id, hall, (unsigned long long)seq,
                             (unsigned long long)prev_id, (unsigned long long)prev_seq);
            else if (type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT && seq_known &&
                     seq == covered + 1)
                rc = fail_at(out, prev_id, problem, plen,
                             "record #%llu (hall %s, seq %llu) was changed and its hash rewritten: "
                             "record #%llu no longer chains to it",
                             (unsigned long long)prev_id, hall, (unsigned long long)prev_seq,
                             (unsigned long long)id);
            else if (type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT && seq_known &&
                     (later = later_with_seq(self, hall, covered + 1, id)) != 0)
                rc = fail_at(out, id, problem, plen,
                             "record #%llu (hall %s, seq %llu) is out of place: reordered "
                             "(seq %llu, which is due here, is at #%llu)",
                             (unsigned long long)id, hall, (unsigned long long)seq,
                             (unsigned long long)(covered + 1), (unsigned long long)later);
            else if (first)
                rc = fail_at(out, id, problem, plen,
                             "record #%llu (hall %s, seq %llu) does not start the chain: records "
                             "before it were removed",
                             (unsigned long long)id, hall, (unsigned long long)seq);
            else
                rc = fail_at(out, id, problem, plen,
                             "record(s) removed between #%llu (seq %llu) and #%llu (hall %s, seq "
                             "%llu): its prev_hash does not match",
                             (unsigned long long)prev_id, (unsigned long long)prev_seq,
                             (unsigned long long)id, hall, (unsigned long long)seq);
            break;
        }
        if (type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT ||
            type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_GAP) {
            if (seq_known && seq != covered + 1) {
                rc = fail_at(out, id, problem, plen,
                             "record #%llu (hall %s) has seq %llu where %llu was due, with no gap "
                             "recorded",
                             (unsigned long long)id, hall, (unsigned long long)seq,
                             (unsigned long long)(covered + 1));
                break;
            }
            covered = type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_GAP ? seq_to : seq;
            seq_known = true;
            prev_seq = seq;
        }
        if (type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_GAP)
            out->gaps++;
        if (type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_REJECTED)
            out->rejected++;
        if (type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT) {
            Hallbus__Envelope *env = NULL;
            if (hb_envelope_decode(bytes, len, &env, NULL) == HB_DECODE_OK) {
                audit_index_t ix;
                audit_index_of(env, self->rollover, &ix);
                hallbus__envelope__free_unpacked(env, NULL);
                if (strcmp(ix.ticket, hb_db_column_text(st, 12)) != 0 ||
                    strcmp(ix.bdate, hb_db_column_text(st, 11)) != 0 ||
                    (uint64_t)ix.window != (uint64_t)sqlite3_column_int64(st, 13) ||
                    strcmp(ix.staff, hb_db_column_text(st, 14)) != 0)
                    rc = fail_at(out, id, problem, plen,
                                 "record #%llu (hall %s, seq %llu): its index columns (date, "
                                 "ticket, window, staff) were changed",
                                 (unsigned long long)id, hall, (unsigned long long)seq);
            }
        }
        memcpy(prev, hash, AUDIT_HASH_LEN);
        prev_id = id;
        first = false;
    }
    sqlite3_finalize(st);
    return rc;
}

int audit_store_verify(audit_store_t *self, const char *hall, Hallbus__AuditVerifyResult *out,
                       char *problem, size_t problem_len)
{
    hallbus__audit_verify_result__init(out);
    out->intact = true;
    problem[0] = '\0';
    if (hall && *hall) {
        out->halls = 1;
        return verify_hall(self, hall, out, problem, problem_len);
    }
    sqlite3_stmt *st = hb_db_prepare(
        self->db, "SELECT hall FROM records UNION SELECT hall FROM anchors ORDER BY 1");
    if (!st)
        return -1;
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        char h[AUDIT_HALL_MAX * 4];
        copy(h, sizeof h, hb_db_column_text(st, 0));
        out->halls++;
        rc = verify_hall(self, h, out, problem, problem_len);
    }
    sqlite3_finalize(st);
    return rc;
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
