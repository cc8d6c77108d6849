/* The delivery HTTP client (webhooks and the SMS gateway): POSTs through libcurl's multi interface
 * on the libuv loop (the classic "multi-uv" arrangement): curl says which sockets to watch and when
 * to time out; one uv_poll_t per socket and one uv_timer_t drive curl_multi_socket_action. Nothing
 * here blocks the loop. */
#ifndef NOTIFIER_DELIVERY_HTTP_H
#define NOTIFIER_DELIVERY_HTTP_H

#include <stddef.h>
#include <uv.h>

typedef struct nt_http_s nt_http_t;

typedef struct {
    int curl_code;     /* CURLcode: 0 when an HTTP answer arrived */
    long status;       /* HTTP status, 0 if none */
    const char *error; /* curl's words when curl_code != 0 */
    const char *body;  /* the answer's first bytes (NUL-terminated) */
    double seconds;
} nt_http_result_t;

typedef void (*nt_http_done_fn)(const nt_http_result_t *result, void *arg);

/* curl_global_init must have been called. NULL on failure. */
nt_http_t *nt_http_new(uv_loop_t *loop);

/* Starts a POST of BODY (copied) to URL with HEADERS (NULL-terminated,
 * "Name: value"). DONE is called exactly once, from the loop, unless the
 * client is destroyed first. 0, or -1 if it could not be started. */
int nt_http_post(nt_http_t *self, const char *url, const char *const *headers, const char *body,
                 size_t len, long timeout_ms, nt_http_done_fn done, void *arg);

/* Abandons requests in flight (their DONE is not called) and closes the
 * handles; the memory goes once the loop has run their close callbacks. */
void nt_http_destroy(nt_http_t **self);

#endif
