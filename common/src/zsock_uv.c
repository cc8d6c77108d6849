#include "hallbus/zsock_uv.h"

#include <errno.h>
#include <stdlib.h>

#include "hallbus/log.h"

struct hb_zsock_s {
    uv_poll_t poll;
    uv_prepare_t prepare;
    uv_idle_t idle;
    void *socket;
    hb_zsock_msg_cb on_msg;
    hb_zsock_batch_cb on_batch;
    void *arg;
    int batch_max;
    int open_handles;
    bool closing;
    zmq_msg_t frames[HB_ZSOCK_MAX_FRAMES];
};

static bool has_input(hb_zsock_t *zs)
{
    int events = 0;
    size_t len = sizeof events;
    if (zmq_getsockopt(zs->socket, ZMQ_EVENTS, &events, &len) != 0)
        return false;
    return (events & ZMQ_POLLIN) != 0;
}

/* Reads one whole multipart message into zs->frames. Returns the number of
 * frames kept, 0 when nothing is waiting, -1 on error. */
static int read_message(hb_zsock_t *zs, bool *overflow)
{
    int n = 0;
    *overflow = false;
    for (;;) {
        zmq_msg_t scratch;
        zmq_msg_t *m = n < HB_ZSOCK_MAX_FRAMES ? &zs->frames[n] : &scratch;
        zmq_msg_init(m);
        /* only the first frame may be absent: the rest of a multipart
         * message is delivered atomically with it */
        if (zmq_msg_recv(m, zs->socket, ZMQ_DONTWAIT) < 0) {
            int e = errno;
            zmq_msg_close(m);
            for (int i = 0; i < n && i < HB_ZSOCK_MAX_FRAMES; i++)
                zmq_msg_close(&zs->frames[i]);
            if (n == 0 && (e == EAGAIN || e == EINTR))
                return 0;
            errno = e;
            return -1;
        }
        int more = zmq_msg_more(m);
        if (m == &scratch) {
            *overflow = true;
            zmq_msg_close(m);
        }
        n++;
        if (!more)
            break;
    }
    return n < HB_ZSOCK_MAX_FRAMES ? n : HB_ZSOCK_MAX_FRAMES;
}

static void drain(hb_zsock_t *zs)
{
    int handled = 0;
    while (!zs->closing && handled < zs->batch_max) {
        bool overflow;
        int n = read_message(zs, &overflow);
        if (n == 0)
            break;
        if (n < 0) {
            hb_warn("zmq receive failed: %s", zmq_strerror(errno));
            break;
        }
        handled++;
        zs->on_msg(zs, zs->frames, n, overflow, zs->arg);
        for (int i = 0; i < n; i++)
            zmq_msg_close(&zs->frames[i]);
    }
    if (handled > 0 && zs->on_batch && !zs->closing)
        zs->on_batch(zs, zs->arg);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    hb_zsock_t *zs = h->data;
    if (status < 0)
        hb_warn("poll on zmq fd: %s", uv_strerror(status));
    drain(zs);
}

static void on_idle(uv_idle_t *h)
{
    drain(h->data);
}

/* Runs before the loop blocks: if input is waiting that no edge announced
 * (it was swallowed by a send, or the batch cap left some), keep the loop
 * spinning through the idle handle instead of sleeping on the fd. */
static void on_prepare(uv_prepare_t *h)
{
    hb_zsock_t *zs = h->data;
    if (!zs->closing && has_input(zs))
        uv_idle_start(&zs->idle, on_idle);
    else
        uv_idle_stop(&zs->idle);
}

hb_zsock_t *hb_zsock_new(uv_loop_t *loop, void *socket, hb_zsock_msg_cb on_msg,
                         hb_zsock_batch_cb on_batch, void *arg)
{
    int fd;
    size_t len = sizeof fd;
    if (zmq_getsockopt(socket, ZMQ_FD, &fd, &len) != 0)
        return NULL;
    hb_zsock_t *zs = calloc(1, sizeof *zs);
    if (!zs)
        return NULL;
    zs->socket = socket;
    zs->on_msg = on_msg;
    zs->on_batch = on_batch;
    zs->arg = arg;
    zs->batch_max = 256;
    if (uv_poll_init(loop, &zs->poll, fd) != 0) {
        free(zs);
        return NULL;
    }
    uv_prepare_init(loop, &zs->prepare);
    uv_idle_init(loop, &zs->idle);
    zs->poll.data = zs->prepare.data = zs->idle.data = zs;
    zs->open_handles = 3;
    /* readable only: the fd signals both directions through one edge */
    uv_poll_start(&zs->poll, UV_READABLE, on_poll);
    uv_prepare_start(&zs->prepare, on_prepare);
    return zs;
}

void hb_zsock_set_batch_max(hb_zsock_t *zs, int batch_max)
{
    zs->batch_max = batch_max > 0 ? batch_max : 1;
}

void *hb_zsock_socket(hb_zsock_t *zs)
{
    return zs->socket;
}

static void on_handle_closed(uv_handle_t *h)
{
    hb_zsock_t *zs = h->data;
    if (--zs->open_handles > 0)
        return;
    /* the poll handle no longer watches the fd: now the socket may go */
    zmq_close(zs->socket);
    free(zs);
}

void hb_zsock_close(hb_zsock_t **pzs)
{
    if (!pzs || !*pzs)
        return;
    hb_zsock_t *zs = *pzs;
    *pzs = NULL;
    zs->closing = true;
    uv_close((uv_handle_t *)&zs->poll, on_handle_closed);
    uv_close((uv_handle_t *)&zs->prepare, on_handle_closed);
    uv_close((uv_handle_t *)&zs->idle, on_handle_closed);
}

int hb_zsock_sendv(void *socket, const void *const *bufs, const size_t *lens, int nframes)
{
    for (int i = 0; i < nframes; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < nframes ? ZMQ_SNDMORE : 0);
        if (zmq_send(socket, bufs[i], lens[i], flags) < 0)
            return -1;
    }
    return 0;
}
