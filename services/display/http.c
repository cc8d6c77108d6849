#define H2O_USE_LIBUV 1
#include "http.h"

#include <h2o.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "hallbus/log.h"
#include "view_json.h"

#define QUEUE_MAX 64        /* messages waiting for one slow stream */
#define CLOSE_GRACE_MS 2000 /* how long a stop waits for connections to close */
#define LISTEN_BACKLOG 4096

/* ── shared messages ── */

typedef enum { MSG_VIEW, MSG_ANNOUNCE, MSG_PING, MSG_TEXT } msg_kind_t;

typedef struct {
    int refs;
    msg_kind_t kind;
    int64_t id; /* announcements: their id */
    size_t len;
    char data[];
} msg_t;

static msg_t *msg_new(msg_kind_t kind, int64_t id, size_t len)
{
    msg_t *m = malloc(sizeof *m + len + 1);
    if (!m)
        abort();
    m->refs = 1;
    m->kind = kind;
    m->id = id;
    m->len = len;
    return m;
}

static msg_t *msg_ref(msg_t *m)
{
    m->refs++;
    return m;
}

static void msg_unref(msg_t **m)
{
    if (*m && --(*m)->refs == 0)
        free(*m);
    *m = NULL;
}

/* ── streams ── */

typedef enum { STREAM_EVENTS, STREAM_VOICE, STREAM_VOICE_TEXT } stream_kind_t;

typedef struct stream_s {
    h2o_generator_t gen; /* first: h2o hands it back to us */
    h2o_req_t *req;
    struct dv_http_s *http;
    stream_kind_t kind;
    struct stream_s *prev, *next;
    msg_t *queue[QUEUE_MAX];
    size_t nqueue;
    msg_t *inflight[QUEUE_MAX + 1];
    h2o_iovec_t bufs[QUEUE_MAX + 1];
    size_t ninflight;
    bool sending; /* h2o has bufs of ours until it calls proceed */
    bool ending;  /* send what is queued, then the end */
    bool done;    /* the end was sent, or the client left */
} stream_t;

typedef struct {
    uv_tcp_t tcp; /* first: h2o's close callback gets the handle */
    struct dv_http_s *http;
} conn_t;

typedef struct {
    h2o_handler_t super;
    struct dv_http_s *http;
} handler_t;

struct dv_http_s {
    uv_loop_t *loop;
    uv_tcp_t listener;
    bool listening;
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    stream_t *streams;
    unsigned nstreams, max_streams, nconns;
    unsigned long requests, refused_streams, slow_ended;
    msg_t *view;      /* the latest view, SSE-framed */
    msg_t *view_json; /* the same JSON, bare, for /api/state */
    msg_t *ring_sse[DV_ANNOUNCE_RING];
    msg_t *ring_txt[DV_ANNOUNCE_RING];
    size_t ring_start, ring_count;
    msg_t *ping;
    msg_t *text_head; /* the first line of /voice.txt */
    dv_http_stats_fn stats;
    void *stats_arg;
    uv_timer_t grace;
    int pending_closes;
    bool grace_over;
    void (*done)(void *arg);
    void *done_arg;
    bool closing;
    bool failed; /* could not listen */
};

static void flush(stream_t *st);

static void stream_unlink(stream_t *st)
{
    dv_http_t *h = st->http;
    if (!h)
        return;
    if (st->prev)
        st->prev->next = st->next;
    else
        h->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    st->prev = st->next = NULL;
    st->http = NULL;
    h->nstreams--;
}

static void release_inflight(stream_t *st)
{
    for (size_t i = 0; i < st->ninflight; i++)
        msg_unref(&st->inflight[i]);
    st->ninflight = 0;
}

static void on_stream_dispose(void *p)
{
    stream_t *st = p;
    stream_unlink(st);
    release_inflight(st);
    for (size_t i = 0; i < st->nqueue; i++)
        msg_unref(&st->queue[i]);
    st->nqueue = 0;
}

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    stream_t *st = (stream_t *)gen;
    st->sending = false;
    release_inflight(st);
    flush(st);
}

