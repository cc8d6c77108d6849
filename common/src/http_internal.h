/* What the files of the common HTTP server share (http_server.c: the
 * server, connections and limits; http_request.c: routes, requests and
 * replies; http_stream.c: channels and streams; http_clients.c: counts per
 * client address). Not for daemons: they use http_server.h and
 * http_stream.h. */
#ifndef HALLBUS_HTTP_INTERNAL_H
#define HALLBUS_HTTP_INTERNAL_H

#define H2O_USE_LIBUV 1
#include <h2o.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "hallbus/http_server.h"
#include "hallbus/http_stream.h"

#define HB_HTTP_STREAM_CHANNELS 4 /* channels one stream may listen to */

/* ── per client address ── */

typedef struct hb_http_client_s hb_http_client_t;
typedef struct hb_http_clients_s hb_http_clients_t;

hb_http_clients_t *hb_http_clients_new(void);
void hb_http_clients_destroy(hb_http_clients_t **self);
/* The entry of SA's address with one more connection counted, or NULL
 * when it already has MAX. */
hb_http_client_t *hb_http_clients_acquire(hb_http_clients_t *self, const struct sockaddr *sa,
                                          unsigned max);
/* One connection less; the entry is freed with its last one. */
void hb_http_clients_release(hb_http_clients_t *self, hb_http_client_t *client);

/* ── messages, channels, streams ── */

struct hb_http_msg_s {
    int refs;
    unsigned flags;
    char event[24]; /* for HB_HTTP_MSG_LATEST: what "the same" is */
    size_t len;
    char data[];
};

typedef struct hb_http_stream_s hb_http_stream_t;

/* One stream on one channel: a link in the channel's list. */
typedef struct hb_http_sub_s {
    hb_http_stream_t *stream;
    hb_http_channel_t *channel;
    struct hb_http_sub_s *prev, *next;
} hb_http_sub_t;

struct hb_http_channel_s {
    hb_http_server_t *server;
    char *name;
    hb_http_sub_t *subs;
    unsigned nstreams;
    hb_http_channel_t *next; /* the server's list */
};

/* ── connections ── */

typedef struct {
    uv_tcp_t tcp; /* first: h2o's close callback gets the handle */
    hb_http_server_t *server;
    hb_http_client_t *client;
    h2o_socket_t *sock;       /* NULL once h2o closed it */
    hb_http_stream_t *stream; /* the live stream on it, if any */
} hb_http_conn_t;

/* ── the server ── */

typedef struct {
    char *path; /* without the '*' of a prefix */
    size_t len;
    bool prefix;
    unsigned methods;
    hb_http_handler_fn handler;
    void *arg;
} hb_http_route_t;

struct hb_http_server_s {
    uv_loop_t *loop;
    hb_http_server_config_t cfg;
    uv_tcp_t listener;
    bool listening, failed;
    int port;
    h2o_globalconf_t h2o_config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    hb_http_route_t *routes;
    size_t nroutes;
    hb_http_clients_t *clients;
    hb_http_channel_t *channels;
    hb_http_stream_t *streams; /* every live stream */
    hb_http_msg_t *ping;
    hb_http_stats_t stats;
    uv_timer_t ping_timer, grace;
    int pending_closes;
    bool grace_over, closing;
    void (*done)(void *arg);
    void *done_arg;
};

struct hb_http_req_s {
    hb_http_server_t *server;
    h2o_req_t *req;
    hb_http_conn_t *conn;
    const char *path;
    bool answered;
    hb_http_stream_t *stream; /* started by the handler */
};

/* http_request.c: a request from h2o, routed and answered */
void hb_http_dispatch(hb_http_server_t *server, h2o_req_t *req);

/* http_stream.c */
void hb_http_stream_flush_new(hb_http_req_t *req);
void hb_http_streams_end_all(hb_http_server_t *server);
void hb_http_channels_free(hb_http_server_t *server);
/* the h2o connection's socket of a request (for its peer, and to notice
 * that the client went away) */
hb_http_conn_t *hb_http_conn_of(h2o_req_t *req);

#endif
