/* hall-display's pages and streams, on the common HTTP server
 * (hallbus/http_server.h, which owns connections, limits and headers):
 * the boards' pages (embedded in the binary), the live streams
 * (Server-Sent Events) and the JSON of the view.
 *
 * Every message a stream carries is serialised once and shared by all
 * streams, so a change costs one JSON dump however many browsers watch.
 *
 *   GET /              the hall board            GET /window/N   a window screen
 *   GET /events        SSE: view, announce, ping GET /voice      SSE: announce, ping
 *   GET /voice.txt     announcements, one line each (chunked text)
 *   GET /api/state     the view as JSON          GET /api/stats  counters */
#ifndef DISPLAY_WEB_H
#define DISPLAY_WEB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "view.h"

typedef struct dv_web_s dv_web_t;

/* Counters of /api/stats beyond the HTTP ones; the caller owns the object
 * returned and the function may return NULL. */
typedef json_t *(*dv_web_stats_fn)(void *arg);

/* Serves the boards on ADDR ("HOST:PORT"), at most MAX_STREAMS live streams
 * and MAX_PER_CLIENT connections from one address. Returns NULL only when
 * memory runs out; when it cannot listen, ERR says why and
 * dv_web_listening is false (shut it down and destroy it all the same). */
dv_web_t *dv_web_new(uv_loop_t *loop, const char *addr, unsigned max_streams,
                     unsigned max_per_client, dv_web_stats_fn stats, void *stats_arg, char *err,
                     size_t errlen);

/* The view's JSON (compact, one line): kept for /api/state and new
 * streams, and sent to every /events stream. */
void dv_web_publish_view(dv_web_t *self, const char *json, size_t len);

/* One announcement to every /events, /voice and /voice.txt stream; kept
 * (the last DV_ANNOUNCE_RING) for clients that reconnect with Last-Event-ID. */
void dv_web_publish_announce(dv_web_t *self, const dv_announce_t *a);

/* A keep-alive to every stream, so that clients can tell a live server. */
void dv_web_ping(dv_web_t *self);

bool dv_web_listening(const dv_web_t *self);
unsigned dv_web_streams(const dv_web_t *self);

/* Stops listening, ends every stream and waits for the connections to
 * close (at most a couple of seconds), then calls DONE(ARG) from the loop. */
void dv_web_shutdown(dv_web_t *self, void (*done)(void *arg), void *arg);

/* After dv_web_shutdown's DONE, outside uv_run. NULL-safe; sets *SELF to NULL. */
void dv_web_destroy(dv_web_t **self);

#endif
