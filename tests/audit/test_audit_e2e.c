/* hall-audit as a real process beside real hall-bus and hall-queue, driven
 * over the wire and through hallctl: a simulated day and its report, the
 * tail seam, kill -9 of hall-audit and of hall-queue mid-burst, tampering,
 * a second hall-audit on one store, malformed events. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <zmq.h>

#include "audit.pb-c.h"
#include "audit_ask.h"
#include "fixture.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"

#define OK HALLBUS__STATUS_CODE__OK

static hb_fixture_t fx;
static pid_t audit_pid;
static void *day_sub; /* the report test's own view of the bus (the fixture's socket) */
static char audit_db[400], query_ep[64], publish_ep[64], extra[512];

typedef audit_stats_t stats_t;

static bool stats(stats_t *out)
{
    return audit_stats(&fx, query_ep, out);
}

static uint64_t queue_seq(void)
{
    return audit_queue_seq(&fx);
}

static bool audit_answers(void *arg)
{
    stats_t s;
    return stats(&s);
}

static void spawn_audit(void)
{
    const char *args[] = {"-c", fx.config, "--db", audit_db, NULL};
    audit_pid = hb_fixture_spawn(&fx, "hall-audit", args);
    cr_assert_gt(audit_pid, 0);
    cr_assert(hb_wait_until(audit_answers, NULL, 10000), "hall-audit answers queries");
}

static void start_with(const char *services_windows)
{
    snprintf(query_ep, sizeof query_ep, "tcp://127.0.0.1:%d", hb_free_port());
    snprintf(publish_ep, sizeof publish_ep, "tcp://127.0.0.1:%d", hb_free_port());
    snprintf(extra, sizeof extra,
             "audit:\n  query: \"%s\"\n  publish: \"%s\"\n  fetch_timeout_ms: 300\n"
             "  gap_timeout_ms: 60000\n  heartbeat_ms: 100\n",
             query_ep, publish_ep);
    hb_fixture_opts_t opts = {.extra_yaml = extra, .services_windows_yaml = services_windows};
    cr_assert_eq(hb_fixture_start(&fx, &opts), 0, "the hall started");
    snprintf(audit_db, sizeof audit_db, "%s/audit.db", fx.dir);
    spawn_audit();
}

/* SIGTERM, and it must exit 0: no sanitizer report, no leak, loop closed. */
static void start(void)
{
    start_with(NULL);
}

static void stop_audit(void)
{
    int status = hb_fixture_kill(&audit_pid, SIGTERM);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "tail -n 40 '%s/hall-audit.log' >&2", fx.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log)\n");
    }
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hall-audit stopped cleanly");
}

static void stop(void)
{
    stop_audit();
    cr_assert_eq(hb_fixture_stop(&fx), 0, "the daemons stopped cleanly");
}

static void *garbage_pub;

static void cleanup(void)
{
    if (garbage_pub)
        zmq_close(garbage_pub);
    garbage_pub = NULL;
    if (audit_pid > 0)
        hb_fixture_kill(&audit_pid, SIGKILL);
    hb_fixture_stop(&fx);
}

static bool caught_up(void *arg)
{
    stats_t s;
    return stats(&s) && s.last_seq == queue_seq();
}

static void wait_caught_up(void)
{
    cr_assert(hb_wait_until(caught_up, NULL, 20000), "hall-audit caught up with hall-queue");
}

static int hallctl(char *out, size_t len, const char *const *args)
{
    return hb_fixture_hallctl(&fx, out, len, args);
}

static void take(int n)
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(hb_fx_take(&fx, "A", false, NULL), OK);
}

/* ── a simulated day: the report matches what was done ── */

typedef struct {
    unsigned served, no_shows, transfers, ratings[4];
} counts_t;

#define DAY_WINDOWS 10
static counts_t by_window[DAY_WINDOWS + 1], total;

