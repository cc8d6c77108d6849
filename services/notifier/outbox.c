#include "outbox.h"

#include <stdlib.h>
#include <string.h>

#include "hallbus/db.h"
#include "hallbus/log.h"

const char nt_outbox_schema[] =
    "CREATE TABLE IF NOT EXISTS outbox("
    "  id INTEGER PRIMARY KEY,"
    "  key TEXT NOT NULL UNIQUE,"
    "  hall TEXT NOT NULL, seq INTEGER NOT NULL, kind INTEGER NOT NULL,"
    "  ticket TEXT NOT NULL, business_date TEXT, contact_ref TEXT NOT NULL,"
    "  text_zh TEXT NOT NULL, text_en TEXT NOT NULL, fields TEXT NOT NULL,"
    "  event_ts INTEGER NOT NULL, created_at INTEGER NOT NULL, deadline INTEGER NOT NULL,"
    "  state INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,"
    "  channel TEXT, last_error TEXT, sent_at INTEGER, updated_at INTEGER);"
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_at);"
    "CREATE INDEX IF NOT EXISTS outbox_ref ON outbox(contact_ref, state, id);"
    "CREATE TABLE IF NOT EXISTS cursor(hall TEXT PRIMARY KEY, seq INTEGER NOT NULL);";

enum {
    ST_ADD,
    ST_CURSOR_GET,
    ST_CURSOR_SET,
    ST_EXPIRE,
    ST_DUE,
    ST_RECORD,
    ST_STATE,
    ST_WITHDRAW,
    ST_COUNT
};

static const char *const sql[ST_COUNT] = {
    [ST_ADD] =
        "INSERT OR IGNORE INTO outbox(key, hall, seq, kind, ticket, business_date,"
        " contact_ref, text_zh, text_en, fields, event_ts, created_at, deadline, state,"
        " next_at, updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?12)",
    [ST_CURSOR_GET] = "SELECT seq FROM cursor WHERE hall = ?1",
    [ST_CURSOR_SET] = "INSERT INTO cursor(hall, seq) VALUES(?1, ?2)"
                      " ON CONFLICT(hall) DO UPDATE SET seq = excluded.seq",
    [ST_EXPIRE] = "UPDATE outbox SET state = 3, updated_at = ?1,"
                  " last_error = IFNULL(last_error, 'deadline passed before an attempt')"
                  " WHERE state = 0 AND deadline <= ?1",
    [ST_DUE] = "SELECT id, key, hall, ticket, business_date, contact_ref, text_zh, text_en, fields,"
               " seq, kind, attempts, event_ts, deadline FROM outbox"
               " WHERE state = 0 AND next_at <= ?1"
               /* one ticket's messages leave in order: none while an earlier one waits */
               " AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.contact_ref = outbox.contact_ref"
               "   AND e.state = 0 AND e.id < outbox.id"
               /* (a reminder waiting for its hour is not in the way) */
               "   AND NOT (e.attempts = 0 AND e.next_at > ?1))"
               " ORDER BY next_at, id LIMIT ?2",
    [ST_RECORD] = "UPDATE outbox SET state = ?2, attempts = ?3, next_at = ?4, channel = ?5,"
                  " last_error = ?6, updated_at = ?7,"
                  " sent_at = CASE WHEN ?2 = 1 THEN ?7 ELSE sent_at END WHERE id = ?1",
    [ST_STATE] = "SELECT state FROM outbox WHERE id = ?1",
    [ST_WITHDRAW] = "UPDATE outbox SET state = 2, last_error = ?2, updated_at = ?3"
                    " WHERE key = ?1 AND state = 0",
};

struct nt_outbox_s {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    bool in_tx;
};

nt_outbox_t *nt_outbox_open(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = hb_db_open(path, err, errlen);
    if (!db)
        return NULL;
    nt_outbox_t *self = calloc(1, sizeof *self);
    self->db = db;
    if (hb_db_exec(db, nt_outbox_schema) != 0) {
        snprintf(err, errlen, "%s: cannot create the outbox tables", path);
        goto fail;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        self->st[i] = hb_db_prepare(db, sql[i]);
        if (!self->st[i]) {
            snprintf(err, errlen, "%s: cannot prepare statements", path);
            goto fail;
        }
    }
    return self;
fail:
    nt_outbox_close(&self);
    return NULL;
}

void nt_outbox_close(nt_outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    nt_outbox_t *self = *self_p;
    nt_outbox_commit(self);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(self->st[i]);
    sqlite3_close(self->db);
    free(self);
    *self_p = NULL;
}

static int begin(nt_outbox_t *self)
{
    if (self->in_tx)
        return 0;
    if (hb_db_exec(self->db, "BEGIN IMMEDIATE") != 0)
        return -1;
    self->in_tx = true;
    return 0;
}

