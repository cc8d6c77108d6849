#include "hall_store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hall.h"
#include "hall_store_internal.h"
#include "hallbus/db.h"
#include "hallbus/log.h"

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tickets("
    "  id INTEGER PRIMARY KEY, business_date TEXT NOT NULL, number TEXT NOT NULL,"
    "  service TEXT NOT NULL, original_service TEXT, daily_number INTEGER NOT NULL,"
    "  priority INTEGER NOT NULL, green_reason INTEGER NOT NULL, state INTEGER NOT NULL,"
    "  issued_at INTEGER NOT NULL, first_called_at INTEGER, called_at INTEGER,"
    "  started_at INTEGER, finished_at INTEGER, window INTEGER, staff TEXT,"
    "  recalls INTEGER NOT NULL, requeues INTEGER NOT NULL, result INTEGER NOT NULL,"
    "  reason TEXT, missing_materials TEXT, promised_date TEXT, rating INTEGER NOT NULL,"
    "  rating_comment TEXT, channel TEXT, contact_ref TEXT, queue_key INTEGER NOT NULL,"
    "  appointment_code TEXT, slot_start INTEGER, no_show_at INTEGER, ready_at INTEGER,"
    "  UNIQUE(business_date, number));"
    "CREATE TABLE IF NOT EXISTS contacts(ref TEXT PRIMARY KEY, ticket_id INTEGER NOT NULL,"
    "  contact TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS windows(number INTEGER PRIMARY KEY, state INTEGER NOT NULL,"
    "  staff TEXT, services TEXT, pause_reason TEXT, serving_id INTEGER, since INTEGER);"
    "CREATE TABLE IF NOT EXISTS appointments(code TEXT PRIMARY KEY, service TEXT NOT NULL,"
    "  date TEXT NOT NULL, slot TEXT NOT NULL, slot_start INTEGER NOT NULL,"
    "  slot_end INTEGER NOT NULL, state INTEGER NOT NULL, contact_ref TEXT, ticket_number TEXT,"
    "  booked_at INTEGER NOT NULL, changed_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS appointments_slot ON appointments(service, date, slot);"
    "CREATE INDEX IF NOT EXISTS appointments_booked ON appointments(state, slot_start);"
    "CREATE TABLE IF NOT EXISTS complaints(id INTEGER PRIMARY KEY, business_date TEXT NOT NULL,"
    "  ticket_number TEXT, window INTEGER, staff TEXT, text TEXT NOT NULL,"
    "  state INTEGER NOT NULL, handler TEXT, note TEXT, reply TEXT, filed_at INTEGER NOT NULL,"
    "  changed_at INTEGER NOT NULL, contact_ref TEXT);"
    "CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
    "  kind TEXT NOT NULL, envelope BLOB NOT NULL);";

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_SAVE_TICKET,
    ST_SAVE_CONTACT,
    ST_SAVE_WINDOW,
    ST_APPEND_EVENT,
    ST_SET_META,
    ST_GET_META,
    ST_COUNT
};
_Static_assert(ST_COUNT == HALL_STORE_STATEMENTS, "hall_store_internal.h counts the statements");

