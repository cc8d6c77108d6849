/* hall-display's routes on the common HTTP server: the pages, the view as
 * JSON, the live streams and the announcements kept for reconnecting
 * browsers. Connections, limits, headers and fan-out are the server's. */
#include "web.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/http_server.h"
#include "hallbus/http_stream.h"
#include "view_json.h"

HB_HTTP_ASSETS(dv_assets); /* services/display/web/, embedded by CMake */

struct dv_web_s {
    hb_http_server_t *server;
    hb_http_channel_t *views;     /* /events */
    hb_http_channel_t *announces; /* /events and /voice */
    hb_http_channel_t *texts;     /* /voice.txt */
    hb_http_msg_t *view;          /* the latest view, SSE-framed */
    char *view_json;              /* the same JSON, bare, for /api/state */
    size_t view_len;
    struct {
        int64_t id;
        hb_http_msg_t *sse;
    } ring[DV_ANNOUNCE_RING];
    size_t ring_start, ring_count;
    hb_http_msg_t *text_head; /* the first line of /voice.txt */
    dv_web_stats_fn stats;
    void *stats_arg;
};

/* ── publishing ── */

void dv_web_publish_view(dv_web_t *self, const char *json, size_t len)
{
    hb_http_msg_unref(&self->view);
    self->view = hb_http_msg_sse("view", NULL, json, len, HB_HTTP_MSG_LATEST);
    char *copy = malloc(len + 1);
    if (!copy)
        abort();
    memcpy(copy, json, len);
    copy[len] = '\0';
    free(self->view_json);
    self->view_json = copy;
    self->view_len = len;
    hb_http_channel_publish(self->views, self->view);
}

void dv_web_publish_announce(dv_web_t *self, const dv_announce_t *a)
{
    json_t *j = dv_announce_json(a);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text)
        return;
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, a->id);
    hb_http_msg_t *sse = hb_http_msg_sse("announce", id, text, strlen(text), 0);
    free(text);
    char line[3 * DV_TEXT_MAX];
    int n = snprintf(line, sizeof line, "%lld\t%s\t%u\t%s\t%s\n", (long long)a->id, a->number,
                     a->window, a->zh, a->en);
    if (n < 0 || (size_t)n >= sizeof line)
        n = (int)sizeof line - 1;
    hb_http_msg_t *txt = hb_http_msg_raw(line, (size_t)n);

    size_t at = (self->ring_start + self->ring_count) % DV_ANNOUNCE_RING;
    if (self->ring_count == DV_ANNOUNCE_RING) {
        hb_http_msg_unref(&self->ring[at].sse);
        self->ring_start = (self->ring_start + 1) % DV_ANNOUNCE_RING;
    } else {
        self->ring_count++;
    }
    self->ring[at].id = a->id;
    self->ring[at].sse = hb_http_msg_ref(sse);
    hb_http_channel_publish(self->announces, sse);
    hb_http_channel_publish(self->texts, txt);
    hb_http_msg_unref(&sse);
    hb_http_msg_unref(&txt);
}

void dv_web_ping(dv_web_t *self)
{
    hb_http_server_ping(self->server);
}

bool dv_web_listening(const dv_web_t *self)
{
    return hb_http_server_listening(self->server);
}

unsigned dv_web_streams(const dv_web_t *self)
{
    hb_http_stats_t st;
    hb_http_server_stats(self->server, &st);
    return st.streams;
}

/* ── routes ── */

static void on_board(hb_http_req_t *req, void *arg)
{
    hb_http_reply_asset(req, dv_assets, "/board.html");
}

static void on_window(hb_http_req_t *req, void *arg)
{
    hb_http_reply_asset(req, dv_assets, "/window.html");
}

/* The id a reconnecting EventSource sends: announcements after it follow. */
static bool last_event_id(hb_http_req_t *req, int64_t *after)
{
    const char *v = hb_http_req_header(req, "last-event-id");
    if (!v || !*v)
        return false;
    char *end;
    long long id = strtoll(v, &end, 10);
    if (*end != '\0')
        return false;
    *after = id;
    return true;
}

/* a client that reconnects gets the announcements it missed; a new one
 * only what comes from now on (it should not speak old calls) */
static void replay(dv_web_t *w, hb_http_req_t *req)
{
    int64_t after;
    if (!last_event_id(req, &after))
        return;
    for (size_t i = 0; i < w->ring_count; i++) {
        size_t at = (w->ring_start + i) % DV_ANNOUNCE_RING;
        if (w->ring[at].id > after)
            hb_http_stream_push(req, w->ring[at].sse);
    }
}

