/* The SQLite helpers: the store is durable and its WAL is checkpointed off
 * the writer's path. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "hallbus/clock.h"
#include "hallbus/db.h"

static char dir[64], path[128];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/hallbus-db-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/store.db", dir);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(db, .init = setup, .fini = teardown);

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

typedef struct {
    hb_checkpointer_t *cp;
    int64_t deadline;
} watch_t;

static void on_watch(uv_timer_t *t)
{
    watch_t *w = t->data;
    if (w->cp->checkpoints > 0 || hb_mono_us() > w->deadline) {
        hb_checkpointer_stop(w->cp);
        uv_close((uv_handle_t *)t, NULL);
    }
}

Test(db, the_checkpointer_moves_the_wal_into_the_database_file)
{
    char err[256];
    sqlite3 *db = hb_db_open(path, err, sizeof err);
    cr_assert_not_null(db, "%s", err);
    cr_assert_eq(hb_db_exec(db, "CREATE TABLE t(x BLOB);"
                                "BEGIN;"
                                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                                " WHERE i < 2000) INSERT INTO t SELECT randomblob(200) FROM n;"
                                "COMMIT;"),
                 0);
    cr_assert_lt(file_size(path), 8192, "automatic checkpoints are off: it all sits in the WAL");

    uv_loop_t loop;
    uv_loop_init(&loop);
    hb_checkpointer_t cp;
    hb_checkpointer_start(&cp, &loop, path, 10);
    watch_t w = {&cp, hb_mono_us() + 10000000};
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    t.data = &w;
    uv_timer_start(&t, on_watch, 5, 5);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0, "every handle closed");
    cr_assert_gt(cp.checkpoints, 0, "a checkpoint ran");
    cr_assert_gt(file_size(path), 2000 * 200, "the rows reached the database file");
    sqlite3_close(db);
}

Test(db, a_second_lock_on_a_store_is_refused_naming_the_holder)
{
    char err[256];
    int fd = hb_db_lock(path, err, sizeof err);
    cr_assert_geq(fd, 0, "%s", err);
    /* a lock is per open file: another open in this process conflicts too */
    int again = hb_db_lock(path, err, sizeof err);
    cr_assert_eq(again, -1);
    cr_assert(strstr(err, "in use by another process"), "%s", err);
    close(fd);
}

/* ── a store is checked when it is opened ── */

static void write_file(const char *p, const void *data, size_t len, long offset)
{
    FILE *f = fopen(p, offset < 0 ? "wb" : "r+b");
    cr_assert_not_null(f);
    if (offset >= 0)
        fseek(f, offset, SEEK_SET);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

Test(db, an_empty_file_is_refused_not_taken_for_a_new_store)
{
    write_file(path, "", 0, -1);
    char err[512] = "";
    cr_assert_null(hb_db_open(path, err, sizeof err));
    cr_assert(strstr(err, path), "names the file: %s", err);
    cr_assert(strstr(err, "empty"), "%s", err);
    cr_assert_eq(file_size(path), 0, "and leaves it as it was");
}

Test(db, a_file_that_is_not_a_store_is_refused)
{
    static const char text[] = "hall:\n  id: t1\n this is a YAML file, not a store\n";
    write_file(path, text, sizeof text - 1, -1);
    char err[512] = "";
    cr_assert_null(hb_db_open(path, err, sizeof err));
    cr_assert(strstr(err, path), "names the file: %s", err);
}

Test(db, a_store_with_a_damaged_middle_page_is_refused)
{
    char err[512] = "";
    sqlite3 *db = hb_db_open(path, err, sizeof err);
    cr_assert_not_null(db, "%s", err);
    cr_assert_eq(hb_db_exec(db, "CREATE TABLE events(seq INTEGER PRIMARY KEY, b BLOB);"
                                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                                " WHERE i < 2000) INSERT INTO events SELECT i, randomblob(100)"
                                " FROM n;"),
                 0);
    sqlite3_close(db); /* the last connection checkpoints the WAL into the file */
    long size = file_size(path);
    cr_assert_gt(size, 40 * 4096L);
    static char junk[4096];
    memset(junk, 0x5a, sizeof junk);
    write_file(path, junk, sizeof junk, (size / 4096 / 2) * 4096);

    cr_assert_null(hb_db_open(path, err, sizeof err), "a damaged store is not opened");
    cr_assert(strstr(err, path), "names the file: %s", err);
    cr_assert(strstr(err, "damaged"), "%s", err);
}

Test(db, a_missing_file_is_a_new_store)
{
    char err[512] = "";
    sqlite3 *db = hb_db_open(path, err, sizeof err);
    cr_assert_not_null(db, "%s", err);
    sqlite3_close(db);
    db = hb_db_open(path, err, sizeof err);
    cr_assert_not_null(db, "and opens again: %s", err);
    sqlite3_close(db);
}