static const char *const STATEMENTS[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    /* an upsert changes the row in place: INSERT OR REPLACE would delete it
     * and insert it again, writing the unique index twice */
    [ST_SAVE_TICKET] =
        ("INSERT INTO tickets(id, business_date, number, service, original_service,"
         " daily_number, priority, green_reason, state, issued_at, first_called_at,"
         " called_at, started_at, finished_at, window, staff, recalls, requeues, result,"
         " reason, missing_materials, promised_date, rating, rating_comment, channel,"
         " contact_ref, queue_key, appointment_code, slot_start, no_show_at, token,"
         " appointment_id)"
         " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,"
         "?21,?22,?23,?24,?25,?26,?27,?28,?29,?30,?31,?32)"
         " ON CONFLICT(id) DO UPDATE SET service = excluded.service, original_service ="
         " excluded.original_service, state = excluded.state, first_called_at ="
         " excluded.first_called_at, called_at = excluded.called_at, started_at ="
         " excluded.started_at, finished_at = excluded.finished_at, window ="
         " excluded.window, staff = excluded.staff, recalls = excluded.recalls, requeues ="
         " excluded.requeues, result = excluded.result, reason = excluded.reason,"
         " missing_materials = excluded.missing_materials, promised_date ="
         " excluded.promised_date, rating = excluded.rating, rating_comment ="
         " excluded.rating_comment, queue_key = excluded.queue_key, appointment_code ="
         " excluded.appointment_code, slot_start = excluded.slot_start, no_show_at ="
         " excluded.no_show_at"),
    [ST_SAVE_CONTACT] = ("INSERT INTO contacts(ref, ticket_id, contact, created_at)"
                         " VALUES(?1, ?2, ?3, ?4)"),
    [ST_SAVE_WINDOW] = ("INSERT OR REPLACE INTO windows(number, state, staff, services,"
                        " pause_reason, serving_id, since) VALUES(?1,?2,?3,?4,?5,?6,?7)"),
    [ST_APPEND_EVENT] = "INSERT INTO events(seq, ts, kind, envelope) VALUES(?1, ?2, ?3, ?4)",
    [ST_SET_META] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
    [ST_GET_META] = "SELECT value FROM meta WHERE key = ?1",
};

/* Stores made before a column existed get it; "duplicate column" means the
 * store has it already. */
static int migrate(sqlite3 *db)
{
    static const char *const added[] = {
        "ALTER TABLE tickets ADD COLUMN appointment_code TEXT",
        "ALTER TABLE tickets ADD COLUMN slot_start INTEGER",
        "ALTER TABLE tickets ADD COLUMN no_show_at INTEGER",
        "ALTER TABLE tickets ADD COLUMN ready_at INTEGER",
        "ALTER TABLE tickets ADD COLUMN token TEXT",
        "ALTER TABLE tickets ADD COLUMN appointment_id INTEGER",
        "ALTER TABLE appointments ADD COLUMN id INTEGER",
        "ALTER TABLE contacts ADD COLUMN created_at INTEGER",
    };
    for (size_t i = 0; i < sizeof added / sizeof added[0]; i++) {
        char *msg = NULL;
        if (sqlite3_exec(db, added[i], NULL, NULL, &msg) != SQLITE_OK &&
            (!msg || !strstr(msg, "duplicate column"))) {
            hb_error("migrating the store: %s", msg ? msg : "?");
            sqlite3_free(msg);
            return -1;
        }
        sqlite3_free(msg);
    }
    return hall_store_migrate_privacy(db);
}

hall_store_t *hall_store_open(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = hb_db_open(path, err, errlen);
    if (!db)
        return NULL;
    hall_store_t *self = calloc(1, sizeof *self);
    self->db = db;
    if (hb_db_exec(db, SCHEMA) != 0 || migrate(db) != 0) {
        snprintf(err, errlen, "%s: cannot create the schema: %s", path, sqlite3_errmsg(db));
        hall_store_close(&self);
        return NULL;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        self->st[i] = hb_db_prepare(db, STATEMENTS[i]);
        if (!self->st[i]) {
            snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
            hall_store_close(&self);
            return NULL;
        }
    }
    return self;
}

void hall_store_close(hall_store_t **pself)
{
    if (!pself || !*pself)
        return;
    hall_store_t *self = *pself;
    *pself = NULL;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(self->st[i]);
    sqlite3_close(self->db);
    free(self);
}

int hall_store_begin(hall_store_t *self)
{
    return hb_db_step_done(self->st[ST_BEGIN]);
}

int hall_store_commit(hall_store_t *self)
{
    return hb_db_step_done(self->st[ST_COMMIT]);
}

void hall_store_rollback(hall_store_t *self)
{
    if (!sqlite3_get_autocommit(self->db))
        sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
}