static void on_events(hb_http_req_t *req, void *arg)
{
    dv_web_t *w = arg;
    hb_http_channel_t *channels[] = {w->views, w->announces};
    if (hb_http_stream_start(req, NULL, channels, 2, HB_HTTP_STREAM_PINGS) != 0)
        return;
    if (w->view)
        hb_http_stream_push(req, w->view);
    replay(w, req);
}

static void on_voice(hb_http_req_t *req, void *arg)
{
    dv_web_t *w = arg;
    if (hb_http_stream_start(req, NULL, &w->announces, 1, HB_HTTP_STREAM_PINGS) == 0)
        replay(w, req);
}

static void on_voice_text(hb_http_req_t *req, void *arg)
{
    dv_web_t *w = arg;
    if (hb_http_stream_start(req, "text/plain; charset=utf-8", &w->texts, 1, 0) == 0)
        hb_http_stream_push(req, w->text_head);
}

static void on_state(hb_http_req_t *req, void *arg)
{
    dv_web_t *w = arg;
    if (!w->view_json) {
        hb_http_reply_error(req, 503, "no view yet");
        return;
    }
    char *body = malloc(w->view_len + 1);
    if (!body)
        abort();
    memcpy(body, w->view_json, w->view_len);
    body[w->view_len] = '\n';
    hb_http_reply(req, 200, "application/json", body, w->view_len + 1);
    free(body);
}

static void on_stats(hb_http_req_t *req, void *arg)
{
    dv_web_t *w = arg;
    json_t *j = w->stats ? w->stats(w->stats_arg) : NULL;
    if (!j) {
        j = json_object();
        json_object_set_new(j, "stats_error", json_true());
    }
    hb_http_server_stats_json(w->server, j);
    hb_http_reply_json(req, 200, j);
    json_decref(j);
}

/* ── lifecycle ── */

dv_web_t *dv_web_new(uv_loop_t *loop, const char *addr, unsigned max_streams,
                     unsigned max_per_client, dv_web_stats_fn stats, void *stats_arg, char *err,
                     size_t errlen)
{
    dv_web_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    hb_http_server_config_t cfg = {
        .listen = addr,
        .max_streams = max_streams,
        .max_connections = max_streams + 256, /* room for pages and JSON beside the streams */
        .max_per_client = max_per_client,
    };
    w->server = hb_http_server_new(loop, &cfg, err, errlen);
    if (!w->server) {
        free(w);
        return NULL;
    }
    w->stats = stats;
    w->stats_arg = stats_arg;
    w->views = hb_http_channel_new(w->server, "view");
    w->announces = hb_http_channel_new(w->server, "announce");
    w->texts = hb_http_channel_new(w->server, "voice.txt");
    static const char head[] = "# id\tnumber\twindow\tzh\ten\n";
    w->text_head = hb_http_msg_raw(head, sizeof head - 1);

    hb_http_server_t *s = w->server;
    hb_http_server_route(s, "/", HB_HTTP_GET, on_board, w);
    hb_http_server_route(s, "/index.html", HB_HTTP_GET, on_board, w);
    hb_http_server_route(s, "/window/*", HB_HTTP_GET, on_window, w);
    hb_http_server_route(s, "/events", HB_HTTP_GET, on_events, w);
    hb_http_server_route(s, "/voice", HB_HTTP_GET, on_voice, w);
    hb_http_server_route(s, "/voice.txt", HB_HTTP_GET, on_voice_text, w);
    hb_http_server_route(s, "/api/state", HB_HTTP_GET, on_state, w);
    hb_http_server_route(s, "/api/stats", HB_HTTP_GET, on_stats, w);
    hb_http_server_assets(s, dv_assets);
    return w;
}

void dv_web_shutdown(dv_web_t *self, void (*done)(void *arg), void *arg)
{
    hb_http_server_shutdown(self->server, done, arg);
}

void dv_web_destroy(dv_web_t **selfp)
{
    dv_web_t *w = *selfp;
    if (!w)
        return;
    *selfp = NULL;
    hb_http_server_destroy(&w->server);
    hb_http_msg_unref(&w->view);
    hb_http_msg_unref(&w->text_head);
    for (size_t i = 0; i < w->ring_count; i++)
        hb_http_msg_unref(&w->ring[(w->ring_start + i) % DV_ANNOUNCE_RING].sse);
    free(w->view_json);
    free(w);
}