static const char DAY_HALL[] =
    "services:\n"
    "  - {prefix: A, name: General, target_minutes: 10}\n"
    "  - {prefix: B, name: Licences}\n"
    "  - {prefix: C, name: Enquiries, target_minutes: 1}\n"
    "windows:\n"
    "  - {number: 1, services: [A, B]}\n  - {number: 2, services: [B, C]}\n"
    "  - {number: 3, services: [A, B, C]}\n  - {number: 4, services: [A]}\n"
    "  - {number: 5, services: [C, A]}\n  - {number: 6, services: [B]}\n"
    "  - {number: 7, services: [A, C]}\n  - {number: 8, services: [C]}\n"
    "  - {number: 9, services: [A, B]}\n  - {number: 10, services: [B, A]}\n";

static void count(const Hallbus__Envelope *e)
{
    uint32_t w = 0;
    switch (e->event_case) {
    case HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED:
        w = e->service_finished->window;
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW:
        w = e->ticket_no_show->window;
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED:
        w = e->ticket_transferred->from_window;
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_EVALUATED:
        w = e->ticket_evaluated->ticket->window;
        cr_assert(e->ticket_evaluated->rating >= 1 && e->ticket_evaluated->rating <= 4);
        break;
    default:
        break;
    }
    cr_assert_leq(w, DAY_WINDOWS);
    switch (e->event_case) {
    case HALLBUS__ENVELOPE__EVENT_SERVICE_FINISHED:
        total.served++;
        by_window[e->service_finished->window].served++;
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_NO_SHOW:
        total.no_shows++;
        by_window[e->ticket_no_show->window].no_shows++;
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_TRANSFERRED:
        total.transfers++;
        by_window[e->ticket_transferred->from_window].transfers++;
        break;
    case HALLBUS__ENVELOPE__EVENT_TICKET_EVALUATED:
        total.ratings[e->ticket_evaluated->rating - 1]++;
        by_window[e->ticket_evaluated->ticket->window].ratings[e->ticket_evaluated->rating - 1]++;
        break;
    default:
        break;
    }
}

/* The CSV row GROUP,KEY as counts. */
static bool csv_row(const char *csv, const char *group, const char *key, counts_t *out)
{
    char head[64];
    snprintf(head, sizeof head, "\n%s,\"%s\",", group, key);
    const char *p = strstr(csv, head);
    if (!p)
        return false;
    p = strchr(p + strlen(head), ','); /* past the name */
    double avg;
    unsigned p90, p90s;
    double avgs;
    return sscanf(p, ",%u,%lf,%u,%lf,%u,%u,%u,%u,%u,%u,%u", &out->served, &avg, &p90, &avgs, &p90s,
                  &out->no_shows, &out->transfers, &out->ratings[0], &out->ratings[1],
                  &out->ratings[2], &out->ratings[3]) == 11;
}

