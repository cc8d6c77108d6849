/* audit_bench: hall-audit measured against the raw limit it is bounded by.
 *
 * The machine is shared and noisy, so each figure is printed beside a raw
 * baseline measured in the same run, with the ratio.
 *
 * 1. Store ingest: N events appended through the audit store exactly as
 *    hall-audit does (decode the envelope, derive the query columns, SHA-256
 *    chain, insert, pack the record for the live stream), committed every B
 *    events with synchronous=FULL; beside raw SQLite inserting the very same
 *    rows (precomputed) into the same schema, in transactions of B.
 * 2. Daemon ingest: the real hall-audit following a hall whose N events are
 *    published on the real hall-bus as fast as they can go; timed from the
 *    first send until hall-audit says it has stored the last.
 * 3. Lag: tickets taken on a real hall-queue; for each event, the time from
 *    its arrival on a SUB socket at hall-bus (publication) to its arrival on
 *    a SUB socket at audit.publish, which is what `hallctl audit tail
 *    --follow` prints from: median and p99.
 *
 * Run: HALLBUS_BIN=build/bin build/bin/audit_bench [--events N] [--batch B] [--lag N] */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "audit_store.h"
#include "bench_stats.h"
#include "fixture.h"
#include "hallbus/clock.h"
#include "hallbus/db.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"

typedef struct {
    uint8_t *data;
    size_t len;
} blob_t;

/* Realistic events: a ticket.issued of about the size hall-queue publishes. */
static blob_t *make_events(const char *hall, size_t n)
{
    blob_t *ev = calloc(n, sizeof *ev);
    for (size_t i = 0; i < n; i++) {
        char number[16];
        snprintf(number, sizeof number, "A%03zu", i % 1000 + 1);
        Hallbus__Ticket t = HALLBUS__TICKET__INIT;
        t.id = i + 1;
        t.number = number;
        t.service = "A";
        t.daily_number = (uint32_t)(i % 1000 + 1);
        t.state = HALLBUS__TICKET_STATE__WAITING;
        t.business_date = "2026-11-20";
        t.issued_at = 1795161600000000LL + (int64_t)i * 1000;
        t.channel = "kiosk";
        Hallbus__TicketIssued ti = HALLBUS__TICKET_ISSUED__INIT;
        ti.ticket = &t;
        ti.ahead = (uint32_t)(i % 37);
        ti.estimated_wait_s = (uint32_t)(i % 37) * 60;
        Hallbus__Envelope e = HALLBUS__ENVELOPE__INIT;
        e.hall_id = (char *)hall;
        e.seq = i + 1;
        e.source = "hall-queue";
        e.ts = t.issued_at;
        e.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED;
        e.ticket_issued = &ti;
        ev[i].len = hallbus__envelope__get_packed_size(&e);
        ev[i].data = malloc(ev[i].len);
        hallbus__envelope__pack(&e, ev[i].data);
    }
    return ev;
}

