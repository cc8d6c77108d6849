/* The common HTTP server (hallbus/http_server.h, http_stream.h) on a loop
 * of the test's own, driven step by step (uv_run NOWAIT) while real client
 * sockets talk to it: a port the kernel chose, plain HTTP/1.1 bytes. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hallbus/clock.h"
#include "hallbus/http_server.h"
#include "hallbus/http_stream.h"

#define TIMEOUT_MS 300 /* the test server's request deadline */

static uv_loop_t loop;
static hb_http_server_t *srv;
static hb_http_channel_t *news;

/* ── the server's handlers ── */

static void on_hello(hb_http_req_t *req, void *arg)
{
    hb_http_reply(req, 200, "text/plain; charset=utf-8", "hello\n", 6);
}

static void on_item(hb_http_req_t *req, void *arg)
{
    const char *p = hb_http_req_path(req);
    hb_http_reply(req, 200, "text/plain", p, strlen(p));
}

static void on_echo(hb_http_req_t *req, void *arg)
{
    json_t *j = hb_http_req_json(req, 64);
    if (!j)
        return;
    hb_http_reply_json(req, 200, j);
    json_decref(j);
}

static void on_cookie(hb_http_req_t *req, void *arg)
{
    const char *sid = hb_http_req_cookie(req, "sid");
    cr_assert_eq(hb_http_set_cookie(req, "sid", "abc123", "/", 3600, false), 0);
    cr_assert_eq(hb_http_set_cookie(req, "bad;name", "x", "/", 1, false), -1);
    cr_assert_eq(hb_http_set_cookie(req, "ok", "a value", "/", 1, false), -1, "no space");
    const char *v = sid ? sid : "(none)";
    hb_http_reply(req, 200, "text/plain", v, strlen(v));
}

static void on_query(hb_http_req_t *req, void *arg)
{
    const char *name = hb_http_req_query(req, "name");
    const char *none = hb_http_req_query(req, "absent");
    char out[128];
    snprintf(out, sizeof out, "%s|%s|%s", name ? name : "(null)", none ? none : "(null)",
             hb_http_req_peer(req));
    hb_http_reply(req, 200, "text/plain", out, strlen(out));
}

static void on_live(hb_http_req_t *req, void *arg)
{
    hb_http_stream_start(req, NULL, &news, 1, HB_HTTP_STREAM_PINGS);
}

static void on_silent(hb_http_req_t *req, void *arg)
{
    /* answers nothing: the server says so */
}

static void start_server(unsigned per_client)
{
    cr_assert_eq(uv_loop_init(&loop), 0);
    hb_http_server_config_t cfg = {
        .listen = "127.0.0.1:0",
        .max_per_client = per_client,
        .max_header_bytes = 4096,
        .max_body_bytes = 1024,
        .request_timeout_ms = TIMEOUT_MS,
        .ping_ms = 0, /* no ping may free a stream in these tests */
    };
    char err[256] = "";
    srv = hb_http_server_new(&loop, &cfg, err, sizeof err);
    cr_assert_not_null(srv);
    cr_assert(hb_http_server_listening(srv), "%s", err);
    cr_assert_gt(hb_http_server_port(srv), 0, "the kernel's port is read back");
    news = hb_http_channel_new(srv, "news");
    cr_assert_eq(hb_http_server_route(srv, "/hello", HB_HTTP_GET, on_hello, NULL), 0);
    cr_assert_eq(hb_http_server_route(srv, "/items/*", HB_HTTP_GET, on_item, NULL), 0);
    cr_assert_eq(hb_http_server_route(srv, "/api/echo", HB_HTTP_POST, on_echo, NULL), 0);
    cr_assert_eq(hb_http_server_route(srv, "/cookie", HB_HTTP_GET, on_cookie, NULL), 0);
    cr_assert_eq(hb_http_server_route(srv, "/q", HB_HTTP_GET, on_query, NULL), 0);
    cr_assert_eq(hb_http_server_route(srv, "/live", HB_HTTP_GET, on_live, NULL), 0);
    cr_assert_eq(hb_http_server_route(srv, "/silent", HB_HTTP_GET, on_silent, NULL), 0);
    cr_assert_eq(hb_http_server_route(srv, "no-slash", HB_HTTP_GET, on_silent, NULL), -1);
}

