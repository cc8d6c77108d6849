/* hall-traffic: a day at the hall, speeded up. Citizens arrive and take
 * tickets (some green-channel), staff open windows and call, recall, mark
 * no-shows, transfer, serve and finish with every kind of result, and
 * citizens rate the service. It speaks only the documented wire protocol,
 * like any kiosk or window terminal would. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hallbus/daemon.h"
#include "hallbus/clock.h"
#include "hallbus/config.h"
#include "hallbus/log.h"
#include "hallbus/rpc_client.h"

typedef enum { W_IDLE, W_CALLED, W_SERVING } wstate_t;

typedef struct {
    uint32_t number;
    wstate_t state;
    int64_t until; /* when the current step ends (monotonic µs) */
    int recalls;
    bool no_show;
} sim_window_t;

typedef struct {
    hb_config_t *config;
    hb_rpc_t *rpc;
    double rate_per_min;
    double service_s;
    unsigned long taken, served, refused;
} sim_t;

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    stopping = 1;
}

static double uniform(void)
{
    return (double)rand() / ((double)RAND_MAX + 1.0);
}

static Hallbus__Reply *call(sim_t *s, Hallbus__Request *req)
{
    char err[160];
    req->actor = "hall-traffic";
    Hallbus__Reply *r = hb_rpc_call(s->rpc, req, err, sizeof err);
    if (!r)
        hb_warn("%s", err);
    return r;
}

/* Sends REQ; returns its status code, or -1 without a reply. */
static int send_cmd(sim_t *s, Hallbus__Request *req)
{
    Hallbus__Reply *r = call(s, req);
    if (!r)
        return -1;
    int code = r->code;
    if (code != HALLBUS__STATUS_CODE__OK && code != HALLBUS__STATUS_CODE__REFUSED)
        hb_info("%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);
    return code;
}

static void take_ticket(sim_t *s)
{
    const hb_service_conf_t *svc = &s->config->services[rand() % s->config->services_count];
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__TakeTicket t = HALLBUS__TAKE_TICKET__INIT;
    t.service = svc->prefix;
    if (uniform() < 0.05) {
        t.priority = HALLBUS__PRIORITY__GREEN;
        t.green_reason = 1 + rand() % 5;
    }
    t.channel = uniform() < 0.2 ? "online" : "kiosk";
    /* where the hall has a command channel (the demo's), one citizen in ten
     * leaves a contact, so the notifier has someone to tell */
    char contact[32];
    if (s->config->notifier.command.enabled && uniform() < 0.1) {
        snprintf(contact, sizeof contact, "citizen-%lu@demo", s->taken + 1);
        t.contact = contact;
    }
    req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
    req.take_ticket = &t;
    int code = send_cmd(s, &req);
    if (code == HALLBUS__STATUS_CODE__OK)
        s->taken++;
    else if (code == HALLBUS__STATUS_CODE__REFUSED)
        s->refused++;
}

static int window_cmd(sim_t *s, sim_window_t *w, Hallbus__Request__CommandCase which)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__CallNext cn = HALLBUS__CALL_NEXT__INIT;
    Hallbus__Recall rc = HALLBUS__RECALL__INIT;
    Hallbus__MarkNoShow ns = HALLBUS__MARK_NO_SHOW__INIT;
    Hallbus__StartService st = HALLBUS__START_SERVICE__INIT;
    cn.window = rc.window = ns.window = st.window = w->number;
    req.command_case = which;
    req.call_next = &cn; /* the union member matching WHICH is set below */
    if (which == HALLBUS__REQUEST__COMMAND_RECALL)
        req.recall = &rc;
    else if (which == HALLBUS__REQUEST__COMMAND_NO_SHOW)
        req.no_show = &ns;
    else if (which == HALLBUS__REQUEST__COMMAND_START_SERVICE)
        req.start_service = &st;
    return send_cmd(s, &req);
}

