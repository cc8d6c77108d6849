/* The common HTTP server: h2o's HTTP/1.1 on the daemon's loop, the
 * connections it accepts and the limits on them, the headers every
 * response carries, the counters, and a stop that waits for the browsers.
 * Routing and replies are in http_request.c, streams in http_stream.c. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/log.h"
#include "http_internal.h"

#define CLOSE_GRACE_MS 2000 /* how long a stop waits for connections to close */
#define LISTEN_BACKLOG 4096

/* Pages may load their own scripts, styles and images and talk to their
 * own server, nothing else: no inline script or style, no framing. */
#define CSP                                                                                        \
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "            \
    "object-src 'none'"

/* Said before any request is read, when a client has too many open. */
static const char REFUSED[] = "HTTP/1.1 503 Service Unavailable\r\n"
                              "Content-Type: application/json\r\n"
                              "X-Content-Type-Options: nosniff\r\n"
                              "Cache-Control: no-store\r\n"
                              "Retry-After: 5\r\n"
                              "Connection: close\r\n"
                              "Content-Length: 53\r\n\r\n"
                              "{\"status\":503,\"error\":\"too many open connections\"}\r\n";

/* ── the headers every response carries (an h2o filter) ── */

static void add_security_headers(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    static const struct {
        const char *name, *value;
    } headers[] = {
        {"x-content-type-options", "nosniff"},
        {"content-security-policy", CSP},
        {"referrer-policy", "no-referrer"},
        {"x-frame-options", "DENY"},
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        h2o_set_header_by_str(&req->pool, &req->res.headers, headers[i].name,
                              strlen(headers[i].name), 0, headers[i].value,
                              strlen(headers[i].value), 1);
    if (h2o_find_header(&req->res.headers, H2O_TOKEN_CACHE_CONTROL, -1) < 0)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                       H2O_STRLIT("no-store"));
    h2o_setup_next_ostream(req, slot);
}

/* ── h2o's handler: every request goes to http_request.c ── */

typedef struct {
    h2o_handler_t super;
    hb_http_server_t *server;
} handler_t;

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    hb_http_dispatch(((handler_t *)self)->server, req);
    return 0;
}

/* ── connections ── */

static void maybe_done(hb_http_server_t *s);

static void on_conn_closed(uv_handle_t *handle)
{
    hb_http_conn_t *c = (hb_http_conn_t *)handle;
    hb_http_server_t *s = c->server;
    hb_http_clients_release(s->clients, c->client);
    free(c);
    s->stats.connections--;
    if (s->closing)
        maybe_done(s);
}

static void on_refused_closed(uv_handle_t *handle)
{
    free(handle);
}

static void on_socket_disposed(void *arg)
{
    hb_http_conn_t *c = arg;
    c->sock = NULL;
}

static void refuse(uv_tcp_t *tcp)
{
    uv_buf_t buf = uv_buf_init((char *)REFUSED, sizeof REFUSED - 1);
    uv_try_write((uv_stream_t *)tcp, &buf, 1); /* best effort: it is leaving anyway */
    uv_close((uv_handle_t *)tcp, on_refused_closed);
}

static void on_accept(uv_stream_t *listener, int status)
{
    hb_http_server_t *s = listener->data;
    if (status != 0 || s->closing)
        return;
    uv_tcp_t *tcp = malloc(sizeof(hb_http_conn_t));
    if (!tcp)
        return;
    uv_tcp_init(s->loop, tcp);
    if (uv_accept(listener, (uv_stream_t *)tcp) != 0) {
        uv_close((uv_handle_t *)tcp, on_refused_closed);
        return;
    }
    struct sockaddr_storage peer;
    int plen = sizeof peer;
    hb_http_client_t *client = NULL;
    if (s->stats.connections < s->cfg.max_connections &&
        uv_tcp_getpeername(tcp, (struct sockaddr *)&peer, &plen) == 0)
        client =
            hb_http_clients_acquire(s->clients, (struct sockaddr *)&peer, s->cfg.max_per_client);
    if (!client) {
        s->stats.refused_connections++;
        if (s->stats.refused_connections == 1 || s->stats.refused_connections % 1000 == 0)
            hb_warn("HTTP: refused %lu connection(s) over the limits (%u overall, %u per client)",
                    s->stats.refused_connections, s->cfg.max_connections, s->cfg.max_per_client);
        refuse(tcp);
        return;
    }
    hb_http_conn_t *c = (hb_http_conn_t *)tcp;
    memset((char *)c + sizeof c->tcp, 0, sizeof *c - sizeof c->tcp);
    c->server = s;
    c->client = client;
    s->stats.connections++;
    uv_tcp_nodelay(tcp, 1);
    c->sock = h2o_uv_socket_create((uv_stream_t *)tcp, on_conn_closed);
    /* h2o's HTTP/1 never uses on_close: it leads from its socket back to us */
    c->sock->on_close.cb = on_socket_disposed;
    c->sock->on_close.data = c;
    h2o_accept(&s->accept_ctx, c->sock);
}

