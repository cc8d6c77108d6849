/* notifier_bench: hall-notifier's deliveries beside a plain libcurl loop.
 *
 * Everything runs on loopback against the same tiny HTTP receiver
 * (tests/notifier/receiver.c), in the same run, so the ratio means more
 * than the absolute numbers on a shared, noisy machine.
 *
 * 1. Throughput: N tickets with a webhook contact are taken while the
 *    notifier is stopped; the notifier then starts, rebuilds the waiting
 *    lines from a snapshot and owes each ticket an "N ahead" message. Timed
 *    from its start to the last delivery: durable outbox (WAL,
 *    synchronous=FULL, group commit), ResolveContact at hall-queue for each
 *    message, rate limiter, HMAC signature, POST through curl multi.
 *    Baseline: one libcurl easy handle POSTing the same number of bodies of
 *    the same size in a loop (keep-alive), nothing else.
 * 2. Lag: with the notifier running, tickets are taken one at a time at a
 *    steady pace; each is owed a message at once; the lag is from the
 *    event's timestamp (hall-queue's clock) to the receiver's arrival time.
 *
 * Run: HALLBUS_BIN=build/bin build/bin/notifier_bench [N] [LAG_SAMPLES] */
#include <curl/curl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_stats.h"
#include "fixture.h"
#include "hallbus/clock.h"
#include "receiver.h"

static hb_fixture_t fx;
static rx_t rx;

static void fail(const char *what)
{
    fprintf(stderr, "notifier_bench: %s\n", what);
    exit(1);
}

static bool delivered(void *arg)
{
    return rx_delivered(&rx, NULL) >= (int)(intptr_t)arg;
}

static bool in_step(void *arg)
{
    char path[400];
    snprintf(path, sizeof path, "%s/hall-notifier.log", fx.dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, "in step with hall") != NULL;
}