const char *hall_store_errmsg(hall_store_t *self)
{
    return sqlite3_errmsg(self->db);
}

bool hall_store_full(hall_store_t *self)
{
    return (sqlite3_extended_errcode(self->db) & 0xff) == SQLITE_FULL;
}

static void bind_time(sqlite3_stmt *st, int col, int64_t t)
{
    if (t)
        sqlite3_bind_int64(st, col, t);
    else
        sqlite3_bind_null(st, col);
}

/* The one-time notice is a list; stored as a JSON array so any reader of
 * the file can take it apart without knowing a separator. */
static char *materials_json(const ticket_t *t)
{
    if (t->materials_count == 0)
        return NULL;
    json_t *arr = json_array();
    for (unsigned i = 0; i < t->materials_count; i++)
        json_array_append_new(arr, json_string(t->materials[i]));
    char *text = json_dumps(arr, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(arr);
    return text;
}

int hall_store_save_ticket(hall_store_t *self, const ticket_t *t, const char *business_date)
{
    sqlite3_stmt *st = self->st[ST_SAVE_TICKET];
    char *materials = materials_json(t);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)t->id);
    sqlite3_bind_text(st, 2, business_date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, t->number, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, t->service->prefix, -1, SQLITE_STATIC);
    hb_db_bind_text(st, 5, t->original_service);
    sqlite3_bind_int(st, 6, (int)t->daily_number);
    sqlite3_bind_int(st, 7, t->priority);
    sqlite3_bind_int(st, 8, t->green_reason);
    sqlite3_bind_int(st, 9, t->state);
    sqlite3_bind_int64(st, 10, t->issued_at);
    bind_time(st, 11, t->first_called_at);
    bind_time(st, 12, t->called_at);
    bind_time(st, 13, t->started_at);
    bind_time(st, 14, t->finished_at);
    if (t->window)
        sqlite3_bind_int(st, 15, (int)t->window);
    hb_db_bind_text(st, 16, t->staff);
    sqlite3_bind_int(st, 17, (int)t->recalls);
    sqlite3_bind_int(st, 18, (int)t->requeues);
    sqlite3_bind_int(st, 19, t->result);
    hb_db_bind_text(st, 20, t->reason);
    hb_db_bind_text(st, 21, materials);
    hb_db_bind_text(st, 22, t->promised_date);
    sqlite3_bind_int(st, 23, (int)t->rating);
    hb_db_bind_text(st, 24, t->rating_comment);
    hb_db_bind_text(st, 25, t->channel);
    hb_db_bind_text(st, 26, t->contact_ref);
    sqlite3_bind_int64(st, 27, (sqlite3_int64)t->queue_key);
    hb_db_bind_text(st, 28, t->appointment_code);
    bind_time(st, 29, t->slot_start);
    bind_time(st, 30, t->no_show_at);
    hb_db_bind_text(st, 31, t->token);
    if (t->appointment_id)
        sqlite3_bind_int64(st, 32, (sqlite3_int64)t->appointment_id);
    else
        sqlite3_bind_null(st, 32);
    int rc = hb_db_step_done(st);
    free(materials);
    return rc;
}

int hall_store_save_contact(hall_store_t *self, const char *ref, uint64_t ticket_id,
                            const char *contact, int64_t created_at)
{
    sqlite3_stmt *st = self->st[ST_SAVE_CONTACT];
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)ticket_id);
    sqlite3_bind_text(st, 3, contact, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, created_at);
    return hb_db_step_done(st);
}

int hall_store_save_window(hall_store_t *self, const window_t *w)
{
    sqlite3_stmt *st = self->st[ST_SAVE_WINDOW];
    char services[128] = "";
    for (unsigned i = 0; i < w->services_count; i++) {
        if (i)
            strcat(services, ",");
        strncat(services, w->services[i]->prefix, 2);
    }
    sqlite3_bind_int(st, 1, (int)w->number);
    sqlite3_bind_int(st, 2, w->state);
    hb_db_bind_text(st, 3, w->staff);
    hb_db_bind_text(st, 4, services);
    hb_db_bind_text(st, 5, w->pause_reason);
    if (w->current)
        sqlite3_bind_int64(st, 6, (sqlite3_int64)w->current->id);
    bind_time(st, 7, w->since);
    return hb_db_step_done(st);
}

