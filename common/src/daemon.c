#include "hallbus/daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "hallbus/log.h"

#define MAX_FRAME_BYTES (16 << 20)
#define MAX_OPTIONS 32

int hb_daemon_start(const hb_daemon_spec_t *spec, int argc, char **argv, hb_config_t **config)
{
    struct option opts[MAX_OPTIONS] = {{"config", required_argument, NULL, 'c'},
                                       {"log-level", required_argument, NULL, 'L'},
                                       {"help", no_argument, NULL, 'h'}};
    int n = 3;
    for (const struct option *o = spec->extra; o && o->name && n < MAX_OPTIONS - 1; o++)
        opts[n++] = *o;
    char shortopts[64];
    snprintf(shortopts, sizeof shortopts, "c:h%s", spec->extra_short ? spec->extra_short : "");

    const char *config_path = NULL;
    hb_log_level_t level = HB_LOG_INFO;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'L':
            if (hb_log_parse_level(optarg, &level) != 0) {
                fprintf(stderr, "%s: unknown log level \"%s\" (debug, info, warn, error)\n",
                        spec->name, optarg);
                return 2;
            }
            break;
        case 'h':
            fputs(spec->usage, stdout);
            return 0;
        case '?':
            fputs(spec->usage, stderr);
            return 2;
        default:
            if (!spec->on_option || spec->on_option(c, optarg, spec->ctx) != 0) {
                fputs(spec->usage, stderr);
                return 2;
            }
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", spec->name, argv[optind]);
        fputs(spec->usage, stderr);
        return 2;
    }
    hb_log_init(spec->name, level);
    *config = NULL;
    if (!config_path) {
        if (spec->config_optional)
            return -1;
        fprintf(stderr, "%s: the hall file is missing (-c HALL.yaml)\n", spec->name);
        fputs(spec->usage, stderr);
        return 2;
    }
    char err[HB_CONFIG_ERR_MAX];
    *config = hb_config_load(config_path, err);
    if (!*config) {
        hb_error("%s", err);
        return 2;
    }
    return -1;
}

void *hb_socket_open(void *ctx, int type, const char *endpoint, int bind, int hwm, int linger)
{
    void *s = zmq_socket(ctx, type);
    if (!s) {
        hb_error("cannot make a socket for %s: %s", endpoint, zmq_strerror(errno));
        return NULL;
    }
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    int64_t maxsize = MAX_FRAME_BYTES;
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxsize, sizeof maxsize);
    if (type == ZMQ_DEALER) {
        /* queue nothing for a peer that is not connected: a command is
         * refused at once rather than run late when the peer comes back */
        int one = 1;
        zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof one);
    }
    if ((bind ? zmq_bind(s, endpoint) : zmq_connect(s, endpoint)) != 0) {
        hb_error("cannot %s %s: %s", bind ? "bind" : "connect to", endpoint, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}
