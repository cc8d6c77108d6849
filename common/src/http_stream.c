/* Live streams: messages serialised once and shared, channels that fan
 * them out, and the streams that carry them to the browsers with a bound
 * on what may wait for a slow one. A stream reads its connection while it
 * lives, so that a browser that leaves is noticed (and its stream freed)
 * at once rather than at the next write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

struct hb_http_stream_s {
    h2o_generator_t gen; /* first: h2o hands it back to us */
    h2o_req_t *req;
    hb_http_server_t *server;
    hb_http_conn_t *conn;
    unsigned flags;
    hb_http_sub_t subs[HB_HTTP_STREAM_CHANNELS];
    size_t nsubs;
    hb_http_stream_t *prev, *next; /* the server's list */
    hb_http_msg_t **queue, **inflight;
    h2o_iovec_t *bufs;
    size_t nqueue, ninflight;
    bool sending; /* h2o has bufs of ours until it calls proceed */
    bool ending;  /* send what is queued, then the end */
    bool done;    /* the end was sent, or the client left */
};

/* ── messages ── */

static hb_http_msg_t *msg_new(const char *event, unsigned flags, size_t len)
{
    hb_http_msg_t *m = malloc(sizeof *m + len + 1);
    if (!m)
        abort(); /* the house's out-of-memory rule */
    m->refs = 1;
    m->flags = flags;
    snprintf(m->event, sizeof m->event, "%s", event ? event : "");
    m->len = len;
    m->data[len] = '\0';
    return m;
}

hb_http_msg_t *hb_http_msg_sse(const char *event, const char *id, const char *data, size_t len,
                               unsigned flags)
{
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += data[i] == '\n';
    size_t cap = (event ? strlen(event) + 8 : 0) + (id ? strlen(id) + 5 : 0) + len + lines * 6 + 2;
    hb_http_msg_t *m = msg_new(event, flags, cap);
    char *o = m->data;
    if (event)
        o += sprintf(o, "event: %s\n", event);
    if (id)
        o += sprintf(o, "id: %s\n", id);
    const char *p = data, *end = data + len;
    do {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        memcpy(o, "data: ", 6);
        o += 6;
        memcpy(o, p, (size_t)(line_end - p));
        o += line_end - p;
        *o++ = '\n';
        p = nl ? nl + 1 : end;
        if (!nl)
            break;
    } while (true);
    *o++ = '\n';
    m->len = (size_t)(o - m->data);
    *o = '\0';
    return m;
}

hb_http_msg_t *hb_http_msg_raw(const void *data, size_t len)
{
    hb_http_msg_t *m = msg_new(NULL, 0, len);
    memcpy(m->data, data, len);
    return m;
}

hb_http_msg_t *hb_http_msg_ref(hb_http_msg_t *m)
{
    m->refs++;
    return m;
}

void hb_http_msg_unref(hb_http_msg_t **m)
{
    if (*m && --(*m)->refs == 0)
        free(*m);
    *m = NULL;
}

/* ── channels ── */

hb_http_channel_t *hb_http_channel_new(hb_http_server_t *server, const char *name)
{
    hb_http_channel_t *ch = calloc(1, sizeof *ch);
    if (!ch || !(ch->name = strdup(name)))
        abort();
    ch->server = server;
    ch->next = server->channels;
    server->channels = ch;
    return ch;
}

unsigned hb_http_channel_streams(const hb_http_channel_t *channel)
{
    return channel->nstreams;
}

void hb_http_channels_free(hb_http_server_t *server)
{
    for (hb_http_channel_t *ch = server->channels, *next; ch; ch = next) {
        next = ch->next;
        free(ch->name);
        free(ch);
    }
    server->channels = NULL;
}

/* ── streams ── */

static void flush(hb_http_stream_t *st);

/* Off every list: no message reaches it any more. */
static void stream_unlink(hb_http_stream_t *st)
{
    hb_http_server_t *s = st->server;
    if (!s)
        return;
    for (size_t i = 0; i < st->nsubs; i++) {
        hb_http_sub_t *sub = &st->subs[i];
        if (sub->prev)
            sub->prev->next = sub->next;
        else
            sub->channel->subs = sub->next;
        if (sub->next)
            sub->next->prev = sub->prev;
        sub->channel->nstreams--;
    }
    st->nsubs = 0;
    if (st->prev)
        st->prev->next = st->next;
    else
        s->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    st->prev = st->next = NULL;
    st->server = NULL;
    s->stats.streams--;
    if (st->conn && st->conn->stream == st)
        st->conn->stream = NULL;
}

static void release_inflight(hb_http_stream_t *st)
{
    for (size_t i = 0; i < st->ninflight; i++)
        hb_http_msg_unref(&st->inflight[i]);
    st->ninflight = 0;
}

static void on_stream_dispose(void *p)
{
    hb_http_stream_t *st = p;
    stream_unlink(st);
    release_inflight(st);
    for (size_t i = 0; i < st->nqueue; i++)
        hb_http_msg_unref(&st->queue[i]);
    st->nqueue = 0;
}

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    hb_http_stream_t *st = (hb_http_stream_t *)gen;
    st->sending = false;
    release_inflight(st);
    flush(st);
}

static void on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    hb_http_stream_t *st = (hb_http_stream_t *)gen;
    st->done = true; /* the connection is going: the request is disposed next */
    stream_unlink(st);
}

static void flush(hb_http_stream_t *st)
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

/* The end of ST: what is queued, then the last chunk; h2o then closes the
 * connection (one response per connection) and disposes of ST. */
