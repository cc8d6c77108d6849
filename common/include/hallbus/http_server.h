/* The HTTP server every daemon with web pages uses (hall-display's boards,
 * and next hall-counter's and hall-kiosk's pages): libh2o's HTTP/1.1 on the
 * daemon's own libuv loop. Not to be confused with the notifier's HTTP
 * *client* (services/notifier).
 *
 * What it does for every daemon, so that none does it again:
 *   - routes: exact paths and prefixes ("/api/" "*") to handlers, by method;
 *     404 and 405 (with Allow) answered with a JSON body that says why;
 *   - limits: connections overall and per client address (refused with a
 *     503 before any request is read), request header bytes (431), request
 *     body bytes (413), and a deadline for a whole request to arrive (a
 *     connection that sends nothing, or drips, is closed: slowloris);
 *   - HTTP/1.1 only: no h2c upgrade, no HTTP/2 prior knowledge (libh2o
 *     2.2.5's HTTP/2 predates the rapid-reset fixes); one response per
 *     connection, so nothing idles open and a stop is quick;
 *   - on every response: X-Content-Type-Options: nosniff, a content
 *     security policy (default-src 'self': no inline script or style),
 *     Referrer-Policy: no-referrer, X-Frame-Options: DENY,
 *     Cache-Control: no-store; and no Server banner;
 *   - JSON replies and JSON request bodies, query parameters, cookies;
 *   - live streams (Server-Sent Events): see http_stream.h.
 *
 * Everything runs on the loop's thread; nothing here is thread-safe. */
#ifndef HALLBUS_HTTP_SERVER_H
#define HALLBUS_HTTP_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "hallbus/http_assets.h"

typedef struct hb_http_server_s hb_http_server_t;
typedef struct hb_http_req_s hb_http_req_t;

/* Settings; a zero field takes the default in brackets. */
typedef struct {
    const char *listen;          /* "HOST:PORT"; port 0: the kernel chooses (hb_http_server_port) */
    unsigned max_connections;    /* open connections overall [10000] */
    unsigned max_per_client;     /* open connections from one client address [32] */
    unsigned max_streams;        /* live streams overall [max_connections] */
    size_t max_header_bytes;     /* request line and headers [16384]; more: 431 */
    size_t max_body_bytes;       /* request body [65536]; more: 413 */
    unsigned request_timeout_ms; /* a request must arrive whole within this [10000] */
    unsigned ping_ms;            /* keep-alive on SSE streams; 0: only hb_http_server_ping */
    unsigned stream_queue_max;   /* messages waiting for one slow stream [64]; more: it is ended */
} hb_http_server_config_t;

/* Counters for a daemon's /api/stats. */
typedef struct {
    unsigned connections;              /* open now */
    unsigned streams;                  /* live streams now */
    unsigned long requests;            /* requests handled */
    unsigned long refused_connections; /* over max_connections or max_per_client */
    unsigned long refused_streams;     /* over max_streams */
    unsigned long slow_ended;          /* streams ended because their client lagged */
} hb_http_stats_t;

/* Listens on CONFIG->listen (CONFIG is copied). Returns NULL only when
 * memory runs out; when it cannot listen, ERR says why and
 * hb_http_server_listening is false (shut it down and destroy it all the
 * same). The caller owns the server. */
hb_http_server_t *hb_http_server_new(uv_loop_t *loop, const hb_http_server_config_t *config,
                                     char *err, size_t errlen);

bool hb_http_server_listening(const hb_http_server_t *self);

/* The port listened on (the kernel's choice when asked for port 0). */
int hb_http_server_port(const hb_http_server_t *self);

/* Methods a route answers; HEAD is answered wherever GET is. */
#define HB_HTTP_GET 1u
#define HB_HTTP_HEAD 2u
#define HB_HTTP_POST 4u

/* A handler answers REQ before it returns: one hb_http_reply* call, or
 * hb_http_stream_start (http_stream.h). One that does neither gets a 500. */
