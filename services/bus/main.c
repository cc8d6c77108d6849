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
#include "hallbus/log.h"
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

static void *bind_socket(void *ctx, int type, const char *endpoint, int hwm)
{
    void *s = zmq_socket(ctx, type);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_bind(s, endpoint) != 0) {
        hb_error("cannot bind %s: %s", endpoint, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: hall-bus (-c HALL.yaml | --pub ENDPOINT --sub ENDPOINT) [--hwm N]\n"
               "                [--log-level debug|info|warn|error]\n"
               "  Publishers connect to --pub (XSUB), subscribers to --sub (XPUB).\n"
               "  With -c, the endpoints are the hall file's endpoints.bus_pub and bus_sub.\n");
}

int main(int argc, char **argv)
{
    const char *config_path = NULL, *pub = NULL, *sub = NULL;
    int hwm = 1000000;
    hb_log_level_t level = HB_LOG_INFO;
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"pub", required_argument, NULL, 'p'},
                                         {"sub", required_argument, NULL, 's'},
                                         {"hwm", required_argument, NULL, 'w'},
                                         {"log-level", required_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'p':
            pub = optarg;
            break;
        case 's':
            sub = optarg;
            break;
        case 'w':
            hwm = atoi(optarg);
            if (hwm < 1000) {
                fprintf(stderr, "hall-bus: --hwm must be at least 1000\n");
                return 2;
            }
            break;
        case 'l':
            if (hb_log_parse_level(optarg, &level) != 0) {
                fprintf(stderr, "hall-bus: unknown log level \"%s\"\n", optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    hb_log_init("hall-bus", level);
    hb_config_t *config = NULL;
    if (config_path) {
        char err[HB_CONFIG_ERR_MAX];
        config = hb_config_load(config_path, err);
        if (!config) {
            hb_error("%s", err);
            return 2;
        }
        pub = pub ? pub : config->endpoints.bus_pub;
        sub = sub ? sub : config->endpoints.bus_sub;
    }
    if (!pub || !sub) {
        usage(stderr);
        return 2;
    }

    bus_t b = {0};
    b.ctx = zmq_ctx_new();
    b.xsub = bind_socket(b.ctx, ZMQ_XSUB, pub, hwm);
    b.xpub = bind_socket(b.ctx, ZMQ_XPUB, sub, hwm);
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
    /* the signal handles are unref'd; a ref'd idle-free handle keeps the
     * loop running until a signal closes everything */
    uv_ref((uv_handle_t *)&b.signals.sigint);
    uv_run(loop, UV_RUN_DEFAULT);

    pthread_join(thread, NULL);
    zmq_close(b.xsub);
    zmq_close(b.xpub);
    zmq_close(b.control_in);
    zmq_close(b.control_out);
    zmq_ctx_term(b.ctx);
    uv_loop_close(loop);
    hb_config_destroy(&config);
    hb_info("stopped");
    return 0;
}
