/* The SQLite helpers: the store is durable and its WAL is checkpointed off
 * the writer's path. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
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
