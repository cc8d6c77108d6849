#include "hallbus/socket.h"

#include <errno.h>
#include <stdio.h>
#include <zmq.h>

#include "hallbus/log.h"

void *hb_socket_open_opts(void *ctx, int type, const char *endpoint, int bind,
                          const hb_socket_opts_t *opts)
{
    void *s = zmq_socket(ctx, type);
    if (!s) {
        hb_error("cannot make a socket for %s: %s", endpoint, zmq_strerror(errno));
        return NULL;
    }
    zmq_setsockopt(s, ZMQ_LINGER, &opts->linger, sizeof opts->linger);
    zmq_setsockopt(s, ZMQ_SNDHWM, &opts->hwm, sizeof opts->hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &opts->hwm, sizeof opts->hwm);
    int64_t maxsize = opts->max_message > 0 ? opts->max_message : HB_SOCKET_MAX_FRAME;
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxsize, sizeof maxsize);
    if (type == ZMQ_DEALER && !opts->queue_while_disconnected) {
        /* queue nothing for a peer that is not connected: a command is
         * refused at once rather than run late when the peer comes back */
        int one = 1;
        zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof one);
    }
    if (hb_security_on(opts->security) &&
        (bind ? hb_security_bind(opts->security, s, opts->zap_domain ? opts->zap_domain : "")
              : hb_security_connect(opts->security, s, opts->server ? opts->server : "")) != 0) {
        hb_error("cannot secure the socket for %s", endpoint);
        zmq_close(s);
        return NULL;
    }
    if ((bind ? zmq_bind(s, endpoint) : zmq_connect(s, endpoint)) != 0) {
        hb_error("cannot %s %s: %s", bind ? "bind" : "connect to", endpoint, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

void *hb_socket_open(void *ctx, int type, const char *endpoint, int bind, int hwm, int linger)
{
    hb_socket_opts_t opts = {.hwm = hwm, .linger = linger};
    return hb_socket_open_opts(ctx, type, endpoint, bind, &opts);
}

int hb_topic_prefix(const char *hall, char out[HB_TOPIC_MAX])
{
    int n =
        hall ? snprintf(out, HB_TOPIC_MAX, "hall.%s.", hall) : snprintf(out, HB_TOPIC_MAX, "hall.");
    if (n < 0 || n >= HB_TOPIC_MAX) {
        out[0] = '\0';
        return -1;
    }
    return n;
}
