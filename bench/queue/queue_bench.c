/* queue_bench: hall-queue measured against the raw limits it is bounded by.
 *
 * The machine this runs on is shared and noisy, so absolute numbers drift;
 * every figure is printed beside a raw baseline measured in the same run,
 * with the ratio.
 *
 * 1. Durable ticket throughput: take_ticket pipelined through a DEALER into
 *    the real hall-queue (WAL, synchronous=FULL, group commit), beside raw
 *    SQLite inserting the same rows (a ticket row and an event row with a
 *    packed envelope per ticket) through hall-queue's own store
 *    (hall_store.h: the same schema, statements and pragmas), in transactions of
 *    1024 rows (the daemon's largest batch) and of the batch size the daemon
 *    actually achieved (commits counted by the sync probe, sync_probe.h).
 * 2. Call latency: call_next paced open-loop at a steady rate, timed from
 *    the send to the ticket.called event arriving on a SUB socket at
 *    hall-bus; beside it a raw DEALER -> ROUTER echo that does pwrite() +
 *    fdatasync() then publishes through the same hall-bus, at the same pace,
 *    in slices that alternate with the daemon's.
 *
 * Run: HALLBUS_BIN=build/bin build/bin/queue_bench [options]; --help lists
 * them. Not a ctest: it takes most of a minute and its numbers are for
 * people to read. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_stats.h"
#include "fixture.h"
#include "hallbus.pb-c.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "hall.h"
#include "hall_store.h"
#include "sync_probe.h"

#define OK HALLBUS__STATUS_CODE__OK
#define DAEMON_BATCH_MAX 1024 /* services/queue/main.c BATCH_MAX */
#define SERVICES 4
#define RAW_PAYLOAD 128
#define RAW_FILE_BYTES (1 << 20)

static const char *const SERVICE_PREFIXES[SERVICES] = {"A", "B", "C", "D"};

typedef struct {
    unsigned long tickets; /* throughput: tickets to issue */
    double max_seconds;    /* throughput: stop sending after this long */
    unsigned inflight;     /* throughput: requests kept outstanding */
    double raw_seconds;    /* raw SQLite: at most this long per batch size */
    double seconds;        /* latency: seconds for each of daemon and raw */
    unsigned rate;         /* latency: calls per second */
    unsigned windows;      /* latency: windows called in turn */
    bool free_same;        /* latency: no-show sent right after the call */
    bool probe;            /* preload the sync probe into the daemons */
    bool plain;            /* security.curve: false: the raw reference without CURVE */
} opts_t;

/* ── small things ───────────────────────────────────────────────────────── */

