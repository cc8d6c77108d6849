/* Live streams of the common HTTP server (http_server.h): Server-Sent
 * Events, or plain chunked text, fed by named channels.
 *
 * A message is serialised once and shared (reference counted) by every
 * stream it goes to, so publishing costs one serialisation and one queue
 * entry per subscriber. No stream ever makes the loop wait: a stream whose
 * client does not keep up has its older "latest-only" messages (a view, a
 * ping) replaced by the newest, and past stream_queue_max waiting messages
 * it is ended (the browser reconnects). A stream whose client went away is
 * freed at once, not at the next write. */
#ifndef HALLBUS_HTTP_STREAM_H
#define HALLBUS_HTTP_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "hallbus/http_server.h"

typedef struct hb_http_msg_s hb_http_msg_t;
typedef struct hb_http_channel_s hb_http_channel_t;

/* Only the newest message of the same event matters to a lagging client. */
#define HB_HTTP_MSG_LATEST 1u

/* An SSE message: "event: EVENT\nid: ID\ndata: DATA\n\n" (ID may be NULL;
 * DATA's own newlines become more data lines). The caller owns the one
 * reference returned. Never NULL (out of memory aborts, as everywhere). */
hb_http_msg_t *hb_http_msg_sse(const char *event, const char *id, const char *data, size_t len,
                               unsigned flags);

/* Bytes sent as they are (a text stream's line). The caller owns it. */
hb_http_msg_t *hb_http_msg_raw(const void *data, size_t len);

hb_http_msg_t *hb_http_msg_ref(hb_http_msg_t *msg);
void hb_http_msg_unref(hb_http_msg_t **msg); /* NULL-safe; sets *MSG to NULL */

/* A channel named NAME (copied), owned by SERVER and freed with it. */
hb_http_channel_t *hb_http_channel_new(hb_http_server_t *server, const char *name);

/* MSG (borrowed) to every stream on CHANNEL. */
void hb_http_channel_publish(hb_http_channel_t *channel, hb_http_msg_t *msg);

unsigned hb_http_channel_streams(const hb_http_channel_t *channel);

/* Stream options. */
#define HB_HTTP_STREAM_PINGS 1u /* gets the server's pings (SSE streams) */

/* Turns REQ into a live stream on CHANNELS (N of them, borrowed): content
 * type CONTENT_TYPE (NULL: text/event-stream). Messages for this stream
 * alone (the current view, a replay) follow with hb_http_stream_push; the
 * headers leave when the handler returns, with what was pushed (an SSE
 * stream with nothing pushed gets a ping, so that they leave at once).
 * Returns 0, or -1 after answering 503 when max_streams are live. */
int hb_http_stream_start(hb_http_req_t *req, const char *content_type,
                         hb_http_channel_t *const *channels, size_t n, unsigned flags);

/* MSG (borrowed) to the stream REQ has just started; ignored past
 * stream_queue_max or when no stream was started. */
void hb_http_stream_push(hb_http_req_t *req, hb_http_msg_t *msg);

/* A ping ("event: ping", data {}) to every stream that takes them. */
void hb_http_server_ping(hb_http_server_t *self);

#endif