Test(audit_e2e, the_report_of_a_simulated_day_matches_what_the_traffic_generator_did,
     .fini = cleanup, .timeout = 180)
{
    start_with(DAY_HALL);
    memset(by_window, 0, sizeof by_window);
    memset(&total, 0, sizeof total);
    day_sub = hb_fixture_subscribe(&fx, "hall.t1.");
    cr_assert_not_null(day_sub);
    const char *args[] = {"-c", fx.config, "--rate", "600", "--service-time", "0.5", "--duration",
                          "12", "--seed",  "11",     NULL};
    pid_t traffic = hb_fixture_spawn(&fx, "hall-traffic", args);
    cr_assert_gt(traffic, 0);
    int status;
    cr_assert_eq(waitpid(traffic, &status, 0), traffic);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hall-traffic ran its day");

    /* what the generator says it did */
    char path[400], line[512];
    snprintf(path, sizeof path, "%s/hall-traffic.log", fx.dir);
    FILE *log = fopen(path, "r");
    cr_assert_not_null(log);
    unsigned long taken = 0, served = 0, refused = 0;
    while (fgets(line, sizeof line, log)) {
        const char *p = strstr(line, "stopping: taken ");
        if (p)
            sscanf(p, "stopping: taken %lu, served %lu, refused %lu", &taken, &served, &refused);
    }
    fclose(log);
    cr_assert_gt(served, 10, "a day with real traffic (served %lu)", served);

    /* what the bus carried, counted here independently of hall-audit */
    uint64_t head = queue_seq();
    for (uint64_t seen = 0; seen < head;) {
        Hallbus__Envelope *e = hb_fixture_next_event(day_sub, 5000, false);
        cr_assert_not_null(e, "event after #%llu", (unsigned long long)seen);
        seen = e->seq;
        count(e);
        hallbus__envelope__free_unpacked(e, NULL);
    }
    day_sub = NULL; /* the fixture closes it */
    cr_assert_eq(total.served, served, "the bus carried one ticket.finished per service");
    wait_caught_up();

    static char out[1 << 16];
    const char *report[] = {"report", "--csv", NULL};
    cr_assert_eq(hallctl(out, sizeof out, report), 0, "%s", out);
    counts_t got;
    cr_assert(csv_row(out, "hall", "t1", &got), "%s", out);
    cr_assert_eq(got.served, served, "served: report %u, generator %lu", got.served, served);
    cr_assert_eq(got.no_shows, total.no_shows);
    cr_assert_eq(got.transfers, total.transfers);
    for (int r = 0; r < 4; r++)
        cr_assert_eq(got.ratings[r], total.ratings[r], "rating %d", r + 1);
    cr_assert_gt(total.no_shows + total.transfers + total.ratings[0], 0, "a varied day");
    for (int w = 1; w <= DAY_WINDOWS; w++) {
        char key[4];
        snprintf(key, sizeof key, "%d", w);
        counts_t exp = by_window[w];
        if (!csv_row(out, "window", key, &got)) {
            cr_assert_eq(exp.served + exp.no_shows + exp.transfers, 0, "window %d is missing", w);
            continue;
        }
        cr_assert_eq(got.served, exp.served, "window %d served", w);
        cr_assert_eq(got.no_shows, exp.no_shows, "window %d no-shows", w);
        cr_assert_eq(got.transfers, exp.transfers, "window %d transfers", w);
        for (int r = 0; r < 4; r++)
            cr_assert_eq(got.ratings[r], exp.ratings[r], "window %d rating %d", w, r + 1);
    }

    /* the page a supervisor gets is whole and needs nothing from elsewhere */
    const char *html[] = {"report", "--html", NULL};
    cr_assert_eq(hallctl(out, sizeof out, html), 0);
    cr_assert(strstr(out, "<!DOCTYPE html>") && strstr(out, "</html>"));
    cr_assert(strstr(out, "<svg") && strstr(out, "Served per window") &&
              strstr(out, "Average wait (min:s) by hour") && strstr(out, "Satisfaction"));
    for (const char *h = out; (h = strstr(h, "http")); h++)
        cr_assert(strncmp(h, "http://www.w3.org/2000/svg", 26) == 0,
                  "nothing is fetched from elsewhere: %.60s", h);
    cr_assert_null(strstr(out, "<script"));

    const char *verify[] = {"audit", "verify", NULL};
    cr_assert_eq(hallctl(out, sizeof out, verify), 0, "%s", out);
    char want[64];
    snprintf(want, sizeof want, "%llu records, chain intact", (unsigned long long)head);
    cr_assert(strstr(out, want), "%s (wanted: %s)", out, want);
    stop();
}

/* ── the tail seam ── */

typedef struct {
    int n;
    volatile int running;
} producer_t;

static void *producer(void *arg)
{
    producer_t *p = arg;
    hb_rpc_t *rpc = hb_fixture_rpc(&fx, fx.cmd_ep, "hall-queue", NULL, 5000);
    for (int i = 0; i < p->n; i++) {
        Hallbus__Request req = HALLBUS__REQUEST__INIT;
        Hallbus__TakeTicket tt = HALLBUS__TAKE_TICKET__INIT;
        tt.service = "A";
        req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
        req.take_ticket = &tt;
        char err[128];
        Hallbus__Reply *r = hb_rpc_call(rpc, &req, err, sizeof err);
        if (r)
            hallbus__reply__free_unpacked(r, NULL);
    }
    hb_rpc_destroy(&rpc);
    p->running = 0;
    return NULL;
}

#define SEAM_BEFORE 40
#define SEAM_DURING 1500
#define SEAM_TOTAL (SEAM_BEFORE + SEAM_DURING)
#define TAILS 3

typedef struct {
    char *out;
    int rc;
} tail_t;