static void setup(void)
{
    start_server(3);
}

static void setup_many(void)
{
    start_server(1000);
}

static bool stopped;
static void on_done(void *arg)
{
    stopped = true;
}

static void pump(int ms);

static void teardown(void)
{
    stopped = false;
    hb_http_server_shutdown(srv, on_done, NULL);
    int64_t end = hb_mono_us() + 5000000;
    while (!stopped && hb_mono_us() < end)
        pump(5);
    cr_assert(stopped, "the server stopped");
    hb_http_server_destroy(&srv);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0, "every handle closed");
}

/* ── the client side ── */

static void pump(int ms)
{
    uv_run(&loop, UV_RUN_NOWAIT);
    if (ms)
        poll(NULL, 0, ms);
    uv_run(&loop, UV_RUN_NOWAIT);
}

static bool wait_until(bool (*cond)(void *), void *arg, int ms)
{
    int64_t end = hb_mono_us() + (int64_t)ms * 1000;
    while (hb_mono_us() < end) {
        if (cond(arg))
            return true;
        pump(1);
    }
    return cond(arg);
}

/* A connection to the server from SRC (a loopback address). */
static int cli_connect(const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &a.sin_addr);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0, "bind %s: %s", src, strerror(errno));
    a.sin_port = htons((uint16_t)hb_http_server_port(srv));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "%s", strerror(errno));
    return fd;
}