hb_http_conn_t *hb_http_conn_of(h2o_req_t *req)
{
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    return sock && sock->on_close.cb == on_socket_disposed ? sock->on_close.data : NULL;
}

/* ── lifecycle ── */

static int parse_addr(const char *addr, struct sockaddr_storage *out)
{
    char host[256];
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        return -1;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || end == colon + 1 || port < 0 || port > 65535)
        return -1;
    char *h = host;
    size_t hl = strlen(h);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h[hl - 1] = '\0';
        h++;
    }
    if (strcmp(h, "*") == 0 || h[0] == '\0')
        h = "0.0.0.0";
    if (strcmp(h, "localhost") == 0)
        h = "127.0.0.1";
    if (uv_ip4_addr(h, (int)port, (struct sockaddr_in *)out) == 0)
        return 0;
    if (uv_ip6_addr(h, (int)port, (struct sockaddr_in6 *)out) == 0)
        return 0;
    return -1;
}

static void defaults(hb_http_server_config_t *c)
{
    if (!c->max_connections)
        c->max_connections = 10000;
    if (!c->max_per_client)
        c->max_per_client = 32;
    if (!c->max_streams)
        c->max_streams = c->max_connections;
    if (!c->max_header_bytes)
        c->max_header_bytes = 16384;
    if (!c->max_body_bytes)
        c->max_body_bytes = 65536;
    if (!c->request_timeout_ms)
        c->request_timeout_ms = 10000;
    if (!c->stream_queue_max)
        c->stream_queue_max = 64;
}

static void on_ping_timer(uv_timer_t *t)
{
    hb_http_server_ping(t->data);
}

hb_http_server_t *hb_http_server_new(uv_loop_t *loop, const hb_http_server_config_t *config,
                                     char *err, size_t errlen)
{
    struct sockaddr_storage sa;
    bool bad_addr = parse_addr(config->listen, &sa) != 0;
    hb_http_server_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->clients = hb_http_clients_new();
    if (!s->clients) {
        free(s);
        return NULL;
    }
    /* h2o writes with write(2): a browser that left must not kill the
     * daemon (hb_signals does the same; a server must not depend on it) */
    signal(SIGPIPE, SIG_IGN);
    s->loop = loop;
    s->cfg = *config;
    s->cfg.listen = NULL; /* not kept: the caller's */
    defaults(&s->cfg);
    s->ping = hb_http_msg_sse("ping", NULL, "{}", 2, HB_HTTP_MSG_LATEST);

    h2o_config_init(&s->h2o_config);
    s->h2o_config.server_name = h2o_iovec_init(H2O_STRLIT("")); /* no version banner */
    s->h2o_config.http1.upgrade_to_http2 = 0; /* neither h2c nor "PRI * HTTP/2.0" */
    s->h2o_config.http1.req_timeout = s->cfg.request_timeout_ms;
    s->h2o_config.max_request_entity_size = s->cfg.max_body_bytes;
    h2o_hostconf_t *host =
        h2o_config_register_host(&s->h2o_config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(host, "/", 0);
    handler_t *hd = (handler_t *)h2o_create_handler(pathconf, sizeof *hd);
    hd->super.on_req = on_req;
    hd->server = s;
    h2o_filter_t *filter = h2o_create_filter(pathconf, sizeof *filter);
    filter->on_setup_ostream = add_security_headers;
    h2o_context_init(&s->ctx, loop, &s->h2o_config);
    s->accept_ctx.ctx = &s->ctx;
    s->accept_ctx.hosts = s->h2o_config.hosts;

    uv_timer_init(loop, &s->ping_timer);
    s->ping_timer.data = s;
    if (s->cfg.ping_ms)
        uv_timer_start(&s->ping_timer, on_ping_timer, s->cfg.ping_ms, s->cfg.ping_ms);

    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    s->listening = true;
    int rc = bad_addr ? UV_EINVAL : uv_tcp_bind(&s->listener, (struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, LISTEN_BACKLOG, on_accept);
    if (rc == 0) {
        struct sockaddr_storage bound;
        int blen = sizeof bound;
        if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &blen) == 0)
            s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                        : ((struct sockaddr_in *)&bound)->sin_port);
    } else {
        /* the caller shuts down and destroys it, as after a run */
        snprintf(err, errlen, "cannot listen on %s: %s", config->listen ? config->listen : "(none)",
                 uv_strerror(rc));
        s->failed = true;
    }
    return s;
}