static void on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    stream_t *st = (stream_t *)gen;
    st->done = true; /* the client left: the request is disposed next */
    stream_unlink(st);
}

static void flush(stream_t *st)
{
    if (st->sending || st->done)
        return;
    if (st->nqueue == 0 && !st->ending)
        return;
    for (size_t i = 0; i < st->nqueue; i++) {
        st->inflight[i] = st->queue[i];
        st->bufs[i] = h2o_iovec_init(st->queue[i]->data, st->queue[i]->len);
    }
    st->ninflight = st->nqueue;
    st->nqueue = 0;
    h2o_send_state_t state = H2O_SEND_STATE_IN_PROGRESS;
    if (st->ending) {
        state = H2O_SEND_STATE_FINAL;
        st->done = true;
        stream_unlink(st);
    }
    st->sending = true;
    h2o_send(st->req, st->bufs, st->ninflight, state);
}

static void enqueue(stream_t *st, msg_t *m)
{
    if (st->done || st->ending)
        return;
    if (m->kind == MSG_VIEW || m->kind == MSG_PING) {
        /* only the newest view (or ping) matters to a client that lags */
        size_t k = 0;
        for (size_t i = 0; i < st->nqueue; i++) {
            if (st->queue[i]->kind == m->kind)
                msg_unref(&st->queue[i]);
            else
                st->queue[k++] = st->queue[i];
        }
        st->nqueue = k;
    }
    if (st->nqueue == QUEUE_MAX) {
        st->http->slow_ended++;
        st->ending = true; /* the browser reconnects and gets a fresh view */
    } else {
        st->queue[st->nqueue++] = msg_ref(m);
    }
    flush(st);
}

static bool stream_wants(const stream_t *st, const msg_t *m)
{
    switch (st->kind) {
    case STREAM_EVENTS:
        return m->kind != MSG_TEXT;
    case STREAM_VOICE:
        return m->kind == MSG_ANNOUNCE || m->kind == MSG_PING;
    case STREAM_VOICE_TEXT:
        return m->kind == MSG_TEXT;
    }
    return false;
}

static void broadcast(dv_http_t *h, msg_t *m)
{
    for (stream_t *st = h->streams, *next; st; st = next) {
        next = st->next; /* enqueue may end and unlink it */
        if (stream_wants(st, m))
            enqueue(st, m);
    }
}

/* ── publishing ── */

static msg_t *sse_msg(msg_kind_t kind, const char *event, int64_t id, const char *json, size_t len)
{
    char head[96];
    int hl = id ? snprintf(head, sizeof head, "event: %s\nid: %lld\ndata: ", event, (long long)id)
                : snprintf(head, sizeof head, "event: %s\ndata: ", event);
    msg_t *m = msg_new(kind, id, (size_t)hl + len + 2);
    memcpy(m->data, head, (size_t)hl);
    memcpy(m->data + hl, json, len);
    memcpy(m->data + hl + len, "\n\n", 2);
    return m;
}

void dv_http_publish_view(dv_http_t *self, const char *json, size_t len)
{
    msg_unref(&self->view);
    msg_unref(&self->view_json);
    self->view = sse_msg(MSG_VIEW, "view", 0, json, len);
    self->view_json = msg_new(MSG_TEXT, 0, len + 1);
    memcpy(self->view_json->data, json, len);
    self->view_json->data[len] = '\n';
    broadcast(self, self->view);
}

void dv_http_publish_announce(dv_http_t *self, const dv_announce_t *a)
{
    json_t *j = dv_announce_json(a);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text)
        return;
    msg_t *sse = sse_msg(MSG_ANNOUNCE, "announce", a->id, text, strlen(text));
    free(text);
    char line[3 * DV_TEXT_MAX];
    int n = snprintf(line, sizeof line, "%lld\t%s\t%u\t%s\t%s\n", (long long)a->id, a->number,
                     a->window, a->zh, a->en);
    if (n < 0 || (size_t)n >= sizeof line)
        n = (int)sizeof line - 1;
    msg_t *txt = msg_new(MSG_TEXT, a->id, (size_t)n);
    memcpy(txt->data, line, (size_t)n);

    size_t at = (self->ring_start + self->ring_count) % DV_ANNOUNCE_RING;
    if (self->ring_count == DV_ANNOUNCE_RING) {
        msg_unref(&self->ring_sse[at]);
        msg_unref(&self->ring_txt[at]);
        self->ring_start = (self->ring_start + 1) % DV_ANNOUNCE_RING;
    } else {
        self->ring_count++;
    }
    self->ring_sse[at] = sse;
    self->ring_txt[at] = txt;
    broadcast(self, sse);
    broadcast(self, txt);
}

