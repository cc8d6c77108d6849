/* display_bench: hall-display's fan-out to browsers.
 *
 * N browser-like subscribers (HTTP clients reading /events, Server-Sent
 * Events) on one real hall-display, behind real hall-bus and hall-queue.
 * For each of K calls (CallNext sent over the wire, as hallctl call does),
 * the time from sending the call to the view that shows it arriving at
 * each subscriber; beside it, in the same run, the same call's time to a
 * raw ZeroMQ SUB socket on hall-bus (the floor the display stands on).
 * Memory per connected browser: hall-display's RSS growth / N.
 *
 * Run: HALLBUS_BIN=build/bin build/bin/display_bench [--subscribers 100,1000] [--calls 100]
 * Not a ctest: its numbers are for people. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "../bench_stats.h"
#include "fixture.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"

#define OK HALLBUS__STATUS_CODE__OK
#define TAIL 96
#define DEADLINE_US 10000000

typedef struct {
    int fd;
    bool got;     /* the current call's view arrived */
    bool started; /* the first view arrived */
    char tail[TAIL + 1];
    size_t ntail;
} client_t;

static hb_fixture_t fx;
static int http_port;

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static int connect_client(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)http_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads what FD has; true if PATTERN went by (searched across reads). */
static bool feed(client_t *c, const char *pattern, bool *closed)
{
    char buf[65536 + TAIL];
    bool seen = false;
    for (;;) {
        memcpy(buf, c->tail, c->ntail);
        ssize_t n = read(c->fd, buf + c->ntail, sizeof buf - c->ntail - 1);
        if (n == 0) {
            *closed = true;
            return seen;
        }
        if (n < 0)
            return seen;
        size_t len = c->ntail + (size_t)n;
        buf[len] = '\0';
        if (memmem(buf, len, "event: view", 11))
            c->started = true;
        if (pattern && memmem(buf, len, pattern, strlen(pattern)))
            seen = true;
        c->ntail = len < TAIL ? len : TAIL;
        memcpy(c->tail, buf + len - c->ntail, c->ntail);
    }
}

typedef struct {
    int64_t *all; /* every delivery */
    size_t nall;
    int64_t *last; /* per call: the last subscriber's */
    int64_t *zmq;  /* per call: the raw SUB's */
    size_t ncalls;
} results_t;

static void drain(int ep, client_t *clients, int64_t until)
{
    struct epoll_event evs[256];
    while (hb_mono_us() < until) {
        int n = epoll_wait(ep, evs, 256, 5);
        for (int i = 0; i < n; i++) {
            bool closed = false;
            feed(&clients[evs[i].data.u32], NULL, &closed);
        }
    }
}

