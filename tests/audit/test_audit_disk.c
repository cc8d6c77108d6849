/* hall-audit when its disk fills up, and on a damaged store.
 *
 * Full disk: the store lives on a small tmpfs the test mounts (root only;
 * skipped else). hall-audit must not stop, must say "the audit store is
 * full", keep answering queries, and once there is room again catch up by
 * itself with every event of the hall in its chain once and no gap record.
 *
 * Damaged store: a middle page of a store hall-audit wrote is overwritten;
 * hall-audit must refuse to start, naming the file, and write nothing (no
 * "lost events" gap records that are not true). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "audit.pb-c.h"
#include "audit_ask.h"
#include "fixture.h"
#include "small_disk.h"

#define OK HALLBUS__STATUS_CODE__OK

static hb_fixture_t fx;
static hb_small_disk_t disk;
static pid_t audit_pid;
static char audit_db[400], audit_log[400], query_ep[300], extra[1024];

static void cleanup(void)
{
    if (audit_pid > 0)
        hb_fixture_kill(&audit_pid, SIGKILL);
    hb_small_disk_umount(&disk);
    hb_fixture_stop(&fx);
}

/* The last seq of hall t1 stored, and the gaps recorded; false when
 * hall-audit does not answer. */
static bool stats(uint64_t *last_seq, uint64_t *gaps)
{
    audit_stats_t s;
    if (!audit_stats(&fx, query_ep, &s))
        return false;
    *last_seq = s.last_seq;
    *gaps = s.gaps;
    return true;
}

static uint64_t queue_seq(void)
{
    return audit_queue_seq(&fx);
}

static bool audit_answers(void *arg)
{
    uint64_t s, g;
    return stats(&s, &g);
}

static bool caught_up(void *arg)
{
    uint64_t s, g;
    return stats(&s, &g) && s == queue_seq();
}

static void start_hall(void)
{
    cr_assert_eq(hb_fixture_start(&fx, &(hb_fixture_opts_t){.extra_yaml = extra}), 0);
}

/* The hall file's audit section, with endpoints in the test's directory:
 * written before the hall starts, so set from a directory name made here. */
static void configure(const char *dir)
{
    snprintf(query_ep, sizeof query_ep, "ipc://%.250s/audit-query", dir);
    snprintf(extra, sizeof extra,
             "audit:\n  query: \"%s\"\n  publish: \"ipc://%.250s/audit-pub\"\n"
             "  fetch_timeout_ms: 300\n  gap_timeout_ms: 3000\n  heartbeat_ms: 100\n",
             query_ep, dir);
}

static void spawn_audit(void)
{
    const char *args[] = {"-c", fx.config, "--db", audit_db, NULL};
    snprintf(audit_log, sizeof audit_log, "%.300s/hall-audit.log", fx.dir);
    audit_pid = hb_fixture_spawn(&fx, "hall-audit", args);
    cr_assert_gt(audit_pid, 0);
}

static void take(int n)
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK);
}

/* How many lines of the log say the disk is full (SQLite's own words). */
static int full_lines(void)
{
    FILE *f = fopen(audit_log, "r");
    if (!f)
        return 0;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, "disk is full") != NULL;
    fclose(f);
    return n;
}

static bool never(void *arg)
{
    return false;
}

static bool says_full(void *arg)
{
    return hb_file_contains(audit_log, "the audit store is full: ");
}

/* Every seq of hall t1 from 1 to HEAD once, in order, and nothing else. */
static void expect_every_event_once(uint64_t head)
{
    uint64_t cursor = 0, expect = 1;
    for (;;) {
        Hallbus__AuditReply *r = audit_history(&fx, query_ep, "t1", cursor, 2000);
        cr_assert_not_null(r);
        for (size_t i = 0; i < r->n_records; i++) {
            const Hallbus__AuditRecord *rec = r->records[i];
            cr_assert_eq(rec->type, HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT, "record #%llu is a %s",
                         (unsigned long long)rec->id, rec->kind);
            cr_assert_eq(rec->seq, expect, "seq %llu where %llu was due",
                         (unsigned long long)rec->seq, (unsigned long long)expect);
            expect++;
            cursor = rec->id;
        }
        bool more = r->more;
        hallbus__audit_reply__free_unpacked(r, NULL);
        if (!more)
            break;
    }
    cr_assert_eq(expect - 1, head, "one record per event of the hall");
}