static double store_chain(const char *path, const blob_t *ev, size_t n, size_t batch)
{
    char err[256];
    audit_store_t *s = audit_store_open(path, 180, false, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    audit_store_set_outbox(s, true);
    int64_t t0 = hb_mono_us();
    for (size_t i = 0; i < n; i++) {
        Hallbus__Envelope *env = NULL;
        hb_envelope_decode(ev[i].data, ev[i].len, &env, NULL);
        audit_store_append_event(s, env, ev[i].data, ev[i].len, hb_now_us());
        hallbus__envelope__free_unpacked(env, NULL);
        if ((i + 1) % batch == 0 || i + 1 == n) {
            audit_store_commit(s);
            audit_out_free(audit_store_take_outbox(s));
        }
    }
    int64_t t1 = hb_mono_us();
    audit_store_destroy(&s);
    return (double)n / ((double)(t1 - t0) / 1e6);
}

/* The same rows, computed beforehand, inserted by plain SQLite. */
static double store_raw(const char *path, const blob_t *ev, size_t n, size_t batch)
{
    char err[256];
    /* the same schema: let the store create it, then write beside it */
    audit_store_t *s = audit_store_open(path, 180, false, err, sizeof err);
    audit_store_destroy(&s);
    sqlite3 *db = hb_db_open(path, err, sizeof err);
    sqlite3_stmt *st = hb_db_prepare(
        db, "INSERT INTO records(id, hall, seq, seq_to, type, received_at, kind, envelope, reason,"
            " prev_hash, hash, bdate, ticket, win, staff) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    typedef struct {
        audit_index_t ix;
        uint8_t hash[32];
    } pre_t;
    pre_t *pre = calloc(n, sizeof *pre);
    for (size_t i = 0; i < n; i++) {
        Hallbus__Envelope *env = NULL;
        hb_envelope_decode(ev[i].data, ev[i].len, &env, NULL);
        audit_index_of(env, 180, &pre[i].ix);
        hallbus__envelope__free_unpacked(env, NULL);
        memset(pre[i].hash, (int)(i & 0xff), 32);
    }
    int64_t t0 = hb_mono_us();
    hb_db_exec(db, "BEGIN");
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
        sqlite3_bind_text(st, 2, "b1", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)i + 1);
        sqlite3_bind_int64(st, 4, 0);
        sqlite3_bind_int(st, 5, 0);
        sqlite3_bind_int64(st, 6, hb_now_us());
        sqlite3_bind_text(st, 7, "ticket.issued", -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 8, ev[i].data, (int)ev[i].len, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, "", -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 10, i ? pre[i - 1].hash : pre[i].hash, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 11, pre[i].hash, 32, SQLITE_STATIC);
        sqlite3_bind_text(st, 12, pre[i].ix.bdate, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 13, pre[i].ix.ticket, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 14, pre[i].ix.window);
        sqlite3_bind_text(st, 15, pre[i].ix.staff, -1, SQLITE_STATIC);
        hb_db_step_done(st);
        if ((i + 1) % batch == 0 || i + 1 == n) {
            hb_db_exec(db, "COMMIT");
            if (i + 1 < n)
                hb_db_exec(db, "BEGIN");
        }
    }
    int64_t t1 = hb_mono_us();
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(pre);
    return (double)n / ((double)(t1 - t0) / 1e6);
}

/* ── the daemons ── */

static hb_fixture_t fx;
static char query_ep[64], publish_ep[64];
static pid_t audit_pid;

/* hall-audit's stored seq of hall IDX (0: t1, 1: b1); -1 when it does not answer. */
static int64_t audit_seq(int idx, uint64_t *gaps)
{
    void *s = zmq_socket(fx.ctx, ZMQ_REQ);
    int linger = 0, timeout = 2000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    hb_fixture_secure(&fx, s, "hall-audit", NULL);
    zmq_connect(s, query_ep);
    Hallbus__AuditRequest req = HALLBUS__AUDIT_REQUEST__INIT;
    Hallbus__AuditStatsQuery q = HALLBUS__AUDIT_STATS_QUERY__INIT;
    req.query_case = HALLBUS__AUDIT_REQUEST__QUERY_STATS;
    req.stats = &q;
    uint8_t buf[64];
    zmq_send(s, buf, hallbus__audit_request__pack(&req, buf), 0);
    zmq_msg_t m;
    zmq_msg_init(&m);
    int64_t seq = -1;
    if (zmq_msg_recv(&m, s, 0) >= 0) {
        Hallbus__AuditReply *r =
            hallbus__audit_reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
        if (r && r->stats && r->stats->n_last_seq > (size_t)idx) {
            seq = (int64_t)r->stats->last_seq[idx];
            if (gaps)
                *gaps = r->stats->gaps;
        }
        if (r)
            hallbus__audit_reply__free_unpacked(r, NULL);
    }
    zmq_msg_close(&m);
    zmq_close(s);
    return seq;
}

static bool audit_up(void *arg)
{
    return audit_seq(0, NULL) >= 0;
}

static void *events_sub(const char *ep, const char *prefix)
{
    void *s = zmq_socket(fx.ctx, ZMQ_SUB);
    int linger = 0, hwm = 2000000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
    hb_fixture_secure(&fx, s, strcmp(ep, fx.sub_ep) == 0 ? "hall-bus" : "hall-audit", NULL);
    zmq_connect(s, ep);
    return s;
}

typedef struct {
    int n;
} taker_t;