static void finish(sim_t *s, sim_window_t *w)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    double roll = uniform();
    if (roll < 0.02) {
        /* the citizen is at the wrong counter: 转办 */
        Hallbus__Transfer tr = HALLBUS__TRANSFER__INIT;
        tr.window = w->number;
        tr.to_service = s->config->services[rand() % s->config->services_count].prefix;
        tr.reason = "belongs to another service";
        req.command_case = HALLBUS__REQUEST__COMMAND_TRANSFER;
        req.transfer = &tr;
        if (send_cmd(s, &req) == HALLBUS__STATUS_CODE__OK)
            return;
    }
    Hallbus__FinishService f = HALLBUS__FINISH_SERVICE__INIT;
    f.window = w->number;
    char *missing[] = {"身份证原件 Original ID card", "户口簿 Household register"};
    char promised[HB_DATE_LEN];
    if (roll < 0.85) {
        f.result = HALLBUS__RESULT__COMPLETED;
    } else if (roll < 0.92) {
        f.result = HALLBUS__RESULT__ACCEPTED;
        hb_business_date(hb_now_us() + 7LL * 86400 * 1000000, 0, promised);
        f.promised_date = promised;
    } else if (roll < 0.97) {
        f.result = HALLBUS__RESULT__MATERIALS_MISSING;
        f.n_missing_materials = 1 + (size_t)(rand() % 2);
        f.missing_materials = missing;
    } else {
        f.result = HALLBUS__RESULT__REJECTED;
        f.reason = "不符合受理条件 Not eligible";
    }
    req.command_case = HALLBUS__REQUEST__COMMAND_FINISH_SERVICE;
    req.finish_service = &f;
    Hallbus__Reply *r = call(s, &req);
    if (!r)
        return;
    if (r->code == HALLBUS__STATUS_CODE__OK && r->result_case == HALLBUS__REPLY__RESULT_TICKET) {
        s->served++;
        if (uniform() < 0.7) {
            Hallbus__Request ev = HALLBUS__REQUEST__INIT;
            Hallbus__Evaluate e = HALLBUS__EVALUATE__INIT;
            e.number = r->ticket->number;
            double q = uniform();
            e.rating = q < 0.6 ? 1 : q < 0.85 ? 2 : q < 0.96 ? 3 : 4;
            ev.command_case = HALLBUS__REQUEST__COMMAND_EVALUATE;
            ev.evaluate = &e;
            send_cmd(s, &ev);
        }
    }
    hallbus__reply__free_unpacked(r, NULL);
}

static int64_t seconds(double s)
{
    return (int64_t)(s * 1e6);
}

static void step_window(sim_t *s, sim_window_t *w, int64_t now)
{
    if (now < w->until)
        return;
    switch (w->state) {
    case W_IDLE:
        if (window_cmd(s, w, HALLBUS__REQUEST__COMMAND_CALL_NEXT) == HALLBUS__STATUS_CODE__OK) {
            w->state = W_CALLED;
            w->recalls = 0;
            w->no_show = uniform() < 0.05;
            w->until = now + seconds(1 + uniform() * 2); /* walking to the window */
        } else {
            w->until = now + seconds(0.5);
        }
        break;
    case W_CALLED:
        if (w->no_show) {
            if (w->recalls < 2) {
                window_cmd(s, w, HALLBUS__REQUEST__COMMAND_RECALL);
                w->recalls++;
                w->until = now + seconds(1.5);
            } else {
                window_cmd(s, w, HALLBUS__REQUEST__COMMAND_NO_SHOW);
                w->state = W_IDLE;
            }
            break;
        }
        window_cmd(s, w, HALLBUS__REQUEST__COMMAND_START_SERVICE);
        w->state = W_SERVING;
        /* service times vary a lot: exponential around the mean */
        w->until = now + seconds(s->service_s * (0.3 + 1.4 * uniform()));
        break;
    case W_SERVING:
        finish(s, w);
        w->state = W_IDLE;
        w->until = now + seconds(0.3);
        break;
    }
}

