#include "sse_client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len;
} body_t;

static size_t on_body(char *ptr, size_t size, size_t n, void *arg)
{
    body_t *b = arg;
    char *grown = realloc(b->data, b->len + size * n + 1);
    if (!grown)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, size * n);
    b->len += size * n;
    b->data[b->len] = '\0';
    return size * n;
}

char *http_get(const char *url, long *status)
{
    CURL *curl = curl_easy_init();
    body_t b = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(curl);
    *status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        free(b.data);
        return NULL;
    }
    if (!b.data)
        b.data = calloc(1, 1);
    return b.data;
}

json_t *http_get_json(const char *url)
{
    long status;
    char *body = http_get(url, &status);
    if (!body)
        return NULL;
    json_t *j = status == 200 ? json_loads(body, 0, NULL) : NULL;
    free(body);
    return j;
}

/* ── SSE ── */

static void add_event(sse_client_t *c, const char *event, const char *id, const char *data)
{
    if (c->nevents == c->capevents) {
        c->capevents = c->capevents ? c->capevents * 2 : 64;
        c->events = realloc(c->events, c->capevents * sizeof *c->events);
    }
    sse_event_t *e = &c->events[c->nevents++];
    snprintf(e->event, sizeof e->event, "%s", event);
    snprintf(e->id, sizeof e->id, "%s", id);
    e->data = json_loads(data, 0, NULL);
}

/* Parses whole events ("...\n\n") out of the buffer. */
static void parse(sse_client_t *c)
{
    char *start = c->buf;
    char *end;
    while ((end = strstr(start, "\n\n")) != NULL) {
        *end = '\0';
        char event[32] = "message", id[32] = "";
        char *data = NULL;
        for (char *line = start, *next; line && *line; line = next) {
            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            if (strncmp(line, "event: ", 7) == 0)
                snprintf(event, sizeof event, "%s", line + 7);
            else if (strncmp(line, "id: ", 4) == 0)
                snprintf(id, sizeof id, "%s", line + 4);
            else if (strncmp(line, "data: ", 6) == 0)
                data = line + 6;
        }
        add_event(c, event, id, data ? data : "");
        start = end + 2;
    }
    size_t rest = c->len - (size_t)(start - c->buf);
    memmove(c->buf, start, rest);
    c->len = rest;
    c->buf[c->len] = '\0';
}

static size_t on_stream(char *ptr, size_t size, size_t n, void *arg)
{
    sse_client_t *c = arg;
    size_t len = size * n;
    pthread_mutex_lock(&c->lock);
    if (c->len + len + 1 > c->cap) {
        c->cap = (c->len + len + 1) * 2;
        c->buf = realloc(c->buf, c->cap);
    }
    memcpy(c->buf + c->len, ptr, len);
    c->len += len;
    c->buf[c->len] = '\0';
    c->text = realloc(c->text, c->textlen + len + 1);
    memcpy(c->text + c->textlen, ptr, len);
    c->textlen += len;
    c->text[c->textlen] = '\0';
    parse(c);
    pthread_mutex_unlock(&c->lock);
    return c->stop ? 0 : len;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c2, curl_off_t d)
{
    sse_client_t *c = arg;
    return c->stop ? 1 : 0;
}

static void *run(void *arg)
{
    sse_client_t *c = arg;
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    char h[80];
    if (c->last_event_id[0]) {
        snprintf(h, sizeof h, "Last-Event-ID: %s", c->last_event_id);
        headers = curl_slist_append(headers, h);
    }
    headers = curl_slist_append(headers, "Accept: text/event-stream");
    curl_easy_setopt(curl, CURLOPT_URL, c->url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_perform(curl);
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    pthread_mutex_lock(&c->lock);
    c->finished = true;
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

int sse_start(sse_client_t *c, const char *url, const char *last_event_id)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    snprintf(c->url, sizeof c->url, "%s", url);
    if (last_event_id)
        snprintf(c->last_event_id, sizeof c->last_event_id, "%s", last_event_id);
    c->cap = 4096;
    c->buf = calloc(1, c->cap);
    return pthread_create(&c->thread, NULL, run, c);
}

void sse_stop(sse_client_t *c)
{
    c->stop = true;
    pthread_join(c->thread, NULL);
    for (size_t i = 0; i < c->nevents; i++)
        json_decref(c->events[i].data);
    free(c->events);
    free(c->buf);
    free(c->text);
    pthread_mutex_destroy(&c->lock);
    memset(c, 0, sizeof *c);
}

size_t sse_count(sse_client_t *c, const char *event)
{
    pthread_mutex_lock(&c->lock);
    size_t n = 0;
    for (size_t i = 0; i < c->nevents; i++)
        n += strcmp(c->events[i].event, event) == 0;
    pthread_mutex_unlock(&c->lock);
    return n;
}

json_t *sse_get(sse_client_t *c, const char *event, size_t n)
{
    json_t *out = NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->nevents && !out; i++)
        if (strcmp(c->events[i].event, event) == 0 && n-- == 0)
            out = json_incref(c->events[i].data);
    pthread_mutex_unlock(&c->lock);
    return out;
}

json_t *sse_last(sse_client_t *c, const char *event)
{
    json_t *out = NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = c->nevents; i-- > 0 && !out;)
        if (strcmp(c->events[i].event, event) == 0)
            out = json_incref(c->events[i].data);
    pthread_mutex_unlock(&c->lock);
    return out;
}

void sse_first_name(sse_client_t *c, char out[32])
{
    pthread_mutex_lock(&c->lock);
    snprintf(out, 32, "%s", c->nevents ? c->events[0].event : "");
    pthread_mutex_unlock(&c->lock);
}