static void *tail_thread(void *arg)
{
    tail_t *t = arg;
    char count[16];
    snprintf(count, sizeof count, "%d", SEAM_TOTAL);
    const char *args[] = {"--json", "audit", "tail", "--follow", "--count", count, NULL};
    t->rc = hallctl(t->out, 8 << 20, args);
    return NULL;
}

static bool records_at_least(void *arg)
{
    stats_t s;
    return stats(&s) && s.last_id >= *(uint64_t *)arg;
}

Test(audit_e2e, tail_follow_prints_history_then_live_without_a_gap_or_a_duplicate_at_the_seam,
     .fini = cleanup, .timeout = 120)
{
    start();
    take(SEAM_BEFORE);
    /* events keep coming while the tails read history and join the live stream */
    producer_t p = {SEAM_DURING, 1};
    pthread_t prod;
    pthread_create(&prod, NULL, producer, &p);
    uint64_t some = SEAM_BEFORE + 100;
    cr_assert(hb_wait_until(records_at_least, &some, 10000));
    tail_t tails[TAILS];
    pthread_t threads[TAILS];
    for (int i = 0; i < TAILS; i++) {
        tails[i].out = malloc(8 << 20);
        pthread_create(&threads[i], NULL, tail_thread, &tails[i]);
    }
    pthread_join(prod, NULL);
    for (int i = 0; i < TAILS; i++)
        pthread_join(threads[i], NULL);
    int live_seen = 0;
    for (int i = 0; i < TAILS; i++) {
        cr_assert_eq(tails[i].rc, 0);
        char *save = NULL;
        int expect = 1;
        for (char *l = strtok_r(tails[i].out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            json_t *o = json_loads(l, 0, NULL);
            cr_assert_not_null(o, "a JSON object per line: %s", l);
            int seq = (int)json_integer_value(json_object_get(o, "seq"));
            cr_assert_eq(seq, expect, "tail %d: seq %d where %d was due", i, seq, expect);
            cr_assert_str_eq(json_string_value(json_object_get(o, "kind")), "ticket.issued");
            json_decref(o);
            expect++;
        }
        cr_assert_eq(expect - 1, SEAM_TOTAL, "tail %d printed every record once", i);
        free(tails[i].out);
        live_seen++;
    }
    cr_assert_eq(live_seen, TAILS);
    stop();
}

/* ── kill -9 of hall-audit and of hall-queue mid-burst ── */

typedef struct {
    uint64_t acked[4000];
    volatile int count;
    int want;
} taker_t;

static void *taker(void *arg)
{
    taker_t *t = arg;
    hb_rpc_t *rpc = hb_fixture_rpc(&fx, fx.cmd_ep, "hall-queue", NULL, 300);
    int failures = 0;
    while (t->count < t->want && failures < 200) {
        Hallbus__Request req = HALLBUS__REQUEST__INIT;
        Hallbus__TakeTicket tt = HALLBUS__TAKE_TICKET__INIT;
        tt.service = "A";
        req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
        req.take_ticket = &tt;
        char err[128];
        Hallbus__Reply *r = hb_rpc_call(rpc, &req, err, sizeof err);
        if (!r) { /* the queue is down: try again once it is back */
            failures++;
            hb_rpc_destroy(&rpc);
            rpc = hb_fixture_rpc(&fx, fx.cmd_ep, "hall-queue", NULL, 300);
            continue;
        }
        if (r->code == OK)
            t->acked[__atomic_load_n(&t->count, __ATOMIC_SEQ_CST)] = r->seq;
        if (r->code == OK)
            __atomic_add_fetch(&t->count, 1, __ATOMIC_SEQ_CST);
        hallbus__reply__free_unpacked(r, NULL);
    }
    hb_rpc_destroy(&rpc);
    return NULL;
}

static bool taken_at_least(void *arg)
{
    taker_t *t = arg;
    return __atomic_load_n(&t->count, __ATOMIC_SEQ_CST) >= t->want / 3;
}

Test(audit_e2e, kill_9_of_hall_audit_and_of_hall_queue_mid_burst_leaves_the_chain_intact_and_whole,
     .fini = cleanup, .timeout = 180)
{
    start();
    static taker_t t;
    memset(&t, 0, sizeof t);
    t.want = 3000;
    pthread_t th;
    pthread_create(&th, NULL, taker, &t);

    /* hall-audit dies in the middle of the burst, and comes back */
    uint64_t some = 300;
    cr_assert(hb_wait_until(records_at_least, &some, 20000));
    int status = hb_fixture_kill(&audit_pid, SIGKILL);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    cr_assert(hb_wait_until(taken_at_least, &t, 30000), "the burst goes on without hall-audit");
    spawn_audit();

    /* then hall-queue dies in the middle of the burst, and comes back */
    int before = t.count;
    status = hb_fixture_kill(&fx.queue, SIGKILL);
    cr_assert(WIFSIGNALED(status));
    cr_assert_eq(hb_fixture_start_queue(&fx), 0);
    cr_assert(hb_fixture_wait_ready(&fx, 10000));
    pthread_join(th, NULL);
    cr_assert_gt(t.count, before, "tickets were taken after the queue came back");
    cr_assert_eq(t.count, t.want);
    take(5); /* and the day goes on */
    wait_caught_up();

    stats_t s;
    cr_assert(stats(&s));
    cr_assert_eq(s.gaps, 0, "nothing was lost: no gap recorded");
    uint64_t head = queue_seq();
    cr_assert_eq(s.last_seq, head);

    /* every seq once, in order; every acknowledged ticket among them */
    static unsigned char issued[8000];
    memset(issued, 0, sizeof issued);
    uint64_t cursor = 0, expect = 1;
    for (;;) {
        Hallbus__AuditReply *r = audit_history(&fx, query_ep, "t1", cursor, 2000);
        cr_assert_not_null(r);
        for (size_t i = 0; i < r->n_records; i++) {
            const Hallbus__AuditRecord *rec = r->records[i];
            cr_assert_eq(rec->type, HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT);
            cr_assert_eq(rec->seq, expect, "seq %llu where %llu was due",
                         (unsigned long long)rec->seq, (unsigned long long)expect);
            if (strcmp(rec->kind, "ticket.issued") == 0 && rec->seq < sizeof issued)
                issued[rec->seq] = 1;
            expect++;
            cursor = rec->id;
        }
        bool more = r->more;
        hallbus__audit_reply__free_unpacked(r, NULL);
        if (!more)
            break;
    }
    cr_assert_eq(expect - 1, head, "one record per event of the hall");
    for (int i = 0; i < t.count; i++)
        cr_assert(t.acked[i] < sizeof issued && issued[t.acked[i]],
                  "acknowledged ticket (seq %llu) is in the record",
                  (unsigned long long)t.acked[i]);

    static char out[4096];
    const char *verify[] = {"audit", "verify", "--hall", "t1", NULL};
    cr_assert_eq(hallctl(out, sizeof out, verify), 0, "%s", out);
    cr_assert(strstr(out, "chain intact"), "%s", out);
    stop();
}

/* ── tampering ── */

static void sql(const char *path, const char *text)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    cr_assert_eq(sqlite3_exec(db, text, NULL, NULL, &msg), SQLITE_OK, "%s", msg ? msg : "");
    sqlite3_close(db);
}

