/* A ZeroMQ socket watched by a libuv loop.
 *
 * ZMQ_FD is edge-triggered and only means "look at ZMQ_EVENTS", and a send
 * on the socket can swallow the read edge. So besides a uv_poll_t on ZMQ_FD,
 * a uv_prepare_t checks ZMQ_EVENTS on every loop turn before the loop blocks,
 * and a uv_idle_t keeps the loop from blocking while messages are left. Each
 * turn handles at most `batch_max` messages, so timers and signals are never
 * starved, then calls `on_batch` once: that is where hall-queue commits the
 * batch it just applied (group commit) before it replies.
 *
 * Teardown: hb_zsock_close stops and closes the uv handles; when the last
 * close_cb has run, the ZeroMQ socket is closed (with the linger set at
 * creation) and the memory freed. Only then may the context be terminated. */
#ifndef HALLBUS_ZSOCK_UV_H
#define HALLBUS_ZSOCK_UV_H

#include <stdbool.h>
#include <uv.h>
#include <zmq.h>

#define HB_ZSOCK_MAX_FRAMES 8

typedef struct hb_zsock_s hb_zsock_t;

/* One whole multipart message. FRAMES belong to the wrapper and are closed
 * after the callback returns. OVERFLOW is true when the message had more
 * than HB_ZSOCK_MAX_FRAMES frames; the rest were read and discarded. */
typedef void (*hb_zsock_msg_cb)(hb_zsock_t *zs, zmq_msg_t *frames, int nframes, bool overflow,
                                void *arg);
/* After each turn that delivered at least one message. May be NULL. */
typedef void (*hb_zsock_batch_cb)(hb_zsock_t *zs, void *arg);

/* Takes ownership of SOCKET (a zmq socket). Returns NULL on failure, in
 * which case SOCKET is still the caller's. */
hb_zsock_t *hb_zsock_new(uv_loop_t *loop, void *socket, hb_zsock_msg_cb on_msg,
                         hb_zsock_batch_cb on_batch, void *arg);

/* Messages handled per loop turn at most (default 256). */
void hb_zsock_set_batch_max(hb_zsock_t *zs, int batch_max);

/* The zmq socket, for sending. Sends should use ZMQ_DONTWAIT. */
void *hb_zsock_socket(hb_zsock_t *zs);

/* NULL-safe; sets *zs to NULL. The socket is closed asynchronously. */
void hb_zsock_close(hb_zsock_t **zs);

/* Sends NFRAMES buffers as one multipart message with ZMQ_DONTWAIT.
 * Returns 0, or -1 with errno (EAGAIN at the high-water mark). */
int hb_zsock_sendv(void *socket, const void *const *bufs, const size_t *lens, int nframes);

#endif
