#include "hall_store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hall.h"
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
    "  UNIQUE(business_date, number));"
    "CREATE TABLE IF NOT EXISTS contacts(ref TEXT PRIMARY KEY, ticket_id INTEGER NOT NULL,"
    "  contact TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS windows(number INTEGER PRIMARY KEY, state INTEGER NOT NULL,"
    "  staff TEXT, services TEXT, pause_reason TEXT, serving_id INTEGER, since INTEGER);"
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

static const char *const STATEMENTS[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    [ST_SAVE_TICKET] =
        ("INSERT OR REPLACE INTO tickets(id, business_date, number, service, original_service,"
         " daily_number, priority, green_reason, state, issued_at, first_called_at, called_at,"
         " started_at, finished_at, window, staff, recalls, requeues, result, reason,"
         " missing_materials, promised_date, rating, rating_comment, channel, contact_ref,"
         " queue_key) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,"
         "?19,?20,?21,?22,?23,?24,?25,?26,?27)"),
    [ST_SAVE_CONTACT] = "INSERT INTO contacts(ref, ticket_id, contact) VALUES(?1, ?2, ?3)",
    [ST_SAVE_WINDOW] = ("INSERT OR REPLACE INTO windows(number, state, staff, services,"
                        " pause_reason, serving_id, since) VALUES(?1,?2,?3,?4,?5,?6,?7)"),
    [ST_APPEND_EVENT] = "INSERT INTO events(seq, ts, kind, envelope) VALUES(?1, ?2, ?3, ?4)",
    [ST_SET_META] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
    [ST_GET_META] = "SELECT value FROM meta WHERE key = ?1",
};

struct hall_store_s {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
};

hall_store_t *hall_store_open(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = hb_db_open(path, err, errlen);
    if (!db)
        return NULL;
    hall_store_t *self = calloc(1, sizeof *self);
    self->db = db;
    if (hb_db_exec(db, SCHEMA) != 0) {
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

sqlite3 *hall_store_db(hall_store_t *self)
{
    return self->db;
}

int hall_store_begin(hall_store_t *self)
{
    return hb_db_step_done(self->st[ST_BEGIN]);
}

int hall_store_commit(hall_store_t *self)
{
    return hb_db_step_done(self->st[ST_COMMIT]);
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
    int rc = hb_db_step_done(st);
    free(materials);
    return rc;
}

int hall_store_save_contact(hall_store_t *self, const char *ref, uint64_t ticket_id,
                            const char *contact)
{
    sqlite3_stmt *st = self->st[ST_SAVE_CONTACT];
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)ticket_id);
    sqlite3_bind_text(st, 3, contact, -1, SQLITE_STATIC);
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

static int load_tickets(hall_store_t *self, hall_t *hall)
{
    sqlite3_stmt *st = NULL;
    const char *sql =
        "SELECT id, number, service, original_service, daily_number, priority, green_reason,"
        " state, issued_at, first_called_at, called_at, started_at, finished_at, window, staff,"
        " recalls, requeues, result, reason, missing_materials, promised_date, rating,"
        " rating_comment, channel, contact_ref, queue_key"
        " FROM tickets WHERE business_date = ?1 ORDER BY queue_key";
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, hall->business_date, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        service_t *svc = hall_service(hall, hb_db_column_text(st, 2));
        if (!svc) {
            /* the config lost a service that has tickets today: keep them in
             * the store, but they cannot be called through this config */
            hb_warn("ticket %s: service %s is not in the config; ignored", hb_db_column_text(st, 1),
                    hb_db_column_text(st, 2));
            continue;
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

        HASH_ADD(hh_number, hall->by_number, number, strlen(t->number), t);
        HASH_ADD(hh_id, hall->by_id, id, sizeof t->id, t);
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
        unsigned n = 0;
        for (char *save = NULL, *p = strtok_r(services, ",", &save); p;
             p = strtok_r(NULL, ",", &save)) {
            service_t *svc = hall_service(hall, p);
            if (svc && n < hall->services_count)
                w->services[n++] = svc;
        }
        if (n > 0)
            w->services_count = n;
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
    hall->next_queue_key = query_u64(self->db, "SELECT IFNULL(MAX(queue_key), 0) FROM tickets") + 1;
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
                           "SELECT c.contact, t.number, t.business_date FROM contacts c"
                           " JOIN tickets t ON t.id = c.ticket_id WHERE c.ref = ?1",
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