void dv_http_ping(dv_http_t *self)
{
    broadcast(self, self->ping);
}

bool dv_http_listening(const dv_http_t *self)
{
    return !self->failed;
}

unsigned dv_http_streams(const dv_http_t *self)
{
    return self->nstreams;
}

unsigned dv_http_connections(const dv_http_t *self)
{
    return self->nconns;
}

/* ── requests ── */

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (strcmp(dot, ".js") == 0)
        return "application/javascript; charset=utf-8";
    if (strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp(dot, ".png") == 0)
        return "image/png";
    if (strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    return "application/octet-stream";
}

static void header(h2o_req_t *req, const h2o_token_t *token, const char *value)
{
    h2o_add_header(&req->pool, &req->res.headers, token, NULL, value, strlen(value));
}

static int send_bytes(h2o_req_t *req, const char *type, const void *data, size_t len)
{
    req->res.status = 200;
    req->res.reason = "OK";
    header(req, H2O_TOKEN_CONTENT_TYPE, type);
    header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
    h2o_send_inline(req, data, len);
    return 0;
}

static int send_asset(h2o_req_t *req, const char *name)
{
    const dv_asset_t *a = dv_asset_find(name, strlen(name));
    if (!a) {
        h2o_send_error_404(req, "Not Found", "not found\n", 0);
        return 0;
    }
    return send_bytes(req, content_type(a->path), a->data, a->len);
}

/* The id a reconnecting EventSource sends: announcements after it follow. */
static int64_t last_event_id(h2o_req_t *req, bool *given)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("last-event-id"), -1);
    *given = false;
    if (i < 0)
        return 0;
    h2o_iovec_t v = req->headers.entries[i].value;
    char buf[32];
    if (v.len == 0 || v.len >= sizeof buf)
        return 0;
    memcpy(buf, v.base, v.len);
    buf[v.len] = '\0';
    char *end;
    long long id = strtoll(buf, &end, 10);
    if (*end != '\0')
        return 0;
    *given = true;
    return id;
}