Test(audit_e2e, a_record_edited_in_the_database_is_found_by_verify_which_names_it, .fini = cleanup,
     .timeout = 120)
{
    start();
    take(12);
    cr_assert_eq(hb_fx_window(&fx, "open", 1, "li.na"), OK);
    cr_assert_eq(hb_fx_act(&fx, "call", 1, NULL), OK);
    wait_caught_up();

    static char out[1 << 16];
    const char *verify[] = {"audit", "verify", NULL};
    cr_assert_eq(hallctl(out, sizeof out, verify), 0, "%s", out);
    cr_assert(strstr(out, "14 records, chain intact"), "%s", out);

    /* a ticket's life, and a staff member's day */
    const char *life[] = {"audit", "ticket", "t1", "A001", NULL};
    cr_assert_eq(hallctl(out, sizeof out, life), 0, "%s", out);
    cr_assert(strstr(out, "ticket.issued") && strstr(out, "ticket.called"), "%s", out);
    cr_assert_null(strstr(out, "A002"), "%s", out);
    const char *day[] = {"audit", "day", "t1", "--staff", "li.na", NULL};
    cr_assert_eq(hallctl(out, sizeof out, day), 0, "%s", out);
    cr_assert(strstr(out, "window.opened") && strstr(out, "ticket.called"), "%s", out);
    cr_assert_null(strstr(out, "ticket.issued"), "%s", out);
    const char *nobody[] = {"audit", "day", "t1", "--window", "3", NULL};
    cr_assert_eq(hallctl(out, sizeof out, nobody), 1, "nothing done at window 3: %s", out);

    /* an export of today verifies on its own, with no daemon */
    char date[HB_DATE_LEN], file[400];
    hb_business_date(hb_now_us(), 180, date);
    snprintf(file, sizeof file, "%s/export.db", fx.dir);
    const char *export[] = {"audit", "export", "--from", date, "--output", file, NULL};
    cr_assert_eq(hallctl(out, sizeof out, export), 0, "%s", out);
    cr_assert(strstr(out, "exported 14 records"), "%s", out);

    /* someone edits record #7 (ticket A007's issue) by hand */
    stop_audit();
    sql(audit_db, "DROP TRIGGER records_append_only;"
                  "UPDATE records SET envelope = substr(envelope, 1, length(envelope) - 1) || "
                  "x'02' WHERE id = 7;");
    spawn_audit();
    cr_assert_eq(hallctl(out, sizeof out, verify), 1, "verify exits non-zero: %s", out);
    cr_assert(strstr(out, "record #7 (hall t1, seq 7, ticket.issued) was changed"), "%s", out);

    /* the export still verifies, alone; tampered too, it names the record */
    const char *verify_file[] = {"audit", "verify", "--file", file, NULL};
    cr_assert_eq(hallctl(out, sizeof out, verify_file), 0, "%s", out);
    cr_assert(strstr(out, "14 records, chain intact"), "%s", out);
    sql(file, "DROP TRIGGER records_append_only; DELETE FROM records WHERE id = 3;");
    cr_assert_eq(hallctl(out, sizeof out, verify_file), 1, "%s", out);
    cr_assert(strstr(out, "removed between #2 (seq 2) and #4"), "%s", out);
    stop();
}

