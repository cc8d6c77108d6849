/* A tiny HTTP/1.1 receiver for the notifier's tests and benchmark: one
 * thread, poll() over its connections, just enough parsing for a POST with
 * a Content-Length. It records every request (but those to /baseline, a
 * benchmark's plain loop) and answers as told. */
#ifndef NOTIFIER_TEST_RECEIVER_H
#define NOTIFIER_TEST_RECEIVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    RX_OK = 0,  /* 200 */
    RX_500,     /* 500 Internal Server Error */
    RX_404,     /* 404: a permanent refusal */
    RX_GARBAGE, /* bytes that are not HTTP, then close */
    RX_STALL    /* never answer */
} rx_mode_t;

#define RX_MAX 4096

typedef struct {
    char path[64];
    char id[128];        /* X-Hallbus-Id */
    char idem[128];      /* Idempotency-Key */
    char signature[128]; /* X-Hallbus-Signature */
    char *body;
    int64_t at_us; /* hb_now_us() on arrival */
    int answered;  /* the status it was answered with (0: none) */
} rx_request_t;

typedef struct {
    int port;
    int listen_fd;
    pthread_t thread;
    bool running;
    volatile int stop;
    volatile rx_mode_t mode;
    pthread_mutex_t mu;
    rx_request_t req[RX_MAX];
    int count;
} rx_t;

/* Listens on 127.0.0.1:PORT (0: any free port, then rx->port says which). */
int rx_start(rx_t *rx, int port);
/* Stops listening and drops every connection (the port refuses again). */
void rx_stop(rx_t *rx);
/* Frees what was recorded. */
void rx_free(rx_t *rx);

/* Requests answered 2xx, and how many distinct ids among them. */
int rx_delivered(rx_t *rx, int *distinct);
/* Requests seen in all. */
int rx_seen(rx_t *rx);

#endif