static void cli_send(int fd, const char *s, size_t len)
{
    cr_assert_eq(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

typedef struct {
    int fd;
    char buf[65536];
    size_t len;
    bool eof;
} cli_t;

/* Reads what has come (the loop turning meanwhile). */
static void cli_read(cli_t *c)
{
    for (;;) {
        if (c->len + 1 >= sizeof c->buf)
            return;
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, MSG_DONTWAIT);
        if (n > 0) {
            c->len += (size_t)n;
            c->buf[c->len] = '\0';
        } else {
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                c->eof = true;
            return;
        }
    }
}

static bool cli_closed(void *arg)
{
    cli_t *c = arg;
    cli_read(c);
    return c->eof;
}

/* REQUEST from SRC; the whole answer (the server closes after each). */
static void http_from(cli_t *c, const char *src, const char *request, size_t len)
{
    memset(c, 0, sizeof *c);
    c->fd = cli_connect(src);
    cli_send(c->fd, request, len);
    cr_assert(wait_until(cli_closed, c, 5000), "an answer, then the end");
    close(c->fd);
}

static void http(cli_t *c, const char *request)
{
    http_from(c, "127.0.0.1", request, strlen(request));
}

static int status_of(const cli_t *c)
{
    int status = 0;
    sscanf(c->buf, "HTTP/1.1 %d", &status);
    return status;
}

static const char *body_of(const cli_t *c)
{
    const char *b = strstr(c->buf, "\r\n\r\n");
    return b ? b + 4 : "";
}

static hb_http_stats_t stats(void)
{
    hb_http_stats_t st;
    hb_http_server_stats(srv, &st);
    return st;
}

static bool streams_are(void *arg)
{
    return stats().streams == *(unsigned *)arg;
}

/* ── routes ── */

static cli_t c;

Test(http_server, exact_and_prefix_routes_answer, .init = setup, .fini = teardown)
{
    http(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert_eq(status_of(&c), 200, "%s", c.buf);
    cr_assert_str_eq(body_of(&c), "hello\n");
    http(&c, "GET /items/42 HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert_eq(status_of(&c), 200);
    cr_assert_str_eq(body_of(&c), "/items/42");
    http(&c, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert_eq(status_of(&c), 200, "HEAD wherever GET: %s", c.buf);
    cr_assert_str_eq(body_of(&c), "", "no body on HEAD");
}

Test(http_server, unknown_paths_are_404_and_wrong_methods_405_with_a_reason, .init = setup,
     .fini = teardown)
{
    http(&c, "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert_eq(status_of(&c), 404);
    cr_assert(strstr(body_of(&c), "\"error\":\"nothing here: /nowhere\""), "%s", c.buf);
    cr_assert(strcasestr(c.buf, "content-type: application/json"));
    http(&c, "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    cr_assert_eq(status_of(&c), 405, "%s", c.buf);
    cr_assert(strcasestr(c.buf, "\r\nallow: GET, HEAD\r\n"), "%s", c.buf);
    cr_assert(strstr(body_of(&c), "POST is not allowed on /hello"), "%s", c.buf);
    http(&c, "DELETE /api/echo HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert_eq(status_of(&c), 405);
    cr_assert(strcasestr(c.buf, "\r\nallow: POST\r\n"), "%s", c.buf);
    http(&c, "GET /silent HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert_eq(status_of(&c), 500, "a handler that answers nothing: %s", c.buf);
}

/* ── bodies ── */

static void post(const char *type, const char *body)
{
    char req[4096];
    int n = snprintf(req, sizeof req,
                     "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     type, strlen(body), body);
    http_from(&c, "127.0.0.1", req, (size_t)n);
}

Test(http_server, json_bodies_are_parsed_bounded_and_refused_with_a_reason, .init = setup,
     .fini = teardown)
{
    post("application/json", "{\"a\":[1,2]}");
    cr_assert_eq(status_of(&c), 200, "%s", c.buf);
    cr_assert_str_eq(body_of(&c), "{\"a\":[1,2]}\n");
    post("application/json; charset=utf-8", "{\"a\":1}");
    cr_assert_eq(status_of(&c), 200, "%s", c.buf);

    char big[200];
    memset(big, ' ', sizeof big - 1);
    big[0] = '{';
    big[sizeof big - 2] = '}';
    big[sizeof big - 1] = '\0';
    post("application/json", big);
    cr_assert_eq(status_of(&c), 413, "over the route's 64 bytes: %s", c.buf);
    cr_assert(strstr(body_of(&c), "at most 64"), "%s", c.buf);

    char huge[2000];
    memset(huge, ' ', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    post("application/json", huge);
    cr_assert_eq(status_of(&c), 413, "over the server's 1024 bytes: %s", c.buf);

    post("application/json", "{\"a\":");
    cr_assert_eq(status_of(&c), 400, "%s", c.buf);
    cr_assert(strstr(body_of(&c), "invalid JSON at line 1"), "%s", c.buf);

    post("application/x-www-form-urlencoded", "{\"a\":1}");
    cr_assert_eq(status_of(&c), 415, "a cross-site form's type: %s", c.buf);
}

Test(http_server, oversized_request_headers_are_431, .init = setup, .fini = teardown)
{
    char req[8192];
    char pad[6000];
    memset(pad, 'a', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    int n = snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n", pad);
    http_from(&c, "127.0.0.1", req, (size_t)n);
    cr_assert_eq(status_of(&c), 431, "%s", c.buf);
}

/* ── cookies and queries ── */

Test(http_server, a_cookie_is_read_and_set_with_its_safety_attributes, .init = setup,
     .fini = teardown)
{
    http(&c, "GET /cookie HTTP/1.1\r\nHost: x\r\nCookie: theme=dark; sid=xyz789; z=1\r\n\r\n");
    cr_assert_eq(status_of(&c), 200, "%s", c.buf);
    cr_assert_str_eq(body_of(&c), "xyz789");
    cr_assert(strcasestr(c.buf, "\r\nset-cookie: sid=abc123; Path=/; HttpOnly; SameSite=Strict; "
                                "Max-Age=3600\r\n"),
              "%s", c.buf);
    cr_assert_null(strstr(c.buf, "bad;name"));
    http(&c, "GET /cookie HTTP/1.1\r\nHost: x\r\nCookie: xsid=no\r\n\r\n");
    cr_assert_str_eq(body_of(&c), "(none)", "a name is matched whole");
}

Test(http_server, query_parameters_are_decoded, .init = setup, .fini = teardown)
{
    http(&c, "GET /q?x=1&name=li%20ming+jr&y HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert_eq(status_of(&c), 200, "%s", c.buf);
    cr_assert_str_eq(body_of(&c), "li ming jr|(null)|127.0.0.1");
    http(&c, "GET /q?name=%zz HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert_str_eq(body_of(&c), "(null)|(null)|127.0.0.1", "a malformed escape is no value");
}

/* ── headers ── */

Test(http_server, every_response_carries_the_security_headers_and_no_banner, .init = setup,
     .fini = teardown)
{
    const char *requests[] = {"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
                              "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"};
    for (size_t i = 0; i < 2; i++) {
        http(&c, requests[i]);
        cr_assert(strcasestr(c.buf, "\r\nx-content-type-options: nosniff\r\n"), "%s", c.buf);
        cr_assert(strcasestr(c.buf, "\r\ncontent-security-policy: default-src 'self';"), "%s",
                  c.buf);
        cr_assert(strcasestr(c.buf, "\r\nreferrer-policy: no-referrer\r\n"), "%s", c.buf);
        cr_assert(strcasestr(c.buf, "\r\nx-frame-options: DENY\r\n"), "%s", c.buf);
        cr_assert_null(strcasestr(c.buf, "\r\nserver:"), "no version banner: %s", c.buf);
        cr_assert_null(strstr(c.buf, "h2o"), "%s", c.buf);
    }
}

/* ── HTTP/2 is off ── */

Test(http_server, http2_prior_knowledge_and_h2c_upgrade_are_refused, .init = setup,
     .fini = teardown)
{
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                  "\x00\x00\x00\x04\x00\x00\x00\x00\x00"; /* empty SETTINGS */
    http_from(&c, "127.0.0.1", preface, sizeof preface - 1);
    /* an HTTP/2 server answers with its own SETTINGS frame (type 4) */
    bool settings = c.len >= 9 && (unsigned char)c.buf[3] == 0x04;
    cr_assert_not(settings, "an HTTP/2 SETTINGS frame came back");
    cr_assert(c.len == 0 || strncmp(c.buf, "HTTP/1.1 ", 9) == 0, "%zu bytes: %.20s", c.len, c.buf);

    http(&c, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
             "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
    cr_assert_eq(status_of(&c), 200, "served over HTTP/1.1, not 101: %s", c.buf);
    cr_assert_str_eq(body_of(&c), "hello\n");
}

/* ── limits ── */

static int open_stream(const char *src)
{
    int fd = cli_connect(src);
    static const char req[] = "GET /live HTTP/1.1\r\nHost: x\r\n\r\n";
    cli_send(fd, req, sizeof req - 1);
    return fd;
}

Test(http_server, a_client_at_its_limit_is_refused_while_another_is_served, .init = setup,
     .fini = teardown)
{
    int fds[3];
    for (int i = 0; i < 3; i++)
        fds[i] = open_stream("127.0.0.1");
    unsigned three = 3;
    cr_assert(wait_until(streams_are, &three, 5000), "three streams from one client");

    memset(&c, 0, sizeof c);
    c.fd = cli_connect("127.0.0.1");
    cli_send(c.fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 32);
    cr_assert(wait_until(cli_closed, &c, 5000));
    close(c.fd);
    cr_assert_neq(status_of(&c), 200, "the fourth from 127.0.0.1 is refused: %s", c.buf);
    cr_assert(c.len == 0 || status_of(&c) == 503, "%s", c.buf);
    cr_assert_eq(stats().refused_connections, 1);

    http_from(&c, "127.0.0.2", "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 32);
    cr_assert_eq(status_of(&c), 200, "another client is still served: %s", c.buf);
    for (int i = 0; i < 3; i++)
        close(fds[i]);
}

static bool no_connections(void *arg)
{
    return stats().connections == 0;
}

Test(http_server, a_connection_that_sends_nothing_or_drips_is_closed, .init = setup,
     .fini = teardown)
{
    memset(&c, 0, sizeof c);
    c.fd = cli_connect("127.0.0.1");
    int64_t t0 = hb_mono_us();
    cr_assert(wait_until(cli_closed, &c, 5000), "a silent connection is closed");
    int64_t silent_ms = (hb_mono_us() - t0) / 1000;
    cr_assert_lt(silent_ms, TIMEOUT_MS * 4, "closed after %lld ms", (long long)silent_ms);
    close(c.fd);

    /* slowloris: a header line now and then, never the end */
    memset(&c, 0, sizeof c);
    c.fd = cli_connect("127.0.0.1");
    cli_send(c.fd, "GET /hello HTTP/1.1\r\n", 21);
    t0 = hb_mono_us();
    while (!cli_closed(&c) && hb_mono_us() - t0 < 5000000) {
        send(c.fd, "X-A: b\r\n", 8, MSG_NOSIGNAL);
        pump(TIMEOUT_MS / 6);
    }
    cr_assert(c.eof, "a dripping connection is closed");
    cr_assert_lt((hb_mono_us() - t0) / 1000, TIMEOUT_MS * 4);
    close(c.fd);
    cr_assert(wait_until(no_connections, NULL, 2000));
}

/* ── streams ── */

Test(http_server, one_message_reaches_every_stream, .init = setup_many, .fini = teardown)
{
    enum { N = 20 };
    static cli_t cl[N];
    for (int i = 0; i < N; i++) {
        memset(&cl[i], 0, sizeof cl[i]);
        cl[i].fd = open_stream("127.0.0.1");
    }
    unsigned n = N;
    cr_assert(wait_until(streams_are, &n, 5000));
    cr_assert_eq(hb_http_channel_streams(news), N);
    hb_http_msg_t *m = hb_http_msg_sse("news", "7", "{\"x\":1}\n{\"y\":2}", 15, 0);
    hb_http_channel_publish(news, m);
    hb_http_msg_unref(&m);
    cr_assert_null(m);
    for (int i = 0; i < N; i++) {
        int64_t end = hb_mono_us() + 5000000;
        while (!strstr(cl[i].buf, "data: {\"y\":2}\n\n") && hb_mono_us() < end) {
            cli_read(&cl[i]);
            pump(1);
        }
        cr_assert(strstr(cl[i].buf, "text/event-stream"), "%s", cl[i].buf);
        cr_assert(strstr(cl[i].buf, "event: news\nid: 7\ndata: {\"x\":1}\ndata: {\"y\":2}\n\n"),
                  "stream %d: %s", i, cl[i].buf);
        cr_assert(strstr(cl[i].buf, "event: ping\ndata: {}\n\n"), "the headers left at once");
    }
    for (int i = 0; i < N; i++)
        close(cl[i].fd);
    unsigned zero = 0;
    cr_assert(wait_until(streams_are, &zero, 2000));
}

Test(http_server, a_stream_whose_client_left_is_freed_at_once, .init = setup, .fini = teardown)
{
    memset(&c, 0, sizeof c);
    c.fd = open_stream("127.0.0.1");
    unsigned one = 1, zero = 0;
    cr_assert(wait_until(streams_are, &one, 5000));
    while (!strstr(c.buf, "event: ping")) { /* the stream is up */
        cli_read(&c);
        pump(1);
    }
    close(c.fd);
    /* no ping, no message: only the close can free it */
    cr_assert(wait_until(streams_are, &zero, 1000), "still %u stream(s)", stats().streams);
    cr_assert_eq(hb_http_channel_streams(news), 0);
    cr_assert(wait_until(no_connections, NULL, 1000));
}

Test(http_server, a_client_that_does_not_read_is_ended_not_buffered, .init = setup,
     .fini = teardown)
{
    int fd = open_stream("127.0.0.1");
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    unsigned one = 1;
    cr_assert(wait_until(streams_are, &one, 5000));
    static char chunk[65536];
    memset(chunk, 'x', sizeof chunk);
    /* announcements (never replaced by newer ones) until the stream is ended */
    for (int i = 0; i < 2000 && stats().slow_ended == 0; i++) {
        hb_http_msg_t *m = hb_http_msg_sse("big", NULL, chunk, sizeof chunk, 0);
        hb_http_channel_publish(news, m);
        hb_http_msg_unref(&m);
        pump(0);
    }
    cr_assert_eq(stats().slow_ended, 1, "a client that does not read is ended");
    close(fd);
    unsigned zero = 0;
    cr_assert(wait_until(streams_are, &zero, 2000));
}
