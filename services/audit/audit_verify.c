/* Verifying the audit store: walks each hall's chain and names the first
 * record that was changed, removed or reordered. Reads only. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit_store_internal.h"
#include "hallbus/db.h"
#include "hallbus/envelope.h"

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
    snprintf(sql, sizeof sql, "SELECT %s FROM records WHERE hall = ? ORDER BY id", AUDIT_COLUMNS);
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
        snprintf(h, sizeof h, "%s", hb_db_column_text(st, 0));
        out->halls++;
        rc = verify_hall(self, h, out, problem, problem_len);
    }
    sqlite3_finalize(st);
    return rc;
}