int hall_store_append_event(hall_store_t *self, uint64_t seq, int64_t ts, const char *kind,
                            const void *data, size_t len)
{
    sqlite3_stmt *st = self->st[ST_APPEND_EVENT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    sqlite3_bind_int64(st, 2, ts);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, data, (int)len, SQLITE_STATIC);
    return hb_db_step_done(st);
}

int hall_store_set_meta(hall_store_t *self, const char *key, const char *value)
{
    sqlite3_stmt *st = self->st[ST_SET_META];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    return hb_db_step_done(st);
}

int hall_store_get_meta(hall_store_t *self, const char *key, char *out, size_t outlen)
{
    sqlite3_stmt *st = self->st[ST_GET_META];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int found = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, outlen, "%s", hb_db_column_text(st, 0));
        found = 0;
    }
    sqlite3_reset(st);
    return found;
}

static uint64_t query_u64(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    uint64_t v = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void load_materials(ticket_t *t, const char *text)
{
    if (!*text)
        return;
    json_t *arr = json_loads(text, 0, NULL);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return;
    }
    size_t n = json_array_size(arr);
    t->materials = calloc(n, sizeof *t->materials);
    for (size_t i = 0; i < n; i++) {
        const char *m = json_string_value(json_array_get(arr, i));
        t->materials[t->materials_count++] = strdup(m ? m : "");
    }
    json_decref(arr);
}

static char *dup_or_null(const char *text)
{
    return *text ? strdup(text) : NULL;
}

#define TICKET_COLUMNS                                                                             \
    "id, number, service, original_service, daily_number, priority, green_reason,"                 \
    " state, issued_at, first_called_at, called_at, started_at, finished_at, window, staff,"       \
    " recalls, requeues, result, reason, missing_materials, promised_date, rating,"                \
    " rating_comment, channel, contact_ref, queue_key, appointment_code, slot_start, no_show_at,"  \
    " token, appointment_id"

/* A ticket from a row of TICKET_COLUMNS, or NULL if its service is no
 * longer in the hall file (the row stays in the store as history). */
static ticket_t *ticket_row(sqlite3_stmt *st, hall_t *hall)
{
    service_t *svc = hall_service(hall, hb_db_column_text(st, 2));
    if (!svc) {
        hb_warn("ticket %s: service %s is not in the config; ignored", hb_db_column_text(st, 1),
                hb_db_column_text(st, 2));
        return NULL;
    }
    ticket_t *t = calloc(1, sizeof *t);
    t->id = (uint64_t)sqlite3_column_int64(st, 0);
    snprintf(t->number, sizeof t->number, "%s", hb_db_column_text(st, 1));
    t->service = svc;
    snprintf(t->original_service, sizeof t->original_service, "%s", hb_db_column_text(st, 3));
    t->daily_number = (uint32_t)sqlite3_column_int(st, 4);
    t->priority = sqlite3_column_int(st, 5);
    t->green_reason = sqlite3_column_int(st, 6);
    t->state = sqlite3_column_int(st, 7);
    t->issued_at = sqlite3_column_int64(st, 8);
    t->first_called_at = sqlite3_column_int64(st, 9);
    t->called_at = sqlite3_column_int64(st, 10);
    t->started_at = sqlite3_column_int64(st, 11);
    t->finished_at = sqlite3_column_int64(st, 12);
    t->window = (uint32_t)sqlite3_column_int(st, 13);
    snprintf(t->staff, sizeof t->staff, "%s", hb_db_column_text(st, 14));
    t->recalls = (uint32_t)sqlite3_column_int(st, 15);
    t->requeues = (uint32_t)sqlite3_column_int(st, 16);
    t->result = sqlite3_column_int(st, 17);
    t->reason = dup_or_null(hb_db_column_text(st, 18));
    load_materials(t, hb_db_column_text(st, 19));
    snprintf(t->promised_date, sizeof t->promised_date, "%s", hb_db_column_text(st, 20));
    t->rating = (uint32_t)sqlite3_column_int(st, 21);
    t->rating_comment = dup_or_null(hb_db_column_text(st, 22));
    snprintf(t->channel, sizeof t->channel, "%s", hb_db_column_text(st, 23));
    snprintf(t->contact_ref, sizeof t->contact_ref, "%s", hb_db_column_text(st, 24));
    t->queue_key = (uint64_t)sqlite3_column_int64(st, 25);
    snprintf(t->appointment_code, sizeof t->appointment_code, "%s", hb_db_column_text(st, 26));
    t->slot_start = sqlite3_column_int64(st, 27);
    t->no_show_at = sqlite3_column_int64(st, 28);
    snprintf(t->token, sizeof t->token, "%s", hb_db_column_text(st, 29));
    t->appointment_id = (uint64_t)sqlite3_column_int64(st, 30);
    return t;
}

