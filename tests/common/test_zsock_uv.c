/* zsock_uv itself: a ZeroMQ socket on a libuv loop. Messages arrive whole,
 * the batch cap is honoured, on_batch runs once per turn that delivered,
 * a send on the socket does not lose the read edge, and closing leaves a
 * loop that closes cleanly. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "hallbus/clock.h"
#include "hallbus/zsock_uv.h"

static uv_loop_t loop;
static void *ctx, *peer;
static hb_zsock_t *zs;
static int messages, batches, max_in_batch, in_batch;
static int frames_seen[64];
static char endpoint[64];
static int seq;

static void setup(void)
{
    uv_loop_init(&loop);
    ctx = zmq_ctx_new();
    messages = batches = max_in_batch = in_batch = 0;
    snprintf(endpoint, sizeof endpoint, "inproc://zsock-%d", ++seq);
}

static void teardown(void)
{
    hb_zsock_close(&zs);
    cr_assert_null(zs);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0, "every handle closed");
    if (peer)
        zmq_close(peer);
    peer = NULL;
    zmq_ctx_term(ctx);
}

TestSuite(zsock_uv, .init = setup, .fini = teardown);

static void on_msg(hb_zsock_t *z, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    if (messages < 64)
        frames_seen[messages] = overflow ? -n : n;
    messages++;
    in_batch++;
}

static void on_batch(hb_zsock_t *z, void *arg)
{
    batches++;
    if (in_batch > max_in_batch)
        max_in_batch = in_batch;
    in_batch = 0;
}

/* A PAIR socket on the loop, its peer outside it. */
static void pair(void)
{
    void *s = zmq_socket(ctx, ZMQ_PAIR);
    cr_assert_eq(zmq_bind(s, endpoint), 0);
    peer = zmq_socket(ctx, ZMQ_PAIR);
    cr_assert_eq(zmq_connect(peer, endpoint), 0);
    zs = hb_zsock_new(&loop, s, on_msg, on_batch, NULL);
    cr_assert(zs);
}

static void run_until_messages(int n)
{
    int64_t deadline = hb_mono_us() + 5000000;
    while (messages < n && hb_mono_us() < deadline)
        uv_run(&loop, UV_RUN_NOWAIT);
}

Test(zsock_uv, multipart_messages_arrive_whole_and_overflow_is_flagged)
{
    pair();
    zmq_send(peer, "a", 1, ZMQ_SNDMORE);
    zmq_send(peer, "b", 1, 0);
    for (int i = 0; i < HB_ZSOCK_MAX_FRAMES + 2; i++)
        zmq_send(peer, "x", 1, i + 1 < HB_ZSOCK_MAX_FRAMES + 2 ? ZMQ_SNDMORE : 0);
    zmq_send(peer, "c", 1, 0);
    run_until_messages(3);
    cr_assert_eq(messages, 3);
    cr_assert_eq(frames_seen[0], 2);
    cr_assert_eq(frames_seen[1], -HB_ZSOCK_MAX_FRAMES, "kept the first frames, said it overflowed");
    cr_assert_eq(frames_seen[2], 1, "the next message is whole: the rest was discarded");
}

Test(zsock_uv, the_batch_cap_is_honoured_and_on_batch_runs_once_per_turn)
{
    pair();
    hb_zsock_set_batch_max(zs, 10);
    for (int i = 0; i < 95; i++)
        zmq_send(peer, "m", 1, 0);
    run_until_messages(95);
    on_batch(zs, NULL); /* count a trailing turn, if any */
    cr_assert_eq(messages, 95);
    cr_assert_leq(max_in_batch, 10);
    cr_assert_geq(batches, 10, "at least ten turns for 95 messages at 10 a turn");
}

static bool echoed;

/* Answers each message with a send on the same socket: the send may
 * swallow the read edge of what arrived meanwhile. */
static void on_msg_echo(hb_zsock_t *z, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    messages++;
    zmq_send(hb_zsock_socket(z), "r", 1, ZMQ_DONTWAIT);
    if (!echoed) {
        echoed = true;
        /* the peer's next messages arrive while we are sending */
        zmq_send(peer, "2", 1, 0);
        zmq_send(peer, "3", 1, 0);
    }
}

Test(zsock_uv, a_send_on_the_socket_does_not_lose_a_read)
{
    void *s = zmq_socket(ctx, ZMQ_PAIR);
    zmq_bind(s, endpoint);
    peer = zmq_socket(ctx, ZMQ_PAIR);
    zmq_connect(peer, endpoint);
    zs = hb_zsock_new(&loop, s, on_msg_echo, NULL, NULL);
    echoed = false;
    zmq_send(peer, "1", 1, 0);
    run_until_messages(3);
    cr_assert_eq(messages, 3, "every message read, though sends came between");
}

static void on_msg_close(hb_zsock_t *z, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    messages++;
    hb_zsock_close(&zs); /* from inside its own callback */
}

Test(zsock_uv, closing_from_a_callback_stops_delivery_and_the_loop_closes_clean)
{
    void *s = zmq_socket(ctx, ZMQ_PAIR);
    zmq_bind(s, endpoint);
    peer = zmq_socket(ctx, ZMQ_PAIR);
    zmq_connect(peer, endpoint);
    zs = hb_zsock_new(&loop, s, on_msg_close, NULL, NULL);
    for (int i = 0; i < 5; i++)
        zmq_send(peer, "m", 1, 0);
    run_until_messages(1);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(messages, 1, "nothing delivered after the close");
}