/* ── one store, one hall-audit ── */

Test(audit_e2e, a_second_hall_audit_on_the_same_store_is_refused_with_a_clear_message,
     .fini = cleanup, .timeout = 60)
{
    start();
    const char *args[] = {"-c", fx.config, "--db", audit_db, NULL};
    pid_t second = hb_fixture_spawn(&fx, "hall-audit", args);
    cr_assert_gt(second, 0);
    int status;
    cr_assert_eq(waitpid(second, &status, 0), second);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "the second one exits with 1");
    char path[400], text[8192] = "";
    snprintf(path, sizeof path, "%s/hall-audit.log", fx.dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    cr_assert(strstr(text, "refusing to start") && strstr(text, "is in use by another process"),
              "%s", text);
    cr_assert(audit_answers(NULL), "the first one goes on");
    stop();
}

/* ── bad input never stops it ── */

static bool rejected_twice(void *arg)
{
    /* the publisher's connection is asynchronous: send until it is counted */
    const char *bad = "\xff\xff\xff not an envelope";
    zmq_send(garbage_pub, "hall.t1.ticket.issued", 21, ZMQ_SNDMORE);
    zmq_send(garbage_pub, bad, strlen(bad), 0);
    /* a valid envelope whose hall is not the topic's */
    Hallbus__Envelope e = HALLBUS__ENVELOPE__INIT;
    e.hall_id = "zz";
    e.seq = 1;
    Hallbus__WindowClosed wc = HALLBUS__WINDOW_CLOSED__INIT;
    e.event_case = HALLBUS__ENVELOPE__EVENT_WINDOW_CLOSED;
    e.window_closed = &wc;
    uint8_t buf[64];
    size_t len = hallbus__envelope__pack(&e, buf);
    zmq_send(garbage_pub, "hall.t1.window.closed", 21, ZMQ_SNDMORE);
    zmq_send(garbage_pub, buf, len, 0);
    stats_t s;
    return stats(&s) && s.rejected >= 2;
}