ticket_t *hall_store_load_ticket(hall_store_t *self, hall_t *hall, const char *date,
                                 const char *number)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT " TICKET_COLUMNS
                           " FROM tickets WHERE business_date = ?1 AND number = ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, number, -1, SQLITE_STATIC);
    ticket_t *t = sqlite3_step(st) == SQLITE_ROW ? ticket_row(st, hall) : NULL;
    sqlite3_finalize(st);
    return t;
}

static int load_tickets(hall_store_t *self, hall_t *hall)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT " TICKET_COLUMNS
                           " FROM tickets WHERE business_date = ?1 ORDER BY queue_key",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, hall->business_date, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ticket_t *t = ticket_row(st, hall);
        if (!t)
            continue;
        service_t *svc = t->service;
        HASH_ADD(hh_number, hall->by_number, number, strlen(t->number), t);
        HASH_ADD(hh_id, hall->by_id, id, sizeof t->id, t);
        if (t->token[0])
            HASH_ADD(hh_token, hall->by_token, token, strlen(t->token), t);
        /* the daily number counts issues in the service it was taken for */
        service_t *issued_in =
            t->original_service[0] ? hall_service(hall, t->original_service) : svc;
        if (issued_in && t->daily_number > issued_in->last_number)
            issued_in->last_number = t->daily_number;
        if (t->state == HALLBUS__TICKET_STATE__WAITING)
            hall_line_insert(hall_line_of(t), t);
        if (t->state == HALLBUS__TICKET_STATE__FINISHED)
            svc->served_today++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int load_windows(hall_store_t *self, hall_t *hall)
{
    sqlite3_stmt *st = NULL;
    const char *sql =
        "SELECT number, state, staff, services, pause_reason, serving_id, since FROM windows";
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        window_t *w = hall_window(hall, (uint32_t)sqlite3_column_int(st, 0));
        if (!w)
            continue; /* window removed from the config */
        w->state = sqlite3_column_int(st, 1);
        snprintf(w->staff, sizeof w->staff, "%s", hb_db_column_text(st, 2));
        char services[128];
        snprintf(services, sizeof services, "%s", hb_db_column_text(st, 3));
        service_t *chosen[32];
        unsigned n = 0;
        for (char *save = NULL, *p = strtok_r(services, ",", &save); p;
             p = strtok_r(NULL, ",", &save)) {
            service_t *svc = hall_service(hall, p);
            if (svc && n < hall->services_count)
                chosen[n++] = svc;
        }
        if (n > 0)
            hall_window_set_services(hall, w, chosen, n);
        snprintf(w->pause_reason, sizeof w->pause_reason, "%s", hb_db_column_text(st, 4));
        if (sqlite3_column_type(st, 5) != SQLITE_NULL)
            w->current = hall_ticket_by_id(hall, (uint64_t)sqlite3_column_int64(st, 5));
        w->since = sqlite3_column_int64(st, 6);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int hall_store_load(hall_store_t *self, hall_t *hall)
{
    hall->next_ticket_id = query_u64(self->db, "SELECT IFNULL(MAX(id), 0) FROM tickets") + 1;
    hall->next_queue_key =
        query_u64(self->db, "SELECT IFNULL(MAX(queue_key), 0) FROM tickets") + HALL_KEY_STEP;
    hall->seq = query_u64(self->db, "SELECT IFNULL(MAX(seq), 0) FROM events");
    if (load_tickets(self, hall) != 0 || load_windows(self, hall) != 0) {
        hb_error("loading the hall: %s", sqlite3_errmsg(self->db));
        return -1;
    }
    return 0;
}

int hall_store_prune_events(hall_store_t *self, int64_t before_ts)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "DELETE FROM events WHERE ts < ?1"
                           " AND seq < (SELECT MAX(seq) FROM events)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, before_ts);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

int hall_store_fetch_events(hall_store_t *self, uint64_t from_seq, unsigned max, uint8_t ***data,
                            size_t **lens, uint64_t *oldest)
{
    *oldest = query_u64(self->db, "SELECT IFNULL(MIN(seq), 0) FROM events");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT envelope FROM events WHERE seq >= ?1 ORDER BY seq LIMIT ?2", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)from_seq);
    sqlite3_bind_int(st, 2, (int)max);
    *data = calloc(max ? max : 1, sizeof **data);
    *lens = calloc(max ? max : 1, sizeof **lens);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && (unsigned)n < max) {
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        (*data)[n] = malloc(len ? len : 1);
        memcpy((*data)[n], sqlite3_column_blob(st, 0), len);
        (*lens)[n] = len;
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

int hall_store_resolve_contact(hall_store_t *self, const char *ref, char **contact, char **number,
                               char **date)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT c.contact, IFNULL(t.number, a.code),"
                           " IFNULL(t.business_date, a.date) FROM contacts c"
                           " LEFT JOIN tickets t ON t.id = c.ticket_id"
                           " LEFT JOIN appointments a ON a.contact_ref = c.ref WHERE c.ref = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *contact = strdup(hb_db_column_text(st, 0));
        *number = strdup(hb_db_column_text(st, 1));
        *date = strdup(hb_db_column_text(st, 2));
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ── appointments ── */

static char *column_dup(sqlite3_stmt *st, int col)
{
    return strdup(hb_db_column_text(st, col));
}

#define APPOINTMENT_COLUMNS                                                                        \
    "code, service, date, slot, slot_start, slot_end, state, contact_ref, ticket_number,"          \
    " booked_at, changed_at, IFNULL(id, 0)"

static Hallbus__Appointment *appointment_row(sqlite3_stmt *st)
{
    Hallbus__Appointment *a = malloc(sizeof *a);
    hallbus__appointment__init(a);
    a->code = column_dup(st, 0);
    a->service = column_dup(st, 1);
    a->date = column_dup(st, 2);
    a->slot = column_dup(st, 3);
    a->slot_start = sqlite3_column_int64(st, 4);
    a->slot_end = sqlite3_column_int64(st, 5);
    a->state = sqlite3_column_int(st, 6);
    a->contact_ref = column_dup(st, 7);
    a->ticket_number = column_dup(st, 8);
    a->booked_at = sqlite3_column_int64(st, 9);
    a->changed_at = sqlite3_column_int64(st, 10);
    a->id = (uint64_t)sqlite3_column_int64(st, 11);
    return a;
}

/* Steps ST to its end, appending ROW(st) of each row to *ITEMS (grown as
 * needed; *COUNT items); finalizes ST. */
void hall_store_collect_rows(sqlite3_stmt *st, void ***items, size_t *count,
                             void *(*row)(sqlite3_stmt *st))
{
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? cap * 2 : 8;
            *items = realloc(*items, cap * sizeof **items);
        }
        (*items)[(*count)++] = row(st);
    }
    sqlite3_finalize(st);
}

