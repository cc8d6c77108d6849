/* Opening a daemon's ZeroMQ sockets with their limits set on purpose, and
 * the topic prefix that selects one hall's events on the bus. */
#ifndef HALLBUS_SOCKET_H
#define HALLBUS_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hallbus/envelope.h"
#include "hallbus/security.h"

#define HB_SOCKET_MAX_FRAME (16 << 20) /* default ZMQ_MAXMSGSIZE */

typedef struct {
    int hwm;                       /* both high-water marks */
    int linger;                    /* ms at close */
    int64_t max_message;           /* frames larger are refused by ZeroMQ; 0: HB_SOCKET_MAX_FRAME */
    bool queue_while_disconnected; /* DEALER: no ZMQ_IMMEDIATE (sends wait for the peer) */
    /* CURVE (security.h), set before bind/connect; nothing when NULL or off */
    const hb_security_t *security; /* borrowed */
    const char *zap_domain;        /* binding: the ZAP domain ("queue", "bus-pub", ...) */
    const char *server;            /* connecting: the server's key name ("hall-queue") */
} hb_socket_opts_t;

/* A socket of TYPE bound (BIND) or connected to ENDPOINT, with both
 * high-water marks at HWM, LINGER ms at close, and frames over 16 MiB
 * refused; a DEALER queues nothing for a peer that is not connected
 * (ZMQ_IMMEDIATE). NULL with the reason logged. The caller owns the socket
 * (zmq_close, or hand it to hb_zsock_new). */
void *hb_socket_open(void *ctx, int type, const char *endpoint, int bind, int hwm, int linger);

/* The same with every limit given: for sockets that take larger messages
 * (a snapshot of a very busy day). */
void *hb_socket_open_opts(void *ctx, int type, const char *endpoint, int bind,
                          const hb_socket_opts_t *opts);

/* "hall.<HALL>.": the prefix every topic of one hall starts with, for a
 * SUB's ZMQ_SUBSCRIBE and for matching topics; "hall." (every hall) when
 * HALL is NULL. Returns its length, or -1 when HALL is too long (OUT is
 * then empty). */
int hb_topic_prefix(const char *hall, char out[HB_TOPIC_MAX]);

#endif