static int run(int nsub, int ncalls, results_t *r)
{
    char extra[200];
    http_port = hb_free_port();
    snprintf(
        extra, sizeof extra,
        "display:\n  http: \"127.0.0.1:%d\"\n  max_clients: 100000\n  max_per_client: 100000\n",
        http_port);
    hb_fixture_opts_t opts = {.extra_yaml = extra,
                              .services_windows_yaml =
                                  "services:\n  - {prefix: A, name: General}\n"
                                  "windows:\n  - {number: 1, services: [A]}\n"};
    if (hb_fixture_start(&fx, &opts) != 0)
        return -1;
    const char *args[] = {"-c", fx.config, "--log-level", "warn", NULL};
    pid_t display = hb_fixture_spawn(&fx, "hall-display", args);
    /* the display answers, synced */
    char url_probe[64];
    snprintf(url_probe, sizeof url_probe, "127.0.0.1:%d", http_port);
    int64_t deadline = hb_mono_us() + DEADLINE_US;
    for (;;) {
        int fd = connect_client();
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
        char req[] = "GET /api/state HTTP/1.1\r\nHost: b\r\n\r\n", buf[8192];
        ssize_t w = write(fd, req, sizeof req - 1);
        nanosleep(&ts, NULL);
        ssize_t n = w > 0 ? read(fd, buf, sizeof buf - 1) : -1;
        close(fd);
        if (n > 0) {
            buf[n] = '\0';
            if (strstr(buf, "\"synced\":true"))
                break;
        }
        if (hb_mono_us() > deadline) {
            fprintf(stderr, "display_bench: hall-display did not sync\n");
            return -1;
        }
    }
    if (hb_fx_window(&fx, "open", 1, "bench") != OK)
        return -1;
    for (int i = 0; i < ncalls; i++)
        if (hb_fx_take(&fx, "A", false, NULL) != OK)
            return -1;

    struct timespec settle = {0, 300000000};
    nanosleep(&settle, NULL);
    long rss0 = rss_kb(display);

    int ep = epoll_create1(0);
    client_t *clients = calloc((size_t)nsub, sizeof *clients);
    const char get[] = "GET /events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n";
    int started = 0;
    for (int i = 0; i < nsub; i++) {
        clients[i].fd = connect_client();
        if (clients[i].fd < 0) {
            fprintf(stderr, "display_bench: connect: %s\n", strerror(errno));
            return -1;
        }
        struct epoll_event e = {.events = EPOLLIN | EPOLLET, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, clients[i].fd, &e);
    }
    /* connected (loopback: at once); send the requests, all at once */
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    for (int i = 0; i < nsub; i++)
        if (write(clients[i].fd, get, sizeof get - 1) != (ssize_t)(sizeof get - 1)) {
            fprintf(stderr, "display_bench: request not sent\n");
            return -1;
        }
    int64_t t_connect = hb_mono_us();
    deadline = hb_mono_us() + DEADLINE_US;
    struct epoll_event evs[256];
    while (started < nsub && hb_mono_us() < deadline) {
        int n = epoll_wait(ep, evs, 256, 50);
        for (int i = 0; i < n; i++) {
            client_t *c = &clients[evs[i].data.u32];
            bool was = c->started, closed = false;
            feed(c, NULL, &closed);
            started += !was && c->started;
        }
    }
    int64_t connect_us = hb_mono_us() - t_connect;
    if (started < nsub) {
        fprintf(stderr, "display_bench: only %d of %d subscribers got a view\n", started, nsub);
        return -1;
    }
    nanosleep(&settle, NULL);
    long rss1 = rss_kb(display);

    void *sub = hb_fixture_subscribe(&fx, "hall.t1.ticket.called");
    r->all = calloc((size_t)nsub * (size_t)ncalls, sizeof *r->all);
    r->last = calloc((size_t)ncalls, sizeof *r->last);
    r->zmq = calloc((size_t)ncalls, sizeof *r->zmq);
    r->nall = r->ncalls = 0;
    for (int k = 0; k < ncalls; k++) {
        if (k > 0) {
            hb_fx_act(&fx, "start", 1, NULL);
            hb_fx_finish(&fx, 1);
            drain(ep, clients, hb_mono_us() + 30000); /* their views go by */
        }
        for (int i = 0; i < nsub; i++)
            clients[i].got = false;
        /* the call, as hallctl call sends it */
        Hallbus__Request req = HALLBUS__REQUEST__INIT;
        Hallbus__CallNext cn = HALLBUS__CALL_NEXT__INIT;
        cn.window = 1;
        req.command_case = HALLBUS__REQUEST__COMMAND_CALL_NEXT;
        req.call_next = &cn;
        int64_t t0 = hb_mono_us();
        Hallbus__Reply *rep = hb_fixture_call(&fx, &req);
        if (!rep || rep->code != OK || !rep->ticket) {
            fprintf(stderr, "display_bench: call refused\n");
            return -1;
        }
        char pattern[64];
        snprintf(pattern, sizeof pattern, "\"calls\":[{\"number\":\"%s\"", rep->ticket->number);
        hallbus__reply__free_unpacked(rep, NULL);
        int got = 0;
        int64_t zmq_at = 0, last_at = 0;
        deadline = hb_mono_us() + DEADLINE_US;
        while ((got < nsub || !zmq_at) && hb_mono_us() < deadline) {
            zmq_pollitem_t items[2] = {{sub, 0, ZMQ_POLLIN, 0}, {NULL, ep, ZMQ_POLLIN, 0}};
            zmq_poll(items, 2, 10);
            if (!zmq_at && (items[0].revents & ZMQ_POLLIN)) {
                Hallbus__Envelope *e = hb_fixture_next_event(sub, 0, false);
                if (e) {
                    zmq_at = hb_mono_us();
                    hallbus__envelope__free_unpacked(e, NULL);
                }
            }
            int n = epoll_wait(ep, evs, 256, 0);
            for (int i = 0; i < n; i++) {
                client_t *c = &clients[evs[i].data.u32];
                bool closed = false;
                if (feed(c, pattern, &closed) && !c->got) {
                    int64_t now = hb_mono_us();
                    c->got = true;
                    got++;
                    r->all[r->nall++] = now - t0;
                    last_at = now;
                }
                if (closed) {
                    fprintf(stderr, "display_bench: a subscriber was disconnected\n");
                    return -1;
                }
            }
        }
        if (got < nsub || !zmq_at) {
            fprintf(stderr, "display_bench: call %d reached %d of %d subscribers\n", k, got, nsub);
            return -1;
        }
        r->last[r->ncalls] = last_at - t0;
        r->zmq[r->ncalls++] = zmq_at - t0;
    }
    /* SUB is the fixture's: hb_fixture_stop closes it */

    bench_sort_us(r->all, r->nall);
    bench_sort_us(r->last, r->ncalls);
    bench_sort_us(r->zmq, r->ncalls);
    printf("%6d  %5.1f ms | %7.2f %7.2f | %7.2f %7.2f | %7.2f %7.2f | %6.1f KiB\n", nsub,
           connect_us / 1000.0, bench_percentile_us(r->all, r->nall, 50) / 1000.0,
           bench_percentile_us(r->all, r->nall, 99) / 1000.0,
           bench_percentile_us(r->last, r->ncalls, 50) / 1000.0,
           bench_percentile_us(r->last, r->ncalls, 99) / 1000.0,
           bench_percentile_us(r->zmq, r->ncalls, 50) / 1000.0,
           bench_percentile_us(r->zmq, r->ncalls, 99) / 1000.0, (double)(rss1 - rss0) / nsub);
    fflush(stdout);
    for (int i = 0; i < nsub; i++)
        close(clients[i].fd);
    free(clients);
    close(ep);
    free(r->all);
    free(r->last);
    free(r->zmq);
    int status = hb_fixture_kill(&display, SIGTERM);
    int rc = hb_fixture_stop(&fx);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "display_bench: hall-display did not stop cleanly\n");
        rc = -1;
    }
    return rc;
}