bool hb_http_server_listening(const hb_http_server_t *self)
{
    return !self->failed;
}

int hb_http_server_port(const hb_http_server_t *self)
{
    return self->port;
}

void hb_http_server_stats(const hb_http_server_t *self, hb_http_stats_t *out)
{
    *out = self->stats;
}

void hb_http_server_stats_json(const hb_http_server_t *self, json_t *obj)
{
    const hb_http_stats_t *st = &self->stats;
    json_object_set_new(obj, "http_connections", json_integer(st->connections));
    json_object_set_new(obj, "http_streams", json_integer(st->streams));
    json_object_set_new(obj, "http_requests", json_integer((json_int_t)st->requests));
    json_object_set_new(obj, "http_refused_connections",
                        json_integer((json_int_t)st->refused_connections));
    json_object_set_new(obj, "http_refused_streams", json_integer((json_int_t)st->refused_streams));
    json_object_set_new(obj, "http_slow_ended", json_integer((json_int_t)st->slow_ended));
}

void hb_http_server_destroy(hb_http_server_t **selfp)
{
    hb_http_server_t *s = *selfp;
    if (!s)
        return;
    *selfp = NULL;
    h2o_context_dispose(&s->ctx); /* releases its timestamp cache too */
    h2o_config_dispose(&s->h2o_config);
    hb_http_channels_free(s);
    hb_http_msg_unref(&s->ping);
    for (size_t i = 0; i < s->nroutes; i++)
        free(s->routes[i].path);
    free(s->routes);
    hb_http_clients_destroy(&s->clients);
    free(s);
}

/* Done when the listener and the timers are closed and no connection is
 * left (or the grace ran out). */
static void check_done(hb_http_server_t *s)
{
    if (s->pending_closes > 0 || !s->grace_over || !s->done)
        return;
    if (s->stats.connections)
        hb_warn("%u HTTP connection(s) still open at exit", s->stats.connections);
    void (*done)(void *) = s->done;
    s->done = NULL;
    done(s->done_arg);
}

static void on_closed(uv_handle_t *handle)
{
    hb_http_server_t *s = handle->data;
    s->pending_closes--;
    check_done(s);
}

static void end_grace(hb_http_server_t *s)
{
    if (s->grace_over)
        return;
    s->grace_over = true;
    uv_close((uv_handle_t *)&s->grace, on_closed);
}

static void maybe_done(hb_http_server_t *s)
{
    if (s->stats.connections == 0)
        end_grace(s);
}

static void on_grace(uv_timer_t *t)
{
    end_grace(t->data);
}

void hb_http_server_shutdown(hb_http_server_t *s, void (*done)(void *arg), void *arg)
{
    if (s->closing)
        return;
    s->closing = true;
    s->done = done;
    s->done_arg = arg;
    s->pending_closes = 2; /* the grace and ping timers */
    uv_close((uv_handle_t *)&s->ping_timer, on_closed);
    if (s->listening) {
        s->pending_closes++;
        uv_close((uv_handle_t *)&s->listener, on_closed);
        s->listening = false;
    }
    hb_http_streams_end_all(s);
    uv_timer_init(s->loop, &s->grace);
    s->grace.data = s;
    uv_timer_start(&s->grace, on_grace, CLOSE_GRACE_MS, 0);
    maybe_done(s);
}
