#include "delivery_http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/log.h"

#define ANSWER_MAX 1024
#define NT_HTTP_HOST_CONNECTIONS 16

struct nt_http_s {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    int open_handles; /* the timer and every socket poll */
    int closing;
    struct sock_ctx_s *socks;   /* polls open */
    struct request_s *requests; /* in flight */
};

typedef struct sock_ctx_s {
    uv_poll_t poll;
    curl_socket_t fd;
    nt_http_t *http;
    struct sock_ctx_s *prev, *next;
} sock_ctx_t;

typedef struct request_s {
    struct request_s *prev, *next;
    nt_http_t *http;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    char answer[ANSWER_MAX];
    size_t answer_len;
    char error[CURL_ERROR_SIZE];
    nt_http_done_fn done;
    void *arg;
} request_t;

static void maybe_free(nt_http_t *self)
{
    if (self->closing && self->open_handles == 0)
        free(self);
}

static void on_handle_closed(uv_handle_t *h)
{
    nt_http_t *self = h->data;
    if (h->type == UV_POLL)
        free(h);
    self->open_handles--;
    maybe_free(self);
}

static void request_unlink(request_t *r)
{
    nt_http_t *self = r->http;
    if (r->prev)
        r->prev->next = r->next;
    else
        self->requests = r->next;
    if (r->next)
        r->next->prev = r->prev;
}

static void sock_unlink(sock_ctx_t *c)
{
    nt_http_t *self = c->http;
    if (c->prev)
        c->prev->next = c->next;
    else
        self->socks = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

static void request_free(request_t *r)
{
    curl_slist_free_all(r->headers);
    free(r->body);
    free(r);
}

static void check_done(nt_http_t *self)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(self->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        request_t *r = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
        nt_http_result_t res = {.curl_code = (int)code};
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &res.status);
        curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &res.seconds);
        r->answer[r->answer_len] = '\0';
        res.body = r->answer;
        res.error = code == CURLE_OK ? "" : (r->error[0] ? r->error : curl_easy_strerror(code));
        curl_multi_remove_handle(self->multi, easy);
        curl_easy_cleanup(easy);
        request_unlink(r);
        r->done(&res, r->arg);
        request_free(r);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock_ctx_t *ctx = (sock_ctx_t *)h;
    nt_http_t *self = ctx->http;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    int running;
    curl_multi_socket_action(self->multi, ctx->fd, flags, &running);
    check_done(self);
}

static void on_timeout(uv_timer_t *t)
{
    nt_http_t *self = t->data;
    int running;
    curl_multi_socket_action(self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(self);
}

static int socket_cb(CURL *easy, curl_socket_t s, int action, void *userp, void *socketp)
{
    nt_http_t *self = userp;
    sock_ctx_t *ctx = socketp;
    if (action == CURL_POLL_REMOVE) {
        if (ctx) {
            uv_poll_stop(&ctx->poll);
            curl_multi_assign(self->multi, s, NULL);
            sock_unlink(ctx);
            uv_close((uv_handle_t *)&ctx->poll, on_handle_closed);
        }
        return 0;
    }
    if (!ctx) {
        ctx = calloc(1, sizeof *ctx);
        if (!ctx)
            return -1;
        ctx->fd = s;
        ctx->http = self;
        if (uv_poll_init_socket(self->loop, &ctx->poll, s) != 0) {
            free(ctx);
            return -1;
        }
        ctx->poll.data = self;
        self->open_handles++;
        ctx->next = self->socks;
        if (ctx->next)
            ctx->next->prev = ctx;
        self->socks = ctx;
        curl_multi_assign(self->multi, s, ctx);
    }
    int events = 0;
    if (action != CURL_POLL_OUT)
        events |= UV_READABLE;
    if (action != CURL_POLL_IN)
        events |= UV_WRITABLE;
    /* data of the poll is the client (for close); the ctx is the poll itself */
    uv_poll_start(&ctx->poll, events, on_poll);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    nt_http_t *self = userp;
    if (self->closing)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&self->timer);
    else
        uv_timer_start(&self->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

nt_http_t *nt_http_new(uv_loop_t *loop)
{
    nt_http_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->multi = curl_multi_init();
    if (!self->multi) {
        free(self);
        return NULL;
    }
    uv_timer_init(loop, &self->timer);
    self->timer.data = self;
    self->open_handles = 1;
    curl_multi_setopt(self->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt(self->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(self->multi, CURLMOPT_TIMERDATA, self);
    /* one receiver (an SMS gateway) is not opened hundreds of connections:
     * requests beyond this wait inside curl for a free one */
    curl_multi_setopt(self->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)NT_HTTP_HOST_CONNECTIONS);
    curl_multi_setopt(self->multi, CURLMOPT_MAXCONNECTS, (long)NT_HTTP_HOST_CONNECTIONS);
    return self;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
    request_t *r = userp;
    size_t len = size * nmemb;
    size_t room = ANSWER_MAX - 1 - r->answer_len;
    size_t take = len < room ? len : room;
    memcpy(r->answer + r->answer_len, data, take);
    r->answer_len += take;
    return len;
}

int nt_http_post(nt_http_t *self, const char *url, const char *const *headers, const char *body,
                 size_t len, long timeout_ms, nt_http_done_fn done, void *arg)
{
    request_t *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->http = self;
    r->done = done;
    r->arg = arg;
    r->body = malloc(len + 1);
    r->easy = curl_easy_init();
    if (!r->body || !r->easy) {
        if (r->easy)
            curl_easy_cleanup(r->easy);
        request_free(r);
        return -1;
    }
    memcpy(r->body, body, len);
    r->body[len] = '\0';
    for (const char *const *h = headers; h && *h; h++)
        r->headers = curl_slist_append(r->headers, *h);
    /* no "Expect: 100-continue" round trip */
    r->headers = curl_slist_append(r->headers, "Expect:");
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "hall-notifier/1");
    if (curl_multi_add_handle(self->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        request_free(r);
        return -1;
    }
    r->next = self->requests;
    if (r->next)
        r->next->prev = r;
    self->requests = r;
    return 0;
}

void nt_http_destroy(nt_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    nt_http_t *self = *self_p;
    *self_p = NULL;
    uv_timer_stop(&self->timer);
    self->closing = 1;
    /* abandon what is in flight (its message stays pending in the outbox) */
    size_t n = 0;
    while (self->requests) {
        request_t *r = self->requests;
        curl_multi_remove_handle(self->multi, r->easy);
        curl_easy_cleanup(r->easy);
        request_unlink(r);
        request_free(r);
        n++;
    }
    curl_multi_cleanup(self->multi);
    /* curl may close cached connections without telling socket_cb */
    while (self->socks) {
        sock_ctx_t *c = self->socks;
        sock_unlink(c);
        uv_poll_stop(&c->poll);
        uv_close((uv_handle_t *)&c->poll, on_handle_closed);
    }
    uv_close((uv_handle_t *)&self->timer, on_handle_closed);
    if (n)
        hb_info("abandoned %zu HTTP request(s) in flight; they stay pending in the outbox", n);
}
