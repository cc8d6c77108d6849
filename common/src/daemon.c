#include "hallbus/daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "hallbus/log.h"

#define MAX_OPTIONS 32

#ifndef HB_VERSION
#error "HB_VERSION is defined by common/CMakeLists.txt from project(VERSION)"
#endif

const char *hb_version(void)
{
    return HB_VERSION;
}

int hb_daemon_exit_status(hb_daemon_start_t start)
{
    return start == HB_DAEMON_EXIT_OK ? 0 : start == HB_DAEMON_EXIT_USAGE ? 2 : 0;
}

hb_daemon_start_t hb_daemon_start(const hb_daemon_spec_t *spec, int argc, char **argv,
                                  hb_config_t **config)
{
    struct option opts[MAX_OPTIONS] = {{"config", required_argument, NULL, 'c'},
                                       {"log-level", required_argument, NULL, 'L'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"version", no_argument, NULL, 'V'}};
    int n = 4;
    if (spec->db)
        opts[n++] = (struct option){"db", required_argument, NULL, 'd'};
    for (const struct option *o = spec->extra; o && o->name && n < MAX_OPTIONS - 1; o++)
        opts[n++] = *o;
    char shortopts[64];
    snprintf(shortopts, sizeof shortopts, "c:h%s%s", spec->db ? "d:" : "",
             spec->extra_short ? spec->extra_short : "");

    *config = NULL;
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
                return HB_DAEMON_EXIT_USAGE;
            }
            break;
        case 'h':
            fputs(spec->usage, stdout);
            return HB_DAEMON_EXIT_OK;
        case 'V':
            printf("%s %s\n", spec->name, HB_VERSION);
            return HB_DAEMON_EXIT_OK;
        case 'd':
            if (spec->db) {
                *spec->db = optarg;
                break;
            }
            __attribute__((fallthrough)); /* the daemon's own -d */
        default:
            if (c == '?') {
                fputs(spec->usage, stderr);
                return HB_DAEMON_EXIT_USAGE;
            }
            if (!spec->on_option || spec->on_option(c, optarg, spec->ctx) != 0) {
                fputs(spec->usage, stderr);
                return HB_DAEMON_EXIT_USAGE;
            }
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", spec->name, argv[optind]);
        fputs(spec->usage, stderr);
        return HB_DAEMON_EXIT_USAGE;
    }
    hb_log_init(spec->name, level);
    if (!config_path) {
        if (spec->config_optional)
            return HB_DAEMON_RUN;
        fprintf(stderr, "%s: the hall file is missing (-c HALL.yaml)\n", spec->name);
        fputs(spec->usage, stderr);
        return HB_DAEMON_EXIT_USAGE;
    }
    char err[HB_CONFIG_ERR_MAX];
    *config = hb_config_load(config_path, err);
    if (!*config) {
        hb_error("%s", err);
        return HB_DAEMON_EXIT_USAGE;
    }
    return HB_DAEMON_RUN;
}
