/* hall-display's HTTP side, on the daemon's libuv loop with libh2o: the
 * boards' pages (embedded in the binary), the live streams (Server-Sent
 * Events) and the JSON of the view.
 *
 * Every message a stream carries is serialised once and shared by all
 * streams (reference counted), so a change costs one JSON dump however
 * many browsers watch, and no connection ever makes the loop wait: a stream
 * whose client does not keep up has older views replaced by the newest and,
 * if announcements still pile up, is ended (the browser reconnects).
 *
 *   GET /              the hall board            GET /window/N   a window screen
 *   GET /events        SSE: view, announce, ping GET /voice      SSE: announce
 *   GET /voice.txt     announcements, one line each (chunked text)
 *   GET /api/state     the view as JSON          GET /api/stats  counters */
#ifndef DISPLAY_HTTP_H
#define DISPLAY_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "view.h"

typedef struct dv_http_s dv_http_t;

/* Counters of /api/stats beyond the HTTP ones; the caller owns the object
 * returned and the function may return NULL. */
typedef json_t *(*dv_http_stats_fn)(void *arg);

/* Listens on ADDR ("HOST:PORT"). Returns NULL only when memory runs out;
 * when it cannot listen, ERR says why and dv_http_listening is false (shut
 * it down and destroy it all the same). */
dv_http_t *dv_http_new(uv_loop_t *loop, const char *addr, unsigned max_streams,
                       dv_http_stats_fn stats, void *stats_arg, char *err, size_t errlen);

/* The view's JSON (compact, one line): kept for /api/state and new
 * streams, and sent to every /events stream. */
void dv_http_publish_view(dv_http_t *self, const char *json, size_t len);

/* One announcement to every /events, /voice and /voice.txt stream; kept
 * (the last DV_ANNOUNCE_RING) for clients that reconnect with Last-Event-ID. */
void dv_http_publish_announce(dv_http_t *self, const dv_announce_t *a);

/* A keep-alive to every stream, so that clients can tell a live server. */
void dv_http_ping(dv_http_t *self);

bool dv_http_listening(const dv_http_t *self);
unsigned dv_http_streams(const dv_http_t *self);
unsigned dv_http_connections(const dv_http_t *self);

/* Stops listening, ends every stream and waits for the connections to
 * close (at most a couple of seconds), then calls DONE(ARG) from the loop. */
void dv_http_shutdown(dv_http_t *self, void (*done)(void *arg), void *arg);

/* After dv_http_shutdown's DONE, outside uv_run (h2o runs the loop once
 * itself to close its own handles). NULL-safe; sets *SELF to NULL. */
void dv_http_destroy(dv_http_t **self);

#endif