Test(audit_disk, a_full_disk_pauses_ingest_loses_nothing_and_it_recovers_by_itself, .fini = cleanup,
     .timeout = 240)
{
    char dir[] = "/tmp/hb-audit-disk-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    configure(dir);
    start_hall();
    char why[160];
    if (hb_small_disk_mount(&disk, fx.dir, "2m", why, sizeof why) != 0) {
        hb_fixture_stop(&fx);
        rmdir(dir);
        cr_skip_test("%s", why);
    }
    snprintf(audit_db, sizeof audit_db, "%.300s/audit.db", disk.path);
    spawn_audit();
    cr_assert(hb_wait_until(audit_answers, NULL, 10000), "hall-audit answers");
    take(20);
    cr_assert(hb_wait_until(caught_up, NULL, 20000), "caught up before the disk fills");

    cr_assert_eq(hb_small_disk_fill(&disk), 0, "filled to the last byte");
    /* the hall goes on (its store is elsewhere) until the audit's is full */
    for (int i = 0; i < 60 && !says_full(NULL); i++) {
        take(50);
        hb_wait_until(says_full, NULL, 200);
    }
    cr_assert(says_full(NULL), "the log says the audit store is full");

    /* it goes on running and answering while the disk is full, and retries
     * at a pace: not a write attempt per event or per fetch */
    int lines = full_lines();
    take(30);
    hb_wait_until(never, NULL, 2500); /* a window to count the attempts in */
    cr_assert_lt(full_lines() - lines, 12, "%d write attempts in 2.5 s on a full disk",
                 full_lines() - lines);
    int status = 0;
    cr_assert_eq(waitpid(audit_pid, &status, WNOHANG), 0, "hall-audit is still running");
    uint64_t seq_full = 0, gaps = 0;
    cr_assert(stats(&seq_full, &gaps), "queries are answered on a full disk");
    cr_assert_lt(seq_full, queue_seq(), "not everything could be stored");
    cr_assert_eq(gaps, 0, "nothing was taken as lost");

    /* room again: it catches up by itself */
    cr_assert_eq(hb_small_disk_unfill(&disk), 0);
    take(5);
    cr_assert(hb_wait_until(caught_up, NULL, 60000), "hall-audit caught up once there is room");
    cr_assert(hb_file_contains(audit_log, "the audit store takes records again"));
    uint64_t head = queue_seq(), last = 0;
    cr_assert(stats(&last, &gaps));
    cr_assert_eq(gaps, 0, "no gap record: nothing was lost");
    expect_every_event_once(head);

    static char out[4096];
    const char *verify[] = {"audit", "verify", NULL};
    cr_assert_eq(hb_fixture_hallctl(&fx, out, sizeof out, verify), 0, "%s", out);
    cr_assert(strstr(out, "chain intact"), "%s", out);

    status = hb_fixture_kill(&audit_pid, SIGTERM);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hall-audit stopped cleanly");
    hb_small_disk_umount(&disk);
    cr_assert_eq(hb_fixture_stop(&fx), 0);
    rmdir(dir);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

Test(audit_disk, a_damaged_store_is_refused_naming_the_file_and_nothing_is_written, .fini = cleanup,
     .timeout = 120)
{
    char dir[] = "/tmp/hb-audit-damage-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    configure(dir);
    start_hall();
    snprintf(audit_db, sizeof audit_db, "%.300s/audit.db", fx.dir);
    spawn_audit();
    cr_assert(hb_wait_until(audit_answers, NULL, 10000), "hall-audit answers");
    take(400);
    cr_assert(hb_wait_until(caught_up, NULL, 20000));
    int status = hb_fixture_kill(&audit_pid, SIGTERM);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "stopped cleanly");

    /* a middle page overwritten */
    long size = file_size(audit_db), pages = size / 4096;
    cr_assert_gt(pages, 8, "the store has pages to damage (%ld bytes)", size);
    FILE *f = fopen(audit_db, "r+b");
    cr_assert_not_null(f);
    static unsigned char junk[4096], before[1 << 22], after[1 << 22];
    memset(junk, 0xa5, sizeof junk);
    fseek(f, (pages / 2) * 4096, SEEK_SET);
    fwrite(junk, 1, sizeof junk, f);
    fclose(f);
    cr_assert_lt(size, (long)sizeof before);
    f = fopen(audit_db, "rb");
    cr_assert_eq(fread(before, 1, (size_t)size, f), (size_t)size);
    fclose(f);

    take(20); /* there is something new to ingest, were it to start */
    unlink(audit_log);
    spawn_audit();
    pid_t done = 0;
    for (int i = 0; i < 1000 && (done = waitpid(audit_pid, &status, WNOHANG)) == 0; i++)
        usleep(10000);
    cr_assert_eq(done, audit_pid, "hall-audit refuses to start (it is still running)");
    audit_pid = 0;
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "exits non-zero");
    cr_assert(hb_file_contains(audit_log, audit_db), "the log names %s", audit_db);
    cr_assert(hb_file_contains(audit_log, "damaged"), "the log says the store is damaged");
    cr_assert(!hb_file_contains(audit_log, "lost"), "no events are called lost");

    /* not a byte written: no gap record, nothing re-ingested */
    cr_assert_eq(file_size(audit_db), size, "the store did not grow");
    f = fopen(audit_db, "rb");
    cr_assert_eq(fread(after, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    cr_assert(memcmp(before, after, (size_t)size) == 0, "the store is as it was");
    char wal[420];
    snprintf(wal, sizeof wal, "%s-wal", audit_db);
    cr_assert_leq(file_size(wal), 0, "nothing was written to its journal either");
    cr_assert_eq(hb_fixture_stop(&fx), 0);
    rmdir(dir);
}
