/* What every daemon's main() does the same way: read -c/--config,
 * --log-level, --help and --version (plus its own options), start logging,
 * load the hall file. (Its sockets: hallbus/socket.h.) */
#ifndef HALLBUS_DAEMON_H
#define HALLBUS_DAEMON_H

#include <getopt.h>

#include "hallbus/config.h"
#include "hallbus/socket.h"

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
    const char **db;     /* a daemon with a store of its own: --db PATH (-d) sets *DB,
                            which stays NULL without it (the hall file's path then) */
} hb_daemon_spec_t;

/* What main() does after hb_daemon_start. */
typedef enum {
    HB_DAEMON_RUN = 0,    /* go on: logging started, *config loaded (or NULL when optional) */
    HB_DAEMON_EXIT_OK,    /* --help or --version was answered: exit 0 */
    HB_DAEMON_EXIT_USAGE, /* bad options or a bad hall file, said why: exit 2 */
} hb_daemon_start_t;

/* Parses ARGV, starts logging and loads the hall file into *CONFIG (the
 * caller owns it: hb_config_destroy). --help and --version print and touch
 * nothing else (no file, no socket). */
hb_daemon_start_t hb_daemon_start(const hb_daemon_spec_t *spec, int argc, char **argv,
                                  hb_config_t **config);

/* The status to exit with for a start result other than HB_DAEMON_RUN. */
int hb_daemon_exit_status(hb_daemon_start_t start);

/* The project's version ("0.9.0"), from project(VERSION) in CMakeLists.txt. */
const char *hb_version(void);

#endif