int nt_outbox_commit(nt_outbox_t *self)
{
    if (!self->in_tx)
        return 0;
    self->in_tx = false;
    if (hb_db_exec(self->db, "COMMIT") != 0) {
        hb_db_exec(self->db, "ROLLBACK");
        return -1;
    }
    return 0;
}

void nt_outbox_rollback(nt_outbox_t *self)
{
    if (!self->in_tx)
        return;
    self->in_tx = false;
    hb_db_exec(self->db, "ROLLBACK");
}

const char *nt_outbox_error(nt_outbox_t *self)
{
    return sqlite3_errmsg(self->db);
}

bool nt_outbox_dirty(const nt_outbox_t *self)
{
    return self->in_tx;
}

int nt_outbox_add(nt_outbox_t *self, const nt_new_msg_t *m)
{
    if (begin(self) != 0)
        return -1;
    sqlite3_stmt *st = self->st[ST_ADD];
    sqlite3_bind_text(st, 1, m->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->hall, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)m->seq);
    sqlite3_bind_int(st, 4, m->kind);
    sqlite3_bind_text(st, 5, m->ticket, -1, SQLITE_STATIC);
    hb_db_bind_text(st, 6, m->business_date);
    sqlite3_bind_text(st, 7, m->contact_ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, m->text_zh, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, m->text_en, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, m->fields_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, m->event_ts);
    sqlite3_bind_int64(st, 12, m->created_at);
    sqlite3_bind_int64(st, 13, m->deadline);
    sqlite3_bind_int(st, 14, m->deadline <= m->created_at ? NT_EXPIRED : NT_PENDING);
    sqlite3_bind_int64(st, 15, m->not_before > m->created_at ? m->not_before : m->created_at);
    if (hb_db_step_done(st) != 0)
        return -1;
    return sqlite3_changes(self->db) > 0 ? 1 : 0;
}

uint64_t nt_outbox_cursor(nt_outbox_t *self, const char *hall)
{
    sqlite3_stmt *st = self->st[ST_CURSOR_GET];
    sqlite3_bind_text(st, 1, hall, -1, SQLITE_STATIC);
    uint64_t seq = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        seq = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return seq;
}

int nt_outbox_set_cursor(nt_outbox_t *self, const char *hall, uint64_t seq)
{
    if (begin(self) != 0)
        return -1;
    sqlite3_stmt *st = self->st[ST_CURSOR_SET];
    sqlite3_bind_text(st, 1, hall, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    return hb_db_step_done(st);
}

void nt_msg_free(nt_msg_t *m)
{
    free(m->key);
    free(m->hall);
    free(m->ticket);
    free(m->business_date);
    free(m->contact_ref);
    free(m->text_zh);
    free(m->text_en);
    free(m->fields_json);
    memset(m, 0, sizeof *m);
}

int nt_outbox_expire(nt_outbox_t *self, int64_t now_us)
{
    if (begin(self) != 0)
        return -1;
    sqlite3_stmt *st = self->st[ST_EXPIRE];
    sqlite3_bind_int64(st, 1, now_us);
    if (hb_db_step_done(st) != 0)
        return -1;
    return sqlite3_changes(self->db);
}

int nt_outbox_due(nt_outbox_t *self, int64_t now_us, nt_msg_t *out, int max,
                  bool (*skip)(void *arg, int64_t id), void *arg)
{
    sqlite3_stmt *st = self->st[ST_DUE];
    sqlite3_bind_int64(st, 1, now_us);
    sqlite3_bind_int(st, 2, max * 4 + 16); /* room for the ones in flight */
    int n = 0;
    while (n < max && sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (skip && skip(arg, id))
            continue;
        nt_msg_t *m = &out[n++];
        m->id = id;
        m->key = strdup(hb_db_column_text(st, 1));
        m->hall = strdup(hb_db_column_text(st, 2));
        m->ticket = strdup(hb_db_column_text(st, 3));
        m->business_date = strdup(hb_db_column_text(st, 4));
        m->contact_ref = strdup(hb_db_column_text(st, 5));
        m->text_zh = strdup(hb_db_column_text(st, 6));
        m->text_en = strdup(hb_db_column_text(st, 7));
        m->fields_json = strdup(hb_db_column_text(st, 8));
        m->seq = (uint64_t)sqlite3_column_int64(st, 9);
        m->kind = sqlite3_column_int(st, 10);
        m->attempts = (uint32_t)sqlite3_column_int(st, 11);
        m->event_ts = sqlite3_column_int64(st, 12);
        m->deadline = sqlite3_column_int64(st, 13);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return n;
}

int nt_outbox_record(nt_outbox_t *self, int64_t id, nt_state_t state, uint32_t attempts,
                     int64_t next_at, const char *channel, const char *error, int64_t now_us)
{
    if (begin(self) != 0)
        return -1;
    sqlite3_stmt *st = self->st[ST_RECORD];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, state);
    sqlite3_bind_int(st, 3, (int)attempts);
    sqlite3_bind_int64(st, 4, next_at);
    hb_db_bind_text(st, 5, channel);
    hb_db_bind_text(st, 6, error);
    sqlite3_bind_int64(st, 7, now_us);
    return hb_db_step_done(st);
}

int nt_outbox_withdraw(nt_outbox_t *self, const char *key, const char *why, int64_t now_us)
{
    if (begin(self) != 0)
        return -1;
    sqlite3_stmt *st = self->st[ST_WITHDRAW];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, why, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_us);
    if (hb_db_step_done(st) != 0)
        return -1;
    return sqlite3_changes(self->db) > 0 ? 1 : 0;
}

