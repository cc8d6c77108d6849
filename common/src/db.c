#include "hallbus/db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hallbus/log.h"

static void make_parent_dir(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
    }
}

/* A file that exists but is empty is not a new store: it is what is left of
 * one (a failed copy, a truncation), and starting afresh on it would reuse
 * numbers already given out. Only a missing file is new. */
static int refuse_empty(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
        snprintf(err, errlen,
                 "%s: the file is empty (0 bytes), not a store; a new store is made only where "
                 "there is no file: move it away or restore it from a backup",
                 path);
        return -1;
    }
    return 0;
}

int hb_db_check(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: damaged or not a store: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    int rc = sqlite3_step(st);
    const char *first = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    int ok = first && strcmp(first, "ok") == 0;
    if (!ok)
        snprintf(err, errlen, "%s: the store is damaged (%s); restore it from a backup", path,
                 first ? first : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

sqlite3 *hb_db_open(const char *path, char *err, size_t errlen)
{
    if (refuse_empty(path, err, errlen) != 0)
        return NULL;
    make_parent_dir(path);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL;"
                     "PRAGMA synchronous=FULL;"
                     "PRAGMA wal_autocheckpoint=0;"
                     "PRAGMA foreign_keys=ON;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg ? msg : "pragma failed");
        sqlite3_free(msg);
        sqlite3_close(db);
        return NULL;
    }
    if (hb_db_check(db, path, err, errlen) != 0) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

int hb_db_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        hb_error("sqlite: %s (in: %.80s)", msg ? msg : "?", sql);
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

sqlite3_stmt *hb_db_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        hb_error("sqlite prepare: %s (in: %.80s)", sqlite3_errmsg(db), sql);
        return NULL;
    }
    return st;
}

int hb_db_step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        hb_error("sqlite step: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
        return -1;
    }
    return 0;
}

int hb_db_bind_text(sqlite3_stmt *st, int col, const char *text)
{
    if (!text || !*text)
        return sqlite3_bind_null(st, col);
    return sqlite3_bind_text(st, col, text, -1, SQLITE_STATIC);
}

const char *hb_db_column_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

int hb_db_lock(const char *path, char *err, size_t errlen)
{
    char lock_path[4096];
    snprintf(lock_path, sizeof lock_path, "%s.lock", path);
    make_parent_dir(lock_path);
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", lock_path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char holder[32] = "";
        ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        snprintf(err, errlen, "%s is in use by another process%s%s", path, *holder ? " (pid " : "",
                 *holder ? holder : "");
        if (*holder)
            strncat(err, ")", errlen - strlen(err) - 1);
        close(fd);
        return -1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)len, 0) < 0)
        hb_warn("%s: cannot record pid", lock_path);
    return fd;
}

static void checkpoint_work(uv_work_t *w)
{
    hb_checkpointer_t *self = w->data;
    if (!self->db) {
        if (sqlite3_open_v2(self->path, &self->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
            sqlite3_close(self->db);
            self->db = NULL;
            return;
        }
        sqlite3_busy_timeout(self->db, 100);
        /* a connection opens the WAL only once it has read the database;
         * until then a checkpoint returns OK and does nothing */
        if (sqlite3_exec(self->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
            SQLITE_OK) {
            sqlite3_close(self->db);
            self->db = NULL;
            return;
        }
    }
    int log_frames = 0, done = 0;
    if (sqlite3_wal_checkpoint_v2(self->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &done) ==
            SQLITE_OK &&
        log_frames >= 0)
        self->checkpoints++;
}

static void checkpoint_done(uv_work_t *w, int status)
{
    hb_checkpointer_t *self = w->data;
    self->busy = 0;
    if (self->stopping) {
        sqlite3_close(self->db);
        self->db = NULL;
        free(self->path);
        self->path = NULL;
    }
}

static void on_checkpoint_timer(uv_timer_t *t)
{
    hb_checkpointer_t *self = t->data;
    if (self->busy)
        return;
    self->busy = 1;
    self->work.data = self;
    uv_queue_work(t->loop, &self->work, checkpoint_work, checkpoint_done);
}

int hb_checkpointer_start(hb_checkpointer_t *self, uv_loop_t *loop, const char *path,
                          unsigned interval_ms)
{
    memset(self, 0, sizeof *self);
    self->path = strdup(path);
    uv_timer_init(loop, &self->timer);
    self->timer.data = self;
    uv_timer_start(&self->timer, on_checkpoint_timer, interval_ms, interval_ms);
    uv_unref((uv_handle_t *)&self->timer);
    return 0;
}

void hb_checkpointer_stop(hb_checkpointer_t *self)
{
    self->stopping = 1;
    uv_close((uv_handle_t *)&self->timer, NULL);
    if (!self->busy) {
        sqlite3_close(self->db);
        self->db = NULL;
        free(self->path);
        self->path = NULL;
    }
}
