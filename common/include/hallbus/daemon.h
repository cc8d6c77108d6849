/* What every daemon's main() does the same way: read -c/--config,
 * --log-level and --help (plus its own options), start logging, load the
 * hall file; and open its ZeroMQ sockets with the limits set on purpose. */
#ifndef HALLBUS_DAEMON_H
#define HALLBUS_DAEMON_H

#include <getopt.h>

#include "hallbus/config.h"

/* A daemon's own option: called with getopt's value and argument; returns
 * 0, or -1 after printing what is wrong (then the daemon exits 2). */
typedef int (*hb_option_fn)(int opt, const char *arg, void *ctx);

typedef struct {
    const char *name;           /* "hall-queue": logs and messages */
    const char *usage;          /* printed for --help and on a usage error */
    const struct option *extra; /* the daemon's own long options, ended by {0}; may be NULL */
    const char *extra_short;    /* their short letters for getopt, "" if none */
    hb_option_fn on_option;
    void *ctx;
    int config_optional; /* the daemon can run without a hall file */
} hb_daemon_spec_t;

/* Parses ARGV, starts logging and loads the hall file into *CONFIG (NULL
 * when optional and absent). Returns -1 to go on, or the status to exit
 * with: 0 after --help, 2 for bad options or a bad hall file (said why). */
int hb_daemon_start(const hb_daemon_spec_t *spec, int argc, char **argv, hb_config_t **config);

/* A socket of TYPE bound (BIND) or connected to ENDPOINT, with both
 * high-water marks at HWM, LINGER ms at close, and frames over 16 MiB
 * refused; a DEALER queues nothing for a peer that is not connected
 * (ZMQ_IMMEDIATE). NULL with the reason logged. */
void *hb_socket_open(void *ctx, int type, const char *endpoint, int bind, int hwm, int linger);

#endif