static int start_stream(dv_http_t *h, h2o_req_t *req, stream_kind_t kind)
{
    if (h->closing || h->nstreams >= h->max_streams) {
        h->refused_streams++;
        h2o_send_error_503(req, "Service Unavailable", "too many live streams\n", 0);
        return 0;
    }
    stream_t *st = h2o_mem_alloc_shared(&req->pool, sizeof *st, on_stream_dispose);
    memset(st, 0, sizeof *st);
    st->gen.proceed = on_proceed;
    st->gen.stop = on_stop;
    st->req = req;
    st->http = h;
    st->kind = kind;
    st->next = h->streams;
    if (h->streams)
        h->streams->prev = st;
    h->streams = st;
    h->nstreams++;

    req->res.status = 200;
    req->res.reason = "OK";
    bool text = kind == STREAM_VOICE_TEXT;
    header(req, H2O_TOKEN_CONTENT_TYPE,
           text ? "text/plain; charset=utf-8" : "text/event-stream; charset=utf-8");
    header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
    h2o_start_response(req, &st->gen);

    /* a client that reconnects gets the announcements it missed; a new
     * one only what comes from now on (it should not speak old calls) */
    bool given;
    int64_t after = last_event_id(req, &given);
    if (kind == STREAM_EVENTS && h->view)
        st->queue[st->nqueue++] = msg_ref(h->view);
    if (given && !text) {
        for (size_t i = 0; i < h->ring_count && st->nqueue < QUEUE_MAX; i++) {
            msg_t *m = h->ring_sse[(h->ring_start + i) % DV_ANNOUNCE_RING];
            if (m->id > after)
                st->queue[st->nqueue++] = msg_ref(m);
        }
    }
    if (st->nqueue == 0) /* the headers must leave now, with something */
        st->queue[st->nqueue++] = msg_ref(text ? h->text_head : h->ping);
    flush(st);
    return 0;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    dv_http_t *h = ((handler_t *)self)->http;
    h->requests++;
    /* one response per connection: nothing idles open, and a stop is quick */
    req->http1_is_persistent = 0;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"))) {
        h2o_send_error_405(req, "Method Not Allowed", "only GET\n", 0);
        return 0;
    }
    h2o_iovec_t p = req->path_normalized;
    char path[128];
    if (p.len >= sizeof path) {
        h2o_send_error_404(req, "Not Found", "not found\n", 0);
        return 0;
    }
    memcpy(path, p.base, p.len);
    path[p.len] = '\0';

    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0)
        return send_asset(req, "/board.html");
    if (strncmp(path, "/window/", 8) == 0)
        return send_asset(req, "/window.html");
    if (strcmp(path, "/events") == 0)
        return start_stream(h, req, STREAM_EVENTS);
    if (strcmp(path, "/voice") == 0)
        return start_stream(h, req, STREAM_VOICE);
    if (strcmp(path, "/voice.txt") == 0)
        return start_stream(h, req, STREAM_VOICE_TEXT);
    if (strcmp(path, "/api/state") == 0) {
        if (!h->view_json) {
            h2o_send_error_503(req, "Service Unavailable", "no view yet\n", 0);
            return 0;
        }
        return send_bytes(req, "application/json", h->view_json->data, h->view_json->len);
    }
    if (strcmp(path, "/api/stats") == 0) {
        json_t *j = h->stats ? h->stats(h->stats_arg) : NULL;
        if (!j) {
            j = json_object();
            json_object_set_new(j, "stats_error", json_true());
        }
        json_object_set_new(j, "http_streams", json_integer(h->nstreams));
        json_object_set_new(j, "http_connections", json_integer(h->nconns));
        json_object_set_new(j, "http_requests", json_integer((json_int_t)h->requests));
        json_object_set_new(j, "http_refused_streams",
                            json_integer((json_int_t)h->refused_streams));
        json_object_set_new(j, "http_slow_ended", json_integer((json_int_t)h->slow_ended));
        char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        size_t len = text ? strlen(text) : 0;
        char *body = h2o_mem_alloc_pool(&req->pool, len + 1);
        memcpy(body, text ? text : "", len);
        body[len] = '\n';
        free(text);
        return send_bytes(req, "application/json", body, len + 1);
    }
    return send_asset(req, path);
}

/* ── connections ── */

static void maybe_done(dv_http_t *h);

static void on_conn_closed(uv_handle_t *handle)
{
    conn_t *c = (conn_t *)handle;
    dv_http_t *h = c->http;
    free(c);
    h->nconns--;
    if (h->closing)
        maybe_done(h);
}

static void on_accept(uv_stream_t *listener, int status)
{
    dv_http_t *h = listener->data;
    if (status != 0 || h->closing)
        return;
    conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->http = h;
    uv_tcp_init(h->loop, &c->tcp);
    h->nconns++;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, on_conn_closed);
    h2o_accept(&h->accept_ctx, sock);
}

static int parse_addr(const char *addr, struct sockaddr_storage *out)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        return -1;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    int port = atoi(colon + 1);
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = '\0';
        h++;
    }
    if (strcmp(h, "*") == 0 || h[0] == '\0')
        h = "0.0.0.0";
    if (strcmp(h, "localhost") == 0)
        h = "127.0.0.1";
    if (uv_ip4_addr(h, port, (struct sockaddr_in *)out) == 0)
        return 0;
    if (uv_ip6_addr(h, port, (struct sockaddr_in6 *)out) == 0)
        return 0;
    return -1;
}

