#include "hallbus/rpc_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "hallbus/clock.h"
#include "hallbus/client.h"
#include "hallbus/envelope.h"
#include "request_id.h"

struct hb_rpc_s {
    void *ctx;
    int own_ctx;
    void *sock;
    int timeout_ms;
    uint64_t next_id;
};

hb_rpc_t *hb_rpc_new(void *ctx, const char *endpoint, int timeout_ms)
{
    return hb_rpc_new_secure(ctx, endpoint, timeout_ms, NULL, NULL);
}

hb_rpc_t *hb_rpc_new_secure(void *ctx, const char *endpoint, int timeout_ms,
                            const hb_security_t *security, const char *server)
{
    hb_rpc_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->own_ctx = ctx == NULL;
    self->ctx = ctx ? ctx : zmq_ctx_new();
    self->sock = zmq_socket(self->ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (hb_security_connect(security, self->sock, server ? server : "") != 0 ||
        zmq_connect(self->sock, endpoint) != 0) {
        hb_rpc_destroy(&self);
        return NULL;
    }
    self->timeout_ms = timeout_ms;
    /* ids unique across clients of one process, and across runs, so a stale
     * reply can never be mistaken for a fresh one */
    self->next_id = hb_request_id_first(self);
    return self;
}

void hb_rpc_destroy(hb_rpc_t **pself)
{
    if (!pself || !*pself)
        return;
    hb_rpc_t *self = *pself;
    *pself = NULL;
    if (self->sock)
        zmq_close(self->sock);
    if (self->own_ctx)
        zmq_ctx_term(self->ctx);
    free(self);
}

/* Waits for one reply message; returns its payload frame, or -1 on timeout. */
static int recv_reply(hb_rpc_t *self, int64_t deadline_us, zmq_msg_t *payload)
{
    for (;;) {
        int64_t left_ms = (deadline_us - hb_mono_us()) / 1000;
        if (left_ms < 0)
            return -1;
        zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&item, 1, (long)left_ms);
        if (rc < 0 && errno != EINTR)
            return -1;
        if (rc <= 0)
            continue;
        /* [empty][payload]; anything else is drained and ignored */
        zmq_msg_t first;
        zmq_msg_init(&first);
        if (zmq_msg_recv(&first, self->sock, 0) < 0) {
            zmq_msg_close(&first);
            return -1;
        }
        int more = zmq_msg_more(&first);
        size_t first_len = zmq_msg_size(&first);
        zmq_msg_close(&first);
        if (!more || first_len != 0) {
            while (more) {
                zmq_msg_t junk;
                zmq_msg_init(&junk);
                zmq_msg_recv(&junk, self->sock, 0);
                more = zmq_msg_more(&junk);
                zmq_msg_close(&junk);
            }
            continue;
        }
        zmq_msg_init(payload);
        zmq_msg_recv(payload, self->sock, 0);
        while (zmq_msg_more(payload)) {
            zmq_msg_t junk;
            zmq_msg_init(&junk);
            zmq_msg_recv(&junk, self->sock, 0);
            int m = zmq_msg_more(&junk);
            zmq_msg_close(&junk);
            if (!m)
                break;
        }
        return 0;
    }
}

ProtobufCMessage *hb_rpc_call_msg(hb_rpc_t *self, ProtobufCMessage *req,
                                  const ProtobufCMessageDescriptor *reply_desc, char *err,
                                  size_t errlen)
{
    const ProtobufCFieldDescriptor *req_id = hb_request_id_field(req->descriptor);
    const ProtobufCFieldDescriptor *reply_id = hb_request_id_field(reply_desc);
    if (!req_id || !reply_id) {
        snprintf(err, errlen, "%s or %s has no uint64 request_id", req->descriptor->short_name,
                 reply_desc->short_name);
        return NULL;
    }
    if (++self->next_id == 0) /* 0 is "the server could not read the request" */
        ++self->next_id;
    uint64_t id = self->next_id;
    hb_request_id_set(req, req_id, id);
    size_t len = protobuf_c_message_get_packed_size(req);
    uint8_t stackbuf[4096];
    uint8_t *buf = len <= sizeof stackbuf ? stackbuf : malloc(len);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    protobuf_c_message_pack(req, buf);
    int rc = zmq_send(self->sock, "", 0, ZMQ_SNDMORE);
    if (rc == 0)
        rc = zmq_send(self->sock, buf, len, 0) < 0 ? -1 : 0;
    if (buf != stackbuf)
        free(buf);
    if (rc != 0) {
        snprintf(err, errlen, "cannot send: %s", zmq_strerror(errno));
        return NULL;
    }
    int64_t deadline = hb_mono_us() + (int64_t)self->timeout_ms * 1000;
    for (;;) {
        zmq_msg_t payload;
        if (recv_reply(self, deadline, &payload) != 0) {
            snprintf(err, errlen, "no reply within %d ms", self->timeout_ms);
            return NULL;
        }
        size_t plen = zmq_msg_size(&payload);
        ProtobufCMessage *reply =
            plen <= HB_RPC_REPLY_MAX
                ? protobuf_c_message_unpack(reply_desc, NULL, plen, zmq_msg_data(&payload))
                : NULL;
        zmq_msg_close(&payload);
        if (!reply) {
            if (plen > HB_RPC_REPLY_MAX)
                snprintf(err, errlen, "reply larger than %u MiB", HB_RPC_REPLY_MAX >> 20);
            else
                snprintf(err, errlen, "reply is not a protobuf %s", reply_desc->short_name);
            return NULL;
        }
        /* 0: the server could not read the request, so not its id either */
        uint64_t got = hb_request_id_get(reply, reply_id);
        if (got == id || got == 0)
            return reply;
        protobuf_c_message_free_unpacked(reply, NULL); /* a late answer to an earlier call */
    }
}

Hallbus__Reply *hb_rpc_call(hb_rpc_t *self, Hallbus__Request *req, char *err, size_t errlen)
{
    ProtobufCMessage *reply =
        hb_rpc_call_msg(self, &req->base, &hallbus__reply__descriptor, err, errlen);
    if (!reply && strncmp(err, "no reply", 8) == 0) /* as hallctl has always said it */
        snprintf(err, errlen, "no reply within %d ms (is hall-queue running?)", self->timeout_ms);
    return (Hallbus__Reply *)reply;
}

int hb_rpc_call_raw(hb_rpc_t *self, const void *const *frames, const size_t *lens, int nframes,
                    void **out, size_t *outlen)
{
    for (int i = 0; i < nframes; i++)
        if (zmq_send(self->sock, frames[i], lens[i], i + 1 < nframes ? ZMQ_SNDMORE : 0) < 0)
            return -1;
    zmq_msg_t payload;
    if (recv_reply(self, hb_mono_us() + (int64_t)self->timeout_ms * 1000, &payload) != 0)
        return -1;
    *outlen = zmq_msg_size(&payload);
    *out = malloc(*outlen ? *outlen : 1);
    memcpy(*out, zmq_msg_data(&payload), *outlen);
    zmq_msg_close(&payload);
    return 0;
}