static void *appointment_item(sqlite3_stmt *st)
{
    return appointment_row(st);
}

static void *complaint_item(sqlite3_stmt *st);

/* Runs SQL (bound by BIND) and collects the appointment rows. */
static Hallbus__AppointmentList *appointment_query(hall_store_t *self, const char *sql,
                                                   const char *t1, const char *t2, int64_t i1)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK) {
        hb_error("sqlite: %s", sqlite3_errmsg(self->db));
        return NULL;
    }
    if (t1)
        sqlite3_bind_text(st, 1, t1, -1, SQLITE_STATIC);
    if (t2)
        sqlite3_bind_text(st, 2, t2, -1, SQLITE_STATIC);
    if (i1)
        sqlite3_bind_int64(st, 1, i1);
    Hallbus__AppointmentList *list = malloc(sizeof *list);
    hallbus__appointment_list__init(list);
    hall_store_collect_rows(st, (void ***)&list->appointments, &list->n_appointments,
                            appointment_item);
    return list;
}

Hallbus__Appointment *hall_store_load_appointment(hall_store_t *self, const char *code)
{
    Hallbus__AppointmentList *list = appointment_query(
        self, "SELECT " APPOINTMENT_COLUMNS " FROM appointments WHERE code = ?1", code, NULL, 0);
    Hallbus__Appointment *a = NULL;
    if (list && list->n_appointments == 1) {
        a = list->appointments[0];
        list->n_appointments = 0;
    }
    hallbus__appointment_list__free_unpacked(list, NULL);
    return a;
}

