#include "cmd_notify.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hallbus/clock.h"
#include "hallbus/pb_json.h"
#include "notifier.pb-c.h"

static const char *const state_names[] = {"pending", "sent", "failed", "expired"};

static const char *state_name(int s)
{
    return s >= 0 && s < 4 ? state_names[s] : "unknown";
}

/* The outbox named by the hall file, opened with FLAGS; NULL with a message. */
static sqlite3 *open_outbox(hallctl_t *ctl, int flags, int *status)
{
    *status = hc_resolve(ctl);
    if (*status != 0)
        return NULL;
    if (!ctl->config) {
        *status = hc_usage_error(ctl, "notify needs the hall file (-c or $HALLBUS_CONFIG)");
        return NULL;
    }
    const char *path = ctl->config->notifier.db;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        fprintf(stderr, "hallctl: cannot open the outbox %s: %s\n", path,
                db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        *status = HC_EXIT_UNREACHABLE;
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void fmt_time(int64_t us, char *out, size_t len)
{
    if (us <= 0) {
        snprintf(out, len, "-");
        return;
    }
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, len, "%H:%M:%S", &tm);
}

int cmd_notify_status(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_opt_t opts[] = {
        {"all", false, HC_OPT_FIRST}, {"limit", true, HC_OPT_FIRST + 1}, {NULL, false, 0}};
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    bool all = false;
    long limit = 20;
    const char *arg;
    int id, status;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        if (id == HC_OPT_FIRST)
            all = true;
        else if (hc_parse_count(ctl, "--limit", arg, 1, 100000, &limit) != 0)
            return HC_EXIT_USAGE;
    }
    if (id < 0)
        return g.status;
    if ((status = hc_want_args(&g, 0, "")) != 0)
        return status;
    sqlite3 *db = open_outbox(ctl, SQLITE_OPEN_READONLY, &status);
    if (!db)
        return status;

    Hallbus__NotifyStatus st = HALLBUS__NOTIFY_STATUS__INIT;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT state, COUNT(*) FROM outbox GROUP BY state", -1, &q, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "hallctl: %s is not a notifier outbox (yet): %s\n",
                ctl->config->notifier.db, sqlite3_errmsg(db));
        sqlite3_close(db);
        return HC_EXIT_UNREACHABLE;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        uint32_t n = (uint32_t)sqlite3_column_int(q, 1);
        switch (sqlite3_column_int(q, 0)) {
        case 0:
            st.pending = n;
            break;
        case 1:
            st.sent = n;
            break;
        case 2:
            st.failed = n;
            break;
        case 3:
            st.expired = n;
            break;
        }
    }
    sqlite3_finalize(q);
    if (sqlite3_prepare_v2(db, "SELECT seq FROM cursor WHERE hall = ?1", -1, &q, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(q, 1, ctl->config->hall.id, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW)
            st.cursor_seq = (uint64_t)sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    const char *sql = all ? "SELECT id, key, kind, ticket, state, attempts, channel, last_error,"
                            " event_ts, next_at, deadline, sent_at FROM outbox"
                            " ORDER BY id DESC LIMIT ?1"
                          : "SELECT id, key, kind, ticket, state, attempts, channel, last_error,"
                            " event_ts, next_at, deadline, sent_at FROM outbox WHERE state != 1"
                            " ORDER BY id DESC LIMIT ?1";
    Hallbus__NotifyOutboxEntry *entries = calloc((size_t)limit, sizeof *entries);
    Hallbus__NotifyOutboxEntry **ptrs = calloc((size_t)limit, sizeof *ptrs);
    size_t n = 0;
    if (entries && ptrs && sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, limit);
        while (sqlite3_step(q) == SQLITE_ROW && n < (size_t)limit) {
            Hallbus__NotifyOutboxEntry *e = &entries[n];
            hallbus__notify_outbox_entry__init(e);
            e->id = sqlite3_column_int64(q, 0);
            e->key = strdup((const char *)sqlite3_column_text(q, 1));
            const char *kind = hb_note_kind_name(sqlite3_column_int(q, 2));
            e->kind = strdup(kind ? kind : "unknown");
            e->ticket = strdup((const char *)sqlite3_column_text(q, 3));
            e->state = strdup(state_name(sqlite3_column_int(q, 4)));
            e->attempts = (uint32_t)sqlite3_column_int(q, 5);
            const unsigned char *ch = sqlite3_column_text(q, 6);
            const unsigned char *err = sqlite3_column_text(q, 7);
            e->channel = strdup(ch ? (const char *)ch : "");
            e->last_error = strdup(err ? (const char *)err : "");
            e->event_ts = sqlite3_column_int64(q, 8);
            e->next_at = sqlite3_column_int64(q, 9);
            e->deadline = sqlite3_column_int64(q, 10);
            e->sent_at = sqlite3_column_int64(q, 11);
            ptrs[n++] = e;
        }
        sqlite3_finalize(q);
    }
    st.n_entries = n;
    st.entries = ptrs;
    sqlite3_close(db);

    if (ctl->json) {
        json_t *doc = hb_pb_to_json(&st.base);
        char *text = json_dumps(doc, JSON_COMPACT);
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(doc);
    } else {
        printf("outbox %s: %u pending, %u sent, %u failed, %u expired; at hall event %llu\n",
               ctl->config->notifier.db, st.pending, st.sent, st.failed, st.expired,
               (unsigned long long)st.cursor_seq);
        if (n)
            printf("%-6s %-9s %-6s %-8s %-8s %-8s %-8s %s\n", "ID", "KIND", "TICKET", "STATE",
                   "TRIES", "EVENT", "NEXT", "LAST ERROR");
        for (size_t i = 0; i < n; i++) {
            Hallbus__NotifyOutboxEntry *e = ptrs[i];
            char ev[16], next[16];
            fmt_time(e->event_ts, ev, sizeof ev);
            fmt_time(strcmp(e->state, "pending") == 0 ? e->next_at : 0, next, sizeof next);
            printf("%-6lld %-9s %-6s %-8s %-8u %-8s %-8s %s\n", (long long)e->id, e->kind,
                   e->ticket, e->state, e->attempts, ev, next, e->last_error);
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(entries[i].key);
        free(entries[i].kind);
        free(entries[i].ticket);
        free(entries[i].state);
        free(entries[i].channel);
        free(entries[i].last_error);
    }
    free(entries);
    free(ptrs);
    return HC_EXIT_OK;
}

int cmd_notify_retry(hallctl_t *ctl, int argc, char **argv)
{
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, NULL, false);
    const char *unused;
    int status;
    if (hc_getopt(&g, &unused) < 0)
        return g.status;
    if ((status = hc_want_args(&g, 1, "ID")) != 0)
        return status;
    long id;
    if (hc_parse_count(ctl, "ID", g.pos[0], 1, 0x7fffffffL, &id) != 0)
        return HC_EXIT_USAGE;
    sqlite3 *db = open_outbox(ctl, SQLITE_OPEN_READWRITE, &status);
    if (!db)
        return status;
    sqlite3_stmt *q = NULL;
    int state = -1, kind = 0;
    if (sqlite3_prepare_v2(db, "SELECT state, kind FROM outbox WHERE id = ?1", -1, &q, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int64(q, 1, id);
        if (sqlite3_step(q) == SQLITE_ROW) {
            state = sqlite3_column_int(q, 0);
            kind = sqlite3_column_int(q, 1);
        }
        sqlite3_finalize(q);
    }
    if (state < 0 || state == 1) {
        fprintf(stderr, "hallctl: %s\n",
                state < 0 ? "no such message in the outbox"
                          : "that message was delivered already; the receiver would drop a "
                            "repeat by its idempotency key");
        sqlite3_close(db);
        return HC_EXIT_REFUSED;
    }
    int64_t now = hb_now_us();
    int64_t fresh =
        now +
        (int64_t)ctl->config->notifier.kinds[kind < HB_NOTE_KINDS ? kind : 0].deadline_s * 1000000;
    int rc = SQLITE_ERROR;
    if (sqlite3_prepare_v2(
            db,
            "UPDATE outbox SET state = 0, next_at = ?2, deadline = MAX(deadline, ?3),"
            " last_error = 'retried by hand', updated_at = ?2 WHERE id = ?1",
            -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_int64(q, 2, now);
        sqlite3_bind_int64(q, 3, fresh);
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "hallctl: cannot change the outbox: %s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return HC_EXIT_UNREACHABLE;
    }
    sqlite3_close(db);
    if (ctl->json)
        printf("{\"id\":%ld,\"state\":\"pending\",\"was\":\"%s\"}\n", id, state_name(state));
    else
        printf("message %ld (%s) is pending again; hall-notifier sends it at its next scan\n", id,
               state_name(state));
    return HC_EXIT_OK;
}
