/* A browser's view of hall-display for tests: plain GETs and a
 * Server-Sent Events reader on its own thread (libcurl). */
#ifndef DISPLAY_TEST_SSE_CLIENT_H
#define DISPLAY_TEST_SSE_CLIENT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* GET URL; returns the body (caller frees) or NULL; *STATUS the HTTP status. */
char *http_get(const char *url, long *status);
/* GET URL as JSON; NULL unless 200 and JSON. Caller json_decrefs. */
json_t *http_get_json(const char *url);

typedef struct {
    char event[32];
    char id[32];
    json_t *data; /* NULL if not JSON */
} sse_event_t;

typedef struct {
    pthread_t thread;
    pthread_mutex_t lock;
    char url[256];
    char last_event_id[32];
    volatile bool stop;
    bool finished;
    char *buf; /* bytes not yet parsed */
    size_t len, cap;
    sse_event_t *events;
    size_t nevents, capevents;
    char *text; /* for text streams: everything received */
    size_t textlen;
} sse_client_t;

/* Starts reading URL; LAST_EVENT_ID may be NULL. */
int sse_start(sse_client_t *c, const char *url, const char *last_event_id);
void sse_stop(sse_client_t *c);

/* Copies of what arrived so far (under the lock). */
size_t sse_count(sse_client_t *c, const char *event);
/* The Nth (0-based) event named EVENT, as a new reference, or NULL. */
json_t *sse_get(sse_client_t *c, const char *event, size_t n);
/* The last event named EVENT, or NULL. */
json_t *sse_last(sse_client_t *c, const char *event);
/* The name of the first event received, "" if none. */
void sse_first_name(sse_client_t *c, char out[32]);

#endif
