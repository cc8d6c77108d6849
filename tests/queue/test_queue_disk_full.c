/* hall-queue on a disk that fills up: it refuses what it cannot store with a
 * clear error, acknowledges and publishes nothing it did not store, keeps
 * answering reads, and carries on by itself once there is room again. The
 * store lives on a small tmpfs the test mounts (root only; skipped else). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "fixture.h"
#include "small_disk.h"

#define OK HALLBUS__STATUS_CODE__OK
#define MAX_TICKETS 4000

static hb_fixture_t fx;
static hb_small_disk_t disk;

static void cleanup(void)
{
    if (fx.queue > 0)
        hb_fixture_kill(&fx.queue, SIGKILL);
    hb_small_disk_umount(&disk);
    hb_fixture_stop(&fx);
}

/* A tmpfs of SIZE under the fixture's directory, or a skip saying why not. */
static void mount_small_disk(const char *size)
{
    char why[160];
    if (hb_small_disk_mount(&disk, fx.dir, size, why, sizeof why) != 0) {
        hb_fixture_stop(&fx);
        cr_skip_test("%s", why);
    }
}

static void start_queue_on_disk(void)
{
    const char *args[] = {"-c", fx.config, "--db", fx.db, NULL};
    fx.queue = hb_fixture_spawn(&fx, "hall-queue", args);
    cr_assert_gt(fx.queue, 0);
    cr_assert(hb_fixture_wait_ready(&fx, 10000), "hall-queue answers on the small disk");
}

static void fill_disk(void)
{
    cr_assert_eq(hb_small_disk_fill(&disk), 0, "filled to the last byte");
}

static uint64_t last_request_id;

static Hallbus__Reply *take(void)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__TakeTicket c = HALLBUS__TAKE_TICKET__INIT;
    c.service = "A";
    req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
    req.take_ticket = &c;
    Hallbus__Reply *r = hb_fixture_call(&fx, &req);
    cr_assert_not_null(r, "hall-queue answers (it did not stop)");
    last_request_id = req.request_id; /* the client numbers its requests */
    return r;
}

static uint64_t status_seq(void)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetStatus s = HALLBUS__GET_STATUS__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &s;
    Hallbus__Reply *r = hb_fixture_call(&fx, &req);
    cr_assert_not_null(r, "a status is answered");
    cr_assert_eq(r->code, OK, "a status is answered while the disk is full: %s", r->message);
    uint64_t seq = r->seq;
    hallbus__reply__free_unpacked(r, NULL);
    return seq;
}

static int query_int(const char *sql, const char *arg)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(fx.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static char acked[MAX_TICKETS][16];
static int nacked;

static bool take_one_acked(void)
{
    Hallbus__Reply *r = take();
    bool ok = r->code == OK;
    if (ok)
        snprintf(acked[nacked++], sizeof acked[0], "%s", r->ticket->number);
    hallbus__reply__free_unpacked(r, NULL);
    return ok;
}

Test(queue_disk_full, refuses_what_it_cannot_store_serves_reads_and_recovers, .fini = cleanup,
     .timeout = 180)
{
    cr_assert_eq(hb_fixture_start(&fx, NULL), 0);
    hb_fixture_kill(&fx.queue, SIGTERM);
    mount_small_disk("2m");
    snprintf(fx.db, sizeof fx.db, "%.250s/queue.db", disk.path);
    start_queue_on_disk();
    void *sub = hb_fixture_subscribe(&fx, "hall.t1.ticket.");
    cr_assert_not_null(sub);
    nacked = 0;
    for (int i = 0; i < 5; i++)
        cr_assert(take_one_acked());

    fill_disk();
    /* the WAL may still have room from before: take until the store says no */
    Hallbus__Reply *refused = NULL;
    while (nacked < MAX_TICKETS) {
        Hallbus__Reply *r = take();
        if (r->code != OK) {
            refused = r;
            break;
        }
        snprintf(acked[nacked++], sizeof acked[0], "%s", r->ticket->number);
        hallbus__reply__free_unpacked(r, NULL);
    }
    cr_assert_not_null(refused, "a full disk refuses a ticket within %d", MAX_TICKETS);
    cr_assert_eq(refused->code, HALLBUS__STATUS_CODE__INTERNAL);
    cr_assert(strstr(refused->message, "the hall's store is full"), "%s", refused->message);
    cr_assert_eq(refused->request_id, last_request_id, "the refusal answers the request");
    hallbus__reply__free_unpacked(refused, NULL);

    /* reads go on; further writes are refused and consume nothing */
    uint64_t seq = status_seq();
    for (int i = 0; i < 3; i++) {
        Hallbus__Reply *r = take();
        cr_assert_eq(r->code, HALLBUS__STATUS_CODE__INTERNAL, "still full: %s", r->message);
        hallbus__reply__free_unpacked(r, NULL);
        cr_assert_eq(status_seq(), seq, "nothing refused took a sequence number");
    }
    int status = 0;
    cr_assert_eq(waitpid(fx.queue, &status, WNOHANG), 0, "hall-queue is still running");

    /* every event published so far is one that was acknowledged: none for
     * the refused tickets */
    Hallbus__Envelope *env;
    uint64_t last = 0;
    int issued = 0;
    while ((env = hb_fixture_next_event(sub, 300, false))) {
        cr_assert_gt(env->seq, last);
        last = env->seq;
        if (env->event_case == HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED) {
            cr_assert_lt(issued, nacked, "no ticket.issued beyond the acknowledged ones");
            cr_assert_str_eq(env->ticket_issued->ticket->number, acked[issued]);
            issued++;
        }
        hallbus__envelope__free_unpacked(env, NULL);
    }
    cr_assert_eq(issued, nacked, "each acknowledged ticket was published once");
    cr_assert_eq(last, seq);

    /* room again: it goes on by itself, numbering after the last stored one */
    cr_assert_eq(hb_small_disk_unfill(&disk), 0);
    cr_assert(take_one_acked(), "a ticket is issued once there is room");
    char want[16];
    snprintf(want, sizeof want, "A%03d", nacked);
    cr_assert_str_eq(acked[nacked - 1], want, "no number was used by a refused ticket");
    env = hb_fixture_next_event(sub, 5000, false);
    cr_assert_not_null(env, "and published");
    cr_assert_eq(env->seq, seq + 1, "right after the last stored event");
    hallbus__envelope__free_unpacked(env, NULL);
    zmq_close(sub);

    /* everything acknowledged is on disk, also after kill -9 */
    hb_fixture_kill(&fx.queue, SIGKILL);
    start_queue_on_disk();
    for (int i = 0; i < nacked; i++)
        cr_assert_eq(query_int("SELECT COUNT(*) FROM tickets WHERE number = ?1", acked[i]), 1,
                     "acknowledged %s is stored", acked[i]);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM tickets", NULL), nacked,
                 "and nothing that was refused");
    cr_assert_eq(query_int("SELECT MAX(seq) - COUNT(*) FROM events", NULL), 0,
                 "the journal has no gap");
    cr_assert(take_one_acked());
    snprintf(want, sizeof want, "A%03d", nacked);
    cr_assert_str_eq(acked[nacked - 1], want);

    cr_assert_eq(hb_fixture_kill(&fx.queue, SIGTERM), 0, "hall-queue stops cleanly");
    hb_small_disk_umount(&disk);
    cr_assert_eq(hb_fixture_stop(&fx), 0);
}