int main(int argc, char **argv)
{
    char sizes[128] = "100,1000";
    int ncalls = 100;
    static const struct option opts[] = {{"subscribers", required_argument, NULL, 's'},
                                         {"calls", required_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "s:k:h", opts, NULL)) != -1) {
        if (c == 's')
            snprintf(sizes, sizeof sizes, "%s", optarg);
        else if (c == 'k')
            ncalls = atoi(optarg);
        else {
            printf("usage: HALLBUS_BIN=build/bin display_bench [--subscribers 100,1000] "
                   "[--calls 100]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!getenv("HALLBUS_BIN")) {
        fprintf(stderr, "display_bench: set HALLBUS_BIN to the build's bin directory\n");
        return 2;
    }
    /* a thousand browsers are a thousand descriptors, here and in the daemon
     * (which inherits the limit) */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    signal(SIGPIPE, SIG_IGN);

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("display_bench: one hall-display, N SSE subscribers, %d calls each; loopback, %ld "
           "core(s), fd limit %llu\n",
           ncalls, cores, (unsigned long long)rl.rlim_cur);
    printf("  times from sending CallNext to the view showing it (ms)\n");
    printf("     N  all views | every delivery  | last subscriber | raw ZeroMQ SUB  | memory\n");
    printf(
        "        connected | median     p99  | median     p99  | median     p99  | per browser\n");
    int rc = 0;
    for (char *tok = strtok(sizes, ","); tok && rc == 0; tok = strtok(NULL, ",")) {
        results_t r;
        rc = run(atoi(tok), ncalls, &r);
    }
    return rc == 0 ? 0 : 1;
}
