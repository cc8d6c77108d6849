/* hall-queue refuses to start on a store it cannot trust, naming the file:
 * a damaged page, an empty (0-byte) file, another hall's store. Only a
 * missing file is a new hall. */
#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

static hb_fixture_t fx;

static void cleanup(void)
{
    hb_fixture_stop(&fx);
}

/* A hall whose store holds a few hundred tickets, then stopped. */
static void hall_with_history(void)
{
    cr_assert_eq(hb_fixture_start(&fx, NULL), 0);
    char number[16];
    for (int i = 0; i < 300; i++)
        cr_assert_eq(hb_fx_take(&fx, "A", false, number), HALLBUS__STATUS_CODE__OK);
    cr_assert_eq(hb_fixture_kill(&fx.queue, SIGTERM), 0, "stopped cleanly");
}

/* Starts hall-queue and expects it to exit non-zero with the file's name
 * and WORD in its log. */
static void expect_refused(const char *word)
{
    char log[400];
    snprintf(log, sizeof log, "%.300s/hall-queue.log", fx.dir);
    unlink(log);
    cr_assert_eq(hb_fixture_start_queue(&fx), 0);
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 1000 && (done = waitpid(fx.queue, &status, WNOHANG)) == 0; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    cr_assert_eq(done, fx.queue, "hall-queue refuses to start (it is still running)");
    fx.queue = 0;
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "exits non-zero");
    static char text[8192];
    FILE *f = fopen(log, "r");
    cr_assert_not_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    cr_assert(strstr(text, fx.db), "the log names %s: %s", fx.db, text);
    cr_assert(strstr(text, word), "the log says \"%s\": %s", word, text);
}

Test(queue_store_check, a_damaged_middle_page_is_refused, .fini = cleanup, .timeout = 60)
{
    hall_with_history();
    struct stat st;
    cr_assert_eq(stat(fx.db, &st), 0);
    long pages = (long)st.st_size / 4096;
    cr_assert_gt(pages, 8, "the store has pages to damage");
    FILE *f = fopen(fx.db, "r+b");
    static char junk[4096];
    memset(junk, 0xa5, sizeof junk);
    fseek(f, (pages / 2) * 4096, SEEK_SET);
    fwrite(junk, 1, sizeof junk, f);
    fclose(f);
    expect_refused("damaged");
    cr_assert_eq(hb_fixture_stop(&fx), 0);
}

Test(queue_store_check, an_empty_file_is_refused_not_taken_for_a_new_hall, .fini = cleanup,
     .timeout = 60)
{
    hall_with_history();
    cr_assert_eq(truncate(fx.db, 0), 0);
    char wal[400];
    snprintf(wal, sizeof wal, "%.300s-wal", fx.db);
    unlink(wal);
    expect_refused("empty");
    struct stat st;
    cr_assert_eq(stat(fx.db, &st), 0);
    cr_assert_eq(st.st_size, 0, "the file is left as it was");
    cr_assert_eq(hb_fixture_stop(&fx), 0);
}

Test(queue_store_check, another_halls_store_is_refused, .fini = cleanup, .timeout = 60)
{
    hall_with_history();
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(fx.db, &db), SQLITE_OK);
    cr_assert_eq(
        sqlite3_exec(db, "UPDATE meta SET value = 'elsewhere' WHERE key = 'hall_id'", 0, 0, 0),
        SQLITE_OK);
    sqlite3_close(db);
    expect_refused("elsewhere");
    cr_assert_eq(hb_fixture_stop(&fx), 0);
}

Test(queue_store_check, a_journal_that_ends_before_the_recorded_sequence_is_refused,
     .fini = cleanup, .timeout = 60)
{
    hall_with_history();
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(fx.db, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "DELETE FROM events WHERE seq > 100", 0, 0, 0), SQLITE_OK);
    sqlite3_close(db);
    expect_refused("journal");
    cr_assert_eq(hb_fixture_stop(&fx), 0);
}