int nt_outbox_prune(nt_outbox_t *self, int64_t before_us)
{
    if (begin(self) != 0)
        return -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, "DELETE FROM outbox WHERE state != 0 AND updated_at < ?1", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, before_us);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? sqlite3_changes(self->db) : -1;
}

int nt_outbox_counts(nt_outbox_t *self, unsigned counts[4])
{
    memset(counts, 0, 4 * sizeof counts[0]);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, "SELECT state, COUNT(*) FROM outbox GROUP BY state", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int s = sqlite3_column_int(st, 0);
        if (s >= 0 && s < 4)
            counts[s] = (unsigned)sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    return 0;
}

int nt_outbox_state(nt_outbox_t *self, int64_t id)
{
    sqlite3_stmt *st = self->st[ST_STATE];
    sqlite3_bind_int64(st, 1, id);
    int state = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        state = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return state;
}

void nt_entry_free(nt_entry_t *e)
{
    free(e->key);
    free(e->ticket);
    free(e->channel);
    free(e->last_error);
    memset(e, 0, sizeof *e);
}

int nt_outbox_list(nt_outbox_t *self, bool all, int max, nt_entry_t *out)
{
    const char *q = all ? "SELECT id, key, kind, ticket, state, attempts, channel, last_error,"
                          " event_ts, next_at, deadline, sent_at FROM outbox"
                          " ORDER BY id DESC LIMIT ?1"
                        : "SELECT id, key, kind, ticket, state, attempts, channel, last_error,"
                          " event_ts, next_at, deadline, sent_at FROM outbox WHERE state != 1"
                          " ORDER BY id DESC LIMIT ?1";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, q, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int(st, 1, max);
    int n = 0;
    while (n < max && sqlite3_step(st) == SQLITE_ROW) {
        nt_entry_t *e = &out[n++];
        e->id = sqlite3_column_int64(st, 0);
        e->key = strdup(hb_db_column_text(st, 1));
        e->kind = sqlite3_column_int(st, 2);
        e->ticket = strdup(hb_db_column_text(st, 3));
        e->state = (nt_state_t)sqlite3_column_int(st, 4);
        e->attempts = (uint32_t)sqlite3_column_int(st, 5);
        e->channel = strdup(hb_db_column_text(st, 6));
        e->last_error = strdup(hb_db_column_text(st, 7));
        e->event_ts = sqlite3_column_int64(st, 8);
        e->next_at = sqlite3_column_int64(st, 9);
        e->deadline = sqlite3_column_int64(st, 10);
        e->sent_at = sqlite3_column_int64(st, 11);
    }
    sqlite3_finalize(st);
    return n;
}

int nt_outbox_unsettled_ids(nt_outbox_t *self, int64_t *out, int max)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, "SELECT id FROM outbox WHERE state IN (2, 3) ORDER BY id", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    int n = 0;
    while (n < max && sqlite3_step(st) == SQLITE_ROW)
        out[n++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int nt_outbox_retry(nt_outbox_t *self, int64_t id, int64_t now_us, const uint32_t *deadline_s,
                    int kinds)
{
    sqlite3_stmt *st = NULL;
    int state = -1, kind = 0;
    if (sqlite3_prepare_v2(self->db, "SELECT state, kind FROM outbox WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return -2;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        state = sqlite3_column_int(st, 0);
        kind = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    if (state != NT_FAILED && state != NT_EXPIRED)
        return state;
    int64_t fresh = now_us + (int64_t)deadline_s[kind >= 0 && kind < kinds ? kind : 0] * 1000000;
    if (begin(self) != 0 ||
        sqlite3_prepare_v2(
            self->db,
            "UPDATE outbox SET state = 0, next_at = ?2, deadline = MAX(deadline, ?3),"
            " last_error = 'retried by hand', updated_at = ?2 WHERE id = ?1",
            -1, &st, NULL) != SQLITE_OK)
        return -2;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now_us);
    sqlite3_bind_int64(st, 3, fresh);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? state : -2;
}
