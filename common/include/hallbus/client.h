/* The asynchronous request/reply client: one DEALER on the libuv loop, REQ
 * framing (an empty delimiter, then one protobuf), many requests in flight,
 * each with its own deadline and its own callback, matched to its reply by
 * request_id.
 *
 * Generic over message types: the request is any ProtobufCMessage whose
 * descriptor has a uint64 field "request_id", and replies are decoded with
 * the reply descriptor given at creation (which must have one too). Replies
 * are decoded with a size bound.
 *
 * Every request sent ends in exactly one callback: the reply, a malformed
 * reply (its request_id could be read, the rest not), a time-out, or
 * cancelled (the client was closed). A send that fails runs no callback.
 *
 * The lazy pirate: with fresh_socket_after_timeout, a time-out also closes
 * the DEALER and opens a fresh one, so a request stuck on a dead peer goes
 * away with the old socket (hb_client_reset does it on demand). Requests
 * still pending on the old socket then end by their own deadline. */
#ifndef HALLBUS_CLIENT_H
#define HALLBUS_CLIENT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hallbus/security.h"

#define HB_CLIENT_REPLY_MAX (16u << 20) /* default bound on a reply */
#define HB_CLIENT_PENDING_MAX 10000     /* default bound on requests in flight */

typedef struct hb_client_s hb_client_t;

typedef enum {
    HB_CLIENT_REPLY = 0, /* REPLY is the decoded answer */
    HB_CLIENT_TIMEOUT,   /* no answer by the deadline; REPLY is NULL */
    HB_CLIENT_MALFORMED, /* an answer with our id that does not decode or is too
                            large; REPLY is NULL */
    HB_CLIENT_CANCELLED, /* the client is closing; REPLY is NULL */
} hb_client_outcome_t;

/* One request's end. REPLY (a message of the reply descriptor) is the
 * client's and freed when the callback returns; the callback may change it
 * (to relay it), send further requests, reset or close the client. ARG is
 * the one given to hb_client_send. */
typedef void (*hb_client_cb)(hb_client_t *client, hb_client_outcome_t outcome,
                             ProtobufCMessage *reply, void *arg);

typedef struct {
    const char *endpoint;          /* copied */
    const hb_security_t *security; /* CURVE (borrowed, outlives the client); NULL: plain */
    const char *server;            /* the server's key name ("hall-queue"); copied */
    const ProtobufCMessageDescriptor *reply_desc; /* e.g. &hallbus__reply__descriptor */
    size_t reply_max;     /* replies larger are MALFORMED; 0: HB_CLIENT_REPLY_MAX */
    unsigned pending_max; /* sends beyond fail with ENOBUFS; 0: HB_CLIENT_PENDING_MAX */
    int hwm;              /* both high-water marks; 0: 1000 */
    bool immediate;       /* ZMQ_IMMEDIATE: a send fails (EAGAIN) at once while the peer is
                             not connected, rather than waiting for it */
    bool fresh_socket_after_timeout; /* the lazy pirate (above) */
    /* after each loop turn that delivered replies (group commit); may be NULL */
    void (*on_batch)(hb_client_t *client, void *arg);
    void *arg; /* for on_batch */
} hb_client_config_t;

typedef struct {
    unsigned long sent, replied, timeouts, malformed;
    unsigned long late;   /* replies matching no pending request (given up on, or unreadable) */
    unsigned long unsent; /* sends refused (not connected, full, high-water mark) */
    unsigned long resets; /* fresh sockets opened */
} hb_client_counters_t;

/* Connects a DEALER to CONFIG->endpoint on LOOP, in the zmq context CTX
 * (which must outlive the client's close). NULL on failure (logged). */
hb_client_t *hb_client_new(uv_loop_t *loop, void *ctx, const hb_client_config_t *config);

/* Sends REQUEST (borrowed; its request_id is set to a fresh id for the
 * packing and given back its old value after) with a deadline TIMEOUT_MS
 * from now; CB(ARG) runs exactly once later. Returns the id sent, or 0
 * with errno set (EAGAIN: not connected or at the high-water mark;
 * ENOBUFS: too many pending; EINVAL: no request_id field) and no callback. */
uint64_t hb_client_send(hb_client_t *client, ProtobufCMessage *request, uint32_t timeout_ms,
                        hb_client_cb cb, void *arg);

/* Closes the DEALER and connects a fresh one (the lazy pirate). Pending
 * requests stay pending until their deadline. 0, or -1 when no socket
 * could be opened (sends fail until a later reset succeeds). */
int hb_client_reset(hb_client_t *client);

size_t hb_client_pending(const hb_client_t *client);
const hb_client_counters_t *hb_client_counters(const hb_client_t *client);

/* NULL-safe; sets *CLIENT to NULL. Every pending request's callback runs
 * with HB_CLIENT_CANCELLED, now; the handles are freed by the loop (run it
 * until it ends before uv_loop_close and zmq_ctx_term). */
void hb_client_close(hb_client_t **client);

#endif