static void stream_end(hb_http_stream_t *st)
{
    if (st->done || st->ending)
        return;
    st->ending = true;
    flush(st);
}

static void enqueue(hb_http_stream_t *st, hb_http_msg_t *m)
{
    if (st->done || st->ending)
        return;
    if (m->flags & HB_HTTP_MSG_LATEST) {
        /* only the newest of its kind matters to a client that lags */
        size_t k = 0;
        for (size_t i = 0; i < st->nqueue; i++) {
            hb_http_msg_t *q = st->queue[i];
            if ((q->flags & HB_HTTP_MSG_LATEST) && strcmp(q->event, m->event) == 0)
                hb_http_msg_unref(&st->queue[i]);
            else
                st->queue[k++] = q;
        }
        st->nqueue = k;
    }
    hb_http_server_t *s = st->server;
    if (st->nqueue == s->cfg.stream_queue_max) {
        s->stats.slow_ended++;
        stream_end(st); /* the browser reconnects and gets a fresh view */
        return;
    }
    st->queue[st->nqueue++] = hb_http_msg_ref(m);
    flush(st);
}

void hb_http_channel_publish(hb_http_channel_t *ch, hb_http_msg_t *m)
{
    for (hb_http_sub_t *sub = ch->subs, *next; sub; sub = next) {
        next = sub->next; /* enqueue may end the stream and unlink it */
        enqueue(sub->stream, m);
    }
}

void hb_http_server_ping(hb_http_server_t *self)
{
    for (hb_http_stream_t *st = self->streams, *next; st; st = next) {
        next = st->next;
        if (st->flags & HB_HTTP_STREAM_PINGS)
            enqueue(st, self->ping);
    }
}

void hb_http_streams_end_all(hb_http_server_t *s)
{
    for (hb_http_stream_t *st = s->streams, *next; st; st = next) {
        next = st->next;
        stream_end(st);
    }
}

/* The connection of a live stream is read only to learn that the client
 * left (an error or the end of input): then the stream ends at once. A
 * client that sends anything more on it is not a browser: it ends too. */
static void on_stream_readable(h2o_socket_t *sock, const char *err)
{
    h2o_socket_read_stop(sock);
    hb_http_conn_t *c = sock->on_close.data;
    if (c && c->stream)
        stream_end(c->stream);
}

int hb_http_stream_start(hb_http_req_t *req, const char *content_type,
                         hb_http_channel_t *const *channels, size_t n, unsigned flags)
{
    hb_http_server_t *s = req->server;
    if (req->answered || req->stream || n > HB_HTTP_STREAM_CHANNELS)
        return -1;
    if (s->closing || s->stats.streams >= s->cfg.max_streams) {
        s->stats.refused_streams++;
        hb_http_add_header(req, "retry-after", "5");
        hb_http_reply_error(req, 503, "too many live streams");
        return -1;
    }
    h2o_req_t *r = req->req;
    if (h2o_memis(r->method.base, r->method.len, H2O_STRLIT("HEAD"))) {
        /* the headers a stream would have, and no stream */
        hb_http_reply(req, 200, content_type ? content_type : "text/event-stream; charset=utf-8",
                      "", 0);
        return 0;
    }
    size_t qmax = s->cfg.stream_queue_max;
    hb_http_stream_t *st = h2o_mem_alloc_shared(&r->pool, sizeof *st, on_stream_dispose);
    memset(st, 0, sizeof *st);
    st->queue = h2o_mem_alloc_pool(&r->pool, qmax * sizeof *st->queue);
    st->inflight = h2o_mem_alloc_pool(&r->pool, qmax * sizeof *st->inflight);
    st->bufs = h2o_mem_alloc_pool(&r->pool, qmax * sizeof *st->bufs);
    st->gen.proceed = on_proceed;
    st->gen.stop = on_stop;
    st->req = r;
    st->server = s;
    st->conn = req->conn;
    st->flags = flags;
    for (size_t i = 0; i < n; i++) {
        hb_http_sub_t *sub = &st->subs[st->nsubs++];
        sub->stream = st;
        sub->channel = channels[i];
        sub->next = channels[i]->subs;
        if (sub->next)
            sub->next->prev = sub;
        channels[i]->subs = sub;
        channels[i]->nstreams++;
    }
    st->next = s->streams;
    if (s->streams)
        s->streams->prev = st;
    s->streams = st;
    s->stats.streams++;
    req->stream = st;

    r->res.status = 200;
    r->res.reason = "OK";
    const char *type = content_type ? content_type : "text/event-stream; charset=utf-8";
    h2o_add_header(&r->pool, &r->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type, strlen(type));
    h2o_start_response(r, &st->gen);
    return 0;
}

void hb_http_stream_push(hb_http_req_t *req, hb_http_msg_t *m)
{
    hb_http_stream_t *st = req->stream;
    if (st && st->nqueue < st->server->cfg.stream_queue_max)
        st->queue[st->nqueue++] = hb_http_msg_ref(m);
}

void hb_http_stream_flush_new(hb_http_req_t *req)
{
    hb_http_stream_t *st = req->stream;
    hb_http_server_t *s = st->server;
    if (st->nqueue == 0 && (st->flags & HB_HTTP_STREAM_PINGS))
        st->queue[st->nqueue++] = hb_http_msg_ref(s->ping); /* the headers leave now */
    if (st->conn && st->conn->sock) {
        st->conn->stream = st;
        h2o_socket_read_start(st->conn->sock, on_stream_readable);
    }
    flush(st);
}
