/* The blocking request/reply client for tools and tests: one DEALER
 * socket, REQ framing (empty delimiter, then the request), replies matched
 * by request_id so that a reply arriving after its timeout is discarded
 * rather than taken for the next one's, and decoded with a size bound.
 * Generic over message types (hall-queue's Request/Reply, hall-audit's
 * AuditRequest/AuditReply, ...): any message with a uint64 request_id. */
#ifndef HALLBUS_RPC_CLIENT_H
#define HALLBUS_RPC_CLIENT_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "hallbus.pb-c.h"
#include "hallbus/security.h"

#define HB_RPC_REPLY_MAX (16u << 20) /* larger replies are refused, not decoded */

typedef struct hb_rpc_s hb_rpc_t;

/* Connects to ENDPOINT. CTX may be NULL (the client makes its own).
 * Returns NULL on failure. */
hb_rpc_t *hb_rpc_new(void *ctx, const char *endpoint, int timeout_ms);
/* The same as a CURVE client of the server whose key is named SERVER
 * ("hall-queue"), with SECURITY's key pair (borrowed, used now only);
 * plain when SECURITY is NULL or curve is off. */
hb_rpc_t *hb_rpc_new_secure(void *ctx, const char *endpoint, int timeout_ms,
                            const hb_security_t *security, const char *server);
void hb_rpc_destroy(hb_rpc_t **self);

/* Sends REQ, any message with a uint64 request_id (set by the client, and
 * left set), and waits for the reply with that id, or with id 0 (an error
 * reply to a request the server could not read), decoded as REPLY_DESC.
 * Returns the reply, which the caller owns
 * (protobuf_c_message_free_unpacked), or NULL with ERR filled: timeout, a
 * reply that does not decode or is over HB_RPC_REPLY_MAX, or a type without
 * a request_id. */
ProtobufCMessage *hb_rpc_call_msg(hb_rpc_t *self, ProtobufCMessage *req,
                                  const ProtobufCMessageDescriptor *reply_desc, char *err,
                                  size_t errlen);

/* hall-queue's Request and Reply: hb_rpc_call_msg with Hallbus__Reply.
 * Sends REQ (its request_id is set by the client) and waits for the reply
 * with that id, or with id 0: an error reply to a request the server could
 * not read (malformed, too large).
 * Returns the reply, which the caller owns (hallbus__reply__free_unpacked),
 * or NULL with ERR filled: timeout, or an undecodable reply. */
Hallbus__Reply *hb_rpc_call(hb_rpc_t *self, Hallbus__Request *req, char *err, size_t errlen);

/* Sends raw frames and returns the raw reply payload (the frame after the
 * delimiter), for tests that speak bad bytes. Caller frees *OUT. */
int hb_rpc_call_raw(hb_rpc_t *self, const void *const *frames, const size_t *lens, int nframes,
                    void **out, size_t *outlen);

#endif