dv_http_t *dv_http_new(uv_loop_t *loop, const char *addr, unsigned max_streams,
                       dv_http_stats_fn stats, void *stats_arg, char *err, size_t errlen)
{
    struct sockaddr_storage sa;
    bool bad_addr = parse_addr(addr, &sa) != 0;
    dv_http_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->loop = loop;
    h->max_streams = max_streams;
    h->stats = stats;
    h->stats_arg = stats_arg;
    static const char ping[] = "event: ping\ndata: {}\n\n";
    h->ping = msg_new(MSG_PING, 0, sizeof ping - 1);
    memcpy(h->ping->data, ping, sizeof ping - 1);
    static const char head[] = "# id\tnumber\twindow\tzh\ten\n";
    h->text_head = msg_new(MSG_TEXT, 0, sizeof head - 1);
    memcpy(h->text_head->data, head, sizeof head - 1);

    h2o_config_init(&h->config);
    h2o_hostconf_t *host =
        h2o_config_register_host(&h->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(host, "/", 0);
    handler_t *hd = (handler_t *)h2o_create_handler(pathconf, sizeof *hd);
    hd->super.on_req = on_req;
    hd->http = h;
    h2o_context_init(&h->ctx, loop, &h->config);
    h->accept_ctx.ctx = &h->ctx;
    h->accept_ctx.hosts = h->config.hosts;

    uv_tcp_init(loop, &h->listener);
    h->listener.data = h;
    h->listening = true;
    int rc = bad_addr ? UV_EINVAL : uv_tcp_bind(&h->listener, (struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&h->listener, LISTEN_BACKLOG, on_accept);
    if (rc != 0) {
        /* the caller shuts down and destroys it, as after a run */
        snprintf(err, errlen, "cannot listen on %s: %s", addr, uv_strerror(rc));
        h->failed = true;
    }
    return h;
}

void dv_http_destroy(dv_http_t **selfp)
{
    dv_http_t *h = *selfp;
    if (!h)
        return;
    *selfp = NULL;
    h2o_context_dispose(&h->ctx); /* releases its timestamp cache too */
    h2o_config_dispose(&h->config);
    msg_unref(&h->view);
    msg_unref(&h->view_json);
    msg_unref(&h->ping);
    msg_unref(&h->text_head);
    for (size_t i = 0; i < h->ring_count; i++) {
        size_t at = (h->ring_start + i) % DV_ANNOUNCE_RING;
        msg_unref(&h->ring_sse[at]);
        msg_unref(&h->ring_txt[at]);
    }
    free(h);
}

/* Done when the listener and the grace timer are closed and no
 * connection is left (or the grace ran out). */
static void check_done(dv_http_t *h)
{
    if (h->pending_closes > 0 || !h->grace_over || !h->done)
        return;
    if (h->nconns)
        hb_warn("%u HTTP connection(s) still open at exit", h->nconns);
    void (*done)(void *) = h->done;
    h->done = NULL;
    done(h->done_arg);
}

static void on_closed(uv_handle_t *handle)
{
    dv_http_t *h = handle->data;
    h->pending_closes--;
    check_done(h);
}

static void end_grace(dv_http_t *h)
{
    if (h->grace_over)
        return;
    h->grace_over = true;
    uv_close((uv_handle_t *)&h->grace, on_closed);
}

static void maybe_done(dv_http_t *h)
{
    if (h->nconns == 0)
        end_grace(h);
}

static void on_grace(uv_timer_t *t)
{
    end_grace(t->data);
}

void dv_http_shutdown(dv_http_t *h, void (*done)(void *arg), void *arg)
{
    if (h->closing)
        return;
    h->closing = true;
    h->done = done;
    h->done_arg = arg;
    h->pending_closes = 1; /* the grace timer */
    if (h->listening) {
        h->pending_closes++;
        uv_close((uv_handle_t *)&h->listener, on_closed);
        h->listening = false;
    }
    for (stream_t *st = h->streams, *next; st; st = next) {
        next = st->next;
        st->ending = true;
        flush(st);
    }
    uv_timer_init(h->loop, &h->grace);
    h->grace.data = h;
    uv_timer_start(&h->grace, on_grace, CLOSE_GRACE_MS, 0);
    maybe_done(h);
}
