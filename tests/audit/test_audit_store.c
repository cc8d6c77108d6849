/* The audit store: the hash chain, verification of edits, removals and
 * reorderings, queries, retention and exports. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_store.h"
#include "hallbus/envelope.h"
#include "helpers.h"

static char dir[64];
static char path[128];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/hallbus-audit-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/audit.db", dir);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

TestSuite(audit_store, .init = setup, .fini = teardown);

static audit_store_t *open_store(const char *p)
{
    char err[256];
    audit_store_t *s = audit_store_open(p, 180, false, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    return s;
}

static void append(audit_store_t *s, const char *hall, uint64_t seq)
{
    char number[32];
    snprintf(number, sizeof number, "A%03llu", (unsigned long long)seq);
    packed_t p = pack_issued(hall, seq, number);
    Hallbus__Envelope *env = unpack(p);
    cr_assert_eq(audit_store_append_event(s, env, p.data, p.len, 1000 + (int64_t)seq), 0);
    hallbus__envelope__free_unpacked(env, NULL);
    free(p.data);
}

/* Runs SQL on the file as a person with sqlite3 would. */
static void tamper(const char *p, const char *sql)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(p, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    cr_assert_eq(rc, SQLITE_OK, "%s", msg ? msg : "");
    sqlite3_close(db);
}