static void open_windows(sim_t *s, sim_window_t *ws, unsigned n)
{
    static const char *staff[] = {"zhang.wei", "wang.fang", "li.na",    "liu.yang",
                                  "chen.jie",  "yang.min",  "zhao.lei", "huang.li",
                                  "zhou.tao",  "wu.hui",    "xu.jing",  "sun.hao"};
    for (unsigned i = 0; i < n; i++) {
        Hallbus__Request req = HALLBUS__REQUEST__INIT;
        Hallbus__OpenWindow o = HALLBUS__OPEN_WINDOW__INIT;
        o.window = ws[i].number;
        o.staff = (char *)staff[i % 12];
        req.command_case = HALLBUS__REQUEST__COMMAND_OPEN_WINDOW;
        req.open_window = &o;
        send_cmd(s, &req); /* already open after a restart: fine */
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hall-traffic -c HALL.yaml [--rate TICKETS_PER_MIN] [--service-time SECONDS]\n"
            "                    [--windows N] [--duration SECONDS] [--seed N]\n"
            "  Takes tickets at the given rate and works N windows (default: all) until\n"
            "  stopped or the duration ends.\n");
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    sim_t s = {.rate_per_min = 30, .service_s = 20};
    unsigned nwindows = 0;
    double duration = 0;
    unsigned seed = (unsigned)time(NULL);
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"rate", required_argument, NULL, 'r'},
                                         {"service-time", required_argument, NULL, 's'},
                                         {"windows", required_argument, NULL, 'w'},
                                         {"duration", required_argument, NULL, 'd'},
                                         {"seed", required_argument, NULL, 'S'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'r':
            s.rate_per_min = atof(optarg);
            break;
        case 's':
            s.service_s = atof(optarg);
            break;
        case 'w':
            nwindows = (unsigned)atoi(optarg);
            break;
        case 'd':
            duration = atof(optarg);
            break;
        case 'S':
            seed = (unsigned)atoi(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("hall-traffic %s\n", hb_version());
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    hb_log_init("hall-traffic", HB_LOG_INFO);
    if (!config_path || s.rate_per_min <= 0 || s.service_s <= 0) {
        usage(stderr);
        return 2;
    }
    char err[HB_CONFIG_ERR_MAX];
    s.config = hb_config_load(config_path, err);
    if (!s.config) {
        hb_error("%s", err);
        return 2;
    }
    srand(seed);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    /* it plays kiosks and windows at once: hallctl's key (an operator's),
     * or the one $HALLBUS_KEY names */
    const char *key = getenv("HALLBUS_KEY");
    char kerr[HB_KEYS_ERR_MAX];
    hb_security_t *security =
        hb_security_start(NULL, &s.config->security, key && *key ? key : "hallctl", false, kerr);
    if (!security) {
        hb_error("%s", kerr);
        hb_config_destroy(&s.config);
        return 2;
    }
    s.rpc = hb_rpc_new_secure(NULL, s.config->endpoints.command, 3000, security, "hall-queue");
    hb_security_stop(&security); /* the socket keeps its keys */

    if (nwindows == 0 || nwindows > s.config->windows_count)
        nwindows = s.config->windows_count;
    sim_window_t *ws = calloc(nwindows, sizeof *ws);
    for (unsigned i = 0; i < nwindows; i++)
        ws[i].number = s.config->windows[i].number;
    open_windows(&s, ws, nwindows);
    hb_info("working %u windows at %.0f tickets/min, %.0f s per service", nwindows, s.rate_per_min,
            s.service_s);

    int64_t start = hb_mono_us(), next_arrival = start, next_report = start + 10000000;
    while (!stopping && (duration <= 0 || hb_mono_us() - start < seconds(duration))) {
        int64_t now = hb_mono_us();
        while (next_arrival <= now) {
            take_ticket(&s);
            /* arrivals are a Poisson process: exponential gaps */
            double gap = -60.0 / s.rate_per_min * log1p(-uniform());
            next_arrival += seconds(gap);
        }
        for (unsigned i = 0; i < nwindows; i++)
            step_window(&s, &ws[i], now);
        if (now >= next_report) {
            hb_info("taken %lu, served %lu, refused %lu", s.taken, s.served, s.refused);
            next_report += 10000000;
        }
        struct timespec tick = {0, 100 * 1000000};
        nanosleep(&tick, NULL); /* pacing a simulation, not waiting for a condition */
    }
    hb_info("stopping: taken %lu, served %lu, refused %lu", s.taken, s.served, s.refused);
    free(ws);
    hb_rpc_destroy(&s.rpc);
    hb_config_destroy(&s.config);
    return 0;
}