void hall_store_free_appointment(Hallbus__Appointment *a)
{
    if (a)
        hallbus__appointment__free_unpacked(a, NULL);
}

int hall_store_save_appointment(hall_store_t *self, const Hallbus__Appointment *a)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "INSERT OR REPLACE INTO appointments(code, service, date, slot,"
                           " slot_start, slot_end, state, contact_ref, ticket_number,"
                           " booked_at, changed_at, id)"
                           " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, a->code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->service, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->slot, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, a->slot_start);
    sqlite3_bind_int64(st, 6, a->slot_end);
    sqlite3_bind_int(st, 7, a->state);
    hb_db_bind_text(st, 8, a->contact_ref);
    hb_db_bind_text(st, 9, a->ticket_number);
    sqlite3_bind_int64(st, 10, a->booked_at);
    sqlite3_bind_int64(st, 11, a->changed_at);
    if (a->id)
        sqlite3_bind_int64(st, 12, (sqlite3_int64)a->id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    if (rc)
        hb_error("sqlite: %s", sqlite3_errmsg(self->db));
    sqlite3_finalize(st);
    return rc;
}

unsigned hall_store_count_booked(hall_store_t *self, const char *service, const char *date,
                                 const char *slot)
{
    sqlite3_stmt *st = NULL;
    unsigned n = 0;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT COUNT(*) FROM appointments WHERE service = ?1 AND date = ?2"
                           " AND slot = ?3 AND state IN (1, 3)",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, service, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, slot, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (unsigned)sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

Hallbus__AppointmentList *hall_store_booked_before(hall_store_t *self, int64_t now)
{
    return appointment_query(self,
                             "SELECT " APPOINTMENT_COLUMNS " FROM appointments"
                             " WHERE state = 1 AND slot_start < ?1 ORDER BY slot_start",
                             NULL, NULL, now);
}

Hallbus__AppointmentList *hall_store_list_appointments(hall_store_t *self, const char *date,
                                                       const char *service)
{
    if (service && *service)
        return appointment_query(self,
                                 "SELECT " APPOINTMENT_COLUMNS " FROM appointments"
                                 " WHERE date = ?1 AND service = ?2 ORDER BY slot, booked_at",
                                 date, service, 0);
    return appointment_query(self,
                             "SELECT " APPOINTMENT_COLUMNS " FROM appointments"
                             " WHERE date = ?1 ORDER BY slot, service, booked_at",
                             date, NULL, 0);
}

/* ── complaints ── */

#define COMPLAINT_COLUMNS                                                                          \
    "id, business_date, ticket_number, window, staff, text, state, handler, note, reply,"          \
    " filed_at, changed_at, contact_ref"

static Hallbus__Complaint *complaint_row(sqlite3_stmt *st)
{
    Hallbus__Complaint *c = malloc(sizeof *c);
    hallbus__complaint__init(c);
    c->id = (uint64_t)sqlite3_column_int64(st, 0);
    c->business_date = column_dup(st, 1);
    c->ticket_number = column_dup(st, 2);
    c->window = (uint32_t)sqlite3_column_int(st, 3);
    c->staff = column_dup(st, 4);
    c->text = column_dup(st, 5);
    c->state = sqlite3_column_int(st, 6);
    c->handler = column_dup(st, 7);
    c->note = column_dup(st, 8);
    c->reply = column_dup(st, 9);
    c->filed_at = sqlite3_column_int64(st, 10);
    c->changed_at = sqlite3_column_int64(st, 11);
    c->contact_ref = column_dup(st, 12);
    return c;
}

static void *complaint_item(sqlite3_stmt *st)
{
    return complaint_row(st);
}

Hallbus__ComplaintList *hall_store_list_complaints(hall_store_t *self, bool open_only, uint64_t id)
{
    sqlite3_stmt *st = NULL;
    const char *sql = id          ? "SELECT " COMPLAINT_COLUMNS " FROM complaints WHERE id = ?1"
                      : open_only ? "SELECT " COMPLAINT_COLUMNS
                                    " FROM complaints WHERE state != 3 ORDER BY id"
                                  : "SELECT " COMPLAINT_COLUMNS " FROM complaints ORDER BY id";
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    if (id)
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    Hallbus__ComplaintList *list = malloc(sizeof *list);
    hallbus__complaint_list__init(list);
    hall_store_collect_rows(st, (void ***)&list->complaints, &list->n_complaints, complaint_item);
    return list;
}

int hall_store_save_complaint(hall_store_t *self, Hallbus__Complaint *c)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "INSERT OR REPLACE INTO complaints(" COMPLAINT_COLUMNS
                           ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (c->id)
        sqlite3_bind_int64(st, 1, (sqlite3_int64)c->id);
    sqlite3_bind_text(st, 2, c->business_date, -1, SQLITE_STATIC);
    hb_db_bind_text(st, 3, c->ticket_number);
    if (c->window)
        sqlite3_bind_int(st, 4, (int)c->window);
    hb_db_bind_text(st, 5, c->staff);
    sqlite3_bind_text(st, 6, c->text, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, c->state);
    hb_db_bind_text(st, 8, c->handler);
    hb_db_bind_text(st, 9, c->note);
    hb_db_bind_text(st, 10, c->reply);
    sqlite3_bind_int64(st, 11, c->filed_at);
    sqlite3_bind_int64(st, 12, c->changed_at);
    hb_db_bind_text(st, 13, c->contact_ref);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    if (rc == 0 && !c->id)
        c->id = (uint64_t)sqlite3_last_insert_rowid(self->db);
    sqlite3_finalize(st);
    return rc;
}

int64_t hall_store_ready_at(hall_store_t *self, uint64_t ticket_id)
{
    sqlite3_stmt *st = NULL;
    int64_t at = 0;
    if (sqlite3_prepare_v2(self->db, "SELECT IFNULL(ready_at, 0) FROM tickets WHERE id = ?1", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)ticket_id);
        if (sqlite3_step(st) == SQLITE_ROW)
            at = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return at;
}

int hall_store_set_ready(hall_store_t *self, uint64_t ticket_id, int64_t at)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, "UPDATE tickets SET ready_at = ?1 WHERE id = ?2", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)ticket_id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}
