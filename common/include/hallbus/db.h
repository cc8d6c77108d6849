/* SQLite as the embedded store: WAL, synchronous=FULL (a power cut must not
 * lose an acknowledged ticket), checkpoints kept off the writer's path. */
#ifndef HALLBUS_DB_H
#define HALLBUS_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <uv.h>

/* Opens (creating the file and its directory) in WAL mode with
 * synchronous=FULL and automatic checkpoints off, and checks it
 * (hb_db_check). Only a missing file makes a new store: an empty (0-byte)
 * file, a file that is not SQLite, or a damaged store is refused. NULL with
 * ERR, which names PATH, on failure. */
sqlite3 *hb_db_open(const char *path, char *err, size_t errlen);

/* PRAGMA quick_check: 0 if the store is sound, else -1 with ERR naming PATH
 * and the first problem found. */
int hb_db_check(sqlite3 *db, const char *path, char *err, size_t errlen);

/* Runs SQL (one or more statements). 0, or -1 with the error logged. */
int hb_db_exec(sqlite3 *db, const char *sql);

/* Prepares SQL, logging the error and returning NULL on failure. */
sqlite3_stmt *hb_db_prepare(sqlite3 *db, const char *sql);

/* Steps a prepared write once and resets it. 0, or -1 with the error logged. */
int hb_db_step_done(sqlite3_stmt *st);

/* Binds a C string, or NULL for an empty or NULL string. */
int hb_db_bind_text(sqlite3_stmt *st, int col, const char *text);
/* The column as a C string, "" for NULL. Valid until the next step. */
const char *hb_db_column_text(sqlite3_stmt *st, int col);

/* Takes an exclusive advisory lock on "<path>.lock" so that a second daemon
 * on the same store is refused. Returns the lock's fd (keep it open for the
 * life of the process), or -1 with ERR naming who holds it. */
int hb_db_lock(const char *path, char *err, size_t errlen);

/* A background checkpointer: every INTERVAL_MS it runs a PASSIVE WAL
 * checkpoint on its own connection in libuv's thread pool, so the writer
 * never stalls on one. */
typedef struct {
    uv_timer_t timer;
    uv_work_t work;
    char *path;
    sqlite3 *db;
    int busy;
    int stopping;
    long checkpoints;
} hb_checkpointer_t;

int hb_checkpointer_start(hb_checkpointer_t *self, uv_loop_t *loop, const char *path,
                          unsigned interval_ms);
/* Stops the timer; the connection is closed once any checkpoint in flight ends. */
void hb_checkpointer_stop(hb_checkpointer_t *self);

#endif
