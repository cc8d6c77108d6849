/* The ZAP handler (ZeroMQ RFC 27): who may connect to this process's CURVE
 * servers. One per process, in its own thread, bound to
 * inproc://zeromq.zap.01 of the process's zmq context; libzmq asks it at
 * every CURVE handshake of a server socket (curve.h) of that context.
 *
 * It answers from the allow-list (keys.h): an unknown or revoked key, or a
 * mechanism other than CURVE, is refused (400); a known key is accepted
 * (200) with User-Id = its public key in z85 and the metadata property
 * "Hallbus-Role" = its role's name, so that every message can be looked
 * up again (hb_peer_key, hb_keys_role) and a key revoked later stops
 * working on connections already open, where the daemon checks.
 *
 * Domains (ZMQ_ZAP_DOMAIN of the server socket) refuse by role at connect:
 *   bus-pub   publishers: roles queue and counter only
 *   any other (queue, bus-sub, audit, counter, notifier, ...): any known key */
#ifndef HALLBUS_ZAP_H
#define HALLBUS_ZAP_H

#include <stdbool.h>
#include <stdint.h>

#include "hallbus/keys.h"

#define HB_ZAP_ENDPOINT "inproc://zeromq.zap.01"

typedef struct hb_zap_s hb_zap_t;

/* Binds the handler in CTX and starts its thread. Start it before any
 * CURVE server socket of CTX binds (hb_curve_server refuses otherwise).
 * KEYS is borrowed: it must outlive the handler. NULL with the reason
 * logged (a second handler in the same context: the endpoint is taken).
 * The caller owns the result (hb_zap_stop). */
hb_zap_t *hb_zap_start(void *ctx, hb_keys_t *keys);

/* Stops the thread and closes its sockets; returns once it has. Call it
 * before zmq_ctx_term of the context. NULL-safe; sets *self to NULL. */
void hb_zap_stop(hb_zap_t **self);

/* Whether a handler is running in this process (any context). */
bool hb_zap_running(void);

typedef struct {
    uint64_t allowed, refused;
} hb_zap_stats_t;

/* Requests answered so far; safe from any thread. */
hb_zap_stats_t hb_zap_stats(hb_zap_t *self);

/* The rule itself, without ZeroMQ: may ROLE connect to DOMAIN? */
bool hb_zap_domain_allows(const char *domain, hb_role_t role);

#endif
