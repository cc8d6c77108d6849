/* A real hall for end-to-end tests and benchmarks: a temporary directory,
 * a hall file with free loopback ports, and real hall-bus and hall-queue
 * processes started from the build's bin directory ($HALLBUS_BIN). Every
 * wait is a wait for a condition with a deadline, never a bare sleep. */
#ifndef HALLBUS_TEST_FIXTURE_H
#define HALLBUS_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hallbus.pb-c.h"
#include "hallbus/rpc_client.h"

typedef struct {
    char dir[256];
    char config[320];
    char db[320];
    char cmd_ep[64], pub_ep[64], sub_ep[64];
    pid_t bus, queue;
    void *ctx;
    bool ctx_shut;
    hb_rpc_t *rpc;
    char keys_dir[320]; /* <dir>/keys: the hall's keys (hallctl keys init) */
    hb_security_t *sec; /* the test's own key (hallctl: operator), for its clients */
} hb_fixture_t;

/* The hall's services and windows, as YAML; NULL for the default small hall:
 * services A (quota 0), B (quota 5), C; windows 1 [A,B], 2 [B], 3 [A,B,C]. */
typedef struct {
    const char *services_windows_yaml;
    const char *queue_yaml; /* extra lines under "queue:" (indented two spaces) */
    unsigned heartbeat_ms;  /* default 100 */
    const char *extra_yaml; /* more top-level sections (display:, audit:, ...), appended */
    bool plain;             /* security.curve: false (the benchmark's reference run only) */
} hb_fixture_opts_t;

/* Makes the directory and hall file and starts bus and queue; waits until
 * the queue answers. Returns 0, or -1 with the reason printed. */
int hb_fixture_start(hb_fixture_t *fx, const hb_fixture_opts_t *opts);
/* Stops what it started (SIGTERM, then SIGKILL after 5 s) and removes the
 * directory unless HALLBUS_KEEP is set. Returns 0 if every daemon exited
 * cleanly (status 0: no sanitizer report, no leak); otherwise prints the
 * daemon's log and returns -1, so that tests assert on it. */
int hb_fixture_stop(hb_fixture_t *fx);

pid_t hb_fixture_spawn(hb_fixture_t *fx, const char *name, const char *const *args);
int hb_fixture_start_queue(hb_fixture_t *fx);
int hb_fixture_start_bus(hb_fixture_t *fx);
/* Sends SIG to the queue (or bus) and reaps it. Returns its wait status. */
int hb_fixture_kill(pid_t *pid, int sig);
/* Waits (up to TIMEOUT_MS) until the queue answers a status request. */
bool hb_fixture_wait_ready(hb_fixture_t *fx, int timeout_ms);

/* One command; the reply is the caller's (hallbus__reply__free_unpacked).
 * NULL on timeout. */
Hallbus__Reply *hb_fixture_call(hb_fixture_t *fx, Hallbus__Request *req);

/* Shorthands that return the reply's status code (or -1 on no reply) and,
 * for ticket replies, copy the ticket number into NUMBER (16 bytes). */
int hb_fx_take(hb_fixture_t *fx, const char *service, bool green, char *number);
int hb_fx_window(hb_fixture_t *fx, const char *verb, unsigned window, const char *staff);
int hb_fx_act(hb_fixture_t *fx, const char *verb, unsigned window, char *number);
int hb_fx_finish(hb_fixture_t *fx, unsigned window);

/* Runs hallctl with the fixture's config and ARGS (NULL-terminated),
 * capturing stdout into OUT (OUTLEN bytes). Returns its exit status. */
int hb_fixture_hallctl(hb_fixture_t *fx, char *out, size_t outlen, const char *const *args);

/* A SUB socket on the bus for PREFIX ("" for all), returned once the
 * subscription is live (a heartbeat of this hall has arrived through it).
 * The test closes it. */
void *hb_fixture_subscribe(hb_fixture_t *fx, const char *prefix);
/* Receives one event within TIMEOUT_MS, skipping heartbeats unless
 * WANT_HEARTBEATS. Caller frees with hallbus__envelope__free_unpacked. */
Hallbus__Envelope *hb_fixture_next_event(void *sub, int timeout_ms, bool want_heartbeats);

/* Adds a staff account ID (role staff) with PASSWORD to the hall's
 * accounts file (<dir>/keys/staff.json, security.keys_dir of the hall
 * file). Slow: an Argon2id hash. 0, or -1 with the reason printed. */
int hb_fixture_add_staff(hb_fixture_t *fx, const char *id, const char *password);
/* CURVE for a test's own sockets (every daemon of a fixture hall speaks
 * CURVE; its keys are made by hallctl keys init in <dir>/keys).
 * hb_fixture_secure makes SOCK (not yet connected) a client of SERVER
 * ("hall-queue", "hall-bus", "hall-audit", ...) with the key named KEY
 * (NULL: hallctl's, an operator). 0, or -1 (printed). Nothing in a plain hall. */
int hb_fixture_secure(hb_fixture_t *fx, void *sock, const char *server, const char *key);
/* A blocking client of SERVER at ENDPOINT with the key KEY (NULL: hallctl's). */
hb_rpc_t *hb_fixture_rpc(hb_fixture_t *fx, const char *endpoint, const char *server,
                         const char *key, int timeout_ms);
/* Runs "hallctl keys new NAME --role ROLE" for the fixture's hall. 0 or -1. */
int hb_fixture_key_new(hb_fixture_t *fx, const char *name, const char *role);

/* Makes a temporary directory from TEMPLATE ("/tmp/hallbus-x-XXXXXX",
 * changed in place) and writes TEXT to the file NAME in it; PATH gets the
 * file's path. 0, or -1 with errno. */
int hb_temp_file(char *template, const char *name, const char *text, char *path, size_t pathlen);

/* A loopback TCP port the kernel says is free now. */
int hb_free_port(void);

/* Polls COND(ARG) every few milliseconds until true or TIMEOUT_MS passes. */
bool hb_wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms);

#endif
