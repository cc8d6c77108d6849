/* A process's security context: what every socket of a daemon (or a tool,
 * or a test) needs to speak CURVE, in one place, so that hb_server,
 * hb_client, hb_rpc, follow_sub and the daemons take it from here instead
 * of threading the keys, the allow-list and the ZAP handler around.
 *
 * With security.curve on: the process's own key pair
 * (<keys_dir>/<name>.key), and for a process that serves (binds CURVE
 * server sockets) the live allow-list (security.allow) and the ZAP handler
 * of its zmq context. With curve off (the benchmark's plain reference run
 * only) every function below is a no-op and every peer counts as operator.
 *
 * Order at stop: close every socket, hb_security_stop, zmq_ctx_term. */
#ifndef HALLBUS_SECURITY_H
#define HALLBUS_SECURITY_H

#include <stdbool.h>
#include <zmq.h>

#include "hallbus/config_security.h"
#include "hallbus/keys.h"

typedef struct hb_security_s hb_security_t;

/* For process NAME ("hall-queue": its key files are <keys_dir>/NAME.key,
 * .pub) in zmq context CTX (borrowed; it must outlive the result). SERVE:
 * the process binds CURVE servers, so the allow-list is loaded and the
 * ZAP handler started in CTX (one per context). NULL with ERR naming the
 * file or what is wrong (a daemon exits 2). The caller owns the result. */
hb_security_t *hb_security_start(void *ctx, const hb_security_conf_t *conf, const char *name,
                                 bool serve, char err[HB_KEYS_ERR_MAX]);
/* Stops the ZAP handler and frees the allow-list. NULL-safe; *self = NULL.
 * Close the context's sockets first, zmq_ctx_term after. */
void hb_security_stop(hb_security_t **self);

/* Whether CURVE is on (false for NULL). */
bool hb_security_on(const hb_security_t *self);
/* The live allow-list (NULL when curve is off or the process does not serve). */
hb_keys_t *hb_security_keys(const hb_security_t *self);
/* Re-reads the allow-list now if it changed (SIGHUP). See hb_keys_reload. */
int hb_security_reload(hb_security_t *self);
/* A reload callback for hb_signals_on_reload: ARG is the process's
 * hb_security_t; re-reads its allow-list (hb_security_reload) and logs
 * what it did (reloaded with N keys, unchanged, kept the last good list). */
void hb_security_on_sighup(void *arg);
/* The process's own key pair (NULL when curve is off). */
const hb_keypair_t *hb_security_own(const hb_security_t *self);

/* Before zmq_bind: makes SOCK a CURVE server checked under ZAP DOMAIN.
 * Nothing when SELF is NULL or curve is off. 0, or -1 (logged). */
int hb_security_bind(const hb_security_t *self, void *sock, const char *domain);
/* Before zmq_connect: makes SOCK a CURVE client of the server whose public
 * key is <keys_dir>/SERVER.pub ("hall-queue"). Nothing when SELF is NULL or
 * curve is off. 0, or -1 (logged, naming the file). */
int hb_security_connect(const hb_security_t *self, void *sock, const char *server);

/* The role of the peer that sent FRAME (a body frame), as the allow-list
 * says now: HB_ROLE_NONE for no key, an unknown or a revoked one;
 * HB_ROLE_OPERATOR for every peer when SELF is NULL or curve is off.
 * NAME (may be NULL, NAMELEN bytes) gets the key's name ("" if none). */
hb_role_t hb_security_peer(const hb_security_t *self, zmq_msg_t *frame, char *name, size_t namelen);

#endif
