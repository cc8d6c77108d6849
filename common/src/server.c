#include "hallbus/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "hallbus/log.h"
#include "hallbus/socket.h"
#include "hallbus/zsock_uv.h"

struct hb_server_s {
    hb_server_config_t config;
    hb_zsock_t *zs;
    hb_server_counters_t counters;
};

/* Copies the first N frames into ROUTE; false if they do not fit. */
static bool route_of(const zmq_msg_t *frames, int n, hb_route_t *route)
{
    size_t used = 0;
    route->nframes = 0;
    if (n < 1 || n > HB_ROUTE_FRAMES)
        return false;
    for (int i = 0; i < n; i++) {
        size_t len = zmq_msg_size((zmq_msg_t *)&frames[i]);
        if (len > HB_ROUTE_BYTES - used)
            return false;
        memcpy(route->data + used, zmq_msg_data((zmq_msg_t *)&frames[i]), len);
        route->len[i] = (uint16_t)len;
        used += len;
    }
    route->nframes = (uint8_t)n;
    return true;
}

static void refuse(hb_server_t *s, const hb_route_t *route, hb_server_refusal_t kind,
                   const char *why, size_t len)
{
    unsigned long *count = kind == HB_SERVER_BAD_FRAMING ? &s->counters.bad_framing
                           : kind == HB_SERVER_TOO_LARGE ? &s->counters.too_large
                                                         : &s->counters.malformed;
    ++*count;
    if (s->config.on_refused)
        s->config.on_refused(s, route, kind, why, len, s->config.arg);
}

static void on_msg(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    hb_server_t *s = arg;
    s->counters.received++;
    /* the delimiter: the first empty frame after at least one routing frame */
    int delim = -1;
    for (int i = 1; i < n && delim < 0; i++)
        if (zmq_msg_size(&frames[i]) == 0)
            delim = i;
    hb_route_t route;
    /* who: the key of the last frame (the ROUTER made up the routing id);
     * a key revoked since it connected gets no answer at all */
    route.role =
        hb_security_peer(s->config.security, &frames[n - 1], route.key_name, sizeof route.key_name);
    if (route.role == HB_ROLE_NONE) {
        s->counters.denied++;
        return;
    }
    if (delim < 0 || overflow || n != delim + 2) {
        char why[192];
        snprintf(why, sizeof why,
                 "expected an empty delimiter frame then one %s frame, got %d frame(s)%s",
                 s->config.request_desc->short_name, n - (delim < 0 ? 1 : delim),
                 overflow ? " or more" : "");
        if (route_of(frames, delim < 0 ? 1 : delim, &route))
            refuse(s, &route, HB_SERVER_BAD_FRAMING, why, 0);
        else
            s->counters.bad_framing++;
        return;
    }
    if (!route_of(frames, delim, &route)) {
        s->counters.bad_framing++; /* cannot be answered: no route kept */
        return;
    }

    const void *data = zmq_msg_data(&frames[n - 1]);
    size_t len = zmq_msg_size(&frames[n - 1]);
    if (len > s->config.request_max) {
        char why[64];
        snprintf(why, sizeof why, "request larger than %zu KiB", s->config.request_max >> 10);
        refuse(s, &route, HB_SERVER_TOO_LARGE, why, len);
        return;
    }
    ProtobufCMessage *req = NULL;
    const char *why = "not a protobuf request";
    int rc;
    if (s->config.decode) {
        rc = s->config.decode(data, len, &req, &why);
    } else {
        req = protobuf_c_message_unpack(s->config.request_desc, NULL, len, data);
        rc = req ? HB_DECODE_OK : HB_DECODE_MALFORMED;
    }
    if (rc == HB_DECODE_INVALID && req && s->config.on_invalid) {
        s->counters.invalid++;
        s->config.on_invalid(s, &route, req, why ? why : "invalid", s->config.arg);
        protobuf_c_message_free_unpacked(req, NULL);
        return;
    }
    if (rc != HB_DECODE_OK) {
        if (req) /* HB_DECODE_INVALID with no one to answer it */
            protobuf_c_message_free_unpacked(req, NULL);
        refuse(s, &route, rc == HB_DECODE_TOO_LARGE ? HB_SERVER_TOO_LARGE : HB_SERVER_MALFORMED,
               why ? why : "undecodable", len);
        return;
    }
    s->config.on_request(s, &route, req, s->config.arg);
    protobuf_c_message_free_unpacked(req, NULL);
}

static void on_turn(hb_zsock_t *zs, void *arg)
{
    hb_server_t *s = arg;
    if (s->config.on_batch)
        s->config.on_batch(s, s->config.arg);
}

hb_server_t *hb_server_new(uv_loop_t *loop, void *ctx, const hb_server_config_t *config)
{
    hb_server_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->config = *config;
    if (!s->config.request_max)
        s->config.request_max = HB_REQUEST_MAX;
    if (!s->config.hwm)
        s->config.hwm = 10000;
    hb_socket_opts_t opts = {.hwm = s->config.hwm,
                             .linger = s->config.linger,
                             .security = config->security,
                             .zap_domain = config->zap_domain};
    void *sock = hb_socket_open_opts(ctx, ZMQ_ROUTER, config->endpoint, 1, &opts);
    if (!sock) {
        free(s);
        return NULL;
    }
    s->zs = hb_zsock_new(loop, sock, on_msg, on_turn, s);
    if (!s->zs) {
        zmq_close(sock);
        free(s);
        return NULL;
    }
    if (s->config.batch_max > 0)
        hb_zsock_set_batch_max(s->zs, s->config.batch_max);
    return s;
}

int hb_server_reply_packed(hb_server_t *s, const hb_route_t *route, const void *data, size_t len)
{
    const void *bufs[HB_ROUTE_FRAMES + 2];
    size_t lens[HB_ROUTE_FRAMES + 2];
    size_t at = 0;
    int n = 0;
    for (; n < route->nframes; n++) {
        bufs[n] = route->data + at;
        lens[n] = route->len[n];
        at += route->len[n];
    }
    bufs[n] = "";
    lens[n++] = 0;
    bufs[n] = data;
    lens[n++] = len;
    if (!s->zs || route->nframes == 0 ||
        hb_zsock_sendv(hb_zsock_socket(s->zs), bufs, lens, n) != 0) {
        s->counters.dropped++;
        return -1;
    }
    s->counters.replied++;
    return 0;
}

int hb_server_reply(hb_server_t *s, const hb_route_t *route, const ProtobufCMessage *reply)
{
    size_t len = protobuf_c_message_get_packed_size(reply);
    uint8_t stackbuf[4096];
    uint8_t *buf = len <= sizeof stackbuf ? stackbuf : malloc(len);
    if (!buf) {
        s->counters.dropped++;
        errno = ENOMEM;
        return -1;
    }
    protobuf_c_message_pack(reply, buf);
    int rc = hb_server_reply_packed(s, route, buf, len);
    int e = errno;
    if (buf != stackbuf)
        free(buf);
    errno = e;
    return rc;
}

const hb_server_counters_t *hb_server_counters(const hb_server_t *s)
{
    return &s->counters;
}

void hb_server_close(hb_server_t **ps)
{
    if (!ps || !*ps)
        return;
    hb_server_t *s = *ps;
    *ps = NULL;
    hb_zsock_close(&s->zs);
    free(s);
}