Test(audit_e2e, a_malformed_event_is_stored_as_a_rejected_record_with_its_reason_and_ingest_goes_on,
     .fini = cleanup, .timeout = 60)
{
    start();
    take(3);
    garbage_pub = zmq_socket(fx.ctx, ZMQ_PUB);
    int linger = 0;
    zmq_setsockopt(garbage_pub, ZMQ_LINGER, &linger, sizeof linger);
    /* a publisher the bus lets in (hall-queue's key): the garbage is ingested */
    cr_assert_eq(hb_fixture_secure(&fx, garbage_pub, "hall-bus", "hall-queue"), 0);
    cr_assert_eq(zmq_connect(garbage_pub, fx.pub_ep), 0);
    cr_assert(hb_wait_until(rejected_twice, NULL, 10000));
    zmq_close(garbage_pub);
    garbage_pub = NULL;
    take(3);
    wait_caught_up();

    static char out[1 << 18];
    const char *tail[] = {"--json", "audit", "tail", "--kind", "rejected", NULL};
    cr_assert_eq(hallctl(out, sizeof out, tail), 0, "%s", out);
    cr_assert(strstr(out, "\"reason\":\"not a protobuf Envelope\""), "%s", out);
    cr_assert(strstr(out, "\"reason\":\"the envelope's hall is not the topic's\""), "%s", out);
    cr_assert(strstr(out, "\"type\":\"rejected\""), "%s", out);

    const char *events[] = {"--json", "audit", "tail", "--kind", "ticket.", NULL};
    cr_assert_eq(hallctl(out, sizeof out, events), 0);
    int lines = 0;
    for (char *p = out; (p = strchr(p, '\n')); p++)
        lines++;
    cr_assert_eq(lines, 6, "every real event is recorded, the bad ones beside them");

    const char *verify[] = {"audit", "verify", NULL};
    cr_assert_eq(hallctl(out, sizeof out, verify), 0, "%s", out);
    cr_assert(strstr(out, "chain intact") && strstr(out, "rejected record"), "%s", out);
    stop();
}

/* The query endpoint is the common REQ-framed server: what cannot be read
 * is answered with an AuditReply (request_id 0), a string that is not
 * UTF-8 refused naming the field, and the next query answered as usual. */
Test(audit_e2e, unreadable_queries_are_answered_with_a_refusal_and_queries_go_on, .fini = cleanup,
     .timeout = 60)
{
    start();
    hb_rpc_t *rpc = hb_fixture_rpc(&fx, query_ep, "hall-audit", NULL, 2000);
    cr_assert_not_null(rpc);
    const char *bad = "\xff\xff\xff not an AuditRequest";
    const void *frames[2] = {"", bad};
    size_t lens[2] = {0, strlen(bad)};
    void *raw = NULL;
    size_t rawlen = 0;
    cr_assert_eq(hb_rpc_call_raw(rpc, frames, lens, 2, &raw, &rawlen), 0);
    Hallbus__AuditReply *r = hallbus__audit_reply__unpack(NULL, rawlen, raw);
    free(raw);
    cr_assert_not_null(r, "an AuditReply, not silence");
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__MALFORMED, "%s", r->message);
    cr_assert_eq(r->request_id, 0);
    hallbus__audit_reply__free_unpacked(r, NULL);

    Hallbus__AuditRequest req = HALLBUS__AUDIT_REQUEST__INIT;
    Hallbus__AuditHistory q = HALLBUS__AUDIT_HISTORY__INIT;
    q.hall_id = "t\xff"
                "1";
    req.query_case = HALLBUS__AUDIT_REQUEST__QUERY_HISTORY;
    req.history = &q;
    char err[256];
    r = (Hallbus__AuditReply *)hb_rpc_call_msg(rpc, &req.base, &hallbus__audit_reply__descriptor,
                                               err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__INVALID_ARGUMENT);
    cr_assert_eq(r->request_id, req.request_id, "the refusal carries the query's id");
    cr_assert(strstr(r->message, "hall_id"), "%s", r->message);
    hallbus__audit_reply__free_unpacked(r, NULL);
    hb_rpc_destroy(&rpc);
    cr_assert(audit_answers(NULL), "and the next query is answered");
    stop();
}