static void sleep_until_us(int64_t t_us)
{
    struct timespec ts = {(time_t)(t_us / 1000000), (long)(t_us % 1000000) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static double ms(int64_t us)
{
    return (double)us / 1000.0;
}

/* the hall being measured: its command endpoint speaks CURVE */
static hb_fixture_t *bench_fx;

static void *bench_dealer(void *ctx, const char *endpoint)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0, hwm = 1000000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (bench_fx && strcmp(endpoint, bench_fx->cmd_ep) == 0 &&
        hb_fixture_secure(bench_fx, s, "hall-queue", NULL) != 0) {
        zmq_close(s);
        return NULL;
    }
    if (zmq_connect(s, endpoint) != 0) {
        fprintf(stderr, "queue_bench: cannot connect to %s: %s\n", endpoint, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

/* Sends [empty][REQ] without blocking; 0, or -1 (EAGAIN at the high-water mark). */
static int send_request(void *dealer, Hallbus__Request *req)
{
    uint8_t buf[256];
    size_t len = hallbus__request__get_packed_size(req);
    if (len > sizeof buf)
        return -1;
    hallbus__request__pack(req, buf);
    if (zmq_send(dealer, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    return zmq_send(dealer, buf, len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

/* Receives one reply without blocking. NULL when none is waiting (or one was
 * not a Reply). Caller frees with hallbus__reply__free_unpacked. */
static Hallbus__Reply *recv_reply(void *dealer, bool *got)
{
    *got = false;
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, dealer, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return NULL;
    }
    *got = true;
    /* [empty][reply]: skip to the last frame */
    while (zmq_msg_more(&m)) {
        zmq_msg_close(&m);
        zmq_msg_init(&m);
        zmq_msg_recv(&m, dealer, 0);
    }
    Hallbus__Reply *r = hallbus__reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    zmq_msg_close(&m);
    return r;
}

static int wait_readable(void *sock, long timeout_ms)
{
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    return zmq_poll(&item, 1, timeout_ms);
}

static const char *fs_name(const char *path)
{
    struct statfs s;
    if (statfs(path, &s) != 0)
        return "?";
    switch ((unsigned long)s.f_type) {
    case 0xEF53:
        return "ext4";
    case 0x58465342:
        return "xfs";
    case 0x9123683E:
        return "btrfs";
    case 0x01021994:
        return "tmpfs (fsync costs nothing here: figures are not durable-disk figures)";
    case 0x794c7630:
        return "overlayfs";
    case 0x2FC12FC1:
        return "zfs";
    default:
        return "other";
    }
}

static void print_machine(const char *tmpdir)
{
    struct utsname u;
    uname(&u);
    char model[128] = "?";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            char *colon = strchr(line, ':');
            if (strncmp(line, "model name", 10) == 0 && colon) {
                snprintf(model, sizeof model, "%s", colon + 2);
                model[strcspn(model, "\n")] = '\0';
                break;
            }
        }
        fclose(f);
    }
    int zmaj, zmin, zpat;
    zmq_version(&zmaj, &zmin, &zpat);
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    printf("machine: nproc %ld (%s), %s %s %s, load %.2f %.2f %.2f; sqlite %s, libzmq %d.%d.%d; "
           "temp dir %s on %s\n",
           sysconf(_SC_NPROCESSORS_ONLN), model, u.sysname, u.release, u.machine, load[0], load[1],
           load[2], sqlite3_libversion(), zmaj, zmin, zpat, tmpdir, fs_name(tmpdir));
}

/* The machine's CPU time so far, and the part of it the hypervisor gave to
 * someone else (steal), in clock ticks. */
static void machine_cpu(unsigned long long *total, unsigned long long *steal)
{
    unsigned long long v[8] = {0};
    *total = *steal = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return;
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5], &v[6], &v[7]) == 8) {
        for (int i = 0; i < 8; i++)
            *total += v[i];
        *steal = v[7];
    }
    fclose(f);
}

/* CPU seconds (user + system, all threads) a process has used so far. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return 0;
    unsigned long utime = 0, stime = 0;
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
     */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return 0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* The store's files as the daemon left them: how much sits in the WAL that
 * the checkpointer has not yet copied into the database file. */
typedef struct {
    long long db_bytes, wal_bytes;
} store_size_t;

static store_size_t store_size(const hb_fixture_t *fx)
{
    store_size_t z = {-1, -1};
    struct stat st;
    char wal[400];
    snprintf(wal, sizeof wal, "%s-wal", fx->db);
    if (stat(fx->db, &st) == 0)
        z.db_bytes = (long long)st.st_size;
    if (stat(wal, &st) == 0)
        z.wal_bytes = (long long)st.st_size;
    return z;
}

static double mib(long long bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* ── the sync probe (see sync_probe.h) ──────────────────────────────────── */

static char probe_dir[256];

static bool probe_read(pid_t pid, hb_sync_counts_t *out)
{
    memset(out, 0, sizeof *out);
    if (!probe_dir[0])
        return false;
    char path[300];
    snprintf(path, sizeof path, "%s/sync.%d", probe_dir, (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    hb_sync_counts_t *c = mmap(NULL, sizeof *c, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (c == MAP_FAILED)
        return false;
    out->main_syncs = __atomic_load_n(&c->main_syncs, __ATOMIC_RELAXED);
    out->main_ns = __atomic_load_n(&c->main_ns, __ATOMIC_RELAXED);
    out->other_syncs = __atomic_load_n(&c->other_syncs, __ATOMIC_RELAXED);
    out->other_ns = __atomic_load_n(&c->other_ns, __ATOMIC_RELAXED);
    munmap(c, sizeof *c);
    return true;
}

/* Puts the probe in front of every daemon the fixture starts from now on. */
static void probe_setup(const char *bin_dir)
{
#ifdef HB_SYNC_PROBE_NAME
    char lib[PATH_MAX + 64];
    snprintf(lib, sizeof lib, "%s/%s", bin_dir, HB_SYNC_PROBE_NAME);
    char real[PATH_MAX];
    if (!realpath(lib, real) || access(real, R_OK) != 0) {
        printf("note: %s not found: daemon commit counts not available\n", lib);
        return;
    }
    snprintf(probe_dir, sizeof probe_dir, "/tmp/hallbus-bench-XXXXXX");
    if (!mkdtemp(probe_dir)) {
        probe_dir[0] = '\0';
        return;
    }
    const char *old = getenv("LD_PRELOAD");
    char preload[2 * PATH_MAX];
    snprintf(preload, sizeof preload, "%s%s%s", real, old && *old ? " " : "", old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    setenv("HB_SYNC_PROBE_DIR", probe_dir, 1);
#else
    (void)bin_dir;
    printf("note: built without the sync probe: daemon commit counts not available\n");
#endif
}

static void probe_cleanup(void)
{
    unsetenv("LD_PRELOAD");
    unsetenv("HB_SYNC_PROBE_DIR");
    if (probe_dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", probe_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "queue_bench: could not remove %s\n", probe_dir);
    }
}

/* ── the hall ───────────────────────────────────────────────────────────── */

static char *bench_hall_yaml(unsigned windows)
{
    size_t cap = 512 + (size_t)windows * 64;
    char *y = malloc(cap);
    int n = snprintf(y, cap,
                     "services:\n"
                     "  - {prefix: A, name: General}\n"
                     "  - {prefix: B, name: Licences}\n"
                     "  - {prefix: C, name: Enquiries}\n"
                     "  - {prefix: D, name: Pensions}\n"
                     "windows:\n");
    for (unsigned w = 1; w <= windows; w++)
        n += snprintf(y + n, cap - (size_t)n, "  - {number: %u, services: [A, B, C, D]}\n", w);
    return y;
}

static Hallbus__Reply *get_status(hb_fixture_t *fx)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetStatus gs = HALLBUS__GET_STATUS__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &gs;
    return hb_fixture_call(fx, &req);
}

/* ── 1. throughput ──────────────────────────────────────────────────────── */

typedef struct {
    unsigned long ok, refused, undecodable;
    double elapsed_s;
    bool timed_out;
} take_result_t;

/* Issues COUNT tickets spread over the services, keeping INFLIGHT requests
 * outstanding on one DEALER; stops sending after MAX_S seconds. */
static int take_tickets(void *ctx, const char *endpoint, unsigned long count, unsigned inflight,
                        double max_s, take_result_t *res)
{
    memset(res, 0, sizeof *res);
    void *dealer = bench_dealer(ctx, endpoint);
    if (!dealer)
        return -1;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__TakeTicket take = HALLBUS__TAKE_TICKET__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
    req.take_ticket = &take;
    req.actor = "queue_bench";

    unsigned long sent = 0, received = 0;
    int64_t t0 = hb_mono_us(), t_last = t0;
    int64_t stop_sending = t0 + (int64_t)(max_s * 1e6);
    int64_t give_up = stop_sending + 30000000; /* replies still owed after that: lost */
    for (;;) {
        int64_t now = hb_mono_us();
        bool sending = sent < count && now < stop_sending;
        while (sending && sent - received < inflight && sent < count) {
            take.service = (char *)SERVICE_PREFIXES[sent % SERVICES];
            req.request_id = sent + 1;
            if (send_request(dealer, &req) != 0)
                break;
            sent++;
        }
        if (received == sent && (!sending || sent == count))
            break;
        if (now > give_up) {
            res->timed_out = true;
            break;
        }
        if (wait_readable(dealer, 100) <= 0)
            continue;
        for (;;) {
            bool got;
            Hallbus__Reply *r = recv_reply(dealer, &got);
            if (!got)
                break;
            received++;
            t_last = hb_mono_us();
            if (!r) {
                res->undecodable++;
                continue;
            }
            if (r->code == OK)
                res->ok++;
            else if (res->refused++ == 0)
                fprintf(stderr, "queue_bench: take_ticket refused: %s\n", r->message);
            hallbus__reply__free_unpacked(r, NULL);
            if (sent - received < inflight / 2)
                break; /* refill the pipe before draining the rest */
        }
    }
    res->elapsed_s = (double)(t_last - t0) / 1e6;
    zmq_close(dealer);
    return 0;
}

typedef struct {
    unsigned long rows;
    unsigned long commits;
    double elapsed_s;
    double commit_ms_mean;
    size_t blob_len;
} raw_sqlite_t;

/* A ticket.issued envelope as hall-queue packs it, for the event row's blob. */
static size_t pack_issued_envelope(uint8_t *buf, size_t cap)
{
    Hallbus__Ticket t = HALLBUS__TICKET__INIT;
    t.id = 123456;
    t.number = "A123456";
    t.service = "A";
    t.daily_number = 123456;
    t.state = HALLBUS__TICKET_STATE__WAITING;
    t.business_date = "2026-01-05";
    t.issued_at = hb_now_us();
    t.channel = "kiosk";
    Hallbus__TicketIssued ev = HALLBUS__TICKET_ISSUED__INIT;
    ev.ticket = &t;
    ev.ahead = 49999;
    ev.estimated_wait_s = 750000;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.hall_id = "t1";
    env.seq = 200000;
    env.source = "hall-queue";
    env.ts = t.issued_at;
    env.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED;
    env.ticket_issued = &ev;
    size_t len = hallbus__envelope__get_packed_size(&env);
    if (len > cap)
        return 0;
    return hallbus__envelope__pack(&env, buf);
}

/* The raw limit: the rows hall-queue writes for a ticket taken (its ticket
 * row and its journal entry), through hall-queue's own store (hall_store.c:
 * its schema, its statements, the daemon's pragmas), in batches of BATCH per
 * transaction -- without the hall's rules, the command socket or the bus. */
static int raw_sqlite(const char *path, unsigned long rows, unsigned batch, double max_s,
                      raw_sqlite_t *res)
{
    memset(res, 0, sizeof *res);
    char err[256];
    hall_store_t *store = hall_store_open(path, err, sizeof err);
    if (!store) {
        fprintf(stderr, "queue_bench: %s\n", err);
        return -1;
    }
    uint8_t blob[512];
    res->blob_len = pack_issued_envelope(blob, sizeof blob);
    const char *date = "2026-01-05";
    service_t services[SERVICES];
    memset(services, 0, sizeof services);
    for (unsigned i = 0; i < SERVICES; i++)
        services[i].prefix = SERVICE_PREFIXES[i];
    ticket_t t;
    memset(&t, 0, sizeof t);
    t.state = HALLBUS__TICKET_STATE__WAITING;
    snprintf(t.channel, sizeof t.channel, "kiosk");
    int64_t t0 = hb_mono_us(), deadline = t0 + (int64_t)(max_s * 1e6), commit_us = 0;
    unsigned long id = 0;
    int rc = 0;
    while (id < rows && hb_mono_us() < deadline && rc == 0) {
        rc |= hall_store_begin(store);
        for (unsigned j = 0; j < batch && id < rows; j++) {
            id++;
            t.id = id;
            t.service = &services[id % SERVICES];
            t.daily_number = (uint32_t)(id / SERVICES + 1);
            snprintf(t.number, sizeof t.number, "%s%03u", t.service->prefix, t.daily_number);
            t.issued_at = hb_now_us();
            t.queue_key = id;
            rc |= hall_store_save_ticket(store, &t, date);
            rc |= hall_store_append_event(store, id, t.issued_at, "ticket.issued", blob,
                                          res->blob_len);
        }
        int64_t c0 = hb_mono_us();
        rc |= hall_store_commit(store);
        commit_us += hb_mono_us() - c0;
        res->commits++;
        res->rows = id;
    }
    res->elapsed_s = (double)(hb_mono_us() - t0) / 1e6;
    res->commit_ms_mean = res->commits ? ms(commit_us) / (double)res->commits : 0;
    hall_store_close(&store);
    char extra[PATH_MAX + 8];
    unlink(path);
    snprintf(extra, sizeof extra, "%s-wal", path);
    unlink(extra);
    snprintf(extra, sizeof extra, "%s-shm", path);
    unlink(extra);
    return rc == 0 ? 0 : -1;
}

typedef struct {
    take_result_t take;
    unsigned long status_issued;
    hb_sync_counts_t syncs;
    bool have_syncs;
    double daemon_cpu_s, bench_cpu_s;
    double mean_batch;
    store_size_t store;
} throughput_t;

static int run_throughput(const opts_t *o, const char *hall_yaml, throughput_t *tp)
{
    memset(tp, 0, sizeof *tp);
    hb_fixture_t fx;
    hb_fixture_opts_t fo = {.services_windows_yaml = hall_yaml, .plain = o->plain};
    bench_fx = &fx;
    if (hb_fixture_start(&fx, &fo) != 0) {
        fprintf(stderr, "queue_bench: cannot start the hall (see %s)\n", fx.dir);
        hb_fixture_stop(&fx);
        return -1;
    }
    hb_sync_counts_t before, after;
    tp->have_syncs = probe_read(fx.queue, &before);
    double cpu0 = proc_cpu_s(fx.queue), self0 = self_cpu_s();
    int rc = take_tickets(fx.ctx, fx.cmd_ep, o->tickets, o->inflight, o->max_seconds, &tp->take);
    tp->daemon_cpu_s = proc_cpu_s(fx.queue) - cpu0;
    tp->bench_cpu_s = self_cpu_s() - self0;
    if (tp->have_syncs && probe_read(fx.queue, &after)) {
        tp->syncs.main_syncs = after.main_syncs - before.main_syncs;
        tp->syncs.main_ns = after.main_ns - before.main_ns;
        tp->syncs.other_syncs = after.other_syncs - before.other_syncs;
        tp->syncs.other_ns = after.other_ns - before.other_ns;
        if (tp->syncs.main_syncs)
            tp->mean_batch = (double)tp->take.ok / (double)tp->syncs.main_syncs;
    } else {
        tp->have_syncs = false;
    }
    Hallbus__Reply *st = get_status(&fx);
    if (st && st->result_case == HALLBUS__REPLY__RESULT_STATUS)
        for (size_t i = 0; i < st->status->n_services; i++)
            tp->status_issued += st->status->services[i]->issued_today;
    if (st)
        hallbus__reply__free_unpacked(st, NULL);
    tp->store = store_size(&fx);
    hb_fixture_stop(&fx);
    return rc;
}

/* ── 2. latency ─────────────────────────────────────────────────────────── */

/* The daemon and the raw limit are measured in alternating slices of one
 * paced stream, so that whatever else the machine is doing (stalls of tens
 * of milliseconds are common on a shared VM) falls on both alike. The first
 * second of the stream is a warm-up and is not counted. */
#define SLICE_MS 200
#define WARMUP_MS 1000

/* The raw limit: a ROUTER that, for each message, writes it to a file in
 * place, fdatasyncs, replies and publishes it through hall-bus. */
typedef struct {
    void *router, *pub;
    int fd;
    off_t offset;
    atomic_bool stop;
    unsigned long handled, sync_errors;
    int64_t sync_us; /* time spent in fdatasync */
} echo_t;

static void *echo_thread(void *arg)
{
    echo_t *e = arg;
    while (!atomic_load(&e->stop)) {
        if (wait_readable(e->router, 50) <= 0)
            continue;
        zmq_msg_t f[3];
        int n = 0;
        bool more = true;
        while (more) {
            zmq_msg_t *m = &f[n < 3 ? n : 2];
            if (n >= 3)
                zmq_msg_close(m);
            zmq_msg_init(m);
            if (zmq_msg_recv(m, e->router, 0) < 0) {
                zmq_msg_close(m);
                break;
            }
            more = zmq_msg_more(m);
            n++;
        }
        if (n != 3) {
            for (int i = 0; i < n && i < 3; i++)
                zmq_msg_close(&f[i]);
            continue;
        }
        /* in place, in a file already allocated: like the WAL once it restarts */
        size_t len = zmq_msg_size(&f[2]);
        int64_t t = hb_mono_us();
        if (pwrite(e->fd, zmq_msg_data(&f[2]), len, e->offset) < 0 || fdatasync(e->fd) != 0)
            e->sync_errors++;
        e->sync_us += hb_mono_us() - t;
        e->offset = (e->offset + (off_t)len) % RAW_FILE_BYTES;
        zmq_send(e->router, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), ZMQ_SNDMORE);
        zmq_send(e->router, "", 0, ZMQ_SNDMORE);
        zmq_send(e->router, zmq_msg_data(&f[2]), len, 0);
        zmq_send(e->pub, "rawbench.called", 15, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send(e->pub, zmq_msg_data(&f[2]), len, ZMQ_DONTWAIT);
        for (int i = 0; i < 3; i++)
            zmq_msg_close(&f[i]);
        e->handled++;
    }
    return NULL;
}

/* Receives both kinds of event on one SUB socket and stamps each with its
 * arrival time: ticket.called by its envelope seq, raw ones by the tick
 * index in the first 8 bytes of the body. */
typedef struct {
    void *sub;
    uint64_t base; /* daemon slot = seq - base - 1 */
    int64_t *daemon_at;
    size_t daemon_slots;
    int64_t *raw_at;
    size_t raw_slots;
    atomic_bool stop;
    atomic_ulong received;
} stamper_t;

static void *stamper_thread(void *arg)
{
    stamper_t *s = arg;
    int timeout = 50;
    zmq_setsockopt(s->sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    while (!atomic_load(&s->stop)) {
        zmq_msg_t topic, body;
        zmq_msg_init(&topic);
        if (zmq_msg_recv(&topic, s->sub, 0) < 0) {
            zmq_msg_close(&topic);
            continue;
        }
        int64_t t = hb_mono_us();
        bool raw = zmq_msg_size(&topic) >= 9 && memcmp(zmq_msg_data(&topic), "rawbench.", 9) == 0;
        bool more = zmq_msg_more(&topic);
        zmq_msg_close(&topic);
        if (!more)
            continue;
        zmq_msg_init(&body);
        zmq_msg_recv(&body, s->sub, 0);
        uint64_t key = 0;
        if (raw) {
            if (zmq_msg_size(&body) >= sizeof key)
                memcpy(&key, zmq_msg_data(&body), sizeof key);
        } else {
            Hallbus__Envelope *env = NULL;
            if (hb_envelope_decode(zmq_msg_data(&body), zmq_msg_size(&body), &env, NULL) ==
                HB_DECODE_OK) {
                if (env->event_case == HALLBUS__ENVELOPE__EVENT_TICKET_CALLED)
                    key = env->seq;
                hallbus__envelope__free_unpacked(env, NULL);
            }
        }
        while (zmq_msg_more(&body)) {
            zmq_msg_close(&body);
            zmq_msg_init(&body);
            zmq_msg_recv(&body, s->sub, 0);
        }
        zmq_msg_close(&body);
        if (raw && key >= 1 && key - 1 < s->raw_slots) {
            s->raw_at[key - 1] = t;
            atomic_fetch_add(&s->received, 1);
        } else if (!raw && key > s->base && key - s->base - 1 < s->daemon_slots) {
            s->daemon_at[key - s->base - 1] = t;
            atomic_fetch_add(&s->received, 1);
        }
    }
    return NULL;
}

typedef struct {
    int64_t *lat_us; /* sorted */
    size_t n;
    unsigned long calls, refused, lost, free_errors, warmup;
    double cpu_s; /* the daemon's, over the whole interleaved run */
} latency_t;

typedef struct {
    latency_t daemon, raw;
    int64_t max_send_lag_us;
    double elapsed_s;
    unsigned long raw_sync_errors;
    double raw_sync_ms; /* mean pwrite + fdatasync of the echo */
} latency_run_t;

static void print_latency_detail(const char *what, const latency_t *l)
{
    printf("  %s: %zu timed (%lu more sent in warm-up slices), refused %lu, no event %lu, "
           "no-shows refused %lu; p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f ms\n",
           what, l->n, l->warmup, l->refused, l->lost, l->free_errors,
           ms(bench_percentile_us(l->lat_us, l->n, 50)),
           ms(bench_percentile_us(l->lat_us, l->n, 90)),
           ms(bench_percentile_us(l->lat_us, l->n, 99)),
           ms(bench_percentile_us(l->lat_us, l->n, 99.9)), ms(l->n ? l->lat_us[l->n - 1] : 0));
}

static void drain(void *sock)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) >= 0)
        ;
    zmq_msg_close(&m);
}

/* Reads the daemon's replies that are waiting; with DEADLINE, waits for the
 * rest until then. Returns the replies read so far. */
static unsigned long read_daemon_replies(void *dealer, size_t nticks, uint64_t *seq_of,
                                         latency_t *d, unsigned long replies, unsigned long want,
                                         int64_t deadline)
{
    for (;;) {
        bool got;
        Hallbus__Reply *r = recv_reply(dealer, &got);
        if (!got) {
            if (deadline && replies < want && hb_mono_us() < deadline) {
                wait_readable(dealer, 100);
                continue;
            }
            return replies;
        }
        replies++;
        if (!r)
            continue;
        uint64_t id = r->request_id;
        if (id % 2 == 1 && (id - 1) / 2 < nticks) {
            if (r->code == OK)
                seq_of[(id - 1) / 2] = r->seq;
            else if (d->refused++ == 0)
                fprintf(stderr, "queue_bench: call_next refused: %s\n", r->message);
        } else if (r->code != OK && d->free_errors++ == 0) {
            fprintf(stderr, "queue_bench: no-show refused: %s\n", r->message);
        }
        hallbus__reply__free_unpacked(r, NULL);
    }
}

/* One paced stream at O->RATE ticks per second, 2 * O->SECONDS long, in
 * slices of SLICE_MS that go alternately to the daemon and to the raw echo.
 *
 * A daemon tick: window 1 + k % WINDOWS gets call_next (timed: send ->
 * ticket.called on the SUB), then mark-no-show (untimed) half a tick later
 * (at once with --free-same), which frees the window for its next turn. Both
 * travel on one DEALER, so the hall applies them in order.
 * A raw tick: one message to the echo (timed: send -> its event on the SUB). */
static int interleaved_latency(const opts_t *o, hb_fixture_t *fx, void *sub, latency_run_t *res)
{
    memset(res, 0, sizeof *res);
    size_t nticks = (size_t)(2.0 * o->rate * o->seconds);
    size_t per_slice = (size_t)o->rate * SLICE_MS / 1000;
    if (per_slice == 0)
        per_slice = 1;
    char path[400];
    snprintf(path, sizeof path, "%s/raw-fdatasync.dat", fx->dir);
    echo_t e = {.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    atomic_init(&e.stop, false);
    if (e.fd < 0)
        return -1;
    static const char zeros[RAW_FILE_BYTES];
    if (write(e.fd, zeros, sizeof zeros) != (ssize_t)sizeof zeros || fsync(e.fd) != 0) {
        fprintf(stderr, "queue_bench: cannot prepare %s: %s\n", path, strerror(errno));
        close(e.fd);
        return -1;
    }
    int linger = 0, hwm = 1000000;
    /* its own context, so its own I/O thread, as a separate daemon would have */
    void *echo_ctx = zmq_ctx_new();
    e.router = zmq_socket(echo_ctx, ZMQ_ROUTER);
    zmq_setsockopt(e.router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_bind(e.router, "tcp://127.0.0.1:*");
    char ep[64];
    size_t eplen = sizeof ep;
    zmq_getsockopt(e.router, ZMQ_LAST_ENDPOINT, ep, &eplen);
    e.pub = zmq_socket(echo_ctx, ZMQ_PUB);
    zmq_setsockopt(e.pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(e.pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    /* through the real hall-bus, as the daemon's events (with its key: the
     * bus admits only queue and counter keys as publishers) */
    hb_fixture_secure(fx, e.pub, "hall-bus", "hall-queue");
    zmq_connect(e.pub, fx->pub_ep);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "rawbench.", 9);
    void *raw_dealer = bench_dealer(fx->ctx, ep);
    void *dealer = bench_dealer(fx->ctx, fx->cmd_ep);
    pthread_t echo;
    pthread_create(&echo, NULL, echo_thread, &e);

    /* pings (tick 0) until one comes back through the bus: the raw
     * subscription has then reached the publisher */
    uint8_t payload[RAW_PAYLOAD];
    memset(payload, 'x', sizeof payload);
    bool live = false;
    for (int64_t deadline = hb_mono_us() + 10000000; !live && hb_mono_us() < deadline;) {
        uint64_t zero = 0;
        memcpy(payload, &zero, sizeof zero);
        zmq_send(raw_dealer, "", 0, ZMQ_SNDMORE);
        zmq_send(raw_dealer, payload, sizeof payload, 0);
        live = wait_readable(sub, 20) > 0;
    }
    sleep_until_us(hb_mono_us() + 50000);
    drain(sub);
    drain(raw_dealer);
    Hallbus__Reply *st = get_status(fx);
    if (!live || !st || !dealer || !raw_dealer) {
        fprintf(stderr, "queue_bench: the latency run could not start (%s)\n",
                !live ? "raw events never came back through hall-bus" : "no status");
        if (st)
            hallbus__reply__free_unpacked(st, NULL);
        atomic_store(&e.stop, true);
        pthread_join(echo, NULL);
        if (dealer)
            zmq_close(dealer);
        if (raw_dealer)
            zmq_close(raw_dealer);
        zmq_close(e.pub);
        zmq_close(e.router);
        zmq_ctx_term(echo_ctx);
        close(e.fd);
        unlink(path);
        return -1;
    }

    stamper_t s = {
        .sub = sub, .base = st->seq, .daemon_slots = 2 * nticks + 64, .raw_slots = nticks};
    hallbus__reply__free_unpacked(st, NULL);
    s.daemon_at = calloc(s.daemon_slots, sizeof *s.daemon_at);
    s.raw_at = calloc(s.raw_slots, sizeof *s.raw_at);
    atomic_init(&s.stop, false);
    atomic_init(&s.received, 0);
    int64_t *send_us = calloc(nticks, sizeof *send_us);
    uint64_t *seq_of = calloc(nticks, sizeof *seq_of);
    pthread_t th;
    pthread_create(&th, NULL, stamper_thread, &s);

    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__CallNext call = HALLBUS__CALL_NEXT__INIT;
    Hallbus__MarkNoShow noshow = HALLBUS__MARK_NO_SHOW__INIT;
    req.actor = "queue_bench";
    unsigned long replies = 0, daemon_ticks = 0, raw_ticks = 0;
    int64_t period = 1000000 / o->rate;
    int64_t t0 = hb_mono_us() + 50000;
    double cpu0 = proc_cpu_s(fx->queue);
    for (size_t i = 0; i < nticks; i++) {
        bool to_daemon = (i / per_slice) % 2 == 0;
        int64_t due = t0 + (int64_t)i * period;
        sleep_until_us(due);
        send_us[i] = hb_mono_us();
        if (send_us[i] - due > res->max_send_lag_us)
            res->max_send_lag_us = send_us[i] - due;
        if (to_daemon) {
            uint32_t window = 1 + (uint32_t)(daemon_ticks++ % o->windows);
            call.window = window;
            req.command_case = HALLBUS__REQUEST__COMMAND_CALL_NEXT;
            req.call_next = &call;
            req.request_id = 2 * i + 1;
            send_request(dealer, &req);
            if (!o->free_same)
                sleep_until_us(due + period / 2);
            noshow.window = window;
            req.command_case = HALLBUS__REQUEST__COMMAND_NO_SHOW;
            req.no_show = &noshow;
            req.request_id = 2 * i + 2;
            send_request(dealer, &req);
        } else {
            uint64_t key = i + 1;
            memcpy(payload, &key, sizeof key);
            raw_ticks++;
            zmq_send(raw_dealer, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(raw_dealer, payload, sizeof payload, ZMQ_DONTWAIT);
        }
        /* replies come back while we pace: read what is there, never wait */
        replies = read_daemon_replies(dealer, nticks, seq_of, &res->daemon, replies, 0, 0);
        drain(raw_dealer);
    }
    res->elapsed_s = (double)(hb_mono_us() - t0) / 1e6;
    replies = read_daemon_replies(dealer, nticks, seq_of, &res->daemon, replies, 2 * daemon_ticks,
                                  hb_mono_us() + 10000000);
    res->daemon.cpu_s = proc_cpu_s(fx->queue) - cpu0;
    unsigned long expected = raw_ticks + daemon_ticks - res->daemon.refused;
    for (int64_t deadline = hb_mono_us() + 3000000;
         atomic_load(&s.received) < expected && hb_mono_us() < deadline;)
        sleep_until_us(hb_mono_us() + 2000);
    atomic_store(&s.stop, true);
    atomic_store(&e.stop, true);
    pthread_join(th, NULL);
    pthread_join(echo, NULL);
    res->raw_sync_errors = e.sync_errors;
    res->raw_sync_ms = e.handled ? ms(e.sync_us) / (double)e.handled : 0;

    latency_t *d = &res->daemon, *r = &res->raw;
    d->lat_us = calloc(nticks, sizeof *d->lat_us);
    r->lat_us = calloc(nticks, sizeof *r->lat_us);
    for (size_t i = 0; i < nticks; i++) {
        size_t slice = i / per_slice;
        bool to_daemon = slice % 2 == 0;
        latency_t *l = to_daemon ? d : r;
        l->calls++;
        if (i < (size_t)o->rate * WARMUP_MS / 1000) {
            l->warmup++;
            continue;
        }
        int64_t arrived = 0;
        if (to_daemon) {
            if (!seq_of[i])
                continue; /* refused, or no reply: counted already */
            if (seq_of[i] > s.base && seq_of[i] - s.base - 1 < s.daemon_slots)
                arrived = s.daemon_at[seq_of[i] - s.base - 1];
        } else {
            arrived = s.raw_at[i];
        }
        if (!arrived) {
            l->lost++;
            continue;
        }
        l->lat_us[l->n++] = arrived - send_us[i];
    }
    bench_sort_us(d->lat_us, d->n);
    bench_sort_us(r->lat_us, r->n);
    free(send_us);
    free(seq_of);
    free(s.daemon_at);
    free(s.raw_at);
    zmq_close(dealer);
    zmq_close(raw_dealer);
    zmq_close(e.pub);
    zmq_close(e.router);
    zmq_ctx_term(echo_ctx);
    close(e.fd);
    unlink(path);
    return 0;
}

/* ── main ───────────────────────────────────────────────────────────────── */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: queue_bench [--tickets N] [--max-seconds S] [--inflight N] [--raw-seconds S]\n"
            "                   [--seconds S] [--rate R] [--windows N] [--free-same] [--no-probe]\n"
            "                   [--plain]\n"
            "  Starts hall-bus and hall-queue from $HALLBUS_BIN (default: this binary's\n"
            "  directory) in a temporary directory and prints each figure beside the raw\n"
            "  limit it is bounded by, measured in the same run.\n"
            "  --tickets N      throughput: tickets to issue (200000)\n"
            "  --max-seconds S  throughput: stop sending after S s (15)\n"
            "  --inflight N     throughput: requests kept outstanding (2000)\n"
            "  --raw-seconds S  raw SQLite: at most S s per batch size (5)\n"
            "  --seconds S      latency: seconds timed for each of daemon and raw (6)\n"
            "  --rate R         latency: calls per second (1000)\n"
            "  --windows N      latency: windows called in turn (10)\n"
            "  --free-same      latency: send each no-show right after its call, not half a\n"
            "                   period later\n"
            "  --no-probe       do not preload the sync probe into the daemons\n"
            "  --plain          security.curve: false, the raw reference without CURVE\n");
}

static int parse_opts(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){.tickets = 200000,
                  .max_seconds = 15,
                  .inflight = 2000,
                  .raw_seconds = 5,
                  .seconds = 6,
                  .rate = 1000,
                  .windows = 10,
                  .probe = true};
    static const struct option longopts[] = {
        {"tickets", required_argument, NULL, 't'},  {"max-seconds", required_argument, NULL, 'm'},
        {"inflight", required_argument, NULL, 'i'}, {"raw-seconds", required_argument, NULL, 'R'},
        {"seconds", required_argument, NULL, 's'},  {"rate", required_argument, NULL, 'r'},
        {"windows", required_argument, NULL, 'w'},  {"free-same", no_argument, NULL, 'f'},
        {"no-probe", no_argument, NULL, 'P'},       {"plain", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "t:s:r:h", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            o->tickets = strtoul(optarg, NULL, 10);
            break;
        case 'm':
            o->max_seconds = atof(optarg);
            break;
        case 'i':
            o->inflight = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'R':
            o->raw_seconds = atof(optarg);
            break;
        case 's':
            o->seconds = atof(optarg);
            break;
        case 'r':
            o->rate = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'w':
            o->windows = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'f':
            o->free_same = true;
            break;
        case 'P':
            o->probe = false;
            break;
        case 'p':
            o->plain = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc || o->tickets == 0 || o->max_seconds <= 0 || o->inflight == 0 ||
        o->raw_seconds <= 0 || o->seconds <= 0 || o->rate == 0 || o->rate > 100000 ||
        o->windows == 0 || o->windows > 500) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* $HALLBUS_BIN, or the directory this binary is in. */
static void locate_daemons(const char *argv0, char *bin_dir, size_t len)
{
    const char *env = getenv("HALLBUS_BIN");
    if (env && *env) {
        snprintf(bin_dir, len, "%s", env);
        return;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0)
        self[n] = '\0';
    else
        snprintf(self, sizeof self, "%s", argv0);
    snprintf(bin_dir, len, "%s", dirname(self));
    setenv("HALLBUS_BIN", bin_dir, 1);
}

static const char *verdict(bool met)
{
    return met ? "MET" : "MISSED";
}

int main(int argc, char **argv)
{
    opts_t o;
    if (parse_opts(argc, argv, &o) != 0)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char bin_dir[PATH_MAX];
    locate_daemons(argv[0], bin_dir, sizeof bin_dir);
    char daemon_path[PATH_MAX + 16];
    snprintf(daemon_path, sizeof daemon_path, "%s/hall-queue", bin_dir);
    if (access(daemon_path, X_OK) != 0) {
        fprintf(stderr, "queue_bench: no %s (set HALLBUS_BIN to the build's bin directory)\n",
                daemon_path);
        return 1;
    }
    print_machine("/tmp");
    printf("parameters: throughput %lu tickets (stop sending after %.0f s), %u in flight on one "
           "DEALER, spread over %d services without quota; raw SQLite at most %.0f s per batch "
           "size; latency %.0f s each for daemon and raw at %u calls/s, daemon calls over %u "
           "windows, each call followed by mark-no-show %s (untimed) => %u commands/s; daemons "
           "from %s\n",
           o.tickets, o.max_seconds, o.inflight, SERVICES, o.raw_seconds, o.seconds, o.rate,
           o.windows, o.free_same ? "at once" : "half a period later", 2 * o.rate, bin_dir);
    if (o.probe)
        probe_setup(bin_dir);
    unsigned long long cpu_total0, steal0;
    machine_cpu(&cpu_total0, &steal0);
    char *hall_yaml = bench_hall_yaml(o.windows);
    int status = 0;

    /* 1. throughput */
    throughput_t tp;
    if (run_throughput(&o, hall_yaml, &tp) != 0) {
        status = 1;
        goto out;
    }
    double tps = tp.take.elapsed_s > 0 ? (double)tp.take.ok / tp.take.elapsed_s : 0;
    char a[32], b[32], c[32];
    bool capped = tp.take.ok + tp.take.refused < o.tickets;
    printf("  daemon: %lu OK, %lu refused, %lu undecodable%s%s in %.2f s; status shows %lu issued "
           "(%s); daemon cpu %.2f s (%.0f%% of a core, %.1f us a ticket), bench cpu %.2f s\n",
           tp.take.ok, tp.take.refused, tp.take.undecodable,
           capped ? " (sending stopped at the --max-seconds cap)" : "",
           tp.take.timed_out ? " (gave up waiting for the rest)" : "", tp.take.elapsed_s,
           tp.status_issued, tp.status_issued == tp.take.ok ? "matches" : "DOES NOT MATCH",
           tp.daemon_cpu_s, 100 * tp.daemon_cpu_s / (tp.take.elapsed_s > 0 ? tp.take.elapsed_s : 1),
           tp.take.ok ? 1e6 * tp.daemon_cpu_s / (double)tp.take.ok : 0, tp.bench_cpu_s);
    if (tp.have_syncs)
        printf("  daemon commits: %llu fsync(s) on its loop thread => mean batch %.1f tickets; "
               "%.2f s waiting for them (%.0f%% of the run, %.2f ms each); checkpointer %llu "
               "fsync(s), %.2f s\n",
               (unsigned long long)tp.syncs.main_syncs, tp.mean_batch, tp.syncs.main_ns / 1e9,
               100 * tp.syncs.main_ns / 1e9 / (tp.take.elapsed_s > 0 ? tp.take.elapsed_s : 1),
               tp.syncs.main_syncs ? tp.syncs.main_ns / 1e6 / (double)tp.syncs.main_syncs : 0,
               (unsigned long long)tp.syncs.other_syncs, tp.syncs.other_ns / 1e9);
    printf("  daemon store at the end: database file %.1f MiB, WAL %.1f MiB\n",
           mib(tp.store.db_bytes), mib(tp.store.wal_bytes));

    char raw_path[PATH_MAX];
    char raw_dir[] = "/tmp/hallbus-bench-raw-XXXXXX";
    if (!mkdtemp(raw_dir)) {
        status = 1;
        goto out;
    }
    snprintf(raw_path, sizeof raw_path, "%s/raw.db", raw_dir);
    unsigned long raw_rows = tp.take.ok ? tp.take.ok : o.tickets;
    raw_sqlite_t raw_full, raw_mean = {0};
    int raw_rc = raw_sqlite(raw_path, raw_rows, DAEMON_BATCH_MAX, o.raw_seconds, &raw_full);
    unsigned mean_batch = tp.mean_batch >= 1 ? (unsigned)(tp.mean_batch + 0.5) : 0;
    if (raw_rc == 0 && mean_batch && mean_batch != DAEMON_BATCH_MAX)
        raw_rc = raw_sqlite(raw_path, raw_rows, mean_batch, o.raw_seconds, &raw_mean);
    rmdir(raw_dir);
    if (raw_rc != 0) {
        status = 1;
        goto out;
    }
    double raw_full_rps = raw_full.elapsed_s > 0 ? (double)raw_full.rows / raw_full.elapsed_s : 0;
    double raw_mean_rps = raw_mean.elapsed_s > 0 ? (double)raw_mean.rows / raw_mean.elapsed_s : 0;
    printf("  raw sqlite, batch %d: %lu ticket+event row pairs (event blob %zu bytes) in %.2f s, "
           "%lu commits of %.2f ms\n",
           DAEMON_BATCH_MAX, raw_full.rows, raw_full.blob_len, raw_full.elapsed_s, raw_full.commits,
           raw_full.commit_ms_mean);
    if (raw_mean.rows)
        printf("  raw sqlite, batch %u (the daemon's observed mean): %lu row pairs in %.2f s = %s "
               "rows/s, %lu commits of %.2f ms; daemon/raw at that batch %.2f\n",
               mean_batch, raw_mean.rows, raw_mean.elapsed_s,
               bench_thousands(raw_mean_rps, a, sizeof a), raw_mean.commits,
               raw_mean.commit_ms_mean, raw_mean_rps > 0 ? tps / raw_mean_rps : 0);
    double tratio = raw_full_rps > 0 ? tps / raw_full_rps : 0;
    char tickets_line[512];
    snprintf(tickets_line, sizeof tickets_line,
             "tickets: %lu in %.2f s = %s tickets/s | raw sqlite (batch %d): %s rows/s | ratio "
             "%.2f (target >= 0.30, >= 50,000/s: %s)",
             tp.take.ok, tp.take.elapsed_s, bench_thousands(tps, b, sizeof b), DAEMON_BATCH_MAX,
             bench_thousands(raw_full_rps, c, sizeof c), tratio,
             verdict(tratio >= 0.30 && tps >= 50000));
    printf("%s\n", tickets_line);

    /* 2. latency */
    hb_fixture_t fx;
    hb_fixture_opts_t fo = {.services_windows_yaml = hall_yaml, .plain = o.plain};
    bench_fx = &fx;
    if (hb_fixture_start(&fx, &fo) != 0) {
        fprintf(stderr, "queue_bench: cannot start the hall (see %s)\n", fx.dir);
        hb_fixture_stop(&fx);
        status = 1;
        goto out;
    }
    /* enough waiting tickets for every daemon tick, whichever slices they fall in */
    size_t ncalls = (size_t)((double)o.rate * o.seconds) + (size_t)o.rate * SLICE_MS / 1000;
    take_result_t prefill;
    take_tickets(fx.ctx, fx.cmd_ep, ncalls + 100, o.inflight, 60, &prefill);
    char staff[32];
    for (unsigned w = 1; w <= o.windows; w++) {
        snprintf(staff, sizeof staff, "bench-%u", w);
        if (hb_fx_window(&fx, "open", w, staff) != OK)
            fprintf(stderr, "queue_bench: could not open window %u\n", w);
    }
    void *sub = hb_fixture_subscribe(&fx, "hall.t1.ticket.called");
    /* let the checkpointer copy the prefill out of the WAL before the clock starts */
    sleep_until_us(hb_mono_us() + 1500000);
    hb_sync_counts_t s0, s1;
    bool have = probe_read(fx.queue, &s0);
    latency_run_t lr;
    int lrc = sub ? interleaved_latency(&o, &fx, sub, &lr) : -1;
    have = have && probe_read(fx.queue, &s1);
    store_size_t lstore = store_size(&fx);
    if (sub)
        zmq_close(sub);
    hb_fixture_stop(&fx);
    if (lrc != 0) {
        fprintf(stderr, "queue_bench: the latency run failed\n");
        status = 1;
        goto out;
    }
    latency_t *dl = &lr.daemon, *rl = &lr.raw;
    printf("  prefill: %lu tickets in %.2f s; paced stream %.2f s, %d ms slices alternating "
           "daemon / raw, sender woke late by %.2f ms at most\n",
           prefill.ok, prefill.elapsed_s, lr.elapsed_s, SLICE_MS, ms(lr.max_send_lag_us));
    print_latency_detail("daemon", dl);
    if (have) {
        unsigned long commits = (unsigned long)(s1.main_syncs - s0.main_syncs);
        printf("  daemon during the stream: %lu commits for %lu commands (%.2f commands/commit), "
               "fsync %.2f ms mean; cpu %.2f s (%.0f%% of a core over its slices); checkpointer "
               "%llu fsync(s)\n",
               commits, 2 * dl->calls, commits ? 2.0 * (double)dl->calls / (double)commits : 0,
               commits ? (double)(s1.main_ns - s0.main_ns) / 1e6 / (double)commits : 0, dl->cpu_s,
               100 * dl->cpu_s / (lr.elapsed_s > 0 ? lr.elapsed_s / 2 : 1),
               (unsigned long long)(s1.other_syncs - s0.other_syncs));
    }
    printf("  daemon store at the end: database file %.1f MiB, WAL %.1f MiB\n",
           mib(lstore.db_bytes), mib(lstore.wal_bytes));
    print_latency_detail("raw", rl);
    double raw_busy = lr.raw_sync_ms * o.rate / 10.0; /* percent of the time in fdatasync */
    printf("  raw: pwrite + fdatasync %.2f ms mean, so the echo is %.0f%% busy%s\n", lr.raw_sync_ms,
           raw_busy,
           raw_busy > 50 ? "; WARNING: with one fdatasync a call and no group commit the raw echo "
                           "queues at this load, so its tail is not a limit: the disk is too busy "
                           "in this run for the latency ratios to mean much"
                         : "");
    if (lr.raw_sync_errors)
        printf("  raw: %lu write/fdatasync errors\n", lr.raw_sync_errors);
    int64_t d50 = bench_percentile_us(dl->lat_us, dl->n, 50);
    int64_t d99 = bench_percentile_us(dl->lat_us, dl->n, 99);
    int64_t d999 = bench_percentile_us(dl->lat_us, dl->n, 99.9);
    int64_t dmax = dl->n ? dl->lat_us[dl->n - 1] : 0;
    int64_t r50 = bench_percentile_us(rl->lat_us, rl->n, 50);
    int64_t r99 = bench_percentile_us(rl->lat_us, rl->n, 99);
    bool lat_met = dl->n > 0 && d50 <= 1000 && d99 <= 2500 && dl->lost == 0 && dl->refused == 0;
    unsigned long long cpu_total1, steal1;
    machine_cpu(&cpu_total1, &steal1);
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    printf("machine during the run: cpu steal %.1f%%, load %.2f\n",
           cpu_total1 > cpu_total0
               ? 100.0 * (double)(steal1 - steal0) / (double)(cpu_total1 - cpu_total0)
               : 0.0,
           load[0]);
    printf("%s\n", tickets_line);
    printf("call->event latency @%u/s: p50 %.2f ms p99 %.2f ms p99.9 %.2f ms max %.2f ms | raw "
           "zmq+proxy+fdatasync: p50 %.2f ms p99 %.2f ms | ratio p50 %.1fx p99 %.1fx (target p50 "
           "<= 1 ms, p99 <= 2.5 ms: %s)\n",
           o.rate, ms(d50), ms(d99), ms(d999), ms(dmax), ms(r50), ms(r99),
           r50 ? (double)d50 / (double)r50 : 0, r99 ? (double)d99 / (double)r99 : 0,
           verdict(lat_met));
    free(dl->lat_us);
    free(rl->lat_us);
out:
    free(hall_yaml);
    probe_cleanup();
    return status;
}