static int verify(const char *p, const char *hall, char *problem, size_t len, uint64_t *bad_id,
                  uint64_t *records)
{
    char err[256];
    audit_store_t *s = audit_store_open(p, 180, true, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    Hallbus__AuditVerifyResult v;
    int rc = audit_store_verify(s, hall, &v, problem, len);
    *bad_id = v.bad_id;
    *records = v.records;
    audit_store_destroy(&s);
    return rc;
}

static void fill(int n_t1, int n_t2)
{
    audit_store_t *s = open_store(path);
    for (int i = 1; i <= (n_t1 > n_t2 ? n_t1 : n_t2); i++) {
        if (i <= n_t1)
            append(s, "t1", (uint64_t)i);
        if (i <= n_t2)
            append(s, "t2", (uint64_t)i);
    }
    cr_assert_eq(audit_store_commit(s), 0);
    audit_store_destroy(&s);
}

static Hallbus__AuditRecord **history(audit_store_t *s, Hallbus__AuditHistory *q, size_t *n)
{
    Hallbus__AuditRecord **recs;
    bool more;
    cr_assert_eq(audit_store_history(s, q, &recs, n, &more), 0);
    return recs;
}

Test(audit_store, each_record_carries_the_hash_of_the_previous_record_of_its_own_hall)
{
    fill(5, 3);
    audit_store_t *s = open_store(path);
    Hallbus__AuditHistory q = HALLBUS__AUDIT_HISTORY__INIT;
    size_t n;
    Hallbus__AuditRecord **r = history(s, &q, &n);
    cr_assert_eq(n, 8);
    uint8_t zero[AUDIT_HASH_LEN] = {0};
    const uint8_t *last_t1 = zero, *last_t2 = zero;
    for (size_t i = 0; i < n; i++) {
        const uint8_t **last = strcmp(r[i]->hall_id, "t1") == 0 ? &last_t1 : &last_t2;
        cr_assert_eq(r[i]->id, i + 1, "ids are 1, 2, 3 ... over every hall");
        cr_assert_eq(memcmp(r[i]->prev_hash.data, *last, AUDIT_HASH_LEN), 0,
                     "record #%zu links to the previous record of hall %s", i + 1, r[i]->hall_id);
        uint8_t want[AUDIT_HASH_LEN];
        audit_record_hash(r[i]->prev_hash.data, r[i]->hall_id, r[i]->seq, r[i]->seq_to,
                          (int)r[i]->type, r[i]->received_at, r[i]->kind, r[i]->reason,
                          r[i]->envelope.data, r[i]->envelope.len, want);
        cr_assert_eq(memcmp(want, r[i]->hash.data, AUDIT_HASH_LEN), 0);
        *last = r[i]->hash.data;
    }
    audit_records_free(r, n);
    audit_store_destroy(&s);
}

Test(audit_store, the_hash_is_sha256_over_the_previous_hash_the_fields_and_the_bytes)
{
    /* computed independently from the layout written in audit_store.h */
    uint8_t prev[AUDIT_HASH_LEN];
    memset(prev, 7, sizeof prev);
    const uint8_t bytes[] = {1, 2, 3};
    uint8_t buf[256];
    size_t n = 0;
    memcpy(buf + n, prev, 32);
    n += 32;
    memcpy(buf + n, "hallbus-audit-v1", 17);
    n += 17;
    memcpy(buf + n, "h9", 3);
    n += 3;
    const uint8_t nums[] = {0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0,    0,   0,
                            0, 0, 0, 1, 0, 0, 0, 0,  0, 0, 0x01, 0x00};
    memcpy(buf + n, nums, sizeof nums);
    n += sizeof nums;
    memcpy(buf + n, "gap\0why\0", 8);
    n += 8;
    const uint8_t len[] = {0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3};
    memcpy(buf + n, len, sizeof len);
    n += sizeof len;
    uint8_t want[32], got[32];
    crypto_hash_sha256(want, buf, n);
    audit_record_hash(prev, "h9", 42, 0, 1, 256, "gap", "why", bytes, 3, got);
    cr_assert_eq(memcmp(want, got, 32), 0);
}

Test(audit_store, verify_says_how_many_records_and_that_the_chain_is_intact)
{
    fill(20, 7);
    char problem[512];
    uint64_t bad, records;
    cr_assert_eq(verify(path, NULL, problem, sizeof problem, &bad, &records), 0, "%s", problem);
    cr_assert_eq(records, 27);
    cr_assert_eq(verify(path, "t2", problem, sizeof problem, &bad, &records), 0);
    cr_assert_eq(records, 7);
}

Test(audit_store, an_update_of_a_record_is_refused_by_the_store_itself)
{
    fill(3, 0);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    int rc = sqlite3_exec(db, "UPDATE records SET kind = 'x' WHERE id = 2", NULL, NULL, NULL);
    cr_assert_neq(rc, SQLITE_OK);
    cr_assert(strstr(sqlite3_errmsg(db), "append-only") != NULL, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
}

Test(audit_store, verify_names_the_record_whose_event_bytes_were_edited)
{
    fill(10, 10);
    tamper(path, "DROP TRIGGER records_append_only;"
                 "UPDATE records SET envelope = envelope || x'00' WHERE id = 9;");
    char problem[512];
    uint64_t bad, records;
    cr_assert_eq(verify(path, NULL, problem, sizeof problem, &bad, &records), 1);
    cr_assert_eq(bad, 9);
    cr_assert(strstr(problem, "record #9 (hall t1, seq 5, ticket.issued) was changed"), "%s",
              problem);
}

Test(audit_store, verify_names_a_record_whose_seq_was_edited_even_with_its_hash_rewritten)
{
    fill(6, 0);
    /* the attacker edits record #3 and recomputes its hash: #4 no longer chains to it */
    audit_store_t *s = open_store(path);
    Hallbus__AuditHistory q = HALLBUS__AUDIT_HISTORY__INIT;
    size_t n;
    Hallbus__AuditRecord **r = history(s, &q, &n);
    uint8_t forged[AUDIT_HASH_LEN];
    audit_record_hash(r[2]->prev_hash.data, "t1", 3, 0, 0, 999, r[2]->kind, "", r[2]->envelope.data,
                      r[2]->envelope.len, forged);
    audit_records_free(r, n);
    audit_store_destroy(&s);
    char sql[512], hexs[65];
    for (int i = 0; i < 32; i++)
        snprintf(hexs + 2 * i, 3, "%02x", forged[i]);
    snprintf(sql, sizeof sql,
             "DROP TRIGGER records_append_only;"
             "UPDATE records SET received_at = 999, hash = x'%s' WHERE id = 3;",
             hexs);
    tamper(path, sql);
    char problem[512];
    uint64_t bad, records;
    cr_assert_eq(verify(path, "t1", problem, sizeof problem, &bad, &records), 1);
    cr_assert_eq(bad, 3, "%s", problem);
    cr_assert(strstr(problem, "record #3 (hall t1, seq 3) was changed and its hash rewritten"),
              "%s", problem);
}

Test(audit_store, verify_says_where_records_were_removed)
{
    fill(10, 0);
    tamper(path, "DELETE FROM records WHERE id IN (4, 5)");
    char problem[512];
    uint64_t bad, records;
    cr_assert_eq(verify(path, NULL, problem, sizeof problem, &bad, &records), 1);
    cr_assert_eq(bad, 6);
    cr_assert(strstr(problem, "removed between #3 (seq 3) and #6"), "%s", problem);
}

Test(audit_store, verify_finds_the_first_record_removed)
{
    fill(4, 0);
    tamper(path, "DELETE FROM records WHERE id = 1");
    char problem[512];
    uint64_t bad, records;
    cr_assert_eq(verify(path, NULL, problem, sizeof problem, &bad, &records), 1);
    cr_assert_eq(bad, 2);
    cr_assert(strstr(problem, "records before it were removed"), "%s", problem);
}

Test(audit_store, verify_finds_two_records_swapped)
{
    fill(6, 0);
    /* swap the contents of #3 and #4 (keeping ids) */
    tamper(path, "DROP TRIGGER records_append_only; DROP INDEX records_event;"
                 "UPDATE records SET id = 100 WHERE id = 3;"
                 "UPDATE records SET id = 3 WHERE id = 4;"
                 "UPDATE records SET id = 4 WHERE id = 100;");
    char problem[512];
    uint64_t bad, records;
    cr_assert_eq(verify(path, NULL, problem, sizeof problem, &bad, &records), 1);
    cr_assert_eq(bad, 3, "%s", problem);
    cr_assert(strstr(problem, "reordered"), "%s", problem);
}

Test(audit_store, verify_finds_an_edited_query_column)
{
    fill(3, 0);
    tamper(path,
           "DROP TRIGGER records_append_only; UPDATE records SET ticket = 'B999' WHERE id = 2");
    char problem[512];
    uint64_t bad, records;
    cr_assert_eq(verify(path, NULL, problem, sizeof problem, &bad, &records), 1);
    cr_assert_eq(bad, 2);
    cr_assert(strstr(problem, "index columns"), "%s", problem);
}

Test(audit_store, the_chain_and_the_last_seq_survive_a_reopen)
{
    fill(4, 2);
    audit_store_t *s = open_store(path);
    cr_assert_eq(audit_store_last_seq(s, "t1"), 4);
    cr_assert_eq(audit_store_last_seq(s, "t2"), 2);
    cr_assert_eq(audit_store_last_id(s), 6);
    append(s, "t1", 5);
    cr_assert_eq(audit_store_append_gap(s, "t2", 3, 9, "lost", 5000), 0);
    cr_assert_eq(audit_store_last_seq(s, "t2"), 9, "a gap covers its range");
    cr_assert_eq(audit_store_commit(s), 0);
    audit_store_destroy(&s);
    char problem[512];
    uint64_t bad, records;
    cr_assert_eq(verify(path, NULL, problem, sizeof problem, &bad, &records), 0, "%s", problem);
    cr_assert_eq(records, 8);
}

Test(audit_store, gap_and_rejected_records_are_in_the_chain_too)
{
    audit_store_t *s = open_store(path);
    append(s, "t1", 1);
    cr_assert_eq(audit_store_append_rejected(s, "t1", (const uint8_t *)"\xff\xff", 2,
                                             "not a protobuf Envelope", 10),
                 0);
    cr_assert_eq(audit_store_append_gap(s, "t1", 2, 4, "gone", 11), 0);
    append(s, "t1", 5);
    cr_assert_eq(audit_store_commit(s), 0);
    audit_store_destroy(&s);
    char problem[512];
    uint64_t bad, records;
    cr_assert_eq(verify(path, NULL, problem, sizeof problem, &bad, &records), 0, "%s", problem);
    cr_assert_eq(records, 4);
    tamper(path, "DROP TRIGGER records_append_only; UPDATE records SET reason = 'ok' WHERE id = 2");
    cr_assert_eq(verify(path, NULL, problem, sizeof problem, &bad, &records), 1);
    cr_assert_eq(bad, 2);
}

Test(audit_store, verify_finds_a_seq_that_jumps_without_a_gap_record)
{
    audit_store_t *s = open_store(path);
    append(s, "t1", 1);
    append(s, "t1", 3); /* the store takes what it is given; the follower never does this */
    cr_assert_eq(audit_store_commit(s), 0);
    audit_store_destroy(&s);
    char problem[512];
    uint64_t bad, records;
    cr_assert_eq(verify(path, NULL, problem, sizeof problem, &bad, &records), 1);
    cr_assert_eq(bad, 2);
    cr_assert(strstr(problem, "seq 3 where 2 was due"), "%s", problem);
}

Test(audit_store, history_filters_by_hall_kind_ticket_date_and_after_id)
{
    fill(6, 2);
    audit_store_t *s = open_store(path);
    Hallbus__AuditHistory q = HALLBUS__AUDIT_HISTORY__INIT;
    q.hall_id = "t2";
    size_t n;
    Hallbus__AuditRecord **r = history(s, &q, &n);
    cr_assert_eq(n, 2);
    audit_records_free(r, n);

    Hallbus__AuditHistory q2 = HALLBUS__AUDIT_HISTORY__INIT;
    q2.hall_id = "t1";
    q2.ticket = "A004";
    q2.date = "2026-11-20";
    r = history(s, &q2, &n);
    cr_assert_eq(n, 1);
    cr_assert_eq(r[0]->seq, 4);
    audit_records_free(r, n);

    Hallbus__AuditHistory q3 = HALLBUS__AUDIT_HISTORY__INIT;
    char *kinds[] = {"window."};
    q3.kinds = kinds;
    q3.n_kinds = 1;
    r = history(s, &q3, &n);
    cr_assert_eq(n, 0, "no window events were stored");
    audit_records_free(r, n);

    Hallbus__AuditHistory q4 = HALLBUS__AUDIT_HISTORY__INIT;
    kinds[0] = "ticket.";
    q4.kinds = kinds;
    q4.n_kinds = 1;
    q4.after_id = 5;
    q4.max = 2;
    bool more;
    cr_assert_eq(audit_store_history(s, &q4, &r, &n, &more), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(r[0]->id, 6);
    cr_assert(more);
    audit_records_free(r, n);
    audit_store_destroy(&s);
}

Test(audit_store, retention_deletes_old_records_and_what_is_left_still_verifies)
{
    fill(10, 0); /* received_at 1001 .. 1010 */
    audit_store_t *s = open_store(path);
    cr_assert_eq(audit_store_prune(s, 1006), 5);
    append(s, "t1", 11);
    cr_assert_eq(audit_store_commit(s), 0);
    audit_store_destroy(&s);
    char problem[512];
    uint64_t bad, records;
    cr_assert_eq(verify(path, NULL, problem, sizeof problem, &bad, &records), 0, "%s", problem);
    cr_assert_eq(records, 6);
    /* the anchor still catches the removal of the first record kept */
    tamper(path, "DELETE FROM records WHERE id = 6");
    cr_assert_eq(verify(path, NULL, problem, sizeof problem, &bad, &records), 1);
    cr_assert_eq(bad, 7, "%s", problem);
}

Test(audit_store, an_export_of_a_range_verifies_on_its_own_and_shows_tampering)
{
    fill(10, 5);
    audit_store_t *s = open_store(path);
    Hallbus__AuditHistory q = HALLBUS__AUDIT_HISTORY__INIT;
    q.hall_id = "t1";
    q.after_id = 6; /* a range that does not start at the chain's start: #7, #9, #11..#15 */
    size_t n;
    Hallbus__AuditRecord **r = history(s, &q, &n);
    cr_assert_eq(n, 7);
    char out[160];
    snprintf(out, sizeof out, "%s/export.db", dir);
    audit_store_t *e = open_store(out);
    cr_assert_eq(audit_store_set_anchor(e, "t1", r[0]->prev_hash.data, r[0]->id, "export"), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(audit_store_import(e, r[i]), 0);
    cr_assert_eq(audit_store_commit(e), 0);
    audit_store_destroy(&e);
    audit_records_free(r, n);
    audit_store_destroy(&s);
    char problem[512];
    uint64_t bad, records;
    cr_assert_eq(verify(out, NULL, problem, sizeof problem, &bad, &records), 0, "%s", problem);
    cr_assert_eq(records, 7);
    tamper(out,
           "DROP TRIGGER records_append_only; UPDATE records SET received_at = 1 WHERE id = 11");
    cr_assert_eq(verify(out, NULL, problem, sizeof problem, &bad, &records), 1);
    cr_assert_eq(bad, 11, "%s", problem);
}

Test(audit_store, a_second_open_for_reading_is_not_an_audit_store_when_the_file_is_not_one)
{
    char other[160], err[256];
    snprintf(other, sizeof other, "%s/other.db", dir);
    tamper(other, "CREATE TABLE x(a)");
    audit_store_t *s = audit_store_open(other, 0, true, err, sizeof err);
    cr_assert_null(s);
    cr_assert(strstr(err, "not an audit store"), "%s", err);
}