/* N take_ticket requests pipelined through one DEALER. */
static void take_many(int n, const char *contact)
{
    void *d = zmq_socket(fx.ctx, ZMQ_DEALER);
    int linger = 0, hwm = 0;
    zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(d, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(d, ZMQ_RCVHWM, &hwm, sizeof hwm);
    hb_fixture_secure(&fx, d, "hall-queue", NULL);
    zmq_connect(d, fx.cmd_ep);
    for (int i = 0; i < n; i++) {
        Hallbus__Request req = HALLBUS__REQUEST__INIT;
        Hallbus__TakeTicket t = HALLBUS__TAKE_TICKET__INIT;
        t.service = "A";
        t.contact = (char *)contact;
        req.request_id = (uint64_t)i + 1;
        req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
        req.take_ticket = &t;
        uint8_t buf[512];
        size_t len = hallbus__request__pack(&req, buf);
        zmq_send(d, "", 0, ZMQ_SNDMORE);
        zmq_send(d, buf, len, 0);
    }
    for (int i = 0; i < n; i++) {
        char buf[2048];
        zmq_recv(d, buf, sizeof buf, 0);
        zmq_recv(d, buf, sizeof buf, 0);
    }
    zmq_close(d);
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    return s * n;
}

static double curl_loop(int n, const char *url, size_t body_len)
{
    char *body = malloc(body_len + 1);
    memset(body, 'x', body_len);
    body[body_len] = '\0';
    CURL *e = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    int64_t t0 = hb_mono_us();
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += curl_easy_perform(e) == CURLE_OK;
    double s = (double)(hb_mono_us() - t0) / 1e6;
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    free(body);
    if (ok != n)
        fail("the plain curl loop had errors");
    return n / s;
}

static int64_t body_i64(const char *body, const char *name)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", name);
    const char *p = strstr(body, pat);
    return p ? atoll(p + strlen(pat)) : 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    int lag_n = argc > 2 ? atoi(argv[2]) : 400;
    if (n < 1 || lag_n < 1 || n + lag_n > RX_MAX)
        fail("usage: notifier_bench [N] [LAG_SAMPLES]   (N + LAG_SAMPLES <= 4096)");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rx_start(&rx, 0) != 0)
        fail("no receiver");
    char extra[1024], hook[128];
    snprintf(extra, sizeof extra,
             "notifier:\n  db: \"/tmp/hallbus-notifier-bench-%d.db\"\n  near_ahead: 100000\n"
             "  query: \"ipc:///tmp/hallbus-notifier-bench-%d.query\"\n"
             "  scan_ms: 20\n"
             "  webhook: {allow: \"http://127.0.0.1:%d/\", secret: \"bench-secret-0123456789\","
             " rate: 100000, burst: 100000}\n",
             (int)getpid(), (int)getpid(), rx.port);
    snprintf(hook, sizeof hook, "http://127.0.0.1:%d/hook", rx.port);
    hb_fixture_opts_t opts = {.queue_yaml = "  contact_secret: \"contact-secret-0123456789\"\n",
                              .extra_yaml = extra,
                              .services_windows_yaml =
                                  "services:\n  - {prefix: A, name: General}\n"
                                  "windows:\n  - {number: 1, services: [A]}\n"};
    if (hb_fixture_start(&fx, &opts) != 0)
        fail("the hall did not start");

    /* 1. throughput, between two runs of the baseline (the machine is shared:
     * the two show how much it moved meanwhile) */
    take_many(n, hook);
    char baseline[128];
    snprintf(baseline, sizeof baseline, "http://127.0.0.1:%d/baseline", rx.port);
    double curl_before = curl_loop(n, baseline, 673);
    const char *level = getenv("NOTIFIER_BENCH_LOG"); /* e.g. debug, to see where time goes */
    const char *args[] = {"-c", fx.config, "--log-level", level ? level : "warn", NULL};
    int64_t t0 = hb_mono_us();
    pid_t notifier = hb_fixture_spawn(&fx, "hall-notifier", args);
    if (!hb_wait_until(delivered, (void *)(intptr_t)n, 120000))
        fail("not every message arrived");
    double seconds = (double)(hb_mono_us() - t0) / 1e6;
    int distinct;
    if (rx_delivered(&rx, &distinct) != n || distinct != n)
        fail("some message arrived twice");
    double rate = n / seconds;
    size_t body_len = strlen(rx.req[0].body);
    /* steady state: first delivery to last, without the start-up */
    double steady = (n - 1) / ((double)(rx.req[n - 1].at_us - rx.req[0].at_us) / 1e6 + 1e-9);
    double curl_after = curl_loop(n, baseline, body_len);

    /* 2. lag, notifier running */
    int64_t *lags = calloc((size_t)lag_n, sizeof *lags);
    int base = rx_seen(&rx);
    for (int i = 0; i < lag_n; i++) {
        take_many(1, hook);
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    if (!hb_wait_until(delivered, (void *)(intptr_t)(n + lag_n), 60000))
        fail("not every paced message arrived");
    int got = 0;
    for (int i = base; i < rx.count && got < lag_n; i++)
        lags[got++] = rx.req[i].at_us - body_i64(rx.req[i].body, "event_ts");
    bench_sort_us(lags, (size_t)got);

    double curl_rate = (curl_before + curl_after) / 2;

    int status = hb_fixture_kill(&notifier, SIGTERM);
    char a[32], b[32];
    printf("hall-notifier benchmark (loopback receiver, %d messages, body %zu bytes)\n", n,
           body_len);
    printf("  delivered/s, notifier (outbox+resolve+sign+curl multi): %s  (%.2f s, from start)\n",
           bench_thousands(rate, a, sizeof a), seconds);
    char c1[32], c2[32], c3[32];
    printf("  ... first delivery to last (steady state):              %s  (ratio %.2f)\n",
           bench_thousands(steady, c3, sizeof c3), steady / curl_rate);
    printf("  plain libcurl POST loop (one easy handle, keep-alive):  %s  (%s before, %s after)\n",
           bench_thousands(curl_rate, b, sizeof b), bench_thousands(curl_before, c1, sizeof c1),
           bench_thousands(curl_after, c2, sizeof c2));
    printf("  ratio notifier / plain curl:                            %.2f\n", rate / curl_rate);
    printf("  event -> delivery lag, %d paced messages: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
           got, bench_percentile_us(lags, (size_t)got, 50) / 1000.0,
           bench_percentile_us(lags, (size_t)got, 99) / 1000.0, got ? lags[got - 1] / 1000.0 : 0.0);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        printf("  (hall-notifier did not exit cleanly: see %s/hall-notifier.log)\n", fx.dir);
    free(lags);
    hb_fixture_stop(&fx);
    rx_free(&rx);
    curl_global_cleanup();
    char db[128];
    snprintf(db, sizeof db, "rm -f /tmp/hallbus-notifier-bench-%d.db*", (int)getpid());
    if (system(db) != 0)
        fprintf(stderr, "could not remove the bench outbox\n");
    (void)in_step;
    return 0;
}
