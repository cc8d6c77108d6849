/* The server side of a REQ-framed endpoint: a ROUTER on the libuv loop
 * that reads [routing id...][empty][request], refuses what is badly framed,
 * too large or undecodable, decodes the rest with the daemon's descriptor
 * and hands it to the daemon's handler with its reply route.
 *
 * The handler replies at once (hb_server_reply) or keeps a copy of the
 * route (a plain value: copy the struct) and replies later: hall-queue
 * after its group commit, hall-counter once hall-queue has answered. What
 * cannot be read is never handed to the handler: the daemon's on_refused
 * makes the error reply (hall-queue: MALFORMED or TOO_LARGE with
 * request_id 0, since the id could not be read). */
#ifndef HALLBUS_SERVER_H
#define HALLBUS_SERVER_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hallbus/envelope.h"
#include "hallbus/security.h"

#define HB_ROUTE_FRAMES 4   /* routing frames kept: the peer, and proxies before it */
#define HB_ROUTE_BYTES 1024 /* their bytes in all (a ROUTER identity is at most 255) */

/* Where a reply goes: the routing frames before the empty delimiter. A
 * plain value, copied with "=": keep one for a later reply. It also says
 * who asked: the role of the peer's key (security.h) as the allow-list said
 * when the request arrived, and the key's name. */
typedef struct {
    hb_role_t role;                     /* never HB_ROLE_NONE in a handler */
    char key_name[HB_KEY_NAME_MAX + 1]; /* "" when curve is off */
    uint8_t nframes;
    uint16_t len[HB_ROUTE_FRAMES];
    uint8_t data[HB_ROUTE_BYTES];
} hb_route_t;

typedef struct hb_server_s hb_server_t;

typedef enum {
    HB_SERVER_BAD_FRAMING = 1, /* not [routing...][empty][one request frame] */
    HB_SERVER_TOO_LARGE,       /* over request_max, or the decoder said so */
    HB_SERVER_MALFORMED,       /* the decoder refused it */
} hb_server_refusal_t;

/* REQUEST (of the server's descriptor) is borrowed: freed when the handler
 * returns; the handler may change it. */
typedef void (*hb_server_request_fn)(hb_server_t *server, const hb_route_t *route,
                                     ProtobufCMessage *request, void *arg);
/* A request that was not handed to the handler; WHY says what was wrong
 * ("request larger than 64 KiB", "not a protobuf Request", ...) and LEN is
 * its size. The daemon replies (or not) with hb_server_reply. */
typedef void (*hb_server_refused_fn)(hb_server_t *server, const hb_route_t *route,
                                     hb_server_refusal_t kind, const char *why, size_t len,
                                     void *arg);
/* A request that decoded but whose decoder said HB_DECODE_INVALID (a
 * string a standard reader would refuse: not UTF-8, or a NUL): its
 * request_id is known, so the daemon answers it as refused. REQUEST is
 * borrowed as in on_request; WHY names the field. */
typedef void (*hb_server_invalid_fn)(hb_server_t *server, const hb_route_t *route,
                                     ProtobufCMessage *request, const char *why, void *arg);
/* A decoder of the daemon's own (e.g. one that also checks strings):
 * HB_DECODE_OK with *OUT owned by the server, or HB_DECODE_MALFORMED /
 * HB_DECODE_TOO_LARGE with *WHY, or HB_DECODE_INVALID with *OUT (owned by
 * the server) and *WHY. */
typedef int (*hb_server_decode_fn)(const void *data, size_t len, ProtobufCMessage **out,
                                   const char **why);

typedef struct {
    const char *endpoint; /* bound */
    /* CURVE: a server under ZAP DOMAIN; a request from a peer whose key has
     * no role now (revoked since it connected) is dropped unanswered
     * (counted as denied). NULL / curve off: every peer is an operator. */
    const hb_security_t *security; /* borrowed; outlives the server */
    const char *zap_domain;        /* "queue", "counter", "audit", "notifier" */
    const ProtobufCMessageDescriptor *request_desc;
    size_t request_max;         /* larger requests are refused; 0: HB_REQUEST_MAX */
    hb_server_decode_fn decode; /* NULL: protobuf_c_message_unpack with request_desc */
    int hwm;                    /* 0: 10000 */
    int linger;                 /* ms */
    int batch_max;              /* requests per loop turn; 0: the zsock default */
    hb_server_request_fn on_request;
    hb_server_refused_fn on_refused; /* NULL: refusals are counted and dropped */
    hb_server_invalid_fn on_invalid; /* NULL: such requests are refused as malformed */
    /* after each loop turn that delivered requests (group commit); may be NULL */
    void (*on_batch)(hb_server_t *server, void *arg);
    void *arg;
} hb_server_config_t;

typedef struct {
    unsigned long received; /* messages read, good or bad */
    unsigned long bad_framing, too_large, malformed;
    unsigned long invalid; /* decoded, with a string refused (on_invalid) */
    unsigned long replied;
    unsigned long dropped; /* replies not sent (peer gone, high-water mark) */
    unsigned long denied;  /* requests from a key with no role (revoked), unanswered */
} hb_server_counters_t;

/* Binds a ROUTER to CONFIG->endpoint in zmq context CTX (which must outlive
 * the server's close). NULL on failure (logged). */
hb_server_t *hb_server_new(uv_loop_t *loop, void *ctx, const hb_server_config_t *config);

/* Sends REPLY (borrowed; any protobuf-c message) to ROUTE. 0, or -1 with
 * errno (counted as dropped). */
int hb_server_reply(hb_server_t *server, const hb_route_t *route, const ProtobufCMessage *reply);
/* The same with a reply already packed. */
int hb_server_reply_packed(hb_server_t *server, const hb_route_t *route, const void *data,
                           size_t len);

const hb_server_counters_t *hb_server_counters(const hb_server_t *server);

/* NULL-safe; sets *SERVER to NULL; the socket is closed by the loop. */
void hb_server_close(hb_server_t **server);

#endif