static void *taker(void *arg)
{
    taker_t *t = arg;
    hb_rpc_t *rpc = hb_fixture_rpc(&fx, fx.cmd_ep, "hall-queue", NULL, 5000);
    for (int i = 0; i < t->n; i++) {
        Hallbus__Request req = HALLBUS__REQUEST__INIT;
        Hallbus__TakeTicket tt = HALLBUS__TAKE_TICKET__INIT;
        tt.service = "A";
        req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
        req.take_ticket = &tt;
        char err[128];
        Hallbus__Reply *r = hb_rpc_call(rpc, &req, err, sizeof err);
        if (r)
            hallbus__reply__free_unpacked(r, NULL);
        /* paced: a busy hall, not a flood, so that the lag is the path's */
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
    hb_rpc_destroy(&rpc);
    return NULL;
}

/* seq of the envelope in a bus message, or of the record in an audit message */
static uint64_t seq_of(zmq_msg_t *body, bool audit)
{
    uint64_t seq = 0;
    if (audit) {
        Hallbus__AuditRecord *r =
            hallbus__audit_record__unpack(NULL, zmq_msg_size(body), zmq_msg_data(body));
        if (r) {
            seq = r->type == HALLBUS__AUDIT_RECORD_TYPE__AUDIT_EVENT ? r->seq : 0;
            hallbus__audit_record__free_unpacked(r, NULL);
        }
    } else {
        Hallbus__Envelope *e = NULL;
        if (hb_envelope_decode(zmq_msg_data(body), zmq_msg_size(body), &e, NULL) == 0) {
            seq = e->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT ? 0 : e->seq;
            hallbus__envelope__free_unpacked(e, NULL);
        }
    }
    return seq;
}

static void lag(int n)
{
    void *bus = events_sub(fx.sub_ep, "hall.t1.");
    void *rec = events_sub(publish_ep, "audit.t1.");
    /* let both subscriptions reach their publishers */
    struct timespec settle = {0, 300000000};
    nanosleep(&settle, NULL);
    uint64_t base = (uint64_t)audit_seq(0, NULL);
    int64_t *t_bus = calloc((size_t)n + 1, sizeof *t_bus);
    int64_t *t_rec = calloc((size_t)n + 1, sizeof *t_rec);
    taker_t t = {n};
    pthread_t th;
    pthread_create(&th, NULL, taker, &t);
    int got = 0;
    int64_t deadline = hb_mono_us() + 60000000;
    while (got < n && hb_mono_us() < deadline) {
        zmq_pollitem_t items[2] = {{bus, 0, ZMQ_POLLIN, 0}, {rec, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, 200) <= 0)
            continue;
        int64_t now = hb_mono_us();
        for (int k = 0; k < 2; k++) {
            if (!(items[k].revents & ZMQ_POLLIN))
                continue;
            zmq_msg_t topic, body;
            zmq_msg_init(&topic);
            zmq_msg_init(&body);
            zmq_msg_recv(&topic, items[k].socket, 0);
            zmq_msg_recv(&body, items[k].socket, 0);
            uint64_t seq = seq_of(&body, k == 1);
            zmq_msg_close(&topic);
            zmq_msg_close(&body);
            if (seq <= base || seq > base + (uint64_t)n)
                continue;
            int64_t *slot = k == 0 ? &t_bus[seq - base] : &t_rec[seq - base];
            if (!*slot) {
                *slot = now;
                got += k == 1;
            }
        }
    }
    pthread_join(th, NULL);
    int64_t *lags = calloc((size_t)n, sizeof *lags);
    size_t m = 0;
    for (int i = 1; i <= n; i++)
        if (t_bus[i] && t_rec[i])
            lags[m++] = t_rec[i] - t_bus[i];
    bench_sort_us(lags, m);
    printf("lag, publication (event at hall-bus) -> visible to tail --follow (record at "
           "audit.publish), %zu events:\n  p50 %.2f ms   p99 %.2f ms   max %.2f ms\n",
           m, bench_percentile_us(lags, m, 50) / 1000.0, bench_percentile_us(lags, m, 99) / 1000.0,
           m ? lags[m - 1] / 1000.0 : 0);
    free(lags);
    free(t_bus);
    free(t_rec);
    zmq_close(bus);
    zmq_close(rec);
}

static double daemon_ingest(size_t n, uint64_t *gaps)
{
    blob_t *ev = make_events("b1", n);
    void *pub = zmq_socket(fx.ctx, ZMQ_PUB);
    int linger = 5000, hwm = (int)n + 10;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    hb_fixture_secure(&fx, pub, "hall-bus", "hall-queue"); /* a publisher the bus admits */
    zmq_connect(pub, fx.pub_ep);
    struct timespec settle = {0, 300000000};
    nanosleep(&settle, NULL);
    int64_t t0 = hb_mono_us();
    for (size_t i = 0; i < n; i++) {
        zmq_send(pub, "hall.b1.ticket.issued", 21, ZMQ_SNDMORE);
        zmq_send(pub, ev[i].data, ev[i].len, 0);
    }
    int64_t t1 = 0;
    while (hb_mono_us() - t0 < 120000000) {
        int64_t seq = audit_seq(1, gaps);
        if (seq >= (int64_t)n) {
            t1 = hb_mono_us();
            break;
        }
        struct timespec ts = {0, 10000000}; /* 10 ms: the resolution of this figure */
        nanosleep(&ts, NULL);
    }
    zmq_close(pub);
    for (size_t i = 0; i < n; i++)
        free(ev[i].data);
    free(ev);
    return t1 ? (double)n / ((double)(t1 - t0) / 1e6) : 0;
}

int main(int argc, char **argv)
{
    size_t n = 200000, batch = 4096; /* hall-audit's largest batch per loop turn */
    int lag_n = 2000;
    static const struct option opts[] = {{"events", required_argument, NULL, 'n'},
                                         {"batch", required_argument, NULL, 'b'},
                                         {"lag", required_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'n')
            n = (size_t)atol(optarg);
        else if (c == 'b')
            batch = (size_t)atol(optarg);
        else if (c == 'l')
            lag_n = atoi(optarg);
        else {
            printf(
                "usage: audit_bench [--events N (200000)] [--batch B (4096)] [--lag N (2000)]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    hb_log_init("audit_bench", HB_LOG_WARN);
    char dir[] = "/tmp/hallbus-audit-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char p1[128], p2[128];
    snprintf(p1, sizeof p1, "%s/chain.db", dir);
    snprintf(p2, sizeof p2, "%s/raw.db", dir);
    blob_t *ev = make_events("b1", n);
    char a[32], b[32];
    printf("audit_bench: %zu events of ~%zu bytes, commit every %zu, WAL, synchronous=FULL\n\n", n,
           ev[0].len, batch);
    double raw = store_raw(p2, ev, n, batch);
    double chain = store_chain(p1, ev, n, batch);
    printf("store ingest\n  hash chain (decode, index, SHA-256, insert, pack): %s events/s\n"
           "  raw SQLite, same rows, same batches:                %s events/s\n"
           "  ratio %.2fx  (target >= 0.30x and >= 100,000 events/s)\n\n",
           bench_thousands(chain, a, sizeof a), bench_thousands(raw, b, sizeof b), chain / raw);
    for (size_t i = 0; i < n; i++)
        free(ev[i].data);
    free(ev);

    /* the real daemons */
    snprintf(query_ep, sizeof query_ep, "tcp://127.0.0.1:%d", hb_free_port());
    snprintf(publish_ep, sizeof publish_ep, "tcp://127.0.0.1:%d", hb_free_port());
    char extra[512];
    snprintf(extra, sizeof extra,
             "audit:\n  query: \"%s\"\n  publish: \"%s\"\n  gap_timeout_ms: 600000\n"
             "  halls:\n    - id: t1\n    - {id: b1, command: \"tcp://127.0.0.1:%d\"}\n",
             query_ep, publish_ep, hb_free_port());
    hb_fixture_opts_t fo = {.extra_yaml = extra, .heartbeat_ms = 1000};
    if (hb_fixture_start(&fx, &fo) != 0)
        return 1;
    char db[400];
    snprintf(db, sizeof db, "%s/audit.db", fx.dir);
    const char *args[] = {"-c", fx.config, "--db", db, "--log-level", "warn", NULL};
    audit_pid = hb_fixture_spawn(&fx, "hall-audit", args);
    if (!hb_wait_until(audit_up, NULL, 10000)) {
        fprintf(stderr, "hall-audit did not start\n");
        return 1;
    }
    uint64_t gaps = 0;
    double d = daemon_ingest(n, &gaps);
    printf("daemon ingest (hall-bus -> hall-audit, stored and committed): %s events/s  "
           "(%.2fx the raw store figure)%s\n\n",
           bench_thousands(d, a, sizeof a), d / raw,
           gaps ? "  [gaps recorded: the bus dropped some]" : "");
    lag(lag_n);
    int status = hb_fixture_kill(&audit_pid, SIGTERM);
    int rc = hb_fixture_stop(&fx);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
