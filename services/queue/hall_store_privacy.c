/* The store's part in keeping citizens' data private: tickets' tokens,
 * appointments' ids (what events name them by), the retention of contacts
 * and the evaluations' comments, which only an authorised command reads. */
#include <stdlib.h>
#include <string.h>

#include "hall_store_internal.h"
#include "hallbus/db.h"
#include "hallbus/log.h"

int hall_store_migrate_privacy(sqlite3 *db)
{
    static const char SQL[] =
        /* tokens are looked up in memory (today's tickets) and carry their
         * day: an index of random keys would rewrite a page per ticket */
        "DROP INDEX IF EXISTS tickets_token;"
        "CREATE INDEX IF NOT EXISTS contacts_created ON contacts(created_at);"
        "UPDATE contacts SET created_at = COALESCE("
        "  (SELECT issued_at FROM tickets WHERE tickets.contact_ref = contacts.ref),"
        "  (SELECT booked_at FROM appointments WHERE appointments.contact_ref = contacts.ref),"
        "  (SELECT filed_at FROM complaints WHERE complaints.contact_ref = contacts.ref), 0)"
        " WHERE created_at IS NULL;"
        "UPDATE appointments SET id = rowid + (SELECT IFNULL(MAX(id), 0) FROM appointments)"
        " WHERE id IS NULL;";
    char *msg = NULL;
    if (sqlite3_exec(db, SQL, NULL, NULL, &msg) != SQLITE_OK) {
        hb_error("migrating the store: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Runs SQL, which yields one integer, with TEXT bound to ?1 (when given). */
static int64_t one_integer(hall_store_t *self, const char *sql, const char *text, int64_t dflt)
{
    sqlite3_stmt *st = NULL;
    int64_t v = dflt;
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK) {
        hb_error("sqlite: %s", sqlite3_errmsg(self->db));
        return dflt;
    }
    if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

uint64_t hall_store_next_appointment_id(hall_store_t *self)
{
    return (uint64_t)one_integer(self, "SELECT IFNULL(MAX(id), 0) + 1 FROM appointments", NULL, 1);
}

int hall_store_purge_contacts(hall_store_t *self, int64_t before, unsigned batch)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "DELETE FROM contacts WHERE ref IN (SELECT ref FROM contacts"
                           " WHERE created_at < ?1 AND ref NOT IN (SELECT contact_ref FROM"
                           " appointments WHERE state = 1 AND contact_ref IS NOT NULL)"
                           " ORDER BY created_at LIMIT ?2)",
                           -1, &st, NULL) != SQLITE_OK) {
        hb_error("sqlite: %s", sqlite3_errmsg(self->db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, before);
    sqlite3_bind_int(st, 2, (int)batch);
    int rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(self->db) : -1;
    sqlite3_finalize(st);
    return rc;
}

static Hallbus__Evaluation *evaluation_row(sqlite3_stmt *st)
{
    Hallbus__Evaluation *e = malloc(sizeof *e);
    hallbus__evaluation__init(e);
    e->ticket_number = strdup(hb_db_column_text(st, 0));
    e->business_date = strdup(hb_db_column_text(st, 1));
    e->service = strdup(hb_db_column_text(st, 2));
    e->window = (uint32_t)sqlite3_column_int(st, 3);
    e->staff = strdup(hb_db_column_text(st, 4));
    e->rating = (uint32_t)sqlite3_column_int(st, 5);
    e->comment = strdup(hb_db_column_text(st, 6));
    e->finished_at = sqlite3_column_int64(st, 7);
    return e;
}

static void *evaluation_item(sqlite3_stmt *st)
{
    return evaluation_row(st);
}

Hallbus__EvaluationList *hall_store_list_evaluations(hall_store_t *self, const char *date,
                                                     bool commented_only)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT number, business_date, service, IFNULL(window, 0), staff,"
                           " rating, rating_comment, IFNULL(finished_at, 0) FROM tickets"
                           " WHERE business_date = ?1 AND rating > 0"
                           " AND (?2 = 0 OR IFNULL(rating_comment, '') != '') ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        hb_error("sqlite: %s", sqlite3_errmsg(self->db));
        return NULL;
    }
    sqlite3_bind_text(st, 1, date, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, commented_only);
    Hallbus__EvaluationList *list = malloc(sizeof *list);
    hallbus__evaluation_list__init(list);
    hall_store_collect_rows(st, (void ***)&list->evaluations, &list->n_evaluations,
                            evaluation_item);
    return list;
}