typedef void (*hb_http_handler_fn)(hb_http_req_t *req, void *arg);

/* PATH is exact ("/api/state") or a prefix ending in '*' ("/window/" "*",
 * "/" "*" for everything else); an exact path wins over prefixes, the longest
 * prefix over shorter ones. Returns 0, or -1 when PATH is malformed. */
int hb_http_server_route(hb_http_server_t *self, const char *path, unsigned methods,
                         hb_http_handler_fn handler, void *arg);

/* GET and HEAD of "/NAME" served from ASSETS (borrowed, static), under
 * every path no other route takes. */
int hb_http_server_assets(hb_http_server_t *self, const hb_http_asset_t *assets);

void hb_http_server_stats(const hb_http_server_t *self, hb_http_stats_t *out);

/* Adds the counters to OBJ as "http_connections", "http_streams", ... */
void hb_http_server_stats_json(const hb_http_server_t *self, json_t *obj);

/* Stops listening, ends every stream and waits for the connections to
 * close (at most a couple of seconds), then calls DONE(ARG) from the loop. */
void hb_http_server_shutdown(hb_http_server_t *self, void (*done)(void *arg), void *arg);

/* After hb_http_server_shutdown's DONE, outside uv_run (h2o runs the loop
 * once itself to close its own handles). NULL-safe; sets *SELF to NULL. */
void hb_http_server_destroy(hb_http_server_t **self);

/* ── the request, inside a handler ──
 * Strings returned below belong to the request and live until the handler
 * returns; NULL means absent. */

const char *hb_http_req_method(const hb_http_req_t *req); /* "GET", "HEAD", "POST" */
const char *hb_http_req_path(const hb_http_req_t *req);   /* normalised, without the query */
const char *hb_http_req_query(hb_http_req_t *req, const char *name);  /* decoded */
const char *hb_http_req_header(hb_http_req_t *req, const char *name); /* case-insensitive */
const char *hb_http_req_cookie(hb_http_req_t *req, const char *name);
const char *hb_http_req_peer(hb_http_req_t *req); /* the client's address, "127.0.0.1" */

/* The raw body (POST); *LEN its length. Never NULL (empty: ""). */
const void *hb_http_req_body(hb_http_req_t *req, size_t *len);

/* The body parsed as JSON, at most MAX bytes (0: the server's limit); the
 * caller owns the returned reference. On failure it has already answered:
 * 413 (too long), 415 (not Content-Type: application/json: what a
 * cross-site form cannot send without asking) or 400 (invalid JSON, with
 * the parser's reason and position), and returns NULL. */
json_t *hb_http_req_json(hb_http_req_t *req, size_t max);

/* ── the answer ── */

/* Adds a response header (copied); before the reply. */
void hb_http_add_header(hb_http_req_t *req, const char *name, const char *value);

/* Set-Cookie: NAME=VALUE; Path=PATH; HttpOnly; SameSite=Strict, with
 * Max-Age=MAX_AGE_S when it is >= 0 (0 deletes it) and Secure when asked;
 * before the reply. Returns -1 (and sets nothing) when NAME or VALUE holds
 * a character a cookie cannot carry. */
int hb_http_set_cookie(hb_http_req_t *req, const char *name, const char *value, const char *path,
                       long max_age_s, bool secure);

/* The reply with BODY (copied). */
void hb_http_reply(hb_http_req_t *req, int status, const char *content_type, const void *body,
                   size_t len);

/* J (borrowed) as compact JSON, one line. */
void hb_http_reply_json(hb_http_req_t *req, int status, const json_t *j);

/* {"status":STATUS,"error":"..."}: a reason a person can read. */
void hb_http_reply_error(hb_http_req_t *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The asset NAME ("/board.html") of ASSETS, typed by its extension; 404
 * when there is none. */
void hb_http_reply_asset(hb_http_req_t *req, const hb_http_asset_t *assets, const char *name);

#endif
