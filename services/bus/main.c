/* hall-bus: the XSUB/XPUB proxy, so that publishers and subscribers each
 * need one address. Publishers (hall-queue, hall-counter, ...) connect to
 * the XSUB side; subscribers (displays, notifiers, audit, hallctl events)
 * to the XPUB side; subscriptions travel upstream so publishers filter.
 *
 * zmq_proxy blocks, so it runs in its own thread; the main thread runs the
 * libuv loop for signals and stops the proxy through its control socket. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <zmq.h>

#include "hallbus/config.h"
#include "hallbus/daemon.h"
#include "hallbus/log.h"
#include "hallbus/security.h"
#include "hallbus/signals.h"

typedef struct {
    void *ctx;
    void *xsub, *xpub;
    void *control_in;  /* the proxy thread's end */
    void *control_out; /* ours */
    hb_signals_t signals;
} bus_t;

static void *proxy_thread(void *arg)
{
    bus_t *b = arg;
    zmq_proxy_steerable(b->xsub, b->xpub, NULL, b->control_in);
    return NULL;
}

static void on_stop(void *arg)
{
    bus_t *b = arg;
    zmq_send(b->control_out, "TERMINATE", 9, 0);
    hb_signals_close(&b->signals);
}

static const char USAGE[] =
    "usage: hall-bus (-c HALL.yaml | --pub ENDPOINT --sub ENDPOINT) [--hwm N]\n"
    "                [--log-level debug|info|warn|error]\n"
    "  Publishers connect to --pub (XSUB), subscribers to --sub (XPUB).\n"
    "  With -c, the endpoints are the hall file's endpoints.bus_pub and bus_sub.\n";

typedef struct {
    const char *pub, *sub;
    int hwm;
} bus_options_t;

static int on_option(int opt, const char *arg, void *ctx)
{
    bus_options_t *o = ctx;
    if (opt == 'p')
        o->pub = arg;
    else if (opt == 's')
        o->sub = arg;
    else {
        o->hwm = atoi(arg);
        if (o->hwm < 1000) {
            fprintf(stderr, "hall-bus: --hwm must be at least 1000\n");
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    bus_options_t o = {.hwm = 1000000};
    static const struct option extra[] = {{"pub", required_argument, NULL, 'p'},
                                          {"sub", required_argument, NULL, 's'},
                                          {"hwm", required_argument, NULL, 'w'},
                                          {0}};
    hb_daemon_spec_t spec = {"hall-bus", USAGE, extra, "", on_option, &o, 1, NULL};
    hb_config_t *config = NULL;
    hb_daemon_start_t start = hb_daemon_start(&spec, argc, argv, &config);
    if (start != HB_DAEMON_RUN)
        return hb_daemon_exit_status(start);
    const char *pub = o.pub, *sub = o.sub;
    int hwm = o.hwm;
    if (config) {
        pub = pub ? pub : config->endpoints.bus_pub;
        sub = sub ? sub : config->endpoints.bus_sub;
    }
    if (!pub || !sub) {
        fputs(USAGE, stderr);
        hb_config_destroy(&config);
        return 2;
    }

    bus_t b = {0};
    b.ctx = zmq_ctx_new();
    /* CURVE from the hall file: publishers need a queue or counter key
     * (ZAP domain bus-pub), subscribers any known key (bus-sub). Without a
     * hall file (--pub/--sub only) the bus is plain. */
    hb_security_t *security = NULL;
    if (config) {
        char err[HB_KEYS_ERR_MAX];
        security = hb_security_start(b.ctx, &config->security, "hall-bus", true, err);
        if (!security) {
            hb_error("refusing to start: %s (make the hall's keys: hallctl keys init)", err);
            zmq_ctx_term(b.ctx);
            hb_config_destroy(&config);
            return 2;
        }
    }
    hb_socket_opts_t po = {.hwm = hwm, .security = security, .zap_domain = "bus-pub"};
    hb_socket_opts_t so = {.hwm = hwm, .security = security, .zap_domain = "bus-sub"};
    b.xsub = hb_socket_open_opts(b.ctx, ZMQ_XSUB, pub, 1, &po);
    b.xpub = hb_socket_open_opts(b.ctx, ZMQ_XPUB, sub, 1, &so);
    if (!b.xsub || !b.xpub)
        return 1;
    b.control_in = zmq_socket(b.ctx, ZMQ_PAIR);
    b.control_out = zmq_socket(b.ctx, ZMQ_PAIR);
    zmq_bind(b.control_in, "inproc://hall-bus-control");
    zmq_connect(b.control_out, "inproc://hall-bus-control");

    pthread_t thread;
    pthread_create(&thread, NULL, proxy_thread, &b);
    hb_info("bus ready: publishers connect to %s, subscribers to %s", pub, sub);

    uv_loop_t *loop = uv_default_loop();
    hb_signals_start(&b.signals, loop, on_stop, &b);
    hb_signals_on_reload(&b.signals, hb_security_on_sighup, security);
    /* the signal handles are unref'd; a ref'd idle-free handle keeps the
     * loop running until a signal closes everything */
    uv_ref((uv_handle_t *)&b.signals.sigint);
    uv_run(loop, UV_RUN_DEFAULT);

    pthread_join(thread, NULL);
    zmq_close(b.xsub);
    zmq_close(b.xpub);
    zmq_close(b.control_in);
    zmq_close(b.control_out);
    hb_security_stop(&security);
    zmq_ctx_term(b.ctx);
    uv_loop_close(loop);
    hb_config_destroy(&config);
    hb_info("stopped");
    return 0;
}
