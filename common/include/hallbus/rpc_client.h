/* A blocking client for tools and tests: one DEALER socket, REQ
 * framing (empty delimiter, then the Request), replies matched by
 * request_id so that a reply arriving after its timeout is discarded
 * rather than taken for the next one's. */
#ifndef HALLBUS_RPC_CLIENT_H
#define HALLBUS_RPC_CLIENT_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "hallbus.pb-c.h"

#define HB_RPC_REPLY_MAX (64u << 20) /* default bound on a reply */

typedef struct hb_rpc_s hb_rpc_t;

/* Connects to ENDPOINT. CTX may be NULL (the client makes its own).
 * Returns NULL on failure. */
hb_rpc_t *hb_rpc_new(void *ctx, const char *endpoint, int timeout_ms);
void hb_rpc_destroy(hb_rpc_t **self);

/* Sends REQ (its request_id is set by the client) and waits for the reply
 * with that id, or with id 0: an error reply to a request the server could
 * not read (malformed, too large).
 * Returns the reply, which the caller owns (hallbus__reply__free_unpacked),
 * or NULL with ERR filled: timeout, or an undecodable reply. */
Hallbus__Reply *hb_rpc_call(hb_rpc_t *self, Hallbus__Request *req, char *err, size_t errlen);

/* The same for any protobuf-c request REQ whose descriptor has a uint64
 * "request_id" (set by the client), waiting for a reply of REPLY_DESC
 * (which must have one too) with that id or id 0, decoded only when it is
 * at most REPLY_MAX bytes (0: HB_RPC_REPLY_MAX). The caller owns the reply
 * (protobuf_c_message_free_unpacked); NULL with ERR filled: timeout, too
 * large, undecodable, or a type without request_id. */
ProtobufCMessage *hb_rpc_call_msg(hb_rpc_t *self, ProtobufCMessage *req,
                                  const ProtobufCMessageDescriptor *reply_desc, size_t reply_max,
                                  char *err, size_t errlen);

/* Sends raw frames and returns the raw reply payload (the frame after the
 * delimiter), for tests that speak bad bytes. Caller frees *OUT. */
int hb_rpc_call_raw(hb_rpc_t *self, const void *const *frames, const size_t *lens, int nframes,
                    void **out, size_t *outlen);

#endif
