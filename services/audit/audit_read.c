/* Reading the audit store: history pages, day ranges, the events of a
 * report. */
#include <stdlib.h>
#include <string.h>

#include "audit_store_internal.h"
#include "hallbus/db.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"

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
        (size_t)snprintf(sql, sizeof sql, "SELECT %s FROM records WHERE id > ?1", AUDIT_COLUMNS);
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
